// SPDX-License-Identifier: Apache-2.0
//! One PHB4/PHB5 and the software state OPAL keeps for it (skiboot `struct phb4`): the
//! capabilities read at probe, the in-memory IODA tables (RTT, PELT-V, PEST), the caches
//! of the in-PHB tables that a reset wipes (TVT, MBT, MDT, MIST), the bring-up sequence
//! (skiboot `phb4_init_hw`, `phb4_init_ioda3`, `phb4_ioda_reset`), and in [`calls`] and
//! `reset` the `OPAL_PCI_*` calls.
//!
//! Bring-up, per `stack@` node, in order:
//! 1. [`crate::layout::stacks_from_fdt`] and [`PhbLayout::from_stack`]: where it lives;
//! 2. [`PhbLayout::map_bars`] over XSCOM, then 1 ms for the ETU to come out of reset;
//! 3. [`Caps::read`] through the now-mapped registers;
//! 4. the XIVE code reserves `caps.num_irqs` girqs aligned to `num_irqs` and decides the
//!    [`IrqWiring`]; the firmware gives [`IodaTables`] from reserved memory;
//! 5. [`Phb::new`], then [`Phb::init_hw`], which leaves PERST asserted;
//! 6. a fundamental reset to release PERST and train the link: [`Phb::pci_reset`] with
//!    scope 5, then [`Phb::pci_poll`] after each returned wait until it returns 0
//!    (skiboot's "Resetting PHBs and training links"; the PHBs can run in parallel);
//! 7. [`Phb::irq_sources`] to register the MSI and LSI ranges with XIVE;
//! 8. the scan, if [`crate::scan::root_port_link_active`]: [`crate::scan::assign_buses`]
//!    over the PHB's registers, [`crate::dt::function_facts`] for each function found;
//! 9. [`crate::dt`] for the `pciex@` node and the function nodes; register the PHB in a
//!    [`crate::registry::PhbRegistry`] under [`PhbLayout::opal_id`].
//!
//! A [`Phb`] owns its register access `R`; the firmware wraps each one in a lock. No method
//! allocates, and the hot ones (config access, EEH freeze status) touch a handful of
//! registers only. Polls of hardware completion bits are bounded by a number of reads, so
//! no OPAL call needs a clock; only the boot-time bring-up waits on one.

pub mod calls;
mod reset;
#[cfg(test)]
mod tests;

use alloc::boxed::Box;
use alloc::vec;
use hal::Clock;

use crate::config::{config_write, CfgError};
use crate::ioda::{self, mbt, PELTV_TABLE_SIZE, PEST_ENTRY_SIZE, RTT_TABLE_SIZE};
use crate::layout::{PhbGen, PhbLayout, Window, M32_PCI_START, M32_SIZE};
use crate::reg::{self, ctrlr, ioda as ia};
use crate::{get_field, set_field, Bdfn, PhbRegs};

pub use reset::ResetProgress;

/// The largest PHB: 512 PEs (so 1024 TVEs), 32 MBT windows, 4096 interrupts.
pub const MAX_PES: usize = 512;
pub const MAX_TVES: usize = 2 * MAX_PES;
pub const MAX_MBT_WINDOWS: usize = 32;
pub const MAX_IRQS: usize = 4096;
/// MIST words: four 16-bit entries each.
pub const MAX_MIST_WORDS: usize = MAX_IRQS / 4;

/// How many times a completion bit is polled before the PHB is declared dead. A register
/// read takes about a microsecond, so this is some milliseconds; QEMU completes at once.
pub(crate) const POLL_READS: usize = 10_000;

/// What the PHB says about itself (VERSION, EEH_CAP, IRQ_CAP; skiboot `phb4_read_capabilities`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    pub version: u64,
    /// PEs (`ibm,opal-num-pes`): 512 on PHB0/PHB3, 256 on the others.
    pub num_pes: u32,
    /// Interrupt sources: MSIs, then 8 LSIs and error interrupts at the top.
    pub num_irqs: u32,
}

