//! The team through the real server: invites, deactivation, the supervisor's figures and the
//! CSV export.

use crate::common::{TestApp, recv_agent_until, send, spawn_app};
use tandem_protocol::{
    AcceptInvite, AgentEvent, AgentFrame, AgentProfile, AgentRole, CreateInvite, CustomerEvent, ErrorCode,
    Invite, InviteDetails, InviteToken, Presence, Problem, Rating, SupervisorReport, TeamMember,
};
use tandem_server::store::{NewInvite, Store};

async fn post<T: serde::Serialize>(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    body: &T,
) -> reqwest::Response {
    let mut request = app.http.post(app.url(path)).header("origin", app.origin()).json(body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("request")
}

/// A console's POST that takes no body (a deactivation).
async fn post_nothing(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("origin", app.origin())
        .header("cookie", cookie)
        .send()
        .await
        .expect("request")
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.http.get(app.url(path)).header("cookie", cookie).send().await.expect("request")
}

fn accept_invite(token: &str, email: &str, password: &str) -> AcceptInvite {
    AcceptInvite {
        token: token.to_owned(),
        display_name: "Cleo".into(),
        email: email.to_owned(),
        languages: vec!["sv".into(), "en".into()],
        password: password.to_owned(),
    }
}

#[tokio::test]
async fn an_admin_invites_a_person_who_joins_once_with_their_languages_and_signs_in() {
    let app = spawn_app().await;
    let anna = app.login("anna@shop.example").await;
    let bert = app.login("bert@shop.example").await;
    let body = CreateInvite { role: AgentRole::Agent };
    assert_eq!(
        post(&app, "/v1/agent/invites", Some(&bert), &body).await.status(),
        403,
        "agents cannot invite"
    );

    let response = post(&app, "/v1/agent/invites", Some(&anna), &body).await;
    assert_eq!(response.status(), 201);
    let invite: Invite = response.json().await.expect("invite");
    assert!(invite.link.starts_with(&format!("{}/console/#invite=", app.origin())), "{}", invite.link);
    assert!(!invite.link.contains('?'), "the token rides in the fragment, never a query");

    let lookup = post(&app, "/v1/invites/lookup", None, &InviteToken { token: invite.token.clone() }).await;
    let details: InviteDetails = lookup.json().await.expect("details");
    assert_eq!(details, InviteDetails { merchant_name: "shop inc".into(), role: AgentRole::Agent });

    let weak =
        post(&app, "/v1/invites/accept", None, &accept_invite(&invite.token, "cleo@shop.example", "short"))
            .await;
    assert_eq!(weak.status(), 400);
    let problem: Problem = weak.json().await.expect("problem");
    assert!(problem.detail.contains("password"), "{problem:?}");
    let taken = post(
        &app,
        "/v1/invites/accept",
        None,
        &accept_invite(&invite.token, "bert@shop.example", "a long enough password"),
    )
    .await;
    assert_eq!(taken.status(), 409, "an existing email is refused and the invite stays usable");

    let joined = post(
        &app,
        "/v1/invites/accept",
        None,
        &accept_invite(&invite.token, "Cleo@Shop.example", "a long enough password"),
    )
    .await;
    assert_eq!(joined.status(), 201);
    let cookie = joined.headers().get("set-cookie").expect("signed in").to_str().expect("ascii");
    assert!(cookie.contains("HttpOnly"));
    let profile: AgentProfile = joined.json().await.expect("profile");
    assert_eq!((profile.email.as_str(), profile.role), ("cleo@shop.example", AgentRole::Agent));

    let again = post(
        &app,
        "/v1/invites/accept",
        None,
        &accept_invite(&invite.token, "dora@shop.example", "a long enough password"),
    )
    .await;
    assert_eq!(again.status(), 404, "single use");

    // Signed in from anywhere with the password they chose; colleagues see their languages.
    let cleo = app
        .http
        .post(app.url("/v1/agent/login"))
        .header("origin", app.origin())
        .json(&serde_json::json!({ "email": "cleo@shop.example", "password": "a long enough password" }))
        .send()
        .await
        .expect("login");
    assert_eq!(cleo.status(), 200);
    let team: Vec<TeamMember> = get(&app, "/v1/agent/team", &anna).await.json().await.expect("team");
    let cleo = team.iter().find(|m| m.email == "cleo@shop.example").expect("Cleo is on the team");
    assert_eq!(cleo.languages, ["sv", "en"]);
    assert!(team.iter().all(|m| m.email.ends_with("@shop.example")), "only this merchant's agents");
}

#[tokio::test]
async fn a_deactivated_admins_unused_invites_stop_working() {
    let app = spawn_app().await;
    let anna = app.login("anna@shop.example").await;
    let invite: Invite =
        post(&app, "/v1/agent/invites", Some(&anna), &CreateInvite { role: AgentRole::Admin })
            .await
            .json()
            .await
            .expect("invite");
    let me: AgentProfile = get(&app, "/v1/agent/me", &anna).await.json().await.expect("me");
    let shop = tandem_protocol::MerchantId::parse("shop").expect("id");
    assert!(app.store().await.set_agent_active(&shop, me.id, false).await.expect("deactivate"));
    let lookup = post(&app, "/v1/invites/lookup", None, &InviteToken { token: invite.token }).await;
    assert_eq!(lookup.status(), 404);
}

#[tokio::test]
async fn an_expired_invite_is_refused() {
    let app = spawn_app().await;
    let token = "expired-invite-token";
    let shop = tandem_protocol::MerchantId::parse("shop").expect("id");
    let hash = tandem_server::tokens::hash_token(token);
    let invite = NewInvite {
        token_hash: &hash,
        merchant: &shop,
        role: AgentRole::Agent,
        created_by: None,
        expires_at_ms: 1,
    };
    app.store().await.create_invite(&invite).await.expect("invite");
    let lookup = post(&app, "/v1/invites/lookup", None, &InviteToken { token: token.into() }).await;
    assert_eq!(lookup.status(), 404);
    let accept = post(
        &app,
        "/v1/invites/accept",
        None,
        &accept_invite(token, "late@shop.example", "a long enough password"),
    )
    .await;
    assert_eq!(accept.status(), 404);
}

#[tokio::test]
async fn a_deactivated_agent_is_signed_out_at_once_and_their_chat_goes_back_to_the_queue() {
    let app = spawn_app().await;
    let anna = app.login("anna@shop.example").await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut bert, _, _) = app.agent("bert@shop.example").await;
    send(&mut bert, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    recv_agent_until(&mut bert, |e| matches!(e, AgentEvent::Accepted { .. })).await;
    let team: Vec<TeamMember> = get(&app, "/v1/agent/team", &anna).await.json().await.expect("team");
    let bert_id = team.iter().find(|m| m.display_name == "Bert").expect("Bert").id;
    let olga = app.login("olga@other.example").await;
    let path = format!("/v1/agent/agents/{bert_id}/deactivate");
    assert_eq!(post_nothing(&app, &path, &olga).await.status(), 404, "not another merchant's admin");

    assert_eq!(post_nothing(&app, &path, &anna).await.status(), 204);
    let told = recv_agent_until(&mut bert, |e| matches!(e, AgentEvent::Error { .. })).await;
    assert!(matches!(told, AgentEvent::Error { code: ErrorCode::Unauthorized, .. }), "{told:?}");
    assert!(crate::common::closed(&mut bert).await, "the console is disconnected");
    let left =
        crate::common::recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::AgentLeft { .. }))
            .await;
    assert_eq!(left, CustomerEvent::AgentLeft { name: "Bert".into() });

    let login = app
        .http
        .post(app.url("/v1/agent/login"))
        .header("origin", app.origin())
        .json(&serde_json::json!({ "email": "bert@shop.example", "password": crate::common::PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 403);
    let team: Vec<TeamMember> = get(&app, "/v1/agent/team", &anna).await.json().await.expect("team");
    assert!(!team.iter().find(|m| m.id == bert_id).expect("listed").active);
}

#[tokio::test]
async fn the_supervisor_sees_the_live_queue_the_team_and_todays_figures_and_exports_csv() {
    let app = spawn_app().await;
    let anna = app.login("anna@shop.example").await;
    let bert = app.login("bert@shop.example").await;
    assert_eq!(get(&app, "/v1/agent/supervisor", &bert).await.status(), 403);
    assert_eq!(get(&app, "/v1/agent/conversations.csv", &bert).await.status(), 403);

    // One answered and rated, one abandoned before an answer, one still waiting.
    let answered = app.start_conversation().await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: answered.conversation_id.clone() }).await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await;
    send(&mut agent, &AgentFrame::End { conversation_id: answered.conversation_id.clone() }).await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Ended { .. })).await;
    let rating = Rating { score: 4, comment: Some("=HYPERLINK(\"http://evil.example\")".into()) };
    let rated = app
        .http
        .post(app.url(&format!("/v1/conversations/{}/rating", answered.conversation_id)))
        .header("origin", crate::common::SHOP_ORIGIN)
        .bearer_auth(&answered.customer_token)
        .json(&rating)
        .send()
        .await
        .expect("rate");
    assert_eq!(rated.status(), 204);
    let abandoned = app.start_conversation().await;
    let (mut customer, _) = app.customer(&abandoned, 0).await;
    send(&mut customer, &tandem_protocol::CustomerFrame::Close).await;
    crate::common::recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Closed)).await;
    let _waiting = app.start_conversation().await;
    send(&mut agent, &AgentFrame::SetPresence { presence: Presence::Away }).await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Presence { .. })).await;

    let report: SupervisorReport =
        get(&app, "/v1/agent/supervisor", &anna).await.json().await.expect("report");
    assert_eq!(report.waiting, 1);
    assert_eq!(report.today.conversations, 3);
    assert_eq!(report.today.answered, 1);
    assert_eq!(report.today.abandoned, 1);
    assert!(report.today.time_to_human_p50_secs.is_some() && report.today.time_to_human_p90_secs.is_some());
    assert_eq!((report.today.average_rating_hundredths, report.today.ratings), (Some(400), 1));
    let anna_state = report.agents.iter().find(|a| a.display_name == "Anna").expect("Anna");
    assert_eq!((anna_state.presence, anna_state.connected, anna_state.chats), (Presence::Away, true, 0));
    let bert_state = report.agents.iter().find(|a| a.display_name == "Bert").expect("Bert");
    assert_eq!(bert_state.presence, Presence::Offline);

    let csv = get(&app, "/v1/agent/conversations.csv?days=1", &anna).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.expect("csv");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("conversation_id,created_at_ms,status,"), "{}", lines[0]);
    assert_eq!(lines.len(), 4, "{text}");
    assert!(text.contains("abandoned") && text.contains(",Anna,"), "{text}");
    // Reasons as the database and the docs name them (the test conversations' bot offer).
    assert!(lines[1..].iter().all(|line| line.contains(",bot_offer,")), "{text}");
    assert!(text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""), "formulas are defused: {text}");
    assert_eq!(get(&app, "/v1/agent/conversations.csv?days=0", &anna).await.status(), 400);
}

