// SPDX-License-Identifier: Apache-2.0
//! `conformance.bench`: instead of the cases, measures what an OS sees of the firmware's
//! cost, with the timebase, and prints one `BENCH <name> <value>` line per figure for
//! `cargo xtask bench` (which runs it under QEMU's `-icount`, so guest time is a count of
//! instructions and does not depend on the host):
//!
//! * `entry-tb`: the timebase at the payload's first instruction. The timebase counts
//!   from 0 at QEMU start, so this is the firmware's boot time in ticks.
//! * `reserved-bytes`: the union of `/memreserve/`, `/reserved-memory` and
//!   `reserved-ranges` in the tree the firmware passed: memory taken from the OS.
//! * `check-token`, `console-write-1`, `console-write-4k`: timebase ticks per call,
//!   averaged over many calls, with the other threads parked.
//! * `poweroff-tb`: the timebase just before `OPAL_CEC_POWER_DOWN`.
//!
//! `conformance.bench-reboot` measures a reboot instead, over two boots of the payload in
//! one QEMU run (QEMU started without `-no-reboot`): the first boot stores a marker and
//! the timebase in RAM the firmware leaves to the OS and calls `OPAL_CEC_REBOOT`; the
//! second finds the marker and prints
//!
//! * `reboot-request-tb`: the timebase just before the first boot's `OPAL_CEC_REBOOT`;
//! * `reboot-entry-tb`: the timebase at the second boot's first instruction.
//!
//! then clears the marker and powers off. QEMU keeps RAM across a system reset (it only
//! reloads the `-bios` and `-kernel` images), which is what carries the marker over.
//!
//! `conformance.reboot-loop=N` is the torture op-test runs on hardware: N reboots in one
//! QEMU run, each boot printing `TORTURE reboot K of N: MS ms` (request to the next
//! boot's first instruction) and rebooting again, the last printing
//! `TORTURE reboots=N median=MS ms slowest=MS ms (cycle K)` and powering off. The count
//! and every cycle's time live in RAM at the same place as the bench's marker. A hang is
//! what does not print its next line (the harness's timeout says which cycle).

use core::fmt::Write;

use conformance::memmap::{covered_bytes, Range};
use conformance::system::System;

use opal_api::token::OPAL_CONSOLE_WRITE;

use crate::arch;
use crate::opal::{Console, Opal};

const CHECK_TOKEN_CALLS: u64 = 1000;
const ONE_BYTE_WRITES: u64 = 200;
const PAGE_WRITES: u64 = 8;
const PAGE: usize = 4096;

/// Where the reboot bench keeps its marker and the request timebase: far above the
/// payload (0x2000_0000), both firmwares (0x3000_0000 up) and the device tree, inside
/// the 2 GiB `cargo xtask bench` gives the machine. Checked against the tree at run time.
const REBOOT_MARKER_ADDR: u64 = 0x7000_0000;
/// "OPALRBT1": unlikely to be what a reset leaves in RAM by chance.
const REBOOT_MARKER: u64 = u64::from_be_bytes(*b"OPALRBT1");

/// The reboot loop's record: magic, cycles done, cycles wanted, the request's timebase,
/// then one duration (ticks) per cycle.
const LOOP_MARKER: u64 = u64::from_be_bytes(*b"OPALRLP1");
const LOOP_HEADER_WORDS: u64 = 4;
/// Most cycles the record holds (800 KiB).
const LOOP_MAX_CYCLES: u64 = 100_000;

