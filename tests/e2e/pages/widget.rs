//! The customer's widget on the merchant's page, inline or in frame mode: what a customer sees
//! and does in it. Its selectors are known here only.

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::support::{Browser, eventually, eventually_equal};

/// How the widget runs on the page: in the loader's shadow root, or in frame mode's iframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Inline,
    Frame,
}

/// A part of the widget that a customer sees or uses, named as the customer would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    // The loader's, on the merchant's page even in frame mode.
    Launcher,
    LauncherIcon,
    LauncherFallback,
    /// The panel the loader draws on a click before the app has arrived, and its parts.
    Shell,
    ShellHumanButton,
    ShellInput,
    // The app's.
    App,
    Panel,
    Header,
    MerchantName,
    HumanButton,
    Messages,
    Message,
    ComposerInput,
    /// A message the customer sent that is not acknowledged yet.
    PendingMessage,
    BotAnswer,
    QuickReply,
    StarterTopic,
    BotOffer,
    QueueStatus,
    HumanStatus,
    AgentInitials,
    AgentTyping,
    Seen,
    Notice,
    Reconnecting,
    ChatEnded,
    HumanContact,
    DetailsForm,
    DetailsProblem,
    DetailsEmail,
    DetailsContinue,
    DetailsSkip,
    LeaveMessageInstead,
    LeaveMessageForm,
    LeaveMessageProblem,
    LeaveMessageEmail,
    LeaveMessageText,
    LeaveMessageSend,
    MessageLeft,
    RatingForm,
    RatingProblem,
    RatingChoice,
    RatingComment,
    RatingSend,
    RatingThanks,
    TranscriptWanted,
    TranscriptEmail,
    TranscriptProblem,
    TranscriptSend,
    TranscriptSent,
}

impl Part {
    fn selector(self) -> &'static str {
        match self {
            Self::Launcher => "[data-testid=launcher]",
            Self::LauncherIcon => "[data-testid=launcher] svg",
            // The loader's own elements carry no test ids (every page downloads the loader).
            Self::LauncherFallback => "a.launcher",
            Self::Shell => "[aria-labelledby=tandem-shell-title]",
            Self::ShellHumanButton => "[aria-labelledby=tandem-shell-title] .human-button",
            Self::ShellInput => "[aria-labelledby=tandem-shell-title] textarea",
            Self::App => ".tandem",
            Self::Panel => "[data-testid=panel]",
            Self::Header => "[data-testid=panel] .header",
            Self::MerchantName => "[data-testid=merchant-name]",
            Self::HumanButton => "[data-testid=human-button]",
            Self::Messages => "[data-testid=messages]",
            Self::Message => "[data-testid=message]",
            Self::ComposerInput => "[data-testid=composer-input]",
            Self::PendingMessage => "[data-testid=pending-message]",
            Self::BotAnswer => "[data-testid=bot-line][data-from=Bot] .text",
            Self::QuickReply => "[data-testid=bot-line] [data-testid=quick-reply]",
            Self::StarterTopic => "[data-testid=starters] [data-testid=quick-reply]",
            Self::BotOffer => "[data-testid=bot-offer] button",
            Self::QueueStatus => "[data-testid=queue-status]",
            Self::HumanStatus => "[data-testid=human-status]",
            Self::AgentInitials => "[data-testid=agent-initials]",
            Self::AgentTyping => "[data-testid=agent-typing]",
            Self::Seen => "[data-testid=seen]",
            Self::Notice => "[data-testid=notice]",
            Self::Reconnecting => "[data-testid=reconnecting]",
            Self::ChatEnded => "[data-testid=chat-ended]",
            Self::HumanContact => "[data-testid=human-contact]",
            Self::DetailsForm => "[data-testid=details-form]",
            Self::DetailsProblem => "[data-testid=details-form] [role=alert]",
            Self::DetailsEmail => "[data-testid=details-email]",
            Self::DetailsContinue => "[data-testid=details-continue]",
            Self::DetailsSkip => "[data-testid=details-skip]",
            Self::LeaveMessageInstead => "[data-testid=leave-message-instead]",
            Self::LeaveMessageForm => "[data-testid=leave-message-form]",
            Self::LeaveMessageProblem => "[data-testid=leave-message-form] [role=alert]",
            Self::LeaveMessageEmail => "[data-testid=leave-message-email]",
            Self::LeaveMessageText => "[data-testid=leave-message-text]",
            Self::LeaveMessageSend => "[data-testid=leave-message-send]",
            Self::MessageLeft => "[data-testid=message-left]",
            Self::RatingForm => "[data-testid=rating-form]",
            Self::RatingProblem => "[data-testid=rating-form] [role=alert]",
            Self::RatingChoice => "[data-testid=rating-choice]",
            Self::RatingComment => "[data-testid=rating-comment]",
            Self::RatingSend => "[data-testid=rating-send]",
            Self::RatingThanks => "[data-testid=rating-thanks]",
            Self::TranscriptWanted => "[data-testid=transcript-wanted]",
            Self::TranscriptEmail => "[data-testid=transcript-email]",
            Self::TranscriptProblem => "[data-testid=transcript-form] [role=alert]",
            Self::TranscriptSend => "[data-testid=transcript-send]",
            Self::TranscriptSent => "[data-testid=transcript-sent]",
        }
    }

    /// The loader draws these in its shadow root on the page; the app's parts are in the
    /// frame in frame mode.
    fn on_the_page(self) -> bool {
        matches!(
            self,
            Self::Launcher
                | Self::LauncherIcon
                | Self::LauncherFallback
                | Self::Shell
                | Self::ShellHumanButton
                | Self::ShellInput
        )
    }
}

