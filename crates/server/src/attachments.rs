//! Files in a chat, both ways: a customer's screenshot to the agent, an agent's PDF to the
//! customer.
//!
//! A file is uploaded as the raw body of a `POST` (at most 5 MB; its kind read from its bytes)
//! and stored, through the `Store`, as a message of its own with its bytes beside it, so that
//! it is ordered and caught up by `seq` like any text, on every database and instance. It is
//! served only to the conversation's customer (its token) and the merchant's agents (their
//! session), as a download that runs nothing: `Content-Disposition: attachment`, `nosniff`
//! and a sandboxing policy.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, extract::DefaultBodyLimit};
use tandem_protocol::{
    Attachment, Author, ChatMessage, ClientMessageId, ConversationId, ConversationStatus, FileKind,
    MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_HOUR, file_name_for, mask_card_numbers,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::AppState;
use crate::error::AppError;
use crate::extract::{ClientIp, CustomerChat, FromConsole, SignedIn};
use crate::live::now_ms;
use crate::service::{self, Post};
use crate::store::{ChatRef, File, NewFile};
use crate::tokens::new_id;

/// The policy a served file is sent under: nothing runs, nothing loads, nothing frames it.
const SANDBOX: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";
const HOUR_MS: i64 = 3_600_000;

/// The four routes, with a body limit of their own (a file, not the API's 256 KB).
pub(crate) fn routes() -> Router<AppState> {
    let customer = Router::new()
        .route("/v1/conversations/{id}/attachments", post(customer_upload))
        .route("/v1/conversations/{id}/attachments/{file}", get(customer_download))
        .method_not_allowed_fallback(crate::method_not_allowed)
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::mirror_request())
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
                .max_age(std::time::Duration::from_secs(600)),
        );
    Router::new()
        .route("/v1/agent/conversations/{id}/attachments", post(agent_upload))
        .route("/v1/agent/conversations/{id}/attachments/{file}", get(agent_download))
        .method_not_allowed_fallback(crate::method_not_allowed)
        .merge(customer)
        .layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES))
}

