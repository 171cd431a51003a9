// SPDX-License-Identifier: Apache-2.0
//! QEMU's `powernv8`, `powernv9` and `powernv10` machines (skiboot: `platforms/qemu/`).
//! QEMU builds the device tree itself and hands it over in r3, which is what Opalite
//! reads. The machine has a 16550 and an IPMI BT interface on LPC I/O, served by QEMU's
//! simulated BMC, and the PNOR given with `-drive if=mtd` behind HIOMAP; unlike a real
//! BMC, QEMU also maps the whole PNOR into LPC firmware space, so it can be read without
//! HIOMAP (`images-boards-mambo.md` §2.5).

use crate::{
    Bmc, Board, Console, FlashAccess, Identity, Machine, PowerControl, Processor, Support,
    IPMI_BT_IO_PORT, LPC_UART_IO_PORT,
};

/// What powernv9 and powernv10 both lack in Opalite.
pub(crate) const MISSING_ON_QEMU: &[&str] = &[
    "PCI: no PHB initialisation, no pciex@ nodes, no OPAL_PCI_* calls (firmware/pci has \
     the tested hardware-free part)",
];

const QEMU_FLASH: &[FlashAccess] = &[
    FlashAccess::HiomapOverIpmi,
    FlashAccess::QemuLpcFirmwareSpace,
];

/// A QEMU powernv machine: they differ only in the processor and how far Opalite gets.
const fn qemu(
    name: &'static str,
    compatible: &'static [&'static str],
    processor: Processor,
    support: Support,
    machine: Machine,
) -> Board {
    Board {
        name,
        identity: Identity::RootCompatible(compatible),
        processor,
        console: Console::LpcUart16550 {
            io_port: LPC_UART_IO_PORT,
        },
        bmc: Bmc::IpmiBt {
            io_port: IPMI_BT_IO_PORT,
        },
        flash: QEMU_FLASH,
        power_off: PowerControl::IpmiChassisControl,
        reboot: PowerControl::IpmiChassisControl,
        support,
        machine,
    }
}

pub static QEMU_POWERNV8: Board = qemu(
    "QEMU powernv8",
    &["qemu,powernv8"],
    Processor::Power8,
    Support::NotSupported,
    Machine::QemuPowernv8,
);

pub static QEMU_POWERNV9: Board = qemu(
    "QEMU powernv9",
    &["qemu,powernv9"],
    Processor::Power9,
    Support::Tested,
    Machine::QemuPowernv9,
);

pub static QEMU_POWERNV10: Board = qemu(
    "QEMU powernv10",
    &["qemu,powernv10"],
    Processor::Power10,
    Support::Tested,
    Machine::QemuPowernv10,
);

pub(crate) const MISSING_QEMU_POWERNV8: &[&str] = &[
    "POWER8: the firmware says it is not supported and powers off through IPMI \
         (LPC reached through XSCOM's ECCB); no XICS, no POWER8 idle or CPU setup",
];
