//! The host's handling of what a ptr/len guest returns, against a fake guest whose behaviour is
//! the fuzz input: `ns_malloc` places the input at 1024, and `entry_point` returns the address
//! held in the input's first four bytes, so the input decides the result region and the output
//! it points at. Whatever it decides, the host returns a value or a typed error, and never
//! panics.
#![no_main]

use std::sync::OnceLock;

use boundary_host::{CallError, Guest, Limits, Load, RawGuest, Runtime};
use libfuzzer_sys::fuzz_target;

const FAKE_GUEST: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "ns_malloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "ns_free") (param i32 i32 i32))
  (func (export "entry_point") (param $ptr i32) (param $len i32) (result i32)
    (if (result i32) (i32.ge_u (local.get $len) (i32.const 4))
      (then (i32.load (local.get $ptr)))
      (else (i32.const 0)))))"#;

fn guest() -> &'static (tokio::runtime::Runtime, RawGuest) {
    static GUEST: OnceLock<(tokio::runtime::Runtime, RawGuest)> = OnceLock::new();
    GUEST.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio");
        let limits = Limits {
            max_output_bytes: 1 << 20,
            ..Limits::default()
        };
        let runtime = Runtime::new(limits).expect("engine");
        let bytes = wat::parse_str(FAKE_GUEST).expect("fake guest assembles");
        (rt, RawGuest::load(&runtime, &bytes).expect("fake guest loads"))
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 60_000 {
        return;
    }
    let (rt, guest) = guest();
    let result = rt.block_on(async {
        let mut instance = guest.instantiate().await?;
        instance.transform_bytes(data).await
    });
    match result {
        Ok(called) => assert!(called.traffic.bytes_out >= 8),
        Err(
            CallError::OutOfBounds { .. }
            | CallError::Misaligned { .. }
            | CallError::OutputTooLarge { .. }
            | CallError::Decode { .. }
            | CallError::Guest(_),
        ) => {}
        Err(other) => panic!("unexpected error class: {other}"),
    }
});
