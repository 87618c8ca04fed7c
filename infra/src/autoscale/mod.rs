//! The autoscaler's logic as a pure state machine driven by a clock: the
//! load balancer's response times go in, alarms are evaluated once per
//! period (CloudWatch semantics), their scaling policies change the group's
//! desired capacity (Auto Scaling semantics), and out come actions
//! (launch, terminate) and events (the activity history). Nothing here
//! touches a process or a socket, so every rule is tested on a fake clock.

pub mod alarm;
pub mod group;
pub mod metric;

use serde::Serialize;

use crate::spec::Scaling;
use alarm::{MetricAlarm, Transition};
use group::{Action, Group, GroupConfig, Member, PolicyOutcome};
use metric::{Millis, ResponseTimes};

/// One entry of the activity history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Milliseconds on the autoscaler's clock.
    pub at: Millis,
    #[serde(flatten)]
    pub what: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    AlarmChanged(Transition),
    Policy {
        alarm: String,
        adjustment: i32,
        #[serde(flatten)]
        outcome: PolicyOutcome,
    },
    Activity(Action),
    /// A scheduled action ran: the group's bounds and desired capacity.
    Scheduled {
        schedule: String,
        from: crate::schedule::Capacity,
        to: crate::schedule::Capacity,
    },
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AlarmChanged(t) => {
                write!(f, "alarm {}: {} -> {} ({})", t.alarm, t.from, t.to, t.reason)
            }
            Self::Policy {
                alarm,
                adjustment,
                outcome,
            } => match outcome {
                PolicyOutcome::Scaled { from, to } => write!(
                    f,
                    "policy {adjustment:+} (alarm {alarm}): desired capacity {from} -> {to}"
                ),
                PolicyOutcome::InCooldown { remaining_ms, .. } => write!(
                    f,
                    "policy {adjustment:+} (alarm {alarm}): not run, cooling down for {:.0} s more",
                    (*remaining_ms as f64 / 1000.0).ceil()
                ),
                PolicyOutcome::AtLimit { desired } => write!(
                    f,
                    "policy {adjustment:+} (alarm {alarm}): not run, desired capacity {desired} is at its limit"
                ),
            },
            Self::Scheduled { schedule, from, to } => write!(
                f,
                "scheduled action {schedule}: min {} -> {}, max {} -> {}, desired {} -> {}",
                from.min, to.min, from.max, to.max, from.desired, to.desired
            ),
            Self::Activity(Action::Launch { cause }) => write!(f, "launching an instance: {cause}"),
            Self::Activity(Action::Terminate { id, cause }) => {
                write!(f, "terminating {id}: {cause}")
            }
        }
    }
}

pub struct Autoscaler {
    alarms: Vec<(MetricAlarm, i32)>,
    pub group: Group,
    times: ResponseTimes,
    evaluation_periods: u32,
    last_evaluated: Option<u64>,
    /// Why the next reconcile acts, when a scheduled action asked.
    scheduled_cause: Option<String>,
}

impl Autoscaler {
    /// `members` are the instances already running (launched at `now`).
    pub fn new(scaling: &Scaling, min: u32, max: u32, desired: u32, members: Vec<Member>) -> Self {
        let period_s = scaling.alarms.first().map_or(60, |a| a.period_s);
        let evaluation_periods = scaling
            .alarms
            .iter()
            .map(|a| a.evaluation_periods)
            .max()
            .unwrap_or(1);
        let config = GroupConfig {
            min,
            max,
            cooldown_ms: scaling.cooldown_s * 1000,
            grace_ms: scaling.health_check_grace_period_s * 1000,
        };
        Self {
            alarms: scaling
                .alarms
                .iter()
                .map(|a| (MetricAlarm::new(a.clone()), a.adjustment))
                .collect(),
            group: Group::new(config, desired, members),
            times: ResponseTimes::new(period_s * 1000),
            evaluation_periods,
            last_evaluated: None,
            scheduled_cause: None,
        }
    }

    /// A request through the load balancer completed at `at`.
    pub fn record_response(&mut self, at: Millis, response_ms: f64) {
        self.times.record(at, response_ms);
    }

    /// Each alarm's current state.
    pub fn alarm_states(&self) -> Vec<(String, alarm::AlarmState)> {
        self.alarms
            .iter()
            .map(|(a, _)| (a.config.name.clone(), a.state))
            .collect()
    }

    /// Advances to `now`: evaluates the alarms when a period has ended, runs
    /// their policies, replaces instances the load balancer reports `down`,
    /// and returns what to do with the events that explain it.
    /// Runs a scheduled action now: its event; the launches or
    /// terminations it calls for come from the next `tick`.
    pub fn apply_scheduled(
        &mut self,
        now: Millis,
        action: &crate::schedule::ScheduledAction,
    ) -> Event {
        let from = self.group.capacity();
        let to = action.apply_to(from);
        self.group.set_capacity(to);
        self.scheduled_cause = Some(format!("scheduled action {}", action.name));
        Event {
            at: now,
            what: EventKind::Scheduled {
                schedule: action.name.clone(),
                from,
                to,
            },
        }
    }

