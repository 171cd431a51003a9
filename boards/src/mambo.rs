// SPDX-License-Identifier: Apache-2.0
//! IBM's POWER Functional Simulator, Mambo/systemsim (skiboot: `platforms/mambo/`). No
//! LPC, no BMC: console, clock, disks and power-off are callthrus (the `mambo` crate).
//! The simulator's script builds the device tree and starts every thread at
//! 0x3000_0010 with r3 pointing at it (`tests/mambo/boot.tcl`).

use crate::{
    Bmc, Board, Console, FlashAccess, Identity, Machine, PowerControl, Processor, Support,
};

pub static MAMBO: Board = Board {
    name: "Mambo",
    identity: Identity::MamboNode,
    processor: Processor::Any,
    console: Console::MamboCallthru,
    bmc: Bmc::None,
    flash: &[FlashAccess::MamboBogusDisk],
    power_off: PowerControl::MamboExit,
    // skiboot has no reboot under Mambo either.
    reboot: PowerControl::Unsupported,
    support: Support::Untested,
    machine: Machine::Mambo,
};

pub(crate) const MISSING_MAMBO: &[&str] = &[
    "the bogus disk as the flash: no PNOR, BOOTKERNEL or NVRAM from ROOTDISK",
    "fake NVRAM (/reserved-memory/ibm,fake-nvram) and OPAL_SIGNAL_SYSTEM_RESET through CALL_TCL",
    "the console is polled from OPAL_POLL_EVENTS only (no timer of its own)",
    "never run: systemsim is not installed where Opalite is developed (tests/mambo skips)",
];
