//! The API's JSON types, and the TypeScript the web app declares them with
//! (`web/src/api-types.ts`), generated from them by [`typescript_api`].

use boundary_host::{SomeDataStruct, Traffic};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The longest to-do title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// A to-do item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Not done yet.
    Pending,
    /// Done.
    Done,
}

/// A to-do item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Todo {
    /// Assigned by the store, never reused.
    pub id: u64,
    /// What to do.
    pub title: String,
    /// `PENDING` or `DONE`.
    pub status: Status,
}

/// The body of `POST /api/todos`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct NewTodo {
    /// What to do: trimmed, not empty, at most 200 characters.
    pub title: String,
}

/// The response of `POST /api/transform`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TransformResponse {
    /// The path whose guest ran.
    #[ts(type = "PathName")]
    pub path: String,
    /// What it returned.
    #[ts(type = "SomeDataStruct")]
    pub output: SomeDataStruct,
    /// What crossed the boundary.
    #[serde(flatten)]
    #[ts(flatten)]
    pub traffic: CallTraffic,
    /// Wall time of the call on the server, in microseconds.
    pub elapsed_us: u64,
}

/// What one call moved across the boundary (the library's `Traffic`, as JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CallTraffic {
    /// Entries from the host into guest code.
    pub guest_calls: u32,
    /// Payload bytes copied into the guest.
    pub bytes_in: u64,
    /// Payload bytes copied out of it.
    pub bytes_out: u64,
}

impl From<Traffic> for CallTraffic {
    fn from(traffic: Traffic) -> Self {
        let Traffic {
            guest_calls,
            bytes_in,
            bytes_out,
        } = traffic;
        Self {
            guest_calls,
            bytes_in,
            bytes_out,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ErrorBody {
    /// What went wrong, with its causes, on one line.
    pub error: String,
}

/// The API's TypeScript types, as committed in `web/src/api-types.ts`: generated with `ts-rs`
/// from the serde types above, plus `PathName`, the registered paths' names.
pub fn typescript_api() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let names: Vec<String> = boundary_guests::paths()
        .iter()
        .map(|path| format!("{:?}", path.name()))
        .collect();
    let mut out = String::from(
        "// Generated from the serde types of host/server/src/api.rs by ts-rs: do not edit.\n\
         // Regenerate with `BOUNDARY_BLESS=1 cargo test -p boundary-server --test all typescript`.\n\
         \n\
         import type { SomeDataStruct } from './component';\n\
         \n\
         /** The name of a registered path: what `POST /api/transform?path=` takes. */\n",
    );
    out.push_str(&format!("export type PathName = {};\n", names.join(" | ")));
    for decl in [
        declaration::<Status>(&cfg),
        declaration::<Todo>(&cfg),
        declaration::<NewTodo>(&cfg),
        declaration::<CallTraffic>(&cfg),
        declaration::<TransformResponse>(&cfg),
        declaration::<ErrorBody>(&cfg),
    ] {
        out.push('\n');
        out.push_str(&decl);
    }
    out
}

/// `T`'s doc comment and `export type T = ...;`.
fn declaration<T: TS>(cfg: &ts_rs::Config) -> String {
    let mut out = T::docs().unwrap_or_default();
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push('\n');
    out
}
