// SPDX-License-Identifier: Apache-2.0
//! Board-level services behind OPAL calls: pollers, the real-time clock, power.

use opal_api::OpalResult;

pub trait Platform {
    /// Runs the firmware's pollers (console drain, BMC protocol progress).
    fn poll(&self);
    /// Event bits (`opal_api::event`) owned by the platform, e.g. RTC completion.
    fn pending_events(&self) -> u64;
    /// Seconds since the Unix epoch. `Err(BusyEvent)` while a read is in flight.
    fn rtc_read(&self) -> OpalResult<u64>;
    fn rtc_write(&self, unix_seconds: u64) -> OpalResult<()>;
    /// Starts powering the machine off; completes from later `poll` calls.
    fn power_down(&self, immediate: bool) -> OpalResult<()>;
    /// Starts a full reboot; completes from later `poll` calls.
    fn reboot(&self) -> OpalResult<()>;
    /// `Err(BusyEvent)` while firmware work that must finish before the host reboots
    /// (BMC requests, flash writes) is in flight.
    fn host_reboot_sync(&self) -> OpalResult<()>;
    /// Tells the nest MMU of `chip` (or every chip for `u64::MAX`) the partition table.
    /// `Err(Unsupported)` when the machine has no nest MMU (QEMU), as skiboot answers.
    fn nest_mmu_set_ptcr(&self, chip: u64, ptcr: u64) -> OpalResult<()>;
    /// Services the firmware-owned interrupt `girq` (the OS got it and calls
    /// `OPAL_HANDLE_INTERRUPT`). `Err(Parameter)` if no firmware source owns it.
    fn handle_interrupt(&self, girq: u32) -> OpalResult<()>;
}
