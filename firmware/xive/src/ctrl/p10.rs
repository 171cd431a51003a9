// SPDX-License-Identifier: Apache-2.0
//! POWER10 XIVE2 driver: [`Controller`] over [`Regs`], the register sequences of skiboot
//! `hw/xive2.c` (xive.md §11).
//!
//! The BARs are written over XSCOM (skiboot `xive_regwx`), everything else through the
//! IC pages: 0 CQ, 1 VC, 2 PC, 3 TCTXT, 6 sync poll, 256-383 the per-thread TIMA pages.

use alloc::vec::Vec;

use super::p10_regs::*;
use super::{
    cache_watch, check_bar, field, find, get_field, poll, set_field, InitError, Instance, Watch,
    TM_CPPR, TM_QW3B2_VT, TM_QW3_HV_PHYS, TM_SPC_PULL_POOL_CTX, TM_WORD2,
};
use crate::hw::{Busy, Controller, Gen, Regs, Vst};

/// IC BAR: 512 pages of 64 KiB.
const IC_SIZE: u64 = 512 << IC_PAGE_SHIFT;
/// TM BAR: 4 pages of 64 KiB.
const TM_SIZE: u64 = 4 << 16;
/// NVP dwords (32-byte NVP).
const NVP_DWORDS: usize = 4;
/// The XIVE2 generation `CQ_XIVE_CAP.VERSION` must report.
const XIVE_GEN2: u64 = 2;

/// What `init_instance` read and wrote, for the logic (store EOI, save-restore, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Config {
    capabilities: u64,
    configuration: u64,
}

/// The XIVE2 units of a POWER10 machine.
pub struct P10<R: Regs> {
    regs: R,
    instances: Vec<Instance>,
    configs: Vec<Option<Config>>,
    fused_cores: bool,
}

impl<R: Regs> P10<R> {
    pub fn new(regs: R, instances: Vec<Instance>) -> Self {
        let configs = alloc::vec![None; instances.len()];
        Self {
            regs,
            instances,
            configs,
            fused_cores: false,
        }
    }

    /// Declares that the cores run in fused-core mode (`TCTXT_CFG.FUSE_CORE_EN`, which
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

    /// `CQ_XIVE_CAP` as read by `init_instance` (None before it ran).
    pub fn capabilities(&self, blk: u8) -> Option<u64> {
        self.config_of(blk).map(|c| c.capabilities)
    }

    /// `CQ_XIVE_CFG` as written by `init_instance`: 7-bit thread ids (HW VPs from 0x80),
    /// 8 priorities, block id override, VP save-restore when the unit has it.
    pub fn configuration(&self, blk: u8) -> Option<u64> {
        self.config_of(blk).map(|c| c.configuration)
    }

    fn config_of(&self, blk: u8) -> Option<Config> {
        let i = self.instances.iter().position(|i| i.blk == blk)?;
        self.configs[i]
    }

