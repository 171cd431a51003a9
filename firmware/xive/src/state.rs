// SPDX-License-Identifier: Apache-2.0
//! The firmware's XIVE state: one [`Block`] per XIVE instance with its tables and
//! allocators, the hardware threads, the VP allocator and the mode. Boot-time set-up lives
//! here; the OPAL calls are in `calls.rs`.
//!
//! Tables (per block, in firmware-reserved memory): a direct ESB table and a direct EAS
//! table sized for [`SOURCES`]; END and NVT tables are indirect, through a 4 KiB directory
//! of 64 KiB sub-pages. Sub-page 0 of each is the firmware's (it holds the hardware
//! threads' END sets and VPs); the others come from pages the OS donates
//! (`OPAL_XIVE_DONATE_PAGE`) and go back to it on `OPAL_XIVE_RESET`.
//!
//! Concurrency: a `Xive` is behind one lock in the firmware; every call runs to completion
//! under it, and the calls are refused on a CPU that re-enters OPAL (an NMI inside a call).
//! Crash paths do call XIVE: Linux's crash shutdown disables each CPU's queue and the
//! primary resets XIVE, and a kdump kernel starts with `XIVE_RESET`. The lock is taken
//! with a bounded spin, so a CPU stopped while holding it makes those calls fail with
//! `OPAL_BUSY` rather than hang; breaking the lock for them (`OPAL_QUIESCE`) is the NMI
//! issue's work.

use crate::allocator::{Bitmap, IrqAllocator, VpAllocator};
use crate::entry::{Eas, End, Nvt, Vsd, PQ_OFF};
use crate::hw::{Busy, Controller, Gen, Vst};
use crate::ids::{self, vp_shift, Girq, FIRST_IRQ, HW_VP_BASE, HW_VP_COUNT, SOURCES};
use crate::phys_map::{self, Bars, ESB_PAIR_SHIFT};
use alloc::vec::Vec;
use opal_api::OpalError;

/// Size of a donated page and of every END/NVT sub-page.
pub const SUBPAGE_SHIFT: u32 = 16;
pub const SUBPAGE_SIZE: u64 = 1 << SUBPAGE_SHIFT;
/// The NVT directory: at most 512 sub-pages (P10: 1 Mi NVPs of 32 bytes).
const NVT_DIR_SIZE: u64 = 4096;

/// The END directory: one pointer per 2048 ENDs (P9 4 KiB; P10 needs 32 KiB, rounded up
/// to 64 KiB because an indirect table, like a page, is 4K, 64K, 2M or 16M).
const fn end_dir_size(gen: Gen) -> u64 {
    let ends = 1u64 << (vp_shift(gen) + 3);
    let bytes = ends / ENDS_PER_SUBPAGE as u64 * 8;
    if bytes <= 4096 {
        4096
    } else {
        1 << 16
    }
}

/// Bytes of the directory of `table`.
const fn dir_size(gen: Gen, table: Indirect) -> u64 {
    match table {
        Indirect::End => end_dir_size(gen),
        Indirect::Nvt => NVT_DIR_SIZE,
    }
}
const ENDS_PER_SUBPAGE: u32 = (SUBPAGE_SIZE / End::BYTES) as u32;
/// Overflow queue pages the P9 VC needs (IPI, HW, 2 × escalation, redistribution, cascade).
const OVERFLOW_PAGES: u8 = 6;

/// XICS emulation (the P9 boot default) or exploitation (native XIVE driven by the OS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Emulation,
    Exploitation,
}

/// Firmware memory for the tables, handed out once at boot.
pub trait TableMemory {
    /// `size` bytes aligned to `align`, or None when the reserved area is exhausted.
    fn alloc(&mut self, size: u64, align: u64) -> Option<u64>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitError {
    NoMemory,
    TooManyBlocks,
    NoIrqSpace,
    UnknownChip(u32),
    DuplicateThread(u32),
    /// Units of a shared range that overlap or do not fit in it.
    InvalidUnits,
}

/// A hardware unit's range of sources (PSI, PHB) with its own ESB pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HwSource {
    pub first: u32,
    pub count: u32,
    pub esb_base: u64,
    pub esb_shift: u32,
    pub lsi: bool,
    /// ESBs have a separate trigger page (and EOI page at +2^shift).
    pub two_pages: bool,
}

