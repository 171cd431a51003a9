// SPDX-License-Identifier: Apache-2.0
//! The PNOR layout file `mkimage pnor build` reads. One statement per line; `#` starts a
//! comment (anywhere, even in a path or a version text); words are separated by spaces or tabs. Numbers are decimal or `0x` hex, with
//! an optional `K`, `M` or `G` suffix (binary: 4K = 4096).
//!
//! ```text
//! size 32M                  # flash size (required)
//! block 4K                  # erase block (required; a power of two)
//! toc 32K                   # table size (optional; default: the blocks the table needs)
//! # partition NAME     OFFSET    SIZE  FLAGS            CONTENT
//! partition VERSION    0x8000    4K    readonly         version open-power-opalite-v0.1
//! partition NVRAM      0x10000   576K  preserved        nvram
//! partition HBEL       0xa0000   144K  ecc              zero
//! partition GUARD      0xd0000   20K   ecc,preserved    zero
//! partition PAYLOAD    0x100000  1M    readonly         file opalite.lid
//! partition BOOTKERNEL 0x200000  15M   -                file zImage.epapr
//! ```
//!
//! The table (the `part` entry) always starts at offset 0. FLAGS is `-` or a
//! comma-separated list of `ecc`, `preserved`, `readonly`, `backup`, `reprovision`,
//! `volatile`, `clearecc`, `golden` (the partition attributes `pflash -i` shows as
//! `E P R B F V C G`). CONTENT is one of:
//!
//! - `file PATH`: the file's bytes (a path relative to the layout file's directory; the
//!   rest of the line, so it may contain spaces), then erased flash (0xFF) up to the
//!   end, or, with `ecc`, zeros, all ECC-encoded;
//! - `container PATH`: the file behind an unsigned secure-boot container header
//!   ([`crate::container`]), as op-build stores BOOTKERNEL and ROOTFS (skiboot reads a
//!   non-ELF partition such as an initramfs only from a container, whose header gives its
//!   size);
//! - `zero`: zeros (ECC-encoded with `ecc`: an erased ECC partition does not check);
//! - `erased`: 0xFF (not allowed with `ecc`);
//! - `nvram [KEY=VALUE]`: an empty NVRAM as skiboot formats one (`ibm,skiboot`, `common`,
//!   free space), with one optional firmware setting (the rest of the line, e.g.
//!   `bootargs=console=hvc0 quiet`) in the `ibm,skiboot` partition, where skiboot and
//!   Opalite look for `bootargs`;
//! - `version TEXT`: the VERSION text skiboot reads (the rest of the line; `\n` separates
//!   lines, each under 80 characters), NUL-padded.
//!
//! Parsing checks everything that does not need the content files: sizes and offsets are
//! block multiples, partitions lie inside the flash and after the table, they do not
//! overlap, names are valid FFS names and unique (ignoring case, as libffs does). File
//! sizes are checked when the image is built ([`crate::pnor::build`]).
use std::fmt;
use std::path::PathBuf;

use ::pnor::ffs;

/// Partition attributes a layout line can set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub ecc: bool,
    /// Bits for the entry's `user.miscflags` ([`ffs::MISC_PRESERVED`], ...).
    pub misc: u8,
}

/// The flag words and their `miscflags` bit (0 for `ecc`, which is `datainteg`).
pub const FLAG_WORDS: [(&str, u8); 8] = [
    ("ecc", 0),
    ("preserved", ffs::MISC_PRESERVED),
    ("readonly", ffs::MISC_READONLY),
    ("backup", ffs::MISC_BACKUP),
    ("reprovision", ffs::MISC_REPROVISION),
    ("volatile", ffs::MISC_VOLATILE),
    ("clearecc", ffs::MISC_CLEARECC),
    ("golden", ffs::MISC_GOLDEN),
];

impl Flags {
    /// The flags as a layout file writes them (`-` for none).
    pub fn words(ecc: bool, misc: u8) -> String {
        let w: Vec<&str> = FLAG_WORDS
            .iter()
            .filter(|(name, bit)| {
                if *bit == 0 {
                    ecc && *name == "ecc"
                } else {
                    misc & bit != 0
                }
            })
            .map(|(name, _)| *name)
            .collect();
        if w.is_empty() {
            "-".to_string()
        } else {
            w.join(",")
        }
    }
}

