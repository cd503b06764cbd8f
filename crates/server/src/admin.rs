//! `tandem merchant …` and `tandem agent …`: administration straight on the database.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use tandem_protocol::{AskEmail, CannedResponse, CannedText, MerchantId};
use tandem_server::audit::{Action, record_command};
use tandem_server::canned::Refusal;
use tandem_server::password;
use tandem_server::store::{
    AgentRole, DispatchSettings, Location, Merchant, NewAgent, Policies, SqliteStore, Staffing, Store,
    WidgetSettings,
};

use crate::{AddAgent, AddMerchant, AgentCommand, CannedCommand, DataDir, MerchantCommand, WebhookCommand};

/// The database the command names: `--database`, else the SQLite file in `--data-dir`
/// (created if missing).
pub async fn open(data: &DataDir) -> Result<Arc<dyn Store>, String> {
    let location = Location::parse(data.database.as_deref(), &data.data_dir)?;
    if let Location::Sqlite(_) = location {
        std::fs::create_dir_all(&data.data_dir).map_err(|error| {
            format!(
                "cannot use data directory {}: {error}; pass --data-dir with a writable directory",
                data.data_dir.display()
            )
        })?;
    }
    location.open().await.map_err(|error| {
        format!("cannot open the database {}: {error}; check --data-dir or --database", location.describe())
    })
}

pub fn merchant_id(raw: &str) -> Result<MerchantId, String> {
    MerchantId::parse(raw).map_err(|error| format!("invalid merchant id {raw:?}: {error}"))
}

fn check_origin(origin: &str) -> Result<String, String> {
    let trimmed = origin.trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(trimmed.to_owned()),
        _ => Err(format!("invalid origin {origin:?}: write scheme and host only, e.g. https://shop.example")),
    }
}

/// `tandem backup`: a copy that is one commit boundary, safe to take while the server writes.
pub async fn backup(to: &Path, data: &DataDir) -> Result<(), String> {
    let Location::Sqlite(database) = Location::parse(data.database.as_deref(), &data.data_dir)? else {
        return Err(
            "tandem backup copies a SQLite database; back PostgreSQL up with pg_dump (docs/operations.md)"
                .into(),
        );
    };
    if !database.is_file() {
        return Err(format!("no database at {}; pass the server's --data-dir", database.display()));
    }
    let store = SqliteStore::open(&database).await.map_err(|error| error.to_string())?;
    store.backup(to).await.map_err(|error| error.to_string())?;
    store.close().await;
    println!("backup written to {}", to.display());
    Ok(())
}

pub async fn merchant(command: MerchantCommand) -> Result<(), String> {
    match command {
        MerchantCommand::Add(add) => add_merchant(add).await,
        MerchantCommand::Flow { id, file, data } => set_flow(&id, &file, &data).await,
        MerchantCommand::IdentitySecret { id, data } => identity_secret(&id, &data).await,
        MerchantCommand::Canned(command) => canned(command).await,
        MerchantCommand::Webhook(command) => webhook(command).await,
        MerchantCommand::Mails { id, failed: only_failed, data } => {
            let merchant = merchant_id(&id)?;
            for mail in open(&data).await?.mails(&merchant, 100).await.map_err(|error| error.to_string())? {
                let state = outbox_state(mail.sent_at_ms, mail.given_up, "sent");
                if !(only_failed && state == "sent") {
                    let error = mail.last_error.unwrap_or_default();
                    println!(
                        "{}\t{}\t{}\t{state}\t{} attempts\t{error}",
                        mail.id, mail.kind, mail.to, mail.attempts
                    );
                }
            }
            Ok(())
        }
    }
}

