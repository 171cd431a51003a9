// SPDX-License-Identifier: Apache-2.0
//! The unsigned secure-boot ("STB") container header `mkimage lid --container` puts in
//! front of an image (`images-boards-mambo.md` §1.6; `skiboot:libstb/container.h`). It
//! is 4096 bytes, all big-endian, the payload follows at 0x1000. The layout is the one
//! `create-container` writes with one software key, which skiboot was seen to accept (it
//! logs `STB: container NOT VERIFIED` when secure boot is off and boots on):
//!
//! | Offset | Field |
//! |---|---|
//! | 0x000 | magic 0x17082011, version 1 (be16), container size (be64) = 0x1000 + payload |
//! | 0x00E | target HRMOR, stack pointer (0), then three 132-byte hardware keys (0) |
//! | 0x1AA | prefix header: version 1, hash 1 (SHA-512), signature 1 (ECDSA-521), code start 0, reserved 0, flags 0x8000_0000, 1 software key, payload size 132, SHA-512 of the software keys, 0 ECIDs |
//! | 0x20C | three hardware signatures (0), then the one software key (0) at 0x398 |
//! | 0x41C | software header: version/hash/signature 1/1/1, code start 0, reserved 0, flags 0, reserved byte, payload size (be64) at 0x435, SHA-512 of the payload at 0x43D, 0 ECIDs |
//! | 0x47E | three software signatures (0), zeros to 0xFFF |
//!
//! Nothing is signed: the hashes are there so a verifier that checks them agrees.
use crate::sha512::sha512;

/// Bytes of the header; the payload starts here.
pub const HEADER_SIZE: usize = 0x1000;
/// `ROM_MAGIC_NUMBER`.
pub const MAGIC: u32 = 0x1708_2011;
/// ECDSA P-521 raw key or signature.
const KEY: usize = 132;
/// Offsets of the parts of the header.
pub const PREFIX_HEADER: usize = 0x1aa;
pub const PREFIX_DATA: usize = 0x20c;
pub const SW_KEYS: usize = PREFIX_DATA + 3 * KEY;
pub const SW_HEADER: usize = SW_KEYS + KEY;

fn put(b: &mut [u8], off: usize, bytes: &[u8]) {
    b[off..off + bytes.len()].copy_from_slice(bytes);
}

/// Writes the version/algorithm words, code start offset, reserved and flags that the
/// prefix and software headers share; returns the offset after the flags.
fn common(b: &mut [u8], at: usize, flags: u32) -> usize {
    put(b, at, &1u16.to_be_bytes());
    b[at + 2] = 1; // SHA-512
    b[at + 3] = 1; // SHA-512/ECDSA-521
                   // code_start_offset and reserved: 16 zero bytes.
    put(b, at + 20, &flags.to_be_bytes());
    at + 24
}

/// The 4096-byte header for `payload`.
pub fn header(payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; HEADER_SIZE];
    put(&mut b, 0, &MAGIC.to_be_bytes());
    put(&mut b, 4, &1u16.to_be_bytes());
    put(
        &mut b,
        6,
        &((HEADER_SIZE + payload.len()) as u64).to_be_bytes(),
    );

    let at = common(&mut b, PREFIX_HEADER, 0x8000_0000);
    b[at] = 1; // sw_key_count
    put(&mut b, at + 1, &(KEY as u64).to_be_bytes());
    let keys_hash = sha512(&b[SW_KEYS..SW_KEYS + KEY]);
    put(&mut b, at + 9, &keys_hash);
    // ecid_count at at + 73: 0.

    let at = common(&mut b, SW_HEADER, 0);
    // reserved_0 at `at`: 0.
    put(&mut b, at + 1, &(payload.len() as u64).to_be_bytes());
    put(&mut b, at + 9, &sha512(payload));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be64(b: &[u8], off: usize) -> u64 {
        u64::from_be_bytes(b[off..off + 8].try_into().unwrap())
    }

    #[test]
    fn layout_matches_the_reference() {
        let payload = b"\x7fELF and the rest of a kernel";
        let h = header(payload);
        assert_eq!(h.len(), 4096);
        assert_eq!(&h[..6], &[0x17, 0x08, 0x20, 0x11, 0, 1]);
        assert_eq!(be64(&h, 6), 0x1000 + payload.len() as u64);
        // Prefix header.
        assert_eq!(&h[0x1aa..0x1ae], &[0, 1, 1, 1]);
        assert_eq!(&h[0x1be..0x1c2], &[0x80, 0, 0, 0]);
        assert_eq!(h[0x1c2], 1);
        assert_eq!(be64(&h, 0x1c3), 132);
        assert_eq!(&h[0x1cb..0x20b], &sha512(&[0; 132]));
        assert_eq!(h[0x20b], 0);
        // Software header after the hardware signatures and one key.
        assert_eq!((SW_KEYS, SW_HEADER), (0x398, 0x41c));
        assert_eq!(&h[0x41c..0x420], &[0, 1, 1, 1]);
        assert_eq!(&h[0x430..0x435], &[0, 0, 0, 0, 0]);
        assert_eq!(be64(&h, 0x435), payload.len() as u64);
        assert_eq!(&h[0x43d..0x47d], &sha512(payload));
        // Everything else is zero.
        let mut rest = h.clone();
        for (start, end) in [
            (0, 14),
            (0x1aa, 0x1ae),
            (0x1be, 0x20b),
            (0x41c, 0x420),
            (0x435, 0x47d),
        ] {
            rest[start..end].fill(0);
        }
        assert!(rest.iter().all(|&x| x == 0));
    }
}