/// What a partition is filled with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    File(PathBuf),
    Zero,
    Erased,
    /// An empty NVRAM, with an optional `key=value` firmware setting.
    Nvram(Option<String>),
    /// A file behind an unsigned secure-boot header.
    Container(PathBuf),
    /// The text, with `\n` escapes turned into newlines.
    Version(String),
}

/// One `partition` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Line number in the layout file (1-based).
    pub line: usize,
    pub name: String,
    pub offset: u64,
    pub size: u64,
    pub flags: Flags,
    pub content: Content,
}

/// A parsed and checked layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub size: u64,
    pub block: u64,
    /// Bytes of the table at offset 0.
    pub toc: u64,
    pub partitions: Vec<Partition>,
}

/// What is wrong with a layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A line starting with an unknown word.
    UnknownStatement(String),
    /// A statement with missing or extra words (the expected form is given).
    Usage(&'static str),
    BadNumber(String),
    /// `size`, `block` or `toc` given twice.
    Repeated(&'static str),
    /// `size` or `block` missing.
    Missing(&'static str),
    BadBlockSize(u64),
    /// `what` (e.g. "offset of HBB") is not a multiple of the block size.
    NotBlockMultiple {
        what: String,
        value: u64,
        block: u64,
    },
    ZeroSize(String),
    UnknownFlag(String),
    UnknownContent(String),
    /// `file` without a path, `version` without text.
    MissingArgument(&'static str),
    NameTooLong(String),
    BadName(String),
    /// The name `part` is the table's own entry.
    ReservedName(String),
    /// A second partition with this name (ignoring case), and the first one's line.
    Duplicate {
        name: String,
        first_line: usize,
    },
    /// The partition ends past the flash.
    PastEnd {
        name: String,
        end: u64,
        size: u64,
    },
    /// Two partitions overlap; the other one's name and line.
    Overlap {
        name: String,
        other: String,
        other_line: usize,
    },
    /// The partition starts inside the table.
    OverlapsToc {
        name: String,
        toc: u64,
    },
    /// The table is too small for its entries.
    TocTooSmall {
        toc: u64,
        needed: u64,
    },
    /// `erased` on an `ecc` partition.
    ErasedEcc(String),
    /// A VERSION line of 80 characters or more.
    VersionLineTooLong(usize),
    /// More blocks than FFS's 32-bit fields hold.
    TooBig(u64),
}

/// A [`Problem`] and the line it is on (0: the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutError {
    pub line: usize,
    pub problem: Problem,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        match &self.problem {
            Problem::UnknownStatement(w) => write!(
                f,
                "unknown statement `{w}` (expected size, block, toc or partition)"
            ),
            Problem::Usage(form) => write!(f, "expected `{form}`"),
            Problem::BadNumber(w) => write!(f, "`{w}` is not a number (e.g. 4096, 0x1000, 4K)"),
            Problem::Repeated(w) => write!(f, "`{w}` given twice"),
            Problem::Missing(w) => write!(f, "no `{w}` line"),
            Problem::BadBlockSize(b) => write!(f, "block size {b:#x} is not a power of two"),
            Problem::NotBlockMultiple { what, value, block } => write!(
                f,
                "{what} ({value:#x}) is not a multiple of the block size ({block:#x})"
            ),
            Problem::ZeroSize(n) => write!(f, "partition {n} has size 0"),
            Problem::UnknownFlag(w) => write!(
                f,
                "unknown partition flag `{w}` (known: {}, or - for none)",
                FLAG_WORDS.map(|(n, _)| n).join(", ")
            ),
            Problem::UnknownContent(w) => write!(
                f,
                "unknown content `{w}` (expected file PATH, zero, erased, nvram or version TEXT)"
            ),
            Problem::MissingArgument(w) => write!(f, "`{w}` needs an argument"),
            Problem::NameTooLong(n) => write!(
                f,
                "partition name {n} is {} characters, FFS allows at most {}",
                n.len(),
                ffs::NAME_MAX
            ),
            Problem::BadName(n) => write!(f, "partition name `{n}` is not printable ASCII"),
            Problem::ReservedName(n) => {
                write!(f, "partition name {n} is reserved for the partition table")
            }
            Problem::Duplicate { name, first_line } => write!(
                f,
                "partition {name} is already defined on line {first_line} (names ignore case)"
            ),
            Problem::PastEnd { name, end, size } => write!(
                f,
                "partition {name} ends at {end:#x}, past the end of the {size:#x}-byte image"
            ),
            Problem::Overlap {
                name,
                other,
                other_line,
            } => write!(
                f,
                "partition {name} overlaps partition {other} (line {other_line})"
            ),
            Problem::OverlapsToc { name, toc } => write!(
                f,
                "partition {name} overlaps the partition table (offset 0, {toc:#x} bytes)"
            ),
            Problem::TocTooSmall { toc, needed } => write!(
                f,
                "the partition table needs {needed:#x} bytes, toc is {toc:#x}"
            ),
            Problem::ErasedEcc(n) => write!(
                f,
                "partition {n} is ecc: erased flash does not check as ECC; use zero"
            ),
            Problem::VersionLineTooLong(n) => write!(
                f,
                "VERSION line of {n} characters; skiboot skips lines of 80 or more"
            ),
            Problem::TooBig(v) => write!(f, "{v:#x} bytes is more than FFS can describe"),
        }
    }
}

impl std::error::Error for LayoutError {}

fn err(line: usize, problem: Problem) -> LayoutError {
    LayoutError { line, problem }
}

/// Parses a number: decimal or `0x` hex, optional `K`/`M`/`G` suffix.
pub fn parse_number(word: &str) -> Option<u64> {
    let (digits, shift) = match word.as_bytes().last()? {
        b'K' | b'k' => (&word[..word.len() - 1], 10),
        b'M' | b'm' => (&word[..word.len() - 1], 20),
        b'G' | b'g' => (&word[..word.len() - 1], 30),
        _ => (word, 0),
    };
    let n = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    };
    n.checked_mul(1 << shift)
}

