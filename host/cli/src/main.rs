//! `boundary`: run, inspect and compare the two ways across the wasm boundary.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use boundary_host::inspect::{Inspection, WasmKind, print_wat};
use boundary_host::{
    CallError, Called, ComponentGuest, Limits, LoadError, RawGuest, Runtime, SomeDataStruct,
    Traffic, embedded,
};
use clap::{Parser, Subcommand, ValueEnum};

/// Pass one record across the WebAssembly boundary two ways and compare them.
///
/// The component path uses the canonical ABI (wit-bindgen in the guest, wasmtime's bindgen! in
/// the host); the raw path uses a hand-written ptr/len ABI over guest memory with a postcard
/// encoding. Both default guests are embedded in this binary.
///
/// Exit codes: 0 success, 1 a guest failed or the paths disagreed, 2 bad usage or input.
#[derive(Debug, Parser)]
#[command(name = "boundary", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Limits every guest runs under. The defaults are the library's.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Limits")]
struct LimitArgs {
    /// Linear memory one guest instance may use, in MiB.
    #[arg(long, global = true, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    max_memory_mib: u32,
    /// Wall-clock time one call may take, in milliseconds (epoch interruption).
    #[arg(long, global = true, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    deadline_ms: u64,
    /// Fuel per call, for a deterministic limit; off unless given.
    #[arg(long, global = true, value_name = "UNITS")]
    fuel: Option<u64>,
    /// Native stack wasm code may use, in KiB.
    #[arg(long, global = true, value_name = "KIB", default_value_t = 512, value_parser = clap::value_parser!(u32).range(16..=65536))]
    max_stack_kib: u32,
    /// Largest encoded input copied into a guest, in bytes.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = 32 << 20)]
    max_input_bytes: u32,
    /// Largest output copied out of a guest, in bytes; checked before allocating.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = 32 << 20)]
    max_output_bytes: u32,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Transform a record read as JSON and print the result as JSON.
    ///
    /// The record is `{"name": "...", "names": ["...", ...]}`. With no INPUT the seed's example
    /// (`name3` / `["name1", "name2"]`) is used; `-` reads standard input.
    ///
    /// Example: echo '{"name":"a","names":[]}' | boundary run --path both -
    Run {
        /// Which path to take; `both` runs both and fails if they differ.
        #[arg(long, value_enum, default_value_t = PathArg::Both)]
        path: PathArg,
        /// A guest to use instead of the embedded one of its kind: a component implementing the
        /// `transformer` world, or a core module with the ptr/len exports.
        #[arg(long, value_name = "FILE.wasm")]
        guest: Option<PathBuf>,
        /// A JSON file holding the record, or `-` for standard input.
        #[arg(value_name = "INPUT.json|-")]
        input: Option<PathBuf>,
    },
    /// Print the button label for a to-do status (PENDING -> edit, DONE -> delete).
    #[command(name = "button-text")]
    ButtonText {
        /// The status, matched without regard to ASCII case.
        status: String,
        /// Which path to take; `both` runs both and fails if they differ.
        #[arg(long, value_enum, default_value_t = PathArg::Component)]
        path: PathArg,
        /// A guest to use instead of the embedded one of its kind.
        #[arg(long, value_name = "FILE.wasm")]
        guest: Option<PathBuf>,
    },
    /// Show whether a file is a core module or a component, its imports, exports and size.
    ///
    /// For a component it also prints the WIT world. With no FILE, inspects both embedded
    /// guests.
    ///
    /// Example: boundary inspect --write-guests out/ && boundary inspect out/transformer.core.wasm
    Inspect {
        /// The wasm file to inspect; the embedded guests when absent.
        #[arg(value_name = "FILE.wasm")]
        file: Option<PathBuf>,
        /// Print the file in the wasm text format instead.
        #[arg(long)]
        wat: bool,
        /// Write the embedded guests to DIR as transformer.component.wasm and
        /// transformer.core.wasm, so other tools can run the exact bytes this binary embeds.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["file", "wat"])]
        write_guests: Option<PathBuf>,
    },
    /// Walk through the seed chapter: run both paths on the example, show what crossed the
    /// boundary in each, and time them briefly.
    Demo {
        /// Calls per path for the timing.
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..))]
        calls: u32,
    },
    /// Benchmark every workload on every path against native Rust, and instantiation; write a
    /// Markdown report and an SVG chart.
    ///
    /// Example: boundary bench --quick --out bench/report.md
    Bench {
        /// Fewer, shorter samples.
        #[arg(long)]
        quick: bool,
        /// Where to write the report; the chart goes next to it as chart.svg.
        #[arg(long, value_name = "FILE.md", default_value = "bench/report.md")]
        out: PathBuf,
        /// Browser figures from the Playwright run to include in the report.
        #[arg(long, value_name = "FILE.json")]
        web_results: Option<PathBuf>,
        /// Only merge --web-results (default web/test-results/comparison.json) into the
        /// existing report; measure nothing.
        #[arg(long)]
        web_only: bool,
        /// Measure this component (or wit-bindgen core module, componentized here) instead of
        /// the embedded one.
        #[arg(long, value_name = "FILE.wasm")]
        component: Option<PathBuf>,
        /// Measure this ptr/len core module instead of the embedded one.
        #[arg(long, value_name = "FILE.wasm")]
        raw: Option<PathBuf>,
    },
    /// Serve the to-do web app from web/dist, its JSON API, and server-side transforms.
    ///
    /// Build the app first with `just web`; `just serve` does both.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// The built web app to serve.
        #[arg(long, default_value = "web/dist")]
        dist: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PathArg {
    /// The component model (canonical ABI).
    Component,
    /// The hand-written ptr/len ABI over a core module.
    Raw,
    /// Both, compared.
    Both,
}

