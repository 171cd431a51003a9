//! `/bin/opalite-tb`: a 300-byte static ppc64le Linux program, assembled here, that reads
//! the timebase (`mftb`, unprivileged) and writes `OPALITE-TB 0x<16 hex digits>` to
//! /dev/kmsg (stdout if that cannot be opened). The kernel stamps the line with its printk
//! clock, which on powerpc counts from the timebase value of the kernel's `time_init`:
//! one line gives that kernel's clock origin in timebase ticks, so console lines of two
//! kernels (before and after a kexec) can be put on one deterministic clock under
//! `-icount`. No cross toolchain needed; `tests` checks the encodings.
//!
//! `/bin/opalite-reboot2 CMD`: the same kind of program (under 200 bytes) that calls
//! `reboot(LINUX_REBOOT_CMD_RESTART2, CMD)`, which busybox's `reboot` cannot: Linux's
//! powernv `pnv_restart` turns `full`, `error`, `fast` and `mpipl` into
//! `OPAL_CEC_REBOOT2` requests.

const BASE: u64 = 0x1000_0000;
const EHDR: usize = 64;
const PHDR: usize = 56;
const CODE: usize = EHDR + PHDR;

pub const MESSAGE: &[u8] = b"OPALITE-TB 0x0000000000000000\n";
/// Where the 16 hex digits end within MESSAGE (before the newline).
const DIGITS_END: usize = MESSAGE.len() - 1;
const PATH: &[u8] = b"/dev/kmsg\0";

// Power ISA instruction encodings (the word is stored little-endian).
fn d_form(op: u32, rt: u32, ra: u32, imm: i32) -> u32 {
    (op << 26) | (rt << 21) | (ra << 16) | (imm as u32 & 0xffff)
}
fn addi(rt: u32, ra: u32, imm: i32) -> u32 {
    d_form(14, rt, ra, imm)
}
fn li(rt: u32, imm: i32) -> u32 {
    addi(rt, 0, imm)
}
fn andi_dot(ra: u32, rs: u32, imm: u32) -> u32 {
    d_form(28, rs, ra, imm as i32)
}
fn cmpwi_cr0(ra: u32, imm: i32) -> u32 {
    d_form(11, 0, ra, imm)
}
fn stbu(rs: u32, disp: i32, ra: u32) -> u32 {
    d_form(39, rs, ra, disp)
}
fn spr_field(spr: u32) -> u32 {
    ((spr & 0x1f) << 5) | (spr >> 5)
}
fn mfspr(rt: u32, spr: u32) -> u32 {
    (31 << 26) | (rt << 21) | (spr_field(spr) << 11) | (339 << 1)
}
fn mtspr(spr: u32, rs: u32) -> u32 {
    (31 << 26) | (rs << 21) | (spr_field(spr) << 11) | (467 << 1)
}
fn mr(ra: u32, rs: u32) -> u32 {
    (31 << 26) | (rs << 21) | (ra << 16) | (rs << 11) | (444 << 1)
}
/// `srdi ra, rs, n` = `rldicl ra, rs, 64 - n, n`.
fn srdi(ra: u32, rs: u32, n: u32) -> u32 {
    let (sh, mb) = (64 - n, n);
    let mb_field = ((mb & 0x1f) << 1) | (mb >> 5);
    (30 << 26) | (rs << 21) | (ra << 16) | ((sh & 0x1f) << 11) | (mb_field << 5) | ((sh >> 5) << 1)
}
/// `bc bo, bi, target` with the target relative to this instruction (bytes); `lk` links.
fn bc(bo: u32, bi: u32, rel: i32, lk: bool) -> u32 {
    (16 << 26) | (bo << 21) | (bi << 16) | (rel as u32 & 0xfffc) | u32::from(lk)
}
const SC: u32 = 0x4400_0002;
const MFLR_R31: u32 = 0x7fe8_02a6;

const NR_EXIT: i32 = 1;
const NR_WRITE: i32 = 4;
const NR_OPEN: i32 = 5;

