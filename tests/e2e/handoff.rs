//! The product's promise, end to end in two browsers: a customer on the demo checkout page asks
//! for a person, an agent in the console accepts, they chat — and a reload and a server restart
//! in the middle lose and double nothing.

use crate::pages::{ANNA, Console, HostPage, Part, Widget};
use crate::support::{Browser, TestServer, eventually, eventually_equal, eventually_within, widget_dist};
use fantoccini::key::Key;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn customer_reaches_an_agent_and_nothing_is_lost_across_reload_and_restart() {
    let mut server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());

    let console = Console::sign_in(&agent, &server, ANNA).await;

    // The customer opens the widget and asks for a person.
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    widget.wait_text(Part::QueueStatus, "next in line").await;

    // The agent sees the waiting customer with what the bot said, and accepts.
    let preview = console.queue_entry().await;
    assert!(preview.contains("Ask us anything"), "the preview shows the bot transcript: {preview}");
    console.accept_from_queue().await;
    let page_url = console.page_url().await;
    assert!(page_url.contains(&server.demo_url()), "{page_url}");
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;

    // Messages both ways, rendered as text.
    widget.send("Where is my <b>order</b>?").await;
    console.wait_messages(&["Where is my <b>order</b>?"]).await;
    console.reply("Let me check that for you.").await;
    widget.wait_messages(&["Where is my <b>order</b>?", "Let me check that for you."]).await;
    customer.screenshot("handoff-customer-chatting.png").await;
    agent.screenshot("handoff-agent-chatting.png").await;

    // A reload mid-chat resumes the same conversation with its history.
    customer.client.refresh().await.expect("reload");
    widget.wait_messages(&["Where is my <b>order</b>?", "Let me check that for you."]).await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;

    // A server restart mid-chat: both sides reconnect; nothing is lost or doubled.
    server.restart().await;
    widget.wait_gone(Part::Reconnecting).await;
    widget.send("Are you still there?").await;
    let expected = ["Where is my <b>order</b>?", "Let me check that for you.", "Are you still there?"];
    console.wait_messages(&expected).await;
    console.reply("Yes, still here.").await;
    let expected = [
        "Where is my <b>order</b>?",
        "Let me check that for you.",
        "Are you still there?",
        "Yes, still here.",
    ];
    widget.wait_messages(&expected).await;
    console.wait_messages(&expected).await;
    assert_eq!(widget.message_sequences().await, json!([1, 2, 3, 4]), "each message once, in order");

    // The agent ends the conversation; the customer is told.
    console.end_chat().await;
    widget.wait_text(Part::ChatEnded, "The chat has ended").await;
    // The ended chat stays on the desk (for the customer's rating) until the agent closes it.
    let ended = console.chat_ended().await;
    assert!(ended.contains("Conversation ended"), "{ended}");
    console.close_chat().await;
    assert_eq!(page.kept().await, json!(0), "an ended conversation is forgotten by the browser");
}

/// "Seen" on both sides, from the existing `read` frames: under the customer's last message once
/// Anna has read it, under hers once the customer has — and not while the customer's tab is
/// hidden: her reply is seen when the tab shows again.
#[tokio::test]
async fn each_side_sees_when_the_other_has_read_its_last_message() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    HostPage::control_visibility(&customer).await;
    HostPage::control_visibility(&agent).await;
    let (page, widget, console) = talking_with_anna(&server, &customer, &agent).await;

    widget.send("Is my parcel on its way?").await;
    console.wait_messages(&["Is my parcel on its way?"]).await;
    widget.wait_for(Part::Seen).await;
    assert_eq!(widget.text(Part::Seen).await, "Seen");

    page.hide_tab().await;
    console.reply("It left our warehouse today.").await;
    widget.wait_messages(&["Is my parcel on its way?", "It left our warehouse today."]).await;
    assert!(!widget.shows(Part::Seen).await, "her reply is the last message now");
    // Read receipts leave within a second of what arrived; this waits for two.
    let unseen =
        eventually_within(Duration::from_secs(2), || async { console.shows_seen().await.then_some(()) });
    assert!(unseen.await.is_none(), "not seen while the customer's tab is hidden");

    page.show_tab().await;
    console.wait_seen().await;

    // A second conversation on the same page starts with nothing seen (its messages are
    // numbered from 1 again): with Anna in another tab, the customer's message stays unseen.
    console.end_chat().await;
    widget.wait_text(Part::ChatEnded, "The chat has ended").await;
    console.close_chat().await;
    widget.ask_for_person().await;
    console.accept_from_queue().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    console.hide_tab().await;
    widget.send("One more thing").await;
    console.wait_messages(&["One more thing"]).await;
    let seen =
        eventually_within(Duration::from_secs(2), || async { widget.shows(Part::Seen).await.then_some(()) });
    assert!(seen.await.is_none(), "the first conversation's reading is not carried over");
}

