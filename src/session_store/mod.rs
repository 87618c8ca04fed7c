//! Where sessions live: `memory` (this instance only), `cookie` (signed and
//! encrypted in the browser), `memcached` or `redis`. One type that actix-session
//! sees, dispatching to the backend the configuration chose.
//!
//! A store that fails or does not answer within `sessions.timeout` never
//! turns into a bare 500: loading a session falls back to "no session" (so
//! anonymous pages such as the feed keep working) and the outage is recorded
//! in `SessionHealth`, which pages that need a session turn into a 503.

mod health;
mod memcached;
mod memory;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use actix_session::storage::{
    CookieSessionStore, LoadError, RedisSessionStore, SaveError, SessionKey, SessionStore,
    UpdateError,
};
use actix_web::cookie::time::Duration as CookieDuration;
use rand::distributions::{Alphanumeric, DistString};
use secrecy::ExposeSecret;

pub use health::SessionHealth;
pub use memcached::MemcachedSessionStore;
pub use memory::MemorySessionStore;

use crate::configuration::{SessionBackend, SessionSettings};

type SessionState = HashMap<String, String>;

/// Built once at start-up and cloned into every worker; clones share state.
#[derive(Clone)]
enum Backend {
    Memory(MemorySessionStore),
    Cookie,
    Memcached(MemcachedSessionStore),
    Redis(RedisSessionStore),
}

#[derive(Clone)]
pub struct AppSessionStore {
    backend: Backend,
    health: SessionHealth,
    timeout: Duration,
}

impl AppSessionStore {
    pub async fn from_settings(
        settings: &SessionSettings,
        health: SessionHealth,
    ) -> anyhow::Result<Self> {
        let url = settings
            .url
            .as_ref()
            .map(|u| u.expose_secret().to_owned())
            .unwrap_or_default();
        let backend = match settings.backend {
            SessionBackend::Memory => Backend::Memory(MemorySessionStore::default()),
            SessionBackend::Cookie => Backend::Cookie,
            SessionBackend::Memcached => {
                Backend::Memcached(MemcachedSessionStore::new(&url, settings.timeout)?)
            }
            SessionBackend::Redis => {
                let pool = crate::redis_pool::build(&url, settings.timeout)?;
                let store = RedisSessionStore::builder_pooled(pool)
                    .cache_keygen(|key| format!("photoscale:session:{key}"))
                    .build()
                    .await?;
                Backend::Redis(store)
            }
        };
        Ok(Self {
            backend,
            health,
            timeout: settings.timeout,
        })
    }

    /// Runs one store call with the timeout and records the store's health.
    async fn guarded<T>(&self, call: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "the session store did not answer within {:?}",
                self.timeout
            )),
        };
        match &result {
            Ok(_) => self.health.mark_up(),
            Err(e) => self.health.mark_down(e),
        }
        result
    }
}

/// A new random session key: 64 alphanumerics, about 380 bits.
fn new_session_key() -> SessionKey {
    let key = Alphanumeric.sample_string(&mut rand::thread_rng(), 64);
    SessionKey::try_from(key).expect("64 characters is a valid session key length")
}

fn seconds(ttl: &CookieDuration) -> Duration {
    Duration::from_secs(ttl.whole_seconds().max(1) as u64)
}

impl SessionStore for AppSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let loaded = self
            .guarded(async {
                match &self.backend {
                    Backend::Memory(s) => Ok(s.load(key.as_ref())),
                    Backend::Cookie => CookieSessionStore::default()
                        .load(key)
                        .await
                        .map_err(anyhow::Error::from),
                    Backend::Memcached(s) => s.load(key.as_ref()).await,
                    Backend::Redis(s) => s.load(key).await.map_err(anyhow::Error::from),
                }
            })
            .await;
        // Unreachable store: carry on without a session; `SessionHealth` knows.
        Ok(loaded.unwrap_or(None))
    }

    async fn save(
        &self,
        state: SessionState,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, SaveError> {
        self.guarded(async {
            match &self.backend {
                Backend::Memory(s) => {
                    let key = new_session_key();
                    s.store(key.as_ref(), state, seconds(ttl));
                    Ok(key)
                }
                Backend::Cookie => CookieSessionStore::default()
                    .save(state, ttl)
                    .await
                    .map_err(anyhow::Error::from),
                Backend::Memcached(s) => {
                    let key = new_session_key();
                    s.store(key.as_ref(), &state, seconds(ttl)).await?;
                    Ok(key)
                }
                Backend::Redis(s) => s.save(state, ttl).await.map_err(anyhow::Error::from),
            }
        })
        .await
        .map_err(SaveError::Other)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: SessionState,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        self.guarded(async {
            match &self.backend {
                Backend::Memory(s) => {
                    s.store(key.as_ref(), state, seconds(ttl));
                    Ok(key)
                }
                Backend::Cookie => CookieSessionStore::default()
                    .update(key, state, ttl)
                    .await
                    .map_err(anyhow::Error::from),
                Backend::Memcached(s) => {
                    s.store(key.as_ref(), &state, seconds(ttl)).await?;
                    Ok(key)
                }
                Backend::Redis(s) => s.update(key, state, ttl).await.map_err(anyhow::Error::from),
            }
        })
        .await
        .map_err(UpdateError::Other)
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &CookieDuration) -> anyhow::Result<()> {
        self.guarded(async {
            match &self.backend {
                Backend::Memory(s) => {
                    s.touch(key.as_ref(), seconds(ttl));
                    Ok(())
                }
                Backend::Cookie => Ok(()),
                Backend::Memcached(s) => s.touch(key.as_ref(), seconds(ttl)).await,
                Backend::Redis(s) => s.update_ttl(key, ttl).await,
            }
        })
        .await
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        self.guarded(async {
            match &self.backend {
                Backend::Memory(s) => {
                    s.remove(key.as_ref());
                    Ok(())
                }
                Backend::Cookie => Ok(()),
                Backend::Memcached(s) => s.remove(key.as_ref()).await,
                Backend::Redis(s) => s.delete(key).await,
            }
        })
        .await
    }
}
