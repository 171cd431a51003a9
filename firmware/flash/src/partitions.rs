// SPDX-License-Identifier: Apache-2.0
//! PNOR partitions over a [`Flash`]: the FFS table read and checked once
//! ([`PartitionTable::read`]), then reads and writes of a partition's contents by offset
//! in its data, the 8+1 ECC decoded on the way in and encoded on the way out for the
//! partitions flagged with it (an ECC partition of `n` flash bytes holds `n / 9 * 8`).
use pnor::{ecc, ffs};

use crate::{in_bounds, Error, Flash};

/// Partitions we keep (skiboot's P9 layouts have about 30).
pub const MAX_PARTITIONS: usize = 48;
/// Largest table we read (a 32 KiB `part` is the usual).
pub const MAX_TABLE: usize = 0x8000;

/// One partition of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    name: [u8; ffs::NAME_MAX + 1],
    /// Flash offset and length in bytes (ECC bytes included).
    pub offset: u64,
    pub len: u64,
    /// Bytes in use on flash as the table says (0: not recorded).
    pub actual: u64,
    pub ecc: bool,
    pub readonly: bool,
}

impl Partition {
    pub fn name(&self) -> &str {
        let n = self
            .name
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(ffs::NAME_MAX);
        core::str::from_utf8(&self.name[..n]).unwrap_or("?")
    }

    /// Bytes of data it holds.
    pub fn data_len(&self) -> u64 {
        if self.ecc {
            self.len / ecc::GROUP_BYTES as u64 * ecc::DATA_BYTES as u64
        } else {
            self.len
        }
    }

    /// Bytes of data in use: `actual` converted out of ECC, or the whole partition.
    pub fn used_len(&self) -> u64 {
        match self.actual {
            0 => self.data_len(),
            a if self.ecc => a / ecc::GROUP_BYTES as u64 * ecc::DATA_BYTES as u64,
            a => a,
        }
    }
}

/// The checked table.
#[derive(Debug)]
pub struct PartitionTable {
    pub block_size: u32,
    pub flash_len: u64,
    parts: [Option<Partition>; MAX_PARTITIONS],
}

