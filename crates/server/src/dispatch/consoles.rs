//! Who has which consoles open. Each instance counts its own, to announce them to a new
//! leader; the instance that dispatches counts every instance's, so that an announcement is
//! applied as the difference it makes (announcing twice, or after a console's own connect, changes
//! nothing) and so that the consoles of an instance that is gone can be closed.

use std::collections::{BTreeSet, HashMap};

use tandem_dispatch::AgentProfile;
use tandem_protocol::{MerchantId, Presence};

use super::Change;
use crate::store::AgentId;

/// One agent's consoles on this instance.
#[derive(Debug, Clone)]
struct Local {
    profile: AgentProfile,
    open: u32,
    presence: Presence,
}

#[derive(Default)]
pub struct Consoles {
    local: HashMap<(MerchantId, AgentId), Local>,
    /// Where this instance dispatches: the consoles open on each instance (by its name).
    by_instance: HashMap<(String, MerchantId, AgentId), u32>,
}

impl Consoles {
    /// Counts a change this instance's consoles make.
    pub fn remember(&mut self, merchant: &MerchantId, change: &Change) {
        match change {
            Change::Connect(profile) => {
                let key = (merchant.clone(), profile.id);
                let local = self.local.entry(key).or_insert_with(|| Local {
                    profile: profile.clone(),
                    open: 0,
                    presence: Presence::Online,
                });
                local.open += 1;
            }
            Change::Disconnect(agent) => {
                let key = (merchant.clone(), *agent);
                if let Some(local) = self.local.get_mut(&key) {
                    local.open = local.open.saturating_sub(1);
                    if local.open == 0 {
                        self.local.remove(&key);
                    }
                }
            }
            Change::SetPresence(agent, presence) => {
                if let Some(local) = self.local.get_mut(&(merchant.clone(), *agent)) {
                    local.presence = *presence;
                }
            }
            _ => {}
        }
    }

    /// This instance's consoles, as the announcements that tell a leader of them.
    pub fn announcements(&self) -> Vec<(MerchantId, Change)> {
        self.local
            .iter()
            .map(|((merchant, _), local)| {
                let announce = Change::Announce {
                    profile: local.profile.clone(),
                    open: local.open,
                    presence: local.presence,
                };
                (merchant.clone(), announce)
            })
            .collect()
    }

    /// What the dispatcher is to do for `change`, which `instance` asked for: a console's
    /// connect or disconnect as it is (a disconnect of a console not counted is dropped), an
    /// announcement as the connects or disconnects that bring the count to what it says.
    pub fn count(&mut self, instance: &str, merchant: &MerchantId, change: Change) -> Vec<Change> {
        match change {
            Change::Connect(profile) => {
                *self.by_instance.entry((instance.to_owned(), merchant.clone(), profile.id)).or_default() +=
                    1;
                vec![Change::Connect(profile)]
            }
            Change::Disconnect(agent) => {
                let key = (instance.to_owned(), merchant.clone(), agent);
                match self.by_instance.get_mut(&key) {
                    Some(open) if *open > 1 => {
                        *open -= 1;
                        vec![Change::Disconnect(agent)]
                    }
                    Some(_) => {
                        self.by_instance.remove(&key);
                        vec![Change::Disconnect(agent)]
                    }
                    None => Vec::new(),
                }
            }
            Change::Announce { profile, open, presence } => {
                let key = (instance.to_owned(), merchant.clone(), profile.id);
                let known = self.by_instance.get(&key).copied().unwrap_or(0);
                if open == 0 {
                    self.by_instance.remove(&key);
                } else {
                    self.by_instance.insert(key, open);
                }
                let mut changes: Vec<Change> = if open >= known {
                    (known..open).map(|_| Change::Connect(profile.clone())).collect()
                } else {
                    (open..known).map(|_| Change::Disconnect(profile.id)).collect()
                };
                if open > 0 && presence != Presence::Online {
                    changes.push(Change::SetPresence(profile.id, presence));
                }
                changes
            }
            Change::Remove(agent) => {
                self.by_instance.retain(|(_, m, a), _| !(m == merchant && *a == agent));
                vec![Change::Remove(agent)]
            }
            other => vec![other],
        }
    }

    /// Forgets every instance's consoles (a new leader learns them again).
    pub fn forget_instances(&mut self) {
        self.by_instance.clear();
    }

    /// The instances with consoles counted.
    pub fn instances(&self) -> BTreeSet<String> {
        self.by_instance.keys().map(|(instance, _, _)| instance.clone()).collect()
    }

    /// The consoles of `instance`, now forgotten: the merchant and agent of each.
    pub fn take_instance(&mut self, instance: &str) -> Vec<(MerchantId, AgentId)> {
        let mut taken = Vec::new();
        self.by_instance.retain(|(of, merchant, agent), open| {
            if of != instance {
                return true;
            }
            taken.extend((0..*open).map(|_| (merchant.clone(), *agent)));
            false
        });
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> AgentProfile {
        AgentProfile { id: 1, languages: vec!["en".into()], skills: vec![], capacity: 3 }
    }

    #[test]
    fn an_announcement_is_applied_as_the_difference_it_makes() {
        let mut consoles = Consoles::default();
        let shop = MerchantId::parse("shop").expect("id");
        assert_eq!(consoles.count("b", &shop, Change::Connect(anna())).len(), 1);
        let again = Change::Announce { profile: anna(), open: 1, presence: Presence::Online };
        assert!(consoles.count("b", &shop, again.clone()).is_empty(), "counted already");
        assert!(consoles.count("b", &shop, again).is_empty(), "announced twice");
        let two = Change::Announce { profile: anna(), open: 2, presence: Presence::Away };
        let changes = consoles.count("b", &shop, two);
        assert!(matches!(changes[..], [Change::Connect(_), Change::SetPresence(1, Presence::Away)]));
        assert_eq!(consoles.take_instance("b").len(), 2);
        assert!(consoles.count("b", &shop, Change::Disconnect(1)).is_empty(), "not counted: dropped");
    }
}
