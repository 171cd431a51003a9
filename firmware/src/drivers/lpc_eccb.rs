// SPDX-License-Identifier: Apache-2.0
//! LPC I/O through POWER8's ECCB: the LPC controller there has no MMIO window, only three
//! XSCOM registers (control, status, data) through which each byte goes (skiboot
//! `hw/lpc.c` `__lpc_write`/`__lpc_read`, QEMU `hw/ppc/pnv_lpc.c` `pnv_lpc_do_eccb`).
//! Slow and enough for what Opalite does on POWER8 today: say on the UART that the
//! machine is not supported and ask the BMC to power it off.

use crate::arch;
use crate::drivers::xscom::Xscom;
use hal::bits::{ppc_bit, ppc_bitmask};
use ipmi::IoPort;

/// ECCB registers, as offsets from the LPC node's XSCOM address.
const ECCB_CTL: u32 = 0;
const ECCB_STAT: u32 = 2;
const ECCB_DATA: u32 = 3;
const CTL_READ: u64 = ppc_bit(15);
/// Access size in bytes, bits 4:7.
const CTL_SIZE_SHIFT: u32 = 63 - 7;
const CTL_ADDR: u64 = ppc_bitmask(32, 63);
const STAT_OP_DONE: u64 = ppc_bit(52);
/// Read data, bits 6:37 (the first byte read in the top byte of the field).
const STAT_RD_DATA_SHIFT: u32 = 63 - 37;
/// Where LPC I/O space sits on the OPB bus.
const LPC_IO_OPB: u64 = 0xd001_0000;
/// Status polls before an access is given up (a read then gives 0xff).
const POLLS: u32 = 10_000;

/// LPC I/O space of one POWER8 chip.
pub struct EccbIo {
    xscom: Xscom,
    lpc: u32,
}

impl EccbIo {
    /// `lpc` is the LPC node's XSCOM address (`reg` of `ibm,power8-lpc`).
    pub fn new(xscom: Xscom, lpc: u32) -> Self {
        Self { xscom, lpc }
    }

    fn run(&self, ctl: u64) -> Option<u64> {
        self.xscom.write(self.lpc + ECCB_CTL, ctl);
        for _ in 0..POLLS {
            let stat = self.xscom.read(self.lpc + ECCB_STAT);
            if stat & STAT_OP_DONE != 0 {
                return Some(stat);
            }
            arch::relax();
        }
        None
    }

    fn ctl(port: u16) -> u64 {
        1 << CTL_SIZE_SHIFT | (LPC_IO_OPB + u64::from(port)) & CTL_ADDR
    }
}

impl IoPort for EccbIo {
    fn inb(&self, port: u16) -> u8 {
        self.run(CTL_READ | Self::ctl(port))
            .map_or(0xff, |stat| (stat >> (STAT_RD_DATA_SHIFT + 24)) as u8)
    }

    fn outb(&self, port: u16, val: u8) {
        self.xscom.write(self.lpc + ECCB_DATA, u64::from(val) << 56);
        let _ = self.run(Self::ctl(port));
    }
}