/// Why a PHB cannot be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitError {
    /// VERSION or a capability register reads 0 or all-ones (fenced, garded, absent).
    Broken,
    /// A PE or interrupt count this driver's fixed-size caches do not hold.
    UnsupportedGeometry { num_pes: u32, num_irqs: u32 },
    /// A table buffer of the wrong length.
    TableSize { table: Table, len: usize },
    /// A table address not naturally aligned, or past what its BAR field holds.
    TableAddress { table: Table, addr: u64 },
    /// ABT notification (MSIs straight to the IC's ESB pages) exists on PHB5 only.
    AbtNeedsPhb5,
    /// The data-link layer stayed in reset (DLP_TRAIN_CTL DL_PGRESET) for 200 ms.
    DlpResetTimeout,
    /// The TCE kill or DMA sync of the IODA reset never completed.
    IodaResetFailed,
    /// A root-complex config write was refused.
    Config(CfgError),
}

/// The in-memory IODA tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Rtt,
    Peltv,
    Pest,
}

/// The root port's command register: memory space (bit 1), bus master (2), parity-error
/// response (6), SERR# enable (8).
const ROOT_PORT_COMMAND: u32 = 0x0146;

impl Caps {
    /// Read and check the capability registers.
    pub fn read<R: PhbRegs + ?Sized>(regs: &mut R) -> Result<Caps, InitError> {
        let dead = |v: u64| v == 0 || v == u64::MAX;
        let version = regs.read64(reg::VERSION);
        let eeh = regs.read64(reg::PHB4_EEH_CAP);
        let irq = regs.read64(reg::PHB4_IRQ_CAP);
        if dead(version) || eeh == u64::MAX || irq == u64::MAX {
            return Err(InitError::Broken);
        }
        let num_pes = (eeh >> 52) as u32;
        let num_irqs = (irq & 0xffff) as u32;
        let pes_ok = num_pes == 256 || num_pes == 512;
        let irqs_ok = num_irqs.is_power_of_two() && (16..=MAX_IRQS as u32).contains(&num_irqs);
        if !pes_ok || !irqs_ok {
            return Err(InitError::UnsupportedGeometry { num_pes, num_irqs });
        }
        Ok(Caps {
            version,
            num_pes,
            num_irqs,
        })
    }

    /// The PE that unmapped requester ids and the OS's reservation use (num_pes - 1).
    pub const fn reserved_pe(&self) -> u32 {
        self.num_pes - 1
    }
    /// MBT windows: 32 on a big PHB, 16 otherwise (window 0 is M32).
    pub const fn mbt_windows(&self) -> usize {
        if self.num_pes >= 512 {
            32
        } else {
            16
        }
    }
    /// TVT entries: two per PE.
    pub const fn tvt_entries(&self) -> usize {
        2 * self.num_pes as usize
    }
    /// MRT entries (cleared at reset; not otherwise used).
    pub const fn mrt_entries(&self) -> usize {
        if self.num_pes >= 512 {
            16
        } else {
            8
        }
    }
    pub const fn mist_words(&self) -> usize {
        self.num_irqs as usize / 4
    }
    pub const fn peev_words(&self) -> usize {
        self.num_pes as usize / 64
    }
    /// MSIs the OS may use (`ibm,opal-msi-ranges` count).
    pub const fn msi_count(&self) -> u32 {
        self.num_irqs - crate::msi::LSI_COUNT
    }
    /// Bytes of PEST (16 per PE).
    pub const fn pest_size(&self) -> usize {
        self.num_pes as usize * PEST_ENTRY_SIZE
    }

    /// What to allocate for [`IodaTables`]: each table's size, which is also its
    /// alignment (skiboot `phb4_allocate_tables` aligns each to its size).
    pub const fn table_sizes(&self) -> [(Table, usize); 3] {
        [
            (Table::Rtt, RTT_TABLE_SIZE),
            (Table::Peltv, PELTV_TABLE_SIZE),
            (Table::Pest, self.pest_size()),
        ]
    }
}