/// An internal note: Anna writes one for her team and her console shows it; her reply after it
/// reaches the customer, and not one frame of the customer's socket carries the note.
#[tokio::test]
async fn an_agents_note_stays_with_the_team_and_never_reaches_the_customer() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    HostPage::record_socket_frames(&customer).await;
    let (page, widget, console) = talking_with_anna(&server, &customer, &agent).await;

    console.add_note("Asked twice about the invoice: a regular").await;
    console.wait_notes(&["Anna: Asked twice about the invoice: a regular"]).await;
    console.reply("Happy to help with that.").await;
    widget.wait_messages(&["Happy to help with that."]).await;
    let frames = page.socket_frames().await;
    assert!(frames.iter().any(|frame| frame.contains("Happy to help")), "the recorder hears the socket");
    assert!(frames.iter().all(|frame| !frame.contains("invoice")), "a note reached the customer: {frames:?}");
}

/// A canned response: Anna types `/wel`, the merchant's greeting is listed, Enter takes it into
/// the composer in the customer's language with her name filled in (the customer's, unknown
/// here, left out), and the next Enter sends it.
#[tokio::test]
async fn a_canned_response_is_found_with_a_slash_and_sent_filled_in() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let (_page, widget, console) = talking_with_anna(&server, &customer, &agent).await;

    console.type_reply("/wel").await;
    assert_eq!(console.canned_options().await, ["/welcome Greeting"]);
    console.press_in_reply(Key::Enter).await;
    let greeting = "Hi, I'm Anna from Northwind. How can I help?";
    eventually_equal("the greeting in the composer", &greeting, async || console.draft().await).await;
    console.press_in_reply(Key::Enter).await;
    widget.wait_messages(&[greeting]).await;
}

/// The desk with two chats: the one just taken is in the centre, the other waits in "My chats"
/// with what the customer sent meanwhile counted as unread and the time they have waited; the
/// keyboard moves to it, where the message is read, and the composer has the focus.
#[tokio::test]
async fn an_agent_with_two_chats_sees_what_is_unread_and_moves_between_them_with_the_keyboard() {
    let server = TestServer::start(&widget_dist()).await;
    let (kim, lee, agent) = tokio::join!(Browser::start(), Browser::start(), Browser::start());
    let (_page, kim_widget, console) = talking_with_anna(&server, &kim, &agent).await;
    HostPage::open(&lee, &server.demo_url()).await;
    let lee_widget = Widget::inline(&lee);
    lee_widget.open().await;
    lee_widget.ask_for_person().await;
    console.accept_from_queue().await;
    lee_widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    eventually_equal("Lee's chat in the centre", &Some(1), async || console.selected_chat().await).await;

    kim_widget.send("Are you still there?").await;
    eventually("Kim's message counted unread", || async {
        let items = console.chat_items().await;
        (items.len() == 2 && items[0].contains("1 unread") && items[0].contains("waiting")).then_some(())
    })
    .await;

    console.next_chat().await;
    eventually_equal("Kim's chat in the centre", &Some(0), async || console.selected_chat().await).await;
    console.wait_messages(&["Are you still there?"]).await;
    eventually("read", || async { (!console.chat_items().await[0].contains("unread")).then_some(()) }).await;
    assert_eq!(console.focused().await, "chat-input", "the keyboard is in Kim's composer");
}

