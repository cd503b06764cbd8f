//! Email: a message left reaches the merchant's support address, and a customer may have the
//! transcript of a chat that ended sent to them.
//!
//! A mail is written to an outbox table (`mails`) and sent by a loop, through the installation's
//! SMTP server (`--smtp-url`, with lettre), retried with backoff for 24 hours, so a mail server
//! that is down loses nothing. Every instance on a PostgreSQL database runs the loop; a mail is
//! claimed by one at a time. With no SMTP server configured nothing is queued, and the widget
//! offers no transcripts. See `docs/operations.md#email`.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tandem_protocol::{Author, ChatMessage, LeaveMessage, TranscriptEntry, TranscriptSpeaker};

pub mod sink;

use crate::AppState;
use crate::live::now_ms;
use crate::store::{Attempt, Conversation, DueMail, Merchant, NewMail};

/// A customer may have at most this many transcripts of one conversation sent (a typo, then the
/// right address); with the budget of the network's new conversations and a person's answer
/// before it, the server cannot be made to mail strangers at will.
pub const MOST_TRANSCRIPTS: u32 = 3;
/// Mails sent at once by one instance.
const BATCH: u32 = 20;

/// The installation's mail server and sender (`tandem serve --smtp-url … --mail-from …`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `smtps://host[:port]`, `smtp://host[:port]?tls=required` (STARTTLS), or plain
    /// `smtp://host[:port]` (a relay on this machine, or tests).
    pub url: String,
    /// The `From` of every mail, e.g. `Northwind support <support@northwind.example>`.
    pub from: String,
    /// User name and password for the server (`TANDEM_SMTP_USERNAME`, `TANDEM_SMTP_PASSWORD`).
    pub credentials: Option<(String, String)>,
    /// The wait before the first retry; each next one doubles, up to an hour.
    pub first_retry: Duration,
    /// How long one attempt may take, connecting, TLS and the SMTP exchange together.
    pub timeout: Duration,
}

impl Settings {
    pub fn new(url: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            from: from.into(),
            credentials: None,
            first_retry: Duration::from_secs(30),
            timeout: Duration::from_secs(20),
        }
    }
}

/// Sends the outbox's mails through the configured server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: Settings,
    /// Woken when a mail is queued here, so that it is sent at once.
    due: tokio::sync::Notify,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer `settings` describe; why not, in words that say what to change.
    pub fn new(settings: Settings) -> Result<Self, String> {
        let url = reqwest::Url::parse(&settings.url)
            .map_err(|error| format!("--smtp-url {:?} is not a URL ({error})", settings.url))?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(format!("--smtp-url {}: use smtps://host or smtp://host?tls=required", settings.url));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("--smtp-url carries no user name or password: set TANDEM_SMTP_USERNAME and TANDEM_SMTP_PASSWORD instead, which no process list shows".into());
        }
        let tls = url.scheme() == "smtps"
            || url.query_pairs().any(|(key, value)| key == "tls" && value == "required");
        let local = url.host_str().is_some_and(|host| matches!(host, "localhost" | "127.0.0.1" | "[::1]"));
        if settings.credentials.is_some() && !tls && !local {
            return Err(format!(
                "--smtp-url {}: a password goes only over TLS; use smtps://… or add ?tls=required",
                settings.url
            ));
        }
        let from = settings.from.parse::<Mailbox>().map_err(|error| {
            format!(
                "--mail-from {:?} is not an address such as 'Support <support@example.com>' ({error})",
                settings.from
            )
        })?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|error| format!("--smtp-url {}: {error}", settings.url))?
            .timeout(Some(settings.timeout));
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self { transport: builder.build(), from, settings, due: tokio::sync::Notify::new() })
    }
}

/// A mail's words, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a letter says around its content, per language (English where none is written).
struct Words {
    lang: &'static str,
    left_subject: &'static str,
    left_intro: &'static str,
    transcript_subject: &'static str,
    transcript_intro: &'static str,
    you: &'static str,
    assistant: &'static str,
    file: &'static str,
}

