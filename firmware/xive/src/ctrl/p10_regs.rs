// SPDX-License-Identifier: Apache-2.0
//! POWER10 XIVE2 registers, named as in skiboot `include/xive2-regs.h` (QEMU
//! `hw/intc/pnv_xive2_regs.h` repeats them), in IBM bit numbering.
//!
//! Each register is given by its XSCOM index `X`; the numbering is regular: the same
//! register is at IC page `(X >> 8) & 3` (0 CQ, 1 VC, 2 PC, 3 TCTXT), offset
//! `(X & 0xff) << 3` ([`mmio`]). skiboot's `xive_ic_page` and QEMU's
//! `pnv_xive2_xscom_read` both rely on this.

#![allow(dead_code)] // the full register set is listed; not every field is written

use super::{ppc_bit, ppc_bitmask};

/// MMIO address of register `x` in the IC BAR at `ic` (64 KiB pages).
pub const fn mmio(ic: u64, x: u32) -> u64 {
    ic + ((((x >> 8) & 3) as u64) << IC_PAGE_SHIFT) + (((x & 0xff) as u64) << 3)
}

pub const IC_PAGE_SHIFT: u32 = 16;
/// Page 6: sync poll (stores only; completion in `VC_ENDC_SYNC_DONE`).
pub const IC_SYNC_POLL_PAGE: u64 = 6;
/// Pages 256-383: one direct-mapped thread context page per thread (`PIR & 0xff`).
pub const IC_TM_DIRECT_PAGE: u64 = 256;
pub const IC_TM_DIRECT_PAGES: u32 = 128;

// --- CQ ----------------------------------------------------------------------------------
pub const X_CQ_XIVE_CAP: u32 = 0x02;
pub const CQ_XIVE_CAP_VERSION: u64 = ppc_bitmask(0, 3);
pub const CQ_XIVE_CAP_VP_SAVE_RESTORE: u64 = ppc_bit(38);
pub const CQ_XIVE_CAP_PHB_PQ_DISABLE: u64 = ppc_bit(56);
pub const X_CQ_XIVE_CFG: u32 = 0x03;
pub const CQ_XIVE_CFG_VP_INT_PRIO: u64 = ppc_bitmask(10, 11);
pub const CQ_XIVE_CFG_INT_PRIO_8: u64 = 3;
pub const CQ_XIVE_CFG_HYP_HARD_RANGE: u64 = ppc_bitmask(14, 15);
pub const CQ_XIVE_CFG_THREADID_7BITS: u64 = 0;
pub const CQ_XIVE_CFG_HYP_HARD_BLKID_OVERRIDE: u64 = ppc_bit(16);
pub const CQ_XIVE_CFG_HYP_HARD_BLOCK_ID: u64 = ppc_bitmask(17, 23);
pub const CQ_XIVE_CFG_EN_VP_SAVE_RESTORE: u64 = ppc_bit(38);
pub const X_CQ_IC_BAR: u32 = 0x08;
pub const CQ_IC_BAR_VALID: u64 = ppc_bit(0);
pub const CQ_IC_BAR_64K: u64 = ppc_bit(1);
pub const X_CQ_TM_BAR: u32 = 0x09;
pub const CQ_TM_BAR_VALID: u64 = ppc_bit(0);
pub const CQ_TM_BAR_64K: u64 = ppc_bit(1);
pub const X_CQ_ESB_BAR: u32 = 0x0a;
pub const X_CQ_END_BAR: u32 = 0x0b;
pub const X_CQ_NVPG_BAR: u32 = 0x0c;
/// ESB/END/NVPG/NVC BAR fields.
pub const CQ_BAR_VALID: u64 = ppc_bit(0);
pub const CQ_BAR_64K: u64 = ppc_bit(1);
pub const CQ_BAR_ADDR: u64 = ppc_bitmask(8, 39);
pub const CQ_BAR_RANGE: u64 = ppc_bitmask(59, 63);
pub const X_CQ_TAR: u32 = 0x0e;
pub const CQ_TAR_AUTOINC: u64 = ppc_bit(0);
pub const CQ_TAR_SELECT: u64 = ppc_bitmask(12, 15);
pub const CQ_TAR_ESB: u64 = 0;
pub const CQ_TAR_END: u64 = 2;
pub const CQ_TAR_NVPG: u64 = 3;
pub const X_CQ_TDR: u32 = 0x0f;
pub const CQ_TDR_VALID: u64 = ppc_bit(0);
pub const CQ_TDR_BLOCK_ID: u64 = ppc_bitmask(60, 63);
/// Set-translation entries per table.
pub const XIVE_MAX_BLOCKS: u32 = 16;
pub const X_CQ_RST_CTL: u32 = 0x12;
pub const CQ_RST_PB_BAR_RESET: u64 = ppc_bit(4);
pub const X_CQ_FIRMASK_OR: u32 = 0x35;
pub const CQ_FIR_PB_RCMDX_CI_ERR1: u64 = ppc_bit(19);
pub const CQ_FIR_VC_INFO_ERROR_0_2: u64 = ppc_bitmask(61, 63);