/// A failure, classified for the exit code.
enum Failure {
    /// Bad usage or input: exit 2.
    Input(anyhow::Error),
    /// A guest failed, or the two paths disagreed: exit 1.
    Guest(anyhow::Error),
}

impl From<LoadError> for Failure {
    fn from(error: LoadError) -> Self {
        Self::Input(error.into())
    }
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Self {
        Self::Guest(error.into())
    }
}

/// Attaches context to an error while keeping its class.
trait FailureContext<T> {
    fn context_of(self, what: impl std::fmt::Display) -> Result<T, Failure>;
}

impl<T, E: Into<Failure>> FailureContext<T> for Result<T, E> {
    fn context_of(self, what: impl std::fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| match e.into() {
            Failure::Input(e) => Failure::Input(e.context(what.to_string())),
            Failure::Guest(e) => Failure::Guest(e.context(what.to_string())),
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Guest(anyhow!(e).context("cannot start the async runtime")))
        .and_then(|rt| rt.block_on(dispatch(cli.command, cli.limits.limits())));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(e)) => report(&e, 2),
        Err(Failure::Guest(e)) => report(&e, 1),
    }
}

/// Prints one line on stderr: the error and its causes, no backtrace.
fn report(error: &anyhow::Error, code: u8) -> ExitCode {
    let message = format!("{error:#}").replace('\n', " ");
    eprintln!("error: {message}");
    ExitCode::from(code)
}

async fn dispatch(command: Command, limits: Limits) -> Result<(), Failure> {
    let runtime = Runtime::new(limits)?;
    match command {
        Command::Run { path, guest, input } => {
            run(&runtime, path, guest.as_deref(), input.as_deref()).await
        }
        Command::ButtonText {
            status,
            path,
            guest,
        } => button_text(&runtime, path, guest.as_deref(), &status).await,
        Command::Inspect {
            file,
            wat,
            write_guests,
        } => inspect(&runtime, file.as_deref(), wat, write_guests.as_deref()),
        Command::Demo { calls } => demo(&runtime, calls).await,
        Command::Bench {
            quick,
            out,
            web_results,
            web_only,
            component,
            raw,
        } => boundary_host::bench::command(boundary_host::bench::Options {
            quick,
            out,
            web_results,
            web_only,
            component,
            raw,
        })
        .map_err(|e| Failure::Guest(e.into())),
        Command::Serve { addr, dist } => boundary_host::serve::run(runtime, addr, &dist)
            .await
            .map_err(|e| Failure::Input(e.into())),
    }
}

