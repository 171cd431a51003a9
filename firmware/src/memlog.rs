// SPDX-License-Identifier: Apache-2.0
//! The in-memory log: the last 64 KiB of everything the firmware printed, for post-mortem
//! reading with a debugger (`x/s &MEMLOG`) and, later, for `ibm,opal-memcons`.
//!
//! Lock-free: writers reserve space with one atomic add, so the crash path can log even
//! when another CPU died mid-write (the worst case is one garbled line).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

const SIZE: usize = 64 * 1024;

pub struct MemLog {
    buf: UnsafeCell<[u8; SIZE]>,
    /// Bytes ever written; the buffer holds the last SIZE of them.
    written: AtomicUsize,
}

// SAFETY: every byte is written by exactly one writer (its position comes from a unique
// fetch_add); readers are debuggers.
unsafe impl Sync for MemLog {}

#[no_mangle]
pub static MEMLOG: MemLog = MemLog {
    buf: UnsafeCell::new([0; SIZE]),
    written: AtomicUsize::new(0),
};

pub fn append(s: &[u8]) {
    let start = MEMLOG.written.fetch_add(s.len(), Ordering::Relaxed);
    let base = MEMLOG.buf.get() as *mut u8;
    for (i, &c) in s.iter().enumerate() {
        // SAFETY: index reduced modulo SIZE; this writer owns positions start..start+len.
        unsafe { base.add((start + i) % SIZE).write_volatile(c) };
    }
}