/// Firmware memory for the in-memory tables. The PHB reads them by physical address, so
/// each buffer comes with the address the PHB sees it at.
pub struct IodaTables<'t> {
    /// 128 KiB, 128 KiB aligned.
    pub rtt: &'t mut [u8],
    pub rtt_addr: u64,
    /// 128 KiB (skiboot's `PELTV_TABLE_SIZE_MAX`), aligned to its size.
    pub peltv: &'t mut [u8],
    pub peltv_addr: u64,
    /// 16 bytes per PE, aligned to its size.
    pub pest: &'t mut [u8],
    pub pest_addr: u64,
}

/// How the PHB's interrupt sources reach the interrupt controller (pci-phb.md §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notify {
    /// P9, and P10 without ABT: the PHB stores `index | source` to an IC notify port.
    /// `addr` is the port (`xive_get_notify_port`), `index` is `block << 28 | first girq
    /// index` (`xive_get_notify_base`).
    Port { addr: u64, index: u64 },
    /// P10 ABT: MSIs go to the IC's ESB page of the source; `ic_esb_base` is the IC ESB
    /// address of MSI 0 (`xive2_get_esb_base(base_msi)`). Implies PQ-disable.
    Abt { ic_esb_base: u64 },
}

/// The XIVE side of a PHB, decided by the interrupt-controller code before bring-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqWiring {
    /// The girq of source 0 (skiboot `base_msi`): `num_irqs` girqs aligned to `num_irqs`.
    pub base_msi: u32,
    pub notify: Notify,
    /// Store-EOI on the PHB's ESB pages (skiboot: P10 with XIVE2 support only).
    pub store_eoi: bool,
}

/// Settings of the bring-up that come from outside the PHB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// PCIe generation to allow (PCIE_SCR MAXLINKSPEED and the root port's target speed).
    pub max_link_speed: u8,
}

impl InitOptions {
    /// skiboot's hardware defaults (`phb4_get_max_link_speed`): Gen4, Gen5 on P10's PHB0
    /// and PHB3. (skiboot drops to Gen3 on Nimbus DD2.00, as QEMU's P9 is seen to be.)
    pub const fn for_phb(layout: &PhbLayout) -> InitOptions {
        let gen5 = matches!(layout.gen, PhbGen::Phb5) && (layout.index == 0 || layout.index == 3);
        InitOptions {
            max_link_speed: if gen5 { 5 } else { 4 },
        }
    }
}

/// One PHB. See the module documentation.
pub struct Phb<'t, R: PhbRegs> {
    regs: R,
    layout: PhbLayout,
    caps: Caps,
    irq: IrqWiring,
    options: InitOptions,
    tables: IodaTables<'t>,
    // The caches live on the heap: 20 KiB in all, too much to move through a 32 KiB
    // firmware stack by value (a `Phb` is returned and boxed at boot).
    tve: Box<[u64]>,
    mbt: Box<[[u64; 2]]>,
    mdt: Box<[u64]>,
    mist: Box<[u64]>,
    /// A dead PHB answers every call with OPAL_HARDWARE (skiboot `p->broken`).
    broken: bool,
    reset: ResetProgress,
}

impl<'t, R: PhbRegs> Phb<'t, R> {
    /// Check the tables and the wiring against the capabilities and set up the software
    /// state; the hardware is not touched until [`Self::init_hw`].
    pub fn new(
        regs: R,
        layout: PhbLayout,
        caps: Caps,
        irq: IrqWiring,
        options: InitOptions,
        tables: IodaTables<'t>,
    ) -> Result<Self, InitError> {
        let checks = [
            (
                Table::Rtt,
                tables.rtt.len(),
                RTT_TABLE_SIZE,
                tables.rtt_addr,
                reg::RTT_BASE_ADDRESS,
            ),
            (
                Table::Peltv,
                tables.peltv.len(),
                PELTV_TABLE_SIZE,
                tables.peltv_addr,
                reg::PELTV_BASE_ADDRESS,
            ),
            (
                Table::Pest,
                tables.pest.len(),
                caps.pest_size(),
                tables.pest_addr,
                reg::PEST_BASE_ADDRESS,
            ),
        ];
        for (table, len, want, addr, field) in checks {
            if len != want {
                return Err(InitError::TableSize { table, len });
            }
            if !addr.is_multiple_of(want as u64) || addr & !field != 0 {
                return Err(InitError::TableAddress { table, addr });
            }
        }
        if matches!(irq.notify, Notify::Abt { .. }) && layout.gen != PhbGen::Phb5 {
            return Err(InitError::AbtNeedsPhb5);
        }
        let mut phb = Phb {
            regs,
            layout,
            caps,
            irq,
            options,
            tables,
            tve: vec![0; MAX_TVES].into_boxed_slice(),
            mbt: vec![[0; 2]; MAX_MBT_WINDOWS].into_boxed_slice(),
            mdt: vec![0; MAX_PES].into_boxed_slice(),
            mist: vec![0; MAX_MIST_WORDS].into_boxed_slice(),
            broken: false,
            reset: ResetProgress::Idle,
        };
        phb.init_ioda_cache();
        Ok(phb)
    }

