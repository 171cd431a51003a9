// SPDX-License-Identifier: Apache-2.0
//! Raptor Computing Systems Talos II (skiboot: `platforms/astbmc/talos.c`): one or two
//! POWER9 (Sforza) sockets, an ASPEED AST2500 BMC running OpenBMC, which serves the host
//! a 16550 and an IPMI BT interface on LPC and the PNOR through HIOMAP. Hostboot starts
//! the firmware from the PNOR's PAYLOAD partition.
//!
//! Described so the machine is recognised and reported; Opalite cannot boot it.

use crate::{
    Bmc, Board, Console, FlashAccess, Identity, Machine, PowerControl, Processor, Support,
    IPMI_BT_IO_PORT, LPC_UART_IO_PORT,
};

pub static TALOS_II: Board = Board {
    name: "Raptor Talos II",
    identity: Identity::RootCompatible(&["rcs,talos"]),
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
    machine: Machine::TalosII,
};

pub(crate) const MISSING_TALOS_II: &[&str] = missing_on_hostboot_p9![];
