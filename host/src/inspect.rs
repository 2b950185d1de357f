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

/// What `boundary inspect` reports about one file.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// Core module or component.
    pub kind: WasmKind,
    /// Size of the file in bytes.
    pub size: usize,
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
        let (imports, type_imports, exports) = match kind {
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
        Ok(Self {
            kind,
            size: bytes.len(),
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