/// The guests a command runs, after `--path` and `--guest` are applied.
struct Guests {
    component: Option<ComponentGuest>,
    raw: Option<RawGuest>,
}

impl Guests {
    fn load(runtime: &Runtime, path: PathArg, file: Option<&Path>) -> Result<Self, Failure> {
        let custom = match file {
            Some(file) => {
                let bytes = LoadError::read_file(file)?;
                let kind = WasmKind::detect(&bytes).context_of(file.display())?;
                Some((file, bytes, kind))
            }
            None => None,
        };
        let wants = |kind: WasmKind| match path {
            PathArg::Component => kind == WasmKind::Component,
            PathArg::Raw => kind == WasmKind::CoreModule,
            PathArg::Both => true,
        };
        // A single --guest file replaces the embedded guest of its own kind. Asking for the
        // other path explicitly is an error rather than a silent fallback to the embedded one.
        if let Some((file, _, kind)) = &custom
            && !wants(*kind)
        {
            let needed = if path == PathArg::Raw {
                "core module"
            } else {
                "component"
            };
            return Err(Failure::Input(anyhow!(
                "{}: --path {} needs a {needed}, but this is a {kind}",
                file.display(),
                path.to_possible_value()
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default(),
            )));
        }
        let bytes_for = |kind: WasmKind, embedded: &'static [u8]| match &custom {
            Some((file, bytes, k)) if *k == kind => (Some(*file), bytes.as_slice()),
            _ => (None, embedded),
        };
        let context = |file: Option<&Path>, kind: WasmKind| match file {
            Some(file) => file.display().to_string(),
            None => format!("embedded {kind}"),
        };
        let component = if wants(WasmKind::Component) {
            let (file, bytes) = bytes_for(WasmKind::Component, embedded::COMPONENT);
            Some(
                runtime
                    .component(bytes)
                    .context_of(context(file, WasmKind::Component))?,
            )
        } else {
            None
        };
        let raw = if wants(WasmKind::CoreModule) {
            let (file, bytes) = bytes_for(WasmKind::CoreModule, embedded::CORE_MODULE);
            Some(
                runtime
                    .raw(bytes)
                    .context_of(context(file, WasmKind::CoreModule))?,
            )
        } else {
            None
        };
        Ok(Self { component, raw })
    }
}

/// Reads the record for `run`. JSON longer than `max` bytes (`--max-input-bytes`; a record's
/// encoding is never longer than its JSON) is refused before parsing, after reading at most
/// `max + 1` bytes.
fn read_input(input: Option<&Path>, max: u32) -> Result<SomeDataStruct, Failure> {
    let Some(input) = input else {
        return Ok(SomeDataStruct::example());
    };
    let (name, reader): (String, Box<dyn io::Read>) = if input == Path::new("-") {
        ("standard input".to_owned(), Box::new(io::stdin().lock()))
    } else {
        let file = std::fs::File::open(input)
            .with_context(|| format!("cannot read {}", input.display()))
            .map_err(Failure::Input)?;
        (input.display().to_string(), Box::new(file))
    };
    let mut bytes = Vec::new();
    reader
        .take(u64::from(max) + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))
        .map_err(Failure::Input)?;
    if bytes.len() as u64 > u64::from(max) {
        return Err(Failure::Input(anyhow!(
            "{name}: the input is over the {max}-byte limit (--max-input-bytes)"
        )));
    }
    serde_json::from_slice(&bytes)
        .with_context(|| {
            format!("{name} is not a record {{\"name\": string, \"names\": [string]}}")
        })
        .map_err(Failure::Input)
}

