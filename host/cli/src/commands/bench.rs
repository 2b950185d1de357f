//! `boundary bench` (being ported to the new library; the old code is in bench_old.rs.txt).

use crate::failure::Failure;

/// Flags of `boundary bench`.
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
