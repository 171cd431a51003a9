// SPDX-License-Identifier: Apache-2.0
//! The register-level drivers of the interrupt controller: [`P9`] (XIVE, skiboot
//! `hw/xive.c`) and [`P10`] (XIVE2, skiboot `hw/xive2.c`), each an implementation of
//! [`Controller`](crate::hw::Controller) over [`Regs`].
//!
//! They translate protocols (cache watch, scrub, sync, kill, thread enable, indirect
//! TIMA) into register sequences and decide nothing about what the structures hold: that is
//! the logic's. `init_instance` does the per-instance bring-up that needs no memory (BARs,
//! global configuration, set translation); the logic then allocates tables and calls
//! `set_vsd`, and per thread `thread_enable` and `tima_reset`.
//!
//! Every hardware poll is bounded by [`POLL_LIMIT`] reads; a poll that runs out logs an
//! error and the method returns as if the operation had completed, because the trait's
//! methods (like skiboot's) have no way to report it. Sequences and their sources are in
//! `docs/xive-qemu-notes.md`.

pub mod p10;
mod p10_regs;
pub mod p9;
mod p9_regs;

#[cfg(test)]
mod fake;

pub use p10::P10;
pub use p9::P9;

use crate::hw::{Busy, Regs};
use crate::phys_map::Bars;

/// One XIVE unit (one per chip) as the firmware found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Block id the firmware gives the unit (0, 1, 2… in device-tree order).
    pub blk: u8,
    /// The chip's `ibm,chip-id` (QEMU's chip id, the topology id on P10).
    pub chip_id: u32,
    /// Where the firmware maps the unit's MMIO regions.
    pub bars: Bars,
}

/// Why `init_instance` stopped.
///
/// `Debug` is written out (below) instead of derived: the derived one formats the
/// `&'static str` fields with `<str as Debug>`, which alone pulls core's string escaping
/// and Unicode tables (about 3 KiB) into the image. The output is the derived one's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// No instance has this block id.
    UnknownBlock(u8),
    /// A BAR's base or size cannot be programmed (not a power of two, not aligned to its
    /// size, or outside the range the BAR register can express).
    BadBar {
        bar: &'static str,
        base: u64,
        size: u64,
    },
    /// The EDT split (IPI ESBs, then END ESBs) does not fall on VC set boundaries.
    BadEdtSplit { vc: u64, end_esb: u64 },
    /// `CQ_XIVE_CAP.VERSION` is not the XIVE2 generation this driver programs.
    UnsupportedVersion(u64),
    /// A configuration register did not keep what was written to it.
    ReadBack {
        reg: &'static str,
        wrote: u64,
        read: u64,
    },
}

/// A register or BAR name as `{:?}` prints it: in quotes. The names are ASCII
/// identifiers from this module, which `str`'s `Debug` would print unescaped too.
struct Name(&'static str);

impl core::fmt::Debug for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("\"")?;
        f.write_str(self.0)?;
        f.write_str("\"")
    }
}

impl core::fmt::Debug for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::UnknownBlock(blk) => f.debug_tuple("UnknownBlock").field(&blk).finish(),
            Self::BadBar { bar, base, size } => f
                .debug_struct("BadBar")
                .field("bar", &Name(bar))
                .field("base", &base)
                .field("size", &size)
                .finish(),
            Self::BadEdtSplit { vc, end_esb } => f
                .debug_struct("BadEdtSplit")
                .field("vc", &vc)
                .field("end_esb", &end_esb)
                .finish(),
            Self::UnsupportedVersion(v) => f.debug_tuple("UnsupportedVersion").field(&v).finish(),
            Self::ReadBack { reg, wrote, read } => f
                .debug_struct("ReadBack")
                .field("reg", &Name(reg))
                .field("wrote", &wrote)
                .field("read", &read)
                .finish(),
        }
    }
}

/// Reads of one hardware poll before it is declared timed out. An MMIO read takes well
/// over 100 ns on hardware, so this is tens of milliseconds: far beyond any scrub, kill
/// or sync, which complete in microseconds.
pub const POLL_LIMIT: u32 = 100_000;

