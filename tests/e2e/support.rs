//! The plumbing below the page objects (`pages`): the real server on free ports with a fresh
//! database, headless Chromium driven through chromedriver, and waiting for a condition.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tandem_server::{Config, Server};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// See [`TestServer::flood_as_customer`]; stops when dropped.
pub struct Flood(tokio::task::JoinHandle<()>);

impl Drop for Flood {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Repository root: the widget build is in `dist/`, screenshots go to `target/e2e/`.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The published release build of the widget, made by `cargo xtask test` before these tests
/// run.
pub fn widget_dist() -> PathBuf {
    let dist = repo_root().join("dist");
    assert!(
        dist.join("manifest.json").is_file(),
        "no published widget build in {}: run `cargo xtask test` (or `cargo xtask size`) first",
        dist.display()
    );
    dist
}

pub struct TestServer {
    pub api: SocketAddr,
    pub demo: SocketAddr,
    /// Password of the seeded demo agent.
    pub agent_password: String,
    widget_dir: PathBuf,
    /// `--database`: `None` for the SQLite file in `data`.
    database: Option<String>,
    /// Seeds the demo merchant (with this server's demo page as its origin) and agents.
    seed_demo: bool,
    /// `--smtp-url` and `--mail-from`, when the server sends mail.
    mail: Option<tandem_server::mail::Settings>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    data: tempfile::TempDir,
}

impl TestServer {
    /// The real server with the demo merchant, serving the widget from `widget_dir`.
    pub async fn start(widget_dir: &Path) -> Self {
        Self::start_with(widget_dir, None, true, String::new()).await
    }

    /// The same on a fresh database of its own in the test cluster (`TANDEM_TEST_POSTGRES`,
    /// set by `cargo xtask test`).
    pub async fn start_on_postgres(widget_dir: &Path) -> Self {
        let base =
            std::env::var("TANDEM_TEST_POSTGRES").expect("TANDEM_TEST_POSTGRES: run `cargo xtask test`");
        let database = tandem_server::store::scratch_database(&base).await.expect("the test cluster");
        Self::start_with(widget_dir, Some(database), true, String::new()).await
    }

    /// The real server with the demo merchant, sending mail through the server at `smtp_url`
    /// (a sink of the test's).
    pub async fn start_mailing_to(widget_dir: &Path, smtp_url: &str) -> Self {
        let mut server = Self::start(widget_dir).await;
        server.mail =
            Some(tandem_server::mail::Settings::new(smtp_url, "Northwind <chat@northwind.example>"));
        server.restart().await;
        server
    }

    /// A second instance on this one's PostgreSQL database (its demo merchant and agents as
    /// they are: its own demo page is not one of the merchant's origins).
    pub async fn beside(&self) -> Self {
        let database = self.database.clone().expect("instances share a PostgreSQL database");
        Self::start_with(&self.widget_dir, Some(database), false, self.agent_password.clone()).await
    }

    async fn start_with(
        widget_dir: &Path,
        database: Option<String>,
        seed_demo: bool,
        agent_password: String,
    ) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let unbound = "127.0.0.1:0".parse().expect("addr");
        let mut server = Self {
            api: unbound,
            demo: unbound,
            agent_password,
            widget_dir: widget_dir.to_path_buf(),
            database,
            seed_demo,
            mail: None,
            stop: None,
            task: None,
            data,
        };
        server.run().await;
        server
    }

    /// Binds (the same ports again, after a restart) and serves in the background.
    async fn run(&mut self) {
        let config = Config {
            listen: self.api,
            demo_listen: Some(self.demo),
            data_dir: self.data.path().to_path_buf(),
            database: self.database.clone(),
            widget_dir: self.widget_dir.clone(),
            console_dir: repo_root().join("console/dist"),
            seed_demo: self.seed_demo,
            public_url: None,
            trusted_proxies: vec![],
            live_timing: tandem_server::live::LiveTiming::default(),
            webhooks: tandem_server::webhooks::Delivery::default(),
            mail: self.mail.clone(),
        };
        let server = Server::bind(config).await.expect("server starts");
        self.api = server.local_addr().expect("api addr");
        self.demo = server.demo_addr().expect("demo addr");
        if let Some(agent) = server.demo_agent() {
            self.agent_password = agent.password.clone();
        }
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(tokio::spawn(server.run(async {
            let _ = stopped.await;
        })));
    }

