// SPDX-License-Identifier: Apache-2.0
//! The FFS v1 partition table (`skiboot:libflash/ffs.h`, `libffs.c`): a 48-byte header
//! with the "PART" magic at flash offset 0, then `entry_count` 128-byte entries, the first
//! of which, `part`, covers the table itself. Every field is big-endian; offsets and sizes
//! are in erase blocks except `actual`, in bytes. The header and each entry end with a
//! checksum word chosen so that the XOR of all the structure's 32-bit words is zero.
//!
//! [`Toc::parse`] makes the checks skiboot's `ffs_init` makes, and checks every entry
//! once, so that a parsed table hands out only valid entries. [`Header::write`] and
//! [`Entry::write`] produce the bytes with their checksums.

/// "PART".
pub const MAGIC: u32 = 0x5041_5254;
/// The only version there is.
pub const VERSION_1: u32 = 1;
/// Bytes of the header.
pub const HEADER_LEN: usize = 0x30;
/// Bytes of one entry.
pub const ENTRY_LEN: usize = 0x80;
/// Longest name: 16 bytes with the terminating NUL.
pub const NAME_MAX: usize = 15;
/// `pid` of a top-level partition (the only kind the tools make).
pub const PID_TOPLEVEL: u32 = 0xffff_ffff;
/// Name of the entry describing the table.
pub const TOC_NAME: &str = "part";

/// `type`: an ordinary partition.
pub const TYPE_DATA: u32 = 1;
/// `type`: a logical partition (unused on POWER).
pub const TYPE_LOGICAL: u32 = 2;
/// `type`: the partition table.
pub const TYPE_PARTITION: u32 = 3;

/// `flags`: protected (set on the table's own entry).
pub const FLAG_PROTECTED: u32 = 0x1;
/// `flags`: U-Boot environment.
pub const FLAG_U_BOOT_ENV: u32 = 0x2;

/// `user.datainteg`: the partition is ECC protected ([`crate::ecc`]).
pub const DATAINTEG_ECC: u16 = 0x8000;

/// `user.vercheck`: whole-partition SHA-512 version check.
pub const VERCHECK_SHA512V: u8 = 0x80;
/// `user.vercheck`: per-EC SHA-512 version check.
pub const VERCHECK_SHA512EC: u8 = 0x40;

/// `user.miscflags` bits.
pub const MISC_PRESERVED: u8 = 0x80;
pub const MISC_READONLY: u8 = 0x40;
pub const MISC_BACKUP: u8 = 0x20;
pub const MISC_REPROVISION: u8 = 0x10;
pub const MISC_VOLATILE: u8 = 0x08;
pub const MISC_CLEARECC: u8 = 0x04;
pub const MISC_GOLDEN: u8 = 0x01;

