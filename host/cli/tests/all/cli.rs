//! The `boundary` binary: each command's happy path, and each class of bad input with its exit
//! code and one-line message.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use boundary_test_artifacts as fixtures;
use predicates::prelude::*;

const EXAMPLE_OUT: &str = r#"{"name":"name3","names":["name1","name2","new name"]}"#;

fn boundary() -> Command {
    Command::cargo_bin("boundary").expect("the boundary binary is built")
}

/// The registered paths' names, as `--path` takes them.
fn path_names() -> Vec<&'static str> {
    boundary_guests::paths().iter().map(|p| p.name()).collect()
}

/// Asserts the classic failure shape: the exit code, nothing on stdout, and exactly one line on
/// stderr that starts with `error:` and contains `needle`. Returns that line.
fn assert_fails(cmd: &mut Command, code: i32, needle: &str) -> String {
    let output = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "stderr is not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(
        stderr.contains(needle),
        "stderr {stderr:?} does not mention {needle:?}"
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    stderr
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

/// Writes every registered path's default guest into `dir`, as `inspect --write-guests` does.
fn write_guests(dir: &Path) {
    boundary()
        .args(["inspect", "--write-guests"])
        .arg(dir)
        .assert()
        .success();
}

/// The default guest file of the registered path called `name`, in a `--write-guests` dir.
fn guest_file(dir: &Path, name: &str) -> PathBuf {
    let path = boundary_guests::path(name).expect("a registered path");
    dir.join(path.registration.file_name)
}

#[test]
fn run_without_input_transforms_the_example_on_every_path() {
    boundary()
        .arg("run")
        .assert()
        .success()
        .stdout(format!("{EXAMPLE_OUT}\n"));
}

#[test]
fn run_with_no_path_runs_every_registered_path() {
    let output = boundary().args(["run", "--verbose"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{EXAMPLE_OUT}\n")
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    let names = path_names();
    assert!(names.len() >= 2, "{names:?}");
    assert_eq!(stderr.lines().count(), names.len(), "{stderr}");
    for (line, name) in stderr.lines().zip(&names) {
        assert!(line.starts_with(&format!("{name}: ")), "{stderr}");
        assert!(line.contains("guest calls"), "{stderr}");
    }
    // `--path all` is the same; each registered name runs just that path.
    let output = boundary()
        .args(["run", "--verbose", "--path", "all"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(output.stderr).unwrap(), stderr);
    for name in names {
        let output = boundary()
            .args(["run", "--verbose", "--path", name])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            format!("{EXAMPLE_OUT}\n")
        );
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("{name}: ")), "{stderr}");
    }
}

#[test]
fn run_reads_a_file_and_stdin_on_each_path() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.json", r#"{"name":"ü","names":["🦀",""]}"#);
    let expected = "{\"name\":\"ü\",\"names\":[\"🦀\",\"\",\"new name\"]}\n";
    for path in path_names().into_iter().chain(["all"]) {
        boundary()
            .args(["run", "--path", path])
            .arg(&input)
            .assert()
            .success()
            .stdout(expected);
    }
    boundary()
        .args(["run", "-"])
        .write_stdin(r#"{"name": "a", "names": []}"#)
        .assert()
        .success()
        .stdout("{\"name\":\"a\",\"names\":[\"new name\"]}\n");
}

/// Bug 7: piped input with no INPUT argument is read, not ignored for the example.
#[test]
fn run_reads_piped_stdin_without_a_dash() {
    boundary()
        .arg("run")
        .write_stdin(r#"{"name":"x","names":[]}"#)
        .assert()
        .success()
        .stdout("{\"name\":\"x\",\"names\":[\"new name\"]}\n");
    assert_fails(
        boundary().arg("run").write_stdin("nope"),
        2,
        "standard input is not a record",
    );
    // Nothing piped in (stdin at /dev/null, as under a test harness) is no input: the example.
    boundary()
        .arg("run")
        .write_stdin("")
        .assert()
        .success()
        .stdout(format!("{EXAMPLE_OUT}\n"));
    // With `-` an empty input is an error, as it always was.
    assert_fails(
        boundary().args(["run", "-"]).write_stdin(""),
        2,
        "EOF while parsing",
    );
}

#[test]
fn run_accepts_the_guests_it_wrote_out() {
    let dir = tempfile::tempdir().unwrap();
    write_guests(dir.path());
    for name in path_names() {
        let file = guest_file(dir.path(), name);
        boundary()
            .args(["run", "--path", name, "--guest"])
            .arg(&file)
            .assert()
            .success()
            .stdout(format!("{EXAMPLE_OUT}\n"));
        // Without --path, the guest's kind picks its path.
        boundary()
            .args(["run", "--guest"])
            .arg(&file)
            .assert()
            .success()
            .stdout(format!("{EXAMPLE_OUT}\n"));
    }
}

/// A `--guest` file runs only its own path unless `--path` says otherwise; with `--path all` it
/// replaces its path's default guest and every path runs.
#[test]
fn a_guest_file_runs_its_path_alone_unless_path_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    write_guests(dir.path());
    for name in path_names() {
        let file = guest_file(dir.path(), name);
        let output = boundary()
            .args(["run", "--verbose", "--guest"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        // The file runs on the first registered path of its kind, whichever path it came from.
        let kind = boundary_guests::path(name).expect("registered").kind;
        let runs_on = boundary_guests::path_for_kind(kind).expect("a path").name();
        assert!(stderr.starts_with(&format!("{runs_on}: ")), "{stderr}");

        let output = boundary()
            .args(["run", "--verbose", "--path", "all", "--guest"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), path_names().len(), "{stderr}");
    }
}

#[test]
fn button_text_prints_the_label() {
    for (status, path, label) in [
        ("PENDING", "component", "edit"),
        ("done", "raw", "delete"),
        ("Done", "all", "delete"),
        ("later", "component", "an error has occurred"),
    ] {
        boundary()
            .args(["button-text", status, "--path", path])
            .assert()
            .success()
            .stdout(format!("{label}\n"));
    }
    // With no --path, every registered path runs, as for `run`.
    let output = boundary()
        .args(["button-text", "--verbose", "PENDING"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "edit\n");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), path_names().len(), "{stderr}");
}

/// Bug 8: `button-text --guest core.wasm DONE` runs the guest's path, as `run` does.
#[test]
fn button_text_takes_its_path_from_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    write_guests(dir.path());
    for name in path_names() {
        boundary()
            .args(["button-text", "--guest"])
            .arg(guest_file(dir.path(), name))
            .arg("DONE")
            .assert()
            .success()
            .stdout("delete\n");
    }
}

#[test]
fn demo_prints_every_output_and_the_traffic() {
    let output = boundary().args(["demo", "--calls", "20"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = r#"Output contract: SomeDataStruct { name: "name3", names: ["name1", "name2", "new name"] }"#;
    let paths = boundary_guests::paths();
    assert_eq!(stdout.matches(line).count(), paths.len(), "{stdout}");
    for path in &paths {
        let heading = format!("== {} path ({})", path.name(), path.registration.about);
        assert!(stdout.contains(&heading), "{stdout}");
        assert!(stdout.contains(&format!("  {}:", path.name())), "{stdout}");
    }
    assert!(stdout.contains("guest calls: 5;"), "{stdout}");
    assert!(stdout.contains("identical output"), "{stdout}");
    for (status, label) in [("PENDING", "edit"), ("DONE", "delete")] {
        let line = format!("button-text({status:?}) = {label:?} on every path");
        assert!(stdout.contains(&line), "{stdout}");
    }
    assert!(stdout.contains("native Rust:"), "{stdout}");
}

/// Bug 2: `--calls` is bounded (the timings are a fixed-size histogram, so memory is not what
/// bounds it; time is), and a value past the bound is one line, exit 2.
#[test]
fn demo_refuses_more_calls_than_it_times() {
    assert_fails(
        boundary().args(["demo", "--calls", "4000000000"]),
        2,
        "--calls",
    );
    assert_fails(boundary().args(["demo", "--calls", "0"]), 2, "--calls");
    let max = boundary_cli::commands::demo::MAX_CALLS;
    assert_fails(
        boundary().args(["demo", "--calls", &(u64::from(max) + 1).to_string()]),
        2,
        &format!("1..={max}"),
    );
}

#[test]
fn malformed_json_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    // Deep nesting is refused at the first level that does not match the record's types, so
    // it never reaches serde_json's recursion limit, let alone the stack.
    let nested = format!(
        "{{\"name\": \"a\", \"names\": [{}{}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: [(&str, &str, &str); 8] = [
        (
            "truncated.json",
            "{\"name\": \"a\", \"names\": [",
            "EOF while parsing",
        ),
        (
            "syntax.json",
            r#"{"name": "a" "names": []}"#,
            "expected `,`",
        ),
        (
            "types.json",
            r#"{"name": 3, "names": []}"#,
            "invalid type: integer `3`, expected a string",
        ),
        (
            "list.json",
            r#"{"name": "a", "names": "b"}"#,
            "expected a sequence",
        ),
        ("missing.json", r#"{"name": "a"}"#, "missing field `names`"),
        (
            "unknown.json",
            r#"{"name": "a", "names": [], "x": 1}"#,
            "unknown field `x`",
        ),
        ("empty.json", "", "EOF while parsing"),
        (
            "nested.json",
            &nested,
            "invalid type: sequence, expected a string at line 1 column 24",
        ),
    ];
    for (name, body, needle) in cases {
        let path = write(dir.path(), name, body);
        assert_fails(boundary().arg("run").arg(&path), 2, needle);
    }
    let path = write(
        dir.path(),
        "utf8.json",
        b"{\"name\": \"\xff\", \"names\": []}",
    );
    assert_fails(boundary().arg("run").arg(&path), 2, "invalid unicode");
    assert_fails(
        boundary().args(["run", "-"]).write_stdin("nope"),
        2,
        "standard input is not a record",
    );
}

#[test]
fn input_over_the_cap_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!("{{\"name\": \"{}\", \"names\": []}}", "x".repeat(200));
    let path = write(dir.path(), "big.json", &body);
    assert_fails(
        boundary()
            .args(["run", "--max-input-bytes", "100"])
            .arg(&path),
        2,
        "over the 100-byte limit (--max-input-bytes)",
    );
    assert_fails(
        boundary()
            .args(["run", "--max-input-bytes", "100", "-"])
            .write_stdin(body.clone()),
        2,
        "standard input: the input is over the 100-byte limit",
    );
    boundary()
        .args(["run", "--max-input-bytes", "1000"])
        .arg(&path)
        .assert()
        .success();
}

/// Bug 6: input over `--max-input-bytes` is exit 2 on every path, whether the JSON reader or a
/// path's own check meets it, and the message names the flag.
#[test]
fn input_over_the_cap_is_exit_2_on_every_path_and_names_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    // 81 bytes of JSON, under the cap, but 20 list elements are 160 bytes in the canonical ABI
    // (a pointer and a length each): the component path's check refuses it, not the reader.
    let names = vec![r#""""#; 20].join(",");
    let body = format!(r#"{{"name":"","names":[{names}]}}"#);
    assert!(body.len() < 100, "{}", body.len());
    let path = write(dir.path(), "wide.json", &body);
    let line = assert_fails(
        boundary()
            .args(["run", "--path", "component", "--max-input-bytes", "100"])
            .arg(&path),
        2,
        "over the 100-byte input limit (--max-input-bytes)",
    );
    assert!(line.contains("component path"), "{line}");
    // The same input with every path: still exit 2.
    assert_fails(
        boundary()
            .args(["run", "--max-input-bytes", "100"])
            .arg(&path),
        2,
        "(--max-input-bytes)",
    );
    // button-text's status goes straight to each path's check.
    for name in path_names() {
        let line = assert_fails(
            boundary().args([
                "button-text",
                "--path",
                name,
                "--max-input-bytes",
                "4",
                "PENDING",
            ]),
            2,
            "byte input limit (--max-input-bytes)",
        );
        assert!(line.contains(&format!("{name} path")), "{line}");
    }
}

/// Bug 6: output over `--max-output-bytes` names the flag on every path, including the
/// component path, where lifting meets it as hostcall fuel.
#[test]
fn output_over_the_cap_names_its_flag_on_every_path() {
    for name in path_names() {
        let line = assert_fails(
            boundary().args(["run", "--path", name, "--max-output-bytes", "16"]),
            1,
            "over the 16-byte output limit (--max-output-bytes)",
        );
        assert!(line.contains(&format!("{name} path")), "{line}");
        assert!(!line.contains("hostcall fuel"), "{line}");
    }
}

#[test]
fn unreadable_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    assert_fails(boundary().arg("run").arg(&missing), 2, "cannot read");
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&missing),
        2,
        "cannot read",
    );
    assert_fails(boundary().arg("inspect").arg(&missing), 2, "cannot read");
    // A directory is not a file.
    assert_fails(boundary().arg("run").arg(dir.path()), 2, "cannot read");
}

