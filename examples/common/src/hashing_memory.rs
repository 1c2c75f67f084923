//! Argon2's working memory, kept and reused (issue 23, finding 7).
//!
//! Each password check needs about 19 MiB of blocks. Allocated afresh per check, the memory
//! is freed into the allocator of whichever blocking thread ran it, and glibc keeps such
//! per-thread arenas: a login flood left a server at 850 MiB to 1.1 GiB although only a
//! handful of checks ever ran at once. Here a check borrows one buffer from a pool and hands
//! it back; the pool allocates a buffer only when none is free, so there are never more
//! buffers than checks that ran at the same moment, which the password gate bounds.

use std::sync::{Mutex, PoisonError};

use argon2::{Block, Params};

/// A pool of argon2 memory buffers of one size.
#[derive(Debug)]
pub(crate) struct HashingMemory {
    blocks_per_check: usize,
    free: Mutex<Vec<Box<[Block]>>>,
}

/// One buffer, borrowed from the pool until dropped.
pub(crate) struct Borrowed<'pool> {
    pool: &'pool HashingMemory,
    blocks: Option<Box<[Block]>>,
}

impl HashingMemory {
    /// A pool of buffers big enough for hashes made with `params`.
    #[must_use]
    pub(crate) fn for_params(params: &Params) -> Self {
        Self {
            blocks_per_check: params.block_count(),
            free: Mutex::new(Vec::new()),
        }
    }

    /// A free buffer, or a new one when every buffer is in use.
    pub(crate) fn borrow(&self) -> Borrowed<'_> {
        let reused = self.free_list().pop();
        let blocks = reused
            .unwrap_or_else(|| vec![Block::default(); self.blocks_per_check].into_boxed_slice());
        Borrowed {
            pool: self,
            blocks: Some(blocks),
        }
    }

    /// How many buffers are free.
    #[cfg(test)]
    pub(crate) fn free_buffers(&self) -> usize {
        self.free_list().len()
    }

    fn free_list(&self) -> std::sync::MutexGuard<'_, Vec<Box<[Block]>>> {
        // A panic while holding the lock cannot leave the list half-changed (push and pop
        // are single steps), so a poisoned lock is still a good list.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Borrowed<'_> {
    /// The blocks, for `Argon2::hash_password_into_with_memory`.
    pub(crate) fn blocks(&mut self) -> &mut [Block] {
        self.blocks.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        if let Some(blocks) = self.blocks.take() {
            self.pool.free_list().push(blocks);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_buffer_is_reused_and_only_concurrent_borrows_allocate() {
        let pool = HashingMemory::for_params(&Params::new(64, 1, 1, None).unwrap());
        let first_address = {
            let mut first = pool.borrow();
            assert_eq!(first.blocks().len(), 64);
            first.blocks().as_ptr()
        };
        assert_eq!(pool.free_buffers(), 1, "given back on drop");
        let mut again = pool.borrow();
        assert_eq!(again.blocks().as_ptr(), first_address, "the same buffer");
        let mut second = pool.borrow();
        assert_ne!(second.blocks().as_ptr(), again.blocks().as_ptr());
        drop((again, second));
        assert_eq!(pool.free_buffers(), 2, "two at once made two, no more");
    }
}
