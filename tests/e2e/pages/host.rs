//! The page the customer is on, outside the widget: the merchant's checkout with its loader tag,
//! the `tandem-chat` element the merchant configures, the `Tandem` JavaScript API, what the
//! page hears, fetches and stores, and the policy violations the strict checkout counts.

use serde_json::{Value, json};

use super::widget::{Mode, Widget};
use crate::support::{Browser, eventually};

/// The page in the customer's browser, as its merchant's code sees it.
pub struct HostPage<'a> {
    browser: &'a Browser,
}

impl<'a> HostPage<'a> {
    /// Opens `url`; returns once the page has loaded.
    pub async fn open(browser: &'a Browser, url: &str) -> Self {
        browser.client.goto(url).await.expect("open the page");
        Self { browser }
    }

    /// The widget on this page, running as `mode`.
    pub fn widget(&self, mode: Mode) -> Widget<'a> {
        Widget::new(self.browser, mode)
    }

    // What the merchant's page sets.

    /// Sets an attribute of the `tandem-chat` element (`theme`, `position`, `skill`, …), once
    /// the loader has placed it.
    pub async fn set_widget_attribute(&self, name: &str, value: &str) {
        let script = "const e = document.querySelector('tandem-chat'); \
                      if (e) e.setAttribute(arguments[0], arguments[1]); return !!e || null";
        eventually("the widget's element", || async {
            self.browser.js(script, vec![json!(name), json!(value)]).await.as_bool()
        })
        .await;
    }

    pub async fn remove_widget_attribute(&self, name: &str) {
        self.browser
            .js("document.querySelector('tandem-chat').removeAttribute(arguments[0])", vec![json!(name)])
            .await;
    }

    /// Sets a custom property (`--tandem-accent`, …) in the `tandem-chat` element's own style.
    pub async fn set_widget_property(&self, name: &str, value: &str) {
        let script = "document.querySelector('tandem-chat').style.setProperty(arguments[0], arguments[1])";
        self.browser.js(script, vec![json!(name), json!(value)]).await;
    }

    /// Adds the merchant's own stylesheet to the page.
    pub async fn add_stylesheet(&self, css: &str) {
        let script = "const style = document.createElement('style'); style.textContent = arguments[0]; \
                      document.head.append(style);";
        self.browser.js(script, vec![json!(css)]).await;
    }

    /// Sets `<html lang>`, as a Swedish or German shop would.
    pub async fn set_language(&self, lang: &str) {
        self.browser.js("document.documentElement.lang = arguments[0]", vec![json!(lang)]).await;
    }

    /// Adds the loader's script tag, with `data-*` attributes, to the page and returns
    /// `{ warnings, element }`: the console warnings it logged and whether it placed
    /// `tandem-chat`.
    pub async fn add_loader(&self, src: &str, data: Value) -> Value {
        self.browser
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; const warnings = [];
                 console.warn = (...args) => warnings.push(args.join(' '));
                 const script = document.createElement('script');
                 script.src = arguments[0];
                 Object.assign(script.dataset, arguments[1]);
                 script.onload = () => done({ warnings, element: !!document.querySelector('tandem-chat') });
                 script.onerror = () => done('load error');
                 document.body.append(script);",
                vec![json!(src), data],
            )
            .await
            .expect("script runs")
    }

    // The `Tandem` API.

    /// Waits for the loader's `window.Tandem`.
    pub async fn wait_for_api(&self) {
        eventually("window.Tandem", || async {
            self.browser.js("return window.Tandem && true", vec![]).await.as_bool()
        })
        .await;
    }

    /// Whether the app has booted (the loader hands it over in `window.__tandem_boot`).
    pub async fn app_booted(&self) -> bool {
        self.browser.js("return window.__tandem_boot !== undefined", vec![]).await == Value::Bool(true)
    }

    /// Calls `Tandem.<method>(...args)`.
    pub async fn call(&self, method: &str, args: Vec<Value>) {
        let script = "Tandem[arguments[0]](...arguments[1])";
        self.browser.js(script, vec![json!(method), Value::Array(args)]).await;
    }

    /// Calls `Tandem.setContext(<expression>)`, for what JSON cannot say (a `BigInt`).
    pub async fn set_context_to(&self, expression: &str) {
        self.browser.js(&format!("Tandem.setContext({expression})"), vec![]).await;
    }

    /// From now on the page records what it hears of the conversation: each `Tandem.on`
    /// callback as `["on", name, detail]` and each `tandem:*` DOM event as `["dom", name, detail]`.
    pub async fn listen_to_events(&self) {
        let record = "window.heard = [];
            ['handoff', 'agent-joined', 'message', 'closed'].forEach(function (name) {
                Tandem.on(name, function (detail) { heard.push(['on', name, detail]); });
                document.addEventListener('tandem:' + name, function (e) { heard.push(['dom', name, e.detail]); });
            });";
        self.browser.js(record, vec![]).await;
    }

    /// Waits until the page has heard `name` at least `times` times, either way; returns the
    /// entries.
    pub async fn heard(&self, name: &str, times: usize) -> Vec<Value> {
        self.heard_matching(name, times, |_| true).await
    }

    /// Waits until a `Tandem.on` callback for `name` has run; returns the details it was given.
    pub async fn heard_through_on(&self, name: &str) -> Vec<Value> {
        let entries = self.heard_matching(name, 1, |source| source == "on").await;
        entries.into_iter().map(|entry| entry[2].clone()).collect()
    }

    async fn heard_matching(&self, name: &str, times: usize, source: impl Fn(&Value) -> bool) -> Vec<Value> {
        eventually(&format!("the page to hear {name}"), || async {
            let all: Vec<Value> =
                serde_json::from_value(self.browser.js("return window.heard", vec![]).await).ok()?;
            let matching: Vec<Value> =
                all.into_iter().filter(|e| e[1] == json!(name) && source(&e[0])).collect();
            (matching.len() >= times).then_some(matching)
        })
        .await
    }

    /// From now on the page records its console warnings (and still logs them).
    pub async fn watch_warnings(&self) {
        let script = "window.warnings = []; const warn = console.warn;
             console.warn = function (...args) { warnings.push(args.join(' ')); warn.apply(console, args); };";
        self.browser.js(script, vec![]).await;
    }

    /// The warnings logged since [`Self::watch_warnings`].
    pub async fn warnings(&self) -> Vec<String> {
        serde_json::from_value(self.browser.js("return window.warnings", vec![]).await).unwrap_or_default()
    }

    // What the page shows, fetched and stored.

    /// Names of every resource the page fetched so far.
    pub async fn fetched(&self) -> Vec<String> {
        let names =
            self.browser.js("return performance.getEntriesByType('resource').map(e => e.name)", vec![]).await;
        serde_json::from_value(names).expect("resource names")
    }

    /// How many items and cookie bytes the page's origin has stored.
    pub async fn stored(&self) -> Value {
        self.browser
            .js("return localStorage.length + sessionStorage.length + document.cookie.length", vec![])
            .await
    }

    /// The conversation with a person this page's widget keeps (id and customer token).
    pub async fn conversation(&self) -> (String, String) {
        let saved = self
            .browser
            .js("return JSON.parse(localStorage.getItem('tandem.conversation.demo'))", vec![])
            .await;
        let field = |name: &str| saved[name].as_str().expect("a conversation is kept").to_owned();
        (field("conversation_id"), field("token"))
    }

    /// Before the page opens: every text frame the page's WebSockets receive is kept, for
    /// [`Self::socket_frames`] and [`Self::refused_sends`]. A CDP script runs in each new document
    /// before the page's own, so the widget's socket is one of these.
    pub async fn record_socket_frames(browser: &Browser) {
        let source = "window.__frames = []; const Native = window.WebSocket; \
            window.WebSocket = class extends Native { constructor(...args) { super(...args); \
              this.addEventListener('message', (e) => { \
                if (typeof e.data === 'string') window.__frames.push(e.data); }); } };";
        browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": source })).await;
    }

    /// The text frames this page's sockets received (see [`Self::record_socket_frames`]).
    pub async fn socket_frames(&self) -> Vec<String> {
        serde_json::from_value(self.browser.js("return window.__frames || []", vec![]).await)
            .unwrap_or_default()
    }

    /// Before the page opens: its fetches of the app's wasm wait until [`Self::release_the_app`],
    /// as on a network where the app takes long to come; everything else goes as usual.
    pub async fn hold_the_app(browser: &Browser) {
        let source = "window.__held = []; const fetchNow = window.fetch.bind(window); \
            window.fetch = (input, init) => { \
              if (window.__released || !String(input.url || input).endsWith('_bg.wasm')) return fetchNow(input, init); \
              return new Promise((go) => window.__held.push(go)).then(() => fetchNow(input, init)); }; \
            window.__release = () => { window.__released = true; window.__held.splice(0).forEach((go) => go()); };";
        browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": source })).await;
    }

    /// Lets the app's wasm held by [`Self::hold_the_app`] come (once it was asked for).
    pub async fn release_the_app(browser: &Browser) {
        eventually("the app's wasm asked for", || async {
            (browser.js("return window.__held.length", vec![]).await != json!(0)).then_some(())
        })
        .await;
        browser.js("window.__release()", vec![]).await;
    }

    /// Before the page opens: the network loses every fetch of the live chat's module (see
    /// src/live.rs) until [`Self::allow_the_live_chat`].
    pub async fn refuse_the_live_chat(browser: &Browser) {
        let source = "const fetchNow = window.fetch.bind(window); \
            window.fetch = (input, init) => \
              !window.__live_allowed && String(input.url || input).includes('/widget/tandem-live-') \
                ? Promise.reject(new TypeError('Failed to fetch')) : fetchNow(input, init);";
        browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": source })).await;
    }

    pub async fn allow_the_live_chat(&self) {
        self.browser.js("window.__live_allowed = true", vec![]).await;
    }

    /// Before the page opens: the tab can be hidden and shown again by the test
    /// ([`Self::hide_tab`], [`Self::show_tab`]), as when the customer switches tabs.
    pub async fn control_visibility(browser: &Browser) {
        let source = "Object.defineProperty(document, 'visibilityState', \
            { configurable: true, get: () => window.__hidden ? 'hidden' : 'visible' });";
        browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": source })).await;
    }

    pub async fn hide_tab(&self) {
        self.browser
            .js("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))", vec![])
            .await;
    }

    pub async fn show_tab(&self) {
        self.browser
            .js("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))", vec![])
            .await;
    }

    /// Before the page opens: every `navigator.sendBeacon` call is kept in `localStorage`
    /// (which outlives the page that goes), for [`Self::beacons`].
    pub async fn record_beacons(browser: &Browser) {
        let source = "const send = navigator.sendBeacon.bind(navigator); \
            navigator.sendBeacon = (url, body) => { \
              const sent = JSON.parse(localStorage.getItem('test.beacons') || '[]'); \
              sent.push([String(url), String(body)]); \
              localStorage.setItem('test.beacons', JSON.stringify(sent)); return send(url, body); };";
        browser.cdp("Page.addScriptToEvaluateOnNewDocument", serde_json::json!({ "source": source })).await;
    }

    /// The beacons the pages of this origin sent, as `[url, body]` (see [`Self::record_beacons`]).
    pub async fn beacons(&self) -> Vec<(String, String)> {
        let sent =
            self.browser.js("return JSON.parse(localStorage.getItem('test.beacons') || '[]')", vec![]).await;
        serde_json::from_value(sent).unwrap_or_default()
    }

    /// The codes of the `error` frames this page has heard that answer a `send` (they name its
    /// `client_id`; see [`Self::record_socket_frames`]).
    pub async fn refused_sends(&self) -> Vec<String> {
        let frames =
            self.socket_frames().await.into_iter().filter_map(|f| serde_json::from_str::<Value>(&f).ok());
        let refusals = frames.filter(|frame| frame["type"] == "error" && frame["client_id"].is_string());
        refusals.filter_map(|frame| frame["code"].as_str().map(str::to_owned)).collect()
    }

    /// What the tab keeps of the messages not acknowledged yet (`sessionStorage`).
    pub async fn outbox(&self) -> Value {
        self.browser.js("return JSON.parse(sessionStorage.getItem('tandem.outbox.demo'))", vec![]).await
    }

    /// How many items the page's origin keeps in `localStorage`.
    pub async fn kept(&self) -> Value {
        self.browser.js("return localStorage.length", vec![]).await
    }

    /// The `tandem-chat` element's computed opacity.
    pub async fn widget_opacity(&self) -> Value {
        self.browser
            .js("return getComputedStyle(document.querySelector('tandem-chat')).opacity", vec![])
            .await
    }

    pub async fn inner_width(&self) -> Value {
        self.browser.js("return innerWidth", vec![]).await
    }

    /// How many iframes the page shows.
    pub async fn frames(&self) -> Value {
        self.browser.js("return document.querySelectorAll('iframe').length", vec![]).await
    }

    /// The strict page's own list of policy violations (crates/server/assets/violations.js).
    pub async fn violations(&self) -> Value {
        self.browser.js("return window.tandemDemoViolations", vec![]).await
    }

    /// The address of the page's mail link, if it has one.
    pub async fn mail_link(&self) -> Value {
        self.browser
            .js("const a = document.querySelector('a[href^=mailto]'); return a && a.href", vec![])
            .await
    }

    // Another site's frames on the page.

    /// Adds an iframe `id` loading `src`.
    pub async fn embed_frame(&self, id: &str, src: &str) {
        let script = "const f = document.createElement('iframe'); f.id = arguments[0];
                      f.onload = () => f.dataset.loaded = 'yes'; f.src = arguments[1]; document.body.append(f);";
        self.browser.js(script, vec![json!(id), json!(src)]).await;
    }

    /// What the iframe `id` shows once loaded: `{ text, app, href }`, `app` whether the chat runs.
    pub async fn framed(&self, id: &str) -> Value {
        let frame = self.browser.find_eventually(&format!("iframe#{id}[data-loaded=yes]")).await;
        frame.enter_frame().await.expect("enter");
        let inside = self
            .browser
            .js(
                "return { text: document.body ? document.body.innerText : '', \
                          app: !!document.querySelector('[data-testid=panel]'), href: location.href }",
                vec![],
            )
            .await;
        self.browser.client.enter_parent_frame().await.expect("leave");
        inside
    }
}
