// SPDX-License-Identifier: Apache-2.0
//! Mambo's "bogus disks": block devices the simulator backs with host files (disk 0 is
//! `ROOTDISK`, which skiboot uses as the system flash when it holds a PNOR image). They
//! are numbered 0, 1, ... and the first id whose status is negative ends the list.
//!
//! Transfers are in 512-byte sectors: r4 = buffer, r5 = first sector, r6 =
//! `(nsect << 16) | disk id` (callthrus 116/117). [`BogusDisk::read`] and
//! [`BogusDisk::write`] take byte offsets and lengths, so a partial first or last sector
//! goes through a one-sector bounce buffer (a write reads the sector, changes its part
//! and writes it back); whole sectors go straight to or from the caller's buffer.

use crate::callthru::{Buffer, SimCallthru, BOGUS_DISK_INFO, BOGUS_DISK_READ, BOGUS_DISK_WRITE};

pub const SECTOR_SIZE: usize = 512;

/// The disk id has 16 bits in r6.
pub const MAX_DISKS: u32 = 1 << 16;

/// Sectors per callthru, at most. r6 leaves 48 bits for the count, but what the simulator
/// accepts is not documented; 16 bits (32 MiB) is what we are sure fits a transfer.
pub const MAX_SECTORS_PER_CALL: u64 = 0xffff;

/// What BOGUS_DISK_INFO (r4) asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum InfoOp {
    Sync = 0,
    /// Negative: no such disk.
    Status = 1,
    BlockSize = 2,
    /// In KiB.
    DeviceSize = 3,
    Change = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskError {
    /// Status < 0: the simulator has no disk with this id.
    NoSuchDisk,
    /// The device size query answered this negative value.
    SizeUnknown(i64),
    /// The transfer would reach past the end of the disk.
    OutOfRange,
    /// A read or write callthru answered this negative value.
    Transfer(i64),
}

/// One bogus disk that answered its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BogusDisk {
    id: u16,
    size: u64,
}

/// Asks disk `id` one INFO question: r4 = op, r5 = id.
pub fn info(sim: &mut impl SimCallthru, op: InfoOp, id: u16) -> i64 {
    sim.call(BOGUS_DISK_INFO, [op as u64, u64::from(id), 0], Buffer::None)
}

impl BogusDisk {
    /// Checks that disk `id` exists and learns its size.
    pub fn open(sim: &mut impl SimCallthru, id: u16) -> Result<BogusDisk, DiskError> {
        if info(sim, InfoOp::Status, id) < 0 {
            return Err(DiskError::NoSuchDisk);
        }
        let kib = info(sim, InfoOp::DeviceSize, id);
        let kib = u64::try_from(kib).map_err(|_| DiskError::SizeUnknown(kib))?;
        Ok(BogusDisk {
            id,
            size: kib * 1024,
        })
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    /// In bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads `buf.len()` bytes from byte `offset`.
    pub fn read(
        &self,
        sim: &mut impl SimCallthru,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), DiskError> {
        self.check_range(offset, buf.len())?;
        let mut at = offset;
        let mut rest = buf;
        while !rest.is_empty() {
            let within = (at % SECTOR_SIZE as u64) as usize;
            let sector = at / SECTOR_SIZE as u64;
            let done = if within != 0 || rest.len() < SECTOR_SIZE {
                let mut bounce = [0u8; SECTOR_SIZE];
                self.transfer(sim, BOGUS_DISK_READ, sector, Buffer::FromSim(&mut bounce))?;
                let n = rest.len().min(SECTOR_SIZE - within);
                rest[..n].copy_from_slice(&bounce[within..within + n]);
                n
            } else {
                let n = whole_sectors(rest.len());
                self.transfer(
                    sim,
                    BOGUS_DISK_READ,
                    sector,
                    Buffer::FromSim(&mut rest[..n]),
                )?;
                n
            };
            rest = &mut rest[done..];
            at += done as u64;
        }
        Ok(())
    }

    /// Writes `data` at byte `offset`; a partial sector keeps the bytes around it.
    pub fn write(
        &self,
        sim: &mut impl SimCallthru,
        offset: u64,
        data: &[u8],
    ) -> Result<(), DiskError> {
        self.check_range(offset, data.len())?;
        let mut at = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let within = (at % SECTOR_SIZE as u64) as usize;
            let sector = at / SECTOR_SIZE as u64;
            let done = if within != 0 || rest.len() < SECTOR_SIZE {
                let mut bounce = [0u8; SECTOR_SIZE];
                self.transfer(sim, BOGUS_DISK_READ, sector, Buffer::FromSim(&mut bounce))?;
                let n = rest.len().min(SECTOR_SIZE - within);
                bounce[within..within + n].copy_from_slice(&rest[..n]);
                self.transfer(sim, BOGUS_DISK_WRITE, sector, Buffer::ToSim(&bounce))?;
                n
            } else {
                let n = whole_sectors(rest.len());
                self.transfer(sim, BOGUS_DISK_WRITE, sector, Buffer::ToSim(&rest[..n]))?;
                n
            };
            rest = &rest[done..];
            at += done as u64;
        }
        Ok(())
    }

