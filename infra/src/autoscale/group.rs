//! An Auto Scaling group's decisions: min, max and desired capacity, simple
//! scaling policies of type ChangeInCapacity, a cooldown after each scaling
//! activity, and ELB health checks with a grace period (an instance the load
//! balancer reports down after its grace period is terminated and replaced).
//!
//! It decides; the caller carries the decisions out (starts and stops
//! processes, adds and drains servers in HAProxy) and reports back.

use serde::Serialize;

use super::metric::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    pub min: u32,
    pub max: u32,
    pub cooldown_ms: Millis,
    pub grace_ms: Millis,
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Start a new instance and add it to the load balancer.
    Launch { cause: String },
    /// Drain `id` in the load balancer, then stop it.
    Terminate { id: String, cause: String },
}

/// What a scaling policy did when its alarm asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PolicyOutcome {
    /// Desired capacity changed.
    Scaled { from: u32, to: u32 },
    /// Ignored: a previous activity's cooldown runs until `until`.
    InCooldown { until: Millis, remaining_ms: Millis },
    /// Ignored: already at the minimum or maximum.
    AtLimit { desired: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: String,
    pub launched_at: Millis,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub config: GroupConfig,
    pub desired: u32,
    /// Instances in service or starting, oldest first.
    pub members: Vec<Member>,
    cooldown_until: Millis,
}

impl Group {
    pub fn new(config: GroupConfig, desired: u32, members: Vec<Member>) -> Self {
        Self {
            config,
            desired: desired.clamp(config.min, config.max),
            members,
            cooldown_until: 0,
        }
    }

    /// A simple scaling policy (ChangeInCapacity by `adjustment`), run
    /// because `alarm` is in ALARM.
    pub fn apply_policy(&mut self, now: Millis, adjustment: i32) -> PolicyOutcome {
        if now < self.cooldown_until {
            return PolicyOutcome::InCooldown {
                until: self.cooldown_until,
                remaining_ms: self.cooldown_until - now,
            };
        }
        let wanted = i64::from(self.desired) + i64::from(adjustment);
        let to = wanted.clamp(i64::from(self.config.min), i64::from(self.config.max)) as u32;
        if to == self.desired {
            return PolicyOutcome::AtLimit {
                desired: self.desired,
            };
        }
        let from = self.desired;
        self.desired = to;
        self.cooldown_until = now + self.config.cooldown_ms;
        PolicyOutcome::Scaled { from, to }
    }

    /// Terminates (and so replaces) members the load balancer reports down
    /// once their grace period is over. `down` lists the ids reported down.
    pub fn check_health(&mut self, now: Millis, down: &[String]) -> Vec<Action> {
        let grace = self.config.grace_ms;
        let unhealthy: Vec<String> = self
            .members
            .iter()
            .filter(|m| down.contains(&m.id) && now >= m.launched_at + grace)
            .map(|m| m.id.clone())
            .collect();
        self.members.retain(|m| !unhealthy.contains(&m.id));
        unhealthy
            .into_iter()
            .map(|id| Action::Terminate {
                cause: format!("{id} failed the load balancer's health check after its {} s grace period; it is replaced", grace / 1000),
                id,
            })
            .collect()
    }

    /// Launches or terminates until the members match the desired capacity.
    /// Scale-in terminates the newest instance first.
    pub fn reconcile(&mut self, cause: &str) -> Vec<Action> {
        let mut actions = Vec::new();
        let have = self.members.len() as u32;
        for _ in have..self.desired {
            actions.push(Action::Launch {
                cause: format!(
                    "{cause}: desired capacity is {}, running {have}",
                    self.desired
                ),
            });
        }
        while self.members.len() as u32 > self.desired {
            let member = self.members.pop().expect("more members than desired");
            actions.push(Action::Terminate {
                id: member.id,
                cause: format!("{cause}: desired capacity is {}", self.desired),
            });
        }
        actions
    }