    /// Stops the server (closing every connection) and starts it again on the same ports and
    /// database, as an operator's restart would.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.run().await;
    }

    /// Stops the server and waits until it has; [`Self::start_again`] brings it back.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server stopped cleanly");
        }
    }

    pub async fn start_again(&mut self) {
        self.run().await;
    }

    /// Another tab of the customer's, spending the conversation's message budget: it sends a
    /// message every 2 ms until dropped (returning once it is refused), so that the budget's
    /// one message a second is nearly always spent before the widget's.
    pub async fn flood_as_customer(&self, conversation_id: &str, token: &str) -> Flood {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
        let url = format!("ws://{}/v1/conversations/{conversation_id}/live", self.api);
        let mut request = url.into_client_request().expect("request");
        let origin = self.demo_url().trim_end_matches('/').to_owned();
        request.headers_mut().insert("origin", origin.parse().expect("origin"));
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("customer socket");
        let (mut tx, mut rx) = socket.split();
        let hello = json!({"type": "hello", "version": 1, "conversation_id": conversation_id, "token": token, "last_seq": 0});
        tx.send(Message::text(hello.to_string())).await.expect("hello");
        let (spent, budget_spent) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut spent = Some(spent);
            let mut tick = tokio::time::interval(Duration::from_millis(2));
            for n in 0_u64.. {
                tokio::select! {
                    _ = tick.tick() => {
                        let frame = json!({"type": "send", "client_id": format!("flood-{n}"), "text": format!("flood {n}")});
                        if tx.send(Message::text(frame.to_string())).await.is_err() { break }
                    }
                    // Read what comes back, so the server never waits on this socket.
                    incoming = rx.next() => match incoming {
                        Some(Ok(Message::Text(text))) if text.contains("rate_limited") => {
                            if let Some(spent) = spent.take() { let _ = spent.send(()); }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                }
            }
        });
        budget_spent.await.expect("the flood is refused");
        Flood(task)
    }

    /// Ends every sign-in session of the agent, as `tandem agent add` resetting their password
    /// does on a running server.
    pub async fn sign_out_everywhere(&self, email: &str) {
        use tandem_server::store::{SqliteStore, Store};
        let store = SqliteStore::open(&self.data.path().join("tandem.sqlite3")).await.expect("store");
        let agent = store.agent_by_email(email).await.expect("read").expect("agent");
        store.sign_out_everywhere(agent.id).await.expect("sign out");
    }

    /// Changes the demo merchant's settings in the running server's database, as
    /// `tandem merchant add` would.
    pub async fn configure_demo(&self, change: impl FnOnce(&mut tandem_server::store::Merchant)) {
        use tandem_server::store::{SqliteStore, Store};
        let store = SqliteStore::open(&self.data.path().join("tandem.sqlite3")).await.expect("store");
        let id = tandem_protocol::MerchantId::parse("demo").expect("id");
        let mut merchant = store.merchant(&id).await.expect("read").expect("demo merchant");
        change(&mut merchant);
        store.upsert_merchant(&merchant).await.expect("update");
    }

    /// Gives the demo merchant a secret for `Tandem.identify` and returns it.
    pub async fn demo_identity_secret(&self) -> String {
        use tandem_server::store::{SqliteStore, Store};
        let store = SqliteStore::open(&self.data.path().join("tandem.sqlite3")).await.expect("store");
        let secret = tandem_server::tokens::new_token();
        let id = tandem_protocol::MerchantId::parse("demo").expect("id");
        assert!(store.set_identity_secret(&id, &secret).await.expect("secret"));
        secret
    }

    pub fn api_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    pub fn demo_url(&self) -> String {
        format!("http://{}/", self.demo)
    }

    /// The demo checkout under a payment page's strict Content-Security-Policy.
    pub fn strict_url(&self) -> String {
        format!("http://{}/strict", self.demo)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Headless Chromium behind its own chromedriver; both end with the value, even when a test
/// panics: chromedriver runs in a process group of its own, with the browser it starts, and
/// the whole group is killed on drop.
pub struct Browser {
    pub client: Client,
    /// chromedriver's address, for what WebDriver has no command for (Chrome DevTools).
    driver_url: String,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(group) = self._driver.id() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).status();
        }
    }
}

