//! Dispatch in three browsers: two agents in the console are offered waiting customers one at a
//! time, with a countdown; a decline moves the offer on. The admin then invites a new agent, who
//! joins from the link, and the supervisor view shows the live figures.

use crate::pages::{ANNA, BEN, Console, HostPage, Invitation, Part, Widget};
use crate::support::{Browser, TestServer, eventually, widget_dist};

/// The customer opens the widget on the demo page and asks for a person.
async fn ask_for_a_person<'a>(customer: &'a Browser, server: &TestServer) -> Widget<'a> {
    let page = HostPage::open(customer, &server.demo_url()).await;
    // The page asks for an agent who knows billing (`skill`, like `data-skill` on the tag).
    page.set_widget_attribute("skill", "billing").await;
    let widget = Widget::inline(customer);
    widget.open().await;
    widget.ask_for_person().await;
    widget
}

#[tokio::test]
async fn two_agents_are_offered_customers_one_at_a_time_and_an_invited_agent_joins() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, anna, ben) = tokio::join!(Browser::start(), Browser::start(), Browser::start());
    // Anna signs in first: idle longest, she is offered the first customer.
    let anna_desk = Console::sign_in(&anna, &server, ANNA).await;
    let ben_desk = Console::sign_in(&ben, &server, BEN).await;

    let widget = ask_for_a_person(&customer, &server).await;
    let offer = anna_desk.offer().await;
    assert!(offer.contains("A customer for you") && offer.contains("Ask us anything"), "{offer}");
    // Nobody online has the skill, so it goes to whoever can answer, saying what is needed.
    assert!(offer.contains("needs billing"), "{offer}");
    let countdown = anna_desk.offer_countdown().await;
    assert!(countdown.ends_with("s to answer"), "{countdown}");
    assert!(!ben_desk.has_offer().await, "never offered to two agents at once");
    let announced = anna_desk.offer_announcement().await;
    assert!(announced.contains("offered to you"), "screen readers hear of it: {announced}");
    anna.screenshot("dispatch-offer.png").await;

    // Anna declines: the offer moves to Ben, who accepts.
    anna_desk.decline_offer().await;
    let offer = ben_desk.offer().await;
    assert!(offer.contains("Ask us anything"), "{offer}");
    assert!(!anna_desk.has_offer().await);
    ben_desk.accept_offer().await;
    ben_desk.chat().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Ben").await;
    assert!(!ben_desk.has_offer().await, "the offer card is gone once accepted");

    // The supervisor view (Anna is an admin) shows the live figures.
    // It refreshes every few seconds.
    let supervisor = anna_desk.supervisor();
    eventually("Ben online with one chat in the supervisor view", || async {
        let ben = supervisor.team_member(2).await;
        (ben.contains("Ben") && ben.contains("Online") && ben.contains("1 of 3")).then_some(())
    })
    .await;
    assert_eq!(supervisor.conversations().await, "1");
    let p50 = supervisor.median_time_to_a_person().await;
    assert!(p50.ends_with(" s"), "time to a person is measured: {p50}");
    assert!(!ben_desk.supervisor().is_shown().await, "agents do not see it");
    anna.screenshot("dispatch-supervisor.png").await;

    // Ben hands the customer back to the bot; the widget says so.
    ben_desk.hand_back_to_bot().await;
    widget.wait_text(Part::Notice, "handed you back").await;

    // Asking again, the customer is offered to an agent; rather than wait they leave a message,
    // and the offer is withdrawn from the console at once.
    widget.ask_for_person().await;
    let offered = eventually("an offer to one of them", || async {
        if anna_desk.has_offer().await {
            Some(&anna_desk)
        } else if ben_desk.has_offer().await {
            Some(&ben_desk)
        } else {
            None
        }
    })
    .await;
    widget.click(Part::LeaveMessageInstead).await;
    widget.wait_for(Part::LeaveMessageForm).await;
    eventually("the offer to be withdrawn", || async { (!offered.has_offer().await).then_some(()) }).await;

    // Anna invites a new agent; the link works once, from another browser.
    let link = supervisor.invite().await;
    assert!(link.contains("/console/#invite="), "{link}");
    let invitation = Invitation::open(&customer, &link).await;
    assert_eq!(invitation.heading().await, "Join Northwind Outfitters on Tandem");
    let url = customer.client.current_url().await.expect("url");
    assert!(!url.as_str().contains("invite="), "the token leaves the address bar: {url}");
    let cleo = invitation.join("Cleo", "cleo@northwind.example", "sv", "a long enough password").await;
    assert_eq!(cleo.agent_name().await, "Cleo");
    eventually("Cleo in the supervisor view", || async {
        let team = supervisor.team().await;
        (team.contains("Cleo") && team.contains("en, sv")).then_some(())
    })
    .await;
}

