//! The widget build under `/widget/`, served as a CDN would, and the widget's own pages.
//!
//! `cargo xtask` publishes the build (xtask/src/publish.rs): content-hashed app files, a
//! loader with their SRI hashes written in, a versioned copy of it, `manifest.json`, and brotli
//! and gzip variants beside every file. Here those variants are chosen by `Accept-Encoding`;
//! hashed and versioned files are cached for a year, and the stable loader for five minutes
//! with an ETag, so a new release reaches pages within minutes while repeat visits cost a
//! `304`.
//!
//! The same build runs on our origin as a page: the full-page widget (`/widget/?merchant=`)
//! and the isolated frame that the loader opens on pages whose policy refuses WebAssembly
//! (`/widget/frame.html?merchant=&parent=`). Both carry a strict policy of their own, and the
//! frame may only be framed by the merchant's origins.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use crate::csp::{self, Ancestors};
use crate::error::AppError;
use crate::extract::find_merchant;
use crate::pages::contact_page;

/// Files whose URL is stable, so their content changes: short-lived, revalidated by ETag.
const STABLE: [&str; 2] = ["/tandem.js", "/manifest.json"];

pub(crate) fn router(widget_dir: &Path) -> Router<AppState> {
    let dir = widget_dir.to_path_buf();
    let page_dir = dir.clone();
    let page = get(move |state: State<AppState>, query: Query<PageQuery>, headers: HeaderMap| {
        let dir = page_dir.clone();
        async move { widget_page(state, query, headers, &dir).await }
    });
    let files = ServeDir::new(&dir)
        .precompressed_br()
        .precompressed_gzip()
        .not_found_service(axum::handler::HandlerWithoutStateExt::into_service(no_such_file));
    Router::new()
        .route("/", page.clone())
        .route("/index.html", page.clone())
        .route("/frame.html", page)
        .fallback_service(files)
        .layer(middleware::from_fn(move |request, next| caching(dir.clone(), request, next)))
        // Public and credential-free: the loader is a classic script, the app a module import
        // and a wasm fetch from merchants' origins, which need CORS.
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

async fn no_such_file() -> AppError {
    AppError::NotFound(
        "no such widget file; the loader is /widget/tandem.js, the inventory /widget/manifest.json".into(),
    )
}

/// Sets each file's cache policy, and answers a matching `If-None-Match` on the stable files
/// with `304`.
async fn caching(dir: PathBuf, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if STABLE.contains(&path.as_str()) {
        let etag = tokio::fs::read(dir.join(&path[1..])).await.ok().map(|bytes| etag_of(&bytes));
        if let Some(etag) = &etag
            && not_modified(request.headers(), etag)
        {
            return with_cache(StatusCode::NOT_MODIFIED.into_response(), "public, max-age=300", Some(etag));
        }
        let response = next.run(request).await;
        return with_cache(response, "public, max-age=300", etag.as_deref());
    }
    let response = next.run(request).await;
    if !response.status().is_success() || response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    let policy = if is_immutable(&path) { "public, max-age=31536000, immutable" } else { "no-cache" };
    with_cache(response, policy, None)
}

/// A versioned loader (`/v0.1.0/…`) or a file whose name carries Trunk's content hash: a u64
/// in hex, written without leading zeros (so one build in sixteen has 15 digits, and fewer is
/// possible).
fn is_immutable(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let stem = name.split('.').next().unwrap_or("").trim_end_matches("_bg");
    let hashed = stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    });
    hashed || path.strip_prefix("/v").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

fn with_cache(mut response: Response, policy: &'static str, etag: Option<&str>) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    if let Some(etag) = etag.and_then(|etag| HeaderValue::from_str(etag).ok()) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// A weak ETag (the same for each encoding of the file): its content's hash.
fn etag_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("W/\"{}\"", &hex::encode(sha2::Sha256::digest(bytes))[..32])
}

