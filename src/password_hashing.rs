//! Password hashing off the async workers, a bounded number at a time.
//!
//! An argon2id hash takes 19 MiB of memory and tens of milliseconds of CPU.
//! Sent to the blocking pool without a bound, a burst of logins runs as
//! many hashes at once as there are requests (eight logins, 152 MiB). Here
//! at most one hash per CPU runs; the others wait their turn, which costs
//! them nothing, since more hashes at once would not finish sooner.

use tokio::sync::Semaphore;

use crate::domain::{password, Password};
use crate::error::AppError;

#[derive(Debug)]
pub struct PasswordHashing {
    slots: Semaphore,
    /// How long a request waits for a slot before it gets a 503: the queue
    /// is bounded in time, so a burst costs waiting requests, not memory.
    wait: std::time::Duration,
    /// A hash of a random password, checked when a login names nobody, so
    /// that "unknown user" takes as long as "wrong password".
    dummy: tokio::sync::OnceCell<String>,
}

impl PasswordHashing {
    /// At most `parallel` hashes at once (at least one); a request waits
    /// at most `wait` for its turn.
    pub fn new(parallel: usize, wait: std::time::Duration) -> Self {
        Self {
            slots: Semaphore::new(parallel.max(1)),
            wait,
            dummy: tokio::sync::OnceCell::new(),
        }
    }

    /// One hash per CPU.
    pub fn per_cpu(wait: std::time::Duration) -> Self {
        Self::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
            wait,
        )
    }

    /// An argon2id PHC string for `password`.
    pub async fn hash(&self, password: Password) -> Result<String, AppError> {
        self.run(move || password::hash(&password))
            .await?
            .map_err(|e| AppError::internal(format!("hashing password: {e}")))
    }

    /// Whether `password` matches `phc` (a malformed hash never matches).
    pub async fn verify(&self, password: Password, phc: String) -> Result<bool, AppError> {
        self.run(move || password::verify(&password, &phc)).await
    }

    /// A login's check: against the user's hash, or, when there is no such
    /// user, against a dummy one, so both take the same time. False then.
    pub async fn verify_login(
        &self,
        password: Password,
        phc: Option<String>,
    ) -> Result<bool, AppError> {
        match phc {
            Some(phc) => self.verify(password, phc).await,
            None => {
                let dummy = self.dummy.get_or_try_init(|| self.dummy_hash()).await?;
                self.verify(password, dummy.clone()).await?;
                Ok(false)
            }
        }
    }

    async fn dummy_hash(&self) -> Result<String, AppError> {
        let random =
            Password::parse(&uuid::Uuid::new_v4().to_string()).map_err(AppError::internal)?;
        self.hash(random).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _slot = tokio::time::timeout(self.wait, self.slots.acquire())
            .await
            .map_err(|_| {
                tracing::warn!(waited = ?self.wait, "no password-hashing slot free");
                AppError::Unavailable(
                    "Too many people are logging in or signing up right now. Please try again in a moment."
                        .into(),
                )
            })?
            .map_err(|_| AppError::internal("password hashing has stopped"))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::internal(format!("hashing thread: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn hashes_verify_and_run_a_bounded_number_at_once() {
        let hashing = Arc::new(PasswordHashing::new(2, std::time::Duration::from_secs(60)));
        let phc = hashing
            .hash(Password::parse("correct horse staple").unwrap())
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(hashing
            .verify(
                Password::parse("correct horse staple").unwrap(),
                phc.clone()
            )
            .await
            .unwrap());
        assert!(!hashing
            .verify(Password::parse("wrong horse staple").unwrap(), phc.clone())
            .await
            .unwrap());

        // While both slots are held, a third hash waits.
        let a = hashing.slots.acquire().await.unwrap();
        let b = hashing.slots.acquire().await.unwrap();
        let waiting = {
            let hashing = hashing.clone();
            let phc = phc.clone();
            tokio::spawn(async move {
                hashing
                    .verify(Password::parse("correct horse staple").unwrap(), phc)
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "a third hash ran beside two others");
        drop((a, b));
        assert!(waiting.await.unwrap().unwrap());
    }

    #[tokio::test]
    async fn a_request_waits_for_a_slot_only_so_long_then_gets_a_503() {
        let hashing = PasswordHashing::new(1, std::time::Duration::from_millis(100));
        let _busy = hashing.slots.acquire().await.unwrap();
        let started = std::time::Instant::now();
        let refused = hashing
            .hash(Password::parse("correct horse staple").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(refused, AppError::Unavailable(_)), "{refused:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