/// Bug 4: a cause is printed once, not repeated after the message that wraps it.
#[test]
fn a_missing_file_names_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.wasm");
    let cause = std::io::Error::from(std::io::ErrorKind::NotFound).to_string();
    let os_cause = "(os error 2)";
    for args in [
        &["run", "--guest"][..],
        &["inspect"],
        &["button-text", "DONE", "--guest"],
    ] {
        let line = assert_fails(
            boundary().args(args).arg(&missing),
            2,
            &format!("cannot read {}", missing.display()),
        );
        assert_eq!(line.matches(os_cause).count(), 1, "{line} ({cause})");
        assert_eq!(line.matches("No such file").count(), 1, "{line}");
    }
    let line = assert_fails(boundary().arg("run").arg(&missing), 2, "cannot read");
    assert_eq!(line.matches(os_cause).count(), 1, "{line}");
}

/// Bug 1: a guest file is capped (`--max-guest-mib`) and must be a regular file, for `run`,
/// `button-text` and `inspect`; nothing is read from a device or a directory.
#[test]
fn a_guest_that_is_not_a_regular_file_or_too_large_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["run", "--guest"][..],
        &["button-text", "DONE", "--guest"],
        &["inspect"],
    ] {
        assert_fails(
            boundary().args(args).arg("/dev/zero"),
            2,
            "/dev/zero is not a regular file",
        );
        assert_fails(
            boundary().args(args).arg(dir.path()),
            2,
            &format!("{} is a directory", dir.path().display()),
        );
    }
    let big = write(dir.path(), "big.wasm", vec![0u8; (1 << 20) + 1]);
    for args in [&["run", "--guest"][..], &["inspect"]] {
        assert_fails(
            boundary()
                .args(args)
                .arg(&big)
                .args(["--max-guest-mib", "1"]),
            2,
            "is 1048577 bytes, over the 1048576-byte limit for a guest file (--max-guest-mib)",
        );
    }
}

