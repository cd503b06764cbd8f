//! Each merchant's queue as waiting customers and agents see it: every customer's place and
//! estimated wait, and the agents' list of who is waiting, computed once per change and
//! published as one snapshot that every session reads.
//!
//! Before, each waiting customer's session recomputed the estimate of the whole queue on every
//! change (work growing with the square of the queue), and each agent session re-read the queue
//! from the database. Now one task per merchant recomputes: at once after a quiet spell, and at
//! most every [`COALESCE`] during a burst, a change made meanwhile being covered by the next
//! round. A session only looks up its own entry (customers) or sends the frame already
//! serialised (agents).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tandem_protocol::{AgentEvent, ConversationId, MerchantId, QueueEntry, QueueStatus};
use tokio::sync::{Notify, watch};

use crate::AppState;
use crate::store::{Conversation, StoreError};

/// The shortest time between two snapshots of one merchant's queue.
pub const COALESCE: Duration = Duration::from_millis(20);
/// How many of the bot transcript's last lines an agent's queue entry previews.
const PREVIEW_LINES: usize = 3;

/// Every waiting customer's place, as of one round.
#[derive(Debug)]
pub struct Statuses(HashMap<ConversationId, QueueStatus>);

impl Statuses {
    pub fn status(&self, conversation: &ConversationId) -> Option<QueueStatus> {
        self.0.get(conversation).copied()
    }
}

/// What customers' sessions watch: `None` until the first round is done.
pub type CustomerWatch = watch::Receiver<Option<Arc<Statuses>>>;
/// What agents' sessions watch: `AgentEvent::Queue`, serialised once for every console;
/// `None` until computed (only while a console watches).
pub type AgentWatch = watch::Receiver<Option<Utf8Bytes>>;

struct Feed {
    statuses: watch::Sender<Option<Arc<Statuses>>>,
    agents: watch::Sender<Option<Utf8Bytes>>,
    dirty: Notify,
}

/// The feeds of every merchant with a live session or a change since the server started.
#[derive(Default)]
pub struct Queues {
    feeds: Mutex<HashMap<MerchantId, Arc<Feed>>>,
}

impl Queues {
    /// The places of the merchant's waiting customers; the first use of a merchant's feed
    /// starts the task that keeps it current.
    pub fn watch_statuses(&self, state: &AppState, merchant: &MerchantId) -> CustomerWatch {
        self.feed(state, merchant).statuses.subscribe()
    }

    /// The agents' queue frame (computed only while a console watches: the first console
    /// computes it at once, so that its welcome is followed by the queue).
    pub async fn watch_agents(&self, state: &AppState, merchant: &MerchantId) -> AgentWatch {
        let feed = self.feed(state, merchant);
        let watch = feed.agents.subscribe();
        if watch.borrow().is_none() {
            match agents_frame(state, merchant).await {
                Ok(frame) => {
                    feed.agents.send_replace(Some(frame));
                }
                Err(error) => tracing::error!(%error, %merchant, "could not read the queue"),
            }
        }
        watch
    }

    /// The merchant's queue changed: new snapshots follow within [`COALESCE`] (plus the time to
    /// compute them).
    pub fn changed(&self, state: &AppState, merchant: &MerchantId) {
        self.feed(state, merchant).dirty.notify_one();
    }

    fn feed(&self, state: &AppState, merchant: &MerchantId) -> Arc<Feed> {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(merchant) {
            return feed.clone();
        }
        let feed = Arc::new(Feed {
            statuses: watch::channel(None).0,
            agents: watch::channel(None).0,
            dirty: Notify::new(),
        });
        feeds.insert(merchant.clone(), feed.clone());
        tokio::spawn(keep_current(state.clone(), merchant.clone(), feed.clone()));
        feed
    }
}

/// Recomputes the merchant's snapshots after each change, a round at a time, until shutdown.
async fn keep_current(state: AppState, merchant: MerchantId, feed: Arc<Feed>) {
    let mut shutdown = state.shutting_down();
    loop {
        if let Err(error) = compute(&state, &merchant, &feed).await {
            tracing::error!(%error, %merchant, "could not compute the queue; retrying");
        }
        tokio::time::sleep(COALESCE).await;
        // A change during the round or the pause left a permit: the next round covers it.
        tokio::select! {
            () = feed.dirty.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn compute(state: &AppState, merchant: &MerchantId, feed: &Feed) -> Result<(), StoreError> {
    let statuses = state.dispatch.read(state, merchant, |d, now| d.queue_statuses(now)).await?;
    let statuses =
        statuses.into_iter().map(|(id, position, wait_ms)| (id, status(position, wait_ms))).collect();
    feed.statuses.send_replace(Some(Arc::new(Statuses(statuses))));
    // The agents' list reads the waiting conversations from the database: only for consoles.
    if feed.agents.receiver_count() == 0 {
        feed.agents.send_replace(None);
        return Ok(());
    }
    feed.agents.send_replace(Some(agents_frame(state, merchant).await?));
    Ok(())
}

/// `AgentEvent::Queue` for the merchant's waiting conversations, serialised.
async fn agents_frame(state: &AppState, merchant: &MerchantId) -> Result<Utf8Bytes, StoreError> {
    let entries = state.store.queue(merchant).await?.into_iter().map(queue_entry).collect();
    Ok(serde_json::to_string(&AgentEvent::Queue { entries }).unwrap_or_default().into())
}

/// A place and an estimate as the customer is told them: the estimate rounded up to whole
/// seconds, so that it never promises less than it means.
pub(crate) fn status(position: u32, wait_ms: i64) -> QueueStatus {
    QueueStatus {
        position,
        estimated_wait_secs: u32::try_from((wait_ms.max(0) + 999) / 1000).unwrap_or(u32::MAX),
    }
}

/// What an agent sees of a waiting customer: in the queue list and in an offer.
pub(crate) fn queue_entry(c: Conversation) -> QueueEntry {
    QueueEntry {
        preview: c.transcript[c.transcript.len().saturating_sub(PREVIEW_LINES)..].to_vec(),
        conversation_id: c.id,
        waiting_since_ms: c.queued_at_ms,
        locale: c.locale,
        reason: c.reason,
        escalation: c.escalation,
        skill: c.skill,
    }
}