/// Bytes the table takes for `partitions` entries plus its own.
pub fn table_bytes(partitions: usize) -> u64 {
    (ffs::HEADER_LEN + (partitions + 1) * ffs::ENTRY_LEN) as u64
}

/// Splits off the first word; returns it and the rest, trimmed.
fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    Some((&s[..end], s[end..].trim()))
}

fn number(line: usize, w: &str) -> Result<u64, LayoutError> {
    parse_number(w).ok_or_else(|| err(line, Problem::BadNumber(w.to_string())))
}

fn parse_flags(line: usize, w: &str) -> Result<Flags, LayoutError> {
    let mut flags = Flags::default();
    if w == "-" {
        return Ok(flags);
    }
    for f in w.split(',') {
        match FLAG_WORDS.iter().find(|(name, _)| *name == f) {
            Some((_, 0)) => flags.ecc = true,
            Some((_, bit)) => flags.misc |= bit,
            None => return Err(err(line, Problem::UnknownFlag(f.to_string()))),
        }
    }
    Ok(flags)
}

fn parse_content(line: usize, rest: &str) -> Result<Content, LayoutError> {
    let (kind, arg) = word(rest).ok_or(err(
        line,
        Problem::Usage("partition NAME OFFSET SIZE FLAGS CONTENT"),
    ))?;
    let no_arg = |c: Content| {
        if arg.is_empty() {
            Ok(c)
        } else {
            Err(err(
                line,
                Problem::Usage("partition NAME OFFSET SIZE FLAGS CONTENT"),
            ))
        }
    };
    match kind {
        "file" if arg.is_empty() => Err(err(line, Problem::MissingArgument("file"))),
        "file" => Ok(Content::File(PathBuf::from(arg))),
        "container" if arg.is_empty() => Err(err(line, Problem::MissingArgument("container"))),
        "container" => Ok(Content::Container(PathBuf::from(arg))),
        "version" if arg.is_empty() => Err(err(line, Problem::MissingArgument("version"))),
        "version" => {
            let text = arg.replace("\\n", "\n");
            if let Some(long) = text.lines().find(|l| l.len() >= 80) {
                return Err(err(line, Problem::VersionLineTooLong(long.len())));
            }
            Ok(Content::Version(text))
        }
        "zero" => no_arg(Content::Zero),
        "erased" => no_arg(Content::Erased),
        "nvram" if arg.is_empty() => Ok(Content::Nvram(None)),
        "nvram" if !arg.contains('=') => {
            Err(err(line, Problem::MissingArgument("nvram KEY=VALUE")))
        }
        "nvram" => Ok(Content::Nvram(Some(arg.to_string()))),
        other => Err(err(line, Problem::UnknownContent(other.to_string()))),
    }
}