#[test]
fn a_file_that_is_not_wasm_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let html = write(
        dir.path(),
        "404.wasm",
        "<!doctype html><title>Not Found</title>",
    );
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&html),
        2,
        "not a WebAssembly file",
    );
    assert_fails(
        boundary().arg("inspect").arg(&html),
        2,
        "not a WebAssembly file",
    );
    let empty = write(dir.path(), "empty.wasm", "");
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&empty),
        2,
        "empty, not WebAssembly",
    );
}

/// Bug 5: a file too short for the header says so, rather than quoting what it starts with.
#[test]
fn a_short_or_empty_guest_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let magic = write(dir.path(), "magic.wasm", b"\0asm");
    let empty = write(dir.path(), "empty.wasm", b"");
    for args in [&["run", "--guest"][..], &["inspect"]] {
        let line = assert_fails(
            boundary().args(args).arg(&magic),
            2,
            "only 4 bytes, too short to be WebAssembly",
        );
        assert!(line.contains("magic.wasm"), "{line}");
        assert!(!line.contains("starts with"), "{line}");
        let line = assert_fails(boundary().args(args).arg(&empty), 2, "the file is empty");
        assert!(!line.contains("starts with"), "{line}");
    }
}

#[test]
fn a_guest_of_the_wrong_kind_or_world_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    write_guests(dir.path());
    let component = guest_file(dir.path(), "component");
    let core = guest_file(dir.path(), "raw");
    assert_fails(
        boundary()
            .args(["run", "--path", "raw", "--guest"])
            .arg(&component),
        2,
        "needs a core module, but this is a component",
    );
    assert_fails(
        boundary()
            .args(["run", "--path", "component", "--guest"])
            .arg(&core),
        2,
        "needs a component, but this is a core module",
    );

    let other_world = write(dir.path(), "answer.wasm", fixtures::COMPONENT_OTHER_WORLD);
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&other_world),
        2,
        "does not export `transform`",
    );

    let bad_signature = write(dir.path(), "sig.wasm", fixtures::COMPONENT_WRONG_SIGNATURE);
    let line = assert_fails(
        boundary().args(["run", "--guest"]).arg(&bad_signature),
        2,
        "`button-text` export is func(status: u32) -> string",
    );
    assert!(line.contains("expected `string` found `u32`"), "{line}");

    let no_abi = write(dir.path(), "plain.wasm", fixtures::RAW_MISSING_EXPORTS);
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&no_abi),
        2,
        "does not export `ns_malloc`",
    );

    let wrong_abi = write(dir.path(), "abi.wasm", fixtures::RAW_WRONG_SIGNATURE);
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&wrong_abi),
        2,
        "`ns_malloc` export is func(i32) -> i32, expected func(i32, i32) -> i32",
    );

    // (module (import "env" "log" (func))), assembled by hand.
    let imports = write(
        dir.path(),
        "imports.wasm",
        [
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: func() -> ()
            0x02, 0x0b, 0x01, 0x03, b'e', b'n', b'v', 0x03, b'l', b'o', b'g', 0x00, 0x00,
        ],
    );
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&imports),
        2,
        "imports `env::log`",
    );
}