/// How an outbox's item stands: `done` (delivered, sent), given up, or retrying.
fn outbox_state(done_at_ms: Option<i64>, given_up: bool, done: &'static str) -> &'static str {
    match (done_at_ms, given_up) {
        (Some(_), _) => done,
        (None, true) => "given up",
        (None, false) => "retrying",
    }
}

async fn webhook(command: WebhookCommand) -> Result<(), String> {
    use tandem_server::webhooks::{Event, check_url};
    let failed = |error: tandem_server::store::StoreError| error.to_string();
    match command {
        WebhookCommand::Add { id, url, events, data } => {
            let merchant = merchant_id(&id)?;
            let url = check_url(&url, false)?.to_string();
            let events = webhook_events(&events)?;
            let store = open(&data).await?;
            let webhook = tandem_server::store::Webhook {
                id: tandem_server::tokens::new_id(),
                merchant_id: merchant.clone(),
                url,
                secret: format!("whsec_{}", tandem_server::tokens::new_token()),
                events: events.iter().map(|event| Event::name(*event).to_owned()).collect(),
                created_at_ms: tandem_server::live::now_ms(),
            };
            match store.add_webhook(&webhook).await {
                Err(tandem_server::store::StoreError::UnknownMerchant(_)) => {
                    return Err(no_merchant(&merchant));
                }
                other => other.map_err(failed)?,
            }
            println!(
                "webhook {} of {merchant} added; its signing secret (shown once): {}",
                webhook.id, webhook.secret
            );
            Ok(())
        }
        WebhookCommand::List { id, data } => {
            let merchant = merchant_id(&id)?;
            for webhook in open(&data).await?.webhooks(&merchant).await.map_err(failed)? {
                println!("{}\t{}\t{}", webhook.id, webhook.url, webhook.events.join(","));
            }
            Ok(())
        }
        WebhookCommand::Remove { id, webhook, data } => {
            let merchant = merchant_id(&id)?;
            if !open(&data).await?.remove_webhook(&merchant, &webhook).await.map_err(failed)? {
                return Err(format!(
                    "{merchant} has no webhook {webhook}; see `tandem merchant webhook list --id {merchant}`"
                ));
            }
            println!("webhook {webhook} of {merchant} removed");
            Ok(())
        }
        WebhookCommand::Deliveries { id, failed: only_failed, data } => {
            let merchant = merchant_id(&id)?;
            for delivery in open(&data).await?.deliveries(&merchant, 100).await.map_err(failed)? {
                let state = outbox_state(delivery.delivered_at_ms, delivery.given_up, "delivered");
                if only_failed && state == "delivered" {
                    continue;
                }
                let error = delivery.last_error.unwrap_or_default();
                println!(
                    "{}\t{}\t{state}\t{} attempts\t{error}",
                    delivery.id, delivery.event, delivery.attempts
                );
            }
            Ok(())
        }
    }
}

/// `all`, or event names separated by commas; an unknown one is refused with the list.
fn webhook_events(raw: &str) -> Result<Vec<tandem_server::webhooks::Event>, String> {
    use tandem_server::webhooks::Event;
    if raw.trim() == "all" {
        return Ok(Event::ALL.to_vec());
    }
    raw.split(',')
        .map(|name| {
            Event::parse(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = Event::ALL.iter().map(|event| event.name()).collect();
                format!(
                    "unknown webhook event {:?}; the events are {} (or all)",
                    name.trim(),
                    known.join(", ")
                )
            })
        })
        .collect()
}

async fn canned(command: CannedCommand) -> Result<(), String> {
    match command {
        CannedCommand::Set { id, shortcut, title, texts, data } => {
            let merchant = merchant_id(&id)?;
            let texts = texts.iter().map(|text| canned_text(text)).collect::<Result<_, _>>()?;
            let canned = CannedResponse { shortcut, title, texts };
            let store = open(&data).await?;
            match tandem_server::canned::save(store.as_ref(), &merchant, &canned).await {
                Ok(()) => {}
                Err(Refusal::NoMerchant(_)) => return Err(no_merchant(&merchant)),
                Err(refusal) => return Err(format!("canned response not saved: {refusal}")),
            }
            record_command(store.as_ref(), &merchant, Action::CannedResponseSaved, canned.shortcut.clone())
                .await
                .map_err(|error| error.to_string())?;
            println!("canned response /{} of {merchant} saved", canned.shortcut);
            Ok(())
        }
        CannedCommand::List { id, data } => {
            let merchant = merchant_id(&id)?;
            let store = open(&data).await?;
            for canned in store.canned_responses(&merchant).await.map_err(|error| error.to_string())? {
                let languages: Vec<&str> = canned.texts.iter().map(|t| t.locale.as_str()).collect();
                println!("/{}\t{}\t{}", canned.shortcut, canned.title, languages.join(","));
            }
            Ok(())
        }
        CannedCommand::Remove { id, shortcut, data } => {
            let merchant = merchant_id(&id)?;
            let store = open(&data).await?;
            if !store.delete_canned_response(&merchant, &shortcut).await.map_err(|error| error.to_string())? {
                return Err(format!(
                    "{merchant} has no canned response /{shortcut}; see `tandem merchant canned list --id {merchant}`"
                ));
            }
            record_command(store.as_ref(), &merchant, Action::CannedResponseRemoved, shortcut.clone())
                .await
                .map_err(|error| error.to_string())?;
            println!("canned response /{shortcut} of {merchant} removed");
            Ok(())
        }
    }
}

