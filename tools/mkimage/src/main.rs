// SPDX-License-Identifier: Apache-2.0
//! The `mkimage` command line.
//!
//! ```text
//! mkimage <firmware.elf> <out.lid>              same as `mkimage lid`
//! mkimage lid <firmware.elf> <out.lid> [--container]
//!                                               ELF -> raw image for QEMU -bios
//! mkimage pnor build LAYOUT -o IMAGE            PNOR image from a layout file
//! mkimage pnor list IMAGE                       partition table, checksums checked
//! mkimage pnor extract IMAGE PART -o FILE       a partition's data, ECC checked and removed
//! mkimage pnor replace IMAGE PART FILE          new content for a partition, in place
//! mkimage [<command>] --help
//! ```
//!
//! `lid` is [`mkimage::elf_to_raw`] and prints `<out.lid>: N bytes (X KiB)`. The layout
//! format is described in [`mkimage::layout`], what lands where in [`mkimage::pnor`].
//! Exit status: 0 on success, 1 on failure (the reason on stderr, no output file
//! written or changed), 2 on bad usage.
#![forbid(unsafe_code)]
use std::path::Path;
use std::process::ExitCode;

use mkimage::layout;
use mkimage::pnor;

const USAGE: &str = "\
usage: mkimage <firmware.elf> <out.lid>
       mkimage lid <firmware.elf> <out.lid> [--container]
       mkimage pnor build LAYOUT -o IMAGE
       mkimage pnor list IMAGE
       mkimage pnor extract IMAGE PART -o FILE
       mkimage pnor replace IMAGE PART FILE
       mkimage [lid | pnor [build|list|extract|replace]] --help";

const HELP: &str = "\
mkimage: Opalite's host image tool.

  lid       turn the firmware ELF into the raw .lid QEMU loads with -bios
            (the two-argument form `mkimage ELF LID` is the same; cargo xtask build uses it)
  pnor      build and inspect PNOR flash images: FFS partition table, ECC, NVRAM, VERSION

Run `mkimage lid --help` or `mkimage pnor --help` for details.";

const LID_HELP: &str = "\
usage: mkimage lid <firmware.elf> <out.lid> [--container]

Lays the big-endian ELF64 firmware's PT_LOAD segments out as a raw image (what
objcopy -O binary does), checking the machine, overlaps and QEMU's 16 MiB -bios
limit. Prints `<out.lid>: N bytes (X KiB)`.

--container puts an unsigned 4 KiB secure-boot container header in front (magic
0x17082011, sizes, SHA-512 hashes, no signatures), as a PNOR PAYLOAD carries one.
Such a file is for a flash image, not for QEMU -bios.";

const PNOR_HELP: &str = "\
usage: mkimage pnor build LAYOUT -o IMAGE
       mkimage pnor list IMAGE
       mkimage pnor extract IMAGE PART -o FILE
       mkimage pnor replace IMAGE PART FILE

PNOR flash images as skiboot, pflash and ffspart know them: an FFS v1 partition table
at offset 0 (with its own `part` entry), partitions optionally ECC-protected (8 data
bytes + 1 check byte). Run `mkimage pnor SUBCOMMAND --help` for each.";

const BUILD_HELP: &str = "\
usage: mkimage pnor build LAYOUT -o IMAGE