/// Why a table did not parse, or an entry could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The buffer ends before `needed` bytes.
    Truncated {
        needed: usize,
        len: usize,
    },
    /// The header reads as all 0xFF: erased flash, or a controller that does not answer.
    Erased,
    BadMagic(u32),
    BadVersion(u32),
    /// The header's words do not XOR to zero (the XOR is given).
    HeaderChecksum(u32),
    BadEntrySize(u32),
    /// Zero, or not a power of two.
    BadBlockSize(u32),
    /// `entry_count` entries do not fit in the `size` blocks the header declares.
    EntriesOverflowTable {
        entry_count: u32,
        table_len: u64,
    },
    /// `block_count * block_size` is larger than the flash.
    FlashTooSmall {
        declared: u64,
        flash: u64,
    },
    /// Entry `index` (0-based) has a bad checksum (the XOR of its words is given).
    EntryChecksum {
        index: usize,
        xor: u32,
    },
    /// Entry `index` has an empty or unterminated name, or one that is not printable ASCII.
    BadName {
        index: usize,
    },
    /// Entry `index` ends past the flash (`block_count`).
    EntryOutsideFlash {
        index: usize,
    },
    /// Entry `index` has a parent (`pid` not [`PID_TOPLEVEL`]).
    NotTopLevel {
        index: usize,
    },
    /// Entry `index` says more bytes are used than it has.
    ActualOverSize {
        index: usize,
    },
    /// A name given to [`Entry::new`] is longer than [`NAME_MAX`].
    NameTooLong,
    /// A name given to [`Entry::new`] is empty or not printable ASCII without spaces.
    InvalidName,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Error::Truncated { needed, len } => {
                write!(
                    f,
                    "partition table truncated: {needed} bytes needed, {len} present"
                )
            }
            Error::Erased => f.write_str("no partition table: the flash reads as all 0xFF"),
            Error::BadMagic(m) => write!(
                f,
                "no partition table: magic {m:#010x}, expected {MAGIC:#010x} (\"PART\")"
            ),
            Error::BadVersion(v) => write!(f, "partition table version {v}, expected 1"),
            Error::HeaderChecksum(x) => {
                write!(
                    f,
                    "partition table header checksum is wrong (words XOR to {x:#010x})"
                )
            }
            Error::BadEntrySize(s) => write!(f, "partition entry size {s}, expected 128"),
            Error::BadBlockSize(s) => write!(f, "bad block size {s:#x}"),
            Error::EntriesOverflowTable {
                entry_count,
                table_len,
            } => write!(
                f,
                "{entry_count} partition entries do not fit in a {table_len:#x}-byte table"
            ),
            Error::FlashTooSmall { declared, flash } => write!(
                f,
                "the table describes a {declared:#x}-byte flash, the image has {flash:#x} bytes"
            ),
            Error::EntryChecksum { index, xor } => write!(
                f,
                "partition entry {} checksum is wrong (words XOR to {xor:#010x})",
                index + 1
            ),
            Error::BadName { index } => write!(f, "partition entry {} has a bad name", index + 1),
            Error::EntryOutsideFlash { index } => {
                write!(f, "partition entry {} ends past the flash", index + 1)
            }
            Error::NotTopLevel { index } => {
                write!(f, "partition entry {} is not top-level", index + 1)
            }
            Error::ActualOverSize { index } => write!(
                f,
                "partition entry {} uses more bytes than it has",
                index + 1
            ),
            Error::NameTooLong => write!(f, "name longer than {NAME_MAX} characters"),
            Error::InvalidName => {
                f.write_str("name must be 1 to 15 printable ASCII characters, no spaces")
            }
        }
    }
}

/// XOR of the big-endian 32-bit words of `bytes` (its length is a multiple of 4). The
/// stored checksum is the XOR of the words before it, so a valid structure XORs to 0.
pub fn checksum(bytes: &[u8]) -> u32 {
    bytes
        .chunks_exact(4)
        .fold(0, |x, w| x ^ u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
}

fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_be_bytes());
}

/// The table header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Size of the table in blocks.
    pub size: u32,
    pub entry_count: u32,
    /// Erase block size in bytes.
    pub block_size: u32,
    /// Flash size in blocks.
    pub block_count: u32,
}

impl Header {
    /// Reads and checks a header (magic, version, checksum, entry size, block size, that
    /// the entries fit in the table).
    pub fn parse(b: &[u8]) -> Result<Header, Error> {
        let b = b.get(..HEADER_LEN).ok_or(Error::Truncated {
            needed: HEADER_LEN,
            len: b.len(),
        })?;
        if b.iter().all(|&x| x == 0xff) {
            return Err(Error::Erased);
        }
        if be32(b, 0) != MAGIC {
            return Err(Error::BadMagic(be32(b, 0)));
        }
        if be32(b, 4) != VERSION_1 {
            return Err(Error::BadVersion(be32(b, 4)));
        }
        match checksum(b) {
            0 => {}
            x => return Err(Error::HeaderChecksum(x)),
        }
        if be32(b, 0x0c) != ENTRY_LEN as u32 {
            return Err(Error::BadEntrySize(be32(b, 0x0c)));
        }
        let h = Header {
            size: be32(b, 0x08),
            entry_count: be32(b, 0x10),
            block_size: be32(b, 0x14),
            block_count: be32(b, 0x18),
        };
        if !h.block_size.is_power_of_two() {
            return Err(Error::BadBlockSize(h.block_size));
        }
        if HEADER_LEN as u64 + u64::from(h.entry_count) * ENTRY_LEN as u64 > h.table_len() {
            return Err(Error::EntriesOverflowTable {
                entry_count: h.entry_count,
                table_len: h.table_len(),
            });
        }
        Ok(h)
    }

    /// Bytes of the table (`size` blocks).
    pub fn table_len(&self) -> u64 {
        u64::from(self.size) * u64::from(self.block_size)
    }

    /// Bytes of flash the table describes.
    pub fn flash_len(&self) -> u64 {
        u64::from(self.block_count) * u64::from(self.block_size)
    }

    /// Bytes the header and its entries occupy.
    pub fn used_len(&self) -> usize {
        HEADER_LEN + self.entry_count as usize * ENTRY_LEN
    }