#[test]
fn a_guest_that_misbehaves_is_a_guest_failure() {
    let dir = tempfile::tempdir().unwrap();
    // entry_point returns a result region past the end of its one-page memory.
    let out_of_bounds = write(dir.path(), "oob.wasm", fixtures::RAW_RESULT_OOB);
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&out_of_bounds),
        1,
        "outside its 65536-byte memory",
    );

    let traps = write(dir.path(), "trap.wasm", fixtures::RAW_UNREACHABLE);
    assert_fails(
        boundary()
            .args(["run", "--path", "raw", "--guest"])
            .arg(&traps),
        1,
        "trapped",
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let output = boundary()
        .args(["run", "--path", "sideways"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = boundary().arg("frobnicate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    // On one line, like every other failure, naming the values --path takes.
    let line = assert_fails(
        boundary().args(["run", "--path", "sideways"]),
        2,
        "sideways",
    );
    for name in path_names().into_iter().chain(["all"]) {
        assert!(line.contains(name), "{line}");
    }
    assert_fails(boundary().arg("frobnicate"), 2, "frobnicate");
    assert_fails(boundary().arg("button-text"), 2, "<STATUS>");
}

/// The whole range `--max-stack-kib` accepts works: the async stack is sized from it.
#[test]
fn the_stack_flag_works_at_both_ends_of_its_range() {
    for kib in ["16", "65536"] {
        let output = boundary()
            .args(["run", "--max-stack-kib", kib])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("async_stack_size"), "{stderr}");
        assert!(output.status.success(), "--max-stack-kib {kib}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("{EXAMPLE_OUT}\n")
        );
    }
    assert_fails(
        boundary().args(["run", "--max-stack-kib", "65537"]),
        2,
        "--max-stack-kib",
    );
    assert_fails(
        boundary().args(["run", "--max-stack-kib", "15"]),
        2,
        "--max-stack-kib",
    );
}

#[test]
fn write_guests_writes_the_embedded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("nested/out");
    let paths = boundary_guests::paths();
    let mut expected = predicate::always().boxed();
    for path in &paths {
        expected = expected
            .and(predicate::str::contains(path.registration.file_name))
            .boxed();
    }
    boundary()
        .args(["inspect", "--write-guests"])
        .arg(&target)
        .assert()
        .success()
        .stdout(expected);
    for path in &paths {
        let registration = path.registration;
        let file = target.join(registration.file_name);
        assert_eq!(std::fs::read(&file).unwrap(), registration.default_guest);
    }
    assert_eq!(
        std::fs::read(target.join("transformer.component.wasm")).unwrap(),
        boundary_guests::COMPONENT
    );
    assert_eq!(
        std::fs::read(target.join("transformer.core.wasm")).unwrap(),
        boundary_guests::CORE_MODULE
    );
    // The wasi:http component too, though it is not a path.
    assert_eq!(
        std::fs::read(target.join("http.component.wasm")).unwrap(),
        boundary_guests::HTTP_COMPONENT
    );
    let leftovers: Vec<_> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        paths.len() + 1,
        "temporary files left behind: {leftovers:?}"
    );
}

