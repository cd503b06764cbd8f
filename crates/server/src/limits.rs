//! Rate limits, so that one noisy client cannot crowd out the others.
//!
//! Addresses are limited by network as well as by host: an IPv4 address by itself, an IPv6
//! address by its /64 (one subscriber's network, through which a client can rotate freely).

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// A limiter per key, on the clock `C` (the real one; a fake one in tests).
type Keyed<K, C> = RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

pub struct Limits<C: Clock = DefaultClock> {
    messages_per_sender: Keyed<String, C>,
    messages_per_ip: Keyed<IpAddr, C>,
    conversations_per_ip: Keyed<IpAddr, C>,
    /// Files uploaded from one network, across its conversations (each has its hourly ten).
    files_per_ip: Keyed<IpAddr, C>,
    logins_per_ip: Keyed<IpAddr, C>,
    /// Sign-ins to one account from one network: guessing one agent's password is slow, and
    /// someone else's failures never lock the agent out where they sign in themselves.
    logins_per_account: Keyed<(String, IpAddr), C>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Default for Limits {
    fn default() -> Self {
        Self::with_clock(&DefaultClock::default())
    }
}

/// The key an address is counted under: an IPv4 address (also one written as IPv6), or an
/// IPv6 address's /64.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
        },
    }
}

fn keyed<K: Hash + Eq + Clone, C: Clock + Clone>(quota: Quota, clock: &C) -> Keyed<K, C> {
    RateLimiter::dashmap_with_clock(quota, clock.clone())
}

impl<C: Clock + Clone> Limits<C> {
    pub fn with_clock(clock: &C) -> Self {
        Self {
            // A person types far slower than one message a second on average.
            messages_per_sender: keyed(quota(60, 10), clock),
            // Room for an office of agents behind one address.
            messages_per_ip: keyed(quota(600, 60), clock),
            conversations_per_ip: keyed(quota(10, 10), clock),
            files_per_ip: keyed(quota(30, 20), clock),
            logins_per_ip: keyed(quota(10, 10), clock),
            logins_per_account: keyed(quota(5, 5), clock),
        }
    }

    /// `sender` is a conversation (customer) or an agent; both it and the address must have room.
    pub fn allow_message(&self, sender: &str, ip: Option<IpAddr>) -> bool {
        self.messages_per_sender.check_key(&sender.to_owned()).is_ok()
            && ip.is_none_or(|ip| self.messages_per_ip.check_key(&network(ip)).is_ok())
    }

