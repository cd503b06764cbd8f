//! Signed webhooks: a merchant's CRM or helpdesk hears of each conversation.
//!
//! An event is written to an outbox table (`webhook_deliveries`) with the change that caused
//! it, one row per webhook that takes it; a loop sends what is due, signed with the webhook's
//! secret, and tries again with backoff (10 s doubling, at most an hour apart) for 24 hours,
//! so a receiver that is down loses nothing. Every instance on a PostgreSQL database runs the
//! loop; a delivery is claimed by one at a time. See `docs/api.md#webhooks`.
//!
//! A webhook's URL is https on a public address: it is checked when added and again, by the
//! address it resolves to, before each delivery (which then goes to that very address), so
//! that a merchant cannot make the server call into its own network.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tandem_protocol::MerchantId;

use crate::AppState;
use crate::live::now_ms;
use crate::store::{Attempt, DueDelivery};

/// What a webhook can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ConversationStarted,
    AgentJoined,
    /// With the whole conversation.
    ConversationEnded,
    ConversationRated,
    MessageLeft,
    /// The customer left before a person answered.
    ConversationAbandoned,
}

impl Event {
    pub const ALL: [Self; 6] = [
        Self::ConversationStarted,
        Self::AgentJoined,
        Self::ConversationEnded,
        Self::ConversationRated,
        Self::MessageLeft,
        Self::ConversationAbandoned,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::ConversationStarted => "conversation_started",
            Self::AgentJoined => "agent_joined",
            Self::ConversationEnded => "conversation_ended",
            Self::ConversationRated => "conversation_rated",
            Self::MessageLeft => "message_left",
            Self::ConversationAbandoned => "conversation_abandoned",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.name() == name)
    }
}

/// How deliveries are made; the defaults are the product's, tests shorten the waits.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// Loopback addresses (and plain http to them) are allowed: for tests, never in production.
    pub allow_loopback: bool,
    /// The wait before the first retry; each next one doubles, up to an hour.
    pub first_retry: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Self { allow_loopback: false, first_retry: Duration::from_secs(10), timeout: Duration::from_secs(10) }
    }
}

/// Deliveries sent at once by one instance.
const BATCH: u32 = 20;

/// Why a webhook URL is refused, in words for the merchant.
pub fn check_url(raw: &str, allow_loopback: bool) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw).map_err(|error| format!("{raw} is not a URL ({error})"))?;
    let host = url.host_str().ok_or_else(|| format!("{raw} names no host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a webhook URL carries no user name or password; the signature authenticates us".into());
    }
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        _ => return Err(format!("{raw}: webhooks are sent only to https URLs")),
    }
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>()
        && !allowed_address(ip, allow_loopback)
    {
        return Err(format!("{raw}: {ip} is a private or reserved address; webhooks go to public ones"));
    }
    if host == "localhost" && !allow_loopback {
        return Err(format!("{raw}: localhost is not a public address; webhooks go to public ones"));
    }
    Ok(url)
}

/// A public address: none of loopback, private, link-local, shared (CGNAT), documentation,
/// multicast, broadcast or unspecified ones (an IPv4 address inside IPv6 as itself).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || (first == 0x2001 && v6.segments()[1] == 0x0db8))
            }
        },
    }
}

fn allowed_address(ip: IpAddr, allow_loopback: bool) -> bool {
    is_public(ip) || (allow_loopback && ip.is_loopback())
}

/// The address `url` is sent to: what its host resolves to, every address of it allowed.
async fn resolve(url: &reqwest::Url, allow_loopback: bool) -> Result<SocketAddr, String> {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|error| format!("{host} could not be resolved: {error}"))?
        .collect();
    if let Some(refused) = addresses.iter().find(|address| !allowed_address(address.ip(), allow_loopback)) {
        return Err(format!("{host} resolves to {}, which is not a public address", refused.ip()));
    }
    addresses.first().copied().ok_or_else(|| format!("{host} has no address"))
}

/// The `Tandem-Signature` header of a delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>" under the secret>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether one of the merchant's webhooks takes `event`: read first, so that a merchant
/// without webhooks costs a small read per event, never a write or the event's data.
pub async fn wanted(state: &AppState, merchant: &MerchantId, event: Event) -> bool {
    match state.store.webhooks(merchant).await {
        Ok(webhooks) => webhooks.iter().any(|webhook| webhook.events.iter().any(|e| e == event.name())),
        Err(error) => {
            tracing::error!(%error, event = event.name(), "could not read the merchant's webhooks");
            false
        }
    }
}

