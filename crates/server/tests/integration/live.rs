//! The live handoff over real HTTP and WebSockets, as customers and agents use it.

use crate::common::{
    OTHER_ORIGIN, SHOP_ORIGIN, TestApp, closed, recv, send, send_binary, send_raw, spawn_app,
};
use tandem_protocol::{
    AgentEvent, AgentFrame, Author, ClientMessageId, ConversationStatus, CustomerEvent, CustomerFrame,
    ErrorCode, EscalationReason, HandoffReason, Problem, ProblemCode, QueueStatus,
};

fn cid(id: &str) -> ClientMessageId {
    ClientMessageId(id.into())
}

#[tokio::test]
async fn customer_and_agent_chat_with_acks_sequences_and_history() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    assert_eq!(started.customer_token.len(), 64, "256-bit token");
    assert_eq!(started.queue.position, 1);

    let (mut customer, welcome) = app.customer(&started, 0).await;
    assert!(
        matches!(welcome, CustomerEvent::Welcome { status: ConversationStatus::Waiting, .. }),
        "{welcome:?}"
    );
    let (mut agent, welcome, queue) = app.agent("anna@shop.example").await;
    assert!(matches!(welcome, AgentEvent::Welcome { ref name, .. } if name == "Anna"), "{welcome:?}");
    let AgentEvent::Queue { entries } = queue else { panic!("{queue:?}") };
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].preview.len(), 2, "the bot transcript is previewed");
    assert_eq!(entries[0].escalation, Some(EscalationReason::RepeatedFallback), "why the bot handed over");

    // Dispatch offers the waiting customer to the only agent online.
    let offer = crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Offer { .. })).await;
    assert!(
        matches!(offer, AgentEvent::Offer { ref offer, timeout_secs: 20, .. } if offer.conversation_id == started.conversation_id)
    );
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let accepted = crate::common::recv_agent(&mut agent).await;
    let AgentEvent::Accepted { conversation } = accepted else { panic!("{accepted:?}") };
    assert_eq!(conversation.transcript.len(), 2);
    assert_eq!(
        (conversation.reason, conversation.escalation),
        (HandoffReason::BotOffer, Some(EscalationReason::RepeatedFallback))
    );
    assert_eq!(conversation.page_url, "https://shop.example/checkout");
    // Queue updates come first: the estimate fell when Anna came online.
    let joined =
        crate::common::recv_customer_until(&mut customer, |e| !matches!(e, CustomerEvent::Queue { .. }))
            .await;
    assert_eq!(joined, CustomerEvent::AgentJoined { name: "Anna".into() });

    send(&mut customer, &CustomerFrame::Send { client_id: cid("c1"), text: "Hej!".into() }).await;
    assert_eq!(
        recv::<CustomerEvent>(&mut customer).await,
        CustomerEvent::Ack { client_id: cid("c1"), seq: 1 }
    );
    let echoed: CustomerEvent = recv(&mut customer).await;
    assert!(matches!(echoed, CustomerEvent::Message { ref message } if message.seq == 1), "{echoed:?}");
    let delivered = crate::common::recv_agent(&mut agent).await;
    let AgentEvent::Message { message, .. } = delivered else { panic!("{delivered:?}") };
    assert_eq!((message.seq, message.author, message.text.as_str()), (1, Author::Customer, "Hej!"));

    send(&mut agent, &AgentFrame::Typing { conversation_id: started.conversation_id.clone(), typing: true })
        .await;
    assert_eq!(recv::<CustomerEvent>(&mut customer).await, CustomerEvent::Typing { typing: true });
    let reply = AgentFrame::Send {
        conversation_id: started.conversation_id.clone(),
        client_id: cid("a1"),
        text: "<b>Hi</b>, how can I help?".into(),
    };
    send(&mut agent, &reply).await;
    let ack = crate::common::recv_agent(&mut agent).await;
    assert!(matches!(ack, AgentEvent::Ack { seq: 2, .. }), "{ack:?}");
    let echo = crate::common::recv_agent(&mut agent).await;
    assert!(matches!(echo, AgentEvent::Message { ref message, .. } if message.seq == 2), "{echo:?}");
    let delivered: CustomerEvent = recv(&mut customer).await;
    let CustomerEvent::Message { message } = delivered else { panic!("{delivered:?}") };
    assert_eq!(message.author, Author::Agent { name: "Anna".into() });
    assert_eq!(message.text, "<b>Hi</b>, how can I help?", "text is stored as sent");

    send(&mut agent, &AgentFrame::End { conversation_id: started.conversation_id.clone() }).await;
    assert!(matches!(crate::common::recv_agent(&mut agent).await, AgentEvent::Ended { .. }));
    assert_eq!(recv::<CustomerEvent>(&mut customer).await, CustomerEvent::Closed);
    send(&mut customer, &CustomerFrame::Send { client_id: cid("c2"), text: "still there?".into() }).await;
    let refused: CustomerEvent = recv(&mut customer).await;
    assert!(
        matches!(refused, CustomerEvent::Error { code: ErrorCode::ConversationEnded, client_id: Some(ref id), .. } if *id == cid("c2")),
        "the refusal names the send it refuses: {refused:?}"
    );
}

