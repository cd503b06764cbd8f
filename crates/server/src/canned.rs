//! Canned responses: the merchant's prepared answers, which every agent reads (`GET
//! /v1/agent/canned`) and admins keep, in the console (`PUT` and `DELETE
//! /v1/agent/canned/{shortcut}`) or with `tandem merchant canned`. Both go through [`save`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tandem_protocol::{CannedResponse, CannedResponseBody, MAX_CANNED_RESPONSES, MerchantId};

use crate::AppState;
use crate::audit::{self, Action};
use crate::error::{AppError, JsonBody};
use crate::extract::{Admin, FromConsole, SignedIn};
use crate::live::now_ms;
use crate::store::{Store, StoreError};

/// Why a canned response was not saved.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Invalid(String),
    #[error("a merchant keeps at most {MAX_CANNED_RESPONSES} canned responses; remove one first")]
    Full,
    #[error("no merchant {0}")]
    NoMerchant(MerchantId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `canned` and adds it to the merchant's, or replaces the one with its shortcut.
pub async fn save(store: &dyn Store, merchant: &MerchantId, canned: &CannedResponse) -> Result<(), Refusal> {
    canned.check().map_err(Refusal::Invalid)?;
    let kept = store.canned_responses(merchant).await?;
    if kept.len() >= MAX_CANNED_RESPONSES && kept.iter().all(|c| c.shortcut != canned.shortcut) {
        return Err(Refusal::Full);
    }
    if !store.put_canned_response(merchant, canned, now_ms()).await? {
        return Err(Refusal::NoMerchant(merchant.clone()));
    }
    Ok(())
}

/// `GET /v1/agent/canned`: the merchant's canned responses, by shortcut.
#[utoipa::path(
    get,
    path = "/v1/agent/canned",
    tag = "team",
    responses((status = 200, description = "The merchant's canned responses, by shortcut", body = Vec<tandem_protocol::CannedResponse>)),
    security(("agent_session" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
) -> Result<Json<Vec<CannedResponse>>, AppError> {
    Ok(Json(state.store.canned_responses(&agent.merchant_id).await?))
}

/// `PUT /v1/agent/canned/{shortcut}`: adds or replaces one (admins).
#[utoipa::path(
    put,
    path = "/v1/agent/canned/{shortcut}",
    tag = "team",
    params(("shortcut" = String, Path, description = "What agents type after `/`")),
    request_body = tandem_protocol::CannedResponseBody,
    responses((status = 200, description = "Stored (admins)", body = tandem_protocol::CannedResponse)),
    security(("agent_session" = []))
)]
pub(crate) async fn put(
    State(state): State<AppState>,
    _: FromConsole,
    Admin(admin): Admin,
    Path(shortcut): Path<String>,
    JsonBody(body): JsonBody<CannedResponseBody>,
) -> Result<Json<CannedResponse>, AppError> {
    let canned = CannedResponse { shortcut, title: body.title, texts: body.texts };
    save(state.store.as_ref(), &admin.merchant_id, &canned).await.map_err(|refusal| match refusal {
        Refusal::Store(error) => AppError::from(error),
        other => AppError::InvalidRequest(other.to_string()),
    })?;
    audit::record(&state, &admin, Action::CannedResponseSaved, canned.shortcut.clone()).await?;
    Ok(Json(canned))
}

/// `DELETE /v1/agent/canned/{shortcut}` (admins).
#[utoipa::path(
    delete,
    path = "/v1/agent/canned/{shortcut}",
    tag = "team",
    params(("shortcut" = String, Path, description = "What agents type after `/`")),
    responses((status = 204, description = "Removed (admins)")),
    security(("agent_session" = []))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    _: FromConsole,
    Admin(admin): Admin,
    Path(shortcut): Path<String>,
) -> Result<StatusCode, AppError> {
    if !state.store.delete_canned_response(&admin.merchant_id, &shortcut).await? {
        return Err(AppError::NotFound(format!("no canned response /{shortcut}")));
    }
    audit::record(&state, &admin, Action::CannedResponseRemoved, shortcut).await?;
    Ok(StatusCode::NO_CONTENT)
}
