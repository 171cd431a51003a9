// SPDX-License-Identifier: Apache-2.0
//! `mkimage <firmware.elf> <out.lid>`: the command line over [`mkimage::elf_to_raw`].
//! Prints `<out.lid>: N bytes (X KiB)` on success; on failure prints the reason to stderr
//! and exits 1 (2 for bad usage). No output file is written on failure.
#![forbid(unsafe_code)]
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        eprintln!("usage: mkimage <firmware.elf> <out.lid>");
        return ExitCode::from(2);
    };
    let elf = match std::fs::read(input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("mkimage: cannot read {input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let image = match mkimage::elf_to_raw(&elf) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("mkimage: {input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(output, &image.data) {
        eprintln!("mkimage: cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    println!("{}", image.summary(output));
    ExitCode::SUCCESS
}
