// SPDX-License-Identifier: Apache-2.0
//! The `OPAL_XIVE_*` calls (xive.md §13), one method per token on [`Xive`]. Each method
//! validates everything before it changes anything, so an error leaves the state as it
//! was; outputs come back as values and the OPAL glue writes them (big-endian) to the OS.
//!
//! Deliberate departures from skiboot (xive.md §16), each because skiboot's behaviour can
//! corrupt state or crash: queue pages must be aligned to their size; FREE_IRQ checks the
//! girq before touching it; FREE_VP_BLOCK checks every VP before freeing any; bogus VP ids
//! return PARAMETER instead of asserting; masking with target 0 works without a PIR 0;
//! GET_IRQ_CONFIG reports the OPAL VP id for interrupts routed to allocated VPs.

use crate::entry::{Eas, Nvt, MAX_EAS_DATA, PQ_OFF};
use crate::hw::{Controller, Gen};
use crate::ids::{self, Girq, VpId, PRIORITIES};
use crate::phys_map::{ESB_PAGE_SHIFT, ESB_PAIR_SHIFT};
use crate::state::{end_esb, ipi_esb, parked_end, write_eas, Mode, Xive, SUBPAGE_SIZE};
use log::{info, warn};
use opal_api::OpalError;

pub type Result<T> = core::result::Result<T, OpalError>;

/// `OPAL_XIVE_GET_IRQ_INFO` flags.
pub mod irq_flags {
    pub const TRIGGER_PAGE: u64 = 0x1;
    pub const STORE_EOI: u64 = 0x2;
    pub const LSI: u64 = 0x4;
}
/// Queue flags (GET/SET_QUEUE_INFO).
pub mod queue_flags {
    pub const ENABLED: u64 = 0x1;
    pub const ALWAYS_NOTIFY: u64 = 0x2;
    pub const ESCALATE: u64 = 0x4;
}
/// VP flags (GET/SET_VP_INFO).
pub mod vp_flags {
    pub const ENABLED: u64 = 0x1;
    pub const SINGLE_ESCALATION: u64 = 0x2;
    pub const SAVE_RESTORE: u64 = 0x4;
}
/// SYNC types.
pub mod sync_flags {
    pub const EAS: u32 = 0x1;
    pub const QUEUE: u32 = 0x2;
}
/// DUMP types.
pub mod dump_type {
    pub const TM_HYP: u32 = 0;
    pub const TM_POOL: u32 = 1;
    pub const TM_OS: u32 = 2;
    pub const TM_USER: u32 = 3;
    pub const VP: u32 = 4;
    pub const EMU_STATE: u32 = 5;
}

