//! Tandem's agent console, where remote agents take customers' chats.
//!
//! For now it shows whether the server answers; sign-in, the queue and chats build on it.

use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerStatus {
    Checking,
    Up,
    Down,
}

/// The console application.
#[component]
pub fn Console() -> impl IntoView {
    let (status, set_status) = signal(ServerStatus::Checking);
    spawn_local(async move {
        let up = matches!(
            gloo_net::http::Request::get("/healthz").send().await,
            Ok(response) if response.ok()
        );
        set_status.set(if up { ServerStatus::Up } else { ServerStatus::Down });
    });

    view! {
        <header class="console-header">
            <h1>"Tandem agent console"</h1>
        </header>
        <main>
            <p
                class="status"
                role="status"
                data-testid="server-status"
                data-state=move || match status.get() {
                    ServerStatus::Checking => "checking",
                    ServerStatus::Up => "up",
                    ServerStatus::Down => "down",
                }
            >
                {move || match status.get() {
                    ServerStatus::Checking => "Checking the server…",
                    ServerStatus::Up => "The server is up.",
                    ServerStatus::Down => "The server does not answer; check that `tandem serve` is running.",
                }}
            </p>
        </main>
    }
}