/// The reboot torture (see the module comment). Returns only when it is over (or could
/// not run); the caller powers off.
pub fn reboot_loop(
    opal: &Opal,
    con: &mut Console<'_>,
    sys: &System<'_>,
    entry_tb: u64,
    cycles: u64,
) {
    let cycles = cycles.clamp(1, LOOP_MAX_CYCLES);
    let record = Range::sized(REBOOT_MARKER_ADDR, (LOOP_HEADER_WORDS + cycles) * 8);
    if !free_ram(sys, &record) {
        let _ = writeln!(
            con,
            "TORTURE error: {:#x}.. is not free RAM here",
            record.start
        );
        return;
    }
    let word = |i: u64| REBOOT_MARKER_ADDR + i * 8;
    // SAFETY (every access below): inside `record`, checked above to be RAM outside every
    // firmware reservation, far above the payload and the tree.
    let (magic, done, wanted) = unsafe {
        (
            arch::ram_load64(word(0)),
            arch::ram_load64(word(1)),
            arch::ram_load64(word(2)),
        )
    };
    let done = if magic == LOOP_MARKER && wanted == cycles && done < cycles {
        let ticks = entry_tb.saturating_sub(unsafe { arch::ram_load64(word(3)) });
        unsafe { arch::ram_store64(word(LOOP_HEADER_WORDS + done), ticks) };
        let done = done + 1;
        let _ = writeln!(
            con,
            "TORTURE reboot {done} of {cycles}: {} ms",
            ms(sys, ticks)
        );
        done
    } else {
        let _ = writeln!(
            con,
            "TORTURE start: {cycles} reboots through OPAL_CEC_REBOOT"
        );
        0
    };
    if done == cycles {
        unsafe { arch::ram_store64(word(0), 0) };
        // SAFETY: `cycles` words inside `record`, which nothing else uses.
        let times = unsafe {
            core::slice::from_raw_parts_mut(word(LOOP_HEADER_WORDS) as *mut u64, cycles as usize)
        };
        let (at, slowest) = times
            .iter()
            .copied()
            .enumerate()
            .max_by_key(|&(_, t)| t)
            .map_or((0, 0), |(k, t)| (k + 1, t));
        times.sort_unstable();
        let median = times[times.len() / 2];
        let _ = writeln!(
            con,
            "TORTURE reboots={cycles} median={} ms slowest={} ms (cycle {at})",
            ms(sys, median),
            ms(sys, slowest)
        );
        return;
    }
    con.flush();
    opal.console_flush();
    unsafe {
        arch::ram_store64(word(1), done);
        arch::ram_store64(word(2), cycles);
        arch::ram_store64(word(3), arch::mftb());
        arch::ram_store64(word(0), LOOP_MARKER);
    }
    let answer = opal.reboot();
    unsafe { arch::ram_store64(word(0), 0) };
    report_no_reset(con, "TORTURE error:", answer);
}

/// Ticks as milliseconds with three decimals.
fn ms(sys: &System<'_>, ticks: u64) -> MilliSeconds {
    MilliSeconds(ticks * 1_000_000 / sys.tb_hz.unwrap_or(512_000_000).max(1))
}

/// Microseconds, printed as milliseconds.
struct MilliSeconds(u64);

