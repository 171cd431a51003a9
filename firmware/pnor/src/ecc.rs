// SPDX-License-Identifier: Apache-2.0
//! The PNOR ECC (`skiboot:libflash/ecc.c`, from hostboot): the protected stream is a
//! sequence of 9-byte groups, 8 data bytes read as one big-endian `u64` D, then a check
//! byte E.
//!
//! Bit `i` of E (bit 0 = least significant) is the parity of `D & MASKS[i]`. Flipping one
//! bit of D or E changes E by a value (the *syndrome*) that is different for each of the
//! 72 bits, so one flipped bit can be found and corrected; any other non-zero syndrome
//! is uncorrectable. The syndrome table is not copied from skiboot: [`SYNDROMES`] is
//! computed from the masks at compile time, and the tests pin some of its entries to the
//! values in skiboot's table.
//!
//! Erased flash (0xFF everywhere, so E = 0xFF) does not check: an empty ECC partition
//! must be written as encoded zeros.

/// Data bytes per group.
pub const DATA_BYTES: usize = 8;
/// Bytes per group on flash: data then the check byte.
pub const GROUP_BYTES: usize = 9;

/// Row `i` selects the data bits whose parity is bit `i` of the check byte.
pub const MASKS: [u64; 8] = [
    0x0000_e842_3c0f_99ff,
    0x00e8_423c_0f99_ff00,
    0xe842_3c0f_99ff_0000,
    0x423c_0f99_ff00_00e8,
    0x3c0f_99ff_0000_e842,
    0x0f99_ff00_00e8_423c,
    0x99ff_0000_e842_3c0f,
    0xff00_00e8_423c_0f99,
];

/// The check byte of one data word.
pub const fn check_byte(data: u64) -> u8 {
    let mut ecc = 0u8;
    let mut i = 0;
    while i < 8 {
        ecc |= (((MASKS[i] & data).count_ones() & 1) as u8) << i;
        i += 1;
    }
    ecc
}

/// What a syndrome (computed check byte XOR stored check byte) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syndrome {
    /// Zero: data and check byte agree.
    Good,
    /// One data bit is flipped; IBM numbering, 0 = most significant bit of D (that is,
    /// the top bit of the group's first byte).
    DataBit(u8),
    /// One bit of the check byte is flipped (0 = least significant).
    CheckBit(u8),
    /// Two or more bits are flipped.
    Uncorrectable,
}

const fn build_syndromes() -> [Syndrome; 256] {
    let mut table = [Syndrome::Uncorrectable; 256];
    table[0] = Syndrome::Good;
    let mut bit = 0;
    while bit < 64 {
        table[check_byte(1u64 << (63 - bit)) as usize] = Syndrome::DataBit(bit as u8);
        bit += 1;
    }
    let mut i = 0;
    while i < 8 {
        table[1 << i] = Syndrome::CheckBit(i as u8);
        i += 1;
    }
    table
}

/// Every syndrome's meaning (`skiboot:libflash/ecc.c` `syndromematrix`, derived).
pub const SYNDROMES: [Syndrome; 256] = build_syndromes();

/// A flipped bit that was corrected while decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Correction {
    /// Offset of the 9-byte group in the ECC stream given to [`decode`].
    pub offset: usize,
    /// Which bit ([`Syndrome::DataBit`] or [`Syndrome::CheckBit`]).
    pub bit: Syndrome,
}

impl Correction {
    /// Offset, in the ECC stream, of the byte holding the flipped bit.
    pub fn byte_offset(&self) -> usize {
        match self.bit {
            Syndrome::DataBit(b) => self.offset + usize::from(b / 8),
            _ => self.offset + DATA_BYTES,
        }
    }
}

/// Why [`encode`] or [`decode`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The output buffer is shorter than `needed` bytes.
    BufferTooSmall { needed: usize },
    /// The group at `offset` of the ECC stream has two or more flipped bits.
    Uncorrectable { offset: usize, data: u64, ecc: u8 },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::BufferTooSmall { needed } => {
                write!(f, "output buffer too small, {needed} bytes needed")
            }
            Error::Uncorrectable { offset, data, ecc } => write!(
                f,
                "uncorrectable ECC error at offset {offset:#x} (data {data:016x}, ECC {ecc:02x})"
            ),
        }
    }
}

/// Checks one group. Returns the corrected data word and what was wrong, if anything.
pub fn check(data: u64, ecc: u8) -> Result<(u64, Syndrome), Syndrome> {
    match SYNDROMES[usize::from(check_byte(data) ^ ecc)] {
        Syndrome::Uncorrectable => Err(Syndrome::Uncorrectable),
        Syndrome::DataBit(b) => Ok((data ^ (1u64 << (63 - b)), Syndrome::DataBit(b))),
        s => Ok((data, s)),
    }
}

