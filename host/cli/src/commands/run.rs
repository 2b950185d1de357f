//! `boundary run`: transform one record on every selected path and print it as JSON.

use std::path::PathBuf;

use anyhow::Context as _;
use boundary_host::Instance as _;

use crate::commands::{LimitArgs, PathArgs, agreed_on_every_guest, block_on};
use crate::failure::Failure;
use crate::input::read_record;

/// Flags of `boundary run` (its help is on `Command::Run` in `main.rs`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    paths: PathArgs,
    /// Also print, on stderr, each path's name and what crossed the boundary in its call.
    #[arg(long, short)]
    verbose: bool,
    /// A JSON file holding the record, or `-` for standard input.
    #[arg(value_name = "INPUT.json|-")]
    input: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Runs the command.
///
/// # Errors
///
/// [`Failure::Input`] for a guest file or input that cannot be read or is over a limit, and
/// [`Failure::Guest`] when a guest fails or the paths disagree.
pub fn execute(args: Args) -> Result<(), Failure> {
    let runtime = args.limits.runtime()?;
    let guests = args.paths.guests(&runtime)?;
    let record = read_record(args.input.as_deref(), runtime.limits().max_input_bytes)?;
    block_on(async {
        let output = agreed_on_every_guest(&guests, args.verbose, async |instance| {
            instance.transform(&record).await
        })
        .await?;
        let json = serde_json::to_string(&output)
            .context("cannot print the output")
            .map_err(Failure::Guest)?;
        println!("{json}");
        Ok(())
    })
}
