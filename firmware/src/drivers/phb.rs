// SPDX-License-Identifier: Apache-2.0
//! The PCI host bridges (PHB4 on POWER9, PHB5 on POWER10): the boot-time bring-up of
//! every PHB QEMU's (or Hostboot's) device tree describes, and the PHBs behind the
//! `OPAL_PCI_*` calls. The logic is the `pci` crate's; this file gives it the machine:
//! MMIO on the register BAR ([`FwPhbRegs`]), XSCOM, the timebase, table memory from the
//! boot arena, interrupt numbers from XIVE, and the `pciex@` nodes in the OS tree.
//!
//! Per `stack@` node, in tree order (skiboot `phb4_probe_stack`, `phb4_create`, the
//! "Resetting PHBs" and "Probing slots" steps of `pci_init_slots`): XSCOM BARs, caps,
//! `num_irqs` girqs in one aligned range, IODA tables, init, fundamental reset (every
//! PHB's started, then all polled on the timebase: boot only), bus scan, and device-tree facts kept
//! for [`add_nodes`]. A PHB that fails any step is left out with one log line.
//!
//! Interrupt notification: P9-style (PHB stores to the IC's notify port) on both
//! generations; P10's ABT mode is not used (pci-phb.md §7.1 allows it).

use crate::arch::mmio;
use crate::drivers::xscom::{ChipScom, Timebase};
use crate::inventory::Inventory;
use crate::layout::BootArena;
use alloc::string::String;
use alloc::vec::Vec;
use devtree::{Error, Tree};
use hal::{Clock, Holder, PciHost};
use pci::dt::{self, FunctionFacts, LsiMap, PhbDtContext, PhbDtFacts};
use pci::host::Host;
use pci::layout::{stacks_from_fdt, PhbLayout};
use pci::phb::{Caps, InitOptions, IodaTables, IrqWiring, Phb, Table};
use pci::scan::{assign_buses, root_port_link_active, BusRange, Found};
use pci::{AccessSize, Bdfn, PhbRegs};

/// One PHB's register BAR, reached with cache-inhibited loads and stores.
pub struct FwPhbRegs {
    base: u64,
}

impl FwPhbRegs {
    /// # Safety
    /// `base` must be a PHB register BAR this firmware mapped over XSCOM (its 0x3000
    /// bytes decode PHB registers).
    unsafe fn new(base: u64) -> Self {
        Self { base }
    }
}

impl PhbRegs for FwPhbRegs {
    fn read64(&mut self, offset: u32) -> u64 {
        // SAFETY: inside the register BAR `new` vouched for; the pci crate keeps 8-byte
        // accesses 8-byte aligned.
        unsafe { mmio::ci_load64(self.base + u64::from(offset & !7)) }
    }
    fn write64(&mut self, offset: u32, value: u64) {
        // SAFETY: as in `read64`.
        unsafe { mmio::ci_store64(self.base + u64::from(offset & !7), value) }
    }
    fn read_narrow(&mut self, offset: u32, size: AccessSize) -> u32 {
        let pa = self.base + u64::from(offset);
        // SAFETY: the CONFIG_DATA lanes or the root-complex window of the BAR `new`
        // vouched for, naturally aligned for the size (the pci crate's config checks).
        unsafe {
            match size {
                AccessSize::Byte => mmio::ci_load8(pa).into(),
                AccessSize::Half => mmio::ci_load16(pa & !1).into(),
                AccessSize::Word => mmio::ci_load32(pa & !3),
            }
        }
    }
    fn write_narrow(&mut self, offset: u32, size: AccessSize, value: u32) {
        let pa = self.base + u64::from(offset);
        // SAFETY: as in `read_narrow`.
        unsafe {
            match size {
                AccessSize::Byte => mmio::ci_store8(pa, value as u8),
                AccessSize::Half => mmio::ci_store16(pa & !1, value as u16),
                AccessSize::Word => mmio::ci_store32(pa & !3, value),
            }
        }
    }
}

