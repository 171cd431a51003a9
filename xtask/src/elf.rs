//! Just enough ELF64 little-endian reading to put a dynamically linked ppc64el program in
//! the initramfs: its program interpreter (`PT_INTERP`) and the shared libraries it names
//! (`DT_NEEDED`), so the initramfs carries exactly what the loader will open.

use crate::bail;
use crate::util::Result;

const PT_INTERP: u32 = 3;
const SHT_DYNAMIC: u32 = 6;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
/// `EM_PPC64`.
pub const EM_PPC64: u16 = 21;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dynamic {
    pub machine: u16,
    /// `PT_INTERP`, e.g. `/lib64/ld64.so.2`; None for a library or a static program.
    pub interp: Option<String>,
    /// `DT_NEEDED` sonames, in order.
    pub needed: Vec<String>,
}

fn u16_at(b: &[u8], off: usize) -> Result<u16> {
    match b.get(off..off + 2) {
        Some(s) => Ok(u16::from_le_bytes([s[0], s[1]])),
        None => bail!("ELF truncated at {off:#x}"),
    }
}

fn u32_at(b: &[u8], off: usize) -> Result<u32> {
    match b.get(off..off + 4) {
        Some(s) => Ok(u32::from_le_bytes(s.try_into().expect("4 bytes"))),
        None => bail!("ELF truncated at {off:#x}"),
    }
}

fn u64_at(b: &[u8], off: usize) -> Result<u64> {
    match b.get(off..off + 8) {
        Some(s) => Ok(u64::from_le_bytes(s.try_into().expect("8 bytes"))),
        None => bail!("ELF truncated at {off:#x}"),
    }
}

fn c_string(b: &[u8], off: usize) -> Result<String> {
    let Some(rest) = b.get(off..) else {
        bail!("ELF string offset {off:#x} out of range");
    };
    let len = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
}

/// Reads the interpreter and `DT_NEEDED` list of an ELF64 little-endian file. The
/// dynamic section is found through the section headers (Debian's binaries keep them).
pub fn dynamic(b: &[u8]) -> Result<Dynamic> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" {
        bail!("not an ELF file");
    }
    if b[4] != 2 || b[5] != 1 {
        bail!("not ELF64 little-endian (class {}, data {})", b[4], b[5]);
    }
    let machine = u16_at(b, 18)?;
    let phoff = u64_at(b, 32)? as usize;
    let shoff = u64_at(b, 40)? as usize;
    let phentsize = u16_at(b, 54)? as usize;
    let phnum = u16_at(b, 56)? as usize;
    let shentsize = u16_at(b, 58)? as usize;
    let shnum = u16_at(b, 60)? as usize;

    let mut out = Dynamic {
        machine,
        ..Dynamic::default()
    };
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(b, ph)? == PT_INTERP {
            out.interp = Some(c_string(b, u64_at(b, ph + 8)? as usize)?);
        }
    }
    for i in 0..shnum {
        let sh = shoff + i * shentsize;
        if u32_at(b, sh + 4)? != SHT_DYNAMIC {
            continue;
        }
        let (offset, size) = (u64_at(b, sh + 24)? as usize, u64_at(b, sh + 32)? as usize);
        let link = u32_at(b, sh + 40)? as usize;
        let strtab = u64_at(b, shoff + link * shentsize + 24)? as usize;
        for entry in (offset..offset + size).step_by(16) {
            match u64_at(b, entry)? {
                DT_NULL => break,
                DT_NEEDED => {
                    let name = u64_at(b, entry + 8)? as usize;
                    out.needed.push(c_string(b, strtab + name)?);
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A minimal ELF64 LE image: one PT_INTERP, a `.dynamic` with two DT_NEEDED entries
    /// and its string table, laid out by hand.
    pub fn sample(interp: Option<&str>, needed: &[&str]) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut offsets = Vec::new();
        for n in needed {
            offsets.push(strtab.len() as u64);
            strtab.extend_from_slice(n.as_bytes());
            strtab.push(0);
        }
        let interp_bytes: Vec<u8> = interp
            .map(|s| [s.as_bytes(), &[0]].concat())
            .unwrap_or_default();
        let (phoff, phnum) = (64usize, usize::from(interp.is_some()));
        let interp_off = phoff + 56 * phnum;
        let strtab_off = interp_off + interp_bytes.len();
        let dynamic_off = (strtab_off + strtab.len()).next_multiple_of(8);
        let mut dynamic: Vec<u8> = Vec::new();
        for o in &offsets {
            dynamic.extend_from_slice(&DT_NEEDED.to_le_bytes());
            dynamic.extend_from_slice(&o.to_le_bytes());
        }
        dynamic.extend_from_slice(&[0u8; 16]);
        let shoff = dynamic_off + dynamic.len();

        let mut b = vec![0u8; shoff + 3 * 64];
        b[..4].copy_from_slice(b"\x7fELF");
        (b[4], b[5], b[6]) = (2, 1, 1);
        b[18..20].copy_from_slice(&EM_PPC64.to_le_bytes());
        b[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
        b[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
        b[58..60].copy_from_slice(&64u16.to_le_bytes());
        b[60..62].copy_from_slice(&3u16.to_le_bytes());
        if phnum == 1 {
            b[phoff..phoff + 4].copy_from_slice(&PT_INTERP.to_le_bytes());
            b[phoff + 8..phoff + 16].copy_from_slice(&(interp_off as u64).to_le_bytes());
        }
        b[interp_off..interp_off + interp_bytes.len()].copy_from_slice(&interp_bytes);
        b[strtab_off..strtab_off + strtab.len()].copy_from_slice(&strtab);
        b[dynamic_off..dynamic_off + dynamic.len()].copy_from_slice(&dynamic);
        // Section 0 null, 1 .dynstr (STRTAB), 2 .dynamic linking to 1.
        let s1 = shoff + 64;
        b[s1 + 4..s1 + 8].copy_from_slice(&3u32.to_le_bytes());
        b[s1 + 24..s1 + 32].copy_from_slice(&(strtab_off as u64).to_le_bytes());
        let s2 = shoff + 128;
        b[s2 + 4..s2 + 8].copy_from_slice(&SHT_DYNAMIC.to_le_bytes());
        b[s2 + 24..s2 + 32].copy_from_slice(&(dynamic_off as u64).to_le_bytes());
        b[s2 + 32..s2 + 40].copy_from_slice(&(dynamic.len() as u64).to_le_bytes());
        b[s2 + 40..s2 + 44].copy_from_slice(&1u32.to_le_bytes());
        b
    }

    #[test]
    fn reads_interp_and_needed() {
        let b = sample(Some("/lib64/ld64.so.2"), &["libz.so.1", "libc.so.6"]);
        let d = dynamic(&b).unwrap();
        assert_eq!(d.machine, EM_PPC64);
        assert_eq!(d.interp.as_deref(), Some("/lib64/ld64.so.2"));
        assert_eq!(d.needed, ["libz.so.1", "libc.so.6"]);
    }

    #[test]
    fn library_without_interp() {
        let d = dynamic(&sample(None, &["ld64.so.2"])).unwrap();
        assert_eq!(d.interp, None);
        assert_eq!(d.needed, ["ld64.so.2"]);
    }

    #[test]
    fn rejects_other_files() {
        assert!(dynamic(b"#!/bin/sh\n").is_err());
        let mut b = sample(None, &[]);
        b[5] = 2; // big-endian
        assert!(dynamic(&b).is_err());
        assert!(dynamic(&b[..70]).is_err());
    }
}