/// "Seen" on both sides: what one side has read reaches the other (never past what it was
/// sent), and a page or console that connects again is told how far the other side had read.
#[tokio::test]
async fn read_receipts_reach_the_other_side_and_are_told_again_after_a_reconnect() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let id = started.conversation_id.clone();
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Offer { .. })).await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await;

    send(&mut customer, &CustomerFrame::Send { client_id: cid("c1"), text: "Hej!".into() }).await;
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Message { .. })).await;
    // The agent claims more than it was sent: the customer hears of what it was sent.
    send(&mut agent, &AgentFrame::Read { conversation_id: id.clone(), seq: 99 }).await;
    let read = crate::common::recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Read { .. }));
    assert_eq!(read.await, CustomerEvent::Read { seq: 1 });

    let reply = AgentFrame::Send { conversation_id: id.clone(), client_id: cid("a1"), text: "Hi!".into() };
    send(&mut agent, &reply).await;
    let is_reply = |e: &CustomerEvent| matches!(e, CustomerEvent::Message { message } if message.seq == 2);
    crate::common::recv_customer_until(&mut customer, is_reply).await;
    send(&mut customer, &CustomerFrame::Read { seq: 2 }).await;
    let read = crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Read { .. })).await;
    assert_eq!(read, AgentEvent::Read { conversation_id: id.clone(), seq: 2 });

    // Both come back (a reload, a new tab): each is told where the other had read.
    drop((customer, agent));
    let (mut customer, welcome) = app.customer(&started, 2).await;
    assert!(
        matches!(welcome, CustomerEvent::Welcome { status: ConversationStatus::Active, .. }),
        "{welcome:?}"
    );
    assert_eq!(recv::<CustomerEvent>(&mut customer).await, CustomerEvent::Read { seq: 1 });
    let (_agent, welcome, after_welcome) = app.agent("anna@shop.example").await;
    assert!(matches!(welcome, AgentEvent::Welcome { ref chats, .. } if chats.len() == 1), "{welcome:?}");
    assert_eq!(after_welcome, AgentEvent::Read { conversation_id: id, seq: 2 });
}

