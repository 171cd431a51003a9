// SPDX-License-Identifier: Apache-2.0
//! LPC interrupts on P9/P10: which LPC (ISA) IRQ lines the firmware's devices use, the
//! SerIRQ routes that carry them to PSI sources 7–10, the LPC host controller's mask,
//! status and SerIRQ deserializer, and the acknowledgement after a device was serviced.
//! skiboot `hw/lpc.c` (`lpc_init_interrupts_one`, `lpc_route_serirq`, `lpc_alloc_route`,
//! `lpc_setup_serirq`, `lpc_interrupt`, `lpc_serirq`); QEMU `hw/ppc/pnv_lpc.c`.
//!
//! Only the LPC bus that carries the console UART (or, failing that, the primary one) is
//! set up; on QEMU it is chip 0's, the only one with ISA devices. Routes are handed out as
//! skiboot does on QEMU: the BT interface first (route 0, PSI source 7 `lpc-bt`), then the
//! UART (route 1, PSI source 8 `lpc-uart`), both OPAL's.
//!
//! Registers are reached through the OPB window (`ibm,power9-lpcm-opb`, 4-byte big-endian
//! accesses only): the OPB master at OPB 0xc0010000 and the LPC host controller at
//! 0xc0012000.

use crate::arch::mmio::CiWindow;
use crate::inventory::Inventory;
use devtree::{Node, Tree};
use spin::Once;
use xive::psi::serirq;

/// OPB master registers (offsets in its block).
const OPB_MASTER_LS_IRQ_STAT: u64 = 0x50;
const OPB_MASTER_LS_IRQ_MASK: u64 = 0x54;
const OPB_MASTER_LS_IRQ_POL: u64 = 0x58;
const OPB_MASTER_IRQ_LPC: u32 = 0x0000_0800;
const OPB_MASTER_SIZE: u64 = 0x60;

/// LPC host controller registers.
const LPC_HC_IRQSER_CTRL: u64 = 0x30;
const LPC_HC_IRQSER_EN: u32 = 0x8000_0000;
const LPC_HC_IRQSER_START_4CLK: u32 = 0x0000_0000;
/// P9 DD2 and later: a SerIRQ status bit clears itself when the device drops its line.
const LPC_HC_IRQSER_AUTO_CLEAR: u32 = 0x0080_0000;
const LPC_HC_IRQMASK: u64 = 0x34;
const LPC_HC_IRQSTAT: u64 = 0x38;
const LPC_HC_IRQ_SERIRQ_ALL: u32 = 0xffff_8000;
const LPC_HC_IRQ_LRESET: u32 = 0x0000_0400;
/// The controller's own error sources (skiboot `LPC_HC_IRQ_BASE_IRQS`): LRESET, SYNC
/// abnormal/no-response/normal/timeout, target and bus-master TAR errors.
const LPC_HC_IRQ_BASE_IRQS: u32 = LPC_HC_IRQ_LRESET | 0xfc;
const LPC_HC_ERROR_ADDRESS: u64 = 0x40;
const LPC_HC_SIZE: u64 = 0x100;

/// Where skiboot expects the blocks in OPB space when the tree does not say.
const OPB_MASTER_OPB_ADDR: u64 = 0xc001_0000;
const LPC_HC_OPB_ADDR: u64 = 0xc001_2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpcIrqError {
    /// No `ibm,lpc` bus under an `ibm,power9-lpcm-opb` node (P8-style or no LPC).
    NoOpbLpc,
    /// The OPB node's `ranges` do not cover the register blocks.
    Untranslatable(u64),
    /// A device's `interrupts` names an IRQ line that cannot be routed.
    BadIrq(u32),
    /// The controller did not take the configuration (register, wrote, read).
    ReadBack { reg: u64, wrote: u32, read: u32 },
    /// Set up already.
    AlreadyInitialised,
}

/// The LPC devices the firmware services from a SerIRQ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpcDevice {
    Uart,
    Bt,
}

