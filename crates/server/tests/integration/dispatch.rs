//! Offer-based dispatch through the real server: one agent at a time, declines and expiries,
//! away after missed offers, grace periods, transfers and the hand-back to the bot.

use std::time::Duration;

use crate::common::{Ws, recv_agent, recv_agent_until, recv_customer_until, send, spawn_app, spawn_app_with};
use tandem_protocol::{
    AgentEvent, AgentFrame, AgentProfile, ClientMessageId, ConversationId, ConversationStatus, CustomerEvent,
    ErrorCode, OfferEnd, Presence,
};
use tandem_server::store::{DispatchSettings, Store};

fn offer_of(conversation: &ConversationId) -> impl Fn(&AgentEvent) -> bool + '_ {
    move |event| matches!(event, AgentEvent::Offer { offer, .. } if &offer.conversation_id == conversation)
}

fn is_offer(event: &AgentEvent) -> bool {
    matches!(event, AgentEvent::Offer { .. })
}

async fn me(app: &crate::common::TestApp, email: &str) -> AgentProfile {
    let cookie = app.login(email).await;
    app.http
        .get(app.url("/v1/agent/me"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("profile")
}

#[tokio::test]
async fn a_customer_is_offered_to_one_agent_at_a_time_and_a_decline_moves_it_on() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    assert_eq!(started.queue.estimated_wait_secs, 180, "nobody online: one handle time per place");
    let (mut customer, _) = app.customer(&started, 0).await;

    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    recv_agent_until(&mut anna, offer_of(&started.conversation_id)).await;
    // With Anna online the estimate falls to her response time.
    let update = recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Queue { .. })).await;
    assert!(matches!(update, CustomerEvent::Queue { queue } if queue.estimated_wait_secs < 30), "{update:?}");

    // Bert comes online while Anna holds the offer: it is not offered to him too.
    let (mut bert, _, _) = app.agent("bert@shop.example").await;
    assert!(crate::common::no_agent_event(&mut bert, Duration::from_millis(500), is_offer).await);

    send(&mut anna, &AgentFrame::Decline { conversation_id: started.conversation_id.clone() }).await;
    recv_agent_until(&mut bert, offer_of(&started.conversation_id)).await;
    assert!(
        crate::common::no_agent_event(&mut anna, Duration::from_millis(500), is_offer).await,
        "Anna rests"
    );

    // Anna may still pick it from the queue by hand: Bert's offer is withdrawn.
    send(&mut anna, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    assert!(matches!(recv_agent(&mut anna).await, AgentEvent::Accepted { .. }));
    let ended = recv_agent_until(&mut bert, |e| matches!(e, AgentEvent::OfferEnded { .. })).await;
    assert!(matches!(ended, AgentEvent::OfferEnded { reason: OfferEnd::Withdrawn, .. }), "{ended:?}");
    send(&mut bert, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let refused = recv_agent(&mut bert).await;
    assert!(matches!(refused, AgentEvent::Error { code: ErrorCode::AlreadyTaken, .. }), "{refused:?}");
}

#[tokio::test]
async fn missed_offers_expire_and_then_the_agent_is_set_away_and_told() {
    let settings = DispatchSettings { offer_timeout_secs: 1, missed_offers_before_away: 2, grace_secs: 60 };
    let app = spawn_app_with(settings).await;
    let started = app.start_conversation().await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    for _ in 0..2 {
        let offer = recv_agent_until(&mut anna, offer_of(&started.conversation_id)).await;
        assert!(matches!(offer, AgentEvent::Offer { timeout_secs: 1, .. }), "{offer:?}");
        let ended = recv_agent_until(&mut anna, |e| matches!(e, AgentEvent::OfferEnded { .. })).await;
        assert!(matches!(ended, AgentEvent::OfferEnded { reason: OfferEnd::Expired, .. }), "{ended:?}");
    }
    let away = recv_agent_until(&mut anna, |e| matches!(e, AgentEvent::SetAway { .. })).await;
    assert_eq!(away, AgentEvent::SetAway { missed_offers: 2 });
    assert_eq!(recv_agent(&mut anna).await, AgentEvent::Presence { presence: Presence::Away });
    assert!(
        crate::common::no_agent_event(&mut anna, Duration::from_millis(1500), is_offer).await,
        "no offers while away"
    );

    // The customer never left the queue; back online, Anna is offered it again.
    let (_, welcome) = app.customer(&started, 0).await;
    assert!(
        matches!(welcome, CustomerEvent::Welcome { queue: Some(q), .. } if q.position == 1),
        "{welcome:?}"
    );
    send(&mut anna, &AgentFrame::SetPresence { presence: Presence::Online }).await;
    recv_agent_until(&mut anna, offer_of(&started.conversation_id)).await;
}

pub(crate) async fn accept(agent: &mut Ws, conversation: &ConversationId) {
    send(agent, &AgentFrame::Accept { conversation_id: conversation.clone() }).await;
    let accepted =
        recv_agent_until(agent, |e| matches!(e, AgentEvent::Accepted { .. } | AgentEvent::Error { .. }))
            .await;
    assert!(matches!(accepted, AgentEvent::Accepted { .. }), "{accepted:?}");
}

#[tokio::test]
async fn chats_survive_a_short_disconnect_and_go_to_the_front_of_the_queue_after_the_grace_period() {
    let settings = DispatchSettings { offer_timeout_secs: 20, missed_offers_before_away: 3, grace_secs: 2 };
    let app = spawn_app_with(settings).await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    accept(&mut anna, &started.conversation_id).await;
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::AgentJoined { .. })).await;

    // A dropped connection, back at once: the chat is still Anna's.
    drop(anna);
    let (anna, welcome, _) = app.agent("anna@shop.example").await;
    let AgentEvent::Welcome { chats, .. } = welcome else { panic!("{welcome:?}") };
    assert_eq!(chats.iter().map(|c| &c.conversation_id).collect::<Vec<_>>(), vec![&started.conversation_id]);

    // Gone for longer than the grace period: the customer is told and waits first in line,
    // where the next agent is offered them.
    let _later = app.start_conversation().await;
    drop(anna);
    let left = recv_customer_until(&mut customer, |e| !matches!(e, CustomerEvent::Queue { .. })).await;
    assert_eq!(left, CustomerEvent::AgentLeft { name: "Anna".into() });
    let queue = recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Queue { .. })).await;
    assert!(matches!(queue, CustomerEvent::Queue { queue } if queue.position == 1), "{queue:?}");
    let (mut bert, _, _) = app.agent("bert@shop.example").await;
    recv_agent_until(&mut bert, offer_of(&started.conversation_id)).await;
}

