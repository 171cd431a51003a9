// SPDX-License-Identifier: Apache-2.0
//! POWER9 XIVE driver: [`Controller`] over [`Regs`], the register sequences of skiboot
//! `hw/xive.c` (xive.md §2.4, §7, §8.4, §9).
//!
//! Registers are reached through XSCOM only until the IC BAR and `CQ_PBI_CTL` are set,
//! then through IC page 0; the notify page (1) takes the sync stores and pages 4-7 are the
//! indirect TIMA.

use alloc::vec::Vec;

use super::p9_regs::*;
use super::{
    cache_watch, check_bar, dummy_watch, field, find, get_field, poll, set_field, InitError,
    Instance, Watch, ESB_GET, TM_CPPR, TM_QW3B2_VT, TM_QW3_HV_PHYS, TM_SPC_PULL_POOL_CTX, TM_WORD2,
};
use crate::hw::{Busy, Controller, Gen, Regs, Vst};
use crate::phys_map::ESB_PAIR_SHIFT;

/// IC BAR: 8 pages of 64 KiB.
const IC_SIZE: u64 = 8 << IC_PAGE_SHIFT;
/// TM BAR: 4 pages of 64 KiB.
const TM_SIZE: u64 = 4 << 16;
/// NVT dwords (64-byte NVT).
const NVT_DWORDS: usize = 8;

/// The XIVE units of a POWER9 machine.
pub struct P9<R: Regs> {
    regs: R,
    instances: Vec<Instance>,
    fused_cores: bool,
}

impl<R: Regs> P9<R> {
    pub fn new(regs: R, instances: Vec<Instance>) -> Self {
        Self {
            regs,
            instances,
            fused_cores: false,
        }
    }

    /// Declares that the cores run in fused-core mode (`PC_TCTXT_CFG.FUSE_CORE_EN`, which
    /// skiboot takes from the boot CPU). Normal-core mode otherwise.
    pub fn with_fused_cores(mut self, fused: bool) -> Self {
        self.fused_cores = fused;
        self
    }

    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    pub fn regs(&self) -> &R {
        &self.regs
    }

