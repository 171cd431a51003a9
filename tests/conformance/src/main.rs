// SPDX-License-Identifier: Apache-2.0
//! `opal-conformance`: a bare-metal OPAL client. Booted as the OS payload (QEMU
//! `-kernel`, no initrd), it finds OPAL in the device tree, calls it the way an OS does,
//! checks every answer against the specification (`/work/shared/reference/xive.md` and
//! the OPAL boot contract) and prints one line per case, then powers the machine off.
//! It runs unchanged on Opalite and on skiboot, which is what makes it a conformance test.
//!
//! Output: a banner, then `PASS`/`FAIL`/`DEVIATION`/`SKIP` lines (see `runner.rs`), then
//! `conformance: N passed, N failed, N deviations, N skipped`.
#![no_std]
#![no_main]

mod arch;
mod areas;
mod arena;
mod bench;
mod opal;
mod runner;

use core::fmt::Write;

use conformance::bootargs::Options;
use conformance::fdt::{self, Fdt};
use conformance::list::List;
use conformance::memmap::{largest_free, Range};
use conformance::system::System;

use opal_api::token::OPAL_START_CPU;

use crate::arena::Arena;
use crate::opal::{Console, Opal};

/// Where QEMU loads `-kernel` (and the link address, conformance.ld).
const PAYLOAD_BASE: u64 = 0x2000_0000;
/// A device tree larger than this is not believed.
const MAX_FDT: usize = 16 << 20;
/// Arena granularity: XIVE provisioning pages are 64 KiB.
const ARENA_ALIGN: u64 = 0x1_0000;

extern "C" {
    static _payload_end: u8;
}

#[no_mangle]
extern "C" fn payload_main(fdt_addr: u64, entry_tb: u64) -> ! {
    // SAFETY: both firmwares pass the device tree's real address in r3; we are in real
    // mode, so it is a valid pointer, and its header bounds the rest (checked below).
    let blob: &'static [u8] = unsafe {
        let header = core::slice::from_raw_parts(fdt_addr as *const u8, 8);
        match fdt::total_size(header) {
            Ok(size) if size <= MAX_FDT => core::slice::from_raw_parts(fdt_addr as *const u8, size),
            _ => halt(),
        }
    };
    let Ok(tree) = Fdt::parse(blob) else { halt() };
    let sys = System::from_fdt(&tree);
    let (Some(base), Some(entry)) = (sys.opal_base, sys.opal_entry) else {
        // No OPAL, no console: nothing to report with.
        halt()
    };
    // SAFETY: the addresses come from /ibm,opal of the tree the firmware handed over.
    let opal = unsafe { Opal::new(base, entry, sys.tb_hz.unwrap_or(512_000_000)) };
    let mut con = Console::new(&opal);
    let opts = Options::parse(sys.bootargs);
    banner(&mut con, &tree, &sys, &opts);
    areas::setup_threads(&sys);
    park_secondaries(&opal, &mut con, &sys);
    if let Some(cycles) = opts.reboot_loop {
        bench::reboot_loop(&opal, &mut con, &sys, entry_tb, cycles);
        finish(&opal, &mut con)
    }
    if bench::reboot_requested(sys.bootargs) {
        bench::reboot(&opal, &mut con, &sys, entry_tb);
        bench::mark_power_off(&mut con);
        finish(&opal, &mut con)
    }
    if bench::requested(sys.bootargs) {
        bench::run(&opal, &mut con, &sys, entry_tb);
        bench::mark_power_off(&mut con);
        finish(&opal, &mut con)
    }

    let payload_end = core::ptr::addr_of!(_payload_end) as u64;
    let mut taken: List<Range, 72> = List::new();
    let _ = taken.push(Range {
        start: PAYLOAD_BASE,
        end: payload_end,
    });
    let _ = taken.push(Range::sized(fdt_addr, blob.len() as u64));
    for r in sys.reserved.iter() {
        let _ = taken.push(*r);
    }
    // Below the payload lie the firmware's exception vectors and the platform's tree.
    let Some(free) = largest_free(&sys.ram, &taken, PAYLOAD_BASE, ARENA_ALIGN) else {
        let _ = writeln!(
            con,
            "FAIL setup: no free RAM outside the reserved ranges and the payload"
        );
        finish(&opal, &mut con)
    };
    let _ = writeln!(
        con,
        "payload {PAYLOAD_BASE:#x}..{payload_end:#x}; giving OPAL pages from {:#x}..{:#x} ({} MiB)",
        free.start,
        free.end,
        free.len() >> 20
    );
    // SAFETY: `free` is RAM (a /memory range) outside every reservation the firmware made,
    // the payload image, its stack and the device tree; nothing else in the payload uses it.
    let arena = unsafe { Arena::new(free) };
    runner::run_all(areas::AREAS, &opal, &sys, &opts, arena);
    finish(&opal, &mut con)
}

