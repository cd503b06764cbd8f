//! Tandem's server: the JSON API, the widget and console files, and (with `--demo`) a demo
//! checkout page on a second listener, which is a different origin as a merchant's page is.
//!
//! Start-up is split in two, in the way of `bind` then `run`: [`Server::bind`] does everything
//! that can fail because of the operator's input (data directory, database, ports) and reports
//! it as a [`StartError`]; [`Server::run`] then serves until the shutdown future completes.

pub mod demo;
pub mod error;
pub mod hours;
pub mod identity;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod password;
pub mod store;
pub mod tokens;
pub mod webhooks;

mod agents;
pub mod api;
pub mod assets;
mod attachments;
pub mod audit;
pub mod canned;
pub mod cluster;
mod conversations;
mod csp;
pub mod dispatch;
mod extract;
mod limits;
mod outbox;
mod pages;
pub mod queue;
pub mod service;
pub mod team;
mod upkeep;
mod widget;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::response::Html;
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::store::{Store, StoreError};

/// Everything `tandem serve` is told on its command line.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where the demo checkout page is served; `None` serves no demo page.
    pub demo_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    /// `--database`: a PostgreSQL (or SQLite) URL instead of the SQLite file in `data_dir`.
    pub database: Option<String>,
    /// The widget build (Trunk's `dist/`), served under `/widget/`.
    pub widget_dir: PathBuf,
    /// The console build (`console/dist/`), served under `/console/`.
    pub console_dir: PathBuf,
    /// Seed the demo merchant and agent.
    pub seed_demo: bool,
    /// The origin people use to reach this server (e.g. `https://chat.example.com`), from which
    /// the console is served; `None`: `http://` and the listen address.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` (or `Forwarded`) names the client; a request
    /// from anyone else is the address it comes from, whatever it claims.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Pings and the idle timeout of live sockets.
    pub live_timing: live::LiveTiming,
    /// How webhook deliveries are made (`webhooks::Delivery::default()` in production).
    pub webhooks: webhooks::Delivery,
    /// The mail server (`--smtp-url`); `None` sends no email and offers no transcripts.
    pub mail: Option<mail::Settings>,
}

/// Shared by every request handler and live session.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub hub: Arc<live::Hub>,
    pub dispatch: Arc<dispatch::Dispatch>,
    pub queues: Arc<queue::Queues>,
    pub metrics: Arc<metrics::Metrics>,
    /// This instance's part among others on one PostgreSQL; unset alone (on SQLite).
    pub cluster: Arc<std::sync::OnceLock<Arc<cluster::Cluster>>>,
    /// See [`Config::trusted_proxies`].
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// See [`Config::live_timing`].
    pub live_timing: live::LiveTiming,
    limits: Arc<limits::Limits>,
    /// Open WebSockets, capped per network, conversation and agent.
    sockets: Arc<limits::Sockets>,
    /// Origins the agent console is served from: the only ones allowed to sign in and to open
    /// the agent WebSocket (the CSRF defence).
    console_origins: Arc<Vec<String>>,
    /// Mark the session cookie `Secure` (the console is served over https).
    secure_cookies: bool,
    shutdown: watch::Receiver<bool>,
    begin_shutdown: Arc<watch::Sender<bool>>,
    /// See [`Config::webhooks`].
    pub webhook_delivery: webhooks::Delivery,
    /// Woken when a webhook event is queued here, so that it is sent at once.
    pub webhooks_due: Arc<tokio::sync::Notify>,
    /// See [`Config::mail`].
    pub mailer: Option<Arc<mail::Mailer>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, console_origins: Vec<String>) -> Self {
        Self::configured(
            store,
            console_origins,
            Vec::new(),
            live::LiveTiming::default(),
            webhooks::Delivery::default(),
            None,
        )
    }

    /// The state with the server's proxies and live timing, set before its timers start (they
    /// read the timing).
    pub fn configured(
        store: Arc<dyn Store>,
        console_origins: Vec<String>,
        trusted_proxies: Vec<ipnet::IpNet>,
        live_timing: live::LiveTiming,
        webhook_delivery: webhooks::Delivery,
        mailer: Option<Arc<mail::Mailer>>,
    ) -> Self {
        let (begin_shutdown, shutdown) = watch::channel(false);
        let secure_cookies = console_origins.iter().all(|origin| origin.starts_with("https://"));
        let state = Self {
            store,
            hub: Arc::default(),
            dispatch: Arc::default(),
            queues: Arc::default(),
            metrics: Arc::default(),
            cluster: Arc::default(),
            trusted_proxies: Arc::new(trusted_proxies),
            live_timing,
            limits: Arc::default(),
            sockets: Arc::default(),
            console_origins: Arc::new(console_origins),
            secure_cookies,
            shutdown,
            begin_shutdown: Arc::new(begin_shutdown),
            webhook_delivery,
            webhooks_due: Arc::default(),
            mailer,
        };
        // Outside a runtime (some unit tests) there is nothing to time.
        if tokio::runtime::Handle::try_current().is_ok() {
            dispatch::spawn_timer(state.clone());
            upkeep::spawn(state.clone());
            webhooks::spawn(state.clone());
            mail::spawn(state.clone());
        }
        state
    }

    /// Tells every live session to close, so that a graceful shutdown does not wait on them.
    pub fn shut_down(&self) {
        let _ = self.begin_shutdown.send(true);
    }

    /// The origin the console is served from, for links people open (invites).
    pub fn console_origin(&self) -> &str {
        self.console_origins.first().map_or("", String::as_str)
    }

    /// One of the origins this server is reached at (where the widget's frame and full page
    /// run).
    pub fn is_own_origin(&self, origin: &str) -> bool {
        self.console_origins.iter().any(|own| own == origin)
    }

    /// Changes once, when the server begins to shut down.
    pub fn shutting_down(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }
}

