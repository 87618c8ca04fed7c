//! A schedule of latency flips during a load test:
//! `--flip 10s:3s:i-1 --flip 70s:0s:all` sets instance i-1 to 3 s ten
//! seconds in, and every instance back to 0 s at seventy.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flip {
    /// When, from the start of the run.
    pub at: Duration,
    pub latency: Duration,
    /// An instance id (i-1, ...) or None for all.
    pub instance: Option<String>,
}

impl std::str::FromStr for Flip {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = "use OFFSET:LATENCY:TARGET, e.g. 10s:3s:i-1 or 70s:0s:all";
        let parts: Vec<&str> = text.split(':').collect();
        let [at, latency, target] = parts.as_slice() else {
            return Err(format!("{text:?} has not three parts; {usage}"));
        };
        let duration = |what: &str, value: &str| {
            humantime::parse_duration(value)
                .map_err(|e| format!("the {what} {value:?} in {text:?}: {e}; {usage}"))
        };
        let instance = match *target {
            "all" => None,
            id if id.starts_with("i-") => Some(id.to_owned()),
            other => {
                return Err(format!(
                    "{other:?} is not an instance id or \"all\"; {usage}"
                ))
            }
        };
        Ok(Self {
            at: duration("offset", at)?,
            latency: duration("latency", latency)?,
            instance,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_are_parsed() {
        let flip: Flip = "10s:3s:i-1".parse().unwrap();
        assert_eq!(flip.at, Duration::from_secs(10));
        assert_eq!(flip.latency, Duration::from_secs(3));
        assert_eq!(flip.instance.as_deref(), Some("i-1"));
        assert_eq!("1m10s:0s:all".parse::<Flip>().unwrap().instance, None);
        assert!("10s:3s"
            .parse::<Flip>()
            .unwrap_err()
            .contains("three parts"));
        assert!("10s:soon:all"
            .parse::<Flip>()
            .unwrap_err()
            .contains("latency"));
        assert!("10s:1s:web1"
            .parse::<Flip>()
            .unwrap_err()
            .contains("instance id"));
    }
}
