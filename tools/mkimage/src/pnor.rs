// SPDX-License-Identifier: Apache-2.0
//! PNOR images: [`build`] one from a [`Layout`], [`list`] its table, [`extract`] and
//! [`replace`] a partition. The formats themselves live in the `pnor` crate, which the
//! firmware shares; this module only arranges them in an image held in memory.
//!
//! What goes where:
//! - the table at offset 0: the header, a `part` entry covering the `toc` bytes (type
//!   partition, flag protected, as skiboot's and ffspart's images have), then one entry
//!   per partition in offset order, ids from 1;
//! - bytes no partition covers stay erased (0xFF);
//! - an `ecc` partition is encoded over all its whole 9-byte groups (content, then zero
//!   padding); a leftover byte at the end (4096 = 455 × 9 + 1) stays 0xFF;
//! - an entry's `actual` is the bytes its content uses on flash: for a `file`, the file
//!   (ECC-encoded if `ecc`); otherwise the whole partition, or with `ecc` its whole
//!   groups (20 KiB: 2275 groups, 20475 bytes). `pflash -r` and [`extract`] read that
//!   many bytes, so a file comes back as it went in (an `ecc` one padded with zeros to a
//!   multiple of 8 bytes). `pflash --ecc` reads `actual × 8 / 9` data bytes, rounded up
//!   to a group: with `actual` = 20480 it would read 5 bytes past the partition and fail.
use std::fmt;
use std::path::Path;

use ::pnor::{ecc, ffs, nvram};

use crate::layout::{Content, Flags, Layout};

/// Why an image could not be built, read or changed.
#[derive(Debug)]
pub enum PnorError {
    /// A content file could not be read.
    Read { path: String, error: String },
    /// A content does not fit its partition (sizes in data bytes, ECC accounted for).
    TooLarge {
        name: String,
        len: u64,
        capacity: u64,
        ecc: bool,
    },
    /// The NVRAM partition cannot hold skiboot's layout.
    Nvram { name: String, error: nvram::Error },
    /// The image's partition table is invalid.
    Table(ffs::Error),
    /// No partition of that name.
    NoSuchPartition(String),
    /// `replace` on the table itself.
    IsTable,
    /// An ECC error no single-bit correction explains, at this image offset.
    Uncorrectable { name: String, offset: u64 },
}

impl fmt::Display for PnorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PnorError::Read { path, error } => write!(f, "cannot read {path}: {error}"),
            PnorError::TooLarge {
                name,
                len,
                capacity,
                ecc,
            } => write!(
                f,
                "{len} bytes do not fit in partition {name}: it holds {capacity} bytes{}",
                if *ecc {
                    " of data (ECC takes 1 byte in 9)"
                } else {
                    ""
                }
            ),
            PnorError::Nvram { name, error } => write!(f, "partition {name}: {error}"),
            PnorError::Table(e) => write!(f, "bad partition table: {e}"),
            PnorError::NoSuchPartition(n) => write!(f, "no partition named {n}"),
            PnorError::IsTable => f.write_str("the partition table itself cannot be replaced"),
            PnorError::Uncorrectable { name, offset } => write!(
                f,
                "partition {name}: uncorrectable ECC error in the 9-byte group at image \
                 offset {offset:#x}"
            ),
        }
    }
}

impl std::error::Error for PnorError {}

/// Data bytes a partition of `raw` flash bytes holds.
pub fn capacity(raw: u64, ecc: bool) -> u64 {
    if ecc {
        ecc::capacity(raw as usize) as u64
    } else {
        raw
    }
}

/// Fills `area` (one partition) with `data`: ECC-encoded and zero-padded over every whole
/// group, or copied then padded with 0xFF. Returns the bytes `data` took on flash.
fn fill(area: &mut [u8], data: &[u8], ecc: bool) -> u64 {
    if ecc {
        let mut plain = vec![0u8; ecc::capacity(area.len())];
        plain[..data.len()].copy_from_slice(data);
        let used = ecc::encode(&plain, area).expect("the partition holds its capacity");
        area[used..].fill(0xff);
        ecc::encoded_len(data.len()) as u64
    } else {
        area[..data.len()].copy_from_slice(data);
        area[data.len()..].fill(0xff);
        data.len() as u64
    }
}

fn too_large(name: &str, len: u64, raw: u64, ecc: bool) -> PnorError {
    PnorError::TooLarge {
        name: name.to_string(),
        len,
        capacity: capacity(raw, ecc),
        ecc,
    }
}

