//! The command line of this crate's binaries and examples (`bench_serve`, `soak`,
//! `concurrency`): flags parsed by clap, and a usage error printed on one line with exit code 2,
//! the rule `boundary` itself uses ([`usage_error_line`]).

use std::process::ExitCode;

/// Parses the process's arguments as `A`. `--help` and `--version` print and exit 0; a usage
/// error is printed on one line ([`usage_error_line`]) and comes back as exit code 2.
///
/// # Errors
///
/// The exit code to end with, after a usage error was printed.
pub fn parse<A: clap::Parser>() -> Result<A, ExitCode> {
    parse_from(std::env::args_os())
}

/// [`parse`] over the given arguments (the first is the program's name).
///
/// # Errors
///
/// As [`parse`].
pub fn parse_from<A: clap::Parser, I, T>(args: I) -> Result<A, ExitCode>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match A::try_parse_from(args) {
        Ok(args) => Ok(args),
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            eprintln!("{}", usage_error_line(&error));
            Err(ExitCode::from(2))
        }
    }
}

/// A usage error on one line: clap's message and its details, without the usage block and the
/// pointer to `--help` it adds on lines of their own.
// `boundary` itself (host/cli/src/main.rs) prints its usage errors through this too.
pub fn usage_error_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let mut parts = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line);
        }
    }
    let line = parts.join(" ");
    if line.starts_with("error:") {
        line
    } else {
        format!("error: {line}")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=9))]
        secs: u64,
    }

    #[test]
    fn a_usage_error_is_one_line_naming_the_flag() {
        let error = Flags::try_parse_from(["x", "--secs", "0"]).unwrap_err();
        let line = usage_error_line(&error);
        assert!(line.starts_with("error: "), "{line}");
        assert!(line.contains("--secs"), "{line}");
        assert!(!line.contains('\n') && !line.contains("Usage"), "{line}");
        assert_eq!(
            parse_from::<Flags, _, _>(["x", "--nope"]).unwrap_err(),
            ExitCode::from(2)
        );
        assert_eq!(
            parse_from::<Flags, _, _>(["x", "--secs", "3"])
                .unwrap()
                .secs,
            3
        );
    }
}
