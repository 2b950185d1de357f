//! [`AppState`]: what the handlers share. The to-do store, one instance pool per registered
//! path, and the two lanes transforms are admitted into.

use std::sync::Arc;

use boundary_host::{AnyGuest, Pool, Runtime};

use crate::ServeError;
use crate::admission::{Capacity, Lane, LaneGate, LaneLoad};
use crate::store::{MemoryStore, TodoCap, TodoStore};

/// An instance whose linear memory grew past this is dropped after its call, not kept in the pool.
pub const MAX_IDLE_GUEST_MEMORY: usize = 16 << 20;

/// What a transform's blocking thread calls before the guest: see [`AppState::on_guest_call`].
type GuestCallHook = Arc<dyn Fn(Lane) + Send + Sync>;

/// What the handlers share: the to-do store, one instance pool per registered path, and the two
/// lanes transforms run in.
pub struct AppState {
    store: Arc<dyn TodoStore>,
    /// In registration order.
    pools: Vec<Pool<AnyGuest>>,
    small: LaneGate,
    large: LaneGate,
    hook: Option<GuestCallHook>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("pools", &self.pools)
            .field("small", &self.small)
            .field("large", &self.large)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Compiles and links every registered path's embedded guest once, then as
    /// [`AppState::with_guests`].
    ///
    /// # Errors
    ///
    /// [`ServeError::Load`] or [`ServeError::Start`] if an embedded guest does not work.
    pub async fn new(runtime: &Runtime, capacity: Capacity) -> Result<Self, ServeError> {
        let mut guests = Vec::new();
        for path in boundary_guests::paths() {
            guests.push(
                path.load_default(runtime)
                    .map_err(|source| ServeError::Load {
                        path: path.name(),
                        source,
                    })?,
            );
        }
        Self::with_guests(guests, capacity).await
    }

    /// Serves `guests` (one per path name; `POST /api/transform?path=NAME` picks by name),
    /// checks that each answers a call (which leaves one idle instance in its pool), and starts
    /// an in-memory to-do store with a few items, under the default [`TodoCap`]
    /// ([`AppState::with_store`] swaps it). Each pool keeps one idle instance per transform that
    /// can run at once.
    ///
    /// # Errors
    ///
    /// [`ServeError::Start`] if a guest does not answer.
    pub async fn with_guests(
        guests: Vec<AnyGuest>,
        capacity: Capacity,
    ) -> Result<Self, ServeError> {
        let capacity = capacity.at_least_one();
        let mut pools = Vec::new();
        for guest in guests {
            let name = guest.name();
            // Both lanes may call the same path at once.
            let pool = Pool::new(guest, 2 * capacity.max_in_flight)
                .with_max_idle_memory(MAX_IDLE_GUEST_MEMORY);
            pool.button_text("DONE")
                .await
                .map_err(|source| ServeError::Start { path: name, source })?;
            pools.push(pool);
        }
        Ok(Self {
            store: Arc::new(MemoryStore::seeded(TodoCap::default())),
            pools,
            small: LaneGate::new(Lane::Small, capacity),
            large: LaneGate::new(Lane::Large, capacity),
            hook: None,
        })
    }

    /// The same state, keeping its to-do items in `store`.
    #[must_use]
    pub fn with_store(self, store: impl TodoStore + 'static) -> Self {
        Self {
            store: Arc::new(store),
            ..self
        }
    }

    /// The same state, keeping its to-do items in `store`.
    #[must_use]
    pub fn with_boxed_store(self, store: Box<dyn TodoStore>) -> Self {
        Self {
            store: Arc::from(store),
            ..self
        }
    }

    /// Calls `hook` on a transform's blocking thread, with its lane, once it has its turn and
    /// before it parses its body and calls the guest. Meant for tests that need calls to meet (to
    /// prove they run at once) or to stay running (to fill a lane).
    #[must_use]
    pub fn on_guest_call(mut self, hook: impl Fn(Lane) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// What `lane` is doing now.
    pub fn load(&self, lane: Lane) -> LaneLoad {
        self.gate(lane).load()
    }

    /// The to-do store.
    pub fn store(&self) -> &Arc<dyn TodoStore> {
        &self.store
    }

    pub(crate) fn gate(&self, lane: Lane) -> &LaneGate {
        match lane {
            Lane::Small => &self.small,
            Lane::Large => &self.large,
        }
    }

    pub(crate) fn hook(&self) -> Option<&GuestCallHook> {
        self.hook.as_ref()
    }

    /// The pool of the path called `name`.
    pub(crate) fn pool(&self, name: &str) -> Option<usize> {
        self.pools
            .iter()
            .position(|pool| pool.guest().name() == name)
    }

    pub(crate) fn pool_at(&self, index: usize) -> &Pool<AnyGuest> {
        &self.pools[index]
    }

    /// `?path=a or ?path=b`: what `POST /api/transform` takes.
    pub(crate) fn path_choices(&self) -> String {
        let choices: Vec<String> = self
            .pools
            .iter()
            .map(|pool| format!("?path={}", pool.guest().name()))
            .collect();
        crate::or_list(&choices, "or")
    }
}
