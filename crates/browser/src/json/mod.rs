use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

mod de;
pub use de::from_value;

/// Serializes with the browser's JSON.stringify.
pub fn to_json<T: Serialize>(value: &T) -> Option<String> {
    let js = value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).ok()?;
    js_sys::JSON::stringify(&js).ok().and_then(|s| s.as_string())
}

/// A list of strings as JSON, by the browser alone (no serializer's code for it).
pub fn json_strings(strings: &[String]) -> Option<String> {
    let array: js_sys::Array = strings.iter().map(|s| JsValue::from_str(s)).collect();
    js_sys::JSON::stringify(&array).ok().and_then(|s| s.as_string())
}

/// Parses with the browser's JSON.parse.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    from_value(value).ok()
}

/// Why a request failed: the network, or the server's answer (status and problem text).
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    Network(String),
    Status(u16, String),
    Unreadable,
}

impl FetchError {
    /// In a few words, for the console (not `Debug`, whose string escaping costs the download).
    pub fn reason(&self) -> String {
        match self {
            Self::Network(why) => why.clone(),
            Self::Status(status, _) => format!("the server answered {status}"),
            Self::Unreadable => "the answer was not the expected JSON".into(),
        }
    }
}

/// Sends `body` (if any) as JSON with `method` to `url`, with cookies for same-origin requests,
/// and decodes the JSON answer.
pub async fn fetch_json<B: Serialize, T: DeserializeOwned>(
    method: &str,
    url: &str,
    body: Option<&B>,
) -> Result<T, FetchError> {
    fetch_json_with(method, url, None, body).await
}

/// [`fetch_json`] with a bearer token in the `Authorization` header (never in the URL).
pub async fn fetch_json_with_bearer<B: Serialize, T: DeserializeOwned>(
    method: &str,
    url: &str,
    token: &str,
    body: Option<&B>,
) -> Result<T, FetchError> {
    fetch_json_with(method, url, Some(token), body).await
}

async fn fetch_json_with<B: Serialize, T: DeserializeOwned>(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<&B>,
) -> Result<T, FetchError> {
    let body = match body {
        Some(body) => Some(to_json(body).ok_or(FetchError::Unreadable)?),
        None => None,
    };
    let answer = fetch_value(method, url, bearer, body).await?;
    from_value(answer).map_err(|_| FetchError::Unreadable)
}

/// The request itself, the same code whatever is sent and decoded (the typed wrappers above
/// are thin, so that each answer type does not bring a request of its own into the wasm): the
/// answer as `JSON.parse` gives it, `null` for an empty body (204 and friends, for `()`).
async fn fetch_value(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<String>,
) -> Result<JsValue, FetchError> {
    use gloo_net::http::{Method, RequestBuilder};
    let method = match method {
        "POST" => Method::POST,
        _ => Method::GET,
    };
    let mut builder =
        RequestBuilder::new(url).method(method).credentials(web_sys::RequestCredentials::SameOrigin);
    if let Some(token) = bearer {
        builder = builder.header("authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(json) => builder.header("content-type", "application/json").body(json),
        None => builder.build(),
    }
    .map_err(network)?;
    let response = request.send().await.map_err(network)?;
    let text = response.text().await.unwrap_or_default();
    if !response.ok() {
        return Err(FetchError::Status(response.status(), text));
    }
    if text.is_empty() {
        return Ok(JsValue::NULL);
    }
    js_sys::JSON::parse(&text).map_err(|_| FetchError::Unreadable)
}

/// Posts `json` (JSON text already written, such as the page's own object) to `url` with a
/// bearer token; the answer's body is not read.
pub async fn post_json_text(url: &str, token: &str, json: String) -> Result<(), FetchError> {
    let request = gloo_net::http::Request::post(url)
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(json)
        .map_err(network)?;
    let response = request.send().await.map_err(network)?;
    if response.ok() { Ok(()) } else { Err(FetchError::Status(response.status(), String::new())) }
}

/// What the browser said of a request that could not be made. Not gloo's own `Display`: it
/// would bring serde_json's and std's error texts into the wasm for a case that never happens
/// here (gloo decodes nothing: the answer is read as text and parsed by the browser).
fn network(error: gloo_net::Error) -> FetchError {
    match error {
        gloo_net::Error::JsError(error) => FetchError::Network(error.message),
        _ => FetchError::Network("the request could not be made".into()),
    }
}
