// SPDX-License-Identifier: Apache-2.0
//! The PSI host bridge (`ibm,power9-psihb-x`, `ibm,power10-psihb-x`) as an interrupt
//! source of the XIVE: its register BAR, its ESB BAR, the notification port and base it
//! forwards events with, the switch to ESB mode, masking, and the handler that runs when
//! Linux calls `OPAL_HANDLE_INTERRUPT` on one of its girqs. skiboot `hw/psi.c`
//! (`psi_probe_p9`, `psi_init_p9_interrupts`, `psi_init_p10_interrupts`,
//! `psihb_p9_interrupt`); the numbers are in `xive::psi`.
//!
//! Order of set-up (skiboot's, plus a second masking pass): register BAR (XSCOM), ESB BAR,
//! mask every source, IVT offset, notification address, interrupt-control reset then 0
//! (ESB mode), mask every source again and check. The second pass is needed on QEMU,
//! whose reset puts every PQ back to 00 (its PSI `XiveSource` has `reset-pq = 00`), which
//! would leave sources live before the OS asked for them.
//!
//! The XIVE side (EAS entries for the girqs, `/ibm,opal` `interrupts`, OPAL_HANDLE_INTERRUPT)
//! belongs to the caller: see `docs/firmware-interrupts.md`.

use crate::arch::mmio::CiWindow;
use crate::console;
use crate::drivers::xscom::Xscom;
use crate::drivers::{bmc, lpc_irq};
use crate::inventory::Chip;
use alloc::vec::Vec;
use hal::bits::ppc_bit;
use opal_api::event;
use spin::Mutex;
use xive::esb;
use xive::phys_map::Bars;
use xive::psi::{Layout, LayoutError, Owner, PsiSource, PSI_SOURCE_COUNT};
use xive::Gen;

/// XSCOM register index of the PSIHB register BAR (skiboot `PSIHB_XSCOM_P9_BASE`, the same
/// on P10); its enable bit is `PSIHB_XSCOM_P9_HBBAR_EN`.
const PSIHB_XSCOM_BAR: u32 = 0xa;
const PSIHB_BAR_EN: u64 = ppc_bit(63);

const PSIHB_INTERRUPT_CONTROL: u64 = 0x58;
// Bit 0, PSIHB_IRQ_METHOD, set would raise the sources as plain LSIs ("LSI method",
// which QEMU refuses); it stays clear for ESB mode.
const PSIHB_IRQ_RESET: u64 = ppc_bit(1);
const PSIHB_ESB_CI_BASE: u64 = 0x60;
const PSIHB_ESB_NOTIF_ADDR: u64 = 0x68;
const PSIHB_IVT_OFFSET: u64 = 0x70;
/// The part of the register BAR this driver touches (QEMU maps 1 MiB).
const PSIHB_REGS_USED: u64 = 0x80;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsiError {
    /// The chip has no PSI host bridge node in the device tree.
    NoPsiUnit {
        chip: u32,
    },
    Layout(LayoutError),
    /// An interrupt register did not read back as written.
    RegisterReadBack {
        chip: u32,
        reg: u64,
        wrote: u64,
        read: u64,
    },
    /// A source's PQ did not read 01 (off) after masking.
    MaskFailed {
        chip: u32,
        source: PsiSource,
        pq: u8,
    },
    /// No registered PSI bridge owns this girq.
    UnknownGirq(u32),
}

impl From<LayoutError> for PsiError {
    fn from(e: LayoutError) -> Self {
        Self::Layout(e)
    }
}

/// One chip's PSI sources once the bridge is in ESB mode: what the XIVE code needs to
/// register them (girqs, ESB pages, page shift, LSI, store EOI, owner, name), to set
/// their PQ bits (mask = 01, enable = 00) and to service them.
#[derive(Clone, Copy, Debug)]
pub struct PsiSources {
    pub chip_id: u32,
    pub layout: Layout,
    regs_base: u64,
}

impl PsiSources {
    pub fn girq(&self, source: PsiSource) -> u32 {
        self.layout.girq(source)
    }

    pub fn source_of(&self, girq: u32) -> Option<PsiSource> {
        self.layout.source_of(girq)
    }

    /// The source's ESB page; also its EOI page (`OPAL_XIVE_GET_IRQ_INFO` eoi_page).
    /// PSI sources have no trigger page (trig_page 0).
    pub fn esb_page(&self, source: PsiSource) -> u64 {
        self.layout.esb_page(source)
    }

