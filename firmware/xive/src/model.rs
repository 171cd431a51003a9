// SPDX-License-Identifier: Apache-2.0
//! A host-side model of the XIVE controllers that *caches*, as the hardware does.
//!
//! QEMU reads every EAS, END and NVT straight from RAM and writes cache-watch data straight
//! back, so firmware that writes an END in RAM, or reads one without flushing it, works
//! under QEMU and breaks on real machines (xive.md §9, §10). [`Model`] implements
//! [`Controller`] the way the hardware behaves and records every protocol mistake as a
//! [`Violation`]:
//!
//! * **Memory** is sparse and big-endian. `read64`/`write64` are the firmware's accesses
//!   and are checked; [`Model::peek`]/[`Model::poke`] are the tests' back door and are not.
//! * **VSDs** are kept per (instance, table, target block) and decoded here, from xive.md
//!   §4.4, independently of the firmware's encoders: exclusive direct tables, and exclusive
//!   indirect tables whose VSD points at a page of sub-page VSDs (QEMU and the hardware take
//!   the sub-page size from pointer 0).
//! * **Translation cache**: an indirect lookup keeps the sub-page pointer it read. Changing
//!   that pointer in RAM without [`Controller::kill_translations`] leaves the stale
//!   translation in use.
//! * **Entry caches** per instance: END and NVT lines hold the only current copy after a
//!   cache watch (`end_update`, `nvt_update`) or a router write (queue index, ESn/ESe bits,
//!   backlog IPB); only `end_flush`/`nvt_flush` bring RAM up to date. EAS lines are filled
//!   by the router and dropped by `eas_invalidate`.
//! * **Router**: [`Model::trigger`] runs a source's PQ state machine (xive.md §6.1), then
//!   EAS → END (enqueue with the generation bit, ESn, presenter, backlog, ESe,
//!   escalation), recording [`RouterEvent`]s that tests inspect.
//!
//! Blocks: each instance owns one block and caches that block's structures, so an entry is
//! named by (block, index) and always resolved through the instance's own VSD for its own
//! block. Another block is reached only by routing, through a *forward* VSD.
//!
//! Not modelled: the TIMA (a notification is "presented" when it names the HW VP of an
//! enabled thread, `0x80 | PIR & 0x7f` as skiboot and QEMU use on both generations), the
//! ESB state in the SBE table (PQ bits live in the model, off by default, as in QEMU),
//! LSIs, logical-server/group notification, END ESB triggers forwarding an event, and
//! escalation to an ESB (the P10 END "N" bit clear).

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

use crate::hw::{Busy, Controller, Gen, Vst};
use crate::phys_map;

// ---------------------------------------------------------------------------------------
// Violations
// ---------------------------------------------------------------------------------------

/// What rule of the hardware protocol a [`Violation`] broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViolationKind {
    /// `write64` into RAM that backs an END or NVT reachable through a VSD: the hardware
    /// may hold the entry in its cache and will overwrite (or ignore) the RAM copy. Use
    /// the cache watch.
    WriteToLiveEntry,
    /// `read64` of RAM backing an END or NVT whose cached copy is dirty: the value read
    /// is stale. Flush first.
    StaleRead,
    /// An EAS changed in RAM and was used by the router, or left at `assert_coherent`,
    /// without `eas_invalidate`.
    EasNotInvalidated,
    /// An indirect sub-page pointer changed while its translation was cached, and the
    /// translation was used (or left) without `kill_translations`.
    StaleTranslation,
    /// A sub-page was unlinked, or a VSD reprogrammed, while entries it backs were still
    /// in the entry cache (they must be flushed first: the hardware writes them back to
    /// wherever they came from).
    UnlinkedWhileCached,
    /// No usable VSD for the table: none, or not exclusive where a local table is needed.
    NoVsd,
    /// Index beyond the table.
    OutOfRange,
    /// The indirect pointer for the index is not populated.
    MissingSubPage,
    /// A malformed VSD or sub-page pointer (misaligned table, reserved address bits, sub-
    /// pages of different sizes, pointer 0 absent, mode not exclusive, table linked twice).
    BadVsd,
    /// An ESB access outside every ESB page, or an operation that page does not support.
    BadEsbAccess,
    /// A call that names no instance, a thread of another chip, a wrong entry size, an
    /// unaligned access.
    BadArgument,
    /// The router could not follow the configuration: no forward VSD to a remote block,
    /// a queue at address 0, an escalation loop.
    Routing,
}

/// One broken rule, with a description of where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}

// ---------------------------------------------------------------------------------------
// Router observations
// ---------------------------------------------------------------------------------------

/// A notification that reached the presenter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notification {
    pub nvt_blk: u8,
    pub nvt_idx: u32,
    pub priority: u8,
    /// The END that notified.
    pub end_blk: u8,
    pub end_idx: u32,
    /// A thread matched: the NVT is the HW VP of an enabled thread. Otherwise the event
    /// goes on to backlog and escalation.
    pub presented: bool,
}

/// What the router did with an event, step by step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouterEvent {
    /// The source's PQ bits held the event back (`pq` is the state afterwards: `01` off,
    /// `11` already pending).
    NotForwarded {
        blk: u8,
        idx: u32,
        pq: u8,
    },
    EasInvalid {
        blk: u8,
        idx: u32,
    },
    EasMasked {
        blk: u8,
        idx: u32,
    },
    EndInvalid {
        blk: u8,
        idx: u32,
    },
    /// `entry` (generation << 31 | data) was written at `addr`, slot `slot` of the queue.
    Enqueued {
        end_blk: u8,
        end_idx: u32,
        addr: u64,
        slot: u32,
        entry: u32,
    },
    /// END format 0 with priority 0xff: no notification.
    EndMasked {
        blk: u8,
        idx: u32,
    },
    /// The END's ESn bits coalesced the notification.
    EsnCoalesced {
        blk: u8,
        idx: u32,
    },
    NvtInvalid {
        blk: u8,
        idx: u32,
    },
    Notified(Notification),
    /// Not presented: the priority was recorded in the NVT's IPB.
    Backlogged {
        nvt_blk: u8,
        nvt_idx: u32,
        priority: u8,
    },
    /// The END's ESe bits coalesced the escalation.
    EseCoalesced {
        blk: u8,
        idx: u32,
    },
    /// END `from` escalated to END `to` with `data`.
    Escalated {
        from_blk: u8,
        from_idx: u32,
        to_blk: u8,
        to_idx: u32,
        data: u32,
    },
    /// The configuration asks for something this model does not implement.
    Unsupported {
        what: &'static str,
    },
    /// The event was lost on a configuration error (a violation says which).
    Lost,
}

// ---------------------------------------------------------------------------------------
// Bit helpers (IBM numbering: bit 0 is the most significant)
// ---------------------------------------------------------------------------------------

fn field32(word: u32, first: u32, last: u32) -> u32 {
    let width = last - first + 1;
    let mask = if width == 32 {
        u32::MAX
    } else {
        (1 << width) - 1
    };
    (word >> (31 - last)) & mask
}

fn set_field32(word: u32, first: u32, last: u32, value: u32) -> u32 {
    let width = last - first + 1;
    let mask = if width == 32 {
        u32::MAX
    } else {
        (1 << width) - 1
    };
    let shift = 31 - last;
    (word & !(mask << shift)) | ((value & mask) << shift)
}

fn bit32(word: u32, bit: u32) -> bool {
    field32(word, bit, bit) != 0
}

fn words_of(dwords: &[u64]) -> Vec<u32> {
    dwords
        .iter()
        .flat_map(|d| [(d >> 32) as u32, *d as u32])
        .collect()
}

fn dwords_of(words: &[u32]) -> Vec<u64> {
    words
        .chunks(2)
        .map(|w| (u64::from(w[0]) << 32) | u64::from(w[1]))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Structure decoding (xive.md §4, §11.4)
// ---------------------------------------------------------------------------------------

/// VSD fields (xive.md §4.4).
#[derive(Clone, Copy, Debug)]
struct Vsd(u64);

const VSD_MODE_EXCLUSIVE: u64 = 2;
const VSD_MODE_FORWARD: u64 = 3;
/// Bits 4–7: address on P9, reserved on P10.
const VSD_P10_RESERVED: u64 = 0x0F00_0000_0000_0000;

impl Vsd {
    fn mode(self) -> u64 {
        self.0 >> 62
    }
    fn address(self, gen: Gen) -> u64 {
        self.0
            & match gen {
                Gen::P9 => 0x0FFF_FFFF_FFFF_F000,
                Gen::P10 => 0x00FF_FFFF_FFFF_F000,
            }
    }
    /// IBM bit 56.
    fn indirect(self) -> bool {
        self.0 & (1 << 7) != 0
    }
    /// Bits 59–63: the table (or sub-page) is `2^(TSIZE+12)` bytes.
    fn tsize(self) -> u64 {
        self.0 & 0x1f
    }
    fn size(self) -> u64 {
        1 << (self.tsize() + 12)
    }
}

/// EAS fields (xive.md §4.1, identical on both generations).
#[derive(Clone, Copy)]
struct Eas(u64);

impl Eas {
    fn valid(self) -> bool {
        self.0 & (1 << 63) != 0
    }
    fn masked(self) -> bool {
        self.0 & (1 << 31) != 0
    }
    fn end_blk(self) -> u8 {
        ((self.0 >> 56) & 0xf) as u8
    }
    fn end_idx(self) -> u32 {
        ((self.0 >> 32) & 0xff_ffff) as u32
    }
    fn data(self) -> u32 {
        (self.0 & 0x7fff_ffff) as u32
    }
}

/// An END as 8 big-endian words, with the field positions of each generation
/// (P9: xive.md §4.2; P10: §11.4).
#[derive(Clone, Debug, PartialEq, Eq)]
struct End {
    gen: Gen,
    w: Vec<u32>,
}

impl End {
    fn from_dwords(gen: Gen, dwords: &[u64]) -> End {
        End {
            gen,
            w: words_of(dwords),
        }
    }
    fn dwords(&self) -> Vec<u64> {
        dwords_of(&self.w)
    }
    /// Word 0 flag at IBM bit `p9` or `p10`.
    fn flag(&self, p9: u32, p10: u32) -> bool {
        bit32(self.w[0], if self.gen == Gen::P9 { p9 } else { p10 })
    }
    fn valid(&self) -> bool {
        self.flag(0, 0)
    }
    fn enqueue(&self) -> bool {
        self.flag(1, 5)
    }
    fn ucond_notify(&self) -> bool {
        self.flag(2, 6)
    }
    fn backlog(&self) -> bool {
        self.flag(3, 8)
    }
    fn escalate(&self) -> bool {
        self.flag(5, 11)
    }
    fn uncond_escalate(&self) -> bool {
        self.flag(6, 10)
    }
    fn silent_escalate(&self) -> bool {
        self.flag(7, 7)
    }
    /// P10 "N": escalate to an END (1) or an ESB (0). P9 always escalates to an END.
    fn escalates_to_end(&self) -> bool {
        self.gen == Gen::P9 || bit32(self.w[0], 13)
    }
    /// Queue size code: bytes = 2^(qsize + 12).
    fn qsize(&self) -> u32 {
        match self.gen {
            Gen::P9 => field32(self.w[0], 12, 15),
            Gen::P10 => field32(self.w[3], 28, 31),
        }
    }
    fn queue_addr(&self) -> u64 {
        match self.gen {
            Gen::P9 => (u64::from(field32(self.w[2], 4, 31)) << 32) | u64::from(self.w[3]),
            Gen::P10 => {
                (u64::from(field32(self.w[2], 8, 31)) << 32) | u64::from(self.w[3] & 0xffff_ff80)
            }
        }
    }
    fn esn(&self) -> u8 {
        field32(self.w[1], 0, 1) as u8
    }
    fn set_esn(&mut self, pq: u8) {
        self.w[1] = set_field32(self.w[1], 0, 1, u32::from(pq));
    }
    fn ese(&self) -> u8 {
        field32(self.w[1], 2, 3) as u8
    }
    fn set_ese(&mut self, pq: u8) {
        self.w[1] = set_field32(self.w[1], 2, 3, u32::from(pq));
    }
    fn generation(&self) -> u32 {
        field32(self.w[1], 9, 9)
    }
    fn page_off(&self) -> u32 {
        field32(self.w[1], 10, 31)
    }
    /// Stores the producer position. P10 also reports a wrap in GEN_FLIPPED (bit 8), as
    /// QEMU does.
    fn set_producer(&mut self, generation: u32, page_off: u32, wrapped: bool) {
        self.w[1] = set_field32(self.w[1], 9, 9, generation);
        self.w[1] = set_field32(self.w[1], 10, 31, page_off);
        if wrapped && self.gen == Gen::P10 {
            self.w[1] = set_field32(self.w[1], 8, 8, generation);
        }
    }
    /// 0: notify an NVT; 1: logical server / EBB.
    fn format(&self) -> u32 {
        match self.gen {
            Gen::P9 => field32(self.w[6], 8, 8),
            Gen::P10 => field32(self.w[6], 0, 0),
        }
    }
    fn nvt(&self) -> (u8, u32) {
        match self.gen {
            Gen::P9 => (field32(self.w[6], 9, 12) as u8, field32(self.w[6], 13, 31)),
            Gen::P10 => (field32(self.w[6], 4, 7) as u8, field32(self.w[6], 8, 31)),
        }
    }
    fn priority(&self) -> u8 {
        field32(self.w[7], 8, 15) as u8
    }
    /// Words 4–5 in EAS format: END block 4–7, index 8–31, data 1–31 of word 5.
    fn escalation(&self) -> (u8, u32, u32) {
        (
            field32(self.w[4], 4, 7) as u8,
            field32(self.w[4], 8, 31),
            field32(self.w[5], 1, 31),
        )
    }
}

/// The NVT/NVP fields the router touches.
fn nvt_dwords(gen: Gen) -> usize {
    match gen {
        Gen::P9 => 8,
        Gen::P10 => 4,
    }
}

fn nvt_valid(words: &[u32]) -> bool {
    bit32(words[0], 0)
}

/// The saved IPB: P9 NVT word 4 bits 16–23, P10 NVP word 2 bits 8–15.
fn nvt_ipb_field(gen: Gen) -> (usize, u32, u32) {
    match gen {
        Gen::P9 => (4, 16, 23),
        Gen::P10 => (2, 8, 15),
    }
}

/// HW VP index of a thread: `0x80 | PIR & 0x7f` (skiboot's 7-bit thread ids, QEMU's HW
/// CAM line).
fn hw_vp_index(pir: u32) -> u32 {
    0x80 | (pir & 0x7f)
}

/// Chip id inside a PIR (skiboot `P9_PIR2GCID` / `P10_PIR2GCID`).
fn chip_of_pir(gen: Gen, pir: u32) -> u32 {
    match gen {
        Gen::P9 => (pir >> 8) & 0x7f,
        Gen::P10 => (pir >> 8) & 0xf,
    }
}

// ---------------------------------------------------------------------------------------
// ESB PQ state machine (xive.md §6.1, MSI)
// ---------------------------------------------------------------------------------------

const PQ_RESET: u8 = 0b00;
const PQ_OFF: u8 = 0b01;
const PQ_PENDING: u8 = 0b10;
const PQ_QUEUED: u8 = 0b11;

/// Trigger: returns the new state and whether the event goes on to the router.
fn pq_trigger(pq: u8) -> (u8, bool) {
    match pq & 3 {
        PQ_RESET => (PQ_PENDING, true),
        PQ_PENDING | PQ_QUEUED => (PQ_QUEUED, false),
        _ => (PQ_OFF, false),
    }
}

/// EOI: returns the new state and whether a queued event is re-triggered.
fn pq_eoi(pq: u8) -> (u8, bool) {
    match pq & 3 {
        PQ_RESET | PQ_PENDING => (PQ_RESET, false),
        PQ_QUEUED => (PQ_PENDING, true),
        _ => (PQ_OFF, false),
    }
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

const PAGE_SHIFT: u32 = 12;
const PAGE_SIZE: usize = 1 << PAGE_SHIFT;

/// Sparse RAM in 4 KiB pages; unwritten memory reads as zero.
#[derive(Default)]
struct Memory {
    pages: BTreeMap<u64, Box<[u8; PAGE_SIZE]>>,
}

impl Memory {
    fn read(&self, pa: u64, buf: &mut [u8]) {
        for (i, byte) in buf.iter_mut().enumerate() {
            let a = pa.wrapping_add(i as u64);
            *byte = self
                .pages
                .get(&(a >> PAGE_SHIFT))
                .map_or(0, |p| p[(a as usize) & (PAGE_SIZE - 1)]);
        }
    }
    fn write(&mut self, pa: u64, data: &[u8]) {
        for (i, byte) in data.iter().enumerate() {
            let a = pa.wrapping_add(i as u64);
            let page = self
                .pages
                .entry(a >> PAGE_SHIFT)
                .or_insert_with(|| Box::new([0; PAGE_SIZE]));
            page[(a as usize) & (PAGE_SIZE - 1)] = *byte;
        }
    }
    fn read64(&self, pa: u64) -> u64 {
        let mut b = [0; 8];
        self.read(pa, &mut b);
        u64::from_be_bytes(b)
    }
    fn write64(&mut self, pa: u64, value: u64) {
        self.write(pa, &value.to_be_bytes());
    }
    fn read32(&self, pa: u64) -> u32 {
        let mut b = [0; 4];
        self.read(pa, &mut b);
        u32::from_be_bytes(b)
    }
    fn write32(&mut self, pa: u64, value: u32) {
        self.write(pa, &value.to_be_bytes());
    }
}

// ---------------------------------------------------------------------------------------
// Tables, VSDs and where entries live
// ---------------------------------------------------------------------------------------

/// [`Vst`] with an order, for map keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Table {
    Esb,
    Eas,
    End,
    Nvt,
    Overflow(u8),
}

impl From<Vst> for Table {
    fn from(v: Vst) -> Table {
        match v {
            Vst::Esb => Table::Esb,
            Vst::Eas => Table::Eas,
            Vst::End => Table::End,
            Vst::Nvt => Table::Nvt,
            Vst::Overflow(n) => Table::Overflow(n),
        }
    }
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Esb => "ESB",
            Table::Eas => "EAS",
            Table::End => "END",
            Table::Nvt => "NVT",
            Table::Overflow(_) => "overflow",
        }
    }
}

