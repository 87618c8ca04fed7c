//! The photoscale program the instances run, when `up` delivers it (the
//! default): its SHA-256 (what the fingerprint and the instances check),
//! and whether it can run on the chosen image at all: its architecture
//! against the instance type's, and the glibc symbol versions it needs
//! against the image's glibc.

use std::path::{Path, PathBuf};

use object::read::elf::ElfFile64;
use object::{Architecture, Endianness, Object};
use sha2::{Digest, Sha256};

use super::error::AwsError;
use super::{AwsOptions, Os};

#[derive(Debug, Clone)]
pub struct AppBinary {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// `x86_64` or `aarch64`.
    pub architecture: &'static str,
    /// The newest `GLIBC_x.y` symbol version it needs.
    pub glibc: Option<(u32, u32)>,
}

/// Reads and checks `path`: a 64-bit Linux ELF program.
pub fn inspect(path: &Path) -> Result<AppBinary, AwsError> {
    let data = std::fs::read(path).map_err(|e| {
        AwsError::Invalid(format!(
            "cannot read the app binary {}: {e}\n  fix: pass --app-binary with the path of a release build (cargo build --release)",
            path.display()
        ))
    })?;
    let not_linux = |why: String| {
        AwsError::Invalid(format!(
            "{} is not a program the instances can run: {why}\n  fix: pass --app-binary with a Linux release build of photoscale (target/release/photoscale)",
            path.display()
        ))
    };
    let file = ElfFile64::<Endianness>::parse(&*data)
        .map_err(|e| not_linux(format!("not a 64-bit ELF file ({e})")))?;
    let architecture = match file.architecture() {
        Architecture::X86_64 => "x86_64",
        Architecture::Aarch64 => "aarch64",
        other => return Err(not_linux(format!("built for {other:?}"))),
    };
    let glibc = newest_glibc(&file, &data).map_err(|e| not_linux(e.to_string()))?;
    Ok(AppBinary {
        path: path.to_owned(),
        sha256: hex::encode(Sha256::digest(&data)),
        size: data.len() as u64,
        architecture,
        glibc,
    })
}

fn newest_glibc(
    file: &ElfFile64<Endianness>,
    data: &[u8],
) -> object::read::Result<Option<(u32, u32)>> {
    let endian = file.endian();
    let sections = file.elf_section_table();
    let Some((mut needs, link)) = sections.gnu_verneed(endian, data)? else {
        return Ok(None);
    };
    let strings = sections.strings(endian, data, link)?;
    let mut newest = None;
    while let Some((_, mut versions)) = needs.next()? {
        while let Some(version) = versions.next()? {
            let name = version.name(endian, strings)?;
            if let Some(v) = glibc_version(&String::from_utf8_lossy(name)) {
                newest = newest.max(Some(v));
            }
        }
    }
    Ok(newest)
}

/// `GLIBC_2.34` → (2, 34).
fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let (major, minor) = name.strip_prefix("GLIBC_")?.split_once('.')?;
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The image `--os` looks up, and the glibc it ships.
pub fn image_glibc(os: Os) -> (&'static str, (u32, u32)) {
    match os {
        Os::AmazonLinux => ("Amazon Linux 2023", (2, 34)),
        Os::Ubuntu => ("Ubuntu 24.04", (2, 39)),
    }
}

/// AWS's Graviton types have a `g` after the generation: t4g, m7g, c7gn.
pub fn instance_architecture(instance_type: &str) -> &'static str {
    let family = instance_type.split('.').next().unwrap_or("");
    let after_generation = family.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let suffix = after_generation.trim_start_matches(|c: char| c.is_ascii_digit());
    if suffix.starts_with('g') {
        "aarch64"
    } else {
        "x86_64"
    }
}

