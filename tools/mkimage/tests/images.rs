// SPDX-License-Identifier: Apache-2.0
//! `elf_to_raw` on synthetic firmware ELFs: the golden case, layout rules, and every
//! rejection with its message.
mod common;

use common::{load, read_hex, three_segments, Elf, Seg, PT_LOAD};
use mkimage::{elf_to_raw, lid::elf_to_raw_with_limit, Error, RawImage, MAX_LID_SIZE};

const BASE: u64 = 0x3000_0000;

#[test]
fn golden_three_segments() {
    let golden = read_hex(include_str!("golden/three_segments.hex"));
    let img = elf_to_raw(&three_segments()).unwrap();
    assert_eq!(
        img,
        RawImage {
            base: BASE,
            entry: 0x3000_0010,
            data: golden
        }
    );
    assert_eq!(
        img.summary("target/opalite.lid"),
        "target/opalite.lid: 40 bytes (1 KiB)"
    );
}

#[test]
fn single_segment_is_copied_verbatim() {
    let code: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let img = elf_to_raw(&Elf::new(BASE + 0x10, vec![load(0x1000, BASE, &code, 0x2000)]).build())
        .unwrap();
    assert_eq!(img.base, BASE);
    assert_eq!(img.data, code);
    assert_eq!(img.summary("x.lid"), "x.lid: 5000 bytes (5 KiB)");
}

#[test]
fn summary_rounds_kib_up() {
    let img = |n| RawImage {
        base: 0,
        entry: 0,
        data: vec![0; n],
    };
    assert_eq!(img(1024).summary("a"), "a: 1024 bytes (1 KiB)");
    assert_eq!(img(1025).summary("a"), "a: 1025 bytes (2 KiB)");
    assert_eq!(img(2_592_960).summary("a"), "a: 2592960 bytes (2533 KiB)");
}

#[test]
fn adjacent_segments_are_fine() {
    let a = load(0x100, BASE, &[1; 16], 16);
    let b = load(0x200, BASE + 16, &[2; 16], 16);
    let img = elf_to_raw(&Elf::new(BASE, vec![a, b]).build()).unwrap();
    assert_eq!(img.data, [[1u8; 16], [2; 16]].concat());
}

#[test]
fn exactly_16_mib_is_accepted() {
    // Two one-byte segments spanning exactly 16 MiB; the file itself stays small.
    let a = load(0x100, BASE, &[0xAA], 1);
    let b = load(0x101, BASE + MAX_LID_SIZE - 1, &[0xBB], 1);
    let img = elf_to_raw(&Elf::new(BASE, vec![a, b]).build()).unwrap();
    assert_eq!(img.data.len() as u64, MAX_LID_SIZE);
    assert_eq!((img.data[0], img.data[img.data.len() - 1]), (0xAA, 0xBB));
}

#[test]
fn over_16_mib_is_rejected() {
    let a = load(0x100, BASE, &[0xAA], 1);
    let b = load(0x101, BASE + MAX_LID_SIZE, &[0xBB], 1);
    let e = elf_to_raw(&Elf::new(BASE, vec![a, b]).build()).unwrap_err();
    assert_eq!(
        e,
        Error::TooLarge {
            size: MAX_LID_SIZE + 1,
            max: MAX_LID_SIZE
        }
    );
    assert_eq!(
        e.to_string(),
        "image is 16777217 bytes, over QEMU's -bios limit of 16777216 bytes (16 MiB)"
    );
}

#[test]
fn bss_beyond_the_limit_does_not_count() {
    let a = load(0x100, BASE, &[1; 8], MAX_LID_SIZE * 2);
    assert_eq!(
        elf_to_raw(&Elf::new(BASE, vec![a]).build())
            .unwrap()
            .data
            .len(),
        8
    );
}

#[test]
fn custom_limit() {
    let a = load(0x100, BASE, &[1; 64], 64);
    let elf = Elf::new(BASE, vec![a]).build();
    assert!(elf_to_raw_with_limit(&elf, 64).is_ok());
    assert_eq!(
        elf_to_raw_with_limit(&elf, 63),
        Err(Error::TooLarge { size: 64, max: 63 })
    );
}

#[test]
fn little_endian_is_rejected() {
    let mut e = Elf::new(BASE, vec![load(0x100, BASE, &[1; 4], 4)]);
    e.data = 1;
    let err = elf_to_raw(&e.build()).unwrap_err();
    assert_eq!(err, Error::NotBigEndian(1));
    assert_eq!(
        err.to_string(),
        "ELF is little-endian; the firmware must be built big-endian"
    );
}

#[test]
fn elf32_is_rejected() {
    let mut e = Elf::new(BASE, vec![load(0x100, BASE, &[1; 4], 4)]);
    e.class = 1;
    let err = elf_to_raw(&e.build()).unwrap_err();
    assert_eq!(err, Error::NotElf64(1));
    assert_eq!(
        err.to_string(),
        "not a 64-bit ELF (EI_CLASS = 1, expected 2)"
    );
}