/// What an admin does, exports and reads is in the audit log: who, what, on what.
#[tokio::test]
async fn admin_actions_exports_and_conversation_reads_are_audited() {
    let app = spawn_app().await;
    let anna = app.login("anna@shop.example").await;
    let started = app.start_conversation().await;
    let path = format!("/v1/agent/conversations/{}", started.conversation_id);
    assert_eq!(get(&app, &path, &anna).await.status(), 200);
    assert_eq!(get(&app, "/v1/agent/conversations.csv?days=7", &anna).await.status(), 200);
    assert_eq!(get(&app, "/v1/agent/messages", &anna).await.status(), 200);
    let invite = CreateInvite { role: AgentRole::Admin };
    assert_eq!(post(&app, "/v1/agent/invites", Some(&anna), &invite).await.status(), 201);
    let store = app.store().await;
    let bert = store.agent_by_email("bert@shop.example").await.expect("read").expect("Bert");
    let deactivate = format!("/v1/agent/agents/{}/deactivate", bert.id);
    assert_eq!(post_nothing(&app, &deactivate, &anna).await.status(), 204);

    let shop = tandem_protocol::MerchantId::parse("shop").expect("id");
    let log = store.audit_log(&shop, 100).await.expect("audit log");
    let anna_id = store.agent_by_email("anna@shop.example").await.expect("read").expect("Anna").id;
    assert!(log.iter().all(|e| e.actor == format!("agent:{anna_id} anna@shop.example")), "{log:?}");
    let entries: Vec<(&str, &str)> = log.iter().map(|e| (e.action.as_str(), e.subject.as_str())).collect();
    let bert_subject = format!("agent:{}", bert.id);
    assert_eq!(
        entries,
        [
            ("agent.signed_in", ""),
            ("conversation.read", started.conversation_id.0.as_str()),
            ("conversations.exported", "7 days"),
            ("left_messages.read", ""),
            ("agent.invited", "admin"),
            ("agent.deactivated", bert_subject.as_str()),
        ]
    );
}

