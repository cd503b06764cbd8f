//! The merchant's team over HTTP: invites, deactivation, who is on, the supervisor's figures and
//! the CSV export. Admin-only routes say so with 403.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tandem_dispatch::Snapshot;
use tandem_protocol::{
    AcceptInvite, ConversationId, ConversationStatus, CreateInvite, DayFigures, Invite, InviteDetails,
    InviteToken, Note, Presence, SupervisorReport, TeamMember, validate_email, validate_tag,
};

use crate::AppState;
use crate::agents::start_session;
use crate::audit::{self, Action};
use crate::dispatch::Change;
use crate::error::{AppError, JsonBody};
use crate::extract::{Admin, FromConsole, Logins, SignedIn, Within};
use crate::live::{AgentNotice, now_ms};
use crate::password;
use crate::store::{Agent, Conversation, NewAgent, NewInvite, Redeemed, Staffing};
use crate::tokens::{hash_token, new_token};

/// How long an invite link works.
const INVITE_DAYS: i64 = 7;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `POST /v1/agent/invites` (admin): a single-use link that expires in a week.
#[utoipa::path(
    post,
    path = "/v1/agent/invites",
    tag = "team",
    request_body = tandem_protocol::CreateInvite,
    responses((status = 201, description = "A single-use invite link", body = tandem_protocol::Invite)),
    security(("agent_session" = []))
)]
pub(crate) async fn create_invite(
    State(state): State<AppState>,
    _: FromConsole,
    Admin(admin): Admin,
    JsonBody(request): JsonBody<CreateInvite>,
) -> Result<Response, AppError> {
    let token = new_token();
    let expires_at_ms = now_ms() + INVITE_DAYS * DAY_MS;
    let token_hash = hash_token(&token);
    let invite = NewInvite {
        token_hash: &token_hash,
        merchant: &admin.merchant_id,
        role: request.role,
        created_by: Some(admin.id),
        expires_at_ms,
    };
    state.store.create_invite(&invite).await?;
    let role = if request.role == tandem_protocol::AgentRole::Admin { "admin" } else { "agent" };
    audit::record(&state, &admin, Action::Invited, role).await?;
    // The token rides in the fragment: browsers never send it to a server or in a Referer.
    let link = format!("{}/console/#invite={token}", state.console_origin());
    Ok((StatusCode::CREATED, Json(Invite { link, token, expires_at_ms })).into_response())
}

fn check_invite_token(token: &str) -> Result<(), AppError> {
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::InvalidRequest("token: paste the whole invite link".into()));
    }
    Ok(())
}

fn invalid_invite() -> AppError {
    AppError::NotFound("this invite link was used already or has expired; ask for a new one".into())
}

/// `POST /v1/invites/lookup`: what an invite is for, before the person fills in the form.
#[utoipa::path(
    post,
    path = "/v1/invites/lookup",
    tag = "team",
    request_body = tandem_protocol::InviteToken,
    responses((status = 200, description = "What the invite is for", body = tandem_protocol::InviteDetails))
)]
pub(crate) async fn lookup_invite(
    State(state): State<AppState>,
    _: Within<Logins>,
    JsonBody(request): JsonBody<InviteToken>,
) -> Result<Json<InviteDetails>, AppError> {
    check_invite_token(&request.token)?;
    let (merchant_id, role) =
        state.store.invite(&hash_token(&request.token), now_ms()).await?.ok_or_else(invalid_invite)?;
    let merchant = state.store.merchant(&merchant_id).await?.ok_or_else(invalid_invite)?;
    Ok(Json(InviteDetails { merchant_name: merchant.display_name, role }))
}