impl LpcDevice {
    /// skiboot's client names, which become the PSI source names.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Uart => "lpc-uart",
            Self::Bt => "lpc-bt",
        }
    }
}

/// Which devices have an interrupt waiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub uart: bool,
    pub bt: bool,
    /// The `LPC_HC_IRQSTAT` SerIRQ bits these came from (cleared by [`ack`]).
    pub serirq_bits: u32,
}

impl Pending {
    pub const NONE: Pending = Pending {
        uart: false,
        bt: false,
        serirq_bits: 0,
    };
}

#[derive(Clone, Copy, Debug)]
struct RouteUse {
    device: LpcDevice,
    irq: u8,
}

/// The set-up LPC bus.
pub struct LpcIrq {
    pub chip_id: u32,
    opb_master: CiWindow,
    lpc_hc: CiWindow,
    routes: [Option<RouteUse>; 4],
}

static LPC_IRQ: Once<LpcIrq> = Once::new();

impl LpcIrq {
    /// `LPC_HC_IRQSTAT` bits carried by `route` (one device per route: `routes[route]`).
    fn route_bits(&self, route: u8) -> u32 {
        self.routes
            .get(usize::from(route))
            .copied()
            .flatten()
            .map_or(0, |r| serirq::irq_bit(r.irq))
    }

    fn devices_in(&self, bits: u32) -> Pending {
        let mut p = Pending {
            serirq_bits: bits,
            ..Pending::NONE
        };
        for r in self.routes.iter().flatten() {
            if bits & serirq::irq_bit(r.irq) != 0 {
                match r.device {
                    LpcDevice::Uart => p.uart = true,
                    LpcDevice::Bt => p.bt = true,
                }
            }
        }
        p
    }

    fn enabled_serirqs(&self) -> u32 {
        self.routes
            .iter()
            .flatten()
            .fold(0, |acc, r| acc | serirq::irq_bit(r.irq))
    }
}

/// The first cell of a node's `interrupts` (QEMU writes one cell: the ISA IRQ).
fn isa_irq(node: &Node) -> Option<Result<u8, LpcIrqError>> {
    let irq = node.property_cells("interrupts")?.next()?;
    Some(
        u8::try_from(irq)
            .ok()
            .filter(|&i| serirq::route_field(i).is_some())
            .ok_or(LpcIrqError::BadIrq(irq)),
    )
}

fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        // `get`, not `[..i]` (see inventory.rs): `i` is always a char boundary.
        Some(i) => path.get(..i).unwrap_or("/"),
    }
}

/// Translates an OPB address through the OPB node's `ranges`
/// (<child (1 cell)> <parent (2 cells)> <size (1 cell)>, as QEMU writes them).
fn opb_to_real(opb: &Node, addr: u64) -> Result<u64, LpcIrqError> {
    let ac = opb.property_u32("#address-cells").unwrap_or(1) as usize;
    let sc = opb.property_u32("#size-cells").unwrap_or(1) as usize;
    let cells: alloc::vec::Vec<u32> = opb
        .property_cells("ranges")
        .ok_or(LpcIrqError::Untranslatable(addr))?
        .collect();
    let read = |c: &[u32]| c.iter().fold(0u64, |acc, &x| acc << 32 | u64::from(x));
    for entry in cells.chunks_exact(ac + 2 + sc) {
        let child = read(&entry[..ac]);
        let parent = read(&entry[ac..ac + 2]);
        let size = read(&entry[ac + 2..]);
        if addr >= child && addr - child < size {
            return Ok(parent + (addr - child));
        }
    }
    Err(LpcIrqError::Untranslatable(addr))
}

/// OPB address of the child block with `compatible` (its `reg` first cell), else skiboot's.
fn block_opb_addr(opb: &Node, compatible: &str, default: u64) -> u64 {
    opb.children()
        .find(|c| c.is_compatible(compatible))
        .and_then(|c| c.property_cells("reg")?.next())
        .map_or(default, u64::from)
}