/// Each visible control of the widget whose centre is not itself (or inside it) when
/// scrolled into view: covered by something else.
const COVERED: &str = "
    const problems = [];
    const name = e => e ? (e.dataset && e.dataset.testid) || e.className || e.tagName : 'nothing';
    for (const e of root.querySelectorAll('button, textarea, input, select, a[href]')) {
        if (e.getClientRects().length === 0 || e.offsetWidth < 2) continue;
        e.scrollIntoView({ block: 'center', inline: 'center' });
        const r = e.getBoundingClientRect();
        const hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (hit !== e && !e.contains(hit)) problems.push(name(e) + ' is under ' + name(hit));
    }
    return problems;";

/// Each word of the panel's header that is split over lines.
const BROKEN_WORDS: &str = "
    const header = root.querySelector('[data-testid=panel] .header');
    const walker = document.createTreeWalker(header, NodeFilter.SHOW_TEXT);
    const broken = [];
    for (let node; (node = walker.nextNode());) {
        for (const word of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            if ([...range.getClientRects()].filter(r => r.width > 0).length !== 1) broken.push(word[0]);
        }
    }
    return broken;";

/// The customer's widget on the current page, whichever way it runs: a browser test reads as
/// what a customer does (`open`, `ask_for_person`, `send`, `messages`).
pub struct Widget<'a> {
    browser: &'a Browser,
    mode: Mode,
}

/// The script behind [`Widget::layout`], with `root` the shadow root.
const LAYOUT: &str = "const panel = root.querySelector('.panel'); if (!panel) return null; \
    const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].map(Math.round); }; \
    const human = panel.querySelector('.human-button'); \
    return { panel: box(panel), human: human && box(human), position: getComputedStyle(panel).position, \
      surface: getComputedStyle(panel).backgroundColor, \
      header: getComputedStyle(panel.querySelector('.header')).backgroundColor, \
      focused: root.activeElement && root.activeElement.className };";

impl<'a> Widget<'a> {
    pub fn new(browser: &'a Browser, mode: Mode) -> Self {
        Self { browser, mode }
    }

    /// The widget as the loader runs it on an ordinary page, in its shadow root.
    pub fn inline(browser: &'a Browser) -> Self {
        Self::new(browser, Mode::Inline)
    }