const ENGLISH: Words = Words {
    lang: "en",
    left_subject: "Message from {email}",
    left_intro: "{email} left a message on {page} while nobody could answer. Reply to this mail to answer them.",
    transcript_subject: "Your conversation with {merchant}",
    transcript_intro: "Here is your conversation with {merchant}, as you asked.",
    you: "You",
    assistant: "Assistant",
    file: "File",
};

const SWEDISH: Words = Words {
    lang: "sv",
    left_subject: "Meddelande från {email}",
    left_intro: "{email} lämnade ett meddelande på {page} när ingen kunde svara. Svara på det här mejlet för att svara.",
    transcript_subject: "Ditt samtal med {merchant}",
    transcript_intro: "Här är ditt samtal med {merchant}, som du bad om.",
    you: "Du",
    assistant: "Assistent",
    file: "Fil",
};

const GERMAN: Words = Words {
    lang: "de",
    left_subject: "Nachricht von {email}",
    left_intro: "{email} hat auf {page} eine Nachricht hinterlassen, als niemand antworten konnte. Antworten Sie auf diese Mail, um zu antworten.",
    transcript_subject: "Ihr Gespräch mit {merchant}",
    transcript_intro: "Hier ist Ihr Gespräch mit {merchant}, wie gewünscht.",
    you: "Sie",
    assistant: "Assistent",
    file: "Datei",
};

fn words(locale: &str) -> &'static Words {
    match locale.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase().as_str() {
        "sv" => &SWEDISH,
        "de" => &GERMAN,
        _ => &ENGLISH,
    }
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    pairs.iter().fold(template.to_owned(), |text, (key, value)| text.replace(&format!("{{{key}}}"), value))
}

/// Text as HTML text: nothing the customer typed is markup.
fn escape(text: &str) -> String {
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
        out
    })
}

/// A letter of an introduction and lines said by someone, as plain text and simple HTML.
fn letter(words: &Words, subject: String, intro: &str, lines: &[(String, String)]) -> Letter {
    let mut text = format!("{intro}\n\n");
    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif;line-height:1.5\"><p>{}</p>",
        words.lang,
        escape(intro)
    );
    for (who, said) in lines {
        text.push_str(&format!("{who}: {said}\n"));
        html.push_str(&format!(
            "<p style=\"white-space:pre-wrap;margin:0 0 .5em\"><strong>{}:</strong> {}</p>",
            escape(who),
            escape(said)
        ));
    }
    html.push_str("</body></html>");
    Letter { subject, text, html }
}

/// The mail to the merchant's support address for a message left (the customer is its
/// Reply-To), in the customer's language.
pub fn message_left_letter(message: &LeaveMessage) -> Letter {
    let words = words(&message.locale);
    let intro = fill(words.left_intro, &[("email", &message.email), ("page", &message.page_url)]);
    let mut lines = bot_lines(words, &message.transcript);
    lines.push((message.email.clone(), message.text.clone()));
    letter(words, fill(words.left_subject, &[("email", &message.email)]), &intro, &lines)
}

/// The transcript a customer asked for: what the bot heard and every message, in the
/// conversation's language.
pub fn transcript_letter(
    merchant: &Merchant,
    conversation: &Conversation,
    messages: &[ChatMessage],
) -> Letter {
    let words = words(&conversation.locale);
    let name = [("merchant", merchant.display_name.as_str())];
    let mut lines = bot_lines(words, &conversation.transcript);
    lines.extend(messages.iter().map(|message| {
        let who = match &message.author {
            Author::Customer => words.you.to_owned(),
            Author::Agent { name } => name.clone(),
        };
        let said = match &message.attachment {
            Some(file) => format!("[{}: {}]", words.file, file.name),
            None => message.text.clone(),
        };
        (who, said)
    }));
    letter(words, fill(words.transcript_subject, &name), &fill(words.transcript_intro, &name), &lines)
}

