//! The scenarios, run against the server and then the relay, and the table.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::client::{self, Process, Receiver, Sender, next_json, send_json, source};
use crate::report::{self, Row, ms, percentile};

pub struct Plan {
    pub waiting: u32,
    pub senders: u32,
    pub seconds: u64,
    pub accepts: u32,
    /// `tandem serve` processes on one PostgreSQL database; client `i` talks to `i % n`.
    pub instances: u32,
}

/// The running instances, in the order they started (the first leads dispatch).
struct Instances {
    origins: Vec<String>,
    addrs: Vec<SocketAddr>,
    processes: Vec<Process>,
}

impl Instances {
    fn origin(&self, client: u32) -> &str {
        &self.origins[client as usize % self.origins.len()]
    }

    fn addr(&self, client: u32) -> SocketAddr {
        self.addrs[client as usize % self.addrs.len()]
    }

    /// Resident memory of them all, in bytes.
    fn rss(&self) -> u64 {
        self.processes.iter().map(Process::rss).sum()
    }
}

const ORIGIN: &str = "http://bench.example";
const AGENTS: u32 = 5;
const PASSWORD: &str = "bench password, long enough";
/// Clients connecting at once.
const CONCURRENCY: usize = 32;

/// What a customer's socket heard, and when.
enum Heard {
    Queue(Instant),
    Ack(String, Instant),
}

/// Figures of one side (the server, or the relay).
#[derive(Default)]
struct Figures {
    join_p99: Duration,
    connect_all: Duration,
    tenth_ratio: f64,
    rss_per_socket: f64,
    accepts_per_sec: f64,
    update_p99: Duration,
    messages_per_sec: f64,
    ack_p50: Duration,
    ack_p99: Duration,
}

pub async fn run(server: &Path, plan: &Plan) -> Result<(), String> {
    let data = std::env::temp_dir().join(format!("tandem-bench-{}", std::process::id()));
    let outcome = async {
        seed(server, &data).await?;
        let tandem = tandem_side(server, &data, plan).await?;
        let baseline = relay_side(plan).await?;
        Ok::<_, String>((tandem, baseline))
    }
    .await;
    let _ = std::fs::remove_dir_all(&data);
    let (tandem, baseline) = outcome?;
    let store = match std::env::var("TANDEM_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => "PostgreSQL",
        _ => "SQLite",
    };
    let plural = if plan.instances == 1 { "" } else { "s" };
    println!("tandem: {} instance{plural} on {store}", plan.instances);
    let missed = report::print(&rows(plan, &tandem, &baseline));
    if missed.is_empty() { Ok(()) } else { Err(format!("targets missed: {}", missed.join("; "))) }
}

fn rows(plan: &Plan, t: &Figures, b: &Figures) -> Vec<Row> {
    let row = |what: String, tandem: f64, baseline: Option<f64>, target: Option<(String, bool)>| Row {
        what,
        tandem,
        baseline,
        target,
    };
    let w = plan.waiting;
    vec![
        row(
            format!("join the queue, POST p99 (ms), up to {w} waiting"),
            ms(t.join_p99),
            None,
            Some(("≤ 50 ms".into(), ms(t.join_p99) <= 50.0)),
        ),
        row(
            format!("connect {w} idle sockets (s)"),
            t.connect_all.as_secs_f64(),
            Some(b.connect_all.as_secs_f64()),
            None,
        ),
        row(
            "connecting: last tenth / first tenth".into(),
            t.tenth_ratio,
            Some(b.tenth_ratio),
            Some(("≤ 1.5".into(), t.tenth_ratio <= 1.5)),
        ),
        row(
            "RSS per idle socket (KB)".into(),
            t.rss_per_socket / 1024.0,
            Some(b.rss_per_socket / 1024.0),
            Some(("≤ 20 KB".into(), t.rss_per_socket <= 20.0 * 1024.0)),
        ),
        row(format!("accepts per second, {w} waiting"), t.accepts_per_sec, None, None),
        row(
            "queue update to every waiting customer, p99 (ms)".into(),
            ms(t.update_p99),
            Some(ms(b.update_p99)),
            Some(("≤ 1000 ms".into(), ms(t.update_p99) <= 1000.0)),
        ),
        row(
            format!("persisted messages per second ({} senders)", plan.senders),
            t.messages_per_sec,
            Some(b.messages_per_sec),
            (plan.senders >= 2000).then(|| ("≥ 2000".into(), t.messages_per_sec >= 2000.0 * 0.97)),
        ),
        row("send → ack p50 (ms)".into(), ms(t.ack_p50), Some(ms(b.ack_p50)), None),
        row(
            "send → ack p99 (ms)".into(),
            ms(t.ack_p99),
            Some(ms(b.ack_p99)),
            Some(("≤ 25 ms".into(), ms(t.ack_p99) <= 25.0)),
        ),
    ]
}