    /// Per-instance bring-up (xive.md §2.4 steps 2-5): BARs and `CQ_PBI_CTL` over XSCOM,
    /// then over MMIO the global configuration (indirect tables, block id, presenter and
    /// cache settings, FIR masks) and the EDT/VDT set translation. VSDs and threads are
    /// left to the logic.
    pub fn init_instance(&mut self, blk: u8) -> Result<(), InitError> {
        let inst = *self
            .instances
            .iter()
            .find(|i| i.blk == blk)
            .ok_or(InitError::UnknownBlock(blk))?;
        // The block id fields (PC_TCTXT_CHIPID, EDT/VDT) are 4 bits.
        if blk > 15 {
            return Err(InitError::UnknownBlock(blk));
        }
        let b = inst.bars;
        check_bar("IC", b.ic, b.ic_size, IC_SIZE, IC_SIZE)?;
        check_bar("TM", b.tm, TM_SIZE, TM_SIZE, TM_SIZE)?;
        let pc_barm = bar_mask("PC", b.pc, b.pc_size, CQ_PC_BARM_MASK)?;
        let vc_barm = bar_mask("VC", b.vc, b.vc_size, CQ_VC_BARM_MASK)?;
        let set_size = b.vc_size / VC_MAX_SETS;
        let ipi_sets = b.end_esb.wrapping_sub(b.vc) / set_size;
        if b.end_esb < b.vc
            || (b.end_esb - b.vc) % set_size != 0
            || !(1..VC_MAX_SETS).contains(&ipi_sets)
        {
            return Err(InitError::BadEdtSplit {
                vc: b.vc,
                end_esb: b.end_esb,
            });
        }

        // BARs and page sizes: XSCOM, since the IC registers are not mapped yet.
        self.xscom_write(blk, CQ_IC_BAR, b.ic | CQ_IC_BAR_VALID | CQ_IC_BAR_64K);
        // Every chip gets chip 0's TIMA address (skiboot; QEMU maps it for chip 0 only).
        self.xscom_write(blk, CQ_TM1_BAR, b.tm | CQ_TM_BAR_VALID | CQ_TM_BAR_64K);
        self.xscom_write(blk, CQ_TM2_BAR, 0);
        // PC and VC: invalidate, set the size mask, then the base with VALID.
        self.xscom_write(blk, CQ_PC_BAR, 0);
        self.xscom_write(blk, CQ_PC_BARM, pc_barm);
        self.xscom_write(blk, CQ_PC_BAR, b.pc | CQ_PC_BAR_VALID);
        self.xscom_write(blk, CQ_VC_BAR, 0);
        self.xscom_write(blk, CQ_VC_BARM, vc_barm);
        self.xscom_write(blk, CQ_VC_BAR, b.vc | CQ_VC_BAR_VALID);
        self.xscom_write(
            blk,
            CQ_PBI_CTL,
            CQ_PBI_PC_64K | CQ_PBI_VC_64K | CQ_PBI_FORCE_TM_LOCAL,
        );

        // The rest through MMIO.
        let ic = b.ic;
        let blk64 = u64::from(blk);
        // QEMU refuses indirect VSDs until VC_GLOBAL_CONFIG.INDIRECT is set.
        self.modify(ic, VC_GLOBAL_CONFIG, |v| v | VC_GCONF_INDIRECT);
        self.modify(ic, PC_GLOBAL_CONFIG, |v| {
            set_field(
                PC_GCONF_CHIPID,
                v | PC_GCONF_INDIRECT | PC_GCONF_CHIPID_OVR,
                blk64,
            )
        });
        // The block id the presenter and router use (QEMU's too): CHIPID_OVERRIDE+CHIPID.
        // STORE_ACK off: NVT word 1 holds the END base, not a pressure-relief address.
        let fused = self.fused_cores;
        let tctxt = self.modify(ic, PC_TCTXT_CFG, |v| {
            let mut v = v
                | PC_TCTXT_CFG_BLKGRP_EN
                | PC_TCTXT_CFG_TARGET_EN
                | PC_TCTXT_CFG_LGS_EN
                | PC_TCTXT_CFG_HARD_CHIPID_BLK
                | PC_TCTXT_CHIPID_OVERRIDE;
            v = set_field(PC_TCTXT_CHIPID, v, blk64);
            v = set_field(PC_TCTXT_INIT_AGE, v, 2);
            v &= !PC_TCTXT_CFG_STORE_ACK;
            if fused {
                v | PC_TCTXT_CFG_FUSE_CORE_EN
            } else {
                v & !PC_TCTXT_CFG_FUSE_CORE_EN
            }
        });
        let id_fields = PC_TCTXT_CHIPID_OVERRIDE | PC_TCTXT_CHIPID;
        let read = self.read(ic, PC_TCTXT_CFG);
        if read & id_fields != tctxt & id_fields {
            return Err(InitError::ReadBack {
                reg: "PC_TCTXT_CFG",
                wrote: tctxt,
                read,
            });
        }
        // One block per chip.
        self.modify(ic, CQ_CFG_PB_GEN, |v| set_field(CQ_INT_ADDR_OPT, v, 2));
        // Store EOI stays off on P9 (skiboot); no prefetch update.
        self.modify(ic, VC_SBC_CONFIG, |v| v | VC_SBC_CONF_NO_UPD_PRF);
        // Block tracking off (Nimbus errata), relaxed trigger-forward ordering on.
        self.modify(ic, PC_TCTXT_TRACK, |v| v & !PC_TCTXT_TRACK_EN);
        self.modify(ic, VC_AIB_TX_ORDER_TAG2, |v| {
            v | VC_AIB_TX_ORDER_TAG2_REL_TF
        });
        // END s and u bits (silent / unconditional escalation). The sync-done bits are
        // written back as 0, as the sync procedure does.
        self.modify(ic, VC_EQC_CONFIG, |v| {
            (v & !VC_EQC_SYNC_MASK) | VC_EQC_CONF_ENABLE_END_S_BIT | VC_EQC_CONF_ENABLE_END_U_BIT
        });
        self.write(ic, CQ_FIRMASK_OR, CQ_FIR_VC_INFO_ERROR_0_1);
        // A load from an IPI trigger page (which user space may map) must not checkstop.
        self.write(ic, CQ_FIRMASK_OR, CQ_FIR_PB_RCMDX_CI_ERR1);

        // EDT: the IPI sets, then the END sets, all local; QEMU sizes the ESB windows only
        // once all 64 entries are written. VDT: 16 local PC sets.
        self.write(ic, CQ_TAR, CQ_TAR_TBL_AUTOINC | CQ_TAR_TSEL_EDT);
        for set in 0..VC_MAX_SETS {
            let kind = if set < ipi_sets {
                CQ_TDR_EDT_IPI
            } else {
                CQ_TDR_EDT_EQ
            };
            let entry = field(CQ_TDR_EDT_TYPE, kind)
                | field(CQ_TDR_EDT_BLK, blk64)
                | field(CQ_TDR_EDT_INDEX, set);
            self.write(ic, CQ_TDR, entry);
        }
        self.write(ic, CQ_TAR, CQ_TAR_TBL_AUTOINC | CQ_TAR_TSEL_VDT);
        for set in 0..PC_MAX_SETS {
            let entry =
                CQ_TDR_VDT_VALID | field(CQ_TDR_VDT_BLK, blk64) | field(CQ_TDR_VDT_INDEX, set);
            self.write(ic, CQ_TDR, entry);
        }
        Ok(())
    }

