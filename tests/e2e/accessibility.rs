//! WCAG 2.2 AA in every state of the panel, checked by axe-core in headless Chromium, and the
//! whole customer path walked with the keyboard alone.

use crate::pages::{ANNA, Console, HostPage, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};
use fantoccini::key::Key;
use serde_json::json;
use tandem_protocol::AskEmail;

/// Waits for `part` of the widget, then fails on any axe-core violation in that state.
async fn no_violations_in(widget: &Widget<'_>, state: &str, part: Part) {
    widget.wait_for(part).await;
    let violations = widget.accessibility_violations().await;
    assert!(violations.is_empty(), "{state}: {violations:#?}");
}

#[tokio::test]
async fn every_state_of_a_conversation_with_a_person_passes_axe() {
    let mut server = TestServer::start(&widget_dist()).await;
    server.configure_demo(|merchant| merchant.settings.ask_email = AskEmail::Optional).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    no_violations_in(&widget, "the launcher", Part::Launcher).await;

    widget.open().await;
    no_violations_in(&widget, "the bot panel", Part::HumanButton).await;
    no_violations_in(&widget, "the greeting's topics", Part::StarterTopic).await;
    widget.send("Can I split my payment?").await;
    no_violations_in(&widget, "the bot's answer with quick replies", Part::QuickReply).await;
    page.set_widget_attribute("theme", "dark").await;
    no_violations_in(&widget, "the bot panel, dark", Part::QuickReply).await;
    page.remove_widget_attribute("theme").await;

    widget.ask_for_person().await;
    no_violations_in(&widget, "the details form", Part::DetailsForm).await;
    widget.fill(Part::DetailsEmail, "kim").await;
    widget.click(Part::DetailsContinue).await;
    no_violations_in(&widget, "the details form with its error", Part::DetailsProblem).await;
    widget.click(Part::DetailsSkip).await;
    no_violations_in(&widget, "waiting in the queue", Part::QueueStatus).await;

    console.accept_from_queue().await;
    console.type_reply("Hi, I am Anna").await;
    no_violations_in(&widget, "connected, the agent typing", Part::AgentTyping).await;
    console.send_reply().await;
    no_violations_in(&widget, "connected, a message from the agent", Part::Message).await;

    server.stop().await;
    no_violations_in(&widget, "reconnecting", Part::Reconnecting).await;
    server.start_again().await;
    widget.wait_gone(Part::Reconnecting).await;

    // The console reconnects too; its End goes through once it has.
    eventually("the agent to end the chat", || async {
        console.end_chat_once_connected().await;
        widget.shows(Part::ChatEnded).await.then_some(())
    })
    .await;
    no_violations_in(&widget, "ended, with the rating form", Part::RatingForm).await;
    assert!(!widget.shows(Part::TranscriptWanted).await, "no transcripts from a server that sends no email");
    widget.click(Part::RatingSend).await;
    no_violations_in(&widget, "the rating form with its error", Part::RatingProblem).await;
    widget.choose_rating(5).await;
    widget.click(Part::RatingSend).await;
    no_violations_in(&widget, "rated", Part::RatingThanks).await;
}

#[tokio::test]
async fn leaving_a_message_and_a_failed_start_pass_axe() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    let widget = Widget::open_on(&customer, &server.demo_url()).await;
    widget.ask_for_person().await;
    no_violations_in(&widget, "leave a message", Part::LeaveMessageForm).await;
    // The check can fail: axe sees inside the shadow root.
    widget.plant_an_unlabelled_button().await;
    let violations = widget.accessibility_violations().await;
    assert!(
        violations.iter().any(|v| v.starts_with("button-name") && v.contains("unlabelled")),
        "{violations:?}"
    );
    widget.remove_the_unlabelled_button().await;
    widget.click(Part::LeaveMessageSend).await;
    no_violations_in(&widget, "leave a message, with its error", Part::LeaveMessageProblem).await;
    widget.fill(Part::LeaveMessageEmail, "kim@example.com").await;
    widget.fill(Part::LeaveMessageText, "Please call me").await;
    widget.click(Part::LeaveMessageSend).await;
    no_violations_in(&widget, "message left", Part::MessageLeft).await;

    // The server going away: the widget says how else to reach a person.
    drop(server);
    widget.ask_for_person().await;
    no_violations_in(&widget, "could not start", Part::HumanContact).await;
}