    pub fn layout(&self) -> &PhbLayout {
        &self.layout
    }
    pub fn caps(&self) -> &Caps {
        &self.caps
    }
    pub fn irq_wiring(&self) -> &IrqWiring {
        &self.irq
    }
    /// Register access, for the firmware's own diagnostics and for tests.
    pub fn regs(&self) -> &R {
        &self.regs
    }
    pub fn regs_mut(&mut self) -> &mut R {
        &mut self.regs
    }
    /// Whether the PHB has been given up on (every call answers OPAL_HARDWARE).
    pub fn is_broken(&self) -> bool {
        self.broken
    }
    /// The RTT as the PHB reads it (big-endian PE numbers by bdfn).
    pub fn rtt(&self) -> &[u8] {
        self.tables.rtt
    }
    pub fn peltv(&self) -> &[u8] {
        self.tables.peltv
    }
    pub fn pest(&self) -> &[u8] {
        self.tables.pest
    }
    /// The PE the RTT maps `bdfn` to.
    pub fn rtt_pe(&self, bdfn: Bdfn) -> u16 {
        let at = ioda::rtt_offset(bdfn);
        u16::from_be_bytes([self.tables.rtt[at], self.tables.rtt[at + 1]])
    }
    /// The cached TVE `index` (what a reset restores).
    pub fn tve(&self, index: usize) -> Option<u64> {
        self.tve.get(..self.caps.tvt_entries())?.get(index).copied()
    }
    /// The cached MBT words of window `window`.
    pub fn mbt_window(&self, window: usize) -> Option<[u64; 2]> {
        self.mbt
            .get(..self.caps.mbt_windows())?
            .get(window)
            .copied()
    }
    /// The cached MDT entry of segment `segment`.
    pub fn mdt(&self, segment: usize) -> Option<u64> {
        self.mdt
            .get(..self.caps.num_pes as usize)?
            .get(segment)
            .copied()
    }
    /// The cached MIST word `index` (four 16-bit entries).
    pub fn mist_word(&self, index: usize) -> Option<u64> {
        self.mist.get(..self.caps.mist_words())?.get(index).copied()
    }

    /// skiboot `phb4_default_mbt0`: the last three windows in MDT mode on columns 3, 2, 1
    /// (so the OS could remap their segments later); the others segment# = PE#.
    fn default_mbt0(&self, window: usize) -> u64 {
        let from_top = self.caps.mbt_windows() - window - 1;
        match from_top {
            0..=2 => {
                set_field(mbt::W0_MODE, mbt::MODE_MDT)
                    | set_field(mbt::W0_MDT_COLUMN, 3 - from_top as u64)
            }
            _ => set_field(mbt::W0_MODE, mbt::MODE_PE_SEG),
        }
    }