    /// Opens `url`, an ordinary merchant's page, and the widget's panel on it, as a customer
    /// who comes to the checkout with a question.
    pub async fn open_on(browser: &'a Browser, url: &str) -> Self {
        browser.client.goto(url).await.expect("open the page");
        let widget = Self::inline(browser);
        widget.open().await;
        widget
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    // The plumbing: scripts run where the widget's elements are.

    /// Runs `script` with `root` bound to the loader's shadow root (and `host` to its element);
    /// null while there is none.
    async fn on_page(&self, script: &str) -> Value {
        let body = format!(
            "const host = document.querySelector('tandem-chat'); \
             const root = host && host.shadowRoot; if (!root) return null; {script}"
        );
        self.browser.js(&body, vec![]).await
    }

    /// Runs `script` with `root` bound to the app's root: the shadow root, or the frame's
    /// document.
    async fn in_app(&self, script: &str) -> Value {
        match self.mode {
            Mode::Inline => self.on_page(script).await,
            Mode::Frame => {
                self.inside(async || {
                    self.browser.js(&format!("const root = document; {script}"), vec![]).await
                })
                .await
            }
        }
    }

    /// Runs `script` where `part` is drawn.
    async fn at(&self, part: Part, script: &str) -> Value {
        if part.on_the_page() { self.on_page(script).await } else { self.in_app(script).await }
    }

    /// `expression` of the element `e` that shows `part`; null when there is none.
    async fn query(&self, part: Part, expression: &str) -> Value {
        self.query_matching(part, part.selector(), expression).await
    }

    /// `expression` of the first element `e` matching `selector`, found where `part` is drawn.
    async fn query_matching(&self, part: Part, selector: &str, expression: &str) -> Value {
        let script = format!("const e = root.querySelector({selector:?}); return e && ({expression});");
        self.at(part, &script).await
    }

    /// Runs `action` with the browser switched into frame mode's iframe.
    async fn inside<T>(&self, action: impl AsyncFnOnce() -> T) -> T {
        self.enter().await;
        let value = action().await;
        self.browser.client.enter_parent_frame().await.expect("back to the page");
        value
    }

    /// Switches the browser into frame mode's iframe (found in the loader's shadow root).
    async fn enter(&self) {
        let client = &self.browser.client;
        let frame = eventually("the chat frame", || async {
            let host = client.find(Locator::Css("tandem-chat")).await.ok()?;
            let shadow = host.shadow_root().await.ok()?;
            shadow.find(Locator::Css("iframe.frame")).await.ok()
        })
        .await;
        frame.enter_frame().await.expect("enter the chat frame");
    }

    // What the customer sees.

    /// Whether the widget shows `part` now.
    pub async fn shows(&self, part: Part) -> bool {
        self.query(part, "true").await == Value::Bool(true)
    }

    /// Waits until `part` is drawn on screen (not only in the page: a hidden one has no boxes).
    pub async fn wait_visible(&self, part: Part) {
        eventually(&format!("{part:?} on screen"), || async {
            (self.query(part, "e.getClientRects().length > 0").await == Value::Bool(true)).then_some(())
        })
        .await;
    }

    pub async fn wait_for(&self, part: Part) {
        eventually(&format!("{part:?}"), || async { self.shows(part).await.then_some(()) }).await;
    }

    pub async fn wait_gone(&self, part: Part) {
        eventually(&format!("{part:?} to go"), || async { (!self.shows(part).await).then_some(()) }).await;
    }

    /// Waits for `part` and returns its text.
    pub async fn text(&self, part: Part) -> String {
        eventually(&format!("{part:?}"), || async {
            self.query(part, "e.textContent").await.as_str().map(str::to_owned)
        })
        .await
    }

    /// Waits until the text of `part` contains `wanted`.
    pub async fn wait_text(&self, part: Part, wanted: &str) {
        eventually(&format!("{part:?} to read {wanted:?}"), || async {
            self.query(part, "e.textContent").await.as_str().filter(|text| text.contains(wanted)).map(|_| ())
        })
        .await;
    }

    /// `getComputedStyle` of `part` for `property` (empty when it is not shown).
    pub async fn style(&self, part: Part, property: &str) -> String {
        let value = self.query(part, &format!("getComputedStyle(e)[{property:?}]")).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// The left edge of `part` on the screen.
    pub async fn left_edge(&self, part: Part) -> Value {
        self.query(part, "e.getBoundingClientRect().left").await
    }

    /// Whether `part` has the keyboard focus.
    pub async fn has_focus(&self, part: Part) -> bool {
        let script =
            format!("return !!root.activeElement && root.activeElement.matches({:?})", part.selector());
        self.at(part, &script).await == Value::Bool(true)
    }

    pub async fn wait_focus(&self, part: Part) {
        eventually(&format!("focus on {part:?}"), || async { self.has_focus(part).await.then_some(()) })
            .await;
    }

    /// The texts of the conversation's stored messages, in order.
    pub async fn messages(&self) -> Vec<String> {
        let value = self
            .in_app(
                "return [...root.querySelectorAll('[data-testid=message] .text')].map(e => e.textContent)",
            )
            .await;
        serde_json::from_value(value).unwrap_or_default()
    }

    pub async fn wait_messages(&self, wanted: &[&str]) {
        eventually_equal("the messages", &wanted, async || self.messages().await).await;
    }

    /// The stored messages' sequence numbers, in the order shown.
    pub async fn message_sequences(&self) -> Value {
        self.in_app(
            "return [...root.querySelectorAll('[data-testid=message]')].map(e => Number(e.dataset.seq))",
        )
        .await
    }

    /// The bot conversation's lines, each as "Bot: …" or "You: …".
    pub async fn bot_lines(&self) -> Vec<String> {
        let script = "return [...root.querySelectorAll('[data-testid=bot-line]')] \
                      .map(e => e.dataset.from + ': ' + e.querySelector('.text').textContent)";
        serde_json::from_value(self.in_app(script).await).unwrap_or_default()
    }

    /// The first two bot lines as `[from, left edge]`, once there are two.
    pub async fn first_two_lines_sides(&self) -> Value {
        let script = "const lines = [...root.querySelectorAll('[data-testid=bot-line]')]; \
                      if (lines.length < 2) return null; \
                      return lines.slice(0, 2).map(e => [e.dataset.from, e.getBoundingClientRect().left])";
        eventually("a customer line and a bot line", || async {
            Some(self.in_app(script).await).filter(|sides| !sides.is_null())
        })
        .await
    }

    /// The human button as the customer meets it: `{ text, focused, visible }`.
    pub async fn human_button(&self) -> Value {
        self.query(
            Part::HumanButton,
            "{ text: e.textContent, focused: root.activeElement === e, \
               visible: (r => r.width > 0 && r.height > 0 && r.bottom <= innerHeight && r.right <= innerWidth)\
                        (e.getBoundingClientRect()) && getComputedStyle(e).visibility === 'visible' }",
        )
        .await
    }

    /// The link offered when the app cannot load: `{ href, text }`.
    pub async fn fallback_link(&self) -> Value {
        eventually("the fallback link", || async {
            Some(self.query(Part::LauncherFallback, "{ href: e.href, text: e.textContent }").await)
                .filter(|link| !link.is_null())
        })
        .await
    }

    /// The rating the customer has chosen, 1 to 5.
    pub async fn chosen_rating(&self) -> Value {
        self.in_app("return root.querySelector('[data-testid=rating-choice]:checked').value").await
    }

    /// The writing direction the app lays its text out in.
    pub async fn direction(&self) -> Value {
        self.query(Part::App, "e.getAttribute('dir')").await
    }

    /// Whether the panel covers the whole screen (within a pixel).
    pub async fn fills_the_screen(&self) -> bool {
        let filled = self.query(
            Part::Panel,
            "(p => Math.abs(p.left) < 1 && Math.abs(p.top) < 1 && Math.abs(p.width - innerWidth) < 1)\
             (e.getBoundingClientRect())",
        );
        filled.await == Value::Bool(true)
    }

    /// Whether `part` fits its width, without horizontal scrolling.
    pub async fn fits_its_width(&self, part: Part) -> Value {
        self.query(part, "e.scrollWidth <= e.clientWidth").await
    }

    /// The viewport height the loader gives the app, following `visualViewport`.
    pub async fn viewport_height(&self) -> Value {
        self.on_page("return host.style.getPropertyValue('--tandem-viewport-height')").await
    }

    /// Every visible control that something covers (as "… is under …").
    pub async fn covered_controls(&self) -> Value {
        self.in_app(COVERED).await
    }

    /// Every word of the panel's header that breaks over lines.
    pub async fn broken_header_words(&self) -> Value {
        self.in_app(BROKEN_WORDS).await
    }

    /// The WCAG 2.x A and AA violations axe-core finds in the widget, one line each.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        match self.mode {
            Mode::Inline => self.browser.axe("document.querySelector('tandem-chat')").await,
            Mode::Frame => self.inside(async || self.browser.axe("document").await).await,
        }
    }

