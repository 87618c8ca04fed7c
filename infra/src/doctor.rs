//! What a level needs on this machine, and what is missing, with the exact
//! command that installs it. `infra up` checks this before starting anything.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::spec::{Database, StackSpec};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prerequisite {
    /// The program looked for, e.g. `haproxy`.
    pub program: &'static str,
    /// Why this level needs it.
    pub purpose: &'static str,
    /// The command that installs it.
    pub install: &'static str,
    /// Where it was found; None when missing.
    pub found: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub level: u8,
    pub prerequisites: Vec<Prerequisite>,
}

impl Report {
    pub fn is_ready(&self) -> bool {
        self.prerequisites.iter().all(|p| p.found.is_some())
    }

    /// One command that installs every missing program.
    pub fn install_commands(&self) -> Vec<&'static str> {
        let mut commands: Vec<&'static str> = Vec::new();
        for p in self.prerequisites.iter().filter(|p| p.found.is_none()) {
            if !commands.contains(&p.install) {
                commands.push(p.install);
            }
        }
        commands
    }

    /// A human-readable report, one line per prerequisite.
    pub fn render(&self) -> String {
        let mut out = format!("Level {} needs:\n", self.level);
        if self.prerequisites.is_empty() {
            out.push_str("  nothing beyond photoscale itself\n");
        }
        for p in &self.prerequisites {
            match &p.found {
                Some(path) => out.push_str(&format!(
                    "  ok       {:<20} {} ({})\n",
                    p.program,
                    p.purpose,
                    path.display()
                )),
                None => out.push_str(&format!("  MISSING  {:<20} {}\n", p.program, p.purpose)),
            }
        }
        let commands = self.install_commands();
        if !commands.is_empty() {
            out.push_str("Install what is missing with:\n");
            for command in commands {
                out.push_str(&format!("  {command}\n"));
            }
        }
        out
    }
}

const APT_MARIADB: &str = "sudo apt-get install -y mariadb-server";

/// Checks the programs `spec` needs on the local target.
pub fn check(spec: &StackSpec) -> Report {
    let mut needed: Vec<(&'static str, &'static str, &'static str)> = Vec::new();
    if spec.load_balancer.is_some() {
        needed.push((
            "haproxy",
            "the load balancer",
            "sudo apt-get install -y haproxy",
        ));
    }
    if spec.database == Database::Mariadb {
        needed.push((
            "mariadbd",
            "the shared database (the RDS stand-in)",
            APT_MARIADB,
        ));
        needed.push((
            "mariadb-install-db",
            "initialises the database's data directory",
            APT_MARIADB,
        ));
    }
    if spec.needs_memcached() {
        needed.push((
            "memcached",
            "sessions / feed cache (the ElastiCache stand-in)",
            "sudo apt-get install -y memcached",
        ));
    }
    if spec.needs_redis() {
        needed.push((
            "redis-server",
            "sessions / feed cache",
            "sudo apt-get install -y redis-server",
        ));
    }
    // Level 2's S3 server is photoscale's own (`photoscale s3-server`).
    let prerequisites = needed
        .into_iter()
        .map(|(program, purpose, install)| Prerequisite {
            program,
            purpose,
            install,
            found: find_program(program),
        })
        .collect();
    Report {
        level: spec.level,
        prerequisites,
    }
}

/// Where servers are looked for instead of the default, e.g. to use a
/// hand-built HAProxy: a PATH-style list of directories.
pub const PROGRAM_PATH_VAR: &str = "PHOTOSCALE_PROGRAM_PATH";

/// Looks in `PHOTOSCALE_PROGRAM_PATH` when set; otherwise on PATH and in the
/// sbin directories Debian installs servers to.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = match std::env::var_os(PROGRAM_PATH_VAR) {
        Some(path) => std::env::split_paths(&path).collect(),
        None => {
            let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default();
            dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
            dirs
        }
    };
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Overrides, Target};

    fn report(level: u8) -> Report {
        let spec = StackSpec::for_level(level, Target::Local, &Overrides::default()).unwrap();
        check(&spec)
    }

    fn programs(r: &Report) -> Vec<&str> {
        r.prerequisites.iter().map(|p| p.program).collect()
    }

    #[test]
    fn each_level_needs_its_programs() {
        assert!(programs(&report(0)).is_empty());
        assert_eq!(
            programs(&report(1)),
            ["haproxy", "mariadbd", "mariadb-install-db", "memcached"]
        );
        assert_eq!(
            programs(&report(2)),
            ["haproxy", "mariadbd", "mariadb-install-db", "memcached"],
            "the S3 server is photoscale's own"
        );
        assert!(report(0).render().contains("nothing beyond photoscale"));
    }

    #[test]
    fn missing_programs_come_with_their_install_command() {
        let mut r = report(1);
        r.prerequisites[0].found = None;
        r.prerequisites[3].found = None;
        assert!(!r.is_ready());
        assert_eq!(
            r.install_commands(),
            [
                "sudo apt-get install -y haproxy",
                "sudo apt-get install -y memcached"
            ]
        );
        let text = r.render();
        assert!(text.contains("MISSING  haproxy"), "{text}");
        assert!(text.contains("sudo apt-get install -y haproxy"), "{text}");
    }

    #[test]
    fn programs_are_found_on_path() {
        assert!(find_program("sh").is_some());
        assert!(find_program("no-such-program-photoscale").is_none());
    }
}
