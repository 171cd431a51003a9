// SPDX-License-Identifier: Apache-2.0
//! Reads the program headers of the firmware ELF: big-endian ELF64, `EM_PPC64`, as
//! produced by `ld.lld` for `firmware/powerpc64-opal.json`. Only what image building needs
//! is decoded; every offset and size is checked against the file before use.
//!
//! Field offsets are those of the ELF-64 object file format (as in skiboot
//! `include/elf.h`).
use crate::Error;

pub const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
pub const ELFCLASS64: u8 = 2;
pub const ELFDATA2MSB: u8 = 2;
pub const EM_PPC64: u16 = 21;
pub const PT_LOAD: u32 = 1;
const EHDR_SIZE: u64 = 64;
const PHDR_SIZE: u16 = 56;
const PN_XNUM: u16 = 0xFFFF;

/// A `PT_LOAD` program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    /// Index in the program header table (for messages).
    pub index: usize,
    pub offset: u64,
    pub vaddr: u64,
    pub paddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub flags: u32,
}

impl LoadSegment {
    /// The bytes this segment takes from the file.
    pub fn contents<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        // In range: checked by `parse`.
        &file[self.offset as usize..(self.offset + self.filesz) as usize]
    }
}

/// The parts of a firmware ELF that image building uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareElf {
    pub entry: u64,
    /// Every `PT_LOAD` segment, in program header order.
    pub segments: Vec<LoadSegment>,
}

fn be<const N: usize>(file: &[u8], off: u64) -> Result<[u8; N], Error> {
    let err = Error::Truncated {
        needed: off.saturating_add(N as u64),
        len: file.len(),
    };
    let start = usize::try_from(off).map_err(|_| err.clone())?;
    let bytes = start
        .checked_add(N)
        .and_then(|end| file.get(start..end))
        .ok_or(err)?;
    let mut out = [0; N];
    out.copy_from_slice(bytes);
    Ok(out)
}
fn be16(file: &[u8], off: u64) -> Result<u16, Error> {
    be(file, off).map(u16::from_be_bytes)
}
fn be32(file: &[u8], off: u64) -> Result<u32, Error> {
    be(file, off).map(u32::from_be_bytes)
}
fn be64(file: &[u8], off: u64) -> Result<u64, Error> {
    be(file, off).map(u64::from_be_bytes)
}

/// Checks the ELF identification and machine and returns the `PT_LOAD` segments.
pub fn parse(file: &[u8]) -> Result<FirmwareElf, Error> {
    let len = file.len();
    match file.get(..4) {
        Some(m) if m == ELF_MAGIC => {}
        Some(_) => return Err(Error::NotElf),
        None if file.is_empty() || !ELF_MAGIC.starts_with(file) => return Err(Error::NotElf),
        None => {
            return Err(Error::Truncated {
                needed: EHDR_SIZE,
                len,
            })
        }
    }
    let class = be::<1>(file, 4)?[0];
    if class != ELFCLASS64 {
        return Err(Error::NotElf64(class));
    }
    let data = be::<1>(file, 5)?[0];
    if data != ELFDATA2MSB {
        return Err(Error::NotBigEndian(data));
    }
    if (len as u64) < EHDR_SIZE {
        return Err(Error::Truncated {
            needed: EHDR_SIZE,
            len,
        });
    }
    let machine = be16(file, 18)?;
    if machine != EM_PPC64 {
        return Err(Error::WrongMachine(machine));
    }
    let entry = be64(file, 24)?;
    let phoff = be64(file, 32)?;
    let phentsize = be16(file, 54)?;
    let phnum = be16(file, 56)?;
    if phnum == PN_XNUM {
        return Err(Error::TooManyProgramHeaders);
    }
    if phnum > 0 && phentsize != PHDR_SIZE {
        return Err(Error::BadPhentsize(phentsize));
    }
    let table_end = u128::from(phoff) + u128::from(phnum) * u128::from(PHDR_SIZE);
    if table_end > len as u128 {
        let needed = u64::try_from(table_end).unwrap_or(u64::MAX);
        return Err(Error::Truncated { needed, len });
    }

    let mut segments = Vec::new();
    for index in 0..usize::from(phnum) {
        let ph = phoff + (index as u64) * u64::from(PHDR_SIZE);
        if be32(file, ph)? != PT_LOAD {
            continue;
        }
        let seg = LoadSegment {
            index,
            flags: be32(file, ph + 4)?,
            offset: be64(file, ph + 8)?,
            vaddr: be64(file, ph + 16)?,
            paddr: be64(file, ph + 24)?,
            filesz: be64(file, ph + 32)?,
            memsz: be64(file, ph + 40)?,
        };
        if seg.filesz > seg.memsz {
            return Err(Error::FileszExceedsMemsz {
                index,
                filesz: seg.filesz,
                memsz: seg.memsz,
            });
        }
        if u128::from(seg.offset) + u128::from(seg.filesz) > len as u128 {
            return Err(Error::SegmentOutsideFile {
                index,
                offset: seg.offset,
                filesz: seg.filesz,
                len,
            });
        }
        if seg.paddr.checked_add(seg.memsz).is_none() {
            return Err(Error::AddressOverflow { index });
        }
        segments.push(seg);
    }
    Ok(FirmwareElf { entry, segments })
}
