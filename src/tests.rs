//! Component tests, run in headless Chromium by wasm-bindgen-test-runner.

#![allow(clippy::panic)] // a test fails by panicking

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use tandem_protocol::{MerchantId, WidgetConfig};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::HtmlElement;

use crate::{BotChat, ConfigState, Handoff, I18n, Layout, MountConfig, PageEvents, Panel, mount};

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_root() -> HtmlElement {
    let document = web_sys::window().and_then(|w| w.document()).expect("a document");
    let root: HtmlElement = document.create_element("div").expect("div").unchecked_into();
    document.body().expect("body").append_child(&root).expect("append");
    root
}

/// Waits, a few milliseconds at a time, until `find` returns something (at most ~2 s).
async fn wait_for<T>(mut find: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(found) = find() {
            return found;
        }
        TimeoutFuture::new(10).await;
    }
    panic!("timed out waiting for the widget");
}

fn query(root: &HtmlElement, selector: &str) -> Option<HtmlElement> {
    root.query_selector(selector).ok().flatten().map(JsCast::unchecked_into)
}

#[wasm_bindgen_test]
async fn panel_header_shows_merchant_name_and_human_button() {
    let root = fresh_root();
    let merchant = MerchantId::parse("shop").expect("valid id");
    let config = WidgetConfig {
        merchant_id: merchant,
        display_name: "Shop & <Co>".into(),
        support_email: Some("help@shop.example".into()),
        locale: None,
        ask_email: tandem_protocol::AskEmail::Off,
        transcripts: false,
    };
    let (state, _) = signal(ConfigState::Loaded(config));
    let i18n = I18n::new();
    i18n.requested.set(Some("en-GB".into()));
    let handle = leptos::mount::mount_to(root.clone(), move || {
        // Nothing listens on port 9: asking for a person fails, and the panel says what else to do.
        let shop = MerchantId::parse("shop").expect("valid id");
        provide_context(i18n);
        let handoff = Handoff::new(
            "http://127.0.0.1:9".into(),
            shop.clone(),
            i18n,
            PageEvents::none(),
            RwSignal::new(None),
            RwSignal::new(None),
        );
        let bot = BotChat::load("http://127.0.0.1:9", &shop, i18n, None);
        view! { <Panel merchant_config=state on_close=None handoff bot/> }
    });

    let name = wait_for(|| query(&root, "[data-testid=merchant-name]")).await;
    // Text, not markup: the name is shown literally.
    assert_eq!(name.text_content().as_deref(), Some("Shop & <Co>"));
    let human = query(&root, "[data-testid=human-button]").expect("human button");
    assert_eq!(human.text_content().as_deref(), Some("Talk to a human"));
    assert!(query(&root, "[data-testid=close]").is_none(), "no close button without on_close");

    human.click();
    let contact = wait_for(|| query(&root, "[data-testid=human-contact] a")).await;
    assert_eq!(contact.get_attribute("href").as_deref(), Some("mailto:help@shop.example"));

    // The page switches the language (Tandem.setLocale): every word follows at once.
    i18n.requested.set(Some("sv-SE".into()));
    let panel = query(&root, "[data-testid=panel]").expect("panel");
    wait_for(|| panel.text_content().filter(|text| text.contains("så svarar en person")).map(|_| ())).await;
    assert_eq!(
        query(&root, "[data-testid=human-button]").and_then(|b| b.text_content()).as_deref(),
        Some("Prata med en människa")
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn launcher_opens_panel_even_when_the_server_cannot_be_reached() {
    let root = fresh_root();
    mount(
        &root,
        MountConfig {
            merchant: MerchantId::parse("demo").expect("valid id"),
            // Nothing listens on port 9: the configuration fails to load.
            api_origin: "http://127.0.0.1:9".into(),
            layout: Layout::Launcher { open_at_start: false, focus_launcher: false },
            attach_api: None,
            launcher_label: None,
            skill: None,
            shell: None,
            config: None,
            flow: None,
        },
    );
    let launcher = wait_for(|| query(&root, "[data-testid=launcher]")).await;
    assert_eq!(launcher.get_attribute("aria-expanded").as_deref(), Some("false"));
    launcher.click();

    let name = wait_for(|| query(&root, "[data-testid=merchant-name]")).await;
    assert_eq!(name.text_content().as_deref(), Some("Customer support"));
    assert!(query(&root, "[data-testid=human-button]").is_some());
    assert_eq!(launcher.get_attribute("aria-expanded").as_deref(), Some("true"));

    // Without an email the way to a person is the hosted contact page.
    query(&root, "[data-testid=human-button]").expect("human button").click();
    let contact = wait_for(|| query(&root, "[data-testid=human-contact] a")).await;
    assert_eq!(contact.get_attribute("href").as_deref(), Some("http://127.0.0.1:9/contact/demo"));

    query(&root, "[data-testid=close]").expect("close button").click();
    wait_for(|| query(&root, "[data-testid=panel]").is_none().then_some(())).await;
    assert_eq!(launcher.get_attribute("aria-expanded").as_deref(), Some("false"));
}

/// What the server sends decodes through the browser's JSON.parse and `tandem_browser`'s own
/// deserializer: internally tagged frames (tag first or last), nested tagged authors, options,
/// lists and numbers; anything of the wrong shape is refused rather than guessed.
#[wasm_bindgen_test]
fn frames_decode_through_the_browsers_json() {
    use tandem_browser::{from_json, to_json};
    use tandem_protocol::{
        Author, ChatMessage, ClientMessageId, ConversationStatus, CustomerEvent, QueueStatus,
    };

    let message = ChatMessage {
        seq: 7,
        client_id: ClientMessageId("c-1".into()),
        author: Author::Agent { name: "Anna".into() },
        text: "Hej \"där\" ✓".into(),
        sent_at_ms: 1_764_000_000_000,
        attachment: None,
    };
    let events = [
        CustomerEvent::Welcome {
            status: ConversationStatus::Waiting,
            agent_name: None,
            queue: Some(QueueStatus { position: 3, estimated_wait_secs: 90 }),
        },
        CustomerEvent::Transcript { messages: vec![message.clone()] },
        CustomerEvent::Message { message },
        CustomerEvent::Closed,
    ];
    for event in events {
        let json = to_json(&event).expect("serialises");
        assert_eq!(from_json::<CustomerEvent>(&json), Some(event), "{json}");
    }
    let tag_last = r#"{"seq":4,"client_id":"c-2","type":"ack"}"#;
    assert_eq!(
        from_json::<CustomerEvent>(tag_last),
        Some(CustomerEvent::Ack { client_id: ClientMessageId("c-2".into()), seq: 4 })
    );
    for refused in [
        r#"{"type":"ack","client_id":"c-2","seq":-1}"#,
        r#"{"type":"ack","client_id":"c-2","seq":1.5}"#,
        r#"{"type":"ack","client_id":"c-2"}"#,
        r#"{"type":"typing","typing":"yes"}"#,
        r#"{"type":"no_such_frame"}"#,
        r#"[1,2]"#,
        "null",
    ] {
        assert_eq!(from_json::<CustomerEvent>(refused), None, "{refused}");
    }
    assert_eq!(from_json::<Vec<Option<u8>>>("[1,null,255]"), Some(vec![Some(1), None, Some(255)]));
    assert_eq!(from_json::<Vec<u8>>("[256]"), None);
}