    // What the customer does.

    /// Presses the launcher on the merchant's page.
    pub async fn open(&self) {
        self.click(Part::Launcher).await;
    }

    /// Presses the launcher and reads, in the same task (before any answer from the network
    /// could come in, before the browser draws), how the panel is laid out: what the customer
    /// sees first. See [`Self::layout`].
    pub async fn open_and_measure(&self) -> Value {
        self.on_page(&format!("root.querySelector('[data-testid=launcher]').click(); {LAYOUT}")).await
    }

    /// How the panel is laid out now: the boxes (left, top, width, height) of the panel and
    /// its human button, the panel's position and colours, and the focused element's class.
    pub async fn layout(&self) -> Value {
        self.on_page(LAYOUT).await
    }

    /// Clicks the launcher with the mouse pointer, as the browser's input does.
    pub async fn click_launcher_with_the_pointer(&self) {
        let shadow = self.shadow_root().await;
        let launcher = shadow.find(Locator::Css(Part::Launcher.selector())).await.expect("launcher");
        launcher.click().await.expect("click launcher");
    }

    /// Moves the mouse pointer onto the human button, without pressing it.
    pub async fn point_at_the_human_button(&self) {
        use fantoccini::actions::InputSource;
        let shadow = self.shadow_root().await;
        let human = shadow.find(Locator::Css(Part::HumanButton.selector())).await.expect("human button");
        let to_it = fantoccini::actions::PointerAction::MoveToElement {
            element: human,
            duration: None,
            x: 0.0,
            y: 0.0,
        };
        let mouse = fantoccini::actions::MouseActions::new("mouse".into()).then(to_it);
        self.browser.client.perform_actions(mouse).await.expect("move the pointer");
    }

