//! Files in a chat: a screenshot from the customer, a PDF from the agent; fetched only by the
//! conversation's customer and the merchant's agents, as downloads that run nothing; refused,
//! with typed problems, when they are not images or PDFs by their bytes, too large, or too many.

use serde_json::Value;
use tandem_protocol::{
    AgentEvent, ChatMessage, ConversationStarted, CustomerEvent, FileKind, MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS_PER_HOUR,
};

use crate::common::{SHOP_ORIGIN, TestApp, recv_agent_until, recv_customer_until, spawn_app};
use crate::dispatch::accept;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

fn upload_path(started: &ConversationStarted) -> String {
    format!("/v1/conversations/{}/attachments", started.conversation_id)
}

/// The customer's upload of `bytes` as `name`, from the shop's page.
async fn customer_sends(
    app: &TestApp,
    started: &ConversationStarted,
    name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    app.http
        .post(app.url(&upload_path(started)))
        .query(&[("client_id", format!("up-{name}-{}", bytes.len())), ("name", name.to_owned())])
        .header("origin", SHOP_ORIGIN)
        .header("content-type", "image/png")
        .bearer_auth(&started.customer_token)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload")
}

async fn problem(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.expect("problem");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// A screenshot reaches the agent and a PDF the customer, each as a message of the chat; each
/// side fetches the other's file with its own credentials, served as a download that runs
/// nothing; another conversation's customer, another merchant's agent and anyone without a
/// token fetch nothing.
#[tokio::test]
async fn a_screenshot_goes_to_the_agent_a_pdf_to_the_customer_and_nobody_else_can_fetch_them() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let id = started.conversation_id.clone();
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut anna, _, _) = app.agent("anna@shop.example").await;
    accept(&mut anna, &id).await;

    let response = customer_sends(&app, &started, "C:\\Users\\kim\\error.png", PNG).await;
    assert_eq!(response.status(), 201);
    let sent: ChatMessage = response.json().await.expect("message");
    let file = sent.attachment.clone().expect("a file");
    assert_eq!((file.name.as_str(), file.kind, file.size), ("error.png", FileKind::Png, PNG.len() as u64));
    let heard = recv_agent_until(&mut anna, |e| matches!(e, AgentEvent::Message { .. })).await;
    assert!(matches!(&heard, AgentEvent::Message { message, .. } if *message == sent), "{heard:?}");

    let cookie = app.login("anna@shop.example").await;
    let agents_copy = format!("/v1/agent/conversations/{id}/attachments/{}", file.id);
    let fetched = app.http.get(app.url(&agents_copy)).header("cookie", &cookie).send().await.expect("get");
    assert_eq!(fetched.status(), 200);
    let headers = fetched.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-disposition"], "attachment; filename=\"error.png\"");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .starts_with("sandbox; default-src 'none'")
    );
    assert_eq!(&fetched.bytes().await.expect("bytes")[..], PNG);

    let agent_upload = format!("/v1/agent/conversations/{id}/attachments");
    let response = app
        .http
        .post(app.url(&agent_upload))
        .query(&[("client_id", "pdf-1"), ("name", "invoice.pdf")])
        .header("cookie", &cookie)
        .header("origin", app.origin())
        .body(PDF.to_vec())
        .send()
        .await
        .expect("agent upload");
    assert_eq!(response.status(), 201);
    let pdf: ChatMessage = response.json().await.expect("message");
    let heard = recv_customer_until(&mut customer, |e| {
        matches!(e, CustomerEvent::Message { message } if message.attachment.is_some() && message.seq == pdf.seq)
    })
    .await;
    let CustomerEvent::Message { message } = heard else { unreachable!() };
    let pdf_file = message.attachment.expect("the pdf");
    assert_eq!((pdf_file.kind, message.text.as_str()), (FileKind::Pdf, "invoice.pdf"));
    let customers_copy = format!("{}/{}", upload_path(&started), pdf_file.id);
    let fetched = app
        .http
        .get(app.url(&customers_copy))
        .header("origin", SHOP_ORIGIN)
        .bearer_auth(&started.customer_token)
        .send()
        .await
        .expect("customer get");
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "application/pdf");
    assert_eq!(fetched.headers()["access-control-allow-origin"], SHOP_ORIGIN);
    assert_eq!(&fetched.bytes().await.expect("bytes")[..], PDF);

    // Nobody else: another conversation's token, no token, another merchant's agent, a page
    // of another origin.
    let stranger = app.start_conversation().await;
    let with_token = |token: &str, origin: &str| {
        app.http.get(app.url(&customers_copy)).header("origin", origin).bearer_auth(token.to_owned())
    };
    assert_eq!(
        problem(with_token(&stranger.customer_token, SHOP_ORIGIN).send().await.expect("get")).await,
        (401, "unauthorized".into())
    );
    let no_token = app.http.get(app.url(&customers_copy)).send().await.expect("get");
    assert_eq!(problem(no_token).await, (401, "unauthorized".into()));
    let elsewhere = with_token(&started.customer_token, "https://evil.example").send().await;
    assert_eq!(problem(elsewhere.expect("get")).await, (403, "origin_not_allowed".into()));
    let olga = app.login("olga@other.example").await;
    let theirs = app.http.get(app.url(&agents_copy)).header("cookie", &olga).send().await.expect("get");
    assert_eq!(problem(theirs).await, (404, "not_found".into()));
    let anonymous = app.http.get(app.url(&agents_copy)).send().await.expect("get");
    assert_eq!(problem(anonymous).await, (401, "unauthorized".into()));
    let to_theirs = app
        .http
        .post(app.url(&agent_upload))
        .query(&[("client_id", "o-1"), ("name", "x.png")])
        .header("cookie", &olga)
        .header("origin", app.origin())
        .body(PNG.to_vec())
        .send()
        .await
        .expect("post");
    assert_eq!(problem(to_theirs).await, (403, "forbidden".into()));
}

