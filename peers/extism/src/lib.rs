//! Extism as a peer of the registered paths: the kernel as an Extism plugin
//! (`guest/extism`, embedded as [`PLUGIN`]), called the way Extism users call plugins.
//!
//! Extism 1.30.0 brings its own wasmtime (43), so this crate lives outside the workspace's
//! default members and never links the host's wasmtime 48 crates (`boundary-host`,
//! `boundary-guests`, `boundary-cli`): two wasmtimes in one binary risk clashing C symbols. It
//! runs in its own process (`boundary-extism bench`), measures its own native baseline there, and
//! hands its figures to `boundary bench --peer-results` as
//! [`boundary_schema::peer::PeerResults`].
//!
//! Two encodings, one plugin:
//! - [`Encoding::Json`]: `transform` and `button_text`, JSON in and out, as Extism users write
//!   plugins (`Json<T>` on both sides);
//! - [`Encoding::Bytes`]: `transform_bytes` (postcard, the raw path's encoding) and
//!   `button_text_bytes` (UTF-8), Extism at its best, with no JSON.

pub mod bench;

use boundary_kernel::SomeDataStruct;
use boundary_kernel::wire;
use extism::convert::Json;

/// The plugin, built from `guest/extism` by this crate's build script.
pub const PLUGIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/plugin.wasm"));

/// The Extism release this peer runs (pinned `=1.30.0` in the workspace manifest).
pub const EXTISM_VERSION: &str = "1.30.0";
/// The wasmtime line Extism 1.30.0 runs on.
pub const EXTISM_WASMTIME: &str = "43";

/// How the record crosses into the plugin and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JSON in and out (`extism::convert::Json` on the host, `extism_pdk::Json` in the plugin).
    Json,
    /// postcard in and out for the record, UTF-8 for `button_text`: no JSON anywhere.
    Bytes,
}

impl Encoding {
    /// Both, in report order.
    pub const ALL: [Encoding; 2] = [Encoding::Json, Encoding::Bytes];

    /// `json` or `bytes`: the second half of the row name (`extism/json`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Bytes => "bytes",
        }
    }

    /// The plugin's export that runs `transform` in this encoding.
    pub fn transform_export(self) -> &'static str {
        match self {
            Self::Json => "transform",
            Self::Bytes => "transform_bytes",
        }
    }

    /// The plugin's export that runs `button_text` in this encoding.
    pub fn button_text_export(self) -> &'static str {
        match self {
            Self::Json => "button_text",
            Self::Bytes => "button_text_bytes",
        }
    }
}

/// What can go wrong with the plugin. Extism's own errors are `anyhow::Error`s; they are kept as
/// sources.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The plugin did not load (compile, link, instantiate).
    #[error("cannot load the Extism plugin")]
    Load(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A call failed: the plugin returned an error, trapped, or its output did not decode.
    #[error("the Extism plugin's `{export}` failed")]
    Call {
        /// The export called.
        export: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The input could not be encoded.
    #[error("cannot encode the input for `{export}`")]
    Encode {
        /// The export it was for.
        export: &'static str,
        /// Why.
        #[source]
        source: postcard::Error,
    },
}

impl PeerError {
    /// What a failed call of `export` becomes: the one conversion every call site maps with.
    fn call<E>(export: &'static str) -> impl Fn(E) -> Self
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        move |source| Self::Call {
            export,
            source: source.into(),
        }
    }
}

/// The plugin, loaded once: one Extism `Plugin` (one wasmtime store and instance) that every
/// call reuses, as an Extism host keeps a plugin around.
pub struct Peer {
    plugin: extism::Plugin,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").finish_non_exhaustive()
    }
}

impl Peer {
    /// Loads the embedded [`PLUGIN`].
    ///
    /// # Errors
    ///
    /// [`PeerError::Load`] if Extism cannot compile or instantiate it.
    pub fn new() -> Result<Self, PeerError> {
        Self::from_wasm(PLUGIN)
    }

    /// Loads a plugin from its bytes, without WASI and without Extism's on-disk compilation
    /// cache (so that nothing is written outside the build; compiling is not what is measured).
    ///
    /// # Errors
    ///
    /// [`PeerError::Load`] if Extism cannot compile or instantiate it.
    pub fn from_wasm(wasm: &[u8]) -> Result<Self, PeerError> {
        let plugin = extism::PluginBuilder::new(wasm)
            .with_wasi(false)
            .with_cache_disabled()
            .build()
            .map_err(|e| PeerError::Load(e.into()))?;
        Ok(Self { plugin })
    }

    /// The kernel's `transform` in the plugin, in `encoding`.
    ///
    /// # Errors
    ///
    /// [`PeerError::Call`] if the plugin fails or its output does not decode.
    pub fn transform(
        &mut self,
        encoding: Encoding,
        input: &SomeDataStruct,
    ) -> Result<SomeDataStruct, PeerError> {
        let export = encoding.transform_export();
        let failed = PeerError::call(export);
        match encoding {
            Encoding::Json => self
                .plugin
                .call::<Json<&SomeDataStruct>, Json<SomeDataStruct>>(export, Json(input))
                .map(Json::into_inner)
                .map_err(failed),
            Encoding::Bytes => {
                let bytes =
                    wire::encode(input).map_err(|source| PeerError::Encode { export, source })?;
                // Decoded straight from the plugin's memory, with no copy in between.
                let out = self
                    .plugin
                    .call::<&[u8], &[u8]>(export, &bytes)
                    .map_err(failed)?;
                wire::decode_exact(out).map_err(PeerError::call(export))
            }
        }
    }

    /// The kernel's `button_text` in the plugin, in `encoding`.
    ///
    /// # Errors
    ///
    /// [`PeerError::Call`] if the plugin fails or its output does not decode.
    pub fn button_text(&mut self, encoding: Encoding, status: &str) -> Result<String, PeerError> {
        let export = encoding.button_text_export();
        let failed = PeerError::call(export);
        match encoding {
            Encoding::Json => self
                .plugin
                .call::<Json<&str>, Json<String>>(export, Json(status))
                .map(Json::into_inner)
                .map_err(failed),
            Encoding::Bytes => self
                .plugin
                .call::<&str, &str>(export, status)
                .map(str::to_owned)
                .map_err(failed),
        }
    }

    /// Calls `export` with raw input bytes and returns its raw output: what a host that does its
    /// own encoding sees, and a way to hand the plugin bytes no encoder would write.
    ///
    /// # Errors
    ///
    /// [`PeerError::Call`] if the plugin returns an error or traps.
    pub fn call_bytes(&mut self, export: &'static str, input: &[u8]) -> Result<Vec<u8>, PeerError> {
        self.plugin
            .call::<&[u8], &[u8]>(export, input)
            .map(<[u8]>::to_vec)
            .map_err(PeerError::call(export))
    }
}

/// An error and its causes on one line, `: `-separated, as the CLI prints errors.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}
