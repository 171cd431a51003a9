// SPDX-License-Identifier: Apache-2.0
//! The symbol map Linux shows as `/sys/firmware/opal/symbol_map`: skiboot's `nm -n` text
//! (`%016x T name` lines sorted by address), stored packed in a fixed hole of the image.
//!
//! xtask [`pack`]s the symbols of the linked ELF and patches the result into the `.symmap`
//! hole of the `.lid`; the firmware [`unpack`]s it into heap memory at boot (the heap is
//! reserved from the OS) and points the device tree at the text.
//!
//! Packed form: a [`HEADER_LEN`]-byte header (magic, then the packed, record and text
//! lengths as big-endian u32), then the records compressed with a byte-oriented LZ77
//! ([`lz_compress`]). A record is the address as a LEB128 delta from the previous one,
//! the `nm` type letter, the name and a NUL. Unpacking checks every length and offset:
//! a corrupt map gives an [`Error`], never a write outside its buffers.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

pub const MAGIC: [u8; 4] = *b"OSYM";
pub const HEADER_LEN: usize = 16;

/// The shortest back-reference; shorter repeats are cheaper as literals.
const MIN_MATCH: usize = 3;
/// Token: `0x00..=0x7f` is a run of `t + 1` literal bytes; `0x80..` a match of
/// `(t & 0x7f) + MIN_MATCH` bytes, followed by its distance (big-endian u16, >= 1).
const MAX_LITERALS: usize = 0x80;
const MAX_MATCH: usize = 0x7f + MIN_MATCH;
const WINDOW: usize = 0xffff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No magic: the hole was never patched (a build without xtask).
    NotPacked,
    /// A length, an offset or a record disagrees with the header or runs off its buffer.
    Corrupt,
}

/// One symbol: address, `nm` type letter (`T`, `t`, `B`, ...) and the name as printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub addr: u64,
    pub kind: u8,
    pub name: &'a str,
}

/// The map's text for `symbols` (already sorted by address): what [`unpack`] returns.
pub fn text(symbols: &[Symbol]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in symbols {
        push_line(&mut out, s.addr, s.kind, s.name.as_bytes());
    }
    out
}

fn push_line(out: &mut Vec<u8>, addr: u64, kind: u8, name: &[u8]) {
    for shift in (0..16).rev() {
        out.push(b"0123456789abcdef"[(addr >> (shift * 4)) as usize & 0xf]);
    }
    out.push(b' ');
    out.push(kind);
    out.push(b' ');
    out.extend_from_slice(name);
    out.push(b'\n');
}

/// Packs `symbols` (sorted by address; names without NUL or newline). Panics if they are
/// not: the caller (xtask) checks its input first.
pub fn pack(symbols: &[Symbol]) -> Vec<u8> {
    let mut records = Vec::new();
    let mut prev = 0u64;
    for s in symbols {
        assert!(s.addr >= prev, "symbols out of order at {}", s.name);
        assert!(!s.name.bytes().any(|b| b == 0 || b == b'\n'));
        let mut delta = s.addr - prev;
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                records.push(byte);
                break;
            }
            records.push(byte | 0x80);
        }
        records.push(s.kind);
        records.extend_from_slice(s.name.as_bytes());
        records.push(0);
        prev = s.addr;
    }
    let packed = lz_compress(&records);
    let text_len = text(symbols).len();
    let mut out = Vec::with_capacity(HEADER_LEN + packed.len());
    out.extend_from_slice(&MAGIC);
    for n in [packed.len(), records.len(), text_len] {
        out.extend_from_slice(
            &u32::try_from(n)
                .expect("symbol map over 4 GiB")
                .to_be_bytes(),
        );
    }
    out.extend_from_slice(&packed);
    out
}

