//! Several `tandem serve` instances on one PostgreSQL, serving as one system.
//!
//! The instances never talk to each other directly, only through the database:
//! - **Live events.** What one instance's hub publishes reaches the others as a `NOTIFY` on
//!   [`CHANNEL`]. It is only a wake-up: a message crosses as its `seq`, and the sessions that
//!   follow its conversation read it from the database, as they do after any gap.
//! - **Dispatch.** One instance leads: it holds an advisory lock on a connection of its own
//!   and alone runs the dispatchers. The others send it their consoles' changes (connect,
//!   presence, accept, decline, …) and wait for its answer; it publishes a copy of each changed
//!   dispatcher (in the unlogged table `dispatch_replicas`), from which they answer questions.
//!   When it dies its lock goes with its connection, another instance takes it within a second
//!   or two, rebuilds dispatch from the database and every instance announces its consoles.
//!   It lets go of the consoles of an instance that is gone (no session of it in
//!   `pg_stat_activity`).
//!
//! Every notification goes to every instance, in the order they were committed. While an
//! instance is not listening (its connection dropped) it misses wake-ups: `/healthz` fails
//! meanwhile, and once it listens again every session of its reads what it may have missed.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use tandem_dispatch::Dispatcher;
use tandem_protocol::MerchantId;
use tokio::sync::{mpsc, oneshot};

use crate::AppState;
use crate::dispatch::{Answer, Change, Leader};
use crate::live::{Crossing, now_ms};
use crate::store::StoreError;

/// The channel every instance listens on.
pub const CHANNEL: &str = "tandem";
/// PostgreSQL refuses a payload of 8,000 bytes or more; ours are a few hundred.
const MAX_PAYLOAD: usize = 7_999;
/// The advisory lock whose holder dispatches.
const LEADER_LOCK: i64 = 0x7461_6e64_656d_0002;
/// How often a follower tries for the lead, and the leader checks it still holds it.
const LEAD_CHECK: Duration = Duration::from_secs(1);
/// How long a follower waits for the leader's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// The longest a changed dispatcher waits before it is published (changes in a burst share
/// one copy).
const PUBLISH_COALESCE: Duration = Duration::from_millis(10);
/// Connections every instance's sessions show in `pg_stat_activity`, to tell who is alive.
const APPLICATION_PREFIX: &str = "tandem ";

/// What crosses between instances.
#[derive(Debug, Serialize, Deserialize)]
enum Signal {
    Live(Crossing),
    /// A follower asks the leader to make a change.
    Change {
        merchant: MerchantId,
        change: Change,
        request: u64,
    },
    /// The leader answers the follower `to` (for an accept or a hand-back, once the copy that
    /// includes it is published).
    Answer {
        to: String,
        request: u64,
        answer: Answer,
    },
    /// The leader published a new copy of a merchant's dispatcher.
    Replica {
        merchant: MerchantId,
    },
    /// A new leader: every instance announces its consoles to it.
    Leader,
    /// A merchant's settings changed (sent by the database itself, from a trigger).
    Settings,
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    from: String,
    at_ms: i64,
    signal: Signal,
}

/// This instance's part in the cluster.
pub struct Cluster {
    /// This instance's name, unique for as long as it runs.
    instance: String,
    options: PgConnectOptions,
    pool: PgPool,
    signals: mpsc::Sender<Signal>,
    listening: AtomicBool,
    /// It won the lead as it joined: no other instance was running.
    first: AtomicBool,
    next_request: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
    /// Answers (to whom, to which request) the leader sends once the next copies are published.
    held: Mutex<Vec<(String, u64, Answer)>>,
}

/// Joins the instances on the database `url`: from now on this instance follows until it
/// wins the lead.
pub async fn join(state: &AppState, url: &str) -> Result<Arc<Cluster>, StoreError> {
    let instance = crate::tokens::new_id();
    let options = PgConnectOptions::from_str(url)?
        .application_name(&format!("{APPLICATION_PREFIX}{instance}"))
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await?;
    let Some(crossings) = state.hub.link() else {
        return Err(StoreError::Cluster("this server joined its cluster already".into()));
    };
    let (signals, outgoing) = mpsc::channel(4096);
    let cluster = Arc::new(Cluster {
        instance,
        options,
        pool,
        signals,
        listening: AtomicBool::new(false),
        first: AtomicBool::new(false),
        next_request: AtomicU64::new(1),
        waiting: Mutex::default(),
        held: Mutex::default(),
    });
    state.dispatch.follow(cluster.clone(), cluster.instance.clone());
    tokio::spawn(tell(cluster.clone(), crossings, outgoing));
    tokio::spawn(listen(state.clone(), cluster.clone()));
    tokio::spawn(publish(state.clone(), cluster.clone()));
    // The first instance to start leads from its first request on.
    let mut connection = PgConnection::connect_with(&cluster.options).await?;
    let won = try_lead(&mut connection).await?;
    if won {
        cluster.first.store(true, Ordering::SeqCst);
        begin_leading(state, &cluster).await;
    }
    tokio::spawn(contend(state.clone(), cluster.clone(), Some(connection), won));
    Ok(cluster)
}