// --- VC ----------------------------------------------------------------------------------
pub const X_VC_VSD_TABLE_ADDR: u32 = 0x100;
pub const X_VC_VSD_TABLE_DATA: u32 = 0x101;
/// In `VC_VSD_TABLE_ADDR` and `PC_VSD_TABLE_ADDR`.
pub const VSD_TABLE_SELECT: u64 = ppc_bitmask(12, 15);
pub const VSD_TABLE_ADDRESS: u64 = ppc_bitmask(28, 31);
pub const X_VC_AT_MACRO_KILL: u32 = 0x102;
pub const VC_AT_MACRO_KILL_VALID: u64 = ppc_bit(0);
pub const VC_AT_MACRO_KILL_VSD: u64 = ppc_bitmask(12, 15);
pub const X_VC_AT_MACRO_KILL_MASK: u32 = 0x103;
/// Seven overflow-queue configurations, one per `VST_ERQ` block.
pub const X_VC_QUEUES_CFG_REM0: u32 = 0x117;
pub const VC_QUEUE_COUNT: u8 = 7;
pub const VC_QUEUES_CFG_MEMB_EN: u64 = ppc_bit(38);
pub const VC_QUEUES_CFG_MEMB_SZ: u64 = ppc_bitmask(42, 47);
pub const X_VC_ESBC_CFG: u32 = 0x148;
pub const VC_ESBC_CFG_HASH_ARRAY_ENABLE: u64 = ppc_bit(40);
pub const VC_ESBC_CFG_SPLIT_MODE: u64 = ppc_bit(56);
pub const VC_ESBC_CFG_MAX_ENTRIES_IN_MODIFIED: u64 = ppc_bitmask(59, 63);
pub const X_VC_EASC_FLUSH_CTRL: u32 = 0x160;
pub const X_VC_EASC_FLUSH_POLL: u32 = 0x161;
pub const VC_EASC_FLUSH_POLL_BLOCK_ID: u64 = ppc_bitmask(0, 3);
pub const VC_EASC_FLUSH_POLL_OFFSET: u64 = ppc_bitmask(4, 31);
pub const VC_EASC_FLUSH_POLL_BLOCK_ID_MASK: u64 = ppc_bitmask(32, 35);
pub const VC_EASC_FLUSH_POLL_OFFSET_MASK: u64 = ppc_bitmask(36, 63);
pub const X_VC_ENDC_FLUSH_CTRL: u32 = 0x180;
pub const X_VC_ENDC_FLUSH_POLL: u32 = 0x181;
pub const VC_ENDC_FLUSH_POLL_BLOCK_ID: u64 = ppc_bitmask(4, 7);
pub const VC_ENDC_FLUSH_POLL_OFFSET: u64 = ppc_bitmask(8, 31);
pub const VC_ENDC_FLUSH_POLL_BLOCK_ID_MASK: u64 = ppc_bitmask(36, 39);
pub const VC_ENDC_FLUSH_POLL_OFFSET_MASK: u64 = ppc_bitmask(40, 63);
pub const X_VC_ENDC_SYNC_DONE: u32 = 0x184;
pub const VC_ENDC_SYNC_POLL_DONE: u64 = ppc_bitmask(0, 6);
pub const X_VC_ENDC_WATCH0_SPEC: u32 = 0x1a0;
pub const VC_ENDC_WATCH_BLOCK_ID: u64 = ppc_bitmask(28, 31);
pub const VC_ENDC_WATCH_INDEX: u64 = ppc_bitmask(40, 63);
pub const X_VC_ENDC_WATCH0_DATA0: u32 = 0x1a4;
/// `POLL_VALID`, bit 0 of every FLUSH_CTRL register.
pub const FLUSH_CTRL_POLL_VALID: u64 = ppc_bit(0);

