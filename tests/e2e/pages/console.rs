//! The agent's console: the desk where an agent is offered customers and chats with them, the
//! supervisor view an admin sees below it, and the page an invited agent joins from. Their
//! selectors are known here only.

use fantoccini::key::Key;

use crate::support::{Browser, TestServer, eventually, eventually_equal};

/// The demo agents' sign-in emails: Anna is an admin, Ben an agent.
pub const ANNA: &str = "anna@northwind.example";
pub const BEN: &str = "ben@northwind.example";

/// An agent's console in a browser, signed in.
pub struct Console<'a> {
    browser: &'a Browser,
}

impl<'a> Console<'a> {
    /// Opens the console and signs in as one of the demo agents; returns once the desk is
    /// connected.
    pub async fn sign_in(browser: &'a Browser, server: &TestServer, email: &str) -> Self {
        browser.client.goto(&server.api_url("/console/")).await.expect("open console");
        browser.fill("[data-testid=email]", email).await;
        browser.fill("[data-testid=password]", &server.agent_password).await;
        browser.click("[data-testid=sign-in-submit]").await;
        Self::at_the_desk(browser).await
    }

    /// Waits until the desk is welcomed by the server: from then on, customers see an agent
    /// online.
    async fn at_the_desk(browser: &'a Browser) -> Self {
        eventually("the desk, connected", || async {
            browser.shows("[data-testid=desk-bar][data-ready=true]").await.then_some(())
        })
        .await;
        Self { browser }
    }

    /// Waits until the desk says the session ended, with the sign-in form over it.
    pub async fn wait_signed_out(&self) {
        eventually("the sign-in form over the desk", || async {
            self.browser.shows("[data-testid=signed-out] [data-testid=sign-in]").await.then_some(())
        })
        .await;
    }

    /// Signs in again from the form over the desk; returns once the form is gone.
    pub async fn sign_in_again(&self, server: &TestServer, email: &str) {
        self.browser.fill("[data-testid=signed-out] [data-testid=email]", email).await;
        self.browser.fill("[data-testid=signed-out] [data-testid=password]", &server.agent_password).await;
        self.browser.click("[data-testid=signed-out] [data-testid=sign-in-submit]").await;
        eventually("the desk back", || async {
            (!self.browser.shows("[data-testid=signed-out]").await).then_some(())
        })
        .await;
    }

    /// The signed-in agent's name, as the desk shows it.
    pub async fn agent_name(&self) -> String {
        self.browser.text("[data-testid=agent-name]").await
    }

    // The queue and the offers.

    /// The first waiting customer's entry in the queue, with the preview of the bot chat.
    pub async fn queue_entry(&self) -> String {
        self.browser.text("[data-testid=queue-entry]").await
    }

    /// Takes the first waiting customer from the queue.
    pub async fn accept_from_queue(&self) {
        self.browser.click("[data-testid=accept]").await;
    }

    /// Whether the console offers a customer now.
    pub async fn has_offer(&self) -> bool {
        self.browser.shows("[data-testid=offer]").await
    }

    /// The offer card's text, once there is one.
    pub async fn offer(&self) -> String {
        self.browser.text("[data-testid=offer]").await
    }

    pub async fn offer_countdown(&self) -> String {
        self.browser.text("[data-testid=offer-countdown]").await
    }

    /// What a screen reader is told of the offer.
    pub async fn offer_announcement(&self) -> String {
        self.browser.text("[data-testid=offer-announcement]").await
    }

    /// Accepts the customer the console offers; returns once their chat is open.
    pub async fn accept_offer(&self) {
        self.browser.click("[data-testid=offer-accept]").await;
        eventually("the chat", || async {
            self.browser
                .shows("[data-testid=chat]:not([hidden]) [data-testid=chat-input]")
                .await
                .then_some(())
        })
        .await;
    }

    /// From now on (pages opened after this), the browser's notifications are a stand-in that
    /// records them, with the permission `permission` until asked, and the tab reads as hidden
    /// whenever the test says so ([`Console::hide_tab`]).
    pub async fn record_notifications(browser: &Browser, permission: &str) {
        let source = format!(
            "window.__notified = []; window.__permission = {permission:?}; \
             window.Notification = class {{ \
               constructor(title, options) {{ this.title = title; this.body = options && options.body; window.__notified.push(this); }} \
               close() {{ this.closed = true; }} \
               static get permission() {{ return window.__permission; }} \
               static requestPermission() {{ window.__permission = 'granted'; return Promise.resolve('granted'); }} }}; \
             Object.defineProperty(document, 'hidden', {{ configurable: true, get: () => window.__hidden === true }});"
        );
        browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": source })).await;
    }