    pub fn tick(&mut self, now: Millis, down: &[String]) -> (Vec<Action>, Vec<Event>) {
        let mut events = Vec::new();
        let mut cause = self
            .scheduled_cause
            .take()
            .unwrap_or_else(|| "steady state".to_owned());
        let period = self.times.period_of(now);
        if self.last_evaluated != Some(period) {
            self.last_evaluated = Some(period);
            for (alarm, adjustment) in &mut self.alarms {
                let window = self
                    .times
                    .last_complete(now, alarm.config.evaluation_periods);
                if let Some(transition) = alarm.evaluate(&window) {
                    events.push(Event {
                        at: now,
                        what: EventKind::AlarmChanged(transition),
                    });
                }
                // Like CloudWatch with Auto Scaling actions, a policy runs at
                // each evaluation while its alarm stays in ALARM.
                if alarm.state == alarm::AlarmState::Alarm {
                    let outcome = self.group.apply_policy(now, *adjustment);
                    if matches!(outcome, PolicyOutcome::Scaled { .. }) {
                        cause = format!("alarm {} in ALARM", alarm.config.name);
                    }
                    events.push(Event {
                        at: now,
                        what: EventKind::Policy {
                            alarm: alarm.config.name.clone(),
                            adjustment: *adjustment,
                            outcome,
                        },
                    });
                }
            }
            self.times.forget_before(now, self.evaluation_periods + 1);
        }
        let mut actions = self.group.check_health(now, down);
        if !actions.is_empty() {
            cause = "replacing an unhealthy instance".into();
        }
        actions.extend(self.group.reconcile(&cause));
        events.extend(actions.iter().map(|a| Event {
            at: now,
            what: EventKind::Activity(a.clone()),
        }));
        (actions, events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Scaling;
    use alarm::AlarmState;

    /// The tutorial's rules on a 10 s period with a 30 s cooldown.
    fn autoscaler() -> Autoscaler {
        let mut scaling = Scaling::tutorial();
        for alarm in &mut scaling.alarms {
            alarm.period_s = 10;
        }
        scaling.cooldown_s = 30;
        scaling.health_check_grace_period_s = 20;
        let members = vec![
            Member {
                id: "i-1".into(),
                launched_at: 0,
            },
            Member {
                id: "i-2".into(),
                launched_at: 0,
            },
        ];
        Autoscaler::new(&scaling, 2, 4, 2, members)
    }

    /// One request every 100 ms from `from` to `to`, each taking `ms`.
    fn load(a: &mut Autoscaler, from: Millis, to: Millis, ms: f64) {
        for at in (from..to).step_by(100) {
            a.record_response(at, ms);
        }
    }

    fn launches(actions: &[Action]) -> usize {
        actions
            .iter()
            .filter(|a| matches!(a, Action::Launch { .. }))
            .count()
    }

    #[test]
    fn no_requests_means_insufficient_data_and_no_scaling() {
        let mut a = autoscaler();
        let (actions, events) = a.tick(10_000, &[]);
        assert!(actions.is_empty() && events.is_empty());
        assert!(a
            .alarm_states()
            .iter()
            .all(|(_, s)| *s == AlarmState::InsufficientData));
    }

    #[test]
    fn high_latency_for_a_period_adds_one_instance_then_cools_down() {
        let mut a = autoscaler();
        load(&mut a, 0, 10_000, 1_500.0);
        let (actions, events) = a.tick(10_000, &[]);
        assert_eq!(launches(&actions), 1, "{events:?}");
        assert!(events.iter().any(|e| matches!(&e.what, EventKind::AlarmChanged(t) if t.alarm == "latency-high" && t.to == AlarmState::Alarm)));
        a.group.launched("i-3".into(), 10_500);

        // Still slow in the next period: the policy runs but is cooling down.
        load(&mut a, 10_000, 20_000, 1_500.0);
        let (actions, events) = a.tick(20_000, &[]);
        assert!(actions.is_empty());
        assert!(events.iter().any(|e| matches!(
            &e.what,
            EventKind::Policy {
                outcome: PolicyOutcome::InCooldown { until: 40_000, .. },
                ..
            }
        )));

        // After the cooldown, still slow: one more.
        load(&mut a, 20_000, 40_000, 1_500.0);
        a.tick(30_000, &[]);
        let (actions, _) = a.tick(40_000, &[]);
        assert_eq!(launches(&actions), 1);
        assert_eq!(a.group.desired, 4);
    }

    #[test]
    fn low_latency_removes_down_to_the_minimum_only() {
        let mut a = autoscaler();
        load(&mut a, 0, 10_000, 1_500.0);
        a.tick(10_000, &[]);
        a.group.launched("i-3".into(), 10_000);
        // Fast again; after the cooldown the low alarm removes the newest.
        load(&mut a, 10_000, 80_000, 100.0);
        for now in [20_000, 30_000] {
            assert!(a.tick(now, &[]).0.is_empty(), "cooling down at {now}");
        }
        let (actions, _) = a.tick(40_000, &[]);
        assert!(matches!(actions.as_slice(), [Action::Terminate { id, .. }] if id == "i-3"));
        // After that cooldown, at the minimum: nothing more, however fast.
        a.tick(50_000, &[]);
        let (actions, events) = a.tick(70_000, &[]);
        assert!(actions.is_empty());
        assert!(events.iter().any(|e| matches!(
            &e.what,
            EventKind::Policy {
                outcome: PolicyOutcome::AtLimit { desired: 2 },
                ..
            }
        )));
    }

    #[test]
    fn latency_between_the_thresholds_changes_nothing() {
        let mut a = autoscaler();
        load(&mut a, 0, 10_000, 700.0);
        let (actions, _) = a.tick(10_000, &[]);
        assert!(actions.is_empty());
        assert!(a.alarm_states().iter().all(|(_, s)| *s == AlarmState::Ok));
    }

    #[test]
    fn an_unhealthy_instance_is_replaced_after_its_grace_period() {
        let mut a = autoscaler();
        let down = vec!["i-2".to_owned()];
        let (actions, _) = a.tick(25_000, &down);
        assert!(matches!(&actions[0], Action::Terminate { id, .. } if id == "i-2"));
        assert_eq!(launches(&actions), 1, "replaced at once");
        assert_eq!(a.group.desired, 2, "replacement is not scaling");
        a.group.launched("i-3".into(), 25_000);
        // The new instance is down at first, but within its grace period.
        assert!(a.tick(30_000, &["i-3".to_owned()]).0.is_empty());
    }

    #[test]
    fn events_read_like_an_activity_history() {
        let mut a = autoscaler();
        load(&mut a, 0, 10_000, 1_500.0);
        let (_, events) = a.tick(10_000, &[]);
        let lines: Vec<String> = events.iter().map(|e| e.what.to_string()).collect();
        assert!(
            lines[0].starts_with("alarm latency-high: INSUFFICIENT_DATA -> ALARM"),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("desired capacity 2 -> 3")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("launching an instance: alarm latency-high in ALARM")),
            "{lines:?}"
        );
    }

    #[test]
    fn a_scheduled_action_sets_the_bounds_and_the_alarms_work_inside_them() {
        use crate::schedule::ScheduledAction;
        let morning = ScheduledAction {
            name: "morning".into(),
            cron: Some("0 8 * * *".into()),
            at: None,
            time_zone: "UTC".into(),
            min: Some(3),
            max: Some(5),
            desired: None,
        };
        // The autoscaler's clock, on a day at 07:59:50 UTC.
        let base = "2026-11-27T07:59:50Z".parse::<jiff::Timestamp>().unwrap();
        let at = |ms: Millis| base.as_millisecond() as u64 + ms;
        let stamp = |ms: Millis| jiff::Timestamp::from_millisecond(at(ms) as i64).unwrap();
        let mut a = autoscaler();
        assert!(!morning.due(stamp(0), stamp(5_000)), "not yet 08:00");
        assert!(
            morning.due(stamp(5_000), stamp(10_000)),
            "08:00 is in this tick"
        );
        let event = a.apply_scheduled(at(10_000), &morning);
        assert_eq!(
            event.what.to_string(),
            "scheduled action morning: min 2 -> 3, max 4 -> 5, desired 2 -> 3"
        );
        let (actions, events) = a.tick(at(10_000), &[]);
        assert_eq!(launches(&actions), 1, "{events:?}");
        assert!(events.iter().any(|e| e
            .what
            .to_string()
            .contains("launching an instance: scheduled action morning")));
        a.group.launched("i-3".into(), at(10_500));
        // Low latency asks to remove one, but 3 is the new minimum.
        load(&mut a, at(10_000), at(20_000), 10.0);
        let (actions, events) = a.tick(at(20_000), &[]);
        assert!(actions.is_empty(), "{events:?}");
        assert!(events.iter().any(|e| matches!(
            &e.what,
            EventKind::Policy {
                outcome: PolicyOutcome::AtLimit { desired: 3 },
                ..
            }
        )));
        // High latency may now grow the group to 5, the new maximum.
        load(&mut a, at(20_000), at(30_000), 1_500.0);
        let (actions, _) = a.tick(at(30_000), &[]);
        assert_eq!(launches(&actions), 1);
        assert_eq!(a.group.desired, 4);
    }
}
