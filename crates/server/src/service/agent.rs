//! What an agent does with conversations from the console: joining dispatch, presence,
//! answering offers, passing chats on and handing them back.

use tandem_dispatch::Refusal;
use tandem_protocol::{ConversationId, ConversationStatus, ErrorCode, OfferEnd, Presence};

use super::{Ending, Outcome, end, follow_in_dispatch, refused};
use crate::AppState;
use crate::dispatch::{Answer, Change};
use crate::live::{AgentNotice, LiveEvent, now_ms};
use crate::store::{Agent, ChatRef, Conversation};

/// An offer open to the agent: the conversation, and when it runs out.
pub type OpenOffer = (ConversationId, i64);

/// Joins dispatch with a new console; returns the agent's presence and any offer open to them.
/// An agent deactivated since signing in leaves again at once.
pub async fn connect(state: &AppState, agent: &Agent) -> Outcome<(Presence, Option<OpenOffer>)> {
    let joined = state.dispatch.change(state, &agent.merchant_id, Change::Connect(agent.dispatch_profile()));
    let joined = match joined.await {
        Ok(Answer::Joined { presence, offer }) => (presence, offer),
        Ok(_) => (Presence::Online, None),
        // Not joined (no instance dispatched in time): this console is not counted anywhere.
        Err(error) => {
            disconnect(state, agent).await;
            return Err(error.into());
        }
    };
    // Deactivated between signing in and joining, and so before the notice could reach this
    // console.
    if !matches!(state.store.agent(agent.id).await, Ok(Some(current)) if current.active) {
        disconnect(state, agent).await;
        return refused(ErrorCode::Unauthorized, "this account is not active; sign in again");
    }
    Ok(joined)
}

/// A console closed; the agent's grace period for their chats starts when it was the last.
pub async fn disconnect(state: &AppState, agent: &Agent) {
    let left = state.dispatch.change(state, &agent.merchant_id, Change::Disconnect(agent.id));
    if let Err(error) = left.await {
        tracing::error!(%error, "agent could not leave dispatch");
    }
}

pub async fn set_presence(state: &AppState, agent: &Agent, presence: Presence) -> Outcome<()> {
    state.dispatch.change(state, &agent.merchant_id, Change::SetPresence(agent.id, presence)).await?;
    Ok(())
}

pub async fn decline(state: &AppState, agent: &Agent, conversation: &ConversationId) -> Outcome<()> {
    let declined = Change::Decline(agent.id, conversation.clone());
    state.dispatch.change(state, &agent.merchant_id, declined).await?;
    state.metrics.offer(crate::metrics::OfferOutcome::Declined);
    Ok(())
}

/// Whether dispatch has the agent handling `conversation` now (another console of theirs may
/// have passed it on).
pub async fn handles(state: &AppState, agent: &Agent, conversation: &ConversationId) -> Outcome<bool> {
    let id = agent.id;
    Ok(state.dispatch.read(state, &agent.merchant_id, |d, _| d.has_chat(id, conversation)).await?)
}

/// Takes a waiting customer. Dispatch decides first (one winner, capacity respected); the
/// database's compare-and-set then records it. Returns the conversation as it now stands.
pub async fn accept(state: &AppState, agent: &Agent, id: &ConversationId) -> Outcome<Conversation> {
    let conversation = match state.store.conversation(id).await? {
        Some(conversation) if conversation.merchant_id == agent.merchant_id => conversation,
        _ => return refused(ErrorCode::NotAllowed, "no such conversation in your queue"),
    };
    let me = agent.id;
    match state.dispatch.change(state, &agent.merchant_id, Change::Accept(me, id.clone())).await? {
        Answer::Accepted(Ok(())) => {}
        Answer::Accepted(Err(Refusal::AtCapacity)) => {
            let message = "you already have as many chats as you can take; end one first";
            return refused(ErrorCode::AtCapacity, message);
        }
        _ => return refused(ErrorCode::AlreadyTaken, taken(Some(conversation.status))),
    }
    record_accept(state, agent, id).await?;
    if let Err(error) =
        crate::audit::record(state, agent, crate::audit::Action::ConversationRead, &id.0).await
    {
        tracing::error!(%error, conversation = %id, "accepted, but the audit log could not record it");
    }
    // The agent's other consoles may still show it as an offer.
    let withdrawn = AgentNotice::OfferEnded { conversation: id.clone(), reason: OfferEnd::Withdrawn };
    state.hub.notify_agent(agent.id, withdrawn);
    state.hub.publish(id, LiveEvent::AgentJoined { name: agent.display_name.clone() });
    state.queues.changed(state, &agent.merchant_id);
    let joined = serde_json::json!({ "conversation_id": id, "agent_name": agent.display_name });
    crate::webhooks::emit(state, &agent.merchant_id, crate::webhooks::Event::AgentJoined, joined).await;
    Ok(Conversation { status: ConversationStatus::Active, agent_id: Some(agent.id), ..conversation })
}

