//! The live chat is a wasm module of its own (src/live.rs): a customer who only talks to the bot
//! never downloads it, one who asks for a person gets it then, and one whose network loses it is
//! still shown how to reach a person, and can ask again.

use crate::pages::{ANNA, Console, HostPage, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};

/// How many times the page fetched the live chat's module.
async fn live_fetches(page: &HostPage<'_>) -> usize {
    page.fetched().await.iter().filter(|name| name.contains("/widget/tandem-live-")).count()
}

/// The customer waits in the queue, which only the live module draws (the first module says
/// "finding a person" until then).
async fn wait_in_the_queue(widget: &Widget<'_>) {
    widget.wait_for(Part::LeaveMessageInstead).await;
}

#[tokio::test]
async fn the_live_chat_is_fetched_only_once_a_person_is_asked_for() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let _console = Console::sign_in(&agent, &server, ANNA).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.send("Can I split my payment?").await;
    eventually("the bot's answer", || async { (widget.bot_lines().await.len() == 2).then_some(()) }).await;
    assert_eq!(live_fetches(&page).await, 0, "the panel and the bot need no live chat");

    widget.ask_for_person().await;
    wait_in_the_queue(&widget).await;
    assert_eq!(live_fetches(&page).await, 1, "fetched for the request, once");
}

/// A pointer on its way to press "Talk to a human" starts the live chat coming, so the press
/// does not wait for it.
#[tokio::test]
async fn the_pointer_on_the_human_button_starts_the_live_chat_coming_before_the_press() {
    let server = TestServer::start(&widget_dist()).await;
    let customer = Browser::start().await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.wait_for(Part::HumanButton).await;
    assert_eq!(live_fetches(&page).await, 0, "not on open");
    widget.point_at_the_human_button().await;
    eventually("the live chat fetched", || async { (live_fetches(&page).await == 1).then_some(()) }).await;
    assert!(widget.shows(Part::HumanButton).await, "nothing asked for yet");
}

#[tokio::test]
async fn a_live_chat_the_network_loses_still_shows_a_way_to_a_person_and_comes_on_the_next_try() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, agent) = tokio::join!(Browser::start(), Browser::start());
    let _console = Console::sign_in(&agent, &server, ANNA).await;
    HostPage::refuse_the_live_chat(&customer).await;
    let page = HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;

    widget.ask_for_person().await;
    widget.wait_for(Part::HumanContact).await;
    widget.wait_for(Part::HumanButton).await;

    page.allow_the_live_chat().await;
    widget.ask_for_person().await;
    wait_in_the_queue(&widget).await;
    assert_eq!(live_fetches(&page).await, 1, "the refused fetch never reached the server");
}