/// What a waiting customer has half typed stays in the composer while the queue moves and the
/// agent joins (the composer is not drawn anew on every change of the conversation's state).
#[tokio::test]
async fn a_half_typed_message_survives_the_agent_joining() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    widget.wait_text(Part::QueueStatus, "next in line").await;

    widget.fill(Part::ComposerInput, "My order number is").await;
    console.accept_from_queue().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    assert_eq!(widget.draft().await, "My order number is");

    widget.press(Key::Enter).await;
    console.wait_messages(&["My order number is"]).await;
}

/// A 1×1 PNG, the smallest real picture.
pub(crate) const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
    0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64, 0x60, 0xF8, 0x5F, 0x0F, 0x00, 0x02,
    0x87, 0x01, 0x80, 0xEB, 0x47, 0xBA, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// Files both ways: the customer's screenshot reaches Anna as a picture (with its progress shown
/// while it goes), her invoice reaches the customer as a download, and an HTML page named
/// `.png` is refused, the widget saying why.
#[tokio::test]
async fn a_screenshot_goes_to_the_agent_a_pdf_to_the_customer_and_a_disguised_page_is_refused() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let (_page, widget, console) = talking_with_anna(&server, &customer, &agent).await;

    widget.record_uploads().await;
    widget.choose_file("error.png", PNG, "image/png").await;
    let at_anna = console.wait_files(1).await;
    assert!(at_anna[0].0.starts_with("error.png"), "{at_anna:?}");
    eventually("the screenshot drawn in the console", || async {
        console.wait_files(1).await[0].1.then_some(())
    })
    .await;
    assert_eq!(widget.uploads_shown().await.first().map(String::as_str), Some("Sending error.png"));
    let at_customer = widget.wait_files(1).await;
    assert!(at_customer[0].2.starts_with("blob:"), "fetched with the token: {at_customer:?}");

    console.choose_file("invoice.pdf", PDF, "application/pdf").await;
    let files = widget.wait_files(2).await;
    assert!(files[1].0.starts_with("invoice.pdf"), "{files:?}");
    assert!(!files[1].1, "a PDF is a download, not a picture");
    assert!(files[0].1, "the screenshot is drawn in the widget too");

    widget.choose_file("receipt.png", b"<!doctype html><script>alert(1)</script>", "image/png").await;
    widget
        .wait_text(
            Part::Notice,
            "receipt.png was not sent: only images (PNG, JPEG, WebP) and PDF files can be sent.",
        )
        .await;
    assert_eq!(console.files_now().await.len(), 2, "nothing more reached Anna");
    console
        .choose_file(
            "diagram.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            "image/svg+xml",
        )
        .await;
    let refused = console.notice().await;
    assert!(
        refused.contains("diagram.svg was not sent: only images (PNG, JPEG, WebP) and PDF files"),
        "{refused}"
    );
    // The attach button, the files and the refusal, checked as a screen reader meets them.
    assert_eq!(widget.accessibility_violations().await, Vec::<String>::new());
    assert_eq!(console.axe().await, Vec::<String>::new());
    assert_eq!(widget.attach_button_label().await, "Attach an image or PDF");
}

/// The demo shop's cart (`Tandem.setContext`) is beside the handoff in the agent's console,
/// marked as from the page; a context too large, or one JSON cannot write, is warned about in
/// the page's console and dropped.
#[tokio::test]
async fn the_cart_the_page_set_is_beside_the_handoff_and_a_bad_context_is_dropped() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &server, ANNA).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    page.wait_for_api().await;
    page.watch_warnings().await;
    page.call("setContext", vec![json!({ "blob": "x".repeat(9000) })]).await;
    page.set_context_to("{ total: 10n }").await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    console.accept_from_queue().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;

    let context = console.page_context().await;
    assert!(context.starts_with("From the page (not verified)"), "{context}");
    assert!(context.contains("Trail runner shoes, size 42") && context.contains("2 446 kr"), "{context}");
    assert!(!context.contains("xxxx"), "the oversized one was dropped");
    let warnings = page.warnings().await;
    let refused = warnings.iter().filter(|w| w.starts_with("Tandem.setContext: pass an object")).count();
    assert_eq!(refused, 2, "{warnings:?}");
}