fn parse_partition(line: usize, rest: &str) -> Result<Partition, LayoutError> {
    const FORM: &str = "partition NAME OFFSET SIZE FLAGS CONTENT";
    let mut rest = rest;
    let mut words = [""; 4];
    for w in words.iter_mut() {
        let (first, tail) = word(rest).ok_or(err(line, Problem::Usage(FORM)))?;
        *w = first;
        rest = tail;
    }
    let [name, offset, size, flags] = words;
    if let Err(e) = ffs::Entry::new(name, 0, 0) {
        return Err(err(
            line,
            match e {
                ffs::Error::NameTooLong => Problem::NameTooLong(name.to_string()),
                _ => Problem::BadName(name.to_string()),
            },
        ));
    }
    if name.eq_ignore_ascii_case(ffs::TOC_NAME) {
        return Err(err(line, Problem::ReservedName(name.to_string())));
    }
    Ok(Partition {
        line,
        name: name.to_string(),
        offset: number(line, offset)?,
        size: number(line, size)?,
        flags: parse_flags(line, flags)?,
        content: parse_content(line, rest)?,
    })
}

/// Parses and checks a layout (see the module documentation).
pub fn parse(text: &str) -> Result<Layout, LayoutError> {
    let (mut size, mut block, mut toc) = (None, None, None);
    let mut partitions = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("");
        // A '#' starts a comment anywhere, even in a path or a version text.
        let Some((first, rest)) = word(content) else {
            continue;
        };
        let setting = |slot: &mut Option<u64>, name: &'static str| {
            if slot.is_some() {
                return Err(err(line, Problem::Repeated(name)));
            }
            match word(rest) {
                Some((w, "")) => {
                    *slot = Some(number(line, w)?);
                    Ok(())
                }
                _ => Err(err(line, Problem::Usage(name))),
            }
        };
        match first {
            "size" => setting(&mut size, "size")?,
            "block" => setting(&mut block, "block")?,
            "toc" => setting(&mut toc, "toc")?,
            "partition" => partitions.push(parse_partition(line, rest)?),
            other => return Err(err(line, Problem::UnknownStatement(other.to_string()))),
        }
    }
    let size = size.ok_or(err(0, Problem::Missing("size")))?;
    let block = block.ok_or(err(0, Problem::Missing("block")))?;
    check(size, block, toc, partitions)
}

