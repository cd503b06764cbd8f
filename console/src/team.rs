//! For admins: the supervisor view (live queue, the team, today's figures, CSV export), invite
//! links and deactivation. For invited people: the form that sets up their account.

use crate::form::Field;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_browser::{FetchError, fetch_json};
use tandem_protocol::{
    AcceptInvite, AgentProfile, AgentRole, CreateInvite, Invite, InviteDetails, InviteToken, Presence,
    SupervisorReport, TeamMember,
};

/// How often the supervisor's figures refresh.
const REFRESH_SECS: u64 = 5;

fn duration(secs: Option<u32>) -> String {
    match secs {
        None => "–".to_owned(),
        Some(s) if s < 60 => format!("{s} s"),
        Some(s) => format!("{} min {} s", s / 60, s % 60),
    }
}

fn presence_text(member: &TeamMember) -> &'static str {
    match (member.active, member.connected, member.presence) {
        (false, _, _) => "Deactivated",
        (true, false, Presence::Offline) => "Offline",
        (true, false, _) => "Disconnected (chats held)",
        (true, true, Presence::Online) => "Online",
        (true, true, Presence::Away) => "Away",
        (true, true, Presence::Offline) => "Offline",
    }
}

#[component]
pub fn Supervisor(me: i64, canned: crate::canned::Canned) -> impl IntoView {
    let report = RwSignal::new(None::<SupervisorReport>);
    let problem = RwSignal::new(None::<String>);
    let refresh = move || {
        spawn_local(async move {
            match fetch_json::<(), SupervisorReport>("GET", "/v1/agent/supervisor", None).await {
                Ok(fresh) => {
                    report.set(Some(fresh));
                    problem.set(None);
                }
                Err(_) => problem.set(Some("Could not load the figures; retrying.".into())),
            }
        });
    };
    refresh();
    let timer = set_interval_with_handle(refresh, std::time::Duration::from_secs(REFRESH_SECS)).ok();
    on_cleanup(move || {
        if let Some(timer) = timer {
            timer.clear();
        }
    });
    let deactivate = Callback::new(move |id: i64| {
        spawn_local(async move {
            let path = format!("/v1/agent/agents/{id}/deactivate");
            match fetch_json::<(), ()>("POST", &path, None).await {
                Ok(()) => refresh(),
                Err(_) => problem.set(Some("Could not deactivate that agent; try again.".into())),
            }
        });
    });

    view! {
        <section class="supervisor" aria-labelledby="supervisor-title" data-testid="supervisor">
            <h2 id="supervisor-title">"Supervisor"</h2>
            {move || problem.get().map(|why| view! { <p role="alert">{why}</p> })}
            {move || report.get().map(|mut report| {
                let agents = std::mem::take(&mut report.agents);
                view! {
                    <Figures report/>
                    <TeamTable agents me deactivate/>
                }
            })}
            <p>
                <a href="/v1/agent/conversations.csv?days=30" download="tandem-conversations.csv" data-testid="export-csv">
                    "Export the last 30 days of conversations (CSV)"
                </a>
            </p>
            <Invites problem/>
            <crate::canned::CannedAdmin canned/>
        </section>
    }
}

/// Today's figures and the queue right now.
#[component]
fn Figures(report: SupervisorReport) -> impl IntoView {
    let today = report.today;
    view! {
        <dl class="figures">
            <div><dt>"Waiting now"</dt><dd data-testid="waiting">{report.waiting}</dd></div>
            <div><dt>"Longest wait"</dt><dd data-testid="longest-wait">{duration(Some(report.longest_wait_secs))}</dd></div>
            <div><dt>"Time to a person today, median"</dt><dd data-testid="p50">{duration(today.time_to_human_p50_secs)}</dd></div>
            <div><dt>"Time to a person today, 90th percentile"</dt><dd data-testid="p90">{duration(today.time_to_human_p90_secs)}</dd></div>
            <div><dt>"Conversations today"</dt><dd data-testid="conversations">{today.conversations}</dd></div>
            <div><dt>"Left before an answer"</dt><dd data-testid="abandoned">{today.abandoned}</dd></div>
            <div><dt>"Average rating"</dt><dd data-testid="rating">{match today.average_rating_hundredths {
                Some(h) => format!("{}.{:02} of 5 ({} ratings)", h / 100, h % 100, today.ratings),
                None => "No ratings yet".to_owned(),
            }}</dd></div>
        </dl>
    }
}