impl PartitionTable {
    /// Reads the table at flash offset 0 into `scratch` (at least [`MAX_TABLE`] bytes)
    /// and checks it as skiboot's `ffs_init` does.
    pub fn read<F: Flash + ?Sized>(flash: &mut F, scratch: &mut [u8]) -> Result<Self, Error> {
        let header_len = ffs::HEADER_LEN;
        flash.read(0, &mut scratch[..header_len])?;
        let header = ffs::Header::parse(&scratch[..header_len]).map_err(Error::Toc)?;
        let used = header.used_len();
        if used > scratch.len().min(MAX_TABLE) {
            return Err(Error::Toc(ffs::Error::Truncated {
                needed: used,
                len: scratch.len().min(MAX_TABLE),
            }));
        }
        flash.read(0, &mut scratch[..used])?;
        let toc = ffs::Toc::parse(&scratch[..used], flash.size()).map_err(Error::Toc)?;
        let mut parts = [None; MAX_PARTITIONS];
        for (slot, e) in parts.iter_mut().zip(toc.entries()) {
            let bs = header.block_size;
            *slot = Some(Partition {
                name: e.name,
                offset: e.offset(bs),
                len: e.len(bs),
                actual: u64::from(e.actual),
                ecc: e.has_ecc(),
                readonly: e.misc_flags & ffs::MISC_READONLY != 0,
            });
        }
        Ok(Self {
            block_size: header.block_size,
            flash_len: header.flash_len(),
            parts,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Partition> {
        self.parts.iter().flatten()
    }

    /// The partition called `name` (compared as skiboot does, on 15 characters).
    pub fn find(&self, name: &str) -> Option<Partition> {
        let n = &name.as_bytes()[..name.len().min(ffs::NAME_MAX)];
        self.iter().find(|p| p.name().as_bytes() == n).copied()
    }
}

/// What a read corrected on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Single-bit errors the ECC corrected.
    pub corrected: u32,
}

/// Reads `buf.len()` data bytes from `offset` in the partition's data. ECC partitions
/// need an 8-byte aligned offset.
pub fn read<F: Flash + ?Sized>(
    flash: &mut F,
    part: &Partition,
    offset: u64,
    buf: &mut [u8],
) -> Result<ReadReport, Error> {
    if !in_bounds(offset, buf.len() as u64, part.data_len()) {
        return Err(Error::OutOfRange);
    }
    let mut report = ReadReport::default();
    if !part.ecc {
        flash.read(part.offset + offset, buf)?;
        return Ok(report);
    }
    if !offset.is_multiple_of(ecc::DATA_BYTES as u64) {
        return Err(Error::OutOfRange);
    }
    const GROUPS: usize = 64;
    let mut raw = [0u8; GROUPS * ecc::GROUP_BYTES];
    let mut data = [0u8; GROUPS * ecc::DATA_BYTES];
    let mut done = 0usize;
    while done < buf.len() {
        let groups = (buf.len() - done).div_ceil(ecc::DATA_BYTES).min(GROUPS);
        let raw_at = part.offset + (offset + done as u64) / 8 * 9;
        let raw = &mut raw[..groups * ecc::GROUP_BYTES];
        flash.read(raw_at, raw)?;
        ecc::decode(raw, &mut data, |_| report.corrected += 1).map_err(|e| match e {
            ecc::Error::Uncorrectable { offset, .. } => Error::Ecc {
                flash_offset: raw_at + offset as u64,
            },
            ecc::Error::BufferTooSmall { .. } => Error::OutOfRange,
        })?;
        let n = (buf.len() - done).min(groups * ecc::DATA_BYTES);
        buf[done..done + n].copy_from_slice(&data[..n]);
        done += n;
    }
    Ok(report)
}

/// Writes `data` at `offset` in the partition's data. ECC partitions need the offset and
/// length 8-byte aligned (each group's check byte covers exactly its 8 bytes).
pub fn write<F: Flash + ?Sized>(
    flash: &mut F,
    part: &Partition,
    offset: u64,
    data: &[u8],
) -> Result<(), Error> {
    if part.readonly {
        return Err(Error::ReadOnly);
    }
    if !in_bounds(offset, data.len() as u64, part.data_len()) {
        return Err(Error::OutOfRange);
    }
    if !part.ecc {
        return flash.write(part.offset + offset, data);
    }
    if !offset.is_multiple_of(8) || !data.len().is_multiple_of(8) {
        return Err(Error::OutOfRange);
    }
    let mut raw = [0u8; 64 * ecc::GROUP_BYTES];
    for (i, chunk) in data.chunks(64 * ecc::DATA_BYTES).enumerate() {
        let n = ecc::encode(chunk, &mut raw).map_err(|_| Error::OutOfRange)?;
        let at = part.offset + (offset + (i * 64 * ecc::DATA_BYTES) as u64) / 8 * 9;
        flash.write(at, &raw[..n])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::direct::DirectFw;
    use crate::sim::RamFw;

    /// A 256 KiB flash, 4 KiB blocks: `part`, `PLAIN` (8 KiB), `ECCD` (9 KiB, ECC) and
    /// `RO` (4 KiB, read-only).
    fn image() -> Vec<u8> {
        let mut img = vec![0xffu8; 0x4_0000];
        let bs = 0x1000;
        let mut entries = vec![];
        let mut part = ffs::Entry::new("part", 0, 1).unwrap();
        part.kind = ffs::TYPE_PARTITION;
        entries.push(part);
        entries.push(ffs::Entry::new("PLAIN", 1, 2).unwrap());
        let mut e = ffs::Entry::new("ECCD", 4, 9).unwrap();
        e.data_integrity = ffs::DATAINTEG_ECC;
        entries.push(e);
        let mut r = ffs::Entry::new("RO", 13, 1).unwrap();
        r.misc_flags = ffs::MISC_READONLY;
        entries.push(r);
        let h = ffs::Header {
            size: 1,
            entry_count: entries.len() as u32,
            block_size: bs,
            block_count: 0x40,
        };
        h.write(&mut img);
        for (i, e) in entries.iter_mut().enumerate() {
            e.id = i as u32 + 1;
            e.write(&mut img[ffs::HEADER_LEN + i * ffs::ENTRY_LEN..]);
        }
        let data: Vec<u8> = (0..0x2000u32).map(|i| (i * 3) as u8).collect();
        ecc::encode(&data, &mut img[0x4000..0x4000 + 0x2400]).unwrap();
        img
    }

    fn flash(img: Vec<u8>) -> DirectFw<RamFw> {
        let len = img.len() as u64;
        DirectFw::new(RamFw { mem: img }, 0, len)
    }

    #[test]
    fn the_table_is_read_and_partitions_found() {
        let mut f = flash(image());
        let mut scratch = vec![0u8; MAX_TABLE];
        let t = PartitionTable::read(&mut f, &mut scratch).unwrap();
        let names: Vec<&str> = t.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["part", "PLAIN", "ECCD", "RO"]);
        let e = t.find("ECCD").unwrap();
        assert_eq!(
            (e.offset, e.len, e.data_len(), e.ecc),
            (0x4000, 0x9000, 0x8000, true)
        );
        assert!(t.find("RO").unwrap().readonly);
        assert_eq!(t.find("NVRAM"), None);
    }

    #[test]
    fn a_corrupt_or_erased_table_is_reported() {
        let mut img = image();
        img[0x20] ^= 1;
        let mut scratch = vec![0u8; MAX_TABLE];
        assert!(matches!(
            PartitionTable::read(&mut flash(img), &mut scratch),
            Err(Error::Toc(ffs::Error::HeaderChecksum(_)))
        ));
        assert_eq!(
            PartitionTable::read(&mut flash(vec![0xff; 0x4_0000]), &mut scratch).unwrap_err(),
            Error::Toc(ffs::Error::Erased)
        );
        let mut img = image();
        img[ffs::HEADER_LEN + ffs::ENTRY_LEN + 0x11] ^= 0x40;
        assert!(matches!(
            PartitionTable::read(&mut flash(img), &mut scratch),
            Err(Error::Toc(ffs::Error::EntryChecksum { index: 1, .. }))
        ));
    }

    #[test]
    fn ecc_reads_decode_and_correct_single_bits() {
        let mut img = image();
        img[0x4000 + 9 * 5 + 2] ^= 0x10;
        let mut f = flash(img);
        let mut scratch = vec![0u8; MAX_TABLE];
        let t = PartitionTable::read(&mut f, &mut scratch).unwrap();
        let e = t.find("ECCD").unwrap();
        let mut buf = vec![0u8; 0x1000];
        let r = read(&mut f, &e, 0x8, &mut buf).unwrap();
        assert_eq!(r.corrected, 1);
        let want: Vec<u8> = (8..0x1008u32).map(|i| (i * 3) as u8).collect();
        assert_eq!(buf, want);
        assert_eq!(read(&mut f, &e, 4, &mut buf[..8]), Err(Error::OutOfRange));
    }

    #[test]
    fn a_double_bit_error_names_its_flash_offset() {
        let mut img = image();
        img[0x4000 + 9 * 100] ^= 0x03;
        let mut f = flash(img);
        let mut scratch = vec![0u8; MAX_TABLE];
        let t = PartitionTable::read(&mut f, &mut scratch).unwrap();
        let e = t.find("ECCD").unwrap();
        let mut buf = vec![0u8; 0x2000];
        assert_eq!(
            read(&mut f, &e, 0, &mut buf),
            Err(Error::Ecc {
                flash_offset: 0x4000 + 900
            })
        );
    }

    #[test]
    fn writes_round_trip_and_respect_the_flags() {
        let mut f = flash(image());
        let mut scratch = vec![0u8; MAX_TABLE];
        let t = PartitionTable::read(&mut f, &mut scratch).unwrap();
        let (p, e, ro) = (
            t.find("PLAIN").unwrap(),
            t.find("ECCD").unwrap(),
            t.find("RO").unwrap(),
        );
        write(&mut f, &p, 0x1ffc, b"abcd").unwrap();
        let data: Vec<u8> = (0..0x300u32).map(|i| (i ^ 0x5a) as u8).collect();
        write(&mut f, &e, 0x7000, &data).unwrap();
        let mut back = vec![0u8; 0x300];
        assert_eq!(read(&mut f, &e, 0x7000, &mut back).unwrap().corrected, 0);
        assert_eq!(back, data);
        let mut four = [0u8; 4];
        read(&mut f, &p, 0x1ffc, &mut four).unwrap();
        assert_eq!(&four, b"abcd");
        assert_eq!(write(&mut f, &ro, 0, b"x"), Err(Error::ReadOnly));
        assert_eq!(write(&mut f, &p, 0x1ffd, b"abcd"), Err(Error::OutOfRange));
        assert_eq!(
            write(&mut f, &e, 0x7004, &data[..8]),
            Err(Error::OutOfRange)
        );
        assert_eq!(
            write(&mut f, &e, 0x7ff8, &data[..16]),
            Err(Error::OutOfRange)
        );
    }
}
