// SPDX-License-Identifier: Apache-2.0
//! The primary LPC bus's I/O space, where the UART and the BMC's BT interface sit.
use crate::arch::mmio::CiWindow;
use core::sync::atomic::{AtomicU64, Ordering};
use ipmi::IoPort;

/// The I/O window's real address, for the crash-time power path (0: none).
static IO_BASE: AtomicU64 = AtomicU64::new(0);

/// LPC I/O space (64 KiB): through the cache-inhibited OPB window (POWER9, POWER10), or
/// byte by byte through XSCOM's ECCB on POWER8, which has no window. One type for both,
/// so the firmware carries one copy of the BT driver.
pub enum LpcIo {
    Window(CiWindow),
    Eccb(crate::drivers::lpc_eccb::EccbIo),
}

impl IoPort for LpcIo {
    fn inb(&self, port: u16) -> u8 {
        match self {
            Self::Window(w) => w.read8(u64::from(port)),
            Self::Eccb(e) => e.inb(port),
        }
    }
    fn outb(&self, port: u16, val: u8) {
        match self {
            Self::Window(w) => w.write8(u64::from(port), val),
            Self::Eccb(e) => e.outb(port, val),
        }
    }
}

/// Creates the LPC I/O window.
///
/// # Safety
/// `io_base` must be the real address of the primary LPC bus's I/O space (64 KiB).
pub unsafe fn io(io_base: u64) -> LpcIo {
    IO_BASE.store(io_base, Ordering::Release);
    // SAFETY: forwarded.
    LpcIo::Window(unsafe { CiWindow::new(io_base, 0x1_0000) })
}

/// The I/O window `io` was last given (0: none).
pub fn io_base() -> u64 {
    IO_BASE.load(Ordering::Acquire)
}