/// What axum itself would answer as plain text — an id in a path or a number in a query that
/// does not parse, a WebSocket endpoint asked without an upgrade — is a problem body too.
#[tokio::test]
async fn a_malformed_path_query_or_upgrade_gets_a_problem_body() {
    let app = spawn_app().await;
    let anna = app.login("anna@shop.example").await;
    let started = app.start_conversation().await;
    let customer_live = format!("/v1/conversations/{}/live", started.conversation_id);
    let responses = [
        post(&app, "/v1/agent/agents/abc/deactivate", Some(&anna), &()).await,
        get(&app, "/v1/agent/conversations.csv?days=abc", &anna).await,
        get(&app, &customer_live, &anna).await,
        app.http
            .get(app.url("/v1/agent/live"))
            .header("cookie", &anna)
            .header("origin", app.origin())
            .send()
            .await
            .expect("request"),
    ];
    for response in responses {
        let url = response.url().path().to_owned();
        assert_eq!(response.status(), 400, "{url}");
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{url}");
        let problem: Problem = response.json().await.expect("a problem body");
        assert_eq!(
            (problem.status, problem.code),
            (400, tandem_protocol::ProblemCode::InvalidRequest),
            "{url}"
        );
        assert!(!problem.detail.is_empty(), "{url}");
    }
    // Nothing was deactivated by the malformed request.
    let team: Vec<TeamMember> = get(&app, "/v1/agent/team", &anna).await.json().await.expect("team");
    assert!(team.iter().all(|member| member.active), "{team:?}");
}

