//! `boundary batch`: records in input order and equal to native Rust's on every path, bad lines
//! and their line numbers, `--keep-going`, all-or-nothing `-o`, hostile inputs, and memory that
//! stays bounded while a long input streams through.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use boundary_host::{SomeDataStruct, native_transform};
use boundary_test_artifacts as fixtures;

fn boundary() -> Command {
    Command::cargo_bin("boundary").expect("the boundary binary is built")
}

fn path_names() -> Vec<&'static str> {
    boundary_guests::paths().iter().map(|p| p.name()).collect()
}

/// Records of varied sizes, so that workers finish them out of order.
fn records(count: usize) -> Vec<SomeDataStruct> {
    (0..count)
        .map(|i| SomeDataStruct {
            name: format!("record {i}"),
            names: (0..(i * 37) % 400)
                .map(|j| format!("n{j}-{}", "x".repeat(j % 23)))
                .collect(),
        })
        .collect()
}

fn ndjson(records: &[SomeDataStruct]) -> String {
    let mut out = String::new();
    for record in records {
        out.push_str(&serde_json::to_string(record).unwrap());
        out.push('\n');
    }
    out
}

/// What native Rust makes of `records`, as `batch` prints it.
fn expected(records: &[SomeDataStruct]) -> String {
    let transformed: Vec<SomeDataStruct> = records.iter().cloned().map(native_transform).collect();
    ndjson(&transformed)
}

/// Asserts the exit code and that stderr is exactly one line, `error: ...` containing each of
/// `needles`. Returns stdout.
fn assert_fails_with(cmd: &mut Command, code: i32, needles: &[&str]) -> String {
    let output = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "stderr is not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{stderr:?} does not mention {needle:?}"
        );
    }
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The files in `dir`, by name.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn many_workers_keep_input_order_and_match_native_rust_on_every_path() {
    let records = records(300);
    let input = ndjson(&records);
    let want = expected(&records);
    for path in path_names() {
        let output = boundary()
            .args(["batch", "--workers", "8", "--path", path])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{path}: {stderr}");
        assert!(
            String::from_utf8(output.stdout).unwrap() == want,
            "{path}: the output is not native Rust's, in input order"
        );
        // Piped: no progress bar, nothing at all on stderr.
        assert!(output.stderr.is_empty(), "{path}: stderr {stderr:?}");
    }
}

#[test]
fn a_file_in_and_dash_o_out_with_the_default_path_and_workers() {
    let dir = tempfile::tempdir().unwrap();
    let records = records(40);
    let input = write(dir.path(), "in.ndjson", ndjson(&records));
    let out = dir.path().join("out.ndjson");
    let output = boundary()
        .arg("batch")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        output.stdout.is_empty() && output.stderr.is_empty(),
        "{output:?}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected(&records));
    // Only the input and the output: no temporary file left behind.
    assert_eq!(files_in(dir.path()), ["in.ndjson", "out.ndjson"]);
}

