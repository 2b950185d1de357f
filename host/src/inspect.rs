//! What a wasm file is and what it imports and exports: `boundary inspect`, and the checks that
//! turn a file that does not match into one line naming what is wrong.

use std::fmt;

use wasmparser::Parser;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, types::Type};
use wasmtime::{ExternType, Module};

use crate::Runtime;
use crate::error::LoadError;

/// The two kinds of wasm binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    /// A core WebAssembly module, as the ptr/len path runs.
    CoreModule,
    /// A component, as the component path runs.
    Component,
}

impl WasmKind {
    /// Detects the kind from the header.
    ///
    /// # Errors
    ///
    /// [`LoadError::NotWasm`] when `bytes` starts with neither header.
    pub fn detect(bytes: &[u8]) -> Result<Self, LoadError> {
        // The magic number and a version: anything shorter is no wasm of either kind.
        const HEADER: usize = 8;
        if bytes.len() < HEADER {
            return Err(LoadError::TooShort { len: bytes.len() });
        }
        if Parser::is_component(bytes) {
            Ok(Self::Component)
        } else if Parser::is_core_wasm(bytes) {
            Ok(Self::CoreModule)
        } else {
            Err(LoadError::NotWasm {
                found: bytes
                    .iter()
                    .take(8)
                    .flat_map(|b| b.escape_ascii())
                    .map(char::from)
                    .collect::<String>(),
            })
        }
    }

    /// `"core module"` or `"component"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::CoreModule => "core module",
            Self::Component => "component",
        }
    }
}

impl fmt::Display for WasmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Fails unless `bytes` is wasm of the `expected` kind.
pub(crate) fn expect_kind(bytes: &[u8], expected: WasmKind) -> Result<(), LoadError> {
    let found = WasmKind::detect(bytes)?;
    if found == expected {
        Ok(())
    } else {
        Err(LoadError::WrongKind {
            expected: expected.name(),
            found: found.name(),
        })
    }
}

/// One import or export and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its name.
    pub name: String,
    /// Its type, in WIT syntax for components and wasm text syntax for core modules.
    pub ty: String,
}

/// The world of this repository's transformer guests (`wit/world.wit`).
pub const TRANSFORMER_WORLD: &str = "boundary:kernel/transformer@0.1.0";

/// The functions the transformer world exports.
pub const TRANSFORMER_EXPORTS: [&str; 2] = ["transform", "button-text"];

/// The interface a `wasi:http/proxy` component exports (WASI 0.2), without its version.
pub const HTTP_INCOMING_HANDLER: &str = "wasi:http/incoming-handler";

/// The interfaces the `wasi:http/proxy` world (WASI 0.2.x) imports, without their versions: all
/// that a host of that world (`wasmtime serve`, Spin, wasmCloud, Fastly Compute) provides.
pub const HTTP_PROXY_IMPORTS: [&str; 11] = [
    "wasi:io/poll",
    "wasi:io/error",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/stdin",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// The world a component targets, as far as the names of its imports and exports tell.
///
/// This is a structural check on names, which is what `boundary inspect` needs to say what a
/// file is for. It does not type-check the interfaces: a host's linker does that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum World {
    /// This repository's `transformer` world: it exports [`TRANSFORMER_EXPORTS`] and imports
    /// nothing but WASI and type-only interfaces (the world's `types`).
    Transformer,
    /// `wasi:http/proxy` at this 0.2 version (the incoming-handler export's): it exports
    /// [`HTTP_INCOMING_HANDLER`] and imports only from [`HTTP_PROXY_IMPORTS`], at 0.2.x.
    HttpProxy {
        /// The version, such as `0.2.12`.
        version: String,
    },
    /// Neither; why, in a few words.
    Unknown {
        /// What rules out the worlds above, such as an import the proxy world lacks.
        reason: String,
    },
}