type FwHost = Host<FwPhbRegs, ChipScom>;

static HOST: spin::Once<FwHost> = spin::Once::new();
/// What the `pciex@` nodes need, kept from the bring-up for [`add_nodes`].
static NODES: spin::Mutex<Vec<PhbNodes>> = spin::Mutex::new(Vec::new());

struct PhbNodes {
    facts: PhbDtFacts,
    functions: Vec<FunctionFacts>,
    lsi_girq: u32,
}

/// The PHBs for the OPAL calls (none before `init` or on a machine without any: then
/// every PCI call is absent).
pub fn host() -> &'static dyn PciHost {
    HOST.call_once(|| FwHost::new(scom))
}

fn scom() -> ChipScom {
    ChipScom
}

/// `who` abandoned an OPAL call: free the PHB locks it held.
pub fn release_abandoned(who: Holder) -> bool {
    HOST.get().is_some_and(|h| h.release_abandoned(who) > 0)
}

/// Where a PHB's `num_irqs` interrupts go: XIVE's numbers and notify port for them
/// (`interrupts::wire_phb`, passed in so this driver never reaches into the services).
pub type WireIrqs = fn(&PhbLayout, &Caps) -> Result<IrqWiring, &'static str>;

/// Longest a PHB's fundamental reset may take, polled (skiboot allows about as long).
const RESET_POLLS: u32 = 64;

/// Finds, maps, brings up and scans every PHB. After XIVE (`interrupts::init`), before
/// the arena's end is fixed. Every PHB's reset is started before any is waited on, so
/// the machine waits for the slowest link once, not for each in turn.
pub fn init(tree: &Tree, inv: &Inventory, arena: &mut BootArena, wire: WireIrqs) {
    // Where `cargo xtask bench` starts the PCI bring-up's clock (msglog only).
    log::debug!("bring-up of the PHBs starts");
    let chips: Vec<(u32, u64)> = inv
        .chips
        .iter()
        .map(|c| (c.chip_id, c.xscom_base))
        .collect();
    crate::drivers::xscom::init_windows(&chips);
    let mut host = FwHost::new(scom);
    let Ok(blob) = tree.to_dtb() else {
        log::error!("PHB: could not flatten the device tree");
        return;
    };
    let Ok(fdt) = fdt::Fdt::new(&blob) else {
        log::error!("PHB: could not read the device tree");
        return;
    };
    let mut resetting: Vec<Resetting> = Vec::new();
    for stack in stacks_from_fdt(&fdt) {
        let facts = match stack {
            Ok(f) => f,
            Err(pci::layout::FactsError::Property { node, property }) => {
                log::error!("PHB: {node} has no usable {property}; skipped");
                continue;
            }
        };
        let layout = match PhbLayout::from_stack(&facts) {
            Ok(l) => l,
            Err(_) => {
                log::error!(
                    "PHB: chip {} PEC {} stack {}: unknown layout; skipped",
                    facts.chip_id,
                    facts.pec_index,
                    facts.stack_index
                );
                continue;
            }
        };
        match start(&layout, arena, wire) {
            Ok(r) => resetting.push(r),
            Err(why) => left_out(&layout, why),
        }
    }
    // QEMU lists the stacks in no particular order; bring them up, log and name them to
    // the OS by OPAL id.
    resetting.sort_by_key(|r| r.layout.opal_id);
    wait_for_resets(&mut resetting);
    for r in resetting {
        let layout = r.layout;
        match r.outcome.and_then(|()| finish(r.phb)) {
            Ok((phb, nodes)) => {
                let n = nodes.functions.len() - 1;
                log::info!(
                    "PHB#{:04x}[{}:{}]: up, link {}, {} device function(s), MSIs {:#x}+{:#x}",
                    layout.opal_id,
                    layout.chip_id,
                    layout.index,
                    if n > 0 { "up" } else { "down" },
                    n,
                    nodes.facts.base_msi,
                    nodes.facts.caps.msi_count()
                );
                if host.insert(phb).is_err() {
                    log::error!("PHB#{:04x}: no room in the registry", layout.opal_id);
                    continue;
                }
                NODES.lock().push(nodes);
            }
            Err(why) => left_out(&layout, why),
        }
    }
    HOST.call_once(|| host);
}

