// SPDX-License-Identifier: Apache-2.0
//! Pending-event bits returned by `OPAL_POLL_EVENTS` (`enum OpalPendingState`). Linux
//! treats bit n as hwirq n of its OPAL event irqchip; the bits are level-style.

#[doc(alias = "OPAL_EVENT_OPAL_INTERNAL")]
pub const OPAL_INTERNAL: u64 = 0x1;
#[doc(alias = "OPAL_EVENT_NVRAM")]
pub const NVRAM: u64 = 0x2;
#[doc(alias = "OPAL_EVENT_RTC")]
pub const RTC: u64 = 0x4;
#[doc(alias = "OPAL_EVENT_CONSOLE_OUTPUT")]
pub const CONSOLE_OUTPUT: u64 = 0x8;
#[doc(alias = "OPAL_EVENT_CONSOLE_INPUT")]
pub const CONSOLE_INPUT: u64 = 0x10;
#[doc(alias = "OPAL_EVENT_ERROR_LOG_AVAIL")]
pub const ERROR_LOG_AVAIL: u64 = 0x20;
#[doc(alias = "OPAL_EVENT_ERROR_LOG")]
pub const ERROR_LOG: u64 = 0x40;
#[doc(alias = "OPAL_EVENT_EPOW")]
pub const EPOW: u64 = 0x80;
#[doc(alias = "OPAL_EVENT_LED_STATUS")]
pub const LED_STATUS: u64 = 0x100;
#[doc(alias = "OPAL_EVENT_PCI_ERROR")]
pub const PCI_ERROR: u64 = 0x200;
#[doc(alias = "OPAL_EVENT_DUMP_AVAIL")]
pub const DUMP_AVAIL: u64 = 0x400;
#[doc(alias = "OPAL_EVENT_MSG_PENDING")]
pub const MSG_PENDING: u64 = 0x800;
/// A reply to the OS's IPMI request waits for `OPAL_IPMI_RECV`. Not in the fixed enum:
/// skiboot allocates it at boot as the first of its dynamic events (bits 32..63, taken
/// from the top), so it is bit 63 there too, and the `/ibm,opal/ipmi` node names it.
pub const IPMI_RECV: u64 = 1 << 63;
/// [`IPMI_RECV`] as the OPAL event interrupt number the device tree gives Linux.
pub const IPMI_RECV_HWIRQ: u32 = IPMI_RECV.trailing_zeros();

#[cfg(test)]
mod tests {
    #[test]
    fn bits_are_pinned() {
        use super::*;
        let bits = [
            OPAL_INTERNAL,
            NVRAM,
            RTC,
            CONSOLE_OUTPUT,
            CONSOLE_INPUT,
            ERROR_LOG_AVAIL,
            ERROR_LOG,
            EPOW,
            LED_STATUS,
            PCI_ERROR,
            DUMP_AVAIL,
            MSG_PENDING,
        ];
        for (i, b) in bits.iter().enumerate() {
            assert_eq!(*b, 1 << i);
        }
    }
}