// --- PC ----------------------------------------------------------------------------------
pub const X_PC_VSD_TABLE_ADDR: u32 = 0x200;
pub const X_PC_VSD_TABLE_DATA: u32 = 0x201;
pub const X_PC_AT_KILL: u32 = 0x202;
pub const PC_AT_KILL_VALID: u64 = ppc_bit(0);
pub const PC_AT_KILL_VSD_TYPE: u64 = ppc_bitmask(24, 27);
pub const X_PC_AT_KILL_MASK: u32 = 0x203;
pub const X_PC_NXC_FLUSH_CTRL: u32 = 0x280;
pub const X_PC_NXC_FLUSH_POLL: u32 = 0x281;
pub const PC_NXC_FLUSH_POLL_BLOCK_ID: u64 = ppc_bitmask(4, 7);
pub const PC_NXC_FLUSH_POLL_OFFSET: u64 = ppc_bitmask(8, 31);
pub const PC_NXC_FLUSH_POLL_BLOCK_ID_MASK: u64 = ppc_bitmask(36, 39);
pub const PC_NXC_FLUSH_POLL_OFFSET_MASK: u64 = ppc_bitmask(40, 63);
pub const X_PC_NXC_WATCH0_SPEC: u32 = 0x2a0;
pub const PC_NXC_WATCH_NXC_TYPE: u64 = ppc_bitmask(26, 27);
pub const PC_NXC_WATCH_NXC_NVP: u64 = 0;
pub const PC_NXC_WATCH_BLOCK_ID: u64 = ppc_bitmask(28, 31);
pub const PC_NXC_WATCH_INDEX: u64 = ppc_bitmask(40, 63);
pub const X_PC_NXC_WATCH0_DATA0: u32 = 0x2a4;

// --- TCTXT -------------------------------------------------------------------------------
pub const X_TCTXT_EN0: u32 = 0x300;
pub const X_TCTXT_EN0_SET: u32 = 0x302;
pub const X_TCTXT_EN0_RESET: u32 = 0x303;
pub const X_TCTXT_EN1: u32 = 0x304;
pub const X_TCTXT_EN1_SET: u32 = 0x306;
pub const X_TCTXT_EN1_RESET: u32 = 0x307;
pub const X_TCTXT_CFG: u32 = 0x328;
pub const TCTXT_CFG_FUSE_CORE_EN: u64 = ppc_bit(0);

// --- VSTs and VSDs -----------------------------------------------------------------------
pub const VST_ESB: u64 = 0;
pub const VST_EAS: u64 = 1;
pub const VST_END: u64 = 2;
pub const VST_NVP: u64 = 3;
pub const VST_IC: u64 = 6;
pub const VST_ERQ: u64 = 8;
pub const VSD_MODE: u64 = ppc_bitmask(0, 1);
pub const VSD_MODE_EXCLUSIVE: u64 = 2;
pub const VSD_MODE_FORWARD: u64 = 3;
pub const VSD_ADDRESS_MASK: u64 = 0x00ff_ffff_ffff_f000;
pub const VSD_TSIZE: u64 = ppc_bitmask(59, 63);

/// Sync-poll page offsets, one per VC queue (skiboot `xive_sync`).
pub const SYNC_POLL_OFFSETS: [u64; 7] = [0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300];

/// HW thread VP index base with 7-bit thread ids (`1 << 7`).
pub const HW_VP_BASE: u64 = 0x80;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xscom_index_maps_to_ic_page_and_offset() {
        let ic = 0x0006_0302_0000_0000;
        // CQ_XIVE_CFG 0x018 in page 0, VC_ENDC_WATCH0_SPEC 0x500 in page 1 (VC),
        // PC_NXC_FLUSH_CTRL 0x400 in page 2 (PC), TCTXT_CFG 0x140 in page 3.
        assert_eq!(mmio(ic, X_CQ_XIVE_CFG), ic + 0x018);
        assert_eq!(mmio(ic, X_VC_ENDC_WATCH0_SPEC), ic + 0x1_0000 + 0x500);
        assert_eq!(mmio(ic, X_PC_NXC_FLUSH_CTRL), ic + 0x2_0000 + 0x400);
        assert_eq!(mmio(ic, X_TCTXT_CFG), ic + 0x3_0000 + 0x140);
        assert_eq!(mmio(ic, X_CQ_FIRMASK_OR), ic + 0x1a8);
        assert_eq!(mmio(ic, X_VC_QUEUES_CFG_REM0), ic + 0x1_0000 + 0x0b8);
    }
}