/// `--text LANG=TEXT`.
fn canned_text(raw: &str) -> Result<CannedText, String> {
    match raw.split_once('=') {
        Some((locale, text)) => Ok(CannedText { locale: locale.trim().to_owned(), text: text.to_owned() }),
        None => Err(format!("--text {raw:?}: write it as LANG=TEXT, e.g. --text \"en=Thanks for waiting\"")),
    }
}

async fn add_merchant(add: AddMerchant) -> Result<(), String> {
    if let Some(locale) = &add.locale
        && !["en", "sv", "de"].contains(&locale.split('-').next().unwrap_or_default())
    {
        return Err(format!("unsupported --locale {locale:?}: the widget speaks en, sv and de"));
    }
    if let Some(hours) = &add.business_hours {
        tandem_server::hours::BusinessHours::parse(hours)
            .map_err(|error| format!("invalid --business-hours: {error}"))?;
    }
    let ask_email: AskEmail = add
        .ask_email
        .parse()
        .map_err(|_| format!("invalid --ask-email {:?}: use off, optional or required", add.ask_email))?;
    let merchant = Merchant {
        id: merchant_id(&add.id)?,
        display_name: add.name,
        support_email: add.support_email,
        allowed_origins: add.origins.iter().map(|o| check_origin(o)).collect::<Result<_, _>>()?,
        business_hours: add.business_hours,
        settings: WidgetSettings {
            locale: add.locale,
            ask_email,
            reply_within_hours: add.reply_within_hours,
        },
        dispatch: DispatchSettings {
            offer_timeout_secs: add.offer_timeout,
            missed_offers_before_away: add.missed_offers_before_away,
            grace_secs: add.grace,
        },
        identity_secret: None,
        policies: Policies {
            abandon_after_secs: add.abandon_after,
            max_waiting: add.max_waiting,
            identity_max_age_secs: add.identity_max_age,
            retain_days: add.retain_days,
        },
    };
    let store = open(&add.data).await?;
    store.upsert_merchant(&merchant).await.map_err(|error| error.to_string())?;
    audited(store.as_ref(), &merchant.id, Action::MerchantSaved).await?;
    println!("merchant {} saved", merchant.id);
    Ok(())
}

/// The command's audit entry (docs/operations.md, Audit log).
async fn audited(store: &dyn Store, merchant: &MerchantId, action: Action) -> Result<(), String> {
    record_command(store, merchant, action, "").await.map_err(|error| error.to_string())
}

/// The one-line answer to a command naming a merchant that is not there yet.
fn no_merchant(id: &MerchantId) -> String {
    format!("no merchant {id}; add it first with `tandem merchant add --id {id} …`")
}

async fn identity_secret(id: &str, data: &DataDir) -> Result<(), String> {
    let merchant = merchant_id(id)?;
    let store = open(data).await?;
    let secret = tandem_server::tokens::new_token();
    match store.set_identity_secret(&merchant, &secret).await.map_err(|error| error.to_string())? {
        true => {
            audited(store.as_ref(), &merchant, Action::IdentitySecretRotated).await?;
            println!("{secret}");
            Ok(())
        }
        false => Err(no_merchant(&merchant)),
    }
}

