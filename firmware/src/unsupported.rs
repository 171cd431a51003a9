// SPDX-License-Identifier: Apache-2.0
//! A machine Opalite cannot run yet. Rather than hang in silence, it says so on the UART
//! (reached however this machine reaches it) and asks the BMC to power off, so QEMU exits
//! and a user sees why.

use crate::drivers::lpc_eccb::EccbIo;
use crate::drivers::xscom::Xscom;
use crate::drivers::{bmc, lpc::LpcIo};
use crate::platform;
use crate::{arch, inventory::Inventory};
use ipmi::IoPort;

/// 16550 line status register, and its transmitter-empty bit.
const UART_LSR: u16 = 5;
const LSR_THR_EMPTY: u8 = 0x20;

/// POWER8 (QEMU powernv8): LPC only through XSCOM's ECCB, no XIVE, another idle model.
pub fn power8(inv: &Inventory) -> ! {
    let msg = "Opalite does not support POWER8 yet (QEMU powernv8): use -M powernv9 or \
               -M powernv10. Powering off.";
    log::error!("{msg}");
    let Some((xscom_base, lpc)) = inv.lpc_eccb else {
        halt_here();
    };
    // SAFETY: the window and unit come from the xscom and ibm,power8-lpc nodes.
    let io = || LpcIo::Eccb(EccbIo::new(unsafe { Xscom::new_power8(xscom_base) }, lpc));
    if let Some((port, _)) = &inv.uart {
        let uart = io();
        for &c in b"\r\nOPALITE: ".iter().chain(msg.as_bytes()).chain(b"\r\n") {
            put(&uart, *port, c);
        }
    }
    // The BMC as on every machine, only reached through the ECCB.
    bmc::init(Some(io()), inv.ipmi_bt);
    platform::power_off_and_wait();
    halt_here()
}

fn put(uart: &LpcIo, port: u16, c: u8) {
    for _ in 0..1000 {
        if uart.inb(port + UART_LSR) & LSR_THR_EMPTY != 0 {
            break;
        }
        arch::relax();
    }
    uart.outb(port, c);
}

/// Not `main`'s `halt`: that one idles in `stop`, an ISA 3.0 instruction POWER8 lacks.
fn halt_here() -> ! {
    loop {
        arch::relax();
    }
}
