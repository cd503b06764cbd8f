//! Email through a real SMTP exchange: the server's lettre client against the sink of
//! `tandem_server::mail::sink`, which keeps what it is sent.

use std::time::Duration;

use tandem_protocol::{
    AgentEvent, AgentFrame, ClientMessageId, ConversationStarted, LeaveMessage, MerchantId, TranscriptEntry,
    TranscriptSpeaker, WidgetConfig,
};
use tandem_server::mail::sink::Sink;
use tandem_server::store::Store;

use crate::common::{SHOP_ORIGIN, TestApp, eventually, recv_agent, send, spawn_app, spawn_app_mailing_to};

const WITHIN: Duration = Duration::from_secs(10);

async fn give_the_shop_a_support_address(app: &TestApp) {
    let store = app.store().await;
    let shop = MerchantId::parse("shop").expect("id");
    let mut merchant = store.merchant(&shop).await.expect("read").expect("the shop");
    merchant.support_email = Some("help@shop.example".into());
    store.upsert_merchant(&merchant).await.expect("write");
    store.close().await;
}

fn left_in_german() -> LeaveMessage {
    LeaveMessage {
        email: "kim@example.com".into(),
        text: "Please call me about order 1042 <today>".into(),
        locale: "de".into(),
        page_url: "https://shop.example/checkout".into(),
        transcript: vec![TranscriptEntry { from: TranscriptSpeaker::Customer, text: "refund".into() }],
    }
}

async fn leave(app: &TestApp, message: &LeaveMessage) {
    let left =
        app.http.post(app.url("/v1/merchants/shop/messages")).header("origin", SHOP_ORIGIN).json(message);
    assert_eq!(left.send().await.expect("leave").status(), 201);
}

async fn ask_for_transcript(
    app: &TestApp,
    started: &ConversationStarted,
    token: &str,
    body: &str,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/v1/conversations/{}/transcript", started.conversation_id)))
        .header("origin", SHOP_ORIGIN)
        .header("content-type", "application/json")
        .bearer_auth(token)
        .body(body.to_owned())
        .send()
        .await
        .expect("transcript")
}

async fn shop_mails(app: &TestApp) -> Vec<tandem_server::store::MailRecord> {
    let store = app.store().await;
    let mails = store.mails(&MerchantId::parse("shop").expect("id"), 100).await.expect("mails");
    store.close().await;
    mails
}

#[tokio::test]
async fn a_message_left_is_mailed_to_support_with_the_customer_to_reply_to() {
    let sink = Sink::start().await.expect("sink");
    let app = spawn_app_mailing_to(&sink.url()).await;
    give_the_shop_a_support_address(&app).await;

    leave(&app, &left_in_german()).await;

    let mails = sink.wait_for(1, WITHIN).await.expect("the mail arrives");
    let mail = &mails[0];
    assert_eq!(mail.to, ["help@shop.example"]);
    assert_eq!(mail.from, "chat@shop.example");
    assert_eq!(mail.header("Reply-To").as_deref(), Some("kim@example.com"));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Nachricht von kim@example.com"),
        "in the customer's language"
    );
    assert!(mail.header("Content-Type").is_some_and(|kind| kind.starts_with("multipart/alternative")));
    let body = mail.body();
    assert!(body.contains("Sie: refund"), "what the bot heard: {body}");
    assert!(body.contains("kim@example.com: Please call me about order 1042 <today>"), "plain text: {body}");
    assert!(
        body.contains("Please call me about order 1042 &lt;today&gt;"),
        "HTML with the text as text: {body}"
    );
    let log = eventually("the mail marked sent", || async {
        shop_mails(&app).await.into_iter().find(|mail| mail.sent_at_ms.is_some())
    })
    .await;
    assert_eq!((log.kind.as_str(), log.to.as_str(), log.attempts), ("message_left", "help@shop.example", 1));
}

/// A conversation Anna answered (with a message) and ended.
async fn ended_chat(app: &TestApp) -> ConversationStarted {
    let started = app.start_conversation().await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    let id = started.conversation_id.clone();
    send(&mut agent, &AgentFrame::Accept { conversation_id: id.clone() }).await;
    let _accepted = recv_agent(&mut agent).await;
    let text = "Your refund for order 1042 is on its way".to_owned();
    send(
        &mut agent,
        &AgentFrame::Send { conversation_id: id.clone(), client_id: ClientMessageId("r1".into()), text },
    )
    .await;
    crate::common::recv_agent_until(&mut agent, |event| matches!(event, AgentEvent::Ack { .. })).await;
    send(&mut agent, &AgentFrame::End { conversation_id: id }).await;
    crate::common::recv_agent_until(&mut agent, |event| matches!(event, AgentEvent::Ended { .. })).await;
    started
}

