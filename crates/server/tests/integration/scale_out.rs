//! Two instances on one PostgreSQL serve one merchant as one system: a customer on one and an
//! agent on the other chat live, one instance dispatches and offers go to one agent at a time,
//! and a deactivation or a settings change made anywhere reaches both.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tandem_protocol::{
    AgentEvent, AgentFrame, Author, ClientMessageId, CustomerEvent, CustomerFrame, TeamMember,
};

use crate::common::{
    TestApp, closed, eventually, no_agent_event, recv_agent_until, recv_customer_until, seeded_postgres,
    send, spawn_app_on_postgres, spawn_instance,
};

/// Live events cross instances within this.
const LIVE: Duration = Duration::from_secs(1);

fn is_offer(event: &AgentEvent) -> bool {
    matches!(event, AgentEvent::Offer { .. })
}

/// Two `tandem serve` processes on one database; the first leads dispatch (it started first).
/// Each is spoken to through a [`TestApp`] attached to it, and killed with its [`Process`].
async fn two_instances() -> ((TestApp, Process), (TestApp, Process)) {
    let database = seeded_postgres().await;
    let first = Process::serve(&database);
    assert_eq!(first.metric("tandem_dispatch_leading").await.as_deref(), Some("1"));
    let second = Process::serve(&database);
    assert_eq!(second.metric("tandem_dispatch_leading").await.as_deref(), Some("0"));
    let a = TestApp::attach(first.addr.parse().expect("addr"), database.clone());
    let b = TestApp::attach(second.addr.parse().expect("addr"), database);
    ((a, first), (b, second))
}

#[tokio::test]
async fn a_customer_on_one_instance_and_an_agent_on_another_chat_live() {
    let ((a, _first), (b, _second)) = two_instances().await;
    // The agent on the instance that follows: its console's changes go to the leader.
    let (mut agent, _, _) = b.agent("anna@shop.example").await;
    let started = a.start_conversation().await;
    let (mut customer, _) = a.customer(&started, 0).await;
    let id = started.conversation_id.clone();
    let offer = recv_agent_until(&mut agent, is_offer).await;
    assert!(matches!(offer, AgentEvent::Offer { ref offer, .. } if offer.conversation_id == id), "{offer:?}");
    send(&mut agent, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await;
    let joined =
        within(LIVE, recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::AgentJoined { .. })))
            .await;
    assert_eq!(joined, CustomerEvent::AgentJoined { name: "Anna".into() });

    let hello = CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text: "Hello?".into() };
    send(&mut customer, &hello).await;
    let heard = within(LIVE, recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Message { .. }))).await;
    assert!(
        matches!(heard, AgentEvent::Message { ref message, .. } if message.text == "Hello?" && message.author == Author::Customer),
        "{heard:?}"
    );
    let reply = AgentFrame::Send {
        conversation_id: id.clone(),
        client_id: ClientMessageId("a1".into()),
        text: "Hi, Anna here".into(),
    };
    send(&mut agent, &reply).await;
    let answered = within(
        LIVE,
        recv_customer_until(
            &mut customer,
            |e| matches!(e, CustomerEvent::Message { message } if message.author != Author::Customer),
        ),
    )
    .await;
    assert!(matches!(answered, CustomerEvent::Message { ref message } if message.text == "Hi, Anna here"));
}