/// Whether `binary` runs on what `options` launch: an error when it
/// cannot, warnings for what cannot be checked.
pub fn check_runs_on(binary: &AppBinary, options: &AwsOptions) -> Result<Vec<String>, AwsError> {
    let wanted = instance_architecture(&options.instance_type);
    if binary.architecture != wanted {
        return Err(AwsError::Invalid(format!(
            "{} is built for {}, but {} instances are {wanted}\n  fix: build photoscale for {wanted}, or choose an instance type of its architecture",
            binary.path.display(),
            binary.architecture,
            options.instance_type
        )));
    }
    if wanted != "x86_64" {
        return Err(AwsError::Invalid(format!(
            "{} instances are {wanted}; `infra up` looks up x86_64 images only\n  fix: choose an x86_64 instance type (e.g. t3.micro)",
            options.instance_type
        )));
    }
    if options.ami.is_some() {
        return Ok(vec![format!(
            "with --ami, whether {} can run on the image (its glibc) cannot be checked",
            binary.path.display()
        )]);
    }
    let (image, (major, minor)) = image_glibc(options.os);
    match binary.glibc {
        Some((m, n)) if (m, n) > (major, minor) => Err(AwsError::Invalid(format!(
            "{} needs glibc {m}.{n}, but {image} has {major}.{minor}: it would not start there\n  fix: build on a system with glibc {major}.{minor} or older, or choose another --os",
            binary.path.display()
        ))),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::aws::test_options as options;

    fn binary(architecture: &'static str, glibc: (u32, u32)) -> AppBinary {
        AppBinary {
            path: "target/release/photoscale".into(),
            sha256: "0".repeat(64),
            size: 1,
            architecture,
            glibc: Some(glibc),
        }
    }

    #[test]
    fn a_real_program_is_read() {
        // This test's own executable: a Linux x86_64 build like the app's.
        let me = inspect(&std::env::current_exe().unwrap()).unwrap();
        assert_eq!(me.architecture, "x86_64");
        assert_eq!(me.sha256.len(), 64);
        assert!(me.glibc.is_some_and(|v| v >= (2, 2)), "{me:?}");
    }

    #[test]
    fn what_is_not_a_program_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("photoscale");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        let error = inspect(&script).unwrap_err().to_string();
        assert!(
            error.contains("not a 64-bit ELF file") && error.contains("fix: "),
            "{error}"
        );
        let error = inspect(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot read the app binary"), "{error}");
    }

    #[test]
    fn glibc_newer_than_the_image_is_refused() {
        let options = options();
        assert!(check_runs_on(&binary("x86_64", (2, 34)), &options)
            .unwrap()
            .is_empty());
        let error = check_runs_on(&binary("x86_64", (2, 36)), &options)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("needs glibc 2.36, but Amazon Linux 2023 has 2.34"),
            "{error}"
        );
        let mut ubuntu = options.clone();
        ubuntu.os = Os::Ubuntu;
        assert!(check_runs_on(&binary("x86_64", (2, 36)), &ubuntu)
            .unwrap()
            .is_empty());
        let mut own_image = options.clone();
        own_image.ami = Some("ami-0123456789abcdef0".into());
        let warnings = check_runs_on(&binary("x86_64", (2, 40)), &own_image).unwrap();
        assert!(warnings[0].contains("cannot be checked"), "{warnings:?}");
    }

    #[test]
    fn the_architecture_must_match_the_instance_type() {
        assert_eq!(instance_architecture("t3.micro"), "x86_64");
        assert_eq!(instance_architecture("t4g.small"), "aarch64");
        assert_eq!(instance_architecture("c7gn.large"), "aarch64");
        assert_eq!(instance_architecture("m7i.large"), "x86_64");
        let error = check_runs_on(&binary("aarch64", (2, 34)), &options())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("built for aarch64, but t3.micro instances are x86_64"),
            "{error}"
        );
    }

    #[test]
    fn glibc_versions_are_read_from_their_names() {
        assert_eq!(glibc_version("GLIBC_2.34"), Some((2, 34)));
        assert_eq!(glibc_version("GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(glibc_version("GCC_3.0"), None);
    }
}
