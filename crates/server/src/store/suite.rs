//! The store's contract, written once and run on every database: SQLite in memory, and
//! PostgreSQL in a fresh database of the test cluster that `cargo xtask test` starts (its URL in
//! `TANDEM_TEST_POSTGRES`).

use tandem_protocol::{
    Attachment, Author, ClientMessageId, ConversationId, CustomerProfile, FileKind, HandoffReason,
    LeaveMessage, MerchantId,
};

use super::postgres::PgStore;
use super::{Attempt, NewMail, Webhook};
use super::{
    AuditEntry, ChatRef, DispatchSettings, File, Merchant, NewAgent, NewConversation, NewFile, NewInvite,
    NewMessage, NewNote, Policies, ReadUpTo, Redeemed, Side, Staffing, Store, StoreError, WidgetSettings,
};

/// Each test, once per database.
macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $test() {
                super::$test(&crate::store::SqliteStore::in_memory().await.expect("store")).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $test() {
                let store = super::fresh_postgres().await;
                super::$test(&store).await;
                crate::store::Store::close(&store).await;
            })*
        }
    };
}

suite!(
    merchant_round_trips_and_upsert_replaces_origins,
    agent_of_unknown_merchant_is_refused,
    an_agent_stays_with_their_merchant_and_emails_ignore_case,
    messages_get_consecutive_sequences_and_retries_are_stored_once,
    accept_is_won_once_and_requeue_returns_to_the_queue,
    sessions_expire_and_sign_out_everywhere,
    an_invite_is_redeemed_once,
    a_customer_away_long_enough_is_abandoned,
    retention_deletes_old_ended_conversations_and_left_messages_only,
    a_customers_records_are_found_by_email_and_erased_once_over,
    the_audit_log_keeps_the_newest_in_order,
    the_settings_version_grows_with_each_merchant_change,
    reading_goes_only_forward_and_never_past_the_last_message,
    notes_are_stored_once_for_their_merchant_and_go_with_the_conversation,
    canned_responses_are_the_merchants_own_by_shortcut,
    a_file_is_stored_with_its_message_once_and_only_its_merchant_reads_it,
    webhook_deliveries_are_claimed_once_retried_when_due_and_listed_for_their_merchant,
    mails_are_counted_per_conversation_claimed_once_and_go_with_what_they_tell_of,
);

/// A database of its own in the test cluster, migrated.
async fn fresh_postgres() -> PgStore {
    let base = std::env::var("TANDEM_TEST_POSTGRES").expect(
        "TANDEM_TEST_POSTGRES is not set: run the store suite through `cargo xtask test`, which starts a PostgreSQL cluster",
    );
    let url = super::postgres::scratch_database(&base).await.expect("the test cluster");
    PgStore::connect(&url).await.expect("migrated")
}

fn demo() -> Merchant {
    Merchant {
        id: MerchantId::parse("demo").expect("valid id"),
        display_name: "Demo Shop".into(),
        support_email: Some("help@demo.example".into()),
        allowed_origins: vec!["https://shop.example".into()],
        business_hours: None,
        settings: WidgetSettings::default(),
        dispatch: DispatchSettings::default(),
        identity_secret: None,
        policies: Policies::default(),
    }
}

fn anna() -> NewAgent {
    NewAgent {
        merchant_id: demo().id,
        email: "anna@demo.example".into(),
        display_name: "Anna".into(),
        password_hash: "x".into(),
        staffing: Staffing::default(),
    }
}

fn conversation_at(id: &str, email: &str, now_ms: i64) -> NewConversation {
    NewConversation {
        id: ConversationId(id.into()),
        merchant_id: demo().id,
        token_hash: "h".into(),
        locale: "en".into(),
        page_url: "https://shop.example/cart".into(),
        reason: HandoffReason::Button,
        escalation: None,
        transcript: vec![],
        customer: CustomerProfile { email: Some(email.into()), ..CustomerProfile::default() },
        skill: None,
        now_ms,
    }
}

fn customer_says(id: &ConversationId, client_id: &str, text: &str) -> NewMessage {
    NewMessage {
        merchant_id: demo().id,
        conversation_id: id.clone(),
        client_id: ClientMessageId(client_id.into()),
        author: Author::Customer,
        text: text.into(),
        now_ms: 2,
        file: None,
    }
}

