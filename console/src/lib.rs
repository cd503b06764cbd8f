//! Tandem's agent console, where remote agents take customers' chats.
//!
//! Sign in, go online, see the queue with what the bot already heard, accept, and chat — with
//! several customers at once. The live channel reconnects by itself and resends what was not
//! acknowledged; the server's welcome frame restores every open chat.

mod alert;
mod canned;
mod desk;
mod files;
mod form;
mod messages;
mod notes;
mod suggest;
mod team;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::{FetchError, fetch_json};
use tandem_protocol::{AgentLogin, AgentProfile, AgentRole};

pub use desk::Desk;
use form::Field;

/// The console application.
#[component]
pub fn Console() -> impl IntoView {
    // `None` until the server has said whether this browser is signed in.
    let agent = RwSignal::new(None::<Option<AgentProfile>>);
    // An invite link opens the form that creates the account instead.
    let invite = RwSignal::new(team::take_invite_token());
    spawn_local(async move {
        let me = fetch_json::<(), AgentProfile>("GET", "/v1/agent/me", None).await.ok();
        agent.set(Some(me));
    });
    let sign_out = Callback::new(move |()| {
        spawn_local(async move {
            let _ = fetch_json::<(), ()>("POST", "/v1/agent/logout", None).await;
            agent.set(Some(None));
        });
    });

    view! {
        <header class="console-header">
            <h1>"Tandem agent console"</h1>
        </header>
        {move || match (invite.get(), agent.get()) {
            (Some(token), _) => {
                let on_joined = Callback::new(move |profile| {
                    invite.set(None);
                    agent.set(Some(Some(profile)));
                });
                view! { <team::Join token on_joined/> }.into_any()
            }
            (None, signed_in) => match signed_in {
            None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
            Some(None) => view! { <SignIn on_signed_in=Callback::new(move |profile| agent.set(Some(Some(profile))))/> }.into_any(),
            Some(Some(profile)) => {
                let admin = profile.role == AgentRole::Admin;
                let me = profile.id;
                // Signed in again after the session ended, as someone else: their own desk.
                let signed_in_as = Callback::new(move |profile| agent.set(Some(Some(profile))));
                // One list for the desk's composers and the admin's editing of it.
                let canned = canned::Canned::load(profile.display_name.clone());
                // An admin's other view; the desk stays connected (hidden) meanwhile.
                let supervising = RwSignal::new(false);
                view! {
                    {admin.then(|| view! { <Views supervising/> })}
                    <div class="desk-view" hidden=move || supervising.get()>
                        <Desk profile sign_out signed_in_as canned shown=Signal::derive(move || !supervising.get())/>
                    </div>
                    <Show when=move || supervising.get()>
                        <team::Supervisor me canned/>
                    </Show>
                }.into_any()
            }
            },
        }}
    }
}

/// An admin's two views: the desk, where they take chats, and the supervisor's (the team,
/// today's figures, invitations and canned responses).
#[component]
fn Views(supervising: RwSignal<bool>) -> impl IntoView {
    view! {
        <nav class="views" aria-label="Views">
            <button type="button" data-testid="view-desk" aria-pressed=move || (!supervising.get()).to_string()
                on:click=move |_| supervising.set(false)>"Desk"</button>
            <button type="button" data-testid="view-supervisor" aria-pressed=move || supervising.get().to_string()
                on:click=move |_| supervising.set(true)>"Supervisor"</button>
        </nav>
    }
}

/// The sign-in page.
#[component]
fn SignIn(on_signed_in: Callback<AgentProfile>) -> impl IntoView {
    view! {
        <main class="sign-in">
            <h2>"Sign in"</h2>
            <SignInForm on_signed_in/>
        </main>
    }
}

/// Email and password; the server's refusal is said in words.
#[component]
pub(crate) fn SignInForm(on_signed_in: Callback<AgentProfile>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<&'static str>);
    let busy = RwSignal::new(false);
    let submit = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        busy.set(true);
        let login = AgentLogin { email: email.get_untracked(), password: password.get_untracked() };
        spawn_local(async move {
            match fetch_json::<_, AgentProfile>("POST", "/v1/agent/login", Some(&login)).await {
                Ok(profile) => on_signed_in.run(profile),
                Err(FetchError::Status(401, _)) => problem.set(Some("Wrong email or password.")),
                Err(FetchError::Status(429, _)) => problem.set(Some("Too many attempts; wait a minute.")),
                Err(_) => problem.set(Some("The server could not be reached; try again.")),
            }
            busy.set(false);
        });
    };
    view! {
        <form on:submit=submit data-testid="sign-in">
            <Field label="Email" kind="email" autocomplete="username" testid="email" value=email/>
            <Field label="Password" kind="password" autocomplete="current-password" testid="password" value=password/>
            <button type="submit" data-testid="sign-in-submit" disabled=move || busy.get()>"Sign in"</button>
            <p class="problem" role="alert" data-testid="sign-in-problem">{move || problem.get()}</p>
        </form>
    }
}
