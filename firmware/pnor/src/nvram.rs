// SPDX-License-Identifier: Apache-2.0
//! The CHRP NVRAM layout (PAPR; `skiboot:core/nvram-format.c`): a chain of partitions,
//! each a 16-byte header (signature, checksum, big-endian length in 16-byte units
//! including the header, 12-byte NUL-padded name) followed by its data.
//!
//! [`format`] writes what skiboot writes into an NVRAM it re-initialises: an empty
//! `ibm,skiboot` partition (4 KiB, firmware options), an empty `common` one (64 KiB,
//! petitboot's settings), then one free-space partition over the rest. [`partitions`]
//! walks a chain and checks each header, as skiboot's `nvram_check` does.

/// Bytes of a partition header.
pub const HEADER_LEN: usize = 16;
/// Signature of the firmware-private partition.
pub const SIG_FW_PRIV: u8 = 0x51;
/// Signature of the system (`common`) partition.
pub const SIG_SYSTEM: u8 = 0x70;
/// Signature of free space.
pub const SIG_FREE: u8 = 0x7f;
/// skiboot's own partition and its size.
pub const NAME_FW_PRIV: &str = "ibm,skiboot";
pub const SIZE_FW_PRIV: usize = 0x1000;
/// The shared partition and its size.
pub const NAME_COMMON: &str = "common";
pub const SIZE_COMMON: usize = 0x1_0000;
/// The free partition's name, all 12 bytes of it.
pub const NAME_FREE: &str = "wwwwwwwwwwww";
/// Smallest NVRAM [`format`] accepts: both partitions and a free header.
pub const MIN_LEN: usize = SIZE_FW_PRIV + SIZE_COMMON + HEADER_LEN;
/// Largest: the free partition's length must fit the 16-bit field.
pub const MAX_LEN: usize = SIZE_FW_PRIV + SIZE_COMMON + 0xffff * 16;

/// Why an NVRAM could not be formatted or does not check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// [`format`]: the buffer is not between [`MIN_LEN`] and [`MAX_LEN`] bytes, or not a
    /// multiple of 16.
    BadSize(usize),
    /// The header at `offset` has a wrong checksum.
    Checksum { offset: usize },
    /// The header at `offset` has length 0 or runs past the end.
    BadLength { offset: usize },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Error::BadSize(n) => write!(
                f,
                "an NVRAM of {n:#x} bytes cannot be formatted (needs a multiple of 16 between \
                 {MIN_LEN:#x} and {MAX_LEN:#x})"
            ),
            Error::Checksum { offset } => {
                write!(
                    f,
                    "NVRAM partition header at {offset:#x} has a bad checksum"
                )
            }
            Error::BadLength { offset } => {
                write!(f, "NVRAM partition header at {offset:#x} has a bad length")
            }
        }
    }
}

/// The header checksum: an 8-bit sum with end-around carry over the 16 header bytes,
/// the checksum byte taken as 0.
pub fn header_checksum(h: &[u8; HEADER_LEN]) -> u8 {
    h.iter().enumerate().fold(0u8, |sum, (i, &b)| {
        let b = if i == 1 { 0 } else { b };
        let (s, carry) = sum.overflowing_add(b);
        s + u8::from(carry)
    })
}

fn write_header(out: &mut [u8], sig: u8, len: usize, name: &str) {
    let mut h = [0u8; HEADER_LEN];
    h[0] = sig;
    h[2..4].copy_from_slice(&((len / 16) as u16).to_be_bytes());
    h[4..4 + name.len()].copy_from_slice(name.as_bytes());
    h[1] = header_checksum(&h);
    out[..HEADER_LEN].copy_from_slice(&h);
}

/// Formats `out` as an empty NVRAM, zeroing it first.
pub fn format(out: &mut [u8]) -> Result<(), Error> {
    let n = out.len();
    if !(MIN_LEN..=MAX_LEN).contains(&n) || n & 15 != 0 {
        return Err(Error::BadSize(n));
    }
    out.fill(0);
    write_header(out, SIG_FW_PRIV, SIZE_FW_PRIV, NAME_FW_PRIV);
    write_header(
        &mut out[SIZE_FW_PRIV..],
        SIG_SYSTEM,
        SIZE_COMMON,
        NAME_COMMON,
    );
    let free = SIZE_FW_PRIV + SIZE_COMMON;
    write_header(&mut out[free..], SIG_FREE, n - free, NAME_FREE);
    Ok(())
}

/// One partition of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition<'a> {
    pub offset: usize,
    pub signature: u8,
    /// Name without NUL padding (the free partition's fills all 12 bytes).
    pub name: &'a [u8],
    /// Bytes, header included.
    pub len: usize,
}

