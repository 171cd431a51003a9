// SPDX-License-Identifier: Apache-2.0
//! `struct OpalHMIEvent`, version 2 (hmi-mce-sreset.md §4.6): 40 big-endian bytes that go
//! to the OS as `params[0..4]` of an `opal_msg` of type [`OPAL_MSG_HMI_EVT`].
//!
//! | Offset | Field |
//! |---|---|
//! | 0 | version (2) |
//! | 1 | severity |
//! | 2 | type |
//! | 3 | disposition |
//! | 4 | reserved, 4 bytes |
//! | 8 | HMER at entry, be64 |
//! | 16 | TFMR, be64 (meaningful for the TFAC and TFMR-parity types) |
//! | 24 | xstop type |
//! | 25 | reserved, 3 bytes |
//! | 28 | xstop reason, be32 |
//! | 32 | PIR (core xstop) or chip id (NX/NPU), be32 |
//! | 36 | padding to 40 bytes |

/// `opal_msg` type of an HMI event (the ABI's number, `opal_api::msg`).
pub const OPAL_MSG_HMI_EVT: u32 = opal_api::msg::HMI_EVT;

/// The structure version we send.
pub const HMI_EVENT_VERSION: u8 = 2;

/// Size of the event in bytes (five `opal_msg` parameters).
pub const HMI_EVENT_SIZE: usize = 40;

/// `enum OpalHMI_Severity`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    #[doc(alias = "OpalHMI_SEV_NO_ERROR")]
    NoError = 0,
    #[doc(alias = "OpalHMI_SEV_WARNING")]
    Warning = 1,
    #[doc(alias = "OpalHMI_SEV_ERROR_SYNC")]
    ErrorSync = 2,
    #[doc(alias = "OpalHMI_SEV_FATAL")]
    Fatal = 3,
}

/// `enum OpalHMI_ErrType`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HmiType {
    #[doc(alias = "OpalHMI_ERROR_MALFUNC_ALERT")]
    MalfuncAlert = 0,
    #[doc(alias = "OpalHMI_ERROR_PROC_RECOV_DONE")]
    ProcRecovDone = 1,
    #[doc(alias = "OpalHMI_ERROR_PROC_RECOV_DONE_AGAIN")]
    ProcRecovDoneAgain = 2,
    #[doc(alias = "OpalHMI_ERROR_PROC_RECOV_MASKED")]
    ProcRecovMasked = 3,
    #[doc(alias = "OpalHMI_ERROR_TFAC")]
    Tfac = 4,
    #[doc(alias = "OpalHMI_ERROR_TFMR_PARITY")]
    TfmrParity = 5,
    #[doc(alias = "OpalHMI_ERROR_HA_OVERFLOW_WARN")]
    HaOverflowWarn = 6,
    #[doc(alias = "OpalHMI_ERROR_XSCOM_FAIL")]
    XscomFail = 7,
    #[doc(alias = "OpalHMI_ERROR_XSCOM_DONE")]
    XscomDone = 8,
    #[doc(alias = "OpalHMI_ERROR_SCOM_FIR")]
    ScomFir = 9,
    #[doc(alias = "OpalHMI_ERROR_DEBUG_TRIG_FIR")]
    DebugTrigFir = 10,
    #[doc(alias = "OpalHMI_ERROR_HYP_RESOURCE")]
    HypResource = 11,
    #[doc(alias = "OpalHMI_ERROR_CAPP_RECOVERY")]
    CappRecovery = 12,
}

/// `enum OpalHMI_Disposition`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    #[doc(alias = "OpalHMI_DISPOSITION_RECOVERED")]
    Recovered = 0,
    #[doc(alias = "OpalHMI_DISPOSITION_NOT_RECOVERED")]
    NotRecovered = 1,
}

/// `enum OpalHMI_XstopType`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XstopType {
    #[doc(alias = "CHECKSTOP_TYPE_UNKNOWN")]
    Unknown = 0,
    #[doc(alias = "CHECKSTOP_TYPE_CORE")]
    Core = 1,
    #[doc(alias = "CHECKSTOP_TYPE_NX")]
    Nx = 2,
    #[doc(alias = "CHECKSTOP_TYPE_NPU")]
    Npu = 3,
}

