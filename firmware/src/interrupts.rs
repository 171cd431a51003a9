// SPDX-License-Identifier: Apache-2.0
//! Interrupt-controller bring-up: finds the XIVE instance of every chip, programs it
//! (`xive::ctrl`), builds the tables and the per-thread state (`xive::Xive`), puts each
//! chip's PSI host bridge behind it and routes the LPC SerIRQs (UART, BMC) there, then
//! hands the result to the OPAL calls. skiboot `hw/xive.c` `init_xive` / `hw/xive2.c`,
//! `hw/psi.c`, `hw/lpc.c`.

use crate::console;
use crate::drivers::xive_regs::FwRegs;
use crate::drivers::{lpc_irq, psi};
use crate::inventory::Inventory;
use crate::layout::BootArena;
use crate::os_tree::{OpalIrq, XiveInfo};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use devtree::Tree;
use hal::Holder;
use opal_calls::xive::XiveUnit;
use pci::layout::PhbLayout;
use pci::phb::{Caps, IrqWiring, Notify};
use xive::ctrl::{P10, P9};
use xive::{Controller, Gen, Xive};

struct ArenaTables<'a>(&'a mut BootArena);

impl xive::TableMemory for ArenaTables<'_> {
    fn alloc(&mut self, size: u64, align: u64) -> Option<u64> {
        self.0.alloc(size, align)
    }
}

/// Sets XIVE up on every chip; None (and Linux falls back to the XICS calls) when the
/// machine has no XIVE we know.
pub fn init(tree: &Tree, inv: &Inventory, arena: &mut BootArena) -> Option<XiveInfo> {
    let gen = match inv.generation() {
        9 => Gen::P9,
        10 => Gen::P10,
        _ => return None,
    };
    let (mut regs, instances) = FwRegs::new(&inv.chips, gen);
    if instances.is_empty() {
        log::warn!("XIVE: no interrupt controller in the device tree");
        return None;
    }
    // Tables live in firmware-reserved RAM; donated sub-pages anywhere in OS RAM.
    regs.add_table_memory(0, inv.ram_top());
    let chip_ids: Vec<u32> = instances.iter().map(|i| i.chip_id).collect();
    let mut hw: Box<dyn Controller + Send> = match gen {
        Gen::P9 => {
            let mut c = P9::new(regs, instances);
            for blk in 0..chip_ids.len() as u8 {
                if let Err(e) = c.init_instance(blk) {
                    log::error!("XIVE: block {} set-up failed: {:?}", blk, e);
                    return None;
                }
            }
            Box::new(c)
        }
        Gen::P10 => {
            let mut c = P10::new(regs, instances);
            for blk in 0..chip_ids.len() as u8 {
                if let Err(e) = c.init_instance(blk) {
                    log::error!("XIVE: block {} set-up failed: {:?}", blk, e);
                    return None;
                }
            }
            Box::new(c)
        }
    };
    let mut state = match Xive::new(hw.as_mut(), &mut ArenaTables(arena), &chip_ids) {
        Ok(s) => s,
        Err(e) => {
            log::error!("XIVE: table set-up failed: {:?}", e);
            return None;
        }
    };
    for t in &inv.threads {
        if let Err(e) = state.add_thread(hw.as_mut(), t.pir, t.chip) {
            log::error!("XIVE: thread {:#x}: {:?}", t.pir, e);
            return None;
        }
    }
    #[allow(unused_mut)]
    let mut opal_irqs = firmware_sources(tree, inv, gen, &mut state, hw.as_mut());
    #[cfg(feature = "hmi-inject")]
    for (girq, name) in crate::hmi_inject::kicks(&state, &inv.threads) {
        opal_irqs.push(OpalIrq {
            girq,
            name,
            edge: true,
        });
    }
    // The OS's doorbell for events set outside OPAL_HANDLE_INTERRUPT (an IPMI reply that
    // came during OPAL_IPMI_SEND): the boot thread's reserved IPI. In the HMI-injection
    // build that IPI is already offered as the boot thread's kick, and stays one entry.
    if let Some(girq) = inv
        .threads
        .first()
        .and_then(|t| state.thread_ipi_girq(t.pir))
    {
        EVENT_KICK.store(girq, Ordering::Release);
        if !opal_irqs.iter().any(|i| i.girq == girq) {
            opal_irqs.push(OpalIrq {
                girq,
                name: "opal-event".into(),
                edge: true,
            });
        }
    }
    log::info!(
        "XIVE: {} block(s), {} threads, {} firmware interrupts, {:?} mode",
        chip_ids.len(),
        state.threads().len(),
        opal_irqs.len(),
        state.mode()
    );
    let info = XiveInfo {
        gen,
        tm_base: xive::phys_map::bars(gen, chip_ids[0]).tm,
        provision_chips: state.provision_chips(),
        opal_irqs,
    };
    crate::opal::XIVE.install(XiveUnit { state, hw });
    Some(info)
}

/// The girq of the event kick (`NO_KICK`: none).
static EVENT_KICK: AtomicU32 = AtomicU32::new(NO_KICK);
const NO_KICK: u32 = u32::MAX;

/// Is `girq` the event kick? (`OPAL_HANDLE_INTERRUPT` takes it; there is nothing to
/// service, the events it returns are the point.)
pub fn is_event_kick(girq: u32) -> bool {
    girq != NO_KICK && EVENT_KICK.load(Ordering::Acquire) == girq
}

