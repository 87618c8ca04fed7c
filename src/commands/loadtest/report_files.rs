//! The report's files: series.csv, summary.json and report.html.

use std::path::{Path, PathBuf};

use super::report::Report;

impl Report {
    /// Writes series.csv, summary.json and report.html into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let files = [
            ("series.csv", self.csv()),
            (
                "summary.json",
                serde_json::to_string_pretty(self).expect("serialises"),
            ),
            ("report.html", super::html::page(self)),
        ];
        let mut written = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text)?;
            written.push(path);
        }
        Ok(written)
    }
}
