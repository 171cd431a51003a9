// SPDX-License-Identifier: Apache-2.0
//! SCOM access and the timebase, as the crates that drive the cores through XSCOM see
//! them (`sreset`: direct controls; `hmi`: malfunction alert and core FIRs). The firmware
//! implements both over the chips' XSCOM windows and `mftb`; host tests over models.

/// How an XSCOM access failed: the PIB status the XSCOM engine reported in HMER (skiboot
/// `xscom_handle_error`), which the firmware's `Scom` has already retried where retrying
/// makes sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScomError {
    /// Status 1: still busy after the retries (`OPAL_XSCOM_BUSY`).
    Busy,
    /// Status 2: the chiplet is off or asleep (`OPAL_XSCOM_CHIPLET_OFF`): a gated core
    /// without special wakeup.
    ChipletOff,
    /// Status 3 (`OPAL_XSCOM_PARTIAL_GOOD`).
    PartialGood,
    /// Status 4: no such address (`OPAL_XSCOM_ADDR_ERROR`).
    Address,
    /// Status 5 (`OPAL_XSCOM_CLOCK_ERROR`).
    Clock,
    /// Status 6 (`OPAL_XSCOM_PARITY_ERROR`).
    Parity,
    /// Status 7 (`OPAL_XSCOM_TIMEOUT`).
    Timeout,
    /// A failure with no status (QEMU reports unmapped addresses that way), or no XSCOM
    /// window for the chip.
    Failed,
}

/// SCOM reads and writes by chip and PCB address.
pub trait Scom {
    fn read(&mut self, chip: u32, pcba: u64) -> Result<u64, ScomError>;
    fn write(&mut self, chip: u32, pcba: u64, value: u64) -> Result<(), ScomError>;
}

impl<S: Scom + ?Sized> Scom for &mut S {
    fn read(&mut self, chip: u32, pcba: u64) -> Result<u64, ScomError> {
        (**self).read(chip, pcba)
    }
    fn write(&mut self, chip: u32, pcba: u64, value: u64) -> Result<(), ScomError> {
        (**self).write(chip, pcba, value)
    }
}

/// The timebase of the calling thread.
pub trait Clock {
    /// The timebase (`mftb`): ticks from an arbitrary origin, never going backwards.
    fn now(&self) -> u64;
    /// Ticks per microsecond (512 on POWER9 and POWER10, whose timebase runs at 512 MHz).
    fn ticks_per_us(&self) -> u64;
    /// Called on each turn of a busy wait. The firmware can drop the thread's SMT
    /// priority here; a test clock moves time forward.
    fn pause(&self) {}
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> u64 {
        (**self).now()
    }
    fn ticks_per_us(&self) -> u64 {
        (**self).ticks_per_us()
    }
    fn pause(&self) {
        (**self).pause()
    }
}
