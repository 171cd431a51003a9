// SPDX-License-Identifier: Apache-2.0
//! What the non-XIVE areas share: the raw call, the addresses OPAL must refuse, and a
//! guarded buffer wider than an [`Out`](super::Out).
//!
//! The invalid-pointer cases carry `bad_pointers` in their names: IBM's skiboot does not
//! check OS pointers (it writes through whatever it is given), so a run against skiboot
//! leaves them out with `conformance.skip=bad_pointers` or it corrupts the firmware.

use crate::opal::Ret;
use crate::runner::{CaseResult, Ctx};

/// Calls `token` (failing the case if it is absent).
///
/// The area modules pass as addresses only buffers they hold mutably for the call
/// ([`Out`](super::Out), [`Buf`]), their own read-only data, or addresses from
/// [`bad_pointers`], which OPAL must refuse without writing.
pub fn call(cx: &Ctx, token: u64, args: &[u64]) -> CaseResult<Ret> {
    // SAFETY: see above; a firmware that writes through a bad pointer corrupts only
    // itself or memory no one uses (beyond RAM), which is what the case detects.
    Ok(unsafe { cx.opal.call(token, args) }?)
}

/// Addresses no OPAL call may write through or read from (opal-boot-contract.md §3.2:
/// OPAL validates what the OS passes): NULL, inside OPAL's own memory (`opal-base-address`
/// .. `+ opal-runtime-size`), past the top of RAM, and an address with the top bits set
/// that is neither real nor the linear map.
pub fn bad_pointers(cx: &Ctx) -> [(&'static str, u64); 4] {
    let base = cx.sys.opal_base.unwrap_or(0x3000_0000);
    let inside = base + ((cx.sys.opal_size.unwrap_or(0x1_0000) / 2) & !0xfff);
    [
        ("NULL", 0),
        ("firmware memory", inside),
        ("beyond RAM", (cx.sys.ram_top() + 0x10_0000) & !0xfff),
        ("huge", 0xffff_ffff_ffff_f000),
    ]
}

const GUARD: u8 = 0x5a;

/// A buffer of `len` bytes (at most 112) followed by guard bytes, 8-byte aligned.
#[repr(C, align(8))]
pub struct Buf {
    bytes: [u8; 128],
    len: usize,
}

impl Buf {
    pub fn new(len: usize) -> Self {
        Buf {
            bytes: [GUARD; 128],
            len: len.min(112),
        }
    }

    pub fn addr(&mut self) -> u64 {
        self.bytes.as_mut_ptr() as u64
    }

    pub fn bytes(&self) -> [u8; 128] {
        // OPAL writes behind the compiler's back.
        // SAFETY: a live, aligned array.
        unsafe { core::ptr::read_volatile(&self.bytes) }
    }

    /// Puts `data` at `at` (what a call will read).
    pub fn set(&mut self, at: usize, data: &[u8]) {
        for (i, &b) in data.iter().enumerate() {
            // SAFETY: in bounds (indexing panics otherwise); volatile because OPAL reads it.
            unsafe { core::ptr::write_volatile(&mut self.bytes[at + i], b) };
        }
    }

    /// Whether nothing past `len` was written.
    pub fn guard_intact(&self) -> bool {
        self.bytes()[self.len..].iter().all(|&b| b == GUARD)
    }

    /// Whether nothing at all was written.
    pub fn untouched(&self) -> bool {
        self.bytes().iter().all(|&b| b == GUARD)
    }
}

/// Polls `f` while it answers OPAL_BUSY / OPAL_BUSY_EVENT, for up to two seconds,
/// calling `OPAL_POLL_EVENTS` in between (the documented retry protocol).
pub fn retry_busy(cx: &Ctx, mut f: impl FnMut() -> CaseResult<Ret>) -> CaseResult<Ret> {
    use opal_api::OpalError;
    let deadline = crate::arch::mftb() + cx.opal.ticks(2000);
    loop {
        let r = f()?;
        if !(r.is(OpalError::Busy) || r.is(OpalError::BusyEvent)) || crate::arch::mftb() > deadline
        {
            return Ok(r);
        }
        cx.opal.poll_events();
    }
}
