//! The golden files in `kernel/golden/` against the kernel itself.
//!
//! `wire.json` lists values with their postcard encoding, and `contract.json` the constants other
//! languages need (the name `transform` appends, the button labels, the result region's size and
//! alignment, the ptr/len export table). The TypeScript in `web/` reads both files instead of
//! restating them, so these tests are what keeps every copy true: each vector must be what
//! `wire::encode` produces and what `wire::decode_exact` reads back, and each constant must equal
//! the kernel's. A file that drifts fails here, with the vector's name.

use std::fmt::Debug;
use std::path::Path;

use boundary_kernel::wire::{self, EXPORTS, GuestError, Need, RESULT_ALIGN, RESULT_SIZE, Response};
use boundary_kernel::{LABEL_DONE, LABEL_PENDING, LABEL_UNKNOWN, NEW_NAME, SomeDataStruct};
use serde::Serialize;
use serde::de::DeserializeOwned;

use json::Json;

/// `kernel/golden/<file>`, parsed.
fn golden(file: &str) -> Json {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    json::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bytes a `hex` field spells; whitespace separates groups and is ignored.
fn bytes(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(
        digits.len().is_multiple_of(2),
        "{hex:?} has an odd number of hex digits"
    );
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).unwrap_or_default();
            u8::from_str_radix(pair, 16)
                .unwrap_or_else(|_| panic!("{hex:?}: {pair:?} is not a hex byte"))
        })
        .collect()
}

/// Lowercase hex without spaces, so that a mismatch prints readably.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every `{name, value, hex}` of `group` in wire.json: `value` read as a `T` encodes to exactly
/// `hex`, and `hex` decodes to exactly `value`.
fn check_vectors<T>(group: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let file = golden("wire.json");
    let vectors = file.get(group).as_array();
    assert!(!vectors.is_empty(), "wire.json: `{group}` has no vectors");
    for vector in vectors {
        let name = vector.get("name").as_str();
        let value = T::deserialize(vector.get("value").clone()).unwrap_or_else(|e| {
            panic!(
                "wire.json {group} {name:?}: `value` is not a {}: {e}",
                std::any::type_name::<T>()
            )
        });
        let want = bytes(vector.get("hex").as_str());
        let encoded =
            wire::encode(&value).unwrap_or_else(|e| panic!("wire.json {group} {name:?}: {e}"));
        assert_eq!(
            hex(&encoded),
            hex(&want),
            "wire.json {group} {name:?}: wire::encode({value:?})"
        );
        assert_eq!(
            wire::decode_exact::<T>(&want),
            Ok(value),
            "wire.json {group} {name:?}: wire::decode_exact of `hex`"
        );
    }
}

#[test]
fn wire_json_has_exactly_the_groups_checked_here() {
    let file = golden("wire.json");
    assert_eq!(
        file.keys(),
        [
            "about",
            "records",
            "strings",
            "string_responses",
            "record_responses",
            "rejected_records"
        ],
        "a group added to wire.json needs a test here"
    );
}

#[test]
fn records_encode_as_listed() {
    check_vectors::<SomeDataStruct>("records");
}

#[test]
fn strings_encode_as_listed() {
    check_vectors::<String>("strings");
}

#[test]
fn string_responses_encode_as_listed() {
    check_vectors::<Response<String>>("string_responses");
}

#[test]
fn record_responses_encode_as_listed() {
    check_vectors::<Response<SomeDataStruct>>("record_responses");
}

/// The variant of a `GuestError`, as wire.json names it.
fn variant(error: &GuestError) -> &'static str {
    match error {
        GuestError::Decode { .. } => "Decode",
        GuestError::TrailingBytes { .. } => "TrailingBytes",
        GuestError::Encode { .. } => "Encode",
    }
}