    /// Writes the 48 header bytes, checksum included, into `out[..HEADER_LEN]`.
    pub fn write(&self, out: &mut [u8]) {
        let b = &mut out[..HEADER_LEN];
        b.fill(0);
        put32(b, 0x00, MAGIC);
        put32(b, 0x04, VERSION_1);
        put32(b, 0x08, self.size);
        put32(b, 0x0c, ENTRY_LEN as u32);
        put32(b, 0x10, self.entry_count);
        put32(b, 0x14, self.block_size);
        put32(b, 0x18, self.block_count);
        let sum = checksum(&b[..HEADER_LEN - 4]);
        put32(b, HEADER_LEN - 4, sum);
    }
}

/// One partition entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// NUL-padded name.
    pub name: [u8; NAME_MAX + 1],
    /// Start in blocks.
    pub base: u32,
    /// Length in blocks (on flash, ECC bytes included).
    pub size: u32,
    pub pid: u32,
    /// 1-based position in the table.
    pub id: u32,
    pub kind: u32,
    pub flags: u32,
    /// Bytes in use (on flash, ECC bytes included); informational.
    pub actual: u32,
    pub chip: u8,
    pub compress_type: u8,
    pub data_integrity: u16,
    pub version_check: u8,
    pub misc_flags: u8,
}

impl Entry {
    /// A top-level data entry with nothing else set; `id` is filled in by the writer.
    pub fn new(name: &str, base: u32, size: u32) -> Result<Entry, Error> {
        let bytes = name.as_bytes();
        if bytes.len() > NAME_MAX {
            return Err(Error::NameTooLong);
        }
        if bytes.is_empty() || !bytes.iter().all(|c| c.is_ascii_graphic()) {
            return Err(Error::InvalidName);
        }
        let mut n = [0u8; NAME_MAX + 1];
        n[..bytes.len()].copy_from_slice(bytes);
        Ok(Entry {
            name: n,
            base,
            size,
            pid: PID_TOPLEVEL,
            id: 0,
            kind: TYPE_DATA,
            flags: 0,
            actual: 0,
            chip: 0,
            compress_type: 0,
            data_integrity: 0,
            version_check: 0,
            misc_flags: 0,
        })
    }

    /// Reads entry `index` from its 128 bytes, checking the checksum and the name.
    pub fn parse(b: &[u8], index: usize) -> Result<Entry, Error> {
        let b = b.get(..ENTRY_LEN).ok_or(Error::Truncated {
            needed: ENTRY_LEN,
            len: b.len(),
        })?;
        match checksum(b) {
            0 => {}
            xor => return Err(Error::EntryChecksum { index, xor }),
        }
        let mut name = [0u8; NAME_MAX + 1];
        name.copy_from_slice(&b[..NAME_MAX + 1]);
        let len = name.iter().position(|&c| c == 0);
        match len {
            Some(n) if n > 0 && name[..n].iter().all(|c| c.is_ascii_graphic()) => {}
            _ => return Err(Error::BadName { index }),
        }
        Ok(Entry {
            name,
            base: be32(b, 0x10),
            size: be32(b, 0x14),
            pid: be32(b, 0x18),
            id: be32(b, 0x1c),
            kind: be32(b, 0x20),
            flags: be32(b, 0x24),
            actual: be32(b, 0x28),
            chip: b[0x3c],
            compress_type: b[0x3d],
            data_integrity: u16::from_be_bytes([b[0x3e], b[0x3f]]),
            version_check: b[0x40],
            misc_flags: b[0x41],
        })
    }

    /// Writes the 128 entry bytes, checksum included, into `out[..ENTRY_LEN]`.
    pub fn write(&self, out: &mut [u8]) {
        let b = &mut out[..ENTRY_LEN];
        b.fill(0);
        b[..NAME_MAX].copy_from_slice(&self.name[..NAME_MAX]);
        put32(b, 0x10, self.base);
        put32(b, 0x14, self.size);
        put32(b, 0x18, self.pid);
        put32(b, 0x1c, self.id);
        put32(b, 0x20, self.kind);
        put32(b, 0x24, self.flags);
        put32(b, 0x28, self.actual);
        b[0x3c] = self.chip;
        b[0x3d] = self.compress_type;
        b[0x3e..0x40].copy_from_slice(&self.data_integrity.to_be_bytes());
        b[0x40] = self.version_check;
        b[0x41] = self.misc_flags;
        let sum = checksum(&b[..ENTRY_LEN - 4]);
        put32(b, ENTRY_LEN - 4, sum);
    }