    fn check_range(&self, offset: u64, len: usize) -> Result<(), DiskError> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(DiskError::OutOfRange),
        }
    }

    /// One callthru for the whole sectors `buffer` holds, starting at `sector`.
    fn transfer(
        &self,
        sim: &mut impl SimCallthru,
        cmd: u64,
        sector: u64,
        buffer: Buffer<'_>,
    ) -> Result<(), DiskError> {
        let nsect = (buffer.len() / SECTOR_SIZE) as u64;
        debug_assert!(buffer.len().is_multiple_of(SECTOR_SIZE) && nsect <= MAX_SECTORS_PER_CALL);
        let address = buffer.address();
        let packed = nsect << 16 | u64::from(self.id);
        match sim.call(cmd, [address, sector, packed], buffer) {
            rc if rc < 0 => Err(DiskError::Transfer(rc)),
            _ => Ok(()),
        }
    }
}

/// The most bytes of `len` one callthru moves: whole sectors, at most
/// `MAX_SECTORS_PER_CALL` of them.
fn whole_sectors(len: usize) -> usize {
    let sectors = (len / SECTOR_SIZE).min(MAX_SECTORS_PER_CALL as usize);
    sectors * SECTOR_SIZE
}

/// Every disk the simulator has, from id 0 up to the first one that does not exist.
/// A disk that exists but cannot say its size is yielded as an error, and ends the list.
pub fn disks<S: SimCallthru>(sim: &mut S) -> Disks<'_, S> {
    Disks { sim, next: Some(0) }
}

pub struct Disks<'a, S> {
    sim: &'a mut S,
    next: Option<u16>,
}