/// Finds the LPC bus with the console (or the primary one), routes the UART's and the BT
/// interface's IRQ lines to PSI SerIRQ sources, unmasks those lines and the controller's
/// error interrupts, and turns the SerIRQ deserializer on (with AUTO_CLEAR). The PSI
/// sources themselves stay masked until the XIVE code enables them.
pub fn init(tree: &Tree, inv: &Inventory) -> Result<&'static LpcIrq, LpcIrqError> {
    if LPC_IRQ.is_completed() {
        return Err(LpcIrqError::AlreadyInitialised);
    }
    let lpc_paths = tree.paths_compatible_with("ibm,lpc");
    let lpc_path = inv
        .uart
        .as_ref()
        .map(|(_, uart)| parent_path(uart).into())
        .or_else(|| {
            lpc_paths
                .iter()
                .find(|p| {
                    tree.node(p)
                        .is_some_and(|n| n.property("primary").is_some())
                })
                .or(lpc_paths.first())
                .cloned()
        })
        .ok_or(LpcIrqError::NoOpbLpc)?;
    let lpc = tree.node(&lpc_path).ok_or(LpcIrqError::NoOpbLpc)?;
    let opb = tree
        .node(parent_path(&lpc_path))
        .filter(|n| n.is_compatible("ibm,power9-lpcm-opb"))
        .ok_or(LpcIrqError::NoOpbLpc)?;
    let chip_id = opb.property_u32("ibm,chip-id").unwrap_or(0);

    let master_addr = block_opb_addr(opb, "ibm,power9-lpcm-opb-master", OPB_MASTER_OPB_ADDR);
    let hc_addr = block_opb_addr(opb, "ibm,power9-lpc-controller", LPC_HC_OPB_ADDR);
    // SAFETY: both blocks are the LPC controller's register blocks, translated through the
    // OPB bridge's `ranges` from the device tree, with their architected sizes.
    let (opb_master, lpc_hc) = unsafe {
        (
            CiWindow::new(opb_to_real(opb, master_addr)?, OPB_MASTER_SIZE),
            CiWindow::new(opb_to_real(opb, hc_addr)?, LPC_HC_SIZE),
        )
    };

    // skiboot's allocation order on QEMU: the BT client registers before the UART's.
    let mut routes = [None; 4];
    let mut next = 0;
    for (compat, device) in [("ipmi-bt", LpcDevice::Bt), ("ns16550", LpcDevice::Uart)] {
        let Some(node) = lpc.children().find(|c| c.is_compatible(compat)) else {
            continue;
        };
        let Some(irq) = isa_irq(node) else { continue };
        routes[next] = Some(RouteUse { device, irq: irq? });
        next += 1;
    }
    let state = LpcIrq {
        chip_id,
        opb_master,
        lpc_hc,
        routes,
    };

    // First mask everything, then route, then unmask what has a client (skiboot order).
    state.lpc_hc.write32(LPC_HC_IRQMASK, 0);
    for (route, r) in state.routes.iter().enumerate() {
        let Some(r) = r else { continue };
        let (reg, _) = serirq::route_field(r.irq).ok_or(LpcIrqError::BadIrq(r.irq.into()))?;
        let old = state.opb_master.read32(reg.into());
        let new =
            serirq::with_route(old, r.irq, route as u8).ok_or(LpcIrqError::BadIrq(r.irq.into()))?;
        write_checked(&state.opb_master, reg.into(), new)?;
    }
    let mask = LPC_HC_IRQ_BASE_IRQS | state.enabled_serirqs();
    write_checked(&state.lpc_hc, LPC_HC_IRQMASK, mask)?;
    state.opb_master.write32(OPB_MASTER_LS_IRQ_POL, 0);
    state
        .opb_master
        .write32(OPB_MASTER_LS_IRQ_MASK, OPB_MASTER_IRQ_LPC);
    let ctrl = if state.enabled_serirqs() != 0 {
        LPC_HC_IRQSER_EN | LPC_HC_IRQSER_START_4CLK | LPC_HC_IRQSER_AUTO_CLEAR
    } else {
        0
    };
    write_checked(&state.lpc_hc, LPC_HC_IRQSER_CTRL, ctrl)?;

    for (route, r) in state.routes.iter().enumerate() {
        if let Some(r) = r {
            log::info!(
                "LPC[{:03x}]: SerIRQ {} ({}) on route {} (PSI source {})",
                chip_id,
                r.irq,
                r.device.name(),
                route,
                7 + route
            );
        }
    }
    Ok(LPC_IRQ.call_once(|| state))
}