/// Bytes on flash for `len` data bytes (a partial last group is padded with zeros).
pub const fn encoded_len(len: usize) -> usize {
    len.div_ceil(DATA_BYTES) * GROUP_BYTES
}

/// Data bytes a region of `raw_len` flash bytes holds (whole groups only).
pub const fn capacity(raw_len: usize) -> usize {
    raw_len / GROUP_BYTES * DATA_BYTES
}

/// Encodes `data` into `out` (zero-padding the last group). Returns the bytes written,
/// [`encoded_len`]`(data.len())`.
pub fn encode(data: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let needed = encoded_len(data.len());
    if out.len() < needed {
        return Err(Error::BufferTooSmall { needed });
    }
    for (chunk, group) in data
        .chunks(DATA_BYTES)
        .zip(out.chunks_exact_mut(GROUP_BYTES))
    {
        let mut word = [0u8; DATA_BYTES];
        word[..chunk.len()].copy_from_slice(chunk);
        group[..DATA_BYTES].copy_from_slice(&word);
        group[DATA_BYTES] = check_byte(u64::from_be_bytes(word));
    }
    Ok(needed)
}

/// Decodes the whole groups of `raw` into `out`, correcting single-bit errors (each one
/// is passed to `corrected`) and stopping at the first uncorrectable group. Returns the
/// data bytes written, [`capacity`]`(raw.len())`.
pub fn decode(
    raw: &[u8],
    out: &mut [u8],
    mut corrected: impl FnMut(Correction),
) -> Result<usize, Error> {
    let needed = capacity(raw.len());
    if out.len() < needed {
        return Err(Error::BufferTooSmall { needed });
    }
    for (i, (group, dst)) in raw
        .chunks_exact(GROUP_BYTES)
        .zip(out.chunks_exact_mut(DATA_BYTES))
        .enumerate()
    {
        let offset = i * GROUP_BYTES;
        let mut word = [0u8; DATA_BYTES];
        word.copy_from_slice(&group[..DATA_BYTES]);
        let data = u64::from_be_bytes(word);
        let ecc = group[DATA_BYTES];
        match check(data, ecc) {
            Ok((fixed, Syndrome::Good)) => dst.copy_from_slice(&fixed.to_be_bytes()),
            Ok((fixed, bit)) => {
                corrected(Correction { offset, bit });
                dst.copy_from_slice(&fixed.to_be_bytes());
            }
            Err(_) => return Err(Error::Uncorrectable { offset, data, ecc }),
        }
    }
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecc_of(bytes: [u8; 8]) -> u8 {
        check_byte(u64::from_be_bytes(bytes))
    }

    #[test]
    fn known_vectors() {
        // Computed by hand from the masks and cross-checked against skiboot's ecc.c
        // (images-boards-mambo.md §2.2).
        assert_eq!(ecc_of([0; 8]), 0x00);
        assert_eq!(ecc_of([0xff; 8]), 0x00);
        assert_eq!(ecc_of([0, 1, 2, 3, 4, 5, 6, 7]), 0x4b);
        assert_eq!(ecc_of([1, 0, 0, 0, 0, 0, 0, 0]), 0xe0);
        assert_eq!(ecc_of([0, 0, 0, 0, 0, 0, 0, 1]), 0xc1);
        assert_eq!(ecc_of(*b"PARTPART"), 0x66);
    }

    #[test]
    fn lowest_bit_by_hand() {
        // D = 1 keeps bit 0 of each mask. Masks 0 (…ff), 6 (…0f) and 7 (…99) have it,
        // the others end in 00, e8, 42 or 3c: bits 0, 6 and 7 of E, 0xc1.
        let by_hand = MASKS
            .iter()
            .enumerate()
            .fold(0u8, |e, (i, m)| e | (((m & 1) as u8) << i));
        assert_eq!(by_hand, 0xc1);
    }

    #[test]
    fn syndromes_are_distinct_and_match_skiboot() {
        let mut seen = [false; 256];
        for bit in 0..64 {
            let s = check_byte(1u64 << (63 - bit)) as usize;
            assert!(s != 0 && s.count_ones() > 1, "data bit {bit}");
            assert!(!seen[s], "syndrome {s:#x} twice");
            seen[s] = true;
        }
        assert_eq!(
            SYNDROMES
                .iter()
                .filter(|s| matches!(s, Syndrome::DataBit(_)))
                .count(),
            64
        );
        // Entries read from skiboot's `syndromematrix` (row * 16 + column).
        assert_eq!(SYNDROMES[0x00], Syndrome::Good);
        assert_eq!(SYNDROMES[0x01], Syndrome::CheckBit(0)); // E7 in IBM numbering
        assert_eq!(SYNDROMES[0x80], Syndrome::CheckBit(7)); // E0
        assert_eq!(SYNDROMES[0x03], Syndrome::Uncorrectable);
        assert_eq!(SYNDROMES[0x07], Syndrome::DataBit(47));
        assert_eq!(SYNDROMES[0x0b], Syndrome::DataBit(37));
        assert_eq!(SYNDROMES[0x46], Syndrome::DataBit(9));
        assert_eq!(SYNDROMES[0x8c], Syndrome::DataBit(1));
        assert_eq!(SYNDROMES[0xc4], Syndrome::DataBit(0));
        assert_eq!(SYNDROMES[0xe9], Syndrome::DataBit(60));
        assert_eq!(SYNDROMES[0xf4], Syndrome::DataBit(4));
        assert_eq!(SYNDROMES[0xff], Syndrome::Uncorrectable);
    }

    #[test]
    fn round_trip_with_padding() {
        let data: [u8; 13] = core::array::from_fn(|i| i as u8 * 17);
        let mut raw = [0u8; 18];
        assert_eq!(encode(&data, &mut raw), Ok(18));
        assert_eq!(raw[8], ecc_of(data[..8].try_into().unwrap()));
        let mut out = [0xaa; 16];
        assert_eq!(decode(&raw, &mut out, |_| panic!("no error")), Ok(16));
        assert_eq!(&out[..13], &data);
        assert_eq!(&out[13..], &[0, 0, 0]);
    }

    #[test]
    fn every_single_bit_is_corrected() {
        let data = *b"OPALITE!";
        let mut raw = [0u8; 9];
        encode(&data, &mut raw).unwrap();
        for bit in 0..72 {
            let mut bad = raw;
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            let mut out = [0u8; 8];
            let mut fixes = 0;
            decode(&bad, &mut out, |c| {
                fixes += 1;
                assert_eq!(c.offset, 0);
                assert_eq!(c.byte_offset(), bit / 8);
                let expect = if bit < 64 {
                    Syndrome::DataBit(bit as u8)
                } else {
                    Syndrome::CheckBit(7 - (bit as u8 - 64))
                };
                assert_eq!(c.bit, expect);
            })
            .unwrap();
            assert_eq!(fixes, 1);
            assert_eq!(out, data, "bit {bit}");
        }
    }

    #[test]
    fn double_bit_error_is_reported_with_its_offset() {
        let data = [0x5au8; 24];
        let mut raw = [0u8; 27];
        encode(&data, &mut raw).unwrap();
        raw[9 + 2] ^= 0x11; // two bits of the second group
        let mut out = [0u8; 24];
        match decode(&raw, &mut out, |_| {}) {
            Err(Error::Uncorrectable { offset: 9, .. }) => {}
            other => panic!("{other:?}"),
        }
        // Every pair of data bits is detected, not miscorrected.
        let mut one = [0u8; 9];
        encode(&data[..8], &mut one).unwrap();
        for a in 0..72 {
            for b in a + 1..72 {
                let mut bad = one;
                bad[a / 8] ^= 0x80 >> (a % 8);
                bad[b / 8] ^= 0x80 >> (b % 8);
                let mut out = [0u8; 8];
                assert!(decode(&bad, &mut out, |_| {}).is_err(), "bits {a} {b}");
            }
        }
    }

    #[test]
    fn erased_flash_is_uncorrectable() {
        let mut out = [0u8; 8];
        assert!(matches!(
            decode(&[0xff; 9], &mut out, |_| {}),
            Err(Error::Uncorrectable { offset: 0, .. })
        ));
    }

    #[test]
    fn sizes_and_short_buffers() {
        assert_eq!(encoded_len(0), 0);
        assert_eq!(encoded_len(1), 9);
        assert_eq!(encoded_len(16), 18);
        assert_eq!(capacity(4096), 3640);
        assert_eq!(capacity(8), 0);
        let mut small = [0u8; 8];
        assert_eq!(
            encode(&[0; 8], &mut small),
            Err(Error::BufferTooSmall { needed: 9 })
        );
        assert_eq!(
            decode(&[0; 18], &mut small, |_| {}),
            Err(Error::BufferTooSmall { needed: 16 })
        );
    }
}