    /// Reset the software copies to their power-on meaning (skiboot
    /// `phb4_init_ioda_cache`): every requester id in the reserved PE, no PELT-V links, no
    /// DMA windows, MSIs in PE 0, MDT columns B-D = segment number, MBT[0] = the M32
    /// window in MDT mode column A, the other windows disabled.
    fn init_ioda_cache(&mut self) {
        let reserved = ioda::rtt_entry(self.caps.reserved_pe() as u16);
        for entry in self.tables.rtt.chunks_exact_mut(2) {
            entry.copy_from_slice(&reserved);
        }
        self.tables.peltv.fill(0);
        self.tables.pest.fill(0);
        self.tve.fill(0);
        self.mist.fill(0);
        for (i, entry) in self.mdt.iter_mut().enumerate() {
            *entry = (1..4).fold(0, |e, col| e | set_field(ia::mdt_column(col), i as u64));
        }
        for w in 1..self.caps.mbt_windows() {
            self.mbt[w] = [self.default_mbt0(w), 0];
        }
        // skiboot sets only word 1's enable here; QEMU copies it to word 0.
        self.mbt[0] = [
            set_field(mbt::W0_MODE, mbt::MODE_MDT)
                | mbt::W0_TYPE_M32
                | (self.layout.m32.base & mbt::W0_BASE_ADDR),
            mbt::W1_ENABLE | (!(M32_SIZE - 1) & mbt::W1_MASK),
        ];
    }

    /// Point IODA_ADDR at entry `index` of table `tsel`.
    fn ioda_select(&mut self, tsel: u64, index: usize, autoinc: bool) {
        let mut addr = set_field(ia::TSEL, tsel) | set_field(ia::TADR, index as u64);
        if autoinc {
            addr |= ia::AUTOINC;
        }
        self.regs.write64(reg::IODA_ADDR, addr);
    }

    fn ioda_write(&mut self, tsel: u64, index: usize, value: u64) {
        self.ioda_select(tsel, index, false);
        self.regs.write64(reg::IODA_DATA0, value);
    }

    fn ioda_read(&mut self, tsel: u64, index: usize) -> u64 {
        self.ioda_select(tsel, index, false);
        self.regs.read64(reg::IODA_DATA0)
    }

    /// Write `words` from entry 0 of table `tsel` with auto-increment.
    fn ioda_fill(&mut self, tsel: u64, words: impl Iterator<Item = u64>) {
        self.ioda_select(tsel, 0, true);
        for w in words {
            self.regs.write64(reg::IODA_DATA0, w);
        }
    }

    /// Reprogram every in-PHB table from the caches (after resetting the caches if
    /// `purge`), clear PEST/PEEV, drop the RID and TCE caches (skiboot `phb4_ioda_reset`).
    pub(crate) fn ioda_reset(&mut self, purge: bool) -> Result<(), calls::HwTimeout> {
        if purge {
            self.init_ioda_cache();
        }
        // PESTA[0] first: skiboot's errata workaround (Init_30..31).
        self.ioda_write(ia::TBL_PESTA, 0, 0);
        self.ioda_select(ia::TBL_MIST, 0, true);
        let addr = self.regs.read64(reg::IODA_ADDR);
        self.regs.write64(
            reg::IODA_ADDR,
            (addr & !ia::MIST_PWV) | set_field(ia::MIST_PWV, 0xf),
        );
        for i in 0..self.caps.mist_words() {
            let w = self.mist[i];
            self.regs.write64(reg::IODA_DATA0, w);
        }
        let mrt = self.caps.mrt_entries();
        self.ioda_fill(ia::TBL_MRT, core::iter::repeat_n(0, mrt));
        // Taken out for the fill (which borrows the registers) and put back.
        let tve = core::mem::take(&mut self.tve);
        self.ioda_fill(ia::TBL_TVT, tve[..self.caps.tvt_entries()].iter().copied());
        self.tve = tve;
        let mbt = core::mem::take(&mut self.mbt);
        self.ioda_fill(
            ia::TBL_MBT,
            mbt[..self.caps.mbt_windows()].iter().flatten().copied(),
        );
        self.mbt = mbt;
        let mdt = core::mem::take(&mut self.mdt);
        self.ioda_fill(
            ia::TBL_MDT,
            mdt[..self.caps.num_pes as usize].iter().copied(),
        );
        self.mdt = mdt;
        for pe in 0..self.caps.num_pes as usize {
            self.ioda_write(ia::TBL_PESTA, pe, 0);
            self.ioda_write(ia::TBL_PESTB, pe, 0);
        }
        let peev = self.caps.peev_words();
        self.ioda_fill(ia::TBL_PEEV, core::iter::repeat_n(0, peev));
        self.regs
            .write64(reg::RTC_INVALIDATE, reg::RTC_INVALIDATE_ALL);
        self.kill_tces(reg::TCE_KILL_ALL)
    }