/// The start of a story in two browsers: a customer on the demo checkout page asks for a person
/// and Anna, signed in to the console, accepts.
pub(crate) async fn talking_with_anna<'a>(
    server: &TestServer,
    customer: &'a Browser,
    agent: &'a Browser,
) -> (HostPage<'a>, Widget<'a>, Console<'a>) {
    let console = Console::sign_in(agent, server, ANNA).await;
    let page = HostPage::open(customer, &server.demo_url()).await;
    let widget = Widget::inline(customer);
    widget.open().await;
    widget.ask_for_person().await;
    console.accept_from_queue().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    (page, widget, console)
}

/// A customer ticks the box as the chat ends, gives an address, and the transcript arrives
/// there (through a real SMTP exchange with a sink of the test's), the form axe-clean.
#[tokio::test]
async fn a_customer_ticks_for_a_transcript_as_the_chat_ends_and_it_reaches_their_inbox() {
    let sink = tandem_server::mail::sink::Sink::start().await.expect("mail sink");
    let server = TestServer::start_mailing_to(&widget_dist(), &sink.url()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let (_page, widget, console) = talking_with_anna(&server, &customer, &agent).await;
    console.reply("Your refund is on its way").await;
    widget.wait_messages(&["Your refund is on its way"]).await;
    console.end_chat().await;

    widget.wait_for(Part::TranscriptWanted).await;
    assert!(!widget.shows(Part::TranscriptEmail).await, "the address is asked once the box is ticked");
    widget.click(Part::TranscriptWanted).await;
    widget.fill(Part::TranscriptEmail, "kim@").await;
    widget.click(Part::TranscriptSend).await;
    widget.wait_for(Part::TranscriptProblem).await;
    let violations = widget.accessibility_violations().await;
    assert!(violations.is_empty(), "the transcript form with its error: {violations:#?}");
    widget.fill(Part::TranscriptEmail, "example.com").await;
    widget.click(Part::TranscriptSend).await;
    widget
        .wait_text(Part::TranscriptSent, "A transcript of this chat is on its way to kim@example.com.")
        .await;

    let mails = sink.wait_for(1, Duration::from_secs(20)).await.expect("the transcript arrives");
    assert_eq!(mails[0].to, ["kim@example.com"]);
    assert!(mails[0].body().contains("Anna: Your refund is on its way"), "{}", mails[0].body());
}

/// A message sent just before the next checkout page loads, and not acknowledged yet (the
/// server answered `rate_limited`: another tab spends the budget), is kept by the tab, sent
/// again from the next page, and reaches the agent once.
#[tokio::test]
async fn a_message_sent_just_before_the_next_page_arrives_once() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    HostPage::record_socket_frames(&customer).await;
    let (page, widget, console) = talking_with_anna(&server, &customer, &agent).await;

    let (conversation, token) = page.conversation().await;
    let flood = server.flood_as_customer(&conversation, &token).await;
    // The flood leaves the budget spent nearly always; a send that still wins a message's
    // place is acknowledged, and the customer tries another.
    let mut sent = None;
    for attempt in 1..=5 {
        let text = format!("Is order 42 on its way? ({attempt})");
        widget.send(&text).await;
        let refused = crate::support::eventually("the send to be refused or acknowledged", || async {
            if !page.refused_sends().await.is_empty() {
                return Some(true);
            }
            (widget.messages().await.contains(&text) && !widget.shows(Part::PendingMessage).await)
                .then_some(false)
        })
        .await;
        if refused {
            sent = Some(text);
            break;
        }
    }
    let sent = sent.expect("one of five sends refused while the flood runs");
    // (Its own resend a second later may be refused too.)
    assert!(page.refused_sends().await.iter().all(|code| code == "rate_limited"));
    let held = page.outbox().await;
    assert!(held.as_array().is_some_and(|held| held.contains(&json!(sent))), "kept by the tab: {held}");
    // At once the next page of the checkout, before any ack (the resend waits at least 1 s).
    customer.client.goto(&server.demo_url()).await.expect("next page");
    drop(flood);

    crate::support::eventually("the message to reach the agent", || async {
        console.messages().await.iter().any(|m| m.contains(&sent)).then_some(())
    })
    .await;
    widget.wait_gone(Part::PendingMessage).await;
    let delivered = console.messages().await.iter().filter(|m| m.contains(&sent)).count();
    assert_eq!(delivered, 1, "once");
    assert_eq!(widget.messages().await.iter().filter(|m| m.contains(&sent)).count(), 1);
    assert_eq!(page.outbox().await, json!(null), "nothing left to send");
}

