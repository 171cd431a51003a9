// SPDX-License-Identifier: Apache-2.0
//! SCOM addresses and bits of the core direct controls and of special wakeup, for POWER9
//! and POWER10 (skiboot `include/xscom.h`, `include/xscom-p9-regs.h`,
//! `include/xscom-p10-regs.h`; hmi-mce-sreset.md §1.3, §1.4).
//!
//! Constants keep skiboot's names. Bits are IBM (MSB-0) numbers. `core` is the core number
//! within its chip and `t` the thread within its core (0..4, SMT4 cores).

use hal::bits::{ppc_bit, ppc_bitmask};

// ---------------------------------------------------------------------------------------
// Bits shared by both generations
// ---------------------------------------------------------------------------------------

/// `EC_DIRECT_CONTROLS`: stop (quiesce) thread `t`.
#[doc(alias = "P9_THREAD_STOP")]
#[doc(alias = "P10_THREAD_STOP")]
pub const fn thread_stop(t: u32) -> u64 {
    ppc_bit(7 + 8 * t)
}

/// `EC_DIRECT_CONTROLS`: restart a quiesced thread that was running (P9 calls it CONT,
/// P10 START).
#[doc(alias = "P9_THREAD_CONT")]
#[doc(alias = "P10_THREAD_START")]
pub const fn thread_start(t: u32) -> u64 {
    ppc_bit(6 + 8 * t)
}

/// `EC_DIRECT_CONTROLS`: system reset of a quiesced thread; it restarts at 0x100.
#[doc(alias = "P9_THREAD_SRESET")]
#[doc(alias = "P10_THREAD_SRESET")]
pub const fn thread_sreset(t: u32) -> u64 {
    ppc_bit(4 + 8 * t)
}

/// `EC_DIRECT_CONTROLS`: leave maintenance mode, the way back for a thread that was in a
/// stop state or not active when it was quiesced.
#[doc(alias = "P9_THREAD_CLEAR_MAINT")]
#[doc(alias = "P10_THREAD_CLEAR_MAINT")]
pub const fn thread_clear_maint(t: u32) -> u64 {
    ppc_bit(3 + 8 * t)
}

/// `CORE_THREAD_STATE`: thread `t` is in a stop (power-saving) state.
#[doc(alias = "P10_THREAD_STOPPED")]
pub const fn thread_in_stop(t: u32) -> u64 {
    ppc_bit(56 + t)
}

/// `THREAD_INFO`: thread `t` is active (enabled for instruction execution).
#[doc(alias = "P10_THREAD_ACTIVE")]
pub const fn thread_active(t: u32) -> u64 {
    ppc_bit(t)
}

// ---------------------------------------------------------------------------------------
// POWER9: one EC chiplet per core, chiplet id 0x20 + core; per-core power management
// (PPM) registers at offset 0xF0000 of the same chiplet.
// ---------------------------------------------------------------------------------------

/// PCB address of register `offset` of core `core`'s EC chiplet.
#[doc(alias = "XSCOM_ADDR_P9_EC")]
pub const fn p9_ec(core: u32, offset: u64) -> u64 {
    (((core & 0x1f) as u64 + 0x20) << 24) | offset
}

/// PCB address of PPM (EC "slave") register `offset` of core `core`.
#[doc(alias = "XSCOM_ADDR_P9_EC_SLAVE")]
pub const fn p9_ec_ppm(core: u32, offset: u64) -> u64 {
    p9_ec(core, offset | 0xf0000)
}

pub const P9_EC_DIRECT_CONTROLS: u64 = 0x10a9c;
pub const P9_RAS_STATUS: u64 = 0x10a02;
pub const P9_CORE_THREAD_STATE: u64 = 0x10ab3;
pub const P9_THREAD_INFO: u64 = 0x10a9b;

/// RAS_STATUS: thread `t` is quiesced only when all four bits of its byte's top nibble
/// are set.
#[doc(alias = "P9_THREAD_QUIESCED")]
pub const fn p9_thread_quiesced(t: u32) -> u64 {
    ppc_bitmask(8 * t, 8 * t + 3)
}