/// Presses (`press`) until `part` of the widget has the focus.
async fn move_focus_to(widget: &Widget<'_>, part: Part, press: impl AsyncFn()) {
    eventually(&format!("focus on {part:?}"), || async {
        press().await;
        widget.has_focus(part).await.then_some(())
    })
    .await;
}

/// Tab, type, Enter, arrows and Escape only: from the page to a person, the chat, the rating,
/// and back to the page.
#[tokio::test]
async fn the_whole_customer_path_works_with_the_keyboard_alone() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    let tab = async || customer.press(Key::Tab).await;

    // Tab through the checkout page until the launcher has focus, then open it.
    move_focus_to(&widget, Part::Launcher, &tab).await;
    customer.press(Key::Enter).await;
    widget.wait_focus(Part::HumanButton).await;

    // Ask the bot first: Tab to the composer, type, Enter.
    move_focus_to(&widget, Part::ComposerInput, &tab).await;
    customer.type_keys("Are there any fees?\n").await;
    eventually("the bot's answer", || async { (widget.bot_lines().await.len() >= 2).then_some(()) }).await;

    // Back to the human button (Shift+Tab until it has focus) and ask for a person.
    move_focus_to(&widget, Part::HumanButton, async || customer.press_shift_tab().await).await;
    customer.press(Key::Enter).await;
    widget.wait_focus(Part::ComposerInput).await;

    console.accept_from_queue().await;
    widget.wait_for(Part::AgentInitials).await;
    customer.type_keys("Hello Anna\n").await;
    let line = console.first_message().await;
    assert!(line.contains("Hello Anna"), "{line}");

    console.end_chat().await;
    // The rating takes focus; arrows choose, Tab moves on, Enter sends.
    widget.wait_focus(Part::RatingChoice).await;
    customer.press(Key::Right).await;
    customer.press(Key::Right).await;
    customer.press(Key::Right).await;
    assert_eq!(widget.chosen_rating().await, json!("4"), "arrow keys move through the 1–5 choices");
    customer.press(Key::Tab).await;
    widget.wait_focus(Part::RatingComment).await;
    customer.type_keys("Good").await;
    customer.press(Key::Tab).await;
    widget.wait_focus(Part::RatingSend).await;
    customer.press(Key::Enter).await;
    widget.wait_for(Part::RatingThanks).await;

    // The thanks keeps the focus; Escape closes the panel and gives focus back to the
    // launcher: no trap.
    widget.wait_focus(Part::RatingThanks).await;
    customer.press(Key::Escape).await;
    widget.wait_focus(Part::Launcher).await;
}

/// The console, axe-clean where agents work: the desk with a chat open, its notes and the
/// canned responses listed under its composer, and the supervisor view; and its presence is a
/// labelled switch whose line says what switching does.
#[tokio::test]
async fn the_console_is_axe_clean_with_a_chat_open_and_its_presence_a_labelled_switch() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let (_page, _widget, console) = crate::handoff::talking_with_anna(&server, &customer, &agent).await;
    console.add_note("Prefers email").await;
    console.wait_notes(&["Anna: Prefers email"]).await;
    console.type_reply("/").await;
    console.canned_options().await;
    assert_eq!(console.axe().await, Vec::<String>::new());
    agent.screenshot("console-desk-1280.png").await;
    agent.client.set_window_size(1024, 768).await.expect("1024 px");
    agent.screenshot("console-desk-1024.png").await;
    assert_eq!(console.axe().await, Vec::<String>::new(), "at 1024 px");
    console.supervisor().open().await;
    console.supervisor().team().await;
    assert_eq!(console.axe().await, Vec::<String>::new(), "the supervisor view");
    console.open_desk().await;

    let (on, state) = console.presence().await;
    assert!(on && state.starts_with("Online: customers are offered to you"), "{state}");
    console.toggle_presence().await;
    eventually("away", || async {
        let (on, state) = console.presence().await;
        (!on && state.starts_with("Away: no customers are offered to you")).then_some(())
    })
    .await;
}