#[tokio::test]
async fn after_a_restart_the_grace_period_runs_from_the_start_even_if_nobody_returns() {
    let settings = DispatchSettings { offer_timeout_secs: 20, missed_offers_before_away: 3, grace_secs: 1 };
    let mut app = spawn_app_with(settings).await;
    let started = app.start_conversation().await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    accept(&mut anna, &started.conversation_id).await;
    app.restart().await;
    assert!(crate::common::closed(&mut anna).await, "the restart closed the console's socket");

    // Neither side comes back; the chat still returns to the queue once the grace period ends,
    // as the database (read directly, without touching the server) shows.
    let store = app.store().await;
    crate::common::eventually("the chat to be back in the queue", || async {
        let conversation = store.conversation(&started.conversation_id).await.expect("read");
        conversation.filter(|c| c.status == ConversationStatus::Waiting && c.front).map(|_| ())
    })
    .await;
    let (mut bert, _, _) = app.agent("bert@shop.example").await;
    recv_agent_until(&mut bert, offer_of(&started.conversation_id)).await;
}

#[tokio::test]
async fn a_chat_is_transferred_to_a_colleague_and_then_handed_back_to_the_bot() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    accept(&mut anna, &started.conversation_id).await;
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::AgentJoined { .. })).await;
    let (mut bert, _, _) = app.agent("bert@shop.example").await;
    let bert_id = me(&app, "bert@shop.example").await.id;
    let olga_id = me(&app, "olga@other.example").await.id;

    // Not to someone of another merchant.
    send(
        &mut anna,
        &AgentFrame::Transfer { conversation_id: started.conversation_id.clone(), to_agent: olga_id },
    )
    .await;
    let refused = recv_agent(&mut anna).await;
    assert!(matches!(refused, AgentEvent::Error { code: ErrorCode::Unavailable, .. }), "{refused:?}");

    send(
        &mut anna,
        &AgentFrame::Transfer { conversation_id: started.conversation_id.clone(), to_agent: bert_id },
    )
    .await;
    assert_eq!(
        recv_agent(&mut anna).await,
        AgentEvent::Ended { conversation_id: started.conversation_id.clone() }
    );
    recv_agent_until(&mut bert, offer_of(&started.conversation_id)).await;
    accept(&mut bert, &started.conversation_id).await;
    let mut told = Vec::new();
    while told.len() < 2 {
        match crate::common::recv::<CustomerEvent>(&mut customer).await {
            CustomerEvent::AgentLeft { name } => told.push(format!("left {name}")),
            CustomerEvent::AgentJoined { name } => told.push(format!("joined {name}")),
            _ => {}
        }
    }
    assert_eq!(told, ["left Anna", "joined Bert"]);

    send(&mut bert, &AgentFrame::HandToBot { conversation_id: started.conversation_id.clone() }).await;
    assert_eq!(
        recv_agent(&mut bert).await,
        AgentEvent::Ended { conversation_id: started.conversation_id.clone() }
    );
    let back = recv_customer_until(&mut customer, |e| {
        !matches!(e, CustomerEvent::Queue { .. } | CustomerEvent::AgentJoined { .. })
    })
    .await;
    assert_eq!(back, CustomerEvent::BackToBot);
}