fn chat<'a>(merchant: &'a MerchantId, id: &'a ConversationId) -> ChatRef<'a> {
    ChatRef { merchant, id }
}

/// The demo merchant with one waiting conversation, `c1`.
async fn with_conversation(store: &dyn Store) -> ConversationId {
    store.upsert_merchant(&demo()).await.expect("merchant");
    store.create_conversation(&conversation_at("c1", "kim@example.com", 1)).await.expect("conversation");
    ConversationId("c1".into())
}

async fn merchant_round_trips_and_upsert_replaces_origins(store: &dyn Store) {
    assert_eq!(store.merchant(&demo().id).await.expect("read"), None);
    store.upsert_merchant(&demo()).await.expect("insert");
    assert_eq!(store.merchant(&demo().id).await.expect("read"), Some(demo()));
    let mut renamed = Merchant {
        display_name: "Renamed".into(),
        allowed_origins: vec!["https://other.example".into()],
        ..demo()
    };
    renamed.policies.retain_days = 30;
    renamed.dispatch.offer_timeout_secs = 45;
    store.upsert_merchant(&renamed).await.expect("update");
    assert_eq!(store.merchant(&demo().id).await.expect("read"), Some(renamed));
    assert!(store.set_identity_secret(&demo().id, "00ff").await.expect("secret"));
    let unknown = MerchantId::parse("nobody").expect("id");
    assert!(!store.set_identity_secret(&unknown, "00ff").await.expect("no merchant"));
    assert_eq!(
        store.merchant(&demo().id).await.expect("read").expect("demo").identity_secret.as_deref(),
        Some("00ff")
    );
}

async fn agent_of_unknown_merchant_is_refused(store: &dyn Store) {
    assert!(matches!(store.upsert_agent(&anna()).await, Err(StoreError::UnknownMerchant(_))));
    store.upsert_merchant(&demo()).await.expect("insert");
    store.upsert_agent(&anna()).await.expect("agent");
    store.upsert_agent(&anna()).await.expect("agent again is an update");
    let stored = store.agent_by_email("anna@demo.example").await.expect("read").expect("agent");
    assert_eq!(stored.display_name, "Anna");
    assert_eq!(store.agents(Some(&demo().id)).await.expect("list").len(), 1);
    assert_eq!(store.agent(stored.id).await.expect("by id"), Some(stored));
}

async fn an_agent_stays_with_their_merchant_and_emails_ignore_case(store: &dyn Store) {
    store.upsert_merchant(&demo()).await.expect("demo");
    let other = Merchant { id: MerchantId::parse("other").expect("id"), ..demo() };
    store.upsert_merchant(&other).await.expect("other");
    store.upsert_agent(&NewAgent { email: "Anna@Demo.example".into(), ..anna() }).await.expect("agent");
    let found = store.agent_by_email("ANNA@demo.EXAMPLE").await.expect("read").expect("any case");
    assert_eq!(found.email, "anna@demo.example");
    let moved = NewAgent { merchant_id: other.id.clone(), ..anna() };
    assert!(matches!(store.upsert_agent(&moved).await, Err(StoreError::AgentOfAnotherMerchant { .. })));
    assert!(!store.set_agent_active(&other.id, found.id, false).await.expect("not theirs"));
    assert!(store.set_agent_active(&demo().id, found.id, false).await.expect("deactivate"));
    assert!(!store.agent(found.id).await.expect("read").expect("agent").active);
}

async fn messages_get_consecutive_sequences_and_retries_are_stored_once(store: &dyn Store) {
    let id = with_conversation(store).await;
    let first = store.append_message(&customer_says(&id, "a", "hello")).await.expect("first");
    let second = store.append_message(&customer_says(&id, "b", "there")).await.expect("second");
    let retry = store.append_message(&customer_says(&id, "a", "hello")).await.expect("retry");
    assert_eq!((first.seq, second.seq, retry.seq), (1, 2, 1));
    let all = store.messages_after(&id, 0).await.expect("all");
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(store.messages_after(&id, 1).await.expect("after 1"), [second]);
}

