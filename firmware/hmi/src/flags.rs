// SPDX-License-Identifier: Apache-2.0
//! The out-flags of `OPAL_HANDLE_HMI2`: the ABI's (`opal_api::hmi_flags`), here under the
//! name the handler uses.

pub use opal_api::hmi_flags::*;

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
