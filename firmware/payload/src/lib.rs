// SPDX-License-Identifier: Apache-2.0
//! Recognises the OS payload (normally Linux, or petitboot's zImage) that was placed in
//! memory before the firmware hands over — on QEMU, the raw `-kernel` file copied to
//! 0x2000_0000 — and computes where to jump. Nothing is copied: like skiboot, Opalite runs
//! an ELF payload **in place**, ignoring the segments' load addresses.
//!
//! Mirrors skiboot `core/init.c` (`load_kernel`, `try_load_elf64`, `try_load_elf64_le`);
//! see `opal-boot-contract.md` §3.1:
//!
//! * no `\x7fELF` magic → a raw image, entered at its first byte;
//! * ELF64 little-endian, `EM_PPC64` → entry = load + (`e_entry` − `p_vaddr` + `p_offset`) of
//!   the `PT_LOAD` segment containing `e_entry` (Debian's 6.1 kernel: 0x2001_0000);
//! * ELF64 big-endian, `EM_PPC64`: the same; for ELFv1 (`e_flags & 3 != 2`) `e_entry` may
//!   name a function descriptor, whose first doubleword is the code address, translated
//!   the same way. As in skiboot, the descriptor is *not* used when `e_entry` lies in an
//!   executable section: a big-endian Linux `vmlinux` is ELFv1 yet its `e_entry` is code.
//!
//! Everything is read from the byte slice given; header fields are never trusted to stay
//! inside it, and every failure is a [`PayloadError`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use core::fmt;

/// Where QEMU powernv copies `-kernel` (`KERNEL_LOAD_ADDR` in `hw/ppc/pnv.c`).
pub const KERNEL_LOAD_ADDR: u64 = 0x2000_0000;

pub const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
pub const ELFCLASS32: u8 = 1;
pub const ELFCLASS64: u8 = 2;
pub const ELFDATA2LSB: u8 = 1;
pub const ELFDATA2MSB: u8 = 2;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const EM_PPC64: u16 = 21;
pub const PT_LOAD: u32 = 1;
pub const SHF_ALLOC: u64 = 0x2;
pub const SHF_EXECINSTR: u64 = 0x4;
/// `e_flags` ABI version field for 64-bit PowerPC (`EF_PPC64_ABI`).
pub const EF_PPC64_ABI: u32 = 3;

const EHDR_SIZE: u64 = 64;
const PHDR_SIZE: u16 = 56;
const SHDR_SIZE: u16 = 64;
/// More program headers than any kernel has; also excludes `PN_XNUM` (0xFFFF).
pub const MAX_PHNUM: u16 = 64;

/// What kind of payload was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No ELF header: entered at its first byte.
    Raw,
    /// ELF64 little-endian (ELFv2), e.g. a ppc64le Linux.
    Elf64Le,
    /// ELF64 big-endian with ELFv1 `e_flags` (0 or 1).
    Elf64BeV1,
    /// ELF64 big-endian, ELFv2.
    Elf64BeV2,
}

