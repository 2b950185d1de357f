//! The Extism path against native Rust on the differential corpus: the golden vectors of
//! `kernel/golden/wire.json` and generated records (the kernel's proptest strategies), in both
//! encodings, for `transform` and `button_text`, non-ASCII included. Bad input gives the host an
//! error, never a panic, and the plugin keeps working after it.

use std::path::Path;

use boundary_kernel::strategies::{any_record, any_status, edge_records};
use boundary_kernel::wire;
use boundary_kernel::{SomeDataStruct, button_text, transform};
use boundary_peer_extism::{Encoding, Peer, PeerError, one_line};
use boundary_schema::workloads::workloads;
use proptest::prelude::*;
use serde_json::Value;

fn peer() -> Peer {
    Peer::new().expect("the embedded plugin loads")
}

/// `kernel/golden/wire.json`.
fn golden() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kernel/golden/wire.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn group<'a>(golden: &'a Value, name: &str) -> &'a [Value] {
    let vectors = golden[name].as_array().map_or(&[][..], Vec::as_slice);
    assert!(!vectors.is_empty(), "wire.json has no `{name}` vectors");
    vectors
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            u8::from_str_radix(std::str::from_utf8(pair).unwrap_or_default(), 16)
                .unwrap_or_else(|_| panic!("{text:?} is not hex"))
        })
        .collect()
}

fn assert_agrees(peer: &mut Peer, input: &SomeDataStruct) {
    let expected = transform(input.clone());
    for encoding in Encoding::ALL {
        let output = peer
            .transform(encoding, input)
            .unwrap_or_else(|e| panic!("{}: {}", encoding.name(), one_line(&e)));
        assert_eq!(output, expected, "{} on {input:.60?}", encoding.name());
    }
}

#[test]
fn golden_records_transform_as_native() {
    let golden = golden();
    let mut peer = peer();
    for vector in group(&golden, "records") {
        let record: SomeDataStruct =
            serde_json::from_value(vector["value"].clone()).expect("a record");
        assert_agrees(&mut peer, &record);
        // The bytes export speaks the golden encoding itself.
        let out = peer
            .call_bytes(
                "transform_bytes",
                &hex(vector["hex"].as_str().unwrap_or("")),
            )
            .expect("the golden bytes decode");
        assert_eq!(out, wire::encode(&transform(record)).expect("encodes"));
    }
}

#[test]
fn golden_strings_and_every_label_as_native() {
    let golden = golden();
    let mut peer = peer();
    let mut statuses: Vec<String> = group(&golden, "strings")
        .iter()
        .map(|v| v["value"].as_str().expect("a string").to_owned())
        .collect();
    statuses.extend(
        [
            "pending", "PeNdInG", "DONE", "done ", "pendıng", "ǅONE", "🦀", "\u{0}",
        ]
        .map(str::to_owned),
    );
    for status in &statuses {
        for encoding in Encoding::ALL {
            let label = peer
                .button_text(encoding, status)
                .unwrap_or_else(|e| panic!("{}: {}", encoding.name(), one_line(&e)));
            assert_eq!(
                label,
                button_text(status),
                "{} on {status:?}",
                encoding.name()
            );
        }
    }
}

#[test]
fn edge_records_and_the_workloads_transform_as_native() {
    let mut peer = peer();
    for input in edge_records()
        .iter()
        .chain(workloads().iter().map(|w| &w.input))
    {
        assert_agrees(&mut peer, input);
    }
}

#[test]
fn rejected_golden_bytes_are_errors_and_the_plugin_goes_on() {
    let golden = golden();
    let mut peer = peer();
    for vector in group(&golden, "rejected_records") {
        let bytes = hex(vector["hex"].as_str().unwrap_or(""));
        let error = peer
            .call_bytes("transform_bytes", &bytes)
            .expect_err(vector["name"].as_str().unwrap_or("a rejected record"));
        assert!(matches!(
            error,
            PeerError::Call {
                export: "transform_bytes",
                ..
            }
        ));
        assert_agrees(&mut peer, &SomeDataStruct::example());
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut peer = peer();
    let cases: [(&'static str, &[u8]); 8] = [
        ("transform", b""),
        ("transform", b"{\"name\": 1}"),
        (
            "transform",
            b"{\"name\": \"a\", \"names\": [], \"extra\": 0}",
        ),
        ("transform", b"\xff\xfe not json"),
        ("button_text", b"not a json string"),
        ("button_text_bytes", b"\xc3\x28 not utf-8"),
        ("transform_bytes", b"\x05name3\x02\x05name1"),
        ("no_such_export", b""),
    ];
    for (export, input) in cases {
        let error = peer
            .call_bytes(export, input)
            .expect_err("bad input must be refused");
        let line = one_line(&error);
        assert!(line.contains(export), "{line}");
        assert!(!line.contains('\n'));
        // The same plugin still answers correctly afterwards.
        assert_agrees(&mut peer, &SomeDataStruct::example());
    }
    // Trailing bytes after a valid record are refused too.
    let mut bytes = wire::encode(&SomeDataStruct::example()).expect("encodes");
    bytes.push(0);
    let error = peer
        .call_bytes("transform_bytes", &bytes)
        .expect_err("trailing bytes");
    assert!(
        one_line(&error).contains("unexpected bytes"),
        "{}",
        one_line(&error)
    );
}

#[test]
fn a_module_that_is_not_a_plugin_does_not_load() {
    let error = Peer::from_wasm(b"\0asm not really").expect_err("not wasm");
    assert!(matches!(error, PeerError::Load(_)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_records_and_statuses_agree_with_native(
        input in any_record(40),
        status in any_status(),
    ) {
        // One plugin for the whole run: reuse is part of what is tested.
        thread_local! {
            static PEER: std::cell::RefCell<Option<Peer>> = const { std::cell::RefCell::new(None) };
        }
        PEER.with(|cell| {
            let mut cell = cell.borrow_mut();
            let peer = cell.get_or_insert_with(peer);
            let expected = transform(input.clone());
            for encoding in Encoding::ALL {
                let output = peer.transform(encoding, &input)
                    .map_err(|e| TestCaseError::fail(one_line(&e)))?;
                prop_assert_eq!(&output, &expected, "{}", encoding.name());
                let label = peer.button_text(encoding, &status)
                    .map_err(|e| TestCaseError::fail(one_line(&e)))?;
                prop_assert_eq!(label.as_str(), button_text(&status), "{}", encoding.name());
            }
            Ok(())
        })?;
    }
}
