//! The default guests, built by `build.rs` from `guest/` and embedded, and the registry of paths.
//!
//! A path is registered once, in [`for_each_path`]: its [`Registration`] (name, one line about
//! it, default guest) and the type that implements [`Load`]. Everything that runs "every path"
//! (the CLI's `run`, `demo`, `serve`, `bench`, the soak, the tests) iterates over it.
//!
//! A third guest, [`HTTP_COMPONENT`], serves the same kernel over `wasi:http`; it is embedded here
//! so that it can be written out and tested, but it is not a path.

use boundary_host::{AnyGuest, ComponentGuest, Load, LoadError, RawGuest, Registration, Runtime};

/// The `transformer` component built from `guest/component`: no imports, two exports.
pub const COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/transformer.component.wasm"));

/// The ptr/len core module built from `guest/raw`.
pub const CORE_MODULE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/transformer.core.wasm"));

/// The kernel as a `wasi:http/proxy` component (WASI 0.2), built from `guest/http` for
/// `wasm32-wasip2`: `POST /transform` and `GET /button-text?status=...` for `wasmtime serve`, Spin,
/// wasmCloud or Fastly Compute. It is a different world from the transformer's, so it is not a
/// path of the registry below.
pub const HTTP_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/http.component.wasm"));

/// The file name [`HTTP_COMPONENT`] is written under (`boundary inspect --write-guests`).
pub const HTTP_COMPONENT_FILE_NAME: &str = "http.component.wasm";

/// The component path.
pub const COMPONENT_PATH: Registration = Registration {
    name: "component",
    about: "canonical ABI: wit-bindgen guest, wasmtime bindgen! host",
    file_name: "transformer.component.wasm",
    default_guest: COMPONENT,
};

/// The hand-written ptr/len path.
pub const RAW_PATH: Registration = Registration {
    name: "raw",
    about: "hand-written ptr/len ABI over a core module, postcard encoding",
    file_name: "transformer.core.wasm",
    default_guest: CORE_MODULE,
};

/// Something done once per registered path, with the path's type: how generic callers (the
/// benchmark, the tests) reach every path with static dispatch.
pub trait PathVisitor {
    /// Called once per path, in registration order.
    fn visit<G: Load>(&mut self, registration: &Registration);
}

/// The registry: calls `visitor` once for each path, in order. Register a new path here.
pub fn for_each_path(visitor: &mut impl PathVisitor) {
    visitor.visit::<ComponentGuest>(&COMPONENT_PATH);
    visitor.visit::<RawGuest>(&RAW_PATH);
}

/// [`PathVisitor`] for work that can fail: the first error stops the walk.
pub trait TryPathVisitor {
    /// What a visit can fail with.
    type Error;
    /// Called once per path, in registration order, until one fails.
    ///
    /// # Errors
    ///
    /// Whatever the visitor's work fails with.
    fn try_visit<G: Load>(&mut self, registration: &Registration) -> Result<(), Self::Error>;
}

/// Calls `visitor` once for each registered path, in order, stopping at the first error.
///
/// # Errors
///
/// The first error a visit returns.
pub fn try_for_each_path<V: TryPathVisitor>(visitor: &mut V) -> Result<(), V::Error> {
    struct Stop<'a, V: TryPathVisitor> {
        visitor: &'a mut V,
        result: Result<(), V::Error>,
    }
    impl<V: TryPathVisitor> PathVisitor for Stop<'_, V> {
        fn visit<G: Load>(&mut self, registration: &Registration) {
            if self.result.is_ok() {
                self.result = self.visitor.try_visit::<G>(registration);
            }
        }
    }
    let mut stop = Stop {
        visitor,
        result: Ok(()),
    };
    for_each_path(&mut stop);
    stop.result
}

/// A registered path, with its loader: what callers that pick a path at run time hold.
#[derive(Debug, Clone, Copy)]
pub struct Path {
    /// Name, description and default guest.
    pub registration: Registration,
    /// The kind of wasm file the path runs.
    pub kind: boundary_host::WasmKind,
    load: fn(&Runtime, Registration, &[u8]) -> Result<AnyGuest, LoadError>,
}

impl Path {
    /// The path's name, as `--path` takes it.
    pub fn name(&self) -> &'static str {
        self.registration.name
    }

    /// Loads `bytes` as a guest of this path.
    ///
    /// # Errors
    ///
    /// As the path's [`Load::load`].
    pub fn load(&self, runtime: &Runtime, bytes: &[u8]) -> Result<AnyGuest, LoadError> {
        (self.load)(runtime, self.registration, bytes)
    }

    /// Loads the path's embedded default guest.
    ///
    /// # Errors
    ///
    /// As [`Path::load`]; the embedded guests load, which the tests check.
    pub fn load_default(&self, runtime: &Runtime) -> Result<AnyGuest, LoadError> {
        self.load(runtime, self.registration.default_guest)
    }
}

/// Every registered path, in order.
pub fn paths() -> Vec<Path> {
    struct Collect(Vec<Path>);
    impl PathVisitor for Collect {
        fn visit<G: Load>(&mut self, registration: &Registration) {
            self.0.push(Path {
                registration: *registration,
                kind: G::KIND,
                load: |runtime, registration, bytes| {
                    G::load(runtime, bytes).map(|guest| AnyGuest::new(registration, guest))
                },
            });
        }
    }
    let mut collect = Collect(Vec::new());
    for_each_path(&mut collect);
    collect.0
}

/// The registered path called `name`.
pub fn path(name: &str) -> Option<Path> {
    paths().into_iter().find(|path| path.name() == name)
}

/// The path a guest file of `kind` runs on when no `--path` is named: the first registered path
/// that runs that kind (the Rust guest's, registered first), whatever other paths of the same
/// kind are registered after it. How every command that takes `--guest` (`run`, `button-text`,
/// `bench`) matches a file to its path.
///
/// # Errors
///
/// [`NoPathFor`] when no registered path runs that kind.
pub fn path_for_kind(kind: boundary_host::WasmKind) -> Result<Path, NoPathFor> {
    paths()
        .into_iter()
        .find(|path| path.kind == kind)
        .ok_or(NoPathFor(kind))
}

/// No registered path runs this kind of wasm file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoPathFor(pub boundary_host::WasmKind);

impl std::fmt::Display for NoPathFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no registered path runs a {}", self.0)
    }
}

impl std::error::Error for NoPathFor {}
