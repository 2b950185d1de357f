//! Finding the built web app (`web/dist`) the server serves.

use std::path::{Path, PathBuf};

use crate::ServeError;

/// Where the web app is looked for when no directory is given, in order: `web/dist` under `cwd`,
/// then under the workspace this crate was built from (so that `boundary serve` works from any
/// directory of a checkout, or from outside it).
pub fn dist_candidates(cwd: &Path) -> Vec<PathBuf> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"));
    // host/server -> the workspace root.
    let root = built_from
        .parent()
        .and_then(Path::parent)
        .unwrap_or(built_from);
    let mut candidates = vec![cwd.join("web/dist")];
    let from_root = root.join("web/dist");
    if !candidates.contains(&from_root) {
        candidates.push(from_root);
    }
    candidates
}

/// The first of `candidates` that holds a built web app (an `index.html` file).
///
/// # Errors
///
/// [`ServeError::DistMissing`], naming every candidate, when none does.
pub fn find_dist(candidates: &[PathBuf]) -> Result<PathBuf, ServeError> {
    candidates
        .iter()
        .find(|dist| dist.join("index.html").is_file())
        .cloned()
        .ok_or_else(|| ServeError::DistMissing {
            tried: candidates.to_vec(),
        })
}

/// Checks that `dist` holds a built web app.
///
/// # Errors
///
/// [`ServeError::DistMissing`] when `dist/index.html` is not a file.
pub fn check_dist(dist: &Path) -> Result<PathBuf, ServeError> {
    find_dist(&[dist.to_owned()])
}
