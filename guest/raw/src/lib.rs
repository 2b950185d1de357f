//! The hand-written ptr/len guest: a core module with no component-model machinery.
//!
//! It speaks the ABI documented in [`boundary_kernel::wire`]: the host asks [`ns_malloc`] for a
//! buffer, writes the postcard-encoded input into it, calls [`entry_point`] (or [`button_text`]),
//! reads the 8-byte result region it gets back, and frees all three allocations with
//! [`ns_free`]. The tuned exports ([`entry_point_borrowed`], [`entry_point_consume`],
//! [`input_buffer`] and [`entry_point_tuned`]) trade those steps for fewer calls and copies; the
//! benchmarks measure each.
//!
//! Where the seed chapter's guest had undefined behaviour, this one is defined:
//! - an alignment of 0 or one that is not a power of two is refused (`ns_malloc` returns 0,
//!   `ns_free` does nothing) instead of reaching `Layout::from_size_align_unchecked`;
//! - a zero-size allocation returns an aligned, non-null address and never reaches the allocator,
//!   whose contract forbids zero sizes;
//! - the output is a boxed slice, so its length is its capacity and freeing it by length frees it
//!   with the layout it was allocated with;
//! - input that does not decode comes back as `Err` inside the response, never as a panic.
//!
//! The exports take and return `usize` and pointers, which are `i32` on wasm32, so the same code
//! runs natively in this crate's tests.

use std::alloc::{self, Layout};
use std::ptr;

use boundary_kernel::SomeDataStruct;
use boundary_kernel::wire::{self, GuestError, Response};

/// The result region as the guest lays it out: the output's address, then its length.
///
/// On wasm32 this is 8 bytes aligned to 4, matching [`wire::RESULT_SIZE`] and
/// [`wire::RESULT_ALIGN`]; the host reads it as two little-endian `u32`s.
#[repr(C)]
#[derive(Debug)]
pub struct WasmSlice {
    /// Address of the output bytes.
    pub ptr: *mut u8,
    /// Number of output bytes; also the size the output was allocated with.
    pub len: usize,
}

#[cfg(target_arch = "wasm32")]
const _: () = {
    assert!(size_of::<WasmSlice>() == wire::RESULT_SIZE as usize);
    assert!(align_of::<WasmSlice>() == wire::RESULT_ALIGN as usize);
};

fn layout(size: usize, align: usize) -> Option<Layout> {
    // `from_size_align` refuses an alignment of 0, one that is not a power of two, and a size
    // that overflows `isize` once rounded up: the three ways the seed's unchecked call was UB.
    Layout::from_size_align(size, align).ok()
}

/// Allocates `size` bytes aligned to `align` and returns their address.
///
/// Returns null (0) when the layout is invalid or the allocator fails. A zero `size` returns
/// `align` itself: non-null and aligned, but not to be read, written, or passed to the allocator.
#[unsafe(no_mangle)]
pub extern "C" fn ns_malloc(size: usize, align: usize) -> *mut u8 {
    let Some(layout) = layout(size, align) else {
        return ptr::null_mut();
    };
    if layout.size() == 0 {
        return ptr::without_provenance_mut(layout.align());
    }
    // SAFETY: `layout` has a non-zero size (checked just above), which is `alloc`'s only
    // precondition. A null return is passed on to the host as 0.
    unsafe { alloc::alloc(layout) }
}

/// Frees what [`ns_malloc`] returned. Null pointers, zero sizes and invalid layouts are ignored.
///
/// # Safety
///
/// Unless it is null or `size` is 0, `ptr` must have been returned by `ns_malloc(size, align)` (or
/// be an output or result region of [`entry_point`] or [`button_text`], freed with the size and
/// alignment the ABI gives for it) and must not have been freed already.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ns_free(ptr: *mut u8, size: usize, align: usize) {
    let Some(layout) = layout(size, align) else {
        return;
    };
    if ptr.is_null() || layout.size() == 0 {
        return;
    }
    // SAFETY: the caller guarantees `ptr` came from the global allocator with exactly this
    // layout and is live; zero sizes and null pointers returned above.
    unsafe { alloc::dealloc(ptr, layout) }
}

