//! An on-disk cache of compiled guests, so that loading the same guest again skips Cranelift.
//!
//! Compiling a large guest is most of what a short CLI run costs: an 18 MB componentize-py
//! component takes seconds, on every run. [`CompiledCache`] keeps what wasmtime compiled
//! (`Component::serialize` / `Module::serialize`) in one file per guest, named by
//!
//! - the SHA-256 of the guest's bytes and its kind (component or core module), and
//! - the SHA-256 of [`wasmtime::Engine::precompile_compatibility_hash`]: wasmtime's version,
//!   the compiler settings and the wasm features, i.e. everything that decides whether compiled
//!   code fits an engine.
//!
//! A later load of the same bytes by a compatible engine maps that file
//! (`deserialize_file`) instead of compiling. Wasmtime checks the file's header and its engine
//! compatibility again when it loads it; a file it refuses (truncated, from another build) is
//! counted, compiled afresh and replaced.
//!
//! Entries are written to a temporary file in the cache directory and renamed into place, so a
//! reader never sees half an entry, and concurrent writers of the same entry are harmless.
//! Nothing evicts entries: delete the directory at any time to reclaim the space.
//!
//! A cache that cannot be written never fails a load: the guest is compiled as without a cache,
//! and the first failure is handed to the callback set with [`CompiledCache::on_write_failure`]
//! (the CLI prints one warning line) and kept for [`CompiledCache::stats`].
//!
//! # Trust
//!
//! A cache entry is native code that wasmtime runs without compiling it. The directory is
//! created readable and writable by its owner only, and entries are only ever written by this
//! module from wasmtime's own output. Anyone who can write the directory can make this process
//! run code of their choosing, exactly as anyone who can replace the `boundary` binary can.

use std::fmt;
use std::hash::Hasher;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::inspect::WasmKind;

/// The environment variable that moves the cache (default: the user's cache directory).
pub const CACHE_DIR_ENV: &str = "BOUNDARY_CACHE_DIR";

/// Bumped when the naming or the layout of entries changes, so old entries are never read.
const LAYOUT_VERSION: &[u8] = b"wasm-boundary compiled-guest cache v1";

/// Why an entry could not be written. Only ever reported, never returned from a load.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the compiled-guest cache at {}", dir.display())]
pub struct CacheWriteError {
    /// The cache directory.
    pub dir: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// What a cache did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Loads served from an entry.
    pub hits: u64,
    /// Loads that compiled (no entry, or an entry wasmtime refused).
    pub misses: u64,
    /// Entries wasmtime refused to load (then replaced).
    pub rejected: u64,
    /// Entries written.
    pub stored: u64,
    /// Entries that could not be written.
    pub write_failures: u64,
}

type FailureCallback = Box<dyn Fn(&CacheWriteError) + Send + Sync>;

/// A directory of compiled guests, shared by every load of a [`crate::Runtime`] it is given to.
pub struct CompiledCache {
    dir: PathBuf,
    hits: AtomicU64,
    misses: AtomicU64,
    rejected: AtomicU64,
    stored: AtomicU64,
    write_failures: AtomicU64,
    on_write_failure: Mutex<Option<FailureCallback>>,
}

