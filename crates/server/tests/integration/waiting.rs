//! Waiting customers who go away, and a queue that is full: the queue holds people who are
//! there, and never more than the merchant takes.

use tandem_protocol::{
    AgentEvent, ConversationId, ConversationStarted, ConversationStatus, CustomerEvent, Problem, ProblemCode,
    SupervisorReport,
};
use tandem_server::store::{Policies, Store};

use crate::common::{
    SHOP_ORIGIN, TestApp, eventually, recv_agent_until, spawn_app, spawn_app_with_quick_heartbeat,
};

async fn set_policies(app: &TestApp, change: impl FnOnce(&mut Policies)) {
    let store = app.store().await;
    let shop = tandem_protocol::MerchantId::parse("shop").expect("id");
    let mut merchant = store.merchant(&shop).await.expect("read").expect("shop");
    change(&mut merchant.policies);
    store.upsert_merchant(&merchant).await.expect("save");
}

async fn leave(app: &TestApp, started: &ConversationStarted, token: &str, origin: Option<&str>) -> u16 {
    let mut request = app
        .http
        .post(app.url(&format!("/v1/conversations/{}/leave", started.conversation_id)))
        // What `navigator.sendBeacon` sends for a string body.
        .header("content-type", "text/plain;charset=UTF-8")
        .body(format!(r#"{{"token":"{token}"}}"#));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.expect("beacon").status().as_u16()
}

async fn status(app: &TestApp, id: &ConversationId) -> ConversationStatus {
    app.store().await.conversation(id).await.expect("read").expect("conversation").status
}

/// A customer whose page said it left, and who never came back, is abandoned after the
/// merchant's time: out of the queue, never offered, counted as abandoned. One who reloads
/// within it (away, then connected again) keeps their place.
#[tokio::test]
async fn customers_gone_longer_than_the_merchants_time_are_abandoned_and_never_offered() {
    let app = spawn_app_with_quick_heartbeat().await;
    set_policies(&app, |p| p.abandon_after_secs = 1).await;
    let gone = app.start_conversation().await;
    let back = app.start_conversation().await;
    let (page, _) = app.customer(&gone, 0).await;
    assert_eq!(leave(&app, &gone, "not-the-token", Some(SHOP_ORIGIN)).await, 401);
    assert_eq!(leave(&app, &gone, &gone.customer_token, None).await, 403, "a page always sends Origin");
    assert_eq!(leave(&app, &gone, &gone.customer_token, Some(SHOP_ORIGIN)).await, 204);
    drop(page);
    let (reloaded, _) = app.customer(&back, 0).await;
    drop(reloaded);
    let (mut next_page, _) = app.customer(&back, 0).await;

    eventually("the chat to be abandoned", || async {
        (status(&app, &gone.conversation_id).await == ConversationStatus::Ended).then_some(())
    })
    .await;
    assert_eq!(status(&app, &back.conversation_id).await, ConversationStatus::Waiting);
    let anna = app.login("anna@shop.example").await;
    let report: SupervisorReport = app
        .http
        .get(app.url("/v1/agent/supervisor"))
        .header("cookie", &anna)
        .send()
        .await
        .expect("report")
        .json()
        .await
        .expect("json");
    assert_eq!((report.waiting, report.today.abandoned), (1, 1));

    let (mut agent, _, queue) = app.agent("anna@shop.example").await;
    let AgentEvent::Queue { entries } = queue else { panic!("{queue:?}") };
    let queued: Vec<_> = entries.iter().map(|e| &e.conversation_id).collect();
    assert_eq!(queued, [&back.conversation_id], "only the customer who is there waits");
    let offer = recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Offer { .. })).await;
    assert!(
        matches!(offer, AgentEvent::Offer { ref offer, .. } if offer.conversation_id == back.conversation_id)
    );
    // Coming back after all, the customer finds the chat over (and may ask again).
    let (_, welcome) = app.customer(&gone, 0).await;
    assert!(
        matches!(welcome, CustomerEvent::Welcome { status: ConversationStatus::Ended, .. }),
        "{welcome:?}"
    );
    drop(next_page.close(None).await);
}

/// A server that restarts has no customer connected: those who do not come back within the
/// time are abandoned too, and those who do keep waiting.
#[tokio::test]
async fn after_a_restart_only_customers_who_come_back_keep_waiting() {
    let mut app = spawn_app_with_quick_heartbeat().await;
    set_policies(&app, |p| p.abandon_after_secs = 1).await;
    let gone = app.start_conversation().await;
    let back = app.start_conversation().await;
    let (page, _) = app.customer(&gone, 0).await;
    let (other, _) = app.customer(&back, 0).await;
    drop((page, other));
    app.restart().await;
    let (_again, _) = app.customer(&back, 0).await;
    eventually("the chat to be abandoned", || async {
        (status(&app, &gone.conversation_id).await == ConversationStatus::Ended).then_some(())
    })
    .await;
    assert_eq!(status(&app, &back.conversation_id).await, ConversationStatus::Waiting);
}

/// Past the merchant's cap on waiting chats a handoff is refused with `too_busy` (503) and
/// nothing is stored; a place that frees up takes the next one.
#[tokio::test]
async fn a_full_queue_refuses_with_too_busy_and_stores_nothing() {
    let app = spawn_app().await;
    set_policies(&app, |p| p.max_waiting = 2).await;
    let first = app.start_conversation().await;
    app.start_conversation().await;
    let refused = app.start_at("shop", SHOP_ORIGIN).await;
    assert_eq!(refused.status(), 503);
    let problem: Problem = refused.json().await.expect("problem body");
    assert_eq!(problem.code, ProblemCode::TooBusy);
    assert!(problem.detail.contains("leave a message"), "{}", problem.detail);
    let shop = tandem_protocol::MerchantId::parse("shop").expect("id");
    assert_eq!(app.store().await.queue(&shop).await.expect("queue").len(), 2, "nothing stored");

    let (mut customer, _) = app.customer(&first, 0).await;
    crate::common::send(&mut customer, &tandem_protocol::CustomerFrame::Close).await;
    crate::common::recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Closed)).await;
    assert_eq!(app.start_at("shop", SHOP_ORIGIN).await.status(), 201);
}
