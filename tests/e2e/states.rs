//! The panel's states around the live chat, in a real browser against the real server:
//! leaving a message when nobody is online, the details a merchant asks first, the agent's
//! name and initials, and the rating the agent then sees.

use crate::pages::{ANNA, Console, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};
use tandem_protocol::AskEmail;

#[tokio::test]
async fn with_nobody_online_the_customer_leaves_a_message_that_agents_then_read() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    let widget = Widget::open_on(&customer, &server.demo_url()).await;
    widget.ask_for_person().await;

    let prompt = widget.text(Part::LeaveMessageForm).await;
    assert!(prompt.contains("No one is online") && prompt.contains("within 24 hours"), "{prompt}");
    // Bad input is explained and nothing is sent.
    widget.fill(Part::LeaveMessageEmail, "kim").await;
    widget.fill(Part::LeaveMessageText, "Where is my refund?").await;
    widget.click(Part::LeaveMessageSend).await;
    let problem = widget.text(Part::LeaveMessageProblem).await;
    assert!(problem.contains("name@example.com"), "{problem}");
    widget.fill(Part::LeaveMessageEmail, "@example.com").await;
    widget.click(Part::LeaveMessageSend).await;
    let sent = widget.text(Part::MessageLeft).await;
    assert!(sent.contains("kim@example.com") && sent.contains("24 hours"), "{sent}");
    // The human button is still one click away.
    widget.wait_for(Part::HumanButton).await;

    let agent = Browser::start().await;
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let left = console.left_message().await;
    assert!(left.contains("kim@example.com") && left.contains("Where is my refund?"), "{left}");
}

#[tokio::test]
async fn details_first_then_the_agents_name_and_a_rating_the_agent_sees() {
    let server = TestServer::start(&widget_dist()).await;
    server.configure_demo(|merchant| merchant.settings.ask_email = AskEmail::Optional).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let widget = Widget::open_on(&customer, &server.demo_url()).await;
    widget.ask_for_person().await;

    widget.wait_for(Part::DetailsForm).await;
    assert!(widget.has_focus(Part::DetailsEmail).await, "the form takes focus");
    widget.fill(Part::DetailsEmail, "kim@example.com").await;
    widget.click(Part::DetailsContinue).await;
    widget.wait_for(Part::QueueStatus).await;

    console.accept_from_queue().await;
    let who = console.customer().await;
    assert!(who.contains("kim@example.com") && who.contains("not verified"), "{who}");
    let status = widget.text(Part::HumanStatus).await;
    assert!(status.contains("You're talking to Anna"), "{status}");
    assert_eq!(widget.text(Part::AgentInitials).await, "A");

    console.end_chat().await;
    widget.wait_for(Part::RatingForm).await;
    widget.choose_rating(4).await;
    widget.fill(Part::RatingComment, "Friendly and fast").await;
    widget.click(Part::RatingSend).await;
    widget.wait_for(Part::RatingThanks).await;

    let ended = eventually("the rating in the console", || async {
        let text = console.chat_ended().await;
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
    Console::sign_in(&agent, &server, ANNA).await;
    let widget = Widget::open_on(&customer, &server.demo_url()).await;
    widget.ask_for_person().await;
    let form = widget.text(Part::LeaveMessageForm).await;
    assert!(form.contains("We're closed right now") && form.contains(&shown), "{form}");
}

/// When the merchant's queue is full, asking for a person is answered with the form to leave a
/// message, saying why: never a dead end.
#[tokio::test]
async fn with_the_queue_full_the_customer_is_offered_to_leave_a_message() {
    let server = TestServer::start(&widget_dist()).await;
    server.configure_demo(|merchant| merchant.policies.max_waiting = 1).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    Console::sign_in(&agent, &server, ANNA).await;
    // Someone else already waits.
    let origin = server.demo_url().trim_end_matches('/').to_owned();
    let waiting = serde_json::json!({
        "merchant_id": "demo", "locale": "en", "page_url": format!("{origin}/"), "transcript": [], "reason": "button"
    });
    let started = reqwest::Client::new()
        .post(server.api_url("/v1/conversations"))
        .header("origin", &origin)
        .json(&waiting)
        .send()
        .await
        .expect("start");
    assert_eq!(started.status(), 201);

    let widget = Widget::open_on(&customer, &server.demo_url()).await;
    widget.ask_for_person().await;
    let form = widget.text(Part::LeaveMessageForm).await;
    assert!(form.contains("Everyone is busy") && form.contains("within 24 hours"), "{form}");
}