    /// The agent switches to another tab: the console's is hidden.
    pub async fn hide_tab(&self) {
        self.browser.js("window.__hidden = true", vec![]).await;
    }

    /// The notifications raised so far, as `[title, body]`.
    pub async fn notifications(&self) -> Vec<(String, String)> {
        let raised = self.browser.js("return window.__notified.map(n => [n.title, n.body])", vec![]).await;
        serde_json::from_value(raised).unwrap_or_default()
    }

    /// Clicks the first notification, as the agent would in their system's tray.
    pub async fn click_notification(&self) {
        self.browser.js("window.__notified[0].onclick()", vec![]).await;
    }

    /// The tab's title.
    pub async fn title(&self) -> String {
        self.browser.js("return document.title", vec![]).await.as_str().unwrap_or_default().to_owned()
    }

    /// The `data-testid` of the element with the keyboard focus.
    pub async fn focused(&self) -> String {
        let focused = self
            .browser
            .js("return document.activeElement && document.activeElement.dataset.testid", vec![])
            .await;
        focused.as_str().unwrap_or_default().to_owned()
    }

    /// What the customer's page said of itself, as the open chat shows it beside the handoff.
    pub async fn page_context(&self) -> String {
        self.browser.text("[data-testid=chat]:not([hidden]) [data-testid=page-context]").await
    }

    /// The reply suggested from the flow for the open chat, as `(intent line, text)`.
    pub async fn suggestion(&self) -> (String, String) {
        let intent = self.browser.text("[data-testid=suggestion-intent]").await;
        (intent, self.browser.text("[data-testid=suggestion-text]").await)
    }

    /// Takes the suggested reply into the composer.
    pub async fn use_suggestion(&self) {
        self.browser.click("[data-testid=use-suggestion]").await;
    }

    /// Turns offer notifications on (the browser asks the agent, who allows them).
    pub async fn allow_notifications(&self) {
        self.browser.click("[data-testid=allow-notifications]").await;
        eventually("notifications on", || async {
            self.browser.shows("[data-testid=notifications-on]").await.then_some(())
        })
        .await;
    }

    /// Transfers the open chat to the first colleague listed as online with room.
    pub async fn transfer_to_a_colleague(&self) {
        self.browser.click("[data-testid=chat]:not([hidden]) [data-testid=transfer]").await;
        self.browser.click("[data-testid=transfer-to]").await;
    }

    pub async fn decline_offer(&self) {
        self.browser.click("[data-testid=offer-decline]").await;
    }

    // The open chat.

    /// Waits for the open chat and returns its text.
    pub async fn chat(&self) -> String {
        self.browser.text("[data-testid=chat]").await
    }

    /// Who the customer is, as the chat's header says.
    pub async fn customer(&self) -> String {
        self.browser.text("[data-testid=customer]").await
    }

    /// The page the customer is on.
    pub async fn page_url(&self) -> String {
        self.browser.text("[data-testid=page-url]").await
    }

    /// The lines of the bot conversation the customer had before the handoff, once shown.
    pub async fn transcript(&self) -> Vec<String> {
        eventually("the transcript in the chat", || async {
            let lines = self.browser.texts("[data-testid=transcript-line]").await;
            (!lines.is_empty()).then_some(lines)
        })
        .await
    }

    /// Types into the reply box without sending, so the customer sees the agent typing.
    pub async fn type_reply(&self, text: &str) {
        self.browser.fill("[data-testid=chat]:not([hidden]) [data-testid=chat-input]", text).await;
    }

    /// Sends what is typed in the reply box.
    pub async fn send_reply(&self) {
        self.type_reply("\n").await;
    }

    /// Types a reply into the open chat and sends it.
    pub async fn reply(&self, text: &str) {
        self.type_reply(text).await;
        self.browser.press(Key::Enter).await;
    }

    /// The first message's line in the chat, once there is one.
    pub async fn first_message(&self) -> String {
        self.browser.text("[data-testid=message]").await
    }

    /// The texts of the open chat's messages, in order.
    pub async fn messages(&self) -> Vec<String> {
        // A line is its author in <strong>, then the message (text, or a file's link).
        let script = "return [...document.querySelectorAll('[data-testid=chat]:not([hidden]) [data-testid=message]')] \
                      .map(e => [...e.childNodes].filter(n => n.nodeName !== 'STRONG').map(n => n.textContent).join(''))";
        serde_json::from_value(self.browser.js(script, vec![]).await).unwrap_or_default()
    }