impl World {
    /// Classifies a component from the names of its imports, of its type-only imports (which
    /// carry no functions) and of its exports.
    pub fn of<'a>(
        imports: impl IntoIterator<Item = &'a str>,
        type_imports: impl IntoIterator<Item = &'a str>,
        exports: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let functional: Vec<&str> = imports.into_iter().collect();
        let mut imports = functional.clone();
        imports.extend(type_imports);
        let exports: Vec<&str> = exports.into_iter().collect();
        let handler = exports.iter().find_map(|name| {
            let (interface, version) = split_version(name);
            (interface == HTTP_INCOMING_HANDLER).then_some(version)
        });
        if let Some(version) = handler {
            return match version {
                Some(version) if is_wasi_0_2(version) => {
                    Self::http_proxy(version, &imports, &exports)
                }
                _ => Self::Unknown {
                    reason: format!(
                        "exports {HTTP_INCOMING_HANDLER}{}, not a WASI 0.2 version",
                        version.map(|v| format!("@{v}")).unwrap_or_default()
                    ),
                },
            };
        }
        if TRANSFORMER_EXPORTS
            .iter()
            .all(|name| exports.contains(name))
        {
            return match functional.iter().find(|name| !name.starts_with("wasi:")) {
                None => Self::Transformer,
                Some(name) => Self::Unknown {
                    reason: format!("exports the transformer's functions but imports {name}"),
                },
            };
        }
        Self::Unknown {
            reason: format!(
                "exports neither {HTTP_INCOMING_HANDLER} nor {}",
                TRANSFORMER_EXPORTS.join(" and ")
            ),
        }
    }

    fn http_proxy(version: &str, imports: &[&str], exports: &[&str]) -> Self {
        let outside = imports.iter().find(|name| {
            let (interface, import_version) = split_version(name);
            !(HTTP_PROXY_IMPORTS.contains(&interface) && import_version.is_some_and(is_wasi_0_2))
        });
        if let Some(name) = outside {
            return Self::Unknown {
                reason: format!(
                    "exports {HTTP_INCOMING_HANDLER}@{version} but imports {name}, which wasi:http/proxy does not have"
                ),
            };
        }
        let extra = exports
            .iter()
            .find(|name| split_version(name).0 != HTTP_INCOMING_HANDLER);
        if let Some(name) = extra {
            return Self::Unknown {
                reason: format!(
                    "exports {HTTP_INCOMING_HANDLER}@{version} and also {name}, which wasi:http/proxy does not have"
                ),
            };
        }
        Self::HttpProxy {
            version: version.to_owned(),
        }
    }
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transformer => f.write_str(TRANSFORMER_WORLD),
            Self::HttpProxy { version } => write!(f, "wasi:http/proxy@{version}"),
            Self::Unknown { reason } => write!(f, "none known ({reason})"),
        }
    }
}

/// `"wasi:io/poll@0.2.6"` to `("wasi:io/poll", Some("0.2.6"))`.
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((interface, version)) => (interface, Some(version)),
        None => (name, None),
    }
}

/// Whether `version` is `0.2.PATCH` (with no pre-release tag): the WASI 0.2 line.
fn is_wasi_0_2(version: &str) -> bool {
    version
        .strip_prefix("0.2.")
        .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
}

/// What `boundary inspect` reports about one file.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// Core module or component.
    pub kind: WasmKind,
    /// Size of the file in bytes.
    pub size: usize,
    /// The world a component targets; `None` for core modules.
    pub world: Option<World>,
    /// Imports a host must provide, in declaration order.
    pub imports: Vec<Item>,
    /// Imports that carry only types (an interface the world `use`s types from): nothing to
    /// provide. Always empty for core modules.
    pub type_imports: Vec<Item>,
    /// Exports, in declaration order.
    pub exports: Vec<Item>,
}