impl HwSource {
    pub fn covers(&self, index: u32) -> bool {
        index >= self.first && index - self.first < self.count
    }

    /// (EOI page, trigger page or 0) of source `index` of this unit (xive.md §6.3): two
    /// pages per source when the unit has a separate trigger page, else one page that
    /// is both (MSI) or only an EOI page (LSI).
    pub fn pages(&self, index: u32) -> (u64, u64) {
        let pair = u32::from(self.two_pages);
        let page = self.esb_base + (u64::from(index - self.first) << (self.esb_shift + pair));
        if self.two_pages {
            (page + (1 << self.esb_shift), page)
        } else if self.lsi {
            (page, 0)
        } else {
            (page, page)
        }
    }
}

/// One XIVE instance.
pub struct Block {
    pub blk: u8,
    pub chip_id: u32,
    pub bars: Bars,
    pub(crate) eas_table: u64,
    pub(crate) end_dir: u64,
    pub(crate) nvt_dir: u64,
    pub(crate) irqs: IrqAllocator,
    /// END sets (8 ENDs, one VP's worth) in use; set 0 is never handed out.
    pub(crate) end_sets: Bitmap,
    /// Pages the OS donated and the block has not used yet (LIFO).
    pub(crate) donated: Vec<u64>,
    /// Sources unmasked since the last reset, masked again by the next reset.
    pub(crate) unmasked: Bitmap,
    pub(crate) hw_sources: Vec<HwSource>,
}

impl Block {
    /// The hardware unit whose range holds source `index`, if any.
    pub(crate) fn hw_source_at(&self, index: u32) -> Option<&HwSource> {
        self.hw_sources.iter().find(|s| s.covers(index))
    }
}

/// A hardware thread: its VP is `0x80 | PIR & 0x7f` in its chip's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thread {
    pub pir: u32,
    pub blk: u8,
    /// First END of the thread's set.
    pub end_base: u32,
    /// The boot-time IPI source index allocated for it.
    pub ipi: u32,
}

pub struct Xive {
    pub(crate) gen: Gen,
    pub(crate) mode: Mode,
    pub(crate) blocks: Vec<Block>,
    /// VP allocations span 2^alloc_bits blocks.
    pub(crate) alloc_bits: u32,
    pub(crate) vps: VpAllocator,
    pub(crate) threads: Vec<Thread>,
}

/// Which indirect table a sub-page belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Indirect {
    End,
    Nvt,
}

