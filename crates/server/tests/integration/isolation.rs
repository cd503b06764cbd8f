//! Tenant isolation: an agent or admin of one merchant, aimed at another merchant's agents,
//! conversations and data, is refused (403/404, or a typed error frame) and changes nothing.
//! Each case checks the state afterwards, not only the answer.

use tandem_protocol::{
    AgentEvent, AgentFrame, ClientMessageId, ConversationId, ConversationStarted, ConversationStatus,
    CustomerEvent, ErrorCode, MerchantId,
};
use tandem_server::store::Store;

use crate::common::{
    OTHER_ORIGIN, TestApp, Ws, recv_agent, recv_agent_until, recv_customer_until, send, spawn_app,
};

/// The shop with one chat Anna handles and one customer waiting.
struct Shop {
    active: ConversationStarted,
    waiting: ConversationStarted,
    customer: Ws,
    anna: Ws,
}

async fn shop_at_work(app: &TestApp) -> Shop {
    let active = app.start_conversation().await;
    let (mut customer, _) = app.customer(&active, 0).await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    send(&mut anna, &AgentFrame::Accept { conversation_id: active.conversation_id.clone() }).await;
    assert!(matches!(recv_agent(&mut anna).await, AgentEvent::Accepted { .. }));
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::AgentJoined { .. })).await;
    let waiting = app.start_conversation().await;
    Shop { active, waiting, customer, anna }
}

async fn status(app: &TestApp, id: &ConversationId) -> (ConversationStatus, Option<i64>, usize) {
    let store = app.store().await;
    let conversation = store.conversation(id).await.expect("read").expect("conversation");
    let messages = store.messages_after(id, 0).await.expect("messages").len();
    (conversation.status, conversation.agent_id, messages)
}

async fn agent_id(app: &TestApp, email: &str) -> i64 {
    app.store().await.agent_by_email(email).await.expect("read").expect("agent").id
}

#[tokio::test]
async fn another_merchants_admin_cannot_deactivate_or_sign_out_an_agent() {
    let app = spawn_app().await;
    let bert = agent_id(&app, "bert@shop.example").await;
    let bert_cookie = app.login("bert@shop.example").await;
    let anna_cookie = app.login("anna@shop.example").await;
    let invite: serde_json::Value = app
        .http
        .post(app.url("/v1/agent/invites"))
        .header("cookie", &anna_cookie)
        .header("origin", app.origin())
        .json(&serde_json::json!({ "role": "agent" }))
        .send()
        .await
        .expect("invite")
        .json()
        .await
        .expect("invite body");
    let anna = agent_id(&app, "anna@shop.example").await;
    let olga = app.login("olga@other.example").await;

    for target in [bert, anna] {
        let response = app
            .http
            .post(app.url(&format!("/v1/agent/agents/{target}/deactivate")))
            .header("cookie", &olga)
            .header("origin", app.origin())
            .send()
            .await
            .expect("deactivate");
        assert_eq!(response.status(), 404, "agent {target}");
    }

    assert!(app.store().await.agent(bert).await.expect("read").expect("bert").active);
    for cookie in [&bert_cookie, &anna_cookie] {
        let me = app.http.get(app.url("/v1/agent/me")).header("cookie", cookie).send().await.expect("me");
        assert_eq!(me.status(), 200, "still signed in");
    }
    let lookup = app
        .http
        .post(app.url("/v1/invites/lookup"))
        .json(&serde_json::json!({ "token": invite["token"] }))
        .send()
        .await
        .expect("lookup");
    assert_eq!(lookup.status(), 200, "Anna's invite still works");
}

#[tokio::test]
async fn another_merchants_agent_reads_nothing_of_the_shop() {
    let app = spawn_app().await;
    let shop = shop_at_work(&app).await;
    // A message left for the shop, which only the shop's agents may read.
    let left = app
        .http
        .post(app.url("/v1/merchants/shop/messages"))
        .header("origin", crate::common::SHOP_ORIGIN)
        .json(&serde_json::json!({ "email": "kim@example.com", "text": "the shop's secret", "locale": "en",
            "page_url": "https://shop.example/", "transcript": [] }))
        .send()
        .await
        .expect("leave a message");
    assert_eq!(left.status(), 201);
    let olga = app.login("olga@other.example").await;
    let get = |path: String| {
        let request = app.http.get(app.url(&path)).header("cookie", &olga);
        async move { request.send().await.expect("request") }
    };
    let detail = get(format!("/v1/agent/conversations/{}", shop.active.conversation_id)).await;
    assert_eq!(detail.status(), 403);
    for path in
        ["/v1/agent/team", "/v1/agent/supervisor", "/v1/agent/messages", "/v1/agent/conversations.csv"]
    {
        let response = get(path.to_owned()).await;
        assert_eq!(response.status(), 200, "{path}");
        let body = response.text().await.expect("body");
        let shop_things = [
            &shop.active.conversation_id.0,
            &shop.waiting.conversation_id.0,
            "Anna",
            "Bert",
            "the shop's secret",
        ];
        for shop_thing in shop_things {
            assert!(!body.contains(shop_thing), "{path} shows the shop's {shop_thing}: {body}");
        }
    }
}

