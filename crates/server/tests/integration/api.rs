//! The HTTP API through the real router (`tandem_server::app`) on a real SQLite database.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use tandem_protocol::{AskEmail, MerchantId, Problem, ProblemCode, WidgetConfig};
use tandem_server::store::{DispatchSettings, Merchant, SqliteStore, Store, WidgetSettings};
use tandem_server::{AppState, app};
use tower::ServiceExt;

const SHOP_ORIGIN: &str = "https://shop.example";

struct TestApp {
    router: Router,
    _dirs: tempfile::TempDir,
}

async fn test_app() -> TestApp {
    let dirs = tempfile::tempdir().expect("temp dir");
    let widget_dir = dirs.path().join("widget");
    std::fs::create_dir_all(&widget_dir).expect("widget dir");
    std::fs::write(widget_dir.join("tandem.js"), "/* loader */").expect("loader file");
    let store = SqliteStore::open(&dirs.path().join("test.sqlite3")).await.expect("store");
    store
        .upsert_merchant(&Merchant {
            id: MerchantId::parse("shop").expect("valid id"),
            display_name: "Shop <& Co>".into(),
            support_email: Some("help@shop.example".into()),
            allowed_origins: vec![SHOP_ORIGIN.into()],
            business_hours: None,
            settings: WidgetSettings {
                locale: Some("sv".into()),
                ask_email: AskEmail::Optional,
                reply_within_hours: 12,
            },
            dispatch: DispatchSettings::default(),
            identity_secret: None,
            policies: tandem_server::store::Policies::default(),
        })
        .await
        .expect("seed merchant");
    store
        .set_bot_flow(&MerchantId::parse("shop").expect("valid id"), tandem_bot::DEMO_FLOW)
        .await
        .expect("flow");
    let state = AppState::new(Arc::new(store), vec!["http://console.test".into()]);
    let router = app(state, &widget_dir, &dirs.path().join("console"));
    TestApp { router, _dirs: dirs }
}

async fn get(app: &TestApp, uri: &str, origin: Option<&str>) -> axum::response::Response {
    let mut request = Request::get(uri);
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    send(&app.router, request.body(Body::empty()).expect("request")).await
}

/// The router's answer to `request`, checked against `/v1/openapi.json` as every answer over
/// HTTP is (`crate::contract`); not a CORS preflight, which the document leaves to CORS, nor a
/// compressed body, whose bytes are not the JSON described.
async fn send(router: &Router, request: Request<Body>) -> axum::response::Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = router.clone().oneshot(request).await.expect("response");
    if method == axum::http::Method::OPTIONS || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 1 << 24).await.expect("body");
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    crate::contract::check_response(&method, &path, parts.status.as_u16(), content_type, &bytes);
    axum::response::Response::from_parts(parts, Body::from(bytes))
}

async fn body_bytes(response: axum::response::Response) -> Vec<u8> {
    to_bytes(response.into_body(), 1 << 20).await.expect("body").to_vec()
}

async fn problem(response: axum::response::Response) -> Problem {
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    serde_json::from_slice(&body_bytes(response).await).expect("problem body")
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = test_app().await;
    let response = get(&app, "/healthz", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_bytes(response).await, br#"{"status":"ok"}"#);
}

#[tokio::test]
async fn widget_config_is_readable_from_an_allowed_origin() {
    let app = test_app().await;
    let response = get(&app, "/v1/merchants/shop/widget-config", Some(SHOP_ORIGIN)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).and_then(|v| v.to_str().ok()),
        Some(SHOP_ORIGIN)
    );
    assert_eq!(response.headers().get(header::VARY).and_then(|v| v.to_str().ok()), Some("Origin"));
    let config: WidgetConfig = serde_json::from_slice(&body_bytes(response).await).expect("config");
    assert_eq!(config.display_name, "Shop <& Co>");
    assert_eq!(config.support_email.as_deref(), Some("help@shop.example"));
    assert_eq!(config.locale.as_deref(), Some("sv"), "the merchant's language for the widget");
    assert_eq!(config.ask_email, AskEmail::Optional);
}

