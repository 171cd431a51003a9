// SPDX-License-Identifier: Apache-2.0
//! The `mkimage` binary end to end: output file, the summary line, exit codes.
mod common;

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mkimage-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mkimage() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mkimage"))
}

#[test]
fn writes_the_image_and_prints_its_size() {
    let dir = scratch("ok");
    let (elf, lid) = (dir.join("opalite.elf"), dir.join("opalite.lid"));
    std::fs::write(&elf, common::three_segments()).unwrap();
    let out = mkimage().arg(&elf).arg(&lid).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{}: 40 bytes (1 KiB)\n", lid.display())
    );
    let golden = common::read_hex(include_str!("golden/three_segments.hex"));
    assert_eq!(std::fs::read(&lid).unwrap(), golden);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_fails_without_output() {
    let dir = scratch("bad");
    let (elf, lid) = (dir.join("le.elf"), dir.join("le.lid"));
    let mut e = common::Elf::new(0, vec![common::load(0x100, 0, &[1; 4], 4)]);
    e.data = 1;
    std::fs::write(&elf, e.build()).unwrap();
    let out = mkimage().arg(&elf).arg(&lid).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("little-endian"), "{err}");
    assert!(!lid.exists());

    let out = mkimage()
        .arg(dir.join("missing.elf"))
        .arg(&lid)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("cannot read"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn usage() {
    let out = mkimage().arg("only-one").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .starts_with("usage: mkimage"));
}

fn run(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = mkimage().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new(&$a)),*] };
}

