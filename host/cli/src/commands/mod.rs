//! One module per command, as wasmtime's and Spin's `src/commands/` are laid out. Each has an
//! `Args` (its flags) and an `execute` that runs it.

pub mod batch;
pub mod bench;
pub mod button_text;
pub mod demo;
pub mod inspect;
pub mod run;
pub mod serve;

use std::path::PathBuf;
use std::time::Duration;

use boundary_guests::Path;
use boundary_host::error::one_line;
use boundary_host::{
    AnyGuest, AnyInstance, CallError, Called, CompiledCache, Guest as _, Limits, Runtime, Traffic,
    WasmKind, read_guest_file,
};
use clap::builder::{PossibleValue, PossibleValuesParser};

use crate::failure::{Failure, FailureContext as _};

/// Limits every guest runs under: the flags of the commands that run guests. The defaults are
/// the library's.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Linear memory one guest instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_memory_mib: u32,
    /// Wall-clock time one call may take, in milliseconds (epoch interruption).
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub deadline_ms: u64,
    /// Fuel per call, for a deterministic limit; off unless given.
    #[arg(long, value_name = "UNITS", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// Native stack wasm code may use, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 512, value_parser = clap::value_parser!(u32).range(16..=65536))]
    pub max_stack_kib: u32,
    /// Largest encoded input copied into a guest, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_input_bytes: u32,
    /// Largest output copied out of a guest, in bytes; checked before allocating.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_output_bytes: u32,
    /// Where compiled guests are kept.
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// The compiled-guest cache: what a guest compiled to is kept on disk, so a second run of the
/// same guest skips compiling it (`boundary_host::CompiledCache`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Compiled-guest cache")]
pub struct CacheArgs {
    /// Compile every guest afresh, and neither read nor write the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
    /// The cache directory [default: $BOUNDARY_CACHE_DIR, else $XDG_CACHE_HOME/wasm-boundary,
    /// else ~/.cache/wasm-boundary]. Deleting it is always safe.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheArgs {
    /// The cache these flags ask for, which reports on stderr, once, when it cannot be written;
    /// `None` with --no-cache or when no directory is known.
    pub fn cache(&self) -> Option<CompiledCache> {
        if self.no_cache {
            return None;
        }
        let dir = self.cache_dir.clone().or_else(CompiledCache::default_dir)?;
        Some(CompiledCache::new(dir).on_write_failure(|error| {
            eprintln!(
                "warning: {}; compiling without it (--no-cache skips the cache)",
                one_line(error)
            );
        }))
    }
}

impl LimitArgs {
    /// A runtime under these limits, with the compiled-guest cache the flags ask for.
    ///
    /// # Errors
    ///
    /// [`Failure::Guest`] if wasmtime rejects the configuration for this machine.
    pub fn runtime(&self) -> Result<Runtime, Failure> {
        self.runtime_with(self.limits())
    }

    /// As [`LimitArgs::runtime`], for a command that reports no traffic: no call hook counts
    /// guest calls (up to about a tenth of a small call).
    ///
    /// # Errors
    ///
    /// As [`LimitArgs::runtime`].
    pub fn uncounted_runtime(&self) -> Result<Runtime, Failure> {
        self.runtime_with(Limits {
            count_guest_calls: false,
            ..self.limits()
        })
    }

    fn runtime_with(&self, limits: Limits) -> Result<Runtime, Failure> {
        let runtime = Runtime::new(limits)?;
        Ok(match self.cache.cache() {
            Some(cache) => runtime.with_cache(cache),
            None => runtime,
        })
    }

    /// The library's limits with these flags applied.
    pub fn limits(&self) -> Limits {
        Limits {
            max_input_bytes: self.max_input_bytes,
            max_output_bytes: self.max_output_bytes,
            max_memory_bytes: (self.max_memory_mib as usize) << 20,
            deadline: Duration::from_millis(self.deadline_ms),
            fuel: self.fuel,
            max_wasm_stack: (self.max_stack_kib as usize) << 10,
            ..Limits::default()
        }
    }
}

/// The `--path` value that selects every registered path.
pub const ALL_PATHS: &str = "all";

/// Which paths a command runs, and with which guests: the flags of `run` and `button-text`.
#[derive(Debug, Clone, clap::Args)]
pub struct PathArgs {
    /// The registered path to run, or `all` [default: all paths; with --guest, the path that
    /// runs that kind of guest].
    #[arg(long, value_name = "PATH", value_parser = path_parser())]
    pub path: Option<String>,
    /// A guest to use instead of the default guest of its kind's path: a component implementing
    /// the `transformer` world, or a core module with the ptr/len exports. Unless --path says
    /// otherwise, only that path runs.
    #[arg(long, value_name = "FILE.wasm")]
    pub guest: Option<PathBuf>,
    /// Largest guest file read by --guest, in MiB: a bigger file, a directory, a device or a
    /// pipe is refused before it is read.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_guest_mib: u64,
}