/// A merchant whose page is `ORIGIN`, and its agents, through the admin CLI.
async fn seed(server: &Path, data: &Path) -> Result<(), String> {
    let run = |args: Vec<String>| async move {
        let status = Command::new(server)
            .args(&args)
            .env("TANDEM_AGENT_PASSWORD", PASSWORD)
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .map_err(|e| e.to_string())?;
        if status.success() { Ok(()) } else { Err(format!("`tandem {}` failed", args.join(" "))) }
    };
    let dir = data.display().to_string();
    let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    run([
        // Room for every waiting customer the load brings (the default cap is 200).
        words("merchant add --id bench --name Bench --max-waiting 100000 --origin"),
        vec![ORIGIN.into(), "--data-dir".into(), dir.clone()],
    ]
    .concat())
    .await?;
    for a in 0..AGENTS {
        let email = format!("agent{a}@bench.example");
        let args = format!(
            "agent add --merchant bench --email {email} --name Agent{a} --capacity 20 --data-dir {dir}"
        );
        run(words(&args)).await?;
    }
    Ok(())
}

/// Starts `count` instances one after the other, so that the first leads dispatch.
async fn start_instances(server: &Path, data: &Path, count: u32) -> Result<Instances, String> {
    let shared = std::env::var("TANDEM_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    if count > 1 && !shared {
        return Err("several instances share a PostgreSQL database: set TANDEM_DATABASE_URL".into());
    }
    let mut instances = Instances { origins: Vec::new(), addrs: Vec::new(), processes: Vec::new() };
    for _ in 0..count {
        let mut command = Command::new(server);
        let none = data.join("none");
        command.arg("serve").args(["--listen", "127.0.0.1:0", "--data-dir"]).arg(data);
        command.arg("--widget-dir").arg(&none).arg("--console-dir").arg(&none).env("RUST_LOG", "error");
        let (process, console) = Process::start(command, "Agent console:").await?;
        let origin = console.trim_end_matches("/console/").to_owned();
        let addr: SocketAddr =
            origin.trim_start_matches("http://").parse().map_err(|_| format!("address {origin}"))?;
        instances.origins.push(origin);
        instances.addrs.push(addr);
        instances.processes.push(process);
    }
    Ok(instances)
}

