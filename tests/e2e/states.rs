//! The panel's states around the live chat, in a real browser against the real server:
//! leaving a message when nobody is online, the details a merchant asks first, the agent's
//! name and initials, and the rating the agent then sees.

use crate::support::{Browser, TestServer, eventually, widget_dist};
use serde_json::json;
use tandem_protocol::AskEmail;

#[tokio::test]
async fn with_nobody_online_the_customer_leaves_a_message_that_agents_then_read() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    customer.open_widget().await;
    customer.click_in_widget("[data-testid=human-button]").await;

    let prompt = customer.widget_text("[data-testid=leave-message-form]").await;
    assert!(prompt.contains("No one is online") && prompt.contains("within 24 hours"), "{prompt}");
    // Bad input is explained and nothing is sent.
    customer.fill_in_widget("[data-testid=leave-message-email]", "kim").await;
    customer.fill_in_widget("[data-testid=leave-message-text]", "Where is my refund?").await;
    customer.click_in_widget("[data-testid=leave-message-send]").await;
    let problem = customer.widget_text("[data-testid=leave-message-form] [role=alert]").await;
    assert!(problem.contains("name@example.com"), "{problem}");
    customer.fill_in_widget("[data-testid=leave-message-email]", "@example.com").await;
    customer.click_in_widget("[data-testid=leave-message-send]").await;
    let sent = customer.widget_text("[data-testid=message-left]").await;
    assert!(sent.contains("kim@example.com") && sent.contains("24 hours"), "{sent}");
    // The human button is still one click away.
    customer.widget_text("[data-testid=human-button]").await;

    let agent = Browser::start().await;
    agent.sign_in_to_console(&server).await;
    let left = agent.page_text("[data-testid=left-message]").await;
    assert!(left.contains("kim@example.com") && left.contains("Where is my refund?"), "{left}");
}

#[tokio::test]
async fn details_first_then_the_agents_name_and_a_rating_the_agent_sees() {
    let server = TestServer::start(&widget_dist()).await;
    server.configure_demo(|merchant| merchant.settings.ask_email = AskEmail::Optional).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    customer.open_widget().await;
    customer.click_in_widget("[data-testid=human-button]").await;

    customer.widget_text("[data-testid=details-form]").await;
    let focused = customer.in_widget("return root.activeElement && root.activeElement.dataset.testid").await;
    assert_eq!(focused, json!("details-email"), "the form takes focus");
    customer.fill_in_widget("[data-testid=details-email]", "kim@example.com").await;
    customer.click_in_widget("[data-testid=details-continue]").await;
    customer.widget_text("[data-testid=queue-status]").await;

    agent.click_page("[data-testid=accept]").await;
    let who = agent.page_text("[data-testid=customer]").await;
    assert!(who.contains("kim@example.com") && who.contains("not verified"), "{who}");
    let status = customer.widget_text("[data-testid=human-status]").await;
    assert!(status.contains("You're talking to Anna"), "{status}");
    assert_eq!(customer.widget_text("[data-testid=agent-initials]").await, "A");

    agent.click_page("[data-testid=end]").await;
    customer.widget_text("[data-testid=rating-form]").await;
    customer.click_in_widget("[data-testid=rating-choice][value='4']").await;
    customer.fill_in_widget("[data-testid=rating-comment]", "Friendly and fast").await;
    customer.click_in_widget("[data-testid=rating-send]").await;
    customer.widget_text("[data-testid=rating-thanks]").await;

    let ended = eventually("the rating in the console", || async {
        let text = agent.page_text("[data-testid=chat-ended]").await;
        text.contains("Rated").then_some(text)
    })
    .await;
    assert!(ended.contains("Rated 4 of 5") && ended.contains("Friendly and fast"), "{ended}");
}

#[tokio::test]
async fn outside_business_hours_the_customer_leaves_a_message_even_with_agents_online() {
    let server = TestServer::start(&widget_dist()).await;
    // A one-hour window six hours from now (UTC): closed at the time of the test.
    let now_hour =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() / 3600
            % 24;
    let opens = (now_hour + 6) % 24;
    let hours = format!("Mon-Sun {opens:02}:00-{:02}:00 +00:00", opens + 1);
    let shown = hours.clone();
    server.configure_demo(move |merchant| merchant.business_hours = Some(hours)).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    agent.sign_in_to_console(&server).await;
    customer.client.goto(&server.demo_url()).await.expect("open demo page");
    customer.open_widget().await;
    customer.click_in_widget("[data-testid=human-button]").await;
    let form = customer.widget_text("[data-testid=leave-message-form]").await;
    assert!(form.contains("We're closed right now") && form.contains(&shown), "{form}");
}