    fn xscom_write(&mut self, blk: u8, cq_offset: u64, value: u64) {
        self.regs.xscom_write(blk, (cq_offset >> 3) as u32, value);
    }

    fn read(&mut self, ic: u64, offset: u64) -> u64 {
        self.regs.load64(ic + offset)
    }

    fn write(&mut self, ic: u64, offset: u64, value: u64) {
        self.regs.store64(ic + offset, value);
    }

    /// Read-modify-write of an IC register; returns the value written.
    fn modify(&mut self, ic: u64, offset: u64, f: impl FnOnce(u64) -> u64) -> u64 {
        let v = f(self.read(ic, offset));
        self.write(ic, offset, v);
        v
    }

    fn instance(&self, blk: u8) -> Option<Instance> {
        find(&self.instances, blk).copied()
    }

    /// Writes the scrub mask and trigger, polls VALID clear, then `sync` (skiboot
    /// `__xive_cache_scrub`; WANT_INVAL is always set, as skiboot forces it).
    fn scrub(&mut self, ic: u64, what: &str, mask_reg: u64, mask: u64, trig_reg: u64, trig: u64) {
        self.write(ic, mask_reg, mask);
        self.write(ic, trig_reg, trig);
        let regs = &mut self.regs;
        if poll(|| regs.load64(ic + trig_reg), |v| v & VC_SCRUB_VALID == 0).is_none() {
            log::error!("XIVE: {what} scrub {trig:#018x} timed out");
        }
        self.regs.barrier();
    }

    fn eqc_scrub(&mut self, inst: Instance, idx: u32) {
        let target = field(VC_SCRUB_BLOCK_ID, inst.blk.into()) | field(VC_SCRUB_OFFSET, idx.into());
        self.scrub(
            inst.bars.ic,
            "EQC",
            VC_EQC_SCRUB_MASK,
            VC_SCRUB_BLOCK_ID | VC_SCRUB_OFFSET,
            VC_EQC_SCRUB_TRIG,
            VC_SCRUB_VALID | VC_SCRUB_WANT_INVAL | target,
        );
        // Scrub completion is not ordered with later loads: a side-effect-free load from
        // the END's ESn page waits for the written-back data (xive.md §9).
        let esn = inst.bars.end_esb + (u64::from(idx) << ESB_PAIR_SHIFT);
        self.regs.load64(esn + ESB_GET);
    }

    fn vpc_scrub(&mut self, inst: Instance, idx: u32) {
        let target = field(PC_SCRUB_BLOCK_ID, inst.blk.into()) | field(PC_SCRUB_OFFSET, idx.into());
        self.scrub(
            inst.bars.ic,
            "VPC",
            PC_VPC_SCRUB_MASK,
            PC_SCRUB_BLOCK_ID | PC_SCRUB_OFFSET,
            PC_VPC_SCRUB_TRIG,
            PC_SCRUB_VALID | PC_SCRUB_WANT_INVAL | target,
        );
        // The NVT variant of the ordering workaround: a no-op watch of the first HW
        // thread's NVT, which is never in a donated page that may be about to go away.
        dummy_watch(
            &mut self.regs,
            nvt_watch(inst.bars.ic),
            nvt_spec(inst.blk, HW_VP_BASE),
        );
    }

