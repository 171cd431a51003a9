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
use core::sync::atomic::{AtomicU64, Ordering};
use hal::bits::{ppc_bit, ppc_bitmask};
use hal::{Clock, Scom, ScomError};

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
    power8: bool,
}

impl Xscom {
    /// # Safety
    /// `base` must be a chip's XSCOM window from the device tree (`ibm,xscom` `reg`).
    pub const unsafe fn new(base: u64) -> Self {
        Self {
            base,
            power8: false,
        }
    }

    /// A POWER8 chip's window, whose PCB addresses are spread differently: the low 4
    /// bits of `pcba` pick the word, the rest the 4 KiB page (QEMU `pnv_xscom_pcba`).
    /// Used only to say that POWER8 is not supported (`lpc_eccb`).
    ///
    /// # Safety
    /// As [`Xscom::new`].
    pub const unsafe fn new_power8(base: u64) -> Self {
        Self { base, power8: true }
    }

    fn addr(&self, pcba: u32) -> u64 {
        let pcba = u64::from(pcba);
        if self.power8 {
            self.base | (pcba & !0xf) << 4 | (pcba & 0xf) << 3
        } else {
            self.base | pcba << 3
        }
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

// ---- the chips' XSCOM windows, as `hal::Scom` (system reset, HMI decode) ----------

/// XSCOM windows by chip id (0: none), set once at boot.
const MAX_CHIPS: usize = 32;
static XSCOM_BASES: [AtomicU64; MAX_CHIPS] = [const { AtomicU64::new(0) }; MAX_CHIPS];

/// Records the chips' windows (boot, before anything uses `ChipScom`).
pub fn init_windows(chips: &[(u32, u64)]) {
    for &(id, base) in chips {
        if let Some(slot) = XSCOM_BASES.get(id as usize) {
            slot.store(base, Ordering::Release);
        }
    }
}

/// XSCOM over the chips the inventory found.
pub struct ChipScom;

impl ChipScom {
    fn window(chip: u32) -> Result<Xscom, ScomError> {
        let base = XSCOM_BASES
            .get(chip as usize)
            .map(|b| b.load(Ordering::Acquire))
            .unwrap_or(0);
        if base == 0 {
            return Err(ScomError::Failed);
        }
        // SAFETY: only `init_windows` stores bases, and only XSCOM windows from the
        // device tree.
        Ok(unsafe { Xscom::new(base) })
    }
}

/// HMER's XSCOM status (skiboot `xscom_handle_error`) as the sequences see it.
fn scom_error(f: XscomFailure) -> ScomError {
    match f.0 {
        1 => ScomError::Busy,
        2 => ScomError::ChipletOff,
        3 => ScomError::PartialGood,
        4 => ScomError::Address,
        5 => ScomError::Clock,
        6 => ScomError::Parity,
        7 => ScomError::Timeout,
        _ => ScomError::Failed,
    }
}

impl Scom for ChipScom {
    fn read(&mut self, chip: u32, pcba: u64) -> Result<u64, ScomError> {
        let pcba = u32::try_from(pcba).map_err(|_| ScomError::Address)?;
        Self::window(chip)?.read_checked(pcba).map_err(scom_error)
    }
    fn write(&mut self, chip: u32, pcba: u64, value: u64) -> Result<(), ScomError> {
        let pcba = u32::try_from(pcba).map_err(|_| ScomError::Address)?;
        Self::window(chip)?
            .write_checked(pcba, value)
            .map_err(scom_error)
    }
}

/// The timebase, for the bounded waits of the XSCOM sequences and the HMI rendezvous.
pub struct Timebase;

impl Clock for Timebase {
    fn now(&self) -> u64 {
        arch::timebase()
    }
    fn ticks_per_us(&self) -> u64 {
        (crate::console::TB_HZ.load(Ordering::Relaxed) / 1_000_000).max(1)
    }
    fn pause(&self) {
        arch::relax();
    }
}
