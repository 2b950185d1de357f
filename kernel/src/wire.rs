//! The wire format of the hand-written ptr/len path.
//!
//! # The ABI
//!
//! A core module that speaks it exports:
//!
//! | export | signature | contract |
//! |---|---|---|
//! | `memory` | memory | the guest's linear memory |
//! | `ns_malloc` | `(size: i32, align: i32) -> i32` | allocates `size` bytes aligned to `align`; returns 0 when `align` is not a power of two or the allocation fails; a zero `size` returns a non-null, aligned address that must not be read or written |
//! | `ns_free` | `(ptr: i32, size: i32, align: i32)` | frees what `ns_malloc(size, align)` returned; ignores 0 and zero sizes |
//! | `entry_point` | `(ptr: i32, len: i32) -> i32` | reads `postcard(SomeDataStruct)` from `[ptr, ptr+len)`, returns the address of a [`ResultRegion`] over `postcard(Response<SomeDataStruct>)` |
//! | `button_text` | `(ptr: i32, len: i32) -> i32` | the same, for `postcard(String)` in and `postcard(Response<String>)` out |
//!
//! Optional exports of the tuned path (the host uses them when all four are present):
//!
//! | export | signature | contract |
//! |---|---|---|
//! | `entry_point_borrowed` | `(ptr: i32, len: i32) -> i32` | as `entry_point`; the guest decodes strings borrowed from the input bytes |
//! | `entry_point_consume` | `(ptr: i32, len: i32) -> i32` | as `entry_point_borrowed`, and it frees its input `(ptr, len, 1)` itself: the host must not |
//! | `input_buffer` | `(len: i32) -> i32` | the address of a guest-owned input buffer of at least `len` bytes, or 0; it stays put until the next `input_buffer` call, so the host may cache it and serialize straight into it |
//! | `entry_point_tuned` | `(len: i32) -> i32` | decodes the first `len` bytes of that buffer, returns the address of a [`ResultRegion`] over `postcard(Response<SomeDataStruct>)` in a guest-owned buffer; both stay valid until the next tuned call, and the host frees neither |
//!
//! A tuned call is therefore one call into the guest in the steady state, and memory stops
//! growing once the two buffers are as large as the largest input and output.
//!
//! One call, as the host makes it:
//!
//! 1. encode the input with [`encode`] and `ns_malloc(len, 1)` a buffer for it;
//! 2. write the bytes into guest memory and call `entry_point(ptr, len)`;
//! 3. read the 8-byte [`ResultRegion`] at the returned address (aligned to 4), then the output
//!    bytes it points at, checking every address and length against the memory size;
//! 4. decode the output with [`decode_exact`] into a [`Response`];
//! 5. free the input `(ptr, len, 1)`, the output `(ptr, len, 1)` and the region
//!    `(ptr, RESULT_SIZE, RESULT_ALIGN)`.
//!
//! The output is allocated exactly `len` bytes long, so freeing it with `len` frees it with the
//! layout it was allocated with. Errors the guest finds in its input travel as `Err` inside the
//! [`Response`]; the guest never traps on bad bytes.
//!
//! # The encoding
//!
//! [postcard](https://docs.rs/postcard) 1.x, a stable, documented, serde-based format: integers are
//! LEB128 varints, a string or a list is its length as a varint followed by its items, a struct is
//! its fields in order, and an enum is its variant index as a varint followed by its payload.

use serde::{Deserialize, Serialize};

/// Size in bytes of the [`ResultRegion`] that `entry_point` returns.
pub const RESULT_SIZE: u32 = 8;
/// Alignment in bytes of the [`ResultRegion`].
pub const RESULT_ALIGN: u32 = 4;

/// When the host needs an export of the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Every module must export it.
    Required,
    /// A module may leave it out; the calls that need it then fail with a missing export.
    Optional,
    /// Part of the tuned path: used when all the tuned exports are present.
    Tuned,
}

/// The type of an export of the ABI. Every address, length and size is an `i32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportType {
    /// A 32-bit linear memory, of any size.
    Memory,
    /// A function taking `params` `i32`s and returning `results` `i32`s.
    Func {
        /// How many `i32` parameters.
        params: usize,
        /// How many `i32` results (0 or 1).
        results: usize,
    },
}

impl std::fmt::Display for ExportType {
    /// `memory`, or a core function type in the form `inspect` prints: `func(i32, i32) -> i32`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Memory => f.write_str("memory"),
            Self::Func { params, results } => {
                let list = |n: usize| vec!["i32"; n].join(", ");
                write!(f, "func({})", list(params))?;
                match results {
                    0 => Ok(()),
                    1 => write!(f, " -> {}", list(1)),
                    n => write!(f, " -> ({})", list(n)),
                }
            }
        }
    }
}

/// One export of the ABI: its name, its type, and when the host needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Export {
    /// The export's name.
    pub name: &'static str,
    /// Its type.
    pub ty: ExportType,
    /// Whether a module must have it.
    pub need: Need,
}

const fn func(name: &'static str, params: usize, results: usize, need: Need) -> Export {
    Export {
        name,
        ty: ExportType::Func { params, results },
        need,
    }
}

/// The exports of the ABI, as the table at the top of this module states them. The host checks a
/// module against this table and `boundary inspect` prints it; nothing else restates it.
pub const EXPORTS: [Export; 9] = [
    Export {
        name: "memory",
        ty: ExportType::Memory,
        need: Need::Required,
    },
    func("ns_malloc", 2, 1, Need::Required),
    func("ns_free", 3, 0, Need::Required),
    func("entry_point", 2, 1, Need::Required),
    func("button_text", 2, 1, Need::Optional),
    func("entry_point_borrowed", 2, 1, Need::Tuned),
    func("entry_point_consume", 2, 1, Need::Tuned),
    func("input_buffer", 1, 1, Need::Tuned),
    func("entry_point_tuned", 1, 1, Need::Tuned),
];

