//! The customer side over HTTP: starting a conversation and opening its live channel.

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tandem_protocol::{
    ConversationId, ConversationStarted, CustomerProfile, MAX_TRANSCRIPT_ENTRIES, QueueStatus, Rating,
    StartConversation, TranscriptEntry, mask_card_numbers_in_place, mask_card_numbers_in_transcript,
    validate_email, validate_tag, validate_text,
};

use axum_extra::TypedHeader;
use axum_extra::headers::Authorization;
use axum_extra::headers::authorization::Bearer;

use crate::AppState;
use crate::error::{AppError, JsonBody};
use crate::extract::{ClientIp, check_page_origin, find_merchant};
use crate::live::{customer, now_ms};
use crate::store::{Merchant, NewConversation};
use crate::tokens::{hash_token, new_id, new_token};

/// Small buffers: most sockets sit idle for minutes, and axum's defaults cost ~136 KB each.
pub(crate) fn sized(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        // Above the protocol's frame limit, so that an oversized frame gets a typed error
        // (see `live::wire`) rather than a dropped connection.
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
}

/// Checks a request and masks card numbers in its transcript, so that it can be stored.
fn accept(request: &mut StartConversation) -> Result<(), AppError> {
    validate_locale_and_url(&request.locale, &request.page_url)?;
    accept_transcript(&mut request.transcript)?;
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

pub(crate) fn validate_locale_and_url(locale: &str, page_url: &str) -> Result<(), AppError> {
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
pub(crate) fn accept_transcript(transcript: &mut [TranscriptEntry]) -> Result<(), AppError> {
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
    Ok(CustomerProfile {
        id: Some(identity.id.clone()),
        email: identity.email.clone().or_else(|| request.email.clone()),
        name: identity.name.clone(),
        verified: true,
    })
}

/// `POST /v1/conversations`: a customer asks for a person and joins the queue.
pub(crate) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    JsonBody(mut request): JsonBody<StartConversation>,
) -> Result<Response, AppError> {
    let merchant = find_merchant(&state, request.merchant_id.as_str()).await?;
    check_page_origin(&state, &merchant, &headers)?;
    if !state.limits.allow_new_conversation(ip) {
        return Err(AppError::RateLimited);
    }
    accept(&mut request)?;
    let customer = customer_profile(&merchant, &request)?;

    let id = ConversationId(new_id());
    let token = new_token();
    let locale = request.locale.clone();
    state
        .store
        .create_conversation(&NewConversation {
            id: id.clone(),
            merchant_id: merchant.id.clone(),
            token_hash: hash_token(&token),
            locale: locale.clone(),
            page_url: request.page_url,
            reason: request.reason,
            escalation: request.escalation,
            transcript: request.transcript,
            customer,
            skill: request.skill.clone(),
            now_ms: now_ms(),
        })
        .await?;
    let need = tandem_dispatch::Need::for_locale(&locale, request.skill);
    let queued = id.clone();
    state.dispatch.change(&state, &merchant.id, |d, now| ((), d.enqueue(queued, need, now))).await?;
    // One pass over the merchant's queue in memory, for this customer alone.
    let place = state.dispatch.read(&state, &merchant.id, |d, now| d.status_of(&id, now)).await?;
    let queue = place.map_or(QueueStatus { position: 1, estimated_wait_secs: 0 }, |(position, wait)| {
        crate::queue::status(position, wait)
    });
    let started = ConversationStarted { conversation_id: id, customer_token: token, queue };
    Ok((StatusCode::CREATED, Json(started)).into_response())
}

/// `GET /v1/conversations/{id}/live`: the customer's WebSocket (authenticated by its first frame).
pub(crate) async fn live(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("there is no such conversation".into());
    if raw_id.len() > 64 {
        return Err(not_found());
    }
    let id = ConversationId(raw_id);
    let conversation = state.store.conversation(&id).await?.ok_or_else(not_found)?;
    let merchant = state.store.merchant(&conversation.merchant_id).await?.ok_or_else(not_found)?;
    check_page_origin(&state, &merchant, &headers)?;
    Ok(sized(ws).on_upgrade(move |socket| {
        let (tx, rx) = socket.split();
        customer::run(state, id, ip, tx, rx)
    }))
}

/// `POST /v1/conversations/{id}/rating`: the customer rates a conversation that ended,
/// authenticated by its token as a bearer token. The agent who handled it sees the rating.
pub(crate) async fn rate(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    bearer: Option<TypedHeader<Authorization<Bearer>>>,
    JsonBody(mut rating): JsonBody<Rating>,
) -> Result<StatusCode, AppError> {
    let unauthorized =
        || AppError::Unauthorized("the customer token does not match this conversation".into());
    let TypedHeader(Authorization(bearer)) = bearer.ok_or_else(unauthorized)?;
    let token = bearer.token();
    let id = ConversationId(raw_id.chars().take(64).collect());
    let conversation = state.store.conversation(&id).await?.ok_or_else(unauthorized)?;
    if conversation.token_hash != hash_token(token) {
        return Err(unauthorized());
    }
    let merchant = state.store.merchant(&conversation.merchant_id).await?.ok_or_else(unauthorized)?;
    check_page_origin(&state, &merchant, &headers)?;
    rating.validate().map_err(|problem| AppError::InvalidRequest(problem.into()))?;
    // A comment is customer text like any other: no card number is stored.
    if let Some(comment) = &mut rating.comment {
        mask_card_numbers_in_place(comment);
    }
    if !state.store.rate(&id, &rating).await? {
        return Err(AppError::Conflict("a conversation can be rated once it has ended".into()));
    }
    state.hub.publish(&id, crate::live::LiveEvent::Rated(rating));
    Ok(StatusCode::NO_CONTENT)
}