impl Inspection {
    /// Inspects a core module or a component.
    ///
    /// # Errors
    ///
    /// [`LoadError::NotWasm`] for bytes that are not wasm, and [`LoadError::Invalid`] when
    /// wasmtime rejects them.
    pub fn of(runtime: &Runtime, bytes: &[u8]) -> Result<Self, LoadError> {
        let kind = WasmKind::detect(bytes)?;
        let invalid = LoadError::invalid;
        let (imports, type_imports, exports): (Vec<Item>, Vec<Item>, Vec<Item>) = match kind {
            WasmKind::Component => {
                let component = Component::new(runtime.engine(), bytes).map_err(invalid)?;
                let ty = component.component_type();
                let engine = runtime.engine();
                let item =
                    |(name, ext): (&str, wasmtime::component::types::ComponentExtern<'_>)| Item {
                        name: name.to_owned(),
                        ty: describe_item(&ext.ty),
                    };
                let (type_imports, imports) = ty
                    .imports(engine)
                    .partition::<Vec<_>, _>(|(_, import)| is_type_only(engine, &import.ty));
                let imports = imports.into_iter().map(item).collect();
                let type_imports = type_imports
                    .into_iter()
                    .map(|(name, import)| Item {
                        name: name.to_owned(),
                        ty: describe_type_only(engine, &import.ty),
                    })
                    .collect();
                let exports = ty.exports(engine).map(item).collect();
                (imports, type_imports, exports)
            }
            WasmKind::CoreModule => {
                let module = Module::new(runtime.engine(), bytes).map_err(invalid)?;
                let imports = module
                    .imports()
                    .map(|i| Item {
                        name: format!("{}::{}", i.module(), i.name()),
                        ty: describe_extern(&i.ty()),
                    })
                    .collect();
                let exports = module
                    .exports()
                    .map(|e| Item {
                        name: e.name().to_owned(),
                        ty: describe_extern(&e.ty()),
                    })
                    .collect();
                (imports, Vec::new(), exports)
            }
        };
        let world = (kind == WasmKind::Component).then(|| {
            fn names(items: &[Item]) -> impl Iterator<Item = &str> {
                items.iter().map(|item| item.name.as_str())
            }
            World::of(names(&imports), names(&type_imports), names(&exports))
        });
        Ok(Self {
            kind,
            size: bytes.len(),
            world,
            imports,
            type_imports,
            exports,
        })
    }
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "kind: {}", self.kind)?;
        writeln!(f, "size: {} bytes", self.size)?;
        if let Some(world) = &self.world {
            writeln!(f, "world: {world}")?;
        }
        for (title, items) in [("imports", &self.imports), ("exports", &self.exports)] {
            if items.is_empty() {
                writeln!(f, "{title}: none")?;
            } else {
                writeln!(f, "{title}:")?;
                for item in items {
                    writeln!(f, "  {}: {}", item.name, item.ty)?;
                }
            }
        }
        if !self.type_imports.is_empty() {
            writeln!(f, "type-only imports (nothing to provide):")?;
            for item in &self.type_imports {
                writeln!(f, "  {}: {}", item.name, item.ty)?;
            }
        }
        Ok(())
    }
}

/// A component import or export, in WIT-like syntax.
pub(crate) fn describe_item(item: &ComponentItem) -> String {
    match item {
        ComponentItem::ComponentFunc(func) => describe_func(func),
        other => component_item_kind(other).to_owned(),
    }
}

/// Whether an import carries only types: an interface a world `use`s types from, with no
/// functions or resources for a host to provide.
pub fn is_type_only(engine: &wasmtime::Engine, item: &ComponentItem) -> bool {
    match item {
        ComponentItem::Type(_) => true,
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .all(|(_, export)| matches!(export.ty, ComponentItem::Type(_))),
        _ => false,
    }
}

/// The names of the types a type-only import carries.
fn describe_type_only(engine: &wasmtime::Engine, item: &ComponentItem) -> String {
    match item {
        ComponentItem::ComponentInstance(instance) => {
            let names: Vec<&str> = instance.exports(engine).map(|(name, _)| name).collect();
            format!("types {{ {} }}", names.join(", "))
        }
        _ => "a type".to_owned(),
    }
}

/// The kind of a component item, for messages about items that should have been functions.
pub(crate) fn component_item_kind(item: &ComponentItem) -> &'static str {
    match item {
        ComponentItem::ComponentFunc(_) => "a function",
        ComponentItem::CoreFunc(_) => "a core function",
        ComponentItem::Module(_) => "a core module",
        ComponentItem::Component(_) => "a component",
        ComponentItem::ComponentInstance(_) => "an instance (interface)",
        ComponentItem::Type(_) => "a type",
        ComponentItem::Resource(_) => "a resource",
    }
}

/// A component function type in WIT syntax, records written out in full.
pub(crate) fn describe_func(func: &ComponentFunc) -> String {
    let params: Vec<String> = func
        .params()
        .map(|(name, ty)| format!("{name}: {}", describe_type(&ty)))
        .collect();
    let results: Vec<String> = func.results().map(|ty| describe_type(&ty)).collect();
    match results.as_slice() {
        [] => format!("func({})", params.join(", ")),
        [one] => format!("func({}) -> {one}", params.join(", ")),
        many => format!("func({}) -> ({})", params.join(", "), many.join(", ")),
    }
}

/// A component value type in WIT syntax.
pub(crate) fn describe_type(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(list) => format!("list<{}>", describe_type(&list.ty())),
        Type::Record(record) => {
            let fields: Vec<String> = record
                .fields()
                .map(|field| format!("{}: {}", field.name, describe_type(&field.ty)))
                .collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        Type::Tuple(tuple) => {
            let types: Vec<String> = tuple.types().map(|t| describe_type(&t)).collect();
            format!("tuple<{}>", types.join(", "))
        }
        Type::Option(option) => format!("option<{}>", describe_type(&option.ty())),
        Type::Result(result) => {
            let part = |t: Option<Type>| t.map_or_else(|| "_".to_owned(), |t| describe_type(&t));
            format!("result<{}, {}>", part(result.ok()), part(result.err()))
        }
        Type::Variant(_) => "variant".into(),
        Type::Enum(_) => "enum".into(),
        Type::Flags(_) => "flags".into(),
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Future(_) => "future".into(),
        Type::Stream(_) => "stream".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Map(_) => "map".into(),
        Type::FixedLengthList(_) => "fixed-length-list".into(),
    }
}