    /// Bring the PHB up, as far as it goes without the link (skiboot `phb4_init_hw`):
    /// error masks, link speed, core resets lifted (PERST stays asserted), CTRLR, the IODA
    /// BARs and tables, the root complex's bus numbers and command register. On failure
    /// the PHB is marked broken.
    pub fn init_hw<C: Clock + ?Sized>(&mut self, clock: &C) -> Result<(), InitError> {
        let r = self.init_hw_inner(clock);
        if r.is_err() {
            self.broken = true;
        }
        r
    }

    fn init_hw_inner<C: Clock + ?Sized>(&mut self, clock: &C) -> Result<(), InitError> {
        self.init_hw_cores()?;
        // Init_16: wait for the data-link layer to leave reset, 200 x 1 ms at most.
        let mut cleared = false;
        for _ in 0..200 {
            if self.regs.read64(reg::PCIE_DLP_TRAIN_CTL) & reg::DLP_DL_PGRESET == 0 {
                cleared = true;
                break;
            }
            wait_us(clock, 1000);
        }
        if !cleared {
            return Err(InitError::DlpResetTimeout);
        }
        self.init_hw_tables()?;
        // Init_29: at least 256 ns after PHB4_CONFIG before the tables are used.
        wait_us(clock, 2);
        self.init_hw_finish()
    }

    /// Init_1 to Init_15: everything before the DL_PGRESET wait.
    fn init_hw_cores(&mut self) -> Result<(), InitError> {
        let r = &mut self.regs;
        // Errors are masked until the PHB is set up, then unmasked in init_hw_finish.
        r.write64(reg::LEM_ERROR_MASK, u64::MAX);
        r.write64(reg::TCE_TAG_ENABLE, u64::MAX);
        let scr = r.read64(reg::PCIE_SCR);
        r.write64(
            reg::PCIE_SCR,
            (scr & !reg::PCIE_SCR_MAXLINKSPEED)
                | set_field(
                    reg::PCIE_SCR_MAXLINKSPEED,
                    self.options.max_link_speed as u64,
                ),
        );
        let mut creset = r.read64(reg::PCIE_CRESET) & !reg::CRESET_CFG_CORE;
        r.write64(reg::PCIE_CRESET, creset);
        if self.layout.gen == PhbGen::Phb5 {
            let dlp = r.read64(reg::PCIE_DLP_CTL);
            r.write64(reg::PCIE_DLP_CTL, dlp | reg::DLP_CTL_SFC_DISABLE);
            r.write64(reg::PCIE_PDL_PHY_EQ_CNTL, 0x80f4_ffff_ff0f_9c00);
        }
        // Link Control 2 of the root port: target speed, clear the training controls.
        config_write(
            r,
            Bdfn::ROOT,
            0x78,
            4,
            0x07fe_0000 | self.options.max_link_speed as u32,
        )
        .map_err(InitError::Config)?;
        creset &= !(reg::CRESET_TLDLP | reg::CRESET_PBL);
        creset |= reg::CRESET_PIPE_N;
        r.write64(reg::PCIE_CRESET, creset);
        Ok(())
    }