impl Xive {
    /// Sets up one block per chip in `chip_ids` (device-tree order = block order):
    /// allocates and clears the tables, programs every VSD (local and forward). The
    /// instances' BARs must already be programmed.
    pub fn new(
        hw: &mut dyn Controller,
        mem: &mut dyn TableMemory,
        chip_ids: &[u32],
    ) -> Result<Self, InitError> {
        let gen = hw.gen();
        if chip_ids.is_empty() || chip_ids.len() > 16 {
            return Err(InitError::TooManyBlocks);
        }
        let mut blocks = Vec::new();
        for (i, &chip_id) in chip_ids.iter().enumerate() {
            let blk = i as u8;
            let mut take = |size: u64| mem.alloc(size, size).ok_or(InitError::NoMemory);
            let eas_table = take(u64::from(SOURCES) * 8)?;
            let esb_table = take(u64::from(SOURCES) / 4)?;
            let end_dir = take(end_dir_size(gen))?;
            let nvt_dir = take(NVT_DIR_SIZE)?;
            let end_page0 = take(SUBPAGE_SIZE)?;
            let nvt_page0 = take(SUBPAGE_SIZE)?;
            let mut overflow = Vec::new();
            if gen == Gen::P9 {
                for _ in 0..OVERFLOW_PAGES {
                    overflow.push(take(SUBPAGE_SIZE)?);
                }
            }
            fill(hw, eas_table, u64::from(SOURCES) * 8, 0);
            // PQ = 01 ("off") for every source: 0b01010101 per byte.
            fill(hw, esb_table, u64::from(SOURCES) / 4, 0x5555_5555_5555_5555);
            fill(hw, end_dir, end_dir_size(gen), 0);
            fill(hw, nvt_dir, NVT_DIR_SIZE, 0);
            let mut block = Block {
                blk,
                chip_id,
                bars: phys_map::bars(gen, chip_id),
                eas_table,
                end_dir,
                nvt_dir,
                irqs: IrqAllocator::new(SOURCES, FIRST_IRQ),
                end_sets: Bitmap::new(1 << vp_shift(gen)),
                // Sized once: donations never outnumber the sub-pages they could fill, and
                // OPAL calls must not allocate.
                donated: Vec::with_capacity(subpage_slots(gen) as usize),
                unmasked: Bitmap::new(SOURCES),
                hw_sources: Vec::new(),
            };
            block.end_sets.set(0, true);
            install_subpage(hw, &block, gen, Indirect::End, 0, end_page0, true);
            install_subpage(hw, &block, gen, Indirect::Nvt, 0, nvt_page0, true);
            hw.set_vsd(
                blk,
                Vst::Esb,
                blk,
                Vsd::exclusive(gen, esb_table, log2(u64::from(SOURCES) / 4), false).0,
            );
            hw.set_vsd(
                blk,
                Vst::Eas,
                blk,
                Vsd::exclusive(gen, eas_table, log2(u64::from(SOURCES) * 8), false).0,
            );
            hw.set_vsd(
                blk,
                Vst::End,
                blk,
                Vsd::exclusive(gen, end_dir, log2(end_dir_size(gen)), true).0,
            );
            hw.set_vsd(
                blk,
                Vst::Nvt,
                blk,
                Vsd::exclusive(gen, nvt_dir, log2(NVT_DIR_SIZE), true).0,
            );
            for (n, page) in overflow.iter().enumerate() {
                hw.set_vsd(
                    blk,
                    Vst::Overflow(n as u8),
                    n as u8,
                    Vsd::exclusive(gen, *page, SUBPAGE_SHIFT, false).0,
                );
            }
            blocks.push(block);
        }
        // Every instance reaches the other blocks' structures through their ports.
        for local in 0..blocks.len() {
            for remote in blocks.iter().filter(|b| b.blk as usize != local) {
                let port = remote.bars.ic + notify_page_offset(gen);
                let fwd = Vsd::forward(gen, port, 12).0;
                for table in [Vst::Esb, Vst::Eas, Vst::End] {
                    hw.set_vsd(local as u8, table, remote.blk, fwd);
                }
                let nvt_fwd = Vsd::forward(gen, remote.bars.pc, log2(remote.bars.pc_size)).0;
                hw.set_vsd(local as u8, Vst::Nvt, remote.blk, nvt_fwd);
            }
        }
        Ok(Self {
            gen,
            mode: match gen {
                Gen::P9 => Mode::Emulation,
                Gen::P10 => Mode::Exploitation,
            },
            alloc_bits: ids::alloc_bits(blocks.len()),
            blocks,
            vps: VpAllocator::new(vp_shift(gen), HW_VP_BASE, HW_VP_COUNT),
            threads: Vec::new(),
        })
    }