/// A core import or export type in wasm text syntax.
pub(crate) fn describe_extern(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(func) => {
            let params: Vec<String> = func.params().map(|p| p.to_string()).collect();
            let results: Vec<String> = func.results().map(|r| r.to_string()).collect();
            if results.is_empty() {
                format!("func({})", params.join(", "))
            } else {
                format!("func({}) -> {}", params.join(", "), results.join(", "))
            }
        }
        ExternType::Memory(memory) => match memory.maximum() {
            Some(max) => format!("memory({} to {max} pages)", memory.minimum()),
            None => format!("memory({} pages)", memory.minimum()),
        },
        ExternType::Global(global) => format!("global({})", global.content()),
        ExternType::Table(_) => "table".into(),
        ExternType::Tag(_) => "tag".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROXY_IMPORTS: [&str; 5] = [
        "wasi:io/error@0.2.12",
        "wasi:io/streams@0.2.12",
        "wasi:cli/stderr@0.2.12",
        "wasi:http/types@0.2.12",
        "wasi:random/random@0.2.3",
    ];

    #[test]
    fn a_handler_with_proxy_imports_is_the_proxy_world() {
        let world = World::of(PROXY_IMPORTS, [], ["wasi:http/incoming-handler@0.2.12"]);
        assert_eq!(
            world,
            World::HttpProxy {
                version: "0.2.12".into()
            }
        );
        assert_eq!(world.to_string(), "wasi:http/proxy@0.2.12");
        assert_eq!(
            World::of([], [], ["wasi:http/incoming-handler@0.2.0"]).to_string(),
            "wasi:http/proxy@0.2.0"
        );
    }

    #[test]
    fn an_import_outside_the_proxy_world_is_named() {
        for outside in [
            "wasi:filesystem/types@0.2.12",
            "wasi:cli/environment@0.2.12",
            "wasi:io/streams@0.3.0",
            "wasi:io/streams",
            "my:host/api@1.0.0",
        ] {
            let imports = PROXY_IMPORTS.iter().copied().chain([outside]);
            let world = World::of(imports, [], ["wasi:http/incoming-handler@0.2.12"]);
            let World::Unknown { reason } = &world else {
                panic!("{outside}: {world:?}")
            };
            assert!(reason.contains(outside), "{reason}");
            // A type-only import outside the world counts too.
            let world = World::of(
                PROXY_IMPORTS,
                [outside],
                ["wasi:http/incoming-handler@0.2.12"],
            );
            assert!(
                matches!(world, World::Unknown { .. }),
                "{outside}: {world:?}"
            );
        }
    }

    #[test]
    fn other_exports_or_versions_are_not_the_proxy_world() {
        for exports in [
            &["wasi:http/incoming-handler@0.2.12", "transform"][..],
            &["wasi:http/incoming-handler@0.3.0-rc-2025-09-16"],
            &["wasi:http/incoming-handler"],
            &["wasi:http/handler@0.3.0"],
        ] {
            let world = World::of(PROXY_IMPORTS, [], exports.iter().copied());
            assert!(
                matches!(world, World::Unknown { .. }),
                "{exports:?}: {world:?}"
            );
        }
    }

    #[test]
    fn the_transformer_world_is_recognised_by_its_exports() {
        assert_eq!(World::of([], [], TRANSFORMER_EXPORTS), World::Transformer);
        // The default guest imports its record's `types` interface, which carries only types.
        assert_eq!(
            World::of([], ["boundary:kernel/types@0.1.0"], TRANSFORMER_EXPORTS),
            World::Transformer
        );
        assert_eq!(
            World::of(
                ["wasi:io/streams@0.2.3", "wasi:cli/stderr@0.2.3"],
                [],
                TRANSFORMER_EXPORTS
            ),
            World::Transformer
        );
        assert!(matches!(
            World::of(["env:host/log"], [], TRANSFORMER_EXPORTS),
            World::Unknown { .. }
        ));
        assert!(matches!(
            World::of([], [], ["transform"]),
            World::Unknown { .. }
        ));
    }
}