/// The request's `If-None-Match` names `etag` (weak comparison, as for `GET`).
pub(crate) fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == "*" || bare(tag) == bare(etag)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    merchant: String,
    /// The page that frames us (frame mode), as the loader saw it: `location.origin`.
    parent: Option<String>,
}

/// The widget as a page of our own: full page, or the frame of frame mode.
async fn widget_page(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    dir: &Path,
) -> Result<Response, AppError> {
    let merchant = find_merchant(&state, &query.merchant).await?;
    let ancestors = Ancestors::Origins(&merchant.allowed_origins);
    if let Some(parent) = &query.parent
        && !merchant.allows_origin(parent)
    {
        // Told by the loader where it runs: a page not of this merchant gets no chat, only the
        // way to reach a person (which any page may show).
        return Ok(page_response(StatusCode::FORBIDDEN, contact_page(&merchant), false, &Ancestors::Any));
    }
    let html = tokio::fs::read_to_string(dir.join("index.html")).await.map_err(|error| {
        tracing::error!(%error, dir = %dir.display(), "no widget build to serve");
        AppError::NotFound("the widget is not built; run `cargo xtask demo`".into())
    })?;
    let mut response = page_response(StatusCode::OK, html, true, &ancestors);
    // The policy is the identity page's; the bytes may be its precompressed variant.
    if let Some((encoding, suffix)) = preferred_encoding(&headers)
        && let Ok(compressed) = tokio::fs::read(dir.join(format!("index.html.{suffix}"))).await
    {
        *response.body_mut() = Body::from(compressed);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        headers.remove(header::CONTENT_LENGTH);
    }
    Ok(response)
}

/// The encoding to send, of those the build has: brotli, then gzip, when the request accepts
/// it (`Accept-Encoding`, a `q=0` refuses).
fn preferred_encoding(headers: &HeaderMap) -> Option<(&'static str, &'static str)> {
    let accepted = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    let accepts = |wanted: &str| {
        accepted.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            parts.next() == Some(wanted) && parts.all(|p| p.replace(' ', "") != "q=0")
        })
    };
    [("br", "br"), ("gzip", "gz")].into_iter().find(|(encoding, _)| accepts(encoding))
}

/// An HTML page of ours, with its policy.
pub(crate) fn page_response(
    status: StatusCode,
    html: String,
    wasm: bool,
    ancestors: &Ancestors<'_>,
) -> Response {
    let policy = csp::for_page(&html, wasm, ancestors);
    let mut response = (status, Html(Body::from(html))).into_response();
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_and_versioned_files_are_immutable_and_the_rest_is_not() {
        assert!(is_immutable("/tandem-widget-aecb6b15726b3885.js"));
        assert!(is_immutable("/tandem-widget-aecb6b15726b3885_bg.wasm"));
        assert!(is_immutable("/tandem-widget-14ece9b36352a94_bg.wasm"), "a hash with a leading zero");
        assert!(is_immutable("/widget-c94f812435ae2682.css"));
        assert!(is_immutable("/v0.1.0/tandem.js"));
        assert!(!is_immutable("/tandem.js"));
        assert!(!is_immutable("/index.html"));
        assert!(!is_immutable("/tandem-widget-nothex0000000000.js"));
        assert!(!is_immutable("/vendor/x.js"));
    }

    #[test]
    fn encodings_follow_accept_encoding() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            preferred_encoding(&headers).map(|(encoding, _)| encoding)
        };
        assert_eq!(with("gzip, deflate, br, zstd"), Some("br"));
        assert_eq!(with("gzip"), Some("gzip"));
        assert_eq!(with("br;q=0, gzip;q=0.5"), Some("gzip"));
        assert_eq!(with("identity"), None);
        assert_eq!(preferred_encoding(&HeaderMap::new()), None);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"a\", W/\"b\""));
        assert!(not_modified(&headers, "W/\"b\""));
        assert!(not_modified(&headers, "\"a\""));
        assert!(!not_modified(&headers, "W/\"c\""));
        assert!(!not_modified(&HeaderMap::new(), "\"a\""));
    }
}
