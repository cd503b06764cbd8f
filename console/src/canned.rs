//! Canned responses in the console: typing `/` in a chat's composer lists the merchant's
//! prepared answers that match what follows (by shortcut or title); taking one puts it in the
//! composer in the customer's language, with `{customer_name}` and `{agent_name}` filled in,
//! for the agent to edit and send. Admins keep them in the supervisor view.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::{Draft, fetch_json};
use tandem_protocol::{CannedResponse, CannedResponseBody, CannedText, ConversationDetail, fill_canned};

use crate::form::Field;

/// The most matches listed under the composer.
const LISTED: usize = 6;

/// The merchant's canned responses, fetched once per desk (and again after an admin's change).
#[derive(Clone, Copy)]
pub struct Canned {
    list: RwSignal<Vec<CannedResponse>>,
    agent_name: StoredValue<String>,
}

impl Canned {
    pub fn load(agent_name: String) -> Self {
        let canned = Self { list: RwSignal::new(Vec::new()), agent_name: StoredValue::new(agent_name) };
        canned.reload();
        canned
    }

    fn reload(self) {
        spawn_local(async move {
            if let Ok(list) = fetch_json::<(), Vec<CannedResponse>>("GET", "/v1/agent/canned", None).await {
                self.list.set(list);
            }
        });
    }

    /// Those that match the draft, when it is `/` and a query.
    fn matching(self, draft: &str) -> Vec<CannedResponse> {
        let Some(query) = draft.strip_prefix('/') else { return Vec::new() };
        self.list.with(|list| list.iter().filter(|c| c.matches(query)).take(LISTED).cloned().collect())
    }

    /// `canned` as the agent takes it into `chat`: in the customer's language, filled in.
    fn text_for(self, canned: &CannedResponse, chat: Option<&ConversationDetail>) -> String {
        let locale = chat.map_or("en", |c| c.locale.as_str());
        let customer = chat.and_then(|c| c.customer.name.as_deref());
        fill_canned(canned.text_for(locale), customer, &self.agent_name.get_value())
    }

    /// Enter on a draft that is `/` and a query takes the first match instead of sending it;
    /// `true` if it did.
    pub fn complete(self, draft: Draft, chat: Option<&ConversationDetail>) -> bool {
        let first = self.matching(&draft.text_untracked()).into_iter().next();
        first.map(|canned| draft.replace(self.text_for(&canned, chat))).is_some()
    }
}

/// Under a chat's composer while its draft starts with `/`: the matches, each a button.
#[component]
pub fn CannedPicker(chat: Memo<Option<ConversationDetail>>, canned: Canned, draft: Draft) -> impl IntoView {
    let matches = Memo::new(move |_| canned.matching(&draft.text()));
    let take = move |shortcut: &str| {
        let chosen = matches.with_untracked(|m| m.iter().find(|c| c.shortcut == shortcut).cloned());
        if let Some(chosen) = chosen {
            draft.replace(chat.with_untracked(|chat| canned.text_for(&chosen, chat.as_ref())));
        }
    };
    view! {
        <Show when=move || draft.text().starts_with('/')>
            <div class="canned" data-testid="canned">
                <p class="meta" id="canned-hint">
                    {move || if matches.with(Vec::is_empty) {
                        "No canned response matches."
                    } else {
                        "Canned responses: Enter takes the first, or pick one."
                    }}
                </p>
                <ul aria-describedby="canned-hint">
                    <For each=move || matches.get() key=|c| c.shortcut.clone() let:found>
                        {
                            let shortcut = found.shortcut.clone();
                            view! {
                                <li>
                                    <button type="button" data-testid="canned-option" on:click=move |_| take(&shortcut)>
                                        <span class="shortcut">"/" {found.shortcut.clone()}</span>
                                        " " {found.title}
                                    </button>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </div>
        </Show>
    }
}

/// The supervisor view's list of canned responses, with removing one, and a form that adds one
/// or adds a language to one (the same shortcut).
#[component]
pub fn CannedAdmin(canned: Canned) -> impl IntoView {
    let (shortcut, title, locale, text) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("en".to_owned()),
        RwSignal::new(String::new()),
    );
    let problem = RwSignal::new(None::<String>);
    let save = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        let key = shortcut.get_untracked().trim().to_owned();
        let mut texts: Vec<CannedText> = canned.list.with_untracked(|list| {
            list.iter().find(|c| c.shortcut == key).map(|c| c.texts.clone()).unwrap_or_default()
        });
        let language = locale.get_untracked().trim().to_lowercase();
        texts.retain(|t| t.locale != language);
        texts.push(CannedText { locale: language, text: text.get_untracked() });
        let body = CannedResponseBody { title: title.get_untracked(), texts };
        spawn_local(async move {
            let path = format!("/v1/agent/canned/{key}");
            match fetch_json::<_, CannedResponse>("PUT", &path, Some(&body)).await {
                Ok(_) => {
                    problem.set(None);
                    text.set(String::new());
                    canned.reload();
                }
                Err(error) => problem.set(Some(crate::form::refusal(&error))),
            }
        });
    };
    let remove = move |key: String| {
        spawn_local(async move {
            match fetch_json::<(), ()>("DELETE", &format!("/v1/agent/canned/{key}"), None).await {
                Ok(()) => canned.reload(),
                Err(error) => problem.set(Some(crate::form::refusal(&error))),
            }
        });
    };
    view! {
        <section class="canned-admin" aria-labelledby="canned-title" data-testid="canned-admin">
            <h3 id="canned-title">"Canned responses"</h3>
            <p>"Agents find them by typing / in a chat. Texts may hold {customer_name} and {agent_name}."</p>
            <ul>
                <For each=move || canned.list.get() key=|c| (c.shortcut.clone(), c.texts.len(), c.title.clone()) let:kept>
                    {
                        let key = kept.shortcut.clone();
                        let languages: Vec<String> = kept.texts.iter().map(|t| t.locale.clone()).collect();
                        view! {
                            <li data-testid="canned-kept">
                                <span class="shortcut">"/" {kept.shortcut.clone()}</span>
                                " " {kept.title} " (" {languages.join(", ")} ") "
                                <button type="button" on:click=move |_| remove(key.clone())>"Remove"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="canned-form" on:submit=save>
                <Field label="Shortcut" value=shortcut testid="canned-shortcut" autocomplete="off" maxlength="32"/>
                <Field label="Title" value=title testid="canned-title" autocomplete="off" maxlength="80"/>
                <Field label="Language (en, sv, de…)" value=locale testid="canned-locale" autocomplete="off" maxlength="2"/>
                <label>
                    "Text"
                    <textarea
                        required
                        data-testid="canned-text"
                        prop:value=move || text.get()
                        on:input=move |event| text.set(event_target_value(&event))
                    ></textarea>
                </label>
                <button type="submit" data-testid="canned-save">"Save"</button>
            </form>
            {move || problem.get().map(|why| view! { <p class="problem" role="alert">{why}</p> })}
        </section>
    }
}