async fn reading_goes_only_forward_and_never_past_the_last_message(store: &dyn Store) {
    let id = with_conversation(store).await;
    let (demo_id, other) = (demo().id, MerchantId::parse("other").expect("id"));
    assert_eq!(store.read_up_to(&id).await.expect("nothing read"), ReadUpTo::default());
    for text in ["a", "b", "c"] {
        store.append_message(&customer_says(&id, text, text)).await.expect("message");
    }
    store.mark_read(chat(&demo_id, &id), Side::Agent, 2).await.expect("read");
    store.mark_read(chat(&demo_id, &id), Side::Agent, 1).await.expect("older");
    store.mark_read(chat(&demo_id, &id), Side::Customer, 99).await.expect("past the end");
    store.mark_read(chat(&other, &id), Side::Agent, 3).await.expect("another merchant's");
    assert_eq!(store.read_up_to(&id).await.expect("read"), ReadUpTo { customer: 3, agent: 2 });
}

async fn notes_are_stored_once_for_their_merchant_and_go_with_the_conversation(store: &dyn Store) {
    let id = with_conversation(store).await;
    let (demo_id, other) = (demo().id, MerchantId::parse("other").expect("id"));
    let new = |client_id: &str, text: &str| NewNote {
        agent: 7,
        author_name: "Anna".into(),
        client_id: ClientMessageId(client_id.into()),
        text: text.into(),
        now_ms: 3,
    };
    let first =
        store.add_note(chat(&demo_id, &id), &new("n1", "first")).await.expect("note").expect("stored");
    let again =
        store.add_note(chat(&demo_id, &id), &new("n1", "first")).await.expect("again").expect("as stored");
    assert_eq!(again, first, "a note sent again is stored once");
    let second =
        store.add_note(chat(&demo_id, &id), &new("n2", "second")).await.expect("note").expect("stored");
    assert!(second.id > first.id);
    assert_eq!(store.add_note(chat(&other, &id), &new("n3", "other's")).await.expect("refused"), None);
    assert_eq!(store.notes(&id).await.expect("notes"), [first.clone(), second.clone()]);
    let created = store.notes_created(&demo_id, 0, 10).await.expect("in range");
    assert_eq!(created, [(id.clone(), first), (id.clone(), second)]);
    assert!(store.notes_created(&demo_id, 2, 10).await.expect("out of range").is_empty());
    assert!(store.notes_created(&other, 0, 10).await.expect("other merchant").is_empty());
    assert!(store.end(chat(&demo_id, &id), 4).await.expect("end"));
    let erased = store.erase(&demo_id, std::slice::from_ref(&id), &[]).await;
    assert_eq!(erased.expect("erase"), (1, 0));
    assert!(store.notes(&id).await.expect("notes").is_empty(), "deleted with the conversation");
}

async fn canned_responses_are_the_merchants_own_by_shortcut(store: &dyn Store) {
    use tandem_protocol::{CannedResponse, CannedText};
    let canned = |shortcut: &str, text: &str| CannedResponse {
        shortcut: shortcut.into(),
        title: format!("About {shortcut}"),
        texts: vec![CannedText { locale: "en".into(), text: text.into() }],
    };
    let (demo_id, other) = (demo().id, MerchantId::parse("other").expect("id"));
    assert!(!store.put_canned_response(&demo_id, &canned("refund", "x"), 1).await.expect("no merchant yet"));
    store.upsert_merchant(&demo()).await.expect("demo");
    store.upsert_merchant(&Merchant { id: other.clone(), ..demo() }).await.expect("other");
    assert!(store.put_canned_response(&demo_id, &canned("shipping", "Two days."), 1).await.expect("put"));
    assert!(store.put_canned_response(&demo_id, &canned("refund", "Within 30 days."), 2).await.expect("put"));
    assert!(
        store.put_canned_response(&demo_id, &canned("refund", "Within 60 days."), 3).await.expect("replace")
    );
    let listed = store.canned_responses(&demo_id).await.expect("list");
    assert_eq!(listed, [canned("refund", "Within 60 days."), canned("shipping", "Two days.")]);
    assert!(store.canned_responses(&other).await.expect("other's").is_empty());
    assert!(!store.delete_canned_response(&other, "refund").await.expect("not other's"));
    assert!(store.delete_canned_response(&demo_id, "refund").await.expect("delete"));
    assert!(!store.delete_canned_response(&demo_id, "refund").await.expect("twice"));
    assert_eq!(store.canned_responses(&demo_id).await.expect("list").len(), 1);
}

