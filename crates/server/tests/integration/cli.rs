//! `tandem serve` as an operator runs it: bad input fails with one line, SIGTERM stops cleanly.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn tandem() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command.env_remove("RUST_LOG");
    command
}

fn assert_one_line_failure(output: &Output, mentions: &[&str]) {
    assert!(!output.status.success(), "expected failure, got {:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {stderr}");
    for word in mentions {
        assert!(lines[0].contains(word), "{word:?} missing from: {}", lines[0]);
    }
}

#[test]
fn unknown_flag_is_one_line() {
    let output = tandem().args(["serve", "--no-such-flag"]).output().expect("run tandem");
    assert_one_line_failure(&output, &["--no-such-flag", "--help"]);
}

#[test]
fn bad_listen_address_is_one_line() {
    let output = tandem().args(["serve", "--listen", "not-an-address"]).output().expect("run tandem");
    assert_one_line_failure(&output, &["--listen", "not-an-address"]);
}

#[test]
fn a_bad_trusted_proxy_is_one_line() {
    let output = tandem().args(["serve", "--trusted-proxy", "the-proxy"]).output().expect("run tandem");
    assert_one_line_failure(&output, &["--trusted-proxy", "the-proxy", "10.0.0.0/8"]);
}

#[test]
fn port_in_use_is_one_line_with_the_fix() {
    let data = tempfile::tempdir().expect("temp dir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = tandem()
        .args(["serve", "--listen", &addr, "--data-dir"])
        .arg(data.path())
        .output()
        .expect("run tandem");
    assert_one_line_failure(&output, &[&addr, "--listen"]);
}

#[test]
fn unusable_data_dir_is_one_line_with_the_fix() {
    let data = tempfile::tempdir().expect("temp dir");
    let file = data.path().join("a-file");
    std::fs::write(&file, b"").expect("file");
    // A directory cannot be created under a regular file, even by root.
    let output = tandem()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(file.join("data"))
        .output()
        .expect("run tandem");
    assert_one_line_failure(&output, &["data directory", "--data-dir"]);
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = tandem()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tandem");
    // The address line is printed once the ports are bound and the database is open.
    let stdout = child.stdout.take().expect("stdout");
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).expect("read");
    assert!(first_line.contains("/console/"), "unexpected first line: {first_line}");
    assert!(data.path().join("tandem.sqlite3").exists(), "database created on start");

    let status = Command::new("kill").arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
    let (exited_tx, exited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait());
    });
    let status = exited
        .recv_timeout(Duration::from_secs(10))
        .expect("tandem did not stop within 10 s of SIGTERM")
        .expect("wait");
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}

fn admin(data: &std::path::Path, args: &[&str], password: Option<&str>) -> Output {
    let mut command = tandem();
    command.args(args).arg("--data-dir").arg(data).env_remove("TANDEM_AGENT_PASSWORD");
    if let Some(password) = password {
        command.env("TANDEM_AGENT_PASSWORD", password);
    }
    command.stdin(Stdio::null()).output().expect("run tandem")
}

#[test]
fn merchants_and_agents_are_managed_from_the_command_line() {
    let data = tempfile::tempdir().expect("temp dir");
    let add_merchant = admin(
        data.path(),
        &["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example"],
        None,
    );
    assert!(add_merchant.status.success(), "{}", String::from_utf8_lossy(&add_merchant.stderr));

    let add_agent = admin(
        data.path(),
        &["agent", "add", "--merchant", "shop", "--email", "anna@shop.example", "--name", "Anna", "--admin"],
        Some("a long enough password"),
    );
    assert!(add_agent.status.success(), "{}", String::from_utf8_lossy(&add_agent.stderr));
    let add_agent = admin(
        data.path(),
        &[
            "agent",
            "add",
            "--merchant",
            "shop",
            "--email",
            "bo@shop.example",
            "--name",
            "Bo",
            "--languages",
            "sv,en",
        ],
        Some("a long enough password"),
    );
    assert!(add_agent.status.success(), "{}", String::from_utf8_lossy(&add_agent.stderr));

    let list = admin(data.path(), &["agent", "list", "--merchant", "shop"], None);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "shop\tanna@shop.example\tAnna\ten\tadmin\nshop\tbo@shop.example\tBo\tsv,en\tagent\n"
    );

    let bad = admin(
        data.path(),
        &[
            "agent",
            "add",
            "--merchant",
            "shop",
            "--email",
            "c@shop.example",
            "--name",
            "C",
            "--languages",
            "en us",
        ],
        Some("a long enough password"),
    );
    assert_one_line_failure(&bad, &["--languages", "en us"]);
    let bad = admin(
        data.path(),
        &["merchant", "add", "--id", "shop", "--name", "Shop", "--offer-timeout", "0"],
        None,
    );
    assert_one_line_failure(&bad, &["--offer-timeout"]);
}