/// Priority value that masks an interrupt in SET_IRQ_CONFIG (and that GET reports).
pub const PRIO_MASKED: u8 = 0xff;
/// Queue sizes (log2 bytes) the OS may ask for; 0 = no queue.
pub const QUEUE_SHIFTS: [u32; 4] = [12, 16, 21, 24];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct IrqInfo {
    pub flags: u64,
    pub eoi_page: u64,
    pub trig_page: u64,
    pub esb_shift: u32,
    pub src_chip: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqConfig {
    pub vp: u64,
    pub prio: u8,
    pub lirq: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QueueInfo {
    pub qpage: u64,
    pub qsize: u64,
    pub qeoi_page: u64,
    pub escalate_irq: u32,
    pub qflags: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VpInfo {
    pub flags: u64,
    pub cam: u64,
    pub report_cl_pair: u64,
    pub chip_id: u32,
}

/// A resolved VP: its NVT and its END set.
#[derive(Clone, Copy, Debug)]
struct Vp {
    blk: u8,
    nvt: u32,
    end_base: u32,
}

impl Xive {
    fn require_exploitation(&self) -> Result<()> {
        match self.mode {
            Mode::Exploitation => Ok(()),
            Mode::Emulation => Err(OpalError::WrongState),
        }
    }

    /// The NVT of a VP id (thread VPs must exist; allocated VPs must lie in a live
    /// allocation of that order).
    fn vp_nvt(&self, raw: u64) -> Result<(u8, u32)> {
        match VpId::decode(raw, self.alloc_bits, ids::vp_shift(self.gen))? {
            VpId::Thread { pir } => self
                .threads
                .iter()
                .find(|t| t.pir == pir)
                .map(|t| (t.blk, ids::hw_vp_index(pir)))
                .ok_or(OpalError::Parameter),
            VpId::Allocated {
                block,
                index,
                order,
            } => {
                let per_chip = order - self.alloc_bits;
                match self.vps.containing(index) {
                    Some((_, o)) if o == per_chip && (block as usize) < self.blocks.len() => {
                        Ok((block, index))
                    }
                    _ => Err(OpalError::Parameter),
                }
            }
        }
    }

    fn resolve_vp(&self, hw: &mut dyn Controller, raw: u64) -> Result<Vp> {
        let (blk, nvt) = self.vp_nvt(raw)?;
        if let Some(t) = self
            .threads
            .iter()
            .find(|t| t.blk == blk && ids::hw_vp_index(t.pir) == nvt)
        {
            if VpId::decode(raw, self.alloc_bits, ids::vp_shift(self.gen))
                == Ok(VpId::Thread { pir: t.pir })
            {
                return Ok(Vp {
                    blk,
                    nvt,
                    end_base: t.end_base,
                });
            }
        }
        let n = self.read_nvt(hw, blk, nvt).ok_or(OpalError::Parameter)?;
        let (eblk, ebase) = n.end_base();
        if !n.has_end_base() || eblk != blk {
            return Err(OpalError::Parameter);
        }
        Ok(Vp {
            blk,
            nvt,
            end_base: ebase,
        })
    }

    /// A girq of an existing block; an escalation girq must name an END of an allocated
    /// set (a VP's or a thread's), not just any END whose sub-page happens to exist.
    fn decode_girq(&self, girq: u32) -> Result<Girq> {
        let g = Girq::decode(self.gen, girq).ok_or(OpalError::Parameter)?;
        let block = self
            .blocks
            .get(g.block as usize)
            .ok_or(OpalError::Parameter)?;
        let set = g.index / PRIORITIES;
        if g.escalation && (set == 0 || !block.end_sets.get(set)) {
            return Err(OpalError::Parameter);
        }
        Ok(g)
    }

    fn check_prio(prio: u32) -> Result<u32> {
        if prio < PRIORITIES {
            Ok(prio)
        } else {
            Err(OpalError::Parameter)
        }
    }

    /// The OPAL VP id that owns NVT `idx` of `blk`, for reporting.
    fn vp_id_of(&self, blk: u8, idx: u32) -> Option<u64> {
        if let Some(t) = self
            .threads
            .iter()
            .find(|t| t.blk == blk && ids::hw_vp_index(t.pir) == idx)
        {
            return Some(VpId::encode_thread(t.pir));
        }
        let (_, per_chip) = self.vps.containing(idx)?;
        Some(VpId::encode_allocated(
            blk,
            idx,
            per_chip + self.alloc_bits,
            self.alloc_bits,
        ))
    }

    // ---- OPAL_XIVE_RESET (128) ----

    /// Back to firmware defaults, then into `mode`: every source the OS unmasked is masked,
    /// runtime IRQs, VP blocks, OS queues and donated pages are forgotten, every thread's
    /// TIMA is reset. P9: 0 = emulation, 1 = exploitation; P10: bit 0 only, always
    /// exploitation (no XICS emulation).
    pub fn reset(&mut self, hw: &mut dyn Controller, version: u64) -> Result<()> {
        let mode = match (self.gen, version) {
            (Gen::P9, 0) => Mode::Emulation,
            (Gen::P9, 1) => Mode::Exploitation,
            (Gen::P10, v) if v & !1 == 0 => {
                if v == 0 {
                    info!("XIVE: emulation mode not supported on POWER10, staying in exploitation mode");
                }
                Mode::Exploitation
            }
            _ => return Err(OpalError::Parameter),
        };
        let gen = self.gen;
        // 1. Silence what the OS turned on.
        for b in 0..self.blocks.len() {
            // By index, not collected: OPAL calls must not need heap in proportion to
            // what the OS allocated.
            for idx in 0..self.blocks[b].unmasked.len() {
                let block = &self.blocks[b];
                if !block.unmasked.get(idx) {
                    continue;
                }
                if let Some(eas) = self.read_eas(hw, block.blk, idx) {
                    if eas.valid() {
                        write_eas(hw, block, idx, Eas(eas.0 | Eas::masked(0).0));
                    }
                }
                if let Some(addr) = self.source_mgmt_page(block.blk, idx) {
                    hw.esb_load(addr + crate::esb::SET_PQ_01);
                }
            }
            self.blocks[b].unmasked.clear_all();
        }
        for b in 0..self.blocks.len() {
            hw.sync(b as u8);
        }
        // 2. Runtime IRQs.
        for b in 0..self.blocks.len() {
            for idx in self.blocks[b].irqs.dynamic_indexes() {
                write_eas(hw, &self.blocks[b], idx, Eas(0));
            }
            self.blocks[b].irqs.reset_dynamic();
        }
        // 3. ENDs: the threads' go back to defaults, every other set is released.
        for b in 0..self.blocks.len() {
            let blk = b as u8;
            let mut next = self.blocks[b].end_sets.first_set(1);
            while let Some(set) = next {
                next = self.blocks[b].end_sets.first_set(set + 1);
                let owner = self
                    .threads
                    .iter()
                    .find(|t| t.blk == blk && t.end_base == set * PRIORITIES)
                    .map(|t| ids::hw_vp_index(t.pir));
                let owned = owner.is_some();
                for prio in 0..PRIORITIES {
                    let idx = set * PRIORITIES + prio;
                    let end = parked_end(gen, owned, blk, owner.unwrap_or(0), prio);
                    // Flushed too: the sub-page holding it may be unlinked below.
                    let _ = self.write_end(hw, blk, idx, &end, true);
                    hw.end_flush(blk, idx);
                }
                if !owned {
                    self.blocks[b].end_sets.set(set, false);
                }
            }
        }
        // 4. Allocated VPs.
        for (base, order) in self.vps.live() {
            for blk in 0..(1u8 << self.alloc_bits) {
                for idx in base..base + (1 << order) {
                    if self.nvt_addr(hw, blk, idx).is_some() {
                        let _ = self.write_nvt(hw, blk, idx, &Nvt::zero(gen), true);
                        hw.nvt_flush(blk, idx);
                    }
                }
            }
        }
        self.vps.reset();
        // 5. Threads: presenter state and VPs.
        let threads = self.threads.clone();
        for t in &threads {
            hw.tima_reset(t.blk, t.pir);
            self.write_thread_vp(hw, t);
            write_eas(
                hw,
                &self.blocks[t.blk as usize],
                t.ipi,
                Eas::masked(Girq::source(t.blk, t.ipi).encode(gen)),
            );
        }
        // 6. Donated pages go back to the OS.
        self.drop_donated_pages(hw);
        for b in 0..self.blocks.len() {
            hw.sync(b as u8);
        }
        self.mode = mode;
        Ok(())
    }

    /// The management (EOI) page of source `idx` of `blk`.
    fn source_mgmt_page(&self, blk: u8, idx: u32) -> Option<u64> {
        let block = self.blocks.get(blk as usize)?;
        if let Some(s) = block.hw_source_at(idx) {
            return Some(s.pages(idx).0);
        }
        (idx < block.irqs.hw_bottom()).then(|| ipi_esb(block, idx) + (1 << ESB_PAGE_SHIFT))
    }

    // ---- OPAL_XIVE_GET_IRQ_INFO (129) ----

    pub fn get_irq_info(&self, hw: &dyn Controller, girq: u32) -> Result<IrqInfo> {
        self.require_exploitation()?;
        let g = self.decode_girq(girq)?;
        let block = self
            .blocks
            .get(g.block as usize)
            .ok_or(OpalError::Parameter)?;
        if g.escalation {
            // An END's escalation: its ESe page, no trigger page.
            self.end_addr(hw, g.block, g.index)
                .ok_or(OpalError::Parameter)?;
            return Ok(IrqInfo {
                flags: 0,
                eoi_page: end_esb(block, g.index) + (1 << ESB_PAGE_SHIFT),
                trig_page: 0,
                esb_shift: ESB_PAIR_SHIFT,
                src_chip: block.chip_id,
            });
        }
        if let Some(s) = block.hw_source_at(g.index) {
            let (eoi, trig) = s.pages(g.index);
            let mut flags = if s.lsi { irq_flags::LSI } else { 0 };
            if s.two_pages {
                flags |= irq_flags::TRIGGER_PAGE;
            }
            return Ok(IrqInfo {
                flags,
                eoi_page: eoi,
                trig_page: trig,
                esb_shift: s.esb_shift,
                src_chip: block.chip_id,
            });
        }
        if g.index < ids::FIRST_IRQ || g.index >= block.irqs.hw_bottom() {
            return Err(OpalError::Parameter);
        }
        let trig = ipi_esb(block, g.index);
        Ok(IrqInfo {
            flags: irq_flags::TRIGGER_PAGE,
            eoi_page: trig + (1 << ESB_PAGE_SHIFT),
            trig_page: trig,
            esb_shift: ESB_PAIR_SHIFT,
            src_chip: block.chip_id,
        })
    }

    // ---- OPAL_XIVE_GET_IRQ_CONFIG (130) / SET_IRQ_CONFIG (131) ----

    fn valid_source(&self, hw: &dyn Controller, g: Girq) -> Result<Eas> {
        let eas = self
            .read_eas(hw, g.block, g.index)
            .ok_or(OpalError::Parameter)?;
        if !eas.valid() {
            return Err(OpalError::Parameter);
        }
        Ok(eas)
    }

    pub fn get_irq_config(&self, hw: &mut dyn Controller, girq: u32) -> Result<IrqConfig> {
        self.require_exploitation()?;
        let g = self.decode_girq(girq)?;
        let (end_blk, end_idx, data, masked) = if g.escalation {
            let end = self
                .read_end(hw, g.block, g.index)
                .ok_or(OpalError::Parameter)?;
            let (b, i, d) = end.escalation();
            (b, i, d, false)
        } else {
            let eas = self.valid_source(hw, g)?;
            (
                eas.end_block(),
                eas.end_index(),
                eas.data(),
                eas.is_masked(),
            )
        };
        let end = self.read_end(hw, end_blk, end_idx);
        let (vp, prio) = match end {
            Some(e) => {
                let (nb, ni) = e.target();
                let vp = self.vp_id_of(nb, ni).unwrap_or(0);
                (vp, if masked { PRIO_MASKED } else { e.priority() })
            }
            None => (0, PRIO_MASKED),
        };
        Ok(IrqConfig {
            vp,
            prio,
            lirq: data,
        })
    }

    pub fn set_irq_config(
        &mut self,
        hw: &mut dyn Controller,
        girq: u32,
        vp: u64,
        prio: u8,
        lirq: u32,
    ) -> Result<()> {
        self.require_exploitation()?;
        let g = self.decode_girq(girq)?;
        if lirq > MAX_EAS_DATA || (u32::from(prio) >= PRIORITIES && prio != PRIO_MASKED) {
            return Err(OpalError::Parameter);
        }
        let masked = prio == PRIO_MASKED;
        // Where events go: the VP's END for `prio`; masking keeps (or takes) the prio-7
        // END of the VP if it resolves, and the old route otherwise (KVM masks with VP 0).
        let route_prio = if masked {
            PRIORITIES - 1
        } else {
            u32::from(prio)
        };
        let target = match self.resolve_vp(hw, vp) {
            Ok(v) => Some((v.blk, v.end_base + route_prio)),
            Err(e) if !masked => return Err(e),
            Err(_) => None,
        };
        if g.escalation {
            let mut end = self
                .read_end(hw, g.block, g.index)
                .ok_or(OpalError::Parameter)?;
            let (blk, idx) = match target {
                Some(t) => t,
                None => {
                    let (b, i, _) = end.escalation();
                    (b, i)
                }
            };
            end.set_escalation(blk, idx, lirq);
            if !end.escalates_to_end() {
                // P10 END set up without "N" (its queue was enabled without ESCALATE):
                // word 0 must change too, which the light watch cannot carry.
                end.set_escalates_to_end();
                return self.write_end(hw, g.block, g.index, &end, true);
            }
            return hw
                .end_update_escalation(g.block, g.index, end.escalation_dword(), true)
                .map_err(crate::state::busy);
        }
        let old = self.valid_source(hw, g)?;
        let (blk, idx) = target.unwrap_or((old.end_block(), old.end_index()));
        let block = &self.blocks[g.block as usize];
        write_eas(hw, block, g.index, Eas::routed(blk, idx, lirq, masked));
        hw.sync(g.block);
        if old.end_block() != g.block && (old.end_block() as usize) < self.blocks.len() {
            hw.sync(old.end_block());
        }
        if !masked {
            self.blocks[g.block as usize].unmasked.set(g.index, true);
        }
        Ok(())
    }

    // ---- OPAL_XIVE_GET_QUEUE_INFO (132) / SET_QUEUE_INFO (133) ----

    fn vp_end(&self, hw: &mut dyn Controller, vp: u64, prio: u32) -> Result<(Vp, u32)> {
        let prio = Self::check_prio(prio)?;
        let v = self.resolve_vp(hw, vp)?;
        Ok((v, v.end_base + prio))
    }

    pub fn get_queue_info(&self, hw: &mut dyn Controller, vp: u64, prio: u32) -> Result<QueueInfo> {
        self.require_exploitation()?;
        let (v, idx) = self.vp_end(hw, vp, prio)?;
        let end = self
            .read_end(hw, v.blk, idx)
            .ok_or(OpalError::InternalError)?;
        let block = &self.blocks[v.blk as usize];
        // In single-escalation mode every queue escalates through END 7's source.
        let esc_end = if end.uncond_escalate() {
            idx | (PRIORITIES - 1)
        } else {
            idx
        };
        let escalate_irq = Girq::escalation(v.blk, esc_end).encode(self.gen);
        if end.silent_escalate() {
            return Ok(QueueInfo {
                escalate_irq,
                ..QueueInfo::default()
            });
        }
        let (qpage, qsize) = match end.queue_shift() {
            Some(s) => (end.queue_addr(), u64::from(s)),
            None => (0, 0),
        };
        let mut qflags = 0;
        if end.valid() {
            qflags |= queue_flags::ENABLED;
        }
        if end.ucond_notify() {
            qflags |= queue_flags::ALWAYS_NOTIFY;
        }
        if end.escalate() {
            qflags |= queue_flags::ESCALATE;
        }
        Ok(QueueInfo {
            qpage,
            qsize,
            qeoi_page: end_esb(block, idx),
            escalate_irq,
            qflags,
        })
    }

    /// `qpage` must already be checked to be OS RAM by the caller (the OPAL glue owns the
    /// OS memory rules); alignment and size are checked here.
    pub fn set_queue_info(
        &mut self,
        hw: &mut dyn Controller,
        vp: u64,
        prio: u32,
        qpage: u64,
        qshift: u64,
        qflags: u64,
    ) -> Result<()> {
        if self.gen == Gen::P9 {
            self.require_exploitation()?;
        }
        let known = queue_flags::ENABLED | queue_flags::ALWAYS_NOTIFY | queue_flags::ESCALATE;
        if qflags & !known != 0 {
            return Err(OpalError::Parameter);
        }
        let (v, idx) = self.vp_end(hw, vp, prio)?;
        let old = self
            .read_end(hw, v.blk, idx)
            .ok_or(OpalError::InternalError)?;
        if old.silent_escalate() {
            return Err(OpalError::Parameter);
        }
        let mut end = old;
        if qflags & queue_flags::ENABLED == 0 {
            end = parked_end(self.gen, old.firmware(), v.blk, v.nvt, prio);
            return self.write_end(hw, v.blk, idx, &end, true);
        }
        if qshift != 0 && !QUEUE_SHIFTS.iter().any(|&s| u64::from(s) == qshift) {
            return Err(OpalError::Parameter);
        }
        if qshift != 0 && (qpage == 0 || qpage & ((1 << qshift) - 1) != 0) {
            return Err(OpalError::Parameter);
        }
        // The controller would write events into its own END or NVT tables.
        if qshift != 0 && self.overlaps_donated(hw, qpage, 1 << qshift) {
            return Err(OpalError::Parameter);
        }
        end.clear_queue();
        if qshift != 0 {
            end.set_enqueue(true);
            end.set_queue(qpage, qshift as u32);
        }
        end.set_target(v.blk, v.nvt, prio as u8);
        end.set_ucond_notify(qflags & queue_flags::ALWAYS_NOTIFY != 0);
        end.set_escalate(qflags & queue_flags::ESCALATE != 0);
        if qflags & queue_flags::ESCALATE != 0 {
            // The escalation girq's SET_IRQ_CONFIG names an END (a light update of words
            // 4-5): on P10 the END must say so in word 0 now.
            end.set_escalates_to_end();
        }
        // The producer starts at entry 0 with generation 1 (Linux's consumer expects
        // toggle 0 entries to be new); the ESBs keep their state.
        end.set_queue_state(1, 0);
        end.set_backlog(true);
        end.set_valid(true);
        self.write_end(hw, v.blk, idx, &end, true)
    }

    // ---- OPAL_XIVE_GET_QUEUE_STATE (143) / SET_QUEUE_STATE (144) ----

    /// (toggle, index) of an enabled queue.
    pub fn get_queue_state(
        &self,
        hw: &mut dyn Controller,
        vp: u64,
        prio: u32,
    ) -> Result<(u32, u32)> {
        self.require_exploitation()?;
        let (v, idx) = self.vp_end(hw, vp, prio)?;
        let end = self
            .read_end(hw, v.blk, idx)
            .ok_or(OpalError::InternalError)?;
        if !end.valid() {
            return Err(OpalError::WrongState);
        }
        Ok((end.generation(), end.index()))
    }

    /// Restores (toggle, index) of an enabled queue (KVM migration). The index must lie in
    /// the queue; toggle is 0 or 1.
    pub fn set_queue_state(
        &mut self,
        hw: &mut dyn Controller,
        vp: u64,
        prio: u32,
        toggle: u32,
        index: u32,
    ) -> Result<()> {
        self.require_exploitation()?;
        let (v, idx) = self.vp_end(hw, vp, prio)?;
        let mut end = self
            .read_end(hw, v.blk, idx)
            .ok_or(OpalError::InternalError)?;
        if !end.valid() {
            return Err(OpalError::WrongState);
        }
        let entries = end.queue_shift().map_or(0, |s| 1u32 << (s - 2));
        if toggle > 1 || (entries != 0 && index >= entries) || (entries == 0 && index != 0) {
            return Err(OpalError::Parameter);
        }
        end.set_queue_state(toggle, index);
        // Synchronous: Linux does not retry BUSY for this call.
        self.write_end(hw, v.blk, idx, &end, true)
    }

    // ---- OPAL_XIVE_DONATE_PAGE (134) ----

    /// `addr` must already be checked to be 64 KiB of OS RAM by the caller.
    pub fn donate_page(&mut self, hw: &dyn Controller, chip_id: u32, addr: u64) -> Result<()> {
        self.require_exploitation()?;
        let blk = self.block_of_chip(chip_id).ok_or(OpalError::Parameter)?;
        if addr == 0 || addr & (SUBPAGE_SIZE - 1) != 0 || self.page_known(hw, addr) {
            return Err(OpalError::Parameter);
        }
        // More pages than the block could ever install: nothing to keep them for.
        let block = &mut self.blocks[blk as usize];
        if block.donated.len() >= block.donated.capacity() {
            return Err(OpalError::Resource);
        }
        block.donated.push(addr);
        Ok(())
    }

    // ---- OPAL_XIVE_ALLOCATE_VP_BLOCK (135) / FREE_VP_BLOCK (136) ----

    /// 2^`order` VPs (at least 2^(n+1) across 2^n blocks), each with an END set, none
    /// enabled yet. Missing sub-pages: XIVE_PROVISIONING (donate, then retry; what was
    /// installed stays installed). No room: RESOURCE.
    pub fn allocate_vp_block(&mut self, hw: &mut dyn Controller, order: u32) -> Result<u64> {
        self.require_exploitation()?;
        let n = self.alloc_bits;
        let order = order.max(n + 1);
        if order > 31 || order - n > ids::vp_shift(self.gen) {
            return Err(OpalError::Resource);
        }
        let per_chip = order - n;
        let base = self.vps.alloc(per_chip).ok_or(OpalError::Resource)?;
        match self.fill_vp_block(hw, base, per_chip) {
            Ok(()) => Ok(VpId::encode_allocated(0, base, order, n)),
            Err(e) => {
                self.vps.free(base);
                Err(e)
            }
        }
    }

    /// Provisions and writes the VPs of a fresh allocation; undoes its END sets on error.
    fn fill_vp_block(&mut self, hw: &mut dyn Controller, base: u32, per_chip: u32) -> Result<()> {
        let count = 1u32 << per_chip;
        let group = 1u8 << self.alloc_bits;
        for blk in 0..group {
            self.provision_nvts(hw, blk, base, count)?;
        }
        // Every block's pages first, so a XIVE_PROVISIONING leaves no set allocated.
        for blk in 0..group {
            self.provision_end_sets(hw, blk, count)?;
        }
        // Cannot fail for want of sets now. A hardware error part-way (a cache watch that
        // stays BUSY) undoes what was done, so the OS sees nothing allocated.
        let gen = self.gen;
        for blk in 0..group {
            for idx in base..base + count {
                let set = self
                    .alloc_end_set(hw, blk)
                    .map_err(|_| OpalError::InternalError)?;
                let mut nvt = Nvt::zero(gen);
                nvt.set_end_base(blk, set * PRIORITIES);
                let written = (0..PRIORITIES)
                    .try_for_each(|prio| {
                        let end = parked_end(gen, false, blk, idx, prio);
                        self.write_end(hw, blk, set * PRIORITIES + prio, &end, true)
                    })
                    .and_then(|()| self.write_nvt(hw, blk, idx, &nvt, true));
                if let Err(e) = written {
                    self.blocks[blk as usize].end_sets.set(set, false);
                    self.undo_fill(hw, base, count, blk, idx);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Releases the END sets and clears the NVTs `fill_vp_block` wrote before it failed at
    /// (`stop_blk`, `stop_idx`).
    fn undo_fill(
        &mut self,
        hw: &mut dyn Controller,
        base: u32,
        count: u32,
        stop_blk: u8,
        stop_idx: u32,
    ) {
        let gen = self.gen;
        for blk in 0..=stop_blk {
            let end = if blk == stop_blk {
                stop_idx
            } else {
                base + count
            };
            for idx in base..end {
                if let Some(nvt) = self.read_nvt(hw, blk, idx).filter(|n| n.has_end_base()) {
                    let (eblk, ebase) = nvt.end_base();
                    if let Some(b) = self.blocks.get_mut(eblk as usize) {
                        b.end_sets.set(ebase / PRIORITIES, false);
                    }
                    let _ = self.write_nvt(hw, blk, idx, &Nvt::zero(gen), true);
                }
            }
        }
    }

    pub fn free_vp_block(&mut self, hw: &mut dyn Controller, vp_base: u64) -> Result<()> {
        self.require_exploitation()?;
        let (blk, base, order) =
            match VpId::decode(vp_base, self.alloc_bits, ids::vp_shift(self.gen))? {
                VpId::Allocated {
                    block,
                    index,
                    order,
                } => (block, index, order),
                VpId::Thread { .. } => return Err(OpalError::Parameter),
            };
        let per_chip = order - self.alloc_bits;
        if blk != 0 || self.vps.order_of(base) != Some(per_chip) {
            return Err(OpalError::Parameter);
        }
        // Check every VP first: nothing is freed if one is still enabled.
        let group = 1u8 << self.alloc_bits;
        for b in 0..group {
            for idx in base..base + (1 << per_chip) {
                let nvt = self.read_nvt(hw, b, idx).ok_or(OpalError::InternalError)?;
                if nvt.valid() {
                    return Err(OpalError::XiveFreeActive);
                }
            }
        }
        let gen = self.gen;
        let vps = (0..group).flat_map(|b| (base..base + (1 << per_chip)).map(move |i| (b, i)));
        for (b, idx) in vps {
            let nvt = self.read_nvt(hw, b, idx).ok_or(OpalError::InternalError)?;
            if nvt.has_end_base() {
                let (eblk, ebase) = nvt.end_base();
                for prio in 0..PRIORITIES {
                    if self
                        .read_end(hw, eblk, ebase + prio)
                        .is_some_and(|e| e.valid())
                    {
                        warn!(
                            "XIVE: freeing VP {:#x}/{:#x} with queue {} still enabled",
                            b, idx, prio
                        );
                    }
                    self.write_end(
                        hw,
                        eblk,
                        ebase + prio,
                        &parked_end(gen, false, 0, 0, 0),
                        true,
                    )?;
                }
                if let Some(block) = self.blocks.get_mut(eblk as usize) {
                    block.end_sets.set(ebase / PRIORITIES, false);
                }
            }
            self.write_nvt(hw, b, idx, &Nvt::zero(gen), true)?;
        }
        self.vps.free(base);
        Ok(())
    }

    // ---- OPAL_XIVE_GET_VP_INFO (137) / SET_VP_INFO (138) / GET_VP_STATE (170) ----

    pub fn get_vp_info(&self, hw: &mut dyn Controller, vp: u64) -> Result<VpInfo> {
        let v = self.resolve_vp(hw, vp)?;
        let nvt = self
            .read_nvt(hw, v.blk, v.nvt)
            .ok_or(OpalError::Parameter)?;
        let mut flags = 0;
        if nvt.valid() {
            flags |= vp_flags::ENABLED;
        }
        let end7 = self
            .read_end(hw, v.blk, v.end_base + PRIORITIES - 1)
            .ok_or(OpalError::Parameter)?;
        if end7.silent_escalate() {
            flags |= vp_flags::SINGLE_ESCALATION;
        }
        Ok(VpInfo {
            flags,
            cam: ids::cam_line(self.gen, v.blk, v.nvt),
            report_cl_pair: nvt.report_cl_pair(),
            chip_id: self.blocks[v.blk as usize].chip_id,
        })
    }

    pub fn set_vp_info(
        &mut self,
        hw: &mut dyn Controller,
        vp: u64,
        flags: u64,
        report_cl_pair: u64,
    ) -> Result<()> {
        if flags & !(vp_flags::ENABLED | vp_flags::SINGLE_ESCALATION) != 0
            || report_cl_pair & 0xff != 0
        {
            // SAVE_RESTORE is not configured, so asking for it is an error too.
            return Err(OpalError::Parameter);
        }
        let v = self.resolve_vp(hw, vp)?;
        let mut nvt = self
            .read_nvt(hw, v.blk, v.nvt)
            .ok_or(OpalError::Parameter)?;
        let enable = flags & vp_flags::ENABLED != 0;
        let single = enable && flags & vp_flags::SINGLE_ESCALATION != 0;
        let end7_idx = v.end_base + PRIORITIES - 1;
        let end7 = self
            .read_end(hw, v.blk, end7_idx)
            .ok_or(OpalError::InternalError)?;
        if single && end7.valid() && !end7.silent_escalate() {
            return Err(OpalError::Parameter);
        }
        if single && !end7.silent_escalate() {
            self.set_single_escalation(hw, v, true)?;
        } else if !single && end7.silent_escalate() {
            self.set_single_escalation(hw, v, false)?;
        }
        if enable {
            nvt.set_valid(true);
            nvt.set_report_cl_pair(report_cl_pair);
        } else {
            nvt.set_valid(false);
            nvt.w[6] = 0;
            nvt.w[7] = 0;
        }
        self.write_nvt(hw, v.blk, v.nvt, &nvt, true)
    }

    /// Single escalation: END 7 becomes a silent gather queue that only escalates, and
    /// ENDs 0–6 escalate unconditionally into it; or the reverse.
    fn set_single_escalation(&mut self, hw: &mut dyn Controller, v: Vp, on: bool) -> Result<()> {
        let gen = self.gen;
        let end7_idx = v.end_base + PRIORITIES - 1;
        let esc_girq = Girq::escalation(v.blk, end7_idx).encode(gen);
        for prio in 0..PRIORITIES - 1 {
            let idx = v.end_base + prio;
            let mut e = self
                .read_end(hw, v.blk, idx)
                .ok_or(OpalError::InternalError)?;
            e.set_uncond_escalate(on);
            if on {
                e.set_escalation(v.blk, end7_idx, esc_girq);
                e.set_escalates_to_end();
            } else {
                e.w[4] = 0;
                e.w[5] = 0;
            }
            self.write_end(hw, v.blk, idx, &e, true)?;
        }
        let old7 = self
            .read_end(hw, v.blk, end7_idx)
            .ok_or(OpalError::InternalError)?;
        let mut e7 = parked_end(gen, old7.firmware(), v.blk, v.nvt, PRIORITIES - 1);
        if on {
            e7.set_valid(true);
            e7.set_silent_escalate(true);
            e7.set_escalate(true);
            // KVM points the gather queue's escalation at a host END (SET_IRQ_CONFIG of
            // the escalation girq, words 4-5 only): without "N" a P10 would take those
            // words for an ESB and the vCPU wake-up would go to an unrelated source.
            e7.set_escalates_to_end();
            e7.set_backlog(true);
            e7.set_esn(PQ_OFF);
            e7.set_ese(0);
            e7.set_target(v.blk, v.nvt, (PRIORITIES - 1) as u8);
        }
        self.write_end(hw, v.blk, end7_idx, &e7, true)
    }

    pub fn get_vp_state(&self, hw: &mut dyn Controller, vp: u64) -> Result<u64> {
        let (blk, idx) = self.vp_nvt(vp)?;
        let nvt = self.read_nvt(hw, blk, idx).ok_or(OpalError::Parameter)?;
        if !nvt.valid() {
            return Err(OpalError::WrongState);
        }
        Ok(nvt.state())
    }

    // ---- OPAL_XIVE_ALLOCATE_IRQ (139) / FREE_IRQ (140) ----

    /// A runtime source on `chip_id` (0xffffffff: the caller's chip first, then any).
    /// Returns the girq, valid and masked; RESOURCE when the chip(s) have none left.
    pub fn allocate_irq(
        &mut self,
        hw: &mut dyn Controller,
        chip_id: u32,
        caller_pir: u32,
    ) -> Result<u32> {
        self.require_exploitation()?;
        // The caller's chip first for ANY_CHIP, then the others (no list: OPAL calls do
        // not allocate).
        let own = if chip_id == u32::MAX {
            self.threads
                .iter()
                .find(|t| t.pir == caller_pir)
                .map(|t| t.blk)
        } else {
            Some(self.block_of_chip(chip_id).ok_or(OpalError::Parameter)?)
        };
        let others = if chip_id == u32::MAX {
            self.blocks.len() as u8
        } else {
            0
        };
        let candidates = own
            .into_iter()
            .chain((0..others).filter(|&b| Some(b) != own));
        let gen = self.gen;
        for blk in candidates {
            let block = &mut self.blocks[blk as usize];
            if let Some(idx) = block.irqs.alloc_dynamic() {
                let girq = Girq::source(blk, idx).encode(gen);
                write_eas(hw, block, idx, Eas::masked(girq));
                return Ok(girq);
            }
        }
        Err(OpalError::Resource)
    }

    pub fn free_irq(&mut self, hw: &mut dyn Controller, girq: u32) -> Result<()> {
        self.require_exploitation()?;
        let g = Girq::decode(self.gen, girq)
            .filter(|g| !g.escalation)
            .ok_or(OpalError::Parameter)?;
        let block = self
            .blocks
            .get(g.block as usize)
            .ok_or(OpalError::Parameter)?;
        if !block.irqs.is_dynamic(g.index) {
            return Err(OpalError::Parameter);
        }
        hw.esb_load(ipi_esb(block, g.index) + (1 << ESB_PAGE_SHIFT) + crate::esb::SET_PQ_01);
        write_eas(hw, block, g.index, Eas(0));
        hw.sync(g.block);
        let block = &mut self.blocks[g.block as usize];
        block.irqs.free_dynamic(g.index);
        block.unmasked.set(g.index, false);
        Ok(())
    }

    // ---- OPAL_XIVE_SYNC (141) ----

    pub fn sync(&self, hw: &mut dyn Controller, kind: u32, id: u32) -> Result<()> {
        if kind & !(sync_flags::EAS | sync_flags::QUEUE) != 0 {
            return Err(OpalError::Parameter);
        }
        if kind == 0 {
            return Ok(());
        }
        let g = self.decode_girq(id)?;
        if g.block as usize >= self.blocks.len() {
            return Err(OpalError::Parameter);
        }
        let queue_block = if kind & sync_flags::QUEUE != 0 {
            let end_blk = if g.escalation {
                self.read_end(hw, g.block, g.index)
                    .ok_or(OpalError::Parameter)?
                    .escalation()
                    .0
            } else {
                self.valid_source(hw, g)?.end_block()
            };
            Some(end_blk)
                .filter(|&b| (b as usize) < self.blocks.len())
                .ok_or(OpalError::Parameter)?
        } else {
            g.block
        };
        if kind & sync_flags::EAS != 0 {
            hw.sync(g.block);
        }
        if kind & sync_flags::QUEUE != 0 {
            hw.sync(queue_block);
        }
        Ok(())
    }

    /// `OPAL_INT_EOI` in exploitation mode: an EOI of source `girq` through its ESB on the
    /// OS's behalf (skiboot `opal_xive_eoi`). Ok(true) if the EOI re-triggered the source
    /// (an event arrived meanwhile), PARAMETER if no source has that number.
    pub fn source_eoi(&self, hw: &mut dyn Controller, girq: u32) -> Result<bool> {
        let g = Girq::decode(self.gen, girq)
            .filter(|g| !g.escalation)
            .ok_or(OpalError::Parameter)?;
        self.valid_source(&*hw, g)?;
        let info = self.get_irq_info(&*hw, girq)?;
        // LSI: a load anywhere in 0x000-0x3ff EOIs and returns whether the line is still
        // asserted; MSI: set PQ to 00 and re-trigger if Q was set (§6.1, §6.2).
        if info.flags & irq_flags::LSI != 0 {
            return Ok(hw.esb_load(info.eoi_page) & 1 != 0);
        }
        let old = hw.esb_load(info.eoi_page + crate::esb::SET_PQ_00);
        let queued = old & 1 != 0;
        if queued && info.trig_page != 0 {
            hw.esb_store(info.trig_page, 0);
        }
        Ok(queued)
    }

    // ---- OPAL_XIVE_DUMP (142) ----

    /// Prints state to the firmware console (xmon's `dx`). `id` is a PIR for the TIMA and
    /// emulation dumps and a VP id (or PIR) for the VP dump.
    pub fn dump(&self, hw: &mut dyn Controller, kind: u32, id: u32) -> Result<()> {
        match kind {
            dump_type::TM_HYP | dump_type::TM_POOL | dump_type::TM_OS | dump_type::TM_USER => {
                let t = self
                    .threads
                    .iter()
                    .find(|t| t.pir == id)
                    .ok_or(OpalError::Parameter)?;
                let ring = 3 - kind as usize;
                let words = hw.tima_ring(t.blk, t.pir, ring as u8);
                info!(
                    "XIVE: CPU {:#x} TIMA ring {}: NSR {:02x} CPPR {:02x} IPB {:02x} LSMFB {:02x} ACK {:02x} INC {:02x} AGE {:02x} PIPR {:02x} W2 {:08x}",
                    id, ring, words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7],
                    u32::from_be_bytes([words[8], words[9], words[10], words[11]])
                );
                Ok(())
            }
            dump_type::VP => {
                let v = self.resolve_vp(hw, u64::from(id))?;
                let nvt = self
                    .read_nvt(hw, v.blk, v.nvt)
                    .ok_or(OpalError::Parameter)?;
                info!(
                    "XIVE: VP {:#x} NVT {:x}/{:#x} {:08x?}",
                    id,
                    v.blk,
                    v.nvt,
                    &nvt.w[..8]
                );
                for prio in 0..PRIORITIES {
                    if let Some(e) = self.read_end(hw, v.blk, v.end_base + prio) {
                        info!(
                            "XIVE:   END {:#x} prio {}: {:08x?} toggle {} index {}",
                            v.end_base + prio,
                            prio,
                            e.w,
                            e.generation(),
                            e.index()
                        );
                    }
                }
                Ok(())
            }
            dump_type::EMU_STATE if self.gen == Gen::P9 => {
                self.threads
                    .iter()
                    .find(|t| t.pir == id)
                    .ok_or(OpalError::Parameter)?;
                info!(
                    "XIVE: CPU {:#x}: {:?} mode; XICS emulation keeps no queue (no source is routed in emulation mode)",
                    id, self.mode
                );
                Ok(())
            }
            _ => Err(OpalError::Parameter),
        }
    }

    /// Device-tree facts Linux reads from the `ibm,opal-xive-pe` node.
    pub fn provision_chips(&self) -> alloc::vec::Vec<u32> {
        self.blocks
            .iter()
            .take(1 << self.alloc_bits)
            .map(|b| b.chip_id)
            .collect()
    }
}
