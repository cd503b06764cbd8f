//! Suggested replies from the merchant's own flow: the bot engine the widget runs, run here on
//! the customer's latest message. When it matches an intent, that intent's answer, in the
//! customer's language, is offered as a draft the agent can take, edit and send. Nothing is
//! sent without the agent.

use std::sync::Arc;

use leptos::prelude::*;
use tandem_bot::{Bot, Flow, State};
use tandem_browser::{Draft, fetch_json};
use tandem_protocol::{Author, ConversationDetail, MerchantId};

/// The merchant's flow, once fetched (none: no suggestions).
#[derive(Clone, Copy)]
pub struct Suggester(RwSignal<Option<Arc<Bot>>>);

impl Suggester {
    pub fn load(merchant: &MerchantId) -> Self {
        let bot = RwSignal::new(None);
        let url = format!("/v1/merchants/{merchant}/bot-flow");
        leptos::task::spawn_local(async move {
            if let Ok(flow) = fetch_json::<(), Flow>("GET", &url, None).await {
                bot.set(Some(Arc::new(Bot::trusted(flow))));
            }
        });
        Self(bot)
    }

    /// The answer the flow gives to the customer's latest message, and its intent.
    fn suggest(self, chat: &ConversationDetail) -> Option<(String, String)> {
        let latest = chat.messages.iter().rev().find(|m| m.author == Author::Customer)?;
        self.0.with(|bot| {
            let reply = bot.as_ref()?.turn(&mut State::default(), &chat.locale, &latest.text);
            let intent = reply.intent.filter(|_| reply.handoff.is_none())?;
            Some((intent, reply.text))
        })
    }
}

/// The suggestion for a chat, with the button that puts it in the composer.
#[component]
pub fn SuggestedReply(
    chat: Memo<Option<ConversationDetail>>,
    suggester: Suggester,
    draft: Draft,
) -> impl IntoView {
    let suggestion = Memo::new(move |_| chat.with(|chat| chat.as_ref().and_then(|c| suggester.suggest(c))));
    move || {
        suggestion.get().map(|(intent, text)| {
            let answer = text.clone();
            view! {
                <aside class="suggestion" aria-label="Suggested reply" data-testid="suggestion">
                    <p class="meta" data-testid="suggestion-intent">{format!("From the flow's answer to “{intent}”")}</p>
                    <p class="text" data-testid="suggestion-text">{text}</p>
                    <button data-testid="use-suggestion" on:click=move |_| draft.replace(answer.clone())>
                        "Use this reply"
                    </button>
                </aside>
            }
        })
    }
}
