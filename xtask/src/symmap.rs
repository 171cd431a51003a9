//! The firmware's symbol map (`/sys/firmware/opal/symbol_map`): the linked ELF's symbols
//! in skiboot's `nm -n` format, names demangled and shortened, packed (crate `symmap`)
//! into the `.symmap` hole of the raw image (firmware/opal.ld) after mkimage wrote it.
//!
//! A hole patched after the link, not a second link: the map holds the addresses of this
//! very link, and filling a fixed-size hole moves nothing. The build fails if the packed
//! map does not fit.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::bail;
use crate::util::{Context, Result};

/// `nm -n -C` of `elf`.
pub fn nm_text(elf: &Path) -> Result<String> {
    let out = Command::new("powerpc64-linux-gnu-nm")
        .args(["-n", "-C"])
        .arg(elf)
        .output()
        .or_else(|_| Command::new("nm").args(["-n", "-C"]).arg(elf).output())
        .context("cannot run nm")?;
    if !out.status.success() {
        bail!("nm {} failed", elf.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `nm` lines as (address, type letter, demangled name), in `nm -n` order, for the
/// symbols that have an address in the image: code, data, BSS (not absolute symbols
/// such as `OPAL_BASE`, nor debugging ones).
pub fn parse_nm(text: &str) -> Vec<(u64, u8, String)> {
    text.lines()
        .filter_map(|l| {
            let (addr, rest) = l.split_once(' ')?;
            let (kind, name) = rest.split_once(' ')?;
            let kind = *kind.as_bytes().first().filter(|_| kind.len() == 1)?;
            if !b"TtDdBbRr".contains(&kind) || name.is_empty() {
                return None;
            }
            Some((u64::from_str_radix(addr, 16).ok()?, kind, name.to_owned()))
        })
        .collect()
}

/// A demangled Rust name without its generic arguments: `<P9<FwRegs> as Controller>::f`
/// -> `<P9 as Controller>::f`, `drop_in_place::<Tree>` -> `drop_in_place`. A `<` that
/// opens a qualified path (`<A as B>::`, `<Type>::`) stays.
pub fn strip_generics(name: &str) -> String {
    let mut out = String::new();
    // Per open `<`: whether it is kept (qualified path) or dropped (generic arguments).
    let mut stack: Vec<bool> = Vec::new();
    let dropping = |stack: &[bool]| stack.iter().any(|keep| !keep);
    for c in name.chars() {
        match c {
            '<' => {
                // `::<` is a turbofish; a `<` at the start or after `<`, ` `, `(` or
                // `&` opens a qualified path.
                let qualified =
                    !dropping(&stack) && (out.is_empty() || out.ends_with(['<', ' ', '(', '&']));
                if !qualified && !dropping(&stack) && out.ends_with("::") {
                    out.truncate(out.len() - 2);
                }
                stack.push(qualified);
                if qualified {
                    out.push(c);
                }
            }
            '>' if !stack.is_empty() => {
                let keep = stack.pop() == Some(true);
                if keep && !dropping(&stack) {
                    out.push(c);
                }
            }
            _ if dropping(&stack) => {}
            _ => out.push(c),
        }
    }
    out
}

/// Map names: generics stripped, except where that makes two different symbols at
/// different addresses look the same; those keep their arguments with each path cut to
/// its last segment (`drop_in_place::<Tree>`), which tells them apart in practice.
/// The map's records: each `nm` symbol with the name `short_names` gave it.
fn with_names<'a>(syms: &[(u64, u8, String)], names: &'a [String]) -> Vec<symmap::Symbol<'a>> {
    syms.iter()
        .zip(names)
        .map(|(s, n)| symmap::Symbol {
            addr: s.0,
            kind: s.1,
            name: n,
        })
        .collect()
}

pub fn short_names(symbols: &[(u64, u8, String)]) -> Vec<String> {
    let stripped: Vec<String> = symbols.iter().map(|s| strip_generics(&s.2)).collect();
    let mut full_by_short: HashMap<&str, Vec<&str>> = HashMap::new();
    for (s, sym) in stripped.iter().zip(symbols) {
        let v = full_by_short.entry(s).or_default();
        if !v.contains(&sym.2.as_str()) {
            v.push(&sym.2);
        }
    }
    stripped
        .iter()
        .zip(symbols)
        .map(|(s, sym)| {
            if full_by_short[s.as_str()].len() > 1 {
                last_segments(&sym.2)
            } else {
                s.clone()
            }
        })
        .collect()
}

/// `a::b::C<x::Y>` -> `C<Y>`, path by path, keeping the outermost path whole.
fn last_segments(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut segment_start = 0;
    for c in name.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ => {}
        }
        out.push(c);
        if depth > 0 && out.ends_with("::") {
            // Inside arguments: forget the path written so far, back to its start.
            let start = out[..out.len() - 2]
                .rfind(['<', ' ', '(', '&', '['])
                .map_or(segment_start, |i| i + 1)
                .max(segment_start);
            out.truncate(start);
        }
        if matches!(c, '<' | ' ' | '(' | '&' | '[' | ',') {
            segment_start = out.len();
        }
    }
    out
}

/// The map of `elf`, packed, and where its hole is in the raw image (offset, size).
pub struct Packed {
    pub blob: Vec<u8>,
    pub text_len: usize,
    pub symbols: usize,
    pub hole_offset: u64,
    pub hole_size: u64,
    pub opal_entry: u64,
}

