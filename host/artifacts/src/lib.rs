//! The hostile guests the tests run: infinite loops, memory bombs, bad pointers, huge lengths,
//! undecodable output, other worlds. Each is a `fixtures/*.wat` file assembled by `build.rs`, as
//! wasmtime's `crates/test-programs/artifacts` does, so the library never builds them.

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