#[tokio::test]
async fn a_customer_has_the_transcript_of_an_ended_chat_mailed_to_an_address_they_typed() {
    let sink = Sink::start().await.expect("sink");
    let app = spawn_app_mailing_to(&sink.url()).await;
    let config: WidgetConfig = app
        .http
        .get(app.url("/v1/merchants/shop/widget-config"))
        .send()
        .await
        .expect("config")
        .json()
        .await
        .expect("json");
    assert!(config.transcripts, "the widget offers transcripts");

    let started = ended_chat(&app).await;
    let token = started.customer_token.clone();
    let refused = [
        (ask_for_transcript(&app, &started, &"0".repeat(64), r#"{"email":"kim@example.com"}"#).await, 401),
        (ask_for_transcript(&app, &started, &token, r#"{"email":"kim"}"#).await, 400),
        (ask_for_transcript(&app, &started, &token, "{}").await, 400),
    ];
    for (response, status) in refused {
        assert_eq!(response.status(), status);
    }

    let asked = ask_for_transcript(&app, &started, &token, r#"{"email":"kim@example.com"}"#).await;
    assert_eq!(asked.status(), 202);
    assert_eq!(
        asked.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"email": "kim@example.com"})
    );
    let mails = sink.wait_for(1, WITHIN).await.expect("the transcript arrives");
    assert_eq!(mails[0].to, ["kim@example.com"]);
    assert_eq!(
        mails[0].header("Subject").as_deref(),
        Some("Ditt samtal med shop inc"),
        "the chat's language"
    );
    let body = mails[0].body();
    assert!(body.contains("Här är ditt samtal med shop inc"), "{body}");
    assert!(
        body.contains("Du: my payment failed\r\nAssistent: Sorry! Want a person?"),
        "the bot's part: {body}"
    );
    assert!(body.contains("Anna: Your refund for order 1042 is on its way"), "{body}");

    // A typo, then the right address: three in all, then no more.
    for _ in 0..2 {
        let again = ask_for_transcript(&app, &started, &token, r#"{"email":"kim@example.org"}"#).await;
        assert_eq!(again.status(), 202);
    }
    let fourth = ask_for_transcript(&app, &started, &token, r#"{"email":"kim@example.net"}"#).await;
    assert_eq!(fourth.status(), 429);
    let problem: tandem_protocol::Problem = fourth.json().await.expect("problem");
    assert!(problem.detail.contains("at most 3 times"), "the chat's limit, not the network's: {problem:?}");
    assert_eq!(sink.wait_for(3, WITHIN).await.expect("three").len(), 3);
}

#[tokio::test]
async fn a_transcript_is_sent_only_once_a_chat_a_person_answered_has_ended() {
    let sink = Sink::start().await.expect("sink");
    let app = spawn_app_mailing_to(&sink.url()).await;
    let talking = app.start_conversation().await;
    let early =
        ask_for_transcript(&app, &talking, &talking.customer_token, r#"{"email":"kim@example.com"}"#).await;
    assert_eq!(early.status(), 409, "only once the chat has ended");
    // Ended by the customer before anyone answered: nobody may have the server mail a bot's
    // part (which the page wrote) to any address by script.
    let (mut customer, _) = app.customer(&talking, 0).await;
    send(&mut customer, &tandem_protocol::CustomerFrame::Close).await;
    let closed =
        |event: &tandem_protocol::CustomerEvent| matches!(event, tandem_protocol::CustomerEvent::Closed);
    crate::common::recv_customer_until(&mut customer, closed).await;
    let unanswered =
        ask_for_transcript(&app, &talking, &talking.customer_token, r#"{"email":"kim@example.com"}"#).await;
    assert_eq!(unanswered.status(), 409, "only a chat a person answered");

    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_mail_server_that_is_down_then_up_loses_nothing() {
    // A port nothing listens on yet: the sink comes up there later.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr");
    let app = spawn_app_mailing_to(&format!("smtp://{addr}")).await;
    give_the_shop_a_support_address(&app).await;

    leave(&app, &left_in_german()).await;
    let failing = eventually("two failed attempts", || async {
        shop_mails(&app).await.into_iter().find(|mail| mail.attempts >= 2)
    })
    .await;
    assert!(failing.sent_at_ms.is_none() && !failing.given_up, "{failing:?}");
    assert!(failing.last_error.is_some());

    let sink = Sink::start_on(addr).await.expect("the mail server is back");
    let mails = sink.wait_for(1, WITHIN).await.expect("the mail arrives after all");
    assert_eq!(mails[0].to, ["help@shop.example"]);
    let sent = eventually("the mail marked sent", || async {
        shop_mails(&app).await.into_iter().find(|mail| mail.sent_at_ms.is_some())
    })
    .await;
    assert!(sent.attempts >= 3, "{sent:?}");
    assert_eq!(sink.received().len(), 1, "sent once");
}

#[tokio::test]
async fn without_a_mail_server_nothing_is_queued_and_no_transcript_is_offered() {
    let app = spawn_app().await;
    give_the_shop_a_support_address(&app).await;
    leave(&app, &left_in_german()).await;
    assert!(shop_mails(&app).await.is_empty());

    let config: WidgetConfig = app
        .http
        .get(app.url("/v1/merchants/shop/widget-config"))
        .send()
        .await
        .expect("config")
        .json()
        .await
        .expect("json");
    assert!(!config.transcripts);
    let started = ended_chat(&app).await;
    let asked =
        ask_for_transcript(&app, &started, &started.customer_token, r#"{"email":"kim@example.com"}"#).await;
    assert_eq!(asked.status(), 404);
    assert!(shop_mails(&app).await.is_empty());
}