impl Cluster {
    /// This instance's name among the others (in `pg_stat_activity`, its connections'
    /// `application_name` is `tandem <name>`).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether no other instance ran when this one joined (it took the lead at once).
    pub fn first(&self) -> bool {
        self.first.load(Ordering::SeqCst)
    }

    /// Closes the connections to the others, once their tasks let go of them (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether this instance hears the others now (for `/healthz`).
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    fn signal(&self, signal: Signal) {
        if self.signals.try_send(signal).is_err() {
            tracing::warn!("the other instances were not told of a change: the cluster lags");
        }
    }
}

#[async_trait::async_trait]
impl Leader for Cluster {
    async fn forward(&self, merchant: &MerchantId, change: Change) -> Result<Answer, StoreError> {
        let request = self.next_request.fetch_add(1, Ordering::SeqCst);
        let (answered, answer) = oneshot::channel();
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).insert(request, answered);
        self.signal(Signal::Change { merchant: merchant.clone(), change, request });
        let answer = tokio::time::timeout(ANSWER_WITHIN, answer).await;
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&request);
        match answer {
            Ok(Ok(answer)) => Ok(answer),
            _ => Err(StoreError::Cluster(
                "no instance answered for dispatch (another may be taking the lead); try again in a few seconds"
                    .into(),
            )),
        }
    }

    async fn replica(&self, merchant: &MerchantId) -> Result<Option<Dispatcher>, StoreError> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM dispatch_replicas WHERE merchant_id = $1")
                .bind(merchant.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(body.and_then(|body| match serde_json::from_str(&body) {
            Ok(copy) => Some(copy),
            Err(error) => {
                tracing::error!(%error, %merchant, "the leader's copy of a dispatcher does not read");
                None
            }
        }))
    }
}

/// Sends what this instance's hub published and the cluster's own signals, in order, a batch
/// at a time.
async fn tell(
    cluster: Arc<Cluster>,
    mut crossings: mpsc::Receiver<Crossing>,
    mut own: mpsc::Receiver<Signal>,
) {
    let mut batch = Vec::new();
    loop {
        // The cluster's own signals first: a copy published is announced before anything
        // the hub publishes after it.
        let signal = tokio::select! {
            biased;
            Some(signal) = own.recv() => signal,
            Some(crossing) = crossings.recv() => Signal::Live(crossing),
            else => return,
        };
        batch.push(signal);
        while batch.len() < 256 {
            match own.try_recv() {
                Ok(signal) => batch.push(signal),
                Err(_) => break,
            }
        }
        while batch.len() < 256 {
            match crossings.try_recv() {
                Ok(crossing) => batch.push(Signal::Live(crossing)),
                Err(_) => break,
            }
        }
        let at_ms = now_ms();
        let payloads: Vec<String> = batch
            .drain(..)
            .filter_map(|signal| {
                let envelope = Envelope { from: cluster.instance.clone(), at_ms, signal };
                let payload = serde_json::to_string(&envelope).ok()?;
                if payload.len() > MAX_PAYLOAD {
                    tracing::error!(bytes = payload.len(), "a signal too large for NOTIFY was dropped");
                    return None;
                }
                Some(payload)
            })
            .collect();
        notify(&cluster.pool, &payloads).await;
    }
}

/// One statement for the whole batch; PostgreSQL delivers them in this order.
async fn notify(pool: &PgPool, payloads: &[String]) {
    for attempt in 1..=3u64 {
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(CHANNEL)
            .bind(payloads)
            .execute(pool)
            .await;
        match sent {
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, attempt, "could not notify the other instances");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
        }
    }
}