/// Walks the chain in `nvram`, checking each header's checksum and length. Like skiboot,
/// it stops when fewer than 16 bytes are left.
pub fn partitions(nvram: &[u8]) -> impl Iterator<Item = Result<Partition<'_>, Error>> {
    let mut offset = 0usize;
    let mut failed = false;
    core::iter::from_fn(move || {
        if failed || offset + HEADER_LEN > nvram.len() {
            return None;
        }
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&nvram[offset..offset + HEADER_LEN]);
        let len = usize::from(u16::from_be_bytes([h[2], h[3]])) * 16;
        let here = offset;
        let result = if header_checksum(&h) != h[1] {
            Err(Error::Checksum { offset: here })
        } else if len == 0 || here + len > nvram.len() {
            Err(Error::BadLength { offset: here })
        } else {
            let name = &nvram[here + 4..here + HEADER_LEN];
            let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            Ok(Partition {
                offset: here,
                signature: h[0],
                name: &name[..end],
                len,
            })
        };
        failed = result.is_err();
        offset += len;
        Some(result)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_by_hand() {
        // 0x51 + 0x01 + 0x00 ("len" 0x0100 = 4 KiB) + "ibm,skiboot" bytes, with
        // end-around carries.
        let mut h = [0u8; 16];
        h[0] = SIG_FW_PRIV;
        h[2] = 0x01;
        h[4..15].copy_from_slice(b"ibm,skiboot");
        let mut sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        while sum > 0xff {
            sum = (sum & 0xff) + (sum >> 8);
        }
        assert_eq!(u32::from(header_checksum(&h)), sum);
        // The checksum byte itself does not count.
        let mut with = h;
        with[1] = 0x99;
        assert_eq!(header_checksum(&with), header_checksum(&h));
    }

    #[test]
    fn format_like_skiboot() {
        let mut nv = [0xffu8; 576 * 1024];
        format(&mut nv).unwrap();
        let parts: [Partition<'_>; 3] = {
            let mut it = partitions(&nv).map(Result::unwrap);
            [it.next().unwrap(), it.next().unwrap(), it.next().unwrap()]
        };
        assert!(partitions(&nv).nth(3).is_none());
        assert_eq!(
            (
                parts[0].offset,
                parts[0].signature,
                parts[0].name,
                parts[0].len
            ),
            (0, SIG_FW_PRIV, &b"ibm,skiboot"[..], 0x1000)
        );
        assert_eq!(
            (
                parts[1].offset,
                parts[1].signature,
                parts[1].name,
                parts[1].len
            ),
            (0x1000, SIG_SYSTEM, &b"common"[..], 0x10000)
        );
        assert_eq!(
            (
                parts[2].offset,
                parts[2].signature,
                parts[2].name,
                parts[2].len
            ),
            (
                0x11000,
                SIG_FREE,
                &b"wwwwwwwwwwww"[..],
                576 * 1024 - 0x11000
            )
        );
        // Headers as bytes: signature, checksum, length in 16-byte units.
        assert_eq!(
            &nv[..4],
            &[
                0x51,
                header_checksum(nv[..16].try_into().unwrap()),
                0x01,
                0x00
            ]
        );
        assert_eq!(&nv[0x11000 + 2..0x11000 + 4], &[0x7f, 0x00]); // 0x7f00 * 16
                                                                  // Data is zero.
        assert!(nv[16..0x1000].iter().all(|&b| b == 0));
    }

    #[test]
    fn sizes() {
        let mut small = [0u8; MIN_LEN - 16];
        assert_eq!(format(&mut small), Err(Error::BadSize(MIN_LEN - 16)));
        let mut odd = [0u8; MIN_LEN + 8];
        assert!(format(&mut odd).is_err());
        let mut min = [0u8; MIN_LEN];
        format(&mut min).unwrap();
        assert_eq!(partitions(&min).filter(Result::is_ok).count(), 3);
    }

    #[test]
    fn corrupt_chain() {
        let mut nv = [0u8; MIN_LEN];
        format(&mut nv).unwrap();
        nv[0x1000 + 5] ^= 1;
        let r: [Result<Partition<'_>, Error>; 2] = {
            let mut it = partitions(&nv);
            [it.next().unwrap(), it.next().unwrap()]
        };
        assert!(r[0].is_ok());
        assert_eq!(r[1], Err(Error::Checksum { offset: 0x1000 }));
        assert!(partitions(&nv).nth(2).is_none());
    }
}
