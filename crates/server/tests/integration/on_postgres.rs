//! The server and its commands on PostgreSQL (`--database postgres://…`): the same handoff as
//! on SQLite, the history kept across a restart, and one-line answers to a database that is
//! wrong or out of reach.

use std::process::Command;

use tandem_protocol::{AgentEvent, AgentFrame, Author, ClientMessageId, CustomerEvent, CustomerFrame};

use crate::common::{fresh_postgres, recv_agent_until, recv_customer_until, send, spawn_app_on_postgres};

#[tokio::test]
async fn a_customer_and_an_agent_chat_on_postgres_and_the_history_survives_a_restart() {
    let mut app = spawn_app_on_postgres().await;
    let started = app.start_conversation().await;
    let (mut customer, _) = app.customer(&started, 0).await;
    let (mut agent, _, _) = app.agent("anna@shop.example").await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Offer { .. })).await;
    send(&mut agent, &AgentFrame::Accept { conversation_id: started.conversation_id.clone() }).await;
    recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Accepted { .. })).await;
    send(
        &mut customer,
        &CustomerFrame::Send { client_id: ClientMessageId("c1".into()), text: "Hej!".into() },
    )
    .await;
    let ack = recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Ack { .. })).await;
    assert_eq!(ack, CustomerEvent::Ack { client_id: ClientMessageId("c1".into()), seq: 1 });
    let delivered = recv_agent_until(&mut agent, |e| matches!(e, AgentEvent::Message { .. })).await;
    assert!(
        matches!(delivered, AgentEvent::Message { ref message, .. } if message.author == Author::Customer)
    );
    drop((customer, agent));

    app.restart().await;
    let (mut again, welcome) = app.customer(&started, 0).await;
    assert!(
        matches!(welcome, CustomerEvent::Welcome { agent_name: Some(ref name), .. } if name == "Anna"),
        "{welcome:?}"
    );
    let replayed = recv_customer_until(&mut again, |e| matches!(e, CustomerEvent::Message { .. })).await;
    assert!(
        matches!(replayed, CustomerEvent::Message { ref message } if message.text == "Hej!" && message.seq == 1)
    );
}

fn tandem(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("TANDEM_DATABASE_URL")
        .env("TANDEM_AGENT_PASSWORD", "a long enough password")
        .output()
        .expect("run tandem")
}

fn one_line(output: &std::process::Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().filter(|l| !l.trim().is_empty()).count(), 1, "one line: {stderr}");
    stderr
}

#[tokio::test]
async fn the_commands_work_on_postgres() {
    let url = fresh_postgres().await;
    let merchant = ["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example"];
    let added = tandem(&[&merchant[..], &["--database", &url]].concat());
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let agent = ["agent", "add", "--merchant", "shop", "--email", "anna@shop.example", "--name", "Anna"];
    assert!(tandem(&[&agent[..], &["--database", &url]].concat()).status.success());
    let listed = tandem(&["agent", "list", "--database", &url]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("shop\tanna@shop.example\tAnna"));
    let audit = String::from_utf8_lossy(&tandem(&["audit", "--merchant", "shop", "--database", &url]).stdout)
        .into_owned();
    assert!(audit.contains("\tcli\tmerchant.saved\t") && audit.contains("\tcli\tagent.saved\t"), "{audit}");
    let backup = one_line(&tandem(&["backup", "--to", "x.sqlite3", "--database", &url]));
    assert!(backup.contains("pg_dump"), "{backup}");
}

#[test]
fn a_wrong_database_is_one_line_with_the_fix() {
    let unknown = one_line(&tandem(&["serve", "--listen", "127.0.0.1:0", "--database", "mysql://db/tandem"]));
    assert!(unknown.contains("--database") && unknown.contains("postgres://"), "{unknown}");
    // Nothing listens on port 1: out of reach, and the password is never repeated.
    let unreachable = "postgres://tandem:s3cret@127.0.0.1:1/tandem";
    let refused = one_line(&tandem(&["serve", "--listen", "127.0.0.1:0", "--database", unreachable]));
    assert!(refused.contains("postgres://127.0.0.1:1/tandem") && refused.contains("--database"), "{refused}");
    assert!(!refused.contains("s3cret"), "{refused}");
}