    /// The human button as webdriver sees it: (displayed, text).
    pub async fn human_button_as_displayed(&self) -> (bool, String) {
        let shadow = self.shadow_root().await;
        let human = eventually("the human button", || {
            let shadow = shadow.clone();
            async move { shadow.find(Locator::Css(Part::HumanButton.selector())).await.ok() }
        })
        .await;
        (human.is_displayed().await.expect("displayed"), human.text().await.expect("text"))
    }

    async fn shadow_root(&self) -> fantoccini::elements::ShadowRoot {
        let host = self.browser.client.find(Locator::Css("tandem-chat")).await.expect("host element");
        host.shadow_root().await.expect("shadow root")
    }

    /// Waits for `part` and clicks it.
    pub async fn click(&self, part: Part) {
        eventually(&format!("{part:?} to click"), || async {
            self.query(part, "(e.click(), true)").await.as_bool()
        })
        .await;
    }

    /// Gives `part` the keyboard focus.
    pub async fn focus(&self, part: Part) {
        self.query(part, "(e.focus(), true)").await;
    }

    /// Presses `key` with the focus inside the widget (in frame mode, inside the frame).
    pub async fn press(&self, key: Key) {
        match self.mode {
            Mode::Inline => self.browser.press(key).await,
            Mode::Frame => self.inside(async || self.browser.press(key).await).await,
        }
    }

    pub async fn ask_for_person(&self) {
        self.click(Part::HumanButton).await;
    }

    /// Types into the composer through the keyboard, like a customer, and presses Enter.
    pub async fn send(&self, text: &str) {
        self.fill(Part::ComposerInput, text).await;
        self.press(Key::Enter).await;
    }