async fn set_flow(id: &str, file: &Path, data: &DataDir) -> Result<(), String> {
    let merchant = merchant_id(id)?;
    let json =
        std::fs::read_to_string(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    if let Err(problems) = tandem_server::api::validate_flow(&json) {
        let listed: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        return Err(format!(
            "{} has {} problem(s); fix them and run this again:\n{}",
            file.display(),
            problems.len(),
            listed.join("\n")
        ));
    }
    let store = open(data).await?;
    match store.set_bot_flow(&merchant, &json).await.map_err(|error| error.to_string())? {
        true => {
            audited(store.as_ref(), &merchant, Action::BotFlowSet).await?;
            println!("bot flow of {merchant} saved");
            Ok(())
        }
        false => Err(no_merchant(&merchant)),
    }
}

pub async fn agent(command: AgentCommand) -> Result<(), String> {
    match command {
        AgentCommand::Add(add) => add_agent(add).await,
        AgentCommand::List { merchant, data } => list_agents(merchant.as_deref(), &data).await,
    }
}

async fn add_agent(add: AddAgent) -> Result<(), String> {
    let merchant_id = merchant_id(&add.merchant)?;
    if !add.email.contains('@') {
        return Err(format!("invalid email {:?}", add.email));
    }
    for tag in add.languages.iter().chain(&add.skills) {
        tandem_protocol::validate_tag(tag)
            .map_err(|problem| format!("invalid --languages or --skills {tag:?}: {problem}"))?;
    }
    if add.languages.is_empty() {
        return Err("--languages needs at least one language, e.g. en".into());
    }
    let role = if add.admin { AgentRole::Admin } else { AgentRole::Agent };
    let staffing = Staffing { languages: add.languages, skills: add.skills, capacity: add.capacity, role };
    let password = read_password()?;
    let store = open(&add.data).await?;
    let password_hash = password::hash(&password).map_err(|error| error.to_string())?;
    let email = add.email;
    let agent = NewAgent {
        merchant_id: merchant_id.clone(),
        email: email.clone(),
        display_name: add.name,
        password_hash,
        staffing,
    };
    store.upsert_agent(&agent).await.map_err(|error| match error {
        tandem_server::store::StoreError::UnknownMerchant(id) => no_merchant(&id),
        tandem_server::store::StoreError::AgentOfAnotherMerchant { email, merchant } => format!(
            "{email} is already an agent of merchant {merchant}; an agent stays with their merchant, so use another email"
        ),
        other => other.to_string(),
    })?;
    // A reset password: whoever signed in with the old one is signed out.
    if let Some(saved) = store.agent_by_email(&email).await.map_err(|error| error.to_string())? {
        store.sign_out_everywhere(saved.id).await.map_err(|error| error.to_string())?;
    }
    audited(store.as_ref(), &merchant_id, Action::AgentSaved).await?;
    println!("agent {email} saved");
    Ok(())
}

async fn list_agents(merchant: Option<&str>, data: &DataDir) -> Result<(), String> {
    let merchant = merchant.map(merchant_id).transpose()?;
    let store = open(data).await?;
    let agents = store.agents(merchant.as_ref()).await.map_err(|error| error.to_string())?;
    for agent in agents {
        let state = if agent.active { agent.staffing.role.as_str() } else { "deactivated" };
        let languages = agent.staffing.languages.join(",");
        println!("{}\t{}\t{}\t{}\t{}", agent.merchant_id, agent.email, agent.display_name, languages, state);
    }
    Ok(())
}

/// From TANDEM_AGENT_PASSWORD, or the first line of stdin: never from argv, where other users
/// of the machine could read it.
fn read_password() -> Result<String, String> {
    let password = match std::env::var("TANDEM_AGENT_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|error| format!("cannot read the password: {error}"))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if !password::acceptable(&password) {
        return Err(format!(
            "the password needs at least {} characters; set TANDEM_AGENT_PASSWORD or pipe it on stdin",
            password::MIN_CHARS
        ));
    }
    Ok(password)
}