/// An agent reading email in another tab still hears of an offer: a system notification (once
/// they allowed it), the countdown in the tab's title; clicking the notification brings the
/// offer to the front, and a shortcut accepts it.
#[tokio::test]
async fn an_offer_in_a_background_tab_raises_a_notification_and_a_shortcut_accepts_it() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, anna) = tokio::join!(Browser::start(), Browser::start());
    Console::record_notifications(&anna, "default").await;
    let desk = Console::sign_in(&anna, &server, ANNA).await;
    // Never asked on load: a button asks.
    assert!(desk.notifications().await.is_empty());
    desk.allow_notifications().await;
    desk.hide_tab().await;

    ask_for_a_person(&customer, &server).await;
    let raised =
        eventually("the notification", || async { desk.notifications().await.into_iter().next() }).await;
    assert_eq!(raised.0, "A customer is offered to you");
    assert!(raised.1.contains("en"), "the notification says who: {raised:?}");
    let title = desk.title().await;
    assert!(title.contains("s) A customer for you"), "the countdown in the tab's title: {title}");

    desk.click_notification().await;
    assert_eq!(desk.focused().await, "offer-accept", "the offer is brought to the front");
    anna.press_alt_shift('A').await;
    eventually("the chat", || async { anna.shows("[data-testid=chat-input]").await.then_some(()) }).await;
    let title = desk.title().await;
    assert_eq!(title, "Tandem · Agent console", "the title is the console's again");
}

/// The desk's whole day in one story: Anna reads email in another tab when a customer asks for
/// a person; the system notification brings her to the offer, and she accepts; the customer
/// asks "Can I split my payment?" and Anna answers with the reply the merchant's flow suggests;
/// she leaves a note (which never reaches the customer) and transfers the chat to Ben, who
/// finds the note; then the customer sends a screenshot, and Ben sees it.
#[tokio::test]
async fn an_agent_in_a_background_tab_accepts_answers_notes_and_transfers_and_the_screenshot_follows() {
    let server = TestServer::start(&widget_dist()).await;
    let (customer, anna, ben) = tokio::join!(Browser::start(), Browser::start(), Browser::start());
    Console::record_notifications(&anna, "default").await;
    let desk = Console::sign_in(&anna, &server, ANNA).await;
    desk.allow_notifications().await;
    desk.hide_tab().await;

    HostPage::open(&customer, &server.demo_url()).await;
    let widget = Widget::inline(&customer);
    widget.open().await;
    widget.ask_for_person().await;
    eventually("the notification", || async { desk.notifications().await.into_iter().next() }).await;
    desk.click_notification().await;
    desk.accept_offer().await;
    widget.wait_text(Part::HumanStatus, "You're talking to Anna").await;

    widget.send("Can I split my payment?").await;
    desk.wait_messages(&["Can I split my payment?"]).await;
    let (intent, _) = desk.suggestion().await;
    assert!(intent.contains("payment_plans"), "{intent}");
    desk.use_suggestion().await;
    desk.send_reply().await;
    let answered = eventually("the suggested answer at the customer's", || async {
        widget.messages().await.get(1).filter(|text| text.starts_with("You can pay in 30 days")).cloned()
    })
    .await;

    let note = "Wants to split the payment; the invoice option is explained";
    desk.add_note(note).await;
    desk.wait_notes(&[&format!("Anna: {note}")]).await;
    let colleague = Console::sign_in(&ben, &server, BEN).await;
    desk.transfer_to_a_colleague().await;
    colleague.accept_offer().await;
    colleague.wait_notes(&[&format!("Anna: {note}")]).await;
    widget.wait_text(Part::HumanStatus, "You're talking to Ben").await;

    widget.choose_file("declined.png", crate::handoff::PNG, "image/png").await;
    let shown = colleague.wait_files(1).await;
    assert!(shown[0].0.starts_with("declined.png"), "{shown:?}");
    let messages = widget.messages().await;
    assert_eq!(messages[..2], ["Can I split my payment?".to_owned(), answered], "{messages:?}");
    assert!(!messages.iter().any(|text| text.contains("invoice option")), "the note stays with the agents");
}
