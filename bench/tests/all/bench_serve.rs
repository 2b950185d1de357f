//! `bench_serve`'s command line: every flag's range and every missing tool is refused on one
//! line with exit code 2, before any server starts or any load is sent.

use assert_cmd::Command;

fn bench_serve() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bench_serve"))
}

/// Runs `bench_serve` with `args` and returns its stderr, checking exit code 2, one line, and
/// nothing on stdout.
fn refused(args: &[&str]) -> String {
    let output = bench_serve().args(args).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    stderr
}

#[test]
fn out_of_range_flags_are_one_line_naming_the_flag() {
    for (flag, value) in [
        ("--duration", "0"),
        ("--duration", "301"),
        ("--connections", "0"),
        ("--connections", "1025"),
        ("--threads", "0"),
        ("--threads", "65"),
        ("--large", "65"),
        ("--duration", "ten"),
    ] {
        let line = refused(&[flag, value]);
        assert!(line.contains(flag), "{flag} {value}: {line}");
    }
    let line = refused(&["--frobnicate"]);
    assert!(line.contains("--frobnicate"), "{line}");
    refused(&["--no-wasmtime", "--wasmtime", "/usr/bin/wasmtime"]);
}

#[test]
fn a_missing_tool_names_the_recipe_that_installs_it() {
    let line = refused(&["--wrk", "/no/such/dir/wrk"]);
    assert!(line.contains("just setup-wrk"), "{line}");
    // With a wrk (any file will do: nothing runs it before every tool is found).
    let line = refused(&["--wrk", "/bin/sh", "--wasmtime", "/no/such/dir/wasmtime"]);
    assert!(line.contains("just setup-wasmtime"), "{line}");
    let line = refused(&[
        "--wrk",
        "/bin/sh",
        "--no-wasmtime",
        "--boundary",
        "/no/such/dir/boundary",
    ]);
    assert!(line.contains("--boundary"), "{line}");
}

#[test]
fn help_lists_the_flags_and_exits_0() {
    let output = bench_serve().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--duration",
        "--connections",
        "--threads",
        "--large",
        "--boundary",
        "--wasmtime",
        "--no-wasmtime",
        "--wrk",
        "--dist",
        "--out",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}
