//! The guests to measure: each registered path's embedded default, unless a `--guest` file of
//! its kind replaces it. A core module built by `wit-bindgen` is componentized first
//! (`boundary_build::componentize`, as the guests' build script does).

use std::path::PathBuf;

use boundary_host::{Limits, Registration, WasmKind};

use crate::BenchError;

/// The guests to measure: each registered path's embedded default, unless a `--guest` file of
/// its kind replaces it.
#[derive(Debug, Clone, Default)]
pub struct Guests {
    files: Vec<Replacement>,
}

#[derive(Debug, Clone)]
struct Replacement {
    /// The registered path whose default guest it replaces.
    path: &'static str,
    file: PathBuf,
    bytes: Vec<u8>,
    componentized: bool,
}

impl Guests {
    /// Every path's embedded default guest.
    pub fn embedded() -> Self {
        Self::default()
    }

    /// Reads `files` (at most `limits.max_guest_file_bytes` each, regular files only); each
    /// replaces the default guest of the first registered path that runs its kind. A core module
    /// that carries wit-bindgen's `component-type` metadata is componentized first, as the build
    /// script does for the embedded component.
    ///
    /// # Errors
    ///
    /// [`BenchError::GuestFile`] for a file that cannot be read, [`BenchError::Load`] for one
    /// that is not wasm, [`BenchError::Artifact`] if componentizing fails, and
    /// [`BenchError::Guests`] when no registered path runs the file's kind or two files replace
    /// the same path.
    pub fn from_files(files: &[PathBuf], limits: Limits) -> Result<Self, BenchError> {
        let mut guests = Self::default();
        for file in files {
            let shown = file.display().to_string();
            let mut bytes = boundary_host::read_guest_file(file, limits.max_guest_file_bytes)
                .map_err(BenchError::GuestFile)?;
            let mut kind = WasmKind::detect(&bytes).map_err(|source| BenchError::Load {
                what: shown.clone(),
                source,
            })?;
            let componentized =
                kind == WasmKind::CoreModule && boundary_build::has_component_metadata(&bytes);
            if componentized {
                bytes = boundary_build::componentize(&bytes, &shown).map_err(|source| {
                    BenchError::Artifact {
                        what: "cannot componentize the core module".to_owned(),
                        source: source.into(),
                    }
                })?;
                kind = WasmKind::Component;
            }
            let path = boundary_guests::path_for_kind(kind)
                .map_err(|why| BenchError::Guests(format!("{shown}: {why}")))?
                .name();
            if let Some(earlier) = guests.files.iter().find(|g| g.path == path) {
                return Err(BenchError::Guests(format!(
                    "{} and {shown} would both replace the {path} path's guest: give one --guest per kind",
                    earlier.file.display(),
                )));
            }
            guests.files.push(Replacement {
                path,
                file: file.clone(),
                bytes,
                componentized,
            });
        }
        Ok(guests)
    }

    /// The bytes to measure for a registered path.
    pub fn bytes<'a>(&'a self, registration: &'a Registration) -> &'a [u8] {
        self.file(registration.name)
            .map_or(registration.default_guest, |g| g.bytes.as_slice())
    }

    /// What a path's guest is called in errors: the path, or the file that replaced its guest.
    pub fn what(&self, registration: &Registration) -> String {
        match self.file(registration.name) {
            Some(g) => format!("{} (--guest for the {} path)", g.file.display(), g.path),
            None => format!("the {} path's embedded guest", registration.name),
        }
    }

    fn file(&self, path: &str) -> Option<&Replacement> {
        self.files.iter().find(|g| g.path == path)
    }

    /// One line per replaced guest, for the report: `component: FILE (componentized)`.
    pub fn describe(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|g| {
                format!(
                    "{}: `{}`{}",
                    g.path,
                    g.file.display(),
                    if g.componentized {
                        " (componentized)"
                    } else {
                        ""
                    }
                )
            })
            .collect()
    }
}
