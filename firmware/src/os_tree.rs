// SPDX-License-Identifier: Apache-2.0
//! The device tree handed to the OS: the input tree plus what OPAL adds (skiboot
//! `core/init.c`, `core/opal.c` `add_opal_node`, `core/console.c`, `core/mem_region.c`,
//! `core/cpufeatures.c`, `core/affinity.c`).
//! See opal-boot-contract.md §2 and §11.2.

use crate::inventory::Inventory;
use alloc::format;
use alloc::vec::Vec;
use devtree::{Error, Tree};

/// A firmware-owned interrupt the OS requests for OPAL (and passes back through
/// `OPAL_HANDLE_INTERRUPT`).
pub struct OpalIrq {
    pub girq: u32,
    pub name: alloc::string::String,
    /// An edge (message) source, such as an IPI; otherwise a level-sensitive LSI.
    pub edge: bool,
}

/// What the OS must learn about the interrupt controller.
pub struct XiveInfo {
    pub opal_irqs: Vec<OpalIrq>,
    pub gen: xive::Gen,
    /// TIMA base: 4 pages (HW, HV, OS, User) of 64 KiB.
    pub tm_base: u64,
    pub provision_chips: Vec<u32>,
}

pub struct OpalInfo {
    pub xive: Option<XiveInfo>,
    pub base: u64,
    pub entry: u64,
    pub runtime_size: u64,
    pub version: &'static str,
    pub boot_pir: u32,
    pub has_rtc: bool,
    /// A BMC the OS may reach through OPAL_IPMI_SEND/RECV.
    pub has_ipmi: bool,
    /// Bytes of NVRAM (0: none).
    pub nvram_size: u64,
    /// The system flash's size and erase granule.
    pub flash: Option<(u64, u32)>,
    /// Address of the in-memory console (`struct memcons`).
    pub memcons: u64,
    /// The symbol map's text in firmware memory (address, size), if the image has one.
    pub symbol_map: Option<(u64, u64)>,
}

/// Console input is polled (no OPAL interrupts yet), so keep the heartbeat short.
const HEARTBEAT_MS: u32 = 50;
const CONSOLE_PATH: &str = "/ibm,opal/consoles/serial@0";