impl Browser {
    pub async fn start() -> Self {
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        // Chromium keeps scratch folders under TMPDIR and removes them only when it exits
        // cleanly; it is killed here, so its TMPDIR lives inside the profile, removed with it.
        let profile = tempfile::tempdir().expect("profile dir");
        let scratch = profile.path().join("tmp");
        std::fs::create_dir(&scratch).expect("browser scratch dir");
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &scratch)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {chromedriver} ({error}): run `cargo xtask setup`"));
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen; retry the session until it does.
        let client = eventually("chromedriver to accept a session", || {
            let url = url.clone();
            let capabilities = capabilities.clone();
            async move {
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                ClientBuilder::new(connector).capabilities(capabilities).connect(&url).await.ok()
            }
        })
        .await;
        // No webdriver call may hang a test run: scripts (axe-core's promise) and page loads
        // fail after 30 s instead.
        let timeouts = fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(30)),
            Some(Duration::from_secs(30)),
            Some(Duration::ZERO),
        );
        client.update_timeouts(timeouts).await.expect("webdriver timeouts");
        Self { client, driver_url: url, _driver: driver, _profile: profile }
    }

    /// Runs the Chrome DevTools Protocol command `cmd` on the current page (chromedriver's
    /// `goog/cdp/execute`), e.g. to throttle the CPU or the network as a slow phone would.
    pub async fn cdp(&self, cmd: &str, params: Value) {
        let session = self.client.session_id().await.ok().flatten().expect("a webdriver session");
        let url = format!("{}/session/{session}/goog/cdp/execute", self.driver_url);
        let response = reqwest::Client::new()
            .post(url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("{cmd}: {error}"));
        assert!(response.status().is_success(), "{cmd}: {}", response.text().await.unwrap_or_default());
    }

    /// Runs `script` (a function body using `arguments`) in the page and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
    }

    /// Runs axe-core (from `tools/node_modules`, installed by `cargo xtask setup`) with the WCAG
    /// 2.x A and AA rules on what `target` (a JS expression: an element or `document`) evaluates
    /// to, and returns one line per violation.
    pub async fn axe(&self, target: &str) -> Vec<String> {
        let loaded = self.js("return !!window.axe", vec![]).await;
        if loaded != Value::Bool(true) {
            let path = repo_root().join("tools/node_modules/axe-core/axe.min.js");
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("{} ({error}): run `cargo xtask setup`", path.display()));
            self.js(&source, vec![]).await;
        }
        let script = format!(
            "
            const done = arguments[arguments.length - 1];
            const options = {{
                runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }},
                resultTypes: ['violations'],
            }};
            // Judge the settled page: the panel's 120 ms opening fade lowers contrast meanwhile.
            const target = {target};
            const root = target.shadowRoot || document;
            Promise.all(root.getAnimations().map(a => a.finished.catch(() => null)))
                .then(() => axe.run(target, options))
                .then(r => done(r.violations.map(v =>
                    v.id + ': ' + v.help + ' at ' + v.nodes.map(n => JSON.stringify(n.target)).join(', '))))
                .catch(e => done(['axe failed: ' + e]));"
        );
        let result = self.client.execute_async(&script, vec![]).await.expect("axe.run");
        serde_json::from_value(result).unwrap_or_default()
    }

    /// Presses and releases one key, sent to whatever has focus.
    /// Presses `key` with Alt and Shift held, as a keyboard shortcut is typed.
    pub async fn press_alt_shift(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let (alt, shift): (char, char) = (Key::Alt.into(), Key::Shift.into());
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: alt })
            .then(KeyAction::Down { value: shift })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: shift })
            .then(KeyAction::Up { value: alt });
        self.client.perform_actions(actions).await.expect("key chord");
    }

    pub async fn press(&self, key: fantoccini::key::Key) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let key: char = key.into();
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(actions).await.expect("key press");
    }

    /// Types `text` into whatever has focus, through the keyboard.
    pub async fn type_keys(&self, text: &str) {
        self.client.active_element().await.expect("focused").send_keys(text).await.expect("type");
    }

    // The page's own elements (outside the widget), for the page objects.

    pub async fn find(
        &self,
        selector: &str,
    ) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
        self.client.find(fantoccini::Locator::Css(selector)).await
    }

    /// Waits for an element matching `selector`.
    pub async fn find_eventually(&self, selector: &str) -> fantoccini::elements::Element {
        eventually(selector, || async { self.find(selector).await.ok() }).await
    }

    /// Whether an element matches `selector` now.
    pub async fn shows(&self, selector: &str) -> bool {
        let script = "return document.querySelector(arguments[0]) !== null";
        self.js(script, vec![json!(selector)]).await == Value::Bool(true)
    }

    /// Waits for an element and clicks it.
    pub async fn click(&self, selector: &str) {
        self.find_eventually(selector).await.click().await.expect("click");
    }

    /// Waits for a field and types into it.
    pub async fn fill(&self, selector: &str, text: &str) {
        self.find_eventually(selector).await.send_keys(text).await.expect("type");
    }

    /// Waits for an element and returns its text.
    pub async fn text(&self, selector: &str) -> String {
        let script = "const e = document.querySelector(arguments[0]); return e && e.textContent";
        eventually(selector, || async {
            self.js(script, vec![json!(selector)]).await.as_str().map(str::to_owned)
        })
        .await
    }

    /// The texts of every element matching `selector`, in order.
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        let script = "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)";
        serde_json::from_value(self.js(script, vec![json!(selector)]).await).unwrap_or_default()
    }

    /// Shift+Tab: focus moves backwards.
    pub async fn press_shift_tab(&self) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let (shift, tab): (char, char) = (Key::Shift.into(), Key::Tab.into());
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: shift })
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab })
            .then(KeyAction::Up { value: shift });
        self.client.perform_actions(actions).await.expect("key press");
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = repo_root().join("target/e2e");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(name);
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

