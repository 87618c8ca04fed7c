//! An optional caption, used as the photo's alt text.

pub const MAX_CHARS: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caption(Option<String>);

impl Caption {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.chars().count() > MAX_CHARS {
            return Err(format!("Captions are at most {MAX_CHARS} characters."));
        }
        if text.chars().any(|c| c.is_control()) {
            return Err("Captions cannot contain control characters.".to_owned());
        }
        Ok(Self((!text.is_empty()).then(|| text.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}
