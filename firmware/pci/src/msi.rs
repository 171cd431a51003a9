// SPDX-License-Identifier: Apache-2.0
//! MSI address and data, as `OPAL_GET_MSI_64` and `OPAL_GET_MSI_32` give them to Linux
//! (skiboot `phb4_get_msi_64`, `phb4_get_msi_32`).
//!
//! The PHB turns a DMA write into its MSI windows back into an interrupt source number:
//! QEMU takes `((offset >> 4) & 0xffff) | (data & 0x1f)`, `offset` being the address
//! within the window. So the IVE index `k` (the
//! PHB-relative MSI number Linux allocates from `ibm,opal-msi-ranges`, not the girq) is
//! split: bits 5 and up go into the address at bit 9 and up (address bits 4-8 cleared),
//! bits 0-4 are the data. The global interrupt number is the PHB's MSI base + `k`.

/// The 64-bit MSI window's address (PCI address bit 60, PHB4_CONFIG 64-bit MSI enable).
pub const MSI64_BASE: u64 = 1 << 60;
/// The 32-bit MSI window's address (the 64 KiB below 4 GiB, PHB4_CONFIG 32-bit MSI enable).
pub const MSI32_BASE: u32 = 0xffff_0000;
/// The top 8 interrupts of a PHB's block are its LSIs and error interrupts, not MSIs.
pub const LSI_COUNT: u32 = 8;

/// Why an MSI cannot be described. The OPAL layer maps each one to OPAL_PARAMETER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsiError {
    /// PE number past the PHB's PE count.
    BadPe,
    /// IVE index past the PHB's MSIs (`num_irqs - 8`).
    BadIndex,
    /// A range other than 1 (skiboot hands out one MSI per call).
    BadRange,
}

/// A PHB's interrupt numbering, as the driver learns it at init.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsiSpace {
    /// The girq of MSI 0 (skiboot `base_msi`).
    pub base: u32,
    /// Interrupts of the PHB (IRQ_CAP), MSIs and the 8 LSIs/error interrupts at the top.
    pub num_irqs: u32,
    /// PEs of the PHB.
    pub num_pes: u32,
}

/// What the OS writes, and where, to raise one MSI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msi<A> {
    pub address: A,
    pub data: u32,
}

impl MsiSpace {
    /// MSIs the OS may allocate (`ibm,opal-msi-ranges` count).
    pub const fn msi_count(&self) -> u32 {
        self.num_irqs.saturating_sub(LSI_COUNT)
    }

    /// The girq of the PHB's LSI INTA (its `base_lsi`); INTB-D follow.
    pub const fn lsi_base(&self) -> u32 {
        self.base + self.num_irqs - LSI_COUNT
    }

    /// The global interrupt number of MSI `k`.
    pub fn girq(&self, k: u32) -> Result<u32, MsiError> {
        if k >= self.msi_count() {
            return Err(MsiError::BadIndex);
        }
        Ok(self.base + k)
    }

    fn check(&self, pe: u64, k: u32, range: u8) -> Result<(), MsiError> {
        if pe >= self.num_pes as u64 {
            return Err(MsiError::BadPe);
        }
        if k >= self.msi_count() {
            return Err(MsiError::BadIndex);
        }
        if range != 1 {
            return Err(MsiError::BadRange);
        }
        Ok(())
    }

    /// `OPAL_GET_MSI_64(phb, pe, k, range)`.
    pub fn msi64(&self, pe: u64, k: u32, range: u8) -> Result<Msi<u64>, MsiError> {
        self.check(pe, k, range)?;
        Ok(Msi {
            address: MSI64_BASE | ((k as u64) << 4 & !0x1f0),
            data: k & 0x1f,
        })
    }

    /// `OPAL_GET_MSI_32(phb, pe, k, range)`.
    pub fn msi32(&self, pe: u64, k: u32, range: u8) -> Result<Msi<u32>, MsiError> {
        self.check(pe, k, range)?;
        Ok(Msi {
            address: MSI32_BASE | ((k << 4) & !0x1f0),
            data: k & 0x1f,
        })
    }
}