#[test]
fn inspect_prints_a_components_wit_and_a_core_modules_abi_rows() {
    let output = boundary().arg("inspect").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    for path in boundary_guests::paths() {
        assert!(stdout.contains(path.registration.file_name), "{stdout}");
    }
    assert!(stdout.contains("wit:"), "{stdout}");
    assert!(
        stdout.contains("world: boundary:kernel/transformer@0.1.0\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("export transform: func(input: some-data-struct) -> some-data-struct;"),
        "{stdout}"
    );
    assert!(stdout.contains("ptr/len ABI exports"), "{stdout}");
    for export in boundary_kernel::wire::EXPORTS {
        assert!(stdout.contains(export.name), "{stdout}");
    }

    // A module with a mistyped ns_malloc, and none of the optional or tuned exports.
    let dir = tempfile::tempdir().unwrap();
    let wrong = write(dir.path(), "abi.wasm", fixtures::RAW_WRONG_SIGNATURE);
    let output = boundary().arg("inspect").arg(&wrong).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let row = |name: &str| {
        stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} row: {stdout}"))
            .to_owned()
    };
    assert!(row("memory").ends_with("required  present"), "{stdout}");
    assert!(
        row("ns_malloc").contains("required  mistyped: func(i32) -> i32"),
        "{stdout}"
    );
    assert!(row("entry_point").ends_with("present"), "{stdout}");
    assert!(
        row("button_text").ends_with("optional  missing"),
        "{stdout}"
    );
    assert!(row("entry_point_tuned").ends_with("missing"), "{stdout}");
    assert!(!stdout.contains("wit:"), "{stdout}");
    assert!(!stdout.contains("world:"), "{stdout}");
}