    /// Name as skiboot builds it for `/ibm,opal` `interrupt-names`: `psi#<chip>:<name>`,
    /// a used SerIRQ route named after its LPC device.
    pub fn name(&self, source: PsiSource) -> alloc::string::String {
        let name = source
            .serirq_route()
            .and_then(|route| lpc_irq::route_name(self.chip_id, route))
            .unwrap_or(source.name());
        alloc::format!("psi#{:x}:{}", self.chip_id, name)
    }

    /// The (girq, source) pairs to list in `/ibm,opal` `interrupts` (all flagged level).
    pub fn opal_interrupts(&self) -> impl Iterator<Item = (u32, PsiSource)> + '_ {
        PsiSource::ALL
            .into_iter()
            .filter(|s| s.owner() == Owner::Opal)
            .map(|s| (self.girq(s), s))
    }

    fn regs(&self) -> CiWindow {
        // SAFETY: `init` programmed the PSIHB register BAR at this address (and its checked
        // MMIO writes showed the registers answer there).
        unsafe { CiWindow::new(self.regs_base, PSIHB_REGS_USED) }
    }

    fn esb(&self) -> CiWindow {
        // SAFETY: `init` opened the ESB BAR at this address with this generation's size,
        // which holds all 14 pages (checked by `Layout::new`).
        unsafe {
            CiWindow::new(
                self.layout.esb_base,
                Layout::esb_region_size(self.layout.gen),
            )
        }
    }

    fn esb_load(&self, source: PsiSource, op: u64) -> u8 {
        let page = self.esb_page(source) - self.layout.esb_base;
        self.esb().read64(page + op) as u8
    }

    /// The source's PQ bits (ESB load at 0x800, no side effect).
    pub fn pq(&self, source: PsiSource) -> u8 {
        self.esb_load(source, esb::GET) & (esb::P | esb::Q)
    }

    /// Sets PQ (0–3) through the matching 0xC00–0xF00 load; returns the old PQ.
    pub fn set_pq(&self, source: PsiSource, pq: u8) -> u8 {
        let op = match pq & 3 {
            0 => esb::SET_PQ_00,
            1 => esb::SET_PQ_01,
            2 => esb::SET_PQ_10,
            _ => esb::SET_PQ_11,
        };
        self.esb_load(source, op) & (esb::P | esb::Q)
    }

    /// PQ = 01: the source's events are dropped at the ESB.
    pub fn mask(&self, source: PsiSource) {
        self.set_pq(source, esb::PQ_OFF);
    }

    fn mask_all(&self) -> Result<(), PsiError> {
        for s in PsiSource::ALL {
            self.mask(s);
        }
        for s in PsiSource::ALL {
            let pq = self.pq(s);
            if pq != esb::PQ_OFF {
                return Err(PsiError::MaskFailed {
                    chip: self.chip_id,
                    source: s,
                    pq,
                });
            }
        }
        Ok(())
    }

    fn write_checked(&self, reg: u64, value: u64) -> Result<(), PsiError> {
        let regs = self.regs();
        regs.write64(reg, value);
        let read = regs.read64(reg);
        if read != value {
            return Err(PsiError::RegisterReadBack {
                chip: self.chip_id,
                reg,
                wrote: value,
                read,
            });
        }
        Ok(())
    }

    /// What `OPAL_HANDLE_INTERRUPT` runs for one of these sources (skiboot
    /// `psihb_p9_interrupt`): services the LPC controller and the devices behind it, masks
    /// a source nobody here can service (as skiboot's `psi_p9_mask_unhandled_irq`), and
    /// returns the OPAL events the console now has pending. The caller ORs in the rest
    /// (`opal_calls::events::pending`) and writes the mask for the OS; the OS EOIs.
    pub fn handle(&self, source: PsiSource) -> u64 {
        let pending = match source {
            PsiSource::LpcHc => lpc_irq::lpc_hc_interrupt(self.chip_id),
            s => match s.serirq_route() {
                Some(route) => lpc_irq::route_pending(self.chip_id, route),
                None => {
                    log::error!(
                        "PSI[0x{:03x}]: Masking unhandled LSI {} ({})",
                        self.chip_id,
                        s.index(),
                        s.name()
                    );
                    self.mask(s);
                    lpc_irq::Pending::NONE
                }
            },
        };
        if pending.uart {
            console::uart_interrupt();
        }
        if pending.bt {
            bmc::bt_interrupt();
        }
        // The devices have dropped their lines now; with AUTO_CLEAR the latch follows by
        // itself, the explicit clear covers controllers without it.
        lpc_irq::ack(self.chip_id, pending);
        console_events()
    }
}

