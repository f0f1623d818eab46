//! Request-rate limits per client and per address, on top of the core's per-mobile limit:
//! fixed windows, counted in this process ([`Limiter`], a bounded table that refuses — fails
//! closed — when it is full of live entries) or, with the Redis store, in Redis for every
//! instance at once.

use crate::config::{LimitsConfig, RateLimit};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where the per-client and per-address request counts live.
#[derive(Debug)]
pub enum RequestLimits {
    /// In this process: right for one instance.
    Local {
        /// Requests per client id.
        per_client: Limiter<String>,
        /// Requests per client address.
        per_ip: Limiter<IpAddr>,
    },
    /// In the Redis store, shared by every instance on it, keyed by MACs of the client id
    /// and address (`kycvs_redis::RedisConsentStore::count_requests`).
    Shared {
        /// The store the instances share.
        store: Arc<kycvs_redis::RedisConsentStore>,
        /// The limits, as configured.
        limits: LimitsConfig,
    },
}

impl RequestLimits {
    /// Counts in Redis when the consent store is Redis, else in this process.
    pub fn new(limits: LimitsConfig, shared: Option<Arc<kycvs_redis::RedisConsentStore>>) -> Self {
        match shared {
            Some(store) => RequestLimits::Shared { store, limits },
            None => RequestLimits::Local {
                per_client: Limiter::new(limits.per_client),
                per_ip: Limiter::new(limits.per_ip),
            },
        }
    }
}

/// The most keys one limiter tracks.
pub const MAX_TRACKED: usize = 100_000;

/// Counts requests per key in fixed windows.
#[derive(Debug)]
pub struct Limiter<K> {
    limit: RateLimit,
    table: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Eq + Hash + Clone> Limiter<K> {
    /// A limiter allowing `limit.requests` per `limit.window` per key.
    pub fn new(limit: RateLimit) -> Limiter<K> {
        Limiter {
            limit,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key` at `now`; false when the key is over its limit (or the
    /// table is full of live windows).
    pub fn allow(&self, key: &K, now: Instant) -> bool {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.limit.window;
        if !table.contains_key(key) && table.len() >= MAX_TRACKED {
            table.retain(|_, (start, _)| now.duration_since(*start) < window);
            if table.len() >= MAX_TRACKED {
                return false;
            }
        }
        let entry = table.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit.requests {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_window_allows_its_count_then_resets() {
        let limiter = Limiter::new(RateLimit {
            requests: 2,
            window: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        assert!(limiter.allow(&"a", t0));
        assert!(limiter.allow(&"a", t0 + Duration::from_secs(1)));
        assert!(!limiter.allow(&"a", t0 + Duration::from_secs(2)));
        assert!(limiter.allow(&"b", t0 + Duration::from_secs(2)));
        assert!(limiter.allow(&"a", t0 + Duration::from_secs(10)));
    }
}