#[tokio::test]
async fn widget_config_without_origin_is_public() {
    let app = test_app().await;
    let response = get(&app, "/v1/merchants/shop/widget-config", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn widget_config_from_another_origin_is_forbidden() {
    let app = test_app().await;
    let response = get(&app, "/v1/merchants/shop/widget-config", Some("https://evil.example")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let problem = problem(response).await;
    assert_eq!(problem.code, ProblemCode::OriginNotAllowed);
    assert_eq!(problem.status, 403);
    assert!(problem.detail.contains("https://evil.example"), "{}", problem.detail);
}

#[tokio::test]
async fn bad_and_unknown_merchant_ids_get_problems() {
    let app = test_app().await;
    let bad = problem(get(&app, "/v1/merchants/Not%20Valid/widget-config", None).await).await;
    assert_eq!((bad.status, bad.code), (400, ProblemCode::InvalidMerchantId));
    let unknown = problem(get(&app, "/v1/merchants/nobody/widget-config", None).await).await;
    assert_eq!((unknown.status, unknown.code), (404, ProblemCode::NotFound));
    let nowhere = problem(get(&app, "/no/such/page", None).await).await;
    assert_eq!((nowhere.status, nowhere.code), (404, ProblemCode::NotFound));
}

/// Every error is a problem body, a method the path does not take (405) included.
#[tokio::test]
async fn a_method_a_path_does_not_take_gets_a_problem_with_allow() {
    let app = test_app().await;
    let paths = [
        ("/v1/conversations", "POST"),
        ("/v1/agent/login", "POST"),
        ("/healthz", "GET"),
        ("/widget/tandem.js", "GET"),
    ];
    for (uri, allowed) in paths {
        let request = Request::delete(uri).body(Body::empty()).expect("request");
        let response = send(&app.router, request).await;
        let allow = response.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert!(allow.as_ref().is_some_and(|allow| allow.contains(allowed)), "{uri}: {allow:?}");
        let refused = problem(response).await;
        assert_eq!((refused.status, refused.code), (405, ProblemCode::MethodNotAllowed), "{uri}");
    }
    let wrong = problem(get(&app, "/v1/conversations", None).await).await;
    assert_eq!((wrong.status, wrong.code), (405, ProblemCode::MethodNotAllowed));
}

/// A page's cross-origin POSTs are preflighted: the preflight is answered, not refused as a
/// method the path does not take.
#[tokio::test]
async fn the_customer_posts_answer_their_preflight() {
    let app = test_app().await;
    for uri in ["/v1/conversations", "/v1/conversations/abc/rating", "/v1/merchants/shop/messages"] {
        let request = Request::options(uri)
            .header(header::ORIGIN, SHOP_ORIGIN)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .expect("request");
        let response = send(&app.router, request).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let allowed =
            response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).and_then(|v| v.to_str().ok());
        assert_eq!(allowed, Some(SHOP_ORIGIN), "{uri}");
    }
}

#[tokio::test]
async fn widget_files_are_served_cross_origin() {
    let app = test_app().await;
    let response = get(&app, "/widget/tandem.js", Some(SHOP_ORIGIN)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).and_then(|v| v.to_str().ok()), Some("*"));
    assert_eq!(
        headers.get("cross-origin-resource-policy").and_then(|v| v.to_str().ok()),
        Some("cross-origin")
    );
    assert!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("javascript"))
    );
    assert_eq!(body_bytes(response).await, b"/* loader */");
}

#[tokio::test]
async fn contact_page_escapes_the_merchant_name() {
    let app = test_app().await;
    let response = get(&app, "/contact/shop", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = String::from_utf8(body_bytes(response).await).expect("utf-8");
    assert!(page.contains("Shop &lt;&amp; Co&gt;"));
    assert!(!page.contains("<& Co>"));
    assert!(page.contains(r#"href="mailto:help@shop.example""#));
}

#[tokio::test]
async fn bot_flow_is_served_cacheably_to_allowed_origins() {
    let app = test_app().await;
    let response = get(&app, "/v1/merchants/shop/bot-flow", Some(SHOP_ORIGIN)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers().get(header::ETAG).expect("etag").to_str().expect("ascii").to_owned();
    assert_eq!(response.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-cache"));
    let flow: tandem_bot::Flow = serde_json::from_slice(&body_bytes(response).await).expect("a flow");
    assert_eq!(flow.languages, ["en", "sv", "de"]);

    let request = Request::get("/v1/merchants/shop/bot-flow")
        .header(header::ORIGIN, SHOP_ORIGIN)
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .expect("request");
    let revalidated = send(&app.router, request).await;
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert!(body_bytes(revalidated).await.is_empty());

    let foreign = get(&app, "/v1/merchants/shop/bot-flow", Some("https://evil.example")).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn what_the_loader_fetches_on_open_is_compressed_for_browsers_that_take_it() {
    let app = test_app().await;
    for path in ["/v1/merchants/shop/bot-flow", "/v1/merchants/shop/widget-config"] {
        let plain = body_bytes(get(&app, path, Some(SHOP_ORIGIN)).await).await;
        let request = Request::get(path)
            .header(header::ORIGIN, SHOP_ORIGIN)
            .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
            .body(Body::empty())
            .expect("request");
        let response = send(&app.router, request).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header(header::CONTENT_ENCODING).as_deref(), Some("br"), "{path}");
        let vary = response.headers().get_all(header::VARY).iter().filter_map(|v| v.to_str().ok());
        assert!(vary.collect::<Vec<_>>().join(",").contains("accept-encoding"), "{path}");
        assert_eq!(header(header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(), Some(SHOP_ORIGIN), "{path}");
        let compressed = body_bytes(response).await;
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(&compressed[..], 4096), &mut decoded)
            .expect("brotli");
        assert_eq!(decoded, plain, "{path}");
        if path.ends_with("bot-flow") {
            assert!(compressed.len() * 2 < plain.len(), "{path}: {} of {} B", compressed.len(), plain.len());
        }
    }
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let dirs = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dirs.path().join("test.sqlite3")).await.expect("store");
    let secure = AppState::new(Arc::new(store), vec!["https://chat.example.com".into()]);
    let router = app(secure, &dirs.path().join("widget"), &dirs.path().join("console"));
    let response = send(&router, Request::get("/healthz").body(Body::empty()).expect("request")).await;
    let headers = response.headers();
    assert_eq!(
        headers.get(header::STRICT_TRANSPORT_SECURITY).and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    assert_eq!(headers.get(header::X_CONTENT_TYPE_OPTIONS).and_then(|v| v.to_str().ok()), Some("nosniff"));
    // Over plain http (the test app), none.
    let plain = get(&test_app().await, "/healthz", None).await;
    assert!(plain.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none());
}
