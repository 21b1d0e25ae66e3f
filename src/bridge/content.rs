//! Message content held in memory between the Slack event and the push, so building a
//! resource does not cost a Slack call (Slack's `conversations.replies` limits are tight).
//!
//! Nothing here is ever written to disk or logged. Entries expire, the cache is bounded,
//! and a miss (after a restart, on another replica, after expiry) falls back to reading
//! the message from Slack by id.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::SlackMessageRef;
use crate::slack::{SlackMessage, SlackProfile};

const MESSAGE_TTL: Duration = Duration::from_secs(30 * 60);
const MESSAGE_CAPACITY: usize = 20_000;
const PROFILE_TTL: Duration = Duration::from_secs(10 * 60);
const PROFILE_CAPACITY: usize = 5_000;

/// A bounded map whose entries expire.
#[derive(Debug)]
pub(crate) struct Expiring<V> {
    entries: HashMap<String, (Instant, V)>,
    ttl: Duration,
    capacity: usize,
}

impl<V: Clone> Expiring<V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            ttl,
            capacity,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    pub(crate) fn put(&mut self, key: String, value: V) {
        if self.entries.len() >= self.capacity {
            self.evict();
        }
        self.entries.insert(key, (Instant::now(), value));
    }

    /// Drops expired entries, then the oldest tenth if still full.
    fn evict(&mut self) {
        let ttl = self.ttl;
        self.entries.retain(|_, (at, _)| at.elapsed() < ttl);
        if self.entries.len() >= self.capacity {
            let mut ages: Vec<(Instant, String)> = self
                .entries
                .iter()
                .map(|(k, (at, _))| (*at, k.clone()))
                .collect();
            ages.sort();
            for (_, key) in ages.into_iter().take(self.capacity / 10 + 1) {
                self.entries.remove(&key);
            }
        }
    }
}

/// Recent messages and author profiles, in memory only.
#[derive(Debug)]
pub struct ContentCache {
    messages: Mutex<Expiring<SlackMessage>>,
    profiles: Mutex<Expiring<SlackProfile>>,
}

impl Default for ContentCache {
    fn default() -> Self {
        Self {
            messages: Mutex::new(Expiring::new(MESSAGE_TTL, MESSAGE_CAPACITY)),
            profiles: Mutex::new(Expiring::new(PROFILE_TTL, PROFILE_CAPACITY)),
        }
    }
}

fn message_key(message: &SlackMessageRef) -> String {
    format!("{}:{}:{}", message.team, message.channel, message.ts)
}

impl ContentCache {
    pub fn remember_message(&self, message: &SlackMessageRef, content: SlackMessage) {
        if let Ok(mut messages) = self.messages.lock() {
            messages.put(message_key(message), content);
        }
    }

    pub fn message(&self, message: &SlackMessageRef) -> Option<SlackMessage> {
        self.messages.lock().ok()?.get(&message_key(message))
    }

    pub fn remember_profile(&self, team: &str, user: &str, profile: SlackProfile) {
        if let Ok(mut profiles) = self.profiles.lock() {
            profiles.put(format!("{team}:{user}"), profile);
        }
    }

    pub fn profile(&self, team: &str, user: &str) -> Option<SlackProfile> {
        self.profiles.lock().ok()?.get(&format!("{team}:{user}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_stays_within_its_capacity_and_keeps_the_newest() {
        let mut cache = Expiring::new(Duration::from_secs(60), 10);
        for i in 0..25 {
            cache.put(format!("k{i}"), i);
        }
        assert!(cache.entries.len() <= 10);
        assert_eq!(cache.get("k24"), Some(24));
        assert_eq!(cache.get("k0"), None);
    }

    #[test]
    fn expired_entries_are_not_returned() {
        let mut cache = Expiring::new(Duration::ZERO, 10);
        cache.put("k".into(), 1);
        assert_eq!(cache.get("k"), None);
    }
}