/// The checkstop part of a malfunction-alert event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xstop {
    pub kind: XstopType,
    /// Reason bits ([`core_reason`] for a core checkstop).
    pub reason: u32,
    /// The PIR of the core's first thread (core checkstop), else the chip id.
    pub id: u32,
}

/// `enum OpalHMI_CoreXstopReason`: core FIR bit → reason bit (hmi-mce-sreset.md §4.6).
pub mod core_reason {
    pub const IFU_REGFILE: u32 = 0x1;
    pub const IFU_LOGIC: u32 = 0x2;
    pub const PC_DURING_RECOV: u32 = 0x4;
    pub const ISU_REGFILE: u32 = 0x8;
    pub const ISU_LOGIC: u32 = 0x10;
    pub const FXU_LOGIC: u32 = 0x20;
    pub const VSU_LOGIC: u32 = 0x40;
    pub const PC_RECOV_IN_MAINT_MODE: u32 = 0x80;
    pub const LSU_REGFILE: u32 = 0x100;
    pub const PC_FWD_PROGRESS: u32 = 0x200;
    pub const LSU_LOGIC: u32 = 0x400;
    pub const PC_LOGIC: u32 = 0x800;
    pub const PC_HYP_RESOURCE: u32 = 0x1000;
    pub const PC_HANG_RECOV_FAILED: u32 = 0x2000;
    pub const PC_AMBIGUOUS_HANG: u32 = 0x4000;
    /// Defined, never reported (no core FIR bit maps to it).
    pub const PC_DEBUG_TRIG_ERR_INJ: u32 = 0x8000;
    pub const PC_SPRD_HYP_ERR_INJ: u32 = 0x10000;
    /// Defined, never reported.
    pub const MMU_SYSTEM: u32 = 0x20000;

    /// (core FIR bit, reason).
    pub const TABLE: [(u32, u32); 16] = [
        (3, IFU_REGFILE),
        (5, IFU_LOGIC),
        (8, PC_DURING_RECOV),
        (10, ISU_REGFILE),
        (12, ISU_LOGIC),
        (21, FXU_LOGIC),
        (25, VSU_LOGIC),
        (26, PC_RECOV_IN_MAINT_MODE),
        (32, LSU_REGFILE),
        (36, PC_FWD_PROGRESS),
        (38, LSU_LOGIC),
        (45, PC_LOGIC),
        (48, PC_HYP_RESOURCE),
        (52, PC_HANG_RECOV_FAILED),
        (54, PC_AMBIGUOUS_HANG),
        (63, PC_SPRD_HYP_ERR_INJ),
    ];

    /// The reason bits of a core FIR value.
    pub fn of_fir(fir: u64) -> u32 {
        TABLE
            .iter()
            .filter(|(bit, _)| fir & hal::bits::ppc_bit(*bit) != 0)
            .fold(0, |acc, (_, r)| acc | r)
    }
}

/// One HMI event, before it is laid out for the OS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HmiEvent {
    pub severity: Severity,
    pub kind: HmiType,
    pub disposition: Disposition,
    /// HMER as read on entry.
    pub hmer: u64,
    /// TFMR (TFAC and TFMR-parity events), else 0.
    pub tfmr: u64,
    /// Malfunction-alert events only.
    pub xstop: Option<Xstop>,
}

impl HmiEvent {
    /// The version-2 layout, big-endian.
    pub fn to_bytes(&self) -> [u8; HMI_EVENT_SIZE] {
        let mut b = [0u8; HMI_EVENT_SIZE];
        b[0] = HMI_EVENT_VERSION;
        b[1] = self.severity as u8;
        b[2] = self.kind as u8;
        b[3] = self.disposition as u8;
        b[8..16].copy_from_slice(&self.hmer.to_be_bytes());
        b[16..24].copy_from_slice(&self.tfmr.to_be_bytes());
        if let Some(x) = self.xstop {
            b[24] = x.kind as u8;
            b[28..32].copy_from_slice(&x.reason.to_be_bytes());
            b[32..36].copy_from_slice(&x.id.to_be_bytes());
        }
        b
    }

