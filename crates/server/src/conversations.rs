//! The customer side over HTTP: starting a conversation and opening its live channel.

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tandem_protocol::{ConversationId, Rating, StartConversation, TranscriptQueued, TranscriptRequest};

use axum_extra::TypedHeader;
use axum_extra::headers::Authorization;
use axum_extra::headers::authorization::Bearer;

use crate::AppState;
use crate::error::{AppError, JsonBody};
use crate::extract::{ClientIp, NewChats, find_merchant, require_page_origin, socket_slot, spend};
use crate::limits::{SOCKETS_PER_CONVERSATION, SocketKey};
use crate::live::customer;
use crate::service;
use crate::tokens::hash_token;

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

/// `POST /v1/conversations`: a customer asks for a person and joins the queue.
#[utoipa::path(
    post,
    path = "/v1/conversations",
    tag = "customer",
    request_body = tandem_protocol::StartConversation,
    responses((status = 201, description = "Queued; the customer token authenticates the rest", body = tandem_protocol::ConversationStarted))
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    JsonBody(request): JsonBody<StartConversation>,
) -> Result<Response, AppError> {
    // In the documented order: the body, the merchant, the page's origin, then the budget.
    let merchant = find_merchant(&state, request.merchant_id.as_str()).await?;
    require_page_origin(&state, &merchant, &headers)?;
    spend::<NewChats>(&state, ip)?;
    let started = service::start(&state, &merchant, request).await?;
    Ok((StatusCode::CREATED, Json(started)).into_response())
}

/// `GET /v1/conversations/{id}/live`: the customer's WebSocket (authenticated by its first frame).
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}/live",
    operation_id = "customer_live",
    tag = "customer",
    params(("id" = String, Path, description = "The conversation's id")),
    responses((status = 101, description = "The customer's WebSocket; its frames are in /v1/frames.schema.json (CustomerFrame, CustomerEvent), authenticated by the first"))
)]
pub(crate) async fn live(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("there is no such conversation".into());
    let id = ConversationId::parse(&raw_id).ok_or_else(not_found)?;
    let conversation = state.store.conversation(&id).await?.ok_or_else(not_found)?;
    let merchant = state.store.merchant(&conversation.merchant_id).await?.ok_or_else(not_found)?;
    require_page_origin(&state, &merchant, &headers)?;
    let keys = vec![(SocketKey::Conversation(id.clone()), SOCKETS_PER_CONVERSATION)];
    let slot = socket_slot(&state, ip, keys)?;
    Ok(sized(ws).on_upgrade(move |socket| async move {
        let counted = state.metrics.socket_open(crate::metrics::SocketKind::Customer);
        let (tx, rx) = socket.split();
        customer::run(state, id, ip, tx, rx).await;
        drop((slot, counted));
    }))
}

/// `POST /v1/conversations/{id}/rating`: the customer rates a conversation that ended,
/// authenticated by its token as a bearer token. The agent who handled it sees the rating.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/rating",
    tag = "customer",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body = tandem_protocol::Rating,
    responses((status = 204, description = "Stored")),
    security(("customer_token" = []))
)]
pub(crate) async fn rate(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    bearer: Option<TypedHeader<Authorization<Bearer>>>,
    JsonBody(rating): JsonBody<Rating>,
) -> Result<StatusCode, AppError> {
    let token = bearer.map(|TypedHeader(Authorization(bearer))| bearer.token().to_owned());
    let conversation = customers_own(&state, &raw_id, token.as_deref(), &headers).await?;
    service::rate(&state, &conversation, rating).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/conversations/{id}/context`: what the customer's page says of itself
/// (`Tandem.setContext`), for the agent, with the customer token as a bearer token.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/context",
    tag = "customer",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body = serde_json::Value,
    responses((status = 204, description = "Kept for the agent, card numbers masked")),
    security(("customer_token" = []))
)]
pub(crate) async fn set_context(
    State(state): State<AppState>,
    crate::extract::CustomerChat(conversation): crate::extract::CustomerChat,
    JsonBody(context): JsonBody<serde_json::Value>,
) -> Result<StatusCode, AppError> {
    service::set_page_context(&state, &conversation, context).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/conversations/{id}/transcript`: the customer has the conversation, once a person
/// answered it and it ended, emailed to them (to the address they typed, or else their
/// profile's: the one the page signed or the one they gave before the handoff); queued, so the
/// answer is 202. It spends the network's budget of new conversations.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/transcript",
    tag = "customer",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body = tandem_protocol::TranscriptRequest,
    responses((status = 202, description = "Queued, to this address", body = tandem_protocol::TranscriptQueued)),
    security(("customer_token" = []))
)]
pub(crate) async fn transcript(
    State(state): State<AppState>,
    crate::extract::CustomerChat(conversation): crate::extract::CustomerChat,
    _: crate::extract::Within<NewChats>,
    JsonBody(request): JsonBody<TranscriptRequest>,
) -> Result<Response, AppError> {
    let email = service::email_transcript(&state, &conversation, request).await?;
    Ok((StatusCode::ACCEPTED, Json(TranscriptQueued { email })).into_response())
}

/// What a page says as it goes away for good (`navigator.sendBeacon`, so the token is in the
/// body, never the URL; any content type, as a beacon's is `text/plain`).
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct Leaving {
    token: String,
}

/// `POST /v1/conversations/{id}/leave`: the customer's page is gone. A waiting chat counts as
/// abandoned once its customer has been away for the merchant's `abandon_after_secs`, unless a
/// page of theirs connects again first (the next checkout page, a reload).
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/leave",
    tag = "customer",
    params(("id" = String, Path, description = "The conversation's id")),
    request_body(content = Leaving, content_type = "text/plain", description = "JSON text: what `navigator.sendBeacon` sends, whatever its content type"),
    responses((status = 204, description = "Noted: a waiting chat is abandoned unless a page of the customer connects again"))
)]
pub(crate) async fn leave(
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    JsonBody(leaving): JsonBody<Leaving>,
) -> Result<StatusCode, AppError> {
    let conversation = customers_own(&state, &raw_id, Some(&leaving.token), &headers).await?;
    service::customer_left(&state, &conversation).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The conversation `raw_id` when `token` is its customer's and the request comes from one of
/// its merchant's pages.
async fn customers_own(
    state: &AppState,
    raw_id: &str,
    token: Option<&str>,
    headers: &HeaderMap,
) -> Result<crate::store::Conversation, AppError> {
    let unauthorized =
        || AppError::Unauthorized("the customer token does not match this conversation".into());
    let token = token.ok_or_else(unauthorized)?;
    let id = ConversationId::parse(raw_id).ok_or_else(unauthorized)?;
    let conversation = state.store.conversation(&id).await?.ok_or_else(unauthorized)?;
    if conversation.token_hash != hash_token(token) {
        return Err(unauthorized());
    }
    let merchant = state.store.merchant(&conversation.merchant_id).await?.ok_or_else(unauthorized)?;
    require_page_origin(state, &merchant, headers)?;
    Ok(conversation)
}
