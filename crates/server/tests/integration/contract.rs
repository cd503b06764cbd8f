//! The published descriptions are a contract: every HTTP response the tests see through
//! [`Http`] is checked against `/v1/openapi.json` (its route, method, status and, for JSON, its
//! body), and so is the JSON body of every request the server took; every frame a test reads
//! from a socket is checked against `/v1/frames.schema.json`. A route, a status or a field the
//! descriptions do not have fails the test that met it: the descriptions stay open to fields
//! added later, and these checks close every object they describe.

use std::sync::OnceLock;

use axum::http::Method;
use serde::Serialize;
use serde_json::{Value, json};

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        closed(serde_json::to_value(tandem_server::openapi::document()).expect("the document"))
    })
}

fn frames() -> &'static Value {
    static FRAMES: OnceLock<Value> = OnceLock::new();
    FRAMES.get_or_init(|| closed(tandem_server::openapi::frames().clone()))
}

/// `schema` with every object it describes closed to properties it does not name
/// (`unevaluatedProperties: false`, set where an `allOf` is combined, not in its parts).
fn closed(mut schema: Value) -> Value {
    fn close(value: &mut Value, in_all_of: bool) {
        match value {
            Value::Object(map) => {
                let describes = map.contains_key("properties") || map.contains_key("allOf");
                let open =
                    map.contains_key("additionalProperties") || map.contains_key("unevaluatedProperties");
                if describes && !open && !in_all_of {
                    map.insert("unevaluatedProperties".into(), Value::Bool(false));
                }
                for (key, child) in map.iter_mut() {
                    close(child, key == "allOf");
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| close(item, in_all_of)),
            _ => {}
        }
    }
    close(&mut schema, false);
    schema
}

/// Whether `path` is one `template` (`/v1/conversations/{id}`) names.
fn names(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template.iter().zip(&path).all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// The described operation `method path` is, with its path's template: the most literal
/// template that names the path.
fn operation(method: &Method, path: &str) -> Option<(&'static str, &'static Value)> {
    let paths = document()["paths"].as_object()?;
    let (template, item) = paths
        .iter()
        .filter(|(template, _)| names(template, path))
        .min_by_key(|(template, _)| template.matches('{').count())?;
    Some((template.as_str(), item.get(method.as_str().to_ascii_lowercase())?))
}

/// Fails unless `instance` is valid against `schema`, whose references point into `root`'s
/// `defs` (`components` of the OpenAPI document, `$defs` of the frames' schema).
fn validate(schema: &Value, defs: (&str, &Value), instance: &Value, what: &str) {
    let mut root = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema] });
    root[defs.0] = defs.1.clone();
    let validator =
        jsonschema::draft202012::new(&root).unwrap_or_else(|error| panic!("{what}: its schema: {error}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{error} (at {})", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} does not match its description: {errors:#?}\n{instance:#}");
}

/// Checks one response against the OpenAPI document.
pub fn check_response(method: &Method, path: &str, status: u16, content_type: Option<&str>, body: &[u8]) {
    let Some((template, operation)) = operation(method, path) else {
        // A route or method no one described: it can only be refused, with a problem like any.
        assert!(status >= 400, "{method} {path} answered {status} but is not in /v1/openapi.json");
        let problem =
            json!({ "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } });
        let what = format!("{method} {path} (not described) → {status}");
        return check_content(problem.as_object().expect("an object"), content_type, body, &what);
    };
    let responses = &operation["responses"];
    let what = format!("{method} {template} → {status}");
    let response = responses
        .get(status.to_string())
        .or_else(|| (status >= 400).then(|| responses.get("default")).flatten())
        .unwrap_or_else(|| panic!("{what}: /v1/openapi.json does not describe this status"));
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(body.is_empty(), "{what}: a body where none is described");
        return;
    };
    check_content(content, content_type, body, &what);
}

/// Checks a body of `content_type` against `content` (a request body's or response's media
/// types): its type is one of them (or they take any, `*/*`), and its JSON validates.
fn check_content(
    content: &serde_json::Map<String, Value>,
    content_type: Option<&str>,
    body: &[u8],
    what: &str,
) {
    let media = content_type.and_then(|value| value.split(';').next()).map(str::trim).unwrap_or_default();
    let described = content.get(media).or_else(|| content.get("*/*")).unwrap_or_else(|| {
        panic!("{what}: {media:?}, described as {:?}", content.keys().collect::<Vec<_>>())
    });
    if media.ends_with("json") {
        let value: Value =
            serde_json::from_slice(body).unwrap_or_else(|error| panic!("{what}: not JSON: {error}"));
        validate(&described["schema"], ("components", &document()["components"]), &value, what);
    }
}

/// Checks the JSON body of a request the server took (answered 2xx) against the operation's
/// request body: what the server takes is what the document says it takes.
fn check_request(method: &Method, path: &str, content_type: Option<&str>, body: &[u8]) {
    let Some((template, operation)) = operation(method, path) else { return };
    let what = format!("the body of {method} {template}");
    match operation["requestBody"]["content"].as_object() {
        Some(content) => check_content(content, content_type, body, &what),
        None => assert!(body.is_empty(), "{what}: a body where none is described"),
    }
}

/// Checks a frame the server wrote (`CustomerEvent` or `AgentEvent`) against the frames' schema.
pub fn check_event(kind: &str, text: &str) {
    let frames = frames();
    let value: Value =
        serde_json::from_str(text).unwrap_or_else(|error| panic!("a {kind} that is not JSON: {error}"));
    validate(&json!({ "$ref": format!("#/$defs/{kind}") }), ("$defs", &frames["$defs"]), &value, kind);
}

/// A `reqwest::Client` whose every response is checked by [`check_response`] before the test
/// reads it.
#[derive(Clone, Default)]
pub struct Http(reqwest::Client);

impl Http {
    pub fn get(&self, url: impl reqwest::IntoUrl) -> Request {
        Request(self.0.get(url))
    }

    pub fn post(&self, url: impl reqwest::IntoUrl) -> Request {
        Request(self.0.post(url))
    }

    pub fn put(&self, url: impl reqwest::IntoUrl) -> Request {
        Request(self.0.put(url))
    }

    pub fn delete(&self, url: impl reqwest::IntoUrl) -> Request {
        Request(self.0.delete(url))
    }
}

/// A request being built, as `reqwest::RequestBuilder` is.
pub struct Request(reqwest::RequestBuilder);

impl Request {
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        Self(self.0.header(name, value.as_ref()))
    }

    pub fn bearer_auth(self, token: impl std::fmt::Display) -> Self {
        Self(self.0.bearer_auth(token))
    }

    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        Self(self.0.json(body))
    }

    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Self(self.0.body(body))
    }

    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        Self(self.0.query(query))
    }

    /// Sends it, checks the answer against the description, and hands the answer on.
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let (client, request) = self.0.build_split();
        let request = request?;
        let (method, path) = (request.method().clone(), request.url().path().to_owned());
        let sent_type =
            request.headers().get("content-type").and_then(|value| value.to_str().ok()).map(str::to_owned);
        let sent = request.body().and_then(reqwest::Body::as_bytes).map(<[u8]>::to_vec).unwrap_or_default();
        let response = client.execute(request).await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await?;
        let content_type = headers.get("content-type").and_then(|value| value.to_str().ok());
        check_response(&method, &path, status.as_u16(), content_type, &body);
        if status.is_success() {
            check_request(&method, &path, sent_type.as_deref(), &sent);
        }
        let mut answer = axum::http::Response::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(reqwest::Response::from(answer))
    }
}