#[tokio::test]
async fn two_agents_accepting_at_once_have_exactly_one_winner() {
    let app = spawn_app().await;
    // Four rounds: two sign-ins each stay within the sign-in rate limit.
    for _ in 0..4 {
        let started = app.start_conversation().await;
        let (mut anna, _, _) = app.agent("anna@shop.example").await;
        let (mut bert, _, _) = app.agent("bert@shop.example").await;
        let accept = AgentFrame::Accept { conversation_id: started.conversation_id.clone() };
        tokio::join!(send(&mut anna, &accept), send(&mut bert, &accept));

        let mut winners = Vec::new();
        let mut losers = 0;
        for ws in [&mut anna, &mut bert] {
            match crate::common::recv_agent(ws).await {
                AgentEvent::Accepted { .. } => winners.push(ws),
                AgentEvent::Error { code: ErrorCode::AlreadyTaken, .. } => losers += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((winners.len(), losers), (1, 1), "exactly one winner");
        // The winner finishes, so that nobody reaches their capacity over the rounds; the next
        // round starts only once the server has ended it.
        let winner = winners.pop().expect("a winner");
        send(winner, &AgentFrame::End { conversation_id: started.conversation_id.clone() }).await;
        crate::common::recv_agent_until(winner, |event| matches!(event, AgentEvent::Ended { .. })).await;
    }
}

#[tokio::test]
async fn reconnect_with_last_sequence_gets_exactly_the_missed_messages() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    for (i, text) in ["one", "two", "three", "four", "five"].iter().enumerate() {
        send(&mut customer, &CustomerFrame::Send { client_id: cid(&format!("c{i}")), text: (*text).into() })
            .await;
        assert!(matches!(recv::<CustomerEvent>(&mut customer).await, CustomerEvent::Ack { .. }));
        assert!(matches!(recv::<CustomerEvent>(&mut customer).await, CustomerEvent::Message { .. }));
    }
    drop(customer);

    let (mut again, welcome) = app.customer(&started, 2).await;
    assert!(matches!(welcome, CustomerEvent::Welcome { .. }), "{welcome:?}");
    let mut replayed = Vec::new();
    for _ in 0..3 {
        let CustomerEvent::Message { message } = recv(&mut again).await else { panic!("expected a message") };
        replayed.push((message.seq, message.text));
    }
    assert_eq!(replayed, [(3, "three".into()), (4, "four".into()), (5, "five".into())]);
    // Nothing more: the next frame is the answer to a new message.
    send(&mut again, &CustomerFrame::Send { client_id: cid("c9"), text: "six".into() }).await;
    assert_eq!(recv::<CustomerEvent>(&mut again).await, CustomerEvent::Ack { client_id: cid("c9"), seq: 6 });
}

#[tokio::test]
async fn a_retried_client_id_is_stored_once() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let frame = CustomerFrame::Send { client_id: cid("same"), text: "hello".into() };
    send(&mut customer, &frame).await;
    assert_eq!(
        recv::<CustomerEvent>(&mut customer).await,
        CustomerEvent::Ack { client_id: cid("same"), seq: 1 }
    );
    assert!(matches!(recv::<CustomerEvent>(&mut customer).await, CustomerEvent::Message { .. }));
    // The retry (e.g. after a lost ack) gets the same sequence and is not delivered again.
    send(&mut customer, &frame).await;
    assert_eq!(
        recv::<CustomerEvent>(&mut customer).await,
        CustomerEvent::Ack { client_id: cid("same"), seq: 1 }
    );
    send(&mut customer, &CustomerFrame::Send { client_id: cid("next"), text: "again".into() }).await;
    assert_eq!(
        recv::<CustomerEvent>(&mut customer).await,
        CustomerEvent::Ack { client_id: cid("next"), seq: 2 }
    );

    let (_, welcome) = app.customer(&started, 0).await;
    assert!(matches!(welcome, CustomerEvent::Welcome { .. }));
    let (mut replay, _) = app.customer(&started, 0).await;
    let first: CustomerEvent = recv(&mut replay).await;
    let second: CustomerEvent = recv(&mut replay).await;
    assert!(matches!(first, CustomerEvent::Message { ref message } if message.seq == 1));
    assert!(
        matches!(second, CustomerEvent::Message { ref message } if message.seq == 2 && message.text == "again")
    );
}

#[tokio::test]
async fn wrong_token_is_refused_and_closed() {
    let app = spawn_app().await;
    let mut started = app.start_conversation().await;
    started.customer_token = "0".repeat(64);
    let (mut customer, refused) = app.customer(&started, 0).await;
    assert!(matches!(refused, CustomerEvent::Error { code: ErrorCode::Unauthorized, .. }), "{refused:?}");
    assert!(closed(&mut customer).await);

    // Agents' HTTP and WebSocket without a session: 401.
    let me = app.http.get(app.url("/v1/agent/me")).send().await.expect("request");
    assert_eq!(me.status(), 401);
    let problem: Problem = me.json().await.expect("problem");
    assert_eq!(problem.code, ProblemCode::Unauthorized);
    assert_eq!(app.connect("/v1/agent/live", &[("origin", &app.origin())]).await.err(), Some(401));
}