pub fn build(tree: &mut Tree, inv: &Inventory, opal: &OpalInfo) -> Result<Vec<u8>, Error> {
    // Firmware memory, in all three forms Linux and kexec tools read.
    tree.add_memreserve(opal.base, opal.runtime_size);
    tree.set_property_string("/", "reserved-names", "ibm,firmware")?;
    tree.set_property_u64s("/", "reserved-ranges", &[opal.base, opal.runtime_size])?;
    tree.ensure_node("/reserved-memory")?;
    tree.set_property_u32("/reserved-memory", "#address-cells", 2)?;
    tree.set_property_u32("/reserved-memory", "#size-cells", 2)?;
    tree.set_property_empty("/reserved-memory", "ranges")?;
    let fw = format!("/reserved-memory/ibm,firmware@{:x}", opal.base);
    tree.ensure_node(&fw)?;
    tree.set_property_u64s(&fw, "reg", &[opal.base, opal.runtime_size])?;

    // /ibm,opal: where OPAL lives and how to call it.
    tree.ensure_node("/ibm,opal")?;
    tree.set_property_strings("/ibm,opal", "compatible", &["ibm,opal-v3"])?;
    tree.set_property_u64("/ibm,opal", "opal-base-address", opal.base)?;
    tree.set_property_u64("/ibm,opal", "opal-entry-address", opal.entry)?;
    tree.set_property_u64("/ibm,opal", "opal-runtime-size", opal.runtime_size)?;
    tree.set_property_u32("/ibm,opal", "ibm,heartbeat-ms", HEARTBEAT_MS)?;
    tree.set_property_u32(
        "/ibm,opal",
        "opal-msg-size",
        opal_api::msg::OPAL_MSG_SIZE as u32,
    )?;
    // The log Linux shows as /sys/firmware/opal/msglog, and how many asynchronous
    // operations it may have outstanding (its token pool, opal-async.c).
    tree.set_property_u64("/ibm,opal", "ibm,opal-memcons", opal.memcons)?;
    tree.set_property_u32(
        "/ibm,opal",
        "opal-msg-async-num",
        opal_calls::msg::ASYNC_TOKENS as u32,
    )?;
    // skiboot always emits this, even empty: Linux's error handling expects it.
    tree.set_property("/ibm,opal", "opal-interrupts", &[])?;
    tree.ensure_node("/ibm,opal/firmware")?;
    tree.set_property_strings("/ibm,opal/firmware", "compatible", &["ibm,opal-firmware"])?;
    tree.set_property_string("/ibm,opal/firmware", "version", opal.version)?;
    if let Some((addr, size)) = opal.symbol_map {
        // Linux's opal_export_symmap reads `symbol-map`, opal_export_attrs every property
        // of `exports`; skiboot lists the map in both.
        tree.set_property_u64s("/ibm,opal/firmware", "symbol-map", &[addr, size])?;
        tree.ensure_node("/ibm,opal/firmware/exports")?;
        tree.set_property_u64s("/ibm,opal/firmware/exports", "symbol_map", &[addr, size])?;
    }
    tree.ensure_node("/ibm,opal/event")?;
    tree.set_property_strings("/ibm,opal/event", "compatible", &["ibm,opal-event"])?;
    tree.set_property_empty("/ibm,opal/event", "interrupt-controller")?;
    tree.set_property_u32("/ibm,opal/event", "#interrupt-cells", 1)?;
    if opal.has_ipmi {
        // Linux's ipmi_powernv: its interface id, and the OPAL event its replies raise.
        let events = tree.ensure_phandle("/ibm,opal/event")?;
        tree.ensure_node("/ibm,opal/ipmi")?;
        tree.set_property_strings("/ibm,opal/ipmi", "compatible", &["ibm,opal-ipmi"])?;
        tree.set_property_u32(
            "/ibm,opal/ipmi",
            "ibm,ipmi-interface-id",
            opal_calls::ipmi::INTERFACE_ID as u32,
        )?;
        tree.set_property_u32(
            "/ibm,opal/ipmi",
            "interrupts",
            opal_api::event::IPMI_RECV_HWIRQ,
        )?;
        tree.set_property_u32("/ibm,opal/ipmi", "interrupt-parent", events)?;
    }
    if opal.nvram_size > 0 {
        // Linux's opal-nvram (/dev/nvram): its size, as skiboot's nvram_read_complete.
        tree.ensure_node("/ibm,opal/nvram")?;
        tree.set_property_strings("/ibm,opal/nvram", "compatible", &["ibm,opal-nvram"])?;
        tree.set_property_u32("/ibm,opal/nvram", "#bytes", opal.nvram_size as u32)?;
    }
    if let Some((size, granule)) = opal.flash {
        // Linux's powernv_flash (/dev/mtd0): `reg` is the size as one u64 (Linux reads it
        // so, whatever the cells say), the block size is the erase granule.
        const FLASH: &str = "/ibm,opal/flash@0";
        tree.ensure_node(FLASH)?;
        tree.set_property_strings(FLASH, "compatible", &["ibm,opal-flash"])?;
        tree.set_property_u32(
            FLASH,
            "ibm,opal-id",
            opal_calls::flash::SYSTEM_FLASH_ID as u32,
        )?;
        tree.set_property(FLASH, "reg", &size.to_be_bytes())?;
        tree.set_property_u32(FLASH, "ibm,flash-block-size", granule)?;
        tree.set_property_string("/chosen", "ibm,system-flash", FLASH)?;
    }
    if opal.has_rtc {
        tree.ensure_node("/ibm,opal/rtc")?;
        tree.set_property_strings("/ibm,opal/rtc", "compatible", &["ibm,opal-rtc"])?;
    }

    // The console, and the UART it runs on kept away from Linux's 8250 driver.
    tree.ensure_node("/ibm,opal/consoles")?;
    tree.set_property_u32("/ibm,opal/consoles", "#address-cells", 1)?;
    tree.set_property_u32("/ibm,opal/consoles", "#size-cells", 0)?;
    tree.ensure_node(CONSOLE_PATH)?;
    tree.set_property_strings(CONSOLE_PATH, "compatible", &["ibm,opal-console-raw"])?;
    tree.set_property_u32(CONSOLE_PATH, "reg", 0)?;
    tree.set_property_string(CONSOLE_PATH, "device_type", "serial")?;
    tree.set_property_u32(CONSOLE_PATH, "#write-buffer-size", 0x1000)?;
    tree.ensure_node("/chosen")?;
    tree.set_property_string("/chosen", "linux,stdout-path", CONSOLE_PATH)?;
    // The PAPR options OPAL offers (form-1 affinity), unless the input tree says.
    if tree.property("/chosen", "ibm,architecture-vec-5").is_none() {
        tree.set_property("/chosen", "ibm,architecture-vec-5", &opal_api::vec5::OPAL)?;
    }
    if let Some((_, uart)) = &inv.uart {
        tree.set_property_string(uart, "status", "reserved")?;
    }

    idle_states(tree, inv.generation())?;
    // What the processor can do, which Linux prefers to its built-in PVR table, how wide
    // its decrementer is and which radix page sizes its MMU has.
    match cpu_features::Cpu::from_pvr(inv.pvr) {
        Some(cpu) => {
            cpu_features::add_node(tree, cpu)?;
            cpu_features::add_cpu_node_facts(tree, cpu)?;
        }
        None => log::warn!(target: "opalite::init",
            "no cpu features known for PVR {:#010x}: Linux will use its PVR table", inv.pvr),
    }
    // Which chip each core and memory range is on, so Linux sees one NUMA node a chip.
    affinity::add(tree, inv.pvr)?;
    // Linux numbers CPUs in cpu-node order: give it skiboot's (by PIR), not QEMU's
    // (backwards), so logical CPUs and NUMA nodes line up as under skiboot.
    tree.sort_children_by_key("/cpus", |n| n.property_u32("reg").unwrap_or(u32::MAX))?;

    match &opal.xive {
        Some(x) => {
            xive_nodes(tree, x)?;
            // The PHBs' LSIs name the source controller node.
            let intc = match x.gen {
                xive::Gen::P9 => "/interrupt-controller@0".into(),
                xive::Gen::P10 => format!("/interrupt-controller@{:x}", x.tm_base),
            };
            crate::drivers::phb::add_nodes(tree, &intc)?;
        }
        None => {
            // No XIVE: the XICS presentation calls (icp-opal) with nothing routed.
            tree.ensure_node("/interrupt-controller@0")?;
            tree.set_property_strings("/interrupt-controller@0", "compatible", &["ibm,opal-intc"])?;
            tree.set_property_empty("/interrupt-controller@0", "interrupt-controller")?;
            tree.set_property_u32("/interrupt-controller@0", "#interrupt-cells", 2)?;
        }
    }

    tree.set_boot_cpuid_phys(opal.boot_pir);
    tree.to_dtb()
}

