// SPDX-License-Identifier: Apache-2.0
//! Config-space access through a PHB4/PHB5, with the checks OPAL_PCI_CONFIG_READ/WRITE_*
//! make (skiboot `phb4_pcicfg_check`, `phb4_pcicfg_read`, `phb4_pcicfg_write`).
//!
//! * bdfn 0 is the root port: its config space is memory-mapped at
//!   [`reg::RC_CONFIG`] + offset and takes only 4-byte little-endian accesses, so a narrower
//!   read takes a lane of the word and a narrower write is a read-modify-write.
//! * Every other bdfn goes through CONFIG_ADDRESS (ENABLE | BDFN | REG = offset & !3) and
//!   then an access of the wanted size at CONFIG_DATA + (offset & 3): the data is little-
//!   endian, so the driver byte-swaps the big-endian load of 2 or 4 bytes (skiboot's
//!   `in_le16`/`in_le32`), and a byte lane needs no swap.
//! * A fenced PHB answers every load with all-ones; config reads then return all-ones data
//!   of the access size, as the hardware would (detecting the fence is the EEH code's job).
//!
//! Not done here yet: skiboot's masking of write-1-to-clear status bits in the root port's
//! read-modify-write, and its software cache of the root port's bridge windows (0x20-0x2c).

use crate::{reg, set_field, PhbRegs};

/// A requester id: bus (8 bits), device (5 bits), function (3 bits), packed as PCI does
/// (`bus << 8 | dev << 3 | fn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bdfn(u16);

impl Bdfn {
    /// The root port, bus 0 device 0 function 0.
    pub const ROOT: Bdfn = Bdfn(0);

    /// `None` if `dev` > 31 or `func` > 7.
    pub const fn new(bus: u8, dev: u8, func: u8) -> Option<Bdfn> {
        if dev > 31 || func > 7 {
            return None;
        }
        Some(Bdfn(
            ((bus as u16) << 8) | ((dev as u16) << 3) | func as u16,
        ))
    }

    /// From the packed form, as OPAL calls pass it (`u64`, only the low 16 bits may be set).
    pub const fn from_raw(raw: u64) -> Option<Bdfn> {
        if raw > 0xffff {
            return None;
        }
        Some(Bdfn(raw as u16))
    }

    pub const fn raw(self) -> u16 {
        self.0
    }
    pub const fn bus(self) -> u8 {
        (self.0 >> 8) as u8
    }
    pub const fn dev(self) -> u8 {
        ((self.0 >> 3) & 0x1f) as u8
    }
    pub const fn func(self) -> u8 {
        (self.0 & 7) as u8
    }
    /// Device and function together (the low 8 bits).
    pub const fn devfn(self) -> u8 {
        self.0 as u8
    }
}

/// The size of one config access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessSize {
    Byte = 1,
    Half = 2,
    Word = 4,
}

impl AccessSize {
    /// `None` for anything but 1, 2 or 4.
    pub const fn from_bytes(bytes: u32) -> Option<AccessSize> {
        match bytes {
            1 => Some(AccessSize::Byte),
            2 => Some(AccessSize::Half),
            4 => Some(AccessSize::Word),
            _ => None,
        }
    }

    pub const fn bytes(self) -> u32 {
        self as u32
    }

    /// All-ones of this size: what a fenced PHB or a missing device reads as.
    pub const fn all_ones(self) -> u32 {
        match self {
            AccessSize::Byte => 0xff,
            AccessSize::Half => 0xffff,
            AccessSize::Word => 0xffff_ffff,
        }
    }
}

/// Why a config access was refused before it reached the hardware. The OPAL layer maps
/// `BadSize`, `Misaligned` and `OutOfRange` to OPAL_PARAMETER and `NoDevice` to
/// OPAL_HARDWARE (skiboot's answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CfgError {
    /// The size is not 1, 2 or 4 bytes.
    BadSize,
    /// The offset is not a multiple of the size.
    Misaligned,
    /// The offset is past the 4 KiB extended config space.
    OutOfRange,
    /// Bus 0 holds only the root port (devfn 0); probing another devfn there puts the PHB
    /// in an error state (skiboot `phb4_pcicfg_check`).
    NoDevice,
}

