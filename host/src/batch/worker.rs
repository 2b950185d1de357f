//! What each worker thread owns: a [`Transform`] of one record, native Rust's
//! ([`NativeWorker`]) or one guest instance's ([`GuestWorker`]).

use crate::path::block_on;
use crate::{AnyGuest, AnyInstance, CallError, Guest as _, Instance as _, SomeDataStruct};

/// Transforms one record: what each worker thread owns.
pub trait Transform: Send + 'static {
    /// The path's name, as a failed line names it ([`super::LineError::Call`]).
    fn name(&self) -> &'static str;

    /// Transforms `record`.
    ///
    /// # Errors
    ///
    /// The call's [`CallError`]; the pipeline counts the line as bad input or as the guest's
    /// failure by its [`CallError::fault`].
    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, CallError>;
}

/// Native Rust's transform: the baseline the guests are compared with.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeWorker;

impl Transform for NativeWorker {
    fn name(&self) -> &'static str {
        "native"
    }

    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, CallError> {
        Ok(crate::native_transform(record))
    }
}

/// One instance of a guest, replaced by a fresh one after an error that leaves it unusable
/// ([`crate::Instance::is_reusable_after`]).
#[derive(Debug)]
pub struct GuestWorker {
    guest: AnyGuest,
    instance: Option<AnyInstance>,
}

impl GuestWorker {
    /// Instantiates `guest` for one worker.
    ///
    /// # Errors
    ///
    /// The instantiation's [`CallError`].
    pub fn new(guest: &AnyGuest) -> Result<Self, CallError> {
        let instance = block_on(guest.instantiate())?;
        Ok(Self {
            guest: guest.clone(),
            instance: Some(instance),
        })
    }
}

impl Transform for GuestWorker {
    fn name(&self) -> &'static str {
        self.guest.name()
    }

    fn transform(&mut self, record: SomeDataStruct) -> Result<SomeDataStruct, CallError> {
        let instance = match &mut self.instance {
            Some(instance) => instance,
            None => self.instance.insert(block_on(self.guest.instantiate())?),
        };
        match block_on(instance.transform(&record)) {
            Ok(called) => Ok(called.value),
            Err(error) => {
                if !instance.is_reusable_after(&error) {
                    self.instance = None;
                }
                Err(error)
            }
        }
    }
}