/// `POST /v1/invites/accept`: the invited person creates their account and is signed in.
#[utoipa::path(
    post,
    path = "/v1/invites/accept",
    tag = "team",
    request_body = tandem_protocol::AcceptInvite,
    responses((status = 201, description = "The new agent, signed in: the session cookie is set", body = tandem_protocol::AgentProfile))
)]
pub(crate) async fn accept_invite(
    State(state): State<AppState>,
    _: FromConsole,
    _: Within<Logins>,
    JsonBody(request): JsonBody<AcceptInvite>,
) -> Result<Response, AppError> {
    check_invite_token(&request.token)?;
    let (display_name, email, languages) = check_new_agent(&request)?;
    let token_hash = hash_token(&request.token);
    let (merchant_id, role) = state.store.invite(&token_hash, now_ms()).await?.ok_or_else(invalid_invite)?;
    let secret = request.password;
    let password_hash = password::hash_in_turn(secret).await.ok_or(AppError::Internal)?;
    let staffing = Staffing { languages, role, ..Staffing::default() };
    let agent = NewAgent { merchant_id, email, display_name, password_hash, staffing };
    let id = match state.store.redeem_invite(&token_hash, &agent, now_ms()).await? {
        Redeemed::Agent(id) => id,
        Redeemed::InvalidInvite => return Err(invalid_invite()),
        Redeemed::EmailTaken => {
            let message = "email: an account with this email exists; sign in instead";
            return Err(AppError::Conflict(message.into()));
        }
    };
    let agent = state.store.agent(id).await?.ok_or(AppError::Internal)?;
    audit::record(&state, &agent, Action::Joined, "").await?;
    start_session(&state, &agent, StatusCode::CREATED).await
}

/// The new agent's form, checked: their name as customers see it, their email (lower case)
/// and their languages (lower case, each once).
fn check_new_agent(request: &AcceptInvite) -> Result<(String, String, Vec<String>), AppError> {
    let invalid = |message: String| AppError::InvalidRequest(message);
    let display_name = request.display_name.trim().to_owned();
    if display_name.is_empty() || display_name.chars().count() > 60 {
        return Err(invalid("display_name: 1 to 60 characters, shown to customers".into()));
    }
    let email = request.email.trim().to_ascii_lowercase();
    validate_email(&email).map_err(|problem| invalid(format!("email: {problem}")))?;
    if request.languages.is_empty() || request.languages.len() > 20 {
        return Err(invalid("languages: choose at least one".into()));
    }
    let mut languages = Vec::new();
    for language in &request.languages {
        validate_tag(language).map_err(|problem| invalid(format!("languages: {problem}")))?;
        let language = language.to_ascii_lowercase();
        if !languages.contains(&language) {
            languages.push(language);
        }
    }
    if !password::acceptable(&request.password) {
        return Err(invalid(format!("password: at least {} characters", password::MIN_CHARS)));
    }
    Ok((display_name, email, languages))
}