/// Size of the (extended) config space of one function.
pub const CONFIG_SPACE_SIZE: u32 = 4096;

fn check(bdfn: Bdfn, offset: u32, size: u32) -> Result<AccessSize, CfgError> {
    let size = AccessSize::from_bytes(size).ok_or(CfgError::BadSize)?;
    if offset >= CONFIG_SPACE_SIZE {
        return Err(CfgError::OutOfRange);
    }
    if !offset.is_multiple_of(size.bytes()) {
        return Err(CfgError::Misaligned);
    }
    if bdfn.bus() == 0 && bdfn.devfn() != 0 {
        return Err(CfgError::NoDevice);
    }
    Ok(size)
}

/// Swap a big-endian load of `size` bytes into the little-endian value it carries.
fn from_le(size: AccessSize, raw: u32) -> u32 {
    match size {
        AccessSize::Byte => raw & 0xff,
        AccessSize::Half => (raw as u16).swap_bytes() as u32,
        AccessSize::Word => raw.swap_bytes(),
    }
}

/// The inverse of [`from_le`] (the same swap).
fn to_le(size: AccessSize, value: u32) -> u32 {
    from_le(size, value)
}

fn config_address(bdfn: Bdfn, offset: u32, pe: u16) -> u64 {
    reg::ca::ENABLE
        | set_field(reg::ca::BDFN, bdfn.raw() as u64)
        | set_field(reg::ca::REG, (offset & !3) as u64)
        | set_field(reg::ca::PE, pe as u64)
}

/// Read `size` bytes (1, 2 or 4) at `offset` of `bdfn`'s config space. The value is the
/// little-endian config data, zero-extended. The cycle carries PE 0; see [`config_read_pe`].
pub fn config_read<R: PhbRegs + ?Sized>(
    regs: &mut R,
    bdfn: Bdfn,
    offset: u32,
    size: u32,
) -> Result<u32, CfgError> {
    config_read_pe(regs, bdfn, 0, offset, size)
}

/// [`config_read`] with the PE the RTT gives `bdfn` in CONFIG_ADDRESS, as skiboot does (the
/// PHB charges a config error to that PE; QEMU ignores the field).
pub fn config_read_pe<R: PhbRegs + ?Sized>(
    regs: &mut R,
    bdfn: Bdfn,
    pe: u16,
    offset: u32,
    size: u32,
) -> Result<u32, CfgError> {
    let size = check(bdfn, offset, size)?;
    if bdfn == Bdfn::ROOT {
        let word = from_le(
            AccessSize::Word,
            regs.read_narrow(reg::RC_CONFIG + (offset & !3), AccessSize::Word),
        );
        let shift = 8 * (offset & 3);
        return Ok((word >> shift) & size.all_ones());
    }
    regs.write64(reg::CONFIG_ADDRESS, config_address(bdfn, offset, pe));
    let raw = regs.read_narrow(reg::CONFIG_DATA + (offset & 3), size);
    Ok(from_le(size, raw))
}

/// Write the low `size` bytes (1, 2 or 4) of `value` at `offset` of `bdfn`'s config space.
pub fn config_write<R: PhbRegs + ?Sized>(
    regs: &mut R,
    bdfn: Bdfn,
    offset: u32,
    size: u32,
    value: u32,
) -> Result<(), CfgError> {
    config_write_pe(regs, bdfn, 0, offset, size, value)
}

