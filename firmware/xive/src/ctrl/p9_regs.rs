// SPDX-License-Identifier: Apache-2.0
//! POWER9 XIVE registers: MMIO offsets in IC page 0 and their fields, in IBM bit
//! numbering, named as in skiboot `include/xive-p9-regs.h` (QEMU
//! `hw/intc/pnv_xive_regs.h` repeats them).
//!
//! XSCOM: only the CQ registers (offsets below 0x400) are used over XSCOM, where the
//! register index is `offset >> 3`. PC and VC registers have an irregular XSCOM numbering
//! (e.g. `PC_TCTXT_CFG` is XSCOM 0x100, MMIO 0x400) and are only reached through MMIO, as
//! skiboot does once the IC BAR is set.

#![allow(dead_code)] // the full register set is listed; not every field is written

use super::{ppc_bit, ppc_bitmask};

// --- CQ (PowerBus bridge), 0x000-0x3ff --------------------------------------------------
pub const CQ_CFG_PB_GEN: u64 = 0x050;
pub const CQ_INT_ADDR_OPT: u64 = ppc_bitmask(14, 15);
pub const CQ_IC_BAR: u64 = 0x080;
pub const CQ_IC_BAR_VALID: u64 = ppc_bit(0);
pub const CQ_IC_BAR_64K: u64 = ppc_bit(1);
pub const CQ_TM1_BAR: u64 = 0x090;
pub const CQ_TM2_BAR: u64 = 0x0a0;
pub const CQ_TM_BAR_VALID: u64 = ppc_bit(0);
pub const CQ_TM_BAR_64K: u64 = ppc_bit(1);
pub const CQ_PC_BAR: u64 = 0x0b0;
pub const CQ_PC_BAR_VALID: u64 = ppc_bit(0);
pub const CQ_PC_BARM: u64 = 0x0b8;
pub const CQ_PC_BARM_MASK: u64 = ppc_bitmask(26, 38);
pub const CQ_VC_BAR: u64 = 0x0c0;
pub const CQ_VC_BAR_VALID: u64 = ppc_bit(0);
pub const CQ_VC_BARM: u64 = 0x0c8;
pub const CQ_VC_BARM_MASK: u64 = ppc_bitmask(21, 37);
pub const CQ_TAR: u64 = 0x0f0;
pub const CQ_TAR_TBL_AUTOINC: u64 = ppc_bit(0);
pub const CQ_TAR_TSEL_VDT: u64 = ppc_bit(14);
pub const CQ_TAR_TSEL_EDT: u64 = ppc_bit(15);
pub const CQ_TDR: u64 = 0x0f8;
pub const CQ_TDR_VDT_VALID: u64 = ppc_bit(0);
pub const CQ_TDR_VDT_BLK: u64 = ppc_bitmask(11, 15);
pub const CQ_TDR_VDT_INDEX: u64 = ppc_bitmask(28, 31);
pub const CQ_TDR_EDT_TYPE: u64 = ppc_bitmask(0, 1);
pub const CQ_TDR_EDT_IPI: u64 = 1;
pub const CQ_TDR_EDT_EQ: u64 = 2;
pub const CQ_TDR_EDT_BLK: u64 = ppc_bitmask(12, 15);
pub const CQ_TDR_EDT_INDEX: u64 = ppc_bitmask(26, 31);
pub const CQ_PBI_CTL: u64 = 0x100;
pub const CQ_PBI_PC_64K: u64 = ppc_bit(5);
pub const CQ_PBI_VC_64K: u64 = ppc_bit(6);
pub const CQ_PBI_FORCE_TM_LOCAL: u64 = ppc_bit(22);
pub const CQ_FIRMASK_OR: u64 = 0x1a8;
pub const CQ_FIR_PB_RCMDX_CI_ERR1: u64 = ppc_bit(19);
pub const CQ_FIR_VC_INFO_ERROR_0_1: u64 = ppc_bitmask(62, 63);

