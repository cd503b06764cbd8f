//! The JSON API under `/v1` (see `docs/api.md`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tandem_protocol::{
    Availability, LeaveMessage, WidgetConfig, mask_card_numbers_in_place, validate_email, validate_text,
};

use crate::AppState;
use crate::error::AppError;
use crate::extract::{NewChats, PageMerchant, Within};

/// `GET /v1/merchants/{id}/widget-config`: what the widget shows before any conversation.
///
/// A cross-origin request (the widget on a merchant's page) must come from one of the
/// merchant's allowed origins, and is then allowed to read the answer through CORS.
/// Requests without an `Origin` (the widget served from our own origin, or a script)
/// read the same public configuration.
#[utoipa::path(
    get,
    path = "/v1/merchants/{id}/widget-config",
    tag = "customer",
    params(("id" = String, Path, description = "The merchant's id, e.g. `demo`")),
    responses((status = 200, description = "What the widget needs before a conversation", body = tandem_protocol::WidgetConfig))
)]
pub(crate) async fn widget_config(
    State(state): State<AppState>,
    PageMerchant(merchant): PageMerchant,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let config = WidgetConfig {
        merchant_id: merchant.id,
        display_name: merchant.display_name,
        support_email: merchant.support_email,
        locale: merchant.settings.locale,
        ask_email: merchant.settings.ask_email,
        transcripts: state.mailer.is_some(),
    };
    Ok(readable_by_page(Json(config).into_response(), &headers))
}

/// Lets the (already checked) page origin read a merchant's public data, revalidating caches.
fn readable_by_page(mut response: Response, request: &HeaderMap) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(origin) = request.get(header::ORIGIN) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("etag"));
    }
    response
}

/// `GET /v1/merchants/{id}/bot-flow`: the merchant's bot flow (validated when it was stored),
/// for the widget to run in the browser. Cacheable: the ETag is the flow's hash, so a returning
/// customer's browser revalidates with `If-None-Match` and gets `304` while it is unchanged.
#[utoipa::path(
    get,
    path = "/v1/merchants/{id}/bot-flow",
    tag = "customer",
    params(("id" = String, Path, description = "The merchant's id, e.g. `demo`")),
    responses((status = 200, description = "The merchant's bot flow (docs/bot-flows.md); ETag for revalidation", body = serde_json::Value), (status = 304, description = "Unchanged since the `If-None-Match` ETag"))
)]
pub(crate) async fn bot_flow(
    State(state): State<AppState>,
    PageMerchant(merchant): PageMerchant,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let flow = state
        .store
        .bot_flow(&merchant.id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("merchant {} has no bot flow", merchant.id)))?;
    let etag = format!("\"{}\"", &crate::tokens::hash_token(&flow)[..32]);
    let mut response = if crate::widget::not_modified(&headers, &etag) {
        axum::http::StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], flow).into_response()
    };
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(readable_by_page(response, &headers))
}

/// Parses and validates a flow; every problem is listed.
pub fn validate_flow(json: &str) -> Result<(), Vec<String>> {
    let flow: tandem_bot::Flow =
        serde_json::from_str(json).map_err(|error| vec![format!("not a flow document: {error}")])?;
    tandem_bot::Bot::new(flow)
        .map(|_| ())
        .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

/// `GET /healthz`: the process is up and its database answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process is up and its database answers; on PostgreSQL also `instance` and `dispatch` (`leads` or `follows`)", body = Health))
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    state.store.ping().await?;
    let Some(cluster) = state.cluster.get() else {
        return Ok(Json(Health { status: "ok", instance: None, dispatch: None }));
    };
    if !cluster.listening() {
        return Err(AppError::Unavailable(
            "this instance does not hear the others on the database now; it is reconnecting".into(),
        ));
    }
    let role = if state.dispatch.leading() { "leads" } else { "follows" };
    Ok(Json(Health { status: "ok", instance: Some(cluster.instance().to_string()), dispatch: Some(role) }))
}