fn taken(status: Option<ConversationStatus>) -> &'static str {
    match status {
        Some(ConversationStatus::Ended) => "the customer has left",
        _ => "another agent took this conversation first",
    }
}

/// Records an accept dispatch granted. Where the database disagrees (the customer left a moment
/// ago, or a return to the queue was not recorded), dispatch follows the database; where the
/// write fails, the customer goes back to the front of the queue, not lost.
async fn record_accept(state: &AppState, agent: &Agent, id: &ConversationId) -> Outcome<()> {
    let (me, merchant) = (agent.id, &agent.merchant_id);
    match state.store.accept(ChatRef { merchant, id }, me, now_ms()).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            let status = state.store.conversation(id).await.ok().flatten().map(|c| c.status);
            let change = if status == Some(ConversationStatus::Ended) {
                Change::End(id.clone())
            } else {
                tracing::error!(conversation = %id, "accepted in dispatch but not waiting in the database");
                Change::GiveBack { agent: me, conversation: id.clone(), to: None }
            };
            follow_in_dispatch(state, merchant, id, change).await;
            refused(ErrorCode::AlreadyTaken, taken(status))
        }
        Err(error) => {
            let change = Change::GiveBack { agent: me, conversation: id.clone(), to: None };
            follow_in_dispatch(state, merchant, id, change).await;
            Err(error.into())
        }
    }
}

/// Puts the agent's chat back at the front of the queue.
pub async fn requeue(state: &AppState, agent: &Agent, id: &ConversationId) -> Outcome<()> {
    give_back(state, agent, id, None).await
}

/// Hands the agent's chat to a colleague, who is offered it first.
pub async fn transfer(state: &AppState, agent: &Agent, id: &ConversationId, to: i64) -> Outcome<()> {
    let me = agent.id;
    let free = state.dispatch.read(state, &agent.merchant_id, |d, _| d.can_take_transfer(me, to)).await?;
    if !free {
        return refused(ErrorCode::Unavailable, "that colleague is not online with room for another chat");
    }
    give_back(state, agent, id, Some(to)).await
}

/// The database changes before dispatch offers the chat again, so whoever accepts finds it
/// waiting.
async fn give_back(state: &AppState, agent: &Agent, id: &ConversationId, to: Option<i64>) -> Outcome<()> {
    let me = agent.id;
    state.store.requeue(ChatRef { merchant: &agent.merchant_id, id }, me, now_ms()).await?;
    // Should the colleague have become busy a moment ago, the customer waits at the front.
    let change = Change::GiveBack { agent: me, conversation: id.clone(), to };
    follow_in_dispatch(state, &agent.merchant_id, id, change).await;
    let_go(state, agent, id);
    state.hub.publish(id, LiveEvent::AgentLeft { name: agent.display_name.clone() });
    Ok(())
}

/// The customer goes back to the bot: the conversation with a person ends, unrated.
pub async fn hand_to_bot(state: &AppState, agent: &Agent, id: &ConversationId) -> Outcome<()> {
    end(state, &agent.merchant_id, id, Ending::BackToBot).await?;
    let_go(state, agent, id);
    Ok(())
}

/// The agent's other consoles drop the chat too.
fn let_go(state: &AppState, agent: &Agent, id: &ConversationId) {
    state.hub.notify_agent(agent.id, AgentNotice::ChatReturned { conversation: id.clone() });
}