Writes the image LAYOUT describes. Layout lines (# starts a comment):
  size 64M                                       flash size
  block 4K                                       erase block size (power of two)
  toc 32K                                        table size (optional)
  partition NAME OFFSET SIZE FLAGS CONTENT       one per partition
Numbers: 4096, 0x1000, 4K, 1M. NAME: at most 15 characters. OFFSET and SIZE: multiples
of the block size, after the table, inside the flash, not overlapping.
FLAGS: - or a comma-separated list of ecc, preserved, readonly, backup, reprovision,
volatile, clearecc, golden.
CONTENT: file PATH (relative to the layout's directory), container PATH (the file behind
an unsigned secure-boot header), zero, erased (0xff, not with
ecc), nvram [KEY=VALUE] (an empty NVRAM as skiboot formats it, with one optional firmware
setting such as bootargs=...), version TEXT (\\n between lines).";

const LIST_HELP: &str = "\
usage: mkimage pnor list IMAGE

Prints the partition table: id, name, offset, size, bytes used (actual) and flags.
Fails if the header or an entry is invalid (magic, version, checksums, bounds).";

const EXTRACT_HELP: &str = "\
usage: mkimage pnor extract IMAGE PART -o FILE

Writes partition PART's data (its `actual` bytes) to FILE. On an ECC partition the
ECC bytes are checked and removed: a flipped bit is corrected and reported with its
image offset; an uncorrectable group is an error (offset given) and writes nothing.";

const REPLACE_HELP: &str = "\
usage: mkimage pnor replace IMAGE PART FILE

Replaces partition PART's content with FILE, in place (ECC-encoded if the partition is
ECC; the rest of the partition erased, or zero under ECC), and updates its `actual`
size. Refuses a file larger than the partition holds.";

enum Fail {
    /// Bad usage: the message, exit 2.
    Usage(String),
    /// The operation failed: exit 1.
    Error(String),
}

type Result<T> = std::result::Result<T, Fail>;

/// A subcommand's entry point.
type Subcommand = fn(&[String]) -> Result<()>;

fn usage<T>(text: &str) -> Result<T> {
    Err(Fail::Usage(text.to_string()))
}

fn fail<T>(msg: impl std::fmt::Display) -> Result<T> {
    Err(Fail::Error(msg.to_string()))
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).or_else(|e| fail(format!("cannot read {path}: {e}")))
}

/// Writes through a temporary file in the same directory, so a failed write never
/// leaves a partial `path` behind.
fn write(path: &str, bytes: &[u8]) -> Result<()> {
    let tmp = format!("{path}.mkimage-tmp");
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return fail(format!("cannot write {path}: {e}"));
    }
    Ok(())
}

fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

fn help(text: &str) -> Result<()> {
    println!("{text}");
    Ok(())
}

fn lid(args: &[String]) -> Result<()> {
    if wants_help(args) {
        return help(LID_HELP);
    }
    let (container, files): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| *a == "--container");
    let [input, output] = files.as_slice() else {
        return usage(USAGE);
    };
    if container.len() > 1 || files.iter().any(|f| f.starts_with("--")) {
        return usage(USAGE);
    }
    let elf = read(input)?;
    let mut image = mkimage::elf_to_raw(&elf).or_else(|e| fail(format!("{input}: {e}")))?;
    if !container.is_empty() {
        let mut with = mkimage::container::header(&image.data);
        with.extend_from_slice(&image.data);
        image.data = with;
    }
    write(output, &image.data)?;
    println!("{}", image.summary(output));
    Ok(())
}

/// Splits `-o FILE` out of `args`; the other arguments are returned in order.
fn output_flag(args: &[String], help_text: &str) -> Result<(Vec<String>, String)> {
    let mut rest = Vec::new();
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-o" {
            match (it.next(), &out) {
                (Some(f), None) => out = Some(f.clone()),
                _ => return usage(help_text),
            }
        } else if a.starts_with('-') && a.len() > 1 {
            return usage(help_text);
        } else {
            rest.push(a.clone());
        }
    }
    match out {
        Some(o) => Ok((rest, o)),
        None => usage(help_text),
    }
}

fn pnor_build(args: &[String]) -> Result<()> {
    let (rest, out) = output_flag(args, BUILD_HELP)?;
    let [layout_path] = rest.as_slice() else {
        return usage(BUILD_HELP);
    };
    let text = read(layout_path)?;
    let text =
        String::from_utf8(text).or_else(|_| fail(format!("{layout_path}: not UTF-8 text")))?;
    let layout = layout::parse(&text).or_else(|e| fail(format!("{layout_path}: {e}")))?;
    let base = Path::new(layout_path).parent().unwrap_or(Path::new(""));
    let image =
        pnor::build(&layout, base).map_err(|e| Fail::Error(format!("{layout_path}: {e}")))?;
    write(&out, &image)?;
    println!(
        "{out}: {} bytes, {} partitions and the table",
        image.len(),
        layout.partitions.len()
    );
    Ok(())
}

