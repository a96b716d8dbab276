//! Serial numbers that are unique forever: handed out from blocks that the store has durably
//! reserved before the first number of the block is used.
//!
//! A restart (or a crash) abandons the rest of the current block; the next process starts
//! after the highest reservation, so a number is never issued twice. When a block is half
//! used the allocator asks the store for the next one, which it reserves in the same
//! transaction as a batch of token records; waiting for it is rare.

use std::{
    ops::Range,
    sync::{Mutex, MutexGuard, PoisonError},
};

use tokio::sync::Notify;

/// Why no serial number could be handed out.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SerialError {
    /// The store could not reserve a new block.
    #[error("no serial number block could be reserved: {reason}")]
    ReservationFailed {
        /// The store's error, as text (shared between every waiting request).
        reason: String,
    },
    /// The store has shut down.
    #[error("the token store is closed")]
    Closed,
}

/// Hands out serial numbers from reserved blocks.
pub struct SerialAllocator {
    state: Mutex<State>,
    available: Notify,
    request_block: Box<dyn Fn() -> bool + Send + Sync>,
}

impl std::fmt::Debug for SerialAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("SerialAllocator")
            .field("current", &state.current)
            .field("next", &state.next)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct State {
    current: Range<u64>,
    block_len: u64,
    next: Option<Range<u64>>,
    requested: bool,
    failure: Option<String>,
}

impl SerialAllocator {
    /// An allocator starting with `first` (already durably reserved). `request_block` asks
    /// the store for another block, to be delivered through [`SerialAllocator::supply`]; it
    /// returns false if the store is gone.
    pub fn new(first: Range<u64>, request_block: Box<dyn Fn() -> bool + Send + Sync>) -> Self {
        let block_len = first.end.saturating_sub(first.start).max(1);
        Self {
            state: Mutex::new(State {
                current: first,
                block_len,
                next: None,
                requested: false,
                failure: None,
            }),
            available: Notify::new(),
            request_block,
        }
    }

    /// The next serial number: strictly greater than every one handed out before by this
    /// allocator, and never handed out by any process using the same store.
    ///
    /// # Errors
    /// [`SerialError`] when the current block is exhausted and no new one can be reserved.
    pub async fn next(&self) -> Result<u64, SerialError> {
        loop {
            // Registered before the state is checked, so a supply in between is not missed.
            let notified = self.available.notified();
            {
                let mut state = self.lock();
                if let Some(serial) = state.current.next() {
                    let left = state.current.end - state.current.start;
                    if left < state.block_len / 2 && state.next.is_none() {
                        self.request(&mut state)?;
                    }
                    return Ok(serial);
                }
                if let Some(next) = state.next.take() {
                    state.current = next;
                    continue;
                }
                if let Some(reason) = state.failure.take() {
                    return Err(SerialError::ReservationFailed { reason });
                }
                self.request(&mut state)?;
            }
            notified.await;
        }
    }

    /// Delivers a newly reserved block.
    pub fn supply(&self, block: Range<u64>) {
        let mut state = self.lock();
        state.requested = false;
        state.failure = None;
        state.block_len = block.end.saturating_sub(block.start).max(1);
        state.next = Some(block);
        drop(state);
        self.available.notify_waiters();
    }

    /// Reports that the requested block could not be reserved; waiting callers fail, and
    /// the next call asks again.
    pub fn supply_failed(&self, reason: String) {
        let mut state = self.lock();
        state.requested = false;
        state.failure = Some(reason);
        drop(state);
        self.available.notify_waiters();
    }

    fn request(&self, state: &mut State) -> Result<(), SerialError> {
        if !state.requested {
            if !(self.request_block)() {
                return Err(SerialError::Closed);
            }
            state.requested = true;
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is updated with single assignments; a panic elsewhere cannot leave it
        // half-written, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    use super::*;

    #[tokio::test]
    async fn serials_increase_across_blocks() {
        let requests = Arc::new(AtomicUsize::new(0));
        let r = requests.clone();
        let alloc = Arc::new(SerialAllocator::new(
            1..5,
            Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
                true
            }),
        ));
        assert_eq!(alloc.next().await.unwrap(), 1);
        assert_eq!(alloc.next().await.unwrap(), 2);
        assert_eq!(requests.load(Ordering::SeqCst), 0);
        assert_eq!(alloc.next().await.unwrap(), 3); // one left < 4/2: prefetch requested
        assert_eq!(requests.load(Ordering::SeqCst), 1);
        assert_eq!(alloc.next().await.unwrap(), 4);
        assert_eq!(requests.load(Ordering::SeqCst), 1, "asked once only");
        alloc.supply(100..104);
        assert_eq!(alloc.next().await.unwrap(), 100);
    }

    #[tokio::test]
    async fn a_waiter_is_woken_by_supply() {
        let alloc = Arc::new(SerialAllocator::new(1..1, Box::new(|| true)));
        let a = alloc.clone();
        let waiter = tokio::spawn(async move { a.next().await });
        tokio::task::yield_now().await;
        alloc.supply(10..20);
        assert_eq!(waiter.await.unwrap().unwrap(), 10);
    }

    #[tokio::test]
    async fn failure_reaches_the_waiter_and_the_next_call_retries() {
        let requests = Arc::new(AtomicUsize::new(0));
        let r = requests.clone();
        let alloc = Arc::new(SerialAllocator::new(
            1..1,
            Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
                true
            }),
        ));
        let a = alloc.clone();
        let waiter = tokio::spawn(async move { a.next().await });
        while requests.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        alloc.supply_failed("disk full".into());
        assert!(matches!(
            waiter.await.unwrap(),
            Err(SerialError::ReservationFailed { .. })
        ));
        let a = alloc.clone();
        let again = tokio::spawn(async move { a.next().await });
        while requests.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        alloc.supply(7..8);
        assert_eq!(again.await.unwrap().unwrap(), 7);
    }

    #[tokio::test]
    async fn closed_store_is_an_error() {
        let alloc = SerialAllocator::new(1..1, Box::new(|| false));
        assert!(matches!(alloc.next().await, Err(SerialError::Closed)));
    }
}