#[test]
fn help_teaches_each_command() {
    boundary().arg("--help").assert().success().stdout(
        predicate::str::contains("run")
            .and(predicate::str::contains("inspect"))
            .and(predicate::str::contains("Exit codes")),
    );
    boundary()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Example:"));
}

/// Bug 13: the help says where to start, describes `demo` by what it does, lists the registered
/// paths, and shows no limit flags on `inspect`, which runs no guest.
#[test]
fn help_says_where_to_start_and_shows_only_the_flags_that_apply() {
    let output = boundary().arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("Start with `boundary demo`"), "{help}");
    assert!(help.contains("demo "), "{help}");
    assert!(!help.to_lowercase().contains("chapter"), "{help}");
    for path in boundary_guests::paths() {
        assert!(help.contains(path.registration.about), "{help}");
    }
    let output = boundary().args(["demo", "--help"]).output().unwrap();
    let demo = String::from_utf8(output.stdout).unwrap();
    assert!(!demo.to_lowercase().contains("chapter"), "{demo}");
    assert!(demo.contains("--calls"), "{demo}");

    let output = boundary().args(["inspect", "--help"]).output().unwrap();
    let inspect = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--max-memory-mib",
        "--deadline-ms",
        "--fuel",
        "--max-stack-kib",
        "--max-input-bytes",
        "--max-output-bytes",
    ] {
        assert!(!inspect.contains(flag), "{inspect}");
    }
    assert!(inspect.contains("--max-guest-mib"), "{inspect}");
    // The commands that run guests do take them.
    for command in ["run", "button-text", "demo"] {
        let output = boundary().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.contains("--max-memory-mib"), "{command}: {help}");
    }
}

#[test]
fn hostile_guests_get_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str, &str); 13] = [
        ("raw", fixtures::RAW_ILOOP, "r1.wasm", "deadline"),
        ("raw", fixtures::RAW_RECURSION, "r2.wasm", "stack"),
        ("raw", fixtures::RAW_MEMORY_BOMB, "r3.wasm", "memory limit"),
        ("raw", fixtures::RAW_UNREACHABLE, "r4.wasm", "unreachable"),
        (
            "raw",
            fixtures::RAW_RESULT_OOB,
            "r5.wasm",
            "outside its 65536-byte memory",
        ),
        ("raw", fixtures::RAW_LEN_MAX, "r6.wasm", "over the"),
        (
            "raw",
            fixtures::RAW_MISALIGNED,
            "r7.wasm",
            "not aligned to 4",
        ),
        (
            "raw",
            fixtures::RAW_MALLOC_ZERO,
            "r8.wasm",
            "could not allocate",
        ),
        (
            "raw",
            fixtures::RAW_HUGE_PREFIX,
            "r9.wasm",
            "does not decode",
        ),
        (
            "raw",
            fixtures::RAW_GUEST_ERROR,
            "r10.wasm",
            "could not decode its input: nope",
        ),
        (
            "component",
            fixtures::COMPONENT_ILOOP,
            "c1.wasm",
            "deadline",
        ),
        (
            "component",
            fixtures::COMPONENT_MEMORY_BOMB,
            "c2.wasm",
            "memory limit",
        ),
        (
            "component",
            fixtures::COMPONENT_HUGE_LIST,
            "c3.wasm",
            "trapped",
        ),
    ];
    for (path, bytes, name, needle) in cases {
        let file = write(dir.path(), name, bytes);
        assert_fails(
            boundary()
                .args([
                    "run",
                    "--path",
                    path,
                    "--deadline-ms",
                    "200",
                    "--max-memory-mib",
                    "8",
                    "--guest",
                ])
                .arg(&file),
            1,
            needle,
        );
    }
}