/// The data a generated content stands for, sized to the partition's capacity; `None`
/// for a file (read by the caller).
fn generated(content: &Content, name: &str, cap: usize) -> Result<Option<Vec<u8>>, PnorError> {
    Ok(Some(match content {
        Content::File(_) | Content::Container(_) => return Ok(None),
        Content::Zero => vec![0; cap],
        Content::Erased => vec![0xff; cap],
        Content::Nvram(setting) => {
            // A whole number of 16-byte units, as the CHRP lengths count.
            let mut nv = vec![0u8; cap & !15];
            nvram::format(&mut nv).map_err(|error| PnorError::Nvram {
                name: name.to_string(),
                error,
            })?;
            if let Some(kv) = setting {
                // `key=value` NUL-terminated at the start of the ibm,skiboot data.
                let room = nvram::SIZE_FW_PRIV - nvram::HEADER_LEN - 1;
                if kv.len() > room {
                    return Err(PnorError::Nvram {
                        name: name.to_string(),
                        error: nvram::Error::BadSize(kv.len()),
                    });
                }
                nv[nvram::HEADER_LEN..nvram::HEADER_LEN + kv.len()].copy_from_slice(kv.as_bytes());
            }
            nv.resize(cap, 0);
            nv
        }
        Content::Version(text) => {
            // NUL-terminated, NUL-padded: 0xFF padding makes skiboot skip the text.
            if text.len() + 1 > cap {
                return Err(too_large(name, text.len() as u64 + 1, cap as u64, false));
            }
            let mut v = text.as_bytes().to_vec();
            v.resize(cap, 0);
            v
        }
    }))
}

/// Builds the image `layout` describes; `base` is the directory `file` paths are relative
/// to. Nothing is written anywhere: the caller saves the bytes.
pub fn build(layout: &Layout, base: &Path) -> Result<Vec<u8>, PnorError> {
    let block = layout.block as u32;
    let mut image = vec![0xffu8; layout.size as usize];
    let mut entries = Vec::with_capacity(layout.partitions.len() + 1);

    let mut part = ffs::Entry::new(ffs::TOC_NAME, 0, (layout.toc / layout.block) as u32)
        .expect("a valid name");
    part.kind = ffs::TYPE_PARTITION;
    part.flags = ffs::FLAG_PROTECTED;
    part.actual = layout.toc as u32;
    entries.push(part);

    for p in &layout.partitions {
        let (start, end) = (p.offset as usize, (p.offset + p.size) as usize);
        let area = &mut image[start..end];
        let cap = capacity(p.size, p.flags.ecc) as usize;
        let actual = match generated(&p.content, &p.name, cap)? {
            Some(data) => fill(area, &data, p.flags.ecc),
            None => {
                let (Content::File(path) | Content::Container(path)) = &p.content else {
                    unreachable!()
                };
                let path = base.join(path);
                let mut data = std::fs::read(&path).map_err(|e| PnorError::Read {
                    path: path.display().to_string(),
                    error: e.to_string(),
                })?;
                if matches!(p.content, Content::Container(_)) {
                    let mut wrapped = crate::container::header(&data);
                    wrapped.append(&mut data);
                    data = wrapped;
                }
                if data.len() > cap {
                    return Err(too_large(&p.name, data.len() as u64, p.size, p.flags.ecc));
                }
                fill(area, &data, p.flags.ecc)
            }
        };
        let mut e = ffs::Entry::new(
            &p.name,
            (p.offset / layout.block) as u32,
            (p.size / layout.block) as u32,
        )
        .expect("names are checked by the layout parser");
        set_flags(&mut e, p.flags);
        e.actual = actual as u32;
        entries.push(e);
    }

    ffs::Header {
        size: part.size,
        entry_count: entries.len() as u32,
        block_size: block,
        block_count: (layout.size / layout.block) as u32,
    }
    .write(&mut image);
    for (i, e) in entries.iter_mut().enumerate() {
        e.id = i as u32 + 1;
        e.write(&mut image[ffs::HEADER_LEN + i * ffs::ENTRY_LEN..]);
    }
    // The rest of the table's blocks: zero, as libffs leaves it.
    let used = ffs::HEADER_LEN + entries.len() * ffs::ENTRY_LEN;
    image[used..layout.toc as usize].fill(0);
    Ok(image)
}

fn set_flags(e: &mut ffs::Entry, flags: Flags) {
    if flags.ecc {
        e.data_integrity = ffs::DATAINTEG_ECC;
    }
    e.misc_flags = flags.misc;
}

