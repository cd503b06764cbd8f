//! Rate limits, so that one noisy client cannot crowd out the others.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota};

pub struct Limits {
    messages_per_sender: DefaultKeyedRateLimiter<String>,
    messages_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    conversations_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    logins_per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A person types far slower than one message a second on average.
            messages_per_sender: DefaultKeyedRateLimiter::keyed(quota(60, 10)),
            // Room for an office of agents behind one address.
            messages_per_ip: DefaultKeyedRateLimiter::keyed(quota(600, 60)),
            conversations_per_ip: DefaultKeyedRateLimiter::keyed(quota(10, 10)),
            logins_per_ip: DefaultKeyedRateLimiter::keyed(quota(10, 10)),
        }
    }
}

impl Limits {
    /// `sender` is a conversation (customer) or an agent; both it and the address must have room.
    pub fn allow_message(&self, sender: &str, ip: Option<IpAddr>) -> bool {
        self.messages_per_sender.check_key(&sender.to_owned()).is_ok()
            && ip.is_none_or(|ip| self.messages_per_ip.check_key(&ip).is_ok())
    }

    pub fn allow_new_conversation(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.conversations_per_ip.check_key(&ip).is_ok())
    }

    pub fn allow_login(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.logins_per_ip.check_key(&ip).is_ok())
    }
}