    /// The name, without its NUL padding.
    pub fn name(&self) -> &str {
        let n = self.name.iter().position(|&c| c == 0).unwrap_or(NAME_MAX);
        core::str::from_utf8(&self.name[..n]).unwrap_or("?")
    }

    /// Whether the name is `name`, compared on [`NAME_MAX`] characters as skiboot does.
    pub fn is_named(&self, name: &str) -> bool {
        let n = name.as_bytes();
        let n = &n[..n.len().min(NAME_MAX)];
        self.name() == core::str::from_utf8(n).unwrap_or("")
    }

    pub fn has_ecc(&self) -> bool {
        self.data_integrity & DATAINTEG_ECC != 0
    }

    /// Flash offset in bytes.
    pub fn offset(&self, block_size: u32) -> u64 {
        u64::from(self.base) * u64::from(block_size)
    }

    /// Length on flash in bytes.
    pub fn len(&self, block_size: u32) -> u64 {
        u64::from(self.size) * u64::from(block_size)
    }
}

/// A checked partition table over the bytes that hold it.
#[derive(Clone, Copy, Debug)]
pub struct Toc<'a> {
    pub header: Header,
    table: &'a [u8],
}

impl<'a> Toc<'a> {
    /// Parses the table at the start of `table` (at least the header and its entries; the
    /// whole image will do) on a flash of `flash_len` bytes, checking the header and every
    /// entry: checksum, name, top-level, inside the flash, `actual` within the size.
    pub fn parse(table: &'a [u8], flash_len: u64) -> Result<Toc<'a>, Error> {
        let header = Header::parse(table)?;
        if header.flash_len() > flash_len {
            return Err(Error::FlashTooSmall {
                declared: header.flash_len(),
                flash: flash_len,
            });
        }
        let used = header.used_len();
        let table = table.get(..used).ok_or(Error::Truncated {
            needed: used,
            len: table.len(),
        })?;
        let toc = Toc { header, table };
        for index in 0..header.entry_count as usize {
            let e = Entry::parse(toc.entry_bytes(index), index)?;
            if e.pid != PID_TOPLEVEL {
                return Err(Error::NotTopLevel { index });
            }
            if u64::from(e.base) + u64::from(e.size) > u64::from(header.block_count) {
                return Err(Error::EntryOutsideFlash { index });
            }
            if u64::from(e.actual) > e.len(header.block_size) {
                return Err(Error::ActualOverSize { index });
            }
        }
        Ok(toc)
    }

    fn entry_bytes(&self, index: usize) -> &'a [u8] {
        let start = HEADER_LEN + index * ENTRY_LEN;
        &self.table[start..start + ENTRY_LEN]
    }

