//! What a customer starts and finishes over HTTP: joining the queue, and rating the chat.

use tandem_protocol::{
    ConversationId, ConversationStarted, ConversationStatus, CustomerProfile, MAX_TRANSCRIPT_ENTRIES,
    MerchantId, QueueStatus, Rating, StartConversation, TranscriptEntry, TranscriptRequest,
    mask_card_numbers_in_place, mask_card_numbers_in_transcript, validate_email, validate_tag, validate_text,
};

use crate::AppState;
use crate::dispatch::{Answer, Change};
use crate::error::AppError;
use crate::limits::SocketKey;
use crate::live::{LiveEvent, now_ms};
use crate::store::{ChatRef, Conversation, Merchant, NewConversation, StoreError};
use crate::tokens::{hash_token, new_id, new_token};

/// A customer asks for a person: the conversation is stored, then queued in dispatch; the
/// answer carries the customer's token and place in the queue.
pub async fn start(
    state: &AppState,
    merchant: &Merchant,
    mut request: StartConversation,
) -> Result<ConversationStarted, AppError> {
    check_start(&mut request)?;
    let customer = customer_profile(merchant, &request)?;
    let waiting = state.dispatch.read(state, &merchant.id, |d, _| d.waiting()).await?;
    if waiting >= merchant.policies.max_waiting as usize {
        return Err(AppError::TooBusy);
    }
    let id = ConversationId(new_id());
    let token = new_token();
    let need = tandem_dispatch::Need::for_locale(&request.locale, request.skill.clone());
    state
        .store
        .create_conversation(&NewConversation {
            id: id.clone(),
            merchant_id: merchant.id.clone(),
            token_hash: hash_token(&token),
            locale: request.locale,
            page_url: request.page_url,
            reason: request.reason,
            escalation: request.escalation,
            transcript: request.transcript,
            customer,
            skill: request.skill,
            now_ms: now_ms(),
        })
        .await?;
    let queued = state.dispatch.change(state, &merchant.id, Change::Enqueue(id.clone(), need)).await?;
    let place = match queued {
        Answer::Queued(place) => place,
        _ => None,
    };
    let queue = place.map_or(QueueStatus { position: 1, estimated_wait_secs: 0 }, |(position, wait)| {
        crate::queue::status(position, wait)
    });
    let event = crate::webhooks::Event::ConversationStarted;
    if crate::webhooks::wanted(state, &merchant.id, event).await
        && let Some(stored) = state.store.conversation(&id).await?
    {
        let started = serde_json::json!({
            "conversation_id": id, "locale": stored.locale, "page_url": stored.page_url,
            "reason": stored.reason, "escalation": stored.escalation, "skill": stored.skill,
            "customer": stored.customer, "transcript": stored.transcript,
        });
        crate::webhooks::send_later(state, &merchant.id, event, started).await;
    }
    Ok(ConversationStarted { conversation_id: id, customer_token: token, queue })
}

/// A customer's page of this conversation connected: they are here, whatever else they left.
pub async fn customer_arrived(state: &AppState, presence: &Presence) -> Result<(), StoreError> {
    state.store.customer_away(presence.chat(), None).await
}

/// The customer's page said it is going away for good: from now on they count as away (the
/// sweep still spares a chat with a page of theirs connected).
pub async fn customer_left(state: &AppState, conversation: &Conversation) -> Result<(), StoreError> {
    let chat = ChatRef { merchant: &conversation.merchant_id, id: &conversation.id };
    state.store.customer_away(chat, Some(now_ms())).await
}

/// One customer page connected to its conversation, counted while it lasts, so that a chat is
/// abandoned only when none is left.
pub struct Presence {
    merchant: MerchantId,
    id: ConversationId,
    _slot: Option<crate::limits::Slot>,
}

impl Presence {
    pub fn open(state: &AppState, merchant: MerchantId, id: ConversationId) -> Self {
        let slot = state.sockets.open(&[(SocketKey::Present(id.clone()), usize::MAX)]);
        Self { merchant, id, _slot: slot }
    }

    fn chat(&self) -> ChatRef<'_> {
        ChatRef { merchant: &self.merchant, id: &self.id }
    }

    /// The page's connection closed: when it was the customer's last, they are away from now.
    pub async fn close(mut self, state: &AppState) {
        drop(self._slot.take());
        if state.sockets.count(&SocketKey::Present(self.id.clone())) > 0 {
            return;
        }
        if let Err(error) = state.store.customer_away(self.chat(), Some(now_ms())).await {
            tracing::warn!(%error, "could not note that a customer left; their chat is abandoned after a restart instead");
        }
    }
}