/// Tells the OS its OPAL events changed (skiboot's dummy OCC interrupt): it calls
/// OPAL_HANDLE_INTERRUPT on the kick and wakes its event poller, instead of finding the
/// event at its next heartbeat. Takes the XIVE lock (bounded); the caller holds none of
/// the firmware's locks but the BMC's.
pub fn kick_os_events() {
    let girq = EVENT_KICK.load(Ordering::Acquire);
    if girq == NO_KICK {
        return;
    }
    crate::opal::XIVE.with_unit(hal::Holder::from_pir(crate::arch::pir()), |u| {
        if let Ok(info) = u.state.get_irq_info(u.hw.as_mut(), girq) {
            if info.trig_page != 0 {
                u.hw.esb_store(info.trig_page, 0);
            }
        }
    });
}

/// The PSI bridge of every chip in ESB mode behind XIVE, the LPC SerIRQs routed to it and
/// the UART's receive interrupt on. Returns the interrupts the OS must request for OPAL.
/// A failure here leaves the console polled (by the OS's heartbeat), which still works.
fn firmware_sources(
    tree: &Tree,
    inv: &Inventory,
    gen: Gen,
    state: &mut Xive,
    hw: &mut dyn Controller,
) -> Vec<OpalIrq> {
    let mut irqs = Vec::new();
    let mut bridges = Vec::new();
    for chip in inv
        .chips
        .iter()
        .filter(|c| c.psi_pcba.is_some() && c.xive_pcba.is_some())
    {
        let bars = xive::phys_map::bars(gen, chip.chip_id);
        // 14 level-sensitive sources with one 4 KiB (P9) or 64 KiB (P10) ESB page each.
        let unit = xive::state::HwSource {
            first: 0,
            count: xive::psi::PSI_SOURCE_COUNT,
            esb_base: bars.psi_esb,
            esb_shift: xive::psi::esb_shift(gen),
            lsi: true,
            two_pages: false,
        };
        let girq = match state.add_hw_source(hw, chip.chip_id, xive::psi::PSI_GIRQ_ALIGN, unit) {
            Ok(g) => g,
            Err(e) => {
                log::error!("PSI[0x{:03x}]: no interrupt numbers: {:?}", chip.chip_id, e);
                continue;
            }
        };
        let notify = bars.ic + xive::psi::notify_port_offset(gen);
        match psi::init(chip, gen, &bars, girq, notify) {
            Ok(sources) => bridges.push(sources),
            Err(e) => log::error!("PSI[0x{:03x}]: set-up failed: {:?}", chip.chip_id, e),
        }
    }
    if bridges.is_empty() {
        return irqs;
    }
    match lpc_irq::init(tree, inv) {
        Ok(_) => {
            if let Err(e) = console::enable_rx_interrupt() {
                log::warn!("UART: receive interrupt not enabled: {:?}", e);
            }
        }
        Err(e) => log::warn!("LPC: SerIRQ routing failed: {:?}", e),
    }
    // Named after the LPC routing is known (a SerIRQ route takes its device's name).
    for sources in &bridges {
        for (girq, src) in sources.opal_interrupts() {
            irqs.push(OpalIrq {
                girq,
                name: sources.name(src),
                edge: false,
            });
        }
    }
    irqs
}

/// XIVE's interrupt numbers and notify port for a PHB's `num_irqs` sources (MSIs, then
/// its LSIs), registered as hardware sources so the XIVE calls work on them.
pub fn wire_phb(layout: &PhbLayout, caps: &Caps) -> Result<IrqWiring, &'static str> {
    let esb = layout.esb.base;
    let msis = caps.msi_count();
    let unit = |first, count, lsi| xive::state::HwSource {
        first,
        count,
        esb_base: esb + (u64::from(first) << pci::phb::ESB_PAGE_SHIFT),
        esb_shift: pci::phb::ESB_PAGE_SHIFT,
        lsi,
        two_pages: false,
    };
    let units = [unit(0, msis, false), unit(msis, pci::msi::LSI_COUNT, true)];
    let holder = Holder::from_pir(crate::arch::pir());
    let (base, gen) = crate::opal::XIVE
        .with_unit(holder, |u| {
            let gen = u.state.gen();
            u.state
                .add_hw_sources(
                    u.hw.as_mut(),
                    layout.chip_id,
                    caps.num_irqs,
                    caps.num_irqs,
                    &units,
                )
                .map(|b| (b, gen))
        })
        .ok_or("no XIVE")?
        .map_err(|_| "no interrupt numbers")?;
    let g = xive::ids::Girq::decode(gen, base).ok_or("bad girq")?;
    let bars = xive::phys_map::bars(gen, layout.chip_id);
    // The IC's notify-port page (P9 page 1, P10 page 4) and the PHB's slot in it
    // (skiboot `xive_get_notify_port`).
    let slot = match layout.index {
        0 => 0x100,
        n => 0x200 + 8 * u64::from(n),
    };
    let addr = match gen {
        xive::Gen::P9 => bars.ic + (1 << 16) + slot,
        xive::Gen::P10 => bars.ic + (4 << 16) + 0x800 + slot,
    };
    Ok(IrqWiring {
        base_msi: base,
        notify: Notify::Port {
            addr,
            index: u64::from(g.block) << 28 | u64::from(g.index),
        },
        store_eoi: false,
    })
}
