//! `pnor-crosscheck`, a host step of `cargo xtask test`: an image made by
//! `mkimage pnor build` must read the same through IBM's `pflash` (Debian's `opal-utils`).
//!
//! From [`PARTS`] it writes a layout and its content files under
//! `target/pnor-crosscheck/`, builds the image, then checks that
//! - `pflash -F IMAGE --info` lists exactly the expected partitions (the table's own
//!   `part` first), with the layout's offsets and sizes, the flag letters the layout's
//!   flags stand for, and the `actual` sizes `mkimage pnor list` prints;
//! - `pflash -F IMAGE -P NAME -r FILE` (with `--ecc` on ECC partitions, which makes pflash
//!   check and strip the ECC itself) gives the bytes `mkimage pnor extract` gives, and, for
//!   `file` partitions, the file; without `--ecc` it gives the raw image bytes. pflash
//!   corrects single-bit errors silently apart from an `ECC: correctable error` line, so
//!   any `ECC:` line fails the step (a wrong check byte would otherwise pass as corrected);
//! - after `pflash -P NVRAM -e -p FILE` rewrote a partition, `mkimage pnor extract` gives
//!   the file back;
//! - with one entry's checksum broken, pflash refuses the table and so does mkimage.
//!
//! Any disagreement fails the step with the first difference; the commands and pflash's
//! output are in the log.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::bail;
use crate::toolchain;
use crate::util::{self, Context, Result};

/// What a partition of the test layout holds.
#[derive(Clone, Copy)]
enum Fill {
    /// A generated file of this many bytes.
    File(usize),
    Zero,
    Erased,
    Nvram,
    Version(&'static str),
}

/// One partition of the test layout.
struct Part {
    name: &'static str,
    offset: u64,
    size: u64,
    /// As the layout writes them.
    flags: &'static str,
    /// As `pflash --info` should show them.
    letters: &'static str,
    fill: Fill,
}

const SIZE: u64 = 32 << 20;
const BLOCK: u64 = 4096;
const TOC: u64 = 0x8000;

/// A small P9-like layout: every kind of content, ECC and plain, most flags.
const PARTS: &[Part] = &[
    Part {
        name: "VERSION",
        offset: 0x8000,
        size: 0x1000,
        flags: "readonly",
        letters: "----R-----",
        fill: Fill::Version("open-power-opalite-crosscheck\\nskiboot-v7.1-opalite"),
    },
    Part {
        name: "NVRAM",
        offset: 0x1_0000,
        size: 0x9_0000,
        flags: "preserved",
        letters: "---P------",
        fill: Fill::Nvram,
    },
    Part {
        name: "HBEL",
        offset: 0xa_0000,
        size: 0x2_4000,
        flags: "ecc,preserved",
        letters: "E--P------",
        fill: Fill::Zero,
    },
    Part {
        name: "GUARD",
        offset: 0xd_0000,
        size: 0x5000,
        flags: "ecc,preserved,reprovision",
        letters: "E--P--F---",
        fill: Fill::Zero,
    },
    Part {
        name: "HBB",
        offset: 0xe_0000,
        size: 0x1_0000,
        flags: "ecc,readonly",
        letters: "E---R-----",
        fill: Fill::File(40_000),
    },
    Part {
        name: "PAYLOAD",
        offset: 0x10_0000,
        size: 0x10_0000,
        flags: "readonly",
        letters: "----R-----",
        fill: Fill::File(300_001),
    },
    Part {
        name: "BOOTKERNEL",
        offset: 0x20_0000,
        size: 0xf0_0000,
        flags: "-",
        letters: "----------",
        fill: Fill::File(5_000_003),
    },
    Part {
        name: "ATTR_TMP",
        offset: 0x110_0000,
        size: 0x8000,
        flags: "volatile,clearecc",
        letters: "--------CV",
        fill: Fill::Erased,
    },
    Part {
        name: "SBE",
        offset: 0x111_0000,
        size: 0x4_8000,
        flags: "ecc,golden,backup",
        letters: "E----B-G--",
        fill: Fill::File(123_456),
    },
];

/// Deterministic, not compressible-looking bytes for a content file.
fn content(name: &str, len: usize) -> Vec<u8> {
    let mut x: u32 = name.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn layout_text() -> String {
    let mut t = format!("# pnor-crosscheck (xtask/src/pnor_check.rs)\nsize {SIZE:#x}\nblock {BLOCK:#x}\ntoc {TOC:#x}\n");
    for p in PARTS {
        let fill = match p.fill {
            Fill::File(_) => format!("file {}.bin", p.name),
            Fill::Zero => "zero".into(),
            Fill::Erased => "erased".into(),
            Fill::Nvram => "nvram".into(),
            Fill::Version(v) => format!("version {v}"),
        };
        writeln!(
            t,
            "partition {} {:#x} {:#x} {} {fill}",
            p.name, p.offset, p.size, p.flags
        )
        .unwrap();
    }
    t
}

/// A row of `pflash --info`: `ID=03  HBB 0x000e0000..0x000f0000 (actual=0x0000afc8) [E---R-----]`.
#[derive(Debug, PartialEq, Eq)]
struct InfoRow {
    id: u32,
    name: String,
    start: u64,
    end: u64,
    actual: u64,
    flags: String,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

fn parse_info(text: &str) -> Vec<InfoRow> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("ID=")?;
            let mut w = l.split_whitespace();
            let id = w.next()?.parse().ok()?;
            let name = w.next()?.to_string();
            let (start, end) = w.next()?.split_once("..")?;
            let actual = w.next()?.strip_prefix("(actual=")?.strip_suffix(')')?;
            let flags = w.next()?.strip_prefix('[')?.strip_suffix(']')?.to_string();
            Some(InfoRow {
                id,
                name,
                start: hex(start)?,
                end: hex(end)?,
                actual: hex(actual)?,
                flags,
            })
        })
        .collect()
}