/// The XIVE nodes Linux's native driver reads (xive.md §12.4, §11.5): on P9 an interrupt
/// source controller node (the parent Linux's irq domain matches, `ibm,opal-xive-vc`) and
/// the presenter node (`ibm,opal-xive-pe`, with `ibm,opal-intc` so `xive=off` still finds
/// the XICS calls); on P10 one node that is both.
fn xive_nodes(tree: &mut Tree, x: &XiveInfo) -> Result<(), Error> {
    let pe = format!("/interrupt-controller@{:x}", x.tm_base);
    tree.ensure_node(&pe)?;
    match x.gen {
        xive::Gen::P9 => {
            let ics = "/interrupt-controller@0";
            tree.ensure_node(ics)?;
            tree.set_property_strings(ics, "compatible", &["ibm,opal-xive-vc", "IBM,opal-xics"])?;
            tree.set_property_u64s(ics, "reg", &[0, 0])?;
            tree.set_property_u32(ics, "#address-cells", 0)?;
            tree.set_property_u32(ics, "#interrupt-cells", 2)?;
            tree.set_property_string(ics, "device_type", "PowerPC-Interrupt-Source-Controller")?;
            tree.set_property_empty(ics, "interrupt-controller")?;
            tree.set_property_strings(&pe, "compatible", &["ibm,opal-xive-pe", "ibm,opal-intc"])?;
        }
        xive::Gen::P10 => {
            tree.set_property_strings(
                &pe,
                "compatible",
                &["ibm,opal-xive-pe", "ibm,opal-xive-vc", "ibm,opal-intc"],
            )?;
            tree.set_property_empty(&pe, "interrupt-controller")?;
            tree.set_property_u32(&pe, "#address-cells", 0)?;
            tree.set_property_u32(&pe, "#interrupt-cells", 2)?;
        }
    }
    // The four TIMA views: HW, HV (Linux), OS (KVM guests), User.
    let reg: Vec<u64> = (0..4u64)
        .flat_map(|n| [x.tm_base + (n << 16), 1 << 16])
        .collect();
    tree.set_property_u64s(&pe, "reg", &reg)?;
    tree.set_property_cells(&pe, "ibm,xive-eq-sizes", &xive::calls::QUEUE_SHIFTS)?;
    tree.set_property_u32(&pe, "ibm,xive-#priorities", xive::ids::PRIORITIES)?;
    tree.set_property_empty(&pe, "single-escalation-support")?;
    tree.set_property_u32(&pe, "ibm,xive-provision-page-size", 1 << 16)?;
    tree.set_property_cells(&pe, "ibm,xive-provision-chips", &x.provision_chips)?;

    // OPAL's own interrupts (xive.md §12.3): level-sensitive LSIs from the PSI bridge
    // (and, in test builds, the HMI kicks, which are edge IPIs).
    let parent = match x.gen {
        xive::Gen::P9 => "/interrupt-controller@0".into(),
        xive::Gen::P10 => pe.clone(),
    };
    let phandle = tree.ensure_phandle(&parent)?;
    let cells: Vec<u32> = x
        .opal_irqs
        .iter()
        .flat_map(|i| [i.girq, u32::from(!i.edge)])
        .collect();
    let names: Vec<&str> = x.opal_irqs.iter().map(|i| i.name.as_str()).collect();
    let girqs: Vec<u32> = x.opal_irqs.iter().map(|i| i.girq).collect();
    tree.set_property_u32("/ibm,opal", "interrupt-parent", phandle)?;
    tree.set_property_cells("/ibm,opal", "interrupts", &cells)?;
    tree.set_property_strings("/ibm,opal", "interrupt-names", &names)?;
    tree.set_property_strings("/ibm,opal", "opal-interrupts-names", &names)?;
    tree.set_property_cells("/ibm,opal", "opal-interrupts", &girqs)?;
    Ok(())
}

