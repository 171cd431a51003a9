// SPDX-License-Identifier: Apache-2.0
//! The OPAL application binary interface, and nothing else: call tokens, return codes,
//! event bits, flag values and the big-endian types that cross between firmware and OS.
//!
//! Every number here is ABI, copied by hand from skiboot's `include/opal-api.h` and pinned
//! by the tests at the bottom of each module. If a test fails, fix the code, not the table.
#![no_std]
#![forbid(unsafe_code)]

pub mod be;
pub mod error;
pub mod event;
pub mod pci;
pub mod token;
pub mod vec5;

pub use be::{Be32, Be64};
pub use error::{OpalError, OpalOk, OpalResult, OpalRet, Value};

/// `OPAL_CHECK_TOKEN` answers (not error codes).
pub const OPAL_TOKEN_ABSENT: u64 = 0;
pub const OPAL_TOKEN_PRESENT: u64 = 1;

/// Status byte written by `OPAL_QUERY_CPU_STATUS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CpuStatus {
    /// Owned by OPAL and startable with `OPAL_START_CPU`.
    #[doc(alias = "OPAL_THREAD_INACTIVE")]
    Inactive = 0,
    /// Handed to the OS.
    #[doc(alias = "OPAL_THREAD_STARTED")]
    Started = 1,
    /// Present in the device tree but not usable.
    #[doc(alias = "OPAL_THREAD_UNAVAILABLE")]
    Unavailable = 2,
}

/// `OPAL_REINIT_CPUS` flag bits.
pub mod reinit {
    #[doc(alias = "OPAL_REINIT_CPUS_HILE_BE")]
    pub const HILE_BE: u64 = 1 << 0;
    #[doc(alias = "OPAL_REINIT_CPUS_HILE_LE")]
    pub const HILE_LE: u64 = 1 << 1;
    #[doc(alias = "OPAL_REINIT_CPUS_MMU_HASH")]
    pub const MMU_HASH: u64 = 1 << 2;
    #[doc(alias = "OPAL_REINIT_CPUS_MMU_RADIX")]
    pub const MMU_RADIX: u64 = 1 << 3;
    #[doc(alias = "OPAL_REINIT_CPUS_TM_SUSPEND_DISABLED")]
    pub const TM_SUSPEND_DISABLED: u64 = 1 << 4;
}

/// `OPAL_HANDLE_HMI2` out-flags (`enum OpalHMI_out_flags`, hmi-mce-sreset.md §4.4).
/// Linux 6.12 acts on [`NEW_EVENT`](hmi_flags::NEW_EVENT) and
/// [`TOD_TB_FAIL`](hmi_flags::TOD_TB_FAIL) and ignores the others.
pub mod hmi_flags {
    /// The timebase was resynchronised from the chip TOD.
    #[doc(alias = "OPAL_HMI_FLAGS_TB_RESYNC")]
    pub const TB_RESYNC: u64 = 1 << 0;
    /// The decrementer was lost (DEC parity error; DEC was reset to all ones).
    #[doc(alias = "OPAL_HMI_FLAGS_DEC_LOST")]
    pub const DEC_LOST: u64 = 1 << 1;
    /// The hypervisor decrementer was lost (HDEC parity error; HDEC was set to 0).
    #[doc(alias = "OPAL_HMI_FLAGS_HDEC_LOST")]
    pub const HDEC_LOST: u64 = 1 << 2;
    /// The timebase is still invalid after recovery: timekeeping is unusable.
    #[doc(alias = "OPAL_HMI_FLAGS_TOD_TB_FAIL")]
    pub const TOD_TB_FAIL: u64 = 1 << 3;
    /// At least one `OPAL_MSG_HMI_EVT` message was queued.
    #[doc(alias = "OPAL_HMI_FLAGS_NEW_EVENT")]
    pub const NEW_EVENT: u64 = 1 << 63;
}

/// `OPAL_CEC_POWER_DOWN` request argument.
pub mod power_down {
    pub const NORMAL: u64 = 0;
    pub const IMMEDIATE: u64 = 1;
}

/// `struct opal_msg`: `__be32 msg_type; __be32 size; __be64 params[8]`.
pub mod msg {
    /// Size in bytes of one `struct opal_msg`; `OPAL_GET_MSG` rejects smaller buffers.
    pub const OPAL_MSG_SIZE: usize = 72;
    #[doc(alias = "OPAL_MSG_ASYNC_COMP")]
    pub const ASYNC_COMP: u32 = 0;
    #[doc(alias = "OPAL_MSG_SHUTDOWN")]
    pub const SHUTDOWN: u32 = 3;
    /// An HMI event: `params[0..4]` hold a version-2 `struct OpalHMIEvent`.
    #[doc(alias = "OPAL_MSG_HMI_EVT")]
    pub const HMI_EVT: u32 = 4;
}
