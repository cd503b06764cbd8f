//! What the widget needs beyond the live chat: signed identities, ratings the agent sees,
//! availability, messages left when nobody is online, and card numbers masked before anything
//! is stored — through the real server.

use crate::common::{IDENTITY_SECRET, OTHER_ORIGIN, SHOP_ORIGIN, TestApp, recv, send, spawn_app};
use tandem_protocol::{
    AgentEvent, AgentFrame, Availability, ClientMessageId, ConversationStarted, CustomerEvent, CustomerFrame,
    Identity, LeaveMessage, LeftMessage, Problem, ProblemCode, Rating, StartConversation, TranscriptEntry,
    TranscriptSpeaker,
};

/// Kim, as the shop's server signs her with `secret_hex`, `age_secs` ago.
fn kim_signed(secret_hex: &str, age_secs: i64) -> Identity {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let unsigned = Identity {
        id: "customer-42".into(),
        email: Some("kim@example.com".into()),
        name: Some("Kim".into()),
        issued_at: Some(i64::try_from(now).expect("seconds") - age_secs),
        hash: String::new(),
    };
    Identity { hash: tandem_server::identity::sign(secret_hex, &unsigned).expect("hex secret"), ..unsigned }
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
async fn a_signed_identity_reaches_the_agent_and_a_forged_or_stale_one_is_refused() {
    let app = spawn_app().await;
    let with =
        |identity: Identity| StartConversation { identity: Some(identity), ..TestApp::start_request("shop") };
    let refusals = [
        (kim_signed(&"00".repeat(32), 0), 422, ProblemCode::IdentityUnverified),
        // Signed by the shop, but the page changed what the agent would see.
        (
            Identity { email: Some("eve@example.com".into()), ..kim_signed(IDENTITY_SECRET, 0) },
            422,
            ProblemCode::IdentityUnverified,
        ),
        (
            Identity { name: Some("Eve".into()), ..kim_signed(IDENTITY_SECRET, 0) },
            422,
            ProblemCode::IdentityUnverified,
        ),
        // A leaked identity: signed longer ago than the shop accepts (a day), or from the future.
        (kim_signed(IDENTITY_SECRET, 86_400 + 60), 422, ProblemCode::IdentityExpired),
        (kim_signed(IDENTITY_SECRET, -600), 422, ProblemCode::IdentityExpired),
        (Identity { issued_at: None, ..kim_signed(IDENTITY_SECRET, 0) }, 400, ProblemCode::InvalidRequest),
    ];
    for (identity, status, code) in refusals {
        let refused = start(&app, &with(identity.clone())).await;
        assert_eq!(refused.status(), status, "{identity:?}");
        let problem: Problem = refused.json().await.expect("problem");
        assert_eq!(problem.code, code, "{identity:?}");
    }

    let (mut agent, _, queue) = app.agent("anna@shop.example").await;
    let AgentEvent::Queue { entries } = queue else { panic!("{queue:?}") };
    assert!(entries.is_empty(), "a refused start queues nothing");

    let response = start(&app, &with(kim_signed(IDENTITY_SECRET, 3600))).await;
    assert_eq!(response.status(), 201);
    let started: ConversationStarted = response.json().await.expect("started");
    let _queue: AgentEvent = recv(&mut agent).await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let accepted: AgentEvent = crate::common::recv_agent(&mut agent).await;
    let AgentEvent::Accepted { conversation } = accepted else { panic!("{accepted:?}") };
    assert!(conversation.customer.verified && conversation.customer.email_verified);
    assert_eq!(conversation.customer.id.as_deref(), Some("customer-42"));
    assert_eq!(conversation.customer.email.as_deref(), Some("kim@example.com"));
    assert_eq!(conversation.customer.name.as_deref(), Some("Kim"));
}

/// The merchant sets how long a signed identity stays good (`--identity-max-age`): older ones
/// are refused from the next request on, younger ones still start a chat.
#[tokio::test]
async fn the_merchant_sets_how_long_a_signed_identity_stays_good() {
    let app = spawn_app().await;
    let with =
        |identity: Identity| StartConversation { identity: Some(identity), ..TestApp::start_request("shop") };
    assert_eq!(start(&app, &with(kim_signed(IDENTITY_SECRET, 3600))).await.status(), 201, "a day by default");
    let changed = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["merchant", "add", "--id", "shop", "--name", "shop inc", "--origin", SHOP_ORIGIN])
        .args(["--identity-max-age", "600"])
        .arg("--data-dir")
        .arg(app.data_dir())
        .env_remove("TANDEM_DATABASE_URL")
        .output()
        .expect("run tandem");
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));

    let stale = start(&app, &with(kim_signed(IDENTITY_SECRET, 3600))).await;
    assert_eq!(stale.status(), 422);
    assert_eq!(stale.json::<Problem>().await.expect("problem").code, ProblemCode::IdentityExpired);
    assert_eq!(start(&app, &with(kim_signed(IDENTITY_SECRET, 300))).await.status(), 201);
}

