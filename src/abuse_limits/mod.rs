//! Abuse limits: failed logins per account and per address, sign-ups and
//! wrong admin tokens per address. A few attempts are free; after them the
//! client must wait, twice as long after each further attempt, and is told
//! so with a 429 and `Retry-After`. A waiting client's request is refused
//! before any password is hashed, so guessing costs the server nothing.
//!
//! When the store cannot be reached the limits let requests through (and
//! say so in the log): locking everyone out because memcached restarted
//! would be worse than a few unlimited attempts.

mod store;

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::configuration::LimitSettings;
pub use store::{CounterStore, MemoryCounters};

use crate::configuration::{CacheBackend, SessionBackend, Settings};
use crate::memcached::Memcached;
use crate::redis_connection::RedisConnection;

/// What is being counted.
#[derive(Debug, Clone)]
pub enum Limited {
    LoginAccount(String),
    LoginAddress(IpAddr),
    SignupAddress(IpAddr),
    AdminAddress(IpAddr),
}

impl Limited {
    fn key(&self) -> String {
        match self {
            Self::LoginAccount(name) => format!("limit:login:account:{}", name.to_lowercase()),
            Self::LoginAddress(ip) => format!("limit:login:address:{ip}"),
            Self::SignupAddress(ip) => format!("limit:signup:address:{ip}"),
            Self::AdminAddress(ip) => format!("limit:admin:address:{ip}"),
        }
    }

    /// For the audit log and the 429 page.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LoginAccount(_) => "login_per_account",
            Self::LoginAddress(_) => "login_per_address",
            Self::SignupAddress(_) => "signup_per_address",
            Self::AdminAddress(_) => "admin_per_address",
        }
    }

    fn free(&self, settings: &LimitSettings) -> u32 {
        match self {
            Self::LoginAccount(_) => settings.login_failures_per_account,
            Self::LoginAddress(_) => settings.login_failures_per_address,
            Self::SignupAddress(_) => settings.signups_per_address,
            Self::AdminAddress(_) => settings.admin_failures_per_address,
        }
    }
}

/// A client that must wait before trying again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MustWait {
    pub limit: &'static str,
    pub retry_after: Duration,
}

pub struct AbuseLimits {
    store: CounterStore,
    settings: LimitSettings,
}

impl AbuseLimits {
    pub fn new(store: CounterStore, settings: LimitSettings) -> Self {
        Self { store, settings }
    }

    /// The shared store the configuration offers (see `store`).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let timeout = settings.sessions.timeout;
        let url = |u: &Option<secrecy::SecretString>| {
            u.as_ref()
                .map(|u| u.expose_secret().to_owned())
                .unwrap_or_default()
        };
        let store = match (settings.sessions.backend, settings.cache.backend) {
            (SessionBackend::Memcached, _) => {
                CounterStore::Memcached(Memcached::new(&url(&settings.sessions.url), timeout)?)
            }
            (SessionBackend::Redis, _) => CounterStore::Redis(Box::new(RedisConnection::new(
                &url(&settings.sessions.url),
                timeout,
            )?)),
            (_, CacheBackend::Memcached) => {
                CounterStore::Memcached(Memcached::new(&url(&settings.cache.url), timeout)?)
            }
            (_, CacheBackend::Redis) => CounterStore::Redis(Box::new(RedisConnection::new(
                &url(&settings.cache.url),
                timeout,
            )?)),
            _ => CounterStore::Memory(MemoryCounters::new(100_000)),
        };
        Ok(Self::new(store, settings.limits.clone()))
    }

    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    pub fn describe(&self) -> &'static str {
        self.store.describe()
    }

    /// Whether any of `what` makes the client wait now.
    pub async fn check(&self, what: &[Limited]) -> Result<(), MustWait> {
        for limited in what {
            let until = self.store.get(&until_key(limited)).await;
            let until = match until {
                Ok(until) => until,
                Err(e) => {
                    tracing::warn!(error = %e, "abuse limits not checked");
                    continue;
                }
            };
            let now = unix_millis();
            if let Some(until) = until.filter(|&t| t > now) {
                // Whole seconds, rounded up: Retry-After counts in seconds.
                return Err(MustWait {
                    limit: limited.name(),
                    retry_after: Duration::from_secs((until - now).div_ceil(1000)),
                });
            }
        }
        Ok(())
    }

    /// Counts one attempt against each of `what`; past the free ones, sets
    /// the time before which the client must wait.
    pub async fn count(&self, what: &[Limited]) {
        for limited in what {
            if let Err(e) = self.count_one(limited).await {
                tracing::warn!(error = %e, "abuse limits not counted");
            }
        }
    }

    async fn count_one(&self, limited: &Limited) -> Result<(), store::StoreError> {
        let count = self
            .store
            .increment(&count_key(limited), self.settings.window)
            .await?;
        if let Some(wait) = self
            .settings
            .wait_after(count, limited.free(&self.settings))
        {
            let until = unix_millis() + wait.as_millis() as u64;
            // The entry outlives the wait by a second: memcached and Redis
            // expire in whole seconds, and an early expiry would end it early.
            self.store
                .set(&until_key(limited), until, wait + Duration::from_secs(1))
                .await?;
        }
        Ok(())
    }

    /// Forgets the count (an account's, after its owner logged in).
    pub async fn reset(&self, limited: &Limited) {
        for key in [count_key(limited), until_key(limited)] {
            if let Err(e) = self.store.delete(&key).await {
                tracing::warn!(error = %e, "abuse limit not reset");
            }
        }
    }
}

fn count_key(limited: &Limited) -> String {
    format!("{}:n", limited.key())
}

fn until_key(limited: &Limited) -> String {
    format!("{}:until", limited.key())
}

/// Milliseconds since the Unix epoch: the wait-until times are shared by
/// the fleet, so they are wall-clock times, not `Instant`s.
fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_account_waits_after_its_free_failures_and_a_success_resets_it() {
        let settings = LimitSettings {
            login_failures_per_account: 3,
            ..LimitSettings::default()
        };
        let limits = AbuseLimits::new(CounterStore::Memory(MemoryCounters::new(100)), settings);
        let account = [Limited::LoginAccount("Eve".into())];
        for _ in 0..3 {
            assert!(limits.check(&account).await.is_ok(), "three are free");
            limits.count(&account).await;
        }
        let wait = limits.check(&account).await.unwrap_err();
        assert_eq!(wait.limit, "login_per_account");
        assert!(wait.retry_after >= Duration::from_secs(1), "{wait:?}");
        assert!(
            limits
                .check(&[Limited::LoginAccount("eve".into())])
                .await
                .is_err(),
            "names count whatever their case"
        );
        limits.reset(&account[0]).await;
        assert!(limits.check(&account).await.is_ok());
    }
}
