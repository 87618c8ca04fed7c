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
        if text.chars().any(is_invisible_format) {
            return Err(
                "Captions cannot contain invisible formatting characters (bidirectional overrides, zero-width characters).".to_owned(),
            );
        }
        Ok(Self((!text.is_empty()).then(|| text.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// Characters that change how text around them reads without showing
/// themselves: bidirectional embeddings, overrides and isolates (which can
/// make a caption display in another order than it is stored, the
/// "Trojan Source" trick) and zero-width characters (which make two
/// captions that look alike differ).
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}'                    // Arabic letter mark
        | '\u{200B}'..='\u{200F}'     // zero-width space, (non-)joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'     // embeddings and overrides
        | '\u{2060}'..='\u{2064}'     // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'     // isolates
        | '\u{FEFF}'                   // zero-width no-break space (BOM)
    )
}

#[cfg(test)]
mod tests {
    use super::Caption;

    #[test]
    fn invisible_format_characters_are_refused() {
        for bad in [
            "a\u{202E}gnp.exe",
            "zero\u{200B}width",
            "\u{2066}isolate\u{2069}",
            "\u{FEFF}bom",
        ] {
            assert!(Caption::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Caption::parse("Sunset over the bay, ça va").is_ok());
        assert!(
            Caption::parse("شروق الشمس").is_ok(),
            "right-to-left text itself is fine"
        );
    }
}