/// An email is one agent whatever its case, and an agent stays with their merchant.
#[test]
fn an_agent_is_one_email_of_one_merchant() {
    let data = tempfile::tempdir().expect("temp dir");
    for id in ["shop", "other"] {
        let origin = format!("https://{id}.example");
        let added =
            admin(data.path(), &["merchant", "add", "--id", id, "--name", id, "--origin", &origin], None);
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    }
    let add = |merchant: &str, email: &str, name: &str| {
        let args = ["agent", "add", "--merchant", merchant, "--email", email, "--name", name];
        admin(data.path(), &args, Some("a long enough password"))
    };
    assert!(add("shop", "Anna@Shop.Example", "Anna").status.success());
    assert!(add("shop", "anna@shop.example", "Anna B").status.success(), "the same agent, renamed");
    let moved = add("other", "ANNA@shop.example", "Anna");
    assert_one_line_failure(&moved, &["anna@shop.example", "merchant shop", "another email"]);

    let list = admin(data.path(), &["agent", "list"], None);
    assert_eq!(String::from_utf8_lossy(&list.stdout), "shop\tanna@shop.example\tAnna B\ten\tagent\n");
}

#[test]
fn admin_mistakes_are_one_line_with_the_fix() {
    let data = tempfile::tempdir().expect("temp dir");
    let short = admin(
        data.path(),
        &["agent", "add", "--merchant", "shop", "--email", "a@shop.example", "--name", "A"],
        Some("short"),
    );
    assert_one_line_failure(&short, &["at least 12 characters", "TANDEM_AGENT_PASSWORD"]);

    let no_merchant = admin(
        data.path(),
        &["agent", "add", "--merchant", "nobody", "--email", "a@shop.example", "--name", "A"],
        Some("a long enough password"),
    );
    assert_one_line_failure(&no_merchant, &["no merchant nobody", "tandem merchant add"]);

    let bad_origin = admin(
        data.path(),
        &["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example/checkout"],
        None,
    );
    assert_one_line_failure(&bad_origin, &["invalid origin", "https://shop.example"]);

    let merchant = ["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example"];
    let bad_hours =
        admin(data.path(), &[&merchant[..], &["--business-hours", "weekdays 9 to 5"]].concat(), None);
    assert_one_line_failure(&bad_hours, &["invalid --business-hours", "Mon-Fri 09:00-17:00 +01:00"]);
    let bad_ask = admin(data.path(), &[&merchant[..], &["--ask-email", "sometimes"]].concat(), None);
    assert_one_line_failure(&bad_ask, &["invalid --ask-email", "off, optional or required"]);
    let bad_locale = admin(data.path(), &[&merchant[..], &["--locale", "fr"]].concat(), None);
    assert_one_line_failure(&bad_locale, &["unsupported --locale", "en, sv and de"]);

    // The identity secret is generated, printed once, and needs the merchant first.
    let no_secret = admin(data.path(), &["merchant", "identity-secret", "--id", "shop"], None);
    assert_one_line_failure(&no_secret, &["no merchant shop", "tandem merchant add"]);
    assert!(admin(data.path(), &merchant, None).status.success());
    let secret = admin(data.path(), &["merchant", "identity-secret", "--id", "shop"], None);
    let printed = String::from_utf8_lossy(&secret.stdout).trim().to_owned();
    assert!(secret.status.success() && printed.len() == 64, "{printed:?}");

    // The password is never an argument.
    let in_argv = tandem()
        .args(["agent", "add", "--merchant", "shop", "--email", "a@b.c", "--name", "A", "--password", "x"])
        .output()
        .expect("run tandem");
    assert_one_line_failure(&in_argv, &["--password"]);
}

#[test]
fn a_bot_flow_is_validated_before_it_is_stored() {
    let data = tempfile::tempdir().expect("temp dir");
    let add = admin(
        data.path(),
        &["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example"],
        None,
    );
    assert!(add.status.success());

    let bad = data.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"version": 1, "languages": ["en"], "fallback": {}, "offer_human": {"en": "?"}, "intents": []}"#,
    )
    .expect("write");
    let refused = admin(
        data.path(),
        &["merchant", "flow", "--id", "shop", "--file", bad.to_str().expect("utf-8")],
        None,
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    assert!(
        stderr.contains("fallback.en: missing") && stderr.contains("intents: define at least one intent"),
        "{stderr}"
    );

    let good = data.path().join("good.json");
    std::fs::write(&good, tandem_bot::DEMO_FLOW).expect("write");
    let saved = admin(
        data.path(),
        &["merchant", "flow", "--id", "shop", "--file", good.to_str().expect("utf-8")],
        None,
    );
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
}