/// Ends every waiting chat whose customer has been away longer than their merchant allows, but
/// one with a page of theirs connected here (its away time was a page's beacon): those are
/// here again.
pub async fn abandon_the_gone(state: &AppState) -> Result<usize, StoreError> {
    let mut ended = 0;
    for (merchant, id) in state.store.abandoned(now_ms()).await? {
        let chat = ChatRef { merchant: &merchant, id: &id };
        if state.sockets.count(&SocketKey::Present(id.clone())) > 0 {
            state.store.customer_away(chat, None).await?;
        } else if super::end(state, &merchant, &id, super::Ending::Ended).await? {
            ended += 1;
            let abandoned = serde_json::json!({ "conversation_id": id });
            crate::webhooks::emit(state, &merchant, crate::webhooks::Event::ConversationAbandoned, abandoned)
                .await;
        }
    }
    Ok(ended)
}

/// The customer rates a conversation that ended (once); the agent who handled it sees it live.
pub async fn rate(state: &AppState, conversation: &Conversation, mut rating: Rating) -> Result<(), AppError> {
    rating.validate().map_err(|problem| AppError::InvalidRequest(problem.into()))?;
    // A comment is customer text like any other: no card number is stored.
    if let Some(comment) = &mut rating.comment {
        mask_card_numbers_in_place(comment);
    }
    if !state
        .store
        .rate(ChatRef { merchant: &conversation.merchant_id, id: &conversation.id }, &rating)
        .await?
    {
        return Err(AppError::Conflict("a conversation can be rated once it has ended".into()));
    }
    let rated = serde_json::json!({ "conversation_id": conversation.id, "rating": rating });
    state.hub.publish(&conversation.id, LiveEvent::Rated(rating));
    crate::webhooks::emit(state, &conversation.merchant_id, crate::webhooks::Event::ConversationRated, rated)
        .await;
    Ok(())
}

/// Queues the transcript of `conversation`, which has ended, to the address of `request` or
/// else the customer's own; the address.
pub async fn email_transcript(
    state: &AppState,
    conversation: &Conversation,
    request: TranscriptRequest,
) -> Result<String, AppError> {
    if state.mailer.is_none() {
        let problem =
            "this server sends no email, so no transcripts (widget-config says \"transcripts\": false)";
        return Err(AppError::NotFound(problem.into()));
    }
    // Answered by a person: so that nobody can have the server mail strangers a text of their
    // own, a bot's part included, by starting and ending chats by script.
    if conversation.status != ConversationStatus::Ended || conversation.answered_at_ms.is_none() {
        let problem = "a transcript is sent once a conversation a person answered has ended";
        return Err(AppError::Conflict(problem.into()));
    }
    let to = request.email.or_else(|| conversation.customer.email.clone()).ok_or_else(|| {
        AppError::InvalidRequest("email: name the address to send the transcript to".into())
    })?;
    crate::mail::check_address(&to)
        .map_err(|problem| AppError::InvalidRequest(format!("email: {problem}")))?;
    let merchant = state.store.merchant(&conversation.merchant_id).await?.ok_or(AppError::Internal)?;
    let messages = state.store.messages_after(&conversation.id, 0).await?;
    let letter = crate::mail::transcript_letter(&merchant, conversation, &messages);
    let mail = crate::store::NewMail {
        id: new_id(),
        merchant_id: merchant.id.clone(),
        conversation_id: Some(conversation.id.clone()),
        left_message_id: None,
        kind: "transcript",
        to: to.clone(),
        reply_to: merchant.support_email.clone(),
        subject: letter.subject,
        text: letter.text,
        html: letter.html,
        now_ms: now_ms(),
    };
    if !crate::mail::queue(state, mail, crate::mail::MOST_TRANSCRIPTS).await? {
        return Err(AppError::TooManyTranscripts);
    }
    Ok(to)
}