/// Why the server could not start; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "cannot use data directory {path}: {source}; pass --data-dir (or TANDEM_DATA_DIR) with a writable directory"
    )]
    DataDir { path: PathBuf, source: io::Error },
    #[error(
        "cannot open the database in {path}: {source}; check that the directory is writable and not used by another version"
    )]
    Database { path: PathBuf, source: StoreError },
    #[error("{0}")]
    DatabaseUrl(String),
    #[error(
        "cannot use the database {place}: {source}; check --database (postgres://user:password@host:port/database), that the server is up and the user may connect, and that this tandem is not older than the database's schema"
    )]
    Postgres { place: String, source: StoreError },
    #[error(
        "cannot listen on {addr}: {source}; stop the process using it or pass {flag} with another address"
    )]
    Listen { addr: SocketAddr, flag: &'static str, source: io::Error },
    #[error("cannot seed the demo data: {0}")]
    Seed(StoreError),
    #[error("{0}")]
    Mail(String),
}

/// A server whose ports are bound and whose database is open, ready to [`run`](Server::run).
pub struct Server {
    state: AppState,
    listener: TcpListener,
    demo_listener: Option<TcpListener>,
    router: Router,
    demo_router: Option<Router>,
    demo_agent: Option<demo::DemoAgent>,
}

impl Server {
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        let mailer = match config.mail.clone() {
            Some(settings) => Some(Arc::new(mail::Mailer::new(settings).map_err(StartError::Mail)?)),
            None => None,
        };
        let store = open_store(&config).await?;
        let listener = bind_listener(config.listen, "--listen").await?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.listen,
            flag: "--listen",
            source,
        })?;
        let console_origins = match &config.public_url {
            Some(url) => vec![url.trim_end_matches('/').to_owned()],
            None => vec![public_origin(addr), format!("http://localhost:{}", addr.port())],
        };
        let state = AppState::configured(
            store,
            console_origins,
            config.trusted_proxies.clone(),
            config.live_timing,
            config.webhooks,
            mailer,
        );
        join_others(&state, &config).await?;
        let demo_listener = match config.demo_listen {
            Some(demo_addr) => Some(bind_listener(demo_addr, "--demo-listen").await?),
            None => None,
        };

        let mut demo_router = None;
        let mut demo_agent = None;
        if let Some(demo_listener) = &demo_listener {
            let demo_addr = demo_listener.local_addr().map_err(|source| StartError::Listen {
                addr: config.listen,
                flag: "--demo-listen",
                source,
            })?;
            demo_router = Some(demo_app(&format!("{}/widget/tandem.js", public_origin(addr))));
            if config.seed_demo {
                let origins =
                    vec![public_origin(demo_addr), format!("http://localhost:{}", demo_addr.port())];
                demo_agent = Some(demo::seed(state.store.as_ref(), origins).await.map_err(StartError::Seed)?);
            }
        }

        Ok(Self {
            router: app(state.clone(), &config.widget_dir, &config.console_dir),
            state,
            listener,
            demo_listener,
            demo_router,
            demo_agent,
        })
    }

    /// The address of the API, widget and console.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the demo checkout page, when one is served.
    pub fn demo_addr(&self) -> Option<SocketAddr> {
        self.demo_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn demo_agent(&self) -> Option<&demo::DemoAgent> {
        self.demo_agent.as_ref()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests in flight finish
    /// and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        // Both listeners stop on the same signal: a watch channel lets each await it.
        // Both listeners and every live session stop on the same signal, the state's watch.
        let state = self.state.clone();
        tokio::spawn(async move {
            shutdown.await;
            state.shut_down();
        });
        let state = self.state.clone();
        tokio::spawn(async move { dispatch::resume(&state).await });
        let stop_rx = self.state.shutting_down();
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };

        let router = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let main = axum::serve(self.listener, router).with_graceful_shutdown(stopped(stop_rx.clone()));
        match (self.demo_listener, self.demo_router) {
            (Some(listener), Some(router)) => {
                let demo = axum::serve(listener, router).with_graceful_shutdown(stopped(stop_rx));
                tokio::try_join!(async { main.await }, async { demo.await })?;
            }
            _ => main.await?,
        }
        if let Some(cluster) = self.state.cluster.get() {
            cluster.close().await;
        }
        self.state.store.close().await;
        Ok(())
    }
}

