//! One instance of a ptr/len guest and its calls: encode the record, ask the guest for memory,
//! copy it in, call the export, check and decode what comes back, and free what was lent.

use std::ops::Range;

use boundary_kernel::SomeDataStruct;
use boundary_kernel::wire::{self, RESULT_ALIGN, RESULT_SIZE, ResultRegion};
use serde::de::DeserializeOwned;
use wasmtime::{Memory, Store, TypedFunc};

use super::{ExchangeFunc, RawState, guard};
use crate::error::CallError;
use crate::path::Instance;
use crate::{Called, Limits, Traffic};

/// The optional exports of the tuned ABI.
#[derive(Clone)]
pub(crate) struct TunedExports {
    pub(crate) borrowed: ExchangeFunc,
    pub(crate) consume: ExchangeFunc,
    pub(crate) input_buffer: TypedFunc<u32, u32>,
    pub(crate) entry_point_tuned: TypedFunc<u32, u32>,
}

/// How [`RawInstance::exchange`] treats the output and the input buffer.
#[derive(Debug, Clone, Copy, Default)]
struct Mode {
    /// Copy the output into a host `Vec` before decoding it, as the seed chapter did, instead of
    /// decoding straight from guest memory.
    copy_output: bool,
    /// The export frees its own input, so the host does not call `ns_free` on it.
    guest_frees_input: bool,
}

/// One instance of a ptr/len guest, for many calls.
///
/// After a call returns an error other than [`CallError::Guest`], drop the instance: the guest's
/// memory may be in any state.
pub struct RawInstance {
    pub(crate) store: Store<RawState>,
    pub(crate) memory: Memory,
    pub(crate) ns_malloc: TypedFunc<(u32, u32), u32>,
    pub(crate) ns_free: TypedFunc<(u32, u32, u32), ()>,
    pub(crate) entry_point: ExchangeFunc,
    pub(crate) button_text: Option<ExchangeFunc>,
    pub(crate) tuned: Option<TunedExports>,
    /// The tuned path's input buffer as `input_buffer` last returned it: address and size.
    pub(crate) input_buffer: Option<(u32, u32)>,
    pub(crate) limits: Limits,
}

impl std::fmt::Debug for RawInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawInstance").finish_non_exhaustive()
    }
}

impl Instance for RawInstance {
    /// Transforms a record through `entry_point`.
    ///
    /// # Errors
    ///
    /// Any [`CallError`]: see [`RawInstance::exchange`].
    async fn transform(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let entry_point = self.entry_point.clone();
        self.encode_and_exchange(entry_point, input, Mode::default())
            .await
    }

    /// Labels a button through `button_text`.
    ///
    /// # Errors
    ///
    /// [`CallError::MissingExport`] if the module has no `button_text`; otherwise as
    /// [`RawInstance::transform`].
    async fn button_text(&mut self, status: &str) -> Result<Called<String>, CallError> {
        let func = self
            .button_text
            .clone()
            .ok_or(CallError::MissingExport("button_text"))?;
        self.encode_and_exchange(func, status, Mode::default())
            .await
    }

    /// The guest's linear memory, in bytes, as far as it has grown. Flat across calls once
    /// warmed up: the guest frees what each call allocates.
    fn memory_bytes(&self) -> usize {
        self.store.data().guard.memory_bytes
    }
}

impl RawInstance {
    /// Transforms a record as the seed chapter did: serialize, `ns_malloc`, write,
    /// `entry_point`, read the region, copy the output into a host `Vec`, decode it, and free
    /// all three allocations. Checked like [`RawInstance::transform`].
    ///
    /// # Errors
    ///
    /// As [`RawInstance::transform`].
    pub async fn transform_seed(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let entry_point = self.entry_point.clone();
        let mode = Mode {
            copy_output: true,
            ..Mode::default()
        };
        self.encode_and_exchange(entry_point, input, mode).await
    }

    /// As [`RawInstance::transform`], through `entry_point_borrowed`: the guest decodes the
    /// input's strings as borrowed slices.
    ///
    /// # Errors
    ///
    /// [`CallError::MissingExport`] for a module without the tuned exports; otherwise as
    /// [`RawInstance::transform`].
    pub async fn transform_borrowed(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let func = self.tuned()?.borrowed;
        self.encode_and_exchange(func, input, Mode::default()).await
    }

    /// As [`RawInstance::transform_borrowed`], through `entry_point_consume`, which also frees
    /// its input: one `ns_free` fewer per call.
    ///
    /// # Errors
    ///
    /// As [`RawInstance::transform_borrowed`].
    pub async fn transform_consume(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let func = self.tuned()?.consume;
        let mode = Mode {
            guest_frees_input: true,
            ..Mode::default()
        };
        self.encode_and_exchange(func, input, mode).await
    }