/// The VSD of `table` for structure block `target`, as programmed in instance `instance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct VsdKey {
    instance: u8,
    table: Table,
    target: u8,
}

impl VsdKey {
    fn local(blk: u8, table: Table) -> VsdKey {
        VsdKey {
            instance: blk,
            table,
            target: blk,
        }
    }
}

/// Why an entry could not be located.
#[derive(Clone, Copy, Debug)]
enum Miss {
    NoVsd,
    NotExclusive(u64),
    OutOfRange(u64),
    NoPointerZero,
    NoSubPage(u64),
    PointerNotExclusive(u64),
    MixedSizes(u64),
}

impl Miss {
    fn kind(self) -> ViolationKind {
        match self {
            Miss::NoVsd | Miss::NotExclusive(_) => ViolationKind::NoVsd,
            Miss::OutOfRange(_) => ViolationKind::OutOfRange,
            Miss::NoSubPage(_) => ViolationKind::MissingSubPage,
            Miss::NoPointerZero | Miss::PointerNotExclusive(_) | Miss::MixedSizes(_) => {
                ViolationKind::BadVsd
            }
        }
    }
    fn describe(self) -> String {
        match self {
            Miss::NoVsd => "no VSD".into(),
            Miss::NotExclusive(m) => format!("VSD mode {m} is not exclusive"),
            Miss::OutOfRange(n) => format!("index beyond the table ({n} entries)"),
            Miss::NoPointerZero => "indirect pointer 0 not populated (sub-page size)".into(),
            Miss::NoSubPage(p) => format!("indirect pointer {p} not populated"),
            Miss::PointerNotExclusive(p) => format!("indirect pointer {p} is not exclusive"),
            Miss::MixedSizes(p) => format!("sub-page {p} size differs from sub-page 0"),
        }
    }
}

/// Finds the address of entry `idx` (of `entry` bytes) of the table described by `vsd`.
/// `pointer(p, pa)` returns indirect pointer `p`, stored at `pa`: the caller decides
/// whether it comes from RAM or from the translation cache.
fn locate(
    gen: Gen,
    vsd: u64,
    entry: u64,
    idx: u32,
    pointer: &mut dyn FnMut(u64, u64) -> u64,
) -> Result<u64, Miss> {
    let vsd = Vsd(vsd);
    match vsd.mode() {
        0 => return Err(Miss::NoVsd),
        VSD_MODE_EXCLUSIVE => {}
        m => return Err(Miss::NotExclusive(m)),
    }
    let base = vsd.address(gen);
    let idx = u64::from(idx);
    if !vsd.indirect() {
        let entries = vsd.size() / entry;
        if idx >= entries {
            return Err(Miss::OutOfRange(entries));
        }
        return Ok(base + idx * entry);
    }
    let pointers = vsd.size() / 8;
    let first = Vsd(pointer(0, base));
    if first.address(gen) == 0 {
        return Err(Miss::NoPointerZero);
    }
    let per_page = first.size() / entry;
    let p = idx / per_page;
    if p >= pointers {
        return Err(Miss::OutOfRange(pointers * per_page));
    }
    let sub = if p == 0 {
        first
    } else {
        Vsd(pointer(p, base + p * 8))
    };
    if sub.address(gen) == 0 {
        return Err(Miss::NoSubPage(p));
    }
    if sub.mode() != VSD_MODE_EXCLUSIVE || first.mode() != VSD_MODE_EXCLUSIVE {
        return Err(Miss::PointerNotExclusive(p));
    }
    if sub.tsize() != first.tsize() {
        return Err(Miss::MixedSizes(p));
    }
    Ok(sub.address(gen) + (idx % per_page) * entry)
}

/// RAM that backs entries of a table reachable through a VSD.
#[derive(Clone, Copy, Debug)]
struct Link {
    end: u64,
    key: VsdKey,
    /// Index of the entry at the start of the region.
    first_idx: u64,
}

/// A page of indirect pointers.
#[derive(Clone, Copy, Debug)]
struct PointerPage {
    end: u64,
    key: VsdKey,
}

/// Lines per entry cache (END, NVT) before the model evicts one.
const CACHE_LINES: usize = 64;

/// A cached END or NVT: where it came from, its current value, whether RAM is behind.
#[derive(Clone, Debug)]
struct Line {
    pa: u64,
    dwords: Vec<u64>,
    dirty: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    End,
    Nvt,
}

impl Kind {
    fn table(self) -> Table {
        match self {
            Kind::End => Table::End,
            Kind::Nvt => Table::Nvt,
        }
    }
}

/// Where an ESB address points.
enum EsbTarget {
    /// IPI `idx` of block `blk`; `trigger_page` for the even page.
    Ipi {
        blk: u8,
        idx: u32,
        trigger_page: bool,
        offset: u64,
    },
    /// END `idx` of block `blk`: ESn on the even page, ESe on the odd page.
    End {
        blk: u8,
        idx: u32,
        escalation: bool,
        offset: u64,
    },
}

/// Synchronous watch updates retry this many times after the first conflict.
pub const SYNC_WATCH_RETRIES: u32 = 10;

/// Escalations followed from one event before the model calls it a loop.
const MAX_ESCALATION_DEPTH: u32 = 4;

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// The XIVE instances of one machine, with caches. See the module documentation.
pub struct Model {
    gen: Gen,
    /// Chip id of each block (block = position).
    chips: Vec<u32>,
    mem: Memory,
    vsds: BTreeMap<VsdKey, u64>,

    /// Derived from `vsds` and the pointer pages in RAM: what memory is live.
    links: BTreeMap<u64, Link>,
    pointer_pages: BTreeMap<u64, PointerPage>,

    /// Translation cache: indirect pointer `p` of a table as last read by the hardware.
    translations: BTreeMap<(VsdKey, u64), u64>,
    /// Cached translations whose pointer has changed in RAM since.
    stale_translations: BTreeSet<(VsdKey, u64)>,

    end_cache: BTreeMap<(u8, u32), Line>,
    nvt_cache: BTreeMap<(u8, u32), Line>,
    eas_cache: BTreeMap<(u8, u32), u64>,
    /// EAS entries changed in RAM and not yet invalidated.
    eas_not_invalidated: BTreeSet<(u8, u32)>,

    /// IPI PQ bits; absent means `01` (off).
    esb: BTreeMap<(u8, u32), u8>,

    busy_to_inject: u32,
    busy_returned: u32,

    enabled_threads: BTreeSet<(u8, u32)>,
    tima_resets: BTreeMap<(u8, u32), u32>,
    syncs: BTreeMap<u8, u32>,
    kills: BTreeMap<u8, u32>,
    routing_changed: BTreeSet<u8>,

    events: Vec<RouterEvent>,
    /// Hardware units' ESB pages: (base, pages, page shift), and their PQ bits by page.
    device_esbs: Vec<(u64, u32, u32)>,
    device_pq: BTreeMap<u64, u8>,
    /// Interior mutability: `read64` takes `&self` and still records stale reads.
    violations: RefCell<Vec<Violation>>,
}

impl Model {
    /// A machine whose block `b` is the XIVE of chip `chips[b]` (at most 16 blocks).
    pub fn new(gen: Gen, chips: &[u32]) -> Model {
        let model = Model {
            gen,
            chips: chips.iter().copied().take(16).collect(),
            mem: Memory::default(),
            vsds: BTreeMap::new(),
            links: BTreeMap::new(),
            pointer_pages: BTreeMap::new(),
            translations: BTreeMap::new(),
            stale_translations: BTreeSet::new(),
            end_cache: BTreeMap::new(),
            nvt_cache: BTreeMap::new(),
            eas_cache: BTreeMap::new(),
            eas_not_invalidated: BTreeSet::new(),
            esb: BTreeMap::new(),
            busy_to_inject: 0,
            busy_returned: 0,
            enabled_threads: BTreeSet::new(),
            tima_resets: BTreeMap::new(),
            syncs: BTreeMap::new(),
            kills: BTreeMap::new(),
            routing_changed: BTreeSet::new(),
            events: Vec::new(),
            device_esbs: Vec::new(),
            device_pq: BTreeMap::new(),
            violations: RefCell::new(Vec::new()),
        };
        if chips.len() > 16 {
            model.violation(
                ViolationKind::BadArgument,
                format!("{} chips: XIVE has 16 blocks", chips.len()),
            );
        }
        model
    }

    /// Declares the ESB pages of a hardware unit (a PSI bridge, a PHB): `count` pages of
    /// 2^`shift` bytes from `base`, each one source whose PQ starts at 01 (off). The model
    /// runs their PQ state machine for loads (no routing: a unit triggers through the
    /// notify port, see [`Model::route`]).
    pub fn add_device_esbs(&mut self, base: u64, count: u32, shift: u32) {
        self.device_esbs.push((base, count, shift));
    }

    /// PQ of the device source whose ESB page holds `addr` (01 if never touched).
    pub fn device_pq(&self, addr: u64) -> Option<u8> {
        self.device_esb_page(addr)
            .map(|p| *self.device_pq.get(&p).unwrap_or(&0b01))
    }

