//! `boundary inspect`: what a wasm file is, what it imports and exports, a component's WIT world,
//! and how a core module measures up to the ptr/len ABI's export table.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use boundary_host::inspect::{Inspection, Item, WasmKind};
use boundary_host::{Limits, Runtime, read_guest_file};
use boundary_kernel::wire::{EXPORTS, ExportType, Need};

use crate::failure::{Failure, FailureContext as _};

/// Flags of `boundary inspect` (its help is on `Command::Inspect` in `main.rs`). It runs no
/// guest, so it takes none of the limit flags but the one on the file it reads.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The wasm file to inspect; every registered path's default guest when absent.
    #[arg(value_name = "FILE.wasm")]
    file: Option<PathBuf>,
    /// Print the file in the wasm text format instead.
    #[arg(long)]
    wat: bool,
    /// Write every registered path's default guest into DIR (as `transformer.component.wasm`,
    /// `transformer.core.wasm`, ...), and the wasi:http component (`http.component.wasm`, for
    /// `wasmtime serve`), so other tools can run the exact bytes this binary embeds.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["file", "wat"])]
    write_guests: Option<PathBuf>,
    /// Largest file read, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    max_guest_mib: u64,
}

/// Runs the command.
///
/// # Errors
///
/// [`Failure::Input`] when the file cannot be read, is not wasm, or does not compile, or when
/// the guests cannot be written.
pub fn execute(args: Args) -> Result<(), Failure> {
    if let Some(dir) = &args.write_guests {
        return write_guests(dir);
    }
    let targets: Vec<(String, std::borrow::Cow<'static, [u8]>)> = match &args.file {
        Some(file) => {
            let bytes = read_guest_file(file, args.max_guest_mib << 20)?;
            vec![(file.display().to_string(), bytes.into())]
        }
        None => boundary_guests::paths()
            .iter()
            .map(|path| {
                let registration = path.registration;
                let name = format!(
                    "embedded {} ({} path)",
                    registration.file_name, registration.name
                );
                (name, registration.default_guest.into())
            })
            .collect(),
    };
    let runtime = if args.wat {
        None
    } else {
        let limits = Limits {
            max_guest_file_bytes: args.max_guest_mib << 20,
            ..Limits::default()
        };
        Some(Runtime::new(limits)?)
    };
    let mut stdout = std::io::stdout().lock();
    for (i, (name, bytes)) in targets.iter().enumerate() {
        let text = match &runtime {
            None => {
                WasmKind::detect(bytes).context_of(name)?;
                print_wat(bytes).map_err(|e| Failure::Input(e.context(name.clone())))?
            }
            Some(runtime) => describe(runtime, bytes).context_of(name)?,
        };
        if i > 0 {
            writeln!(stdout).ok();
        }
        if targets.len() > 1 || runtime.is_some() {
            writeln!(stdout, "== {name}").ok();
        }
        write!(stdout, "{text}").ok();
    }
    Ok(())
}

/// Everything `inspect` says about one file: the [`Inspection`], then a component's WIT world or
/// a core module's rows of the ptr/len export table.
fn describe(runtime: &Runtime, bytes: &[u8]) -> Result<String, Failure> {
    let inspection = Inspection::of(runtime, bytes)?;
    let mut text = inspection.to_string();
    match inspection.kind {
        WasmKind::Component => {
            let wit = print_wit(bytes).map_err(Failure::Input)?;
            text.push_str("wit:\n");
            for line in wit.lines() {
                // Blank lines stay blank rather than carrying the indent.
                if line.is_empty() {
                    text.push('\n');
                } else {
                    let _ = writeln!(text, "  {line}");
                }
            }
        }
        WasmKind::CoreModule => text.push_str(&abi_table(&inspection.exports)),
    }
    Ok(text)
}

/// How a core module's exports measure up to the ptr/len ABI ([`EXPORTS`]): one row per export
/// of the table, saying whether the module has it with the right type.
pub fn abi_table(exports: &[Item]) -> String {
    let mut text = String::from("ptr/len ABI exports (boundary_kernel::wire::EXPORTS):\n");
    let width = EXPORTS.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let ty_width = EXPORTS
        .iter()
        .map(|e| e.ty.to_string().len())
        .max()
        .unwrap_or(0);
    for export in EXPORTS {
        let need = match export.need {
            Need::Required => "required",
            Need::Optional => "optional",
            Need::Tuned => "tuned",
        };
        let expected = export.ty.to_string();
        let status = match exports.iter().find(|item| item.name == export.name) {
            None => "missing".to_owned(),
            Some(item) if has_type(&item.ty, export.ty) => "present".to_owned(),
            Some(item) => format!("mistyped: {}", item.ty),
        };
        let _ = writeln!(
            text,
            "  {:width$}  {expected:ty_width$}  {need:8}  {status}",
            export.name
        );
    }
    text
}

/// Whether an export's type, as [`Inspection`] prints it, is `expected`.
fn has_type(printed: &str, expected: ExportType) -> bool {
    match expected {
        // A memory prints with its size, `memory(17 pages)`: any size will do.
        ExportType::Memory => printed.starts_with("memory("),
        ExportType::Func { .. } => printed == expected.to_string(),
    }
}

/// The WIT world a component implements, decoded from its type information, with the packages
/// it uses nested.
///
/// # Errors
///
/// When wit-component cannot decode the bytes as a component or print what it decoded.
pub fn print_wit(bytes: &[u8]) -> anyhow::Result<String> {
    let decoded = wit_component::decode(bytes).context("cannot decode the component's WIT")?;
    let main = decoded.package();
    let resolve = decoded.resolve();
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = wit_component::WitPrinter::default();
    printer.emit_docs(false);
    printer
        .print(resolve, main, &nested)
        .context("cannot print the component's WIT")?;
    Ok(printer.output.to_string())
}

/// The module or component in the wasm text format.
///
/// # Errors
///
/// When the bytes do not parse.
pub fn print_wat(bytes: &[u8]) -> anyhow::Result<String> {
    wasmprinter::print_bytes(bytes).context("cannot print the text format")
}

/// Writes every registered path's default guest, then the `wasi:http` component, into `dir`
/// (created if missing), each whole or not at all (`boundary_schema::write_atomically`), so that
/// a reader never sees half a file.
fn write_guests(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        .map_err(Failure::Input)?;
    let guests = boundary_guests::paths()
        .into_iter()
        .map(|path| (path.registration.file_name, path.registration.default_guest))
        .chain([(
            boundary_guests::HTTP_COMPONENT_FILE_NAME,
            boundary_guests::HTTP_COMPONENT,
        )]);
    for (file_name, bytes) in guests {
        let target = dir.join(file_name);
        boundary_schema::write_atomically(&target, bytes)
            .map_err(|e| Failure::Input(anyhow::Error::new(e)))?;
        println!("wrote {} ({} bytes)", target.display(), bytes.len());
    }
    Ok(())
}