/// The PHB-relative source a write of `data` at `offset` into either MSI window (the
/// address minus [`MSI64_BASE`] or [`MSI32_BASE`]) raises, as QEMU decodes it
/// (`pnv_phb4_msi_write`): used to check that the composition round-trips.
pub const fn decode_source(offset: u64, data: u32) -> u32 {
    ((offset >> 4) & 0xffff) as u32 | (data & 0x1f)
}

#[cfg(test)]
mod tests {
    use super::*;

    // P9/P10 chip 0 PHB0 (big PHB) and PHB1 as observed (pci-phb.md §4.3).
    const PHB0: MsiSpace = MsiSpace {
        base: 0xfe000,
        num_irqs: 0x1000,
        num_pes: 512,
    };
    const PHB1: MsiSpace = MsiSpace {
        base: 0xfd800,
        num_irqs: 0x800,
        num_pes: 256,
    };

    #[test]
    fn ranges_as_observed() {
        assert_eq!(PHB0.msi_count(), 0xff8);
        assert_eq!(PHB0.lsi_base(), 0xfeff8);
        assert_eq!(PHB1.msi_count(), 0x7f8);
        assert_eq!(PHB1.lsi_base(), 0xfdff8);
        assert_eq!(PHB0.girq(2), Ok(0xfe002), "nvme's third MSI-X");
        assert_eq!(PHB1.girq(0x7f8), Err(MsiError::BadIndex));
    }

    #[test]
    fn msi64_address_and_data() {
        let m = PHB0.msi64(0, 0, 1).unwrap();
        assert_eq!((m.address, m.data), (0x1000_0000_0000_0000, 0));
        let m = PHB0.msi64(0, 2, 1).unwrap();
        assert_eq!((m.address, m.data), (0x1000_0000_0000_0000, 2));
        // k = 0x25: bit 5 -> address bit 9, low bits -> data 5.
        let m = PHB0.msi64(1, 0x25, 1).unwrap();
        assert_eq!((m.address, m.data), (0x1000_0000_0000_0200, 5));
        let m = PHB0.msi64(511, 0xff7, 1).unwrap();
        assert_eq!((m.address, m.data), (0x1000_0000_0000_fe00, 0x17));
        assert_ne!(
            m.address,
            MSI64_BASE | (0xff7 << 4),
            "address bits 4-8 are cleared"
        );
    }

    #[test]
    fn msi32_address_and_data() {
        let m = PHB1.msi32(0, 0, 1).unwrap();
        assert_eq!((m.address, m.data), (0xffff_0000, 0));
        let m = PHB1.msi32(3, 0x7f7, 1).unwrap();
        assert_eq!((m.address, m.data), (0xffff_7e00, 0x17));
    }

    #[test]
    fn every_msi_decodes_back_to_its_source() {
        for k in 0..PHB0.msi_count() {
            let m = PHB0.msi64(0, k, 1).unwrap();
            assert_eq!(decode_source(m.address - MSI64_BASE, m.data), k);
            let m = PHB0.msi32(0, k, 1).unwrap();
            assert_eq!(decode_source((m.address - MSI32_BASE) as u64, m.data), k);
        }
    }

    #[test]
    fn checks() {
        assert_eq!(PHB0.msi64(512, 0, 1), Err(MsiError::BadPe));
        assert_eq!(PHB1.msi32(256, 0, 1), Err(MsiError::BadPe));
        assert_eq!(
            PHB0.msi64(0, 0xff8, 1),
            Err(MsiError::BadIndex),
            "an LSI is not an MSI"
        );
        assert_eq!(PHB1.msi32(0, 0x7f8, 1), Err(MsiError::BadIndex));
        assert_eq!(PHB0.msi64(0, 0, 0), Err(MsiError::BadRange));
        assert_eq!(PHB0.msi32(0, 0, 2), Err(MsiError::BadRange));
    }
}
