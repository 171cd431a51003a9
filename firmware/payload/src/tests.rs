// SPDX-License-Identifier: Apache-2.0
//! Host tests of payload recognition with synthetic ELF images, little- and big-endian,
//! including the Debian 6.1 ppc64le kernel's layout and the ELFv1 descriptor cases.
use super::*;

const LOAD: u64 = KERNEL_LOAD_ADDR;
/// `nop` (ori 0,0,0), in whichever byte order: only "not zero" matters.
const CODE: [u8; 4] = [0x60, 0, 0, 0];

#[derive(Clone, Copy)]
struct Ph {
    typ: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

fn load(offset: u64, vaddr: u64, size: u64) -> Ph {
    Ph {
        typ: PT_LOAD,
        offset,
        vaddr,
        filesz: size,
        memsz: size,
    }
}

#[derive(Clone, Copy)]
struct Sh {
    flags: u64,
    addr: u64,
    size: u64,
}

/// A synthetic ELF64: header at 0, program headers at 0x40, section headers at `shoff`.
struct Elf {
    big: bool,
    class: u8,
    data: Option<u8>,
    machine: u16,
    typ: u16,
    flags: u32,
    entry: u64,
    phentsize: u16,
    phnum: Option<u16>,
    phs: Vec<Ph>,
    shoff: u64,
    shentsize: u16,
    shs: Vec<Sh>,
    len: usize,
    writes: Vec<(usize, Vec<u8>)>,
}

impl Elf {
    fn new(big: bool, entry: u64) -> Self {
        Elf {
            big,
            class: ELFCLASS64,
            data: None,
            machine: EM_PPC64,
            typ: ET_EXEC,
            flags: if big { 1 } else { 2 },
            entry,
            phentsize: 56,
            phnum: None,
            phs: vec![],
            shoff: 0,
            shentsize: 64,
            shs: vec![],
            len: 0x1000,
            writes: vec![],
        }
    }
    fn ph(mut self, p: Ph) -> Self {
        self.phs.push(p);
        self
    }
    fn sections(mut self, shoff: u64, shs: &[Sh]) -> Self {
        self.shoff = shoff;
        self.shs = shs.to_vec();
        self
    }
    fn write(mut self, off: usize, bytes: &[u8]) -> Self {
        self.writes.push((off, bytes.to_vec()));
        self
    }
    fn u64_at(self, off: usize, v: u64) -> Self {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.write(off, &b)
    }
    fn build(&self) -> Vec<u8> {
        let sh_end = self.shoff as usize + self.shs.len() * 64;
        let w_end = self
            .writes
            .iter()
            .map(|(o, b)| o + b.len())
            .max()
            .unwrap_or(0);
        let mut b = vec![0u8; self.len.max(sh_end).max(w_end)];
        let big = self.big;
        let put = |b: &mut Vec<u8>, off: usize, v: u64, n: usize| {
            let bytes = if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            let s = if big { &bytes[8 - n..] } else { &bytes[..n] };
            b[off..off + n].copy_from_slice(s);
        };
        b[..4].copy_from_slice(&ELF_MAGIC);
        b[4] = self.class;
        b[5] = self
            .data
            .unwrap_or(if big { ELFDATA2MSB } else { ELFDATA2LSB });
        b[6] = 1;
        put(&mut b, 16, self.typ.into(), 2);
        put(&mut b, 18, self.machine.into(), 2);
        put(&mut b, 20, 1, 4);
        put(&mut b, 24, self.entry, 8);
        put(&mut b, 32, 0x40, 8);
        put(&mut b, 40, self.shoff, 8);
        put(&mut b, 48, self.flags.into(), 4);
        put(&mut b, 52, 64, 2);
        put(&mut b, 54, self.phentsize.into(), 2);
        put(
            &mut b,
            56,
            self.phnum.unwrap_or(self.phs.len() as u16).into(),
            2,
        );
        put(&mut b, 58, self.shentsize.into(), 2);
        put(&mut b, 60, self.shs.len() as u64, 2);
        for (i, p) in self.phs.iter().enumerate() {
            let o = 0x40 + i * 56;
            put(&mut b, o, p.typ.into(), 4);
            put(&mut b, o + 4, 5, 4);
            put(&mut b, o + 8, p.offset, 8);
            put(&mut b, o + 16, p.vaddr, 8);
            put(&mut b, o + 24, p.vaddr, 8);
            put(&mut b, o + 32, p.filesz, 8);
            put(&mut b, o + 40, p.memsz, 8);
        }
        for (i, s) in self.shs.iter().enumerate() {
            let o = self.shoff as usize + i * 64;
            put(&mut b, o + 4, 1, 4);
            put(&mut b, o + 8, s.flags, 8);
            put(&mut b, o + 16, s.addr, 8);
            put(&mut b, o + 32, s.size, 8);
        }
        for (off, bytes) in &self.writes {
            b[*off..*off + bytes.len()].copy_from_slice(bytes);
        }
        b
    }
}

// ---- raw ----

#[test]
fn raw_image_is_entered_at_its_start() {
    let img = [0x48, 0x00, 0x00, 0x10, 0, 0, 0, 0];
    assert_eq!(
        inspect(&img, LOAD),
        Ok(Payload {
            kind: Kind::Raw,
            entry: LOAD,
            descriptor: None
        })
    );
    // Almost ELF is still raw.
    assert_eq!(
        inspect(b"\x7fELG....", 0x1000).map(|p| p.kind),
        Ok(Kind::Raw)
    );
}

#[test]
fn nothing_loaded_is_an_error() {
    assert_eq!(inspect(&[0u8; 4096], LOAD), Err(PayloadError::EntryIsZeros));
    assert_eq!(
        inspect(&[], LOAD),
        Err(PayloadError::Truncated { needed: 4, have: 0 })
    );
    assert_eq!(
        inspect(b"\x7fEL", LOAD),
        Err(PayloadError::Truncated { needed: 4, have: 3 })
    );
}

// ---- little-endian ----

#[test]
fn debian_6_1_ppc64le_kernel() {
    // One PT_LOAD: p_offset 0x10000, p_vaddr 0xC000_0000_0000_0000, entry at its start.
    // Only the first 4 KiB are given, as the firmware would.
    let base = 0xC000_0000_0000_0000;
    let img = Elf::new(false, base)
        .ph(Ph {
            typ: 4,
            offset: 0x200,
            vaddr: 0,
            filesz: 0x24,
            memsz: 0x24,
        }) // PT_NOTE
        .ph(Ph {
            typ: PT_LOAD,
            offset: 0x10000,
            vaddr: base,
            filesz: 0x1_A00_000,
            memsz: 0x2_000_000,
        })
        .build();
    assert_eq!(
        inspect(&img, LOAD),
        Ok(Payload {
            kind: Kind::Elf64Le,
            entry: 0x2001_0000,
            descriptor: None
        })
    );
}

#[test]
fn le_entry_in_a_later_segment() {
    let img = Elf::new(false, 0x10_0040)
        .ph(load(0x1000, 0x1000, 0x1000))
        .ph(load(0x2000, 0x10_0000, 0x800))
        .write(0x2040, &CODE)
        .build();
    let p = inspect(&img, LOAD).unwrap();
    assert_eq!(p.entry, LOAD + 0x2040);
    let elf = Elf64::parse(&img).unwrap();
    assert_eq!(elf.load_segments().count(), 2);
    assert_eq!(elf.vaddr_to_file_offset(0x1800), Ok(0x1800));
}

#[test]
fn entry_outside_every_load_segment() {
    let img = Elf::new(false, 0x5000)
        .ph(load(0x1000, 0x1000, 0x1000))
        .build();
    assert_eq!(inspect(&img, LOAD), Err(PayloadError::NoSegmentFor(0x5000)));
    // The end of a segment is outside it (skiboot's test is inclusive; no kernel cares).
    let img = Elf::new(false, 0x2000)
        .ph(load(0x1000, 0x1000, 0x1000))
        .build();
    assert_eq!(inspect(&img, LOAD), Err(PayloadError::NoSegmentFor(0x2000)));
    // A segment that is not PT_LOAD does not count.
    let img = Elf::new(false, 0x1000)
        .ph(Ph {
            typ: 6,
            offset: 0x40,
            vaddr: 0x1000,
            filesz: 0x100,
            memsz: 0x100,
        })
        .build();
    assert_eq!(inspect(&img, LOAD), Err(PayloadError::NoSegmentFor(0x1000)));
    // No program headers at all.
    let img = Elf::new(false, 0x1000).build();
    assert_eq!(inspect(&img, LOAD), Err(PayloadError::NoSegmentFor(0x1000)));
}

#[test]
fn entry_in_bss_part_of_segment() {
    // memsz, not filesz, bounds the segment (as in skiboot).
    let img = Elf::new(false, 0x1F00)
        .ph(Ph {
            typ: PT_LOAD,
            offset: 0x100,
            vaddr: 0x1000,
            filesz: 0x100,
            memsz: 0x1000,
        })
        .build();
    assert_eq!(inspect(&img, LOAD).map(|p| p.entry), Ok(LOAD + 0x1000));
}

#[test]
fn zero_word_at_entry_is_rejected_when_visible() {
    let img = Elf::new(false, 0x1040)
        .ph(load(0x100, 0x1000, 0x800))
        .build();
    assert_eq!(inspect(&img, LOAD), Err(PayloadError::EntryIsZeros));
}

// ---- big-endian ----

/// A big-endian ELFv1 layout: .text at vaddr 0x1000 (file 0x1000), .opd at 0x2000 (file
/// 0x2000), section headers at 0x3000; `e_entry` = 0x2010, a descriptor for 0x1100.
fn be_v1(sections: bool) -> Elf {
    let e = Elf::new(true, 0x2010)
        .ph(load(0x1000, 0x1000, 0x1000))
        .ph(load(0x2000, 0x2000, 0x100))
        .u64_at(0x2010, 0x1100)
        .u64_at(0x2018, 0x8000) // TOC, unused
        .write(0x1100, &CODE);
    if sections {
        e.sections(
            0x3000,
            &[
                Sh {
                    flags: 0,
                    addr: 0,
                    size: 0,
                },
                Sh {
                    flags: SHF_ALLOC | SHF_EXECINSTR,
                    addr: 0x1000,
                    size: 0x1000,
                },
                Sh {
                    flags: SHF_ALLOC | 1,
                    addr: 0x2000,
                    size: 0x100,
                },
                Sh {
                    flags: 0,
                    addr: 0,
                    size: 0x3000,
                }, // .comment-like, not loaded
            ],
        )
    } else {
        e
    }
}

#[test]
fn be_elfv1_descriptor_is_followed() {
    let img = be_v1(true).build();
    assert_eq!(
        inspect(&img, LOAD),
        Ok(Payload {
            kind: Kind::Elf64BeV1,
            entry: LOAD + 0x1100,
            descriptor: Some(0x2010)
        })
    );
    // Without section headers skiboot assumes a descriptor too.
    let img = be_v1(false).build();
    assert_eq!(
        inspect(&img, LOAD).map(|p| (p.entry, p.descriptor)),
        Ok((LOAD + 0x1100, Some(0x2010)))
    );
    // e_flags 0 (ABI unspecified) is treated as ELFv1.
    let mut e = be_v1(true);
    e.flags = 0;
    assert_eq!(
        inspect(&e.build(), LOAD).map(|p| p.kind),
        Ok(Kind::Elf64BeV1)
    );
}

#[test]
fn be_elfv1_descriptor_code_in_other_segment() {
    // .opd maps with a different vaddr-to-offset delta than .text.
    let img = Elf::new(true, 0xC000_0000_0080_0000)
        .ph(load(0x10000, 0xC000_0000_0000_0000, 0x4000))
        .ph(load(0x14000, 0xC000_0000_0080_0000, 0x100))
        .u64_at(0x14000, 0xC000_0000_0000_0200)
        .write(0x10200, &CODE)
        .build();
    let mut img = img;
    img.resize(0x14100, 0);
    assert_eq!(
        inspect(&img, LOAD),
        Ok(Payload {
            kind: Kind::Elf64BeV1,
            entry: LOAD + 0x10200,
            descriptor: Some(0x14000)
        })
    );
}

#[test]
fn be_elfv1_linux_entry_is_code() {
    // Big-endian vmlinux: ELFv1 flags, e_entry at the start of executable .text.
    let base = 0xC000_0000_0000_0000;
    let img = Elf::new(true, base)
        .ph(load(0x10000, base, 0x2000))
        .sections(
            0x800,
            &[Sh {
                flags: SHF_ALLOC | SHF_EXECINSTR,
                addr: base,
                size: 0x2000,
            }],
        )
        .build();
    assert_eq!(
        inspect(&img, LOAD),
        Ok(Payload {
            kind: Kind::Elf64BeV1,
            entry: 0x2001_0000,
            descriptor: None
        })
    );
    assert_eq!(
        Elf64::parse(&img).unwrap().entry_in_exec_section(),
        Ok(true)
    );
}

#[test]
fn be_elfv2_entry_is_direct() {
    let mut e = be_v1(true);
    e.flags = 2;
    e.entry = 0x1100;
    assert_eq!(
        inspect(&e.build(), LOAD),
        Ok(Payload {
            kind: Kind::Elf64BeV2,
            entry: LOAD + 0x1100,
            descriptor: None
        })
    );
    // ELFv2 never consults sections or descriptors, even with nothing there.
    let img = Elf::new(true, 0x1000)
        .ph(load(0x100, 0x1000, 0x10_0000))
        .build();
    let mut e2 = Elf::new(true, 0x1000).ph(load(0x100, 0x1000, 0x10_0000));
    e2.flags = 2;
    assert_eq!(
        inspect(&e2.build()[..0x100], LOAD).map(|p| p.entry),
        Ok(LOAD + 0x100)
    );
    assert!(
        inspect(&img[..0x100], LOAD).is_err(),
        "ELFv1 needs the descriptor bytes"
    );
}

#[test]
fn be_elfv1_needs_the_bytes_it_reads() {
    let img = be_v1(true).build();
    // Section headers cut off.
    assert_eq!(
        inspect(&img[..0x3000], LOAD),
        Err(PayloadError::Truncated {
            needed: 0x3000 + 4 * 64,
            have: 0x3000
        })
    );
    // Descriptor cut off (no sections, so it is the descriptor that is missing).
    let img = be_v1(false).build();
    assert_eq!(
        inspect(&img[..0x2014], LOAD),
        Err(PayloadError::Truncated {
            needed: 0x2018,
            have: 0x2014
        })
    );
}

#[test]
fn be_elfv1_descriptor_pointing_nowhere() {
    let img = be_v1(true).u64_at(0x2010, 0xDEAD_0000).build();
    assert_eq!(
        inspect(&img, LOAD),
        Err(PayloadError::NoSegmentFor(0xDEAD_0000))
    );
}

#[test]
fn bad_section_header_size() {
    let mut e = be_v1(true);
    e.shentsize = 40;
    assert_eq!(
        inspect(&e.build(), LOAD),
        Err(PayloadError::BadShentsize(40))
    );
}

// ---- malformed headers ----

#[test]
fn elf32_is_rejected() {
    let mut e = Elf::new(true, 0x1000);
    e.class = ELFCLASS32;
    assert_eq!(inspect(&e.build(), LOAD), Err(PayloadError::Elf32));
}

#[test]
fn bad_ident_bytes() {
    let mut e = Elf::new(false, 0x1000);
    e.class = 3;
    assert_eq!(inspect(&e.build(), LOAD), Err(PayloadError::BadClass(3)));
    let mut e = Elf::new(false, 0x1000);
    e.data = Some(0);
    assert_eq!(
        inspect(&e.build(), LOAD),
        Err(PayloadError::BadEndianness(0))
    );
}

#[test]
fn other_machines_are_rejected() {
    for (big, m) in [(false, 62u16), (true, 20), (false, 183)] {
        let mut e = Elf::new(big, 0x1000).ph(load(0x100, 0x1000, 0x100));
        e.machine = m;
        assert_eq!(
            inspect(&e.build(), LOAD),
            Err(PayloadError::WrongMachine(m))
        );
    }
}

#[test]
fn non_executable_types_are_rejected() {
    let mut e = Elf::new(false, 0x1000)
        .ph(load(0x100, 0x1000, 0x100))
        .write(0x100, &CODE);
    e.typ = 1; // ET_REL
    assert_eq!(
        inspect(&e.build(), LOAD),
        Err(PayloadError::NotExecutable(1))
    );
    e.typ = ET_DYN; // relocatable kernels
    assert_eq!(inspect(&e.build(), LOAD).map(|p| p.entry), Ok(LOAD + 0x100));
}

#[test]
fn truncated_headers() {
    let img = Elf::new(false, 0x1000)
        .ph(load(0x100, 0x1000, 0x100))
        .build();
    assert_eq!(
        inspect(&img[..5], LOAD),
        Err(PayloadError::Truncated { needed: 6, have: 5 })
    );
    assert_eq!(
        inspect(&img[..40], LOAD),
        Err(PayloadError::Truncated {
            needed: 64,
            have: 40
        })
    );
    // Program header table cut off.
    assert_eq!(
        inspect(&img[..0x60], LOAD),
        Err(PayloadError::Truncated {
            needed: 0x40 + 56,
            have: 0x60
        })
    );
    assert_eq!(
        Elf64::parse(b"\x48\0\0\x10").err(),
        Some(PayloadError::NotElf)
    );
}

#[test]
fn program_header_table_out_of_range() {
    // e_phoff far away: must fail cleanly, not wrap.
    let mut img = Elf::new(false, 0x1000)
        .ph(load(0x100, 0x1000, 0x100))
        .build();
    img[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        inspect(&img, LOAD),
        Err(PayloadError::Truncated { .. })
    ));
}

