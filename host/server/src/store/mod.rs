//! The to-do store: one interface ([`TodoStore`]) the handlers call, its bound ([`TodoCap`]), and
//! its errors ([`StoreError`]). [`MemoryStore`] keeps the items in memory, [`SqliteStore`] in an
//! SQLite database file (the default of `boundary serve`).
//!
//! Every operation is one call that either happens whole or not at all, and may fail (a store on
//! disk or over the network has I/O errors): a request makes exactly one call. The cap is checked
//! inside that call, so a store that is full refuses an item without touching what it holds, and
//! two requests at once cannot both take the last place.

mod memory;
mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::{MIGRATIONS, OpenError, SCHEMA_VERSION, SqliteStore, default_db, default_db_path};

use crate::api::Todo;

/// A boxed cause, kept as an error's `source`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The default of `--max-todos`.
pub const DEFAULT_MAX_TODOS: usize = 10_000;
/// The default of `--max-todo-bytes`: a MiB of titles.
pub const DEFAULT_MAX_TODO_BYTES: u64 = 1 << 20;

/// The items a client can make the server keep, and the UTF-8 bytes of their titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TodoCap {
    /// Items at most: `--max-todos`.
    pub max_items: usize,
    /// Bytes of titles at most, over every item: `--max-todo-bytes`.
    pub max_bytes: u64,
}

impl Default for TodoCap {
    /// [`DEFAULT_MAX_TODOS`] items, [`DEFAULT_MAX_TODO_BYTES`] bytes of titles.
    fn default() -> Self {
        Self {
            max_items: DEFAULT_MAX_TODOS,
            max_bytes: DEFAULT_MAX_TODO_BYTES,
        }
    }
}

impl TodoCap {
    /// Whether a store holding `items` items with `bytes` bytes of titles has room for one more
    /// of `title_bytes`.
    ///
    /// # Errors
    ///
    /// [`Full`] naming the bound it would pass.
    pub fn check(self, items: usize, bytes: u64, title_bytes: usize) -> Result<(), Full> {
        let full = |bound| Full {
            cap: self,
            bound,
            items,
            bytes,
            title_bytes,
        };
        if items >= self.max_items {
            return Err(full(Bound::Items));
        }
        if bytes.saturating_add(title_bytes as u64) > self.max_bytes {
            return Err(full(Bound::Bytes));
        }
        Ok(())
    }
}

/// Which bound of [`TodoCap`] an item would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// [`TodoCap::max_items`].
    Items,
    /// [`TodoCap::max_bytes`].
    Bytes,
}

impl Bound {
    /// The `boundary serve` flag that sets this bound.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Items => "--max-todos",
            Self::Bytes => "--max-todo-bytes",
        }
    }
}

/// A store at its cap refused an item; what it holds is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the to-do list is full: {}, and the server's cap is {} items / {} bytes of titles; \
     delete an item to make room ({})",
    self.holding(), cap.max_items, cap.max_bytes, bound.flag()
)]
pub struct Full {
    /// The cap.
    pub cap: TodoCap,
    /// The bound the item would pass.
    pub bound: Bound,
    /// Items stored.
    pub items: usize,
    /// Bytes of titles stored.
    pub bytes: u64,
    /// The refused title's bytes.
    pub title_bytes: usize,
}

impl Full {
    fn holding(&self) -> String {
        match self.bound {
            Bound::Items => format!("it holds {} items", self.items),
            Bound::Bytes => format!(
                "its {} items hold {} bytes of titles and this one has {} more",
                self.items, self.bytes, self.title_bytes
            ),
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No item has this id.
    #[error("no to-do item with id {0}")]
    NotFound(u64),
    /// The store is at its cap.
    #[error(transparent)]
    Full(#[from] Full),
    /// The disk the store writes to is full: nothing was written.
    #[error("the to-do store's disk is full; delete items or free disk space")]
    NoSpace(#[source] BoxError),
    /// The store could not do its work (I/O, a corrupt file, a lost connection).
    #[error("the to-do store failed")]
    Backend(#[source] BoxError),
}

/// Where the to-do items live. Each method is one atomic operation: it happens whole, or fails
/// and changes nothing.
pub trait TodoStore: Send + Sync + std::fmt::Debug {
    /// Every item, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the store cannot be read.
    fn list(&self) -> Result<Vec<Todo>, StoreError>;

    /// Stores a pending item with this title and a fresh id, never used before.
    ///
    /// # Errors
    ///
    /// [`StoreError::Full`] at the cap (nothing is stored), [`StoreError::NoSpace`] when the
    /// disk is full, [`StoreError::Backend`] if the store cannot be written.
    fn create(&self, title: &str) -> Result<Todo, StoreError>;

    /// Marks an item done, and returns it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Backend`] as above.
    fn mark_done(&self, id: u64) -> Result<Todo, StoreError>;

    /// Deletes an item.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id, [`StoreError::Backend`] as above.
    fn delete(&self, id: u64) -> Result<(), StoreError>;

    /// The cap this store keeps to.
    fn cap(&self) -> TodoCap;
}

/// The items a new store starts with, so that the page has something to show.
pub const SEED: [(&str, crate::api::Status); 3] = [
    ("Write the WIT contract", crate::api::Status::Done),
    (
        "Transpile the component with jco",
        crate::api::Status::Pending,
    ),
    (
        "Compare both paths in the browser",
        crate::api::Status::Pending,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_the_item_past_either_bound_and_names_its_flag() {
        let cap = TodoCap {
            max_items: 3,
            max_bytes: 10,
        };
        assert_eq!(cap.check(2, 6, 4), Ok(()));
        let items = cap.check(3, 0, 1).expect_err("three items");
        assert_eq!(items.bound, Bound::Items);
        assert_eq!(
            items.to_string(),
            "the to-do list is full: it holds 3 items, and the server's cap is 3 items / 10 \
             bytes of titles; delete an item to make room (--max-todos)"
        );
        let bytes = cap.check(2, 6, 5).expect_err("eleven bytes");
        assert_eq!(bytes.bound, Bound::Bytes);
        assert_eq!(
            bytes.to_string(),
            "the to-do list is full: its 2 items hold 6 bytes of titles and this one has 5 \
             more, and the server's cap is 3 items / 10 bytes of titles; delete an item to make \
             room (--max-todo-bytes)"
        );
    }
}