/// The code; `base` is the address of instruction 1 (after `bcl`), kept in r31.
fn code(msg_off: i32, path_off: i32) -> Vec<u32> {
    let mut c = vec![
        bc(20, 31, 4, true), // 0: bcl 20,31,$+4: LR = address of instruction 1
        MFLR_R31,            // 1: r31 = base
        addi(3, 31, path_off),
        li(4, 1), // O_WRONLY
        li(0, NR_OPEN),
        SC,
        bc(4, 3, 8, false), // 6: bns +8 (no error: keep the fd)
        li(3, 1),           // 7: fall back to stdout
        mr(30, 3),          // 8: r30 = fd
        mfspr(5, 268),      // 9: mftb r5
        addi(4, 31, msg_off + DIGITS_END as i32),
        li(6, 16),
        mtspr(9, 6), // mtctr r6
    ];
    // loop: 13
    c.extend([
        andi_dot(7, 5, 15),
        cmpwi_cr0(7, 10),
        addi(8, 7, i32::from(b'0')),
        bc(12, 0, 8, false), // blt +8
        addi(8, 7, i32::from(b'a') - 10),
        stbu(8, -1, 4),
        srdi(5, 5, 4),
        bc(16, 0, -28, false), // bdnz loop (7 instructions back)
        mr(3, 30),
        addi(4, 31, msg_off),
        li(5, MESSAGE.len() as i32),
        li(0, NR_WRITE),
        SC,
        li(3, 0),
        li(0, NR_EXIT),
        SC,
    ]);
    c
}

/// The whole ELF file.
pub fn image() -> Vec<u8> {
    let n = code(0, 0).len();
    let msg_at = CODE + 4 * n;
    let path_at = msg_at + MESSAGE.len();
    let base_at = CODE + 4; // instruction 1
    let words = code((msg_at - base_at) as i32, (path_at - base_at) as i32);
    let mut tail = MESSAGE.to_vec();
    tail.extend_from_slice(PATH);
    static_elf(&words, &tail)
}

const NR_REBOOT: i32 = 88;
/// `reboot(2)`'s magic numbers and `LINUX_REBOOT_CMD_RESTART2` (include/uapi/linux/reboot.h).
const REBOOT_MAGIC1: u32 = 0xfee1_dead;
const REBOOT_MAGIC2: u32 = 0x2812_1969;
const REBOOT_CMD_RESTART2: u32 = 0xa1b2_c3d4;

fn addis(rt: u32, ra: u32, imm: u32) -> u32 {
    d_form(15, rt, ra, imm as i32)
}
fn ori(ra: u32, rs: u32, imm: u32) -> u32 {
    d_form(24, rs, ra, imm as i32)
}
/// `ld rt, ds(ra)` (DS form).
fn ld(rt: u32, ds: i32, ra: u32) -> u32 {
    (58 << 26) | (rt << 21) | (ra << 16) | (ds as u32 & 0xfffc)
}
/// Loads a 32-bit value whose low word the kernel reads as an `int`.
fn load32(rt: u32, v: u32) -> [u32; 2] {
    [addis(rt, 0, v >> 16), ori(rt, rt, v & 0xffff)]
}

/// `reboot(MAGIC1, MAGIC2, RESTART2, argv[1])`; exit status 1 if the kernel refuses.
fn reboot2_code() -> Vec<u32> {
    let mut c = vec![ld(6, 16, 1)]; // argv[1]: the stack holds argc, then argv[]
    c.extend(load32(3, REBOOT_MAGIC1));
    c.extend(load32(4, REBOOT_MAGIC2));
    c.extend(load32(5, REBOOT_CMD_RESTART2));
    c.extend([li(0, NR_REBOOT), SC, li(3, 1), li(0, NR_EXIT), SC]);
    c
}

/// `/bin/opalite-reboot2`.
pub fn reboot2_image() -> Vec<u8> {
    static_elf(&reboot2_code(), &[])
}