    /// Polls a kill register until VALID clears.
    fn kill(&mut self, ic: u64, what: &str, mask_reg: u64, kill_reg: u64, kill: u64) {
        // Mask 0: every block and offset.
        self.write(ic, mask_reg, 0);
        self.write(ic, kill_reg, kill);
        let regs = &mut self.regs;
        if poll(|| regs.load64(ic + kill_reg), |v| v & VC_KILL_VALID == 0).is_none() {
            log::error!("XIVE: {what} translation kill timed out");
        }
    }
}

/// The BARM value for a PC/VC BAR of `size`, checked to give `size` back the way the
/// hardware (and QEMU) computes it: `(!barm + 1) & mask`.
fn bar_mask(bar: &'static str, base: u64, size: u64, mask: u64) -> Result<u64, InitError> {
    let bad = InitError::BadBar { bar, base, size };
    if !size.is_power_of_two() || !base.is_multiple_of(size) {
        return Err(bad);
    }
    let barm = !(size - 1) & mask;
    if (!barm).wrapping_add(1) & mask != size {
        return Err(bad);
    }
    Ok(barm)
}

fn end_watch(ic: u64) -> Watch {
    Watch {
        spec: ic + VC_EQC_CWATCH_SPEC,
        data0: ic + VC_EQC_CWATCH_DAT0,
    }
}

fn end_spec(blk: u8, idx: u32) -> u64 {
    field(VC_EQC_CWATCH_BLOCKID, blk.into()) | field(VC_EQC_CWATCH_OFFSET, idx.into())
}

fn nvt_watch(ic: u64) -> Watch {
    Watch {
        spec: ic + PC_VPC_CWATCH_SPEC,
        data0: ic + PC_VPC_CWATCH_DAT0,
    }
}

fn nvt_spec(blk: u8, idx: u64) -> u64 {
    field(PC_VPC_CWATCH_BLOCKID, blk.into()) | field(PC_VPC_CWATCH_OFFSET, idx)
}

impl<R: Regs> Controller for P9<R> {
    fn gen(&self) -> Gen {
        Gen::P9
    }

    #[inline(always)]
    fn read64(&self, pa: u64) -> u64 {
        self.regs.mem_read64(pa)
    }

    #[inline(always)]
    fn write64(&mut self, pa: u64, value: u64) {
        self.regs.mem_write64(pa, value);
    }