    fn device_esb_page(&self, addr: u64) -> Option<u64> {
        self.device_esbs.iter().find_map(|&(base, count, shift)| {
            let end = base + (u64::from(count) << shift);
            (addr >= base && addr < end).then(|| addr & !((1u64 << shift) - 1))
        })
    }

    /// The management offsets of xive.md §6.2 on a device source (LSI: a load EOI
    /// clears P).
    fn device_esb_load(&mut self, page: u64, offset: u64) -> u64 {
        let old = *self.device_pq.get(&page).unwrap_or(&0b01);
        let new = match offset & 0xf00 {
            0x800 => old,
            0xc00 => 0b00,
            0xd00 => 0b01,
            0xe00 => 0b10,
            0xf00 => 0b11,
            _ => old & 0b01,
        };
        self.device_pq.insert(page, new);
        u64::from(old)
    }

    /// One chip (id 0), block 0.
    pub fn single(gen: Gen) -> Model {
        Model::new(gen, &[0])
    }

    // --- test access to memory, bypassing every check and every cache -----------------

    /// Writes RAM as a test (or a device) would: no protocol check, caches untouched.
    pub fn poke(&mut self, pa: u64, value: u64) {
        let pointer_change = self.pointer_at(pa).is_some() && self.mem.read64(pa) != value;
        self.mem.write64(pa, value);
        if pointer_change {
            self.rebuild_links();
        }
    }

    pub fn peek(&self, pa: u64) -> u64 {
        self.mem.read64(pa)
    }

    pub fn poke32(&mut self, pa: u64, value: u32) {
        let pointer_change = self.pointer_at(pa).is_some() && self.mem.read32(pa) != value;
        self.mem.write32(pa, value);
        if pointer_change {
            self.rebuild_links();
        }
    }

    pub fn peek32(&self, pa: u64) -> u32 {
        self.mem.read32(pa)
    }

    // --- inspection --------------------------------------------------------------------

    /// The VSD programmed in `blk` for `table` of block `target`.
    pub fn vsd(&self, blk: u8, table: Vst, target: u8) -> Option<u64> {
        self.vsds
            .get(&VsdKey {
                instance: blk,
                table: table.into(),
                target,
            })
            .copied()
    }

    /// The RAM address of entry `idx` of block `blk`'s EAS, END or NVT table, following
    /// the VSD and the pointers *in RAM* (no cache touched, nothing recorded).
    pub fn entry_addr(&self, blk: u8, table: Vst, idx: u32) -> Option<u64> {
        let table = Table::from(table);
        let entry = self.entry_size(table)?;
        let vsd = self.vsds.get(&VsdKey::local(blk, table)).copied()?;
        locate(self.gen, vsd, entry, idx, &mut |_, pa| self.mem.read64(pa)).ok()
    }

    /// END `idx` as the hardware sees it now: the cached copy if there is one, else RAM.
    pub fn end(&self, blk: u8, idx: u32) -> Option<[u64; 4]> {
        let dwords = self.current(Kind::End, blk, idx)?;
        let mut out = [0; 4];
        out.copy_from_slice(&dwords[..4]);
        Some(out)
    }

    /// NVT/NVP `idx` as the hardware sees it now (8 dwords on P9, 4 on P10).
    pub fn nvt(&self, blk: u8, idx: u32) -> Option<Vec<u64>> {
        self.current(Kind::Nvt, blk, idx)
    }

    /// Whether END `idx` is in the cache, and whether RAM is behind it.
    pub fn end_cache_state(&self, blk: u8, idx: u32) -> Option<bool> {
        self.end_cache.get(&(blk, idx)).map(|l| l.dirty)
    }

    pub fn nvt_cache_state(&self, blk: u8, idx: u32) -> Option<bool> {
        self.nvt_cache.get(&(blk, idx)).map(|l| l.dirty)
    }

    pub fn eas_cached(&self, blk: u8, idx: u32) -> Option<u64> {
        self.eas_cache.get(&(blk, idx)).copied()
    }

    /// The PQ bits of IPI `idx` of block `blk` (`01`, off, until set).
    pub fn pq(&self, blk: u8, idx: u32) -> u8 {
        self.esb.get(&(blk, idx)).copied().unwrap_or(PQ_OFF)
    }

    /// Trigger page of IPI `idx` of block `blk` (the EOI/management page is +64 KiB).
    pub fn ipi_esb(&self, blk: u8, idx: u32) -> Option<u64> {
        let chip = *self.chips.get(usize::from(blk))?;
        Some(phys_map::bars(self.gen, chip).ipi_esb + (u64::from(idx) << phys_map::ESB_PAIR_SHIFT))
    }

    /// ESn page of END `idx` of block `blk` (the ESe page is +64 KiB).
    pub fn end_esb(&self, blk: u8, idx: u32) -> Option<u64> {
        let chip = *self.chips.get(usize::from(blk))?;
        Some(phys_map::bars(self.gen, chip).end_esb + (u64::from(idx) << phys_map::ESB_PAIR_SHIFT))
    }

    pub fn thread_enabled(&self, blk: u8, pir: u32) -> bool {
        self.enabled_threads.contains(&(blk, pir))
    }

    pub fn enabled_threads(&self, blk: u8) -> Vec<u32> {
        self.enabled_threads
            .iter()
            .filter(|(b, _)| *b == blk)
            .map(|(_, pir)| *pir)
            .collect()
    }

    /// How many times `tima_reset` was called for thread `pir` of block `blk`.
    pub fn tima_resets(&self, blk: u8, pir: u32) -> u32 {
        self.tima_resets.get(&(blk, pir)).copied().unwrap_or(0)
    }

    pub fn sync_count(&self, blk: u8) -> u32 {
        self.syncs.get(&blk).copied().unwrap_or(0)
    }

    pub fn kill_count(&self, blk: u8) -> u32 {
        self.kills.get(&blk).copied().unwrap_or(0)
    }

    /// Whether an EAS of block `blk` (or an END escalation route) changed since the last
    /// `sync(blk)`: routing changes are only in effect for events already accepted once the
    /// instance has been synced.
    pub fn routing_changed_since_sync(&self, blk: u8) -> bool {
        self.routing_changed.contains(&blk)
    }

    /// Every router event so far.
    pub fn events(&self) -> &[RouterEvent] {
        &self.events
    }

