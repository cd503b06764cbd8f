//! Signed webhooks: each event reaches the merchant's receiver, signed, exactly once, though
//! it answered 500 twice; the conversation's end carries its messages; what cannot be a
//! receiver (plain http, a private address) is refused when added.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tandem_protocol::{ClientMessageId, CustomerEvent, CustomerFrame, MerchantId};
use tandem_server::store::{Store, Webhook};
use tandem_server::webhooks::signature;

use crate::common::{eventually, recv_customer_until, send, spawn_app};

/// What a receiver was sent: the event's delivery id, its signature header and its body.
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// A receiver on loopback that answers 500 to its first two requests and 200 after.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let kept = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let header =
                    |name| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let mut all = kept.lock().expect("lock");
                all.push((header("tandem-delivery"), header("tandem-signature"), body));
                if all.len() <= 2 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// The bodies of `event` received, once `count` of them are in.
async fn bodies_of(received: &Received, event: &str, count: usize) -> Vec<Value> {
    eventually(&format!("{count} deliveries of {event}"), || async {
        let all = received.lock().expect("lock").clone();
        let bodies: Vec<Value> = all
            .iter()
            .filter_map(|(_, _, body)| serde_json::from_str::<Value>(body).ok())
            .filter(|body| body["event"] == event)
            .collect();
        (bodies.len() >= count).then_some(bodies)
    })
    .await
}

#[tokio::test]
async fn each_event_reaches_the_receiver_signed_and_once_though_it_failed_twice() {
    let app = spawn_app().await;
    let (url, received) = receiver().await;
    let store = app.store().await;
    let secret = "whsec_test".to_owned();
    let webhook = Webhook {
        id: "wh1".into(),
        merchant_id: MerchantId::parse("shop").expect("id"),
        url,
        secret: secret.clone(),
        events: tandem_server::webhooks::Event::ALL.iter().map(|e| e.name().to_owned()).collect(),
        created_at_ms: 0,
    };
    store.add_webhook(&webhook).await.expect("added");

    let started = app.start_conversation().await;
    let [first, ..] = &bodies_of(&received, "conversation_started", 3).await[..] else { unreachable!() };
    assert_eq!(first["data"]["conversation_id"], started.conversation_id.0.as_str());
    assert_eq!(first["data"]["page_url"], "https://shop.example/checkout");
    {
        let all = received.lock().expect("lock").clone();
        assert_eq!(all.len(), 3, "two failures, then the delivery");
        assert!(all.iter().all(|(id, _, _)| *id == all[0].0), "the same delivery each time: {all:?}");
        for (_, header, body) in &all {
            let timestamp: i64 = header
                .strip_prefix("t=")
                .and_then(|rest| rest.split(',').next())
                .and_then(|t| t.parse().ok())
                .expect("t=");
            assert_eq!(*header, signature(&secret, timestamp, body), "signed over the time and the body");
        }
    }

    // The customer writes and leaves: the end carries the conversation; the first event was
    // delivered once only (it was recorded before the next events were sent).
    let (mut customer, _) = app.customer(&started, 0).await;
    let hello = CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text: "hello".into() };
    send(&mut customer, &hello).await;
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Ack { .. })).await;
    send(&mut customer, &CustomerFrame::Close).await;
    let ended = bodies_of(&received, "conversation_ended", 1).await;
    assert_eq!(ended[0]["data"]["messages"][0]["text"], "hello");
    assert_eq!(ended[0]["data"]["transcript"][0]["text"], "my payment failed");
    assert_eq!(bodies_of(&received, "conversation_started", 1).await.len(), 3, "no fourth");

    let shop = MerchantId::parse("shop").expect("id");
    let deliveries = store.deliveries(&shop, 10).await.expect("deliveries");
    let started_delivery = deliveries.iter().find(|d| d.event == "conversation_started").expect("listed");
    assert_eq!((started_delivery.attempts, started_delivery.delivered_at_ms.is_some()), (3, true));
    let other = MerchantId::parse("other").expect("id");
    assert!(store.deliveries(&other, 10).await.expect("other's").is_empty(), "the merchant's own");
}
