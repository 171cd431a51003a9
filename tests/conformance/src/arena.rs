// SPDX-License-Identifier: Apache-2.0
//! The RAM the payload gives away: pages donated to OPAL (`OPAL_XIVE_DONATE_PAGE`), queue
//! pages, scratch bitmaps. A bump allocator over one free range chosen from the device
//! tree (`conformance::memmap`), emptied before every case: each case starts with a reset
//! that makes the firmware let go of what it was given (xive.md §13.3 XIVE_RESET: "all
//! pages previously donated or given as queues may be reused by the OS afterwards").
//!
//! Rust never holds a reference into the arena; pages are physical addresses handed to
//! OPAL, and the few accesses the payload makes itself go through the methods here.

use conformance::memmap::Range;

use crate::runner::{CaseResult, Verdict};

pub struct Arena {
    range: Range,
    next: u64,
}

impl Arena {
    /// # Safety
    /// `range` must be RAM that neither the firmware nor anything else in the payload
    /// uses, for as long as the arena exists.
    pub unsafe fn new(range: Range) -> Self {
        Arena {
            range,
            next: range.start,
        }
    }

    pub fn range(&self) -> Range {
        self.range
    }

    /// Forgets every allocation.
    pub fn reset(&mut self) {
        self.next = self.range.start;
    }

    /// `size` bytes aligned to `align` (a power of two), not zeroed.
    pub fn alloc(&mut self, size: u64, align: u64) -> CaseResult<u64> {
        let start = self.next.checked_add(align - 1).map(|v| v & !(align - 1));
        match start.and_then(|s| Some((s, s.checked_add(size)?))) {
            Some((start, end)) if end <= self.range.end => {
                self.next = end;
                Ok(start)
            }
            _ => Err(Verdict::Fail(crate::msg!(
                "out of payload memory ({:#x} bytes wanted, {:#x} left)",
                size,
                self.range.end - self.next
            ))),
        }
    }

    /// `size` zeroed bytes aligned to `align`.
    pub fn alloc_zeroed(&mut self, size: u64, align: u64) -> CaseResult<u64> {
        let addr = self.alloc(size, align)?;
        // SAFETY: `alloc` returned an unused part of the arena, which only we touch.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, size as usize) };
        Ok(addr)
    }

    /// The big-endian `u32` at `addr`, read from memory (not from a value the compiler
    /// kept): how the payload looks at what a device or OPAL wrote into a page it was
    /// given, e.g. a XIVE event queue. `None` unless `addr` is 4-byte aligned and inside
    /// what the arena has handed out since its last reset.
    pub fn read_be32(&self, addr: u64) -> Option<u32> {
        let end = addr.checked_add(4)?;
        if addr % 4 != 0 || addr < self.range.start || end > self.next {
            return None;
        }
        // SAFETY: an aligned word inside an arena allocation; arena memory is RAM only the
        // payload and the firmware it was given to access (see `new`).
        Some(u32::from_be(unsafe {
            core::ptr::read_volatile(addr as *const u32)
        }))
    }

    /// A zeroed bitmap of `bits` bits.
    pub fn bitmap(&mut self, bits: u64) -> CaseResult<Bitmap> {
        let words = bits.div_ceil(64);
        let addr = self.alloc_zeroed(words * 8, 8)?;
        Ok(Bitmap { addr, bits })
    }
}

/// A bitmap in arena memory, valid until the arena is reset.
pub struct Bitmap {
    addr: u64,
    bits: u64,
}

impl Bitmap {
    /// Sets `bit`; returns whether it was already set, or `None` past the end.
    pub fn test_and_set(&mut self, bit: u64) -> Option<bool> {
        if bit >= self.bits {
            return None;
        }
        let word = (self.addr + bit / 64 * 8) as *mut u64;
        let mask = 1u64 << (bit % 64);
        // SAFETY: inside the bitmap's own arena allocation, which only it accesses.
        unsafe {
            let old = word.read();
            word.write(old | mask);
            Some(old & mask != 0)
        }
    }
}
