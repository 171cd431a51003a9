// SPDX-License-Identifier: Apache-2.0
//! Cache-inhibited MMIO. The firmware runs with the MMU off, where ordinary loads and
//! stores are cacheable, so device registers need the `*cix` forms, with `sync` ordering
//! as skiboot's `include/io.h` does.

use core::arch::asm;

/// A window of device registers at a real address.
#[derive(Clone, Copy, Debug)]
pub struct CiWindow {
    base: u64,
    len: u64,
}

impl CiWindow {
    /// # Safety
    /// `base..base+len` must be device registers (from the device tree) that are safe to
    /// access with cache-inhibited byte loads and stores.
    pub const unsafe fn new(base: u64, len: u64) -> Self {
        Self { base, len }
    }

    #[inline(always)]
    pub fn read8(&self, offset: u64) -> u8 {
        assert!(offset < self.len, "MMIO read outside its window");
        let v: u64;
        // SAFETY: in the window the constructor vouched for.
        unsafe {
            asm!("sync", "lbzcix {0}, 0, {1}", out(reg) v, in(reg) self.base + offset, options(nostack))
        };
        v as u8
    }

    #[inline(always)]
    pub fn write8(&self, offset: u64, v: u8) {
        assert!(offset < self.len, "MMIO write outside its window");
        // SAFETY: in the window the constructor vouched for.
        unsafe {
            asm!("sync", "stbcix {0}, 0, {1}", in(reg) u64::from(v), in(reg) self.base + offset, options(nostack))
        };
    }

    /// Big-endian 4-byte load (LPC HC and OPB master registers accept only these).
    #[inline(always)]
    pub fn read32(&self, offset: u64) -> u32 {
        assert!(
            offset % 4 == 0 && offset + 4 <= self.len,
            "MMIO read outside its window"
        );
        let v: u64;
        // SAFETY: in the window the constructor vouched for, naturally aligned.
        unsafe {
            asm!("sync", "lwzcix {0}, 0, {1}", out(reg) v, in(reg) self.base + offset, options(nostack))
        };
        v as u32
    }

    /// Big-endian 4-byte store.
    #[inline(always)]
    pub fn write32(&self, offset: u64, v: u32) {
        assert!(
            offset % 4 == 0 && offset + 4 <= self.len,
            "MMIO write outside its window"
        );
        // SAFETY: in the window the constructor vouched for, naturally aligned.
        unsafe {
            asm!("sync", "stwcix {0}, 0, {1}", in(reg) u64::from(v), in(reg) self.base + offset, options(nostack))
        };
    }

    /// Fills `out` (a multiple of 4 bytes) with 4-byte loads from `offset` (4-aligned),
    /// one `sync` before the run rather than one per load: for memory-like windows
    /// (flash in LPC firmware space), where the loads need no order among themselves.
    pub fn read32_run(&self, offset: u64, out: &mut [u8]) {
        let len = out.len() as u64;
        assert!(
            offset % 4 == 0
                && len % 4 == 0
                && offset.checked_add(len).is_some_and(|e| e <= self.len),
            "MMIO read outside its window"
        );
        // SAFETY: orders the run after earlier accesses (a HIOMAP window just opened).
        unsafe { asm!("sync", options(nostack)) };
        for (i, word) in out.chunks_exact_mut(4).enumerate() {
            let v: u64;
            // SAFETY: in the window the constructor vouched for, naturally aligned.
            unsafe {
                asm!("lwzcix {0}, 0, {1}", out(reg) v, in(reg) self.base + offset + 4 * i as u64, options(nostack))
            };
            word.copy_from_slice(&(v as u32).to_be_bytes());
        }
    }

    /// Big-endian 8-byte load (PSIHB registers, ESB pages).
    #[inline(always)]
    pub fn read64(&self, offset: u64) -> u64 {
        assert!(
            offset % 8 == 0 && offset + 8 <= self.len,
            "MMIO read outside its window"
        );
        // SAFETY: in the window the constructor vouched for, naturally aligned.
        unsafe { ci_load64(self.base + offset) }
    }

