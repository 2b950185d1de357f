//! The compiled-guest cache through the CLI: `--cache-dir`, `$BOUNDARY_CACHE_DIR`, `--no-cache`,
//! and a cache that cannot be written.

use std::path::Path;

use assert_cmd::Command;

const EXAMPLE_OUT: &str = r#"{"name":"name3","names":["name1","name2","new name"]}"#;

fn run_example(cache: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("boundary").expect("the boundary binary is built");
    cmd.env_remove("BOUNDARY_CACHE_DIR")
        .args(["run", "--path", "all"])
        .args(cache)
        .write_stdin(r#"{"name":"name3","names":["name1","name2"]}"#);
    cmd
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

#[test]
fn a_run_fills_the_cache_and_the_next_run_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let flag = ["--cache-dir", cache.to_str().unwrap()];
    for _ in 0..2 {
        let out = run_example(&flag).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), EXAMPLE_OUT);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // One entry per registered guest, written once.
        assert_eq!(entries(&cache), distinct_guests());
    }
}

#[test]
fn the_environment_variable_moves_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_example(&[])
        .env("BOUNDARY_CACHE_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(entries(dir.path()), distinct_guests());
}

/// How many different default guests the registered paths embed: the cache names an entry by
/// the guest's bytes, so two paths with the same bytes (and kind) share one.
fn distinct_guests() -> usize {
    let mut guests: Vec<_> = boundary_guests::paths()
        .iter()
        .map(|path| (path.kind, path.registration.default_guest))
        .collect();
    guests.sort_by_key(|(kind, bytes)| (kind.to_string(), *bytes));
    guests.dedup();
    guests.len()
}

#[test]
fn no_cache_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_example(&["--no-cache"])
        .env("BOUNDARY_CACHE_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), EXAMPLE_OUT);
    assert_eq!(entries(dir.path()), 0);
}

#[test]
fn a_cache_that_cannot_be_written_is_one_warning_and_the_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let out = run_example(&["--cache-dir", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), EXAMPLE_OUT);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("warning: cannot write the compiled-guest cache at ")
            && stderr.contains("a-file")
            && stderr.contains("--no-cache"),
        "{stderr}"
    );
}

#[test]
fn no_cache_and_a_cache_dir_conflict() {
    let out = run_example(&["--no-cache", "--cache-dir", "/tmp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