fn pnor_list(args: &[String]) -> Result<()> {
    let [path] = args else {
        return usage(LIST_HELP);
    };
    let image = read(path)?;
    let (h, rows) = pnor::list(&image).map_err(|e| Fail::Error(format!("{path}: {e}")))?;
    println!(
        "{path}: {:#x} bytes of flash, block size {:#x}, table {:#x} bytes, {} entries",
        h.flash_len(),
        h.block_size,
        h.table_len(),
        h.entry_count
    );
    println!("ID  NAME             OFFSET      SIZE        ACTUAL      FLAGS");
    for r in rows {
        println!(
            "{:<3} {:<16} {:#010x}  {:#010x}  {:#010x}  {}",
            r.id,
            r.name,
            r.offset,
            r.size,
            r.actual,
            r.flag_words()
        );
    }
    Ok(())
}

fn pnor_extract(args: &[String]) -> Result<()> {
    let (rest, out) = output_flag(args, EXTRACT_HELP)?;
    let [path, part] = rest.as_slice() else {
        return usage(EXTRACT_HELP);
    };
    let image = read(path)?;
    let (data, fixed) =
        pnor::extract(&image, part).map_err(|e| Fail::Error(format!("{path}: {e}")))?;
    for f in &fixed {
        let what = match f.bit {
            ::pnor::ecc::Syndrome::DataBit(b) => format!("data bit {b} of its group"),
            ::pnor::ecc::Syndrome::CheckBit(b) => format!("ECC bit {b} of its group"),
            _ => unreachable!("only single bits are corrected"),
        };
        eprintln!(
            "mkimage: {path}: partition {part}: corrected a flipped bit at image offset {:#x} ({what})",
            f.offset
        );
    }
    write(&out, &data)?;
    println!(
        "{out}: {} bytes from {part}{}",
        data.len(),
        match fixed.len() {
            0 => String::new(),
            n => format!(", {n} ECC error(s) corrected"),
        }
    );
    Ok(())
}

fn pnor_replace(args: &[String]) -> Result<()> {
    let [path, part, file] = args else {
        return usage(REPLACE_HELP);
    };
    let mut image = read(path)?;
    let data = read(file)?;
    pnor::replace(&mut image, part, &data).map_err(|e| Fail::Error(format!("{path}: {e}")))?;
    write(path, &image)?;
    println!("{path}: {part} now holds {} bytes from {file}", data.len());
    Ok(())
}

fn pnor_command(args: &[String]) -> Result<()> {
    let Some((sub, rest)) = args.split_first() else {
        return usage(PNOR_HELP);
    };
    let (run, text): (Subcommand, &str) = match sub.as_str() {
        "build" => (pnor_build, BUILD_HELP),
        "list" => (pnor_list, LIST_HELP),
        "extract" => (pnor_extract, EXTRACT_HELP),
        "replace" => (pnor_replace, REPLACE_HELP),
        "--help" | "-h" | "help" => return help(PNOR_HELP),
        _ => return usage(PNOR_HELP),
    };
    if wants_help(rest) {
        return help(text);
    }
    run(rest)
}

fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        None => usage(USAGE),
        Some("--help" | "-h" | "help") => help(&format!("{HELP}\n\n{USAGE}")),
        Some("lid") => lid(&args[1..]),
        Some("pnor") => pnor_command(&args[1..]),
        // The original form: `mkimage ELF LID`.
        Some(_) if args.len() == 2 => lid(args),
        Some(_) => usage(USAGE),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Usage(text)) => {
            eprintln!("{text}");
            ExitCode::from(2)
        }
        Err(Fail::Error(msg)) => {
            eprintln!("mkimage: {msg}");
            ExitCode::FAILURE
        }
    }
}
