//! The merchant page's JavaScript API: calls made before the app loaded are replayed in order,
//! a signed identity reaches the agent, and the page hears the conversation's events through
//! `Tandem.on` and as DOM events on the host element.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::Locator;
use serde_json::{Value, json};

/// What the page recorded: `Tandem.on` callbacks and `tandem:*` DOM events, in order.
const RECORD: &str = "
    window.heard = [];
    ['handoff', 'agent-joined', 'message', 'closed'].forEach(function (name) {
        Tandem.on(name, function (detail) { heard.push(['on', name, detail]); });
        document.addEventListener('tandem:' + name, function (e) { heard.push(['dom', name, e.detail]); });
    });";

async fn heard(browser: &Browser) -> Vec<Value> {
    serde_json::from_value(browser.js("return window.heard", vec![]).await).unwrap_or_default()
}

async fn heard_event(browser: &Browser, name: &str) -> Vec<Value> {
    let events = eventually(name, || async {
        let matching: Vec<Value> = heard(browser).await.into_iter().filter(|e| e[1] == json!(name)).collect();
        (matching.len() >= 2).then_some(matching)
    })
    .await;
    assert_eq!(events[0][0], json!("on"), "Tandem.on heard {name}");
    assert_eq!(events[1][0], json!("dom"), "the host element dispatched tandem:{name}");
    events
}

#[tokio::test]
async fn queued_calls_replay_identity_reaches_the_agent_and_the_page_hears_events() {
    let server = TestServer::start(&widget_dist()).await;
    let secret = server.demo_identity_secret().await;
    let hash = tandem_server::identity::sign(&secret, "customer-42").expect("hex");
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    eventually("window.Tandem", || async {
        customer.js("return window.Tandem && true", vec![]).await.as_bool()
    })
    .await;

    // Before the app has loaded: nothing fetched yet, so these wait in the loader's queue.
    let loaded = customer.js("return !!window.__tandem_boot", vec![]).await;
    assert_eq!(loaded, json!(false), "the app is not loaded before these calls");
    customer.js(RECORD, vec![]).await;
    customer
        .js(
            "Tandem.setLocale('de');
             Tandem.identify({ id: 'customer-42', email: 'kim@example.com', name: 'Kim Berg', hash: arguments[0] });
             Tandem.open();",
            vec![json!(hash)],
        )
        .await;
    let human = eventually("the panel, opened by Tandem.open()", || async {
        let text = customer
            .in_widget(
                "const b = root.querySelector('[data-testid=human-button]'); return b && b.textContent",
            )
            .await;
        text.as_str().map(str::to_owned)
    })
    .await;
    assert_eq!(human, "Mit einem Menschen sprechen", "setLocale('de') was replayed");

    // close() and toggle() once loaded.
    customer.js("Tandem.close()", vec![]).await;
    eventually("the panel to close", || async {
        customer.in_widget("return !root.querySelector('[data-testid=panel]') || null").await.as_bool()
    })
    .await;
    customer.js("Tandem.toggle()", vec![]).await;
    customer.click_in_widget("[data-testid=human-button]").await;
    let handoff = heard_event(&customer, "handoff").await;
    assert!(handoff[0][2]["conversation_id"].as_str().is_some_and(|id| id.len() == 32), "{handoff:?}");

    agent.click_page("[data-testid=accept]").await;
    let who = agent.page_text("[data-testid=customer]").await;
    assert!(
        who.contains("Kim Berg")
            && who.contains("kim@example.com")
            && who.contains("verified customer customer-42"),
        "{who}"
    );
    let joined = heard_event(&customer, "agent-joined").await;
    assert_eq!(joined[0][2]["name"], json!("Anna"));

    let input = agent.client.find(Locator::Css("[data-testid=chat-input]")).await.expect("input");
    input.send_keys("Hallo Kim!\n").await.expect("type");
    let message = heard_event(&customer, "message").await;
    assert_eq!((&message[0][2]["from"], &message[0][2]["text"]), (&json!("agent"), &json!("Hallo Kim!")));

    agent.click_page("[data-testid=end]").await;
    heard_event(&customer, "closed").await;
}

#[tokio::test]
async fn a_forged_identity_is_dropped_and_the_customer_still_reaches_a_person() {
    let server = TestServer::start(&widget_dist()).await;
    server.demo_identity_secret().await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    eventually("window.Tandem", || async {
        customer.js("return window.Tandem && true", vec![]).await.as_bool()
    })
    .await;
    customer
        .js("Tandem.identify({ id: 'someone-else', hash: '00'.repeat(32) }); Tandem.open();", vec![])
        .await;
    customer.click_in_widget("[data-testid=human-button]").await;
    eventually("the queue entry", || async {
        agent.client.find(Locator::Css("[data-testid=accept]")).await.ok()
    })
    .await
    .click()
    .await
    .expect("accept");
    let who = agent.page_text("[data-testid=customer]").await;
    assert_eq!(who, "Anonymous visitor", "the forged identity is not shown");
}
