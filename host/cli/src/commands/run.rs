//! `boundary run` (being ported to the new library).

use crate::failure::Failure;

/// Flags of `boundary run`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
///
/// # Errors
///
/// Not yet ported.
pub fn execute(_args: Args) -> Result<(), Failure> {
    Err(Failure::input("not yet ported"))
}