async fn run(
    runtime: &Runtime,
    path: PathArg,
    guest: Option<&Path>,
    input: Option<&Path>,
) -> Result<(), Failure> {
    let guests = Guests::load(runtime, path, guest)?;
    let record = read_input(input, runtime.limits().max_input_bytes)?;
    let mut outputs = Vec::new();
    if let Some(component) = &guests.component {
        let out = component.instantiate().await?.transform(&record).await;
        outputs.push(("component", out.context_of("component path")?.value));
    }
    if let Some(raw) = &guests.raw {
        let out = raw.instantiate().await?.transform(&record).await;
        outputs.push(("raw", out.context_of("raw path")?.value));
    }
    let first = agreed(outputs)?;
    let json = serde_json::to_string(&first)
        .context("cannot print the output")
        .map_err(Failure::Guest)?;
    println!("{json}");
    Ok(())
}

async fn button_text(
    runtime: &Runtime,
    path: PathArg,
    guest: Option<&Path>,
    status: &str,
) -> Result<(), Failure> {
    let guests = Guests::load(runtime, path, guest)?;
    let mut labels = Vec::new();
    if let Some(component) = &guests.component {
        let out = component.instantiate().await?.button_text(status).await;
        labels.push(("component", out.context_of("component path")?.value));
    }
    if let Some(raw) = &guests.raw {
        let out = raw.instantiate().await?.button_text(status).await;
        labels.push(("raw", out.context_of("raw path")?.value));
    }
    let first = agreed(labels)?;
    println!("{first}");
    Ok(())
}

/// The one output every path gave, or a guest failure naming the two that disagree.
fn agreed<T: PartialEq + std::fmt::Debug>(outputs: Vec<(&str, T)>) -> Result<T, Failure> {
    let mut outputs = outputs.into_iter();
    let (first_path, first) = outputs
        .next()
        .ok_or_else(|| Failure::Input(anyhow!("no path selected")))?;
    for (other_path, other) in outputs {
        if other != first {
            return Err(Failure::Guest(anyhow!(
                "the {first_path} and {other_path} paths disagree: {first:?} vs {other:?}"
            )));
        }
    }
    Ok(first)
}

fn inspect(
    runtime: &Runtime,
    file: Option<&Path>,
    wat: bool,
    write_guests: Option<&Path>,
) -> Result<(), Failure> {
    if let Some(dir) = write_guests {
        for (name, bytes) in [
            (embedded::COMPONENT_FILE_NAME, embedded::COMPONENT),
            (embedded::CORE_MODULE_FILE_NAME, embedded::CORE_MODULE),
        ] {
            let path = dir.join(name);
            write_atomically(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))
                .map_err(Failure::Input)?;
            println!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        return Ok(());
    }
    let targets: Vec<(String, Vec<u8>)> = match file {
        Some(file) => {
            let bytes = LoadError::read_file(file)?;
            vec![(file.display().to_string(), bytes)]
        }
        None => vec![
            (
                format!("embedded {}", embedded::COMPONENT_FILE_NAME),
                embedded::COMPONENT.to_vec(),
            ),
            (
                format!("embedded {}", embedded::CORE_MODULE_FILE_NAME),
                embedded::CORE_MODULE.to_vec(),
            ),
        ],
    };
    let mut stdout = io::stdout().lock();
    for (i, (name, bytes)) in targets.iter().enumerate() {
        let text = if wat {
            WasmKind::detect(bytes).context_of(name)?;
            print_wat(bytes).context_of(name)?
        } else {
            Inspection::of(runtime, bytes).context_of(name)?.to_string()
        };
        if i > 0 {
            writeln!(stdout).ok();
        }
        if targets.len() > 1 || !wat {
            writeln!(stdout, "== {name}").ok();
        }
        write!(stdout, "{text}").ok();
    }
    Ok(())
}

