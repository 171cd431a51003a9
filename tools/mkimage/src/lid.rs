// SPDX-License-Identifier: Apache-2.0
//! Lays the firmware's `PT_LOAD` segments out as a raw `.lid`: byte 0 of the image is the
//! lowest `p_paddr`, gaps are zero, and the image ends at the highest `p_paddr + p_filesz`
//! (BSS past `p_filesz` is not written; the firmware clears it). This is what
//! `objcopy -O binary` makes of skiboot's ELF (`Makefile.main`, `%.lid: %.elf`), plus checks.
use crate::elf::{self, LoadSegment};
use crate::Error;

/// QEMU powernv's `-bios` limit (`FW_MAX_SIZE` in `hw/ppc/pnv.c`, 16 MiB since QEMU 5.2).
pub const MAX_LID_SIZE: u64 = 16 << 20;

/// A raw firmware image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawImage {
    /// Physical address of byte 0 (the lowest `p_paddr`; 0x3000_0000 for Opalite, which QEMU
    /// nevertheless loads at 0).
    pub base: u64,
    /// `e_entry`, for information.
    pub entry: u64,
    /// The image bytes.
    pub data: Vec<u8>,
}

impl RawImage {
    /// The line `mkimage` prints, e.g. `target/opalite.lid: 123456 bytes (121 KiB)`
    /// (KiB rounded up).
    pub fn summary(&self, path: &str) -> String {
        let n = self.data.len();
        format!("{path}: {n} bytes ({} KiB)", n.div_ceil(1024))
    }
}

/// Reject any two segments whose `[p_paddr, p_paddr + p_memsz)` ranges intersect.
fn check_overlaps(segments: &[LoadSegment]) -> Result<(), Error> {
    let mut by_addr: Vec<&LoadSegment> = segments.iter().filter(|s| s.memsz > 0).collect();
    by_addr.sort_by_key(|s| (s.paddr, s.index));
    for pair in by_addr.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        // No overflow: checked by `elf::parse`.
        let a_end = a.paddr + a.memsz;
        if b.paddr < a_end {
            let (first, second) = if a.index < b.index { (a, b) } else { (b, a) };
            return Err(Error::Overlap {
                first: first.index,
                second: second.index,
                first_range: (first.paddr, first.paddr + first.memsz),
                second_range: (second.paddr, second.paddr + second.memsz),
            });
        }
    }
    Ok(())
}

/// Build the raw image from the bytes of a firmware ELF.
pub fn elf_to_raw(file: &[u8]) -> Result<RawImage, Error> {
    elf_to_raw_with_limit(file, MAX_LID_SIZE)
}

/// [`elf_to_raw`] with another size limit (e.g. a PNOR partition's size).
pub fn elf_to_raw_with_limit(file: &[u8], max: u64) -> Result<RawImage, Error> {
    let parsed = elf::parse(file)?;
    check_overlaps(&parsed.segments)?;

    let loaded: Vec<&LoadSegment> = parsed.segments.iter().filter(|s| s.filesz > 0).collect();
    let base = loaded
        .iter()
        .map(|s| s.paddr)
        .min()
        .ok_or(Error::NoLoadableSegment)?;
    let end = loaded
        .iter()
        .map(|s| s.paddr + s.filesz)
        .max()
        .ok_or(Error::NoLoadableSegment)?;
    let size = end - base;
    if size > max {
        return Err(Error::TooLarge { size, max });
    }

    let mut data = vec![0u8; size as usize];
    for s in loaded {
        let at = (s.paddr - base) as usize;
        data[at..at + s.filesz as usize].copy_from_slice(s.contents(file));
    }
    Ok(RawImage {
        base,
        entry: parsed.entry,
        data,
    })
}