/// The agents, how they are, and deactivation (of anyone active but oneself).
#[component]
fn TeamTable(agents: Vec<TeamMember>, me: i64, deactivate: Callback<i64>) -> impl IntoView {
    view! {
        <table class="team" data-testid="team">
            <caption>"Agents"</caption>
            <thead><tr><th scope="col">"Agent"</th><th scope="col">"State"</th><th scope="col">"Chats"</th><th scope="col">"Languages"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>
                {agents.into_iter().map(|member| {
                    let id = member.id;
                    let can_deactivate = member.active && id != me;
                    view! {
                        <tr data-testid="team-member">
                            <th scope="row">{member.display_name.clone()}<br/><small>{member.email.clone()}</small></th>
                            <td data-testid="member-state">{presence_text(&member)}</td>
                            <td>{format!("{} of {}", member.chats, member.capacity)}</td>
                            <td>{member.languages.join(", ")}</td>
                            <td>{can_deactivate.then(|| view! {
                                <button data-testid="deactivate" on:click=move |_| deactivate.run(id)>
                                    {format!("Deactivate {}", member.display_name)}
                                </button>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Invite links, one per person, for an agent or an admin.
#[component]
fn Invites(problem: RwSignal<Option<String>>) -> impl IntoView {
    let invite = RwSignal::new(None::<Invite>);
    let create_invite = move |role: AgentRole| {
        spawn_local(async move {
            match fetch_json::<_, Invite>("POST", "/v1/agent/invites", Some(&CreateInvite { role })).await {
                Ok(created) => invite.set(Some(created)),
                Err(_) => problem.set(Some("Could not create an invite; try again.".into())),
            }
        });
    };
    view! {
        <div class="invite">
            <button data-testid="create-invite" on:click=move |_| create_invite(AgentRole::Agent)>"Invite an agent"</button>
            <button on:click=move |_| create_invite(AgentRole::Admin)>"Invite an admin"</button>
            {move || invite.get().map(|invite| view! {
                <label>
                    "Send this link to the person you invite (single use, valid for 7 days):"
                    <input readonly data-testid="invite-link" prop:value=invite.link on:focus=move |event| {
                        if let Some(input) = event.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok()) {
                            input.select();
                        }
                    }/>
                </label>
            })}
        </div>
    }
}

/// The invite token from the page's fragment (`#invite=…`), removed from the address bar at
/// once so that it is not left in history.
pub fn take_invite_token() -> Option<String> {
    let window = web_sys::window()?;
    let hash = window.location().hash().ok()?;
    let token = hash.strip_prefix("#invite=")?.to_owned();
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/console/"));
    }
    (!token.is_empty()).then_some(token)
}

const LANGUAGES: [(&str, &str); 3] = [("en", "English"), ("sv", "Swedish"), ("de", "German")];

/// The invited person's form, once the invite is known to be good.
#[component]
pub fn Join(token: String, on_joined: Callback<AgentProfile>) -> impl IntoView {
    let details = RwSignal::new(None::<Result<InviteDetails, String>>);
    let token = StoredValue::new(token);
    spawn_local(async move {
        let body = InviteToken { token: token.get_value() };
        details.set(Some(
            match fetch_json::<_, InviteDetails>("POST", "/v1/invites/lookup", Some(&body)).await {
                Ok(found) => Ok(found),
                Err(FetchError::Status(404, _)) => {
                    Err("This invite link was used already or has expired. Ask for a new one.".into())
                }
                Err(_) => Err("The server could not be reached; reload to try again.".into()),
            },
        ));
    });
    view! {
        <main class="sign-in join" data-testid="join">
            {move || match details.get() {
                None => view! { <p role="status">"Checking your invite…"</p> }.into_any(),
                Some(Err(why)) => view! { <p role="alert" data-testid="join-problem">{why}</p> }.into_any(),
                Some(Ok(details)) => view! { <JoinForm merchant_name=details.merchant_name token on_joined/> }.into_any(),
            }}
        </main>
    }
}

/// Name, languages, email and password; the server's objection is said as it puts it.
#[component]
fn JoinForm(
    merchant_name: String,
    token: StoredValue<String>,
    on_joined: Callback<AgentProfile>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let languages = RwSignal::new(vec!["en".to_owned()]);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        busy.set(true);
        let body = AcceptInvite {
            token: token.get_value(),
            display_name: name.get_untracked(),
            email: email.get_untracked(),
            languages: languages.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match fetch_json::<_, AgentProfile>("POST", "/v1/invites/accept", Some(&body)).await {
                Ok(profile) => on_joined.run(profile),
                Err(error) => problem.set(Some(crate::form::refusal(&error))),
            }
            busy.set(false);
        });
    };
    view! {
        <h2>{format!("Join {merchant_name} on Tandem")}</h2>
        <form on:submit=submit data-testid="join-form">
            <Field label="Your name, as customers will see it" maxlength="60" autocomplete="name" testid="join-name" value=name/>
            <Field label="Email" kind="email" autocomplete="username" testid="join-email" value=email/>
            <Languages languages/>
            <Field label="Password (at least 12 characters)" kind="password" minlength="12" autocomplete="new-password" testid="join-password" value=password/>
            <button type="submit" data-testid="join-submit" disabled=move || busy.get()>"Create my account"</button>
            <p class="problem" role="alert">{move || problem.get()}</p>
        </form>
    }
}

#[component]
fn Languages(languages: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <fieldset>
            <legend>"Languages you can answer in"</legend>
            {LANGUAGES.into_iter().map(|(tag, label)| view! {
                <label class="check">
                    <input type="checkbox" data-testid=format!("join-language-{tag}")
                        prop:checked=move || languages.with(|l| l.iter().any(|x| x == tag))
                        on:change=move |e| {
                            let on = event_target_checked(&e);
                            languages.update(|l| {
                                l.retain(|x| x != tag);
                                if on { l.push(tag.to_owned()); }
                            });
                        }/>
                    {label}
                </label>
            }).collect_view()}
        </fieldset>
    }
}