impl core::fmt::Display for MilliSeconds {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// Whether the command line asks for the bench mode.
pub fn requested(bootargs: &str) -> bool {
    has_word(bootargs, "conformance.bench")
}

/// Whether the command line asks for the reboot bench.
pub fn reboot_requested(bootargs: &str) -> bool {
    has_word(bootargs, "conformance.bench-reboot")
}

fn has_word(bootargs: &str, word: &str) -> bool {
    bootargs.split_ascii_whitespace().any(|w| w == word)
}

/// The reboot bench (see the module comment). Returns on the second boot, or on the
/// first if the reboot did not happen; the caller powers off either way.
pub fn reboot(opal: &Opal, con: &mut Console<'_>, sys: &System<'_>, entry_tb: u64) {
    let marker = Range::sized(REBOOT_MARKER_ADDR, 16);
    if !free_ram(sys, &marker) {
        let _ = writeln!(
            con,
            "BENCH error reboot marker {REBOOT_MARKER_ADDR:#x} is not free RAM here"
        );
        return;
    }
    // SAFETY: checked just above: RAM in /memory, outside every firmware reservation, and
    // far above the payload and the tree (both below 0x3000_0000 plus a few MiB).
    let found = unsafe { arch::ram_load64(REBOOT_MARKER_ADDR) };
    if found == REBOOT_MARKER {
        // SAFETY: as above.
        let request_tb = unsafe { arch::ram_load64(REBOOT_MARKER_ADDR + 8) };
        // SAFETY: as above. Cleared first, so a failure below cannot loop the machine.
        unsafe { arch::ram_store64(REBOOT_MARKER_ADDR, 0) };
        let _ = writeln!(con, "BENCH tb-hz {}", sys.tb_hz.unwrap_or(0));
        let _ = writeln!(con, "BENCH reboot-request-tb {request_tb}");
        let _ = writeln!(con, "BENCH reboot-entry-tb {entry_tb}");
        return;
    }
    let _ = writeln!(con, "BENCH reboot-first-entry-tb {entry_tb}");
    con.flush();
    opal.console_flush();
    let request_tb = arch::mftb();
    // SAFETY: as above.
    unsafe {
        arch::ram_store64(REBOOT_MARKER_ADDR + 8, request_tb);
        arch::ram_store64(REBOOT_MARKER_ADDR, REBOOT_MARKER);
    }
    let answer = opal.reboot();
    // Still here: no reset. Clear the marker so a later boot does not take it for ours.
    // SAFETY: as above.
    unsafe { arch::ram_store64(REBOOT_MARKER_ADDR, 0) };
    report_no_reset(con, "BENCH error", answer);
}

/// Whether `range` is RAM in /memory outside every firmware reservation: where the
/// reboot modes keep what must survive a reset.
fn free_ram(sys: &System<'_>, range: &Range) -> bool {
    let in_ram = sys
        .ram
        .iter()
        .any(|r| r.start <= range.start && range.end <= r.end);
    in_ram && !sys.reserved.iter().any(|r| r.overlaps(range))
}

/// `OPAL_CEC_REBOOT` came back: the line saying so, after `prefix`.
fn report_no_reset(
    con: &mut Console<'_>,
    prefix: &str,
    answer: Result<crate::opal::Ret, crate::opal::Absent>,
) {
    match answer {
        Ok(r) => {
            let _ = writeln!(
                con,
                "{prefix} OPAL_CEC_REBOOT returned {r} and the machine did not reset"
            );
        }
        Err(_) => {
            let _ = writeln!(con, "{prefix} OPAL_CEC_REBOOT is absent");
        }
    }
}

/// Prints the `BENCH` lines. The caller powers off afterwards (see [`mark_power_off`]).
pub fn run(opal: &Opal, con: &mut Console<'_>, sys: &System<'_>, entry_tb: u64) {
    let _ = writeln!(con, "BENCH tb-hz {}", sys.tb_hz.unwrap_or(0));
    let _ = writeln!(con, "BENCH entry-tb {entry_tb}");
    let _ = writeln!(con, "BENCH threads {}", sys.threads.len());
    let _ = writeln!(con, "BENCH reserved-bytes {}", covered_bytes(&sys.reserved));
    // Start each measurement with the firmware's console buffer drained.
    con.flush();
    opal.console_flush();

    let start = arch::mftb();
    for _ in 0..CHECK_TOKEN_CALLS {
        let _ = opal.check_token(OPAL_CONSOLE_WRITE);
    }
    let check = arch::mftb() - start;
    report(con, "check-token", check, CHECK_TOKEN_CALLS);
    con.flush();
    opal.console_flush();

    let mut complete = true;
    let start = arch::mftb();
    for _ in 0..ONE_BYTE_WRITES {
        complete &= opal.console_write(b".");
    }
    let one = arch::mftb() - start;
    opal.console_write(b"\n");
    opal.console_flush();
    report(con, "console-write-1", one, ONE_BYTE_WRITES);

    let mut page = [b'='; PAGE];
    page[PAGE - 1] = b'\n';
    con.flush();
    opal.console_flush();
    let start = arch::mftb();
    for _ in 0..PAGE_WRITES {
        complete &= opal.console_write(&page);
    }
    let full = arch::mftb() - start;
    opal.console_flush();
    report(con, "console-write-4k", full, PAGE_WRITES);
    if !complete {
        let _ = writeln!(con, "BENCH error console write gave up");
    }
}

/// Prints the timebase just before the caller's `OPAL_CEC_POWER_DOWN`.
pub fn mark_power_off(con: &mut Console<'_>) {
    let _ = writeln!(con, "BENCH poweroff-tb {}", arch::mftb());
    con.flush();
}

/// `BENCH <name> <ticks per call, two decimals>`.
fn report(con: &mut Console<'_>, name: &str, ticks: u64, calls: u64) {
    let hundredths = ticks * 100 / calls;
    let _ = writeln!(
        con,
        "BENCH {name} {}.{:02}",
        hundredths / 100,
        hundredths % 100
    );
}