    /// Per-instance bring-up (xive.md §11.1-11.3): BAR reset, IC and TM BARs, the
    /// capability check and `CQ_XIVE_CFG` (verified by read-back), FIR masks, thread
    /// context and ESB cache configuration, set translation, the ESB/END/NVPG BARs and
    /// the IC VSDs (local and forward, indexed by chip id: a table the logic's [`Vst`]
    /// does not name and that needs no memory). Other VSDs and threads are the logic's.
    pub fn init_instance(&mut self, blk: u8) -> Result<(), InitError> {
        let pos = self
            .instances
            .iter()
            .position(|i| i.blk == blk)
            .ok_or(InitError::UnknownBlock(blk))?;
        // Set translation and the VSD block fields are 4 bits.
        if blk > 15 {
            return Err(InitError::UnknownBlock(blk));
        }
        let b = self.instances[pos].bars;
        check_bar("IC", b.ic, b.ic_size, IC_SIZE, IC_SIZE)?;
        check_bar("TM", b.tm, TM_SIZE, TM_SIZE, TM_SIZE)?;
        let esb_bar = range_bar("ESB", b.vc, b.vc_size)?;
        let end_bar = range_bar("END", b.end, b.end_size)?;
        let nvpg_bar = range_bar("NVPG", b.pc, b.pc_size)?;

        // All BARs back to 0 first, then the IC and TIMA windows.
        self.regs
            .xscom_write(blk, X_CQ_RST_CTL, CQ_RST_PB_BAR_RESET);
        self.regs
            .xscom_write(blk, X_CQ_IC_BAR, b.ic | CQ_IC_BAR_VALID | CQ_IC_BAR_64K);
        // Every chip gets chip 0's TIMA address (skiboot).
        self.regs
            .xscom_write(blk, X_CQ_TM_BAR, b.tm | CQ_TM_BAR_VALID | CQ_TM_BAR_64K);

        let ic = b.ic;
        let capabilities = self.read(ic, X_CQ_XIVE_CAP);
        let version = get_field(CQ_XIVE_CAP_VERSION, capabilities);
        if version != XIVE_GEN2 {
            return Err(InitError::UnsupportedVersion(version));
        }
        // P10/P11 quirk: 7-bit thread ids whatever the default says. The block id is ours,
        // not the chip's topology id, which the hardware (and QEMU) use otherwise.
        let mut configuration = field(CQ_XIVE_CFG_VP_INT_PRIO, CQ_XIVE_CFG_INT_PRIO_8)
            | field(CQ_XIVE_CFG_HYP_HARD_RANGE, CQ_XIVE_CFG_THREADID_7BITS)
            | CQ_XIVE_CFG_HYP_HARD_BLKID_OVERRIDE
            | field(CQ_XIVE_CFG_HYP_HARD_BLOCK_ID, blk.into());
        if capabilities & CQ_XIVE_CAP_VP_SAVE_RESTORE != 0 {
            configuration |= CQ_XIVE_CFG_EN_VP_SAVE_RESTORE;
        }
        self.write(ic, X_CQ_XIVE_CFG, configuration);
        let read = self.read(ic, X_CQ_XIVE_CFG);
        if read != configuration {
            return Err(InitError::ReadBack {
                reg: "CQ_XIVE_CFG",
                wrote: configuration,
                read,
            });
        }
        self.write(ic, X_CQ_FIRMASK_OR, CQ_FIR_VC_INFO_ERROR_0_2);
        // A load from an IPI trigger page (which user space may map) must not checkstop.
        self.write(ic, X_CQ_FIRMASK_OR, CQ_FIR_PB_RCMDX_CI_ERR1);
        let fused = self.fused_cores;
        self.modify(ic, X_TCTXT_CFG, |v| {
            if fused {
                v | TCTXT_CFG_FUSE_CORE_EN
            } else {
                v & !TCTXT_CFG_FUSE_CORE_EN
            }
        });
        // With PQ-disable (PHB ESBs kept in the ESB cache), split the cache between PHB
        // and IPI ESBs and track trigger origins (skiboot `xive_config_esb_cache`).
        self.modify(ic, X_VC_ESBC_CFG, |v| {
            if capabilities & CQ_XIVE_CAP_PHB_PQ_DISABLE != 0 {
                set_field(
                    VC_ESBC_CFG_MAX_ENTRIES_IN_MODIFIED,
                    v | VC_ESBC_CFG_SPLIT_MODE | VC_ESBC_CFG_HASH_ARRAY_ENABLE,
                    0xe,
                )
            } else {
                v & !VC_ESBC_CFG_SPLIT_MODE
            }
        });

        // Set translation: every ESB, END and NVPG set is the local block.
        for select in [CQ_TAR_ESB, CQ_TAR_END, CQ_TAR_NVPG] {
            self.write(ic, X_CQ_TAR, CQ_TAR_AUTOINC | field(CQ_TAR_SELECT, select));
            for _ in 0..XIVE_MAX_BLOCKS {
                self.write(
                    ic,
                    X_CQ_TDR,
                    CQ_TDR_VALID | field(CQ_TDR_BLOCK_ID, blk.into()),
                );
            }
        }

        // The structure BARs (skiboot leaves NVC unset: no crowds).
        self.regs.xscom_write(blk, X_CQ_NVPG_BAR, nvpg_bar);
        self.regs.xscom_write(blk, X_CQ_ESB_BAR, esb_bar);
        self.regs.xscom_write(blk, X_CQ_END_BAR, end_bar);

        // IC VSDs, VC only, indexed by chip id: this unit's own IC, and a forward to each
        // other unit's IC.
        let ic_tsize = u64::from(IC_SIZE.trailing_zeros() - 12);
        let others: Vec<(u32, u64, bool)> = self
            .instances
            .iter()
            .map(|o| (o.chip_id, o.bars.ic, o.blk == blk))
            .collect();
        for (chip_id, other_ic, local) in others {
            if chip_id > 15 {
                log::error!("XIVE: blk {blk}: chip id {chip_id} has no IC VSD slot");
                continue;
            }
            let mode = if local {
                VSD_MODE_EXCLUSIVE
            } else {
                VSD_MODE_FORWARD
            };
            let vsd =
                field(VSD_MODE, mode) | (other_ic & VSD_ADDRESS_MASK) | field(VSD_TSIZE, ic_tsize);
            self.write_vsd(ic, VST_IC, chip_id.into(), vsd, false);
        }

        self.configs[pos] = Some(Config {
            capabilities,
            configuration,
        });
        Ok(())
    }