    pub fn allow_file(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.files_per_ip.check_key(&network(ip)).is_ok())
    }

    pub fn allow_new_conversation(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.conversations_per_ip.check_key(&network(ip)).is_ok())
    }

    pub fn allow_login(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.logins_per_ip.check_key(&network(ip)).is_ok())
    }

    /// A sign-in to `email` (as typed, any case) from `ip`'s network.
    pub fn allow_login_to(&self, email: &str, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| {
            self.logins_per_account.check_key(&(email.trim().to_lowercase(), network(ip))).is_ok()
        })
    }

    /// Forgets the keys whose budget is whole again, so that the maps hold only the clients
    /// of the last minute or so (run on a timer).
    pub fn prune(&self) {
        self.messages_per_sender.retain_recent();
        self.messages_per_ip.retain_recent();
        self.conversations_per_ip.retain_recent();
        self.logins_per_ip.retain_recent();
        self.logins_per_account.retain_recent();
    }

    /// How many keys the limiters hold (for tests of bounded memory).
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.messages_per_sender.len()
            + self.messages_per_ip.len()
            + self.conversations_per_ip.len()
            + self.logins_per_ip.len()
            + self.logins_per_account.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(network(a), network(b));
        assert_ne!(network(a), network(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(network(mapped), "192.0.2.7".parse::<IpAddr>().expect("ip"));

        let limits = Limits::default();
        let in_one_network = (0..10u16).map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, 0, 0, 1)));
        assert!(in_one_network.into_iter().all(|ip| limits.allow_new_conversation(Some(ip))));
        assert!(!limits.allow_new_conversation(Some(b)), "the 11th from the same /64 waits");
        assert!(limits.allow_new_conversation(Some(other)), "another /64 has its own budget");
    }

    /// Memory stays bounded: a key whose budget is whole again is forgotten by `prune`.
    #[test]
    fn ten_thousand_clients_are_forgotten_once_their_budgets_refill() {
        let clock = governor::clock::FakeRelativeClock::default();
        let limits = Limits::with_clock(&clock);
        for i in 0..10_000u32 {
            let ip = Some(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
            assert!(limits.allow_new_conversation(ip) && limits.allow_message(&format!("c{i}"), ip));
            assert!(limits.allow_login(ip) && limits.allow_login_to("anna@shop.example", ip));
        }
        assert_eq!(limits.keys(), 50_000);
        limits.prune();
        assert_eq!(limits.keys(), 50_000, "each used its budget a moment ago");
        clock.advance(std::time::Duration::from_secs(61));
        limits.prune();
        assert_eq!(limits.keys(), 0);
    }

    #[test]
    fn an_account_is_throttled_per_network_only() {
        let limits = Limits::default();
        let attacker: IpAddr = "198.51.100.9".parse().expect("ip");
        let agent: IpAddr = "203.0.113.5".parse().expect("ip");
        assert!((0..5).all(|_| limits.allow_login_to("anna@shop.example", Some(attacker))));
        assert!(!limits.allow_login_to("ANNA@shop.example", Some(attacker)), "any case, same account");
        assert!(limits.allow_login_to("anna@shop.example", Some(agent)), "Anna herself is not locked out");
    }

    /// One network's sockets are capped however many conversations they are spread over (as
    /// `extract::socket_slot` counts them: the network, then the conversation); a neighbour
    /// network is not, and a closed socket makes room.
    #[test]
    fn sockets_are_capped_per_network_across_conversations() {
        let sockets = std::sync::Arc::new(Sockets::default());
        let slot = |ip: &str, conversation: usize| {
            let network = SocketKey::Network(network(ip.parse().expect("ip")));
            let chat = SocketKey::Conversation(tandem_protocol::ConversationId(format!("c{conversation}")));
            sockets.open(&[(network, SOCKETS_PER_NETWORK), (chat, SOCKETS_PER_CONVERSATION)])
        };
        let mut open: Vec<Slot> = (0..SOCKETS_PER_NETWORK)
            .map(|i| slot(&format!("2001:db8::{:x}", i % 7), i))
            .map(|slot| slot.expect("room"))
            .collect();
        assert!(slot("2001:db8::99", 9_999).is_none(), "the network is full, whatever the conversation");
        assert!(slot("2001:db8:0:1::1", 9_999).is_some(), "the next /64 is another network");
        open.pop();
        assert!(slot("2001:db8::99", 9_999).is_some(), "a closed socket makes room");
    }
}

/// What open WebSockets are counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SocketKey {
    /// A client's network (see [`network`]).
    Network(IpAddr),
    /// One customer's conversation, in however many tabs.
    Conversation(tandem_protocol::ConversationId),
    /// One agent, on however many consoles.
    Agent(i64),
    /// A customer page past `hello`: the customer is here (never capped, only counted).
    Present(tandem_protocol::ConversationId),
}

/// Customer sockets of one conversation (tabs of one customer).
pub const SOCKETS_PER_CONVERSATION: usize = 8;
/// Sockets from one network: room for an office or a mobile carrier's shared address.
pub const SOCKETS_PER_NETWORK: usize = 500;
/// Consoles of one agent.
pub const SOCKETS_PER_AGENT: usize = 8;

/// Open WebSockets by key, so that nobody holds more than their share of the server's sockets.
#[derive(Debug, Default)]
pub struct Sockets {
    open: std::sync::Mutex<std::collections::HashMap<SocketKey, usize>>,
}

/// A socket's place, given back when it is dropped (the session ends, however it ends).
#[derive(Debug)]
pub struct Slot {
    sockets: std::sync::Arc<Sockets>,
    keys: Vec<SocketKey>,
}

impl Sockets {
    /// A place counted under each key, or `None` when one of them has no room (each key
    /// comes with its cap).
    pub fn open(self: &std::sync::Arc<Self>, wanted: &[(SocketKey, usize)]) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if wanted.iter().any(|(key, cap)| open.get(key).copied().unwrap_or(0) >= *cap) {
            return None;
        }
        for (key, _) in wanted {
            *open.entry(key.clone()).or_default() += 1;
        }
        Some(Slot { sockets: self.clone(), keys: wanted.iter().map(|(key, _)| key.clone()).collect() })
    }
}

impl Sockets {
    /// How many places are open under `key`.
    pub fn count(&self, key: &SocketKey) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).get(key).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.sockets.open.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(count) = open.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}