/// A path naming something that cannot be a conversation id is answered like an unknown one,
/// without reaching the database.
#[tokio::test]
async fn ids_that_cannot_be_conversations_are_unknown() {
    let app = spawn_app().await;
    let cookie = app.login("anna@shop.example").await;
    for id in ["a%20b", "%C3%A9", &"a".repeat(65)] {
        let live = app.connect(&format!("/v1/conversations/{id}/live"), &[("origin", SHOP_ORIGIN)]).await;
        assert_eq!(live.err(), Some(404), "{id}");
        let rating = app
            .http
            .post(app.url(&format!("/v1/conversations/{id}/rating")))
            .bearer_auth("token")
            .json(&serde_json::json!({ "score": 5 }))
            .send()
            .await
            .expect("request");
        assert_eq!(rating.status(), 401, "{id}");
        let detail = app
            .http
            .get(app.url(&format!("/v1/agent/conversations/{id}")))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("request");
        assert_eq!(detail.status(), 404, "{id}");
        let problem: Problem = detail.json().await.expect("problem");
        assert_eq!(problem.code, ProblemCode::NotFound);
    }
}

/// Signing out ends the consoles opened with that session at once, and no other; a session
/// ended elsewhere (expired, or a password reset by the command line) ends them within seconds.
#[tokio::test]
async fn a_console_ends_with_its_session() {
    let app = spawn_app().await;
    let (first, second) = (app.login("bert@shop.example").await, app.login("bert@shop.example").await);
    let app = &app;
    let console = |cookie: String| async move {
        let origin = app.origin();
        let headers = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
        let mut ws = app.connect("/v1/agent/live", &headers).await.expect("upgrade");
        let _welcome: AgentEvent = recv(&mut ws).await;
        ws
    };
    let (mut signing_out, mut staying) = (console(first.clone()).await, console(second.clone()).await);
    let logout = app
        .http
        .post(app.url("/v1/agent/logout"))
        .header("cookie", &first)
        .header("origin", app.origin())
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 204);
    let ended = crate::common::recv_agent(&mut signing_out).await;
    assert!(matches!(ended, AgentEvent::Error { code: ErrorCode::Unauthorized, .. }), "{ended:?}");
    assert!(closed(&mut signing_out).await);

    send(&mut staying, &AgentFrame::SetPresence { presence: tandem_protocol::Presence::Away }).await;
    let still = crate::common::recv_agent(&mut staying).await;
    assert!(matches!(still, AgentEvent::Presence { .. }), "the other session goes on: {still:?}");

    // The command line resets Bert's password, in another process: every session ends,
    // checked every few seconds (the session recheck), not at once.
    let reset = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["agent", "add", "--merchant", "shop", "--email", "Bert@Shop.example", "--name", "Bert"])
        .arg("--data-dir")
        .arg(app.data_dir())
        .env("TANDEM_AGENT_PASSWORD", crate::common::PASSWORD)
        .env_remove("TANDEM_DATABASE_URL")
        .output()
        .expect("run tandem");
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    assert_ends_unauthorized(&mut staying).await;

    // A session that expires ends its console too.
    let third = app.login("bert@shop.example").await;
    let mut expiring = console(third).await;
    let database =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", app.data_dir().join("tandem.sqlite3").display()))
            .await
            .expect("open the database");
    sqlx::query("UPDATE agent_sessions SET expires_at_ms = 0").execute(&database).await.expect("expire");
    assert_ends_unauthorized(&mut expiring).await;
}

/// Waits (past any queue updates) for the console's `unauthorized` error, then its close.
async fn assert_ends_unauthorized(ws: &mut crate::common::Ws) {
    let ended = loop {
        let event: AgentEvent = crate::common::recv_within(ws, std::time::Duration::from_secs(15)).await;
        if !matches!(event, AgentEvent::Queue { .. }) {
            break event;
        }
    };
    assert!(matches!(ended, AgentEvent::Error { code: ErrorCode::Unauthorized, .. }), "{ended:?}");
    assert!(closed(ws).await);
}

