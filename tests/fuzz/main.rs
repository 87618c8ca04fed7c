//! Fuzzing on stable Rust: each target gets its committed seed corpus
//! (`fuzz/corpus/<target>/`), then mutations of it (bit flips, byte
//! insertions and deletions, truncations, splices, "interesting" values) for
//! a set time. Not coverage-guided like cargo-fuzz (which needs nightly and
//! libFuzzer, neither of which CI can count on); it runs in the test suite
//! in its short form, and for longer with `scripts/fuzz`.
//!
//! Every target states what must hold for any input: no panic, and the
//! target's own properties (a refusal is an error value, never a crash; a
//! parsed redirect is a same-site path; stripping is idempotent; ...). A
//! failing input is written to `fuzz/artifacts/<target>/` to be replayed.
//!
//!   FUZZ_SECONDS   time per target (default 2)
//!   FUZZ_SEED      the random seed (default: from the clock, printed)

mod driver;
mod targets;

use driver::Fuzz;

#[test]
fn fuzz_the_next_parameter() {
    Fuzz::new("next").run(targets::redirect_target);
}

#[test]
fn fuzz_the_upload_check() {
    Fuzz::new("upload").run(targets::upload_check);
}

#[test]
fn fuzz_the_metadata_stripper() {
    Fuzz::new("upload")
        .named("strip")
        .run(targets::metadata_strip);
}

#[test]
fn fuzz_configuration_loading() {
    Fuzz::new("config").run(targets::configuration);
}

#[test]
fn fuzz_the_multipart_receiver() {
    Fuzz::new("multipart").run(targets::multipart);
}