/// The map's text from a packed blob (trailing bytes after the packed data are ignored:
/// the hole is larger than the map). Allocates the text's length, as the header says,
/// capped at `max_text`.
pub fn unpack(blob: &[u8], max_text: usize) -> Result<Vec<u8>, Error> {
    if blob.len() < HEADER_LEN || blob[..4] != MAGIC {
        return Err(Error::NotPacked);
    }
    let word = |i: usize| u32::from_be_bytes([blob[i], blob[i + 1], blob[i + 2], blob[i + 3]]);
    let (packed_len, records_len, text_len) =
        (word(4) as usize, word(8) as usize, word(12) as usize);
    if text_len > max_text || records_len > text_len {
        return Err(Error::Corrupt);
    }
    let packed = blob
        .get(HEADER_LEN..HEADER_LEN.saturating_add(packed_len))
        .ok_or(Error::Corrupt)?;
    let records = lz_decompress(packed, records_len)?;
    let mut out = Vec::with_capacity(text_len);
    let mut rest = &records[..];
    let mut addr = 0u64;
    while !rest.is_empty() {
        let mut delta = 0u64;
        let mut shift = 0;
        loop {
            let (&b, tail) = rest.split_first().ok_or(Error::Corrupt)?;
            rest = tail;
            if shift > 63 {
                return Err(Error::Corrupt);
            }
            delta |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        addr = addr.checked_add(delta).ok_or(Error::Corrupt)?;
        let (&kind, tail) = rest.split_first().ok_or(Error::Corrupt)?;
        let end = tail.iter().position(|&b| b == 0).ok_or(Error::Corrupt)?;
        // 16 digits, two spaces, the letter, the newline.
        if out.len() + 20 + end > text_len {
            return Err(Error::Corrupt);
        }
        push_line(&mut out, addr, kind, &tail[..end]);
        rest = &tail[end + 1..];
    }
    if out.len() != text_len {
        return Err(Error::Corrupt);
    }
    Ok(out)
}

/// Greedy LZ77 over a 64 KiB window, hash chains on 3-byte prefixes (host side only: the
/// firmware never compresses).
pub fn lz_compress(src: &[u8]) -> Vec<u8> {
    const HASH_BITS: u32 = 14;
    const CHAIN: usize = 256;
    let hash = |i: usize| {
        let v = u32::from(src[i]) << 16 | u32::from(src[i + 1]) << 8 | u32::from(src[i + 2]);
        (v.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
    };
    let mut head = alloc::vec![usize::MAX; 1 << HASH_BITS];
    let mut prev = alloc::vec![usize::MAX; src.len()];
    let mut out = Vec::new();
    let mut literals_from = 0;
    let mut i = 0;
    let flush = |out: &mut Vec<u8>, lits: &[u8]| {
        for chunk in lits.chunks(MAX_LITERALS) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    let insert = |i: usize, head: &mut Vec<usize>, prev: &mut Vec<usize>| {
        if i + MIN_MATCH <= src.len() {
            let h = hash(i);
            prev[i] = head[h];
            head[h] = i;
        }
    };
    while i < src.len() {
        let (mut best_len, mut best_dist) = (0, 0);
        if i + MIN_MATCH <= src.len() {
            let mut cand = head[hash(i)];
            let mut steps = 0;
            while cand != usize::MAX && i - cand <= WINDOW && steps < CHAIN {
                let max = MAX_MATCH.min(src.len() - i);
                let len = (0..max)
                    .take_while(|&k| src[cand + k] == src[i + k])
                    .count();
                if len > best_len {
                    (best_len, best_dist) = (len, i - cand);
                }
                cand = prev[cand];
                steps += 1;
            }
        }
        if best_len >= MIN_MATCH {
            flush(&mut out, &src[literals_from..i]);
            out.push(0x80 | (best_len - MIN_MATCH) as u8);
            out.extend_from_slice(&(best_dist as u16).to_be_bytes());
            for k in i..i + best_len {
                insert(k, &mut head, &mut prev);
            }
            i += best_len;
            literals_from = i;
        } else {
            insert(i, &mut head, &mut prev);
            i += 1;
        }
    }
    flush(&mut out, &src[literals_from..]);
    out
}

/// Expands [`lz_compress`] output that must come to exactly `len` bytes.
pub fn lz_decompress(src: &[u8], len: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while i < src.len() {
        let t = src[i] as usize;
        i += 1;
        if t < 0x80 {
            let run = src.get(i..i + t + 1).ok_or(Error::Corrupt)?;
            if out.len() + run.len() > len {
                return Err(Error::Corrupt);
            }
            out.extend_from_slice(run);
            i += t + 1;
        } else {
            let n = (t & 0x7f) + MIN_MATCH;
            let d = src.get(i..i + 2).ok_or(Error::Corrupt)?;
            let dist = usize::from(u16::from_be_bytes([d[0], d[1]]));
            i += 2;
            if dist == 0 || dist > out.len() || out.len() + n > len {
                return Err(Error::Corrupt);
            }
            let from = out.len() - dist;
            for k in 0..n {
                out.push(out[from + k]);
            }
        }
    }
    if out.len() != len {
        return Err(Error::Corrupt);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