    fn read(&mut self, ic: u64, x: u32) -> u64 {
        self.regs.load64(mmio(ic, x))
    }

    fn write(&mut self, ic: u64, x: u32, value: u64) {
        self.regs.store64(mmio(ic, x), value);
    }

    /// Read-modify-write of an IC register; returns the value written.
    fn modify(&mut self, ic: u64, x: u32, f: impl FnOnce(u64) -> u64) -> u64 {
        let v = f(self.read(ic, x));
        self.write(ic, x, v);
        v
    }

    fn instance(&self, blk: u8) -> Option<Instance> {
        find(&self.instances, blk).copied()
    }

    /// VC copy, then the PC copy when `pc` (skiboot `xive_set_vsd`).
    fn write_vsd(&mut self, ic: u64, select: u64, index: u64, vsd: u64, pc: bool) {
        let addr = field(VSD_TABLE_SELECT, select) | field(VSD_TABLE_ADDRESS, index);
        self.write(ic, X_VC_VSD_TABLE_ADDR, addr);
        self.write(ic, X_VC_VSD_TABLE_DATA, vsd);
        if pc {
            self.write(ic, X_PC_VSD_TABLE_ADDR, addr);
            self.write(ic, X_PC_VSD_TABLE_DATA, vsd);
        }
    }

    /// Writes a cache's FLUSH_POLL (which starts the flush) and polls its FLUSH_CTRL
    /// until POLL_VALID clears (skiboot `__xive_cache_scrub`). skiboot never sets
    /// WANT_INVALIDATE in FLUSH_CTRL, and QEMU rejects writes to it: the entry is written
    /// back, which is what the callers need.
    fn flush(&mut self, ic: u64, what: &str, poll_reg: u32, ctrl_reg: u32, poll_value: u64) {
        self.write(ic, poll_reg, poll_value);
        let regs = &mut self.regs;
        let ctrl = mmio(ic, ctrl_reg);
        if poll(|| regs.load64(ctrl), |v| v & FLUSH_CTRL_POLL_VALID == 0).is_none() {
            log::error!("XIVE: {what} flush {poll_value:#018x} timed out");
        }
        self.regs.barrier();
    }