impl fmt::Debug for CompiledCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledCache")
            .field("dir", &self.dir)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl CompiledCache {
    /// A cache in `dir`, created on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            write_failures: AtomicU64::new(0),
            on_write_failure: Mutex::new(None),
        }
    }

    /// Where the cache lives unless told otherwise: `$BOUNDARY_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/wasm-boundary`, else `$HOME/.cache/wasm-boundary`; `None` when none of
    /// them is set.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var(CACHE_DIR_ENV) {
            return Some(PathBuf::from(dir));
        }
        let base = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("wasm-boundary"))
    }

    /// Calls `report` with the first entry that cannot be written (later failures are only
    /// counted), so a front end can say so once.
    #[must_use]
    pub fn on_write_failure(
        self,
        report: impl Fn(&CacheWriteError) + Send + Sync + 'static,
    ) -> Self {
        *lock(&self.on_write_failure) = Some(Box::new(report));
        self
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the cache did so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            stored: self.stored.load(Ordering::Relaxed),
            write_failures: self.write_failures.load(Ordering::Relaxed),
        }
    }

    /// The component compiled from `bytes`: from its entry if there is one, else compiled by
    /// `engine` and stored.
    ///
    /// # Errors
    ///
    /// What compiling `bytes` fails with. A cache that cannot be read or written is not an
    /// error.
    pub(crate) fn component(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
        self.get_or_compile(
            engine,
            bytes,
            WasmKind::Component,
            // SAFETY: `path` is an entry of this cache: a file written only by `store` below,
            // from `Component::serialize` of an engine whose compatibility hash is part of the
            // file's name, created under a fresh name and renamed into place (never modified
            // after), in a directory only its owner can write (see "Trust" in the module docs).
            // Wasmtime checks the header and the engine's compatibility again before use.
            |path| unsafe { Component::deserialize_file(engine, path) },
            || Component::new(engine, bytes),
            Component::serialize,
        )
    }

    /// The core module compiled from `bytes`, as [`CompiledCache::component`].
    ///
    /// # Errors
    ///
    /// What compiling `bytes` fails with.
    pub(crate) fn module(
        &self,
        engine: &Engine,
        bytes: &[u8],
    ) -> wasmtime::Result<wasmtime::Module> {
        self.get_or_compile(
            engine,
            bytes,
            WasmKind::CoreModule,
            // SAFETY: as for components above: an entry written only by `store`, from
            // `Module::serialize` of a compatible engine, renamed into place in an owner-only
            // directory; wasmtime re-checks the header and compatibility.
            |path| unsafe { wasmtime::Module::deserialize_file(engine, path) },
            || wasmtime::Module::new(engine, bytes),
            wasmtime::Module::serialize,
        )
    }

    fn get_or_compile<T>(
        &self,
        engine: &Engine,
        bytes: &[u8],
        kind: WasmKind,
        deserialize: impl FnOnce(&Path) -> wasmtime::Result<T>,
        compile: impl FnOnce() -> wasmtime::Result<T>,
        serialize: impl FnOnce(&T) -> wasmtime::Result<Vec<u8>>,
    ) -> wasmtime::Result<T> {
        let entry = self.dir.join(entry_name(engine, bytes, kind));
        if entry.is_file() {
            match deserialize(&entry) {
                Ok(compiled) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(compiled);
                }
                Err(_) => {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let compiled = compile()?;
        match serialize(&compiled) {
            Ok(serialized) => self.store(&entry, &serialized),
            Err(e) => self.write_failed(std::io::Error::other(e.to_string())),
        }
        Ok(compiled)
    }

    /// Writes `contents` as `entry`, atomically; a failure is reported, not returned.
    fn store(&self, entry: &Path, contents: &[u8]) {
        let written = create_private_dir(&self.dir).and_then(|()| {
            let mut file = tempfile::Builder::new()
                .prefix(".entry-")
                .suffix(".tmp")
                .tempfile_in(&self.dir)?;
            file.write_all(contents)?;
            file.as_file().sync_data()?;
            file.persist(entry).map_err(|e| e.error)?;
            Ok(())
        });
        match written {
            Ok(()) => {
                self.stored.fetch_add(1, Ordering::Relaxed);
            }
            Err(source) => self.write_failed(source),
        }
    }

    fn write_failed(&self, source: std::io::Error) {
        let first = self.write_failures.fetch_add(1, Ordering::Relaxed) == 0;
        if first && let Some(report) = lock(&self.on_write_failure).as_ref() {
            report(&CacheWriteError {
                dir: self.dir.clone(),
                source,
            });
        }
    }
}

/// A shared cache, as a [`crate::Runtime`] holds it.
pub(crate) type SharedCache = Arc<CompiledCache>;

/// `<sha256 of kind and bytes>-<first 16 hex digits of the engine's compatibility hash>.cwasm`.
fn entry_name(engine: &Engine, bytes: &[u8], kind: WasmKind) -> String {
    let mut guest = Sha256::new();
    guest.update(LAYOUT_VERSION);
    guest.update(match kind {
        WasmKind::Component => b"component".as_slice(),
        WasmKind::CoreModule => b"core-module".as_slice(),
    });
    guest.update(bytes);
    let mut compat = Sha256Hasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut compat);
    let compat = compat.0.finalize();
    format!(
        "{}-{}.cwasm",
        hex(&guest.finalize()),
        hex(compat.get(..8).unwrap_or_default())
    )
}

/// Feeds a [`std::hash::Hash`] value into SHA-256, so that the engine's compatibility hash (a
/// `Hash` impl, not a number) names files the same way in every process.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0; 8];
        first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Creates `dir` (and its parents) if missing; a new `dir` is private to its owner.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_depend_on_bytes_kind_and_engine() {
        let engine = Engine::default();
        let a = entry_name(&engine, b"\0asm one", WasmKind::Component);
        assert_eq!(a, entry_name(&engine, b"\0asm one", WasmKind::Component));
        assert_ne!(a, entry_name(&engine, b"\0asm two", WasmKind::Component));
        assert_ne!(a, entry_name(&engine, b"\0asm one", WasmKind::CoreModule));
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = Engine::new(&config).expect("engine");
        assert_ne!(a, entry_name(&other, b"\0asm one", WasmKind::Component));
        assert!(a.ends_with(".cwasm") && a.len() == 64 + 1 + 16 + 6, "{a}");
    }
}