#[tokio::test]
async fn another_merchants_agent_cannot_act_in_the_shops_chats() {
    let app = spawn_app().await;
    let mut shop = shop_at_work(&app).await;
    let anna = agent_id(&app, "anna@shop.example").await;
    let bert = agent_id(&app, "bert@shop.example").await;
    let (active, waiting) = (shop.active.conversation_id.clone(), shop.waiting.conversation_id.clone());
    let (mut olga, _, _) = app.agent("olga@other.example").await;

    // Frames with no answer of their own come first; the refusals after them show they were read.
    for quiet in [
        AgentFrame::Typing { conversation_id: active.clone(), typing: true },
        AgentFrame::Read { conversation_id: active.clone(), seq: 1 },
        AgentFrame::Decline { conversation_id: waiting.clone() },
    ] {
        send(&mut olga, &quiet).await;
    }
    let refused_frames = [
        (AgentFrame::Accept { conversation_id: waiting.clone() }, ErrorCode::NotAllowed),
        (AgentFrame::Accept { conversation_id: active.clone() }, ErrorCode::NotAllowed),
        (
            AgentFrame::Send {
                conversation_id: active.clone(),
                client_id: ClientMessageId("o1".into()),
                text: "hello from elsewhere".into(),
            },
            ErrorCode::NotAllowed,
        ),
        (AgentFrame::End { conversation_id: active.clone() }, ErrorCode::NotAllowed),
        (AgentFrame::Requeue { conversation_id: active.clone() }, ErrorCode::NotAllowed),
        (AgentFrame::Transfer { conversation_id: active.clone(), to_agent: bert }, ErrorCode::NotAllowed),
        (AgentFrame::HandToBot { conversation_id: active.clone() }, ErrorCode::NotAllowed),
        (
            AgentFrame::Note {
                conversation_id: active.clone(),
                client_id: ClientMessageId("n1".into()),
                text: "a note on the shop's chat".into(),
            },
            ErrorCode::NotAllowed,
        ),
        (
            AgentFrame::Resume { conversation_id: active.clone(), last_seq: 0, last_client_id: None },
            ErrorCode::NotAllowed,
        ),
    ];
    for (frame, code) in refused_frames {
        send(&mut olga, &frame).await;
        let refused = recv_agent(&mut olga).await;
        assert!(
            matches!(&refused, AgentEvent::Error { code: got, .. } if *got == code),
            "{frame:?} → {refused:?}"
        );
    }

    assert_eq!(status(&app, &active).await, (ConversationStatus::Active, Some(anna), 0));
    assert_eq!(status(&app, &waiting).await, (ConversationStatus::Waiting, None, 0));
    // Nothing reached the shop's customer: the next thing they see is Anna's message.
    let hello = AgentFrame::Send {
        conversation_id: active.clone(),
        client_id: ClientMessageId("a1".into()),
        text: "hi, Anna here".into(),
    };
    send(&mut shop.anna, &hello).await;
    let next = recv_customer_until(&mut shop.customer, |e| {
        matches!(e, CustomerEvent::Message { .. } | CustomerEvent::Typing { .. } | CustomerEvent::Read { .. })
    })
    .await;
    assert!(
        matches!(&next, CustomerEvent::Message { message } if message.text == "hi, Anna here"),
        "{next:?}"
    );
    // And the waiting customer is still offered to the shop's agents.
    recv_agent_until(
        &mut shop.anna,
        |e| matches!(e, AgentEvent::Offer { offer, .. } if offer.conversation_id == waiting),
    )
    .await;
}

#[tokio::test]
async fn a_chat_cannot_be_transferred_to_another_merchants_agent() {
    let app = spawn_app().await;
    let bert = agent_id(&app, "bert@shop.example").await;
    let (_bert_ws, _, _) = app.agent("bert@shop.example").await;
    let olga_id = agent_id(&app, "olga@other.example").await;
    let started: ConversationStarted =
        app.start_at("other", OTHER_ORIGIN).await.json().await.expect("started");
    let (mut olga, _, _) = app.agent("olga@other.example").await;
    send(&mut olga, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    assert!(matches!(recv_agent(&mut olga).await, AgentEvent::Accepted { .. }));

    send(
        &mut olga,
        &AgentFrame::Transfer { conversation_id: started.conversation_id.clone(), to_agent: bert },
    )
    .await;
    let refused = recv_agent(&mut olga).await;
    assert!(matches!(refused, AgentEvent::Error { code: ErrorCode::Unavailable, .. }), "{refused:?}");
    let conversation = status(&app, &started.conversation_id).await;
    assert_eq!(conversation, (ConversationStatus::Active, Some(olga_id), 0));
    assert_eq!(
        app.store().await.conversation(&started.conversation_id).await.expect("read").expect("c").merchant_id,
        MerchantId::parse("other").expect("id")
    );
}