    pub fn gen(&self) -> Gen {
        self.gen
    }
    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }
    pub fn threads(&self) -> &[Thread] {
        &self.threads
    }

    /// The girq of the IPI reserved at boot for thread `pir` (it survives XIVE_RESET).
    pub fn thread_ipi_girq(&self, pir: u32) -> Option<u32> {
        let t = self.threads.iter().find(|t| t.pir == pir)?;
        Some(Girq::source(t.blk, t.ipi).encode(self.gen))
    }

    pub(crate) fn block_of_chip(&self, chip_id: u32) -> Option<u8> {
        self.blocks
            .iter()
            .find(|b| b.chip_id == chip_id)
            .map(|b| b.blk)
    }

    /// Brings a hardware thread under XIVE: an END set, a boot IPI, a valid VP, enabled in
    /// the presenter with its TIMA at firmware defaults.
    pub fn add_thread(
        &mut self,
        hw: &mut dyn Controller,
        pir: u32,
        chip_id: u32,
    ) -> Result<(), InitError> {
        let blk = self
            .block_of_chip(chip_id)
            .ok_or(InitError::UnknownChip(chip_id))?;
        if self.threads.iter().any(|t| t.pir == pir) {
            return Err(InitError::DuplicateThread(pir));
        }
        let gen = self.gen;
        let block = &mut self.blocks[blk as usize];
        // Sets 1..256 lie in the firmware's END sub-page 0.
        let set = block
            .end_sets
            .first_clear(1, ENDS_PER_SUBPAGE / ids::PRIORITIES)
            .ok_or(InitError::NoMemory)?;
        // The IPI first: nothing is marked used if it fails.
        let ipi = block.irqs.alloc_boot_ipi().ok_or(InitError::NoIrqSpace)?;
        block.end_sets.set(set, true);
        write_eas(
            hw,
            block,
            ipi,
            Eas::masked(Girq::source(blk, ipi).encode(gen)),
        );
        let thread = Thread {
            pir,
            blk,
            end_base: set * ids::PRIORITIES,
            ipi,
        };
        let nvt = ids::hw_vp_index(pir);
        for prio in 0..ids::PRIORITIES {
            let end = parked_end(gen, true, blk, nvt, prio);
            let _ = self.write_end(hw, blk, thread.end_base + prio, &end, true);
        }
        self.write_thread_vp(hw, &thread);
        hw.thread_enable(blk, pir, true);
        hw.tima_reset(blk, pir);
        self.threads.push(thread);
        Ok(())
    }

    /// The thread's VP: valid, with its END set.
    pub(crate) fn write_thread_vp(&mut self, hw: &mut dyn Controller, t: &Thread) {
        let mut nvt = Nvt::zero(self.gen);
        nvt.set_valid(true);
        nvt.set_end_base(t.blk, t.end_base);
        let _ = self.write_nvt(hw, t.blk, ids::hw_vp_index(t.pir), &nvt, true);
    }

    /// Reserves sources of `chip_id`'s block for the hardware unit `unit` describes (its
    /// `first` is ignored: the allocator chooses); they start valid and masked. Returns
    /// the first girq.
    pub fn add_hw_source(
        &mut self,
        hw: &mut dyn Controller,
        chip_id: u32,
        align: u32,
        unit: HwSource,
    ) -> Result<u32, InitError> {
        let HwSource {
            count,
            esb_base,
            esb_shift,
            lsi,
            two_pages,
            ..
        } = unit;
        let gen = self.gen;
        let blk = self
            .block_of_chip(chip_id)
            .ok_or(InitError::UnknownChip(chip_id))?;
        let block = &mut self.blocks[blk as usize];
        let first = block
            .irqs
            .alloc_hw(count, align)
            .ok_or(InitError::NoIrqSpace)?;
        for i in first..first + count {
            write_eas(hw, block, i, Eas::masked(Girq::source(blk, i).encode(gen)));
        }
        block.hw_sources.push(HwSource {
            first,
            count,
            esb_base,
            esb_shift,
            lsi,
            two_pages,
        });
        Ok(Girq::source(blk, first).encode(gen))
    }

    /// Reserves one range of `count` sources of `chip_id`'s block, aligned to `align` (a
    /// power of two), for a unit whose sources are split into several [`HwSource`]s with
    /// different ESB pages or kinds (a PHB: its MSIs, then its LSIs at the top of the
    /// same range, numbered from one base). Each unit's `first` is its offset in the
    /// range; the units must lie inside it and not overlap, else nothing is reserved and
    /// the answer is `InvalidUnits`. Sources of the range that no unit covers stay
    /// unused (no valid EAS). Returns the range's first girq.
    pub fn add_hw_sources(
        &mut self,
        hw: &mut dyn Controller,
        chip_id: u32,
        count: u32,
        align: u32,
        units: &[HwSource],
    ) -> Result<u32, InitError> {
        let fits =
            |u: &HwSource| u.count > 0 && u.first.checked_add(u.count).is_some_and(|e| e <= count);
        let disjoint = units.iter().enumerate().all(|(i, a)| {
            units[..i]
                .iter()
                .all(|b| a.first + a.count <= b.first || b.first + b.count <= a.first)
        });
        if count == 0 || !align.is_power_of_two() || !units.iter().all(fits) || !disjoint {
            return Err(InitError::InvalidUnits);
        }
        let gen = self.gen;
        let blk = self
            .block_of_chip(chip_id)
            .ok_or(InitError::UnknownChip(chip_id))?;
        let block = &mut self.blocks[blk as usize];
        let base = block
            .irqs
            .alloc_hw(count, align)
            .ok_or(InitError::NoIrqSpace)?;
        for unit in units {
            let first = base + unit.first;
            for i in first..first + unit.count {
                write_eas(hw, block, i, Eas::masked(Girq::source(blk, i).encode(gen)));
            }
            block.hw_sources.push(HwSource { first, ..*unit });
        }
        Ok(Girq::source(blk, base).encode(gen))
    }

    /// The hardware source covering `girq`: (block, source, offset in it).
    pub fn hw_source(&self, girq: u32) -> Option<(u8, HwSource, u32)> {
        let g = Girq::decode(self.gen, girq).filter(|g| !g.escalation)?;
        let block = self.blocks.get(g.block as usize)?;
        block
            .hw_source_at(g.index)
            .map(|s| (g.block, *s, g.index - s.first))
    }

    // ---- Structure access, always through the cache protocol. ----

    pub(crate) fn end_addr(&self, hw: &dyn Controller, blk: u8, idx: u32) -> Option<u64> {
        subentry_addr(
            hw,
            self.blocks.get(blk as usize)?,
            self.gen,
            Indirect::End,
            idx,
        )
    }

    pub(crate) fn nvt_addr(&self, hw: &dyn Controller, blk: u8, idx: u32) -> Option<u64> {
        subentry_addr(
            hw,
            self.blocks.get(blk as usize)?,
            self.gen,
            Indirect::Nvt,
            idx,
        )
    }

    /// The current END (flushed from the controller's cache first).
    pub(crate) fn read_end(&self, hw: &mut dyn Controller, blk: u8, idx: u32) -> Option<End> {
        let addr = self.end_addr(hw, blk, idx)?;
        hw.end_flush(blk, idx);
        let d: [u64; 4] = core::array::from_fn(|i| hw.read64(addr + 8 * i as u64));
        Some(End::from_dwords(self.gen, &d))
    }

    pub(crate) fn write_end(
        &self,
        hw: &mut dyn Controller,
        blk: u8,
        idx: u32,
        end: &End,
        sync: bool,
    ) -> Result<(), OpalError> {
        self.end_addr(hw, blk, idx)
            .ok_or(OpalError::InternalError)?;
        hw.end_update(blk, idx, &end.to_dwords(), sync)
            .map_err(busy)
    }

    pub(crate) fn read_nvt(&self, hw: &mut dyn Controller, blk: u8, idx: u32) -> Option<Nvt> {
        let addr = self.nvt_addr(hw, blk, idx)?;
        hw.nvt_flush(blk, idx);
        let n = (Nvt::bytes(self.gen) / 8) as usize;
        let mut d = [0u64; 8];
        for (i, dw) in d.iter_mut().take(n).enumerate() {
            *dw = hw.read64(addr + 8 * i as u64);
        }
        Some(Nvt::from_dwords(self.gen, &d[..n]))
    }

    pub(crate) fn write_nvt(
        &self,
        hw: &mut dyn Controller,
        blk: u8,
        idx: u32,
        nvt: &Nvt,
        sync: bool,
    ) -> Result<(), OpalError> {
        self.nvt_addr(hw, blk, idx)
            .ok_or(OpalError::InternalError)?;
        let (d, n) = nvt.to_dwords();
        hw.nvt_update(blk, idx, &d[..n], sync).map_err(busy)
    }

    pub(crate) fn read_eas(&self, hw: &dyn Controller, blk: u8, idx: u32) -> Option<Eas> {
        let b = self.blocks.get(blk as usize)?;
        (idx < SOURCES).then(|| Eas(hw.read64(b.eas_table + 8 * u64::from(idx))))
    }

    /// Takes a donated page of `blk` into `table` as sub-page `n`.
    pub(crate) fn provision(
        &mut self,
        hw: &mut dyn Controller,
        blk: u8,
        table: Indirect,
        n: u32,
    ) -> Result<(), OpalError> {
        let gen = self.gen;
        let block = &mut self.blocks[blk as usize];
        if dir_entry(hw, block, table, n).present() {
            return Ok(());
        }
        let page = block.donated.pop().ok_or(OpalError::XiveProvisioning)?;
        install_subpage(hw, block, gen, table, n, page, false);
        Ok(())
    }

    /// Sub-pages covering NVTs `first..first+count` of `blk`, from donated pages.
    pub(crate) fn provision_nvts(
        &mut self,
        hw: &mut dyn Controller,
        blk: u8,
        first: u32,
        count: u32,
    ) -> Result<(), OpalError> {
        let per = nvts_per_subpage(self.gen);
        for n in first / per..=(first + count - 1) / per {
            self.provision(hw, blk, Indirect::Nvt, n)?;
        }
        Ok(())
    }

    /// Makes sure `count` free END sets of `blk` lie in installed sub-pages, installing
    /// donated pages (lowest missing sub-page first) as needed. RESOURCE if the block
    /// cannot hold that many sets at all; XIVE_PROVISIONING if pages are missing (the ones
    /// installed so far stay installed).
    pub(crate) fn provision_end_sets(
        &mut self,
        hw: &mut dyn Controller,
        blk: u8,
        count: u32,
    ) -> Result<(), OpalError> {
        let sets_per_page = ENDS_PER_SUBPAGE / ids::PRIORITIES;
        let pages = (1u32 << vp_shift(self.gen)) / sets_per_page;
        let (mut usable, mut free_total) = (0u32, 0u32);
        for n in 0..pages {
            let first = n * sets_per_page;
            let block = &self.blocks[blk as usize];
            // Set 0 is never handed out (END 0 stays the firmware's).
            let lo = first.max(1);
            let free =
                (first + sets_per_page - lo) - block.end_sets.count_set(lo, first + sets_per_page);
            free_total += free;
            if dir_entry(hw, block, Indirect::End, n).present() {
                usable += free;
            }
        }
        if free_total < count {
            return Err(OpalError::Resource);
        }
        // Install missing sub-pages, lowest first, until enough sets are usable (a second
        // pass rather than a list: OPAL calls do not allocate).
        for n in 0..pages {
            if usable >= count {
                break;
            }
            if !dir_entry(hw, &self.blocks[blk as usize], Indirect::End, n).present() {
                self.provision(hw, blk, Indirect::End, n)?;
                usable += sets_per_page;
            }
        }
        if usable < count {
            return Err(OpalError::Resource);
        }
        Ok(())
    }

    /// A free END set of `blk` in an installed sub-page (see `provision_end_sets`).
    pub(crate) fn alloc_end_set(&mut self, hw: &dyn Controller, blk: u8) -> Result<u32, OpalError> {
        let sets_per_page = ENDS_PER_SUBPAGE / ids::PRIORITIES;
        let block = &mut self.blocks[blk as usize];
        let mut from = 1;
        while let Some(set) = block.end_sets.first_clear(from, block.end_sets.len()) {
            if dir_entry(hw, block, Indirect::End, set / sets_per_page).present() {
                block.end_sets.set(set, true);
                return Ok(set);
            }
            from = (set / sets_per_page + 1) * sets_per_page;
        }
        Err(OpalError::Resource)
    }

    /// Drops every sub-page the OS donated (the firmware's stay) and forgets the pages not
    /// used yet; the OS owns them all again after this.
    pub(crate) fn drop_donated_pages(&mut self, hw: &mut dyn Controller) {
        for block in &mut self.blocks {
            for (table, dir) in [
                (Indirect::End, block.end_dir),
                (Indirect::Nvt, block.nvt_dir),
            ] {
                for n in 0..(dir_size(hw.gen(), table) / 8) as u32 {
                    let e = dir_entry(hw, block, table, n);
                    if e.present() && !e.firmware() {
                        hw.write64(dir + 8 * u64::from(n), 0);
                    }
                }
            }
            block.donated.clear();
            hw.kill_translations(block.blk);
        }
    }

    /// Is `page` (64 KiB) already donated or in use as a sub-page anywhere?
    pub(crate) fn page_known(&self, hw: &dyn Controller, page: u64) -> bool {
        self.overlaps_donated(hw, page, SUBPAGE_SIZE)
    }

    /// Does `[addr, addr + len)` touch a page the OS donated (kept for later, or holding
    /// ENDs or NVTs now)? Such a page is the controller's, whatever the OS thinks.
    pub(crate) fn overlaps_donated(&self, hw: &dyn Controller, addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len);
        let touches = |page: u64| page < end && addr < page + SUBPAGE_SIZE;
        self.blocks.iter().any(|b| {
            b.donated.iter().any(|&p| touches(p))
                || [Indirect::End, Indirect::Nvt].iter().any(|&t| {
                    (0..(dir_size(self.gen, t) / 8) as u32).any(|n| {
                        let e = dir_entry(hw, b, t, n);
                        e.present() && touches(e.addr(self.gen))
                    })
                })
        })
    }
}