/// What `GET /healthz` answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok` (a failure is a problem body).
    status: &'static str,
    /// On PostgreSQL: this instance's id among the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
    /// On PostgreSQL: whether this instance `leads` dispatch or `follows`.
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch: Option<&'static str>,
}

/// What `POST /v1/merchants/{id}/messages` answers: the message's id.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct MessageLeftId {
    id: i64,
}

/// `GET /metrics`: live sockets, waiting customers and dispatch leadership by merchant, offers,
/// and message commit times, for Prometheus.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "OpenMetrics text: queue depth, waits, sockets per merchant", body = String, content_type = "application/openmetrics-text"))
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let merchants = state.dispatch.waiting_by_merchant();
    let leading = state.dispatch.leading();
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(axum::http::header::CONTENT_TYPE, content_type)], state.metrics.render(&merchants, leading))
        .into_response()
}

/// `GET /v1/merchants/{id}/availability`: whether a person can answer now. Asked when the
/// customer asks for a person, so the answer is never stale by more than a click.
#[utoipa::path(
    get,
    path = "/v1/merchants/{id}/availability",
    tag = "customer",
    params(("id" = String, Path, description = "The merchant's id, e.g. `demo`")),
    responses((status = 200, description = "Whether a person can answer now", body = tandem_protocol::Availability))
)]
pub(crate) async fn availability(
    State(state): State<AppState>,
    PageMerchant(merchant): PageMerchant,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // Hours that no longer parse (stored before they were checked) count as always open:
    // a customer is never turned away by a typo.
    let open = merchant
        .business_hours
        .as_deref()
        .and_then(|text| crate::hours::BusinessHours::parse(text).ok())
        .is_none_or(|hours| hours.is_open(crate::live::now_ms()));
    let availability = Availability {
        agents_online: state.dispatch.read(&state, &merchant.id, |d, _| d.anyone_available()).await?,
        open,
        business_hours: merchant.business_hours.clone(),
        reply_within_hours: merchant.settings.reply_within_hours,
    };
    Ok(readable_by_page(Json(availability).into_response(), &headers))
}

/// `POST /v1/merchants/{id}/messages`: a message left when nobody could answer; agents read
/// them in the console and reply by email.
#[utoipa::path(
    post,
    path = "/v1/merchants/{id}/messages",
    tag = "customer",
    params(("id" = String, Path, description = "The merchant's id, e.g. `demo`")),
    request_body = tandem_protocol::LeaveMessage,
    responses((status = 201, description = "Stored (and mailed to support, on a server that sends email)", body = MessageLeftId))
)]
pub(crate) async fn leave_message(
    State(state): State<AppState>,
    PageMerchant(merchant): PageMerchant,
    _: Within<NewChats>,
    headers: HeaderMap,
    crate::error::JsonBody(mut message): crate::error::JsonBody<LeaveMessage>,
) -> Result<Response, AppError> {
    crate::extract::require_page_origin(&state, &merchant, &headers)?;
    validate_email(&message.email)
        .map_err(|problem| AppError::InvalidRequest(format!("email: {problem}")))?;
    validate_text(&message.text).map_err(|problem| AppError::InvalidRequest(format!("text: {problem}")))?;
    // No card number is stored (see `tandem_protocol::mask_card_numbers`).
    mask_card_numbers_in_place(&mut message.text);
    crate::service::check_locale_and_url(&message.locale, &message.page_url)?;
    crate::service::check_transcript(&mut message.transcript)?;
    let id = state.store.leave_message(&merchant.id, &message, crate::live::now_ms()).await?;
    tracing::info!(merchant = %merchant.id, id, "message left");
    let left = serde_json::json!({
        "id": id, "email": message.email, "text": message.text, "locale": message.locale,
        "page_url": message.page_url, "transcript": message.transcript,
    });
    crate::webhooks::emit(&state, &merchant.id, crate::webhooks::Event::MessageLeft, left).await;
    crate::mail::tell_support(&state, &merchant, &message, id).await;
    Ok(readable_by_page(
        (axum::http::StatusCode::CREATED, Json(MessageLeftId { id })).into_response(),
        &headers,
    ))
}