/// The export of [`EXPORTS`] called `name`.
///
/// # Panics
///
/// If `name` is not in the table: a typo in the host, caught by its tests.
pub fn export(name: &str) -> Export {
    match EXPORTS.iter().find(|export| export.name == name) {
        Some(export) => *export,
        None => panic!("`{name}` is not an export of the ptr/len ABI"),
    }
}

/// What the guest returns: the value, or the error it found in its input.
pub type Response<T> = Result<T, GuestError>;

/// An error the guest reports through the ABI. Part of the contract, so it is encoded on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GuestError {
    /// The input bytes are not a valid encoding of the expected type.
    #[error("the guest could not decode its input: {message}")]
    Decode {
        /// What the decoder said.
        message: String,
    },
    /// The input decoded, but bytes were left over after it.
    #[error("the guest found {count} unexpected bytes after its input")]
    TrailingBytes {
        /// How many bytes were left over.
        count: u64,
    },
    /// The guest could not encode its output.
    #[error("the guest could not encode its output: {message}")]
    Encode {
        /// What the encoder said.
        message: String,
    },
}

/// The 8 bytes `entry_point` returns the address of: where the output is and how long it is.
///
/// Read it as two little-endian `u32`s with [`ResultRegion::from_le_bytes`], never by casting
/// memory to a struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultRegion {
    /// Address of the output in guest memory.
    pub ptr: u32,
    /// Length of the output in bytes.
    pub len: u32,
}

impl ResultRegion {
    /// Parses the region from its 8 little-endian bytes.
    pub fn from_le_bytes(bytes: [u8; RESULT_SIZE as usize]) -> Self {
        let [p0, p1, p2, p3, l0, l1, l2, l3] = bytes;
        Self {
            ptr: u32::from_le_bytes([p0, p1, p2, p3]),
            len: u32::from_le_bytes([l0, l1, l2, l3]),
        }
    }

    /// The 8 little-endian bytes of the region.
    pub fn to_le_bytes(self) -> [u8; RESULT_SIZE as usize] {
        let [p0, p1, p2, p3] = self.ptr.to_le_bytes();
        let [l0, l1, l2, l3] = self.len.to_le_bytes();
        [p0, p1, p2, p3, l0, l1, l2, l3]
    }
}

/// Encodes a value in the wire format.
///
/// # Errors
///
/// Fails only for types serde cannot encode without knowing a length up front; the types of this
/// crate always encode.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_allocvec(value)
}

/// Decodes a value that must fill `bytes` exactly.
///
/// Lengths inside the encoding are checked against the bytes that remain before anything is
/// allocated, so a huge length prefix fails instead of reserving memory.
///
/// # Errors
///
/// [`GuestError::Decode`] when the bytes are not a valid encoding of `T`, and
/// [`GuestError::TrailingBytes`] when bytes are left over.
pub fn decode_exact<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, GuestError> {
    let (value, rest) = postcard::take_from_bytes(bytes).map_err(|e| GuestError::Decode {
        message: e.to_string(),
    })?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(GuestError::TrailingBytes {
            count: rest.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SomeDataStruct;
    use proptest::prelude::*;

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode(&SomeDataStruct::example()).unwrap();
        bytes.extend_from_slice(b"xyz");
        assert_eq!(
            decode_exact::<SomeDataStruct>(&bytes),
            Err(GuestError::TrailingBytes { count: 3 })
        );
    }

    #[test]
    fn a_huge_length_prefix_fails_without_allocating() {
        // A name that claims u32::MAX bytes, followed by nothing.
        let bytes = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(matches!(
            decode_exact::<SomeDataStruct>(&bytes),
            Err(GuestError::Decode { .. })
        ));
        // A list that claims u32::MAX names.
        let bytes = [0x00, 0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(matches!(
            decode_exact::<SomeDataStruct>(&bytes),
            Err(GuestError::Decode { .. })
        ));
    }

    #[test]
    fn invalid_utf8_is_a_decode_error() {
        let bytes = [0x02, 0xc3, 0x28, 0x00];
        assert!(matches!(
            decode_exact::<SomeDataStruct>(&bytes),
            Err(GuestError::Decode { .. })
        ));
    }

    #[test]
    fn export_types_print_as_core_signatures() {
        assert_eq!(export("memory").ty.to_string(), "memory");
        assert_eq!(export("ns_malloc").ty.to_string(), "func(i32, i32) -> i32");
        assert_eq!(export("ns_free").ty.to_string(), "func(i32, i32, i32)");
        assert_eq!(export("input_buffer").ty.to_string(), "func(i32) -> i32");
        let tuned = EXPORTS.iter().filter(|e| e.need == Need::Tuned).count();
        assert_eq!(tuned, 4);
    }

    #[test]
    fn result_region_is_little_endian() {
        let region = ResultRegion {
            ptr: 0x0102_0304,
            len: 0x0a0b_0c0d,
        };
        let bytes = region.to_le_bytes();
        assert_eq!(bytes, [4, 3, 2, 1, 0x0d, 0x0c, 0x0b, 0x0a]);
        assert_eq!(ResultRegion::from_le_bytes(bytes), region);
    }

    proptest! {
        #[test]
        fn records_round_trip(name in ".*", names in proptest::collection::vec(".*", 0..20)) {
            let record = SomeDataStruct { name, names };
            let bytes = encode(&record).unwrap();
            prop_assert_eq!(decode_exact::<SomeDataStruct>(&bytes), Ok(record));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_exact::<SomeDataStruct>(&bytes);
        }
    }
}