    /// The canned responses listed under the composer (as "/shortcut title"), once there are.
    pub async fn canned_options(&self) -> Vec<String> {
        eventually("canned responses listed", || async {
            let listed = self.browser.texts("[data-testid=canned-option]").await;
            (!listed.is_empty()).then_some(listed)
        })
        .await
    }

    /// A key pressed in the reply box (which has the focus once typed into).
    pub async fn press_in_reply(&self, key: Key) {
        self.browser.press(key).await;
    }

    /// What the reply box holds now.
    pub async fn draft(&self) -> String {
        let value =
            self.browser.js("return document.querySelector('[data-testid=chat]:not([hidden]) [data-testid=chat-input]').value", vec![]).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// The presence switch: whether it is on (taking new customers), and what the line beside
    /// it says.
    pub async fn presence(&self) -> (bool, String) {
        let on = self.browser.js(
            "return document.querySelector('[data-testid=presence]').getAttribute('aria-checked')",
            vec![],
        );
        (on.await == serde_json::json!("true"), self.browser.text("[data-testid=presence-state]").await)
    }

    pub async fn toggle_presence(&self) {
        self.browser.click("[data-testid=presence]").await;
    }

    /// The lines of "My chats", in order: who, language, wait and unread.
    pub async fn chat_items(&self) -> Vec<String> {
        self.browser.texts("[data-testid=chat-item]").await
    }

    /// Which of "My chats" is in the centre (from 0).
    pub async fn selected_chat(&self) -> Option<usize> {
        let script = "return [...document.querySelectorAll('[data-testid=chat-item]')] \
                      .findIndex(e => e.getAttribute('aria-current') === 'true')";
        self.browser.js(script, vec![]).await.as_u64().and_then(|at| usize::try_from(at).ok())
    }

    /// The next chat, with the keyboard (Alt+Shift+N).
    pub async fn next_chat(&self) {
        self.browser.press_alt_shift('N').await;
    }

    /// Back to the desk from the supervisor view (an admin's).
    pub async fn open_desk(&self) {
        self.browser.click("[data-testid=view-desk]").await;
    }

    /// axe-core's WCAG A/AA violations in the whole console, one line each.
    pub async fn axe(&self) -> Vec<String> {
        self.browser.axe("document").await
    }

    /// Adds an internal note to the open chat.
    pub async fn add_note(&self, text: &str) {
        self.browser.fill("[data-testid=note-input]", text).await;
        self.browser.click("[data-testid=note-add]").await;
    }

    /// Waits until the open chat's notes read `wanted` (each as "Author: text").
    pub async fn wait_notes(&self, wanted: &[&str]) {
        eventually_equal("the chat's notes", &wanted, async || {
            self.browser.texts("[data-testid=note]").await
        })
        .await;
    }

    /// The agent picks a file to send in the open chat.
    pub async fn choose_file(&self, name: &str, bytes: &[u8], media_type: &str) {
        let b64 = super::base64(bytes);
        let script = format!(
            "{} const input = document.querySelector('[data-testid=chat]:not([hidden]) [data-testid=agent-file-input]'); \
             if (!input) return false; choose(input, {name:?}, {b64:?}, {media_type:?}); return true;",
            super::CHOOSE_FILE
        );
        assert_eq!(self.browser.js(&script, vec![]).await, serde_json::Value::Bool(true), "a file input");
    }

    /// The files in the open chat, once there are `count`.
    pub async fn wait_files(&self, count: usize) -> Vec<super::ShownFile> {
        eventually("the files in the chat", || async {
            let shown = self.files_now().await;
            (shown.len() == count).then_some(shown)
        })
        .await
    }

    /// The files in the open chat now.
    pub async fn files_now(&self) -> Vec<super::ShownFile> {
        let script = format!(
            "const root = document.querySelector('[data-testid=chat]:not([hidden])'); if (!root) return []; {}",
            super::FILES_SHOWN
        );
        serde_json::from_value(self.browser.js(&script, vec![]).await).unwrap_or_default()
    }

    /// What the desk's notice says, once it says something.
    pub async fn notice(&self) -> String {
        self.browser.text("[data-testid=notice]").await
    }

    /// Whether "Seen" shows under the agent's last message in the open chat.
    pub async fn shows_seen(&self) -> bool {
        self.browser.shows("[data-testid=chat]:not([hidden]) [data-testid=seen]").await
    }

    pub async fn wait_seen(&self) {
        eventually("Seen in the chat", || async { self.shows_seen().await.then_some(()) }).await;
    }

    pub async fn wait_messages(&self, wanted: &[&str]) {
        eventually_equal("the console's messages", &wanted, async || self.messages().await).await;
    }

    pub async fn end_chat(&self) {
        self.browser.click("[data-testid=end]").await;
    }

    /// Presses End if the console is connected and shows it (one try, for a wait to repeat).
    pub async fn end_chat_once_connected(&self) {
        let reconnecting = self.browser.shows("[data-testid=reconnecting]").await;
        if !reconnecting && let Ok(end) = self.browser.find("[data-testid=end]").await {
            let _ = end.click().await;
        }
    }

    /// The ended chat's note (and the customer's rating, once given).
    pub async fn chat_ended(&self) -> String {
        self.browser.text("[data-testid=chat-ended]").await
    }

    /// Closes the ended chat; returns once it has left the desk.
    pub async fn close_chat(&self) {
        self.browser.click("[data-testid=close-chat]").await;
        eventually("the chat to leave the desk", || async {
            (!self.browser.shows("[data-testid=chat]").await).then_some(())
        })
        .await;
    }

    /// Hands the customer back to the bot.
    pub async fn hand_back_to_bot(&self) {
        self.browser.click("[data-testid=to-bot]").await;
    }

    /// The first message a customer left while nobody was online, once listed.
    pub async fn left_message(&self) -> String {
        self.browser.text("[data-testid=left-message]").await
    }

    /// The supervisor view, the other of an admin's two views.
    pub fn supervisor(&self) -> Supervisor<'a> {
        Supervisor { browser: self.browser }
    }
}