/// A static ELFv2 executable: `words` at the entry point, then `tail`, in one RWX segment.
fn static_elf(words: &[u32], tail: &[u8]) -> Vec<u8> {
    let size = CODE + 4 * words.len() + tail.len();

    let mut b = vec![0u8; EHDR + PHDR];
    b[..4].copy_from_slice(b"\x7fELF");
    (b[4], b[5], b[6]) = (2, 1, 1); // ELF64, little-endian, version 1
    b[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    b[18..20].copy_from_slice(&crate::elf::EM_PPC64.to_le_bytes());
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[24..32].copy_from_slice(&(BASE + CODE as u64).to_le_bytes()); // entry
    b[32..40].copy_from_slice(&(EHDR as u64).to_le_bytes()); // phoff
    b[48..52].copy_from_slice(&2u32.to_le_bytes()); // e_flags: ELFv2 ABI
    b[52..54].copy_from_slice(&(EHDR as u16).to_le_bytes());
    b[54..56].copy_from_slice(&(PHDR as u16).to_le_bytes());
    b[56..58].copy_from_slice(&1u16.to_le_bytes());
    // One PT_LOAD, read-write-execute (the digits are written into the message in place).
    let ph = EHDR;
    b[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
    b[ph + 4..ph + 8].copy_from_slice(&7u32.to_le_bytes());
    b[ph + 16..ph + 24].copy_from_slice(&BASE.to_le_bytes());
    b[ph + 24..ph + 32].copy_from_slice(&BASE.to_le_bytes());
    b[ph + 32..ph + 40].copy_from_slice(&(size as u64).to_le_bytes());
    b[ph + 40..ph + 48].copy_from_slice(&(size as u64).to_le_bytes());
    b[ph + 48..ph + 56].copy_from_slice(&0x10000u64.to_le_bytes());
    for w in words {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(tail);
    b
}

/// Reads `OPALITE-TB 0x...` out of a console line.
pub fn parse_line(line: &str) -> Option<u64> {
    let at = line.find("OPALITE-TB 0x")? + "OPALITE-TB 0x".len();
    u64::from_str_radix(line.get(at..at + 16)?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_the_assembler() {
        // Words as llvm-mc -triple=powerpc64le assembles them.
        assert_eq!(bc(20, 31, 4, true), 0x429f_0005); // bcl 20,31,$+4
        assert_eq!(mfspr(3, 268), 0x7c6c_42a6); // mfspr r3,268 (llvm-mc spells mftb 3 with XO 371)
        assert_eq!(mtspr(9, 0), 0x7c09_03a6); // mtctr r0
        assert_eq!(li(0, 5), 0x3800_0005);
        assert_eq!(addi(4, 31, -8), 0x389f_fff8);
        assert_eq!(mr(30, 3), 0x7c7e_1b78);
        assert_eq!(srdi(3, 3, 4), 0x7863_e102);
        assert_eq!(andi_dot(7, 5, 15), 0x70a7_000f);
        assert_eq!(cmpwi_cr0(7, 10), 0x2c07_000a);
        assert_eq!(stbu(8, -1, 4), 0x9d04_ffff);
        assert_eq!(bc(16, 0, -28, false), 0x4200_ffe4); // bdnz .-28
        assert_eq!(bc(12, 0, 8, false), 0x4180_0008); // blt .+8
        assert_eq!(bc(4, 3, 8, false), 0x4083_0008); // bns .+8
    }

    #[test]
    fn image_is_an_elf_whose_offsets_point_at_the_strings() {
        let b = image();
        let d = crate::elf::dynamic(&b).unwrap();
        assert_eq!(d.machine, crate::elf::EM_PPC64);
        assert_eq!(d.interp, None);
        let words: Vec<u32> = b[CODE..]
            .chunks(4)
            .take(code(0, 0).len())
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        let base = CODE + 4;
        let imm = |w: u32| (w & 0xffff) as i16 as i64;
        let path = (base as i64 + imm(words[2])) as usize;
        assert_eq!(&b[path..path + PATH.len()], PATH);
        let msg = (base as i64 + imm(words[words.len() - 7])) as usize;
        assert_eq!(&b[msg..msg + MESSAGE.len()], MESSAGE);
        // The loop's branch goes back to its first instruction.
        let bdnz = words.iter().position(|&w| w >> 16 == 0x4200).unwrap();
        assert_eq!(
            words[(bdnz as i64 + imm(words[bdnz]) / 4) as usize],
            andi_dot(7, 5, 15)
        );
        assert!(b.len() < 400);
    }

    #[test]
    fn reboot2_calls_restart2_with_argv1() {
        // Words as llvm-mc -triple=powerpc64le assembles them.
        assert_eq!(ld(6, 16, 1), 0xe8c1_0010); // ld r6,16(r1)
        assert_eq!(addis(3, 0, 0xfee1), 0x3c60_fee1); // lis r3,0xfee1
        assert_eq!(ori(3, 3, 0xdead), 0x6063_dead);
        assert_eq!(li(0, NR_REBOOT), 0x3800_0058);
        let b = reboot2_image();
        let d = crate::elf::dynamic(&b).unwrap();
        assert_eq!(d.machine, crate::elf::EM_PPC64);
        let words: Vec<u32> = b[CODE..]
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        // r3..r5 rebuilt from their lis/ori pairs are the syscall's first three arguments.
        let pair = |i: usize| ((words[i] & 0xffff) << 16) | (words[i + 1] & 0xffff);
        assert_eq!(
            [pair(1), pair(3), pair(5)],
            [REBOOT_MAGIC1, REBOOT_MAGIC2, REBOOT_CMD_RESTART2]
        );
        assert_eq!(words[8], SC);
        assert!(b.len() < 200);
    }

    #[test]
    fn parses_lines() {
        let l = "[    4.123456] OPALITE-TB 0x00000001a2b3c4d5";
        assert_eq!(parse_line(l), Some(0x1_a2b3_c4d5));
        assert_eq!(parse_line("OPALITE-TB 0x12"), None);
        assert_eq!(parse_line("nothing"), None);
    }
}