impl<S: SimCallthru> Iterator for Disks<'_, S> {
    type Item = Result<BogusDisk, DiskError>;

    fn next(&mut self) -> Option<Self::Item> {
        let id = self.next?;
        let opened = BogusDisk::open(self.sim, id);
        self.next = match opened {
            Ok(_) => id.checked_add(1),
            Err(_) => None,
        };
        match opened {
            Err(DiskError::NoSuchDisk) => None,
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Arg, DiskSim, ScriptedSim, Transfer};
    use std::vec::Vec;

    /// A disk image whose every byte says where it is.
    fn image(kib: usize, seed: u8) -> Vec<u8> {
        (0..kib * 1024)
            .map(|i| (i as u8).wrapping_mul(7) ^ (i >> 9) as u8 ^ seed)
            .collect()
    }

    fn read_transfer(sector: u64, nsect: u64, disk: u64) -> Transfer {
        Transfer {
            cmd: BOGUS_DISK_READ,
            sector,
            nsect,
            disk,
        }
    }

    fn write_transfer(sector: u64, nsect: u64, disk: u64) -> Transfer {
        Transfer {
            cmd: BOGUS_DISK_WRITE,
            sector,
            nsect,
            disk,
        }
    }

    #[test]
    fn open_asks_status_then_size_in_kib() {
        let mut sim = ScriptedSim::new();
        sim.expect(BOGUS_DISK_INFO, [Arg::Is(1), Arg::Is(3), Arg::Is(0)], 0);
        sim.expect(
            BOGUS_DISK_INFO,
            [Arg::Is(3), Arg::Is(3), Arg::Is(0)],
            64 * 1024,
        );
        let disk = BogusDisk::open(&mut sim, 3).unwrap();
        assert_eq!((disk.id(), disk.size()), (3, 64 << 20));
    }

    #[test]
    fn negative_status_is_no_disk_and_negative_size_an_error() {
        let mut sim = ScriptedSim::new();
        sim.expect(BOGUS_DISK_INFO, [Arg::Is(1), Arg::Is(0), Arg::Is(0)], -1);
        assert_eq!(BogusDisk::open(&mut sim, 0), Err(DiskError::NoSuchDisk));
        sim.expect(BOGUS_DISK_INFO, [Arg::Is(1), Arg::Is(1), Arg::Is(0)], 0);
        sim.expect(BOGUS_DISK_INFO, [Arg::Is(3), Arg::Is(1), Arg::Is(0)], -5);
        assert_eq!(
            BogusDisk::open(&mut sim, 1),
            Err(DiskError::SizeUnknown(-5))
        );
    }

    #[test]
    fn enumeration_stops_at_the_first_missing_disk() {
        let mut sim = DiskSim::new(vec![image(4, 0), image(8, 1)]);
        let found: Vec<_> = disks(&mut sim).collect();
        assert_eq!(
            found,
            [
                Ok(BogusDisk { id: 0, size: 4096 }),
                Ok(BogusDisk { id: 1, size: 8192 })
            ]
        );
        // Status and size for 0 and 1, then only the status of 2.
        assert_eq!(sim.info_calls, [(1, 0), (3, 0), (1, 1), (3, 1), (1, 2)]);
    }

    #[test]
    fn no_disks_at_all() {
        let mut sim = DiskSim::new(vec![]);
        assert_eq!(disks(&mut sim).count(), 0);
    }

    #[test]
    fn an_unsized_disk_ends_the_list_with_its_error() {
        let mut sim = ScriptedSim::new();
        sim.expect(BOGUS_DISK_INFO, [Arg::Is(1), Arg::Is(0), Arg::Is(0)], 0);
        sim.expect(BOGUS_DISK_INFO, [Arg::Is(3), Arg::Is(0), Arg::Is(0)], -2);
        let found: Vec<_> = disks(&mut sim).collect();
        assert_eq!(found, [Err(DiskError::SizeUnknown(-2))]);
    }

    #[test]
    fn aligned_read_is_one_callthru_into_the_callers_buffer() {
        let mut sim = ScriptedSim::new();
        let disk = BogusDisk {
            id: 2,
            size: 1 << 20,
        };
        let data: Vec<u8> = (0..1024).map(|i| i as u8).collect();
        // Sector 4, 2 sectors of disk 2: r6 = 2 << 16 | 2.
        sim.expect_filling(
            BOGUS_DISK_READ,
            [Arg::BufferAddress, Arg::Is(4), Arg::Is(0x2_0002)],
            0,
            &data,
        );
        let mut buf = vec![0u8; 1024];
        disk.read(&mut sim, 2048, &mut buf).unwrap();
        assert_eq!(buf, data);
    }

    #[test]
    fn unaligned_read_uses_partial_sectors_at_both_ends() {
        let content = image(16, 3);
        let mut sim = DiskSim::new(vec![image(4, 9), content.clone()]);
        let disk = BogusDisk::open(&mut sim, 1).unwrap();
        let mut buf = vec![0u8; 1500];
        disk.read(&mut sim, 700, &mut buf).unwrap();
        assert_eq!(buf, content[700..2200]);
        // 700..1024 from sector 1, 1024..2048 as two whole sectors, 2048..2200 from 4.
        assert_eq!(
            sim.transfers,
            [
                read_transfer(1, 1, 1),
                read_transfer(2, 2, 1),
                read_transfer(4, 1, 1)
            ]
        );
    }

    #[test]
    fn read_inside_one_sector() {
        let content = image(4, 5);
        let mut sim = DiskSim::new(vec![content.clone()]);
        let disk = BogusDisk::open(&mut sim, 0).unwrap();
        let mut buf = [0u8; 10];
        disk.read(&mut sim, 1030, &mut buf).unwrap();
        assert_eq!(buf, content[1030..1040]);
        assert_eq!(sim.transfers, [read_transfer(2, 1, 0)]);
    }

    #[test]
    fn unaligned_write_keeps_the_bytes_around_it() {
        let before = image(8, 1);
        let mut sim = DiskSim::new(vec![before.clone()]);
        let disk = BogusDisk::open(&mut sim, 0).unwrap();
        let data = vec![0xa5u8; 1100];
        disk.write(&mut sim, 300, &data).unwrap();
        let mut expected = before;
        expected[300..1400].copy_from_slice(&data);
        assert_eq!(sim.disks[0], expected);
        // Head: read-modify-write sector 0; middle: sector 1 whole; tail: sector 2.
        assert_eq!(
            sim.transfers,
            [
                read_transfer(0, 1, 0),
                write_transfer(0, 1, 0),
                write_transfer(1, 1, 0),
                read_transfer(2, 1, 0),
                write_transfer(2, 1, 0),
            ]
        );
    }

    #[test]
    fn aligned_write_sends_the_callers_bytes() {
        let mut sim = ScriptedSim::new();
        let disk = BogusDisk {
            id: 1,
            size: 1 << 20,
        };
        sim.expect(
            BOGUS_DISK_WRITE,
            [Arg::BufferAddress, Arg::Is(8), Arg::Is(0x1_0001)],
            0,
        );
        let data = [0x3cu8; 512];
        disk.write(&mut sim, 4096, &data).unwrap();
        assert_eq!(sim.sent(), [data.to_vec()]);
    }

    #[test]
    fn long_transfers_are_split_to_fit_sixteen_bits_of_count() {
        let sectors = MAX_SECTORS_PER_CALL as usize + 3;
        let mut sim = DiskSim::new(vec![vec![0x11; sectors * SECTOR_SIZE]]);
        let disk = BogusDisk::open(&mut sim, 0).unwrap();
        let mut buf = vec![0u8; sectors * SECTOR_SIZE];
        disk.read(&mut sim, 0, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0x11));
        assert_eq!(
            sim.transfers,
            [
                read_transfer(0, MAX_SECTORS_PER_CALL, 0),
                read_transfer(MAX_SECTORS_PER_CALL, 3, 0)
            ]
        );
    }

    #[test]
    fn past_the_end_is_refused_before_any_transfer() {
        let mut sim = DiskSim::new(vec![image(1, 0)]);
        let disk = BogusDisk::open(&mut sim, 0).unwrap();
        let mut buf = [0u8; 2];
        assert_eq!(
            disk.read(&mut sim, 1023, &mut buf),
            Err(DiskError::OutOfRange)
        );
        assert_eq!(
            disk.write(&mut sim, u64::MAX, &buf),
            Err(DiskError::OutOfRange)
        );
        disk.read(&mut sim, 1022, &mut buf).unwrap();
        assert_eq!(sim.transfers, [read_transfer(1, 1, 0)]);
    }

    #[test]
    fn a_failed_transfer_is_reported() {
        let mut sim = ScriptedSim::new();
        let disk = BogusDisk { id: 0, size: 4096 };
        sim.expect_filling(
            BOGUS_DISK_READ,
            [Arg::BufferAddress, Arg::Is(0), Arg::Is(0x1_0000)],
            -1,
            &[0; 512],
        );
        let mut buf = [0u8; 512];
        assert_eq!(
            disk.read(&mut sim, 0, &mut buf),
            Err(DiskError::Transfer(-1))
        );
    }
}