/// A signed identity without an email, and the email the customer typed: the agent sees the
/// typed one as not verified.
#[tokio::test]
async fn a_typed_email_beside_a_signed_identity_is_shown_as_unverified() {
    let app = spawn_app().await;
    let mut unsigned = Identity { email: None, ..kim_signed(IDENTITY_SECRET, 0) };
    unsigned.hash = tandem_server::identity::sign(IDENTITY_SECRET, &unsigned).expect("hex");
    let request = StartConversation {
        identity: Some(unsigned),
        email: Some("someone@example.com".into()),
        ..TestApp::start_request("shop")
    };
    let started: ConversationStarted = start(&app, &request).await.json().await.expect("started");
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let AgentEvent::Accepted { conversation } =
        crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await
    else {
        unreachable!()
    };
    assert!(conversation.customer.verified, "the id and name were signed");
    assert_eq!(conversation.customer.email.as_deref(), Some("someone@example.com"));
    assert!(!conversation.customer.email_verified, "typed, not signed");
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
    let AgentEvent::Accepted { conversation } = crate::common::recv_agent(&mut agent).await else { panic!() };
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
    let _accepted: AgentEvent = crate::common::recv_agent(&mut agent).await;
    let rating = Rating { score: 5, comment: Some("Quick and kind".into()) };

    let too_early = rate(&app, &started, &started.customer_token, &rating).await;
    assert_eq!(too_early.status(), 409, "only an ended chat is rated");

    send(&mut agent, &AgentFrame::End { conversation_id: started.conversation_id.clone() }).await;
    assert!(matches!(crate::common::recv_agent(&mut agent).await, AgentEvent::Ended { .. }));
    // Still followed for the rating, but closed to messages.
    let late = AgentFrame::Send {
        conversation_id: started.conversation_id.clone(),
        client_id: tandem_protocol::ClientMessageId("late".into()),
        text: "one more thing".into(),
    };
    send(&mut agent, &late).await;
    let refused = crate::common::recv_agent(&mut agent).await;
    assert!(
        matches!(refused, AgentEvent::Error { code: tandem_protocol::ErrorCode::ConversationEnded, .. }),
        "{refused:?}"
    );

    assert_eq!(rate(&app, &started, &"0".repeat(64), &rating).await.status(), 401, "another token");
    let out_of_range = Rating { score: 6, comment: None };
    assert_eq!(rate(&app, &started, &started.customer_token, &out_of_range).await.status(), 400);

    assert_eq!(rate(&app, &started, &started.customer_token, &rating).await.status(), 204);
    let rated = crate::common::recv_agent(&mut agent).await;
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

/// Whatever a client sends, no card number is stored: the server masks customer (and agent)
/// text, the bot transcript and rating comments before storing them.
#[tokio::test]
async fn card_numbers_in_a_chat_are_masked_before_they_are_stored() {
    let app = spawn_app().await;
    let mut request = TestApp::start_request("shop");
    request.transcript.push(TranscriptEntry {
        from: TranscriptSpeaker::Customer,
        text: "it was 4242-4242-4242-4242".into(),
    });
    let started: ConversationStarted = start(&app, &request).await.json().await.expect("started");
    let id = started.conversation_id.clone();
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    let AgentEvent::Accepted { conversation } = crate::common::recv_agent(&mut agent).await else { panic!() };
    assert_eq!(conversation.transcript[2].text, "it was •••• 4242");

    let (mut customer, _) = app.customer(&started, 0).await;
    let text = "my card is 4111 1111 1111 1111 thanks".to_owned();
    send(&mut customer, &CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text }).await;
    let is_message = |e: &CustomerEvent| matches!(e, CustomerEvent::Message { .. });
    let CustomerEvent::Message { message } =
        crate::common::recv_customer_until(&mut customer, is_message).await
    else {
        panic!()
    };
    assert_eq!(message.text, "my card is •••• 1111 thanks", "the customer's own echo");
    let AgentEvent::Message { message, .. } = crate::common::recv_agent(&mut agent).await else { panic!() };
    assert_eq!(message.text, "my card is •••• 1111 thanks", "what the agent reads");

    let reply = "Is it 5555 5555 5555 4444?".to_owned();
    let client_id = ClientMessageId("a1".into());
    send(&mut agent, &AgentFrame::Send { conversation_id: id.clone(), client_id, text: reply }).await;
    send(&mut agent, &AgentFrame::End { conversation_id: id.clone() }).await;
    let comment = Some("thanks, card 5105105105105100 works now".into());
    let rating = Rating { score: 5, comment };
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Ended { .. })).await;
    assert_eq!(rate(&app, &started, &started.customer_token, &rating).await.status(), 204);

    let cookie = app.login("bert@shop.example").await;
    let url = app.url(&format!("/v1/agent/conversations/{id}"));
    let detail: tandem_protocol::ConversationDetail =
        app.http.get(url).header("cookie", cookie).send().await.expect("detail").json().await.expect("json");
    let texts: Vec<_> = detail.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["my card is •••• 1111 thanks", "Is it •••• 4444?"]);
    assert_eq!(detail.transcript[2].text, "it was •••• 4242");
    let stored_comment = detail.rating.and_then(|r| r.comment);
    assert_eq!(stored_comment.as_deref(), Some("thanks, card •••• 5100 works now"));
}

