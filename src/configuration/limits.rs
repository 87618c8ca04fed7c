//! `[limits]`: how many failures are free before a client waits, and how
//! long it waits. The load test, the benchmark and the soak test set
//! generous values (and say so); the defaults suit a public site.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Wrong passwords for one account before it must wait (a success resets it).
    pub login_failures_per_account: u32,
    /// Failed logins from one address, whatever the accounts, before it must wait.
    pub login_failures_per_address: u32,
    /// Sign-ups from one address before it must wait.
    pub signups_per_address: u32,
    /// Requests with a wrong admin token from one address before it must wait.
    pub admin_failures_per_address: u32,
    /// How long a count lasts after its last increase.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// The first wait once the free attempts are spent; it doubles with each
    /// further attempt, up to `max_wait`.
    #[serde(with = "humantime_serde")]
    pub first_wait: Duration,
    #[serde(with = "humantime_serde")]
    pub max_wait: Duration,
    /// How long a login or sign-up waits for one of the few password-hashing
    /// slots (argon2 takes 19 MiB each) before it gets a 503.
    #[serde(with = "humantime_serde")]
    pub hashing_wait: Duration,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            signups_per_address: 10,
            admin_failures_per_address: 10,
            window: Duration::from_secs(15 * 60),
            first_wait: Duration::from_secs(2),
            max_wait: Duration::from_secs(15 * 60),
            hashing_wait: Duration::from_secs(3),
        }
    }
}

impl LimitSettings {
    /// Limits that a load test's thousands of logins never reach.
    pub fn generous() -> Self {
        Self {
            login_failures_per_account: 1_000_000,
            login_failures_per_address: 1_000_000,
            signups_per_address: 1_000_000,
            admin_failures_per_address: 1_000_000,
            hashing_wait: Duration::from_secs(60),
            ..Self::default()
        }
    }

    /// What is wrong with these values, as (key, problem, fix).
    pub fn problem(&self) -> Option<(&'static str, String, &'static str)> {
        let counts = [
            (
                "limits.login_failures_per_account",
                self.login_failures_per_account,
            ),
            (
                "limits.login_failures_per_address",
                self.login_failures_per_address,
            ),
            ("limits.signups_per_address", self.signups_per_address),
            (
                "limits.admin_failures_per_address",
                self.admin_failures_per_address,
            ),
        ];
        if let Some((key, _)) = counts.iter().find(|(_, n)| *n == 0) {
            return Some((key, "0 would refuse every attempt".into(), "use at least 1"));
        }
        let times = [
            ("limits.window", self.window),
            ("limits.first_wait", self.first_wait),
            ("limits.hashing_wait", self.hashing_wait),
        ];
        if let Some((key, _)) = times.iter().find(|(_, t)| t.is_zero()) {
            return Some((
                key,
                "a zero duration".into(),
                "use a positive duration, e.g. \"2s\"",
            ));
        }
        if self.max_wait < self.first_wait {
            return Some((
                "limits.max_wait",
                "shorter than limits.first_wait".into(),
                "use a max_wait at least as long as first_wait (defaults: 2s and 15m)",
            ));
        }
        None
    }

    /// The wait after `count` attempts against an allowance of `free`:
    /// none before the free ones are spent, then `first_wait`, doubling with
    /// each further attempt, capped at `max_wait`.
    pub fn wait_after(&self, count: u64, free: u32) -> Option<Duration> {
        let over = count.checked_sub(u64::from(free))?;
        let doublings = u32::try_from(over).unwrap_or(u32::MAX).min(30);
        let wait = self.first_wait.saturating_mul(1 << doublings);
        Some(wait.min(self.max_wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_attempts_up_to_the_cap() {
        let s = LimitSettings::default();
        assert_eq!(s.wait_after(4, 5), None);
        assert_eq!(s.wait_after(5, 5), Some(Duration::from_secs(2)));
        assert_eq!(s.wait_after(6, 5), Some(Duration::from_secs(4)));
        assert_eq!(s.wait_after(9, 5), Some(Duration::from_secs(32)));
        assert_eq!(s.wait_after(1_000, 5), Some(Duration::from_secs(900)));
    }
}