#[tokio::test]
async fn with_every_agent_away_a_new_customer_still_shows_in_the_queue_to_pick() {
    let app = spawn_app().await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    send(&mut anna, &AgentFrame::SetPresence { presence: Presence::Away }).await;
    recv_agent_until(&mut anna, |e| matches!(e, AgentEvent::Presence { .. })).await;
    let started = app.start_conversation().await;
    let queue =
        recv_agent_until(&mut anna, |e| matches!(e, AgentEvent::Queue { entries } if !entries.is_empty()))
            .await;
    let AgentEvent::Queue { entries } = queue else { panic!("{queue:?}") };
    assert_eq!(entries[0].conversation_id, started.conversation_id);
    assert!(
        crate::common::no_agent_event(&mut anna, Duration::from_millis(300), is_offer).await,
        "no offers while away"
    );
}

#[tokio::test]
async fn a_chat_passed_on_from_one_console_leaves_the_agents_other_console_too() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut first, _, _) = app.agent("anna@shop.example").await;
    accept(&mut first, &started.conversation_id).await;
    let (mut second, welcome, _) = app.agent("anna@shop.example").await;
    assert!(matches!(welcome, AgentEvent::Welcome { ref chats, .. } if chats.len() == 1), "{welcome:?}");

    send(&mut first, &AgentFrame::Requeue { conversation_id: started.conversation_id.clone() }).await;
    let ended = recv_agent_until(&mut second, |e| matches!(e, AgentEvent::Ended { .. })).await;
    assert_eq!(ended, AgentEvent::Ended { conversation_id: started.conversation_id.clone() });
    let late = AgentFrame::Send {
        conversation_id: started.conversation_id.clone(),
        client_id: tandem_protocol::ClientMessageId("late".into()),
        text: "still there?".into(),
    };
    send(&mut second, &late).await;
    let refused = recv_agent(&mut second).await;
    assert!(matches!(refused, AgentEvent::Error { code: ErrorCode::NotAllowed, .. }), "{refused:?}");
}

#[tokio::test]
async fn an_offer_accepted_on_one_console_leaves_the_agents_other_console() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut first, _, _) = app.agent("anna@shop.example").await;
    recv_agent_until(&mut first, offer_of(&started.conversation_id)).await;
    let (mut second, _, _) = app.agent("anna@shop.example").await;
    recv_agent_until(&mut second, offer_of(&started.conversation_id)).await;
    accept(&mut first, &started.conversation_id).await;
    let ended = recv_agent_until(&mut second, |e| matches!(e, AgentEvent::OfferEnded { .. })).await;
    assert!(
        matches!(ended, AgentEvent::OfferEnded { ref conversation_id, .. } if conversation_id == &started.conversation_id)
    );
}

#[tokio::test]
async fn an_agent_at_capacity_is_refused_a_pick_and_not_offered_more() {
    let app = spawn_app().await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    let mut chats = Vec::new();
    for _ in 0..3 {
        let started = app.start_conversation().await;
        accept(&mut anna, &started.conversation_id).await;
        chats.push(started);
    }
    let fourth = app.start_conversation().await;
    assert!(
        crate::common::no_agent_event(&mut anna, Duration::from_millis(500), is_offer).await,
        "at capacity (3)"
    );
    send(&mut anna, &AgentFrame::Accept { conversation_id: fourth.conversation_id.clone() }).await;
    let refused = recv_agent(&mut anna).await;
    assert!(matches!(refused, AgentEvent::Error { code: ErrorCode::AtCapacity, .. }), "{refused:?}");
    send(&mut anna, &AgentFrame::End { conversation_id: chats[0].conversation_id.clone() }).await;
    recv_agent_until(&mut anna, offer_of(&fourth.conversation_id)).await;
}

