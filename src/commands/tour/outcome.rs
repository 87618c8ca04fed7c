//! What a step of the tour showed, and whether it behaved as expected:
//! what the report and the terminal say.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub step: String,
    /// What was observed, one plain sentence each, with the figures.
    pub shown: Vec<String>,
    pub as_expected: bool,
}

impl Outcome {
    pub fn new(step: &str) -> Self {
        Self {
            step: step.to_owned(),
            shown: Vec::new(),
            as_expected: true,
        }
    }

    /// Records an observation and whether it is what the step expects.
    pub fn check(&mut self, as_expected: bool, sentence: String) {
        self.as_expected &= as_expected;
        self.shown.push(sentence);
    }

    /// Prints the observations, marked.
    pub fn print(&self) {
        let mark = if self.as_expected {
            "as expected"
        } else {
            "NOT as expected"
        };
        println!("  -> {mark}");
        for line in &self.shown {
            println!("     {line}");
        }
    }
}
