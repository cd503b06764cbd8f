//! The agent side over HTTP: sign-in with a session cookie, and the console's live channel.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tandem_protocol::{AgentLogin, AgentProfile, ConversationDetail, ConversationId};

use crate::AppState;
use crate::audit::{self, Action};
use crate::conversations::sized;
use crate::error::{AppError, JsonBody};
use crate::extract::{ClientIp, FromConsole, Logins, SESSION_COOKIE, Session, SignedIn, Within, socket_slot};
use crate::limits::{SOCKETS_PER_AGENT, SocketKey};
use crate::live::{AgentNotice, agent as agent_session, now_ms};
use crate::password;
use crate::store::Agent;
use crate::tokens::{hash_token, new_token};

pub(crate) const SESSION_SECS: i64 = 12 * 60 * 60;

pub(crate) fn profile(agent: &Agent) -> AgentProfile {
    AgentProfile {
        id: agent.id,
        role: agent.staffing.role,
        merchant_id: agent.merchant_id.clone(),
        email: agent.email.clone(),
        display_name: agent.display_name.clone(),
    }
}

pub(crate) fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /v1/agent/login`.
#[utoipa::path(
    post,
    path = "/v1/agent/login",
    tag = "agents",
    request_body = tandem_protocol::AgentLogin,
    responses((status = 200, description = "Signed in: the session cookie is set", body = tandem_protocol::AgentProfile))
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    _: FromConsole,
    _: Within<Logins>,
    ClientIp(ip): ClientIp,
    JsonBody(login): JsonBody<AgentLogin>,
) -> Result<Response, AppError> {
    if !state.limits.allow_login_to(&login.email, ip) {
        return Err(AppError::RateLimited);
    }
    let agent = state.store.agent_by_email(login.email.trim()).await?;
    // Verify against a dummy hash for unknown emails too, so timing does not reveal who exists.
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = match &agent {
        Some(agent) => agent.password_hash.clone(),
        None => DUMMY.get_or_init(|| password::hash("not a password").unwrap_or_default()).clone(),
    };
    let password = login.password;
    let verified = password::verify_in_turn(password, phc).await;
    let Some(agent) = agent.filter(|_| verified) else {
        return Err(AppError::Unauthorized("wrong email or password".into()));
    };
    if !agent.active {
        return Err(AppError::Forbidden("this account was deactivated; ask your admin".into()));
    }
    audit::record(&state, &agent, Action::SignedIn, "").await?;
    start_session(&state, &agent, StatusCode::OK).await
}

/// Signs the agent in: a new session, its cookie, and their profile as the body.
pub(crate) async fn start_session(
    state: &AppState,
    agent: &Agent,
    status: StatusCode,
) -> Result<Response, AppError> {
    let token = new_token();
    state.store.create_session(&hash_token(&token), agent.id, now_ms() + SESSION_SECS * 1000).await?;
    let mut response = (status, Json(profile(agent))).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie(state, &token, SESSION_SECS));
    Ok(response)
}

/// `POST /v1/agent/logout`.
#[utoipa::path(
    post,
    path = "/v1/agent/logout",
    tag = "agents",
    responses((status = 204, description = "Signed out: the session is ended and its cookie cleared")),
    security(("agent_session" = []))
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    _: FromConsole,
    jar: axum_extra::extract::CookieJar,
) -> Result<Response, AppError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        let session = hash_token(cookie.value());
        let agent = state.store.session_agent(&session, now_ms()).await?;
        state.store.delete_session(&session).await?;
        // Consoles opened with this session close now.
        if let Some(agent) = agent {
            state.hub.notify_agent(agent.id, AgentNotice::SignedOut { session });
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie(&state, "", 0));
    Ok(response)
}

/// `GET /v1/agent/me`.
#[utoipa::path(
    get,
    path = "/v1/agent/me",
    tag = "agents",
    responses((status = 200, description = "The signed-in agent", body = tandem_protocol::AgentProfile)),
    security(("agent_session" = []))
)]
pub(crate) async fn me(SignedIn(agent): SignedIn) -> Json<AgentProfile> {
    Json(profile(&agent))
}

/// `GET /v1/agent/conversations/{id}`: a conversation of the agent's merchant.
#[utoipa::path(
    get,
    path = "/v1/agent/conversations/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "The conversation's id")),
    responses((status = 200, description = "A conversation of the agent's merchant, with its messages and notes", body = tandem_protocol::ConversationDetail)),
    security(("agent_session" = []))
)]
pub(crate) async fn conversation(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path(raw_id): Path<String>,
) -> Result<Json<ConversationDetail>, AppError> {
    let not_found = || AppError::NotFound("there is no such conversation".into());
    let id = ConversationId::parse(&raw_id).ok_or_else(not_found)?;
    let conversation = state.store.conversation(&id).await?.ok_or_else(not_found)?;
    if conversation.merchant_id != agent.merchant_id {
        return Err(AppError::Forbidden("this conversation belongs to another merchant".into()));
    }
    audit::record(&state, &agent, Action::ConversationRead, id.0).await?;
    Ok(Json(agent_session::detail(&state, conversation).await?))
}

/// `GET /v1/agent/messages`: messages customers left for the agent's merchant when nobody was
/// online, newest first.
#[utoipa::path(
    get,
    path = "/v1/agent/messages",
    tag = "agents",
    responses((status = 200, description = "The merchant's left messages, newest first", body = Vec<tandem_protocol::LeftMessage>)),
    security(("agent_session" = []))
)]
pub(crate) async fn left_messages(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
) -> Result<Json<Vec<tandem_protocol::LeftMessage>>, AppError> {
    audit::record(&state, &agent, Action::LeftMessagesRead, "").await?;
    Ok(Json(state.store.left_messages(&agent.merchant_id).await?))
}

/// The most an agent's socket may have waiting to be written.
const AGENT_WRITE_BUFFER: usize = 16 * 1024 * 1024;

/// `GET /v1/agent/live`: the console's WebSocket.
#[utoipa::path(
    get,
    path = "/v1/agent/live",
    operation_id = "agent_live",
    tag = "agents",
    responses((status = 101, description = "The agent's WebSocket; its frames are in /v1/frames.schema.json (AgentFrame, AgentEvent)")),
    security(("agent_session" = []))
)]
pub(crate) async fn live(
    State(state): State<AppState>,
    _: FromConsole,
    session: Session,
    ClientIp(ip): ClientIp,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    // The queue frame lists every waiting customer (about 200 bytes each): room for 50,000.
    // Consoles are few, so the larger buffer costs little.
    let slot = socket_slot(&state, ip, vec![(SocketKey::Agent(session.agent.id), SOCKETS_PER_AGENT)])?;
    Ok(sized(ws).max_write_buffer_size(AGENT_WRITE_BUFFER).on_upgrade(move |socket| async move {
        let counted = state.metrics.socket_open(crate::metrics::SocketKind::Agent);
        let (tx, rx) = socket.split();
        agent_session::run(state, session.agent, session.token_hash, ip, tx, rx).await;
        drop((slot, counted));
    }))
}