    /// Sends `text` as a page script (or paste) could put it in the composer, past what the
    /// keyboard can type (a U+0000, say): set as the box's value, then Enter.
    pub async fn send_set_by_script(&self, text: &str) {
        let literal = serde_json::to_string(text).expect("a JS string");
        let set =
            format!("(e.value = {literal}, e.dispatchEvent(new Event('input', {{ bubbles: true }})), true)");
        assert_eq!(self.query(Part::ComposerInput, &set).await, Value::Bool(true), "the composer is there");
        self.focus(Part::ComposerInput).await;
        self.press(Key::Enter).await;
    }

    /// The customer picks a file to send, as the file picker behind the attach button hands
    /// it over.
    pub async fn choose_file(&self, name: &str, bytes: &[u8], media_type: &str) {
        let b64 = super::base64(bytes);
        let script = format!(
            "{} const input = root.querySelector('[data-testid=file-input]'); if (!input) return false; \
             choose(input, {name:?}, {b64:?}, {media_type:?}); return true;",
            super::CHOOSE_FILE
        );
        assert_eq!(self.in_app(&script).await, Value::Bool(true), "the composer has a file input");
    }

    /// What the attach button is called, for a screen reader (its file input's label); it is
    /// reached with Tab like any control.
    pub async fn attach_button_label(&self) -> String {
        let label = self.in_app("const e = root.querySelector('[data-testid=file-input]'); return e && e.tabIndex >= 0 && e.getAttribute('aria-label');").await;
        label.as_str().unwrap_or_default().to_owned()
    }

    /// From now on, remembers each upload progress the panel shows (it may be gone by the time
    /// a test looks): read with [`Self::uploads_shown`].
    pub async fn record_uploads(&self) {
        let script = "window.tandemUploads = []; new MutationObserver(() => { \
            const shown = root.querySelector('[data-testid=upload]'); \
            if (shown && shown.querySelector('progress')) window.tandemUploads.push(shown.textContent.trim()); \
            }).observe(root, { childList: true, subtree: true }); return true;";
        self.in_app(script).await;
    }

    pub async fn uploads_shown(&self) -> Vec<String> {
        serde_json::from_value(self.in_app("return window.tandemUploads;").await).unwrap_or_default()
    }

    /// The files in the conversation, once there are `count`: each one's text, whether its
    /// picture is drawn, and its link.
    pub async fn wait_files(&self, count: usize) -> Vec<super::ShownFile> {
        eventually("the files in the widget", || async {
            let shown: Vec<super::ShownFile> =
                serde_json::from_value(self.in_app(super::FILES_SHOWN).await).unwrap_or_default();
            (shown.len() == count && shown.iter().all(|(_, _, link)| !link.is_empty())).then_some(shown)
        })
        .await
    }

    /// What stands in the composer, not sent yet.
    pub async fn draft(&self) -> String {
        self.query(Part::ComposerInput, "e.value").await.as_str().unwrap_or_default().to_owned()
    }

    /// Types into a field of the widget through the keyboard, like a customer.
    pub async fn fill(&self, part: Part, text: &str) {
        match self.mode {
            Mode::Inline => {
                self.text(part).await;
                self.focus(part).await;
                self.browser.type_keys(text).await;
            }
            Mode::Frame => self.inside(async || self.browser.fill(part.selector(), text).await).await,
        }
    }

    /// The topics the greeting offers, once the flow has arrived.
    pub async fn starter_topics(&self) -> Vec<String> {
        let script = format!(
            "return [...root.querySelectorAll({:?})].map(e => e.textContent)",
            Part::StarterTopic.selector()
        );
        eventually("the greeting's starter topics", || async {
            let topics: Vec<String> = serde_json::from_value(self.in_app(&script).await).unwrap_or_default();
            (!topics.is_empty()).then_some(topics)
        })
        .await
    }

