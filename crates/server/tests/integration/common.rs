//! `spawn_app()`: the real server on port 0 with a fresh SQLite database, and clients that
//! speak its REST and WebSocket APIs as a customer's widget and an agent's console do.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tandem_protocol::{
    AgentEvent, ClientMessageId, ConversationStarted, CustomerEvent, CustomerFrame, EscalationReason,
    HandoffReason, MerchantId, PROTOCOL_VERSION, Seq, StartConversation, TranscriptEntry, TranscriptSpeaker,
};
use tandem_server::live::LiveTiming;
use tandem_server::store::{
    AgentRole, DispatchSettings, Location, Merchant, NewAgent, SqliteStore, Staffing, Store, WidgetSettings,
};
use tandem_server::{Config, Server, password};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SHOP_ORIGIN: &str = "https://shop.example";
pub const OTHER_ORIGIN: &str = "https://other.example";
pub const PASSWORD: &str = "correct horse battery";
/// The shop's key for signing `Tandem.identify` ids (hex).
pub const IDENTITY_SECRET: &str = "8f1c2e4d6a7b9c0d1e2f3a4b5c6d7e8f8f1c2e4d6a7b9c0d1e2f3a4b5c6d7e8f";

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    /// Every answer checked against `/v1/openapi.json` (see `crate::contract`).
    pub http: crate::contract::Http,
    /// `--database`, when not the SQLite file in the data directory.
    database: Option<String>,
    trusted_proxies: Vec<ipnet::IpNet>,
    live_timing: tandem_server::live::LiveTiming,
    /// `--smtp-url` and `--mail-from`, when the app sends mail.
    mail: Option<tandem_server::mail::Settings>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _data: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn seed(store: &dyn Store, dispatch: DispatchSettings) {
    for (id, origin) in [("shop", SHOP_ORIGIN), ("other", OTHER_ORIGIN)] {
        store
            .upsert_merchant(&Merchant {
                id: MerchantId::parse(id).expect("id"),
                display_name: format!("{id} inc"),
                support_email: None,
                allowed_origins: vec![origin.into()],
                business_hours: None,
                settings: WidgetSettings::default(),
                dispatch,
                identity_secret: None,
                policies: tandem_server::store::Policies::default(),
            })
            .await
            .expect("merchant");
    }
    let shop = MerchantId::parse("shop").expect("id");
    assert!(store.set_identity_secret(&shop, IDENTITY_SECRET).await.expect("secret"));
    let hash = password::hash(PASSWORD).expect("hash");
    for (merchant, email, name, role) in [
        ("shop", "anna@shop.example", "Anna", AgentRole::Admin),
        ("shop", "bert@shop.example", "Bert", AgentRole::Agent),
        ("other", "olga@other.example", "Olga", AgentRole::Admin),
    ] {
        store
            .upsert_agent(&NewAgent {
                merchant_id: MerchantId::parse(merchant).expect("id"),
                email: email.into(),
                display_name: name.into(),
                password_hash: hash.clone(),
                staffing: Staffing { role, ..Staffing::default() },
            })
            .await
            .expect("agent");
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(DispatchSettings::default()).await
}

/// The app with the shop's dispatch rules set, e.g. short timeouts.
pub async fn spawn_app_with(dispatch: DispatchSettings) -> TestApp {
    spawn(dispatch, vec![], LiveTiming::default()).await
}

/// The app pinging its live sockets every 100 ms and dropping one silent for 400 ms, and
/// checking for abandoned chats every 100 ms.
pub async fn spawn_app_with_quick_heartbeat() -> TestApp {
    let timing = LiveTiming {
        ping_every: Duration::from_millis(100),
        idle_after: Duration::from_millis(400),
        sweep_every: Duration::from_millis(100),
    };
    spawn(DispatchSettings::default(), vec![], timing).await
}

/// The app behind a reverse proxy on this machine (`--trusted-proxy 127.0.0.1`).
pub async fn spawn_app_behind_proxy() -> TestApp {
    spawn(DispatchSettings::default(), vec!["127.0.0.1/32".parse().expect("net")], LiveTiming::default())
        .await
}

/// The app sending mail through the server at `smtp_url` (a sink of the test's), from
/// `chat@shop.example`, retrying after 100 ms.
pub async fn spawn_app_mailing_to(smtp_url: &str) -> TestApp {
    let mut app = spawn_app().await;
    let mut settings = tandem_server::mail::Settings::new(smtp_url, "Shop chat <chat@shop.example>");
    settings.first_retry = Duration::from_millis(100);
    settings.timeout = Duration::from_secs(5);
    app.mail = Some(settings);
    app.restart().await;
    app
}

/// The app on a fresh database of its own in the test cluster (`TANDEM_TEST_POSTGRES`, which
/// `cargo xtask test` sets), as `tandem serve --database postgres://…` runs.
pub async fn spawn_app_on_postgres() -> TestApp {
    spawn_on(Some(fresh_postgres().await), DispatchSettings::default(), vec![], LiveTiming::default()).await
}

/// A new, empty database in the test cluster: its URL.
pub async fn fresh_postgres() -> String {
    let base = std::env::var("TANDEM_TEST_POSTGRES")
        .expect("TANDEM_TEST_POSTGRES is not set: run the tests through `cargo xtask test`, which starts a PostgreSQL cluster");
    tandem_server::store::scratch_database(&base).await.expect("the test cluster")
}

/// A fresh PostgreSQL database with the test merchants and agents: its URL.
pub async fn seeded_postgres() -> String {
    let url = fresh_postgres().await;
    let store = Location::Postgres(url.clone()).open().await.expect("store");
    seed(store.as_ref(), DispatchSettings::default()).await;
    store.close().await;
    url
}

impl TestApp {
    /// Speaks to a server running elsewhere (a `tandem serve` process of the test's) at `addr`,
    /// on `database`.
    pub fn attach(addr: std::net::SocketAddr, database: String) -> TestApp {
        TestApp {
            addr,
            http: crate::contract::Http::default(),
            database: Some(database),
            trusted_proxies: Vec::new(),
            live_timing: LiveTiming::default(),
            mail: None,
            stop: None,
            task: None,
            _data: tempfile::tempdir().expect("temp dir"),
        }
    }
}

/// A server on `database`, which is seeded already (by another instance or
/// [`seeded_postgres`]).
pub async fn spawn_instance(database: String) -> TestApp {
    let mut app = TestApp::attach("127.0.0.1:0".parse().expect("addr"), database);
    app.run().await;
    app
}

async fn spawn(
    dispatch: DispatchSettings,
    trusted_proxies: Vec<ipnet::IpNet>,
    live_timing: LiveTiming,
) -> TestApp {
    spawn_on(None, dispatch, trusted_proxies, live_timing).await
}

async fn spawn_on(
    database: Option<String>,
    dispatch: DispatchSettings,
    trusted_proxies: Vec<ipnet::IpNet>,
    live_timing: LiveTiming,
) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let location = Location::parse(database.as_deref(), data.path()).expect("location");
    let store = location.open().await.expect("store");
    seed(store.as_ref(), dispatch).await;
    // Closed, not dropped: no connection of it outlives this (a restored backup must be the
    // only thing the next server reads).
    store.close().await;
    let unbound = "127.0.0.1:0".parse().expect("addr");
    let http = crate::contract::Http::default();
    let mut app = TestApp {
        addr: unbound,
        http,
        database,
        trusted_proxies,
        live_timing,
        mail: None,
        stop: None,
        task: None,
        _data: data,
    };
    app.run().await;
    app
}