async fn accept_is_won_once_and_requeue_returns_to_the_queue(store: &dyn Store) {
    let id = with_conversation(store).await;
    store.upsert_agent(&anna()).await.expect("agent");
    let agent = store.agent_by_email("anna@demo.example").await.expect("read").expect("agent").id;
    let (demo_id, other) = (demo().id, MerchantId::parse("other").expect("id"));
    assert_eq!(store.queue(&demo_id).await.expect("queue").len(), 1);
    assert!(!store.accept(chat(&other, &id), agent, 3).await.expect("another merchant's accept"));
    assert!(store.accept(chat(&demo_id, &id), agent, 3).await.expect("accept"));
    assert!(!store.accept(chat(&demo_id, &id), agent, 3).await.expect("second accept"));
    assert!(store.queue(&demo_id).await.expect("queue").is_empty());
    assert_eq!(store.agent_conversations(agent).await.expect("chats").len(), 1);
    assert_eq!(store.active_conversations(&demo_id).await.expect("active").len(), 1);
    assert!(!store.requeue(chat(&other, &id), agent, 5).await.expect("another merchant's requeue"));
    assert!(store.requeue(chat(&demo_id, &id), agent, 5).await.expect("requeue"));
    assert_eq!(store.queue(&demo_id).await.expect("queue")[0].queued_at_ms, 5);
    assert!(!store.end(chat(&other, &id), 6).await.expect("another merchant's end"));
    assert!(store.end(chat(&demo_id, &id), 6).await.expect("end"));
    assert!(!store.end(chat(&demo_id, &id), 7).await.expect("end twice"));
}

async fn sessions_expire_and_sign_out_everywhere(store: &dyn Store) {
    store.upsert_merchant(&demo()).await.expect("merchant");
    store.upsert_agent(&anna()).await.expect("agent");
    let agent = store.agent_by_email("anna@demo.example").await.expect("read").expect("agent");
    store.create_session("s1", agent.id, 100).await.expect("session");
    store.create_session("s2", agent.id, 100).await.expect("session");
    assert_eq!(store.session_agent("s1", 50).await.expect("read").map(|a| a.id), Some(agent.id));
    assert_eq!(store.session_agent("s1", 100).await.expect("read"), None, "expired");
    store.delete_session("s1").await.expect("sign out");
    assert_eq!(store.session_agent("s1", 50).await.expect("read"), None);
    store.sign_out_everywhere(agent.id).await.expect("everywhere");
    assert_eq!(store.session_agent("s2", 50).await.expect("read"), None);
}

async fn an_invite_is_redeemed_once(store: &dyn Store) {
    store.upsert_merchant(&demo()).await.expect("merchant");
    let invite = NewInvite {
        token_hash: "t",
        merchant: &demo().id,
        role: tandem_protocol::AgentRole::Agent,
        created_by: None,
        expires_at_ms: 100,
    };
    store.create_invite(&invite).await.expect("invite");
    assert!(store.invite("t", 50).await.expect("read").is_some());
    assert!(store.invite("t", 100).await.expect("read").is_none(), "expired");
    let cleo = NewAgent { email: "cleo@demo.example".into(), ..anna() };
    assert!(matches!(store.redeem_invite("t", &cleo, 50).await.expect("redeem"), Redeemed::Agent(_)));
    assert!(matches!(store.redeem_invite("t", &cleo, 50).await.expect("again"), Redeemed::InvalidInvite));
    store.purge_expired(200).await.expect("purge");
}