#[test]
fn rejected_records_fail_to_decode_as_listed() {
    let file = golden("wire.json");
    let vectors = file.get("rejected_records").as_array();
    assert!(
        !vectors.is_empty(),
        "wire.json: `rejected_records` has no vectors"
    );
    for vector in vectors {
        let name = vector.get("name").as_str();
        match wire::decode_exact::<SomeDataStruct>(&bytes(vector.get("hex").as_str())) {
            Ok(record) => panic!("wire.json rejected_records {name:?}: decoded as {record:?}"),
            Err(error) => assert_eq!(
                variant(&error),
                vector.get("error").as_str(),
                "wire.json rejected_records {name:?}: {error}"
            ),
        }
    }
}

#[test]
fn contract_json_has_exactly_the_keys_checked_here() {
    let contract = golden("contract.json");
    assert_eq!(
        contract.keys(),
        [
            "about",
            "new_name",
            "labels",
            "result_size",
            "result_align",
            "exports"
        ],
        "a key added to contract.json needs a test here"
    );
    assert_eq!(
        contract.get("labels").keys(),
        ["pending", "done", "unknown"]
    );
}

#[test]
fn contract_constants_are_the_kernels() {
    let contract = golden("contract.json");
    assert_eq!(
        contract.get("new_name").as_str(),
        NEW_NAME,
        "contract.json new_name"
    );
    let labels = contract.get("labels");
    assert_eq!(
        labels.get("pending").as_str(),
        LABEL_PENDING,
        "contract.json labels.pending"
    );
    assert_eq!(
        labels.get("done").as_str(),
        LABEL_DONE,
        "contract.json labels.done"
    );
    assert_eq!(
        labels.get("unknown").as_str(),
        LABEL_UNKNOWN,
        "contract.json labels.unknown"
    );
    assert_eq!(
        contract.get("result_size").as_u64(),
        u64::from(RESULT_SIZE),
        "contract.json result_size"
    );
    assert_eq!(
        contract.get("result_align").as_u64(),
        u64::from(RESULT_ALIGN),
        "contract.json result_align"
    );
}

fn need(need: Need) -> &'static str {
    match need {
        Need::Required => "required",
        Need::Optional => "optional",
        Need::Tuned => "tuned",
    }
}

#[test]
fn the_export_table_is_the_kernels() {
    let contract = golden("contract.json");
    let listed: Vec<[&str; 3]> = contract
        .get("exports")
        .as_array()
        .iter()
        .map(|e| {
            [
                e.get("name").as_str(),
                e.get("type").as_str(),
                e.get("need").as_str(),
            ]
        })
        .collect();
    let types: Vec<String> = EXPORTS.iter().map(|e| e.ty.to_string()).collect();
    let kernel: Vec<[&str; 3]> = EXPORTS
        .iter()
        .zip(&types)
        .map(|(e, ty)| [e.name, ty.as_str(), need(e.need)])
        .collect();
    assert_eq!(
        listed, kernel,
        "contract.json exports: [name, type, need] against wire::EXPORTS"
    );
}

