// SPDX-License-Identifier: Apache-2.0
//! XSCOM: the chip's window onto the PCB (pervasive) registers of its units. On POWER9 and
//! POWER10 register `pcba` of a chip is the 8-byte word at `xscom_base | pcba << 3`
//! (skiboot `hw/xscom.c`, QEMU `hw/ppc/pnv_xscom.c`).
//!
//! `read`/`write` trust the access (the XIVE and PSI set-up at boot, on registers every
//! machine has). `read_checked`/`write_checked` look at the thread's HMER afterwards, as
//! skiboot's `xscom_read` does: bit 8 says the access failed, bits 21:23 why (QEMU sets
//! bit 8 with status 0 for an address nothing decodes); a busy engine is retried. Not done:
//! skiboot's global XSCOM lock for erratum HW822317 and its engine-reset sequences.

use crate::arch::{
    self,
    mmio::{ci_load64, ci_store64},
};
use hal::bits::{ppc_bit, ppc_bitmask};

/// HMER's XSCOM bits: fail (8), done (9), status (21:23).
const HMER_XSCOM_FAIL: u64 = ppc_bit(8);
const HMER_XSCOM_DONE: u64 = ppc_bit(9);
const HMER_XSCOM_STATUS: u64 = ppc_bitmask(21, 23);
const HMER_XSCOM_ALL: u64 = HMER_XSCOM_FAIL | HMER_XSCOM_DONE | HMER_XSCOM_STATUS;
/// Tries of an access the engine answers busy (skiboot gives up after 3000).
const BUSY_RETRIES: u32 = 3000;

/// Why a checked access failed: HMER's status field (0 when QEMU gives none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XscomFailure(pub u8);

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

    /// `access` with the HMER status checked, busy answers retried.
    fn checked<T>(&self, mut access: impl FnMut() -> T) -> Result<T, XscomFailure> {
        for _ in 0..BUSY_RETRIES {
            arch::hmer_clear(HMER_XSCOM_ALL);
            let v = access();
            let hmer = arch::hmer();
            if hmer & HMER_XSCOM_FAIL == 0 {
                return Ok(v);
            }
            let status = ((hmer & HMER_XSCOM_STATUS) >> (63 - 23)) as u8;
            if status != 1 {
                return Err(XscomFailure(status));
            }
            arch::relax();
        }
        Err(XscomFailure(1))
    }

    pub fn read_checked(&self, pcba: u32) -> Result<u64, XscomFailure> {
        self.checked(|| self.read(pcba))
    }

    pub fn write_checked(&self, pcba: u32, value: u64) -> Result<(), XscomFailure> {
        self.checked(|| self.write(pcba, value))
    }
}