    /// Table selects: IVT 0, SBE 1, EQDT 2, VPDT 3 (VC and PC copies, as skiboot writes
    /// even the IVT's), IRQ 4 for the overflow queues (VC only, VSD block = queue number,
    /// `target` unused) with the matching `VC_IRQ_CONFIG_*` enabled for a valid VSD.
    fn set_vsd(&mut self, blk: u8, table: Vst, target: u8, vsd: u64) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        let ic = inst.bars.ic;
        let (select, index) = match table {
            Vst::Eas => (VST_TSEL_IVT, target),
            Vst::Esb => (VST_TSEL_SBE, target),
            Vst::End => (VST_TSEL_EQDT, target),
            Vst::Nvt => (VST_TSEL_VPDT, target),
            Vst::Overflow(n) if n < VC_QUEUE_OVF_COUNT => (VST_TSEL_IRQ, n),
            Vst::Overflow(n) => {
                log::error!("XIVE: blk {blk}: no overflow queue {n} on P9");
                return;
            }
        };
        if index > 15 {
            log::error!("XIVE: blk {blk}: VSD for block {index} out of range");
            return;
        }
        let addr = field(VST_TABLE_SELECT, select) | field(VST_TABLE_BLOCK, index.into());
        // The table contents must be visible before the VSD publishes them.
        self.regs.barrier();
        self.write(ic, VC_VSD_TABLE_ADDR, addr);
        self.write(ic, VC_VSD_TABLE_DATA, vsd);
        if select == VST_TSEL_IRQ {
            let cfg = VC_IRQ_CONFIG_IPI + 8 * u64::from(index);
            self.modify(ic, cfg, |v| {
                if get_field(VSD_MODE, vsd) == 0 {
                    v & !VC_IRQ_CONFIG_MEMB_EN
                } else {
                    // Same encoding as TSIZE: skiboot writes 4 for its 64 KiB pages.
                    set_field(VC_IRQ_CONFIG_MEMB_SZ, v, get_field(VSD_TSIZE, vsd))
                        | VC_IRQ_CONFIG_MEMB_EN
                }
            });
        } else {
            self.write(ic, PC_VSD_TABLE_ADDR, addr);
            self.write(ic, PC_VSD_TABLE_DATA, vsd);
        }
    }

    fn eas_invalidate(&mut self, blk: u8, idx: u32) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        // The EAS was written to RAM just before: order it before the scrub.
        self.regs.barrier();
        let target = field(VC_SCRUB_BLOCK_ID, blk.into()) | field(VC_SCRUB_OFFSET, idx.into());
        self.scrub(
            inst.bars.ic,
            "IVC",
            VC_IVC_SCRUB_MASK,
            VC_SCRUB_BLOCK_ID | VC_SCRUB_OFFSET,
            VC_IVC_SCRUB_TRIG,
            VC_SCRUB_VALID | VC_SCRUB_WANT_INVAL | target,
        );
    }

    fn end_flush(&mut self, blk: u8, idx: u32) {
        if let Some(inst) = self.instance(blk) {
            self.eqc_scrub(inst, idx);
        }
    }

    fn end_update(&mut self, blk: u8, idx: u32, dwords: &[u64; 4], sync: bool) -> Result<(), Busy> {
        let inst = self.instance(blk).ok_or(Busy)?;
        let watch = end_watch(inst.bars.ic);
        cache_watch(
            &mut self.regs,
            watch,
            end_spec(blk, idx),
            false,
            0,
            dwords,
            sync,
        )?;
        self.eqc_scrub(inst, idx);
        Ok(())
    }

    fn end_update_escalation(
        &mut self,
        blk: u8,
        idx: u32,
        dword2: u64,
        sync: bool,
    ) -> Result<(), Busy> {
        let inst = self.instance(blk).ok_or(Busy)?;
        let watch = end_watch(inst.bars.ic);
        cache_watch(
            &mut self.regs,
            watch,
            end_spec(blk, idx),
            true,
            2,
            &[dword2],
            sync,
        )?;
        self.eqc_scrub(inst, idx);
        Ok(())
    }

    fn nvt_flush(&mut self, blk: u8, idx: u32) {
        if let Some(inst) = self.instance(blk) {
            self.vpc_scrub(inst, idx);
        }
    }

    fn nvt_update(&mut self, blk: u8, idx: u32, dwords: &[u64], sync: bool) -> Result<(), Busy> {
        let inst = self.instance(blk).ok_or(Busy)?;
        if dwords.len() != NVT_DWORDS {
            log::error!(
                "XIVE: blk {blk}: NVT {idx:#x} update with {} dwords, P9 NVTs have {NVT_DWORDS}",
                dwords.len()
            );
            return Err(Busy);
        }
        let watch = nvt_watch(inst.bars.ic);
        let spec = nvt_spec(blk, idx.into());
        cache_watch(&mut self.regs, watch, spec, false, 0, dwords, sync)?;
        self.vpc_scrub(inst, idx);
        Ok(())
    }

    fn kill_translations(&mut self, blk: u8) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        let ic = inst.bars.ic;
        let eqd = VC_KILL_VALID | field(VC_KILL_TYPE, VC_KILL_EQD);
        self.kill(ic, "VC EQD", VC_AT_MACRO_KILL_MASK, VC_AT_MACRO_KILL, eqd);
        self.kill(ic, "PC", PC_AT_KILL_MASK, PC_AT_KILL, PC_AT_KILL_VALID);
    }

    fn sync(&mut self, blk: u8) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        let ic = inst.bars.ic;
        let notify = ic + (IC_NOTIFY_PAGE << IC_PAGE_SHIFT);
        for offset in [
            NOTIFY_SYNC_OS_ESC,
            NOTIFY_SYNC_HW_ESC,
            NOTIFY_SYNC_REDIS,
            NOTIFY_SYNC_IPI,
            NOTIFY_SYNC_HW,
        ] {
            self.regs.store64(notify + offset, 0);
        }
        let regs = &mut self.regs;
        let done = poll(
            || regs.load64(ic + VC_EQC_CONFIG),
            |v| v & VC_EQC_SYNC_MASK == VC_EQC_SYNC_MASK,
        );
        match done {
            Some(v) => self.write(ic, VC_EQC_CONFIG, v & !VC_EQC_SYNC_MASK),
            None => log::error!("XIVE: blk {blk}: sync timed out"),
        }
        // Hardware workaround: one read before another sync may start.
        self.read(ic, VC_GLOBAL_CONFIG);
    }

    fn esb_load(&mut self, addr: u64) -> u64 {
        self.regs.load64(addr)
    }

    fn esb_store(&mut self, addr: u64, value: u64) {
        self.regs.store64(addr, value);
    }

    fn thread_enable(&mut self, blk: u8, pir: u32, enable: bool) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        let ic = inst.bars.ic;
        // REG0 covers fused cores 0-7, REG1 8-11; one bit per PIR & 0x3f.
        let (reg, set, clr) = if (pir >> 3) & 0xf < 8 {
            (
                PC_THREAD_EN_REG0,
                PC_THREAD_EN_REG0_SET,
                PC_THREAD_EN_REG0_CLR,
            )
        } else {
            (
                PC_THREAD_EN_REG1,
                PC_THREAD_EN_REG1_SET,
                PC_THREAD_EN_REG1_CLR,
            )
        };
        let bit = ppc_bit_of(pir);
        self.write(ic, clr, bit);
        if enable {
            self.write(ic, set, bit);
        }
        // The read also makes later TIMA accesses see the new state.
        let now = self.read(ic, reg);
        if (now & bit != 0) != enable {
            log::error!(
                "XIVE: blk {blk}: thread {pir:#x} enable={enable} did not take ({now:#018x})"
            );
        }
    }

    fn tima_reset(&mut self, blk: u8, pir: u32) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        // INDIR0 holds a 7-bit thread id; the chip is the instance's own.
        if pir & 0x80 != 0 {
            log::error!("XIVE: blk {blk}: PIR {pir:#x} has no indirect TIMA thread id");
            return;
        }
        let ic = inst.bars.ic;
        let sel = PC_TCTXT_INDIR_VALID | field(PC_TCTXT_INDIR_THRDID, (pir & 0x7f).into());
        self.write(ic, PC_TCTXT_INDIR0, sel);
        // Hardware workaround: read the selection back before using the pages.
        self.read(ic, PC_TCTXT_INDIR0);
        let tm = ic + (IC_TM_INDIRECT_PAGE << IC_PAGE_SHIFT);
        // VT first: XIVE2 (QEMU too) rejects a PHYS CPPR change while the ring is invalid.
        self.regs
            .store8(tm + TM_QW3_HV_PHYS + TM_WORD2, TM_QW3B2_VT);
        let w2 = self.regs.load8(tm + TM_QW3_HV_PHYS + TM_WORD2);
        if w2 & TM_QW3B2_VT == 0 {
            log::error!("XIVE: blk {blk}: thread {pir:#x} PHYS ring VT did not set ({w2:#04x})");
        }
        self.regs.store8(tm + TM_QW3_HV_PHYS + TM_CPPR, 0);
        self.regs.load64(tm + TM_SPC_PULL_POOL_CTX);
        self.write(ic, PC_TCTXT_INDIR0, 0);
    }

    fn tima_ring(&mut self, blk: u8, pir: u32, ring: u8) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        let Some(inst) = self.instance(blk) else {
            return bytes;
        };
        if pir & 0x80 != 0 || ring > 3 {
            return bytes;
        }
        let ic = inst.bars.ic;
        let sel = PC_TCTXT_INDIR_VALID | field(PC_TCTXT_INDIR_THRDID, (pir & 0x7f).into());
        self.write(ic, PC_TCTXT_INDIR0, sel);
        self.read(ic, PC_TCTXT_INDIR0);
        let ring_base = ic + (IC_TM_INDIRECT_PAGE << IC_PAGE_SHIFT) + 0x10 * u64::from(ring);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = self.regs.load8(ring_base + i as u64);
        }
        self.write(ic, PC_TCTXT_INDIR0, 0);
        bytes
    }
}

/// The thread-enable bit of `pir`.
fn ppc_bit_of(pir: u32) -> u64 {
    super::ppc_bit(pir & 0x3f)
}

#[cfg(test)]
mod tests;