/// Canned responses: an admin keeps them (checked field by field, a typed problem for each
/// refusal), every agent of the merchant reads them, nobody else does, and each change is in
/// the audit log.
#[tokio::test]
async fn admins_keep_canned_responses_that_their_merchants_agents_read() {
    let app = spawn_app().await;
    let (anna, bert, olga) = (
        app.login("anna@shop.example").await,
        app.login("bert@shop.example").await,
        app.login("olga@other.example").await,
    );
    let put = |cookie: &str, shortcut: &str, body: serde_json::Value| {
        let request =
            app.http.put(app.url(&format!("/v1/agent/canned/{shortcut}"))).header("origin", app.origin());
        request.header("cookie", cookie).json(&body).send()
    };
    let refund = serde_json::json!({ "title": "Refund policy",
        "texts": [{ "locale": "en", "text": "Hi {customer_name}, refunds take 5 days." }] });
    let saved = put(&anna, "refund", refund.clone()).await.expect("put");
    assert_eq!(saved.status(), 200);
    let listed: Vec<tandem_protocol::CannedResponse> =
        get(&app, "/v1/agent/canned", &bert).await.json().await.expect("list");
    assert_eq!(listed.iter().map(|c| c.shortcut.as_str()).collect::<Vec<_>>(), ["refund"]);
    assert_eq!(listed[0].text_for("en"), "Hi {customer_name}, refunds take 5 days.");
    let others: Vec<tandem_protocol::CannedResponse> =
        get(&app, "/v1/agent/canned", &olga).await.json().await.expect("other merchant's list");
    assert!(others.is_empty(), "another merchant's agents read none of them");

    assert_eq!(
        put(&bert, "refund", refund.clone()).await.expect("put").status(),
        403,
        "agents read, admins keep"
    );
    let no_origin = app.http.put(app.url("/v1/agent/canned/refund")).header("cookie", anna.clone());
    assert_eq!(no_origin.json(&refund).send().await.expect("put").status(), 403);
    for (shortcut, body, complaint) in [
        ("Refund", refund.clone(), "shortcut"),
        ("refund", serde_json::json!({ "title": "", "texts": refund["texts"] }), "title"),
        ("refund", serde_json::json!({ "title": "x", "texts": [] }), "texts"),
        (
            "refund",
            serde_json::json!({ "title": "x", "texts": [{ "locale": "english", "text": "x" }] }),
            "two-letter",
        ),
    ] {
        let refused = put(&anna, shortcut, body).await.expect("put");
        assert_eq!(refused.status(), 400);
        let problem: Problem = refused.json().await.expect("problem");
        assert!(problem.detail.contains(complaint), "{complaint}: {}", problem.detail);
    }
    let unchanged: Vec<tandem_protocol::CannedResponse> =
        get(&app, "/v1/agent/canned", &anna).await.json().await.expect("list");
    assert_eq!(unchanged, listed, "a refusal changes nothing");

    let remove = |cookie: &str| {
        let request = app.http.delete(app.url("/v1/agent/canned/refund")).header("origin", app.origin());
        request.header("cookie", cookie).send()
    };
    assert_eq!(remove(&olga).await.expect("delete").status(), 404, "not another merchant's to remove");
    assert_eq!(remove(&anna).await.expect("delete").status(), 204);
    assert_eq!(remove(&anna).await.expect("delete").status(), 404);
    let shop = tandem_protocol::MerchantId::parse("shop").expect("id");
    let log = app.store().await.audit_log(&shop, 50).await.expect("audit");
    let actions: Vec<&str> = log.iter().map(|entry| entry.action.as_str()).collect();
    assert!(
        actions.contains(&"canned_response.saved") && actions.contains(&"canned_response.removed"),
        "{actions:?}"
    );
}