impl TestApp {
    /// Starts the server on the app's database (on a new port).
    async fn run(&mut self) {
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            demo_listen: None,
            data_dir: self._data.path().to_path_buf(),
            database: self.database.clone(),
            widget_dir: self._data.path().join("widget"),
            console_dir: self._data.path().join("console"),
            seed_demo: false,
            public_url: None,
            trusted_proxies: self.trusted_proxies.clone(),
            live_timing: self.live_timing,
            mail: self.mail.clone(),
            // Receivers in tests listen on loopback, and retries come quickly.
            webhooks: tandem_server::webhooks::Delivery {
                allow_loopback: true,
                first_retry: Duration::from_millis(100),
                timeout: Duration::from_secs(5),
            },
        };
        let server = Server::bind(config).await.expect("server starts");
        self.addr = server.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(tokio::spawn(server.run(async {
            let _ = stopped.await;
        })));
    }

    /// Another instance on the same PostgreSQL database, as a second `tandem serve` beside
    /// this one (a process of its own but for the test's runtime: its own port, live hub,
    /// dispatch and database connections).
    pub async fn beside(&self) -> TestApp {
        spawn_instance(self.database.clone().expect("instances share a PostgreSQL database")).await
    }

    /// `--database`, when the app runs on PostgreSQL.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The instance's `/metrics` line for `metric` (its name and labels), if it has one.
    pub async fn metric(&self, metric: &str) -> Option<String> {
        let response = self.http.get(self.url("/metrics")).send().await.ok()?;
        let text = response.text().await.ok()?;
        let prefix = format!("{metric} ");
        text.lines().find_map(|line| line.strip_prefix(&prefix)).map(str::to_owned)
    }

    /// Stops the server (closing every live session) and starts a new process on the same
    /// database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.run().await;
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server stops cleanly");
        }
    }

    /// The server's `--data-dir`, for the `tandem` commands an operator runs beside it.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    /// A copy of the database as it is now (`tandem backup`), in the app's directory.
    pub async fn backup(&self) -> std::path::PathBuf {
        let to = self._data.path().join(format!("backup-{}.sqlite3", self.addr.port()));
        let store = self.store().await;
        store.backup(&to).await.expect("backup");
        store.close().await;
        to
    }

    /// Stops the server, puts `backup` in place of its database (as an operator restores one)
    /// and starts it again.
    pub async fn restore(&mut self, backup: &std::path::Path) {
        self.stop().await;
        let database = self._data.path().join("tandem.sqlite3");
        // A new file in its place (not the old one overwritten), and no journal of the old one.
        for stale in ["tandem.sqlite3", "tandem.sqlite3-wal", "tandem.sqlite3-shm"] {
            let _ = std::fs::remove_file(self._data.path().join(stale));
        }
        std::fs::copy(backup, &database).expect("restore the backup");
        self.run().await;
    }

    /// A second handle on the app's database, e.g. to plant an expired invite.
    pub async fn store(&self) -> SqliteStore {
        SqliteStore::open(&self._data.path().join("tandem.sqlite3")).await.expect("store")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The console's own origin.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn start_request(merchant: &str) -> StartConversation {
        StartConversation {
            merchant_id: MerchantId::parse(merchant).expect("id"),
            locale: "sv-SE".into(),
            page_url: "https://shop.example/checkout".into(),
            transcript: vec![
                TranscriptEntry { from: TranscriptSpeaker::Customer, text: "my payment failed".into() },
                TranscriptEntry { from: TranscriptSpeaker::Bot, text: "Sorry! Want a person?".into() },
            ],
            reason: HandoffReason::BotOffer,
            escalation: Some(EscalationReason::RepeatedFallback),
            identity: None,
            email: None,
            skill: None,
        }
    }

    pub async fn start_conversation(&self) -> ConversationStarted {
        let response = self.start_at("shop", SHOP_ORIGIN).await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("body")
    }

    /// `POST /v1/conversations` for `merchant` from a page at `origin`, as it answers.
    pub async fn start_at(&self, merchant: &str, origin: &str) -> reqwest::Response {
        let request = self.http.post(self.url("/v1/conversations")).header("origin", origin);
        request.json(&Self::start_request(merchant)).send().await.expect("request")
    }

    /// Opens the customer's WebSocket and completes `hello`; returns the socket and the welcome.
    pub async fn customer(&self, started: &ConversationStarted, last_seq: Seq) -> (Ws, CustomerEvent) {
        self.customer_holding(started, last_seq, None).await
    }

    /// As [`Self::customer`], naming the last message held by its seq and client id.
    pub async fn customer_holding(
        &self,
        started: &ConversationStarted,
        last_seq: Seq,
        last_client_id: Option<ClientMessageId>,
    ) -> (Ws, CustomerEvent) {
        let path = format!("/v1/conversations/{}/live", started.conversation_id);
        let mut ws = self.connect(&path, &[("origin", SHOP_ORIGIN)]).await.expect("upgrade");
        send(
            &mut ws,
            &CustomerFrame::Hello {
                version: PROTOCOL_VERSION,
                conversation_id: started.conversation_id.clone(),
                token: started.customer_token.clone(),
                last_seq,
                last_client_id,
            },
        )
        .await;
        let welcome = recv(&mut ws).await;
        (ws, welcome)
    }

    pub async fn login(&self, email: &str) -> String {
        let response = self
            .http
            .post(self.url("/v1/agent/login"))
            .header("origin", self.origin())
            .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200, "login of {email}");
        let cookie = response.headers().get("set-cookie").expect("cookie").to_str().expect("ascii");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        cookie.split(';').next().expect("pair").to_owned()
    }

    /// Opens the agent's WebSocket; returns it after the welcome and first queue snapshot.
    pub async fn agent(&self, email: &str) -> (Ws, AgentEvent, AgentEvent) {
        let cookie = self.login(email).await;
        let origin = self.origin();
        let mut ws = self
            .connect("/v1/agent/live", &[("cookie", &cookie), ("origin", &origin)])
            .await
            .expect("upgrade");
        let welcome = recv(&mut ws).await;
        let queue = recv(&mut ws).await;
        (ws, welcome, queue)
    }

    /// Upgrades to a WebSocket, or returns the HTTP status that refused it.
    pub async fn connect(&self, path: &str, headers: &[(&str, &str)]) -> Result<Ws, u16> {
        let mut request = format!("ws://{}{path}", self.addr).into_client_request().expect("request");
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
            request.headers_mut().insert(name, HeaderValue::from_str(value).expect("header"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(error) => panic!("websocket failed: {error}"),
        }
    }
}