/// Listens until the server shuts down, listening again after the connection drops.
async fn listen(state: AppState, cluster: Arc<Cluster>) {
    let mut shutdown = state.shutting_down();
    loop {
        match PgListener::connect_with(&cluster.pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    cluster.listening.store(true, Ordering::SeqCst);
                    // Whatever was published while this instance did not listen; and the leader
                    // may have let go of its consoles meanwhile (counted, so this is harmless).
                    state.hub.missed();
                    tokio::spawn(announce(state.clone(), cluster.clone()));
                    if hear(&state, &cluster, &mut listener).await.is_break() {
                        return;
                    }
                    cluster.listening.store(false, Ordering::SeqCst);
                }
                Err(error) => tracing::warn!(%error, "could not listen to the other instances"),
            },
            Err(error) => tracing::warn!(%error, "could not connect to hear the other instances"),
        }
        tokio::select! {
            () = tokio::time::sleep(LEAD_CHECK) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Handles notifications until the connection drops (continue) or the server stops (break).
async fn hear(
    state: &AppState,
    cluster: &Arc<Cluster>,
    listener: &mut PgListener,
) -> std::ops::ControlFlow<()> {
    let mut shutdown = state.shutting_down();
    loop {
        let heard = tokio::select! {
            heard = listener.try_recv() => heard,
            _ = shutdown.changed() => return std::ops::ControlFlow::Break(()),
        };
        match heard {
            Ok(Some(notification)) => match serde_json::from_str::<Envelope>(notification.payload()) {
                Ok(envelope) => arrived(state, cluster, envelope).await,
                Err(error) => tracing::warn!(%error, "an unreadable notification was ignored"),
            },
            Ok(None) => {
                tracing::warn!("lost the connection to the other instances; listening again");
                return std::ops::ControlFlow::Continue(());
            }
            Err(error) => {
                tracing::warn!(%error, "lost the connection to the other instances; listening again");
                return std::ops::ControlFlow::Continue(());
            }
        }
    }
}

async fn arrived(state: &AppState, cluster: &Arc<Cluster>, envelope: Envelope) {
    let own = envelope.from == cluster.instance;
    match envelope.signal {
        Signal::Live(crossing) if !own => {
            state.metrics.notify_lag(now_ms() - envelope.at_ms);
            state.hub.arrived(crossing);
        }
        Signal::Live(_) => {}
        Signal::Change { merchant, change, request } if state.dispatch.leading() => {
            // After an accept or a hand-back the follower's next question is whether the chat
            // is the agent's: its answer waits for the copy that says so. Other answers carry
            // what the follower needs, and go at once.
            let wait_for_copy = matches!(change, Change::Accept(..) | Change::GiveBack { .. });
            match state.dispatch.change_here(state, &merchant, change, &envelope.from).await {
                Ok(answer) if wait_for_copy => {
                    let held = (envelope.from, request, answer);
                    cluster.held.lock().unwrap_or_else(|e| e.into_inner()).push(held);
                    state.dispatch.publish.notify_one();
                }
                Ok(answer) => cluster.signal(Signal::Answer { to: envelope.from, request, answer }),
                Err(error) => tracing::error!(%error, %merchant, "could not make another instance's change"),
            }
        }
        Signal::Change { .. } => {}
        Signal::Answer { to, request, answer } if to == cluster.instance => {
            if let Some(waiting) = cluster.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&request)
            {
                let _ = waiting.send(answer);
            }
        }
        Signal::Answer { .. } => {}
        Signal::Replica { merchant } if !own => match cluster.replica(&merchant).await {
            Ok(Some(copy)) => state.dispatch.install(state, &merchant, copy),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, %merchant, "could not read the leader's dispatcher"),
        },
        Signal::Replica { .. } => {}
        Signal::Settings => state.dispatch.settings_changed.notify_one(),
        // Announced from a task of their own: their answers come through this loop.
        Signal::Leader => {
            state.dispatch.forget_copies();
            tokio::spawn(announce(state.clone(), cluster.clone()));
        }
    }
}

/// Tells the (new) leader of this instance's consoles.
async fn announce(state: AppState, cluster: Arc<Cluster>) {
    for (merchant, change) in state.dispatch.announcements() {
        let made = if state.dispatch.leading() {
            state.dispatch.change_here(&state, &merchant, change, &cluster.instance).await
        } else {
            cluster.forward(&merchant, change).await
        };
        if let Err(error) = made {
            tracing::warn!(%error, %merchant, "could not announce a console to the leader");
        }
    }
}

async fn try_lead(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LEADER_LOCK).fetch_one(connection).await
}