/// Polls `attempt` until it yields a value, for at most 30 seconds.
pub async fn eventually<T, F, Fut>(what: &str, attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let value = within_patience(attempt).await;
    value.unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

/// Polls `observe` until it yields `wanted`; a timeout says what it yielded last, which tells
/// a late message from a lost one.
pub async fn eventually_equal<W, T, F, Fut>(what: &str, wanted: &W, observe: F)
where
    W: std::fmt::Debug,
    T: PartialEq<W> + std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let last = std::cell::RefCell::new(None);
    let reached = within_patience(|| async {
        let seen = observe().await;
        let reached = seen == *wanted;
        *last.borrow_mut() = Some(seen);
        reached.then_some(())
    })
    .await;
    assert!(
        reached.is_some(),
        "timed out waiting for {what}: wanted {wanted:?}, last saw {:?}",
        last.borrow()
    );
}

/// `attempt`'s first value, polled for at most 30 seconds: generous, as CI runs on 2 busy cores;
/// a passing wait returns as soon as its condition holds.
async fn within_patience<T, F, Fut>(attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(Duration::from_secs(30), attempt).await
}

/// `attempt`'s first value within `patience`, or `None`: for what must not happen in a window.
pub async fn eventually_within<T, F, Fut>(patience: Duration, mut attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if let Some(value) = attempt().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}