    /// Init_17 to Init_28, then the IODA reset from the caches.
    fn init_hw_tables(&mut self) -> Result<(), InitError> {
        let mut ctl = ctrlr::IRQ_PGSZ_64K
            | ctrlr::TCE_CLB_DISABLE
            | set_field(ctrlr::TVT_ADDR_SEL, 0 /* TVT_2_PER_PE */);
        if let Notify::Abt { .. } = self.irq.notify {
            ctl |= ctrlr::IRQ_PQ_DISABLE | ctrlr::IRQ_ABT_MODE;
        }
        if self.irq.store_eoi {
            ctl |= ctrlr::IRQ_STORE_EOI;
        }
        let r = &mut self.regs;
        r.write64(reg::CTRLR, ctl);
        match self.irq.notify {
            Notify::Port { addr, index } => {
                r.write64(reg::INT_NOTIFY_ADDR, addr);
                r.write64(reg::INT_NOTIFY_INDEX, index);
            }
            Notify::Abt { ic_esb_base } => {
                r.write64(reg::INT_NOTIFY_ADDR, reg::INT_NOTIFY_ADDR_64K | ic_esb_base);
            }
        }
        r.write64(
            reg::LSI_SOURCE_ID,
            set_field(reg::LSI_SRC_ID, (self.caps.num_irqs as u64 - 1) >> 3),
        );
        // The RTT first: QEMU resolves every DMA and MSI through it.
        r.write64(reg::RTT_BAR, self.tables.rtt_addr | reg::BAR_ENABLE);
        r.write64(reg::PELTV_BAR, self.tables.peltv_addr | reg::BAR_ENABLE);
        r.write64(reg::M32_START_ADDR, M32_PCI_START);
        r.write64(reg::PEST_BAR, self.tables.pest_addr | reg::BAR_ENABLE);
        r.write64(reg::M64_UPPER_BITS, 0);
        r.write64(
            reg::PHB4_CONFIG,
            reg::PHB4C_32BIT_MSI_EN | reg::PHB4C_64BIT_MSI_EN,
        );
        // Flush the posted store before the delay.
        r.read64(reg::PHB4_CONFIG);
        self.ioda_reset(false)
            .map_err(|_| InitError::IodaResetFailed)
    }

    /// Init_30 and later: DLP error logs, the root complex, timeouts, errors unmasked.
    fn init_hw_finish(&mut self) -> Result<(), InitError> {
        let r = &mut self.regs;
        r.write64(reg::PCIE_DLP_ERRLOG1, u64::MAX);
        r.write64(reg::PCIE_DLP_ERRLOG2, u64::MAX);
        r.write64(reg::PCIE_DLP_ERR_STATUS, u64::MAX);
        r.write64(reg::PCIE_DLP_ERR_COUNTERS, 0);
        // Root port: primary 0, secondary 1, subordinate 0xff until the scan numbers
        // the buses; memory decode, bus mastering, parity-error response and SERR on (as
        // skiboot's root-port init: errors the port sees are reported, not dropped);
        // status bits cleared (W1C).
        let root_cfg: [(u32, u32, u32); 3] = [
            (0x18, 4, 0x00ff_0100),
            (0x04, 2, ROOT_PORT_COMMAND),
            (0x06, 2, 0xffff),
        ];
        for (offset, size, value) in root_cfg {
            config_write(r, Bdfn::ROOT, offset, size, value).map_err(InitError::Config)?;
        }
        r.write64(reg::LEM_ERROR_MASK, 0);
        r.write64(reg::TCE_SPEC_CTL, 0);
        r.write64(reg::TIMEOUT_CTRL1, 0x0015_1500_0015_0000);
        r.write64(reg::TIMEOUT_CTRL2, 0x0000_1515_0000_0000);
        r.write64(reg::PBL_TIMEOUT_CTRL, 0x2013_0000_0000_0000);
        Ok(())
    }

    /// Queue a TCE kill (`kind` = the TCE_KILL value) and wait for it and a DMA read sync
    /// to complete (skiboot `phb4_tce_kill`, after its page-kill conversion).
    fn kill_tces(&mut self, kind: u64) -> Result<(), calls::HwTimeout> {
        self.wait_bits(reg::TCE_KILL, reg::TCE_KILL_BUSY, 0)?;
        self.regs.write64(reg::TCE_KILL, kind);
        let sync = match self.layout.gen {
            // PHB5 keeps the write-sync half of the register as it is.
            PhbGen::Phb5 => {
                self.regs.read64(reg::DMA_READ_WRITE_SYNC)
                    & (reg::DMA_READ_SYNC_COMPLETE | reg::DMA_WRITE_SYNC_COMPLETE)
            }
            PhbGen::Phb4 => 0,
        };
        self.regs
            .write64(reg::DMA_READ_WRITE_SYNC, sync | reg::DMA_READ_SYNC_START);
        self.wait_bits(reg::Q_DMA_R, reg::Q_DMA_R_TCE_KILL_STATUS, 0)?;
        self.wait_bits(
            reg::DMA_READ_WRITE_SYNC,
            reg::DMA_READ_SYNC_COMPLETE,
            reg::DMA_READ_SYNC_COMPLETE,
        )
    }