/// Attempts of a synchronous cache watch before it gives up with `Busy` (skiboot's
/// `XIVE_CACHE_WATCH_MAX_RETRIES`).
pub const WATCH_ATTEMPTS: u32 = 10;

/// Cache-watch SPEC bits, at the same place in every watch register of both generations.
pub(crate) const WATCH_CONFLICT: u64 = ppc_bit(0);
pub(crate) const WATCH_FULL: u64 = ppc_bit(8);

pub(crate) use hal::bits::{ppc_bit, ppc_bitmask};

/// TIMA layout shared by both generations (skiboot `include/xive-regs.h`): the PHYS
/// ring's CPPR and word 2 (VT in bit 0 of its first byte), and the pull-POOL special op.
pub(crate) const TM_QW3_HV_PHYS: u64 = 0x30;
pub(crate) const TM_CPPR: u64 = 0x1;
pub(crate) const TM_WORD2: u64 = 0x8;
pub(crate) const TM_QW3B2_VT: u8 = 0x80;
pub(crate) const TM_SPC_PULL_POOL_CTX: u64 = 0x828;

/// ESB page offset of the side-effect-free PQ read.
pub(crate) const ESB_GET: u64 = crate::esb::GET;

/// The field `mask` of `word`, and `word` with it replaced (the crate's field helpers).
pub(crate) use crate::bits::{get64 as get_field, set64 as set_field};

/// `value` placed in the field `mask` of an otherwise zero word (excess bits dropped).
pub(crate) const fn field(mask: u64, value: u64) -> u64 {
    set_field(mask, 0, value)
}

/// Reads `read` until `done` holds for the value, at most [`POLL_LIMIT`] times. Returns
/// the last value read, or `None` when the hardware never got there.
pub(crate) fn poll(mut read: impl FnMut() -> u64, done: impl Fn(u64) -> bool) -> Option<u64> {
    for _ in 0..POLL_LIMIT {
        let v = read();
        if done(v) {
            return Some(v);
        }
    }
    None
}

/// The MMIO addresses of one cache-watch engine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Watch {
    pub spec: u64,
    pub data0: u64,
}

/// One cache-watch update (skiboot `__xive_cache_watch`, xive.md §9): write SPEC (block,
/// index, FULL unless light), read DAT0 so that the watch loads the entry, write the new
/// dwords highest first so that DAT0, which commits, is written last (re-written with the
/// loaded value when the update starts past dword 0), then read SPEC: FULL and CONFLICT
/// both set means another agent touched the entry and the update did not happen.
/// `sync` retries up to [`WATCH_ATTEMPTS`] times in all. Does not scrub.
pub(crate) fn cache_watch<R: Regs>(
    regs: &mut R,
    watch: Watch,
    spec: u64,
    light: bool,
    start_dword: usize,
    dwords: &[u64],
    sync: bool,
) -> Result<(), Busy> {
    let spec = if light { spec } else { spec | WATCH_FULL };
    for _ in 0..WATCH_ATTEMPTS {
        regs.store64(watch.spec, spec);
        let loaded0 = regs.load64(watch.data0);
        for (i, dw) in dwords.iter().enumerate().rev() {
            regs.store64(watch.data0 + 8 * (start_dword + i) as u64, *dw);
        }
        if start_dword > 0 {
            regs.store64(watch.data0, loaded0);
        }
        let status = regs.load64(watch.spec);
        if status & (WATCH_FULL | WATCH_CONFLICT) != WATCH_FULL | WATCH_CONFLICT {
            return Ok(());
        }
        if !sync {
            return Err(Busy);
        }
    }
    log::error!(
        "XIVE: cache watch at {:#x} still conflicting after {} attempts",
        watch.spec,
        WATCH_ATTEMPTS
    );
    Err(Busy)
}

