//! The `boundary` binary: each command's happy path, and each class of bad input with its exit
//! code and one-line message.

// Being ported to the new crates; the owner removes this gate.
#[cfg(any())]
mod pending {

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const EXAMPLE_OUT: &str = r#"{"name":"name3","names":["name1","name2","new name"]}"#;

fn boundary() -> Command {
    Command::cargo_bin("boundary").expect("the boundary binary is built")
}

/// Asserts the classic failure shape: the exit code, nothing on stdout, and exactly one line on
/// stderr that starts with `error:` and contains `needle`.
fn assert_fails(cmd: &mut Command, code: i32, needle: &str) {
    let output = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
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
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

#[test]
fn run_without_input_transforms_the_example_on_both_paths() {
    boundary()
        .arg("run")
        .assert()
        .success()
        .stdout(format!("{EXAMPLE_OUT}\n"));
}

#[test]
fn run_reads_a_file_and_stdin_on_each_path() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.json", r#"{"name":"ü","names":["🦀",""]}"#);
    let expected = "{\"name\":\"ü\",\"names\":[\"🦀\",\"\",\"new name\"]}\n";
    for path in ["component", "raw", "both"] {
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

#[test]
fn run_accepts_the_guests_it_wrote_out() {
    let dir = tempfile::tempdir().unwrap();
    boundary()
        .args(["inspect", "--write-guests"])
        .arg(dir.path())
        .assert()
        .success();
    let component = dir.path().join("transformer.component.wasm");
    let core = dir.path().join("transformer.core.wasm");
    boundary()
        .args(["run", "--path", "component", "--guest"])
        .arg(&component)
        .assert()
        .success()
        .stdout(format!("{EXAMPLE_OUT}\n"));
    boundary()
        .args(["run", "--path", "raw", "--guest"])
        .arg(&core)
        .assert()
        .success()
        .stdout(format!("{EXAMPLE_OUT}\n"));
    boundary()
        .args(["run", "--guest"])
        .arg(&core)
        .assert()
        .success()
        .stdout(format!("{EXAMPLE_OUT}\n"));
}

#[test]
fn button_text_prints_the_label() {
    for (status, path, label) in [
        ("PENDING", "component", "edit"),
        ("done", "raw", "delete"),
        ("Done", "both", "delete"),
        ("later", "component", "an error has occurred"),
    ] {
        boundary()
            .args(["button-text", status, "--path", path])
            .assert()
            .success()
            .stdout(format!("{label}\n"));
    }
}

#[test]
fn demo_prints_both_outputs_and_the_traffic() {
    let output = boundary().args(["demo", "--calls", "20"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = r#"Output contract: SomeDataStruct { name: "name3", names: ["name1", "name2", "new name"] }"#;
    assert_eq!(stdout.matches(line).count(), 2, "{stdout}");
    assert!(stdout.contains("guest calls: 5;"), "{stdout}");
    assert!(stdout.contains("identical output"), "{stdout}");
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
        "over the 100-byte limit",
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
        "not a WebAssembly file",
    );
}

#[test]
fn a_guest_of_the_wrong_kind_or_world_is_an_input_error() {
    use crate::hostile::fixtures;
    let dir = tempfile::tempdir().unwrap();
    boundary()
        .args(["inspect", "--write-guests"])
        .arg(dir.path())
        .assert()
        .success();
    let component = dir.path().join("transformer.component.wasm");
    let core = dir.path().join("transformer.core.wasm");
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
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&bad_signature),
        2,
        "`button-text` export is func(status: u32) -> string, expected func(status: string) -> string",
    );

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

    let imports = write(
        dir.path(),
        "imports.wasm",
        wat::parse_str(r#"(module (import "env" "log" (func)))"#).unwrap(),
    );
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&imports),
        2,
        "imports `env::log`",
    );
}

#[test]
fn a_guest_that_misbehaves_is_a_guest_failure() {
    use crate::hostile::fixtures;
    let dir = tempfile::tempdir().unwrap();
    // entry_point returns a result region past the end of its one-page memory.
    let out_of_bounds = write(dir.path(), "oob.wasm", fixtures::RAW_RESULT_OOB);
    assert_fails(
        boundary().args(["run", "--guest"]).arg(&out_of_bounds),
        1,
        "outside its 65536-byte memory",
    );

    let traps = write(
        dir.path(),
        "trap.wasm",
        wat::parse_str(
            r#"(module
                 (memory (export "memory") 1)
                 (func (export "ns_malloc") (param i32 i32) (result i32) unreachable)
                 (func (export "ns_free") (param i32 i32 i32))
                 (func (export "entry_point") (param i32 i32) (result i32) i32.const 0))"#,
        )
        .unwrap(),
    );
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
}

#[test]
fn write_guests_writes_the_embedded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("nested/out");
    boundary()
        .args(["inspect", "--write-guests"])
        .arg(&target)
        .assert()
        .success()
        .stdout(predicate::str::contains("transformer.component.wasm"));
    assert_eq!(
        std::fs::read(target.join("transformer.component.wasm")).unwrap(),
        boundary_host::embedded::COMPONENT
    );
    assert_eq!(
        std::fs::read(target.join("transformer.core.wasm")).unwrap(),
        boundary_host::embedded::CORE_MODULE
    );
    let leftovers: Vec<_> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "temporary files left behind: {leftovers:?}"
    );
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

#[test]
fn hostile_guests_get_one_line_and_exit_1() {
    use crate::hostile::fixtures;
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

}
