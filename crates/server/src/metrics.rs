//! `GET /metrics`: what an operator watches, in the OpenMetrics text format Prometheus scrapes.
//! Counters and the commit histogram are kept as things happen; the live figures (waiting
//! customers, dispatch leadership) are read from the dispatchers when scraped.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OfMerchant {
    merchant: String,
}

/// Which live channel a socket is.
#[derive(Debug, Clone, Copy)]
pub enum SocketKind {
    Customer,
    Agent,
}

/// What became of an offer.
#[derive(Debug, Clone, Copy)]
pub enum OfferOutcome {
    Made,
    Declined,
    Expired,
}

pub struct Metrics {
    registry: Registry,
    sockets: Family<Kind, Gauge>,
    offers: Family<Outcome, Counter>,
    commits: Histogram,
    waiting: Family<OfMerchant, Gauge>,
    leading: Family<OfMerchant, Gauge>,
    leads: Gauge,
    notify_lag: Histogram,
    settings: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tandem");
        let sockets = Family::<Kind, Gauge>::default();
        registry.register("live_sockets", "Open live WebSockets, by channel", sockets.clone());
        let offers = Family::<Outcome, Counter>::default();
        registry.register("offers", "Offers made to agents, declined and expired", offers.clone());
        // 0.5 ms to about 4 s.
        let commits = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "message_commit_seconds",
            "Time to commit a message, from its frame to its ack",
            commits.clone(),
        );
        let waiting = Family::<OfMerchant, Gauge>::default();
        registry.register(
            "waiting_customers",
            "Customers waiting for a person, by merchant",
            waiting.clone(),
        );
        let leading = Family::<OfMerchant, Gauge>::default();
        registry.register(
            "dispatch_leader",
            "1 for each merchant whose customers this instance dispatches",
            leading.clone(),
        );
        let leads = Gauge::default();
        registry.register(
            "dispatch_leading",
            "1 while this instance dispatches (alone, or leading the others on one PostgreSQL)",
            leads.clone(),
        );
        // 0.5 ms to about 4 s.
        let notify_lag = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "notify_lag_seconds",
            "Time from another instance publishing a live event to this one hearing it",
            notify_lag.clone(),
        );
        let settings = Gauge::default();
        registry.register(
            "settings_version",
            "The version of the merchants' settings this instance has taken up",
            settings.clone(),
        );
        Self { registry, sockets, offers, commits, waiting, leading, leads, notify_lag, settings }
    }
}

impl Metrics {
    /// Counts a socket while the returned guard lives.
    pub fn socket_open(self: &std::sync::Arc<Self>, kind: SocketKind) -> OpenSocket {
        let gauge = self.sockets.get_or_create(&Kind { kind: kind.label() }).clone();
        gauge.inc();
        OpenSocket(gauge)
    }

    pub fn offer(&self, outcome: OfferOutcome) {
        let outcome = match outcome {
            OfferOutcome::Made => "made",
            OfferOutcome::Declined => "declined",
            OfferOutcome::Expired => "expired",
        };
        self.offers.get_or_create(&Outcome { outcome }).inc();
    }

    /// The merchants' settings at `version` are in force here.
    pub fn settings_taken_up(&self, version: i64) {
        self.settings.set(version);
    }

    /// Another instance's event arrived `lag_ms` after it was sent (clocks a little apart may
    /// make it negative: counted as zero).
    pub fn notify_lag(&self, lag_ms: i64) {
        #[allow(clippy::cast_precision_loss)]
        self.notify_lag.observe(lag_ms.max(0) as f64 / 1000.0);
    }

    pub fn committed(&self, took: Duration) {
        self.commits.observe(took.as_secs_f64());
    }

    /// The exposition, with `merchants` (each with its waiting customers) as this instance
    /// sees them now, and whether it dispatches them.
    pub fn render(&self, merchants: &[(String, usize)], leading: bool) -> String {
        for (merchant, waiting) in merchants {
            let label = OfMerchant { merchant: merchant.clone() };
            self.waiting.get_or_create(&label).set(i64::try_from(*waiting).unwrap_or(i64::MAX));
            self.leading.get_or_create(&label).set(i64::from(leading));
        }
        self.leads.set(i64::from(leading));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl SocketKind {
    fn label(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
        }
    }
}

/// A socket counted in `tandem_live_sockets` until dropped.
pub struct OpenSocket(Gauge);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.dec();
    }
}