/// Transforms one record: `postcard(SomeDataStruct)` in, `postcard(Response<SomeDataStruct>)`
/// out. Returns the address of a [`WasmSlice`], or null if even the response could not be
/// allocated.
///
/// # Safety
///
/// `[ptr, ptr + len)` must be readable for the duration of the call: the host passes a buffer it
/// got from `ns_malloc(len, 1)` and filled. When `len` is 0, `ptr` is not read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn entry_point(ptr: *const u8, len: usize) -> *mut WasmSlice {
    // SAFETY: forwarded from this function's contract.
    let input = unsafe { input_bytes(ptr, len) };
    let response = wire::decode_exact::<SomeDataStruct>(input).map(boundary_kernel::transform);
    respond(&response)
}

/// Labels a to-do button: `postcard(String)` in, `postcard(Response<String>)` out.
///
/// # Safety
///
/// As for [`entry_point`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn button_text(ptr: *const u8, len: usize) -> *mut WasmSlice {
    // SAFETY: forwarded from this function's contract.
    let input = unsafe { input_bytes(ptr, len) };
    let response = wire::decode_exact::<&str>(input).map(boundary_kernel::button_text);
    respond(&response)
}

/// Like [`entry_point`], with the same ABI, but decodes the input's strings as slices of the
/// input bytes instead of one owned `String` each: decoding allocates one `Vec` for the list and
/// nothing per name.
///
/// # Safety
///
/// As for [`entry_point`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn entry_point_borrowed(ptr: *const u8, len: usize) -> *mut WasmSlice {
    // SAFETY: forwarded from this function's contract.
    let input = unsafe { input_bytes(ptr, len) };
    respond(&transform_borrowed(input))
}

/// Like [`entry_point_borrowed`], and it also frees its input: the host does not call
/// `ns_free(ptr, len, 1)` afterwards, saving one call into the guest.
///
/// # Safety
///
/// Unless `len` is 0, `ptr` must have been returned by `ns_malloc(len, 1)`, be filled, and not be
/// freed already. After the call it is freed: the caller must neither read nor free it again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn entry_point_consume(ptr: *mut u8, len: usize) -> *mut WasmSlice {
    // SAFETY: forwarded from this function's contract; the slice is dropped before the free.
    let region = respond(&transform_borrowed(unsafe { input_bytes(ptr, len) }));
    // SAFETY: `ptr` came from `ns_malloc(len, 1)` and is live (the contract above); nothing
    // borrows it any more.
    unsafe { ns_free(ptr, len, 1) };
    region
}

/// Buffers the tuned exports reuse from call to call, so a steady stream of calls neither
/// allocates per call at the boundary nor grows memory.
#[derive(Debug)]
struct Tuned {
    /// The input buffer [`input_buffer`] hands out; the host writes each input into it.
    input: Vec<u8>,
    /// The last output of [`entry_point_tuned`].
    output: Vec<u8>,
    /// Where the last output is, for the host to read.
    region: WasmSlice,
}

thread_local! {
    static TUNED: std::cell::RefCell<Tuned> = const {
        std::cell::RefCell::new(Tuned {
            input: Vec::new(),
            output: Vec::new(),
            region: WasmSlice { ptr: ptr::null_mut(), len: 0 },
        })
    };
}

/// Returns the address of the guest's reusable input buffer, grown to at least `len` bytes, or
/// null if it cannot grow. The address stays valid, and the buffer keeps its size, until the next
/// call to `input_buffer`: the host may cache it and write any input of up to `len` bytes
/// there without calling into the guest again.
#[unsafe(no_mangle)]
pub extern "C" fn input_buffer(len: usize) -> *mut u8 {
    TUNED.with_borrow_mut(|tuned| {
        let missing = len.saturating_sub(tuned.input.len());
        if missing > 0 {
            if tuned.input.try_reserve_exact(missing).is_err() {
                return ptr::null_mut();
            }
            tuned.input.resize(len, 0);
        }
        tuned.input.as_mut_ptr()
    })
}