async fn a_customer_away_long_enough_is_abandoned(store: &dyn Store) {
    let id = with_conversation(store).await;
    let demo_id = demo().id;
    // Created at 1 ms and away since (the page never connected); the demo's time is 120 s.
    assert!(store.abandoned(1 + 119_000).await.expect("not yet").is_empty());
    assert_eq!(store.abandoned(1 + 120_000).await.expect("gone"), [(demo_id.clone(), id.clone())]);
    store.customer_away(chat(&demo_id, &id), None).await.expect("here");
    assert!(store.abandoned(1_000_000).await.expect("here").is_empty());
    store.customer_away(chat(&demo_id, &id), Some(500_000)).await.expect("gone");
    store.customer_away(chat(&demo_id, &id), Some(900_000)).await.expect("the earlier time stays");
    assert_eq!(store.abandoned(620_000).await.expect("gone").len(), 1);
    store.customer_away(chat(&demo_id, &id), None).await.expect("here");
    store.all_customers_away(700_000).await.expect("restart");
    assert_eq!(store.abandoned(820_000).await.expect("gone").len(), 1);
}

async fn webhook_deliveries_are_claimed_once_retried_when_due_and_listed_for_their_merchant(
    store: &dyn Store,
) {
    with_conversation(store).await;
    let demo_id = demo().id;
    let hook = |id: &str, merchant: &MerchantId, events: &[&str]| Webhook {
        id: id.into(),
        merchant_id: merchant.clone(),
        url: format!("https://crm.example.com/{id}"),
        secret: "s".into(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        created_at_ms: 1,
    };
    let nobody = MerchantId::parse("nobody").expect("id");
    let refused = store.add_webhook(&hook("w0", &nobody, &["message_left"])).await;
    assert!(matches!(refused, Err(StoreError::UnknownMerchant(_))), "{refused:?}");
    store.add_webhook(&hook("w1", &demo_id, &["conversation_started", "message_left"])).await.expect("w1");
    store.add_webhook(&hook("w2", &demo_id, &["agent_joined"])).await.expect("w2");
    assert_eq!(store.webhooks(&demo_id).await.expect("list").len(), 2);

    let owed = store.enqueue_deliveries(&demo_id, "message_left", "e1", "{}", 10).await.expect("queued");
    assert_eq!(owed, 1, "only the webhook that takes the event");
    let claimed = store.claim_deliveries(10, 1_000, 10).await.expect("claim");
    assert_eq!(
        claimed.iter().map(|d| (d.id.as_str(), d.url.as_str())).collect::<Vec<_>>(),
        [("e1-w1", "https://crm.example.com/w1")]
    );
    assert!(store.claim_deliveries(20, 1_000, 10).await.expect("again").is_empty(), "held by its claim");
    let failed = Attempt::Failed { error: "answered 500".into(), retry_at_ms: Some(500) };
    store.record_attempt("e1-w1", &failed, 30).await.expect("failed");
    assert!(store.claim_deliveries(499, 1_000, 10).await.expect("early").is_empty(), "not due yet");
    let retried = store.claim_deliveries(500, 1_000, 10).await.expect("due");
    assert_eq!((retried.len(), retried[0].attempts), (1, 1));
    store.record_attempt("e1-w1", &Attempt::Delivered, 600).await.expect("delivered");
    assert!(store.claim_deliveries(10_000, 1_000, 10).await.expect("done").is_empty());
    let listed = store.deliveries(&demo_id, 10).await.expect("deliveries");
    assert_eq!((listed[0].attempts, listed[0].delivered_at_ms, listed[0].given_up), (2, Some(600), false));

    store.enqueue_deliveries(&demo_id, "agent_joined", "e2", "{}", 700).await.expect("queued");
    let gone = Attempt::Failed { error: "no answer".into(), retry_at_ms: None };
    store.claim_deliveries(700, 1_000, 10).await.expect("claim");
    store.record_attempt("e2-w2", &gone, 800).await.expect("given up");
    assert!(store.claim_deliveries(100_000, 1_000, 10).await.expect("never").is_empty(), "given up");
    assert!(store.remove_webhook(&demo_id, "w2").await.expect("removed"));
    assert!(!store.remove_webhook(&demo_id, "w2").await.expect("gone"));
    assert_eq!(
        store.deliveries(&demo_id, 10).await.expect("deliveries").len(),
        1,
        "its deliveries went with it"
    );
}

async fn mails_are_counted_per_conversation_claimed_once_and_go_with_what_they_tell_of(store: &dyn Store) {
    let id = with_conversation(store).await;
    let merchant = demo().id;
    let mail = |mail_id: &str, conversation: Option<&ConversationId>, left: Option<i64>| NewMail {
        id: mail_id.into(),
        merchant_id: merchant.clone(),
        conversation_id: conversation.cloned(),
        left_message_id: left,
        kind: if left.is_some() { "message_left" } else { "transcript" },
        to: "kim@example.com".into(),
        reply_to: None,
        subject: "Your conversation".into(),
        text: "Anna: hello".into(),
        html: "<p>Anna: hello</p>".into(),
        now_ms: 10,
    };
    assert!(store.enqueue_mail(&mail("t1", Some(&id), None), 2).await.expect("first"));
    assert!(store.enqueue_mail(&mail("t2", Some(&id), None), 2).await.expect("second"));
    assert!(!store.enqueue_mail(&mail("t3", Some(&id), None), 2).await.expect("third"), "two per chat");
    let left = LeaveMessage {
        email: "kim@example.com".into(),
        text: "call me".into(),
        locale: "en".into(),
        page_url: "https://shop.example/".into(),
        transcript: vec![],
    };
    let left_id = store.leave_message(&merchant, &left, 10).await.expect("left");
    assert!(store.enqueue_mail(&mail("m1", None, Some(left_id)), 0).await.expect("no chat, no count"));

    let claimed = store.claim_mails(10, 1_000, 2).await.expect("claim");
    assert_eq!(claimed.len(), 2, "at most the limit");
    assert_eq!((claimed[0].text.as_str(), claimed[0].attempts), ("Anna: hello", 0));
    assert_eq!(store.claim_mails(20, 1_000, 10).await.expect("the rest").len(), 1, "the others are held");
    store.record_mail_attempt(&claimed[0].id, &Attempt::Delivered, 30).await.expect("sent");
    let failed = Attempt::Failed { error: "connection refused".into(), retry_at_ms: Some(500) };
    store.record_mail_attempt(&claimed[1].id, &failed, 30).await.expect("failed");
    assert!(store.claim_mails(499, 1_000, 10).await.expect("early").is_empty(), "not due, or held");
    let retried = store.claim_mails(2_000, 1_000, 10).await.expect("due");
    assert!(retried.iter().any(|due| due.id == claimed[1].id && due.attempts == 1), "{retried:?}");

    let listed = store.mails(&merchant, 10).await.expect("mails");
    assert_eq!(listed.len(), 3);
    let sent = listed.iter().find(|record| record.id == claimed[0].id).expect("the sent one");
    assert_eq!((sent.sent_at_ms, sent.attempts, sent.given_up), (Some(30), 1, false));
    assert!(store.mails(&MerchantId::parse("other").expect("id"), 10).await.expect("none").is_empty());

    // A customer's erasure takes their message left's mail with it.
    assert_eq!(store.erase(&merchant, &[], &[left_id]).await.expect("erased"), (0, 1));
    let kept: Vec<String> =
        store.mails(&merchant, 10).await.expect("mails").into_iter().map(|m| m.id).collect();
    assert_eq!(kept.len(), 2);
    assert!(!kept.contains(&"m1".to_owned()));
    // And a conversation its transcripts.
    assert!(store.end(chat(&merchant, &id), 40).await.expect("end"));
    assert_eq!(store.erase(&merchant, &[id], &[]).await.expect("erased"), (1, 0));
    assert!(store.mails(&merchant, 10).await.expect("mails").is_empty());
}

async fn a_file_is_stored_with_its_message_once_and_only_its_merchant_reads_it(store: &dyn Store) {
    let id = with_conversation(store).await;
    let (demo_id, other) = (demo().id, MerchantId::parse("other").expect("id"));
    let attachment = Attachment { id: "f1".into(), name: "shot.png".into(), kind: FileKind::Png, size: 4 };
    let bytes = b"\x89PNG".to_vec();
    let mut new = customer_says(&id, "file-1", "shot.png");
    let file = |id: &str| File {
        attachment: Attachment { id: id.into(), ..attachment.clone() },
        bytes: bytes.clone(),
    };
    new.file = Some(NewFile { file: file("f1"), counted_since_ms: 0, most: 2 });
    let sent = store.append_message(&new).await.expect("file");
    assert_eq!(sent.attachment.as_ref(), Some(&attachment));
    let retried = store.append_message(&new).await.expect("a retry is the stored one");
    assert_eq!(retried, sent);
    assert_eq!(store.messages_after(&id, 0).await.expect("messages"), [sent]);
    let read = store.attachment(chat(&demo_id, &id), "f1").await.expect("read").expect("stored");
    assert_eq!((&read.attachment, &read.bytes), (&attachment, &bytes));
    assert!(store.attachment(chat(&other, &id), "f1").await.expect("other merchant").is_none());
    let elsewhere = ConversationId("elsewhere".into());
    assert!(store.attachment(chat(&demo_id, &elsewhere), "f1").await.expect("other chat").is_none());
    assert_eq!(store.attachments_since(&id, 1).await.expect("count"), 1, "counted once");
    assert_eq!(store.attachments_since(&id, 2).await.expect("count"), 0, "sent at 2");
    let mut second = customer_says(&id, "file-2", "second.png");
    second.file = Some(NewFile { file: file("f2"), counted_since_ms: 0, most: 2 });
    assert!(store.append_message(&second).await.expect("the second").attachment.is_some());
    let mut third = customer_says(&id, "file-3", "third.png");
    third.file = Some(NewFile { file: file("f3"), counted_since_ms: 0, most: 2 });
    assert!(matches!(store.append_message(&third).await, Err(StoreError::TooManyFiles)), "past the limit");
    assert_eq!(
        store.append_message(&second).await.expect("a retry past the limit").seq,
        2,
        "is the stored one"
    );
    assert!(store.attachment(chat(&demo_id, &id), "f3").await.expect("read").is_none(), "nothing stored");
    assert!(store.end(chat(&demo_id, &id), 4).await.expect("end"));
    assert_eq!(store.erase(&demo_id, std::slice::from_ref(&id), &[]).await.expect("erase"), (1, 0));
    assert!(store.attachment(chat(&demo_id, &id), "f1").await.expect("read").is_none(), "erased with it");
    assert_eq!(store.attachments_since(&id, 0).await.expect("count"), 0, "its bytes went with it");
}

/// Past the merchant's days, what is over goes (messages with it) and what is open stays.
async fn retention_deletes_old_ended_conversations_and_left_messages_only(store: &dyn Store) {
    const DAY: i64 = 86_400_000;
    let mut merchant = demo();
    merchant.policies.retain_days = 30;
    store.upsert_merchant(&merchant).await.expect("merchant");
    let now = 100 * DAY;
    for (id, age_days) in [("old-ended", 31), ("old-open", 40), ("recent-ended", 29)] {
        let conversation = conversation_at(id, "kim@example.com", now - age_days * DAY);
        store.create_conversation(&conversation).await.expect("create");
    }
    for id in ["old-ended", "recent-ended"] {
        let id = ConversationId(id.into());
        let mut file = customer_says(&id, "c1", "shot.png");
        let attachment =
            Attachment { id: format!("{id}-file"), name: "shot.png".into(), kind: FileKind::Png, size: 1 };
        let bytes = vec![0];
        file.file = Some(NewFile { file: File { attachment, bytes }, counted_since_ms: 0, most: 10 });
        store.append_message(&file).await.expect("a file");
        assert!(store.end(chat(&merchant.id, &id), now - DAY).await.expect("end"));
    }
    let left = LeaveMessage {
        email: "kim@example.com".into(),
        text: "call me".into(),
        locale: "en".into(),
        page_url: "https://shop.example/".into(),
        transcript: vec![],
    };
    store.leave_message(&merchant.id, &left, now - 31 * DAY).await.expect("old");
    store.leave_message(&merchant.id, &left, now - 29 * DAY).await.expect("recent");

    assert_eq!(store.purge_retained(now).await.expect("purge"), (1, 1));
    let kept = store.conversations_of_customer(&merchant.id, "KIM@example.com").await.expect("kept");
    let kept: Vec<&str> = kept.iter().map(|c| c.id.0.as_str()).collect();
    assert_eq!(kept, ["old-open", "recent-ended"]);
    let gone = ConversationId("old-ended".into());
    assert!(store.messages_after(&gone, 0).await.expect("messages").is_empty(), "its messages went with it");
    assert_eq!(store.attachments_since(&gone, 0).await.expect("files"), 0, "its files went with it");
    let kept = ConversationId("recent-ended".into());
    assert_eq!(store.attachments_since(&kept, 0).await.expect("files"), 1, "a kept chat keeps its file");
    assert_eq!(
        store.left_messages_of_customer(&merchant.id, "kim@example.com").await.expect("left").len(),
        1
    );
    assert_eq!(store.purge_retained(now).await.expect("again"), (0, 0));
}

async fn a_customers_records_are_found_by_email_and_erased_once_over(store: &dyn Store) {
    let id = with_conversation(store).await;
    let demo_id = demo().id;
    let leave = |email: &str| LeaveMessage {
        email: email.into(),
        text: "call me".into(),
        locale: "en".into(),
        page_url: "https://shop.example/".into(),
        transcript: vec![],
    };
    store.leave_message(&demo_id, &leave("KIM@example.com"), 5).await.expect("left");
    // Letters outside ASCII, whose case neither database's lower() knows.
    store.leave_message(&demo_id, &leave("ÅSA@Exempel.se"), 5).await.expect("left");
    store.leave_message(&demo_id, &leave("åke@exempel.se"), 5).await.expect("left");
    let found = store.left_messages_of_customer(&demo_id, "åsa@EXEMPEL.se").await.expect("found");
    assert_eq!(found.iter().map(|m| m.email.as_str()).collect::<Vec<_>>(), ["ÅSA@Exempel.se"]);
    let kims = store.left_messages_of_customer(&demo_id, "kim@EXAMPLE.com").await.expect("found");
    let kims: Vec<i64> = kims.iter().map(|m| m.id).collect();
    assert_eq!(kims.len(), 1);

    let other = MerchantId::parse("other").expect("id");
    assert_eq!(store.erase(&other, std::slice::from_ref(&id), &kims).await.expect("not theirs"), (0, 0));
    assert_eq!(store.erase(&demo_id, std::slice::from_ref(&id), &[]).await.expect("still open"), (0, 0));
    assert!(store.end(chat(&demo_id, &id), 6).await.expect("end"));
    assert_eq!(store.erase(&demo_id, std::slice::from_ref(&id), &kims).await.expect("erase"), (1, 1));
    assert!(store.conversation(&id).await.expect("read").is_none());
    assert_eq!(store.left_messages(&demo_id).await.expect("left").len(), 2, "only Kim's went");
}

async fn the_audit_log_keeps_the_newest_in_order(store: &dyn Store) {
    let entry = |action: &str| AuditEntry {
        at_ms: 5,
        merchant: demo().id,
        actor: "cli".into(),
        action: action.into(),
        subject: String::new(),
    };
    for action in ["merchant.saved", "agent.saved", "bot_flow.set"] {
        store.audit(&entry(action)).await.expect("append");
    }
    let newest = store.audit_log(&demo().id, 2).await.expect("read");
    assert_eq!(newest, [entry("agent.saved"), entry("bot_flow.set")], "the newest two, oldest first");
    let other = MerchantId::parse("other").expect("id");
    assert!(store.audit_log(&other, 10).await.expect("read").is_empty());
}

async fn the_settings_version_grows_with_each_merchant_change(store: &dyn Store) {
    let before = store.settings_version().await.expect("version");
    store.upsert_merchant(&demo()).await.expect("merchant");
    let after = store.settings_version().await.expect("version");
    assert!(after > before);
    store.upsert_merchant(&demo()).await.expect("again");
    assert!(store.settings_version().await.expect("version") > after);
}

/// The database itself refuses to change the audit log.
#[tokio::test]
async fn sqlite_keeps_the_audit_log_append_only() {
    let store = super::SqliteStore::in_memory().await.expect("store");
    the_audit_log_keeps_the_newest_in_order(&store).await;
    for sql in ["UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"] {
        let refused = sqlx::query(sql).execute(store.pool()).await.expect_err("append-only");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
}

#[tokio::test]
async fn postgres_keeps_the_audit_log_append_only() {
    let store = fresh_postgres().await;
    the_audit_log_keeps_the_newest_in_order(&store).await;
    for sql in ["UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"] {
        let refused = sqlx::query(sql).execute(store.pool()).await.expect_err("append-only");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
    Store::close(&store).await;
}