    /// Takes the greeting's starter topic `label`, by keyboard (focus, then Enter).
    pub async fn take_starter_topic(&self, label: &str) {
        let script = format!(
            "const e = [...root.querySelectorAll({:?})].find(e => e.textContent === {label:?}); \
             if (!e) return false; e.focus(); return root.activeElement === e;",
            Part::StarterTopic.selector()
        );
        assert_eq!(self.in_app(&script).await, serde_json::json!(true), "the topic {label:?} takes focus");
        self.browser.press(fantoccini::key::Key::Enter).await;
    }

    /// Takes the bot's first quick reply; returns its label (null when none was offered).
    pub async fn take_quick_reply(&self) -> Value {
        self.query(Part::QuickReply, "(e.click(), e.textContent)").await
    }

    /// Chooses `stars` of five in the rating form.
    pub async fn choose_rating(&self, stars: u8) {
        let choice = format!("{}[value='{stars}']", Part::RatingChoice.selector());
        eventually(&format!("the rating choice {stars}"), || async {
            self.query_matching(Part::RatingChoice, &choice, "(e.click(), true)").await.as_bool()
        })
        .await;
    }

    // Checks planted for the tests themselves.

    /// Adds a button without a name to the panel, for axe-core to find.
    pub async fn plant_an_unlabelled_button(&self) {
        self.query(
            Part::Panel,
            "(b => (b.id = 'unlabelled', e.append(b), true))(document.createElement('button'))",
        )
        .await;
    }

    pub async fn remove_the_unlabelled_button(&self) {
        self.in_app("root.getElementById('unlabelled').remove(); return true").await;
    }

    // Frame mode's iframe, on the page.

    /// Whether frame mode's iframe is shown on the page (None while there is none).
    pub async fn frame_shown(&self) -> Option<bool> {
        self.on_page("const f = root.querySelector('iframe.frame'); return f && !f.hidden").await.as_bool()
    }

    pub async fn wait_frame_shown(&self, shown: bool) {
        eventually(&format!("the chat frame shown: {shown}"), || async {
            (self.frame_shown().await == Some(shown)).then_some(())
        })
        .await;
    }

    /// Whether the page's focus is on the chat frame.
    pub async fn frame_has_focus(&self) -> bool {
        self.on_page("return root.activeElement.className").await == json!("frame")
    }

    /// Whether the frame is on top of everything in the bottom corner, the launcher too.
    pub async fn frame_on_top(&self) -> bool {
        let script = "const f = root.querySelector('iframe.frame'); \
                      return root.elementFromPoint(innerWidth - 30, innerHeight - 30) === f";
        self.on_page(script).await == Value::Bool(true)
    }

    /// From now on the frame records the origin of every message it receives, after the app's
    /// own listener.
    pub async fn record_messages_received(&self) {
        self.in_app("window.seen = []; addEventListener('message', e => seen.push(e.origin)); return true")
            .await;
    }

    /// The origins of the messages the frame received since [`Self::record_messages_received`].
    pub async fn origins_received(&self) -> Value {
        self.in_app("return window.seen").await
    }

    /// A window the frame opens at `url` posts the frame, as its `opener`, two forged requests to
    /// open (one as the loader's state, one as an API call); returns that window's origin.
    pub async fn forge_open_from_a_window_at(&self, url: &str) -> Value {
        let client = &self.browser.client;
        let page = client.window().await.expect("window");
        self.in_app(&format!("window.open({url:?}, 'forger'); return true")).await;
        let popup = eventually("the forger's window", || async {
            client.windows().await.ok()?.into_iter().find(|w| *w != page)
        })
        .await;
        client.switch_to_window(popup).await.expect("to the forger");
        eventually("the forger's page", || async {
            let href = self.browser.js("return location.href", vec![]).await;
            href.as_str().filter(|h| h.starts_with(url)).map(|_| ())
        })
        .await;
        let origin = self
            .browser
            .js(
                "opener.postMessage({ tandem: 1, type: 'open', open: true }, '*');
                 opener.postMessage({ tandem: 1, type: 'call', method: 'open' }, '*');
                 return location.origin",
                vec![],
            )
            .await;
        client.close_window().await.expect("close the forger");
        client.switch_to_window(page).await.expect("back to the page");
        origin
    }
}
