//! Dispatch in three browsers: two agents in the console are offered waiting customers one at a
//! time, with a countdown; a decline moves the offer on. The admin then invites a new agent, who
//! joins from the link, and the supervisor view shows the live figures.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::Locator;
use serde_json::Value;

/// Whether the console shows an offer now.
async fn has_offer(agent: &Browser) -> bool {
    agent.js("return document.querySelector('[data-testid=offer]') !== null", vec![]).await
        == Value::Bool(true)
}

/// The customer opens the widget on the demo page and asks for a person.
async fn ask_for_a_person(customer: &Browser, server: &TestServer) {
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    // The page asks for an agent who knows billing (`skill`, like `data-skill` on the tag).
    eventually("the widget's element", || async {
        let script = "const e = document.querySelector('tandem-chat'); if (e) e.setAttribute('skill', 'billing'); return !!e || null";
        customer.js(script, vec![]).await.as_bool()
    })
    .await;
    customer.open_widget().await;
    customer.click_in_widget("[data-testid=human-button]").await;
}

async fn fill(browser: &Browser, selector: &str, text: &str) {
    let field =
        eventually(selector, || async { browser.client.find(Locator::Css(selector)).await.ok() }).await;
    field.send_keys(text).await.expect("type");
}

#[tokio::test]
async fn two_agents_are_offered_customers_one_at_a_time_and_an_invited_agent_joins() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, anna, ben) = tokio::join!(Browser::start(), Browser::start(), Browser::start());
    // Anna signs in first: idle longest, she is offered the first customer.
    anna.sign_in_to_console_as(&server, "anna@northwind.example").await;
    ben.sign_in_to_console_as(&server, "ben@northwind.example").await;

    ask_for_a_person(&customer, &server).await;
    let offer = anna.page_text("[data-testid=offer]").await;
    assert!(offer.contains("A customer for you") && offer.contains("Ask us anything"), "{offer}");
    // Nobody online has the skill, so it goes to whoever can answer, saying what is needed.
    assert!(offer.contains("needs billing"), "{offer}");
    let countdown = anna.page_text("[data-testid=offer-countdown]").await;
    assert!(countdown.ends_with("s to answer"), "{countdown}");
    assert!(!has_offer(&ben).await, "never offered to two agents at once");
    let announced = anna.page_text("[data-testid=offer-announcement]").await;
    assert!(announced.contains("offered to you"), "screen readers hear of it: {announced}");
    anna.screenshot("dispatch-offer.png").await;

    // Anna declines: the offer moves to Ben, who accepts.
    anna.click_page("[data-testid=offer-decline]").await;
    let offer = ben.page_text("[data-testid=offer]").await;
    assert!(offer.contains("Ask us anything"), "{offer}");
    assert!(!has_offer(&anna).await);
    ben.click_page("[data-testid=offer-accept]").await;
    ben.page_text("[data-testid=chat]").await;
    eventually("the customer to be told who answers", || async {
        customer
            .widget_text("[data-testid=human-status]")
            .await
            .contains("You're talking to Ben")
            .then_some(())
    })
    .await;
    assert!(!has_offer(&ben).await, "the offer card is gone once accepted");

    // The supervisor view (Anna is an admin) shows the live figures.
    // It refreshes every few seconds.
    eventually("Ben online with one chat in the supervisor view", || async {
        let ben = anna.page_text("[data-testid=team-member]:nth-child(2)").await;
        (ben.contains("Ben") && ben.contains("Online") && ben.contains("1 of 3")).then_some(())
    })
    .await;
    let conversations = anna.page_text("[data-testid=conversations]").await;
    assert_eq!(conversations, "1");
    let p50 = anna.page_text("[data-testid=p50]").await;
    assert!(p50.ends_with(" s"), "time to a person is measured: {p50}");
    assert!(
        ben.js("return document.querySelector('[data-testid=supervisor]') === null", vec![]).await
            == Value::Bool(true),
        "agents do not see it"
    );
    anna.screenshot("dispatch-supervisor.png").await;

    // Ben hands the customer back to the bot; the widget says so.
    ben.click_page("[data-testid=to-bot]").await;
    eventually("the customer to be back with the bot", || async {
        customer.widget_text("[data-testid=notice]").await.contains("handed you back").then_some(())
    })
    .await;

    // Asking again, the customer is offered to an agent; rather than wait they leave a message,
    // and the offer is withdrawn from the console at once.
    customer.click_in_widget("[data-testid=human-button]").await;
    let offered = eventually("an offer to one of them", || async {
        if has_offer(&anna).await {
            Some(&anna)
        } else if has_offer(&ben).await {
            Some(&ben)
        } else {
            None
        }
    })
    .await;
    customer.click_in_widget("[data-testid=leave-message-instead]").await;
    customer.widget_text("[data-testid=leave-message-form]").await;
    eventually("the offer to be withdrawn", || async { (!has_offer(offered).await).then_some(()) }).await;

    // Anna invites a new agent; the link works once, from another browser.
    anna.click_page("[data-testid=create-invite]").await;
    let link = eventually("the invite link", || async {
        let value = anna
            .js("const e = document.querySelector('[data-testid=invite-link]'); return e && e.value", vec![])
            .await;
        value.as_str().filter(|v| !v.is_empty()).map(str::to_owned)
    })
    .await;
    assert!(link.contains("/console/#invite="), "{link}");
    customer.client.goto(&link).await.expect("open invite");
    let heading = customer.page_text("[data-testid=join] h2").await;
    assert_eq!(heading, "Join Northwind Outfitters on Tandem");
    let url = customer.client.current_url().await.expect("url");
    assert!(!url.as_str().contains("invite="), "the token leaves the address bar: {url}");
    fill(&customer, "[data-testid=join-name]", "Cleo").await;
    fill(&customer, "[data-testid=join-email]", "cleo@northwind.example").await;
    customer.click_page("[data-testid=join-language-sv]").await;
    fill(&customer, "[data-testid=join-password]", "a long enough password").await;
    customer.click_page("[data-testid=join-submit]").await;
    eventually("Cleo's desk, connected", || async {
        customer.client.find(Locator::Css("[data-testid=desk-bar][data-ready=true]")).await.ok()
    })
    .await;
    assert_eq!(customer.page_text("[data-testid=agent-name]").await, "Cleo");
    eventually("Cleo in the supervisor view", || async {
        let team = anna.page_text("[data-testid=team]").await;
        (team.contains("Cleo") && team.contains("en, sv")).then_some(())
    })
    .await;
}
