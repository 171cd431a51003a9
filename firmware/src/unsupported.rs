// SPDX-License-Identifier: Apache-2.0
//! A machine Opalite cannot run yet. Rather than hang in silence, it says so on the UART
//! (reached however this machine reaches it) and asks the BMC to power off, so QEMU exits
//! and a user sees why.

use crate::lpc_eccb::EccbIo;
use crate::platform::TbClock;
use crate::xscom::Xscom;
use crate::{arch, inventory::Inventory};
use ipmi::commands::ChassisControl;
use ipmi::{Bt, IoPort};

/// 16550 registers used here: transmit holding register and line status.
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
    let io = || EccbIo::new(unsafe { Xscom::new_power8(xscom_base) }, lpc);
    if let Some((port, _)) = &inv.uart {
        let uart = io();
        for &c in b"\r\nOPALITE: ".iter().chain(msg.as_bytes()).chain(b"\r\n") {
            put(&uart, *port, c);
        }
    }
    if let Some(port) = inv.ipmi_bt {
        let mut bt = Bt::new(io(), TbClock, port);
        bt.init();
        if let Err(e) = bt.chassis_control(ChassisControl::PowerDown) {
            log::error!("IPMI: power off failed: {e:?}");
        }
    }
    halt_here()
}

fn put(uart: &EccbIo, port: u16, c: u8) {
    for _ in 0..1000 {
        if uart.inb(port + UART_LSR) & LSR_THR_EMPTY != 0 {
            break;
        }
        arch::relax();
    }
    uart.outb(port, c);
}

fn halt_here() -> ! {
    loop {
        arch::relax();
    }
}
