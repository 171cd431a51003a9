// SPDX-License-Identifier: Apache-2.0
//! IBM Rainier-class POWER10 systems (Power S1014/S1022/S1024 family; skiboot:
//! `platforms/astbmc/rainier.c`): POWER10 sockets and an AST2600 eBMC running IBM's
//! OpenBMC, which talks to the host firmware in PLDM over MCTP rather than over IPMI BT.
//! IBM ships them with PowerVM; OPAL on them is, as far as we know, a lab configuration.
//!
//! **Not supported.** Described so the machine is recognised and reported by name.

use crate::{
    Bmc, Board, Console, Identity, Machine, PowerControl, Processor, Support, LPC_UART_IO_PORT,
};

pub static RAINIER: Board = Board {
    name: "IBM Rainier (POWER10)",
    // skiboot's probe takes the first three; its documentation also lists -1s4u.
    identity: Identity::RootCompatible(&[
        "ibm,rainier",
        "ibm,rainier-2s2u",
        "ibm,rainier-2s4u",
        "ibm,rainier-1s4u",
    ]),
    processor: Processor::Power10,
    console: Console::LpcUart16550 {
        io_port: LPC_UART_IO_PORT,
    },
    bmc: Bmc::PldmOverMctp,
    // The eBMC serves firmware files over PLDM rather than a PNOR over HIOMAP.
    flash: &[],
    power_off: PowerControl::Unsupported,
    reboot: PowerControl::Unsupported,
    support: Support::NotSupported,
    machine: Machine::Rainier,
};

pub(crate) const MISSING_RAINIER: &[&str] = &[
    "PLDM and MCTP: no way to talk to the eBMC, so no flash files, no power-off, \
         no reboot",
    "HDAT parsing: hostboot hands over HDAT (SPIRA) structures, not a flattened \
         device tree",
    "PCIe slot power (SMBus power controller on I2C), PAU/OpenCAPI, PCIe in general",
    "OCC and power management, sensors, error logs",
];
