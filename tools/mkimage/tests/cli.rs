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