#[test]
fn the_json_reader_refuses_what_it_does_not_understand() {
    for bad in [
        "",
        "{",
        "[1,]",
        "{\"a\" 1}",
        "\"\\x\"",
        "-1",
        "1.5",
        "tru",
        "{} {}",
        "\"\u{1}\"",
    ] {
        assert!(json::parse(bad).is_err(), "{bad:?} parsed");
    }
    let value =
        json::parse(r#" {"a": [true, false, null, 12], "b": "\u00e9\ud83e\udd80\n"} "#).unwrap();
    assert_eq!(value.get("b").as_str(), "é🦀\n");
    assert_eq!(value.get("a").as_array()[3].as_u64(), 12);
}

/// A small JSON reader for the golden files, and a serde `Deserializer` over its values with
/// serde's JSON conventions (structs as objects, enums as `"Unit"` or `{"Variant": payload}`),
/// so the kernel's own `Deserialize` impls read the vectors. The kernel has no JSON dependency,
/// and this test does not add one.
mod json {
    use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
    use serde::de::{self, Error as _, IntoDeserializer, Unexpected, Visitor};

    /// A JSON value; numbers are unsigned integers, all the golden files need.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Json {
        Null,
        Bool(bool),
        Number(u64),
        String(String),
        Array(Vec<Json>),
        /// Keys in file order.
        Object(Vec<(String, Json)>),
    }

    impl Json {
        /// The value of `key` in an object; panics, naming the key, when there is none.
        pub fn get(&self, key: &str) -> &Json {
            match self {
                Json::Object(entries) => match entries.iter().find(|(k, _)| k == key) {
                    Some((_, value)) => value,
                    None => panic!("no `{key}` in {self:?}"),
                },
                other => panic!("looked up `{key}` in {other:?}, which is not an object"),
            }
        }

        pub fn keys(&self) -> Vec<&str> {
            match self {
                Json::Object(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
                other => panic!("{other:?} is not an object"),
            }
        }

        pub fn as_str(&self) -> &str {
            match self {
                Json::String(s) => s,
                other => panic!("{other:?} is not a string"),
            }
        }

        pub fn as_u64(&self) -> u64 {
            match self {
                Json::Number(n) => *n,
                other => panic!("{other:?} is not a number"),
            }
        }

        pub fn as_array(&self) -> &[Json] {
            match self {
                Json::Array(items) => items,
                other => panic!("{other:?} is not an array"),
            }
        }

        fn unexpected(&self) -> Unexpected<'_> {
            match self {
                Json::Null => Unexpected::Unit,
                Json::Bool(b) => Unexpected::Bool(*b),
                Json::Number(n) => Unexpected::Unsigned(*n),
                Json::String(s) => Unexpected::Str(s),
                Json::Array(_) => Unexpected::Seq,
                Json::Object(_) => Unexpected::Map,
            }
        }
    }

    /// Parses a whole JSON text.
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut parser = Parser { text, pos: 0 };
        let value = parser.value(0)?;
        parser.whitespace();
        if parser.pos != text.len() {
            return Err(parser.error("text after the value"));
        }
        Ok(value)
    }

    struct Parser<'a> {
        text: &'a str,
        pos: usize,
    }

    impl Parser<'_> {
        fn error(&self, what: &str) -> String {
            let line = self.text[..self.pos].matches('\n').count() + 1;
            format!("line {line}: {what}")
        }

        fn peek(&self) -> Option<char> {
            self.text[self.pos..].chars().next()
        }

        fn next(&mut self) -> Result<char, String> {
            let c = self
                .peek()
                .ok_or_else(|| self.error("unexpected end of the text"))?;
            self.pos += c.len_utf8();
            Ok(c)
        }

        fn whitespace(&mut self) {
            while let Some(' ' | '\t' | '\n' | '\r') = self.peek() {
                self.pos += 1;
            }
        }

        fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
            if self.text[self.pos..].starts_with(word) {
                self.pos += word.len();
                Ok(value)
            } else {
                Err(self.error("unexpected characters"))
            }
        }

        fn value(&mut self, depth: usize) -> Result<Json, String> {
            if depth > 64 {
                return Err(self.error("nested too deeply"));
            }
            self.whitespace();
            match self.peek() {
                Some('{') => self.object(depth),
                Some('[') => self.array(depth),
                Some('"') => self.string().map(Json::String),
                Some('t') => self.literal("true", Json::Bool(true)),
                Some('f') => self.literal("false", Json::Bool(false)),
                Some('n') => self.literal("null", Json::Null),
                Some('0'..='9') => self.number(),
                Some(c) => Err(self.error(&format!(
                    "unexpected {c:?} (numbers must be unsigned integers)"
                ))),
                None => Err(self.error("unexpected end of the text")),
            }
        }

        fn number(&mut self) -> Result<Json, String> {
            let start = self.pos;
            while let Some('0'..='9') = self.peek() {
                self.pos += 1;
            }
            if let Some('.' | 'e' | 'E') = self.peek() {
                return Err(self.error("only unsigned integers are supported"));
            }
            self.text[start..self.pos]
                .parse()
                .map(Json::Number)
                .map_err(|e| self.error(&e.to_string()))
        }

        fn string(&mut self) -> Result<String, String> {
            self.next()?; // the opening quote
            let mut out = String::new();
            loop {
                match self.next()? {
                    '"' => return Ok(out),
                    '\\' => match self.next()? {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => out.push(self.escaped_char()?),
                        c => return Err(self.error(&format!("unknown escape \\{c}"))),
                    },
                    c if c < ' ' => return Err(self.error("a control character in a string")),
                    c => out.push(c),
                }
            }
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let digits = self
                .text
                .get(self.pos..self.pos + 4)
                .ok_or_else(|| self.error("a short \\u escape"))?;
            let value =
                u32::from_str_radix(digits, 16).map_err(|_| self.error("a bad \\u escape"))?;
            self.pos += 4;
            Ok(value)
        }

        /// The character of a `\uXXXX` escape (the `\u` read), joining a surrogate pair.
        fn escaped_char(&mut self) -> Result<char, String> {
            let first = self.hex4()?;
            let code = if (0xd800..0xdc00).contains(&first) {
                if !self.text[self.pos..].starts_with("\\u") {
                    return Err(self.error("a lone high surrogate"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xdc00..0xe000).contains(&second) {
                    return Err(self.error("a high surrogate without its low surrogate"));
                }
                0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
            } else {
                first
            };
            char::from_u32(code).ok_or_else(|| self.error("a lone low surrogate"))
        }

        fn array(&mut self, depth: usize) -> Result<Json, String> {
            self.next()?; // [
            let mut items = Vec::new();
            self.whitespace();
            if self.peek() == Some(']') {
                self.pos += 1;
                return Ok(Json::Array(items));
            }
            loop {
                items.push(self.value(depth + 1)?);
                self.whitespace();
                match self.next()? {
                    ',' => {}
                    ']' => return Ok(Json::Array(items)),
                    _ => return Err(self.error("expected , or ]")),
                }
            }
        }

        fn object(&mut self, depth: usize) -> Result<Json, String> {
            self.next()?; // {
            let mut entries: Vec<(String, Json)> = Vec::new();
            self.whitespace();
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(Json::Object(entries));
            }
            loop {
                self.whitespace();
                if self.peek() != Some('"') {
                    return Err(self.error("expected a key"));
                }
                let key = self.string()?;
                if entries.iter().any(|(k, _)| *k == key) {
                    return Err(self.error(&format!("the key {key:?} twice")));
                }
                self.whitespace();
                if self.next()? != ':' {
                    return Err(self.error("expected :"));
                }
                entries.push((key, self.value(depth + 1)?));
                self.whitespace();
                match self.next()? {
                    ',' => {}
                    '}' => return Ok(Json::Object(entries)),
                    _ => return Err(self.error("expected , or }")),
                }
            }
        }
    }

    type Error = de::value::Error;

    impl<'de> IntoDeserializer<'de, Error> for Json {
        type Deserializer = Self;

        fn into_deserializer(self) -> Self {
            self
        }
    }

    impl<'de> de::Deserializer<'de> for Json {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self {
                Json::Null => visitor.visit_unit(),
                Json::Bool(b) => visitor.visit_bool(b),
                Json::Number(n) => visitor.visit_u64(n),
                Json::String(s) => visitor.visit_string(s),
                Json::Array(items) => {
                    let mut seq = SeqDeserializer::new(items.into_iter());
                    let value = visitor.visit_seq(&mut seq)?;
                    seq.end()?;
                    Ok(value)
                }
                Json::Object(entries) => {
                    let mut map = MapDeserializer::new(entries.into_iter());
                    let value = visitor.visit_map(&mut map)?;
                    map.end()?;
                    Ok(value)
                }
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self {
                Json::Null => visitor.visit_none(),
                other => visitor.visit_some(other),
            }
        }

        /// `"Variant"` for a unit variant, `{"Variant": payload}` for the others.
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Error> {
            match self {
                Json::String(variant) => visitor.visit_enum(variant.into_deserializer()),
                Json::Object(entries) if entries.len() == 1 => visitor.visit_enum(
                    MapAccessDeserializer::new(MapDeserializer::new(entries.into_iter())),
                ),
                other => Err(Error::invalid_type(
                    other.unexpected(),
                    &"an enum: \"Variant\" or {\"Variant\": ...}",
                )),
            }
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct newtype_struct seq tuple
            tuple_struct map struct identifier ignored_any
        }
    }
}