async fn tandem_side(server: &Path, data: &Path, plan: &Plan) -> Result<Figures, String> {
    let instances = start_instances(server, data, plan.instances).await?;
    let mut figures = Figures::default();

    let (joined, join_times) = join_queue(&instances, plan.waiting).await?;
    figures.join_p99 = percentile(&mut join_times.clone(), 99);
    let before = instances.rss();
    let (heard_tx, heard_rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let (senders, tenths) = connect_customers(&instances, &joined, &heard_tx).await?;
    figures.connect_all = started.elapsed();
    figures.tenth_ratio =
        tenths.last().map_or(0.0, Duration::as_secs_f64) / tenths[0].as_secs_f64().max(1e-9);
    figures.rss_per_socket = instances.rss().saturating_sub(before) as f64 / f64::from(plan.waiting);

    let (accepted, accept_times, elapsed) = accept_customers(&instances, plan.accepts).await?;
    figures.accepts_per_sec = f64::from(plan.accepts) / elapsed.as_secs_f64();
    let mut heard = heard_rx;
    let waiting: Vec<u32> =
        (0..plan.waiting).filter(|i| !accepted.contains(&joined[*i as usize].0)).collect();
    figures.update_p99 = update_latency(&mut heard, &waiting, &accept_times).await;

    let chosen: Vec<u32> = waiting.iter().rev().take(plan.senders as usize).copied().collect();
    let (sent, acks) = send_messages(senders, &chosen, plan.seconds, &mut heard).await;
    figures.messages_per_sec = acks.len() as f64 / plan.seconds as f64;
    let mut latencies: Vec<Duration> =
        acks.iter().filter_map(|(id, at)| Some(*at - *sent.get(id)?)).collect();
    figures.ack_p50 = percentile(&mut latencies, 50);
    figures.ack_p99 = percentile(&mut latencies, 99);
    drop(instances);
    Ok(figures)
}

/// `count` customers ask for a person, each from its own address; their ids and tokens (in
/// order), and each request's latency.
async fn join_queue(
    instances: &Instances,
    count: u32,
) -> Result<(Vec<(String, String)>, Vec<Duration>), String> {
    let body = json!({ "merchant_id": "bench", "locale": "en", "page_url": "http://bench.example/checkout",
                       "transcript": [], "reason": "button" });
    let results: Vec<Result<(String, String, Duration), String>> = futures_util::stream::iter(0..count)
        .map(|i| {
            let (url, body) = (format!("{}/v1/conversations", instances.origin(i)), body.clone());
            async move {
                let http =
                    reqwest::Client::builder().local_address(source(i)).build().map_err(|e| e.to_string())?;
                let started = Instant::now();
                let response = http
                    .post(&url)
                    .header("origin", ORIGIN)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let took = started.elapsed();
                let started: Value = response.json().await.map_err(|e| e.to_string())?;
                let field = |name: &str| {
                    started[name].as_str().map(str::to_owned).ok_or(format!("no {name}: {started}"))
                };
                Ok((field("conversation_id")?, field("customer_token")?, took))
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut joined = Vec::new();
    let mut times = Vec::new();
    for result in results {
        let (id, token, took) = result?;
        joined.push((id, token));
        times.push(took);
    }
    Ok((joined, times))
}

/// Connects every customer's WebSocket in order, a tenth at a time; their senders, and each
/// tenth's time. Their readers report what they hear to `heard`.
async fn connect_customers(
    instances: &Instances,
    joined: &[(String, String)],
    heard: &mpsc::UnboundedSender<(u32, Heard)>,
) -> Result<(Vec<Sender>, Vec<Duration>), String> {
    let tenth = joined.len().div_ceil(10);
    let mut senders = Vec::new();
    let mut tenths = Vec::new();
    for (chunk_index, chunk) in joined.chunks(tenth).enumerate() {
        let started = Instant::now();
        let offset = chunk_index * tenth;
        let connected: Vec<Result<(Sender, Receiver), String>> = futures_util::stream::iter(chunk.iter().enumerate())
            .map(|(i, (id, token))| async move {
                let index = u32::try_from(offset + i).unwrap_or(0);
                let addr = instances.addr(index);
                let url = format!("ws://{addr}/v1/conversations/{id}/live");
                let (mut tx, mut rx) = client::connect(addr, &url, source(index), &[("origin", ORIGIN)]).await?.split();
                send_json(&mut tx, &json!({ "type": "hello", "version": 1, "conversation_id": id, "token": token, "last_seq": 0 })).await?;
                match next_json(&mut rx).await {
                    Some((frame, _)) if frame["type"] == "welcome" => Ok((tx, rx)),
                    other => Err(format!("no welcome: {other:?}")),
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        tenths.push(started.elapsed());
        for (i, result) in connected.into_iter().enumerate() {
            let (tx, rx) = result?;
            senders.push(tx);
            tokio::spawn(listen(u32::try_from(offset + i).unwrap_or(0), rx, heard.clone()));
        }
    }
    Ok((senders, tenths))
}

async fn listen(index: u32, mut rx: Receiver, heard: mpsc::UnboundedSender<(u32, Heard)>) {
    while let Some((frame, at)) = next_json(&mut rx).await {
        let event = match frame["type"].as_str() {
            Some("queue") => Heard::Queue(at),
            Some("ack") => Heard::Ack(frame["client_id"].as_str().unwrap_or_default().to_owned(), at),
            _ => continue,
        };
        if heard.send((index, event)).is_err() {
            return;
        }
    }
}

/// The agents sign in, go online and accept `total` offers between them (ending each chat at
/// once); the conversations they took, when each accept was sent, and how long it all took.
async fn accept_customers(
    instances: &Instances,
    total: u32,
) -> Result<(Vec<String>, Vec<Instant>, Duration), String> {
    let taken = Arc::new(Mutex::new((Vec::<String>::new(), Vec::<Instant>::new())));
    let accepted_one = Arc::new(tokio::sync::Notify::new());
    let started = Instant::now();
    let mut agents = Vec::new();
    for a in 0..AGENTS {
        let (origin, addr) = (instances.origin(a), instances.addr(a));
        let http = reqwest::Client::builder()
            .local_address(source(20_000 + a))
            .build()
            .map_err(|e| e.to_string())?;
        let login = json!({ "email": format!("agent{a}@bench.example"), "password": PASSWORD });
        let response = http
            .post(format!("{origin}/v1/agent/login"))
            .header("origin", origin)
            .json(&login)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .ok_or("no session cookie")?
            .to_owned();
        let url = format!("ws://{addr}/v1/agent/live");
        let (mut tx, mut rx) =
            client::connect(addr, &url, source(20_000 + a), &[("origin", origin), ("cookie", &cookie)])
                .await?
                .split();
        send_json(&mut tx, &json!({ "type": "set_presence", "presence": "online" })).await?;
        let taken = taken.clone();
        let accepted_one = accepted_one.clone();
        agents.push(tokio::spawn(async move {
            while let Some((frame, _)) = next_json(&mut rx).await {
                let id = frame["offer"]["conversation_id"]
                    .as_str()
                    .or(frame["conversation"]["conversation_id"].as_str());
                match (frame["type"].as_str(), id) {
                    (Some("offer"), Some(id)) => {
                        {
                            let mut taken = taken.lock().unwrap_or_else(|e| e.into_inner());
                            if taken.1.len() >= total as usize {
                                return;
                            }
                            taken.1.push(Instant::now());
                        }
                        let _ = send_json(&mut tx, &json!({ "type": "accept", "conversation_id": id })).await;
                    }
                    (Some("accepted"), Some(id)) => {
                        taken.lock().unwrap_or_else(|e| e.into_inner()).0.push(id.to_owned());
                        accepted_one.notify_one();
                        let _ = send_json(&mut tx, &json!({ "type": "end", "conversation_id": id })).await;
                    }
                    _ => {}
                }
            }
        }));
    }
    let all_accepted = async {
        while taken.lock().unwrap_or_else(|e| e.into_inner()).0.len() < total as usize {
            accepted_one.notified().await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(120), all_accepted).await.is_err() {
        return Err("the agents could not accept every offer within 2 minutes".into());
    }
    let elapsed = started.elapsed();
    for agent in agents {
        agent.abort();
    }
    let (conversations, times) = std::mem::take(&mut *taken.lock().unwrap_or_else(|e| e.into_inner()));
    Ok((conversations, times, elapsed))
}

/// For each accept and each customer still waiting, how long until that customer heard a
/// `queue` update after it; the 99th percentile.
async fn update_latency(
    heard: &mut mpsc::UnboundedReceiver<(u32, Heard)>,
    waiting: &[u32],
    accepts: &[Instant],
) -> Duration {
    let Some(last) = accepts.iter().max().copied() else { return Duration::ZERO };
    let mut updates: HashMap<u32, Vec<Instant>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Until every waiting customer has heard of the last accept (or 10 s have passed).
    loop {
        let caught_up =
            waiting.iter().all(|c| updates.get(c).is_some_and(|u| u.iter().any(|at| *at >= last)));
        if caught_up || Instant::now() > deadline {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(200), heard.recv()).await {
            Ok(Some((index, Heard::Queue(at)))) => updates.entry(index).or_default().push(at),
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => break,
        }
    }
    let mut latencies = Vec::new();
    for customer in waiting {
        let times = updates.get(customer).map_or(&[][..], Vec::as_slice);
        for accept in accepts {
            let first = times.iter().filter(|at| *at >= accept).min();
            latencies.push(first.map_or(Duration::from_secs(10), |at| *at - *accept));
        }
    }
    percentile(&mut latencies, 99)
}

/// The chosen customers send a message a second each for `seconds`, spread over each second;
/// when each was sent (by client id) and when each ack came.
async fn send_messages(
    senders: Vec<Sender>,
    chosen: &[u32],
    seconds: u64,
    heard: &mut mpsc::UnboundedReceiver<(u32, Heard)>,
) -> (HashMap<String, Instant>, Vec<(String, Instant)>) {
    let mut senders: Vec<Option<Sender>> = senders.into_iter().map(Some).collect();
    let paced: Vec<(String, Sender)> = chosen
        .iter()
        .filter_map(|&index| Some((format!("b{index}"), senders.get_mut(index as usize)?.take()?)))
        .collect();
    let expected = paced.len() * usize::try_from(seconds).unwrap_or(0);
    let paced = Paced::start(paced, seconds);
    let mut acks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(seconds + 10);
    while acks.len() < expected && Instant::now() < deadline {
        if let Ok(Some((_, Heard::Ack(id, at)))) =
            tokio::time::timeout(Duration::from_millis(200), heard.recv()).await
        {
            acks.push((id, at));
        }
    }
    (paced.finish().await, acks)
}

/// Senders sending `{type: send, client_id: <name>-<k>}` once a second each, spread evenly
/// over each second, and when each client id was sent.
struct Paced {
    sent: Arc<Mutex<HashMap<String, Instant>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Paced {
    fn start(senders: Vec<(String, Sender)>, seconds: u64) -> Self {
        let sent = Arc::new(Mutex::new(HashMap::new()));
        let start = tokio::time::Instant::now() + Duration::from_millis(200);
        let spread = Duration::from_secs(1) / u32::try_from(senders.len().max(1)).unwrap_or(1);
        let mut tasks = Vec::new();
        for (n, (name, mut tx)) in senders.into_iter().enumerate() {
            let sent = sent.clone();
            let first = start + spread * u32::try_from(n).unwrap_or(0);
            tasks.push(tokio::spawn(async move {
                for k in 0..seconds {
                    // The load's own pace: one message a second per sender.
                    tokio::time::sleep_until(first + Duration::from_secs(k)).await;
                    let client_id = format!("{name}-{k}");
                    sent.lock().unwrap_or_else(|e| e.into_inner()).insert(client_id.clone(), Instant::now());
                    let frame = json!({ "type": "send", "client_id": client_id, "text": "hello" });
                    let _ = send_json(&mut tx, &frame).await;
                }
            }));
        }
        Self { sent, tasks }
    }

    /// Waits for the senders to finish; when each client id was sent.
    async fn finish(self) -> HashMap<String, Instant> {
        for task in self.tasks {
            let _ = task.await;
        }
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The same load on the relay: idle sockets, a broadcast to all of them, and echoed messages.
async fn relay_side(plan: &Plan) -> Result<Figures, String> {
    let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    command.arg("relay");
    let (process, addr) = Process::start(command, "relay listening on").await?;
    let addr: SocketAddr = addr.parse().map_err(|_| format!("relay address {addr}"))?;
    let url = format!("ws://{addr}/ws");
    let mut figures = Figures::default();
    let before = process.rss();
    let started = Instant::now();
    let (tx_heard, mut heard) = mpsc::unbounded_channel::<(u32, String, Instant)>();
    let mut senders = Vec::new();
    let mut tenths = Vec::new();
    let tenth = plan.waiting.div_ceil(10);
    for chunk in 0..10u32 {
        let chunk_started = Instant::now();
        let range = (chunk * tenth)..((chunk + 1) * tenth).min(plan.waiting);
        let connected: Vec<Result<(u32, Sender, Receiver), String>> = futures_util::stream::iter(range)
            .map(|index| {
                let url = url.clone();
                async move {
                    let (mut tx, mut rx) =
                        client::connect(addr, &url, source(index), &[("origin", ORIGIN)]).await?.split();
                    send_json(&mut tx, &json!({ "type": "hello" })).await?;
                    next_json(&mut rx).await.ok_or("no echo")?;
                    Ok((index, tx, rx))
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        tenths.push(chunk_started.elapsed());
        for result in connected {
            let (index, tx, mut rx) = result?;
            senders.push(tx);
            let heard = tx_heard.clone();
            tokio::spawn(async move {
                while let Some(frame) = futures_util::StreamExt::next(&mut rx).await {
                    let Ok(tokio_tungstenite::tungstenite::Message::Text(text)) = frame else { return };
                    if heard.send((index, text.as_str().to_owned(), Instant::now())).is_err() {
                        return;
                    }
                }
            });
        }
    }
    figures.connect_all = started.elapsed();
    figures.tenth_ratio =
        tenths.last().map_or(0.0, Duration::as_secs_f64) / tenths[0].as_secs_f64().max(1e-9);
    figures.rss_per_socket = process.rss().saturating_sub(before) as f64 / f64::from(plan.waiting);
    figures.update_p99 = relay_broadcasts(&mut senders, &mut heard, plan).await?;
    let (p50, p99, per_sec) = relay_echoes(senders, &mut heard, plan).await;
    (figures.ack_p50, figures.ack_p99, figures.messages_per_sec) = (p50, p99, per_sec);
    drop(process);
    Ok(figures)
}

/// Twenty broadcasts, 50 ms apart; how long each took to reach each socket, 99th percentile.
async fn relay_broadcasts(
    senders: &mut [Sender],
    heard: &mut mpsc::UnboundedReceiver<(u32, String, Instant)>,
    plan: &Plan,
) -> Result<Duration, String> {
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let sent = Instant::now();
        let first = senders.first_mut().ok_or("no sockets")?;
        futures_util::SinkExt::send(first, tokio_tungstenite::tungstenite::Message::Text("broadcast".into()))
            .await
            .map_err(|e| e.to_string())?;
        let mut reached = 0;
        while reached < plan.waiting {
            match tokio::time::timeout(Duration::from_secs(5), heard.recv()).await {
                Ok(Some((_, text, at))) if text == "broadcast" => {
                    reached += 1;
                    latencies.push(at - sent);
                }
                Ok(Some(_)) => {}
                _ => return Err("the relay's broadcast did not reach every socket".into()),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(percentile(&mut latencies, 99))
}

/// The senders send a message a second each, as on the server; echo latency p50 and p99, and
/// messages echoed per second.
async fn relay_echoes(
    senders: Vec<Sender>,
    heard: &mut mpsc::UnboundedReceiver<(u32, String, Instant)>,
    plan: &Plan,
) -> (Duration, Duration, f64) {
    let chosen = senders.into_iter().take(plan.senders as usize).enumerate();
    let paced = Paced::start(chosen.map(|(n, tx)| (format!("e{n}"), tx)).collect(), plan.seconds);
    let expected = plan.senders as usize * usize::try_from(plan.seconds).unwrap_or(0);
    let mut echoes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(plan.seconds + 10);
    while echoes.len() < expected && Instant::now() < deadline {
        if let Ok(Some((_, text, at))) = tokio::time::timeout(Duration::from_millis(200), heard.recv()).await
            && let Ok(frame) = serde_json::from_str::<Value>(&text)
            && let Some(id) = frame["client_id"].as_str()
        {
            echoes.push((id.to_owned(), at));
        }
    }
    let sent = paced.finish().await;
    let mut latencies: Vec<Duration> =
        echoes.iter().filter_map(|(id, at)| Some(*at - *sent.get(id)?)).collect();
    let per_sec = echoes.len() as f64 / plan.seconds as f64;
    (percentile(&mut latencies, 50), percentile(&mut latencies, 99), per_sec)
}