/// Tries for the lead every second; holds it until its connection fails or the server stops.
/// `leading`: `connection` holds it already.
async fn contend(
    state: AppState,
    cluster: Arc<Cluster>,
    mut connection: Option<PgConnection>,
    mut leading: bool,
) {
    let mut shutdown = state.shutting_down();
    loop {
        if connection.is_none() {
            connection = PgConnection::connect_with(&cluster.options).await.ok();
        }
        if *shutdown.borrow() {
            return;
        }
        let tried = match connection.as_mut() {
            Some(held) if !leading => Some(try_lead(held).await),
            _ => None,
        };
        match tried {
            Some(Ok(true)) => {
                begin_leading(&state, &cluster).await;
                leading = true;
            }
            Some(Err(_)) => connection = None,
            _ => {}
        }
        if leading && let Some(held) = connection.as_mut() {
            lead(&state, &cluster, held).await;
            leading = false;
            connection = None;
        }
        tokio::select! {
            () = tokio::time::sleep(LEAD_CHECK) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn begin_leading(state: &AppState, cluster: &Arc<Cluster>) {
    tracing::info!(instance = %cluster.instance, "this instance leads dispatch");
    // The old leader's copies go before the followers look for new ones.
    if let Err(error) = sqlx::query("TRUNCATE dispatch_replicas").execute(&cluster.pool).await {
        tracing::warn!(%error, "could not clear the old leader's dispatchers");
    }
    state.dispatch.lead(state).await;
    cluster.signal(Signal::Leader);
}

/// Leads while `connection` (which holds the lock) lives.
async fn lead(state: &AppState, cluster: &Arc<Cluster>, connection: &mut PgConnection) {
    let mut shutdown = state.shutting_down();
    loop {
        tokio::select! {
            () = tokio::time::sleep(LEAD_CHECK) => {}
            _ = shutdown.changed() => break,
        }
        let alive = tokio::time::timeout(LEAD_CHECK, connection.ping()).await;
        if !matches!(alive, Ok(Ok(()))) {
            tracing::warn!("lost the dispatch lock with its connection; following again");
            break;
        }
        match alive_instances(cluster).await {
            Ok(alive) => state.dispatch.let_go_of_the_gone(state, &alive).await,
            Err(error) => tracing::warn!(%error, "could not tell which instances are alive"),
        }
    }
    state.dispatch.stop_leading();
}

/// The instances with a connection to the database now (their names).
async fn alive_instances(cluster: &Cluster) -> Result<Vec<String>, StoreError> {
    let alive = sqlx::query_scalar(
        "SELECT DISTINCT substr(application_name, $1) FROM pg_stat_activity WHERE application_name LIKE $2",
    )
    .bind(i32::try_from(APPLICATION_PREFIX.len() + 1).unwrap_or(i32::MAX))
    .bind(format!("{APPLICATION_PREFIX}%"))
    .fetch_all(&cluster.pool)
    .await?;
    Ok(alive)
}

/// The leader publishes each changed dispatcher, then the answers that wait for it.
async fn publish(state: AppState, cluster: Arc<Cluster>) {
    let mut shutdown = state.shutting_down();
    loop {
        tokio::select! {
            () = state.dispatch.publish.notified() => {}
            _ = shutdown.changed() => return,
        }
        tokio::time::sleep(PUBLISH_COALESCE).await;
        let held = std::mem::take(&mut *cluster.held.lock().unwrap_or_else(|e| e.into_inner()));
        // An instance that lost the lead meanwhile publishes nothing, and answers nothing.
        if !state.dispatch.leading() {
            continue;
        }
        for (merchant, copy) in state.dispatch.take_changed() {
            if let Err(error) = save_replica(&cluster.pool, &merchant, &copy).await {
                tracing::error!(%error, %merchant, "could not publish a dispatcher to the other instances");
                continue;
            }
            cluster.signal(Signal::Replica { merchant });
        }
        for (to, request, answer) in held {
            cluster.signal(Signal::Answer { to, request, answer });
        }
    }
}

async fn save_replica(pool: &PgPool, merchant: &MerchantId, copy: &Dispatcher) -> Result<(), StoreError> {
    let body = serde_json::to_string(copy).map_err(|error| StoreError::Cluster(error.to_string()))?;
    sqlx::query(
        "INSERT INTO dispatch_replicas (merchant_id, body) VALUES ($1, $2)
         ON CONFLICT (merchant_id) DO UPDATE SET body = EXCLUDED.body",
    )
    .bind(merchant.as_str())
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}
