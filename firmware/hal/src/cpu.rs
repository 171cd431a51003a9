// SPDX-License-Identifier: Apache-2.0
//! Hardware threads as OPAL hands them to and takes them from the OS.

use opal_api::{CpuStatus, OpalResult};

/// A decoded `OPAL_REINIT_CPUS` request: what every thread must be set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReinitRequest {
    /// `Some(true)`: take interrupts little-endian (HID0.HILE set); `Some(false)`:
    /// big-endian; `None`: leave as is.
    pub little_endian_interrupts: Option<bool>,
    /// `Some(true)`: radix allowed (P9 HID0 radix bit); `Some(false)`: hash only.
    pub radix: Option<bool>,
}

pub trait CpuControl {
    /// State of the thread whose PIR is `server`; `None` if there is no such thread.
    fn status(&self, server: u64) -> Option<CpuStatus>;
    /// Hands an inactive thread to the OS at `entry` (big-endian real mode, r3 = PIR).
    fn start(&self, server: u64, entry: u64) -> OpalResult<()>;
    /// Applies `req` on every thread. All threads but the caller should be in OPAL: the
    /// firmware waits a bounded time for the OS's threads to come back, then applies `req`
    /// to the caller and every thread in OPAL, and answers WRONG_STATE if some thread
    /// stayed with the OS (the next kernel needs its own threads right even then).
    fn reinit(&self, req: ReinitRequest) -> OpalResult<()>;
    /// PIR of the calling thread.
    fn current(&self) -> u32;
    /// `OPAL_RETURN_CPU` for the calling thread: it leaves the OS for good and waits in
    /// firmware for `start`. The firmware's implementation does not return when it
    /// succeeds; the host fakes return `Ok` so the callers' logic can be tested. An error
    /// means the thread stays with the OS.
    fn return_to_firmware(&self) -> OpalResult<()>;
    /// Calls `f` with the PIR of every known thread, in table order.
    fn for_each_server(&self, f: &mut dyn FnMut(u32));
}

/// System reset (NMI) of other threads and the quiesce protocol that makes it safe.
pub trait SystemReset {
    /// Whether this machine can reset a thread: decides if `OPAL_SIGNAL_SYSTEM_RESET` is
    /// in the call table's answer to `OPAL_CHECK_TOKEN`.
    fn available(&self) -> bool;
    /// Resets one thread the OS owns, never the caller (the OPAL layer checked both).
    /// Asynchronous: success means the reset was delivered, not that its handler ran.
    fn reset(&self, server: u32) -> OpalResult<()>;
    /// `OPAL_QUIESCE(kind, cpu)`, as skiboot defines it.
    fn quiesce(&self, kind: u32, cpu: i32) -> OpalResult<()>;
}