// --- PC (presenter), 0x400-0x7ff --------------------------------------------------------
pub const PC_TCTXT_CFG: u64 = 0x400;
pub const PC_TCTXT_CFG_BLKGRP_EN: u64 = ppc_bit(0);
pub const PC_TCTXT_CFG_TARGET_EN: u64 = ppc_bit(1);
pub const PC_TCTXT_CFG_LGS_EN: u64 = ppc_bit(2);
pub const PC_TCTXT_CFG_STORE_ACK: u64 = ppc_bit(3);
pub const PC_TCTXT_CFG_FUSE_CORE_EN: u64 = ppc_bit(4);
pub const PC_TCTXT_CFG_HARD_CHIPID_BLK: u64 = ppc_bit(8);
pub const PC_TCTXT_CHIPID_OVERRIDE: u64 = ppc_bit(9);
pub const PC_TCTXT_CHIPID: u64 = ppc_bitmask(12, 15);
pub const PC_TCTXT_INIT_AGE: u64 = ppc_bitmask(30, 31);
pub const PC_TCTXT_TRACK: u64 = 0x408;
pub const PC_TCTXT_TRACK_EN: u64 = ppc_bit(0);
pub const PC_TCTXT_INDIR0: u64 = 0x420;
pub const PC_TCTXT_INDIR_VALID: u64 = ppc_bit(0);
pub const PC_TCTXT_INDIR_THRDID: u64 = ppc_bitmask(9, 15);
pub const PC_THREAD_EN_REG0: u64 = 0x440;
pub const PC_THREAD_EN_REG0_SET: u64 = 0x448;
pub const PC_THREAD_EN_REG0_CLR: u64 = 0x450;
pub const PC_THREAD_EN_REG1: u64 = 0x460;
pub const PC_THREAD_EN_REG1_SET: u64 = 0x468;
pub const PC_THREAD_EN_REG1_CLR: u64 = 0x470;
pub const PC_GLOBAL_CONFIG: u64 = 0x480;
pub const PC_GCONF_INDIRECT: u64 = ppc_bit(32);
pub const PC_GCONF_CHIPID_OVR: u64 = ppc_bit(40);
pub const PC_GCONF_CHIPID: u64 = ppc_bitmask(44, 47);
pub const PC_VSD_TABLE_ADDR: u64 = 0x488;
pub const PC_VSD_TABLE_DATA: u64 = 0x490;
pub const PC_AT_KILL: u64 = 0x4b0;
pub const PC_AT_KILL_VALID: u64 = ppc_bit(0);
pub const PC_AT_KILL_MASK: u64 = 0x4b8;
pub const PC_VPC_SCRUB_TRIG: u64 = 0x710;
pub const PC_VPC_SCRUB_MASK: u64 = 0x718;
pub const PC_SCRUB_VALID: u64 = ppc_bit(0);
pub const PC_SCRUB_WANT_INVAL: u64 = ppc_bit(2);
pub const PC_SCRUB_BLOCK_ID: u64 = ppc_bitmask(27, 31);
pub const PC_SCRUB_OFFSET: u64 = ppc_bitmask(45, 63);
pub const PC_VPC_CWATCH_SPEC: u64 = 0x738;
pub const PC_VPC_CWATCH_BLOCKID: u64 = ppc_bitmask(27, 31);
pub const PC_VPC_CWATCH_OFFSET: u64 = ppc_bitmask(45, 63);
pub const PC_VPC_CWATCH_DAT0: u64 = 0x740;

