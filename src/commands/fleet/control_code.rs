//! One-time codes that unlock the fleet view's controls.
//!
//! `infra up` and `tour` issue a code and print a link carrying it after a
//! `#` (`http://…/fleet#code=…`): a fragment never reaches a server log or a
//! Referer header. The page sends the code once to the fleet view, which
//! redeems it and answers with an HttpOnly cookie. The stack's admin token
//! never leaves the machine's files: it is in no page, no URL, no cookie.
//!
//! Each code is a file in `<state>/fleet/control-codes/`, named by the code's
//! SHA-256 (the code itself is stored nowhere). Redeeming removes the file:
//! the kernel lets exactly one `unlink` of a name succeed, so a code works
//! once even when two requests race, and `up` and the fleet view (two
//! processes) need no lock between them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// How long a printed link works.
pub const VALID_FOR: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum CodeRefused {
    #[error("this link was already used, has expired or belongs to another stack; print a new one with `photoscale infra up` (again, with the same flags)")]
    Unknown,
    #[error("the link expired ({} min); print a new one with `photoscale infra up` (again, with the same flags)", VALID_FOR.as_secs() / 60)]
    Expired,
}

fn directory(state_dir: &Path) -> PathBuf {
    state_dir.join("fleet").join("control-codes")
}

/// The file a code is known by; None for text that is not a code's shape
/// (so no request can name a path of its choosing).
fn file_of(state_dir: &Path, code: &str) -> Option<PathBuf> {
    let well_formed = code.len() == 43
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| directory(state_dir).join(hex::encode(Sha256::digest(code.as_bytes()))))
}

/// Makes a new code for the stack in `state_dir` (and forgets expired ones).
pub fn issue(state_dir: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = directory(state_dir);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    forget_expired(&dir);
    let code = crate::csrf::new_token();
    let path = file_of(state_dir, &code).expect("a new code is well formed");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    Ok(code)
}

/// Uses `code` up: Ok once, for a code issued here less than `VALID_FOR` ago.
pub fn redeem(state_dir: &Path, code: &str) -> Result<(), CodeRefused> {
    let path = file_of(state_dir, code).ok_or(CodeRefused::Unknown)?;
    let issued = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map_err(|_| CodeRefused::Unknown)?;
    std::fs::remove_file(&path).map_err(|_| CodeRefused::Unknown)?;
    match SystemTime::now().duration_since(issued) {
        Ok(age) if age > VALID_FOR => Err(CodeRefused::Expired),
        _ => Ok(()),
    }
}

fn forget_expired(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > VALID_FOR);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once() {
        let dir = tempfile::tempdir().unwrap();
        let code = issue(dir.path()).unwrap();
        assert_eq!(code.len(), 43);
        assert!(redeem(dir.path(), &code).is_ok());
        assert!(matches!(
            redeem(dir.path(), &code),
            Err(CodeRefused::Unknown)
        ));
    }

    #[test]
    fn the_code_itself_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let code = issue(dir.path()).unwrap();
        let names: Vec<String> = std::fs::read_dir(directory(dir.path()))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(!names[0].contains(&code));
        assert_eq!(names[0].len(), 64, "a SHA-256 in hex");
    }

    #[test]
    fn made_up_and_malformed_codes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        issue(dir.path()).unwrap();
        for code in [
            "",
            "../../etc/passwd",
            &"a".repeat(43),
            &crate::csrf::new_token(),
        ] {
            assert!(redeem(dir.path(), code).is_err(), "{code:?}");
        }
    }

    #[test]
    fn an_expired_code_is_refused_and_used_up() {
        let dir = tempfile::tempdir().unwrap();
        let code = issue(dir.path()).unwrap();
        let path = file_of(dir.path(), &code).unwrap();
        let long_ago = SystemTime::now() - VALID_FOR - Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        assert!(matches!(
            redeem(dir.path(), &code),
            Err(CodeRefused::Expired)
        ));
        assert!(!path.exists());
    }
}