/// The hypervisor's special-wakeup request (PPM offset; the other requesters, OTR, FSP
/// and OCC, are at 0x10A..0x10C and are not ours).
pub const EC_PPM_SPECIAL_WKUP_HYP: u64 = 0x010d;
pub const P9_SPWKUP_SET: u64 = ppc_bit(0);

/// Special-wakeup status as the hypervisor requester sees it.
pub const P9_EC_PPM_SSHHYP: u64 = 0x0114;
pub const P9_CORE_GATED: u64 = ppc_bit(0);
pub const P9_SPECIAL_WKUP_DONE: u64 = ppc_bit(1);

// ---------------------------------------------------------------------------------------
// POWER10: cores come in quads, one EQ chiplet (0x20 + core / 4) per quad. Inside it the
// unit is picked by bits 12..15 (0x2 core EC, 0xE quad QME) and the core by a one-hot
// nibble in bits 16..19 (0x8 for the quad's first core, 0x1 for its last).
// ---------------------------------------------------------------------------------------

#[doc(alias = "P10_CORE_EQ_CHIPLET")]
const fn p10_eq_chiplet(core: u32) -> u64 {
    0x20 + (core >> 2) as u64
}

const fn p10_core_select(core: u32) -> u64 {
    (1u64 << (3 - (core & 3))) << 12
}

/// PCB address of EC register `offset` of core `core`.
#[doc(alias = "XSCOM_ADDR_P10_EC")]
pub const fn p10_ec(core: u32, offset: u64) -> u64 {
    (p10_eq_chiplet(core) << 24) | (0x2 << 16) | p10_core_select(core) | offset
}

/// PCB address of the per-core QME register `offset` for core `core`.
#[doc(alias = "XSCOM_ADDR_P10_QME_CORE")]
pub const fn p10_qme_core(core: u32, offset: u64) -> u64 {
    (p10_eq_chiplet(core) << 24) | (0xe << 16) | p10_core_select(core) | offset
}

/// skiboot marks this address "is this right?"; QEMU models it the same way.
pub const P10_EC_CORE_THREAD_STATE: u64 = 0x412;
pub const P10_EC_THREAD_INFO: u64 = 0x413;
pub const P10_EC_DIRECT_CONTROLS: u64 = 0x449;
pub const P10_EC_RAS_STATUS: u64 = 0x454;

/// RAS_STATUS: thread `t` is in maintenance mode.
#[doc(alias = "P10_THREAD_MAINT")]
pub const fn p10_thread_maint(t: u32) -> u64 {
    ppc_bit(8 * t)
}

/// RAS_STATUS: thread `t` has quiesced. Stopped for sreset means MAINT *and* QUIESCED.
#[doc(alias = "P10_THREAD_QUIESCED")]
pub const fn p10_thread_quiesced(t: u32) -> u64 {
    ppc_bit(8 * t + 1)
}

/// RAS_STATUS: thread `t`'s instruction completion table is empty (needed for stepping
/// and RAM, not for sreset).
#[doc(alias = "P10_THREAD_ICT_EMPTY")]
pub const fn p10_thread_ict_empty(t: u32) -> u64 {
    ppc_bit(8 * t + 2)
}

/// The hypervisor's special-wakeup request: bit 0 requests, bit 4 reports DONE.
pub const P10_QME_SPWU_HYP: u64 = 0x83c;
pub const P10_SPWU_REQ: u64 = ppc_bit(0);
pub const P10_SPWU_DONE: u64 = ppc_bit(4);

