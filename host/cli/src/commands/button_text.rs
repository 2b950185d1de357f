//! `boundary button-text`: the label for a to-do status, on every selected path.

use boundary_host::{Guest as _, Instance as _, Runtime};

use crate::commands::run::traffic_line;
use crate::commands::{LimitArgs, PathArgs, agreed, block_on};
use crate::failure::{Failure, FailureContext as _};

/// Flags of `boundary button-text` (its help is on `Command::ButtonText` in `main.rs`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The status, matched without regard to ASCII case.
    status: String,
    #[command(flatten)]
    paths: PathArgs,
    /// Also print, on stderr, each path's name and what crossed the boundary in its call.
    #[arg(long, short)]
    verbose: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Runs the command.
///
/// # Errors
///
/// [`Failure::Input`] for a guest file that cannot be loaded or a status over
/// `--max-input-bytes`, and [`Failure::Guest`] when a guest fails or the paths disagree.
pub fn execute(args: Args) -> Result<(), Failure> {
    let runtime = Runtime::new(args.limits.limits())?;
    let guests = args.paths.guests(&runtime)?;
    block_on(async {
        let mut labels = Vec::new();
        for guest in &guests {
            let name = guest.name();
            let what = format!("{name} path");
            let mut instance = guest.instantiate().await.context_of(&what)?;
            let called = instance.button_text(&args.status).await.context_of(&what)?;
            if args.verbose {
                eprintln!("{}", traffic_line(name, called.traffic));
            }
            labels.push((name, called.value));
        }
        println!("{}", agreed(labels)?);
        Ok(())
    })
}