/// Stop states Linux may use for idle; only the ones that keep all state, so no
/// `OPAL_SLW_SET_REG` is needed (opal-boot-contract.md §2.5: skiboot's QEMU values).
fn idle_states(tree: &mut Tree, generation: u32) -> Result<(), Error> {
    const PM: &str = "/ibm,opal/power-mgt";
    let (names, flags, lat, res, psscr): (&[&str], &[u32], &[u32], &[u32], &[u64]) =
        match generation {
            9 => (
                &["stop0_lite", "stop0", "stop1"],
                &[0x10_0000, 0x10_1000, 0x10_1000],
                &[1000, 2000, 5000],
                &[10_000, 20_000, 50_000],
                &[0x330, 0x30_0330, 0x30_0331],
            ),
            10 => (
                &["stop0_lite", "stop0"],
                &[0x10_0000, 0x10_1000],
                &[1000, 10_000],
                &[10_000, 100_000],
                &[0x300, 0x30_0300],
            ),
            _ => return Ok(()),
        };
    tree.ensure_node(PM)?;
    tree.set_property_strings(PM, "ibm,cpu-idle-state-names", names)?;
    tree.set_property_cells(PM, "ibm,cpu-idle-state-flags", flags)?;
    tree.set_property_cells(PM, "ibm,cpu-idle-state-latencies-ns", lat)?;
    tree.set_property_cells(PM, "ibm,cpu-idle-state-residency-ns", res)?;
    tree.set_property_u64s(PM, "ibm,cpu-idle-state-psscr", psscr)?;
    let masks: Vec<u64> = psscr.iter().map(|_| 0x30_03ff).collect();
    tree.set_property_u64s(PM, "ibm,cpu-idle-state-psscr-mask", &masks)?;
    Ok(())
}