fn check(
    size: u64,
    block: u64,
    toc: Option<u64>,
    mut partitions: Vec<Partition>,
) -> Result<Layout, LayoutError> {
    if !block.is_power_of_two() || block > u64::from(u32::MAX) {
        return Err(err(0, Problem::BadBlockSize(block)));
    }
    let multiple = |line: usize, what: String, value: u64| {
        if value.is_multiple_of(block) {
            Ok(())
        } else {
            Err(err(line, Problem::NotBlockMultiple { what, value, block }))
        }
    };
    multiple(0, "image size".into(), size)?;
    if size / block > u64::from(u32::MAX) || size == 0 {
        return Err(err(0, Problem::TooBig(size)));
    }
    let needed = table_bytes(partitions.len());
    let toc = match toc {
        Some(t) => {
            multiple(0, "toc size".into(), t)?;
            if t < needed {
                return Err(err(0, Problem::TocTooSmall { toc: t, needed }));
            }
            t
        }
        None => needed.div_ceil(block) * block,
    };
    if toc > size {
        return Err(err(
            0,
            Problem::PastEnd {
                name: ffs::TOC_NAME.into(),
                end: toc,
                size,
            },
        ));
    }
    for (i, p) in partitions.iter().enumerate() {
        let line = p.line;
        if let Some(first) = partitions[..i]
            .iter()
            .find(|q| q.name.eq_ignore_ascii_case(&p.name))
        {
            return Err(err(
                line,
                Problem::Duplicate {
                    name: p.name.clone(),
                    first_line: first.line,
                },
            ));
        }
        multiple(line, format!("offset of {}", p.name), p.offset)?;
        multiple(line, format!("size of {}", p.name), p.size)?;
        if p.size == 0 {
            return Err(err(line, Problem::ZeroSize(p.name.clone())));
        }
        let end = p.offset.saturating_add(p.size);
        if end > size {
            return Err(err(
                line,
                Problem::PastEnd {
                    name: p.name.clone(),
                    end,
                    size,
                },
            ));
        }
        if p.offset < toc {
            return Err(err(
                line,
                Problem::OverlapsToc {
                    name: p.name.clone(),
                    toc,
                },
            ));
        }
        if let Some(q) = partitions[..i]
            .iter()
            .find(|q| p.offset < q.offset + q.size && q.offset < end)
        {
            return Err(err(
                line,
                Problem::Overlap {
                    name: p.name.clone(),
                    other: q.name.clone(),
                    other_line: q.line,
                },
            ));
        }
        if p.flags.ecc && p.content == Content::Erased {
            return Err(err(line, Problem::ErasedEcc(p.name.clone())));
        }
    }
    partitions.sort_by_key(|p| p.offset);
    Ok(Layout {
        size,
        block,
        toc,
        partitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
# a test layout
size 1M
block 4K
partition VERSION 0x2000 4K readonly version open-power-test-v1\\nskiboot-v0
partition NVRAM   0x10000 128K preserved nvram   # comment
partition HBEL    0x8000 16K ecc,preserved zero
partition PAYLOAD 0x40000 256K - file payload dir/opalite.lid
";

    fn problem(text: &str) -> Problem {
        parse(text).unwrap_err().problem
    }

    fn with(line: &str) -> String {
        format!("size 1M\nblock 4K\n{line}\n")
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("4096"), Some(4096));
        assert_eq!(parse_number("0x1000"), Some(4096));
        assert_eq!(parse_number("4K"), Some(4096));
        assert_eq!(parse_number("0x10K"), Some(16 << 10));
        assert_eq!(parse_number("64M"), Some(64 << 20));
        assert_eq!(parse_number("1G"), Some(1 << 30));
        assert_eq!(parse_number("4KB"), None);
        assert_eq!(parse_number("-1"), None);
        assert_eq!(parse_number("K"), None);
        assert_eq!(parse_number("0xffffffffffffffffK"), None);
    }

    #[test]
    fn good_layout() {
        let l = parse(GOOD).unwrap();
        assert_eq!((l.size, l.block, l.toc), (1 << 20, 4096, 4096));
        let names: Vec<&str> = l.partitions.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["VERSION", "HBEL", "NVRAM", "PAYLOAD"]);
        let v = &l.partitions[0];
        assert_eq!(v.line, 4);
        assert_eq!(
            v.content,
            Content::Version("open-power-test-v1\nskiboot-v0".into())
        );
        assert_eq!(
            v.flags,
            Flags {
                ecc: false,
                misc: ffs::MISC_READONLY
            }
        );
        assert_eq!(
            l.partitions[1].flags,
            Flags {
                ecc: true,
                misc: ffs::MISC_PRESERVED
            }
        );
        assert_eq!(l.partitions[2].content, Content::Nvram(None));
        assert_eq!(
            l.partitions[3].content,
            Content::File("payload dir/opalite.lid".into())
        );
        assert_eq!(Flags::words(true, ffs::MISC_PRESERVED), "ecc,preserved");
        assert_eq!(Flags::words(false, 0), "-");
    }

    #[test]
    fn explicit_toc() {
        let l = parse("size 1M\nblock 4K\ntoc 32K\npartition A 32K 4K - zero\n").unwrap();
        assert_eq!(l.toc, 32768);
        assert_eq!(
            problem("size 1M\nblock 4K\ntoc 32K\npartition A 16K 4K - zero\n"),
            Problem::OverlapsToc {
                name: "A".into(),
                toc: 32768
            }
        );
        assert!(matches!(
            problem("size 1M\nblock 64\ntoc 64\npartition A 4K 4K - zero\n"),
            Problem::TocTooSmall {
                toc: 64,
                needed: 304
            }
        ));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            problem(&with("partition A 8K 8K - zero\npartition B 12K 4K - zero")),
            Problem::Overlap { ref name, ref other, other_line: 3 } if name == "B" && other == "A"
        ));
        assert!(matches!(
            problem(&with("partition B 12K 4K - zero\npartition A 8K 8K - zero")),
            Problem::Overlap { .. }
        ));
        assert!(matches!(
            problem(&with("partition A 1020K 8K - zero")),
            Problem::PastEnd { end: 0x101000, .. }
        ));
        assert_eq!(
            problem(&with("partition A 8K 4K ecc,shiny zero")),
            Problem::UnknownFlag("shiny".into())
        );
        assert_eq!(
            problem(&with("partition A 8K 4K - random")),
            Problem::UnknownContent("random".into())
        );
        assert!(matches!(
            problem(&with("partition A 8K 4K - zero\npartition a 16K 4K - zero")),
            Problem::Duplicate { first_line: 3, .. }
        ));
        assert_eq!(
            problem(&with("partition ABCDEFGHIJKLMNOP 8K 4K - zero")),
            Problem::NameTooLong("ABCDEFGHIJKLMNOP".into())
        );
        assert!(parse(&with("partition ABCDEFGHIJKLMNO 8K 4K - zero")).is_ok());
        assert!(matches!(
            problem(&with("partition A 0x2100 4K - zero")),
            Problem::NotBlockMultiple { value: 0x2100, .. }
        ));
        assert!(matches!(
            problem(&with("partition A 8K 100 - zero")),
            Problem::NotBlockMultiple { value: 100, .. }
        ));
        assert!(matches!(
            problem("size 1000K\nblock 64K\n"),
            Problem::NotBlockMultiple { .. }
        ));
        assert_eq!(problem("size 1M\nblock 3K\n"), Problem::BadBlockSize(3072));
        assert_eq!(
            problem(&with("partition part 8K 4K - zero")),
            Problem::ReservedName("part".into())
        );
        assert_eq!(
            problem(&with("partition A 8K 4K ecc erased")),
            Problem::ErasedEcc("A".into())
        );
        assert_eq!(
            problem(&with("partition A 8K 0 - zero")),
            Problem::ZeroSize("A".into())
        );
        assert_eq!(
            problem(&with("partition A 8K 4K - file")),
            Problem::MissingArgument("file")
        );
        assert!(matches!(
            problem(&with("partition A 8K 4K - zero extra")),
            Problem::Usage(_)
        ));
        assert!(matches!(
            problem(&with("partition A 8K 4K")),
            Problem::Usage(_)
        ));
        assert_eq!(
            problem(&with("partition A 8Q 4K - zero")),
            Problem::BadNumber("8Q".into())
        );
        assert_eq!(
            problem(&with("blocks 4K")),
            Problem::UnknownStatement("blocks".into())
        );
        assert_eq!(problem("block 4K\n"), Problem::Missing("size"));
        assert_eq!(
            problem("size 1M\nblock 4K\nsize 2M\n"),
            Problem::Repeated("size")
        );
        let long = "x".repeat(80);
        assert_eq!(
            problem(&with(&format!("partition V 8K 4K - version a\\n{long}"))),
            Problem::VersionLineTooLong(80)
        );
        let e = parse(&with("partition A 8K 4K bogus zero")).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.to_string()
                .starts_with("line 3: unknown partition flag `bogus`"),
            "{e}"
        );
    }
}
