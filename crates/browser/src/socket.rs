use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, MessageEvent, WebSocket};

/// Whether the socket can carry frames right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Open,
    /// Lost; a new attempt is scheduled.
    Reconnecting,
    /// Closed on purpose; no more attempts.
    Closed,
}

type Handler<T> = Rc<dyn Fn(T)>;

struct Inner {
    url: String,
    socket: Option<WebSocket>,
    /// Failed attempts in a row; sets the backoff.
    attempts: u32,
    closed: bool,
    on_open: Handler<()>,
    on_text: Handler<String>,
    on_connection: Handler<Connection>,
    /// The current socket's callbacks, kept alive while it is.
    callbacks: Vec<Closure<dyn FnMut(Event)>>,
    retry_timer: Option<i32>,
}

/// A WebSocket that reconnects by itself. Frames sent while it is down are refused (the caller
/// keeps them in its outbox and sends them again from `on_open`).
#[derive(Clone)]
pub struct LiveSocket(Rc<RefCell<Inner>>);

const FIRST_DELAY_MS: f64 = 500.0;
const MAX_DELAY_MS: f64 = 30_000.0;

impl LiveSocket {
    /// Connects to `url`; `on_open` runs after each (re)connection, `on_text` for each frame.
    pub fn connect(
        url: String,
        on_open: impl Fn(()) + 'static,
        on_text: impl Fn(String) + 'static,
        on_connection: impl Fn(Connection) + 'static,
    ) -> Self {
        let socket = Self(Rc::new(RefCell::new(Inner {
            url,
            socket: None,
            attempts: 0,
            closed: false,
            on_open: Rc::new(on_open),
            on_text: Rc::new(on_text),
            on_connection: Rc::new(on_connection),
            callbacks: Vec::new(),
            retry_timer: None,
        })));
        socket.open();
        socket.reconnect_when_back();
        socket
    }

    pub fn send(&self, text: &str) -> bool {
        let inner = self.0.borrow();
        match &inner.socket {
            Some(socket) if socket.ready_state() == WebSocket::OPEN => socket.send_with_str(text).is_ok(),
            _ => false,
        }
    }

    /// Closes for good.
    pub fn close(&self) {
        let socket = {
            let mut inner = self.0.borrow_mut();
            inner.closed = true;
            inner.socket.take()
        };
        if let Some(socket) = socket {
            detach(&socket);
            let _ = socket.close();
        }
        self.notify(Connection::Closed);
    }

    /// Tries again now if the socket is down (back online, tab visible again).
    pub fn reconnect_now(&self) {
        let down = {
            let inner = self.0.borrow();
            !inner.closed && inner.socket.as_ref().is_none_or(|s| s.ready_state() == WebSocket::CLOSED)
        };
        if down {
            if let (Some(timer), Some(window)) = (self.0.borrow_mut().retry_timer.take(), web_sys::window()) {
                window.clear_timeout_with_handle(timer);
            }
            self.0.borrow_mut().attempts = 0;
            self.open();
        }
    }

    fn notify(&self, connection: Connection) {
        let handler = self.0.borrow().on_connection.clone();
        handler(connection);
    }

    fn open(&self) {
        let url = self.0.borrow().url.clone();
        self.notify(Connection::Connecting);
        let Ok(socket) = WebSocket::new(&url) else {
            self.schedule_retry();
            return;
        };
        let on_open = {
            let this = self.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                this.0.borrow_mut().attempts = 0;
                this.notify(Connection::Open);
                let handler = this.0.borrow().on_open.clone();
                handler(());
            })
        };
        let on_message = {
            let this = self.clone();
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                let text = event.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string());
                if let Some(text) = text {
                    let handler = this.0.borrow().on_text.clone();
                    handler(text);
                }
            })
        };
        let on_close = {
            let this = self.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let closed = this.0.borrow().closed;
                if !closed {
                    this.schedule_retry();
                }
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let previous = {
            let mut inner = self.0.borrow_mut();
            inner.callbacks = vec![on_open, on_message, on_close];
            inner.socket.replace(socket)
        };
        if let Some(previous) = previous {
            detach(&previous);
            let _ = previous.close();
        }
    }

    /// Waits `min(30 s, 0.5 s × 2^attempts)`, less up to half at random, so that a server
    /// restart is not met by every client at the same instant.
    fn schedule_retry(&self) {
        self.notify(Connection::Reconnecting);
        let attempts = {
            let mut inner = self.0.borrow_mut();
            inner.attempts = inner.attempts.saturating_add(1);
            inner.attempts
        };
        let exponent = i32::try_from(attempts.min(10)).unwrap_or(10) - 1;
        let ceiling = (FIRST_DELAY_MS * 2f64.powi(exponent)).min(MAX_DELAY_MS);
        #[allow(clippy::cast_possible_truncation, reason = "at most 30 000 ms")]
        let delay = (ceiling * (0.5 + js_sys::Math::random() / 2.0)) as i32;
        let this = self.clone();
        let retry = Closure::once_into_js(move || {
            this.0.borrow_mut().retry_timer = None;
            if !this.0.borrow().closed {
                this.open();
            }
        });
        if let Some(window) = web_sys::window() {
            let timer = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), delay)
                .ok();
            self.0.borrow_mut().retry_timer = timer;
        }
    }

    /// Listens for `online` and `visibilitychange` for as long as the page lives.
    fn reconnect_when_back(&self) {
        let Some(window) = web_sys::window() else { return };
        let this = self.clone();
        let back = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            if crate::tab_visible() {
                this.reconnect_now();
            }
        });
        let _ = window.add_event_listener_with_callback("online", back.as_ref().unchecked_ref());
        if let Some(document) = window.document() {
            let _ =
                document.add_event_listener_with_callback("visibilitychange", back.as_ref().unchecked_ref());
        }
        // One listener per socket, which lives as long as the page.
        back.forget();
    }
}

/// Stops a socket's callbacks before they are dropped.
fn detach(socket: &WebSocket) {
    socket.set_onopen(None);
    socket.set_onmessage(None);
    socket.set_onclose(None);
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(socket) = &self.socket {
            detach(socket);
        }
    }
}
