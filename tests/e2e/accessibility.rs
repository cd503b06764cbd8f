//! WCAG 2.2 AA in every state of the panel, checked by axe-core in headless Chromium, and the
//! whole customer path walked with the keyboard alone.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::json;
use tandem_protocol::AskEmail;

/// Waits for `selector` in the widget, then fails on any axe-core violation in that state.
async fn no_violations_in(browser: &Browser, state: &str, selector: &str) {
    let script = format!("return !!root.querySelector({selector:?}) || null");
    eventually(state, || async { browser.in_widget(&script).await.as_bool() }).await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{state}: {violations:#?}");
}

#[tokio::test]
async fn every_state_of_a_conversation_with_a_person_passes_axe() {
    let mut server = TestServer::start(&widget_dist()).await;
    server.configure_demo(|merchant| merchant.settings.ask_email = AskEmail::Optional).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    no_violations_in(&customer, "the launcher", "[data-testid=launcher]").await;

    customer.open_widget().await;
    no_violations_in(&customer, "the bot panel", "[data-testid=human-button]").await;
    customer.type_in_widget("Can I split my payment?").await;
    no_violations_in(&customer, "the bot's answer with quick replies", "[data-testid=quick-reply]").await;
    customer.js("document.querySelector('tandem-chat').setAttribute('theme', 'dark')", vec![]).await;
    no_violations_in(&customer, "the bot panel, dark", "[data-testid=quick-reply]").await;
    customer.js("document.querySelector('tandem-chat').removeAttribute('theme')", vec![]).await;

    customer.click_in_widget("[data-testid=human-button]").await;
    no_violations_in(&customer, "the details form", "[data-testid=details-form]").await;
    customer.fill_in_widget("[data-testid=details-email]", "kim").await;
    customer.click_in_widget("[data-testid=details-continue]").await;
    no_violations_in(&customer, "the details form with its error", "[data-testid=details-form] [role=alert]")
        .await;
    customer.click_in_widget("[data-testid=details-skip]").await;
    no_violations_in(&customer, "waiting in the queue", "[data-testid=queue-status]").await;

    agent.click_page("[data-testid=accept]").await;
    let input = eventually("the agent's input", || async {
        agent.client.find(Locator::Css("[data-testid=chat-input]")).await.ok()
    })
    .await;
    input.send_keys("Hi, I am Anna").await.expect("type");
    no_violations_in(&customer, "connected, the agent typing", "[data-testid=agent-typing]").await;
    input.send_keys("\n").await.expect("send");
    no_violations_in(&customer, "connected, a message from the agent", "[data-testid=message]").await;

    server.stop().await;
    no_violations_in(&customer, "reconnecting", "[data-testid=reconnecting]").await;
    server.start_again().await;
    eventually("the connection back", || async {
        customer.in_widget("return !root.querySelector('[data-testid=reconnecting]') || null").await.as_bool()
    })
    .await;

    // The console reconnects too; its End goes through once it has.
    eventually("the agent to end the chat", || async {
        let reconnecting = agent.client.find(Locator::Css("[data-testid=reconnecting]")).await.is_ok();
        if !reconnecting && let Ok(end) = agent.client.find(Locator::Css("[data-testid=end]")).await {
            let _ = end.click().await;
        }
        customer.in_widget("return !!root.querySelector('[data-testid=chat-ended]') || null").await.as_bool()
    })
    .await;
    no_violations_in(&customer, "ended, with the rating form", "[data-testid=rating-form]").await;
    customer.click_in_widget("[data-testid=rating-send]").await;
    no_violations_in(&customer, "the rating form with its error", "[data-testid=rating-form] [role=alert]")
        .await;
    customer.click_in_widget("[data-testid=rating-choice][value='5']").await;
    customer.click_in_widget("[data-testid=rating-send]").await;
    no_violations_in(&customer, "rated", "[data-testid=rating-thanks]").await;
}

#[tokio::test]
async fn leaving_a_message_and_a_failed_start_pass_axe() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    customer.open_widget().await;
    customer.click_in_widget("[data-testid=human-button]").await;
    no_violations_in(&customer, "leave a message", "[data-testid=leave-message-form]").await;
    // The check can fail: axe sees inside the shadow root.
    customer.in_widget("const b = document.createElement('button'); b.id = 'unlabelled'; root.querySelector('[data-testid=panel]').append(b); return true").await;
    let violations = customer.accessibility_violations().await;
    assert!(
        violations.iter().any(|v| v.starts_with("button-name") && v.contains("unlabelled")),
        "{violations:?}"
    );
    customer.in_widget("root.getElementById('unlabelled').remove(); return true").await;
    customer.click_in_widget("[data-testid=leave-message-send]").await;
    no_violations_in(
        &customer,
        "leave a message, with its error",
        "[data-testid=leave-message-form] [role=alert]",
    )
    .await;
    customer.fill_in_widget("[data-testid=leave-message-email]", "kim@example.com").await;
    customer.fill_in_widget("[data-testid=leave-message-text]", "Please call me").await;
    customer.click_in_widget("[data-testid=leave-message-send]").await;
    no_violations_in(&customer, "message left", "[data-testid=message-left]").await;

    // The server going away: the widget says how else to reach a person.
    drop(server);
    customer.click_in_widget("[data-testid=human-button]").await;
    no_violations_in(&customer, "could not start", "[data-testid=human-contact]").await;
}

