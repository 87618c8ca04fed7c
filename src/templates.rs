//! Tera templates, compiled into the binary so `photoscale serve` works from
//! any directory. Debug builds read `templates/` from disk at start-up instead.

use rust_embed::RustEmbed;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tera::{Tera, Value};

#[derive(RustEmbed)]
#[folder = "templates/"]
struct TemplateFiles;

#[derive(Debug, Clone)]
pub struct Templates(std::sync::Arc<Tera>);

impl Templates {
    pub fn load() -> Result<Self, tera::Error> {
        let mut tera = Tera::default();
        let files: Vec<(String, String)> = TemplateFiles::iter()
            .filter_map(|name| {
                let file = TemplateFiles::get(&name)?;
                let text = String::from_utf8_lossy(&file.data).into_owned();
                Some((name.into_owned(), text))
            })
            .collect();
        tera.add_raw_templates(files)?;
        tera.autoescape_on(vec![".html"]);
        tera.register_filter("timeago", timeago_filter);
        tera.register_filter("rfc3339", rfc3339_filter);
        tera.register_filter("bytes", bytes_filter);
        Ok(Self(std::sync::Arc::new(tera)))
    }

    pub fn render(&self, name: &str, context: &tera::Context) -> Result<String, tera::Error> {
        self.0.render(name, context)
    }
}

fn millis_arg(value: &Value, filter: &str) -> tera::Result<i64> {
    value
        .as_i64()
        .ok_or_else(|| tera::Error::msg(format!("`{filter}` expects milliseconds since the epoch")))
}

/// "just now", "5 minutes ago", "3 days ago".
pub fn time_ago(then_millis: i64, now: SystemTime) -> String {
    let now_millis = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    let secs = (now_millis - then_millis).max(0) / 1000;
    let (n, unit) = match secs {
        s if s < 45 => return "just now".into(),
        s if s < 3600 => ((s + 30) / 60, "minute"),
        s if s < 86_400 => ((s + 1800) / 3600, "hour"),
        s if s < 30 * 86_400 => ((s + 43_200) / 86_400, "day"),
        s if s < 365 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    let n = n.max(1);
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// When the label `time_ago` gives for `then_millis` next changes, in
/// milliseconds since the epoch: a page that shows it may be reused until then.
pub fn time_ago_changes_at(then_millis: i64, now: SystemTime) -> i64 {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 3600;
    const DAY: i64 = 86_400;
    const MONTH: i64 = 30 * DAY;
    const YEAR: i64 = 365 * DAY;
    let now_millis = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    let secs = (now_millis - then_millis).max(0) / 1000;
    // The first whole second at which the label differs from now's; each
    // arm mirrors the rounding in `time_ago`.
    let next = match secs {
        s if s < 45 => 45,
        s if s < HOUR => (((s + 30) / MINUTE + 1) * MINUTE - 30).min(HOUR),
        s if s < DAY => (((s + 1800) / HOUR + 1) * HOUR - 1800).min(DAY),
        s if s < MONTH => (((s + 43_200) / DAY + 1) * DAY - 43_200).min(MONTH),
        s if s < YEAR => ((s / MONTH + 1) * MONTH).min(YEAR),
        s => (s / YEAR + 1) * YEAR,
    };
    then_millis + next * 1000
}

fn timeago_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let millis = millis_arg(value, "timeago")?;
    Ok(Value::String(time_ago(millis, SystemTime::now())))
}

fn rfc3339_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let millis = millis_arg(value, "rfc3339")?.max(0) as u64;
    let time = UNIX_EPOCH + Duration::from_millis(millis);
    Ok(Value::String(
        humantime::format_rfc3339_seconds(time).to_string(),
    ))
}

fn bytes_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let bytes = value
        .as_u64()
        .ok_or_else(|| tera::Error::msg("`bytes` expects a byte count"))?;
    Ok(Value::String(crate::error::human_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = UNIX_EPOCH + Duration::from_secs(10_000_000);
        let ago = |secs: i64| time_ago(10_000_000_000 - secs * 1000, now);
        assert_eq!(ago(3), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(600), "10 minutes ago");
        assert_eq!(ago(7200), "2 hours ago");
        assert_eq!(ago(86_400 * 3), "3 days ago");
    }

    #[test]
    fn relative_times_are_reused_exactly_until_they_change() {
        let then = 1_000_000_000_000i64;
        for secs in [
            0i64, 44, 45, 89, 90, 3_000, 3_599, 3_600, 5_399, 80_000, 86_399, 86_400, 2_000_000,
            40_000_000,
        ] {
            let now = UNIX_EPOCH + Duration::from_millis((then + secs * 1000) as u64);
            let label = time_ago(then, now);
            let changes = time_ago_changes_at(then, now);
            assert!(changes > then + secs * 1000, "{secs}: the change is ahead");
            let just_before = UNIX_EPOCH + Duration::from_millis((changes - 1000) as u64);
            let at = UNIX_EPOCH + Duration::from_millis(changes as u64);
            assert_eq!(
                time_ago(then, just_before),
                label,
                "{secs}: same label until the change"
            );
            assert_ne!(
                time_ago(then, at),
                label,
                "{secs}: a new label at the change"
            );
        }
    }

    #[test]
    fn every_template_compiles() {
        Templates::load().unwrap();
    }
}