#[test]
fn other_machine_is_rejected() {
    let mut e = Elf::new(BASE, vec![load(0x100, BASE, &[1; 4], 4)]);
    e.machine = 20; // EM_PPC
    assert_eq!(elf_to_raw(&e.build()), Err(Error::WrongMachine(20)));
}

#[test]
fn not_elf() {
    assert_eq!(elf_to_raw(b"\x7fELG and more bytes"), Err(Error::NotElf));
    assert_eq!(elf_to_raw(b""), Err(Error::NotElf));
    assert_eq!(
        elf_to_raw(b"\x7fEL"),
        Err(Error::Truncated { needed: 64, len: 3 })
    );
}

#[test]
fn overlapping_segments_are_rejected() {
    let a = load(0x100, BASE, &[1; 0x20], 0x20);
    let b = load(0x200, BASE + 0x10, &[2; 0x20], 0x20);
    let err = elf_to_raw(&Elf::new(BASE, vec![a, b]).build()).unwrap_err();
    assert_eq!(
        err,
        Error::Overlap {
            first: 0,
            second: 1,
            first_range: (BASE, BASE + 0x20),
            second_range: (BASE + 0x10, BASE + 0x30)
        }
    );
    assert_eq!(
        err.to_string(),
        "program headers 0 and 1 overlap: [0x30000000, 0x30000020) and [0x30000010, 0x30000030)"
    );
}

#[test]
fn bss_overlapping_the_next_segment_is_rejected() {
    // .data's BSS tail runs into .rodata: zeroing BSS would wipe it at run time.
    let data = load(0x100, BASE, &[1; 0x10], 0x100);
    let ro = load(0x200, BASE + 0x80, &[2; 0x10], 0x10);
    assert!(matches!(
        elf_to_raw(&Elf::new(BASE, vec![ro, data]).build()),
        Err(Error::Overlap {
            first: 0,
            second: 1,
            ..
        })
    ));
}

#[test]
fn no_loadable_segment() {
    let bss = Seg {
        typ: PT_LOAD,
        offset: 0,
        paddr: BASE,
        filesz: 0,
        memsz: 0x100,
        bytes: vec![],
    };
    assert_eq!(
        elf_to_raw(&Elf::new(BASE, vec![bss]).build()),
        Err(Error::NoLoadableSegment)
    );
    assert_eq!(
        elf_to_raw(&Elf::new(BASE, vec![]).build()),
        Err(Error::NoLoadableSegment)
    );
    let note = Seg {
        typ: 4,
        offset: 0x100,
        paddr: 0,
        filesz: 4,
        memsz: 4,
        bytes: vec![1; 4],
    };
    assert_eq!(
        elf_to_raw(&Elf::new(BASE, vec![note]).build()),
        Err(Error::NoLoadableSegment)
    );
}

#[test]
fn truncated_files() {
    let full = three_segments();
    // ELF header cut.
    assert_eq!(
        elf_to_raw(&full[..40]),
        Err(Error::Truncated {
            needed: 64,
            len: 40
        })
    );
    // Program header table cut.
    assert_eq!(
        elf_to_raw(&full[..0x80]),
        Err(Error::Truncated {
            needed: 0x40 + 4 * 56,
            len: 0x80
        })
    );
    // Segment contents cut: the .data bytes at 0x200..0x208.
    let err = elf_to_raw(&full[..0x204]).unwrap_err();
    assert_eq!(
        err,
        Error::SegmentOutsideFile {
            index: 0,
            offset: 0x200,
            filesz: 8,
            len: 0x204
        }
    );
    assert_eq!(
        err.to_string(),
        "program header 0: contents [0x200, +0x8) lie outside the 516-byte file"
    );
}

#[test]
fn malformed_program_headers() {
    let mut e = Elf::new(BASE, vec![load(0x100, BASE, &[1; 4], 4)]);
    e.phentsize = 64;
    assert_eq!(elf_to_raw(&e.build()), Err(Error::BadPhentsize(64)));

    let mut s = load(0x100, BASE, &[1; 8], 4);
    s.memsz = 4;
    assert_eq!(
        elf_to_raw(&Elf::new(BASE, vec![s]).build()),
        Err(Error::FileszExceedsMemsz {
            index: 0,
            filesz: 8,
            memsz: 4
        })
    );

    let mut s = load(0x100, u64::MAX - 2, &[1; 4], 4);
    s.memsz = 4;
    assert_eq!(
        elf_to_raw(&Elf::new(BASE, vec![s]).build()),
        Err(Error::AddressOverflow { index: 0 })
    );

    // p_offset far past the end must not wrap.
    let mut elf = Elf::new(BASE, vec![load(0x100, BASE, &[1; 4], 4)]).build();
    elf[0x40 + 8..0x40 + 16].copy_from_slice(&(u64::MAX - 1).to_be_bytes());
    assert!(matches!(
        elf_to_raw(&elf),
        Err(Error::SegmentOutsideFile { index: 0, .. })
    ));
}