/// Tab, type, Enter, arrows and Escape only: from the page to a person, the chat, the rating,
/// and back to the page.
#[tokio::test]
async fn the_whole_customer_path_works_with_the_keyboard_alone() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    let focused = |testid: &'static str| {
        let customer = &customer;
        async move {
            let script = format!(
                "return root.activeElement && root.activeElement.dataset.testid === {testid:?} || null"
            );
            eventually(testid, || async { customer.in_widget(&script).await.as_bool() }).await;
        }
    };

    // Tab through the checkout page until the launcher has focus, then open it.
    eventually("the launcher to take focus", || async {
        customer.press(Key::Tab).await;
        customer
            .in_widget(
                "return root.activeElement && root.activeElement.dataset.testid === 'launcher' || null",
            )
            .await
            .as_bool()
    })
    .await;
    customer.press(Key::Enter).await;
    focused("human-button").await;

    // Ask the bot first: Tab to the composer, type, Enter.
    eventually("the composer", || async {
        customer.press(Key::Tab).await;
        customer
            .in_widget(
                "return root.activeElement && root.activeElement.dataset.testid === 'composer-input' || null",
            )
            .await
            .as_bool()
    })
    .await;
    customer
        .client
        .active_element()
        .await
        .expect("composer")
        .send_keys("Are there any fees?\n")
        .await
        .expect("type");
    eventually("the bot's answer", || async {
        customer
            .in_widget("return root.querySelectorAll('[data-testid=bot-line]').length >= 2 || null")
            .await
            .as_bool()
    })
    .await;

    // Back to the human button (Shift+Tab until it has focus) and ask for a person.
    eventually("the human button again", || async {
        customer.press_shift_tab().await;
        customer
            .in_widget(
                "return root.activeElement && root.activeElement.dataset.testid === 'human-button' || null",
            )
            .await
            .as_bool()
    })
    .await;
    customer.press(Key::Enter).await;
    focused("composer-input").await;

    agent.click_page("[data-testid=accept]").await;
    eventually("connected", || async {
        customer
            .in_widget("return !!root.querySelector('[data-testid=human-status] .initials') || null")
            .await
            .as_bool()
    })
    .await;
    customer.client.active_element().await.expect("composer").send_keys("Hello Anna\n").await.expect("type");
    let line = agent.page_text("[data-testid=message]").await;
    assert!(line.contains("Hello Anna"), "{line}");

    agent.click_page("[data-testid=end]").await;
    // The rating takes focus; arrows choose, Tab moves on, Enter sends.
    focused("rating-choice").await;
    customer.press(Key::Right).await;
    customer.press(Key::Right).await;
    customer.press(Key::Right).await;
    let chosen =
        customer.in_widget("return root.querySelector('[data-testid=rating-choice]:checked').value").await;
    assert_eq!(chosen, json!("4"), "arrow keys move through the 1–5 choices");
    customer.press(Key::Tab).await;
    focused("rating-comment").await;
    customer.client.active_element().await.expect("comment").send_keys("Good").await.expect("type");
    customer.press(Key::Tab).await;
    focused("rating-send").await;
    customer.press(Key::Enter).await;
    eventually("the thanks", || async {
        customer
            .in_widget("return !!root.querySelector('[data-testid=rating-thanks]') || null")
            .await
            .as_bool()
    })
    .await;

    // The thanks keeps the focus; Escape closes the panel and gives focus back to the
    // launcher: no trap.
    focused("rating-thanks").await;
    customer.press(Key::Escape).await;
    focused("launcher").await;
}
