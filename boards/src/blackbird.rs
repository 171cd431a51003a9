// SPDX-License-Identifier: Apache-2.0
//! Raptor Computing Systems Blackbird (skiboot: `platforms/astbmc/blackbird.c`): the
//! single-socket micro-ATX sibling of the Talos II, same POWER9, same AST2500 OpenBMC,
//! same LPC UART, IPMI BT and HIOMAP. It adds an IPL observer display fed by LPC I/O
//! ports 0x80-0x82 (skiboot's `OPAL_WRITE_OPPANEL_ASYNC`).
//!
//! Described so the machine is recognised and reported; Opalite cannot boot it, for the
//! reasons listed for the Talos II, and has no operator-panel call.

use crate::{
    Bmc, Board, Console, FlashAccess, Identity, Machine, PowerControl, Processor, Support,
    IPMI_BT_IO_PORT, LPC_UART_IO_PORT,
};

pub static BLACKBIRD: Board = Board {
    name: "Raptor Blackbird",
    identity: Identity::RootCompatible(&["rcs,blackbird"]),
    processor: Processor::Power9,
    console: Console::LpcUart16550 {
        io_port: LPC_UART_IO_PORT,
    },
    bmc: Bmc::IpmiBt {
        io_port: IPMI_BT_IO_PORT,
    },
    flash: &[FlashAccess::HiomapOverIpmi],
    power_off: PowerControl::IpmiChassisControl,
    reboot: PowerControl::IpmiChassisControl,
    support: Support::NotSupported,
    machine: Machine::Blackbird,
};

pub(crate) const MISSING_BLACKBIRD: &[&str] = missing_on_hostboot_p9![
    "the IPL observer: no OPAL_WRITE_OPPANEL_ASYNC, no /ibm,opal/oppanel node"
];