pub async fn send<T: Serialize>(ws: &mut Ws, frame: &T) {
    let json = serde_json::to_string(frame).expect("json");
    ws.send(Message::text(json)).await.expect("send");
}

pub async fn send_raw(ws: &mut Ws, text: String) {
    ws.send(Message::text(text)).await.expect("send");
}

pub async fn send_binary(ws: &mut Ws) {
    ws.send(Message::Binary(Bytes::from_static(b"\x00\x01"))).await.expect("send");
}

/// The next JSON frame, within 5 seconds.
pub async fn recv<T: DeserializeOwned>(ws: &mut Ws) -> T {
    recv_within(ws, Duration::from_secs(5)).await
}

/// The next JSON frame, within `within`.
pub async fn recv_within<T: DeserializeOwned>(ws: &mut Ws, within: Duration) -> T {
    loop {
        let message = tokio::time::timeout(within, ws.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("frame");
        match message {
            Message::Text(text) => {
                // The server's frames are checked against their published schema.
                let kind = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
                if matches!(kind, "CustomerEvent" | "AgentEvent") {
                    crate::contract::check_event(kind, text.as_str());
                }
                return serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("bad frame {text}: {e}"));
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The next agent event other than a queue snapshot or a dispatch offer (those come whenever
/// the queue moves).
pub async fn recv_agent(ws: &mut Ws) -> AgentEvent {
    loop {
        match recv(ws).await {
            AgentEvent::Queue { .. } | AgentEvent::Offer { .. } | AgentEvent::OfferEnded { .. } => continue,
            event => return event,
        }
    }
}

/// The next agent event that `wanted` picks, skipping others.
pub async fn recv_agent_until(ws: &mut Ws, wanted: impl Fn(&AgentEvent) -> bool) -> AgentEvent {
    loop {
        let event = recv(ws).await;
        if wanted(&event) {
            return event;
        }
    }
}

/// The next customer event that `wanted` picks, skipping others.
pub async fn recv_customer_until(ws: &mut Ws, wanted: impl Fn(&CustomerEvent) -> bool) -> CustomerEvent {
    loop {
        let event = recv(ws).await;
        if wanted(&event) {
            return event;
        }
    }
}

/// Whether no event `unwanted` picks arrives within `window`.
pub async fn no_agent_event(ws: &mut Ws, window: Duration, unwanted: impl Fn(&AgentEvent) -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + window;
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, ws.next()).await else { return true };
        if let Some(Ok(Message::Text(text))) = next
            && let Ok(event) = serde_json::from_str::<AgentEvent>(text.as_str())
            && unwanted(&event)
        {
            return false;
        }
    }
}

/// Whether the server closes the socket (within 5 seconds).
pub async fn closed(ws: &mut Ws) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return false,
        }
    }
}

/// `tandem merchant add` for the shop (as seeded) with an offer timeout of 7 s, on the database
/// that `place` names (`--data-dir <dir>` or `--database <url>`).
pub fn set_shop_offer_timeout_to_7s(place: &[&std::ffi::OsStr]) {
    let changed = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["merchant", "add", "--id", "shop", "--name", "shop inc", "--origin", SHOP_ORIGIN])
        .args(["--offer-timeout", "7"])
        .args(place)
        .env_remove("TANDEM_DATABASE_URL")
        .output()
        .expect("run tandem");
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));
}

/// Polls `attempt` until it yields a value, for at most 10 seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