/// A flood of typing frames reaches the other side coalesced: a few, the last word last.
#[tokio::test]
async fn typing_is_relayed_coalesced_with_the_last_state_last() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    send(&mut anna, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    assert!(matches!(crate::common::recv_agent(&mut anna).await, AgentEvent::Accepted { .. }));

    for i in 0..40 {
        send(&mut customer, &CustomerFrame::Typing { typing: i % 2 == 0 }).await;
    }
    send(&mut customer, &CustomerFrame::Typing { typing: false }).await;
    send(&mut customer, &CustomerFrame::Send { client_id: cid("m1"), text: "done typing".into() }).await;
    let (mut typings, mut got_message) = (Vec::new(), false);
    while !(got_message && typings.last() == Some(&false)) {
        match crate::common::recv_agent(&mut anna).await {
            AgentEvent::Typing { typing, .. } => typings.push(typing),
            AgentEvent::Message { .. } => got_message = true,
            _ => {}
        }
    }
    assert!(typings.len() <= 6, "41 frames, relayed as {typings:?}");
}

/// The server pings its live sockets: a client that answers (as browsers do) stays however
/// long it is quiet, one that falls silent (gone without a close) is let go.
#[tokio::test]
async fn silent_clients_are_let_go_and_answering_ones_kept() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = crate::common::spawn_app_with_quick_heartbeat().await;
    let started = app.start_conversation().await;
    let (mut answering, _) = app.customer(&started, 0).await;
    let (mut silent, _) = app.customer(&started, 0).await;
    async fn next(
        ws: &mut crate::common::Ws,
    ) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
        tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.expect("a frame in time")
    }
    // Reading answers each ping with a pong: ten pings (well past the 400 ms) and still served.
    let mut pings = 0;
    while pings < 10 {
        match next(&mut answering).await {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(_))) | None => panic!("a client that answers was let go"),
            _ => {}
        }
    }
    // The silent one said nothing all that while: it was closed.
    // (What it finds waiting: the pings it never answered, then the close.)
    let mut closed = false;
    for _ in 0..20 {
        closed = matches!(next(&mut silent).await, Some(Ok(Message::Close(_))) | Some(Err(_)) | None);
        if closed {
            break;
        }
    }
    assert!(closed, "the silent client is still served");
}

#[tokio::test]
async fn first_frame_must_be_hello() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let path = format!("/v1/conversations/{}/live", started.conversation_id);
    let mut ws = app.connect(&path, &[("origin", SHOP_ORIGIN)]).await.expect("upgrade");
    send(&mut ws, &CustomerFrame::Typing { typing: true }).await;
    let refused: CustomerEvent = recv(&mut ws).await;
    assert!(matches!(refused, CustomerEvent::Error { code: ErrorCode::ExpectedHello, .. }), "{refused:?}");
    assert!(closed(&mut ws).await);
}

#[tokio::test]
async fn another_merchants_agent_is_forbidden() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let cookie = app.login("olga@other.example").await;
    let response = app
        .http
        .get(app.url(&format!("/v1/agent/conversations/{}", started.conversation_id)))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);

    let (mut olga, _, queue) = app.agent("olga@other.example").await;
    assert_eq!(queue, AgentEvent::Queue { entries: vec![] }, "olga sees only her merchant's queue");
    send(&mut olga, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    let refused = crate::common::recv_agent(&mut olga).await;
    assert!(matches!(refused, AgentEvent::Error { code: ErrorCode::NotAllowed, .. }), "{refused:?}");
    let send_frame = AgentFrame::Send {
        conversation_id: started.conversation_id.clone(),
        client_id: cid("x"),
        text: "hi".into(),
    };
    send(&mut olga, &send_frame).await;
    let refused = crate::common::recv_agent(&mut olga).await;
    assert!(matches!(refused, AgentEvent::Error { code: ErrorCode::NotAllowed, .. }), "{refused:?}");
}