/// The query of an upload: the client's id for it (a retry is stored once) and the file's name.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Upload {
    client_id: String,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /v1/conversations/{id}/attachments?client_id=…&name=…`: the customer sends a file.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/attachments",
    tag = "attachments",
    params(("id" = String, Path, description = "The conversation's id"), Upload),
    request_body(content = crate::openapi::Bytes, content_type = "*/*", description = "The file's bytes, with any `Content-Type` (the kind is read from them): PNG, JPEG, WebP or PDF, at most 5 MB"),
    responses((status = 201, description = "Stored as a message of the conversation", body = tandem_protocol::ChatMessage)),
    security(("customer_token" = []))
)]
pub(crate) async fn customer_upload(
    State(state): State<AppState>,
    CustomerChat(conversation): CustomerChat,
    ClientIp(ip): ClientIp,
    Query(upload): Query<Upload>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, AppError> {
    if conversation.status == ConversationStatus::Ended {
        return Err(AppError::Conflict(
            "this conversation has ended; files can be sent while it goes on".into(),
        ));
    }
    let post = Post {
        merchant: conversation.merchant_id.clone(),
        conversation: conversation.id.clone(),
        client_id: ClientMessageId(upload.client_id),
        author: Author::Customer,
        text: String::new(),
        sender: conversation.id.0.clone(),
        ip,
    };
    stored(send_file(&state, post, upload.name.as_deref(), file_body(body)?).await?)
}

/// `POST /v1/agent/conversations/{id}/attachments?client_id=…&name=…`: the agent handling the
/// chat sends a file.
#[utoipa::path(
    post,
    path = "/v1/agent/conversations/{id}/attachments",
    tag = "attachments",
    params(("id" = String, Path, description = "The conversation's id"), Upload),
    request_body(content = crate::openapi::Bytes, content_type = "*/*", description = "The file's bytes, with any `Content-Type` (the kind is read from them): PNG, JPEG, WebP or PDF, at most 5 MB"),
    responses((status = 201, description = "Stored as a message of the conversation", body = tandem_protocol::ChatMessage)),
    security(("agent_session" = []))
)]
pub(crate) async fn agent_upload(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    _console: FromConsole,
    ClientIp(ip): ClientIp,
    Path(raw_id): Path<String>,
    Query(upload): Query<Upload>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, AppError> {
    let not_yours = || AppError::Forbidden("this is not a conversation you handle".into());
    let id = ConversationId::parse(&raw_id).ok_or_else(not_yours)?;
    if !service::handles(&state, &agent, &id).await? {
        return Err(not_yours());
    }
    let post = Post {
        merchant: agent.merchant_id.clone(),
        conversation: id,
        client_id: ClientMessageId(upload.client_id),
        author: Author::Agent { name: agent.display_name.clone() },
        text: String::new(),
        sender: format!("agent:{}", agent.id),
        ip,
    };
    stored(send_file(&state, post, upload.name.as_deref(), file_body(body)?).await?)
}

/// The uploaded bytes; over [`MAX_ATTACHMENT_BYTES`] a typed `payload_too_large` that says the limit.
fn file_body(body: Result<Bytes, axum::extract::rejection::BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::FileTooLarge,
        _ => AppError::InvalidRequest(rejection.body_text()),
    })
}

fn stored(message: ChatMessage) -> Result<Response, AppError> {
    Ok((StatusCode::CREATED, Json(message)).into_response())
}

/// Checks a file (its kind by its bytes; the conversation's hourly count as it is stored) and
/// posts it as a message named after it, which every session of the conversation receives.
async fn send_file(
    state: &AppState,
    mut post: Post,
    name: Option<&str>,
    bytes: Bytes,
) -> Result<ChatMessage, AppError> {
    let kind = FileKind::sniff(&bytes).ok_or(AppError::UnsupportedFile)?;
    // A name is customer text like any other: no card number is kept in it.
    let raw = name.unwrap_or_default();
    let name = file_name_for(&mask_card_numbers(raw).unwrap_or_else(|| raw.to_owned()), kind);
    let attachment = Attachment { id: new_id(), name: name.clone(), kind, size: bytes.len() as u64 };
    post.text = name;
    let file = NewFile {
        file: File { attachment, bytes: bytes.into() },
        counted_since_ms: now_ms() - HOUR_MS,
        most: MAX_ATTACHMENTS_PER_HOUR,
    };
    Ok(service::post_file(state, post, file).await?)
}

/// `GET /v1/conversations/{id}/attachments/{file}`: the customer fetches a file of their chat.
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}/attachments/{file}",
    tag = "attachments",
    params(("id" = String, Path, description = "The conversation's id"), ("file" = String, Path, description = "The attachment's id")),
    responses((status = 200, description = "The file, as a download (`Content-Disposition: attachment`), of the kind its bytes are", content(
        (crate::openapi::Bytes = "image/png"), (crate::openapi::Bytes = "image/jpeg"), (crate::openapi::Bytes = "image/webp"), (crate::openapi::Bytes = "application/pdf")
    ))),
    security(("customer_token" = []))
)]
pub(crate) async fn customer_download(
    State(state): State<AppState>,
    CustomerChat(conversation): CustomerChat,
    Path((_, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let chat = ChatRef { merchant: &conversation.merchant_id, id: &conversation.id };
    serve(state.store.attachment(chat, &file).await?)
}

/// `GET /v1/agent/conversations/{id}/attachments/{file}`: an agent of the merchant fetches a
/// file of one of its conversations.
#[utoipa::path(
    get,
    path = "/v1/agent/conversations/{id}/attachments/{file}",
    tag = "attachments",
    params(("id" = String, Path, description = "The conversation's id"), ("file" = String, Path, description = "The attachment's id")),
    responses((status = 200, description = "The file, as a download (`Content-Disposition: attachment`), of the kind its bytes are", content(
        (crate::openapi::Bytes = "image/png"), (crate::openapi::Bytes = "image/jpeg"), (crate::openapi::Bytes = "image/webp"), (crate::openapi::Bytes = "application/pdf")
    ))),
    security(("agent_session" = []))
)]
pub(crate) async fn agent_download(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path((raw_id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let Some(id) = ConversationId::parse(&raw_id) else { return serve(None) };
    serve(state.store.attachment(ChatRef { merchant: &agent.merchant_id, id: &id }, &file).await?)
}

/// A stored file as a download that runs nothing, whatever its bytes hold.
fn serve(file: Option<File>) -> Result<Response, AppError> {
    let file = file.ok_or_else(|| AppError::NotFound("there is no such file in this conversation".into()))?;
    let disposition = disposition(&file.attachment.name);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(file.attachment.kind.media_type())),
        (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|_| AppError::Internal)?),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SANDBOX)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
    ];
    Ok((headers, file.bytes).into_response())
}

/// `Content-Disposition` for a download named `name`: `filename` in printable ASCII (anything
/// else as `_`; quotes and control characters were taken out when it was stored), and the
/// name itself as `filename*` (RFC 6266) when it is not ASCII, which browsers prefer.
fn disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    if ascii == name {
        return format!("attachment; filename=\"{ascii}\"");
    }
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}
