//! Messages customers left when no agent was online: read here, answered by email.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::fetch_json;
use tandem_protocol::LeftMessage;

use crate::desk::transcript_line;

#[component]
pub fn LeftMessages() -> impl IntoView {
    let messages = RwSignal::new(Vec::<LeftMessage>::new());
    let problem = RwSignal::new(None::<&'static str>);
    let refresh = move || {
        spawn_local(async move {
            match fetch_json::<(), Vec<LeftMessage>>("GET", "/v1/agent/messages", None).await {
                Ok(list) => {
                    messages.set(list);
                    problem.set(None);
                }
                Err(_) => problem.set(Some("Could not load the messages; try again.")),
            }
        });
    };
    refresh();

    view! {
        <section class="left-messages" aria-labelledby="left-messages-title" data-testid="left-messages">
            <h2 id="left-messages-title">{move || format!("Messages left ({})", messages.with(Vec::len))}</h2>
            <button data-testid="refresh-messages" on:click=move |_| refresh()>"Refresh"</button>
            {move || problem.get().map(|why| view! { <p role="alert">{why}</p> })}
            <ul>
                <For each=move || messages.get() key=|message| message.id let:message>
                    <li class="left-message" data-testid="left-message">
                        <p class="meta">
                            <a href=format!("mailto:{}", message.email)>{message.email.clone()}</a>
                            {format!(" · {} · {}", message.locale, message.page_url)}
                        </p>
                        // Text, never markup.
                        <p class="text">{message.text}</p>
                        {(!message.transcript.is_empty()).then(|| view! {
                            <details>
                                <summary>"Before the message"</summary>
                                {message.transcript.into_iter().map(|line| view! { <p>{transcript_line(line)}</p> }).collect_view()}
                            </details>
                        })}
                    </li>
                </For>
            </ul>
        </section>
    }
}
