// SPDX-License-Identifier: Apache-2.0
//! XSCOM: the chip's window onto the PCB (pervasive) registers of its units. On POWER9 and
//! POWER10 register `pcba` of a chip is the 8-byte word at `xscom_base | pcba << 3`
//! (skiboot `hw/xscom.c`, QEMU `hw/ppc/pnv_xscom.c`).
//!
//! Not done: the HMER status check after each access (skiboot retries on XSCOM_BUSY and
//! reports XSCOM_FAIL); QEMU completes every access, and the only users so far are
//! the XIVE and PSI set-up at boot.

use crate::arch::mmio::{ci_load64, ci_store64};

/// One chip's XSCOM window.
#[derive(Clone, Copy, Debug)]
pub struct Xscom {
    base: u64,
}

impl Xscom {
    /// # Safety
    /// `base` must be a chip's XSCOM window from the device tree (`ibm,xscom` `reg`).
    pub const unsafe fn new(base: u64) -> Self {
        Self { base }
    }

    fn addr(&self, pcba: u32) -> u64 {
        self.base | u64::from(pcba) << 3
    }

    pub fn read(&self, pcba: u32) -> u64 {
        // SAFETY: inside the window `new` vouched for; every PCB address is 8-byte aligned.
        unsafe { ci_load64(self.addr(pcba)) }
    }

    pub fn write(&self, pcba: u32, value: u64) {
        // SAFETY: as in `read`.
        unsafe { ci_store64(self.addr(pcba), value) }
    }
}