#[test]
fn a_bad_line_stops_the_run_with_exit_2_naming_its_line() {
    let good = r#"{"name":"a","names":["b"]}"#;
    let cases = [
        ("not json", "line 3 is not a record"),
        (r#"{"name":"a","names":"b"}"#, "line 3 is not a record"),
        (
            r#"{"name":"a","names":[],"extra":1}"#,
            "unknown field `extra`",
        ),
        (
            &"x".repeat(300),
            "line 3: the input is over the 200-byte limit (--max-input-bytes)",
        ),
    ];
    for (bad, needle) in cases {
        // Line 2 is blank: skipped, but counted.
        let input = format!("{good}\n\n{bad}\n{good}\n");
        let stdout = assert_fails_with(
            boundary()
                .args(["batch", "--workers", "2", "--max-input-bytes", "200"])
                .write_stdin(input),
            2,
            &["line 3", needle],
        );
        // What came before the bad line was written; nothing after it.
        assert!(stdout.lines().count() <= 1, "{stdout}");
    }
}

#[test]
fn keep_going_reports_each_bad_line_and_the_counts() {
    let good = r#"{"name":"a","names":["b"]}"#;
    let input = format!("{good}\nnope\n{good}\n{{}}\n{good}\n");
    let output = boundary()
        .args(["batch", "--keep-going", "--workers", "3"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let want = format!(
        "{}\n",
        serde_json::to_string(&native_transform(serde_json::from_str(good).unwrap())).unwrap()
    );
    assert_eq!(stdout, want.repeat(3));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0].starts_with("line 2 is not a record"), "{stderr}");
    assert!(lines[1].starts_with("line 4 is not a record"), "{stderr}");
    assert_eq!(lines[2], "error: 2 of 5 lines failed (3 ok, 2 bad)");

    // All good: the counts, exit 0.
    let output = boundary()
        .args(["batch", "--keep-going"])
        .write_stdin(format!("{good}\n{good}\n"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8(output.stderr).unwrap(), "2 ok, 0 bad\n");
}

#[test]
fn dash_o_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = write(dir.path(), "out.ndjson", "old contents\n");
    let good = r#"{"name":"a","names":[]}"#;
    let input = format!("{}{}\n", format!("{good}\n").repeat(500), "bad");
    assert_fails_with(
        boundary()
            .args(["batch", "-o"])
            .arg(&out)
            .write_stdin(input),
        2,
        &["line 501"],
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old contents\n");
    assert_eq!(
        files_in(dir.path()),
        ["out.ndjson"],
        "a temporary file was left"
    );

    // A guest that fails: exit 1, the file untouched.
    let traps = write(dir.path(), "trap.wasm", fixtures::RAW_UNREACHABLE);
    assert_fails_with(
        boundary()
            .args(["batch", "--guest"])
            .arg(&traps)
            .arg("-o")
            .arg(&out)
            .write_stdin(format!("{good}\n")),
        1,
        &["line 1", "raw path", "trapped"],
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old contents\n");
    std::fs::remove_file(&traps).unwrap();
    assert_eq!(files_in(dir.path()), ["out.ndjson"]);

    // With --keep-going, the good records are written and the file replaced.
    let output = boundary()
        .args(["batch", "--keep-going", "-o"])
        .arg(&out)
        .write_stdin(format!("{good}\nbad\n"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        r#"{"name":"a","names":["new name"]}"#.to_owned() + "\n"
    );
}

#[test]
fn empty_input_gives_empty_output() {
    boundary()
        .arg("batch")
        .write_stdin("")
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.ndjson", "");
    let out = dir.path().join("out.ndjson");
    boundary()
        .arg("batch")
        .arg(&empty)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), b"");
    // Blank lines only: nothing to do either.
    boundary()
        .args(["batch", "-"])
        .write_stdin("\n  \n\r\n")
        .assert()
        .success()
        .stdout("");
}

#[test]
fn hostile_inputs_and_flags_fail_on_one_line_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_with(
        boundary().arg("batch").arg(dir.path()),
        2,
        &["is a directory"],
    );
    assert_fails_with(
        boundary()
            .arg("batch")
            .arg(dir.path().join("missing.ndjson")),
        2,
        &["cannot read", "missing.ndjson"],
    );
    assert_fails_with(
        boundary()
            .args(["batch", "-o"])
            .arg(dir.path().join("no/such/dir/out.ndjson"))
            .write_stdin("{\"name\":\"a\",\"names\":[]}\n"),
        2,
        &["cannot write", "out.ndjson"],
    );
    assert_fails_with(
        boundary()
            .args(["batch", "-o"])
            .arg(dir.path())
            .write_stdin(""),
        2,
        &["is a directory"],
    );
    for workers in ["0", "257", "99999999999"] {
        assert_fails_with(
            boundary()
                .args(["batch", "--workers", workers])
                .write_stdin(""),
            2,
            &["--workers", workers],
        );
    }
    assert_fails_with(
        boundary().args(["batch", "--path", "all"]).write_stdin(""),
        2,
        &["--path all", "one path"],
    );
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}

/// /dev/zero never ends a line: the run stops at the cap, having read little more than it.
#[cfg(target_os = "linux")]
#[test]
fn an_endless_line_stops_at_the_cap() {
    assert_fails_with(
        boundary().args(["batch", "/dev/zero", "--max-input-bytes", "1048576"]),
        2,
        &["line 1: the input is over the 1048576-byte limit (--max-input-bytes)"],
    );
}

/// The peak resident set of process `pid`, in bytes.
#[cfg(target_os = "linux")]
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/PID/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib << 10
}

/// Streams about 56 MB of records through standard input and checks that the process's peak
/// resident set grows by far less than that once it is warm: the records in flight are bounded.
#[cfg(target_os = "linux")]
#[test]
fn memory_stays_bounded_while_a_long_input_streams_through() {
    const WARM: usize = 20;
    const TOTAL: usize = 800;
    // ~70 KB of JSON per record: above the output buffer, so each record reaches the pipe at once.
    let record = SomeDataStruct {
        name: "big".into(),
        names: (0..1000)
            .map(|i| format!("{i:04}-{}", "y".repeat(60)))
            .collect(),
    };
    let line = serde_json::to_string(&record).unwrap() + "\n";
    let input_bytes = line.len() * TOTAL;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("boundary"))
        .args(["batch", "--workers", "2", "--path", "raw"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let counter = std::thread::spawn(move || {
        let mut count = 0usize;
        for out in BufReader::new(stdout).lines() {
            assert_eq!(
                out.unwrap().len(),
                line_len_out(),
                "a record came out wrong"
            );
            count += 1;
            let _ = seen_tx.send(count);
        }
        count
    });
    // Waits until `n` records have come out; the timeout only keeps a broken run from hanging.
    let wait_for = |n: usize| loop {
        let seen = seen_rx
            .recv_timeout(std::time::Duration::from_secs(300))
            .expect("records keep coming out");
        if seen >= n {
            break;
        }
    };
    for _ in 0..WARM {
        stdin.write_all(line.as_bytes()).unwrap();
    }
    wait_for(WARM);
    let warm = peak_rss(pid);
    for _ in WARM..TOTAL {
        stdin.write_all(line.as_bytes()).unwrap();
    }
    wait_for(TOTAL);
    let end = peak_rss(pid);
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert_eq!(counter.join().unwrap(), TOTAL);
    let growth = end.saturating_sub(warm);
    assert!(
        growth < 24 << 20,
        "peak RSS grew by {growth} bytes ({warm} -> {end}) over {input_bytes} bytes of input"
    );
    assert!(input_bytes > 48 << 20, "the input is too small to tell");
}

/// The length of one transformed record of the memory test, as `batch` prints it.
fn line_len_out() -> usize {
    let record = SomeDataStruct {
        name: "big".into(),
        names: (0..1000)
            .map(|i| format!("{i:04}-{}", "y".repeat(60)))
            .collect(),
    };
    serde_json::to_string(&native_transform(record))
        .unwrap()
        .len()
}