/// The supervisor view: the live team and today's figures, and invitations.
pub struct Supervisor<'a> {
    browser: &'a Browser,
}

impl Supervisor<'_> {
    /// Whether the console offers the view at all (an admin's only).
    pub async fn is_shown(&self) -> bool {
        self.browser.shows("[data-testid=view-supervisor]").await
    }

    /// Switches the console to this view (the desk stays connected, hidden).
    pub async fn open(&self) {
        self.browser.click("[data-testid=view-supervisor]").await;
    }

    /// The `n`th member's line in the team list (from 1).
    pub async fn team_member(&self, n: usize) -> String {
        self.open().await;
        self.browser.text(&format!("[data-testid=team-member]:nth-child({n})")).await
    }

    /// The whole team list.
    pub async fn team(&self) -> String {
        self.open().await;
        self.browser.text("[data-testid=team]").await
    }

    /// Today's number of conversations.
    pub async fn conversations(&self) -> String {
        self.open().await;
        self.browser.text("[data-testid=conversations]").await
    }

    /// Today's median time to a person.
    pub async fn median_time_to_a_person(&self) -> String {
        self.open().await;
        self.browser.text("[data-testid=p50]").await
    }

    /// Creates an invitation and returns its link, once shown.
    pub async fn invite(&self) -> String {
        self.open().await;
        self.browser.click("[data-testid=create-invite]").await;
        eventually("the invite link", || async {
            let script = "const e = document.querySelector('[data-testid=invite-link]'); return e && e.value";
            let value = self.browser.js(script, vec![]).await;
            value.as_str().filter(|v| !v.is_empty()).map(str::to_owned)
        })
        .await
    }
}

/// The page an invitation link opens, where the invited agent creates their account.
pub struct Invitation<'a> {
    browser: &'a Browser,
}

impl<'a> Invitation<'a> {
    pub async fn open(browser: &'a Browser, link: &str) -> Self {
        browser.client.goto(link).await.expect("open invite");
        Self { browser }
    }

    pub async fn heading(&self) -> String {
        self.browser.text("[data-testid=join] h2").await
    }

    /// Joins with a name, email, one more language (`sv`, …) and password; returns the
    /// console once the new agent's desk is connected.
    pub async fn join(&self, name: &str, email: &str, language: &str, password: &str) -> Console<'a> {
        self.browser.fill("[data-testid=join-name]", name).await;
        self.browser.fill("[data-testid=join-email]", email).await;
        self.browser.click(&format!("[data-testid=join-language-{language}]")).await;
        self.browser.fill("[data-testid=join-password]", password).await;
        self.browser.click("[data-testid=join-submit]").await;
        Console::at_the_desk(self.browser).await
    }
}