/// The checked table of `image`.
pub fn table(image: &[u8]) -> Result<ffs::Toc<'_>, PnorError> {
    ffs::Toc::parse(image, image.len() as u64).map_err(PnorError::Table)
}

/// One line of [`list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub id: u32,
    pub name: String,
    pub offset: u64,
    pub size: u64,
    pub actual: u32,
    pub ecc: bool,
    pub misc: u8,
    pub protected: bool,
}

/// The partitions of `image`, checksums checked.
pub fn list(image: &[u8]) -> Result<(ffs::Header, Vec<Row>), PnorError> {
    let toc = table(image)?;
    let bs = toc.header.block_size;
    let rows = toc
        .entries()
        .map(|e| Row {
            id: e.id,
            name: e.name().to_string(),
            offset: e.offset(bs),
            size: e.len(bs),
            actual: e.actual,
            ecc: e.has_ecc(),
            misc: e.misc_flags,
            protected: e.flags & ffs::FLAG_PROTECTED != 0,
        })
        .collect();
    Ok((toc.header, rows))
}

impl Row {
    /// `ecc,preserved`, `protected`, or `-`.
    pub fn flag_words(&self) -> String {
        let words = Flags::words(self.ecc, self.misc);
        match (self.protected, words.as_str()) {
            (false, _) => words,
            (true, "-") => "protected".to_string(),
            (true, w) => format!("protected,{w}"),
        }
    }
}

/// A corrected bit found by [`extract`]: its byte's offset in the image and the bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixed {
    pub offset: u64,
    pub bit: ecc::Syndrome,
}

/// The data of partition `name`: its `actual` bytes, ECC checked and removed when the
/// partition is `ecc`. Corrected single-bit errors are returned with it.
pub fn extract(image: &[u8], name: &str) -> Result<(Vec<u8>, Vec<Fixed>), PnorError> {
    let toc = table(image)?;
    let (_, e) = toc
        .find(name)
        .ok_or_else(|| PnorError::NoSuchPartition(name.to_string()))?;
    let start = e.offset(toc.header.block_size) as usize;
    let raw = &image[start..start + e.actual as usize];
    if !e.has_ecc() {
        return Ok((raw.to_vec(), Vec::new()));
    }
    let mut out = vec![0u8; ecc::capacity(raw.len())];
    let mut fixed = Vec::new();
    ecc::decode(raw, &mut out, |c| {
        fixed.push(Fixed {
            offset: (start + c.byte_offset()) as u64,
            bit: c.bit,
        })
    })
    .map_err(|err| match err {
        ecc::Error::Uncorrectable { offset, .. } => PnorError::Uncorrectable {
            name: e.name().to_string(),
            offset: (start + offset) as u64,
        },
        ecc::Error::BufferTooSmall { .. } => unreachable!("sized by capacity"),
    })?;
    Ok((out, fixed))
}