/// `mkimage pnor list` rows: name -> actual.
fn parse_list(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Some((w.get(1)?.to_string(), hex(w.get(4)?)?))
        })
        .collect()
}

struct Run<'a> {
    root: &'a Path,
    log: String,
}

impl Run<'_> {
    /// Runs a command, logs it and its output; returns (success, stdout, stderr).
    fn cmd(&mut self, cmd: &mut Command) -> Result<(bool, String, String)> {
        let shown = util::show(cmd);
        let out = cmd
            .current_dir(self.root)
            .output()
            .context(format!("cannot run {shown}"))?;
        let (so, se) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        writeln!(self.log, "+ {shown}\n{so}{se}({})", out.status).unwrap();
        Ok((out.status.success(), so, se))
    }

    fn ok(&mut self, cmd: &mut Command) -> Result<String> {
        let shown = util::show(cmd);
        match self.cmd(cmd)? {
            (true, so, _) => Ok(so),
            (false, _, se) => bail!("`{shown}` failed: {}", se.trim()),
        }
    }
}

pub fn mkimage(args: &[&std::ffi::OsStr]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(["run", "--quiet", "-p", "mkimage", "--release", "--", "pnor"])
        .args(args);
    c
}

/// The step; the log gets every command and its output.
pub fn run(root: &Path, log: &Path) -> std::result::Result<(), String> {
    let mut r = Run {
        root,
        log: String::new(),
    };
    let result = check(&mut r);
    if let Err(e) = &result {
        writeln!(r.log, "FAILED: {e}").unwrap();
    }
    let _ = std::fs::write(log, &r.log);
    result.map_err(|e| e.to_string())
}

