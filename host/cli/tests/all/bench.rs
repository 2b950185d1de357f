//! `boundary bench`'s command line: a bad input file is refused with exit 2 and one line before
//! anything is measured, and `--web-only` merges browser figures into a report. (The benchmark
//! itself is tested in the `boundary-bench` crate.)

use assert_cmd::Command;

fn boundary() -> Command {
    Command::cargo_bin("boundary").expect("the boundary binary is built")
}

/// Runs `boundary bench ARGS` and checks exit 2, nothing on stdout, and one line on stderr
/// naming `needle`.
fn refused(args: &[&str], needle: &str) {
    let output = boundary().arg("bench").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "{args:?}: {stderr}"
    );
}

#[test]
fn bad_input_files_are_refused_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.md");
    let out = out.to_str().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not wasm at all").unwrap();
    let peer = dir.path().join("peer.json");
    std::fs::write(&peer, "{\"peer\": 1}").unwrap();
    refused(
        &["--out", out, "--guest", notes.to_str().unwrap()],
        "not a WebAssembly file",
    );
    refused(
        &["--out", out, "--peer-results", peer.to_str().unwrap()],
        "is not a peer's figures",
    );
    refused(
        &["--out", out, "--web-results", "/no/such/comparison.json"],
        "cannot read /no/such/comparison.json",
    );
    // Nothing was written.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn web_only_merges_the_browser_figures_into_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.md");
    std::fs::write(&report, "# Benchmark report\n\nkept\n").unwrap();
    let web = dir.path().join("comparison.json");
    std::fs::write(
        &web,
        r#"{"browser": "test browser", "unit": "µs", "cases": [
            {"case": "seed example", "componentUs": 3, "rawUs": 2, "bindgenUs": 2, "equal": true}]}"#,
    )
    .unwrap();
    let output = boundary()
        .args(["bench", "--web-only", "--web-results"])
        .arg(&web)
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("merged "));
    let merged = std::fs::read_to_string(&report).unwrap();
    assert!(
        merged.starts_with("# Benchmark report\n\nkept\n"),
        "{merged}"
    );
    assert!(merged.contains("Browser: test browser."), "{merged}");
    // Without a report to merge into: one line, exit 2.
    refused(
        &[
            "--web-only",
            "--web-results",
            web.to_str().unwrap(),
            "--out",
            dir.path().join("absent.md").to_str().unwrap(),
        ],
        "cannot read",
    );
}
