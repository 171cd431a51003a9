// SPDX-License-Identifier: Apache-2.0
//! Opalite: OPAL firmware for POWER9/POWER10 PowerNV machines.
//!
//! Boot order (the boot thread): heap and log, read the device tree we were given, find
//! the console, print the inventory, let the other threads park, bring up the BMC, build
//! the OS device tree, find the kernel and enter it. After that the firmware runs only
//! inside OPAL calls (`opal.rs`) and in parked threads (`cpu.rs`).
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod console;
mod cpu;
mod drivers;
mod heap;
mod hmi;
#[cfg(feature = "hmi-inject")]
mod hmi_inject;
mod interrupts;
mod inventory;
mod layout;
mod mce;
mod memlog;
mod nmi;
mod opal;
mod os_tree;
mod platform;
mod symbol_map;
mod unsupported;

use alloc::vec::Vec;
use core::fmt::Write;

/// The build's version (`git describe` through `cargo xtask build`, see build.rs).
pub const VERSION: &str = env!("OPALITE_BUILD_VERSION");
/// What Linux prints after `opal:` in its "Hardware name" line.
const FIRMWARE_VERSION: &str = concat!("opalite-", env!("OPALITE_BUILD_VERSION"));

/// Largest device tree we accept from the platform (QEMU's FDT_MAX_SIZE).
const MAX_INPUT_FDT: usize = 1 << 20;

extern "C" {
    static secondaries_go: u32;
}