/// The console's share of the OPAL event mask (skiboot `uart_adjust_opal_event` and the
/// output flush state).
fn console_events() -> u64 {
    use hal::Console;
    let c = console::OpalConsole;
    let mut mask = 0;
    if c.input_pending() {
        mask |= event::CONSOLE_INPUT;
    }
    if c.output_pending() {
        mask |= event::CONSOLE_OUTPUT;
    }
    mask
}

/// The bridges set up so far, for the girq → chip lookup of `handle_psi_interrupt`.
static REGISTERED: Mutex<Vec<PsiSources>> = Mutex::new(Vec::new());

fn register(sources: PsiSources) {
    let mut all = REGISTERED.lock();
    all.retain(|s| s.chip_id != sources.chip_id);
    all.push(sources);
}

/// Attempts at the registry lock before giving up: it is only ever held for a copy or a
/// push, but an OPAL call may re-enter (NMI) on the CPU that holds it.
const LOCK_TRIES: u32 = 1_000_000;

/// The PSI bridge (and source) a girq belongs to.
pub fn lookup(girq: u32) -> Option<(PsiSources, PsiSource)> {
    let all = (0..LOCK_TRIES).find_map(|_| {
        let guard = REGISTERED.try_lock();
        if guard.is_none() {
            crate::arch::relax();
        }
        guard
    })?;
    all.iter()
        .find_map(|s| s.source_of(girq).map(|src| (*s, src)))
}

/// `OPAL_HANDLE_INTERRUPT` for a PSI girq: services the source and returns the console's
/// pending OPAL events (see [`PsiSources::handle`]).
pub fn handle_psi_interrupt(girq: u32) -> Result<u64, PsiError> {
    let (sources, source) = lookup(girq).ok_or(PsiError::UnknownGirq(girq))?;
    Ok(sources.handle(source))
}

/// Puts chip `chip`'s PSI host bridge in ESB mode with its sources at `girq_base..+14`
/// (`block << 20 | index` on P9, `block << 24 | index` on P10, 16-aligned), its ESB pages
/// at `bars.psi_esb`, and event notifications going to `notify_addr` (the chip's IC
/// notify port + the PSI slot: `bars.ic + xive::psi::notify_port_offset(gen)`).
/// Every source is left masked (PQ = 01).
pub fn init(
    chip: &Chip,
    gen: Gen,
    bars: &Bars,
    girq_base: u32,
    notify_addr: u64,
) -> Result<PsiSources, PsiError> {
    let chip_id = chip.chip_id;
    let pcba = chip.psi_pcba.ok_or(PsiError::NoPsiUnit { chip: chip_id })?;
    let layout = Layout::new(gen, girq_base, bars.psi_esb)?;
    let notif = xive::psi::notify_addr_value(notify_addr)?;

    // SAFETY: the chip's XSCOM window from the device tree (`ibm,xscom` reg).
    let xscom = unsafe { Xscom::new(chip.xscom_base) };
    // Not read back: QEMU answers an XSCOM read of this register with all-ones (it maps
    // it to MMIO offset 0, which it does not model). The checked MMIO writes below prove
    // the BAR instead.
    xscom.write(pcba + PSIHB_XSCOM_BAR, bars.psihb | PSIHB_BAR_EN);

    let sources = PsiSources {
        chip_id,
        layout,
        regs_base: bars.psihb,
    };
    sources.write_checked(PSIHB_ESB_CI_BASE, layout.esb_ci_base_value())?;
    for s in PsiSource::ALL {
        sources.mask(s);
    }
    sources.write_checked(PSIHB_IVT_OFFSET, layout.ivt_offset_value())?;
    sources.write_checked(PSIHB_ESB_NOTIF_ADDR, notif)?;
    // Reset the bridge's interrupt logic, then leave it with PSIHB_IRQ_METHOD clear:
    // ESB mode.
    sources
        .regs()
        .write64(PSIHB_INTERRUPT_CONTROL, PSIHB_IRQ_RESET);
    sources.write_checked(PSIHB_INTERRUPT_CONTROL, 0)?;
    sources.mask_all()?;

    log::info!(
        "PSI[0x{:03x}]: ESB mode, girqs {:#x}..{:#x}, ESB pages at {:#x} (shift {}), notify {:#x} base {:#x}",
        chip_id,
        girq_base,
        girq_base + PSI_SOURCE_COUNT - 1,
        layout.esb_base,
        layout.esb_shift(),
        notify_addr,
        layout.notify_base()
    );
    register(sources);
    Ok(sources)
}