fn left_out(layout: &PhbLayout, why: &str) {
    log::error!(
        "PHB#{:04x}[{}:{}]: left out: {}",
        layout.opal_id,
        layout.chip_id,
        layout.index,
        why
    );
}

/// A PHB whose fundamental reset is under way.
struct Resetting {
    layout: PhbLayout,
    phb: Phb<'static, FwPhbRegs>,
    /// Timebase value at which to poll next (0: the reset is over).
    poll_at: u64,
    polls: u32,
    outcome: Result<(), &'static str>,
}

/// Polls every PHB's reset when it asks to be polled, until none is running.
fn wait_for_resets(all: &mut [Resetting]) {
    let clock = Timebase;
    let ticks_per_ms = 1000 * clock.ticks_per_us();
    loop {
        let now = clock.now();
        let mut running = false;
        for r in all.iter_mut().filter(|r| r.poll_at != 0) {
            if now < r.poll_at {
                running = true;
                continue;
            }
            r.polls += 1;
            match r.phb.pci_poll(&mut ChipScom) {
                Ok(0) => r.poll_at = 0,
                Ok(_) if r.polls >= RESET_POLLS => {
                    r.poll_at = 0;
                    r.outcome = Err("reset never completed");
                }
                Ok(ms) => {
                    r.poll_at = clock.now() + ms * ticks_per_ms;
                    running = true;
                }
                Err(_) => {
                    r.poll_at = 0;
                    r.outcome = Err("reset failed");
                }
            }
        }
        if !running {
            return;
        }
        clock.pause();
    }
}

fn tables(caps: &Caps, arena: &mut BootArena) -> Option<IodaTables<'static>> {
    let mut t = [(0u64, &mut [][..]), (0, &mut [][..]), (0, &mut [][..])];
    for (table, size) in caps.table_sizes() {
        let addr = arena.alloc(size as u64, size as u64)?;
        // SAFETY: the arena hands out firmware-reserved memory once, never to the OS,
        // and we run in real mode where its address is a valid pointer; it lives for
        // good.
        let buf = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, size) };
        let at = match table {
            Table::Rtt => 0,
            Table::Peltv => 1,
            Table::Pest => 2,
        };
        t[at] = (addr, buf);
    }
    let [(rtt_addr, rtt), (peltv_addr, peltv), (pest_addr, pest)] = t;
    Some(IodaTables {
        rtt,
        rtt_addr,
        peltv,
        peltv_addr,
        pest,
        pest_addr,
    })
}

fn wait_ms(ms: u64) {
    let clock = Timebase;
    let end = clock.now() + ms * 1000 * clock.ticks_per_us();
    while clock.now() < end {
        clock.pause();
    }
}

/// XSCOM BARs, caps, interrupts, IODA tables, init, and the fundamental reset started
/// (PERST released; the link trains while the other PHBs start).
fn start(
    layout: &PhbLayout,
    arena: &mut BootArena,
    wire: WireIrqs,
) -> Result<Resetting, &'static str> {
    let mut scom = ChipScom;
    layout
        .map_bars(&mut scom)
        .map_err(|_| "XSCOM BARs refused (garded?)")?;
    wait_ms(1);
    // SAFETY: map_bars just mapped the register BAR there.
    let mut regs = unsafe { FwPhbRegs::new(layout.regs.base) };
    let caps = Caps::read(&mut regs).map_err(|_| "capabilities unreadable")?;
    let irq = wire(layout, &caps)?;
    let tables = tables(&caps, arena).ok_or("no memory for the IODA tables")?;
    let mut phb = Phb::new(
        regs,
        *layout,
        caps,
        irq,
        InitOptions::for_phb(layout),
        tables,
    )
    .map_err(|_| "bad set-up")?;
    phb.init_hw(&Timebase).map_err(|_| "init failed")?;
    let wait = phb
        .pci_reset(&mut scom, 5, 1)
        .map_err(|_| "reset refused")?;
    let clock = Timebase;
    Ok(Resetting {
        layout: *layout,
        phb,
        poll_at: if wait == 0 {
            0
        } else {
            clock.now() + wait * 1000 * clock.ticks_per_us()
        },
        polls: 0,
        outcome: Ok(()),
    })
}