    fn endc_flush(&mut self, inst: Instance, idx: u32) {
        let value = field(VC_ENDC_FLUSH_POLL_BLOCK_ID, inst.blk.into())
            | field(VC_ENDC_FLUSH_POLL_OFFSET, idx.into())
            | VC_ENDC_FLUSH_POLL_BLOCK_ID_MASK
            | VC_ENDC_FLUSH_POLL_OFFSET_MASK;
        self.flush(
            inst.bars.ic,
            "ENDC",
            X_VC_ENDC_FLUSH_POLL,
            X_VC_ENDC_FLUSH_CTRL,
            value,
        );
    }

    fn nxc_flush(&mut self, inst: Instance, idx: u32) {
        let value = field(PC_NXC_FLUSH_POLL_BLOCK_ID, inst.blk.into())
            | field(PC_NXC_FLUSH_POLL_OFFSET, idx.into())
            | PC_NXC_FLUSH_POLL_BLOCK_ID_MASK
            | PC_NXC_FLUSH_POLL_OFFSET_MASK;
        self.flush(
            inst.bars.ic,
            "NXC",
            X_PC_NXC_FLUSH_POLL,
            X_PC_NXC_FLUSH_CTRL,
            value,
        );
    }

    /// Polls a kill register until VALID clears.
    fn kill(&mut self, ic: u64, what: &str, mask_reg: u32, kill_reg: u32, kill: u64) {
        // Mask 0: every block and offset.
        self.write(ic, mask_reg, 0);
        self.write(ic, kill_reg, kill);
        let regs = &mut self.regs;
        let reg = mmio(ic, kill_reg);
        if poll(|| regs.load64(reg), |v| v & VC_AT_MACRO_KILL_VALID == 0).is_none() {
            log::error!("XIVE: {what} translation kill timed out");
        }
    }
}

/// ESB/END/NVPG BAR value: 64 KiB pages, one set covering the BAR, RANGE = log2(size)-24.
fn range_bar(bar: &'static str, base: u64, size: u64) -> Result<u64, InitError> {
    check_bar(bar, base, size, 1 << 24, 1 << 55)?;
    if base & !CQ_BAR_ADDR != 0 {
        return Err(InitError::BadBar { bar, base, size });
    }
    let range = u64::from(size.trailing_zeros() - 24);
    Ok(base | CQ_BAR_VALID | CQ_BAR_64K | field(CQ_BAR_RANGE, range))
}

fn end_watch(ic: u64) -> Watch {
    Watch {
        spec: mmio(ic, X_VC_ENDC_WATCH0_SPEC),
        data0: mmio(ic, X_VC_ENDC_WATCH0_DATA0),
    }
}

fn end_spec(blk: u8, idx: u32) -> u64 {
    field(VC_ENDC_WATCH_BLOCK_ID, blk.into()) | field(VC_ENDC_WATCH_INDEX, idx.into())
}

fn nvp_watch(ic: u64) -> Watch {
    Watch {
        spec: mmio(ic, X_PC_NXC_WATCH0_SPEC),
        data0: mmio(ic, X_PC_NXC_WATCH0_DATA0),
    }
}

fn nvp_spec(blk: u8, idx: u32) -> u64 {
    field(PC_NXC_WATCH_NXC_TYPE, PC_NXC_WATCH_NXC_NVP)
        | field(PC_NXC_WATCH_BLOCK_ID, blk.into())
        | field(PC_NXC_WATCH_INDEX, idx.into())
}

impl<R: Regs> Controller for P10<R> {
    fn gen(&self) -> Gen {
        Gen::P10
    }

    #[inline(always)]
    fn read64(&self, pa: u64) -> u64 {
        self.regs.mem_read64(pa)
    }

    #[inline(always)]
    fn write64(&mut self, pa: u64, value: u64) {
        self.regs.mem_write64(pa, value);
    }