pub(crate) fn busy(_: Busy) -> OpalError {
    OpalError::Busy
}

/// Sub-pages a block's END and NVT directories can hold together (the most pages it can
/// ever use).
pub(crate) const fn subpage_slots(gen: Gen) -> u32 {
    (1 << (vp_shift(gen) + 3)) / ENDS_PER_SUBPAGE + (1 << vp_shift(gen)) / nvts_per_subpage(gen)
}

pub(crate) const fn nvts_per_subpage(gen: Gen) -> u32 {
    (SUBPAGE_SIZE / Nvt::bytes(gen)) as u32
}

/// An END the firmware parks: invalid, no queue, its ESBs off, but still naming its VP
/// and priority (so GET_IRQ_CONFIG can report where a source routed to it points).
pub(crate) fn parked_end(gen: Gen, firmware: bool, blk: u8, nvt: u32, prio: u32) -> End {
    let mut e = End::zero(gen);
    e.set_firmware(firmware);
    e.set_esn(PQ_OFF);
    e.set_ese(PQ_OFF);
    e.set_target(blk, nvt, prio as u8);
    e
}

/// Where the notify port of an instance sits in its IC BAR.
pub(crate) const fn notify_page_offset(gen: Gen) -> u64 {
    match gen {
        Gen::P9 => 1 << 16,
        Gen::P10 => 4 << 16,
    }
}