fn bot_lines(words: &Words, transcript: &[TranscriptEntry]) -> Vec<(String, String)> {
    let who = |from| match from {
        TranscriptSpeaker::Customer => words.you,
        TranscriptSpeaker::Bot => words.assistant,
    };
    transcript.iter().map(|entry| (who(entry.from).to_owned(), entry.text.clone())).collect()
}

/// Whether `address` is one a mail can be sent to (stricter than `validate_email`: what SMTP and
/// lettre take), in words for the customer.
pub fn check_address(address: &str) -> Result<(), &'static str> {
    tandem_protocol::validate_email(address)?;
    address
        .parse::<lettre::Address>()
        .map(drop)
        .map_err(|_| "enter an email address such as name@example.com")
}

/// Queues `mail` and wakes the loop; `false` when its conversation had its mails already.
/// `Ok(false)` too with no mail server, where nothing is queued.
pub async fn queue(
    state: &AppState,
    mail: NewMail,
    most_per_conversation: u32,
) -> Result<bool, crate::store::StoreError> {
    let Some(mailer) = &state.mailer else { return Ok(false) };
    let queued = state.store.enqueue_mail(&mail, most_per_conversation).await?;
    if queued {
        mailer.due.notify_one();
    }
    Ok(queued)
}

/// The mail of a message left, to the merchant's support address; nothing without a mail
/// server or a support address. A failure is logged: the message is stored and in the console.
pub async fn tell_support(state: &AppState, merchant: &Merchant, message: &LeaveMessage, id: i64) {
    let Some(support) = merchant.support_email.clone() else { return };
    if state.mailer.is_none() {
        return;
    }
    let letter = message_left_letter(message);
    let mail = NewMail {
        id: crate::tokens::new_id(),
        merchant_id: merchant.id.clone(),
        conversation_id: None,
        left_message_id: Some(id),
        kind: "message_left",
        to: support,
        // An address SMTP would refuse goes without a Reply-To rather than not at all.
        reply_to: check_address(&message.email).is_ok().then(|| message.email.clone()),
        subject: letter.subject,
        text: letter.text,
        html: letter.html,
        now_ms: now_ms(),
    };
    if let Err(error) = queue(state, mail, 0).await {
        tracing::error!(%error, merchant = %merchant.id, "could not queue the mail of a message left");
    }
}

/// Sends what is due, until the server shuts down: at once when a mail is queued here, and
/// every second for retries and other instances' mails. Nothing without a mail server.
pub fn spawn(state: AppState) {
    let Some(mailer) = state.mailer.clone() else { return };
    tokio::spawn(async move {
        let mut shutdown = state.shutting_down();
        let mut tick = tokio::time::interval(mailer.settings.first_retry.min(Duration::from_secs(1)));
        loop {
            tokio::select! {
                _ = tick.tick() => send_due(&state, &mailer).await,
                () = mailer.due.notified() => send_due(&state, &mailer).await,
                _ = shutdown.changed() => break,
            }
        }
    });
}

async fn send_due(state: &AppState, mailer: &Arc<Mailer>) {
    // Each attempt ends within the timeout, well before its lease: no other instance takes it meanwhile.
    let lease_ms = i64::try_from(mailer.settings.timeout.as_millis()).unwrap_or(i64::MAX).saturating_mul(3);
    let due = match state.store.claim_mails(now_ms(), lease_ms, BATCH).await {
        Ok(due) => due,
        Err(error) => return tracing::warn!(%error, "could not read the mails due; trying again shortly"),
    };
    let sent = due.into_iter().map(|mail| async move {
        let attempt = match send(mailer, &mail).await {
            Ok(()) => Attempt::Delivered,
            Err(Failed { error, permanent }) => {
                let retry = crate::outbox::retry_at(
                    mailer.settings.first_retry,
                    mail.attempts,
                    mail.created_at_ms,
                    now_ms(),
                );
                tracing::warn!(mail = %mail.id, %error, permanent, "a mail was not sent");
                Attempt::Failed { error, retry_at_ms: retry.filter(|_| !permanent) }
            }
        };
        if let Err(error) = state.store.record_mail_attempt(&mail.id, &attempt, now_ms()).await {
            tracing::warn!(%error, mail = %mail.id, "could not record a mail attempt; it is tried again");
        }
    });
    futures_util::future::join_all(sent).await;
}