/// `POST /v1/agent/agents/{id}/deactivate` (admin): the agent cannot sign in again, every session
/// of theirs ends now, and their chats go back to the front of the queue.
#[utoipa::path(
    post,
    path = "/v1/agent/agents/{id}/deactivate",
    tag = "team",
    params(("id" = i64, Path, description = "The agent's id")),
    responses((status = 204, description = "Deactivated and signed out everywhere")),
    security(("agent_session" = []))
)]
pub(crate) async fn deactivate(
    State(state): State<AppState>,
    _: FromConsole,
    Admin(admin): Admin,
    Path(agent_id): Path<i64>,
) -> Result<StatusCode, AppError> {
    if agent_id == admin.id {
        return Err(AppError::InvalidRequest("you cannot deactivate yourself; ask another admin".into()));
    }
    if !state.store.set_agent_active(&admin.merchant_id, agent_id, false).await? {
        return Err(AppError::NotFound("your team has no such agent".into()));
    }
    audit::record(&state, &admin, Action::Deactivated, format!("agent:{agent_id}")).await?;
    state.hub.notify_agent(agent_id, AgentNotice::Deactivated);
    state.dispatch.change(&state, &admin.merchant_id, Change::Remove(agent_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn members(agents: Vec<Agent>, snapshot: &Snapshot) -> Vec<TeamMember> {
    agents
        .into_iter()
        .map(|agent| {
            let live = snapshot.agents.iter().find(|a| a.id == agent.id);
            TeamMember {
                id: agent.id,
                display_name: agent.display_name,
                email: agent.email,
                role: agent.staffing.role,
                languages: agent.staffing.languages,
                presence: live.map_or(Presence::Offline, |a| a.presence),
                connected: live.is_some_and(|a| a.connected),
                chats: live.map_or(0, |a| a.chats),
                capacity: agent.staffing.capacity,
                active: agent.active,
            }
        })
        .collect()
}

/// `GET /v1/agent/team`: colleagues and their state, e.g. to transfer a chat to one.
#[utoipa::path(
    get,
    path = "/v1/agent/team",
    tag = "team",
    responses((status = 200, description = "The merchant's agents and their presence", body = Vec<tandem_protocol::TeamMember>)),
    security(("agent_session" = []))
)]
pub(crate) async fn team(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
) -> Result<Json<Vec<TeamMember>>, AppError> {
    let snapshot = state.dispatch.read(&state, &agent.merchant_id, |d, now| d.snapshot(now)).await?;
    let agents = state.store.agents(Some(&agent.merchant_id)).await?;
    Ok(Json(members(agents, &snapshot)))
}

/// Midnight UTC of the day `now_ms` falls in.
fn start_of_day(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(DAY_MS)
}

/// The `p`th percentile (nearest rank) of sorted values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn secs(ms: i64) -> u32 {
    u32::try_from((ms.max(0) + 500) / 1000).unwrap_or(u32::MAX)
}

/// Figures over conversations, as the supervisor view shows them.
pub fn day_figures(conversations: &[Conversation]) -> DayFigures {
    let mut waits: Vec<i64> = conversations
        .iter()
        .filter_map(|c| c.answered_at_ms.map(|answered| answered - c.created_at_ms))
        .collect();
    waits.sort_unstable();
    let abandoned = conversations
        .iter()
        .filter(|c| c.status == ConversationStatus::Ended && c.answered_at_ms.is_none())
        .count();
    let scores: Vec<u32> =
        conversations.iter().filter_map(|c| c.rating.as_ref().map(|r| u32::from(r.score))).collect();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    DayFigures {
        conversations: count(conversations.len()),
        answered: count(waits.len()),
        abandoned: count(abandoned),
        time_to_human_p50_secs: percentile(&waits, 50).map(secs),
        time_to_human_p90_secs: percentile(&waits, 90).map(secs),
        average_rating_hundredths: (!scores.is_empty())
            .then(|| scores.iter().sum::<u32>() * 100 / count(scores.len())),
        ratings: count(scores.len()),
    }
}

/// `GET /v1/agent/supervisor` (admin): the live queue, the team, and today's figures.
#[utoipa::path(
    get,
    path = "/v1/agent/supervisor",
    tag = "team",
    responses((status = 200, description = "The queue, the agents and the last days' figures (admins)", body = tandem_protocol::SupervisorReport)),
    security(("agent_session" = []))
)]
pub(crate) async fn supervisor(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<SupervisorReport>, AppError> {
    let snapshot = state.dispatch.read(&state, &admin.merchant_id, |d, now| d.snapshot(now)).await?;
    let agents = state.store.agents(Some(&admin.merchant_id)).await?;
    let now = now_ms();
    let today = state.store.conversations_created(&admin.merchant_id, start_of_day(now), now + 1).await?;
    Ok(Json(SupervisorReport {
        waiting: snapshot.waiting,
        longest_wait_secs: secs(snapshot.longest_wait_ms),
        today: day_figures(&today),
        agents: members(agents, &snapshot),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportRange {
    /// Whole days back from today (1 = today only).
    days: Option<u32>,
}

/// `GET /v1/agent/conversations.csv?days=N` (admin): conversations created in the last N days
/// (default 30), one row each.
#[utoipa::path(
    get,
    path = "/v1/agent/conversations.csv",
    tag = "team",
    params(ExportRange),
    responses((status = 200, description = "The conversations created in the last `days` days, one row each (admins)", body = String, content_type = "text/csv")),
    security(("agent_session" = []))
)]
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(range): Query<ExportRange>,
) -> Result<Response, AppError> {
    let days = range.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(AppError::InvalidRequest("days: 1 to 366".into()));
    }
    let now = now_ms();
    let from = start_of_day(now) - i64::from(days - 1) * DAY_MS;
    let conversations = state.store.conversations_created(&admin.merchant_id, from, now + 1).await?;
    let agents = state.store.agents(Some(&admin.merchant_id)).await?;
    let notes = state.store.notes_created(&admin.merchant_id, from, now + 1).await?;
    let body = conversations_csv(&conversations, &agents, &notes).map_err(|_| AppError::Internal)?;
    audit::record(&state, &admin, Action::ConversationsExported, format!("{days} days")).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"tandem-conversations.csv\""),
    ];
    Ok((headers, body).into_response())
}