/// The payload and the real address to branch to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload {
    pub kind: Kind,
    pub entry: u64,
    /// For ELFv1 when `e_entry` named a function descriptor: its file offset (the entry is
    /// the code address found there).
    pub descriptor: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// [`Elf64::parse`] was given something without the ELF magic.
    NotElf,
    /// The headers (or the descriptor) extend past the bytes given: `needed` bytes from the
    /// start of the image would be required.
    Truncated { needed: u64, have: usize },
    /// `EI_CLASS` is ELFCLASS32; 32-bit payloads are not supported.
    Elf32,
    /// `EI_CLASS` is neither 32- nor 64-bit.
    BadClass(u8),
    /// `EI_DATA` is neither little- nor big-endian.
    BadEndianness(u8),
    /// `e_machine` is not `EM_PPC64`.
    WrongMachine(u16),
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN`.
    NotExecutable(u16),
    /// `e_phentsize` is not 56.
    BadPhentsize(u16),
    /// `e_phnum` above [`MAX_PHNUM`].
    TooManyProgramHeaders(u16),
    /// `e_shentsize` is not 64 (checked only when sections are consulted).
    BadShentsize(u16),
    /// No `PT_LOAD` segment contains this virtual address (`e_entry`, or the code address
    /// read from an ELFv1 descriptor).
    NoSegmentFor(u64),
    /// A file offset or the final address does not fit in 64 bits.
    AddressOverflow,
    /// The word at the entry point is zero: nothing was loaded there (skiboot: "Kernel is
    /// zeros, can't execute!"). Checked only when the entry lies inside the bytes given.
    EntryIsZeros,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::NotElf => f.write_str("not an ELF image"),
            PayloadError::Truncated { needed, have } => {
                write!(f, "payload headers need {needed} bytes, have {have}")
            }
            PayloadError::Elf32 => f.write_str("32-bit ELF payloads are not supported"),
            PayloadError::BadClass(c) => write!(f, "bad ELF class {c}"),
            PayloadError::BadEndianness(d) => write!(f, "bad ELF data encoding {d}"),
            PayloadError::WrongMachine(m) => write!(f, "ELF machine {m} is not ppc64 (21)"),
            PayloadError::NotExecutable(t) => write!(f, "ELF type {t} is not executable"),
            PayloadError::BadPhentsize(s) => write!(f, "bad program header size {s}"),
            PayloadError::TooManyProgramHeaders(n) => write!(f, "{n} program headers"),
            PayloadError::BadShentsize(s) => write!(f, "bad section header size {s}"),
            PayloadError::NoSegmentFor(v) => write!(f, "no PT_LOAD segment contains {v:#x}"),
            PayloadError::AddressOverflow => f.write_str("payload address overflows"),
            PayloadError::EntryIsZeros => f.write_str("payload entry is zeros"),
        }
    }
}

/// Endian-aware, bounds-checked field access.
#[derive(Clone, Copy)]
struct Bytes<'a> {
    b: &'a [u8],
    big: bool,
}

impl<'a> Bytes<'a> {
    fn get<const N: usize>(&self, off: u64) -> Result<[u8; N], PayloadError> {
        let truncated = PayloadError::Truncated {
            needed: off.saturating_add(N as u64),
            have: self.b.len(),
        };
        let start = usize::try_from(off).map_err(|_| truncated)?;
        let end = start.checked_add(N).ok_or(truncated)?;
        let s = self.b.get(start..end).ok_or(truncated)?;
        let mut out = [0; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    fn u16(&self, off: u64) -> Result<u16, PayloadError> {
        let a = self.get::<2>(off)?;
        Ok(if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }
    fn u32(&self, off: u64) -> Result<u32, PayloadError> {
        let a = self.get::<4>(off)?;
        Ok(if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    fn u64(&self, off: u64) -> Result<u64, PayloadError> {
        let a = self.get::<8>(off)?;
        Ok(if self.big {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }
    /// `count` entries of `size` bytes from `off` are inside the slice.
    fn check_table(&self, off: u64, count: u16, size: u16) -> Result<(), PayloadError> {
        let end = u128::from(off) + u128::from(count) * u128::from(size);
        if end > self.b.len() as u128 {
            return Err(PayloadError::Truncated {
                needed: u64::try_from(end).unwrap_or(u64::MAX),
                have: self.b.len(),
            });
        }
        Ok(())
    }
}

/// A `PT_LOAD` program header (the fields used here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

impl Segment {
    /// `vaddr` in `[p_vaddr, p_vaddr + p_memsz)`.
    pub fn contains(&self, vaddr: u64) -> bool {
        vaddr >= self.vaddr && u128::from(vaddr) < u128::from(self.vaddr) + u128::from(self.memsz)
    }
}

/// A validated ELF64 `EM_PPC64` header over the image bytes.
#[derive(Clone, Copy)]
pub struct Elf64<'a> {
    bytes: Bytes<'a>,
    entry: u64,
    flags: u32,
    phoff: u64,
    phnum: u16,
    shoff: u64,
    shentsize: u16,
    shnum: u16,
}

impl<'a> Elf64<'a> {
    /// Checks the identification, machine, type and program header table (which must lie
    /// inside `image`).
    pub fn parse(image: &'a [u8]) -> Result<Self, PayloadError> {
        let have = image.len();
        match image.get(..4) {
            None => return Err(PayloadError::Truncated { needed: 4, have }),
            Some(m) if m != ELF_MAGIC => return Err(PayloadError::NotElf),
            Some(_) => {}
        }
        let ident = |i: usize| {
            image.get(i).copied().ok_or(PayloadError::Truncated {
                needed: i as u64 + 1,
                have,
            })
        };
        match ident(4)? {
            ELFCLASS64 => {}
            ELFCLASS32 => return Err(PayloadError::Elf32),
            c => return Err(PayloadError::BadClass(c)),
        }
        let big = match ident(5)? {
            ELFDATA2LSB => false,
            ELFDATA2MSB => true,
            d => return Err(PayloadError::BadEndianness(d)),
        };
        if (have as u64) < EHDR_SIZE {
            return Err(PayloadError::Truncated {
                needed: EHDR_SIZE,
                have,
            });
        }
        let bytes = Bytes { b: image, big };
        let machine = bytes.u16(18)?;
        if machine != EM_PPC64 {
            return Err(PayloadError::WrongMachine(machine));
        }
        let typ = bytes.u16(16)?;
        if typ != ET_EXEC && typ != ET_DYN {
            return Err(PayloadError::NotExecutable(typ));
        }
        let phentsize = bytes.u16(54)?;
        let phnum = bytes.u16(56)?;
        if phnum > MAX_PHNUM {
            return Err(PayloadError::TooManyProgramHeaders(phnum));
        }
        if phnum > 0 && phentsize != PHDR_SIZE {
            return Err(PayloadError::BadPhentsize(phentsize));
        }
        let phoff = bytes.u64(32)?;
        bytes.check_table(phoff, phnum, PHDR_SIZE)?;
        Ok(Self {
            bytes,
            entry: bytes.u64(24)?,
            flags: bytes.u32(48)?,
            phoff,
            phnum,
            shoff: bytes.u64(40)?,
            shentsize: bytes.u16(58)?,
            shnum: bytes.u16(60)?,
        })
    }

    pub fn is_big_endian(&self) -> bool {
        self.bytes.big
    }
    /// `e_flags & EF_PPC64_ABI`: 2 for ELFv2, 1 (or 0, unspecified) for ELFv1.
    pub fn abi_version(&self) -> u32 {
        self.flags & EF_PPC64_ABI
    }
    pub fn entry_vaddr(&self) -> u64 {
        self.entry
    }

    /// The `PT_LOAD` segments, in program header order.
    pub fn load_segments(&self) -> impl Iterator<Item = Segment> + '_ {
        (0..u64::from(self.phnum)).filter_map(move |i| {
            // In bounds: checked by `parse`.
            let ph = self.phoff + i * u64::from(PHDR_SIZE);
            let b = &self.bytes;
            if b.u32(ph).ok()? != PT_LOAD {
                return None;
            }
            Some(Segment {
                offset: b.u64(ph + 8).ok()?,
                vaddr: b.u64(ph + 16).ok()?,
                filesz: b.u64(ph + 32).ok()?,
                memsz: b.u64(ph + 40).ok()?,
            })
        })
    }

    /// File offset of `vaddr` through the first `PT_LOAD` segment containing it.
    pub fn vaddr_to_file_offset(&self, vaddr: u64) -> Result<u64, PayloadError> {
        let seg = self
            .load_segments()
            .find(|s| s.contains(vaddr))
            .ok_or(PayloadError::NoSegmentFor(vaddr))?;
        (vaddr - seg.vaddr)
            .checked_add(seg.offset)
            .ok_or(PayloadError::AddressOverflow)
    }

    /// skiboot's test for "`e_entry` is code": it lies in an allocated section with
    /// `SHF_EXECINSTR`. No section headers → false (skiboot then assumes a descriptor).
    /// skiboot looks at every section; this only at `SHF_ALLOC` ones, so that non-loaded
    /// sections (address 0) cannot match a payload linked at 0.
    pub fn entry_in_exec_section(&self) -> Result<bool, PayloadError> {
        if self.shnum == 0 {
            return Ok(false);
        }
        if self.shentsize != SHDR_SIZE {
            return Err(PayloadError::BadShentsize(self.shentsize));
        }
        self.bytes.check_table(self.shoff, self.shnum, SHDR_SIZE)?;
        for i in 0..u64::from(self.shnum) {
            let sh = self.shoff + i * u64::from(SHDR_SIZE);
            let flags = self.bytes.u64(sh + 8)?;
            let addr = self.bytes.u64(sh + 16)?;
            let size = self.bytes.u64(sh + 32)?;
            let inside =
                self.entry >= addr && u128::from(self.entry) < u128::from(addr) + u128::from(size);
            if flags & SHF_ALLOC != 0 && inside {
                return Ok(flags & SHF_EXECINSTR != 0);
            }
        }
        Ok(false)
    }
}

/// Classify the payload whose first bytes are `image`, loaded at real address `load_addr`,
/// and compute its entry point.
///
/// `image` must cover the ELF and program headers. For a big-endian ELFv1 payload it must
/// also cover the section headers (usually at the end of the file) and the function
/// descriptor, so pass the whole image there; else [`PayloadError::Truncated`] says how
/// many bytes are needed.
pub fn inspect(image: &[u8], load_addr: u64) -> Result<Payload, PayloadError> {
    match image.get(..4) {
        None => {
            return Err(PayloadError::Truncated {
                needed: 4,
                have: image.len(),
            });
        }
        Some(m) if m != ELF_MAGIC => {
            if m == [0; 4] {
                return Err(PayloadError::EntryIsZeros);
            }
            return Ok(Payload {
                kind: Kind::Raw,
                entry: load_addr,
                descriptor: None,
            });
        }
        Some(_) => {}
    }

    let elf = Elf64::parse(image)?;
    let entry_off = elf.vaddr_to_file_offset(elf.entry)?;
    let (kind, code_off, descriptor) = if !elf.is_big_endian() {
        (Kind::Elf64Le, entry_off, None)
    } else if elf.abi_version() == 2 {
        (Kind::Elf64BeV2, entry_off, None)
    } else if elf.entry_in_exec_section()? {
        (Kind::Elf64BeV1, entry_off, None)
    } else {
        let code = elf.bytes.u64(entry_off)?;
        (
            Kind::Elf64BeV1,
            elf.vaddr_to_file_offset(code)?,
            Some(entry_off),
        )
    };

    if let Ok(word) = elf.bytes.get::<4>(code_off) {
        if word == [0; 4] {
            return Err(PayloadError::EntryIsZeros);
        }
    }
    let entry = load_addr
        .checked_add(code_off)
        .ok_or(PayloadError::AddressOverflow)?;
    Ok(Payload {
        kind,
        entry,
        descriptor,
    })
}

#[cfg(test)]
mod tests;