/// A light watch that changes nothing: SPEC, DAT0 read, DAT0 written back. It makes the
/// hardware read the entry back from memory, which orders it behind every earlier store
/// of the cache (skiboot's scrub workaround for NVTs, xive.md §9).
pub(crate) fn dummy_watch<R: Regs>(regs: &mut R, watch: Watch, spec: u64) {
    regs.store64(watch.spec, spec);
    let loaded0 = regs.load64(watch.data0);
    regs.store64(watch.data0, loaded0);
}

/// Checks that a BAR region is a naturally aligned power of two within `[min, max]`.
pub(crate) fn check_bar(
    bar: &'static str,
    base: u64,
    size: u64,
    min: u64,
    max: u64,
) -> Result<(), InitError> {
    let ok = size.is_power_of_two() && size >= min && size <= max && base.is_multiple_of(size);
    if ok {
        Ok(())
    } else {
        Err(InitError::BadBar { bar, base, size })
    }
}

/// Finds the instance with block `blk`, logging when there is none.
pub(crate) fn find(instances: &[Instance], blk: u8) -> Option<&Instance> {
    let found = instances.iter().find(|i| i.blk == blk);
    if found.is_none() {
        log::error!("XIVE: no instance has block {blk}");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_use_ibm_numbering() {
        let mask = ppc_bitmask(28, 31);
        assert_eq!(field(mask, 0x1f), 0xf << 32);
        assert_eq!(get_field(mask, 0x5 << 32), 5);
        assert_eq!(set_field(mask, u64::MAX, 0), !(0xf << 32));
    }

    #[test]
    fn poll_gives_up() {
        let mut reads = 0;
        assert_eq!(
            poll(
                || {
                    reads += 1;
                    1
                },
                |v| v == 0
            ),
            None
        );
        assert_eq!(reads, POLL_LIMIT);
    }

    /// The hand-written `Debug` prints what `#[derive(Debug)]` would, names of every
    /// BAR and register this module reports included.
    #[test]
    fn init_error_debug_is_the_derived_one() {
        #[allow(dead_code)] // read through Debug only
        #[derive(Debug)]
        enum Derived {
            UnknownBlock(u8),
            BadBar {
                bar: &'static str,
                base: u64,
                size: u64,
            },
            BadEdtSplit {
                vc: u64,
                end_esb: u64,
            },
            UnsupportedVersion(u64),
            ReadBack {
                reg: &'static str,
                wrote: u64,
                read: u64,
            },
        }
        use alloc::format;
        for name in [
            "IC",
            "TM",
            "ESB",
            "END",
            "NVPG",
            "PC",
            "VC",
            "CQ_XIVE_CFG",
            "PC_TCTXT_CFG",
        ] {
            let cases = [
                (InitError::UnknownBlock(3), Derived::UnknownBlock(3)),
                (
                    InitError::BadBar {
                        bar: name,
                        base: 1 << 40,
                        size: 3,
                    },
                    Derived::BadBar {
                        bar: name,
                        base: 1 << 40,
                        size: 3,
                    },
                ),
                (
                    InitError::BadEdtSplit { vc: 5, end_esb: 7 },
                    Derived::BadEdtSplit { vc: 5, end_esb: 7 },
                ),
                (
                    InitError::UnsupportedVersion(2),
                    Derived::UnsupportedVersion(2),
                ),
                (
                    InitError::ReadBack {
                        reg: name,
                        wrote: u64::MAX,
                        read: 0,
                    },
                    Derived::ReadBack {
                        reg: name,
                        wrote: u64::MAX,
                        read: 0,
                    },
                ),
            ];
            for (ours, derived) in cases {
                assert_eq!(format!("{ours:?}"), format!("{derived:?}"));
                assert_eq!(format!("{ours:#?}"), format!("{derived:#?}"));
            }
        }
    }

    #[test]
    fn bar_checks() {
        assert!(check_bar("x", 1 << 40, 1 << 39, 1 << 20, 1 << 42).is_ok());
        assert!(check_bar("x", 1 << 38, 1 << 39, 1 << 20, 1 << 42).is_err());
        assert!(check_bar("x", 0, 3 << 20, 1 << 20, 1 << 42).is_err());
        assert!(check_bar("x", 0, 1 << 43, 1 << 20, 1 << 42).is_err());
    }
}