    /// Table selects: ESB 0, EAS 1 (VC only), END 2, NVP 3, ERQ 8 for the overflow
    /// queues (VC only, VSD block = queue number, `target` unused) with the matching
    /// `VC_QUEUES_CFG_REM*` enabled for a valid VSD. PC copies for ESB, END and NVP.
    fn set_vsd(&mut self, blk: u8, table: Vst, target: u8, vsd: u64) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        let ic = inst.bars.ic;
        let (select, index, pc) = match table {
            Vst::Esb => (VST_ESB, target, true),
            Vst::Eas => (VST_EAS, target, false),
            Vst::End => (VST_END, target, true),
            Vst::Nvt => (VST_NVP, target, true),
            Vst::Overflow(n) if n < VC_QUEUE_COUNT => (VST_ERQ, n, false),
            Vst::Overflow(n) => {
                log::error!("XIVE: blk {blk}: no overflow queue {n} on P10");
                return;
            }
        };
        if index > 15 {
            log::error!("XIVE: blk {blk}: VSD for block {index} out of range");
            return;
        }
        // The table contents must be visible before the VSD publishes them.
        self.regs.barrier();
        self.write_vsd(ic, select, index.into(), vsd, pc);
        if select == VST_ERQ {
            self.modify(ic, X_VC_QUEUES_CFG_REM0 + u32::from(index), |v| {
                if get_field(VSD_MODE, vsd) == 0 {
                    v & !VC_QUEUES_CFG_MEMB_EN
                } else {
                    // Same encoding as TSIZE: skiboot writes 4 for its 64 KiB pages.
                    set_field(VC_QUEUES_CFG_MEMB_SZ, v, get_field(VSD_TSIZE, vsd))
                        | VC_QUEUES_CFG_MEMB_EN
                }
            });
        }
    }

    fn eas_invalidate(&mut self, blk: u8, idx: u32) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        // The EAS was written to RAM just before: order it before the flush.
        self.regs.barrier();
        let value = field(VC_EASC_FLUSH_POLL_BLOCK_ID, blk.into())
            | field(VC_EASC_FLUSH_POLL_OFFSET, idx.into())
            | VC_EASC_FLUSH_POLL_BLOCK_ID_MASK
            | VC_EASC_FLUSH_POLL_OFFSET_MASK;
        self.flush(
            inst.bars.ic,
            "EASC",
            X_VC_EASC_FLUSH_POLL,
            X_VC_EASC_FLUSH_CTRL,
            value,
        );
    }

    fn end_flush(&mut self, blk: u8, idx: u32) {
        if let Some(inst) = self.instance(blk) {
            self.endc_flush(inst, idx);
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
        self.endc_flush(inst, idx);
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
        self.endc_flush(inst, idx);
        Ok(())
    }

    fn nvt_flush(&mut self, blk: u8, idx: u32) {
        if let Some(inst) = self.instance(blk) {
            self.nxc_flush(inst, idx);
        }
    }

    fn nvt_update(&mut self, blk: u8, idx: u32, dwords: &[u64], sync: bool) -> Result<(), Busy> {
        let inst = self.instance(blk).ok_or(Busy)?;
        if dwords.len() != NVP_DWORDS {
            log::error!(
                "XIVE: blk {blk}: NVP {idx:#x} update with {} dwords, P10 NVPs have {NVP_DWORDS}",
                dwords.len()
            );
            return Err(Busy);
        }
        let watch = nvp_watch(inst.bars.ic);
        cache_watch(
            &mut self.regs,
            watch,
            nvp_spec(blk, idx),
            false,
            0,
            dwords,
            sync,
        )?;
        self.nxc_flush(inst, idx);
        Ok(())
    }

    fn kill_translations(&mut self, blk: u8) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        let ic = inst.bars.ic;
        let end = VC_AT_MACRO_KILL_VALID | field(VC_AT_MACRO_KILL_VSD, VST_END);
        self.kill(
            ic,
            "VC END",
            X_VC_AT_MACRO_KILL_MASK,
            X_VC_AT_MACRO_KILL,
            end,
        );
        let nvp = PC_AT_KILL_VALID | field(PC_AT_KILL_VSD_TYPE, VST_NVP);
        self.kill(ic, "PC NVP", X_PC_AT_KILL_MASK, X_PC_AT_KILL, nvp);
    }

    fn sync(&mut self, blk: u8) {
        let Some(inst) = self.instance(blk) else {
            return;
        };
        let ic = inst.bars.ic;
        let page = ic + (IC_SYNC_POLL_PAGE << IC_PAGE_SHIFT);
        for offset in SYNC_POLL_OFFSETS {
            self.regs.store64(page + offset, 0);
        }
        let regs = &mut self.regs;
        let done_reg = mmio(ic, X_VC_ENDC_SYNC_DONE);
        let done = poll(
            || regs.load64(done_reg),
            |v| v & VC_ENDC_SYNC_POLL_DONE == VC_ENDC_SYNC_POLL_DONE,
        );
        match done {
            Some(v) => self.write(ic, X_VC_ENDC_SYNC_DONE, v & !VC_ENDC_SYNC_POLL_DONE),
            None => log::error!("XIVE: blk {blk}: sync timed out"),
        }
        // Read after clearing so that the next sync cannot race the clearing store.
        self.read(ic, X_VC_ENDC_SYNC_DONE);
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
        // EN0 covers fused cores 0-7, EN1 8-15; one bit per PIR & 0x3f.
        let (reg, set, reset) = if (pir >> 3) & 0xf < 8 {
            (X_TCTXT_EN0, X_TCTXT_EN0_SET, X_TCTXT_EN0_RESET)
        } else {
            (X_TCTXT_EN1, X_TCTXT_EN1_SET, X_TCTXT_EN1_RESET)
        };
        let bit = super::ppc_bit(pir & 0x3f);
        self.write(ic, reset, bit);
        if enable {
            self.write(ic, set, bit);
        }
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
        // One direct-mapped TIMA page per thread of the instance's chip: PIR & 0xff.
        let thread = pir & 0xff;
        if thread >= IC_TM_DIRECT_PAGES {
            log::error!("XIVE: blk {blk}: PIR {pir:#x} has no thread context page");
            return;
        }
        let tm = inst.bars.ic + ((IC_TM_DIRECT_PAGE + u64::from(thread)) << IC_PAGE_SHIFT);
        // VT first: XIVE2 (QEMU too) rejects a PHYS CPPR change while the ring is invalid.
        self.regs
            .store8(tm + TM_QW3_HV_PHYS + TM_WORD2, TM_QW3B2_VT);
        let w2 = self.regs.load8(tm + TM_QW3_HV_PHYS + TM_WORD2);
        if w2 & TM_QW3B2_VT == 0 {
            log::error!("XIVE: blk {blk}: thread {pir:#x} PHYS ring VT did not set ({w2:#04x})");
        }
        self.regs.store8(tm + TM_QW3_HV_PHYS + TM_CPPR, 0);
        self.regs.load64(tm + TM_SPC_PULL_POOL_CTX);
    }

    fn tima_ring(&mut self, blk: u8, pir: u32, ring: u8) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        let Some(inst) = self.instance(blk) else {
            return bytes;
        };
        let thread = pir & 0xff;
        if thread >= IC_TM_DIRECT_PAGES || ring > 3 {
            return bytes;
        }
        let tm = inst.bars.ic + ((IC_TM_DIRECT_PAGE + u64::from(thread)) << IC_PAGE_SHIFT);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = self.regs.load8(tm + 0x10 * u64::from(ring) + i as u64);
        }
        bytes
    }
}

#[cfg(test)]
mod tests;