/// A rule changed with `tandem merchant add` beside the running server applies to the offers
/// that follow, without a restart.
#[tokio::test]
async fn a_rule_changed_from_the_command_line_applies_without_a_restart() {
    let app = spawn_app().await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    app.start_conversation().await;
    let AgentEvent::Offer { offer, timeout_secs, .. } = recv_agent_until(&mut agent, is_offer).await else {
        unreachable!()
    };
    assert_eq!(timeout_secs, 20);

    let taken_up = || async {
        let text =
            app.http.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
        text.lines().find_map(|line| line.strip_prefix("tandem_settings_version ")).map(str::to_owned)
    };
    let before = crate::common::eventually("the settings version", taken_up).await;
    crate::common::set_shop_offer_timeout_to_7s(&["--data-dir".as_ref(), app.data_dir().as_os_str()]);
    // Within a second the server has taken the change up (it says so in /metrics), and the
    // next offer carries the new rule.
    crate::common::eventually("the new settings taken up", || async {
        taken_up().await.filter(|now| *now != before)
    })
    .await;
    send(&mut agent, &AgentFrame::Decline { conversation_id: offer.conversation_id }).await;
    app.start_conversation().await;
    let next = recv_agent_until(&mut agent, is_offer).await;
    assert!(matches!(next, AgentEvent::Offer { timeout_secs: 7, .. }), "{next:?}");
}

/// Internal notes go with the conversation, to the merchant's agents only: back to the agent who
/// wrote one (stored once, however often it is sent), to the colleague it is transferred to, to
/// whoever takes it after a requeue and a restart, in the transcript view and marked in the
/// export; and the customer's socket never carries one.
#[tokio::test]
async fn a_note_goes_with_the_conversation_to_the_agents_and_never_to_the_customer() {
    let mut app = spawn_app().await;
    let started = app.start_conversation().await;
    let id = started.conversation_id.clone();
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    accept(&mut anna, &id).await;
    let text = "Card declined twice: offer the invoice";
    let note = AgentFrame::Note {
        conversation_id: id.clone(),
        client_id: ClientMessageId("n1".into()),
        text: text.into(),
    };
    send(&mut anna, &note).await;
    let told = recv_agent_until(&mut anna, |e| matches!(e, AgentEvent::Note { .. })).await;
    let AgentEvent::Note { note: stored, .. } = told else { unreachable!() };
    assert_eq!((stored.author_name.as_str(), stored.text.as_str()), ("Anna", text));
    send(&mut anna, &note).await;
    let reply = AgentFrame::Send {
        conversation_id: id.clone(),
        client_id: ClientMessageId("a1".into()),
        text: "One moment".into(),
    };
    send(&mut anna, &reply).await;
    loop {
        let frame: serde_json::Value = crate::common::recv(&mut customer).await;
        assert!(!frame.to_string().contains("declined"), "a note reached the customer: {frame}");
        if frame["type"] == "message" {
            break;
        }
    }

    let (mut bert, _, _) = app.agent("bert@shop.example").await;
    let bert_id = me(&app, "bert@shop.example").await.id;
    send(&mut anna, &AgentFrame::Transfer { conversation_id: id.clone(), to_agent: bert_id }).await;
    recv_agent_until(&mut bert, offer_of(&id)).await;
    assert_eq!(accepted_notes(&mut bert, &id).await, std::slice::from_ref(&stored), "the colleague finds it");

    send(&mut bert, &AgentFrame::Requeue { conversation_id: id.clone() }).await;
    recv_agent_until(&mut bert, |e| matches!(e, AgentEvent::Ended { .. })).await;
    drop((anna, bert));
    app.restart().await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    assert_eq!(
        accepted_notes(&mut anna, &id).await,
        std::slice::from_ref(&stored),
        "after a requeue and a restart"
    );

    let cookie = app.login("anna@shop.example").await;
    let read = |path: String| app.http.get(app.url(&path)).header("cookie", cookie.clone()).send();
    let detail: tandem_protocol::ConversationDetail = read(format!("/v1/agent/conversations/{id}"))
        .await
        .expect("transcript")
        .json()
        .await
        .expect("detail");
    assert_eq!(detail.notes, [stored]);
    let csv =
        read("/v1/agent/conversations.csv?days=1".into()).await.expect("export").text().await.expect("csv");
    assert!(csv.lines().next().is_some_and(|header| header.ends_with(",notes")), "{csv}");
    assert!(csv.contains(&format!("[note] Anna: {text}")), "{csv}");
}

/// Takes the conversation and returns the notes its chat opens with.
async fn accepted_notes(agent: &mut Ws, id: &ConversationId) -> Vec<tandem_protocol::Note> {
    send(agent, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    match recv_agent_until(agent, |e| matches!(e, AgentEvent::Accepted { .. } | AgentEvent::Error { .. }))
        .await
    {
        AgentEvent::Accepted { conversation } => conversation.notes,
        other => panic!("{other:?}"),
    }
}