// --- VC (virtualization controller), 0x800-0xfff ----------------------------------------
pub const VC_GLOBAL_CONFIG: u64 = 0x800;
pub const VC_GCONF_INDIRECT: u64 = ppc_bit(32);
pub const VC_VSD_TABLE_ADDR: u64 = 0x808;
pub const VC_VSD_TABLE_DATA: u64 = 0x810;
/// In `VC_VSD_TABLE_ADDR` and `PC_VSD_TABLE_ADDR`.
pub const VST_TABLE_SELECT: u64 = ppc_bitmask(13, 15);
pub const VST_TABLE_BLOCK: u64 = ppc_bitmask(27, 31);
pub const VST_TSEL_IVT: u64 = 0;
pub const VST_TSEL_SBE: u64 = 1;
pub const VST_TSEL_EQDT: u64 = 2;
pub const VST_TSEL_VPDT: u64 = 3;
pub const VST_TSEL_IRQ: u64 = 4;
/// The six overflow queues of table `VST_TSEL_IRQ` ("blocks" 0-5), one config register
/// each from `VC_IRQ_CONFIG_IPI` on, 8 bytes apart.
pub const VC_QUEUE_OVF_COUNT: u8 = 6;
pub const VC_IRQ_CONFIG_IPI: u64 = 0x840;
pub const VC_IRQ_CONFIG_MEMB_EN: u64 = ppc_bit(45);
pub const VC_IRQ_CONFIG_MEMB_SZ: u64 = ppc_bitmask(46, 51);
pub const VC_AIB_TX_ORDER_TAG2: u64 = 0x890;
pub const VC_AIB_TX_ORDER_TAG2_REL_TF: u64 = ppc_bit(20);
pub const VC_AT_MACRO_KILL: u64 = 0x8b0;
pub const VC_AT_MACRO_KILL_MASK: u64 = 0x8b8;
pub const VC_KILL_VALID: u64 = ppc_bit(0);
pub const VC_KILL_TYPE: u64 = ppc_bitmask(14, 15);
pub const VC_KILL_EQD: u64 = 3;
pub const VC_EQC_SCRUB_TRIG: u64 = 0x910;
pub const VC_EQC_SCRUB_MASK: u64 = 0x918;
pub const VC_EQC_CONFIG: u64 = 0x920;
pub const VC_EQC_CONF_SYNC_IPI: u64 = ppc_bit(32);
pub const VC_EQC_CONF_SYNC_HW: u64 = ppc_bit(33);
pub const VC_EQC_CONF_SYNC_ESC1: u64 = ppc_bit(34);
pub const VC_EQC_CONF_SYNC_ESC2: u64 = ppc_bit(35);
pub const VC_EQC_CONF_SYNC_REDI: u64 = ppc_bit(36);
pub const VC_EQC_SYNC_MASK: u64 = VC_EQC_CONF_SYNC_IPI
    | VC_EQC_CONF_SYNC_HW
    | VC_EQC_CONF_SYNC_ESC1
    | VC_EQC_CONF_SYNC_ESC2
    | VC_EQC_CONF_SYNC_REDI;
pub const VC_EQC_CONF_ENABLE_END_S_BIT: u64 = ppc_bit(39);
pub const VC_EQC_CONF_ENABLE_END_U_BIT: u64 = ppc_bit(40);
pub const VC_EQC_CWATCH_SPEC: u64 = 0x928;
pub const VC_EQC_CWATCH_BLOCKID: u64 = ppc_bitmask(28, 31);
pub const VC_EQC_CWATCH_OFFSET: u64 = ppc_bitmask(40, 63);
pub const VC_EQC_CWATCH_DAT0: u64 = 0x930;
pub const VC_IVC_SCRUB_TRIG: u64 = 0x990;
pub const VC_IVC_SCRUB_MASK: u64 = 0x998;
pub const VC_SBC_CONFIG: u64 = 0xa20;
pub const VC_SBC_CONF_NO_UPD_PRF: u64 = ppc_bit(59);
/// VC scrub trigger/mask fields (IVC, EQC).
pub const VC_SCRUB_VALID: u64 = ppc_bit(0);
pub const VC_SCRUB_WANT_INVAL: u64 = ppc_bit(2);
pub const VC_SCRUB_BLOCK_ID: u64 = ppc_bitmask(28, 31);
pub const VC_SCRUB_OFFSET: u64 = ppc_bitmask(40, 63);

// --- VSD ---------------------------------------------------------------------------------
pub const VSD_MODE: u64 = ppc_bitmask(0, 1);
pub const VSD_TSIZE: u64 = ppc_bitmask(59, 63);

// --- IC pages (64 KiB each) ------------------------------------------------------------
pub const IC_PAGE_SHIFT: u32 = 16;
/// Page 1: HW triggers, forwards and syncs.
pub const IC_NOTIFY_PAGE: u64 = 1;
/// Pages 4-7: the indirect TIMA, whose thread `PC_TCTXT_INDIR0` selects.
pub const IC_TM_INDIRECT_PAGE: u64 = 4;
/// Sync offsets in the notify page (skiboot `xive_sync`: `0x800 + n << 7`).
pub const NOTIFY_SYNC_IPI: u64 = 0xc00;
pub const NOTIFY_SYNC_HW: u64 = 0xc80;
pub const NOTIFY_SYNC_OS_ESC: u64 = 0xd00;
pub const NOTIFY_SYNC_HW_ESC: u64 = 0xd80;
pub const NOTIFY_SYNC_REDIS: u64 = 0xe00;

/// EDT and VDT sizes: the VC BAR is cut into 64 sets, the PC BAR into 16.
pub const VC_MAX_SETS: u64 = 64;
pub const PC_MAX_SETS: u64 = 16;

/// HW thread VP index base (`1 << 7` thread-id bits): the first NVT of the HW threads,
/// used by the NVT scrub workaround.
pub const HW_VP_BASE: u64 = 0x80;