    /// The notifications among the router events so far.
    pub fn notifications(&self) -> Vec<Notification> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RouterEvent::Notified(n) => Some(*n),
                _ => None,
            })
            .collect()
    }

    pub fn clear_events(&mut self) {
        self.events.clear();
    }

    // --- busy injection ----------------------------------------------------------------

    /// The next `n` watch attempts conflict. A non-synchronous update that conflicts
    /// returns `Busy` and changes nothing; a synchronous one retries up to
    /// [`SYNC_WATCH_RETRIES`] times, so it fails only with more than 10 conflicts in a row.
    pub fn inject_busy(&mut self, n: u32) {
        self.busy_to_inject = n;
    }

    /// How many updates returned `Busy`.
    pub fn busy_returned(&self) -> u32 {
        self.busy_returned
    }

    // --- violations --------------------------------------------------------------------

    /// Every violation: those recorded so far, plus the rules that can only be judged now
    /// (EAS writes not invalidated, changed pointers not killed). Changes nothing.
    pub fn check(&self) -> Vec<Violation> {
        let mut all = self.violations.borrow().clone();
        all.extend(self.pending_violations());
        all
    }

    /// Returns [`Model::check`] and forgets it all, for tests that expect violations.
    pub fn take_violations(&mut self) -> Vec<Violation> {
        let mut all = core::mem::take(self.violations.get_mut());
        all.extend(self.pending_violations());
        self.eas_not_invalidated.clear();
        self.stale_translations.clear();
        all
    }

    /// Panics, listing them, if there is any violation.
    pub fn assert_coherent(&self) {
        let all = self.check();
        if !all.is_empty() {
            let list: Vec<String> = all.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "XIVE model: {} protocol violation(s):\n{}",
                all.len(),
                list.join("\n")
            );
        }
    }

    fn pending_violations(&self) -> Vec<Violation> {
        let eas = self.eas_not_invalidated.iter().map(|(blk, idx)| Violation {
            kind: ViolationKind::EasNotInvalidated,
            detail: format!("EAS {blk}/{idx:#x} written in RAM, never invalidated"),
        });
        let xlate = self.stale_translations.iter().map(|(key, p)| Violation {
            kind: ViolationKind::StaleTranslation,
            detail: format!(
                "instance {}: {} pointer {p} of block {} changed, translations not killed",
                key.instance,
                key.table.name(),
                key.target
            ),
        });
        eas.chain(xlate).collect()
    }

    fn violation(&self, kind: ViolationKind, detail: String) {
        self.violations
            .borrow_mut()
            .push(Violation { kind, detail });
    }

    // --- the router --------------------------------------------------------------------

    /// A trigger of IPI `idx` of block `blk` (a store to its trigger page): the PQ state
    /// machine, then routing if it lets the event through. Returns what happened.
    pub fn trigger(&mut self, blk: u8, idx: u32) -> Vec<RouterEvent> {
        let mut events = Vec::new();
        if self.check_block(blk, "trigger") {
            self.source_trigger(blk, idx, &mut events);
        }
        self.events.extend(events.iter().copied());
        events
    }

    /// An event whose PQ bits were already checked by its source (a HW source through the
    /// notify port): straight to the EAS.
    pub fn route(&mut self, blk: u8, idx: u32) -> Vec<RouterEvent> {
        let mut events = Vec::new();
        if self.check_block(blk, "route") {
            self.route_eas(blk, idx, &mut events);
        }
        self.events.extend(events.iter().copied());
        events
    }

    fn source_trigger(&mut self, blk: u8, idx: u32, events: &mut Vec<RouterEvent>) {
        let (pq, forward) = pq_trigger(self.pq(blk, idx));
        self.esb.insert((blk, idx), pq);
        if forward {
            self.route_eas(blk, idx, events);
        } else {
            events.push(RouterEvent::NotForwarded { blk, idx, pq });
        }
    }

    fn route_eas(&mut self, blk: u8, idx: u32, events: &mut Vec<RouterEvent>) {
        let Some(eas) = self.router_eas(blk, idx) else {
            events.push(RouterEvent::Lost);
            return;
        };
        if !eas.valid() {
            events.push(RouterEvent::EasInvalid { blk, idx });
        } else if eas.masked() {
            events.push(RouterEvent::EasMasked { blk, idx });
        } else {
            self.end_notify(blk, eas.end_blk(), eas.end_idx(), eas.data(), 0, events);
        }
    }

    /// The EAS through the cache; a RAM change that was not invalidated is a violation,
    /// and the stale cached copy is what the hardware uses.
    fn router_eas(&mut self, blk: u8, idx: u32) -> Option<Eas> {
        if self.eas_not_invalidated.remove(&(blk, idx)) {
            self.violation(
                ViolationKind::EasNotInvalidated,
                format!("router used EAS {blk}/{idx:#x}, changed in RAM and not invalidated"),
            );
        }
        if let Some(&value) = self.eas_cache.get(&(blk, idx)) {
            return Some(Eas(value));
        }
        let pa = self.hw_locate(blk, Table::Eas, idx, "router EAS")?;
        let value = self.mem.read64(pa);
        self.eas_cache.insert((blk, idx), value);
        Some(Eas(value))
    }

    /// Whether instance `from` can reach block `target` of `table`: its own block, or a
    /// forward VSD.
    fn reaches(&self, from: u8, table: Table, target: u8) -> bool {
        if from == target {
            return true;
        }
        let key = VsdKey {
            instance: from,
            table,
            target,
        };
        let forward = self
            .vsds
            .get(&key)
            .is_some_and(|&v| Vsd(v).mode() == VSD_MODE_FORWARD);
        if !forward {
            self.violation(
                ViolationKind::Routing,
                format!(
                    "instance {from} has no forward VSD for {} block {target}",
                    table.name()
                ),
            );
        }
        forward
    }

    /// An END trigger (from an EAS, or an escalation) arriving from instance `from`.
    fn end_notify(
        &mut self,
        from: u8,
        blk: u8,
        idx: u32,
        data: u32,
        depth: u32,
        events: &mut Vec<RouterEvent>,
    ) {
        if depth > MAX_ESCALATION_DEPTH {
            self.violation(
                ViolationKind::Routing,
                format!(
                    "escalation chain deeper than {MAX_ESCALATION_DEPTH} at END {blk}/{idx:#x}"
                ),
            );
            events.push(RouterEvent::Lost);
            return;
        }
        if !self.check_block(blk, "router END") || !self.reaches(from, Table::End, blk) {
            events.push(RouterEvent::Lost);
            return;
        }
        let Some(dwords) = self.load_line(Kind::End, blk, idx, "router END") else {
            events.push(RouterEvent::Lost);
            return;
        };
        let mut end = End::from_dwords(self.gen, &dwords);
        if !end.valid() {
            events.push(RouterEvent::EndInvalid { blk, idx });
            return;
        }

        if end.enqueue() {
            match self.enqueue(blk, idx, &mut end, data) {
                Some(event) => events.push(event),
                None => {
                    events.push(RouterEvent::Lost);
                    return;
                }
            }
            self.store_line(Kind::End, blk, idx, end.dwords());
        }

        if !end.silent_escalate() {
            let done = self.notify_nvt(blk, idx, &mut end, events);
            if done {
                return;
            }
        }

        // Escalation: the ESe bits coalesce, then words 4–5 route like an EAS.
        if !end.escalate() {
            return;
        }
        if !end.uncond_escalate() {
            let (pq, forward) = pq_trigger(end.ese());
            end.set_ese(pq);
            self.store_line(Kind::End, blk, idx, end.dwords());
            if !forward {
                events.push(RouterEvent::EseCoalesced { blk, idx });
                return;
            }
        }
        if !end.escalates_to_end() {
            events.push(RouterEvent::Unsupported {
                what: "escalation to an ESB (END N bit clear)",
            });
            return;
        }
        let (to_blk, to_idx, to_data) = end.escalation();
        events.push(RouterEvent::Escalated {
            from_blk: blk,
            from_idx: idx,
            to_blk,
            to_idx,
            data: to_data,
        });
        self.end_notify(blk, to_blk, to_idx, to_data, depth + 1, events);
    }

    /// Writes `generation << 31 | data` at the producer index and advances it, flipping
    /// the generation when the index wraps. The queue is OS memory: written directly.
    fn enqueue(&mut self, blk: u8, idx: u32, end: &mut End, data: u32) -> Option<RouterEvent> {
        let qaddr = end.queue_addr();
        if qaddr == 0 {
            self.violation(
                ViolationKind::Routing,
                format!("END {blk}/{idx:#x} enqueues at address 0"),
            );
            return None;
        }
        let entries = 1u32 << (end.qsize() + 10);
        let slot = end.page_off();
        let generation = end.generation();
        let entry = (generation << 31) | (data & 0x7fff_ffff);
        let addr = qaddr.wrapping_add(u64::from(slot) * 4);
        self.mem.write32(addr, entry);
        let next = (slot + 1) & (entries - 1);
        let wrapped = next == 0;
        let next_gen = if wrapped { generation ^ 1 } else { generation };
        end.set_producer(next_gen, next, wrapped);
        Some(RouterEvent::Enqueued {
            end_blk: blk,
            end_idx: idx,
            addr,
            slot,
            entry,
        })
    }

    /// The notification part of an END trigger. Returns true when the event stops here
    /// (masked, coalesced, presented, or lost), false when escalation should be looked at.
    fn notify_nvt(
        &mut self,
        blk: u8,
        idx: u32,
        end: &mut End,
        events: &mut Vec<RouterEvent>,
    ) -> bool {
        let priority = end.priority();
        if end.format() == 0 && priority == 0xff {
            events.push(RouterEvent::EndMasked { blk, idx });
            return true;
        }
        if !end.ucond_notify() {
            let (pq, forward) = pq_trigger(end.esn());
            end.set_esn(pq);
            self.store_line(Kind::End, blk, idx, end.dwords());
            if !forward {
                events.push(RouterEvent::EsnCoalesced { blk, idx });
                return true;
            }
        }
        if end.format() != 0 {
            events.push(RouterEvent::Unsupported {
                what: "logical server / EBB notification (END format 1)",
            });
            return true;
        }
        let (nvt_blk, nvt_idx) = end.nvt();
        if !self.check_block(nvt_blk, "router NVT") || !self.reaches(blk, Table::Nvt, nvt_blk) {
            events.push(RouterEvent::Lost);
            return true;
        }
        let Some(nvt) = self.load_line(Kind::Nvt, nvt_blk, nvt_idx, "router NVT") else {
            events.push(RouterEvent::Lost);
            return true;
        };
        let mut words = words_of(&nvt);
        if !nvt_valid(&words) {
            events.push(RouterEvent::NvtInvalid {
                blk: nvt_blk,
                idx: nvt_idx,
            });
            return true;
        }
        let presented = self
            .enabled_threads
            .iter()
            .any(|&(b, pir)| b == nvt_blk && hw_vp_index(pir) == nvt_idx);
        events.push(RouterEvent::Notified(Notification {
            nvt_blk,
            nvt_idx,
            priority,
            end_blk: blk,
            end_idx: idx,
            presented,
        }));
        if presented {
            return true;
        }
        if end.backlog() && priority <= 7 {
            let (w, first, last) = nvt_ipb_field(self.gen);
            let ipb = field32(words[w], first, last) | (1 << (7 - u32::from(priority)));
            words[w] = set_field32(words[w], first, last, ipb);
            self.store_line(Kind::Nvt, nvt_blk, nvt_idx, dwords_of(&words));
            events.push(RouterEvent::Backlogged {
                nvt_blk,
                nvt_idx,
                priority,
            });
        }
        false
    }

    // --- caches --------------------------------------------------------------------------

    fn cache(&self, kind: Kind) -> &BTreeMap<(u8, u32), Line> {
        match kind {
            Kind::End => &self.end_cache,
            Kind::Nvt => &self.nvt_cache,
        }
    }

    fn cache_mut(&mut self, kind: Kind) -> &mut BTreeMap<(u8, u32), Line> {
        match kind {
            Kind::End => &mut self.end_cache,
            Kind::Nvt => &mut self.nvt_cache,
        }
    }

    fn dwords_per(&self, kind: Kind) -> usize {
        match kind {
            Kind::End => 4,
            Kind::Nvt => nvt_dwords(self.gen),
        }
    }

    fn read_dwords(&self, pa: u64, n: usize) -> Vec<u64> {
        (0..n).map(|i| self.mem.read64(pa + 8 * i as u64)).collect()
    }

    /// The hardware's current view: the cached line, else RAM.
    fn current(&self, kind: Kind, blk: u8, idx: u32) -> Option<Vec<u64>> {
        if let Some(line) = self.cache(kind).get(&(blk, idx)) {
            return Some(line.dwords.clone());
        }
        let vst = match kind {
            Kind::End => Vst::End,
            Kind::Nvt => Vst::Nvt,
        };
        let pa = self.entry_addr(blk, vst, idx)?;
        Some(self.read_dwords(pa, self.dwords_per(kind)))
    }

    /// Brings an entry into the cache (as the router or a watch does) and returns it.
    fn load_line(&mut self, kind: Kind, blk: u8, idx: u32, what: &str) -> Option<Vec<u64>> {
        if let Some(line) = self.cache(kind).get(&(blk, idx)) {
            return Some(line.dwords.clone());
        }
        let pa = self.hw_locate(blk, kind.table(), idx, what)?;
        let dwords = self.read_dwords(pa, self.dwords_per(kind));
        self.make_room(kind);
        self.cache_mut(kind).insert(
            (blk, idx),
            Line {
                pa,
                dwords: dwords.clone(),
                dirty: false,
            },
        );
        Some(dwords)
    }

    /// The hardware's caches are small: when one is full, a line is evicted (written
    /// back if dirty), as the hardware does on its own. It also keeps the model fast when
    /// a test fills whole VP blocks.
    fn make_room(&mut self, kind: Kind) {
        if self.cache(kind).len() < CACHE_LINES {
            return;
        }
        let Some(key) = self.cache(kind).keys().next().copied() else {
            return;
        };
        if let Some(line) = self.cache_mut(kind).remove(&key) {
            if line.dirty {
                for (i, d) in line.dwords.iter().enumerate() {
                    self.mem.write64(line.pa + 8 * i as u64, *d);
                }
            }
        }
    }

    /// Replaces a cached line's value; RAM is now behind if it changed.
    fn store_line(&mut self, kind: Kind, blk: u8, idx: u32, dwords: Vec<u64>) {
        if let Some(line) = self.cache_mut(kind).get_mut(&(blk, idx)) {
            if line.dwords != dwords {
                line.dwords = dwords;
                line.dirty = true;
            }
        }
    }

    /// A full or light cache watch: loads the line, replaces `dwords` starting at `first`.
    fn watch(
        &mut self,
        kind: Kind,
        blk: u8,
        idx: u32,
        first: usize,
        dwords: &[u64],
        sync: bool,
        what: &str,
    ) -> Result<(), Busy> {
        if !self.check_block(blk, what) {
            return Ok(());
        }
        self.watch_attempts(sync)?;
        let Some(mut line) = self.load_line(kind, blk, idx, what) else {
            return Ok(());
        };
        line[first..first + dwords.len()].copy_from_slice(dwords);
        self.store_line(kind, blk, idx, line);
        Ok(())
    }

    /// Consumes injected conflicts: one attempt, or 1 + retries for a synchronous update.
    fn watch_attempts(&mut self, sync: bool) -> Result<(), Busy> {
        let attempts = if sync { 1 + SYNC_WATCH_RETRIES } else { 1 };
        for _ in 0..attempts {
            if self.busy_to_inject == 0 {
                return Ok(());
            }
            self.busy_to_inject -= 1;
        }
        self.busy_returned += 1;
        Err(Busy)
    }

    /// Scrub: write back if dirty, invalidate. The entry must exist in a table.
    fn flush(&mut self, kind: Kind, blk: u8, idx: u32, what: &str) {
        if !self.check_block(blk, what) {
            return;
        }
        if let Err(miss) = self.locate_in_ram(blk, kind.table(), idx) {
            self.violation(
                miss.kind(),
                format!("{what} {blk}/{idx:#x}: {}", miss.describe()),
            );
        }
        if let Some(line) = self.cache_mut(kind).remove(&(blk, idx)) {
            if line.dirty {
                for (i, d) in line.dwords.iter().enumerate() {
                    self.mem.write64(line.pa + 8 * i as u64, *d);
                }
            }
        }
    }

    // --- translation ---------------------------------------------------------------------

    fn entry_size(&self, table: Table) -> Option<u64> {
        match table {
            Table::Eas => Some(8),
            Table::End => Some(32),
            Table::Nvt => Some(8 * nvt_dwords(self.gen) as u64),
            Table::Esb | Table::Overflow(_) => None,
        }
    }

    fn locate_in_ram(&self, blk: u8, table: Table, idx: u32) -> Result<u64, Miss> {
        let entry = self.entry_size(table).ok_or(Miss::NoVsd)?;
        let vsd = self
            .vsds
            .get(&VsdKey::local(blk, table))
            .copied()
            .unwrap_or(0);
        locate(self.gen, vsd, entry, idx, &mut |_, pa| self.mem.read64(pa))
    }

    /// Locates an entry as the hardware does: indirect pointers through the translation
    /// cache. A failure is a violation.
    fn hw_locate(&mut self, blk: u8, table: Table, idx: u32, what: &str) -> Option<u64> {
        let gen = self.gen;
        let key = VsdKey::local(blk, table);
        let vsd = self.vsds.get(&key).copied().unwrap_or(0);
        let entry = self.entry_size(table)?;
        let mut stale_used = Vec::new();
        let result = {
            let mem = &self.mem;
            let translations = &mut self.translations;
            let stale = &self.stale_translations;
            locate(gen, vsd, entry, idx, &mut |p, pa| {
                if let Some(&cached) = translations.get(&(key, p)) {
                    if stale.contains(&(key, p)) {
                        stale_used.push(p);
                    }
                    return cached;
                }
                let pointer = mem.read64(pa);
                if Vsd(pointer).address(gen) != 0 {
                    translations.insert((key, p), pointer);
                }
                pointer
            })
        };
        for p in stale_used {
            if self.stale_translations.remove(&(key, p)) {
                self.violation(
                    ViolationKind::StaleTranslation,
                    format!(
                        "{what} {blk}/{idx:#x}: {} pointer {p} changed in RAM, translation \
                         not killed: the hardware still uses the old sub-page",
                        table.name()
                    ),
                );
            }
        }
        match result {
            Ok(pa) => Some(pa),
            Err(miss) => {
                self.violation(
                    miss.kind(),
                    format!("{what} {blk}/{idx:#x}: {}", miss.describe()),
                );
                None
            }
        }
    }

    // --- what memory is live ----------------------------------------------------------------

    fn link_at(&self, pa: u64) -> Option<(u64, Link)> {
        let (&start, &link) = self.links.range(..=pa).next_back()?;
        (pa < link.end).then_some((start, link))
    }

    /// The pointer page slot at `pa`: (table key, pointer number).
    fn pointer_at(&self, pa: u64) -> Option<(VsdKey, u64)> {
        let (&start, page) = self.pointer_pages.range(..=pa).next_back()?;
        (pa < page.end).then_some((page.key, (pa - start) / 8))
    }

    /// Recomputes which memory backs reachable entries, from the VSDs and the pointer pages
    /// in RAM. Called when a VSD or a pointer changes.
    fn rebuild_links(&mut self) {
        let gen = self.gen;
        let mut links: Vec<(u64, Link)> = Vec::new();
        let mut pages = BTreeMap::new();
        for (&key, &raw) in &self.vsds {
            let Some(entry) = self.entry_size(key.table) else {
                continue;
            };
            let vsd = Vsd(raw);
            if vsd.mode() != VSD_MODE_EXCLUSIVE {
                continue;
            }
            let base = vsd.address(gen);
            if !vsd.indirect() {
                links.push((
                    base,
                    Link {
                        end: base + vsd.size(),
                        key,
                        first_idx: 0,
                    },
                ));
                continue;
            }
            pages.insert(
                base,
                PointerPage {
                    end: base + vsd.size(),
                    key,
                },
            );
            let first = Vsd(self.mem.read64(base));
            let per_page = if first.address(gen) != 0 {
                first.size() / entry
            } else {
                0
            };
            for (p, pointer) in self.pointers_in(base, vsd.size()) {
                let sub = Vsd(pointer);
                links.push((
                    sub.address(gen),
                    Link {
                        end: sub.address(gen) + sub.size(),
                        key,
                        first_idx: p * per_page,
                    },
                ));
            }
        }
        links.sort_by_key(|(start, _)| *start);
        self.links.clear();
        for pair in links.windows(2) {
            if pair[1].0 < pair[0].1.end {
                self.violation(
                    ViolationKind::BadVsd,
                    format!(
                        "memory {:#x} linked twice: {} of block {} and {} of block {}",
                        pair[1].0,
                        pair[0].1.key.table.name(),
                        pair[0].1.key.target,
                        pair[1].1.key.table.name(),
                        pair[1].1.key.target
                    ),
                );
            }
        }
        self.links.extend(links);
        self.pointer_pages = pages;
    }

    /// The populated pointers (non-zero address) of a pointer page, with their numbers.
    fn pointers_in(&self, base: u64, size: u64) -> Vec<(u64, u64)> {
        let gen = self.gen;
        let first_page = base >> PAGE_SHIFT;
        let last_page = (base + size - 1) >> PAGE_SHIFT;
        let mut out = Vec::new();
        for (&page, _) in self.mem.pages.range(first_page..=last_page) {
            for slot in 0..(PAGE_SIZE as u64 / 8) {
                let pa = (page << PAGE_SHIFT) + slot * 8;
                if pa < base || pa >= base + size {
                    continue;
                }
                let pointer = self.mem.read64(pa);
                if Vsd(pointer).address(gen) != 0 {
                    out.push(((pa - base) / 8, pointer));
                }
            }
        }
        out
    }

    /// A pointer in RAM is about to change from `old` to `new`: entries still cached from
    /// the old sub-page are a violation, and a cached translation becomes stale.
    fn pointer_changing(&mut self, key: VsdKey, p: u64, old: u64, new: u64) {
        let gen = self.gen;
        let old_vsd = Vsd(old);
        if old_vsd.address(gen) != 0 {
            let (lo, hi) = (old_vsd.address(gen), old_vsd.address(gen) + old_vsd.size());
            let kind = match key.table {
                Table::End => Some(Kind::End),
                Table::Nvt => Some(Kind::Nvt),
                _ => None,
            };
            if let Some(kind) = kind {
                let cached: Vec<(u8, u32)> = self
                    .cache(kind)
                    .iter()
                    .filter(|(&(b, _), l)| b == key.instance && l.pa >= lo && l.pa < hi)
                    .map(|(&k, _)| k)
                    .collect();
                for (b, i) in cached {
                    self.violation(
                        ViolationKind::UnlinkedWhileCached,
                        format!(
                            "{} pointer {p} of block {} changed while {} {b}/{i:#x} in that \
                             sub-page is cached (flush it first)",
                            key.table.name(),
                            key.target,
                            key.table.name()
                        ),
                    );
                }
            }
        }
        if let Some(&cached) = self.translations.get(&(key, p)) {
            if cached != new {
                self.stale_translations.insert((key, p));
            } else {
                self.stale_translations.remove(&(key, p));
            }
        }
    }

    fn check_block(&self, blk: u8, what: &str) -> bool {
        let ok = usize::from(blk) < self.chips.len();
        if !ok {
            self.violation(
                ViolationKind::BadArgument,
                format!("{what}: block {blk} has no XIVE instance"),
            );
        }
        ok
    }

    // --- ESB pages ----------------------------------------------------------------------

    fn decode_esb(&self, addr: u64) -> Option<EsbTarget> {
        for (blk, &chip) in self.chips.iter().enumerate() {
            let blk = blk as u8;
            let bars = phys_map::bars(self.gen, chip);
            // P9: IPIs and ENDs share the VC BAR (IPI sets first); P10: separate BARs.
            let (ipi_size, end_size) = match self.gen {
                Gen::P9 => (
                    bars.end_esb - bars.ipi_esb,
                    bars.vc + bars.vc_size - bars.end_esb,
                ),
                Gen::P10 => (bars.vc_size, bars.end_size),
            };
            let page = (addr >> phys_map::ESB_PAGE_SHIFT) & 1 == 1;
            let offset = addr & ((1 << phys_map::ESB_PAGE_SHIFT) - 1);
            if addr >= bars.ipi_esb && addr - bars.ipi_esb < ipi_size {
                let idx = ((addr - bars.ipi_esb) >> phys_map::ESB_PAIR_SHIFT) as u32;
                return Some(EsbTarget::Ipi {
                    blk,
                    idx,
                    trigger_page: !page,
                    offset,
                });
            }
            if addr >= bars.end_esb && addr - bars.end_esb < end_size {
                let idx = ((addr - bars.end_esb) >> phys_map::ESB_PAIR_SHIFT) as u32;
                return Some(EsbTarget::End {
                    blk,
                    idx,
                    escalation: page,
                    offset,
                });
            }
        }
        None
    }

    /// A load on an IPI's management page (xive.md §6.2). Offsets repeat every 4 KiB.
    fn ipi_load(&mut self, blk: u8, idx: u32, offset: u64) -> u64 {
        let old = self.pq(blk, idx);
        match offset & 0xfff {
            0x000..=0x7ff => {
                let (pq, retrigger) = pq_eoi(old);
                self.esb.insert((blk, idx), pq);
                if retrigger {
                    let mut events = Vec::new();
                    self.route_eas(blk, idx, &mut events);
                    self.events.extend(events);
                }
                u64::from(retrigger)
            }
            0x800..=0xbff => u64::from(old),
            o => {
                self.esb.insert((blk, idx), ((o >> 8) & 3) as u8);
                u64::from(old)
            }
        }
    }

    fn ipi_store(&mut self, blk: u8, idx: u32, trigger_page: bool, offset: u64) {
        let offset = offset & 0xfff;
        if trigger_page || offset < 0x400 {
            let mut events = Vec::new();
            self.source_trigger(blk, idx, &mut events);
            self.events.extend(events);
        } else if offset < 0x800 {
            // Store EOI: P10 IPIs offer it; skiboot leaves it disabled on P9.
            if self.gen == Gen::P9 {
                self.violation(
                    ViolationKind::BadEsbAccess,
                    format!("store EOI on IPI {blk}/{idx:#x}: not enabled on P9"),
                );
                return;
            }
            let (pq, retrigger) = pq_eoi(self.pq(blk, idx));
            self.esb.insert((blk, idx), pq);
            if retrigger {
                let mut events = Vec::new();
                self.route_eas(blk, idx, &mut events);
                self.events.extend(events);
            }
        } else if offset >= 0xc00 {
            self.esb.insert((blk, idx), ((offset >> 8) & 3) as u8);
        } else {
            self.violation(
                ViolationKind::BadEsbAccess,
                format!("store at ESB offset {offset:#x} of IPI {blk}/{idx:#x}"),
            );
        }
    }

    /// An END ESB access: the ESn or ESe bits of END word 1, through the END cache.
    fn end_esb_access(
        &mut self,
        blk: u8,
        idx: u32,
        escalation: bool,
        offset: u64,
        store: bool,
    ) -> u64 {
        if store && self.gen == Gen::P9 {
            self.violation(
                ViolationKind::BadEsbAccess,
                format!("store to the END ESB of {blk}/{idx:#x}"),
            );
            return 0;
        }
        let Some(dwords) = self.load_line(Kind::End, blk, idx, "END ESB") else {
            return u64::MAX;
        };
        let mut end = End::from_dwords(self.gen, &dwords);
        if !end.valid() {
            return u64::MAX;
        }
        let old = if escalation { end.ese() } else { end.esn() };
        let offset = offset & 0xfff;
        let (new, value) = match (store, offset) {
            (false, 0x000..=0x7ff) | (true, 0x400..=0x7ff) => {
                let (pq, retrigger) = pq_eoi(old);
                (pq, u64::from(retrigger))
            }
            (false, 0x800..=0xbff) => (old, u64::from(old)),
            (false, o) if o >= 0xc00 => (((o >> 8) & 3) as u8, u64::from(old)),
            (true, 0x000..=0x3ff) => (pq_trigger(old).0, 0),
            _ => {
                self.violation(
                    ViolationKind::BadEsbAccess,
                    format!("END ESB offset {offset:#x} of {blk}/{idx:#x}"),
                );
                return u64::MAX;
            }
        };
        if escalation {
            end.set_ese(new);
        } else {
            end.set_esn(new);
        }
        self.store_line(Kind::End, blk, idx, end.dwords());
        value
    }
}