    /// The tuned ptr/len path: one call into the guest per transform once its buffers are
    /// large enough.
    ///
    /// The host serializes the record straight into the guest's reusable input buffer (asking
    /// `input_buffer` for a larger one only when it does not fit), calls
    /// `entry_point_tuned(len)`, and decodes the output straight from guest memory. The guest
    /// decodes with borrowed strings and keeps its output buffer and result region, so nothing
    /// is freed and, on an instance kept across calls, memory stops growing. Every address and
    /// length is checked as on the other paths.
    ///
    /// # Errors
    ///
    /// [`CallError::MissingExport`] for a module without the tuned exports; otherwise as
    /// [`RawInstance::transform`].
    pub async fn transform_tuned(
        &mut self,
        input: &SomeDataStruct,
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let tuned = self.tuned()?;
        guard::arm(&mut self.store, guard);
        // Serialize straight into the buffer the guest lent last time, if it fits. Its size
        // was checked against `max_input_bytes` when it was asked for.
        let mut written = None;
        if let Some((ptr, size)) = self.input_buffer {
            let range = self.guest_range("the cached input buffer", ptr, size)?;
            let memory = &mut self.memory.data_mut(&mut self.store)[range];
            written = postcard::to_slice(input, memory)
                .ok()
                .map(|used| used.len());
        }
        let len = match written {
            // At most `size`, a `u32`.
            Some(len) => u32::try_from(len).unwrap_or(u32::MAX),
            None => {
                let bytes = wire::encode(input).map_err(CallError::Encode)?;
                let len = self.check_input_len(bytes.len())?;
                self.input_buffer = None;
                let ptr = tuned
                    .input_buffer
                    .call_async(&mut self.store, len)
                    .await
                    .map_err(|e| guard::classify(e, &self.store.data().guard))?;
                if ptr == 0 && len > 0 {
                    return Err(CallError::AllocFailed { size: len });
                }
                let range = self.guest_range("the input buffer from input_buffer", ptr, len)?;
                self.memory.data_mut(&mut self.store)[range].copy_from_slice(&bytes);
                self.input_buffer = Some((ptr, len));
                len
            }
        };
        let region_ptr = tuned
            .entry_point_tuned
            .call_async(&mut self.store, len)
            .await
            .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        let (region, out_range) = self.output(region_ptr)?;
        let response: Result<wire::Response<SomeDataStruct>, _> =
            wire::decode_exact(&self.memory.data(&self.store)[out_range]);
        let value = response.map_err(CallError::output_decode)??;
        Ok(Called {
            value,
            traffic: Traffic {
                guest_calls: self.store.data().guard.guest_calls,
                bytes_in: u64::from(len),
                bytes_out: u64::from(RESULT_SIZE) + u64::from(region.len),
            },
        })
    }

