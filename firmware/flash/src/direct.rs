// SPDX-License-Identifier: Apache-2.0
//! The flash read and written directly in LPC FW space at a fixed address, with no BMC
//! protocol. Only a fallback: on an OpenBMC machine the flash appears there only inside
//! a window HIOMAP opened. QEMU 10 decodes the whole flash at FW address 0 from reset.
use crate::{in_bounds, Error, Flash, FwSpace};

/// The erase granule we assume without a BMC to ask (QEMU's, and the PNOR block size).
pub const GRANULE: u32 = 4096;

pub struct DirectFw<F> {
    fw: F,
    /// LPC FW address of flash byte 0.
    base: u32,
    size: u64,
}

impl<F: FwSpace> DirectFw<F> {
    /// `size` is usually what the partition table says the flash is.
    pub fn new(fw: F, base: u32, size: u64) -> Self {
        Self { fw, base, size }
    }

    fn lpc(&self, offset: u64, len: u64) -> Result<u32, Error> {
        if !in_bounds(offset, len, self.size) {
            return Err(Error::OutOfRange);
        }
        u32::try_from(u64::from(self.base) + offset).map_err(|_| Error::OutOfRange)
    }
}

impl<F: FwSpace> Flash for DirectFw<F> {
    fn size(&self) -> u64 {
        self.size
    }
    fn erase_granule(&self) -> u32 {
        GRANULE
    }
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let at = self.lpc(offset, buf.len() as u64)?;
        self.fw.read(at, buf);
        Ok(())
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
        let at = self.lpc(offset, data.len() as u64)?;
        self.fw.write(at, data);
        Ok(())
    }
    fn erase(&mut self, offset: u64, len: u64) -> Result<(), Error> {
        let g = u64::from(GRANULE);
        if !offset.is_multiple_of(g) || !len.is_multiple_of(g) {
            return Err(Error::OutOfRange);
        }
        let at = self.lpc(offset, len)?;
        let ones = [0xffu8; 256];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(ones.len() as u64) as usize;
            self.fw.write(at + done as u32, &ones[..n]);
            done += n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::RamFw;

    #[test]
    fn reads_writes_and_erases_at_the_base() {
        let mut f = DirectFw::new(RamFw::new(0x2_0000), 0x1_0000, 0x1_0000);
        f.write(0x10, b"hello").unwrap();
        let mut b = [0u8; 5];
        f.read(0x10, &mut b).unwrap();
        assert_eq!(&b, b"hello");
        assert_eq!(&f.fw.mem[0x1_0010..0x1_0015], b"hello");
        f.erase(0, 0x1000).unwrap();
        assert!(f.fw.mem[0x1_0000..0x1_1000].iter().all(|&x| x == 0xff));
    }

    #[test]
    fn refuses_what_is_outside_or_misaligned() {
        let mut f = DirectFw::new(RamFw::new(0x2_0000), 0x1_0000, 0x1_0000);
        let mut b = [0u8; 2];
        assert_eq!(f.read(0xffff, &mut b), Err(Error::OutOfRange));
        assert_eq!(f.read(u64::MAX, &mut b), Err(Error::OutOfRange));
        assert_eq!(f.erase(0x800, 0x1000), Err(Error::OutOfRange));
        assert_eq!(f.erase(0, 0x2_0000), Err(Error::OutOfRange));
        assert!(f.fw.mem[0x1_0000..].iter().all(|&x| x == 0));
    }
}