impl Controller for Model {
    /// The model has no TIMA: every ring reads as reset (CPPR 0, PIPR 0xff; PHYS has VT
    /// once the thread's TIMA was reset).
    fn tima_ring(&mut self, blk: u8, pir: u32, ring: u8) -> [u8; 16] {
        let mut r = [0u8; 16];
        r[7] = 0xff;
        if ring == 3 && self.tima_resets(blk, pir) > 0 {
            r[8] = 0x80;
        }
        r
    }

    fn gen(&self) -> Gen {
        self.gen
    }

    fn read64(&self, pa: u64) -> u64 {
        if !pa.is_multiple_of(8) {
            self.violation(
                ViolationKind::BadArgument,
                format!("unaligned read64 {pa:#x}"),
            );
        }
        let hit = |cache: &BTreeMap<(u8, u32), Line>, name: &str| {
            for (&(blk, idx), line) in cache {
                let len = 8 * line.dwords.len() as u64;
                if line.dirty && pa < line.pa + len && line.pa < pa.saturating_add(8) {
                    self.violation(
                        ViolationKind::StaleRead,
                        format!(
                            "read64 {pa:#x}: {name} {blk}/{idx:#x} is dirty in the cache \
                             (flush it first)"
                        ),
                    );
                }
            }
        };
        hit(&self.end_cache, "END");
        hit(&self.nvt_cache, "NVT");
        self.mem.read64(pa)
    }

    fn write64(&mut self, pa: u64, value: u64) {
        if !pa.is_multiple_of(8) {
            self.violation(
                ViolationKind::BadArgument,
                format!("unaligned write64 {pa:#x}"),
            );
        }
        let old = self.mem.read64(pa);
        if let Some((start, link)) = self.link_at(pa) {
            let entry = self.entry_size(link.key.table).unwrap_or(8);
            let idx = link.first_idx + (pa - start) / entry;
            match link.key.table {
                Table::End | Table::Nvt => self.violation(
                    ViolationKind::WriteToLiveEntry,
                    format!(
                        "write64 {pa:#x} into {} {}/{idx:#x}, reachable through instance {}'s \
                         VSD (use the cache watch)",
                        link.key.table.name(),
                        link.key.target,
                        link.key.instance
                    ),
                ),
                Table::Eas if old != value => {
                    let key = (link.key.target, idx as u32);
                    self.eas_not_invalidated.insert(key);
                    self.routing_changed.insert(link.key.target);
                }
                _ => {}
            }
        }
        let pointer = self.pointer_at(pa).filter(|_| old != value);
        if let Some((key, p)) = pointer {
            self.pointer_changing(key, p, old, value);
        }
        self.mem.write64(pa, value);
        if pointer.is_some() {
            self.rebuild_links();
        }
    }

    fn set_vsd(&mut self, blk: u8, table: Vst, target: u8, vsd: u64) {
        if !self.check_block(blk, "set_vsd") {
            return;
        }
        let table = Table::from(table);
        let max_target = if table == Table::Nvt { 32 } else { 16 };
        if target >= max_target {
            self.violation(
                ViolationKind::BadArgument,
                format!("set_vsd: {} block {target} out of range", table.name()),
            );
            return;
        }
        let key = VsdKey {
            instance: blk,
            table,
            target,
        };
        let v = Vsd(vsd);
        if self.gen == Gen::P10 && v.mode() != VSD_MODE_FORWARD && vsd & VSD_P10_RESERVED != 0 {
            self.violation(
                ViolationKind::BadVsd,
                format!("P10 VSD {vsd:#x} sets reserved bits 4-7 (P9 address mask?)"),
            );
        }
        if v.mode() == VSD_MODE_EXCLUSIVE
            && !v.address(self.gen).is_multiple_of(v.size())
            && !v.indirect()
        {
            self.violation(
                ViolationKind::BadVsd,
                format!(
                    "{} table of block {target} at {:#x} is not aligned to its size {:#x}",
                    table.name(),
                    v.address(self.gen),
                    v.size()
                ),
            );
        }
        let old = self.vsds.get(&key).copied().unwrap_or(0);
        if old != vsd && target == blk {
            let cached = match table {
                Table::End => self.end_cache.keys().filter(|k| k.0 == blk).count(),
                Table::Nvt => self.nvt_cache.keys().filter(|k| k.0 == blk).count(),
                Table::Eas => self.eas_cache.keys().filter(|k| k.0 == blk).count(),
                _ => 0,
            };
            if cached > 0 {
                self.violation(
                    ViolationKind::UnlinkedWhileCached,
                    format!(
                        "VSD of {} block {target} reprogrammed while {cached} entries are cached",
                        table.name()
                    ),
                );
            }
        }
        self.translations.retain(|(k, _), _| *k != key);
        self.stale_translations.retain(|(k, _)| *k != key);
        if vsd == 0 {
            self.vsds.remove(&key);
        } else {
            self.vsds.insert(key, vsd);
        }
        self.rebuild_links();
    }

    fn eas_invalidate(&mut self, blk: u8, idx: u32) {
        if !self.check_block(blk, "eas_invalidate") {
            return;
        }
        if let Err(miss) = self.locate_in_ram(blk, Table::Eas, idx) {
            self.violation(
                miss.kind(),
                format!("eas_invalidate {blk}/{idx:#x}: {}", miss.describe()),
            );
        }
        self.eas_cache.remove(&(blk, idx));
        self.eas_not_invalidated.remove(&(blk, idx));
    }

    fn end_flush(&mut self, blk: u8, idx: u32) {
        self.flush(Kind::End, blk, idx, "end_flush");
    }

    fn end_update(&mut self, blk: u8, idx: u32, dwords: &[u64; 4], sync: bool) -> Result<(), Busy> {
        self.watch(Kind::End, blk, idx, 0, dwords, sync, "end_update")
    }

    fn end_update_escalation(
        &mut self,
        blk: u8,
        idx: u32,
        dword2: u64,
        sync: bool,
    ) -> Result<(), Busy> {
        self.watch(
            Kind::End,
            blk,
            idx,
            2,
            &[dword2],
            sync,
            "end_update_escalation",
        )?;
        if usize::from(blk) < self.chips.len() {
            self.routing_changed.insert(blk);
        }
        Ok(())
    }

