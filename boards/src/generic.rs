// SPDX-License-Identifier: Apache-2.0
//! Any PowerNV machine nothing more specific matched (skiboot: `generic_platform`). The
//! firmware then goes by the device tree alone: the UART and BT nodes it names, if any.
//! The ports below are the AST BMC convention such a machine most likely follows.

use crate::{
    Bmc, Board, Console, Identity, Machine, PowerControl, Processor, Support, IPMI_BT_IO_PORT,
    LPC_UART_IO_PORT,
};

pub static GENERIC: Board = Board {
    name: "generic PowerNV",
    identity: Identity::Fallback,
    processor: Processor::Any,
    console: Console::LpcUart16550 {
        io_port: LPC_UART_IO_PORT,
    },
    bmc: Bmc::IpmiBt {
        io_port: IPMI_BT_IO_PORT,
    },
    flash: &[],
    power_off: PowerControl::IpmiChassisControl,
    reboot: PowerControl::IpmiChassisControl,
    support: Support::Untested,
    machine: Machine::Generic,
};

pub(crate) const MISSING_GENERIC: &[&str] = &[
    "no board-specific knowledge: console, BMC and power control work only if the \
         device tree describes an LPC UART and an IPMI BT interface",
    "no flash access",
];