#[tokio::test]
async fn with_agents_on_both_instances_a_customer_is_offered_to_one_at_a_time() {
    let ((a, _first), (b, _second)) = two_instances().await;
    let (mut anna, _, _) = a.agent("anna@shop.example").await;
    let (mut bert, _, _) = b.agent("bert@shop.example").await;
    // Bert's console joined dispatch through the leader.
    eventually("both agents in dispatch", || async {
        let anna = a.login("anna@shop.example").await;
        let response = a.http.get(a.url("/v1/agent/supervisor")).header("cookie", anna).send().await.ok()?;
        let body: serde_json::Value = response.json().await.ok()?;
        let online = body["agents"].as_array()?.iter().filter(|agent| agent["connected"] == true).count();
        (online == 2).then_some(())
    })
    .await;
    let started = b.start_conversation().await;
    let id = started.conversation_id.clone();

    // Whoever is offered it first, the other is not offered it while that offer is open.
    let (first, second) = tokio::select! {
        event = recv_agent_until(&mut anna, is_offer) => { drop(event); (&mut anna, &mut bert) }
        event = recv_agent_until(&mut bert, is_offer) => { drop(event); (&mut bert, &mut anna) }
    };
    assert!(no_agent_event(second, Duration::from_millis(700), is_offer).await, "offered to both at once");
    send(first, &AgentFrame::Decline { conversation_id: id.clone() }).await;
    let next = recv_agent_until(second, is_offer).await;
    assert!(matches!(next, AgentEvent::Offer { ref offer, .. } if offer.conversation_id == id), "{next:?}");
    send(second, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    recv_agent_until(second, |e| matches!(e, AgentEvent::Accepted { .. })).await;
    assert!(no_agent_event(first, Duration::from_millis(300), is_offer).await, "taken is taken");
}

#[tokio::test]
async fn a_deactivation_on_one_instance_closes_the_agents_console_on_the_other_at_once() {
    let ((a, _first), (b, _second)) = two_instances().await;
    let anna = a.login("anna@shop.example").await;
    let (mut bert, _, _) = b.agent("bert@shop.example").await;
    let team: Vec<TeamMember> = a
        .http
        .get(a.url("/v1/agent/team"))
        .header("cookie", &anna)
        .send()
        .await
        .expect("team")
        .json()
        .await
        .expect("members");
    let bert_id = team.iter().find(|m| m.display_name == "Bert").expect("Bert").id;
    let deactivated = a
        .http
        .post(a.url(&format!("/v1/agent/agents/{bert_id}/deactivate")))
        .header("cookie", &anna)
        .header("origin", a.origin())
        .send()
        .await
        .expect("deactivate");
    assert_eq!(deactivated.status(), 204);
    // Told through the database's notification, not by the console's periodic check (3 s).
    let told = within(LIVE, recv_agent_until(&mut bert, |e| matches!(e, AgentEvent::Error { .. }))).await;
    assert!(matches!(told, AgentEvent::Error { code: tandem_protocol::ErrorCode::Unauthorized, .. }));
    assert!(closed(&mut bert).await, "the console on the other instance is closed");
}

#[tokio::test]
async fn a_setting_changed_with_the_command_line_reaches_both_instances() {
    let ((a, _first), (b, _second)) = two_instances().await;
    // Both on the database's version first: an instance reports 0 until its first read.
    let before_a = eventually("both instances on the same settings", || async {
        let (on_a, on_b) =
            (a.metric("tandem_settings_version").await?, b.metric("tandem_settings_version").await?);
        (on_a == on_b && on_a != "0").then_some(on_a)
    })
    .await;
    let database = a.database().expect("postgres");
    crate::common::set_shop_offer_timeout_to_7s(&["--database".as_ref(), database.as_ref()]);
    // At once (the database notifies every instance), not at the next of their once-a-second
    // reads.
    let changed_at = tokio::time::Instant::now();
    for app in [&a, &b] {
        eventually("the new settings taken up", || async {
            app.metric("tandem_settings_version").await.filter(|now| *now != before_a)
        })
        .await;
    }
    assert!(changed_at.elapsed() < Duration::from_millis(400), "took {:?}", changed_at.elapsed());
    // The next offer, made by the leader to a console on the other instance, has the new rule.
    let (mut agent, _, _) = b.agent("anna@shop.example").await;
    a.start_conversation().await;
    let offer = recv_agent_until(&mut agent, is_offer).await;
    assert!(matches!(offer, AgentEvent::Offer { timeout_secs: 7, .. }), "{offer:?}");
}

/// `tandem serve` in a process of its own on `database`, killed with the value.
struct Process {
    child: Child,
    addr: String,
    _data: tempfile::TempDir,
}

impl Process {
    fn serve(database: &str) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database, "--data-dir"])
            .arg(data.path())
            .env_remove("RUST_LOG")
            .env_remove("TANDEM_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tandem");
        // The first line, printed once the port is bound and the database open, has the address.
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut first).expect("read");
        // Read to the end, so that the server never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        Self { child, addr, _data: data }
    }

    async fn metric(&self, metric: &str) -> Option<String> {
        let text = reqwest::get(format!("http://{}/metrics", self.addr)).await.ok()?.text().await.ok()?;
        let prefix = format!("{metric} ");
        text.lines().find_map(|line| line.strip_prefix(&prefix)).map(str::to_owned)
    }

    /// `kill -9`: no goodbye to the database or anyone else.
    fn kill(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn when_the_leader_is_killed_another_instance_takes_over_and_nothing_is_lost() {
    let database = seeded_postgres().await;
    let mut leader = Process::serve(&database);
    assert_eq!(leader.metric("tandem_dispatch_leading").await.as_deref(), Some("1"));
    let b = spawn_instance(database).await;
    assert_eq!(b.metric("tandem_dispatch_leading").await.as_deref(), Some("0"));

    let started = b.start_conversation().await;
    let id = started.conversation_id.clone();
    let (mut customer, _) = b.customer(&started, 0).await;
    send(
        &mut customer,
        &CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text: "Anyone?".into() },
    )
    .await;
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Ack { .. })).await;
    let (mut agent, _, _) = b.agent("anna@shop.example").await;
    let first = recv_agent_until(&mut agent, is_offer).await;
    assert!(matches!(first, AgentEvent::Offer { ref offer, .. } if offer.conversation_id == id));

    leader.kill();
    let killed_at = tokio::time::Instant::now();
    // The survivor takes the lead, rebuilds dispatch from the database, hears its own console
    // again and offers the waiting customer anew.
    let again = tokio::time::timeout(Duration::from_secs(10), recv_agent_until(&mut agent, is_offer))
        .await
        .expect("offered again within 10 s of the kill");
    assert!(matches!(again, AgentEvent::Offer { ref offer, .. } if offer.conversation_id == id), "{again:?}");
    assert_eq!(b.metric("tandem_dispatch_leading").await.as_deref(), Some("1"));
    assert!(killed_at.elapsed() < Duration::from_secs(10));

    send(&mut agent, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await;
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::AgentJoined { .. })).await;
    let anna = b.login("anna@shop.example").await;
    let detail: serde_json::Value = b
        .http
        .get(b.url(&format!("/v1/agent/conversations/{}", id.0)))
        .header("cookie", anna)
        .send()
        .await
        .expect("conversation")
        .json()
        .await
        .expect("detail");
    let texts: Vec<&str> =
        detail["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(texts, ["Anyone?"], "{detail}");
}