/// A waiting customer's page that goes (here for the next checkout page) tells the server at
/// once with a beacon, the customer token in its body and never in its URL; the next page
/// picks the wait up again.
#[tokio::test]
async fn a_waiting_customers_page_that_goes_sends_its_leave_beacon() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let _console = Console::sign_in(&agent, &server, ANNA).await;
    HostPage::record_beacons(&customer).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    widget.wait_text(Part::QueueStatus, "next in line").await;
    let (conversation, token) = page.conversation().await;
    assert!(page.beacons().await.is_empty(), "nothing while the page stays");

    customer.client.goto(&server.demo_url()).await.expect("next page");
    let beacons = page.beacons().await;
    let leave = server.api_url(&format!("/v1/conversations/{conversation}/leave"));
    assert_eq!(beacons, [(leave, json!({ "token": token }).to_string())]);
    widget.wait_text(Part::QueueStatus, "next in line").await;
}

/// A message the server refuses for good (here a text with U+0000, which no stored text may
/// hold) is shown as not sent, never reaches the agent, and is not sent again from the next page.
#[tokio::test]
async fn a_message_refused_for_good_is_shown_as_not_sent_and_never_sent_again() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    HostPage::record_socket_frames(&customer).await;
    let (page, widget, console) = talking_with_anna(&server, &customer, &agent).await;

    widget.send_set_by_script("a\u{0}b").await;
    crate::support::eventually("the refusal", || async {
        (page.refused_sends().await == ["invalid_message"]).then_some(())
    })
    .await;
    assert!(widget.text(Part::PendingMessage).await.contains("not sent"));
    assert_eq!(page.outbox().await, json!(null), "a refused message is not kept to send again");
    widget.send("Still there?").await;
    console.wait_messages(&["Still there?"]).await;

    customer.client.goto(&server.demo_url()).await.expect("next page");
    widget.send("And now?").await;
    console.wait_messages(&["Still there?", "And now?"]).await;
    widget.wait_messages(&["Still there?", "And now?"]).await;
    assert_eq!(widget.message_sequences().await, json!([1, 2]), "the refused one was never stored");
}

/// An agent whose session ends mid-chat (signed out everywhere) gets the sign-in form over the
/// desk, not an endless "Reconnecting…"; a reply sent meanwhile is kept, and reaches the
/// customer once when they are signed in again.
#[tokio::test]
async fn an_agent_signed_out_mid_chat_signs_in_again_and_loses_no_reply() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let (_page, widget, console) = talking_with_anna(&server, &customer, &agent).await;

    server.sign_out_everywhere(ANNA).await;
    console.wait_signed_out().await;
    console.reply("Back in a moment.").await;
    console.sign_in_again(&server, ANNA).await;
    widget.wait_messages(&["Back in a moment."]).await;
    console.wait_messages(&["Back in a moment."]).await;
    assert_eq!(widget.message_sequences().await, json!([1]), "sent once");
}

/// Two instances on one PostgreSQL behind no balancer at all: the customer's widget comes from
/// one, the agent's console from the other, and they chat as with one server.
#[tokio::test]
async fn the_widget_on_one_instance_and_the_console_on_another_chat_as_one_server() {
    let a = TestServer::start_on_postgres(&widget_dist()).await;
    let b = a.beside().await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::sign_in(&agent, &b, ANNA).await;

    HostPage::open(&customer, &a.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    widget.wait_text(Part::QueueStatus, "next in line").await;

    console.accept_from_queue().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;
    widget.send("Is my order on its way?").await;
    console.wait_messages(&["Is my order on its way?"]).await;
    console.reply("It left the warehouse this morning.").await;
    widget.wait_messages(&["Is my order on its way?", "It left the warehouse this morning."]).await;
    assert_eq!(widget.message_sequences().await, json!([1, 2]), "each message once, in order");
}