    /// The 40 bytes as five 64-bit words: `params[i]` of the `opal_msg`, which the
    /// message queue stores big-endian (`__be64 params[]`).
    pub fn to_msg_params(&self) -> [u64; 5] {
        let b = self.to_bytes();
        let mut p = [0u64; 5];
        for (i, w) in p.iter_mut().enumerate() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&b[i * 8..i * 8 + 8]);
            *w = u64::from_be_bytes(word);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_are_the_abi() {
        assert_eq!(Severity::Fatal as u8, 3);
        assert_eq!(Severity::ErrorSync as u8, 2);
        assert_eq!(HmiType::Tfac as u8, 4);
        assert_eq!(HmiType::HypResource as u8, 11);
        assert_eq!(HmiType::CappRecovery as u8, 12);
        assert_eq!(Disposition::NotRecovered as u8, 1);
        assert_eq!(XstopType::Npu as u8, 3);
        assert_eq!(OPAL_MSG_HMI_EVT, 4);
    }

    /// Hand-laid bytes from the table in hmi-mce-sreset.md §4.6.
    #[test]
    fn golden_tfac_event() {
        let ev = HmiEvent {
            severity: Severity::ErrorSync,
            kind: HmiType::Tfac,
            disposition: Disposition::Recovered,
            hmer: 0x0800_0000_0000_0000,
            tfmr: 0x0012_3456_789A_BCDE,
            xstop: None,
        };
        let want: [u8; 40] = [
            0x02, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, // version sev type disp rsvd
            0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // hmer
            0x00, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, // tfmr
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // xstop type, rsvd, reason
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // pir, pad
        ];
        assert_eq!(ev.to_bytes(), want);
        assert_eq!(
            ev.to_msg_params(),
            [
                0x0202_0400_0000_0000,
                0x0800_0000_0000_0000,
                0x0012_3456_789A_BCDE,
                0,
                0
            ]
        );
    }

    #[test]
    fn golden_core_checkstop_event() {
        let ev = HmiEvent {
            severity: Severity::Fatal,
            kind: HmiType::MalfuncAlert,
            disposition: Disposition::NotRecovered,
            hmer: 0x8000_0000_0000_0000,
            tfmr: 0,
            xstop: Some(Xstop {
                kind: XstopType::Core,
                reason: 0x0001_2040,
                id: 0x0000_0124,
            }),
        };
        let want: [u8; 40] = [
            0x02, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, //
            0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
            0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x40, //
            0x00, 0x00, 0x01, 0x24, 0x00, 0x00, 0x00, 0x00, //
        ];
        assert_eq!(ev.to_bytes(), want);
        assert_eq!(ev.to_msg_params()[3], 0x0100_0000_0001_2040);
        assert_eq!(ev.to_msg_params()[4], 0x0000_0124_0000_0000);
    }

    #[test]
    fn harmless_event_bytes() {
        let ev = HmiEvent {
            severity: Severity::NoError,
            kind: HmiType::ProcRecovDoneAgain,
            disposition: Disposition::Recovered,
            hmer: 0x0010_0000_0000_0000,
            tfmr: 0,
            xstop: None,
        };
        let b = ev.to_bytes();
        assert_eq!(&b[..4], &[2, 0, 2, 0]);
        assert_eq!(&b[8..16], &[0x00, 0x10, 0, 0, 0, 0, 0, 0]);
        assert!(b[16..].iter().all(|&x| x == 0));
    }

    #[test]
    fn core_reasons_from_fir() {
        // FIR bits 25 (VSU logic), 52 (hang recovery failed), 63 (SPRD inject), plus a bit
        // (1) that is not in the table.
        let fir = (1u64 << (63 - 25)) | (1 << (63 - 52)) | 1 | (1 << 62);
        assert_eq!(core_reason::of_fir(fir), 0x40 | 0x2000 | 0x10000);
        assert_eq!(core_reason::of_fir(0), 0);
        assert_eq!(core_reason::of_fir(1 << (63 - 3)), 0x1);
    }
}