fn check(r: &mut Run) -> Result<()> {
    let pflash = toolchain::ensure_pflash()?;
    let dir = r.root.join("target/pnor-crosscheck");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let layout = dir.join("layout");
    std::fs::write(&layout, layout_text())?;
    for p in PARTS {
        if let Fill::File(n) = p.fill {
            std::fs::write(dir.join(format!("{}.bin", p.name)), content(p.name, n))?;
        }
    }
    let image = dir.join("pnor.img");
    r.ok(&mut mkimage(&[
        "build".as_ref(),
        layout.as_ref(),
        "-o".as_ref(),
        image.as_ref(),
    ]))?;
    let bytes = std::fs::read(&image)?;

    // The table, as pflash sees it.
    let info = r.ok(Command::new(&pflash).arg("-F").arg(&image).arg("--info"))?;
    let rows = parse_info(&info);
    let listed = parse_list(&r.ok(&mut mkimage(&["list".as_ref(), image.as_ref()]))?);
    let mut expect = vec![("part", 0, TOC, "----------")];
    expect.extend(PARTS.iter().map(|p| (p.name, p.offset, p.size, p.letters)));
    if rows.len() != expect.len() || listed.len() != expect.len() {
        bail!(
            "pflash --info lists {} partitions, mkimage pnor list {}, the layout has {}",
            rows.len(),
            listed.len(),
            expect.len()
        );
    }
    for (i, ((row, (name, offset, size, letters)), (lname, lactual))) in
        rows.iter().zip(&expect).zip(&listed).enumerate()
    {
        let want = InfoRow {
            id: i as u32,
            name: name.to_string(),
            start: *offset,
            end: offset + size,
            actual: *lactual,
            flags: letters.to_string(),
        };
        if *row != want || lname != name {
            bail!("pflash --info row {i}: {row:?}, expected {want:?} (mkimage lists {lname})");
        }
    }

    // Every partition's data.
    for p in PARTS {
        let ecc = p.letters.starts_with('E');
        let ours = dir.join(format!("{}.mkimage", p.name));
        let theirs = dir.join(format!("{}.pflash", p.name));
        r.ok(&mut mkimage(&[
            "extract".as_ref(),
            image.as_ref(),
            p.name.as_ref(),
            "-o".as_ref(),
            ours.as_ref(),
        ]))?;
        let mut read = Command::new(&pflash);
        read.arg("-F").arg(&image);
        if ecc {
            read.arg("--ecc");
        }
        read.args(["-P", p.name, "-r"]).arg(&theirs);
        let said = r.ok(&mut read)?;
        // libflash prints "ECC: correctable error: N" for each bit it fixes (on stdout):
        // a clean image has none.
        if let Some(line) = said.lines().find(|l| l.contains("ECC:")) {
            bail!(
                "{}: pflash found ECC errors in mkimage's encoding: {line}",
                p.name
            );
        }
        let (a, b) = (std::fs::read(&ours)?, std::fs::read(&theirs)?);
        if a != b {
            bail!(
                "{}: pflash reads {} bytes, mkimage extracts {} bytes, {}",
                p.name,
                b.len(),
                a.len(),
                first_difference(&b, &a)
            );
        }
        if let Fill::File(n) = p.fill {
            let file = content(p.name, n);
            if b != file {
                bail!(
                    "{}: pflash reads {} bytes, the file has {}, {}",
                    p.name,
                    b.len(),
                    file.len(),
                    first_difference(&b, &file)
                );
            }
        }
        if ecc {
            // Without --ecc pflash reads raw flash: the image's bytes, ECC included.
            let raw = dir.join(format!("{}.raw", p.name));
            r.ok(Command::new(&pflash)
                .arg("-F")
                .arg(&image)
                .args(["-P", p.name, "-r"])
                .arg(&raw))?;
            let got = std::fs::read(&raw)?;
            let start = p.offset as usize;
            let want = &bytes[start..start + got.len()];
            if got.is_empty() || got != want {
                bail!(
                    "{}: pflash's raw read ({} bytes) is not the image's bytes",
                    p.name,
                    got.len()
                );
            }
        }
    }

    // pflash rewrites a partition (erase, program); mkimage reads back what it wrote, and
    // the `actual` pflash updated. (Debian's pflash cannot program an ECC partition from
    // a plain file: with --ecc it cuts the file into chunks that are not 8-byte multiples
    // and refuses; so only a plain partition is checked.)
    let file = dir.join("NVRAM.rewrite");
    let data = content("NVRAM-rewrite", 0x9_0000);
    std::fs::write(&file, &data)?;
    r.ok(Command::new(&pflash)
        .arg("-F")
        .arg(&image)
        .args(["-P", "NVRAM", "-e", "-f", "-p"])
        .arg(&file))?;
    let back = dir.join("NVRAM.rewrite.mkimage");
    r.ok(&mut mkimage(&[
        "extract".as_ref(),
        image.as_ref(),
        "NVRAM".as_ref(),
        "-o".as_ref(),
        back.as_ref(),
    ]))?;
    let got = std::fs::read(&back)?;
    if got != data {
        bail!(
            "NVRAM: after pflash rewrote it, mkimage extracts {} bytes that are not the file's {}, {}",
            got.len(),
            data.len(),
            first_difference(&got, &data)
        );
    }

    // A broken entry checksum: both tools refuse the table.
    let mut bad = bytes.clone();
    bad[0x30 + 2 * 0x80] ^= 1;
    let bad_image = dir.join("bad-checksum.img");
    std::fs::write(&bad_image, &bad)?;
    let (_, so, se) = r.cmd(
        Command::new(&pflash)
            .arg("-F")
            .arg(&bad_image)
            .arg("--info"),
    )?;
    if !parse_info(&so).is_empty() || !se.contains("opening ffs") {
        bail!("pflash accepted a table with a bad entry checksum");
    }
    let (ok, _, se) = r.cmd(&mut mkimage(&["list".as_ref(), bad_image.as_ref()]))?;
    if ok || !se.contains("checksum is wrong") {
        bail!("mkimage pnor list accepted a table with a bad entry checksum");
    }
    eprintln!(
        "xtask: pnor-crosscheck: {} partitions agree (image {})",
        expect.len(),
        image.display()
    );
    Ok(())
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!("first difference at byte {i:#x}"),
        None => "one is a prefix of the other".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pflash_info() {
        let text = "Flash info:\n-----------\nTOC@0x00000000 Partitions:\n-----------\n\
            ID=00            part 0x00000000..0x00008000 (actual=0x00008000) [----------]\n\
            ID=03             HBB 0x000a0000..0x000b0000 (actual=0x00000d2f) [E---R-----]\n";
        assert_eq!(
            parse_info(text),
            [
                InfoRow {
                    id: 0,
                    name: "part".into(),
                    start: 0,
                    end: 0x8000,
                    actual: 0x8000,
                    flags: "----------".into()
                },
                InfoRow {
                    id: 3,
                    name: "HBB".into(),
                    start: 0xa0000,
                    end: 0xb0000,
                    actual: 0xd2f,
                    flags: "E---R-----".into()
                },
            ]
        );
        assert!(parse_info("Error 102 opening ffs !\n").is_empty());
    }

    #[test]
    fn parses_mkimage_list() {
        let text =
            "img: 0x2000000 bytes of flash, block size 0x1000, table 0x8000 bytes, 2 entries\n\
            ID  NAME             OFFSET      SIZE        ACTUAL      FLAGS\n\
            1   part             0x00000000  0x00008000  0x00008000  protected\n\
            2   VERSION          0x00008000  0x00001000  0x00001000  readonly\n";
        assert_eq!(
            parse_list(text),
            [
                ("part".to_string(), 0x8000),
                ("VERSION".to_string(), 0x1000)
            ]
        );
    }

    #[test]
    fn layout_is_consistent() {
        // Inside the flash, after the table, in order, not overlapping, block-aligned.
        let mut end = TOC;
        for p in PARTS {
            assert!(
                p.offset >= end && p.offset % BLOCK == 0 && p.size % BLOCK == 0,
                "{}",
                p.name
            );
            end = p.offset + p.size;
            assert_eq!(p.letters.len(), 10);
            assert_eq!(
                p.letters.starts_with('E'),
                p.flags.split(',').any(|f| f == "ecc"),
                "{}",
                p.name
            );
        }
        assert!(end <= SIZE);
        let text = layout_text();
        assert!(
            text.contains("partition HBB 0xe0000 0x10000 ecc,readonly file HBB.bin\n"),
            "{text}"
        );
    }
}
