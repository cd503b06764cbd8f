//! The API described for machines, from the code itself so that it cannot drift:
//!
//! - `GET /v1/openapi.json`: OpenAPI 3.1 of every HTTP route, from each handler's
//!   `#[utoipa::path]` and the protocol's types (`ToSchema`); every error is a problem body
//!   (`Problem`, its `code` one of `ProblemCode`), added to each operation here.
//! - `GET /v1/frames.schema.json`: JSON Schema (2020-12) of the WebSocket frames, from the same
//!   types with schemars: what clients send (`CustomerFrame`, `AgentFrame`) and what the server
//!   writes (`CustomerEvent`, `AgentEvent`).
//!
//! The integration tests check every response they see against the first and every frame
//! against the second.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

use tandem_protocol::{AgentEvent, AgentFrame, CustomerEvent, CustomerFrame, Problem, ProblemCode};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tandem",
        description = "The customer chat widget with a human behind it: its HTTP API. Prose, limits and examples are in docs/api.md; the WebSocket frames are described in /v1/frames.schema.json and docs/protocol.md."
    ),
    paths(
        crate::api::healthz,
        crate::api::metrics,
        openapi_json,
        frames_json,
        crate::api::widget_config,
        crate::api::bot_flow,
        crate::api::availability,
        crate::api::leave_message,
        crate::pages::contact,
        crate::conversations::start,
        crate::conversations::live,
        crate::conversations::rate,
        crate::conversations::set_context,
        crate::conversations::transcript,
        crate::conversations::leave,
        crate::attachments::customer_upload,
        crate::attachments::customer_download,
        crate::attachments::agent_upload,
        crate::attachments::agent_download,
        crate::agents::login,
        crate::agents::logout,
        crate::agents::me,
        crate::agents::conversation,
        crate::agents::left_messages,
        crate::agents::live,
        crate::team::create_invite,
        crate::team::lookup_invite,
        crate::team::accept_invite,
        crate::team::deactivate,
        crate::team::team,
        crate::team::supervisor,
        crate::team::export_csv,
        crate::canned::list,
        crate::canned::put,
        crate::canned::remove,
        widget_files,
        console_files,
    ),
    components(schemas(Problem, ProblemCode)),
    modifiers(&Problems, &Credentials),
    tags(
        (name = "customer", description = "What the widget calls from merchants' pages"),
        (name = "attachments", description = "Files in a conversation, both ways"),
        (name = "agents", description = "The agent console: signing in, conversations, the live socket"),
        (name = "team", description = "Invites, the team, canned responses and reports"),
        (name = "operations", description = "Health, metrics and these descriptions"),
        (name = "files", description = "The widget's and the console's builds"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// The frames' JSON Schema: one `$defs` entry per frame type and each type it holds; the
/// server's events as it writes them, the clients' frames as it reads them.
pub fn frames() -> &'static serde_json::Value {
    static FRAMES: OnceLock<serde_json::Value> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let mut reading = schemars::generate::SchemaSettings::draft2020_12().for_deserialize().into_generator();
        let mut writing = schemars::generate::SchemaSettings::draft2020_12().for_serialize().into_generator();
        let mut defs = serde_json::Map::new();
        add::<CustomerFrame>(&mut reading, &mut defs);
        add::<AgentFrame>(&mut reading, &mut defs);
        add::<CustomerEvent>(&mut writing, &mut defs);
        add::<AgentEvent>(&mut writing, &mut defs);
        serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Tandem's WebSocket frames",
            "description": "CustomerFrame and AgentFrame are what the widget and the console send; CustomerEvent and AgentEvent what the server writes. See docs/protocol.md.",
            "$defs": defs,
        })
    })
}

/// `T` and every type it holds, into `defs` (a type both sides use is the same either way).
fn add<T: JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
    defs: &mut serde_json::Map<String, serde_json::Value>,
) {
    let schema = generator.root_schema_for::<T>();
    let mut schema = schema.to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        if let Some(serde_json::Value::Object(nested)) = object.remove("$defs") {
            defs.extend(nested);
        }
    }
    defs.insert(T::schema_name().into_owned(), schema);
}

fn json_document(text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=300")], text)
        .into_response()
}

/// `GET /v1/openapi.json`.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "This OpenAPI 3.1 document", body = serde_json::Value)))]
pub(crate) async fn openapi_json() -> Response {
    static TEXT: OnceLock<String> = OnceLock::new();
    json_document(TEXT.get_or_init(|| document().to_json().unwrap_or_default()))
}

/// `GET /v1/frames.schema.json`.
#[utoipa::path(get, path = "/v1/frames.schema.json", tag = "operations",
    responses((status = 200, description = "The WebSocket frames' JSON Schema (2020-12)", body = serde_json::Value)))]
pub(crate) async fn frames_json() -> Response {
    static TEXT: OnceLock<String> = OnceLock::new();
    json_document(TEXT.get_or_init(|| frames().to_string()))
}

/// The widget's build (`tandem.js`, the app, its stylesheet, `frame.html`), served by
/// `crate::widget::router`; described here, as no handler function stands for it.
#[utoipa::path(get, path = "/widget/{file}", tag = "files",
    params(("file" = String, Path, description = "e.g. `tandem.js`; the app's files have hashed names (docs/embedding.md)")),
    responses(
        (status = 200, description = "The file, of its own type (JavaScript, WebAssembly, CSS, HTML, JSON), brotli or gzip when asked; cacheable by its name", body = Bytes, content_type = "*/*"),
        (status = 206, description = "The part of the file a `Range` asked for", body = Bytes, content_type = "*/*"),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
    ))]
#[allow(dead_code, reason = "a description only: the files are served by ServeDir")]
fn widget_files() {}

/// The agent console's build, served by `crate::console_files`.
#[utoipa::path(get, path = "/console/{file}", tag = "files",
    params(("file" = String, Path, description = "A file of the console; any other path is its page")),
    responses(
        (status = 200, description = "The file, of its own type, or the console's page", body = Bytes, content_type = "*/*"),
        (status = 206, description = "The part of the file a `Range` asked for", body = Bytes, content_type = "*/*"),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
    ))]
#[allow(dead_code, reason = "a description only: the files are served by ServeDir")]
fn console_files() {}

/// Bytes as they are (a file, a build), not JSON: `{"type": "string", "format": "binary"}`.
pub struct Bytes;

impl utoipa::PartialSchema for Bytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Bytes {}

/// Every operation may answer with a problem (RFC 9457): its `default` response.
struct Problems;

impl utoipa::Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let problem = ResponseBuilder::new()
            .description(
                "A problem: `status`, `code` (ProblemCode), `title` and `detail` (docs/api.md#errors)",
            )
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
            ];
            for operation in operations.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| problem.clone().into());
            }
        }
    }
}

/// How callers authenticate: the customer token as a bearer token (from `POST
/// /v1/conversations`), and the console's session cookie (from `POST /v1/agent/login`).
struct Credentials;

impl utoipa::Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("The customer token of POST /v1/conversations"))
            .build();
        components.add_security_scheme("customer_token", SecurityScheme::Http(bearer));
        let cookie = ApiKeyValue::with_description(
            crate::extract::SESSION_COOKIE,
            "The console's session, set by POST /v1/agent/login (HttpOnly)",
        );
        components.add_security_scheme("agent_session", SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
    }
}
