// SPDX-License-Identifier: Apache-2.0
//! Opalite's memory map. Everything the firmware owns at run time lies in one range from
//! OPAL_BASE, which the OS device tree reserves three ways (memreserve, reserved-ranges,
//! /reserved-memory) and reports as `opal-runtime-size`.
//!
//! NOTE: keep in sync with firmware/opal.ld (OPAL_BASE, IMAGE_MAX).

/// Where the image is linked and runs (skiboot's SKIBOOT_BASE too): QEMU leaves
/// 0x2000_0000..0x3000_0000 to the kernel and initrd.
pub const OPAL_BASE: u64 = 0x3000_0000;
/// Code, data and BSS (asserted by the linker script).
pub const IMAGE_MAX: u64 = 0x10_0000;
/// Heap: the OS device tree and boot-time tables. OPAL calls never allocate.
pub const HEAP_BASE: u64 = OPAL_BASE + IMAGE_MAX;
pub const HEAP_SIZE: usize = 0x30_0000;
/// Per-CPU regions: the stack of each thread, indexed by the dense CPU index.
pub const STACKS_BASE: u64 = HEAP_BASE + HEAP_SIZE as u64;
pub const STACK_SHIFT: u32 = 15;
pub const STACK_SIZE: u64 = 1 << STACK_SHIFT;
/// Top of the emergency stack used when OPAL is re-entered on a CPU already inside it,
/// as an offset into the per-CPU region; the region's first bytes hold the header (PCPU_*).
pub const EMERGENCY_STACK_TOP: u64 = 0x2000;
/// The per-CPU header (head.S): the OPAL nesting depth, which is also the quiesce
/// protocol's "in OPAL" count, and the quiesce flag another CPU sets (u32 each).
pub const PCPU_OPAL_DEPTH: u64 = 0;
pub const PCPU_QUIESCE: u64 = 4;
/// Test builds (feature `hmi-inject`) only: non-zero when this CPU's current OPAL call
/// must end in a synthetic hypervisor maintenance interrupt (head.S `opal_exit_into_hmi`).
pub const PCPU_INJECT_HMI: u64 = 8;
/// Threads Opalite can manage.
pub const MAX_CPUS: usize = 256;
/// PIRs below 1 << PIR_TABLE_BITS are addressable (chips 0..31 on P9/P10).
pub const PIR_TABLE_BITS: u32 = 13;
pub const PIR_SLOTS: usize = 1 << PIR_TABLE_BITS;
/// Timebase ticks a parked thread sleeps before it looks at its mailbox again when no
/// doorbell comes (10 ms at 512 MHz).
pub const PARK_DEC_TICKS: u32 = 5_120_000;

/// Where QEMU (and Mambo) put the kernel.
pub const KERNEL_LOAD_ADDR: u64 = 0x2000_0000;

/// End of firmware-owned memory with `ncpus` per-CPU regions.
pub const fn runtime_end(ncpus: usize) -> u64 {
    STACKS_BASE + ncpus as u64 * STACK_SIZE
}

const _: () = assert!(HEAP_BASE % 0x1_0000 == 0 && STACKS_BASE % STACK_SIZE == 0);
const _: () = assert!(STACKS_BASE + (MAX_CPUS as u64) * STACK_SIZE < 0x4000_0000);
const _: () = assert!(EMERGENCY_STACK_TOP < STACK_SIZE / 2);

/// Firmware memory handed out once at boot, after the per-CPU regions: the XIVE tables.
/// Everything below `end()` is reserved from the OS. Space skipped to align a large table
/// (the 2 MiB EAS table) is kept and handed out to later, smaller requests.
pub struct BootArena {
    next: u64,
    /// Skipped ranges (start, end), at most a few.
    holes: [(u64, u64); 4],
}

/// The arena never reaches past this (the kernel loads below OPAL_BASE, and QEMU's
/// smallest powernv RAM is far above).
const ARENA_LIMIT: u64 = 0x4000_0000;

const fn align_up(v: u64, align: u64) -> Option<u64> {
    match v.checked_add(align - 1) {
        Some(x) => Some(x & !(align - 1)),
        None => None,
    }
}

impl BootArena {
    pub const fn new(start: u64) -> Self {
        Self {
            next: start,
            holes: [(0, 0); 4],
        }
    }

    /// `size` bytes aligned to `align` (a power of two).
    pub fn alloc(&mut self, size: u64, align: u64) -> Option<u64> {
        for hole in self.holes.iter_mut() {
            let base = align_up(hole.0, align)?;
            if base + size <= hole.1 {
                hole.0 = base + size;
                return Some(base);
            }
        }
        let base = align_up(self.next, align)?;
        let end = base.checked_add(size)?;
        if end > ARENA_LIMIT {
            return None;
        }
        if base > self.next {
            if let Some(free) = self.holes.iter_mut().find(|h| h.0 >= h.1) {
                *free = (self.next, base);
            }
        }
        self.next = end;
        Some(base)
    }

    /// End of reserved memory, rounded to 64 KiB.
    pub fn end(&self) -> u64 {
        (self.next + 0xffff) & !0xffff
    }
}