/// The tuned transform: decodes the first `len` bytes of the [`input_buffer`] with borrowed
/// strings, transforms, and encodes `postcard(Response<SomeDataStruct>)` into a buffer the guest
/// keeps, reserved once at the output's size. Returns the address of a [`WasmSlice`] over it.
///
/// The strings are passed through as bytes: this export does not check that they are UTF-8.
/// The host checks every string when it decodes the output, so invalid input still fails, as a
/// decode error of the output instead of the guest's own `Err`; the check runs once, at the
/// trust boundary, instead of twice.
///
/// The region and the output stay valid until the next call to `entry_point_tuned` or
/// `input_buffer`, and the host frees neither: one call per transform, and no memory growth
/// once the buffers are large enough. A `len` over the buffer's size is a decode error.
#[unsafe(no_mangle)]
pub extern "C" fn entry_point_tuned(len: usize) -> *const WasmSlice {
    TUNED.with_borrow_mut(|tuned| {
        let response = match tuned.input.get(..len) {
            Some(input) => transform_unchecked(input),
            None => Err(GuestError::Decode {
                message: format!(
                    "{len} bytes asked for, but the input buffer holds {}",
                    tuned.input.len()
                ),
            }),
        };
        // The output is the input plus one name and at most a few bytes of longer varints. The
        // buffer only ever grows (zeroed once, when it does), and `to_slice` copies each string
        // with one `memcpy` whatever the optimisation level: `to_extend` went byte by byte at
        // `opt-level = "s"`.
        let size = len + boundary_kernel::NEW_NAME.len() + 16;
        if tuned.output.len() < size {
            tuned.output.resize(size, 0);
        }
        let used = match postcard::to_slice(&response, &mut tuned.output) {
            Ok(used) => used.len(),
            Err(_) => {
                tuned.output = encode_response(&response);
                tuned.output.len()
            }
        };
        tuned.region = WasmSlice {
            ptr: tuned.output.as_mut_ptr(),
            len: used,
        };
        &raw const tuned.region
    })
}

/// The record with its strings borrowed from the input bytes. Same wire format as
/// [`SomeDataStruct`]: postcard encodes `&str` and `String` alike.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RecordRef<'a> {
    #[serde(borrow)]
    name: &'a str,
    #[serde(borrow)]
    names: Vec<&'a str>,
}

/// A string passed through as its bytes, unchecked: postcard encodes `&[u8]` through
/// `serialize_bytes` exactly as it encodes a `&str` (a varint length, then the bytes).
#[derive(Debug)]
struct Bytes<'a>(&'a [u8]);

impl serde::Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Bytes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Bytes<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("borrowed bytes")
            }
            fn visit_borrowed_bytes<E>(self, bytes: &'de [u8]) -> Result<Self::Value, E> {
                Ok(Bytes(bytes))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Bytes(s.as_bytes()))
            }
        }
        deserializer.deserialize_bytes(Visitor)
    }
}

/// The record with its strings as unchecked bytes borrowed from the input.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct RecordBytes<'a> {
    name: Bytes<'a>,
    names: Vec<Bytes<'a>>,
}

/// [`transform_borrowed`] without the UTF-8 check: the host checks the output.
fn transform_unchecked(input: &[u8]) -> Response<RecordBytes<'_>> {
    let mut record: RecordBytes<'_> = wire::decode_exact(input)?;
    record
        .names
        .push(Bytes(boundary_kernel::NEW_NAME.as_bytes()));
    Ok(record)
}

/// [`boundary_kernel::transform`] on borrowed strings: append [`boundary_kernel::NEW_NAME`].
/// The tests check it against the kernel's.
fn transform_borrowed(input: &[u8]) -> Response<RecordRef<'_>> {
    let mut record: RecordRef<'_> = wire::decode_exact(input)?;
    record.names.push(boundary_kernel::NEW_NAME);
    Ok(record)
}

