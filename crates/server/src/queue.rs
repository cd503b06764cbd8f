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
/// How long `POST /v1/conversations` waits for the snapshot that places the new customer.
const LISTING_WAIT: Duration = Duration::from_secs(2);

/// One merchant's queue, as of one round.
#[derive(Debug)]
pub struct Snapshot {
    statuses: HashMap<ConversationId, QueueStatus>,
    /// `AgentEvent::Queue`, serialised once for every agent's console.
    agents_frame: Utf8Bytes,
}

impl Snapshot {
    pub fn status(&self, conversation: &ConversationId) -> Option<QueueStatus> {
        self.statuses.get(conversation).copied()
    }

    pub fn agents_frame(&self) -> Utf8Bytes {
        self.agents_frame.clone()
    }
}

/// What sessions watch: `None` until the first round is done.
pub type Watch = watch::Receiver<Option<Arc<Snapshot>>>;

struct Feed {
    snapshot: watch::Sender<Option<Arc<Snapshot>>>,
    dirty: Notify,
}

/// The feeds of every merchant with a live session or a change since the server started.
#[derive(Default)]
pub struct Queues {
    feeds: Mutex<HashMap<MerchantId, Arc<Feed>>>,
}

impl Queues {
    /// The merchant's snapshots; the first use starts the task that keeps them current.
    pub fn watch(&self, state: &AppState, merchant: &MerchantId) -> Watch {
        self.feed(state, merchant).snapshot.subscribe()
    }

    /// The merchant's queue changed: a new snapshot follows within [`COALESCE`] (plus the time
    /// to compute it).
    pub fn changed(&self, state: &AppState, merchant: &MerchantId) {
        self.feed(state, merchant).dirty.notify_one();
    }

    /// The customer's place once a snapshot lists them (right after they joined the queue).
    pub async fn status_when_listed(
        &self,
        state: &AppState,
        merchant: &MerchantId,
        conversation: &ConversationId,
    ) -> Option<QueueStatus> {
        let mut snapshots = self.watch(state, merchant);
        let listed = snapshots.wait_for(|s| s.as_ref().is_some_and(|s| s.status(conversation).is_some()));
        let found = tokio::time::timeout(LISTING_WAIT, listed).await.ok()?.ok()?;
        found.as_ref().and_then(|snapshot| snapshot.status(conversation))
    }

    fn feed(&self, state: &AppState, merchant: &MerchantId) -> Arc<Feed> {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(merchant) {
            return feed.clone();
        }
        let feed = Arc::new(Feed { snapshot: watch::channel(None).0, dirty: Notify::new() });
        feeds.insert(merchant.clone(), feed.clone());
        tokio::spawn(keep_current(state.clone(), merchant.clone(), feed.clone()));
        feed
    }
}

/// Recomputes the merchant's snapshot after each change, a round at a time, until shutdown.
async fn keep_current(state: AppState, merchant: MerchantId, feed: Arc<Feed>) {
    let mut shutdown = state.shutting_down();
    loop {
        match compute(&state, &merchant).await {
            Ok(snapshot) => {
                feed.snapshot.send_replace(Some(Arc::new(snapshot)));
            }
            Err(error) => tracing::error!(%error, %merchant, "could not compute the queue; retrying"),
        }
        tokio::time::sleep(COALESCE).await;
        // A change during the round or the pause left a permit: the next round covers it.
        tokio::select! {
            () = feed.dirty.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn compute(state: &AppState, merchant: &MerchantId) -> Result<Snapshot, StoreError> {
    let statuses = state.dispatch.read(state, merchant, |d, now| d.queue_statuses(now)).await?;
    let statuses = statuses
        .into_iter()
        .map(|(id, position, wait_ms)| {
            // Rounded up to whole seconds: an estimate never promises less than it means.
            let estimated_wait_secs = u32::try_from((wait_ms.max(0) + 999) / 1000).unwrap_or(u32::MAX);
            (id, QueueStatus { position, estimated_wait_secs })
        })
        .collect();
    let entries = state.store.queue(merchant).await?.into_iter().map(queue_entry).collect();
    let frame = serde_json::to_string(&AgentEvent::Queue { entries }).unwrap_or_default();
    Ok(Snapshot { statuses, agents_frame: frame.into() })
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
