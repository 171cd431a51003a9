// SPDX-License-Identifier: Apache-2.0
//! `/chosen/ibm,architecture-vec-5`: PAPR's option vector 5, which on a pSeries guest
//! says what the hypervisor agreed to. OPAL negotiates nothing, but Linux reads the
//! property on every platform while it scans the flattened tree (`probe_fw_features` in
//! `arch/powerpc/platforms/pseries/firmware.c`) and turns options into
//! `powerpc_firmware_features` bits. skiboot offers one option, form-1 affinity
//! (`FW_FEATURE_FORM1_AFFINITY`, once `FW_FEATURE_TYPE1_AFFINITY`: 0x1_0000_0000 in
//! Linux's boot-time `firmware_features` line), which says `ibm,associativity` is to be
//! read against `ibm,associativity-reference-points`. Linux's NUMA code takes form 1
//! under OPAL with or without the bit, so giving it changes the feature word, and what
//! any code testing `FW_FEATURE_FORM1_AFFINITY` sees, to skiboot's.
//!
//! The property is the vector as CAS returns it: a length byte (the number of option
//! bytes after it, minus one), then option bytes; Linux's `OV5_*` numbers count the length
//! byte as byte 0, as [`Option5::byte`] does.

/// One option: which byte of the property holds it and its bit in that byte (Linux's
/// `OV5_*` constants are `byte << 8 | mask`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Option5 {
    /// Index into the property, the length byte being 0.
    pub byte: usize,
    /// The option's bit, big-endian numbered in PAPR (0x80 is bit 0).
    pub mask: u8,
}

impl Option5 {
    /// Whether `vector` (a property value) selects this option; a vector too short to
    /// hold the byte does not.
    pub fn is_set_in(self, vector: &[u8]) -> bool {
        vector.get(self.byte).is_some_and(|b| b & self.mask != 0)
    }
}

/// Form-1 affinity (`OV5_FORM1_AFFINITY`, once `OV5_TYPE1_AFFINITY`).
#[doc(alias = "OV5_TYPE1_AFFINITY")]
pub const FORM1_AFFINITY: Option5 = Option5 {
    byte: 5,
    mask: 0x80,
};
/// The options OPAL hands the OS, byte for byte what skiboot gives: six option bytes
/// (length byte 5), form-1 affinity the only one set.
pub const OPAL: [u8; 7] = [5, 0, 0, 0, 0, FORM1_AFFINITY.mask, 0];

#[cfg(test)]
mod tests {
    use super::*;

    // Options OPAL must not offer (pSeries only), to check that it does not.
    /// Platform resource reassignment notification (`OV5_PRRN`): pSeries only.
    pub const PRRN: Option5 = Option5 {
        byte: 5,
        mask: 0x40,
    };
    /// Form-2 affinity (`OV5_FORM2_AFFINITY`): pSeries only.
    pub const FORM2_AFFINITY: Option5 = Option5 {
        byte: 5,
        mask: 0x20,
    };
    /// Dynamic-memory v2 layout (`OV5_DRMEM_V2`): pSeries only.
    pub const DRMEM_V2: Option5 = Option5 {
        byte: 0x16,
        mask: 0x80,
    };
    /// `ibm,drc-info` (`OV5_DRC_INFO`): pSeries only.
    pub const DRC_INFO: Option5 = Option5 {
        byte: 0x16,
        mask: 0x40,
    };

    #[test]
    fn the_length_byte_counts_the_option_bytes_minus_one() {
        assert_eq!(usize::from(OPAL[0]), OPAL.len() - 1 - 1);
    }

    #[test]
    fn opal_offers_form1_affinity_and_nothing_else() {
        assert!(FORM1_AFFINITY.is_set_in(&OPAL));
        for other in [PRRN, FORM2_AFFINITY, DRMEM_V2, DRC_INFO] {
            assert!(!other.is_set_in(&OPAL), "{other:?}");
        }
        // Every bit of every option byte, apart from form-1 affinity's, is clear.
        let set: u32 = OPAL[1..].iter().map(|b| b.count_ones()).sum();
        assert_eq!(set, 1);
        assert_eq!(OPAL[FORM1_AFFINITY.byte], 0x80);
    }

    #[test]
    fn linux_numbering() {
        // Linux writes an option as byte << 8 | mask: OV5_FORM1_AFFINITY is 0x0580.
        let ov5 = |o: Option5| (o.byte as u16) << 8 | u16::from(o.mask);
        assert_eq!(ov5(FORM1_AFFINITY), 0x0580);
        assert_eq!(ov5(PRRN), 0x0540);
        assert_eq!(ov5(FORM2_AFFINITY), 0x0520);
        assert_eq!(ov5(DRMEM_V2), 0x1680);
        assert_eq!(ov5(DRC_INFO), 0x1640);
    }

    #[test]
    fn a_short_vector_selects_nothing_beyond_its_end() {
        assert!(!FORM1_AFFINITY.is_set_in(&OPAL[..5]));
        assert!(!DRC_INFO.is_set_in(&OPAL));
        assert!(!FORM1_AFFINITY.is_set_in(&[]));
    }
}