#[no_mangle]
extern "C" fn boot_main(fdt_addr: u64, load_base: u64) -> ! {
    heap::init();
    console::init_logging();

    // SAFETY: the platform put a flattened device tree at `fdt_addr` (r3 at entry); its
    // header gives its size, which we bound before reading the rest.
    let input: Vec<u8> = unsafe {
        let header = core::slice::from_raw_parts(fdt_addr as *const u8, 8);
        let magic = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if magic != 0xd00d_feed || size > MAX_INPUT_FDT {
            halt("no valid device tree in r3");
        }
        core::slice::from_raw_parts(fdt_addr as *const u8, size).to_vec()
    };
    let mut tree = match devtree::Tree::from_bytes(&input) {
        Ok(t) => t,
        Err(_) => halt("device tree does not parse"),
    };
    drop(input);
    let inv = inventory::scan(&tree);
    console::TB_HZ.store(inv.tb_hz, core::sync::atomic::Ordering::Relaxed);
    if inv.generation() == 8 {
        unsupported::power8(&inv);
    }

    let lpc = inv.lpc_io_base.map(|base| {
        // SAFETY: the address comes from the primary LPC bus's ranges in the device tree.
        unsafe { drivers::lpc::io(base) }
    });
    // The board decides how the machine is driven, starting with the console.
    let root_children: Vec<&str> = tree.root().children().map(|n| n.name()).collect();
    let board = boards::probe(&inv.compatible, &root_children);
    drop(root_children);
    match board.console {
        // SAFETY: the probe found /mambo, so the callthru exists.
        boards::Console::MamboCallthru => unsafe { console::attach_mambo() },
        boards::Console::LpcUart16550 { .. } => {
            if let (Some(base), Some((port, _))) = (inv.lpc_io_base, &inv.uart) {
                // SAFETY: a ns16550 node on that LPC bus names this port.
                unsafe { console::attach_uart(base + u64::from(*port)) };
            }
        }
    }
    platform::set_board(board);
    log::info!(
        "Opalite {} starting on {} ({})",
        VERSION,
        board.name,
        inv.model
    );
    let boot_pir = arch::pir();
    log::info!(
        "{} threads, boot thread PIR {:#06x}, PVR {:#010x}, timebase {} Hz",
        inv.threads.len(),
        boot_pir,
        inv.pvr,
        inv.tb_hz
    );
    for (base, size) in &inv.memory {
        log::info!(
            "memory {:#014x}..{:#014x} ({} MiB)",
            base,
            base + size,
            size >> 20
        );
    }

    let pirs: Vec<u32> = inv.threads.iter().map(|t| t.pir).collect();
    let ncpus = cpu::register(&pirs, boot_pir, inv.generation());
    // The boot thread's HMEER; each secondary sets its own when it parks.
    hmi::enable_on_this_thread();
    // `secondaries_go` is a word of the head; the threads wait on the copy that was loaded
    // at `load_base`, at the same offset from the image start.
    let linked = core::ptr::addr_of!(secondaries_go) as u64;
    let go = (load_base + (linked - layout::OPAL_BASE)) as *mut u32;
    let parked = cpu::release_secondaries(go, inv.tb_hz / 2);
    cpu::print_inventory(&inv.threads);
    log::info!(target: "opalite::cpu", "{} of {} secondary threads parked", parked, ncpus.saturating_sub(1));

    let mut arena = layout::BootArena::new(layout::runtime_end(ncpus));
    let xive = interrupts::init(&tree, &inv, &mut arena);
    drivers::bmc::init(lpc, inv.ipmi_bt);
    drivers::flash::init(board.flash, inv.lpc_fw_base, inv.ipmi_bt.is_some());
    drivers::flash::init_nvram(&mut arena);
    drivers::phb::init(&tree, &inv, &mut arena, interrupts::wire_phb);
    let runtime_end = arena.end();
    log::info!(target: "opalite::init",
        "{} KiB reserved from the OS at {:#x}",
        (runtime_end - layout::OPAL_BASE) >> 10,
        layout::OPAL_BASE
    );
    opal::set_memory_rules(inv.ram_top(), runtime_end);
    let chips: Vec<(u32, u64)> = inv
        .chips
        .iter()
        .map(|c| (c.chip_id, c.xscom_base))
        .collect();
    drivers::xscom::init_windows(&chips);
    nmi::init(&chips, inv.generation(), board.has_direct_controls());
    hmi::init(&inv.threads, &chips);
    #[cfg(feature = "hmi-inject")]
    hmi_inject::mce_selftest(inv.bootargs.as_deref());
    platform::set_nest_mmus(
        tree.paths_compatible_with("ibm,power9-nest-mmu").len()
            + tree.paths_compatible_with("ibm,power10-nest-mmu").len(),
    );

    // As skiboot: the flash's boot partitions before whatever QEMU put at the kernel
    // address, and NVRAM's bootargs over the device tree's.
    drivers::flash::load_boot_partitions(&mut tree);
    if let Some(args) = drivers::flash::nvram_bootargs() {
        log::info!(target: "opalite::init", "bootargs from NVRAM: {args}");
        if tree
            .set_property_string("/chosen", "bootargs", &args)
            .is_err()
        {
            log::error!("could not set the NVRAM's bootargs");
        }
    }

    let opal_info = os_tree::OpalInfo {
        xive,
        base: layout::OPAL_BASE,
        entry: arch::opal_entry as *const () as u64,
        runtime_size: runtime_end - layout::OPAL_BASE,
        version: FIRMWARE_VERSION,
        boot_pir,
        has_rtc: drivers::bmc::has_rtc(),
        has_ipmi: hal::Platform::has_ipmi(&platform::FwPlatform),
        nvram_size: drivers::flash::nvram_size(),
        flash: drivers::flash::geometry(),
        memcons: memlog::publish(),
        symbol_map: symbol_map::unpack().map(|t| (t.as_ptr() as u64, t.len() as u64)),
    };
    // Memory only (DEBUG): the console shows up to NOTICE, as skiboot's does.
    log::debug!(target: "opalite::init",
        "memory console at {:#x}: {} KiB of log", opal_info.memcons, memlog::OUT_LEN >> 10);
    let dtb = match os_tree::build(&mut tree, &inv, &opal_info) {
        Ok(d) => d,
        Err(_) => halt("could not build the OS device tree"),
    };
    drop(tree);
    boot_kernel(&dtb, &opal_info)
}