fn banner(con: &mut Console<'_>, tree: &Fdt<'_>, sys: &System<'_>, opts: &Options<'_>) {
    let version = tree
        .node("/ibm,opal/firmware")
        .and_then(|n| n.str("version").or_else(|| n.str("git-id")))
        .unwrap_or("?");
    let gen = sys.generation.map_or("unknown generation", |g| g.name());
    let _ = writeln!(
        con,
        "opal-conformance {}: OPAL conformance payload",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        con,
        "machine: {} ({gen}, PVR {:#010x}), {} threads on chips {:?}, boot PIR {:#x}, RAM top {:#x}",
        sys.model,
        sys.pvr.unwrap_or(0),
        sys.threads.len(),
        sys.chips(),
        sys.boot_pir,
        sys.ram_top()
    );
    let _ = writeln!(
        con,
        "firmware: {version}; OPAL base {:#x} entry {:#x}; entered on PIR {:#x}",
        sys.opal_base.unwrap_or(0),
        sys.opal_entry.unwrap_or(0),
        arch::pir()
    );
    if let Some(x) = &sys.xive {
        let _ = writeln!(
            con,
            "xive node: provision chips {:?}, eq sizes {:?}, #priorities {:?}, save-restore {}",
            x.provision_chips, x.eq_sizes, x.priorities, x.save_restore
        );
    }
    if !sys.bootargs.is_empty() {
        let _ = writeln!(con, "bootargs: {}", sys.bootargs);
    }
    if sys.truncated || opts.dropped > 0 {
        let _ = writeln!(
            con,
            "warning: the device tree or the options did not fit the payload's tables"
        );
    }
}

/// Sends every other thread to `arch::secondary_park` with OPAL_START_CPU, as an OS
/// starts its secondaries, so they sleep instead of spinning in the firmware.
fn park_secondaries(opal: &Opal, con: &mut Console<'_>, sys: &System<'_>) {
    let park = arch::secondary_park as *const () as u64;
    let (mut parked, mut others) = (0, 0);
    for t in sys.threads.iter().filter(|t| t.pir != sys.boot_pir) {
        others += 1;
        // SAFETY: START_CPU takes a PIR and a code address; nothing is written.
        match unsafe { opal.call(OPAL_START_CPU, &[u64::from(t.pir), park]) } {
            Ok(r) if r == opal::Ret::SUCCESS => parked += 1,
            Ok(r) => {
                let _ = writeln!(
                    con,
                    "setup: OPAL_START_CPU({:#x}) returned {r}; that thread stays in OPAL",
                    t.pir
                );
            }
            Err(_) => break,
        }
    }
    // START_CPU only queues the start: wait (2 s at most) until every started thread is in
    // the parking loop, so that none misses the first work handed out.
    let deadline = arch::mftb() + opal.ticks(2000);
    while arch::park_arrivals() < parked as u64 && arch::mftb() < deadline {
        core::hint::spin_loop();
    }
    let arrived = arch::park_arrivals();
    if arrived < parked as u64 {
        let _ = writeln!(
            con,
            "setup: only {arrived} of the {parked} started threads reached the parking loop within 2 s"
        );
    }
    arch::PARKED_THREADS.store(parked, core::sync::atomic::Ordering::SeqCst);
    let _ = writeln!(
        con,
        "setup: {parked} of {others} other threads parked with OPAL_START_CPU"
    );
}

/// Flushes the console and powers off (QEMU then exits).
fn finish(opal: &Opal, con: &mut Console<'_>) -> ! {
    con.flush();
    opal.console_flush();
    opal.power_down();
    let _ = writeln!(
        con,
        "conformance: OPAL_CEC_POWER_DOWN did not power the machine off"
    );
    con.flush();
    halt()
}

/// Nothing more to do: spin (interrupts are off, so nothing will come).
fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut m = runner::Msg::new();
    let _ = write!(m, "\r\nFAIL payload panic: {info}\r\n");
    opal::emergency_write(m.as_str().as_bytes());
    halt()
}