    /// The size of the guest's linear memory now, in bytes.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    fn tuned(&self) -> Result<TunedExports, CallError> {
        self.tuned
            .clone()
            .ok_or(CallError::MissingExport("entry_point_tuned"))
    }

    fn check_input_len(&self, len: usize) -> Result<u32, CallError> {
        let max_input = self.limits.max_input_bytes;
        u32::try_from(len)
            .ok()
            .filter(|len| *len <= max_input)
            .ok_or(CallError::InputTooLarge {
                len: len as u64,
                max: max_input,
            })
    }

    /// Reads and checks the result region at `region_ptr`: its alignment and bounds, then the
    /// output's length against the limit and its bounds.
    fn output(&self, region_ptr: u32) -> Result<(ResultRegion, Range<usize>), CallError> {
        if !region_ptr.is_multiple_of(RESULT_ALIGN) {
            return Err(CallError::Misaligned {
                ptr: region_ptr,
                align: RESULT_ALIGN,
            });
        }
        let region_range = self.guest_range("the result region", region_ptr, RESULT_SIZE)?;
        let mut region_bytes = [0; RESULT_SIZE as usize];
        region_bytes.copy_from_slice(&self.memory.data(&self.store)[region_range]);
        let region = ResultRegion::from_le_bytes(region_bytes);
        if region.len > self.limits.max_output_bytes {
            return Err(CallError::OutputTooLarge {
                len: Some(u64::from(region.len)),
                max: self.limits.max_output_bytes,
            });
        }
        let out_range = self.guest_range("the output", region.ptr, region.len)?;
        Ok((region, out_range))
    }

    /// Sends `bytes` to `entry_point` as they are, without encoding a record: for testing how a
    /// guest handles input no honest host would send (random bytes, huge length prefixes,
    /// trailing bytes).
    ///
    /// # Errors
    ///
    /// As [`RawInstance::transform`]; a guest that rejects the bytes gives [`CallError::Guest`].
    pub async fn transform_bytes(
        &mut self,
        bytes: &[u8],
    ) -> Result<Called<SomeDataStruct>, CallError> {
        let entry_point = self.entry_point.clone();
        self.exchange(entry_point, bytes, Mode::default()).await
    }

    /// Encodes `input` in the wire format, then makes one [`RawInstance::exchange`].
    ///
    /// # Errors
    ///
    /// [`CallError::Encode`] if the input does not encode; otherwise as
    /// [`RawInstance::exchange`].
    async fn encode_and_exchange<I: serde::Serialize + ?Sized, T: DeserializeOwned>(
        &mut self,
        func: ExchangeFunc,
        input: &I,
        mode: Mode,
    ) -> Result<Called<T>, CallError> {
        let bytes = wire::encode(input).map_err(CallError::Encode)?;
        self.exchange(func, &bytes, mode).await
    }

    /// One round trip of the ABI: allocate, write, call, check, read, decode, free.
    ///
    /// # Errors
    ///
    /// - [`CallError::InputTooLarge`] before anything is called;
    /// - [`CallError::AllocFailed`] when `ns_malloc` returns 0;
    /// - [`CallError::OutOfBounds`], [`CallError::Misaligned`] or [`CallError::OutputTooLarge`]
    ///   when the guest returns an address or length that does not hold;
    /// - [`CallError::Decode`] when the output is not a valid response;
    /// - [`CallError::Guest`] when the response is the guest's error;
    /// - [`CallError::Trap`] when guest code traps.
    async fn exchange<T: DeserializeOwned>(
        &mut self,
        func: ExchangeFunc,
        input: &[u8],
        mode: Mode,
    ) -> Result<Called<T>, CallError> {
        let len = self.check_input_len(input.len())?;
        guard::arm(&mut self.store, guard);

        let in_ptr = self
            .ns_malloc
            .call_async(&mut self.store, (len, 1))
            .await
            .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        if in_ptr == 0 && len > 0 {
            return Err(CallError::AllocFailed { size: len });
        }
        let in_range = self.guest_range("the input buffer from ns_malloc", in_ptr, len)?;
        self.memory.data_mut(&mut self.store)[in_range].copy_from_slice(input);

        let region_ptr = func
            .call_async(&mut self.store, (in_ptr, len))
            .await
            .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        let (region, out_range) = self.output(region_ptr)?;
        let response: Result<wire::Response<T>, _> = if mode.copy_output {
            // The seed's way: the output into a host buffer first, then decoded from there.
            let copied = self.memory.data(&self.store)[out_range].to_vec();
            wire::decode_exact::<wire::Response<T>>(&copied)
        } else {
            // Decoded straight from guest memory: the only copy is into the host's own values.
            wire::decode_exact(&self.memory.data(&self.store)[out_range])
        };

        let frees = [
            (in_ptr, len, 1),
            (region.ptr, region.len, 1),
            (region_ptr, RESULT_SIZE, RESULT_ALIGN),
        ];
        let frees = if mode.guest_frees_input {
            &frees[1..]
        } else {
            &frees[..]
        };
        for &(ptr, size, align) in frees {
            self.ns_free
                .call_async(&mut self.store, (ptr, size, align))
                .await
                .map_err(|e| guard::classify(e, &self.store.data().guard))?;
        }

        let value = response.map_err(CallError::output_decode)??;
        Ok(Called {
            value,
            traffic: Traffic {
                guest_calls: self.store.data().guard.guest_calls,
                bytes_in: u64::from(len),
                bytes_out: u64::from(RESULT_SIZE) + u64::from(region.len),
            },
        })
    }

    /// `[ptr, ptr + len)` as a range into guest memory, if it lies inside the memory as it is now.
    fn guest_range(
        &self,
        what: &'static str,
        ptr: u32,
        len: u32,
    ) -> Result<Range<usize>, CallError> {
        let memory_size = self.memory.data_size(&self.store);
        let out_of_bounds = || CallError::OutOfBounds {
            what,
            ptr,
            len,
            memory_size: memory_size as u64,
        };
        let start = usize::try_from(ptr).map_err(|_| out_of_bounds())?;
        let end = start
            .checked_add(usize::try_from(len).map_err(|_| out_of_bounds())?)
            .ok_or_else(out_of_bounds)?;
        if end > memory_size {
            return Err(out_of_bounds());
        }
        Ok(start..end)
    }
}