/// Why an attempt failed, and whether trying again can help: only a mail that cannot be written
/// (an address no server takes) is given up at once; whatever the mail server answers, a
/// refusal for a setting of its own included (a password, a relay), is tried again until the
/// day is over, so that fixing the server's settings loses nothing.
struct Failed {
    error: String,
    permanent: bool,
}

async fn send(mailer: &Mailer, mail: &DueMail) -> Result<(), Failed> {
    let bad = |error: String| Failed { error, permanent: true };
    let to = mail.to.parse::<Mailbox>().map_err(|error| bad(format!("to {:?}: {error}", mail.to)))?;
    let mut builder = Message::builder().from(mailer.from.clone()).to(to).subject(&mail.subject);
    if let Some(reply_to) = &mail.reply_to {
        builder = builder
            .reply_to(reply_to.parse().map_err(|error| bad(format!("reply-to {reply_to:?}: {error}")))?);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|error| bad(format!("could not write the mail: {error}")))?;
    let again = |error: String| Failed { error, permanent: false };
    match tokio::time::timeout(mailer.settings.timeout, mailer.transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(again(error.to_string())),
        Err(_) => Err(again(format!("no answer within {} s", mailer.settings.timeout.as_secs()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_message_mail_is_in_the_customers_language_and_its_html_is_text() {
        let message = LeaveMessage {
            email: "kund@example.se".into(),
            text: "Var är <b>min</b> order?".into(),
            locale: "sv-SE".into(),
            page_url: "https://shop.example/checkout".into(),
            transcript: vec![TranscriptEntry { from: TranscriptSpeaker::Customer, text: "order".into() }],
        };
        let letter = message_left_letter(&message);
        assert_eq!(letter.subject, "Meddelande från kund@example.se");
        assert!(
            letter.text.contains("Du: order\nkund@example.se: Var är <b>min</b> order?"),
            "{}",
            letter.text
        );
        assert!(letter.html.contains("Var är &lt;b&gt;min&lt;/b&gt; order?"), "{}", letter.html);
        assert!(letter.html.starts_with("<!doctype html><html lang=\"sv\">"));
    }

    #[test]
    fn mail_settings_are_checked_with_words_that_say_what_to_change() {
        let with = |url: &str, from: &str| Mailer::new(Settings::new(url, from)).map(drop);
        assert!(with("smtps://mail.example.com", "Support <support@example.com>").is_ok());
        assert!(with("smtp://127.0.0.1:2525", "support@example.com").is_ok());
        assert!(
            with("smtps://user:secret@mail.example.com", "support@example.com")
                .is_err_and(|e| e.contains("TANDEM_SMTP_PASSWORD"))
        );
        assert!(
            with("https://mail.example.com", "support@example.com").is_err_and(|e| e.contains("smtps://"))
        );
        assert!(with("smtps://mail.example.com", "not an address").is_err_and(|e| e.contains("--mail-from")));
        let with_password = |url: &str| {
            let mut settings = Settings::new(url, "support@example.com");
            settings.credentials = Some(("support".into(), "secret".into()));
            Mailer::new(settings).map(drop)
        };
        assert!(with_password("smtp://mail.example.com").is_err_and(|e| e.contains("only over TLS")));
        assert!(with_password("smtp://mail.example.com?tls=required").is_ok());
        assert!(with_password("smtp://127.0.0.1:25").is_ok(), "a relay on this machine");
        assert!(check_address("a..b@example.com").is_err(), "what SMTP refuses is refused when asked");
        assert!(check_address("kim@example.com").is_ok());
    }
}