pub(crate) fn ipi_esb(block: &Block, index: u32) -> u64 {
    block.bars.ipi_esb + (u64::from(index) << ESB_PAIR_SHIFT)
}

pub(crate) fn end_esb(block: &Block, end: u32) -> u64 {
    block.bars.end_esb + (u64::from(end) << ESB_PAIR_SHIFT)
}

pub(crate) fn write_eas(hw: &mut dyn Controller, block: &Block, idx: u32, eas: Eas) {
    hw.write64(block.eas_table + 8 * u64::from(idx), eas.0);
    hw.eas_invalidate(block.blk, idx);
}

fn dir_of(block: &Block, table: Indirect) -> u64 {
    match table {
        Indirect::End => block.end_dir,
        Indirect::Nvt => block.nvt_dir,
    }
}

fn dir_entry(hw: &dyn Controller, block: &Block, table: Indirect, n: u32) -> Vsd {
    if u64::from(n) >= dir_size(hw.gen(), table) / 8 {
        return Vsd(0);
    }
    Vsd(hw.read64(dir_of(block, table) + 8 * u64::from(n)))
}

fn subentry_addr(
    hw: &dyn Controller,
    block: &Block,
    gen: Gen,
    table: Indirect,
    idx: u32,
) -> Option<u64> {
    let (per, size, limit) = match table {
        Indirect::End => (ENDS_PER_SUBPAGE, End::BYTES, 1u32 << (vp_shift(gen) + 3)),
        Indirect::Nvt => (
            nvts_per_subpage(gen),
            Nvt::bytes(gen),
            1u32 << vp_shift(gen),
        ),
    };
    if idx >= limit {
        return None;
    }
    let e = dir_entry(hw, block, table, idx / per);
    e.present()
        .then(|| e.addr(gen) + u64::from(idx % per) * size)
}

/// Clears `page` (not reachable by the hardware yet) and links it as sub-page `n`.
fn install_subpage(
    hw: &mut dyn Controller,
    block: &Block,
    gen: Gen,
    table: Indirect,
    n: u32,
    page: u64,
    firmware: bool,
) {
    fill(hw, page, SUBPAGE_SIZE, 0);
    let vsd = Vsd::exclusive(gen, page, SUBPAGE_SHIFT, false).with_firmware(firmware);
    hw.write64(dir_of(block, table) + 8 * u64::from(n), vsd.0);
}

fn fill(hw: &mut dyn Controller, addr: u64, len: u64, pattern: u64) {
    for off in (0..len).step_by(8) {
        hw.write64(addr + off, pattern);
    }
}

fn log2(v: u64) -> u32 {
    63 - v.leading_zeros()
}