/// `--path`'s values, from the registry: each path's name (described by its `about`), and `all`.
pub fn path_parser() -> PossibleValuesParser {
    let paths = boundary_guests::paths();
    let names = paths
        .iter()
        .map(|path| PossibleValue::new(path.name()).help(path.registration.about));
    PossibleValuesParser::new(
        names.chain([PossibleValue::new(ALL_PATHS).help("every registered path, compared")]),
    )
}

impl PathArgs {
    /// Loads the guests these flags select, in registration order: every registered path's
    /// default guest, or the one path `--path` names; a `--guest` file replaces the default
    /// guest of the path that runs its kind of wasm, and when `--path` is not given only that
    /// path runs.
    ///
    /// # Errors
    ///
    /// [`Failure::Input`] when the guest file cannot be read or loaded, or does not fit the path
    /// asked for.
    pub fn guests(&self, runtime: &Runtime) -> Result<Vec<AnyGuest>, Failure> {
        let registered = boundary_guests::paths();
        let named: Option<Vec<Path>> = match self.path.as_deref() {
            None => None,
            Some(ALL_PATHS) => Some(registered.clone()),
            Some(name) => {
                Some(vec![boundary_guests::path(name).ok_or_else(|| {
                    Failure::input(format!("--path {name}: no such path"))
                })?])
            }
        };
        let Some(file) = &self.guest else {
            let selected = named.unwrap_or(registered);
            return selected
                .iter()
                .map(|path| load_default(runtime, path))
                .collect();
        };
        let bytes = read_guest_file(file, self.max_guest_mib << 20)?;
        let shown = file.display();
        let kind = WasmKind::detect(&bytes).context_of(&shown)?;
        let target = match named.as_deref() {
            // One path named: the guest is for it, and must be of its kind.
            Some([only]) if self.path.as_deref() != Some(ALL_PATHS) => {
                if only.kind != kind {
                    return Err(Failure::input(format!(
                        "{shown}: --path {} needs a {}, but this is a {kind}",
                        only.name(),
                        only.kind
                    )));
                }
                *only
            }
            _ => boundary_guests::path_for_kind(kind)
                .map_err(Failure::input)
                .context_of(&shown)?,
        };
        let selected = named.unwrap_or_else(|| vec![target]);
        selected
            .iter()
            .map(|path| {
                if path.name() == target.name() {
                    path.load(runtime, &bytes).context_of(&shown)
                } else {
                    load_default(runtime, path)
                }
            })
            .collect()
    }
}

/// Loads a path's embedded default guest.
fn load_default(runtime: &Runtime, path: &Path) -> Result<AnyGuest, Failure> {
    path.load_default(runtime)
        .context_of(format!("embedded {}", path.registration.file_name))
}

/// Makes `call` once on a fresh instance of each guest and returns the one output they all
/// gave: what `run` and `button-text` do on every selected path. With `verbose`, each path's
/// traffic goes to stderr.
///
/// # Errors
///
/// The first call's failure, with its path named; [`Failure::Guest`] when two paths disagree;
/// [`Failure::Input`] when no path was selected.
pub async fn agreed_on_every_guest<T: PartialEq + std::fmt::Debug>(
    guests: &[AnyGuest],
    verbose: bool,
    mut call: impl AsyncFnMut(&mut AnyInstance) -> Result<Called<T>, CallError>,
) -> Result<T, Failure> {
    let mut outputs = Vec::new();
    for guest in guests {
        let name = guest.name();
        let what = format!("{name} path");
        let mut instance = guest.instantiate().await.context_of(&what)?;
        let called = call(&mut instance).await.context_of(&what)?;
        if verbose {
            let Traffic {
                guest_calls,
                bytes_in,
                bytes_out,
            } = called.traffic;
            eprintln!(
                "{name}: {guest_calls} guest calls, {bytes_in} bytes in, {bytes_out} bytes out"
            );
        }
        outputs.push((name, called.value));
    }
    agreed(outputs)
}

/// The one value every path gave, or a guest failure naming two that disagree.
///
/// # Errors
///
/// [`Failure::Guest`] when two paths disagree, [`Failure::Input`] when there is no output.
fn agreed<T: PartialEq + std::fmt::Debug>(outputs: Vec<(&str, T)>) -> Result<T, Failure> {
    let mut outputs = outputs.into_iter();
    let (first_path, first) = outputs
        .next()
        .ok_or_else(|| Failure::input("no path selected"))?;
    for (other_path, other) in outputs {
        if other != first {
            return Err(Failure::guest(format!(
                "the {first_path} and {other_path} paths disagree: {first:?} vs {other:?}"
            )));
        }
    }
    Ok(first)
}

/// Runs `future` on a current-thread executor: what the commands that make a few calls use.
pub fn block_on<F: Future<Output = Result<(), Failure>>>(future: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::Guest(anyhow::Error::new(e).context("cannot start the async runtime"))
        })?
        .block_on(future)
}