fn write_checked(w: &CiWindow, reg: u64, value: u32) -> Result<(), LpcIrqError> {
    w.write32(reg, value);
    let read = w.read32(reg);
    if read != value {
        return Err(LpcIrqError::ReadBack {
            reg,
            wrote: value,
            read,
        });
    }
    Ok(())
}

fn state_for(chip_id: u32) -> Option<&'static LpcIrq> {
    LPC_IRQ.get().filter(|s| s.chip_id == chip_id)
}

/// The device name on `route` of chip `chip_id`, for the PSI source name.
pub fn route_name(chip_id: u32, route: u8) -> Option<&'static str> {
    let s = state_for(chip_id)?;
    s.routes.get(usize::from(route))?.map(|r| r.device.name())
}

/// PSI SerIRQ source `7 + route` fired: which devices on that route have their line up
/// (skiboot `lpc_serirq`: `LPC_HC_IRQSTAT` & the route's mask).
pub fn route_pending(chip_id: u32, route: u8) -> Pending {
    let Some(s) = state_for(chip_id) else {
        return Pending::NONE;
    };
    let bits = s.lpc_hc.read32(LPC_HC_IRQSTAT) & s.route_bits(route);
    s.devices_in(bits)
}

/// PSI source 3 (LPC HC) fired: the controller's own interrupt through the OPB master
/// (skiboot `lpc_interrupt`). Clears and logs bus errors, acknowledges the OPB latch, and
/// returns any SerIRQs found latched as well.
pub fn lpc_hc_interrupt(chip_id: u32) -> Pending {
    let Some(s) = state_for(chip_id) else {
        return Pending::NONE;
    };
    let opb_irqs = s.opb_master.read32(OPB_MASTER_LS_IRQ_STAT);
    let mut pending = Pending::NONE;
    if opb_irqs & OPB_MASTER_IRQ_LPC != 0 {
        let irqs = s.lpc_hc.read32(LPC_HC_IRQSTAT);
        if irqs & LPC_HC_IRQ_BASE_IRQS != 0 {
            s.lpc_hc.write32(LPC_HC_IRQSTAT, LPC_HC_IRQ_BASE_IRQS);
            if irqs & LPC_HC_IRQ_LRESET != 0 {
                log::error!("Got LPC reset on chip 0x{:x} !", chip_id);
            } else {
                log::error!(
                    "LPC[{:03x}]: bus error, IRQSTAT {:#010x}, error address {:#010x}",
                    chip_id,
                    irqs,
                    s.lpc_hc.read32(LPC_HC_ERROR_ADDRESS)
                );
            }
        }
        pending = s.devices_in(irqs & LPC_HC_IRQ_SERIRQ_ALL & s.enabled_serirqs());
    }
    s.opb_master.write32(OPB_MASTER_LS_IRQ_STAT, opb_irqs);
    pending
}

/// Clears the SerIRQ latches of serviced devices (write-one-to-clear; a line still held
/// up by its device latches again, so nothing is lost).
pub fn ack(chip_id: u32, pending: Pending) {
    if pending.serirq_bits == 0 {
        return;
    }
    if let Some(s) = state_for(chip_id) {
        s.lpc_hc.write32(LPC_HC_IRQSTAT, pending.serirq_bits);
    }
}