#[test]
fn lid_subcommand_is_the_two_argument_form() {
    let dir = scratch("lid");
    let (elf, lid) = (dir.join("opalite.elf"), dir.join("opalite.lid"));
    std::fs::write(&elf, common::three_segments()).unwrap();
    let (code, stdout, _) = run(args!["lid", elf, lid]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, format!("{}: 40 bytes (1 KiB)\n", lid.display()));
    let golden = common::read_hex(include_str!("golden/three_segments.hex"));
    assert_eq!(std::fs::read(&lid).unwrap(), golden);
    let (code, _, stderr) = run(args!["lid", elf]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("usage: mkimage"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help() {
    let (code, stdout, _) = run(args!["--help"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("mkimage pnor build LAYOUT -o IMAGE"),
        "{stdout}"
    );
    for (sub, expect) in [
        (&["lid", "--help"][..], "usage: mkimage lid"),
        (&["pnor", "--help"], "usage: mkimage pnor build"),
        (
            &["pnor", "build", "--help"],
            "partition NAME OFFSET SIZE FLAGS CONTENT",
        ),
        (
            &["pnor", "list", "--help"],
            "usage: mkimage pnor list IMAGE",
        ),
        (&["pnor", "extract", "-h"], "usage: mkimage pnor extract"),
        (
            &["pnor", "replace", "--help"],
            "usage: mkimage pnor replace",
        ),
    ] {
        let out = mkimage().args(sub).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{sub:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(expect), "{sub:?}: {text}");
    }
    let (code, _, stderr) = run(args!["pnor", "frobnicate"]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("usage: mkimage pnor"), "{stderr}");
    let (code, _, _) = run(args!["pnor", "build", "layout"]); // no -o
    assert_eq!(code, Some(2));
}

const LAYOUT: &str = "\
# test layout
size 2M
block 4K
toc 16K
partition VERSION    0x4000   4K   readonly  version open-power-test-v1
partition NVRAM      0x10000  128K preserved nvram
partition HBB        0x40000  16K  ecc       file hbb.bin
partition PAYLOAD    0x80000  256K -         file payload.bin
partition BOOTKERNEL 0x100000 1M   -         file kernel.bin
";

/// A directory with the layout and its three files; returns it and the files' bytes.
fn pnor_dir(name: &str) -> (PathBuf, [Vec<u8>; 3]) {
    let dir = scratch(name);
    let hbb: Vec<u8> = (0..4000u32).map(|i| ((i * 31) >> 3) as u8).collect();
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + (i >> 9)) as u8).collect();
    let kernel: Vec<u8> = (0..700_001u32).map(|i| (i ^ (i >> 11)) as u8).collect();
    std::fs::write(dir.join("layout"), LAYOUT).unwrap();
    std::fs::write(dir.join("hbb.bin"), &hbb).unwrap();
    std::fs::write(dir.join("payload.bin"), &payload).unwrap();
    std::fs::write(dir.join("kernel.bin"), &kernel).unwrap();
    (dir, [hbb, payload, kernel])
}

#[test]
fn pnor_build_list_extract_replace() {
    let (dir, [hbb, payload, kernel]) = pnor_dir("pnor");
    let img = dir.join("pnor.img");
    let (code, stdout, stderr) = run(args!["pnor", "build", dir.join("layout"), "-o", img]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.ends_with(": 2097152 bytes, 5 partitions and the table\n"),
        "{stdout}"
    );

    let (code, stdout, _) = run(args!["pnor", "list", img]);
    assert_eq!(code, Some(0));
    let rows: Vec<&str> = stdout.lines().skip(2).collect();
    assert_eq!(
        rows,
        [
            "1   part             0x00000000  0x00004000  0x00004000  protected",
            "2   VERSION          0x00004000  0x00001000  0x00001000  readonly",
            "3   NVRAM            0x00010000  0x00020000  0x00020000  preserved",
            "4   HBB              0x00040000  0x00004000  0x00001194  ecc",
            "5   PAYLOAD          0x00080000  0x00040000  0x000186a0  -",
            "6   BOOTKERNEL       0x00100000  0x00100000  0x000aae61  -",
        ]
    );
    assert!(stdout.starts_with(&format!(
        "{}: 0x200000 bytes of flash, block size 0x1000, table 0x4000 bytes, 6 entries\n",
        img.display()
    )));

    for (part, want) in [
        ("HBB", &hbb),
        ("PAYLOAD", &payload),
        ("BOOTKERNEL", &kernel),
    ] {
        let out = dir.join(format!("{part}.out"));
        let (code, _, stderr) = run(args!["pnor", "extract", img, part, "-o", out]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(&std::fs::read(&out).unwrap(), want, "{part}");
    }

    // Replace, then read back; a file too big is refused and changes nothing.
    let new_hbb = vec![0x42u8; 16];
    std::fs::write(dir.join("new"), &new_hbb).unwrap();
    let (code, _, stderr) = run(args!["pnor", "replace", img, "HBB", dir.join("new")]);
    assert_eq!(code, Some(0), "{stderr}");
    let out = dir.join("new.out");
    run(args!["pnor", "extract", img, "HBB", "-o", out]);
    assert_eq!(std::fs::read(&out).unwrap(), new_hbb);
    let before = std::fs::read(&img).unwrap();
    let (code, _, stderr) = run(args![
        "pnor",
        "replace",
        img,
        "HBB",
        dir.join("payload.bin")
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("100000 bytes do not fit in partition HBB: it holds 14560 bytes"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&img).unwrap(), before);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pnor_ecc_errors() {
    let (dir, [hbb, ..]) = pnor_dir("pnor-ecc");
    let img = dir.join("pnor.img");
    run(args!["pnor", "build", dir.join("layout"), "-o", img]);
    let mut bytes = std::fs::read(&img).unwrap();
    bytes[0x40000 + 9 * 10 + 4] ^= 0x02; // one bit, group 10
    std::fs::write(&img, &bytes).unwrap();
    let out = dir.join("hbb.out");
    let (code, stdout, stderr) = run(args!["pnor", "extract", img, "HBB", "-o", out]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("partition HBB: corrected a flipped bit at image offset 0x4005e (data bit 38 of its group)"),
        "{stderr}"
    );
    assert!(stdout.contains("1 ECC error(s) corrected"), "{stdout}");
    assert_eq!(std::fs::read(&out).unwrap(), hbb);

    std::fs::remove_file(&out).unwrap();
    bytes[0x40000 + 9 * 10 + 5] ^= 0x80; // a second bit in the same group
    std::fs::write(&img, &bytes).unwrap();
    let (code, _, stderr) = run(args!["pnor", "extract", img, "HBB", "-o", out]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("uncorrectable ECC error in the 9-byte group at image offset 0x4005a"),
        "{stderr}"
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pnor_corrupt_table() {
    let (dir, _) = pnor_dir("pnor-corrupt");
    let img = dir.join("pnor.img");
    run(args!["pnor", "build", dir.join("layout"), "-o", img]);
    let mut bytes = std::fs::read(&img).unwrap();
    bytes[0x30 + 2 * 0x80] = b'X'; // NVRAM's name, checksum not updated
    std::fs::write(&img, &bytes).unwrap();
    let (code, stdout, stderr) = run(args!["pnor", "list", img]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("bad partition table: partition entry 3 checksum is wrong"),
        "{stderr}"
    );
    let (code, _, stderr) = run(args!["pnor", "list", dir.join("layout")]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no partition table: magic"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pnor_build_errors_write_nothing() {
    let (dir, _) = pnor_dir("pnor-errors");
    let cases = [
        (
            "partition A 0xc0000 8K - zero\npartition B 0xc1000 4K - zero",
            "line 11: partition B overlaps partition A (line 10)",
        ),
        (
            "partition A 0x1ff000 8K - zero",
            "partition A ends at 0x201000, past the end",
        ),
        (
            "partition A 0xc0000 4K - file kernel.bin",
            "700001 bytes do not fit in partition A",
        ),
        (
            "partition A 0xc0000 64K ecc file payload.bin",
            "it holds 58248 bytes of data (ECC takes 1 byte in 9)",
        ),
        (
            "partition A 0xc0000 4K ecc,fast zero",
            "unknown partition flag `fast`",
        ),
        ("partition A 0xc0000 4K - ones", "unknown content `ones`"),
        (
            "partition payload 0xc0000 4K - zero",
            "partition payload is already defined on line 8",
        ),
        (
            "partition ABCDEFGHIJKLMNOP 0xc0000 4K - zero",
            "is 16 characters, FFS allows at most 15",
        ),
        (
            "partition A 0xc0800 4K - zero",
            "offset of A (0xc0800) is not a multiple of the block size (0x1000)",
        ),
        (
            "partition A 0xc0000 6K - zero",
            "size of A (0x1800) is not a multiple of the block size",
        ),
        ("partition A 0xc0000 4K - file missing.bin", "cannot read"),
    ];
    for (extra, expect) in cases {
        let layout = dir.join("bad-layout");
        std::fs::write(&layout, format!("{LAYOUT}{extra}\n")).unwrap();
        let img = dir.join("bad.img");
        let (code, stdout, stderr) = run(args!["pnor", "build", layout, "-o", img]);
        assert_eq!(code, Some(1), "{extra}: {stdout}");
        assert!(stderr.contains(expect), "{extra}: {stderr}");
        assert!(stderr.starts_with("mkimage: "), "{stderr}");
        assert!(!img.exists(), "{extra}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn lid_with_a_container_header() {
    let dir = scratch("container");
    let (elf, lid, stb) = (
        dir.join("fw.elf"),
        dir.join("fw.lid"),
        dir.join("fw.lid.stb"),
    );
    std::fs::write(&elf, common::three_segments()).unwrap();
    assert_eq!(run(args!["lid", elf, lid]).0, Some(0));
    let (code, stdout, stderr) = run(args!["lid", elf, stb, "--container"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, format!("{}: 4136 bytes (5 KiB)\n", stb.display()));
    let (plain, with) = (std::fs::read(&lid).unwrap(), std::fs::read(&stb).unwrap());
    assert_eq!(&with[0x1000..], &plain[..]);
    assert_eq!(&with[..4], &[0x17, 0x08, 0x20, 0x11]);
    assert_eq!(&with[0x435..0x43d], &(plain.len() as u64).to_be_bytes());
    assert_eq!(&with[0x43d..0x47d], &mkimage::sha512::sha512(&plain));
    assert_eq!(run(args![elf, stb, "--container"]).0, Some(2)); // not in the old form
    assert_eq!(run(args!["lid", elf, stb, "--containers"]).0, Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}