/// [`config_write`] with `bdfn`'s PE in CONFIG_ADDRESS (see [`config_read_pe`]).
pub fn config_write_pe<R: PhbRegs + ?Sized>(
    regs: &mut R,
    bdfn: Bdfn,
    pe: u16,
    offset: u32,
    size: u32,
    value: u32,
) -> Result<(), CfgError> {
    let size = check(bdfn, offset, size)?;
    let value = value & size.all_ones();
    if bdfn == Bdfn::ROOT {
        let at = reg::RC_CONFIG + (offset & !3);
        let word = if size == AccessSize::Word {
            value
        } else {
            let old = from_le(AccessSize::Word, regs.read_narrow(at, AccessSize::Word));
            let shift = 8 * (offset & 3);
            (old & !(size.all_ones() << shift)) | (value << shift)
        };
        regs.write_narrow(at, AccessSize::Word, to_le(AccessSize::Word, word));
        return Ok(());
    }
    regs.write64(reg::CONFIG_ADDRESS, config_address(bdfn, offset, pe));
    regs.write_narrow(reg::CONFIG_DATA + (offset & 3), size, to_le(size, value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PhbModel;

    fn bdfn(bus: u8, dev: u8, func: u8) -> Bdfn {
        Bdfn::new(bus, dev, func).unwrap()
    }

    #[test]
    fn bdfn_packing() {
        let b = bdfn(0x12, 0x1f, 7);
        assert_eq!(b.raw(), 0x12ff);
        assert_eq!((b.bus(), b.dev(), b.func(), b.devfn()), (0x12, 31, 7, 0xff));
        assert_eq!(bdfn(1, 2, 3).raw(), 0x0113);
        assert_eq!(Bdfn::new(0, 32, 0), None);
        assert_eq!(Bdfn::new(0, 0, 8), None);
        assert_eq!(Bdfn::from_raw(0x1_0000), None);
        assert_eq!(Bdfn::from_raw(0xffff).map(Bdfn::bus), Some(0xff));
    }

    #[test]
    fn checks_refuse_bad_sizes_offsets_and_bus0() {
        let mut m = PhbModel::new();
        let ep = bdfn(1, 0, 0);
        m.add_endpoint(ep, 0x1af4, 0x1001);
        for size in [0, 3, 5, 8] {
            assert_eq!(config_read(&mut m, ep, 0, size), Err(CfgError::BadSize));
            assert_eq!(config_write(&mut m, ep, 0, size, 0), Err(CfgError::BadSize));
        }
        assert_eq!(config_read(&mut m, ep, 1, 2), Err(CfgError::Misaligned));
        assert_eq!(config_read(&mut m, ep, 2, 4), Err(CfgError::Misaligned));
        assert_eq!(
            config_write(&mut m, ep, 0x43, 2, 0),
            Err(CfgError::Misaligned)
        );
        assert_eq!(config_read(&mut m, ep, 4096, 1), Err(CfgError::OutOfRange));
        assert_eq!(
            config_read(&mut m, ep, 0x1000, 4),
            Err(CfgError::OutOfRange)
        );
        assert_eq!(
            config_read(&mut m, ep, 0xffc, 4),
            Ok(0),
            "last dword is fine"
        );
        assert_eq!(config_read(&mut m, ep, 0xfff, 1), Ok(0));
        assert_eq!(
            config_read(&mut m, bdfn(0, 0, 1), 0, 4),
            Err(CfgError::NoDevice)
        );
        assert_eq!(
            config_read(&mut m, bdfn(0, 1, 0), 0, 4),
            Err(CfgError::NoDevice)
        );
        assert_eq!(
            m.config_accesses(),
            2,
            "refused accesses never touch the PHB"
        );
    }

    #[test]
    fn byte_half_word_lanes_of_an_endpoint() {
        let mut m = PhbModel::new();
        let ep = bdfn(1, 0, 0);
        m.add_endpoint(ep, 0x1af4, 0x1001);
        // Config space is little-endian: vendor in bytes 0-1, device in 2-3.
        assert_eq!(config_read(&mut m, ep, 0, 4), Ok(0x1001_1af4));
        assert_eq!(config_read(&mut m, ep, 0, 2), Ok(0x1af4));
        assert_eq!(config_read(&mut m, ep, 2, 2), Ok(0x1001));
        assert_eq!(config_read(&mut m, ep, 0, 1), Ok(0xf4));
        assert_eq!(config_read(&mut m, ep, 1, 1), Ok(0x1a));
        assert_eq!(config_read(&mut m, ep, 3, 1), Ok(0x10));
        assert_ne!(
            config_read(&mut m, ep, 0, 2),
            Ok(0xf41a),
            "a missing swap would show"
        );

        config_write(&mut m, ep, 0x60, 4, 0x4433_2211).unwrap();
        assert_eq!(m.config_bytes(ep, 0x60, 4), [0x11, 0x22, 0x33, 0x44]);
        config_write(&mut m, ep, 0x62, 2, 0xbbaa).unwrap();
        assert_eq!(m.config_bytes(ep, 0x60, 4), [0x11, 0x22, 0xaa, 0xbb]);
        config_write(&mut m, ep, 0x61, 1, 0xcc).unwrap();
        assert_eq!(m.config_bytes(ep, 0x60, 4), [0x11, 0xcc, 0xaa, 0xbb]);
        config_write(&mut m, ep, 0x64, 1, 0x1ff).unwrap();
        assert_eq!(
            m.config_bytes(ep, 0x64, 2),
            [0xff, 0x00],
            "only the low byte is written"
        );
        assert_eq!(config_read(&mut m, ep, 0x60, 4), Ok(0xbbaa_cc11));
    }

    #[test]
    fn config_address_register_is_programmed() {
        let mut m = PhbModel::new();
        let ep = bdfn(0x12, 3, 5);
        m.add_endpoint(ep, 0x8086, 0x10d3);
        config_read(&mut m, ep, 0x2e, 2).unwrap();
        let ca = m.read_reg(reg::CONFIG_ADDRESS);
        assert_eq!(
            ca,
            0x8000_0000_0000_0000 | (0x121d_u64 << 44) | (0x2c_u64 << 32)
        );
    }

    #[test]
    fn missing_device_reads_all_ones_and_drops_writes() {
        let mut m = PhbModel::new();
        let ghost = bdfn(3, 0, 0);
        assert_eq!(config_read(&mut m, ghost, 0, 4), Ok(0xffff_ffff));
        assert_eq!(config_read(&mut m, ghost, 0, 2), Ok(0xffff));
        assert_eq!(config_read(&mut m, ghost, 1, 1), Ok(0xff));
        assert_eq!(config_write(&mut m, ghost, 0x10, 4, 0), Ok(()));
    }

    #[test]
    fn root_port_through_the_rc_window() {
        let mut m = PhbModel::new();
        // PHB4 root port: IBM 0x1014, device 0x04c1 (QEMU `pnv-phb-root-port`).
        assert_eq!(config_read(&mut m, Bdfn::ROOT, 0, 4), Ok(0x04c1_1014));
        assert_eq!(config_read(&mut m, Bdfn::ROOT, 2, 2), Ok(0x04c1));
        assert_eq!(
            config_read(&mut m, Bdfn::ROOT, 0xe, 1),
            Ok(0x01),
            "type 1 header"
        );
        // Byte write = read-modify-write of the word; the neighbours survive.
        config_write(&mut m, Bdfn::ROOT, 0x18, 4, 0x00ff_0100).unwrap();
        config_write(&mut m, Bdfn::ROOT, 0x19, 1, 0x05).unwrap();
        assert_eq!(config_read(&mut m, Bdfn::ROOT, 0x18, 4), Ok(0x00ff_0500));
        config_write(&mut m, Bdfn::ROOT, 0x1a, 2, 0x0007).unwrap();
        assert_eq!(config_read(&mut m, Bdfn::ROOT, 0x18, 4), Ok(0x0007_0500));
        assert_eq!(
            m.read_reg(reg::CONFIG_ADDRESS),
            0,
            "CONFIG_ADDRESS not used for bdfn 0"
        );
    }

    #[test]
    fn fenced_phb_reads_all_ones() {
        let mut m = PhbModel::new();
        let ep = bdfn(1, 0, 0);
        m.add_endpoint(ep, 0x1af4, 0x1001);
        m.set_fenced(true);
        assert_eq!(config_read(&mut m, ep, 0, 4), Ok(0xffff_ffff));
        assert_eq!(config_read(&mut m, ep, 0, 2), Ok(0xffff));
        assert_eq!(config_read(&mut m, ep, 2, 1), Ok(0xff));
        assert_eq!(config_read(&mut m, Bdfn::ROOT, 0, 4), Ok(0xffff_ffff));
        assert_eq!(config_read(&mut m, Bdfn::ROOT, 0xe, 1), Ok(0xff));
        config_write(&mut m, ep, 0, 4, 0).unwrap();
        m.set_fenced(false);
        assert_eq!(
            config_read(&mut m, ep, 0, 4),
            Ok(0x1001_1af4),
            "writes dropped while fenced"
        );
    }
}