    /// A scheduled action: new bounds and desired capacity. Unlike a
    /// policy it runs during a cooldown, and it starts none.
    pub fn set_capacity(&mut self, capacity: crate::schedule::Capacity) {
        self.config.min = capacity.min;
        self.config.max = capacity.max;
        self.desired = capacity.desired;
    }

    pub fn capacity(&self) -> crate::schedule::Capacity {
        crate::schedule::Capacity {
            min: self.config.min,
            max: self.config.max,
            desired: self.desired,
        }
    }

    /// The caller started `id` (after a Launch).
    pub fn launched(&mut self, id: String, at: Millis) {
        self.members.push(Member {
            id,
            launched_at: at,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(desired: u32, members: u32) -> Group {
        let config = GroupConfig {
            min: 2,
            max: 4,
            cooldown_ms: 300_000,
            grace_ms: 60_000,
        };
        let members = (1..=members)
            .map(|n| Member {
                id: format!("i-{n}"),
                launched_at: 0,
            })
            .collect();
        Group::new(config, desired, members)
    }

    #[test]
    fn a_policy_changes_capacity_then_waits_for_the_cooldown() {
        let mut g = group(2, 2);
        assert_eq!(
            g.apply_policy(1_000, 1),
            PolicyOutcome::Scaled { from: 2, to: 3 }
        );
        assert_eq!(
            g.apply_policy(2_000, 1),
            PolicyOutcome::InCooldown {
                until: 301_000,
                remaining_ms: 299_000
            }
        );
        assert_eq!(g.desired, 3);
        assert_eq!(
            g.apply_policy(301_000, 1),
            PolicyOutcome::Scaled { from: 3, to: 4 }
        );
    }

    #[test]
    fn capacity_stays_within_min_and_max() {
        let mut g = group(4, 4);
        assert_eq!(g.apply_policy(0, 1), PolicyOutcome::AtLimit { desired: 4 });
        let mut g = group(2, 2);
        assert_eq!(g.apply_policy(0, -1), PolicyOutcome::AtLimit { desired: 2 });
        assert_eq!(group(9, 0).desired, 4, "desired is clamped");
        // A limit hit starts no cooldown: the next alarm may act at once.
        let mut g = group(4, 4);
        g.apply_policy(0, 1);
        assert_eq!(
            g.apply_policy(1, -1),
            PolicyOutcome::Scaled { from: 4, to: 3 }
        );
    }

    #[test]
    fn reconcile_launches_and_terminates_the_newest() {
        let mut g = group(3, 2);
        let launches = g.reconcile("alarm latency-high");
        assert_eq!(launches.len(), 1);
        assert!(
            matches!(&launches[0], Action::Launch { cause } if cause.contains("desired capacity is 3"))
        );
        g.launched("i-3".into(), 5_000);
        assert!(g.reconcile("steady").is_empty());
        g.apply_policy(0, -1);
        let terminations = g.reconcile("alarm latency-low");
        assert_eq!(
            terminations,
            vec![Action::Terminate {
                id: "i-3".into(),
                cause: "alarm latency-low: desired capacity is 2".into()
            }]
        );
    }

    #[test]
    fn an_instance_down_after_its_grace_period_is_replaced() {
        let mut g = group(2, 2);
        g.launched("i-3".into(), 100_000);
        g.desired = 3;
        let down = vec!["i-1".to_owned(), "i-3".to_owned()];
        // i-3 is still in its grace period; i-1 is not.
        let actions = g.check_health(120_000, &down);
        assert_eq!(actions.len(), 1);
        assert!(matches!(&actions[0], Action::Terminate { id, .. } if id == "i-1"));
        // The replacement comes from reconciling to the unchanged desired.
        assert_eq!(g.desired, 3);
        assert!(matches!(
            g.reconcile("replace").as_slice(),
            [Action::Launch { .. }]
        ));
        // Once its grace period is over, i-3 is replaced too.
        assert_eq!(g.check_health(160_000, &down).len(), 1);
    }
}