pub fn pack(elf: &Path) -> Result<Packed> {
    let syms = parse_nm(&nm_text(elf)?);
    let find = |n: &str| syms.iter().find(|s| s.2 == n).map(|s| s.0);
    let (Some(start), Some(hole), Some(hole_end), Some(opal_entry)) = (
        find("_image_start"),
        find("_symmap_start"),
        find("_symmap_end"),
        find("opal_entry"),
    ) else {
        bail!(
            "{}: no _image_start/_symmap_start/_symmap_end/opal_entry",
            elf.display()
        );
    };
    let names = short_names(&syms);
    let symbols = with_names(&syms, &names);
    let blob = symmap::pack(&symbols);
    Ok(Packed {
        text_len: symmap::text(&symbols).len(),
        symbols: symbols.len(),
        blob,
        hole_offset: hole - start,
        hole_size: hole_end - hole,
        opal_entry,
    })
}

/// Writes `elf`'s packed map into its hole in `image` (made from that ELF).
pub fn patch(elf: &Path, image: &Path) -> Result<Packed> {
    let p = pack(elf)?;
    if p.blob.len() as u64 > p.hole_size {
        bail!(
            "the symbol map packs to {} bytes but its hole holds {}: grow SYMMAP_SIZE in \
             firmware/opal.ld (and the image with it) or drop symbols",
            p.blob.len(),
            p.hole_size
        );
    }
    let mut lid = std::fs::read(image).context(format!("cannot read {}", image.display()))?;
    let at = p.hole_offset as usize;
    let Some(hole) = lid.get_mut(at..at + p.hole_size as usize) else {
        bail!(
            "{}: the symbol-map hole is past the end of the image",
            image.display()
        );
    };
    if hole.iter().any(|&b| b != 0) {
        bail!("{}: the symbol-map hole is not empty", image.display());
    }
    hole[..p.blob.len()].copy_from_slice(&p.blob);
    std::fs::write(image, &lid).context(format!("cannot write {}", image.display()))?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generics_are_stripped() {
        for (full, short) in [
            ("opalite::cpu::park", "opalite::cpu::park"),
            (
                "<xive::ctrl::p9::P9<opalite::xive_regs::FwRegs> as xive::hw::Controller>::tima_reset",
                "<xive::ctrl::p9::P9 as xive::hw::Controller>::tima_reset",
            ),
            ("core::ptr::drop_in_place::<devtree::writer::FdtWriter>", "core::ptr::drop_in_place"),
            ("<&str as core::fmt::Debug>::fmt", "<&str as core::fmt::Debug>::fmt"),
            ("<u64>::_fmt_inner", "<u64>::_fmt_inner"),
            ("<[u32] as core::fmt::Debug>::fmt", "<[u32] as core::fmt::Debug>::fmt"),
            (
                "<spin::once::Once<opalite::hmi::Machine>>::try_call_once_slow::<<spin::once::Once<opalite::hmi::Machine>>::call_once<opalite::hmi::init::{closure#1}>::{closure#0}, core::convert::Infallible>",
                "<spin::once::Once>::try_call_once_slow",
            ),
            (
                "<opalite::hmi::handle_parked::{closure#0} as core::ops::function::FnOnce<()>>::call_once::{shim:vtable#0}",
                "<opalite::hmi::handle_parked::{closure#0} as core::ops::function::FnOnce>::call_once::{shim:vtable#0}",
            ),
        ] {
            assert_eq!(strip_generics(full), short, "{full}");
        }
    }

    #[test]
    fn collisions_keep_short_arguments() {
        let syms = vec![
            (
                0x10,
                b't',
                "core::ptr::drop_in_place::<devtree::tree::Tree>".to_owned(),
            ),
            (
                0x20,
                b't',
                "core::ptr::drop_in_place::<xive::ctrl::p9::P9<opalite::xive_regs::FwRegs>>"
                    .to_owned(),
            ),
            (0x30, b't', "opalite::cpu::park".to_owned()),
            (0x40, b't', "opal_calls::table::ROWS::shim".to_owned()),
            (0x50, b't', "opal_calls::table::ROWS::shim".to_owned()),
        ];
        assert_eq!(
            short_names(&syms),
            [
                "core::ptr::drop_in_place::<Tree>",
                "core::ptr::drop_in_place::<P9<FwRegs>>",
                "opalite::cpu::park",
                // Identical in the ELF too: only the address tells them apart.
                "opal_calls::table::ROWS::shim",
                "opal_calls::table::ROWS::shim",
            ]
        );
    }

    #[test]
    fn nm_lines_are_filtered_and_kept_in_order() {
        let nm = "0000000000100000 A IMAGE_MAX\n\
                  0000000030000000 T _image_start\n\
                  00000000300040b0 T opal_entry\n\
                  0000000030005000 t <a::B<c::D> as e::F>::g\n\
                  000000003003fa68 B MEMLOG\n\
                  0000000030050000 N .debug\n\
                                   U undefined\n";
        let syms = parse_nm(nm);
        assert_eq!(
            syms.iter()
                .map(|s| (s.0, s.1, s.2.as_str()))
                .collect::<Vec<_>>(),
            [
                (0x3000_0000, b'T', "_image_start"),
                (0x3000_40b0, b'T', "opal_entry"),
                (0x3000_5000, b't', "<a::B<c::D> as e::F>::g"),
                (0x3003_fa68, b'B', "MEMLOG"),
            ]
        );
        let names = short_names(&syms);
        let symbols = with_names(&syms, &names);
        let text = String::from_utf8(symmap::text(&symbols)).unwrap();
        assert_eq!(
            text,
            "0000000030000000 T _image_start\n\
             00000000300040b0 T opal_entry\n\
             0000000030005000 t <a::B as e::F>::g\n\
             000000003003fa68 B MEMLOG\n"
        );
        assert_eq!(
            symmap::unpack(&symmap::pack(&symbols), 1 << 20),
            Ok(text.into_bytes())
        );
    }
}
