//! A CloudWatch-style metric alarm: a threshold, a comparison, and "M out of
//! N" (datapoints to alarm out of evaluation periods). Missing data is
//! treated as missing: with no datapoint in the window the alarm does not
//! know, which is INSUFFICIENT_DATA, exactly as a fresh CloudWatch alarm is.

use serde::Serialize;

use crate::spec::{Alarm, Comparison};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl std::fmt::Display for AlarmState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        })
    }
}

/// A change of state, with CloudWatch's kind of reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub alarm: String,
    pub from: AlarmState,
    pub to: AlarmState,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct MetricAlarm {
    pub config: Alarm,
    pub state: AlarmState,
}

impl MetricAlarm {
    pub fn new(config: Alarm) -> Self {
        Self {
            config,
            state: AlarmState::InsufficientData,
        }
    }

    /// Evaluates the window (the last `evaluation_periods` datapoints,
    /// oldest first) and returns the transition, if the state changed.
    pub fn evaluate(&mut self, window: &[Option<f64>]) -> Option<Transition> {
        let present: Vec<f64> = window.iter().flatten().copied().collect();
        let breaching = present.iter().filter(|v| self.breaches(**v)).count() as u32;
        let next = if breaching >= self.config.datapoints_to_alarm {
            AlarmState::Alarm
        } else if present.is_empty() {
            AlarmState::InsufficientData
        } else {
            AlarmState::Ok
        };
        if next == self.state {
            return None;
        }
        let transition = Transition {
            alarm: self.config.name.clone(),
            from: self.state,
            to: next,
            reason: self.reason(window, breaching),
        };
        self.state = next;
        Some(transition)
    }

    fn breaches(&self, value: f64) -> bool {
        let threshold = self.config.threshold_ms as f64;
        match self.config.comparison {
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
        }
    }

    fn reason(&self, window: &[Option<f64>], breaching: u32) -> String {
        let shown: Vec<String> = window
            .iter()
            .map(|v| v.map_or("no data".to_owned(), |v| format!("{v:.0} ms")))
            .collect();
        let op = match self.config.comparison {
            Comparison::GreaterThanThreshold => ">",
            Comparison::LessThanThreshold => "<",
        };
        format!(
            "{} of the last {} datapoint(s) [{}] {op} {} ms ({} needed)",
            breaching,
            window.len(),
            shown.join(", "),
            self.config.threshold_ms,
            self.config.datapoints_to_alarm
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Scaling;

    fn high() -> MetricAlarm {
        MetricAlarm::new(Scaling::tutorial().alarms[0].clone())
    }

    #[test]
    fn starts_without_data_and_crosses_the_threshold() {
        let mut alarm = high();
        assert_eq!(alarm.state, AlarmState::InsufficientData);
        assert_eq!(alarm.evaluate(&[None]), None, "still no data");
        let ok = alarm.evaluate(&[Some(200.0)]).unwrap();
        assert_eq!(
            (ok.from, ok.to),
            (AlarmState::InsufficientData, AlarmState::Ok)
        );
        assert_eq!(
            alarm.evaluate(&[Some(1000.0)]),
            None,
            "equal is not greater"
        );
        let fired = alarm.evaluate(&[Some(1500.0)]).unwrap();
        assert_eq!(fired.to, AlarmState::Alarm);
        assert!(fired.reason.contains("1500 ms"), "{}", fired.reason);
        assert_eq!(
            alarm.evaluate(&[None]).unwrap().to,
            AlarmState::InsufficientData
        );
    }

    #[test]
    fn needs_m_out_of_n_datapoints() {
        let mut config = Scaling::tutorial().alarms[0].clone();
        config.evaluation_periods = 3;
        config.datapoints_to_alarm = 2;
        let mut alarm = MetricAlarm::new(config);
        alarm.evaluate(&[Some(100.0), Some(1500.0), Some(100.0)]);
        assert_eq!(alarm.state, AlarmState::Ok, "one of three is not enough");
        alarm.evaluate(&[Some(1500.0), None, Some(2000.0)]);
        assert_eq!(
            alarm.state,
            AlarmState::Alarm,
            "two of three, a gap between"
        );
    }

    #[test]
    fn the_low_alarm_compares_the_other_way() {
        let mut low = MetricAlarm::new(Scaling::tutorial().alarms[1].clone());
        assert_eq!(low.evaluate(&[Some(300.0)]).unwrap().to, AlarmState::Alarm);
        assert_eq!(low.evaluate(&[Some(700.0)]).unwrap().to, AlarmState::Ok);
    }
}