/// Owes `data` as `event` to each of the merchant's webhooks that takes it. Called after the
/// change is stored; a failure here is logged and the change stands (the event is lost only
/// when the database cannot be written, which the change itself just was).
pub async fn emit(state: &AppState, merchant: &MerchantId, event: Event, data: Value) {
    if !wanted(state, merchant, event).await {
        return;
    }
    send_later(state, merchant, event, data).await;
}

/// [`emit`] once [`wanted`] said yes.
pub async fn send_later(state: &AppState, merchant: &MerchantId, event: Event, data: Value) {
    let at_ms = now_ms();
    let event_id = crate::tokens::new_id();
    let body = serde_json::json!({
        "id": event_id,
        "event": event.name(),
        "merchant_id": merchant,
        "at_ms": at_ms,
        "data": data,
    });
    let queued =
        state.store.enqueue_deliveries(merchant, event.name(), &event_id, &body.to_string(), at_ms).await;
    match queued {
        Ok(0) => {}
        Ok(_) => state.webhooks_due.notify_one(),
        Err(error) => tracing::error!(%error, event = event.name(), "could not queue a webhook event"),
    }
}

/// Sends what is due, until the server shuts down: at once when an event is queued here, and
/// every second for retries and other instances' events.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut shutdown = state.shutting_down();
        let every = state.webhook_delivery.first_retry.min(Duration::from_secs(1));
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => send_due(&state).await,
                () = state.webhooks_due.notified() => send_due(&state).await,
                _ = shutdown.changed() => break,
            }
        }
    });
}

async fn send_due(state: &AppState) {
    let settings = state.webhook_delivery;
    let lease_ms = i64::try_from(settings.timeout.as_millis()).unwrap_or(i64::MAX).saturating_mul(2);
    let due = match state.store.claim_deliveries(now_ms(), lease_ms, BATCH).await {
        Ok(due) => due,
        Err(error) => {
            return tracing::warn!(%error, "could not read the webhook deliveries due; trying again shortly");
        }
    };
    let sent = due.into_iter().map(|delivery| async move {
        let attempt = match send(&delivery, settings).await {
            Ok(()) => Attempt::Delivered,
            Err(error) => Attempt::Failed {
                retry_at_ms: crate::outbox::retry_at(
                    settings.first_retry,
                    delivery.attempts,
                    delivery.created_at_ms,
                    now_ms(),
                ),
                error,
            },
        };
        if let Err(error) = state.store.record_attempt(&delivery.id, &attempt, now_ms()).await {
            tracing::warn!(%error, delivery = %delivery.id, "could not record a webhook attempt; it is tried again");
        }
    });
    futures_util::future::join_all(sent).await;
}

/// One attempt: a `POST` of the body, signed, to the address the URL resolves to now; any
/// 2xx answer within the timeout is delivered.
async fn send(delivery: &DueDelivery, settings: Delivery) -> Result<(), String> {
    let url = check_url(&delivery.url, settings.allow_loopback)?;
    let address = resolve(&url, settings.allow_loopback).await?;
    let client = reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(url.host_str().unwrap_or_default(), address)
        .build()
        .map_err(|error| format!("could not make a client: {error}"))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Tandem-Webhooks/1")
        .header("tandem-event", &delivery.event)
        .header("tandem-delivery", &delivery.id)
        .header("tandem-signature", signature(&delivery.secret, now_ms() / 1000, &delivery.body))
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|error| format!("no answer: {error}"))?;
    if response.status().is_success() { Ok(()) } else { Err(format!("answered {}", response.status())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_on_public_addresses_are_taken() {
        assert!(check_url("https://crm.example.com/hooks/tandem", false).is_ok());
        for refused in [
            "http://crm.example.com/hook",
            "https://10.0.0.8/hook",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://localhost/",
            "https://user:pass@crm.example.com/",
            "ftp://crm.example.com/",
            "not a url",
        ] {
            assert!(check_url(refused, false).is_err(), "{refused}");
        }
        assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok(), "loopback, in tests");
        assert!(check_url("http://10.0.0.8/hook", true).is_err(), "never a private address");
        assert!(is_public("93.184.216.34".parse().expect("ip")));
        assert!(!is_public("100.64.0.1".parse().expect("ip")));
        assert!(!is_public("::ffff:10.0.0.1".parse().expect("ip")));
    }

    #[test]
    fn a_signature_is_the_hmac_of_the_time_and_the_body() {
        // Verified with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec
        assert_eq!(
            signature("whsec", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032"
        );
    }
}
