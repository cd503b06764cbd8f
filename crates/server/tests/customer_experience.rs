//! What the widget needs beyond the live chat: signed identities, ratings the agent sees,
//! availability, and messages left when nobody is online — through the real server.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::{IDENTITY_SECRET, OTHER_ORIGIN, SHOP_ORIGIN, TestApp, recv, send, spawn_app};
use tandem_protocol::{
    AgentEvent, AgentFrame, Availability, ConversationStarted, Identity, LeaveMessage, LeftMessage, Problem,
    ProblemCode, Rating, StartConversation, TranscriptEntry, TranscriptSpeaker,
};

fn sign(secret_hex: &str, id: &str) -> String {
    tandem_server::identity::sign(secret_hex, id).expect("hex secret")
}

async fn start(app: &TestApp, request: &StartConversation) -> reqwest::Response {
    app.http
        .post(app.url("/v1/conversations"))
        .header("origin", SHOP_ORIGIN)
        .json(request)
        .send()
        .await
        .expect("start")
}

#[tokio::test]
async fn a_signed_identity_reaches_the_agent_and_a_forged_one_is_refused() {
    let app = spawn_app().await;
    let identity = |hash: String| Identity {
        id: "customer-42".into(),
        email: Some("kim@example.com".into()),
        name: Some("Kim".into()),
        hash,
    };
    let forged = StartConversation {
        identity: Some(identity(sign(&"00".repeat(32), "customer-42"))),
        ..TestApp::start_request("shop")
    };
    let refused = start(&app, &forged).await;
    assert_eq!(refused.status(), 422);
    let problem: Problem = refused.json().await.expect("problem");
    assert_eq!(problem.code, ProblemCode::IdentityUnverified);

    let (mut agent, _, queue) = app.agent("anna@shop.example").await;
    let AgentEvent::Queue { entries } = queue else { panic!("{queue:?}") };
    assert!(entries.is_empty(), "a refused start queues nothing");

    let signed = StartConversation {
        identity: Some(identity(sign(IDENTITY_SECRET, "customer-42"))),
        ..TestApp::start_request("shop")
    };
    let response = start(&app, &signed).await;
    assert_eq!(response.status(), 201);
    let started: ConversationStarted = response.json().await.expect("started");
    let _queue: AgentEvent = recv(&mut agent).await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let accepted: AgentEvent = common::recv_agent(&mut agent).await;
    let AgentEvent::Accepted { conversation } = accepted else { panic!("{accepted:?}") };
    assert!(conversation.customer.verified);
    assert_eq!(conversation.customer.id.as_deref(), Some("customer-42"));
    assert_eq!(conversation.customer.email.as_deref(), Some("kim@example.com"));
    assert_eq!(conversation.customer.name.as_deref(), Some("Kim"));
}

#[tokio::test]
async fn an_email_given_before_the_handoff_is_kept_and_a_bad_one_refused() {
    let app = spawn_app().await;
    let bad = StartConversation { email: Some("not an email".into()), ..TestApp::start_request("shop") };
    assert_eq!(start(&app, &bad).await.status(), 400);
    let good = StartConversation { email: Some("kim@example.com".into()), ..TestApp::start_request("shop") };
    let started: ConversationStarted = start(&app, &good).await.json().await.expect("started");
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let AgentEvent::Accepted { conversation } = common::recv_agent(&mut agent).await else { panic!() };
    assert_eq!(conversation.customer.email.as_deref(), Some("kim@example.com"));
    assert!(!conversation.customer.verified, "typed by the customer, not signed");
}

async fn rate(
    app: &TestApp,
    started: &ConversationStarted,
    token: &str,
    rating: &Rating,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/conversations/{}/rating", started.conversation_id)))
        .header("origin", SHOP_ORIGIN)
        .bearer_auth(token)
        .json(rating)
        .send()
        .await
        .expect("rate")
}