/// After the reset: the bus scan and the device-tree facts.
fn finish(
    mut phb: Phb<'static, FwPhbRegs>,
) -> Result<(Phb<'static, FwPhbRegs>, PhbNodes), &'static str> {
    let functions = scan(phb.regs_mut()).map_err(|_| "scan failed")?;
    let src = phb.irq_sources();
    let nodes = PhbNodes {
        facts: phb.dt_facts(),
        functions,
        lsi_girq: src.lsi_girq,
    };
    Ok((phb, nodes))
}

/// The root port and, if its link is up, every function below it with bus numbers set.
fn scan(regs: &mut FwPhbRegs) -> Result<Vec<FunctionFacts>, ()> {
    use pci::scan::ConfigSpace;
    let id = regs.read(Bdfn::ROOT, 0, 4).map_err(drop)?;
    let mut found = Vec::new();
    let subordinate = if root_port_link_active(regs).map_err(drop)? {
        assign_buses(regs, &mut |f| found.push(f)).map_err(drop)?
    } else {
        0xff
    };
    found.push(Found {
        bdfn: Bdfn::ROOT,
        vendor: id as u16,
        device: (id >> 16) as u16,
        bridge: Some(BusRange {
            primary: 0,
            secondary: 1,
            subordinate,
        }),
    });
    found
        .iter()
        .map(|f| dt::function_facts(regs, f).map_err(drop))
        .collect()
}

/// Adds a `pciex@` node (with its functions below) per PHB that came up. `intc` is the
/// XIVE node LSIs are named against.
pub fn add_nodes(tree: &mut Tree, intc: &str) -> Result<(), Error> {
    let nodes = NODES.lock();
    if nodes.is_empty() {
        return Ok(());
    }
    let parent = tree.ensure_phandle(intc)?;
    for n in nodes.iter() {
        let l = &n.facts.layout;
        let assoc: Vec<u32> = tree
            .root()
            .children()
            .filter(|x| x.name().starts_with("xscom@"))
            .find(|x| x.property_u32("ibm,chip-id") == Some(l.chip_id))
            .and_then(affinity::ChipDomains::from_xscom)
            .map(|d| d.chip_list().to_vec())
            .unwrap_or_default();
        let cx = PhbDtContext {
            interrupt_parent: parent,
            associativity: &assoc,
            stack_phandle: None,
        };
        let path: String = alloc::format!("/{}", dt::pciex_node_name(l));
        tree.ensure_node(&path)?;
        for p in dt::pciex_properties(&n.facts, &cx) {
            tree.set_property(&path, p.name, &p.value)?;
        }
        let lsi = LsiMap {
            interrupt_parent: parent,
            girqs: [0, 1, 2, 3].map(|i| n.lsi_girq + i),
        };
        match dt::device_nodes(&n.functions, &lsi) {
            Ok(root) => add_dt_node(tree, &path, &root)?,
            Err(_) => log::error!("PHB#{:04x}: bad topology, no device nodes", l.opal_id),
        }
    }
    Ok(())
}

fn add_dt_node(tree: &mut Tree, parent: &str, node: &dt::DtNode) -> Result<(), Error> {
    let path = alloc::format!("{}/{}", parent, node.name);
    tree.ensure_node(&path)?;
    for p in &node.properties {
        tree.set_property(&path, p.name, &p.value)?;
    }
    for c in &node.children {
        add_dt_node(tree, &path, c)?;
    }
    Ok(())
}
