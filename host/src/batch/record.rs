//! A record's JSON as `boundary run` and `batch` read it: `{"name": string, "names": [string]}`
//! and no other field, at most a given number of bytes long.

use std::fmt::Display;

use crate::{Limit, SomeDataStruct};

/// Why bytes were not read as a record; `what` names where they came from (a file, standard
/// input, `line 3`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The bytes are not such a record.
    #[error("{what} is not a record {{\"name\": string, \"names\": [string]}}")]
    NotARecord {
        /// Where the bytes came from.
        what: String,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The JSON is longer than the limit ([`crate::Limits::max_input_bytes`] on the command
    /// line; a record's JSON is never shorter than what the ptr/len path copies in).
    #[error("{what}: the input is over the {max}-byte limit")]
    TooLong {
        /// Where the bytes came from.
        what: String,
        /// The limit, in bytes.
        max: u32,
    },
}

impl RecordError {
    /// The limit a record ran into: [`Limit::MaxInputBytes`] for [`RecordError::TooLong`].
    pub fn limit(&self) -> Option<Limit> {
        matches!(self, Self::TooLong { .. }).then_some(Limit::MaxInputBytes)
    }
}

/// Parses a record from its JSON; `what` names where it came from in the error.
///
/// # Errors
///
/// [`RecordError::NotARecord`] when the bytes are not a record with exactly the fields `name`
/// (a string) and `names` (an array of strings).
pub fn parse_record(what: impl Display, bytes: &[u8]) -> Result<SomeDataStruct, RecordError> {
    serde_json::from_slice(bytes).map_err(|source| RecordError::NotARecord {
        what: what.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_parses_and_anything_else_is_named() {
        let record = parse_record("x", br#"{"name":"a","names":["b"]}"#).unwrap();
        assert_eq!(record.name, "a");
        assert_eq!(record.names, ["b"]);
        for bad in [
            &b"not json"[..],
            br#"{"name":1}"#,
            br#"{"name":"a","names":[],"x":1}"#,
        ] {
            let error = parse_record(format_args!("line {}", 3), bad).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("line 3 is not a record {\"name\": string"),
                "{error}"
            );
            assert_eq!(error.limit(), None);
        }
        let long = RecordError::TooLong {
            what: "standard input".into(),
            max: 100,
        };
        assert_eq!(
            long.to_string(),
            "standard input: the input is over the 100-byte limit"
        );
        assert_eq!(long.limit(), Some(Limit::MaxInputBytes));
    }
}