#[tokio::test]
async fn the_customer_rates_an_ended_chat_and_the_agent_sees_it() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let _accepted: AgentEvent = common::recv_agent(&mut agent).await;
    let rating = Rating { score: 5, comment: Some("Quick and kind".into()) };

    let too_early = rate(&app, &started, &started.customer_token, &rating).await;
    assert_eq!(too_early.status(), 409, "only an ended chat is rated");

    send(&mut agent, &AgentFrame::End { conversation_id: started.conversation_id.clone() }).await;
    assert!(matches!(common::recv_agent(&mut agent).await, AgentEvent::Ended { .. }));
    // Still followed for the rating, but closed to messages.
    let late = AgentFrame::Send {
        conversation_id: started.conversation_id.clone(),
        client_id: tandem_protocol::ClientMessageId("late".into()),
        text: "one more thing".into(),
    };
    send(&mut agent, &late).await;
    let refused = common::recv_agent(&mut agent).await;
    assert!(
        matches!(refused, AgentEvent::Error { code: tandem_protocol::ErrorCode::ConversationEnded, .. }),
        "{refused:?}"
    );

    assert_eq!(rate(&app, &started, &"0".repeat(64), &rating).await.status(), 401, "another token");
    let out_of_range = Rating { score: 6, comment: None };
    assert_eq!(rate(&app, &started, &started.customer_token, &out_of_range).await.status(), 400);

    assert_eq!(rate(&app, &started, &started.customer_token, &rating).await.status(), 204);
    let rated = common::recv_agent(&mut agent).await;
    assert_eq!(
        rated,
        AgentEvent::Rated { conversation_id: started.conversation_id.clone(), rating: rating.clone() }
    );

    // The console reads it back with the conversation.
    let cookie = app.login("bert@shop.example").await;
    let detail: tandem_protocol::ConversationDetail = app
        .http
        .get(app.url(&format!("/v1/agent/conversations/{}", started.conversation_id)))
        .header("cookie", cookie)
        .send()
        .await
        .expect("detail")
        .json()
        .await
        .expect("json");
    assert_eq!(detail.rating, Some(rating));
}

#[tokio::test]
async fn availability_follows_agents_going_online() {
    let app = spawn_app().await;
    let availability = || async {
        app.http
            .get(app.url("/v1/merchants/shop/availability"))
            .header("origin", SHOP_ORIGIN)
            .send()
            .await
            .expect("availability")
            .json::<Availability>()
            .await
            .expect("json")
    };
    assert_eq!(
        availability().await,
        Availability { agents_online: false, open: true, business_hours: None, reply_within_hours: 24 }
    );
    let (_agent, _, _) = app.agent("anna@shop.example").await;
    assert!(availability().await.agents_online);
}

#[tokio::test]
async fn a_message_left_is_stored_for_the_merchants_agents_only() {
    let app = spawn_app().await;
    let message = LeaveMessage {
        email: "kim@example.com".into(),
        text: "Please call me about my refund".into(),
        locale: "de".into(),
        page_url: "https://shop.example/checkout".into(),
        transcript: vec![TranscriptEntry { from: TranscriptSpeaker::Customer, text: "refund?".into() }],
    };
    let leave = |body: LeaveMessage, origin: &'static str| {
        let request =
            app.http.post(app.url("/v1/merchants/shop/messages")).header("origin", origin).json(&body);
        async move { request.send().await.expect("leave").status() }
    };
    assert_eq!(leave(LeaveMessage { email: "kim".into(), ..message.clone() }, SHOP_ORIGIN).await, 400);
    assert_eq!(leave(LeaveMessage { text: " ".into(), ..message.clone() }, SHOP_ORIGIN).await, 400);
    assert_eq!(leave(message.clone(), OTHER_ORIGIN).await, 403, "the merchant's origins only");
    assert_eq!(leave(message.clone(), SHOP_ORIGIN).await, 201);

    let app = &app;
    let list = |email: &'static str| async move {
        let cookie = app.login(email).await;
        app.http
            .get(app.url("/v1/agent/messages"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("list")
            .json::<Vec<LeftMessage>>()
            .await
            .expect("json")
    };
    let messages = list("anna@shop.example").await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0].email.as_str(), messages[0].text.as_str()),
        ("kim@example.com", "Please call me about my refund")
    );
    assert_eq!(messages[0].transcript.len(), 1);
    assert!(list("olga@other.example").await.is_empty(), "another merchant's agent sees none");
}
