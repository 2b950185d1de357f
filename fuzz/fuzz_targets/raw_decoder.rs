//! The raw guest's input handling, run natively: any bytes given to `entry_point` and
//! `button_text` come back as a well-formed response, never a panic, and a response that says
//! `Ok` is the kernel's answer for the decoded input.
#![no_main]

use boundary_guest_raw::{WasmSlice, button_text, entry_point, ns_free, ns_malloc};
use boundary_kernel::SomeDataStruct;
use boundary_kernel::wire::{self, Response};
use libfuzzer_sys::fuzz_target;

type Export = unsafe extern "C" fn(*const u8, usize) -> *mut WasmSlice;

/// Calls an export as the host does and returns the output bytes, freeing everything.
fn call(export: Export, input: &[u8]) -> Vec<u8> {
    let buf = ns_malloc(input.len(), 1);
    assert!(!buf.is_null());
    // SAFETY: `buf` has room for `input.len()` bytes (or is dangling with nothing copied).
    unsafe { std::ptr::copy_nonoverlapping(input.as_ptr(), buf, input.len()) };
    // SAFETY: `buf` holds `input.len()` initialised bytes for the duration of the call.
    let region = unsafe { export(buf, input.len()) };
    assert!(!region.is_null());
    // SAFETY: the guest returned a live, aligned region.
    let WasmSlice { ptr, len } = unsafe { region.read() };
    // SAFETY: the region describes `len` initialised bytes at `ptr`.
    let output = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
    // SAFETY: each allocation is freed once, with the layout it was made with.
    unsafe {
        ns_free(buf, input.len(), 1);
        ns_free(ptr, len, 1);
        ns_free(
            region.cast(),
            size_of::<WasmSlice>(),
            align_of::<WasmSlice>(),
        );
    }
    output
}

fuzz_target!(|data: &[u8]| {
    let output = call(entry_point, data);
    let response: Response<SomeDataStruct> =
        wire::decode_exact(&output).expect("the guest's response always decodes");
    match (response, wire::decode_exact::<SomeDataStruct>(data)) {
        (Ok(out), Ok(input)) => assert_eq!(out, boundary_kernel::transform(input)),
        (Err(_), Err(_)) => {}
        (response, input) => panic!("guest said {response:?} for input {input:?}"),
    }

    let output = call(button_text, data);
    let response: Response<String> =
        wire::decode_exact(&output).expect("the guest's response always decodes");
    match (response, wire::decode_exact::<&str>(data)) {
        (Ok(label), Ok(status)) => assert_eq!(label, boundary_kernel::button_text(status)),
        (Err(_), Err(_)) => {}
        (response, input) => panic!("guest said {response:?} for input {input:?}"),
    }
});
