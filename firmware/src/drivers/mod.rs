// SPDX-License-Identifier: Apache-2.0
//! The hardware, one room per device. A driver owns its device's registers and lock; it
//! may use another driver below it (the BMC link sits on the LPC bus, the flash on the BMC
//! and LPC firmware space) but never one above, and never the OPAL services: so there is
//! no import circle among them.
//!
//! | Driver | Device |
//! |---|---|
//! | [`xscom`] | each chip's XSCOM window (checked SCOM accesses) |
//! | [`lpc`] | the primary LPC bus's I/O space (MMIO window, or POWER8's ECCB in [`lpc_eccb`]) |
//! | [`lpc_irq`] | LPC SerIRQ routing to the PSI bridge |
//! | [`psi`] | the PSI host bridge as an XIVE interrupt source |
//! | [`bmc`] | the BMC over IPMI BT: chassis control, SEL time, the OS's IPMI channel |
//! | [`flash`] | the system flash (HIOMAP or LPC firmware space): boot partitions, NVRAM |
//! | [`phb`] | the PCI host bridges (PHB4, PHB5): bring-up, bus scan, `pciex@` nodes, the PCI calls' PHBs |
//! | [`xive_regs`] | the XIVE controllers' registers and in-memory tables |
//!
//! The console UART is driven by `console.rs`, whose crash-time path needs it without
//! locks. Upward, drivers read the boot-time facts (`inventory`, `layout`, the timebase
//! rate in `console::TB_HZ`) and have two doors into the services, both one-way calls
//! that take no driver lock: the PSI interrupt hands the UART's SerIRQ to
//! `console::uart_interrupt`, and the BMC link asks `interrupts::kick_os_events` to
//! raise the OPAL event interrupt when a reply for the OS is ready. Interrupt numbers
//! come down, not up: `main` hands `phb::init` the XIVE wiring (`interrupts::wire_phb`),
//! as `interrupts` hands `psi::init` its numbers.

pub mod bmc;
pub mod flash;
pub mod lpc;
pub mod lpc_eccb;
pub mod lpc_irq;
pub mod phb;
pub mod psi;
pub mod xive_regs;
pub mod xscom;