#[tokio::test]
async fn disallowed_origins_are_forbidden() {
    let app = spawn_app().await;
    let response = app.start_at("shop", OTHER_ORIGIN).await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.json::<Problem>().await.expect("problem").code, ProblemCode::OriginNotAllowed);

    let started = app.start_conversation().await;
    let path = format!("/v1/conversations/{}/live", started.conversation_id);
    assert_eq!(app.connect(&path, &[("origin", OTHER_ORIGIN)]).await.err(), Some(403));

    // The console's routes accept only the console's own origin.
    let login = app
        .http
        .post(app.url("/v1/agent/login"))
        .header("origin", SHOP_ORIGIN)
        .json(&serde_json::json!({ "email": "anna@shop.example", "password": crate::common::PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(login.status(), 403);
    let cookie = app.login("anna@shop.example").await;
    let hijack = app.connect("/v1/agent/live", &[("cookie", &cookie), ("origin", SHOP_ORIGIN)]).await;
    assert_eq!(hijack.err(), Some(403));
}

#[tokio::test]
async fn bad_frames_get_typed_errors_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;

    // Each with the `send` it refuses named back, where the frame could be read that far.
    let cases: Vec<(String, ErrorCode, Option<&str>)> = vec![
        ("not json".into(), ErrorCode::MalformedFrame, None),
        (r#"{"type":"fly"}"#.into(), ErrorCode::MalformedFrame, None),
        (
            format!(r#"{{"type":"send","client_id":"c","text":"{}"}}"#, "x".repeat(40_000)),
            ErrorCode::FrameTooLarge,
            None,
        ),
        (
            format!(r#"{{"type":"send","client_id":"c","text":"{}"}}"#, "y".repeat(4001)),
            ErrorCode::InvalidMessage,
            Some("c"),
        ),
        (r#"{"type":"send","client_id":"c","text":"   "}"#.into(), ErrorCode::InvalidMessage, Some("c")),
        (r#"{"type":"send","client_id":"m","text":7}"#.into(), ErrorCode::MalformedFrame, Some("m")),
        (r#"{"type":"send","client_id":"","text":"hi"}"#.into(), ErrorCode::MalformedFrame, Some("")),
        // No database stores U+0000 (PostgreSQL cannot): refused on both alike.
        (r#"{"type":"send","client_id":"n","text":"a\u0000b"}"#.into(), ErrorCode::InvalidMessage, Some("n")),
    ];
    for (frame, expected, named) in cases {
        send_raw(&mut customer, frame).await;
        let error: CustomerEvent = recv(&mut customer).await;
        let CustomerEvent::Error { code, client_id, .. } = &error else { panic!("an error: {error:?}") };
        assert_eq!((*code, client_id.as_ref().map(|id| id.0.as_str())), (expected, named), "{error:?}");
    }
    send_binary(&mut customer).await;
    let error: CustomerEvent = recv(&mut customer).await;
    assert!(matches!(error, CustomerEvent::Error { code: ErrorCode::MalformedFrame, .. }), "{error:?}");

    // Still usable: a good message is stored and acked.
    send(&mut customer, &CustomerFrame::Send { client_id: cid("ok"), text: "hello".into() }).await;
    assert_eq!(
        recv::<CustomerEvent>(&mut customer).await,
        CustomerEvent::Ack { client_id: cid("ok"), seq: 1 }
    );

    // Bad REST bodies are problems too.
    let response = app
        .http
        .post(app.url("/v1/conversations"))
        .header("content-type", "application/json")
        .body("{\"merchant_id\":")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Problem>().await.expect("problem").code, ProblemCode::InvalidRequest);
    let mut bad_url = TestApp::start_request("shop");
    bad_url.page_url = "javascript:alert(1)".into();
    let request = app.http.post(app.url("/v1/conversations")).header("origin", SHOP_ORIGIN);
    let response = request.json(&bad_url).send().await.expect("request");
    assert_eq!(response.status(), 400);
    let huge = app
        .http
        .post(app.url("/v1/conversations"))
        .header("content-type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .expect("request");
    assert_eq!(huge.status(), 413);
    assert_eq!(huge.json::<Problem>().await.expect("problem").code, ProblemCode::PayloadTooLarge);
}

#[tokio::test]
async fn sending_too_fast_is_rate_limited_and_retry_succeeds_later() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let mut limited = None;
    for i in 0..30 {
        send(&mut customer, &CustomerFrame::Send { client_id: cid(&format!("m{i}")), text: "spam".into() })
            .await;
        match recv::<CustomerEvent>(&mut customer).await {
            CustomerEvent::Ack { .. } => {
                let _echo: CustomerEvent = recv(&mut customer).await;
            }
            CustomerEvent::Error { code: ErrorCode::RateLimited, client_id, .. } => {
                assert_eq!(client_id, Some(cid(&format!("m{i}"))), "the refusal names its send");
                limited = Some(i);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // A burst of 10 passes; the bucket refills at one a second, so a slow machine may fit a
    // few more before the limit bites.
    assert!(limited.is_some_and(|sent| sent >= 10), "limited after {limited:?} messages");

    // The refused message, resent with its client id once the bucket refills, is stored once.
    let refused = limited.expect("limited");
    let retry = CustomerFrame::Send { client_id: cid(&format!("m{refused}")), text: "spam".into() };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        send(&mut customer, &retry).await;
        match recv::<CustomerEvent>(&mut customer).await {
            CustomerEvent::Ack { seq, .. } => {
                assert_eq!(seq, u64::try_from(refused).expect("small") + 1);
                break;
            }
            CustomerEvent::Error { code: ErrorCode::RateLimited, .. } => {
                assert!(tokio::time::Instant::now() < deadline, "the limit never lifted");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn queue_positions_move_for_the_customers_behind() {
    let app = spawn_app().await;
    let first = app.start_conversation().await;
    let second = app.start_conversation().await;
    let third = app.start_conversation().await;
    assert_eq!((first.queue.position, second.queue.position, third.queue.position), (1, 2, 3));
    let (mut second_ws, welcome) = app.customer(&second, 0).await;
    assert!(matches!(welcome, CustomerEvent::Welcome { queue: Some(QueueStatus { position: 2, .. }), .. }));
    let (mut third_ws, _) = app.customer(&third, 0).await;

    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: first.conversation_id.clone() }).await;
    let at = |position: u32| move |e: &CustomerEvent| matches!(e, CustomerEvent::Queue { queue } if queue.position == position);
    crate::common::recv_customer_until(&mut second_ws, at(1)).await;
    crate::common::recv_customer_until(&mut third_ws, at(2)).await;

    // Putting a conversation back sends it to the front of the queue: that customer waited.
    send(&mut agent, &AgentFrame::Requeue { conversation_id: first.conversation_id.clone() }).await;
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Ended { .. })).await;
    let (_, welcome) = app.customer(&first, 0).await;
    assert!(
        matches!(
            welcome,
            CustomerEvent::Welcome {
                status: ConversationStatus::Waiting,
                queue: Some(QueueStatus { position: 1, .. }),
                ..
            }
        ),
        "{welcome:?}"
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let cookie = app.login("anna@shop.example").await;
    let me = app.http.get(app.url("/v1/agent/me")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(me.status(), 200);
    let logout = app
        .http
        .post(app.url("/v1/agent/logout"))
        .header("cookie", &cookie)
        .header("origin", app.origin())
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 204);
    let me = app.http.get(app.url("/v1/agent/me")).header("cookie", &cookie).send().await.expect("me");
    assert_eq!(me.status(), 401);

    let wrong = app
        .http
        .post(app.url("/v1/agent/login"))
        .header("origin", app.origin())
        .json(&serde_json::json!({ "email": "anna@shop.example", "password": "wrong password!!" }))
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), 401);
}

/// Sends a customer message and waits for it to be stored; its seq.
async fn say(customer: &mut crate::common::Ws, client_id: &str, text: &str) -> u64 {
    send(customer, &CustomerFrame::Send { client_id: cid(client_id), text: text.into() }).await;
    let ack = crate::common::recv_customer_until(customer, |e| matches!(e, CustomerEvent::Ack { .. })).await;
    let CustomerEvent::Ack { seq, .. } = ack else { unreachable!() };
    crate::common::recv_customer_until(customer, |e| matches!(e, CustomerEvent::Message { .. })).await;
    seq
}

fn texts(messages: &[tandem_protocol::ChatMessage]) -> Vec<(u64, &str)> {
    messages.iter().map(|m| (m.seq, m.text.as_str())).collect()
}

/// A database restored from an older copy hands out again sequence numbers that clients
/// already hold, for other messages: a client naming a message the store no longer holds gets
/// the whole conversation to replace its copy, and then every new message.
#[tokio::test]
async fn after_a_restore_clients_holding_lost_messages_get_the_whole_conversation_then_new_ones() {
    let mut app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Offer { .. })).await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await;
    assert_eq!(say(&mut customer, "c1", "one").await, 1);
    let backup = app.backup().await;
    assert_eq!(say(&mut customer, "c2", "two").await, 2);
    assert_eq!(say(&mut customer, "c3", "three").await, 3);
    drop((customer, agent));

    app.restore(&backup).await;
    let (mut other_tab, _) = app.customer(&started, 0).await;
    crate::common::recv_customer_until(&mut other_tab, |e| matches!(e, CustomerEvent::Message { .. })).await;
    assert_eq!(say(&mut other_tab, "c4", "four, after the restore").await, 2, "seq 2 is handed out again");

    // Holding seq 3, which the store no longer has.
    let (mut tab, _) = app.customer_holding(&started, 3, Some(cid("c3"))).await;
    let CustomerEvent::Transcript { messages } = recv(&mut tab).await else {
        panic!("expected the transcript")
    };
    assert_eq!(texts(&messages), [(1, "one"), (2, "four, after the restore")]);
    // Holding seq 2 as it was before the restore: the store's seq 2 is another message.
    let (mut old_tab, _) = app.customer_holding(&started, 2, Some(cid("c2"))).await;
    let CustomerEvent::Transcript { messages } = recv(&mut old_tab).await else {
        panic!("expected the transcript")
    };
    assert_eq!(messages.len(), 2);
    // Holding the store's own seq 2: only what follows, as always.
    let (mut current_tab, _) = app.customer_holding(&started, 2, Some(cid("c4"))).await;
    // The agent's console resumes the same way.
    let (mut console, _, _) = app.agent("anna@shop.example").await;
    let resume = AgentFrame::Resume {
        conversation_id: started.conversation_id.clone(),
        last_seq: 3,
        last_client_id: Some(cid("c3")),
    };
    send(&mut console, &resume).await;
    let transcript =
        crate::common::recv_agent_until(&mut console, |e| matches!(e, AgentEvent::Transcript { .. })).await;
    let AgentEvent::Transcript { messages, .. } = transcript else { unreachable!() };
    assert_eq!(messages.len(), 2);

    assert_eq!(say(&mut other_tab, "c5", "five").await, 3);
    for held in [&mut tab, &mut old_tab, &mut current_tab] {
        let CustomerEvent::Message { message } = recv(held).await else { panic!("expected the new message") };
        assert_eq!((message.seq, message.text.as_str()), (3, "five"), "a new seq 3 is not dropped");
    }
    let delivered =
        crate::common::recv_agent_until(&mut console, |e| matches!(e, AgentEvent::Message { .. })).await;
    assert!(
        matches!(delivered, AgentEvent::Message { ref message, .. } if message.seq == 3),
        "{delivered:?}"
    );
}

async fn metrics(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.expect("metrics");
    let content_type = response.headers()["content-type"].to_str().expect("text").to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    response.text().await.expect("text")
}

/// `/metrics` counts what happens: open sockets by channel, offers, message commits, and the
/// customers waiting for each merchant this instance dispatches.
#[tokio::test]
async fn metrics_count_sockets_offers_commits_and_waiting_customers() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    crate::common::recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Offer { .. })).await;
    send(&mut agent, &AgentFrame::Decline { conversation_id: started.conversation_id.clone() }).await;
    assert_eq!(say(&mut customer, "c1", "still waiting").await, 1);

    let text = crate::common::eventually("the decline counted", || async {
        let text = metrics(&app).await;
        text.contains("tandem_offers_total{outcome=\"declined\"} 1").then_some(text)
    })
    .await;
    for line in [
        "tandem_live_sockets{kind=\"customer\"} 1",
        "tandem_live_sockets{kind=\"agent\"} 1",
        "tandem_offers_total{outcome=\"made\"} 1",
        "tandem_message_commit_seconds_count 1",
        "tandem_waiting_customers{merchant=\"shop\"} 1",
        "tandem_dispatch_leader{merchant=\"shop\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
    }
    drop(customer);
    crate::common::eventually("the customer's socket gone", || async {
        metrics(&app).await.contains("tandem_live_sockets{kind=\"customer\"} 0").then_some(())
    })
    .await;
}