/// What is not a PNG, JPEG, WebP or PDF by its bytes is refused whatever its name (an HTML
/// page named `.png`, an SVG), as is a file over 5 MB, and the eleventh file within an hour;
/// a retry of a stored upload is the stored message, not another file.
#[tokio::test]
async fn files_that_are_not_images_or_pdfs_too_large_or_too_many_are_refused_with_typed_problems() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let html = b"<!doctype html><script>alert(document.cookie)</script>";
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
    for (name, bytes) in [("receipt.png", &html[..]), ("logo.svg", &svg[..])] {
        let refused = problem(customer_sends(&app, &started, name, bytes).await).await;
        assert_eq!(refused, (415, "unsupported_file_type".into()), "{name}");
    }
    let mut huge = PNG.to_vec();
    huge.resize(MAX_ATTACHMENT_BYTES + 1, 0);
    assert_eq!(
        problem(customer_sends(&app, &started, "huge.png", &huge).await).await,
        (413, "payload_too_large".into())
    );
    let mut largest = PNG.to_vec();
    largest.resize(MAX_ATTACHMENT_BYTES, 0);
    let first = customer_sends(&app, &started, "largest.png", &largest).await;
    assert_eq!(first.status(), 201);
    let first: ChatMessage = first.json().await.expect("message");
    let again = customer_sends(&app, &started, "largest.png", &largest).await;
    assert_eq!(again.status(), 201, "a retry answers with the stored message");
    assert_eq!(again.json::<ChatMessage>().await.expect("message"), first);
    let upload = app.url(&upload_path(&started));
    for query in [vec![("name", "a.png")], vec![("client_id", "a\0b")]] {
        let refused = app
            .http
            .post(&upload)
            .query(&query)
            .header("origin", SHOP_ORIGIN)
            .bearer_auth(&started.customer_token)
            .body(PNG.to_vec())
            .send()
            .await
            .expect("post");
        assert_eq!(problem(refused).await, (400, "invalid_request".into()), "{query:?}");
    }
    for n in 1..MAX_ATTACHMENTS_PER_HOUR {
        let response = customer_sends(&app, &started, &format!("shot-{n}.png"), PNG).await;
        assert_eq!(response.status(), 201, "file {n}");
    }
    let eleventh = customer_sends(&app, &started, "one-more.png", PNG).await;
    assert_eq!(problem(eleventh).await, (429, "rate_limited".into()));
    let (_, welcome) = app.customer(&started, 0).await;
    assert!(matches!(welcome, CustomerEvent::Welcome { .. }));
    let store = app.store().await;
    let messages = tandem_server::store::Store::messages_after(&store, &started.conversation_id, 0)
        .await
        .expect("messages");
    assert_eq!(
        messages.len(),
        MAX_ATTACHMENTS_PER_HOUR as usize,
        "only what was accepted is stored, once each"
    );
}

/// A file keeps the name its kind has (a PDF named `refund.html` is saved as
/// `refund.html.pdf`, never opened as a page), without a card number in it; and a chat that
/// has ended takes no more files.
#[tokio::test]
async fn a_file_is_named_as_what_it_is_and_an_ended_chat_takes_no_more() {
    let app = spawn_app().await;
    let started = app.start_conversation().await;
    let response = customer_sends(&app, &started, "refund 4111 1111 1111 1111.html", PDF).await;
    assert_eq!(response.status(), 201);
    let sent: ChatMessage = response.json().await.expect("message");
    let file = sent.attachment.expect("a file");
    assert_eq!(file.name, "refund •••• 1111.html.pdf");
    assert_eq!(sent.text, file.name);
    let path = format!("{}/{}", upload_path(&started), file.id);
    let fetched =
        app.http.get(app.url(&path)).bearer_auth(&started.customer_token).send().await.expect("get");
    assert_eq!(
        fetched.headers()["content-disposition"],
        "attachment; filename=\"refund ____ 1111.html.pdf\"; filename*=UTF-8''refund%20%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%201111.html.pdf"
    );

    let (mut customer, _) = app.customer(&started, 0).await;
    crate::common::send(&mut customer, &tandem_protocol::CustomerFrame::Close).await;
    recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Closed)).await;
    let refused = customer_sends(&app, &started, "late.png", PNG).await;
    assert_eq!(problem(refused).await, (409, "conflict".into()));
}