/// Writes to a temporary file beside `path`, then renames it: a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("wasm.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        std::fs::remove_file(&tmp).ok();
    })?;
    Ok(())
}

async fn demo(runtime: &Runtime, calls: u32) -> Result<(), Failure> {
    let input = SomeDataStruct::example();
    println!("Input contract: {input:?}");
    println!();

    let component = runtime
        .component(embedded::COMPONENT)
        .context_of("embedded component")?;
    let raw = runtime
        .raw(embedded::CORE_MODULE)
        .context_of("embedded core module")?;

    let native = boundary_host::native_transform(input.clone());
    let native_time = time_calls(calls, || {
        std::hint::black_box(boundary_host::native_transform(std::hint::black_box(
            input.clone(),
        )));
    });

    println!("== component path (canonical ABI: wit-bindgen guest, wasmtime bindgen! host)");
    let mut instance = component.instantiate().await?;
    let first = instance
        .transform(&input)
        .await
        .context_of("component path")?;
    print_walkthrough(&first);
    let component_time = time_async_calls(calls, async || instance.transform(&input).await).await?;

    println!("== raw path (hand-written ptr/len ABI, postcard encoding)");
    let mut instance = raw.instantiate().await?;
    let second = instance.transform(&input).await.context_of("raw path")?;
    print_walkthrough(&second);
    let raw_time = time_async_calls(calls, async || instance.transform(&input).await).await?;

    println!("== both paths");
    if first.value != second.value || first.value != native {
        return Err(Failure::Guest(anyhow!(
            "the paths disagree: native {native:?}, component {:?}, raw {:?}",
            first.value,
            second.value
        )));
    }
    println!("  identical output from native Rust, the component and the raw module");
    for status in ["PENDING", "DONE", "archived"] {
        let c = component
            .instantiate()
            .await?
            .button_text(status)
            .await
            .context_of("component path")?;
        let r = raw
            .instantiate()
            .await?
            .button_text(status)
            .await
            .context_of("raw path")?;
        if c.value != r.value {
            return Err(Failure::Guest(anyhow!(
                "button-text({status:?}) differs: {:?} vs {:?}",
                c.value,
                r.value
            )));
        }
        println!("  button-text({status:?}) = {:?} on both paths", c.value);
    }
    println!();
    println!("== median time per transform, {calls} calls on one instance");
    println!("  native Rust: {:>10}", fmt_duration(native_time));
    println!(
        "  component:   {:>10}  ({:.1}x native)",
        fmt_duration(component_time),
        ratio(component_time, native_time)
    );
    println!(
        "  raw:         {:>10}  ({:.1}x native)",
        fmt_duration(raw_time),
        ratio(raw_time, native_time)
    );
    if cfg!(debug_assertions) {
        println!("  (a debug build of the host: wasmtime is optimised, this binary's glue is not)");
    }
    Ok(())
}

fn print_walkthrough(called: &Called<SomeDataStruct>) {
    let Traffic {
        guest_calls,
        bytes_in,
        bytes_out,
    } = called.traffic;
    println!("Output contract: {:?}", called.value);
    println!(
        "  guest calls: {guest_calls}; bytes copied into the guest: {bytes_in}; out of it: {bytes_out}"
    );
    println!();
}

fn time_calls(calls: u32, mut f: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..calls)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    median(&mut samples)
}

async fn time_async_calls<T>(
    calls: u32,
    mut f: impl AsyncFnMut() -> Result<T, CallError>,
) -> Result<Duration, Failure> {
    let mut samples = Vec::with_capacity(calls as usize);
    for _ in 0..calls {
        let start = Instant::now();
        std::hint::black_box(f().await?);
        samples.push(start.elapsed());
    }
    Ok(median(&mut samples))
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.1} ms", ns as f64 / 1e6)
    }
}