#[test]
fn a_backup_is_a_working_database_written_once() {
    let (data, restored) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    let merchant = ["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example"];
    assert!(admin(data.path(), &merchant, None).status.success());
    let copy = restored.path().join("tandem.sqlite3");
    let copy_arg = copy.to_str().expect("utf-8 path");
    let backup = admin(data.path(), &["backup", "--to", copy_arg], None);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));

    // The copy holds the merchant: an agent can be added to it there.
    let agent = ["agent", "add", "--merchant", "shop", "--email", "anna@shop.example", "--name", "Anna"];
    let added = admin(restored.path(), &agent, Some("a long enough password"));
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    // Never over an existing file, and never from a directory without a database.
    assert_one_line_failure(&admin(data.path(), &["backup", "--to", copy_arg], None), &["must not exist"]);
    let empty = tempfile::tempdir().expect("temp dir");
    assert_one_line_failure(&admin(empty.path(), &["backup", "--to", "x.sqlite3"], None), &["--data-dir"]);
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A data-subject request beside a running server: every conversation and left message of
/// one email (whatever its case) is exported, then erased once none is open, and both are in
/// the audit log without the email.
#[tokio::test]
async fn a_customers_data_is_exported_and_erased_and_the_audit_log_says_so() {
    use tandem_protocol::{ConversationStarted, CustomerEvent, CustomerFrame};
    let app = crate::common::spawn_app().await;
    let start = |email: &str| {
        let mut request = crate::common::TestApp::start_request("shop");
        request.email = Some(email.into());
        let post = app.http.post(app.url("/v1/conversations")).header("origin", crate::common::SHOP_ORIGIN);
        async move {
            post.json(&request)
                .send()
                .await
                .expect("start")
                .json::<ConversationStarted>()
                .await
                .expect("started")
        }
    };
    let (first, second, other) =
        (start("kim@example.com").await, start("KIM@example.com").await, start("lee@example.com").await);
    let (mut customer, _) = app.customer(&first, 0).await;
    crate::common::send(
        &mut customer,
        &CustomerFrame::Send {
            client_id: tandem_protocol::ClientMessageId("c1".into()),
            text: "where is order 42?".into(),
        },
    )
    .await;
    crate::common::recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Ack { .. })).await;
    crate::common::send(&mut customer, &CustomerFrame::Close).await;
    crate::common::recv_customer_until(&mut customer, |e| matches!(e, CustomerEvent::Closed)).await;
    let left = serde_json::json!({"email": "Kim@example.com", "text": "call me", "locale": "en", "page_url": "https://shop.example/"});
    let posted = app
        .http
        .post(app.url("/v1/merchants/shop/messages"))
        .header("origin", crate::common::SHOP_ORIGIN)
        .json(&left)
        .send()
        .await
        .expect("leave");
    assert_eq!(posted.status(), 201);

    let data = app.data_dir();
    let export = || {
        stdout(&admin(
            data,
            &["customer", "export", "--merchant", "shop", "--email", "kim@EXAMPLE.com"],
            None,
        ))
    };
    let exported: serde_json::Value = serde_json::from_str(&export()).expect("json");
    assert_eq!(exported["conversations"].as_array().expect("list").len(), 2);
    assert_eq!(exported["conversations"][0]["messages"][0]["text"], "where is order 42?");
    assert_eq!(exported["left_messages"][0]["text"], "call me");

    // One is still waiting: nothing is erased until it has ended.
    let refused =
        admin(data, &["customer", "erase", "--merchant", "shop", "--email", "kim@example.com"], None);
    assert_one_line_failure(&refused, &[&second.conversation_id.0, "still open"]);
    let (mut waiting, _) = app.customer(&second, 0).await;
    crate::common::send(&mut waiting, &CustomerFrame::Close).await;
    crate::common::recv_customer_until(&mut waiting, |e| matches!(e, CustomerEvent::Closed)).await;
    let erased = stdout(&admin(
        data,
        &["customer", "erase", "--merchant", "shop", "--email", "kim@example.com"],
        None,
    ));
    assert_eq!(erased.trim(), "erased 2 conversation(s) and 1 left message(s)");
    let after: serde_json::Value = serde_json::from_str(&export()).expect("json");
    assert_eq!(
        (after["conversations"].as_array().map(Vec::len), after["left_messages"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
    let store = app.store().await;
    assert!(
        tandem_server::store::Store::conversation(&store, &other.conversation_id)
            .await
            .expect("read")
            .is_some(),
        "another customer's stays"
    );

    let audit = stdout(&admin(data, &["audit", "--merchant", "shop"], None));
    let erasure = "\tcli\tcustomer.erased\t2 conversation(s) and 1 left message(s)";
    assert!(audit.lines().any(|l| l.ends_with(erasure)), "{audit}");
    assert!(audit.lines().any(|l| l.contains("\tcli\tcustomer.exported\t")), "{audit}");
    assert!(
        !audit.to_lowercase().contains("kim@"),
        "the log outlives the erasure, so it never names the customer: {audit}"
    );
}

/// `tandem merchant canned`: set (and replace), list and remove a merchant's canned responses;
/// a bad one is refused in one line that says what to fix, and changes nothing.
#[test]
fn canned_responses_are_kept_from_the_command_line() {
    let data = tempfile::tempdir().expect("temp dir");
    let ok = |args: &[&str]| {
        let output = admin(data.path(), args, None);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    fn canned<'a>(rest: &[&'a str]) -> Vec<&'a str> {
        [&["merchant", "canned"], rest].concat()
    }
    let set = ["set", "--id", "shop", "--shortcut", "refund", "--title", "Refund policy"];
    let no_merchant = admin(data.path(), &canned(&[&set[..], &["--text", "en=Five days."]].concat()), None);
    assert_one_line_failure(&no_merchant, &["no merchant shop", "tandem merchant add"]);
    ok(&["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example"]);

    ok(&canned(
        &[&set[..], &["--text", "en=Refunds take five days.", "--text", "sv=Återbetalning tar fem dagar."]]
            .concat(),
    ));
    ok(&canned(&[&set[..], &["--text", "en=Refunds take {agent_name} five days."]].concat()));
    assert_eq!(ok(&canned(&["list", "--id", "shop"])), "/refund\tRefund policy\ten\n", "replaced");

    let bad_shortcut = ["set", "--id", "shop", "--shortcut", "Refund!", "--title", "x", "--text", "en=x"];
    assert_one_line_failure(&admin(data.path(), &canned(&bad_shortcut), None), &["shortcut", "lowercase"]);
    let bad_text = [&set[..], &["--text", "english"]].concat();
    assert_one_line_failure(&admin(data.path(), &canned(&bad_text), None), &["LANG=TEXT"]);
    assert_eq!(ok(&canned(&["list", "--id", "shop"])), "/refund\tRefund policy\ten\n", "unchanged");

    ok(&canned(&["remove", "--id", "shop", "--shortcut", "refund"]));
    let again = admin(data.path(), &canned(&["remove", "--id", "shop", "--shortcut", "refund"]), None);
    assert_one_line_failure(&again, &["no canned response /refund", "canned list"]);
    assert_eq!(ok(&canned(&["list", "--id", "shop"])), "");
}