async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future).await.expect("in time")
}

#[tokio::test]
async fn an_instance_that_loses_the_database_says_so_and_catches_up_once_back() {
    let ((a, _first), (b, _second)) = two_instances().await;
    let started = a.start_conversation().await;
    let id = started.conversation_id.clone();
    let (mut customer, _) = a.customer(&started, 0).await;
    let (mut agent, _, _) = b.agent("anna@shop.example").await;
    recv_agent_until(&mut agent, is_offer).await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await;

    let health = |app: &TestApp| {
        let request = app.http.get(app.url("/healthz"));
        async move {
            let response = request.send().await.ok()?;
            let status = response.status().as_u16();
            Some((status, response.text().await.unwrap_or_default()))
        }
    };
    let (status, body) = health(&b).await.expect("health");
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["dispatch"], "follows");
    let instance = body["instance"].as_str().expect("instance").to_owned();

    // The database drops every connection b listens and contends on.
    let admin = sqlx::PgPool::connect(a.database().expect("postgres")).await.expect("connect");
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
        .bind(format!("tandem {instance}"))
        .execute(&admin)
        .await
        .expect("terminate");
    eventually("b to say it does not hear the others", || async {
        health(&b).await.filter(|(status, body)| *status == 503 && body.contains("unavailable"))
    })
    .await;
    // Meanwhile the customer writes; it is stored, and b hears of it only once back.
    send(
        &mut customer,
        &CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text: "Still there?".into() },
    )
    .await;
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Ack { .. })).await;
    eventually("b to hear the others again", || async {
        health(&b).await.filter(|(status, _)| *status == 200)
    })
    .await;
    let caught_up = recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Message { .. })).await;
    assert!(matches!(caught_up, AgentEvent::Message { ref message, .. } if message.text == "Still there?"));
    // Had the leader let go of b's consoles meanwhile, b announced them again on its return.
    let anna = a.login("anna@shop.example").await;
    eventually("Anna's console counted by the leader", || async {
        let response = a.http.get(a.url("/v1/agent/supervisor")).header("cookie", &anna).send().await.ok()?;
        let body: serde_json::Value = response.json().await.ok()?;
        let connected = body["agents"].as_array()?.iter().any(|agent| agent["connected"] == true);
        connected.then_some(())
    })
    .await;
    admin.close().await;
}

#[tokio::test]
async fn an_instance_starting_beside_another_leaves_its_customers_present() {
    let a = spawn_app_on_postgres().await;
    let started = a.start_conversation().await;
    let (_customer, _) = a.customer(&started, 0).await;
    let database = sqlx::PgPool::connect(a.database().expect("postgres")).await.expect("connect");
    let away = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT customer_away_since_ms FROM conversations WHERE id = $1")
            .bind(&started.conversation_id.0)
            .fetch_one(&database)
            .await
            .expect("conversation")
    };
    eventually("the customer present", || async { away().await.is_none().then_some(()) }).await;
    let _b = a.beside().await;
    assert_eq!(away().await, None, "a customer connected to the first instance is not away");
    database.close().await;
}