/// # Safety
///
/// When `len` is non-zero, `[ptr, ptr + len)` must be readable and not written during `'a`.
unsafe fn input_bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: non-null and, by the caller's contract, valid for `len` reads for `'a`; `u8` has
    // no alignment requirement and every bit pattern is a valid `u8`.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

fn respond<T: serde::Serialize>(response: &Response<T>) -> *mut WasmSlice {
    // A boxed slice's capacity is its length: freeing `(ptr, len, 1)` matches its layout.
    let bytes = encode_response(response).into_boxed_slice();
    let len = bytes.len();
    let ptr = Box::into_raw(bytes).cast::<u8>();
    Box::into_raw(Box::new(WasmSlice { ptr, len }))
}

fn encode_response<T: serde::Serialize>(response: &Response<T>) -> Vec<u8> {
    match wire::encode(response) {
        Ok(bytes) => bytes,
        Err(e) => {
            let error: Response<()> = Err(GuestError::Encode {
                message: e.to_string(),
            });
            // An `Err` of a `String` always encodes; an empty output still reaches the host as
            // a decode error rather than a trap.
            wire::encode(&error).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls an export the way the host does, natively, and frees everything it allocated.
    fn call(
        export: unsafe extern "C" fn(*const u8, usize) -> *mut WasmSlice,
        input: &[u8],
    ) -> Vec<u8> {
        let buf = ns_malloc(input.len(), 1);
        assert!(!buf.is_null());
        // SAFETY: `buf` is a fresh allocation of `input.len()` bytes (or a dangling address when
        // the length is 0, in which case nothing is copied).
        unsafe { ptr::copy_nonoverlapping(input.as_ptr(), buf, input.len()) };
        // SAFETY: `buf` holds `input.len()` initialised bytes.
        let region = unsafe { export(buf, input.len()) };
        assert!(!region.is_null());
        assert_eq!(region.align_offset(align_of::<WasmSlice>()), 0);
        // SAFETY: `region` was just returned by the guest and is live.
        let WasmSlice { ptr: out, len } = unsafe { region.read() };
        // SAFETY: the guest promises `len` initialised bytes at `out`.
        let output = unsafe { std::slice::from_raw_parts(out, len) }.to_vec();
        // SAFETY: each pointer is freed once, with the layout the ABI gives for it.
        unsafe {
            ns_free(buf, input.len(), 1);
            ns_free(out, len, 1);
            ns_free(
                region.cast(),
                size_of::<WasmSlice>(),
                align_of::<WasmSlice>(),
            );
        }
        output
    }

    #[test]
    fn entry_point_transforms_the_example() {
        let input = wire::encode(&SomeDataStruct::example()).unwrap();
        let output = call(entry_point, &input);
        let response: Response<SomeDataStruct> = wire::decode_exact(&output).unwrap();
        assert_eq!(
            response,
            Ok(boundary_kernel::transform(SomeDataStruct::example()))
        );
    }

    #[test]
    fn button_text_labels_each_status() {
        for (status, label) in [
            ("PENDING", "edit"),
            ("done", "delete"),
            ("x", "an error has occurred"),
        ] {
            let output = call(button_text, &wire::encode(status).unwrap());
            let response: Response<String> = wire::decode_exact(&output).unwrap();
            assert_eq!(response, Ok(label.to_owned()));
        }
    }

    #[test]
    fn garbage_comes_back_as_an_error_value() {
        for input in [
            &b""[..],
            b"\xff\xff\xff\xff\x0f",
            b"\x02\xc3\x28\x00",
            b"\x00\x00extra",
        ] {
            let output = call(entry_point, input);
            let response: Response<SomeDataStruct> = wire::decode_exact(&output).unwrap();
            assert!(response.is_err(), "input {input:?} gave {response:?}");
        }
        let output = call(entry_point, b"\x00\x00extra");
        let response: Response<SomeDataStruct> = wire::decode_exact(&output).unwrap();
        assert_eq!(response, Err(GuestError::TrailingBytes { count: 5 }));
    }

    #[test]
    fn the_borrowed_exports_agree_with_the_kernel() {
        let records = [
            SomeDataStruct::example(),
            SomeDataStruct::default(),
            SomeDataStruct {
                name: "ä🦀".into(),
                names: (0..300).map(|i| format!("n{i}")).collect(),
            },
        ];
        for record in records {
            let input = wire::encode(&record).unwrap();
            let expected: Response<SomeDataStruct> = Ok(boundary_kernel::transform(record.clone()));
            let output = call(entry_point_borrowed, &input);
            assert_eq!(wire::decode_exact(&output), Ok(expected.clone()));

            let buf = ns_malloc(input.len(), 1);
            // SAFETY: `buf` is a fresh allocation of `input.len()` bytes.
            unsafe { ptr::copy_nonoverlapping(input.as_ptr(), buf, input.len()) };
            // SAFETY: `buf` came from `ns_malloc(len, 1)` and is filled; it is not used again.
            let region = unsafe { entry_point_consume(buf, input.len()) };
            // SAFETY: the region and its output are live until freed below.
            let WasmSlice { ptr: out, len } = unsafe { region.read() };
            // SAFETY: the guest promises `len` initialised bytes at `out`.
            let output = unsafe { std::slice::from_raw_parts(out, len) }.to_vec();
            // SAFETY: each pointer freed once with its ABI layout; the input was freed by the
            // export itself.
            unsafe {
                ns_free(out, len, 1);
                ns_free(
                    region.cast(),
                    size_of::<WasmSlice>(),
                    align_of::<WasmSlice>(),
                );
            }
            assert_eq!(wire::decode_exact(&output), Ok(expected.clone()));

            let buf = input_buffer(input.len());
            assert!(!buf.is_null());
            // SAFETY: `input_buffer` returned a buffer of at least `input.len()` bytes that
            // stays put until the next `input_buffer` call.
            unsafe { ptr::copy_nonoverlapping(input.as_ptr(), buf, input.len()) };
            let region = entry_point_tuned(input.len());
            // SAFETY: the region and its output are valid until the next tuned call.
            let output = unsafe {
                let WasmSlice { ptr: out, len } = region.read();
                std::slice::from_raw_parts(out, len).to_vec()
            };
            assert_eq!(wire::decode_exact(&output), Ok(expected));
        }
    }

    #[test]
    fn the_tuned_export_refuses_a_length_over_its_buffer() {
        let len = input_buffer(4);
        assert!(!len.is_null());
        let region = entry_point_tuned(1 << 20);
        // SAFETY: the region and its output are valid until the next tuned call.
        let output = unsafe {
            let WasmSlice { ptr: out, len } = region.read();
            std::slice::from_raw_parts(out, len).to_vec()
        };
        let response: Response<SomeDataStruct> = wire::decode_exact(&output).unwrap();
        assert!(matches!(response, Err(GuestError::Decode { .. })));
    }

    #[test]
    fn invalid_alignments_are_refused_not_undefined() {
        assert!(ns_malloc(8, 0).is_null());
        assert!(ns_malloc(8, 3).is_null());
        assert!(ns_malloc(usize::MAX, 8).is_null());
        // SAFETY: invalid layouts are ignored before any pointer is touched.
        unsafe { ns_free(ptr::without_provenance_mut(16), 8, 0) };
    }

    #[test]
    fn zero_size_allocations_are_aligned_and_never_freed() {
        for align in [1, 2, 4, 8, 64] {
            let p = ns_malloc(0, align);
            assert!(!p.is_null());
            assert_eq!(p.addr() % align, 0);
            // SAFETY: a zero-size free is a no-op by contract.
            unsafe { ns_free(p, 0, align) };
        }
    }
}