    fn nvt_flush(&mut self, blk: u8, idx: u32) {
        self.flush(Kind::Nvt, blk, idx, "nvt_flush");
    }

    fn nvt_update(&mut self, blk: u8, idx: u32, dwords: &[u64], sync: bool) -> Result<(), Busy> {
        let expected = nvt_dwords(self.gen);
        if dwords.len() != expected {
            self.violation(
                ViolationKind::BadArgument,
                format!(
                    "nvt_update {blk}/{idx:#x}: {} dwords, the {:?} NVT has {expected}",
                    dwords.len(),
                    self.gen
                ),
            );
            return Ok(());
        }
        self.watch(Kind::Nvt, blk, idx, 0, dwords, sync, "nvt_update")
    }

    fn kill_translations(&mut self, blk: u8) {
        if !self.check_block(blk, "kill_translations") {
            return;
        }
        *self.kills.entry(blk).or_default() += 1;
        self.translations.retain(|(k, _), _| k.instance != blk);
        self.stale_translations.retain(|(k, _)| k.instance != blk);
    }

    fn sync(&mut self, blk: u8) {
        if !self.check_block(blk, "sync") {
            return;
        }
        *self.syncs.entry(blk).or_default() += 1;
        self.routing_changed.remove(&blk);
    }

    fn esb_load(&mut self, addr: u64) -> u64 {
        if let Some(page) = self.device_esb_page(addr) {
            return self.device_esb_load(page, addr & 0xfff);
        }
        match self.decode_esb(addr) {
            Some(EsbTarget::Ipi {
                blk,
                idx,
                trigger_page: false,
                offset,
            }) => self.ipi_load(blk, idx, offset),
            Some(EsbTarget::Ipi { blk, idx, .. }) => {
                self.violation(
                    ViolationKind::BadEsbAccess,
                    format!("load from the trigger page of IPI {blk}/{idx:#x}"),
                );
                u64::MAX
            }
            Some(EsbTarget::End {
                blk,
                idx,
                escalation,
                offset,
            }) => self.end_esb_access(blk, idx, escalation, offset, false),
            None => {
                self.violation(
                    ViolationKind::BadEsbAccess,
                    format!("esb_load {addr:#x}: no ESB page there"),
                );
                u64::MAX
            }
        }
    }

    fn esb_store(&mut self, addr: u64, _value: u64) {
        match self.decode_esb(addr) {
            Some(EsbTarget::Ipi {
                blk,
                idx,
                trigger_page,
                offset,
            }) => self.ipi_store(blk, idx, trigger_page, offset),
            Some(EsbTarget::End {
                blk,
                idx,
                escalation,
                offset,
            }) => {
                self.end_esb_access(blk, idx, escalation, offset, true);
            }
            None => self.violation(
                ViolationKind::BadEsbAccess,
                format!("esb_store {addr:#x}: no ESB page there"),
            ),
        }
    }

    fn thread_enable(&mut self, blk: u8, pir: u32, enable: bool) {
        if !self.check_block(blk, "thread_enable") {
            return;
        }
        let chip = self.chips[usize::from(blk)];
        if chip_of_pir(self.gen, pir) != chip {
            self.violation(
                ViolationKind::BadArgument,
                format!("thread_enable: PIR {pir:#x} is not on chip {chip} (block {blk})"),
            );
            return;
        }
        if enable {
            self.enabled_threads.insert((blk, pir));
        } else {
            self.enabled_threads.remove(&(blk, pir));
        }
    }