/// The store `config` names: the SQLite file in its data directory (created if missing), or the
/// database of its `--database` URL.
async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let location = store::Location::parse(config.database.as_deref(), &config.data_dir)
        .map_err(StartError::DatabaseUrl)?;
    if let store::Location::Postgres(_) = location {
        let place = location.describe();
        return location.open().await.map_err(|source| StartError::Postgres { place, source });
    }
    let data_error = |source| StartError::DataDir { path: config.data_dir.clone(), source };
    std::fs::create_dir_all(&config.data_dir).map_err(data_error)?;
    probe_writable(&config.data_dir).map_err(data_error)?;
    location.open().await.map_err(|source| StartError::Database { path: config.data_dir.clone(), source })
}

/// On PostgreSQL, joins the other instances on the database; then marks the waiting customers
/// away. No customer is connected to a server that is starting: each waiting one is away until
/// their page connects again (within their merchant's abandon time). Unless other instances run
/// (one led already): their customers are connected to them.
async fn join_others(state: &AppState, config: &Config) -> Result<(), StartError> {
    if let Ok(store::Location::Postgres(url)) =
        store::Location::parse(config.database.as_deref(), &config.data_dir)
    {
        let place = store::Location::Postgres(url.clone()).describe();
        let joined =
            cluster::join(state, &url).await.map_err(|source| StartError::Postgres { place, source })?;
        let _ = state.cluster.set(joined);
    }
    if state.cluster.get().is_none_or(|cluster| cluster.first()) {
        let away = state.store.all_customers_away(live::now_ms()).await;
        away.map_err(|source| StartError::Database { path: config.data_dir.clone(), source })?;
    }
    Ok(())
}

/// The API, the widget files and the console, on the main listener.
pub fn app(state: AppState, widget_dir: &Path, console_dir: &Path) -> Router {
    let https = state.secure_cookies;
    let router = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/frames.schema.json", get(openapi::frames_json))
        .merge(page_reads())
        .route("/contact/{id}", get(pages::contact))
        .merge(customer_posts())
        .route("/v1/conversations/{id}/live", get(conversations::live))
        .route("/v1/merchants/{id}/availability", get(api::availability))
        .route("/v1/agent/messages", get(agents::left_messages))
        .route("/v1/agent/login", post(agents::login))
        .route("/v1/agent/logout", post(agents::logout))
        .route("/v1/agent/me", get(agents::me))
        .route("/v1/agent/live", get(agents::live))
        .route("/v1/agent/conversations/{id}", get(agents::conversation))
        .route("/v1/agent/conversations.csv", get(team::export_csv))
        .route("/v1/agent/team", get(team::team))
        .route("/v1/agent/supervisor", get(team::supervisor))
        .route("/v1/agent/canned", get(canned::list))
        .route("/v1/agent/canned/{shortcut}", put(canned::put).delete(canned::remove))
        .route("/v1/agent/invites", post(team::create_invite))
        .route("/v1/agent/agents/{id}/deactivate", post(team::deactivate))
        .route("/v1/invites/lookup", post(team::lookup_invite))
        .route("/v1/invites/accept", post(team::accept_invite))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(256 * 1024))
        .merge(attachments::routes())
        .nest_service("/widget", widget::router(widget_dir).with_state(state.clone()))
        .nest_service("/console", console_files(console_dir))
        .fallback(|| async {
            error::AppError::NotFound(
                "no such page; the widget is under /widget/, the console under /console/".into(),
            )
        })
        .with_state(state)
        .layer(axum::middleware::map_response(error::problem_for_every_error))
        // A panic in one handler (a defect) answers that request with a 500 problem; the task
        // unwinds and every other request and live chat goes on.
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(error::AppError::Internal)
        }));
    security_headers(router, https).layer(TraceLayer::new_for_http())
}

