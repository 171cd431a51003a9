// SPDX-License-Identifier: Apache-2.0
//! Synthetic firmware ELFs for the mkimage tests: a big-endian ELF64 `EM_PPC64` header,
//! program headers at 0x40, and segment contents at chosen file offsets.
#![allow(dead_code)]

pub const PT_LOAD: u32 = 1;
pub const PT_NOTE: u32 = 4;

#[derive(Clone)]
pub struct Seg {
    pub typ: u32,
    pub offset: u64,
    pub paddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub bytes: Vec<u8>,
}

pub fn load(offset: u64, paddr: u64, bytes: &[u8], memsz: u64) -> Seg {
    Seg {
        typ: PT_LOAD,
        offset,
        paddr,
        filesz: bytes.len() as u64,
        memsz,
        bytes: bytes.to_vec(),
    }
}

pub struct Elf {
    pub class: u8,
    pub data: u8,
    pub machine: u16,
    pub entry: u64,
    pub phentsize: u16,
    pub segs: Vec<Seg>,
}

impl Elf {
    pub fn new(entry: u64, segs: Vec<Seg>) -> Self {
        Elf {
            class: 2,
            data: 2,
            machine: 21,
            entry,
            phentsize: 56,
            segs,
        }
    }

    pub fn build(&self) -> Vec<u8> {
        let big = self.data == 2;
        let end = self
            .segs
            .iter()
            .map(|s| s.offset as usize + s.bytes.len())
            .max()
            .unwrap_or(0);
        let mut b = vec![0u8; end.max(0x40 + 56 * self.segs.len())];
        let put = |b: &mut Vec<u8>, off: usize, v: u64, n: usize| {
            let bytes = if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            let s = if big { &bytes[8 - n..] } else { &bytes[..n] };
            b[off..off + n].copy_from_slice(s);
        };
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = self.class;
        b[5] = self.data;
        b[6] = 1;
        put(&mut b, 16, 2, 2); // ET_EXEC
        put(&mut b, 18, self.machine.into(), 2);
        put(&mut b, 20, 1, 4);
        put(&mut b, 24, self.entry, 8);
        put(&mut b, 32, 0x40, 8);
        put(&mut b, 48, 2, 4); // ELFv2
        put(&mut b, 52, 64, 2);
        put(&mut b, 54, self.phentsize.into(), 2);
        put(&mut b, 56, self.segs.len() as u64, 2);
        put(&mut b, 58, 64, 2);
        let ph_end = 0x40 + 56 * self.segs.len();
        for (i, s) in self.segs.iter().enumerate() {
            assert!(
                s.bytes.is_empty() || s.offset as usize >= ph_end,
                "contents over phdrs"
            );
            let o = 0x40 + i * 56;
            put(&mut b, o, s.typ.into(), 4);
            put(&mut b, o + 4, 7, 4);
            put(&mut b, o + 8, s.offset, 8);
            put(&mut b, o + 16, s.paddr, 8);
            put(&mut b, o + 24, s.paddr, 8);
            put(&mut b, o + 32, s.filesz, 8);
            put(&mut b, o + 40, s.memsz, 8);
            put(&mut b, o + 48, 0x10000, 8);
            let off = s.offset as usize;
            b[off..off + s.bytes.len()].copy_from_slice(&s.bytes);
        }
        b
    }
}

/// The golden case (see `golden/three_segments.hex`): program headers out of address
/// order, a PT_NOTE, a data segment with BSS, and a BSS-only segment.
pub fn three_segments() -> Vec<u8> {
    let text: Vec<u8> = (0x00..0x10).collect();
    let data: Vec<u8> = (0xA0..0xA8).collect();
    Elf::new(
        0x3000_0010,
        vec![
            load(0x200, 0x3000_0020, &data, 0x40),
            Seg {
                typ: PT_NOTE,
                offset: 0x300,
                paddr: 0,
                filesz: 4,
                memsz: 4,
                bytes: vec![0xEE; 4],
            },
            load(0x180, 0x3000_0000, &text, 0x10),
            Seg {
                typ: PT_LOAD,
                offset: 0,
                paddr: 0x3000_0080,
                filesz: 0,
                memsz: 0x100,
                bytes: vec![],
            },
        ],
    )
    .build()
}

/// Parse a `.hex` golden file: whitespace-separated hex bytes, `#` starts a comment.
pub fn read_hex(text: &str) -> Vec<u8> {
    text.lines()
        .map(|l| l.split('#').next().unwrap())
        .flat_map(|l| l.split_whitespace())
        .map(|t| u8::from_str_radix(t, 16).unwrap())
        .collect()
}
