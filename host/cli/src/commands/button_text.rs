//! `boundary button-text`: the label for a to-do status, on every selected path.

use boundary_host::Instance as _;

use crate::commands::{LimitArgs, PathArgs, agreed_on_every_guest, block_on};
use crate::failure::Failure;

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
    let runtime = args.limits.runtime()?;
    let guests = args.paths.guests(&runtime)?;
    block_on(async {
        let label = agreed_on_every_guest(&guests, args.verbose, async |instance| {
            instance.button_text(&args.status).await
        })
        .await?;
        println!("{label}");
        Ok(())
    })
}