/// Special-wakeup status as the hypervisor requester sees it.
pub const P10_QME_SSH_HYP: u64 = 0x82c;
pub const P10_SSH_CORE_GATED: u64 = ppc_bit(0);
pub const P10_SSH_SPWU_DONE: u64 = ppc_bit(1);

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values are the worked examples of hmi-mce-sreset.md §1.3/§1.4, typed in
    // by hand rather than computed.
    #[test]
    fn p9_addresses() {
        assert_eq!(p9_ec(0, P9_EC_DIRECT_CONTROLS), 0x2001_0a9c);
        assert_eq!(p9_ec(0, P9_RAS_STATUS), 0x2001_0a02);
        assert_eq!(p9_ec(0, P9_CORE_THREAD_STATE), 0x2001_0ab3);
        assert_eq!(p9_ec(0, P9_THREAD_INFO), 0x2001_0a9b);
        assert_eq!(p9_ec_ppm(0, EC_PPM_SPECIAL_WKUP_HYP), 0x200f_010d);
        assert_eq!(p9_ec_ppm(0, P9_EC_PPM_SSHHYP), 0x200f_0114);
        assert_eq!(p9_ec(3, P9_EC_DIRECT_CONTROLS), 0x2301_0a9c);
        assert_eq!(p9_ec_ppm(23, EC_PPM_SPECIAL_WKUP_HYP), 0x370f_010d);
    }

    #[test]
    fn p10_addresses() {
        assert_eq!(p10_ec(0, 0), 0x2002_8000);
        assert_eq!(p10_qme_core(0, 0), 0x200e_8000);
        assert_eq!(p10_ec(1, 0), 0x2002_4000);
        assert_eq!(p10_qme_core(1, 0), 0x200e_4000);
        assert_eq!(p10_ec(3, 0), 0x2002_1000);
        assert_eq!(p10_ec(4, 0), 0x2102_8000);
        assert_eq!(p10_qme_core(4, 0), 0x210e_8000);
        assert_eq!(p10_ec(31, 0), 0x2702_1000);
        assert_eq!(p10_ec(0, P10_EC_CORE_THREAD_STATE), 0x2002_8412);
        assert_eq!(p10_ec(0, P10_EC_THREAD_INFO), 0x2002_8413);
        assert_eq!(p10_ec(0, P10_EC_DIRECT_CONTROLS), 0x2002_8449);
        assert_eq!(p10_ec(0, P10_EC_RAS_STATUS), 0x2002_8454);
        assert_eq!(p10_qme_core(0, P10_QME_SPWU_HYP), 0x200e_883c);
        assert_eq!(p10_qme_core(0, P10_QME_SSH_HYP), 0x200e_882c);
    }

    #[test]
    fn direct_control_bits_per_thread() {
        assert_eq!(thread_stop(0), 1 << (63 - 7));
        assert_eq!(thread_start(0), 1 << (63 - 6));
        assert_eq!(thread_sreset(0), 1 << (63 - 4));
        assert_eq!(thread_clear_maint(0), 1 << (63 - 3));
        assert_eq!(thread_stop(3), 1 << (63 - 31));
        assert_eq!(thread_sreset(2), 1 << (63 - 20));
        assert_eq!(thread_in_stop(1), 1 << (63 - 57));
        assert_eq!(thread_active(2), 1 << (63 - 2));
    }

    #[test]
    fn quiesced_bits_per_generation() {
        assert_eq!(p9_thread_quiesced(0), 0xf000_0000_0000_0000);
        assert_eq!(p9_thread_quiesced(3), 0x0000_00f0_0000_0000);
        assert_eq!(p10_thread_maint(1), 1 << (63 - 8));
        assert_eq!(p10_thread_quiesced(1), 1 << (63 - 9));
        assert_eq!(p10_thread_ict_empty(1), 1 << (63 - 10));
    }

    #[test]
    fn wakeup_bits() {
        assert_eq!(P9_SPWKUP_SET, 0x8000_0000_0000_0000);
        assert_eq!(P9_SPECIAL_WKUP_DONE, 0x4000_0000_0000_0000);
        assert_eq!(P10_SPWU_DONE, 0x0800_0000_0000_0000);
        assert_eq!(
            P10_SSH_CORE_GATED | P10_SSH_SPWU_DONE,
            0xc000_0000_0000_0000
        );
    }
}
