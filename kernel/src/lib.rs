//! The record that crosses the boundary, the logic applied to it, and the wire format of the
//! hand-written ptr/len path.
//!
//! Everything here is plain Rust that compiles for the host and for `wasm32-unknown-unknown`. Both
//! guests call [`transform`] and [`button_text`], and the host uses the same functions as the
//! native baseline, so the three can only differ in how the data crosses the boundary.
//!
//! [`SomeDataStruct`] mirrors `record some-data-struct` in `wit/world.wit`. The component guest
//! and the host convert their generated types to and from it with exhaustive destructuring, so a
//! field added to the WIT and not here is a compile error on both sides.

#[cfg(feature = "proptest")]
pub mod strategies;
pub mod wire;

use serde::{Deserialize, Serialize};

/// The name [`transform`] appends.
pub const NEW_NAME: &str = "new name";

/// Button label for a pending item.
pub const LABEL_PENDING: &str = "edit";
/// Button label for a done item.
pub const LABEL_DONE: &str = "delete";
/// Button label for any status that is neither pending nor done.
pub const LABEL_UNKNOWN: &str = "an error has occurred";

/// The record of the contract: `record some-data-struct { name: string, names: list<string> }`.
///
/// The serde field order is the wire order of the ptr/len path: `name`, then `names`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SomeDataStruct {
    /// A free-form name.
    pub name: String,
    /// A list of names, in order.
    pub names: Vec<String>,
}

impl SomeDataStruct {
    /// The seed chapter's example record: `name3` / `["name1", "name2"]`.
    pub fn example() -> Self {
        Self {
            name: "name3".to_owned(),
            names: vec!["name1".to_owned(), "name2".to_owned()],
        }
    }
}

/// The contract's `transform`: appends [`NEW_NAME`] to `names` and leaves `name` alone.
///
/// ```
/// use boundary_kernel::{transform, SomeDataStruct};
/// let out = transform(SomeDataStruct::example());
/// assert_eq!(out.names, ["name1", "name2", "new name"]);
/// assert_eq!(out.name, "name3");
/// ```
pub fn transform(mut input: SomeDataStruct) -> SomeDataStruct {
    input.names.push(NEW_NAME.to_owned());
    input
}

/// The contract's `button-text`: a to-do status to its button label, ignoring ASCII case.
///
/// ```
/// use boundary_kernel::button_text;
/// assert_eq!(button_text("pending"), "edit");
/// assert_eq!(button_text("DONE"), "delete");
/// assert_eq!(button_text("archived"), "an error has occurred");
/// ```
pub fn button_text(status: &str) -> &'static str {
    if status.eq_ignore_ascii_case("PENDING") {
        LABEL_PENDING
    } else if status.eq_ignore_ascii_case("DONE") {
        LABEL_DONE
    } else {
        LABEL_UNKNOWN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_appends_exactly_one_name_and_keeps_the_rest() {
        let input = SomeDataStruct {
            name: "ä".into(),
            names: vec![String::new(), "🦀".into()],
        };
        let out = transform(input.clone());
        assert_eq!(out.name, input.name);
        assert_eq!(out.names, ["", "🦀", NEW_NAME]);
    }

    #[test]
    fn button_text_covers_every_case() {
        for (status, label) in [
            ("PENDING", "edit"),
            ("pending", "edit"),
            ("PeNdInG", "edit"),
            ("DONE", "delete"),
            ("done", "delete"),
            ("Done", "delete"),
            ("", "an error has occurred"),
            ("PENDING ", "an error has occurred"),
            ("DONEE", "an error has occurred"),
            ("pendıng", "an error has occurred"),
        ] {
            assert_eq!(button_text(status), label, "status {status:?}");
        }
    }
}