    /// Poll `offset` until `value & mask == want`; an all-ones read means fenced.
    fn wait_bits(&mut self, offset: u32, mask: u64, want: u64) -> Result<(), calls::HwTimeout> {
        for _ in 0..POLL_READS {
            let v = self.regs.read64(offset);
            if v == u64::MAX {
                return Err(calls::HwTimeout);
            }
            if v & mask == want {
                return Ok(());
            }
        }
        Err(calls::HwTimeout)
    }

    /// Whether the PHB answers all-ones (fenced, or its ETU in reset).
    fn fenced(&mut self) -> bool {
        self.regs.read64(reg::ETU_ERR_SUMMARY) == u64::MAX
    }

    /// The interrupt sources the XIVE code must register for this PHB: MSIs
    /// `base_msi..+num_irqs-8` and LSIs at the top, all with 64 KiB ESB pages in the
    /// PHB's interrupt BAR (source `i` at `esb.base + i * 64 KiB`). In ABT mode the MSIs
    /// use the IC's own ESB pages instead and only the LSI range uses the PHB's.
    pub fn irq_sources(&self) -> IrqSources {
        let msis = self.caps.msi_count();
        IrqSources {
            msi_girq: self.irq.base_msi,
            msi_count: msis,
            msi_esb: match self.irq.notify {
                Notify::Port { .. } => Some(self.layout.esb.base),
                Notify::Abt { .. } => None,
            },
            lsi_girq: self.irq.base_msi + msis,
            lsi_count: crate::msi::LSI_COUNT,
            lsi_esb: self.layout.esb.base + ((msis as u64) << ESB_PAGE_SHIFT),
            esb_shift: ESB_PAGE_SHIFT,
            store_eoi: self.irq.store_eoi,
        }
    }

    /// What the `pciex@` node says about this PHB ([`crate::dt::pciex_properties`]).
    pub fn dt_facts(&self) -> crate::dt::PhbDtFacts {
        crate::dt::PhbDtFacts {
            layout: self.layout,
            caps: self.caps,
            base_msi: self.irq.base_msi,
            rtt: (self.tables.rtt_addr, self.tables.rtt.len()),
            peltv: (self.tables.peltv_addr, self.tables.peltv.len()),
            pest: (self.tables.pest_addr, self.tables.pest.len()),
        }
    }

    /// The CPU range an MBT window decodes (QEMU's size rule), for overlap checks.
    fn mbt_range(words: [u64; 2]) -> Window {
        let base = get_field(mbt::W0_BASE_ADDR, words[0]) << 12;
        let mask = get_field(mbt::W1_MASK, words[1]) << 12;
        let size = (!(mask | 0xff00_0000_0000_0000)).wrapping_add(1);
        Window { base, size }
    }
}

/// log2 of the PHB's ESB page size (CTRLR IRQ_PGSZ_64K).
pub const ESB_PAGE_SHIFT: u32 = 16;

/// The PHB's interrupt sources, for registration with XIVE (`xive::state::HwSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqSources {
    pub msi_girq: u32,
    pub msi_count: u32,
    /// ESB base of MSI 0 in the PHB's BAR; `None` in ABT mode (the IC's pages serve).
    pub msi_esb: Option<u64>,
    /// INTA; INTB-D follow, then 2 unused, then "inf" (+6) and "err" (+7).
    pub lsi_girq: u32,
    pub lsi_count: u32,
    pub lsi_esb: u64,
    pub esb_shift: u32,
    pub store_eoi: bool,
}

/// Busy-wait `us` microseconds on the timebase.
fn wait_us<C: Clock + ?Sized>(clock: &C, us: u64) {
    let end = clock
        .now()
        .saturating_add(us.saturating_mul(clock.ticks_per_us()));
    while clock.now() < end {
        clock.pause();
    }
}
