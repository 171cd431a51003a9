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

use core::fmt::Write;

use conformance::memmap::covered_bytes;
use conformance::system::System;

use opal_api::token::OPAL_CONSOLE_WRITE;

use crate::arch;
use crate::opal::{Console, Opal};

const CHECK_TOKEN_CALLS: u64 = 1000;
const ONE_BYTE_WRITES: u64 = 200;
const PAGE_WRITES: u64 = 8;
const PAGE: usize = 4096;

/// Whether the command line asks for the bench mode.
pub fn requested(bootargs: &str) -> bool {
    bootargs
        .split_ascii_whitespace()
        .any(|w| w == "conformance.bench")
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