#[test]
fn too_many_program_headers() {
    let mut e = Elf::new(false, 0x1000);
    e.phnum = Some(MAX_PHNUM + 1);
    assert_eq!(
        inspect(&e.build(), LOAD),
        Err(PayloadError::TooManyProgramHeaders(65))
    );
    e.phnum = Some(0xFFFF); // PN_XNUM
    assert_eq!(
        inspect(&e.build(), LOAD),
        Err(PayloadError::TooManyProgramHeaders(0xFFFF))
    );
}

#[test]
fn wrong_program_header_size() {
    let mut e = Elf::new(false, 0x1000).ph(load(0x100, 0x1000, 0x100));
    e.phentsize = 32;
    assert_eq!(
        inspect(&e.build(), LOAD),
        Err(PayloadError::BadPhentsize(32))
    );
}

#[test]
fn address_overflow() {
    // p_offset so large that e_entry - p_vaddr + p_offset overflows.
    let img = Elf::new(false, 0x1010)
        .ph(load(u64::MAX - 8, 0x1000, 0x100))
        .build();
    assert_eq!(inspect(&img, LOAD), Err(PayloadError::AddressOverflow));
    // Load address near the top.
    let img = Elf::new(false, 0x1000)
        .ph(load(0x2000, 0x1000, 0x100))
        .build();
    assert_eq!(
        inspect(&img, u64::MAX - 0x1000),
        Err(PayloadError::AddressOverflow)
    );
    // A segment reaching past 2^64 still contains addresses near the top.
    let img = Elf::new(false, u64::MAX - 1)
        .ph(load(0x200, u64::MAX - 0xF, 0x100))
        .write(0x20E, &CODE)
        .build();
    assert_eq!(inspect(&img, LOAD).map(|p| p.entry), Ok(LOAD + 0x20E));
}
