//! Per-address limits as a client meets them, directly and behind a reverse proxy.

use tandem_protocol::{Problem, ProblemCode};

use crate::common::{OTHER_ORIGIN, SHOP_ORIGIN, TestApp, spawn_app, spawn_app_behind_proxy};

/// Starts a conversation with the given forwarding header; returns the status.
async fn start_via(app: &TestApp, header: Option<(&str, &str)>) -> u16 {
    let mut request = app.http.post(app.url("/v1/conversations")).header("origin", SHOP_ORIGIN);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = request.json(&TestApp::start_request("shop")).send().await.expect("request");
    let status = response.status().as_u16();
    if status == 429 {
        let problem: Problem = response.json().await.expect("problem");
        assert_eq!(problem.code, ProblemCode::RateLimited);
    }
    status
}

#[tokio::test]
async fn new_conversations_are_limited_per_address_whatever_it_claims_to_forward() {
    let app = spawn_app().await;
    for i in 0..10 {
        let claimed = format!("203.0.113.{i}");
        assert_eq!(start_via(&app, Some(("x-forwarded-for", &claimed))).await, 201);
    }
    // Not a trusted proxy: the header is the client's own words.
    assert_eq!(start_via(&app, Some(("x-forwarded-for", "203.0.113.99"))).await, 429);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let app = spawn_app_behind_proxy().await;
    for _ in 0..10 {
        assert_eq!(start_via(&app, Some(("x-forwarded-for", "203.0.113.7"))).await, 201);
    }
    assert_eq!(start_via(&app, Some(("x-forwarded-for", "203.0.113.7"))).await, 429);
    assert_eq!(start_via(&app, Some(("x-forwarded-for", "203.0.113.8"))).await, 201, "another client");
    // A client may write anything left of what the proxy appended: the rightmost counts.
    let spoofed = "203.0.113.8, 203.0.113.7";
    assert_eq!(start_via(&app, Some(("x-forwarded-for", spoofed))).await, 429);
    let forwarded = r#"for="[2001:db8::1]:4711";proto=https"#;
    assert_eq!(start_via(&app, Some(("forwarded", forwarded))).await, 201, "the standard header");
}

/// The checks run in the documented order: merchant (404) and `Origin` (403) before the
/// address's budget (429), so a refused page never spends it and is told what is wrong.
#[tokio::test]
async fn merchant_and_origin_are_checked_before_the_budget() {
    let app = spawn_app().await;
    for _ in 0..10 {
        assert_eq!(start_via(&app, None).await, 201);
    }
    assert_eq!(start_via(&app, None).await, 429);
    assert_eq!(app.start_at("shop", OTHER_ORIGIN).await.status(), 403);
    assert_eq!(app.start_at("nobody", SHOP_ORIGIN).await.status(), 404);
}

/// A customer's tabs and an agent's consoles hold a few sockets each, not the server's: past
/// the cap the upgrade is refused with 429, and a closed socket makes room again.
#[tokio::test]
async fn live_sockets_are_capped_per_conversation_and_per_agent() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let mut tabs = Vec::new();
    for _ in 0..8 {
        tabs.push(app.customer(&started, 0).await.0);
    }
    let path = format!("/v1/conversations/{}/live", started.conversation_id);
    assert_eq!(app.connect(&path, &[("origin", SHOP_ORIGIN)]).await.err(), Some(429));
    let mut closed = tabs.pop().expect("a tab");
    closed.close(None).await.expect("close");
    crate::common::eventually("room for another tab", || async {
        app.connect(&path, &[("origin", SHOP_ORIGIN)]).await.ok()
    })
    .await;

    let cookie = app.login("bert@shop.example").await;
    let origin = app.origin();
    let headers = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    let mut consoles = Vec::new();
    for _ in 0..8 {
        consoles.push(app.connect("/v1/agent/live", &headers).await.expect("console"));
    }
    assert_eq!(app.connect("/v1/agent/live", &headers).await.err(), Some(429));
}

/// Browsers send `Origin` with every POST and WebSocket, so where a page sends or opens
/// something (and on the console's state-changing routes) a request without it is refused
/// with 403 rather than taken for nobody's; the public GETs answer without it.
#[tokio::test]
async fn what_a_page_sends_or_opens_needs_its_origin() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let cookie = app.login("anna@shop.example").await;
    let posts = [
        ("/v1/conversations".to_owned(), serde_json::to_value(TestApp::start_request("shop")).expect("json")),
        (
            "/v1/merchants/shop/messages".to_owned(),
            serde_json::json!({ "email": "a@b.example", "text": "hi", "locale": "en", "page_url": "https://shop.example/", "transcript": [] }),
        ),
        (format!("/v1/conversations/{}/rating", started.conversation_id), serde_json::json!({ "score": 5 })),
        ("/v1/agent/invites".to_owned(), serde_json::json!({ "role": "agent" })),
    ];
    for (path, body) in posts {
        let request =
            app.http.post(app.url(&path)).header("cookie", &cookie).bearer_auth(&started.customer_token);
        let response = request.json(&body).send().await.expect("request");
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(response.json::<Problem>().await.expect("problem").code, ProblemCode::OriginNotAllowed);
    }
    let customer = format!("/v1/conversations/{}/live", started.conversation_id);
    assert_eq!(app.connect(&customer, &[]).await.err(), Some(403));
    assert_eq!(app.connect("/v1/agent/live", &[("cookie", &cookie)]).await.err(), Some(403));
    let config = app.http.get(app.url("/v1/merchants/shop/widget-config")).send().await.expect("request");
    assert_eq!(config.status(), 200);
}
