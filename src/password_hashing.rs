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
    /// A hash of a random password, checked when a login names nobody, so
    /// that "unknown user" takes as long as "wrong password".
    dummy: tokio::sync::OnceCell<String>,
}

impl PasswordHashing {
    /// At most `parallel` hashes at once (at least one).
    pub fn new(parallel: usize) -> Self {
        Self {
            slots: Semaphore::new(parallel.max(1)),
            dummy: tokio::sync::OnceCell::new(),
        }
    }

    /// One hash per CPU.
    pub fn per_cpu() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
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
        let _slot = self
            .slots
            .acquire()
            .await
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
        let hashing = Arc::new(PasswordHashing::new(2));
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
}
