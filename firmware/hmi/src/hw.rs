// SPDX-License-Identifier: Apache-2.0
//! What the handler needs from the machine: this thread's SPRs, SCOM, the chip TOD, the
//! timebase, and a way to kick sibling threads that sit in firmware. The firmware
//! implements these over `mfspr`/`mtspr` and XSCOM; [`crate::model`] implements them in
//! software.

/// The timebase and SCOM access are `hal`'s (the same traits the system-reset sequences
/// use), so the firmware implements them once.
pub use hal::scom::{Clock, Scom, ScomError};

/// The calling thread's timer and maintenance SPRs.
pub trait ThreadRegs {
    /// `mfspr HMER`.
    fn hmer(&mut self) -> u64;
    /// Clears `bits` of HMER: `mtspr HMER, !bits` (HMER writes are an AND).
    fn clear_hmer(&mut self, bits: u64);
    /// `mfspr TFMR`.
    fn tfmr(&mut self) -> u64;
    /// `mtspr TFMR`.
    fn write_tfmr(&mut self, v: u64);
    fn write_dec(&mut self, v: u64);
    fn write_hdec(&mut self, v: u64);
    fn write_purr(&mut self, v: u64);
    fn write_spurr(&mut self, v: u64);
    /// Writes the timebase (`mtspr TBU40`/TB), used only to zero an invalid TB before
    /// the resync.
    fn write_tb(&mut self, v: u64);
}

/// Why a [`ChipTod`] step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TodError {
    /// The TB state machine went to error (state 9) during load-TOD-mod.
    TbStateError,
    /// A step did not complete in time.
    Timeout,
    /// The chip TOD is not running or cannot be reached.
    TodNotRunning,
    /// A SCOM on the way failed.
    Scom(ScomError),
    /// This implementation cannot do it.
    Unsupported,
}

/// The chip TOD, as seen from the calling thread's core.
pub trait ChipTod {
    /// Reloads the core timebase from the chip TOD (hmi-mce-sreset.md §4.3, "TB resync"):
    /// load TOD mod (TFMR bit 16), make sure the chip TOD runs, point the TOD PIB master
    /// at this core, set TFMR bit 18, write the TOD "chip TOD to TB" register, wait for bit
    /// 18 to clear. Run by one thread of the core, with the TB errors already cleared.
    fn resync_core_timebase(&mut self) -> Result<(), TodError>;

    /// Handles chip TOD errors (TFMR 51/54/56) that left the timebase valid: read and
    /// clear the TOD error register, take the TOD from another chip if needed. The
    /// default reports it cannot.
    fn recover_tod_errors(&mut self) -> Result<(), TodError> {
        Err(TodError::Unsupported)
    }
}

/// The other threads of the calling thread's core.
pub trait Siblings {
    /// Make the threads of `mask` (bit i = thread i of the core) that are inside the
    /// firmware (parked, or in a stop state the firmware entered, not running the OS)
    /// call the HMI handler too: they take no HMI interrupt of their own there, and the
    /// core rendezvous needs every thread. Threads of `mask` that run the OS get the HMI
    /// from the hardware and must be left alone.
    fn wake_firmware_owned(&mut self, mask: u8);
}

/// A core whose threads are all run by the OS has nothing to kick.
pub struct NoSiblings;

impl Siblings for NoSiblings {
    fn wake_firmware_owned(&mut self, _mask: u8) {}
}
