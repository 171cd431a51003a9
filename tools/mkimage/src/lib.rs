// SPDX-License-Identifier: Apache-2.0
//! Host-side image tool for Opalite, with two jobs:
//!
//! - `lid`: turn the firmware ELF (big-endian ELF64, linked at `SKIBOOT_BASE`
//!   0x3000_0000) into the raw `.lid` that QEMU loads at real address 0 with `-bios`.
//!   Mirrors skiboot `Makefile.main`'s `%.lid: %.elf` rule (`objcopy -O binary`), with the
//!   checks objcopy does not make: big-endian `EM_PPC64`, no overlapping segments, and
//!   QEMU's 16 MiB `-bios` limit (`FW_MAX_SIZE` in `hw/ppc/pnv.c`); see
//!   `images-boards-mambo.md` §1. With `--container`, an unsigned secure-boot container
//!   header goes in front ([`container`], §1.6), as PNOR's PAYLOAD and BOOTKERNEL carry.
//! - `pnor`: build a PNOR flash image from a layout file, list its partition table,
//!   extract or replace a partition (`images-boards-mambo.md` §2). The formats (FFS table,
//!   ECC, NVRAM) are in the `no_std` `pnor` crate, which the firmware shares.
//!
//! Layout: [`elf`] reads program headers, [`lid`] lays segments out as a raw image,
//! [`layout`] parses PNOR layout files (the format is documented there), [`pnor`] builds
//! and edits images; `main.rs` is the command line. Every failure is an error value
//! with a message that names the problem.
#![forbid(unsafe_code)]

use std::fmt;

pub mod container;
pub mod elf;
pub mod layout;
pub mod lid;
pub mod pnor;
pub mod sha512;

pub use lid::{elf_to_raw, RawImage, MAX_LID_SIZE};

/// Why an ELF could not be turned into an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The file ends before a header or table it declares.
    Truncated { needed: u64, len: usize },
    /// No `\x7fELF` magic.
    NotElf,
    /// `EI_CLASS` is not ELFCLASS64 (value given).
    NotElf64(u8),
    /// `EI_DATA` is not big-endian (value given; 1 = little-endian).
    NotBigEndian(u8),
    /// `e_machine` is not `EM_PPC64`.
    WrongMachine(u16),
    /// `e_phentsize` is not 56.
    BadPhentsize(u16),
    /// `e_phnum` is `PN_XNUM` (extended numbering, never produced for firmware).
    TooManyProgramHeaders,
    /// No `PT_LOAD` segment has file contents.
    NoLoadableSegment,
    /// A `PT_LOAD` has `p_filesz` > `p_memsz`.
    FileszExceedsMemsz {
        index: usize,
        filesz: u64,
        memsz: u64,
    },
    /// A `PT_LOAD`'s file contents lie (partly) outside the file.
    SegmentOutsideFile {
        index: usize,
        offset: u64,
        filesz: u64,
        len: usize,
    },
    /// A `PT_LOAD`'s `p_paddr + p_memsz` does not fit in 64 bits.
    AddressOverflow { index: usize },
    /// Two `PT_LOAD` segments overlap in physical memory (`[start, end)` of each).
    Overlap {
        first: usize,
        second: usize,
        first_range: (u64, u64),
        second_range: (u64, u64),
    },
    /// The raw image would exceed `max` bytes.
    TooLarge { size: u64, max: u64 },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { needed, len } => {
                write!(
                    f,
                    "truncated ELF: needs at least {needed} bytes, file has {len}"
                )
            }
            Error::NotElf => f.write_str("not an ELF file (no \\x7fELF magic)"),
            Error::NotElf64(c) => write!(f, "not a 64-bit ELF (EI_CLASS = {c}, expected 2)"),
            Error::NotBigEndian(1) => {
                f.write_str("ELF is little-endian; the firmware must be built big-endian")
            }
            Error::NotBigEndian(d) => write!(f, "ELF is not big-endian (EI_DATA = {d})"),
            Error::WrongMachine(m) => write!(f, "ELF machine is {m}, expected EM_PPC64 (21)"),
            Error::BadPhentsize(s) => write!(f, "program header size is {s}, expected 56"),
            Error::TooManyProgramHeaders => {
                f.write_str("extended program header numbering (PN_XNUM) is not supported")
            }
            Error::NoLoadableSegment => f.write_str("no PT_LOAD segment with file contents"),
            Error::FileszExceedsMemsz {
                index,
                filesz,
                memsz,
            } => write!(
                f,
                "program header {index}: p_filesz {filesz:#x} exceeds p_memsz {memsz:#x}"
            ),
            Error::SegmentOutsideFile {
                index,
                offset,
                filesz,
                len,
            } => write!(
                f,
                "program header {index}: contents [{offset:#x}, +{filesz:#x}) lie outside \
                 the {len}-byte file"
            ),
            Error::AddressOverflow { index } => {
                write!(f, "program header {index}: p_paddr + p_memsz overflows")
            }
            Error::Overlap {
                first,
                second,
                first_range: a,
                second_range: b,
            } => write!(
                f,
                "program headers {first} and {second} overlap: [{:#x}, {:#x}) and [{:#x}, {:#x})",
                a.0, a.1, b.0, b.1
            ),
            Error::TooLarge { size, max } => write!(
                f,
                "image is {size} bytes, over QEMU's -bios limit of {max} bytes ({} MiB)",
                max >> 20
            ),
        }
    }
}

impl std::error::Error for Error {}
