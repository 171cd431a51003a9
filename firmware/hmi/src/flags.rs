// SPDX-License-Identifier: Apache-2.0
//! The out-flags of `OPAL_HANDLE_HMI2` (`enum OpalHMI_out_flags`, hmi-mce-sreset.md §4.4).
//! Linux 6.12 acts on [`NEW_EVENT`] and [`TOD_TB_FAIL`] and ignores the others.

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

#[cfg(test)]
mod tests {
    #[test]
    fn abi_values() {
        assert_eq!(super::TB_RESYNC, 0x1);
        assert_eq!(super::DEC_LOST, 0x2);
        assert_eq!(super::HDEC_LOST, 0x4);
        assert_eq!(super::TOD_TB_FAIL, 0x8);
        assert_eq!(super::NEW_EVENT, 0x8000_0000_0000_0000);
    }
}