    fn tima_reset(&mut self, blk: u8, pir: u32) {
        if !self.check_block(blk, "tima_reset") {
            return;
        }
        let chip = self.chips[usize::from(blk)];
        if chip_of_pir(self.gen, pir) != chip {
            self.violation(
                ViolationKind::BadArgument,
                format!("tima_reset: PIR {pir:#x} is not on chip {chip} (block {blk})"),
            );
            return;
        }
        *self.tima_resets.entry((blk, pir)).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENS: [Gen; 2] = [Gen::P9, Gen::P10];

    // Test layout of block 0 (chip 0). Tables are small; addresses are arbitrary.
    const EAS_TABLE: u64 = 0x1000_0000; // direct, 64 KiB = 8192 EASes
    const END_POINTERS: u64 = 0x2000_0000; // indirect, 4 KiB of pointers
    const END_PAGE0: u64 = 0x2001_0000; // 64 KiB sub-pages
    const END_PAGE1: u64 = 0x2002_0000;
    const NVT_POINTERS: u64 = 0x3000_0000;
    const NVT_PAGE0: u64 = 0x3001_0000;
    const QUEUES: u64 = 0x4000_0000;
    const SUB_PAGE: u64 = 64 << 10;

    // --- test-only encoders (xive.md §4), independent of the firmware's ---------------

    fn tsize(bytes: u64) -> u64 {
        u64::from(bytes.trailing_zeros()) - 12
    }
    fn vsd_direct(addr: u64, bytes: u64) -> u64 {
        (2 << 62) | addr | tsize(bytes)
    }
    fn vsd_indirect(addr: u64, bytes: u64) -> u64 {
        vsd_direct(addr, bytes) | (1 << 7)
    }
    fn vsd_forward(addr: u64) -> u64 {
        (3 << 62) | addr
    }
    fn eas(end_blk: u8, end_idx: u32, data: u32) -> u64 {
        (1 << 63) | (u64::from(end_blk) << 56) | (u64::from(end_idx) << 32) | u64::from(data)
    }
    const EAS_MASKED: u64 = 1 << 31;

    /// IBM bit `n` of a 32-bit word.
    fn b(n: u32) -> u32 {
        1 << (31 - n)
    }

    #[derive(Clone, Copy, Default)]
    struct TestEnd {
        /// (address, log2 bytes)
        queue: Option<(u64, u32)>,
        ucond_notify: bool,
        backlog: bool,
        escalate: bool,
        uncond_escalate: bool,
        silent: bool,
        nvt: (u8, u32),
        prio: u8,
        /// (END block, END index, data)
        escalation: Option<(u8, u32, u32)>,
        /// (ESn, ESe)
        es: (u32, u32),
    }

    fn encode_end(gen: Gen, e: &TestEnd) -> [u64; 4] {
        let mut w = [0u32; 8];
        let (q, n, bl, esc, u, s) = match gen {
            Gen::P9 => (1, 2, 3, 5, 6, 7),
            Gen::P10 => (5, 6, 8, 11, 10, 7),
        };
        w[0] = b(0);
        let flag = |on: bool, bit: u32| if on { b(bit) } else { 0 };
        w[0] |= flag(e.ucond_notify, n) | flag(e.backlog, bl) | flag(e.escalate, esc);
        w[0] |= flag(e.uncond_escalate, u) | flag(e.silent, s);
        if gen == Gen::P10 {
            w[0] |= b(13); // escalate to an END
        }
        w[1] = (e.es.0 << 30) | (e.es.1 << 28) | b(9); // generation 1, index 0
        if let Some((addr, shift)) = e.queue {
            w[0] |= b(q);
            let qsize = shift - 12;
            match gen {
                Gen::P9 => {
                    w[0] |= qsize << 16;
                    w[2] = ((addr >> 32) as u32) & 0x0fff_ffff;
                    w[3] = addr as u32;
                }
                Gen::P10 => {
                    w[2] = ((addr >> 32) as u32) & 0x00ff_ffff;
                    w[3] = (addr as u32 & 0xffff_ff80) | qsize;
                }
            }
        }
        if let Some((blk, idx, data)) = e.escalation {
            w[4] = (u32::from(blk) << 24) | idx;
            w[5] = data & 0x7fff_ffff;
        }
        w[6] = match gen {
            Gen::P9 => (u32::from(e.nvt.0) << 19) | e.nvt.1,
            Gen::P10 => (u32::from(e.nvt.0) << 24) | e.nvt.1,
        };
        w[7] = u32::from(e.prio) << 16;
        let mut d = [0u64; 4];
        for i in 0..4 {
            d[i] = (u64::from(w[2 * i]) << 32) | u64::from(w[2 * i + 1]);
        }
        d
    }

    fn valid_nvt(gen: Gen) -> Vec<u64> {
        let mut d = vec![0; nvt_dwords(gen)];
        d[0] = 1 << 63;
        d
    }

    /// A machine with block 0 set up as skiboot does: direct EAS table, indirect END and
    /// NVT tables with sub-page 0 installed. Pages are zeroed *before* they are linked.
    fn machine(gen: Gen) -> Model {
        let mut m = Model::single(gen);
        for page in [END_PAGE0, NVT_PAGE0] {
            for off in (0..SUB_PAGE).step_by(8) {
                m.write64(page + off, 0);
            }
        }
        m.write64(END_POINTERS, vsd_direct(END_PAGE0, SUB_PAGE));
        m.write64(NVT_POINTERS, vsd_direct(NVT_PAGE0, SUB_PAGE));
        m.set_vsd(0, Vst::Eas, 0, vsd_direct(EAS_TABLE, 64 << 10));
        m.set_vsd(0, Vst::End, 0, vsd_indirect(END_POINTERS, 4 << 10));
        m.set_vsd(0, Vst::Nvt, 0, vsd_indirect(NVT_POINTERS, 4 << 10));
        m.assert_coherent();
        m
    }

    fn kinds(v: &[Violation]) -> Vec<ViolationKind> {
        v.iter().map(|v| v.kind).collect()
    }

    /// Routes EAS `src` to END `end` with `data`, as the firmware must: RAM write, then
    /// invalidate.
    fn route_eas(m: &mut Model, src: u32, end: u32, data: u32) {
        m.write64(EAS_TABLE + 8 * u64::from(src), eas(0, end, data));
        m.eas_invalidate(0, src);
    }

    /// Turns IPI `src` on: PQ 00 through its management page.
    fn esb_on(m: &mut Model, src: u32) {
        let mgmt = m.ipi_esb(0, src).unwrap() + (1 << 16);
        m.esb_load(mgmt + 0xc00);
    }

    // --- address resolution -------------------------------------------------------------

    #[test]
    fn resolves_direct_and_indirect_entries() {
        for gen in GENS {
            let mut m = machine(gen);
            let nvt_size = 8 * nvt_dwords(gen) as u64;
            assert_eq!(m.entry_addr(0, Vst::Eas, 5), Some(EAS_TABLE + 40));
            assert_eq!(m.entry_addr(0, Vst::Eas, 8192), None);
            assert_eq!(m.entry_addr(0, Vst::End, 3), Some(END_PAGE0 + 96));
            // 2048 ENDs per 64 KiB sub-page: END 2048 needs pointer 1.
            assert_eq!(m.entry_addr(0, Vst::End, 2048), None);
            m.write64(END_POINTERS + 8, vsd_direct(END_PAGE1, SUB_PAGE));
            assert_eq!(m.entry_addr(0, Vst::End, 2049), Some(END_PAGE1 + 32));
            // 512 pointers × 2048 ENDs.
            assert_eq!(m.entry_addr(0, Vst::End, 512 * 2048), None);
            // NVT: 64 bytes on P9 (1024 per page), 32 on P10 (2048 per page).
            let per_page = SUB_PAGE / nvt_size;
            assert_eq!(
                m.entry_addr(0, Vst::Nvt, 0x81),
                Some(NVT_PAGE0 + 0x81 * nvt_size)
            );
            assert!(m.entry_addr(0, Vst::Nvt, per_page as u32 - 1).is_some());
            assert_eq!(m.entry_addr(0, Vst::Nvt, per_page as u32), None);

            // The hardware path agrees: a watch + flush lands at the decoded address.
            let value = [1, 2, 3, 4];
            m.end_update(0, 2049, &value, true).unwrap();
            m.end_flush(0, 2049);
            assert_eq!(m.peek(END_PAGE1 + 32 + 24), 4);
            m.assert_coherent();
        }
    }

    #[test]
    fn direct_end_table() {
        for gen in GENS {
            let mut m = Model::single(gen);
            m.set_vsd(0, Vst::End, 0, vsd_direct(0x80_0000, 64 << 10));
            assert_eq!(m.entry_addr(0, Vst::End, 2047), Some(0x80_0000 + 2047 * 32));
            assert_eq!(m.entry_addr(0, Vst::End, 2048), None);
            m.end_update(0, 2048, &[0; 4], false).unwrap();
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::OutOfRange]);
            // A table not aligned to its size is rejected (QEMU refuses it too).
            m.set_vsd(0, Vst::Eas, 0, vsd_direct(0x81_0000, 128 << 10));
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::BadVsd]);
        }
    }

    #[test]
    fn address_masks_differ_between_generations() {
        // Address bit 59..56 (VSD bits 4–7): part of the address on P9, reserved on P10.
        let high = 0x0100_0000_0000_0000;
        let mut p9 = Model::single(Gen::P9);
        p9.set_vsd(0, Vst::Eas, 0, vsd_direct(high, 64 << 10));
        assert_eq!(p9.entry_addr(0, Vst::Eas, 1), Some(high + 8));
        p9.assert_coherent();

        let mut p10 = Model::single(Gen::P10);
        p10.set_vsd(0, Vst::Eas, 0, vsd_direct(high, 64 << 10));
        assert_eq!(kinds(&p10.take_violations()), [ViolationKind::BadVsd]);
        assert_eq!(p10.entry_addr(0, Vst::Eas, 1), Some(8));
    }

    #[test]
    fn indirect_pointer_zero_sets_the_sub_page_size() {
        for gen in GENS {
            let mut m = Model::single(gen);
            m.write64(END_POINTERS + 8, vsd_direct(END_PAGE1, SUB_PAGE));
            m.set_vsd(0, Vst::End, 0, vsd_indirect(END_POINTERS, 4 << 10));
            m.end_update(0, 2048, &[0; 4], true).unwrap();
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::BadVsd]);
            m.write64(END_POINTERS, vsd_direct(END_PAGE0, 4 << 10));
            m.end_update(0, 2048, &[0; 4], true).unwrap();
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::MissingSubPage]);
        }
    }

    // --- caches ---------------------------------------------------------------------------

    #[test]
    fn end_cache_hides_updates_until_flush() {
        for gen in GENS {
            let mut m = machine(gen);
            let pa = m.entry_addr(0, Vst::End, 9).unwrap();
            let value = [0x8000_0000_0000_0000, 0x0040_0000, 0, 0x1234];
            m.end_update(0, 9, &value, false).unwrap();
            assert_eq!(m.peek(pa), 0, "RAM unchanged while the line is cached");
            assert_eq!(m.end(0, 9), Some(value));
            assert_eq!(m.end_cache_state(0, 9), Some(true));

            // Reading RAM now returns the old value: a stale read.
            assert_eq!(m.read64(pa), 0);
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::StaleRead]);

            m.end_flush(0, 9);
            assert_eq!(m.end_cache_state(0, 9), None);
            assert_eq!(m.read64(pa), value[0]);
            assert_eq!(m.read64(pa + 24), 0x1234);

            // A light watch changes dword 2 only.
            m.end_update_escalation(0, 9, 0x77, true).unwrap();
            assert_eq!(m.end(0, 9).unwrap()[2], 0x77);
            assert_eq!(m.end(0, 9).unwrap()[3], 0x1234);
            m.end_flush(0, 9);
            assert_eq!(m.peek(pa + 16), 0x77);
            m.assert_coherent();
        }
    }

    #[test]
    fn nvt_cache_hides_updates_until_flush() {
        for gen in GENS {
            let mut m = machine(gen);
            let pa = m.entry_addr(0, Vst::Nvt, 0x80).unwrap();
            let mut value = valid_nvt(gen);
            *value.last_mut().unwrap() = 0xabcd;
            m.nvt_update(0, 0x80, &value, true).unwrap();
            assert_eq!(m.peek(pa), 0);
            m.read64(pa + 8);
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::StaleRead]);
            m.nvt_flush(0, 0x80);
            let last = pa + 8 * (value.len() as u64 - 1);
            assert_eq!(m.read64(last), 0xabcd);
            // The wrong number of dwords for the generation is refused.
            m.nvt_update(0, 0x80, &[0; 6], true).unwrap();
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::BadArgument]);
            m.assert_coherent();
        }
    }

    #[test]
    fn writing_a_linked_end_or_nvt_in_ram_is_a_violation() {
        for gen in GENS {
            let mut m = machine(gen);
            m.write64(END_PAGE0 + 32 * 7, 1);
            m.write64(NVT_PAGE0 + 8, 1);
            assert_eq!(
                kinds(&m.take_violations()),
                [
                    ViolationKind::WriteToLiveEntry,
                    ViolationKind::WriteToLiveEntry
                ]
            );
            // A donated page may be prepared before its pointer is installed...
            m.write64(END_PAGE1, 0);
            m.write64(END_PAGE1 + 8, 0);
            m.assert_coherent();
            // ...but not after.
            m.write64(END_POINTERS + 8, vsd_direct(END_PAGE1, SUB_PAGE));
            m.write64(END_PAGE1 + 8, 0);
            assert_eq!(
                kinds(&m.take_violations()),
                [ViolationKind::WriteToLiveEntry]
            );
            // Installing pointers and reading entries that are clean is fine.
            m.read64(END_PAGE1);
            m.assert_coherent();
        }
    }

    #[test]
    fn eas_written_in_ram_must_be_invalidated() {
        for gen in GENS {
            let mut m = machine(gen);
            m.write64(EAS_TABLE + 8 * 0x20, eas(0, 0x10, 0x20));
            assert_eq!(kinds(&m.check()), [ViolationKind::EasNotInvalidated]);
            m.eas_invalidate(0, 0x20);
            m.assert_coherent();
            // Writing the same value changes nothing: no invalidation needed.
            m.write64(EAS_TABLE + 8 * 0x20, eas(0, 0x10, 0x20));
            m.assert_coherent();
        }
    }

    #[test]
    fn router_uses_a_stale_eas_that_was_not_invalidated() {
        for gen in GENS {
            let mut m = machine(gen);
            let end = |q| TestEnd {
                queue: Some((q, 12)),
                ucond_notify: true,
                nvt: (0, 0x80),
                prio: 7,
                ..TestEnd::default()
            };
            m.end_update(0, 0x10, &encode_end(gen, &end(QUEUES)), true)
                .unwrap();
            m.end_update(0, 0x11, &encode_end(gen, &end(QUEUES + 0x1000)), true)
                .unwrap();
            m.nvt_update(0, 0x80, &valid_nvt(gen), true).unwrap();
            route_eas(&mut m, 0x20, 0x10, 0x20);
            esb_on(&mut m, 0x20);
            m.trigger(0, 0x20);
            assert_eq!(m.eas_cached(0, 0x20), Some(eas(0, 0x10, 0x20)));
            esb_on(&mut m, 0x20);

            // Re-target in RAM without invalidating: the hardware still uses END 0x10.
            m.write64(EAS_TABLE + 8 * 0x20, eas(0, 0x11, 0x20));
            let events = m.trigger(0, 0x20);
            assert!(matches!(
                events[0],
                RouterEvent::Enqueued { end_idx: 0x10, .. }
            ));
            assert_eq!(
                kinds(&m.take_violations()),
                [ViolationKind::EasNotInvalidated]
            );

            m.eas_invalidate(0, 0x20);
            esb_on(&mut m, 0x20);
            let events = m.trigger(0, 0x20);
            assert!(matches!(
                events[0],
                RouterEvent::Enqueued { end_idx: 0x11, .. }
            ));
            m.assert_coherent();
        }
    }

    #[test]
    fn changed_pointer_needs_a_translation_kill() {
        for gen in GENS {
            let mut m = machine(gen);
            let other = 0x2003_0000;
            m.write64(END_POINTERS + 8, vsd_direct(END_PAGE1, SUB_PAGE));
            m.end_update(0, 2048, &[1, 1, 1, 1], true).unwrap(); // caches pointer 1
            m.end_flush(0, 2048);

            // Moving the sub-page and killing the translations is the protocol.
            m.write64(END_POINTERS + 8, vsd_direct(other, SUB_PAGE));
            assert_eq!(kinds(&m.check()), [ViolationKind::StaleTranslation]);
            m.kill_translations(0);
            assert_eq!(m.kill_count(0), 1);
            m.assert_coherent();
            m.end_update(0, 2048, &[2, 2, 2, 2], true).unwrap();
            m.end_flush(0, 2048);
            assert_eq!(m.peek(other), 2);

            // Without the kill, the hardware keeps using the old sub-page.
            m.write64(END_POINTERS + 8, vsd_direct(END_PAGE1, SUB_PAGE));
            m.end_update(0, 2048, &[3, 3, 3, 3], true).unwrap();
            m.end_flush(0, 2048);
            assert_eq!(m.peek(other), 3, "stale translation used");
            assert_eq!(m.peek(END_PAGE1), 1);
            assert_eq!(
                kinds(&m.take_violations()),
                [ViolationKind::StaleTranslation]
            );
        }
    }

    #[test]
    fn unlinking_a_sub_page_with_cached_entries_is_a_violation() {
        for gen in GENS {
            let mut m = machine(gen);
            m.write64(END_POINTERS + 8, vsd_direct(END_PAGE1, SUB_PAGE));
            m.end_update(0, 2050, &[5, 0, 0, 0], true).unwrap();
            m.write64(END_POINTERS + 8, 0);
            m.kill_translations(0);
            assert_eq!(
                kinds(&m.take_violations()),
                [ViolationKind::UnlinkedWhileCached]
            );
            // Reprogramming a VSD under cached entries is the same mistake.
            m.set_vsd(0, Vst::End, 0, vsd_indirect(END_POINTERS + 0x1000, 4 << 10));
            assert_eq!(
                kinds(&m.take_violations()),
                [ViolationKind::UnlinkedWhileCached]
            );
        }
    }

    #[test]
    fn entries_without_a_table_are_violations() {
        for gen in GENS {
            let mut m = machine(gen);
            m.end_update(0, 600 * 2048, &[0; 4], true).unwrap();
            m.end_update(0, 2048, &[0; 4], true).unwrap();
            m.nvt_flush(0, 5000);
            m.eas_invalidate(0, 9000);
            assert_eq!(
                kinds(&m.take_violations()),
                [
                    ViolationKind::OutOfRange,
                    ViolationKind::MissingSubPage,
                    ViolationKind::MissingSubPage,
                    ViolationKind::OutOfRange,
                ]
            );
            let mut bare = Model::single(gen);
            bare.end_flush(0, 1);
            bare.nvt_update(0, 1, &valid_nvt(gen), false).unwrap();
            bare.end_flush(3, 1);
            assert_eq!(
                kinds(&bare.take_violations()),
                [
                    ViolationKind::NoVsd,
                    ViolationKind::NoVsd,
                    ViolationKind::BadArgument
                ]
            );
        }
    }

    #[test]
    fn busy_injection() {
        for gen in GENS {
            let mut m = machine(gen);
            m.inject_busy(2);
            assert_eq!(m.end_update(0, 1, &[1; 4], false), Err(Busy));
            assert_eq!(m.nvt_update(0, 0x80, &valid_nvt(gen), false), Err(Busy));
            assert_eq!(m.end_cache_state(0, 1), None, "a conflict changes nothing");
            assert_eq!(m.nvt_cache_state(0, 0x80), None);
            assert_eq!(m.end_update_escalation(0, 1, 9, false), Ok(()));

            m.inject_busy(10);
            assert_eq!(m.end_update(0, 2, &[2; 4], true), Ok(()));
            m.inject_busy(11);
            assert_eq!(m.end_update(0, 3, &[3; 4], true), Err(Busy));
            assert_eq!(m.end_cache_state(0, 3), None);
            assert_eq!(m.end_update(0, 3, &[3; 4], false), Ok(()));
            assert_eq!(m.busy_returned(), 3);
            m.assert_coherent();
        }
    }

    // --- ESBs -----------------------------------------------------------------------------

    #[test]
    fn pq_state_machine_through_the_esb_pages() {
        for gen in GENS {
            let mut m = machine(gen);
            m.write64(EAS_TABLE + 8 * 0x30, eas(0, 0x10, 0x30) | EAS_MASKED);
            m.eas_invalidate(0, 0x30);
            let trig = m.ipi_esb(0, 0x30).unwrap();
            let mgmt = trig + (1 << 16);

            assert_eq!(m.pq(0, 0x30), 0b01, "IPIs start off");
            m.esb_store(trig, 0);
            assert_eq!(
                m.events().last(),
                Some(&RouterEvent::NotForwarded {
                    blk: 0,
                    idx: 0x30,
                    pq: 0b01
                })
            );
            assert_eq!(
                m.esb_load(mgmt + 0xc00),
                0b01,
                "SET_PQ_00 returns the old PQ"
            );
            assert_eq!(m.esb_load(mgmt + 0x800), 0b00, "GET has no side effect");
            assert_eq!(m.esb_load(mgmt + 0x800), 0b00);

            m.esb_store(trig + 0x10, 0);
            assert_eq!(m.pq(0, 0x30), 0b10);
            assert_eq!(
                m.events().last(),
                Some(&RouterEvent::EasMasked { blk: 0, idx: 0x30 })
            );
            m.esb_store(mgmt, 0); // 0x000–0x3FF of the management page also triggers
            assert_eq!(m.pq(0, 0x30), 0b11);
            m.clear_events();
            assert_eq!(m.esb_load(mgmt), 1, "EOI of 11 re-triggers");
            assert_eq!(m.pq(0, 0x30), 0b10);
            assert_eq!(m.events(), &[RouterEvent::EasMasked { blk: 0, idx: 0x30 }]);
            assert_eq!(m.esb_load(mgmt + 0x400), 0, "EOI of 10");
            assert_eq!(m.pq(0, 0x30), 0b00);
            assert_eq!(m.esb_load(mgmt + 0xd00), 0b00);
            assert_eq!(m.pq(0, 0x30), 0b01);
            assert_eq!(m.esb_load(mgmt + 0xe40), 0b01); // P10's +0x40 ordering variant
            assert_eq!(m.esb_load(mgmt + 0xf00), 0b10);
            assert_eq!(m.pq(0, 0x30), 0b11);
            m.assert_coherent();

            // Store EOI: P10 only.
            m.esb_store(mgmt + 0x400, 0);
            match gen {
                Gen::P9 => {
                    assert_eq!(kinds(&m.take_violations()), [ViolationKind::BadEsbAccess]);
                    assert_eq!(m.pq(0, 0x30), 0b11);
                }
                Gen::P10 => assert_eq!(m.pq(0, 0x30), 0b10),
            }
            assert_eq!(
                m.esb_load(trig + 0x800),
                u64::MAX,
                "loads on the trigger page fail"
            );
            assert_eq!(m.esb_load(0x1234), u64::MAX);
            assert_eq!(
                kinds(&m.take_violations()),
                [ViolationKind::BadEsbAccess, ViolationKind::BadEsbAccess]
            );
        }
    }

    #[test]
    fn end_esb_pages_act_on_the_cached_end() {
        for gen in GENS {
            let mut m = machine(gen);
            let end = TestEnd {
                es: (0b01, 0b00),
                prio: 7,
                ..TestEnd::default()
            };
            m.end_update(0, 0x17, &encode_end(gen, &end), true).unwrap();
            m.end_flush(0, 0x17);
            let esn = m.end_esb(0, 0x17).unwrap();
            let ese = esn + (1 << 16);
            assert_eq!(m.esb_load(esn + 0x800), 0b01);
            assert_eq!(m.esb_load(ese + 0x800), 0b00);
            assert_eq!(m.end_cache_state(0, 0x17), Some(false), "loaded, clean");
            assert_eq!(m.esb_load(ese + 0xf00), 0b00);
            assert_eq!(
                m.end_cache_state(0, 0x17),
                Some(true),
                "ESe changed in the cache"
            );
            assert_eq!(m.esb_load(ese + 0x800), 0b11);
            m.end_flush(0, 0x17);
            let w1 = m.read64(m.entry_addr(0, Vst::End, 0x17).unwrap()) as u32;
            assert_eq!(w1 >> 28, 0b0111, "ESn 01, ESe 11 in END word 1");
            m.assert_coherent();
        }
    }

    // --- the router -------------------------------------------------------------------------

    /// Enqueues `entries + 3` events into a queue of `1 << shift` bytes: the generation
    /// starts at 1, the first wrap flips it to 0 for the slots written again.
    fn enqueue_across_a_wrap(gen: Gen, shift: u32) {
        let mut m = machine(gen);
        let entries = 1u32 << (shift - 2);
        let end = TestEnd {
            queue: Some((QUEUES, shift)),
            ucond_notify: true,
            nvt: (0, 0x84),
            prio: 7,
            ..TestEnd::default()
        };
        m.end_update(0, 0x0f, &encode_end(gen, &end), true).unwrap();
        m.nvt_update(0, 0x84, &valid_nvt(gen), true).unwrap();
        m.thread_enable(0, 4, true);
        route_eas(&mut m, 0x10, 0x0f, 0x10);
        esb_on(&mut m, 0x10);
        let mgmt = m.ipi_esb(0, 0x10).unwrap() + (1 << 16);

        let total = entries + 3;
        for n in 0..total {
            let events = m.trigger(0, 0x10);
            let slot = n % entries;
            let generation = 1 ^ ((n / entries) & 1);
            assert_eq!(
                events,
                [
                    RouterEvent::Enqueued {
                        end_blk: 0,
                        end_idx: 0x0f,
                        addr: QUEUES + 4 * u64::from(slot),
                        slot,
                        entry: (generation << 31) | 0x10,
                    },
                    RouterEvent::Notified(Notification {
                        nvt_blk: 0,
                        nvt_idx: 0x84,
                        priority: 7,
                        end_blk: 0,
                        end_idx: 0x0f,
                        presented: true,
                    }),
                ],
                "event {n}"
            );
            m.esb_load(mgmt + 0xc00); // Linux's EOI for an MSI
        }
        // Slots 0–2 were written again with generation 0, the rest still hold generation 1.
        for slot in 0..entries {
            let generation = u32::from(slot >= 3);
            assert_eq!(
                m.peek32(QUEUES + 4 * u64::from(slot)),
                (generation << 31) | 0x10
            );
        }
        // The producer state lives in the cached END until it is flushed.
        let end = End::from_dwords(gen, &m.end(0, 0x0f).unwrap());
        assert_eq!((end.generation(), end.page_off()), (0, 3));
        let pa = m.entry_addr(0, Vst::End, 0x0f).unwrap();
        m.read64(pa);
        assert_eq!(kinds(&m.take_violations()), [ViolationKind::StaleRead]);
        m.end_flush(0, 0x0f);
        let w1 = m.read64(pa) as u32;
        assert_eq!((w1 >> 22) & 1, 0, "generation 0 after one wrap");
        assert_eq!(w1 & 0x3f_ffff, 3);
        if gen == Gen::P10 {
            assert_eq!((w1 >> 23) & 1, 0, "GEN_FLIPPED follows the generation");
        }
        m.assert_coherent();
    }

    #[test]
    fn router_enqueues_with_generation_across_a_wrap() {
        for gen in GENS {
            enqueue_across_a_wrap(gen, 12);
            enqueue_across_a_wrap(gen, 16);
        }
    }

    #[test]
    fn router_stops_where_the_configuration_says() {
        for gen in GENS {
            let mut m = machine(gen);
            let mut end = TestEnd {
                queue: Some((QUEUES, 12)),
                nvt: (0, 0x90),
                prio: 5,
                es: (0b00, 0b00),
                ..TestEnd::default()
            };
            m.end_update(0, 0x20, &encode_end(gen, &end), true).unwrap();
            m.nvt_update(0, 0x90, &valid_nvt(gen), true).unwrap();
            route_eas(&mut m, 0x40, 0x20, 0x40);

            // The ESn bits coalesce a second notification until they are EOId.
            assert!(matches!(m.route(0, 0x40)[1], RouterEvent::Notified(_)));
            assert_eq!(
                m.route(0, 0x40)[1],
                RouterEvent::EsnCoalesced { blk: 0, idx: 0x20 }
            );
            // Thread 0x10 is not enabled: not presented, no backlog asked for.
            assert_eq!(m.notifications().len(), 1);
            assert!(!m.notifications()[0].presented);

            end.prio = 0xff;
            m.end_update(0, 0x20, &encode_end(gen, &end), true).unwrap();
            assert_eq!(
                m.route(0, 0x40)[1],
                RouterEvent::EndMasked { blk: 0, idx: 0x20 }
            );

            m.end_update(0, 0x20, &[0; 4], true).unwrap();
            assert_eq!(
                m.route(0, 0x40),
                [RouterEvent::EndInvalid { blk: 0, idx: 0x20 }]
            );

            m.write64(EAS_TABLE + 8 * 0x40, eas(0, 0x20, 0x40) | EAS_MASKED);
            m.eas_invalidate(0, 0x40);
            assert_eq!(
                m.route(0, 0x40),
                [RouterEvent::EasMasked { blk: 0, idx: 0x40 }]
            );
            assert_eq!(
                m.route(0, 0x41),
                [RouterEvent::EasInvalid { blk: 0, idx: 0x41 }]
            );

            // An END that enqueues at address 0 is a firmware bug the hardware would obey.
            end = TestEnd {
                queue: Some((0, 12)),
                ..end
            };
            m.end_update(0, 0x21, &encode_end(gen, &end), true).unwrap();
            route_eas(&mut m, 0x42, 0x21, 1);
            assert_eq!(m.route(0, 0x42), [RouterEvent::Lost]);
            assert_eq!(kinds(&m.take_violations()), [ViolationKind::Routing]);
        }
    }

    /// KVM's single escalation (xive.md §13.3 SET_VP_INFO): a guest queue that is not
    /// dispatched backlogs the NVT and escalates unconditionally to the VP's silent prio-7
    /// END, whose ESe lets one escalation through to the host queue.
    #[test]
    fn escalation_chain() {
        for gen in GENS {
            let mut m = machine(gen);
            let guest_vp = 0x300;
            let host_end = TestEnd {
                queue: Some((QUEUES, 16)),
                ucond_notify: true,
                nvt: (0, 0x80),
                prio: 7,
                ..TestEnd::default()
            };
            let gather = TestEnd {
                silent: true,
                escalate: true,
                backlog: true,
                escalation: Some((0, 0x0f, 0x1234)),
                es: (0b01, 0b00),
                nvt: (0, guest_vp),
                prio: 7,
                ..TestEnd::default()
            };
            let guest_queue = TestEnd {
                queue: Some((QUEUES + 0x1_0000, 12)),
                ucond_notify: true,
                backlog: true,
                escalate: true,
                uncond_escalate: true,
                escalation: Some((0, 0x107, 0x55)),
                nvt: (0, guest_vp),
                prio: 3,
                ..TestEnd::default()
            };
            m.end_update(0, 0x0f, &encode_end(gen, &host_end), true)
                .unwrap();
            m.end_update(0, 0x107, &encode_end(gen, &gather), true)
                .unwrap();
            m.end_update(0, 0x103, &encode_end(gen, &guest_queue), true)
                .unwrap();
            m.nvt_update(0, 0x80, &valid_nvt(gen), true).unwrap();
            m.nvt_update(0, guest_vp, &valid_nvt(gen), true).unwrap();
            m.thread_enable(0, 0, true);
            route_eas(&mut m, 0x50, 0x103, 0x50);

            let events = m.route(0, 0x50);
            let guest = Notification {
                nvt_blk: 0,
                nvt_idx: guest_vp,
                priority: 3,
                end_blk: 0,
                end_idx: 0x103,
                presented: false,
            };
            assert_eq!(
                events,
                [
                    RouterEvent::Enqueued {
                        end_blk: 0,
                        end_idx: 0x103,
                        addr: QUEUES + 0x1_0000,
                        slot: 0,
                        entry: (1 << 31) | 0x50,
                    },
                    RouterEvent::Notified(guest),
                    RouterEvent::Backlogged {
                        nvt_blk: 0,
                        nvt_idx: guest_vp,
                        priority: 3
                    },
                    RouterEvent::Escalated {
                        from_blk: 0,
                        from_idx: 0x103,
                        to_blk: 0,
                        to_idx: 0x107,
                        data: 0x55
                    },
                    RouterEvent::Escalated {
                        from_blk: 0,
                        from_idx: 0x107,
                        to_blk: 0,
                        to_idx: 0x0f,
                        data: 0x1234
                    },
                    RouterEvent::Enqueued {
                        end_blk: 0,
                        end_idx: 0x0f,
                        addr: QUEUES,
                        slot: 0,
                        entry: (1 << 31) | 0x1234,
                    },
                    RouterEvent::Notified(Notification {
                        nvt_blk: 0,
                        nvt_idx: 0x80,
                        priority: 7,
                        end_blk: 0,
                        end_idx: 0x0f,
                        presented: true,
                    }),
                ]
            );
            // The backlog IPB (priority 3 → 0x10) is in the cached NVT, not in RAM.
            let (w, _, _) = nvt_ipb_field(gen);
            let words = words_of(&m.nvt(0, guest_vp).unwrap());
            let ipb_shift = if gen == Gen::P9 { 8 } else { 16 };
            assert_eq!((words[w] >> ipb_shift) & 0xff, 0x10);
            assert_eq!(m.nvt_cache_state(0, guest_vp), Some(true));

            // The gather END's ESe is now 10: a second event escalates no further.
            let events = m.route(0, 0x50);
            assert_eq!(
                events.last(),
                Some(&RouterEvent::EseCoalesced { blk: 0, idx: 0x107 })
            );
            m.assert_coherent();
        }
    }

    #[test]
    fn remote_blocks_need_forward_vsds() {
        let gen = Gen::P9;
        let mut m = Model::new(gen, &[0, 8]);
        // Block 1 (chip 8) has an EAS table; its sources target END 0x0f of block 0.
        m.set_vsd(0, Vst::End, 0, vsd_direct(0x80_0000, 64 << 10));
        m.set_vsd(0, Vst::Nvt, 0, vsd_direct(0x90_0000, 64 << 10));
        m.set_vsd(1, Vst::Eas, 1, vsd_direct(EAS_TABLE, 64 << 10));
        let end = TestEnd {
            queue: Some((QUEUES, 12)),
            ucond_notify: true,
            nvt: (0, 0x80),
            prio: 7,
            ..TestEnd::default()
        };
        m.end_update(0, 0x0f, &encode_end(gen, &end), true).unwrap();
        m.nvt_update(0, 0x80, &valid_nvt(gen), true).unwrap();
        m.write64(EAS_TABLE + 8 * 0x10, eas(0, 0x0f, 0x100010));
        m.eas_invalidate(1, 0x10);
        assert_eq!(m.route(1, 0x10), [RouterEvent::Lost]);
        assert_eq!(kinds(&m.take_violations()), [ViolationKind::Routing]);

        m.set_vsd(1, Vst::End, 0, vsd_forward(0x0006_0302_0311_0000));
        let events = m.route(1, 0x10);
        assert!(matches!(
            events[0],
            RouterEvent::Enqueued {
                end_blk: 0,
                end_idx: 0x0f,
                ..
            }
        ));
        // The IPI ESB pages of block 1 are chip 8's.
        assert_eq!(m.ipi_esb(1, 0), Some(phys_map::bars(gen, 8).ipi_esb));
        // A PIR of chip 8 belongs to block 1 only.
        m.thread_enable(1, 0x800, true);
        m.thread_enable(0, 0x800, true);
        assert_eq!(kinds(&m.take_violations()), [ViolationKind::BadArgument]);
        assert_eq!(m.enabled_threads(1), [0x800]);
        m.assert_coherent();
    }

    // --- records ---------------------------------------------------------------------------

    #[test]
    fn records_threads_resets_syncs_and_routing_changes() {
        for gen in GENS {
            let mut m = machine(gen);
            m.thread_enable(0, 5, true);
            m.thread_enable(0, 6, true);
            m.thread_enable(0, 5, false);
            assert_eq!(m.enabled_threads(0), [6]);
            assert!(m.thread_enabled(0, 6) && !m.thread_enabled(0, 5));
            m.tima_reset(0, 6);
            m.tima_reset(0, 6);
            assert_eq!(m.tima_resets(0, 6), 2);

            assert!(!m.routing_changed_since_sync(0));
            route_eas(&mut m, 0x10, 0x0f, 0x10);
            assert!(m.routing_changed_since_sync(0));
            m.sync(0);
            assert_eq!(m.sync_count(0), 1);
            assert!(!m.routing_changed_since_sync(0));
            m.end_update_escalation(0, 0x0f, 0, true).unwrap();
            assert!(m.routing_changed_since_sync(0));
            m.assert_coherent();
        }
    }

    #[test]
    #[should_panic(expected = "StaleRead")]
    fn assert_coherent_panics_on_a_violation() {
        let mut m = machine(Gen::P9);
        m.end_update(0, 1, &[1; 4], true).unwrap();
        m.read64(END_PAGE0 + 32);
        m.assert_coherent();
    }
}