    /// The entries, in table order.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + 'a {
        let toc = *self;
        // Checked by `parse`: no entry fails here.
        (0..self.header.entry_count as usize)
            .filter_map(move |i| Entry::parse(toc.entry_bytes(i), i).ok())
    }

    /// The entry called `name`, if any.
    pub fn find(&self, name: &str) -> Option<(usize, Entry)> {
        self.entries().enumerate().find(|(_, e)| e.is_named(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64 KiB flash, 4 KiB blocks, a one-block table: `part` and `DATA` (ECC).
    fn sample() -> [u8; 4096] {
        let mut t = [0xffu8; 4096];
        Header {
            size: 1,
            entry_count: 2,
            block_size: 4096,
            block_count: 16,
        }
        .write(&mut t);
        let mut part = Entry::new(TOC_NAME, 0, 1).unwrap();
        part.id = 1;
        part.kind = TYPE_PARTITION;
        part.flags = FLAG_PROTECTED;
        part.actual = 4096;
        part.write(&mut t[HEADER_LEN..]);
        let mut data = Entry::new("DATA", 2, 3).unwrap();
        data.id = 2;
        data.data_integrity = DATAINTEG_ECC;
        data.misc_flags = MISC_PRESERVED | MISC_READONLY;
        data.write(&mut t[HEADER_LEN + ENTRY_LEN..]);
        t
    }

    #[test]
    fn header_bytes_and_checksum() {
        let t = sample();
        assert_eq!(&t[..4], b"PART");
        // Words: PART, 1, 1, 0x80, 2, 0x1000, 16, then zeros.
        let expect = MAGIC ^ 1 ^ 1 ^ 0x80 ^ 2 ^ 0x1000 ^ 16;
        assert_eq!(be32(&t, 0x2c), expect);
        assert_eq!(checksum(&t[..HEADER_LEN]), 0);
        assert_eq!(checksum(&t[HEADER_LEN..HEADER_LEN + ENTRY_LEN]), 0);
    }

    #[test]
    fn entry_checksum_by_hand() {
        let t = sample();
        let e = &t[HEADER_LEN + ENTRY_LEN..HEADER_LEN + 2 * ENTRY_LEN];
        // "DATA", base 2, size 3, pid, id 2, type 1, datainteg 0x8000 at 0x3e,
        // miscflags 0xc0 at 0x41 (word 0x40: 00 c0 00 00).
        let expect = u32::from_be_bytes(*b"DATA")
            ^ 2
            ^ 3
            ^ PID_TOPLEVEL
            ^ 2
            ^ TYPE_DATA
            ^ 0x0000_8000
            ^ 0x00c0_0000;
        assert_eq!(be32(e, 0x7c), expect);
    }

    #[test]
    fn parse_round_trip() {
        let t = sample();
        let toc = Toc::parse(&t, 65536).unwrap();
        assert_eq!(toc.header.entry_count, 2);
        let names: [&str; 2] = [TOC_NAME, "DATA"];
        for (e, n) in toc.entries().zip(names) {
            assert_eq!(e.name(), n);
        }
        let (i, d) = toc.find("DATA").unwrap();
        assert_eq!(i, 1);
        assert!(d.has_ecc());
        assert_eq!((d.offset(4096), d.len(4096)), (0x2000, 0x3000));
        assert_eq!(d.misc_flags, MISC_PRESERVED | MISC_READONLY);
        assert!(toc.find("data").is_none());
        assert!(toc.find("DATA-MORE-THAN-15").is_none());
    }

    #[test]
    fn corruption_is_detected() {
        let t = sample();
        assert_eq!(Header::parse(&[0xff; 48]), Err(Error::Erased));
        let mut bad = t;
        bad[0x09] ^= 1;
        assert!(matches!(
            Toc::parse(&bad, 65536),
            Err(Error::HeaderChecksum(_))
        ));
        let mut bad = t;
        bad[0] = b'X';
        assert!(matches!(Toc::parse(&bad, 65536), Err(Error::BadMagic(_))));
        let mut bad = t;
        bad[HEADER_LEN + ENTRY_LEN + 0x15] ^= 0x40;
        assert_eq!(
            Toc::parse(&bad, 65536).unwrap_err(),
            Error::EntryChecksum {
                index: 1,
                xor: 0x0040_0000
            }
        );
        assert!(matches!(
            Toc::parse(&t, 32768),
            Err(Error::FlashTooSmall { .. })
        ));
        assert!(matches!(
            Toc::parse(&t[..100], 65536),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn entries_are_checked() {
        let mut t = sample();
        let mut e = Entry::parse(&t[HEADER_LEN + ENTRY_LEN..], 1).unwrap();
        e.size = 15;
        e.write(&mut t[HEADER_LEN + ENTRY_LEN..]);
        assert_eq!(
            Toc::parse(&t, 65536).unwrap_err(),
            Error::EntryOutsideFlash { index: 1 }
        );
        e.size = 3;
        e.pid = 1;
        e.write(&mut t[HEADER_LEN + ENTRY_LEN..]);
        assert_eq!(
            Toc::parse(&t, 65536).unwrap_err(),
            Error::NotTopLevel { index: 1 }
        );
        e.pid = PID_TOPLEVEL;
        e.actual = 0x3001;
        e.write(&mut t[HEADER_LEN + ENTRY_LEN..]);
        assert_eq!(
            Toc::parse(&t, 65536).unwrap_err(),
            Error::ActualOverSize { index: 1 }
        );
    }

    #[test]
    fn names() {
        assert!(Entry::new("ABCDEFGHIJKLMNO", 0, 1).is_ok());
        assert_eq!(
            Entry::new("ABCDEFGHIJKLMNOP", 0, 1),
            Err(Error::NameTooLong)
        );
        assert_eq!(Entry::new("", 0, 1), Err(Error::InvalidName));
        assert_eq!(Entry::new("A B", 0, 1), Err(Error::InvalidName));
    }

    #[test]
    fn too_many_entries_for_the_table() {
        let mut t = [0u8; 48];
        Header {
            size: 1,
            entry_count: 32,
            block_size: 4096,
            block_count: 16,
        }
        .write(&mut t);
        assert!(matches!(
            Header::parse(&t),
            Err(Error::EntriesOverflowTable { .. })
        ));
    }
}