#[tokio::test]
async fn card_numbers_in_a_left_message_are_masked_before_it_is_stored() {
    let app = spawn_app().await;
    let message = LeaveMessage {
        email: "kim@example.com".into(),
        text: "Charged twice on 3782 822463 10005, please refund".into(),
        locale: "en".into(),
        page_url: "https://shop.example/checkout".into(),
        transcript: vec![TranscriptEntry {
            from: TranscriptSpeaker::Customer,
            text: "4111111111111111".into(),
        }],
    };
    let left =
        app.http.post(app.url("/v1/merchants/shop/messages")).header("origin", SHOP_ORIGIN).json(&message);
    assert_eq!(left.send().await.expect("leave").status(), 201);

    let cookie = app.login("anna@shop.example").await;
    let list = app.http.get(app.url("/v1/agent/messages")).header("cookie", cookie).send().await;
    let messages: Vec<LeftMessage> = list.expect("list").json().await.expect("json");
    assert_eq!(messages[0].text, "Charged twice on •••• 0005, please refund");
    assert_eq!(messages[0].transcript[0].text, "•••• 1111");
}

/// No stored text may hold U+0000 (PostgreSQL cannot, and no person types one): a body with
/// one is refused before anything is stored, on either database alike.
#[tokio::test]
async fn a_nul_character_is_refused_before_anything_is_stored() {
    let app = spawn_app().await;
    let body = serde_json::json!({
        "merchant_id": "shop", "locale": "en", "page_url": "https://shop.example/", "reason": "button",
        "transcript": [{ "from": "customer", "text": "my order\u{0}42" }]
    });
    let refused = app
        .http
        .post(app.url("/v1/conversations"))
        .header("origin", SHOP_ORIGIN)
        .json(&body)
        .send()
        .await
        .expect("start");
    assert_eq!(refused.status(), 400);
    let problem: Problem = refused.json().await.expect("problem");
    assert!(problem.code == ProblemCode::InvalidRequest && problem.detail.contains("U+0000"), "{problem:?}");
    let shop = tandem_protocol::MerchantId::parse("shop").expect("id");
    assert!(tandem_server::store::Store::queue(&app.store().await, &shop).await.expect("queue").is_empty());
}

/// What the page says of itself (`Tandem.setContext`) reaches the agent with the conversation,
/// card numbers masked; anything but an object of at most 8 KB is refused and changes nothing,
/// as is another conversation's token or an ended chat.
#[tokio::test]
async fn the_pages_context_reaches_the_agent_masked_and_only_as_an_object_of_8_kb() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let path = format!("/v1/conversations/{}/context", started.conversation_id);
    let post = |token: &str, body: String| {
        app.http
            .post(app.url(&path))
            .header("origin", SHOP_ORIGIN)
            .header("content-type", "application/json")
            .bearer_auth(token.to_owned())
            .body(body)
            .send()
    };
    let token = started.customer_token.clone();
    let cart = r#"{"cart":[{"sku":"A1","qty":2}],"order_id":"1042","note":"card 4111 1111 1111 1111","card":4111111111111111}"#;
    assert_eq!(post(&token, cart.into()).await.expect("post").status(), 204);
    let too_big = format!(r#"{{"blob":"{}"}}"#, "x".repeat(8 * 1024));
    for refused in [r#"[1,2]"#.to_owned(), "\"text\"".into(), "not json".into(), too_big] {
        let status = post(&token, refused.clone()).await.expect("post").status();
        assert_eq!(status, 400, "{}", &refused[..refused.len().min(20)]);
    }
    let stranger = app.start_conversation().await;
    assert_eq!(post(&stranger.customer_token, cart.into()).await.expect("post").status(), 401);

    let cookie = app.login("anna@shop.example").await;
    let detail: tandem_protocol::ConversationDetail = app
        .http
        .get(app.url(&format!("/v1/agent/conversations/{}", started.conversation_id)))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("detail")
        .json()
        .await
        .expect("json");
    let context: serde_json::Value = serde_json::from_str(&detail.page_context.expect("kept")).expect("json");
    assert_eq!(context["order_id"], "1042", "the last good one, unchanged by the refused");
    assert_eq!(context["note"], "card •••• 1111");
    assert_eq!(context["card"], "•••• 1111", "a card number written as a number is masked too");

    let (mut customer, _) = app.customer(&started, 0).await;
    send(&mut customer, &tandem_protocol::CustomerFrame::Close).await;
    crate::common::recv_customer_until(&mut customer, |e| {
        matches!(e, tandem_protocol::CustomerEvent::Closed)
    })
    .await;
    assert_eq!(
        post(&token, cart.into()).await.expect("post").status(),
        409,
        "an ended chat takes no context"
    );
}