/// The export's columns, as documented in `docs/api.md`.
const CSV_HEADER: [&str; 14] = [
    "conversation_id",
    "created_at_ms",
    "status",
    "locale",
    "page_url",
    "reason",
    "agent",
    "answered_at_ms",
    "time_to_human_secs",
    "ended_at_ms",
    "rating",
    "rating_comment",
    "customer_email",
    "notes",
];

fn conversations_csv(
    conversations: &[Conversation],
    agents: &[Agent],
    notes: &[(ConversationId, Note)],
) -> Result<Vec<u8>, csv::Error> {
    let mut notes_of: std::collections::HashMap<&ConversationId, Vec<&Note>> = Default::default();
    for (id, note) in notes {
        notes_of.entry(id).or_default().push(note);
    }
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(CSV_HEADER)?;
    for conversation in conversations {
        let mut record = csv_record(conversation, agents).to_vec();
        record.push(notes_cell(notes_of.get(&conversation.id).map_or(&[], Vec::as_slice)));
        csv.write_record(record.iter().map(|cell| spreadsheet_safe(cell)))?;
    }
    csv.into_inner().map_err(|error| error.into_error().into())
}

/// One conversation's row, in [`CSV_HEADER`]'s order; enums by their stored names.
fn csv_record(c: &Conversation, agents: &[Agent]) -> [String; 13] {
    let status = match c.status {
        ConversationStatus::Ended if c.answered_at_ms.is_none() => "abandoned",
        other => other.as_str(),
    };
    let agent = c.agent_id.and_then(|id| agents.iter().find(|a| a.id == id));
    let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    [
        c.id.0.clone(),
        c.created_at_ms.to_string(),
        status.to_owned(),
        c.locale.clone(),
        c.page_url.clone(),
        c.reason.as_str().to_owned(),
        agent.map(|a| a.display_name.clone()).unwrap_or_default(),
        optional(c.answered_at_ms),
        optional(c.answered_at_ms.map(|at| i64::from(secs(at - c.created_at_ms)))),
        optional(c.ended_at_ms),
        c.rating.as_ref().map(|r| r.score.to_string()).unwrap_or_default(),
        c.rating.as_ref().and_then(|r| r.comment.clone()).unwrap_or_default(),
        c.customer.email.clone().unwrap_or_default(),
    ]
}

/// A conversation's internal notes in one cell, each on a line of its own and marked as a
/// note with its author: `[note] Anna: …`.
fn notes_cell(notes: &[&Note]) -> String {
    let lines = notes.iter().map(|note| format!("[note] {}: {}", note.author_name, note.text));
    lines.collect::<Vec<_>>().join("\n")
}

/// Customers write comments and page URLs: a cell a spreadsheet would run as a formula is
/// prefixed with an apostrophe, so it is shown as text.
fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_owned() }
}