/// What the page says of itself (`Tandem.setContext`), kept with the conversation for its
/// agent: an object, with card numbers masked in it (in texts, and numbers as long as one),
/// of at most 8 KB as compact JSON; a new one replaces the old.
pub async fn set_page_context(
    state: &AppState,
    conversation: &Conversation,
    mut context: serde_json::Value,
) -> Result<(), AppError> {
    if !context.is_object() {
        let problem = "the context is a JSON object, such as {\"cart\": [{\"sku\": \"A1\", \"qty\": 2}], \"order_id\": \"1042\"}";
        return Err(AppError::InvalidRequest(problem.into()));
    }
    mask_card_numbers_in_json(&mut context);
    let text = context.to_string();
    if text.len() > tandem_protocol::MAX_PAGE_CONTEXT_BYTES {
        return Err(AppError::InvalidRequest("the context has at most 8 KB (8,192 bytes) as JSON".into()));
    }
    let chat = ChatRef { merchant: &conversation.merchant_id, id: &conversation.id };
    if !state.store.set_page_context(chat, &text).await? {
        return Err(AppError::Conflict("this conversation has ended".into()));
    }
    Ok(())
}

fn mask_card_numbers_in_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            mask_card_numbers_in_place(text);
        }
        Value::Array(items) => items.iter_mut().for_each(mask_card_numbers_in_json),
        Value::Object(fields) => fields.values_mut().for_each(mask_card_numbers_in_json),
        Value::Number(number) => {
            if let Some(masked) = tandem_protocol::mask_card_numbers(&number.to_string()) {
                *value = Value::String(masked);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Checks a request and masks card numbers in its transcript, so that it can be stored.
fn check_start(request: &mut StartConversation) -> Result<(), AppError> {
    check_locale_and_url(&request.locale, &request.page_url)?;
    check_transcript(&mut request.transcript)?;
    if let Some(email) = &request.email {
        validate_email(email).map_err(|problem| AppError::InvalidRequest(format!("email: {problem}")))?;
    }
    if let Some(skill) = &request.skill {
        validate_tag(skill).map_err(|problem| AppError::InvalidRequest(format!("skill: {problem}")))?;
    }
    if let Some(identity) = &request.identity {
        identity.validate().map_err(|problem| AppError::InvalidRequest(problem.into()))?;
    }
    Ok(())
}

pub fn check_locale_and_url(locale: &str, page_url: &str) -> Result<(), AppError> {
    let locale_ok =
        (1..=35).contains(&locale.len()) && locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !locale_ok {
        return Err(AppError::InvalidRequest("locale must be a language tag such as en or sv-SE".into()));
    }
    tandem_protocol::validate_page_url(page_url)
        .map_err(|problem| AppError::InvalidRequest(problem.into()))?;
    Ok(())
}

/// Checks a transcript a customer hands over, then masks card numbers in it: every transcript
/// the server stores (with a handoff or a left message) passes here. The widget masks them
/// already; this is for clients that do not.
pub fn check_transcript(transcript: &mut [TranscriptEntry]) -> Result<(), AppError> {
    if transcript.len() > MAX_TRANSCRIPT_ENTRIES {
        let message = format!("a transcript has at most {MAX_TRANSCRIPT_ENTRIES} entries");
        return Err(AppError::InvalidRequest(message));
    }
    for (index, entry) in transcript.iter().enumerate() {
        validate_text(&entry.text)
            .map_err(|problem| AppError::InvalidRequest(format!("transcript entry {index}: {problem}")))?;
    }
    mask_card_numbers_in_transcript(transcript);
    Ok(())
}

/// Who the customer is: a signed identity (checked against the merchant's secret), else the
/// email they typed, else nobody in particular.
fn customer_profile(merchant: &Merchant, request: &StartConversation) -> Result<CustomerProfile, AppError> {
    let Some(identity) = &request.identity else {
        return Ok(CustomerProfile { email: request.email.clone(), ..CustomerProfile::default() });
    };
    let verified =
        merchant.identity_secret.as_deref().is_some_and(|secret| crate::identity::verify(secret, identity));
    if !verified {
        return Err(AppError::IdentityUnverified);
    }
    let max_age = merchant.policies.identity_max_age_secs;
    if !identity.issued_at.is_some_and(|at| crate::identity::is_fresh(at, now_ms() / 1000, max_age)) {
        return Err(AppError::IdentityExpired(format!(
            "the identity was signed more than {max_age} s ago (or over {} s ahead of this server's clock); sign it when rendering the page",
            crate::identity::MAX_FUTURE_SECS
        )));
    }
    Ok(CustomerProfile {
        id: Some(identity.id.clone()),
        email_verified: identity.email.is_some(),
        email: identity.email.clone().or_else(|| request.email.clone()),
        name: identity.name.clone(),
        verified: true,
    })
}
