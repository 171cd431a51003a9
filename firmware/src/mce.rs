// SPDX-License-Identifier: Apache-2.0
//! The report of a machine check (0x200) taken while the firmware owns the vectors: the
//! decoded cause (`hmi::mce`, hmi-mce-sreset.md §5.2), and for any vector what the thread
//! was doing. The caller then dumps the registers and halts; nothing here recovers (skiboot
//! recovers ERAT multi-hits by a flush; the report says when that would do).

use crate::{arch, cpu};
use core::fmt::Write;
use core::sync::atomic::Ordering;

extern "C" {
    /// The boot thread's stack (opal.ld), which it runs on until it enters the kernel.
    static _boot_stack_bottom: u8;
    static _boot_stack_top: u8;
}

/// What the thread was doing, from its stack pointer and its OPAL depth.
pub fn context(f: &arch::ExcFrame) -> &'static str {
    let boot =
        core::ptr::addr_of!(_boot_stack_bottom) as u64..core::ptr::addr_of!(_boot_stack_top) as u64;
    if boot.contains(&f.gpr[1]) {
        return "at boot";
    }
    match cpu::index_of_pir(f.pir) {
        None => "unmanaged thread",
        Some(i) if cpu::header(i).depth.load(Ordering::Relaxed) > 0 => "in an OPAL call",
        Some(_) => "parked",
    }
}

/// Writes the decoded cause, one line (nothing on a processor `hmi::mce` does not know:
/// the header line and the register dump still say what happened).
pub fn report(w: &mut impl Write, f: &arch::ExcFrame) {
    if let Some(gen) = hmi::mce::Gen::from_pvr(arch::pvr()) {
        let m = hmi::mce::decode(gen, f.srr1, f.dsisr as u32, f.dar, f.srr0);
        let _ = writeln!(w, "OPALITE: {m}");
    }
}