/// `tandem merchant webhook`: add (printing its secret once), list, deliveries and remove; a
/// URL that is not https on a public address, or an unknown event, is refused in one line.
#[test]
fn webhooks_are_kept_from_the_command_line_and_only_to_public_https_urls() {
    let data = tempfile::tempdir().expect("temp dir");
    let ok = |args: &[&str]| {
        let output = admin(data.path(), args, None);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    fn webhook<'a>(rest: &[&'a str]) -> Vec<&'a str> {
        [&["merchant", "webhook"], rest].concat()
    }
    ok(&["merchant", "add", "--id", "shop", "--name", "Shop", "--origin", "https://shop.example"]);
    for (url, why) in [
        ("http://crm.example.com/hook", "only to https URLs"),
        ("https://10.0.0.8/hook", "private or reserved address"),
        ("https://169.254.169.254/latest", "private or reserved address"),
        ("https://localhost/hook", "not a public address"),
    ] {
        let refused = admin(data.path(), &webhook(&["add", "--id", "shop", "--url", url]), None);
        assert_one_line_failure(&refused, &[why]);
    }
    let unknown =
        webhook(&["add", "--id", "shop", "--url", "https://crm.example.com/h", "--events", "everything"]);
    assert_one_line_failure(
        &admin(data.path(), &unknown, None),
        &["unknown webhook event", "conversation_started"],
    );
    assert_eq!(ok(&webhook(&["list", "--id", "shop"])), "", "nothing refused was added");

    let added = ok(&webhook(&[
        "add",
        "--id",
        "shop",
        "--url",
        "https://crm.example.com/hooks",
        "--events",
        "conversation_started,message_left",
    ]));
    assert!(added.contains("signing secret (shown once): whsec_"), "{added}");
    let id = added.split_whitespace().nth(1).expect("id").to_owned();
    assert_eq!(
        ok(&webhook(&["list", "--id", "shop"])),
        format!("{id}\thttps://crm.example.com/hooks\tconversation_started,message_left\n")
    );
    assert_eq!(ok(&webhook(&["deliveries", "--id", "shop", "--failed"])), "");
    ok(&webhook(&["remove", "--id", "shop", "--webhook", &id]));
    let again = admin(data.path(), &webhook(&["remove", "--id", "shop", "--webhook", &id]), None);
    assert_one_line_failure(&again, &["has no webhook", "tandem merchant webhook list"]);
}