fn boot_kernel(dtb: &[u8], opal: &os_tree::OpalInfo) -> ! {
    // SAFETY: QEMU loaded the kernel at KERNEL_LOAD_ADDR; we only read its headers.
    let head =
        unsafe { core::slice::from_raw_parts(layout::KERNEL_LOAD_ADDR as *const u8, 64 * 1024) };
    let entry = match payload::inspect(head, layout::KERNEL_LOAD_ADDR) {
        Ok(p) => {
            log::info!(target: "opalite::init", "{:?} kernel at {:#x}, entry {:#x}",
                p.kind,
                layout::KERNEL_LOAD_ADDR,
                p.entry
            );
            p.entry
        }
        Err(e) => {
            log::error!(
                "no bootable kernel at {:#x}: {:?}",
                layout::KERNEL_LOAD_ADDR,
                e
            );
            nothing_to_boot();
        }
    };
    // The tree must be 8-byte aligned for Linux; a Vec<u64> guarantees it.
    let mut aligned: Vec<u64> = alloc::vec![0; dtb.len().div_ceil(8)];
    // SAFETY: `aligned` has at least dtb.len() bytes; u8 has no alignment need.
    unsafe {
        core::ptr::copy_nonoverlapping(dtb.as_ptr(), aligned.as_mut_ptr() as *mut u8, dtb.len())
    };
    let fdt = aligned.leak().as_ptr() as u64;
    assert!(
        fdt >= layout::OPAL_BASE,
        "the OS tree must live in reserved memory"
    );
    log::info!(target: "opalite::init", "Starting kernel at {:#x}, fdt at {:#x} {} bytes",
        entry,
        fdt,
        dtb.len()
    );
    cpu::boot_thread_to_os();
    // SAFETY: `entry` is the kernel's entry point; the tree lives in reserved memory.
    unsafe { arch::enter_kernel(entry, fdt, opal.base, opal.entry) }
}

/// Stops this thread for good after saying why.
/// How long the firmware waits for a key, with nothing to boot, before powering off.
const NOTHING_TO_BOOT_WAIT_S: u64 = 5;

/// No kernel (QEMU without `-kernel`): say so and power off after a few seconds, so an
/// unattended run ends; a key typed meanwhile keeps the machine on, halted.
fn nothing_to_boot() -> ! {
    use hal::Console;
    log::info!(target: "opalite::init",
        "nothing to boot: powering off in {NOTHING_TO_BOOT_WAIT_S} s (press a key to stay on)");
    let tb_hz = console::TB_HZ.load(core::sync::atomic::Ordering::Relaxed);
    let deadline = arch::timebase() + NOTHING_TO_BOOT_WAIT_S * tb_hz;
    let mut key = [0u8; 1];
    while arch::timebase() < deadline {
        console::poll();
        if console::OpalConsole.read(0, &mut key) > 0 {
            halt("nothing to boot; staying on because a key was pressed");
        }
        arch::relax();
    }
    platform::power_off_and_wait();
    halt("nothing to boot, and the machine did not power off")
}

fn halt(why: &str) -> ! {
    let _ = writeln!(console::EmergencyWriter, "OPALITE: halted: {why}");
    loop {
        arch::stop_until_doorbell(u32::MAX >> 1);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(
        console::EmergencyWriter,
        "\nOPALITE: PANIC on PIR {:#x}: {}",
        arch::pir(),
        info
    );
    loop {
        arch::stop_until_doorbell(u32::MAX >> 1);
    }
}

/// Called by head.S `exception_common` on any exception during firmware time.
#[no_mangle]
extern "C" fn unexpected_exception(f: &arch::ExcFrame) -> ! {
    let mut w = console::EmergencyWriter;
    let _ = writeln!(w, "\n***********************************************");
    if f.vector == 0x200 {
        mce::report(&mut w, f);
    }
    let _ = writeln!(
        w,
        "Unexpected exception {:#x} on PIR {:#x} ({})",
        f.vector,
        f.pir,
        mce::context(f)
    );
    let _ = writeln!(w, "SRR0 {:016x} SRR1 {:016x}", f.srr0, f.srr1);
    let _ = writeln!(w, "HSRR0 {:016x} HSRR1 {:016x}", f.hsrr0, f.hsrr1);
    let _ = writeln!(w, "DAR {:016x} DSISR {:08x}", f.dar, f.dsisr);
    #[cfg(feature = "hmi-inject")]
    hmi_inject::resume_after_mce(f);
    let _ = writeln!(
        w,
        "LR {:016x} CTR {:016x} CR {:08x} XER {:08x}",
        f.lr, f.ctr, f.cr, f.xer
    );
    for i in (0..32).step_by(4) {
        let _ = writeln!(
            w,
            "R{:02} {:016x} R{:02} {:016x} R{:02} {:016x} R{:02} {:016x}",
            i,
            f.gpr[i],
            i + 1,
            f.gpr[i + 1],
            i + 2,
            f.gpr[i + 2],
            i + 3,
            f.gpr[i + 3]
        );
    }
    halt(if f.vector == 0x200 {
        "machine check"
    } else {
        "unexpected exception"
    })
}