/// Replaces the content of partition `name` with `data` (ECC-encoded if the partition
/// is `ecc`), rest of the partition as [`build`] fills it, and updates the entry's
/// `actual` and checksum. `image` is unchanged on error.
pub fn replace(image: &mut [u8], name: &str, data: &[u8]) -> Result<(), PnorError> {
    let toc = table(image)?;
    let (index, mut e) = toc
        .find(name)
        .ok_or_else(|| PnorError::NoSuchPartition(name.to_string()))?;
    if e.kind == ffs::TYPE_PARTITION || index == 0 {
        return Err(PnorError::IsTable);
    }
    let bs = toc.header.block_size;
    let (start, raw) = (e.offset(bs) as usize, e.len(bs));
    if data.len() as u64 > capacity(raw, e.has_ecc()) {
        return Err(too_large(e.name(), data.len() as u64, raw, e.has_ecc()));
    }
    let area = &mut image[start..start + raw as usize];
    e.actual = fill(area, data, e.has_ecc()) as u32;
    e.write(&mut image[ffs::HEADER_LEN + index * ffs::ENTRY_LEN..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mkimage-pnor-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    const LAYOUT: &str = "\
size 1M
block 4K
toc 8K
partition VERSION 0x2000 4K readonly version open-power-test-v1\\nskiboot-v0
partition HBEL    0x4000 8K ecc,preserved zero
partition NVRAM   0x10000 128K preserved nvram
partition HBB     0x30000 8K ecc file hbb.bin
partition PAYLOAD 0x40000 64K - file payload.bin
partition SPARE   0x60000 4K - erased
";

    fn built(dir: &Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let hbb: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let payload: Vec<u8> = (0..40_001u32).map(|i| (i ^ (i >> 8)) as u8).collect();
        std::fs::write(dir.join("hbb.bin"), &hbb).unwrap();
        std::fs::write(dir.join("payload.bin"), &payload).unwrap();
        let image = build(&layout::parse(LAYOUT).unwrap(), dir).unwrap();
        (image, hbb, payload)
    }

    #[test]
    fn build_list_extract_round_trip() {
        let dir = scratch("rt");
        let (image, hbb, payload) = built(&dir);
        assert_eq!(image.len(), 1 << 20);
        assert_eq!(&image[..4], b"PART");
        let (h, rows) = list(&image).unwrap();
        assert_eq!(
            (h.size, h.block_size, h.block_count, h.entry_count),
            (2, 4096, 256, 7)
        );
        let summary: Vec<(u32, &str, u64, u64, String)> = rows
            .iter()
            .map(|r| (r.id, r.name.as_str(), r.offset, r.size, r.flag_words()))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "part", 0, 0x2000, "protected".to_string()),
                (2, "VERSION", 0x2000, 0x1000, "readonly".to_string()),
                (3, "HBEL", 0x4000, 0x2000, "ecc,preserved".to_string()),
                (4, "NVRAM", 0x10000, 0x20000, "preserved".to_string()),
                (5, "HBB", 0x30000, 0x2000, "ecc".to_string()),
                (6, "PAYLOAD", 0x40000, 0x10000, "-".to_string()),
                (7, "SPARE", 0x60000, 0x1000, "-".to_string()),
            ]
        );
        // Files come back as they went in (ECC ones zero-padded to 8 bytes).
        let (p, fixed) = extract(&image, "PAYLOAD").unwrap();
        assert_eq!((p, fixed.len()), (payload, 0));
        let (h, fixed) = extract(&image, "HBB").unwrap();
        assert_eq!(
            (&h[..1000], &h[1000..], fixed.len()),
            (&hbb[..], &[0u8; 0][..], 0)
        );
        assert_eq!(rows[4].actual, 1000 / 8 * 9);
        // Generated contents fill the partition.
        let (v, _) = extract(&image, "VERSION").unwrap();
        assert!(v.starts_with(b"open-power-test-v1\nskiboot-v0\0\0"));
        assert_eq!(v.len(), 4096);
        let (z, _) = extract(&image, "HBEL").unwrap();
        assert_eq!(z, vec![0u8; ecc::capacity(8192)]);
        assert_eq!(rows[2].actual, 8192 / 9 * 9);
        assert_eq!(rows[3].actual, 0x20000);
        let (nv, _) = extract(&image, "NVRAM").unwrap();
        let parts: Vec<_> = nvram::partitions(&nv).map(Result::unwrap).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2].len, 0x20000 - 0x11000);
        assert_eq!(extract(&image, "SPARE").unwrap().0, vec![0xff; 4096]);
        // Gaps are erased; the table's unused bytes are zero.
        assert!(image[0x7000..0x8000].iter().all(|&b| b == 0xff));
        assert!(image[0x30 + 7 * 0x80..0x2000].iter().all(|&b| b == 0));
        assert!(matches!(
            extract(&image, "NOPE"),
            Err(PnorError::NoSuchPartition(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ecc_errors_are_corrected_or_reported() {
        let dir = scratch("ecc");
        let (mut image, hbb, _) = built(&dir);
        image[0x30000 + 9 * 3 + 2] ^= 0x10; // group 3, data byte 2
        let (h, fixed) = extract(&image, "HBB").unwrap();
        assert_eq!(&h[..1000], &hbb[..]);
        assert_eq!(
            fixed,
            [Fixed {
                offset: 0x30000 + 27 + 2,
                bit: ecc::Syndrome::DataBit(2 * 8 + 3)
            }]
        );
        image[0x30000 + 9 * 5] ^= 0x03; // two bits of group 5
        match extract(&image, "HBB") {
            Err(PnorError::Uncorrectable { offset, .. }) => assert_eq!(offset, 0x30000 + 45),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_table_is_an_error() {
        let dir = scratch("corrupt");
        let (image, _, _) = built(&dir);
        let mut bad = image.clone();
        bad[0x30 + 3 * 0x80 + 0x17] ^= 1; // lowest bit of NVRAM's size
        let e = list(&bad).unwrap_err();
        assert!(matches!(
            e,
            PnorError::Table(ffs::Error::EntryChecksum { index: 3, .. })
        ));
        assert_eq!(
            e.to_string(),
            "bad partition table: partition entry 4 checksum is wrong (words XOR to 0x00000001)"
        );
        let mut bad = image.clone();
        bad[0x10] ^= 1;
        assert!(matches!(
            list(&bad),
            Err(PnorError::Table(ffs::Error::HeaderChecksum(_)))
        ));
        assert!(matches!(
            list(&vec![0xff; 4096]),
            Err(PnorError::Table(ffs::Error::Erased))
        ));
        assert!(matches!(
            list(&image[..0x80000]),
            Err(PnorError::Table(ffs::Error::FlashTooSmall { .. }))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn container_content_puts_the_file_behind_an_stb_header() {
        let dir = scratch("container");
        std::fs::write(dir.join("rootfs"), b"070701 a cpio archive").unwrap();
        let l = layout::parse("size 64K\nblock 4K\npartition ROOTFS 8K 8K - container rootfs\n")
            .unwrap();
        let img = build(&l, &dir).unwrap();
        let part = &img[0x2000..0x4000];
        assert_eq!(&part[..4], &crate::container::MAGIC.to_be_bytes());
        assert_eq!(&part[0x1000..0x1015], b"070701 a cpio archive");
        let (_, rows) = list(&img).unwrap();
        let rootfs = rows.iter().find(|r| r.name == "ROOTFS").unwrap();
        assert_eq!(rootfs.actual, 0x1000 + 21);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn too_large_contents() {
        let dir = scratch("large");
        std::fs::write(dir.join("big"), vec![1u8; 4096]).unwrap();
        std::fs::write(dir.join("fits-ecc"), vec![1u8; 3640]).unwrap();
        std::fs::write(dir.join("over-ecc"), vec![1u8; 3641]).unwrap();
        let l = |content: &str, flags: &str| {
            layout::parse(&format!(
                "size 64K\nblock 4K\npartition A 8K 4K {flags} {content}\n"
            ))
            .unwrap()
        };
        assert!(build(&l("file big", "-"), &dir).is_ok());
        assert!(build(&l("file fits-ecc", "ecc"), &dir).is_ok());
        match build(&l("file over-ecc", "ecc"), &dir) {
            Err(PnorError::TooLarge {
                len: 3641,
                capacity: 3640,
                ecc: true,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        match build(&l("file big", "ecc"), &dir) {
            Err(e @ PnorError::TooLarge { .. }) => assert_eq!(
                e.to_string(),
                "4096 bytes do not fit in partition A: it holds 3640 bytes of data (ECC takes 1 \
                 byte in 9)"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            build(&l("file missing", "-"), &dir),
            Err(PnorError::Read { .. })
        ));
        assert!(matches!(
            build(&l("nvram", "-"), &dir),
            Err(PnorError::Nvram { .. })
        ));
        let text = "x".repeat(70);
        let long = format!("version {}", [text.as_str(); 60].join("\\n"));
        assert!(matches!(
            build(&l(&long, "-"), &dir),
            Err(PnorError::TooLarge { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn replace_in_place() {
        let dir = scratch("replace");
        let (mut image, _, _) = built(&dir);
        let before = image.clone();
        let new: Vec<u8> = (0..5000u32).map(|i| (i * 13) as u8).collect();
        replace(&mut image, "PAYLOAD", &new).unwrap();
        assert_eq!(extract(&image, "PAYLOAD").unwrap().0, new);
        assert!(image[0x40000 + 5000..0x50000].iter().all(|&b| b == 0xff));
        // Only the partition and its entry changed.
        assert_eq!(image[0x50000..], before[0x50000..]);
        assert_eq!(image[0x2000..0x40000], before[0x2000..0x40000]);
        replace(&mut image, "HBB", &new[..64]).unwrap();
        assert_eq!(extract(&image, "HBB").unwrap().0, &new[..64]);
        let (_, rows) = list(&image).unwrap();
        assert_eq!(rows[4].actual, 72);
        let snapshot = image.clone();
        assert!(matches!(
            replace(&mut image, "HBB", &[0u8; 8192]),
            Err(PnorError::TooLarge { capacity: 7280, .. })
        ));
        assert!(matches!(
            replace(&mut image, "part", &[0u8; 8]),
            Err(PnorError::IsTable)
        ));
        assert!(matches!(
            replace(&mut image, "NOPE", &[0u8; 8]),
            Err(PnorError::NoSuchPartition(_))
        ));
        assert_eq!(image, snapshot);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
