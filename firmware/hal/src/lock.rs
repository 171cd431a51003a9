// SPDX-License-Identifier: Apache-2.0
//! The firmware's lock: a spinlock that is only ever taken with a bounded wait, knows
//! which CPU holds it, honours `OPAL_QUIESCE(LOCK_BREAK)`, and can be given up on behalf
//! of a CPU that will never come back (skiboot `core/lock.c`, with the crash-time lessons
//! of the Linux powerpc list: a crash path that waits for a lock held by a CPU the NMI
//! stopped never ends).
//!
//! What happens to a lock whose holder was reset in the middle of a call:
//! - later takers spin for their budget and get `None` (their OPAL call answers
//!   `OPAL_BUSY` or takes its lock-free fallback, never hangs);
//! - if the OS quiesced every other CPU and asked for LOCK_BREAK, takers get the data at
//!   once without owning the lock (no other CPU is inside OPAL then, so nothing races);
//! - if the holder comes back through `OPAL_RETURN_CPU`, its interrupted call is gone for
//!   good, and the firmware calls [`FwLock::release_abandoned`] for it.
//!
//! This is the one module of `hal` with `unsafe`: the `UnsafeCell` of the lock itself.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Set by `OPAL_QUIESCE(LOCK_BREAK)`, cleared by `OPAL_QUIESCE(RESUME)`.
static LOCK_BREAK: AtomicBool = AtomicBool::new(false);

/// Turns lock breaking on or off (the quiesce owner only).
pub fn set_lock_break(on: bool) {
    LOCK_BREAK.store(on, Ordering::SeqCst);
}

pub fn lock_break() -> bool {
    LOCK_BREAK.load(Ordering::SeqCst)
}

/// Who takes a lock: the holder's id is stored in the lock (0 means free), so ids are
/// PIR + 1. [`Holder::from_pir`] builds one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder(u32);

impl Holder {
    pub const fn from_pir(pir: u32) -> Self {
        Self(pir.wrapping_add(1) | (pir == u32::MAX) as u32)
    }
    pub const fn pir(self) -> u32 {
        self.0.wrapping_sub(1)
    }
}

pub struct FwLock<T> {
    /// 0: free; otherwise the holder's id.
    owner: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, and guards exist either for the one
// holder (owner CAS'd from 0 to its id) or, under lock break, while every other CPU is held
// outside OPAL by the quiesce protocol (see the module comment).
unsafe impl<T: Send> Sync for FwLock<T> {}
// SAFETY: moving the lock moves the data; no guard can be alive then.
unsafe impl<T: Send> Send for FwLock<T> {}

pub struct FwGuard<'a, T> {
    lock: &'a FwLock<T>,
    /// Handed out by lock break, without owning the lock: dropping it releases nothing.
    broken: bool,
}

impl<T> FwLock<T> {
    pub const fn new(value: T) -> Self {
        Self {
            owner: AtomicU32::new(0),
            data: UnsafeCell::new(value),
        }
    }

    /// One attempt.
    pub fn try_lock(&self, who: Holder) -> Option<FwGuard<'_, T>> {
        self.owner
            .compare_exchange(0, who.0, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| FwGuard {
                lock: self,
                broken: false,
            })
    }

    /// Spins at most `spins` times for the lock. Under lock break a held lock is entered
    /// at once without being taken. `None`: the holder did not let go in time (it may
    /// have died holding it); the caller must answer without the lock's data.
    pub fn lock_bounded(&self, who: Holder, spins: u32) -> Option<FwGuard<'_, T>> {
        for _ in 0..=spins {
            if let Some(g) = self.try_lock(who) {
                return Some(g);
            }
            if lock_break() {
                return Some(FwGuard {
                    lock: self,
                    broken: true,
                });
            }
            core::hint::spin_loop();
        }
        None
    }

    /// The holder, if any (diagnostics and the crash path).
    pub fn holder(&self) -> Option<Holder> {
        match self.owner.load(Ordering::Acquire) {
            0 => None,
            id => Some(Holder(id)),
        }
    }

    /// Frees the lock if `who` holds it: `who` left firmware for good in the middle of a
    /// call (OPAL_RETURN_CPU from inside an interrupted call), so it will never unlock.
    /// Returns whether it did. The data may be half-updated; the caller logs it.
    pub fn release_abandoned(&self, who: Holder) -> bool {
        self.owner
            .compare_exchange(who.0, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// Exclusive access without locking, through `&mut self` (boot-time set-up).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T> Deref for FwGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: see `Sync` above: this guard is the only live access.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for FwGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for FwGuard<'_, T> {
    fn drop(&mut self) {
        if !self.broken {
            self.lock.owner.store(0, Ordering::Release);
        }
    }
}

impl<T> FwGuard<'_, T> {
    /// Entered through lock break rather than owned.
    pub fn is_broken(&self) -> bool {
        self.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const A: Holder = Holder::from_pir(0);
    const B: Holder = Holder::from_pir(5);
    /// Tests that depend on the global lock-break flag run one at a time.
    static FLAG_USERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn holder_ids_are_never_zero() {
        assert_eq!(Holder::from_pir(0).pir(), 0);
        assert_eq!(Holder::from_pir(0x105).pir(), 0x105);
        assert_ne!(Holder::from_pir(u32::MAX).0, 0);
    }

    #[test]
    fn bounded_wait_gives_up_on_a_dead_holder() {
        let _serial = FLAG_USERS.lock().unwrap();
        let l = FwLock::new(5u32);
        let g = l.lock_bounded(A, 10).unwrap();
        assert_eq!(l.holder(), Some(A));
        assert!(l.lock_bounded(B, 1000).is_none(), "held: B must give up");
        drop(g);
        assert_eq!(l.holder(), None);
        assert_eq!(*l.lock_bounded(B, 0).unwrap(), 5);
    }

    #[test]
    fn abandoned_lock_is_released_only_for_its_holder() {
        let l = FwLock::new(());
        let g = l.try_lock(A).unwrap();
        core::mem::forget(g); // A was reset inside its call
        assert!(!l.release_abandoned(B));
        assert!(l.try_lock(B).is_none());
        assert!(l.release_abandoned(A));
        assert!(l.try_lock(B).is_some());
    }

    #[test]
    fn lock_break_enters_a_held_lock_without_taking_it() {
        let _serial = FLAG_USERS.lock().unwrap();
        let l = FwLock::new(1u32);
        core::mem::forget(l.try_lock(A).unwrap());
        set_lock_break(true);
        {
            let mut g = l.lock_bounded(B, 0).unwrap();
            assert!(g.is_broken());
            *g = 2;
        }
        set_lock_break(false);
        assert_eq!(l.holder(), Some(A), "breaking does not free the lock");
        assert!(l.lock_bounded(B, 10).is_none());
        assert!(l.release_abandoned(A));
        assert_eq!(*l.try_lock(B).unwrap(), 2);
    }

    #[test]
    fn mutual_exclusion_under_contention() {
        let _serial = FLAG_USERS.lock().unwrap();
        let l = Arc::new(FwLock::new(0u64));
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let l = Arc::clone(&l);
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut g = loop {
                            if let Some(g) = l.lock_bounded(Holder::from_pir(t), 1000) {
                                break g;
                            }
                        };
                        // A non-atomic read-modify-write: lost updates would show.
                        let v = *g;
                        std::hint::black_box(&v);
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*l.try_lock(A).unwrap(), 80_000);
    }
}