/// A route asked with a method it does not take: a problem body too (axum adds `Allow`).
pub(crate) async fn method_not_allowed() -> error::AppError {
    error::AppError::MethodNotAllowed
}

/// What the loader fetches as the customer opens the widget, beside the app: compressed, as the
/// app's files are, since on a slow phone these bytes share the line with the wasm (the demo's
/// flow is 17 KB as JSON, 6 KB as brotli).
fn page_reads() -> Router<AppState> {
    Router::new()
        .route("/v1/merchants/{id}/widget-config", get(api::widget_config))
        .route("/v1/merchants/{id}/bot-flow", get(api::bot_flow))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CompressionLayer::new())
}

/// The customer API's POSTs, which pages on merchants' origins call cross-origin: the CORS
/// layer wraps each whole route, so that it answers the preflight (`OPTIONS`) before the 405
/// for other methods does.
fn customer_posts() -> Router<AppState> {
    Router::new()
        .route("/v1/conversations", post(conversations::start))
        .route("/v1/conversations/{id}/rating", post(conversations::rate))
        .route("/v1/conversations/{id}/context", post(conversations::set_context))
        .route("/v1/conversations/{id}/transcript", post(conversations::transcript))
        .route("/v1/conversations/{id}/leave", post(conversations::leave))
        .route("/v1/merchants/{id}/messages", post(api::leave_message))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(customer_cors())
}

/// Pages on merchants' origins call the customer API cross-origin. The preflight is answered
/// for any origin (it carries no merchant); the request itself is checked against the
/// merchant's allowed origins by the handler.
fn customer_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(std::time::Duration::from_secs(600))
}

/// The console's files, under a policy of their own origin only (its inline entry script by
/// hash, read from the build), which no page may frame.
fn console_files(console_dir: &Path) -> Router {
    let index = std::fs::read_to_string(console_dir.join("index.html")).unwrap_or_default();
    let policy = csp::for_page(&index, true, &csp::Ancestors::None);
    let mut router = Router::new().fallback_service(
        ServeDir::new(console_dir).fallback(ServeFile::new(console_dir.join("index.html"))),
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        router = router.layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, policy));
    }
    router
}

/// Headers every response of ours carries: no MIME sniffing, no referrer leaving our pages,
/// and HSTS when the public URL is https.
fn security_headers(router: Router, https: bool) -> Router {
    let router = router
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    if https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    }
}

/// The demo checkout page and the theme gallery, on their own listener so that they are a
/// different origin from the server's.
pub fn demo_app(widget_script_url: &str) -> Router {
    let page = pages::demo_checkout(widget_script_url);
    let script = widget_script_url.to_owned();
    let strict = |allows| {
        let (page, policy) = pages::strict_checkout(widget_script_url, allows);
        get(move || async move { ([(header::CONTENT_SECURITY_POLICY, policy)], Html(page)) })
    };
    let asset = |content_type: &'static str, body: &'static str| {
        get(move || async move { ([(header::CONTENT_TYPE, content_type)], body) })
    };
    Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/strict", strict(pages::Strict::Frames))
        .route("/strict/no-frame", strict(pages::Strict::Nothing))
        .route("/strict/wasm", strict(pages::Strict::Wasm))
        .route("/checkout.css", asset("text/css", pages::CHECKOUT_CSS))
        .route("/violations.js", asset("text/javascript", pages::VIOLATIONS_JS))
        .route("/cart.js", asset("text/javascript", pages::CART_JS))
        .route("/themes", get(|| async { Html(pages::theme_gallery()) }))
        .route(
            "/themes/{slug}",
            get(move |axum::extract::Path(slug): axum::extract::Path<String>| async move {
                pages::theme_page(&script, &slug)
                    .map(Html)
                    .ok_or_else(|| error::AppError::NotFound(format!("there is no theme {slug:?}")))
            }),
        )
        .layer(TraceLayer::new_for_http())
}

/// The origin a browser uses to reach `addr` (loopback when bound to every interface).
fn public_origin(addr: SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
    format!("http://{host}:{}", addr.port())
}

async fn bind_listener(addr: SocketAddr, flag: &'static str) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, flag, source })
}

/// `create_dir_all` succeeds on an existing read-only directory; writing a file tells the truth.
fn probe_writable(dir: &Path) -> io::Result<()> {
    let probe = dir.join(".tandem-write-probe");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}