    /// Big-endian 8-byte store.
    #[inline(always)]
    pub fn write64(&self, offset: u64, v: u64) {
        assert!(
            offset % 8 == 0 && offset + 8 <= self.len,
            "MMIO write outside its window"
        );
        // SAFETY: in the window the constructor vouched for, naturally aligned.
        unsafe { ci_store64(self.base + offset, v) }
    }
}

/// 8-byte cache-inhibited load at a real address (XSCOM, XIVE, PSI registers; ESBs; TIMA).
///
/// # Safety
/// `pa` must be an 8-byte aligned device register that tolerates a cache-inhibited load.
#[inline(always)]
pub unsafe fn ci_load64(pa: u64) -> u64 {
    let v: u64;
    // SAFETY: the caller vouches for `pa`.
    unsafe { asm!("sync", "ldcix {0}, 0, {1}", out(reg) v, in(reg) pa, options(nostack)) };
    v
}

/// 8-byte cache-inhibited store at a real address.
///
/// # Safety
/// As [`ci_load64`].
#[inline(always)]
pub unsafe fn ci_store64(pa: u64, v: u64) {
    // SAFETY: the caller vouches for `pa`.
    unsafe { asm!("sync", "stdcix {0}, 0, {1}", in(reg) v, in(reg) pa, options(nostack)) };
}

/// 1-byte cache-inhibited load at a real address (TIMA byte fields).
///
/// # Safety
/// As [`ci_load64`].
pub unsafe fn ci_load8(pa: u64) -> u8 {
    let v: u64;
    // SAFETY: the caller vouches for `pa`.
    unsafe { asm!("sync", "lbzcix {0}, 0, {1}", out(reg) v, in(reg) pa, options(nostack)) };
    v as u8
}

/// 1-byte cache-inhibited store at a real address.
///
/// # Safety
/// As [`ci_load64`].
pub unsafe fn ci_store8(pa: u64, v: u8) {
    // SAFETY: the caller vouches for `pa`.
    unsafe {
        asm!("sync", "stbcix {0}, 0, {1}", in(reg) u64::from(v), in(reg) pa, options(nostack))
    };
}

/// 2-byte cache-inhibited big-endian load at a real address (PHB config data).
///
/// # Safety
/// `pa` must be a 2-byte aligned device register that tolerates a cache-inhibited load.
pub unsafe fn ci_load16(pa: u64) -> u16 {
    let v: u64;
    // SAFETY: the caller vouches for `pa`.
    unsafe { asm!("sync", "lhzcix {0}, 0, {1}", out(reg) v, in(reg) pa, options(nostack)) };
    v as u16
}

/// 2-byte cache-inhibited big-endian store at a real address.
///
/// # Safety
/// As [`ci_load16`].
pub unsafe fn ci_store16(pa: u64, v: u16) {
    // SAFETY: the caller vouches for `pa`.
    unsafe {
        asm!("sync", "sthcix {0}, 0, {1}", in(reg) u64::from(v), in(reg) pa, options(nostack))
    };
}

/// 4-byte cache-inhibited big-endian load at a real address (PHB config data).
///
/// # Safety
/// `pa` must be a 4-byte aligned device register that tolerates a cache-inhibited load.
pub unsafe fn ci_load32(pa: u64) -> u32 {
    let v: u64;
    // SAFETY: the caller vouches for `pa`.
    unsafe { asm!("sync", "lwzcix {0}, 0, {1}", out(reg) v, in(reg) pa, options(nostack)) };
    v as u32
}

/// 4-byte cache-inhibited big-endian store at a real address.
///
/// # Safety
/// As [`ci_load32`].
pub unsafe fn ci_store32(pa: u64, v: u32) {
    // SAFETY: the caller vouches for `pa`.
    unsafe {
        asm!("sync", "stwcix {0}, 0, {1}", in(reg) u64::from(v), in(reg) pa, options(nostack))
    };
}
