// SPDX-License-Identifier: Apache-2.0
//! The in-memory structures the controller reads: EAS, END, NVT/NVP and VSD
//! (xive.md §4, §11.4). Each type wraps its raw big-endian words and exposes named fields;
//! setters change only their field, so bits the firmware does not own (hardware state,
//! reserved bits) survive a read-modify-write.
//!
//! END and NVT layouts differ between POWER9 and POWER10, so those types carry the
//! generation and every accessor picks the layout.

use crate::bits::{bit32, get32, get64, mask32, mask64, set32, set64};
use crate::hw::Gen;

/// Event Assignment Structure: routes one source to an END with a 31-bit datum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Eas(pub u64);

const EAS_VALID: u64 = 1 << 63;
const EAS_END_BLOCK: u64 = mask64(4, 7);
const EAS_END_INDEX: u64 = mask64(8, 31);
const EAS_MASKED: u64 = 1 << 31;
const EAS_END_DATA: u64 = mask64(33, 63);

impl Eas {
    /// A source that is allocated but routed nowhere: `VALID | MASKED | data`.
    pub const fn masked(data: u32) -> Self {
        Self(EAS_VALID | EAS_MASKED | (data as u64 & EAS_END_DATA))
    }

    pub fn routed(end_block: u8, end_index: u32, data: u32, masked: bool) -> Self {
        let mut w = EAS_VALID;
        w = set64(EAS_END_BLOCK, w, u64::from(end_block));
        w = set64(EAS_END_INDEX, w, u64::from(end_index));
        w = set64(EAS_END_DATA, w, u64::from(data));
        if masked {
            w |= EAS_MASKED;
        }
        Self(w)
    }

    pub const fn valid(self) -> bool {
        self.0 & EAS_VALID != 0
    }
    pub const fn is_masked(self) -> bool {
        self.0 & EAS_MASKED != 0
    }
    pub const fn end_block(self) -> u8 {
        get64(EAS_END_BLOCK, self.0) as u8
    }
    pub const fn end_index(self) -> u32 {
        get64(EAS_END_INDEX, self.0) as u32
    }
    pub const fn data(self) -> u32 {
        get64(EAS_END_DATA, self.0) as u32
    }
}

/// The largest END datum (31 bits: bit 31 of a queue entry is the generation).
pub const MAX_EAS_DATA: u32 = 0x7fff_ffff;

/// Bit positions of the END fields for one generation.
struct EndLayout {
    valid: u32,
    enqueue: u32,
    ucond_notify: u32,
    backlog: u32,
    escalate: u32,
    uncond_escalate: u32,
    silent_escalate: u32,
    firmware: u32,
    /// P10 only: escalate to an END (rather than an ESB).
    escalate_end: Option<u32>,
}

const END_P9: EndLayout = EndLayout {
    valid: bit32(0),
    enqueue: bit32(1),
    ucond_notify: bit32(2),
    backlog: bit32(3),
    escalate: bit32(5),
    uncond_escalate: bit32(6),
    silent_escalate: bit32(7),
    firmware: bit32(16),
    escalate_end: None,
};

const END_P10: EndLayout = EndLayout {
    valid: bit32(0),
    enqueue: bit32(5),
    ucond_notify: bit32(6),
    silent_escalate: bit32(7),
    backlog: bit32(8),
    uncond_escalate: bit32(10),
    escalate: bit32(11),
    firmware: bit32(16),
    escalate_end: Some(bit32(13)),
};

// Word 1 (both generations).
const END_W1_ESN: u32 = mask32(0, 1);
const END_W1_ESE: u32 = mask32(2, 3);
const END_W1_GENERATION: u32 = bit32(9);
const END_W1_PAGE_OFF: u32 = mask32(10, 31);
// P9 queue size and address.
const END_P9_W0_QSIZE: u32 = mask32(12, 15);
const END_P9_W2_ADDR_HI: u32 = mask32(4, 31);
// P10 queue size and address (low 7 address bits are not stored).
const END_P10_W2_ADDR_HI: u32 = mask32(8, 31);
const END_P10_W3_ADDR_LO: u32 = mask32(0, 24);
const END_P10_W3_QSIZE: u32 = mask32(28, 31);
// Escalation "EAS" in words 4–5.
const END_W4_ESC_BLOCK: u32 = mask32(4, 7);
const END_W4_ESC_INDEX: u32 = mask32(8, 31);
const END_W5_ESC_DATA: u32 = mask32(1, 31);
// Notification target.
const END_P9_W6_NVT_BLOCK: u32 = mask32(9, 12);
const END_P9_W6_NVT_INDEX: u32 = mask32(13, 31);
const END_P10_W6_NVT_BLOCK: u32 = mask32(4, 7);
const END_P10_W6_NVT_INDEX: u32 = mask32(8, 31);
const END_W7_PRIORITY: u32 = mask32(8, 15);

/// PQ value "off" (01) of an ESB, used for an END's ESn/ESe when it is disabled.
pub const PQ_OFF: u32 = 0b01;

/// Event Notification Descriptor: one event queue (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    pub gen: Gen,
    pub w: [u32; 8],
}

impl End {
    pub const BYTES: u64 = 32;

    pub const fn zero(gen: Gen) -> Self {
        Self { gen, w: [0; 8] }
    }

    fn layout(&self) -> &'static EndLayout {
        match self.gen {
            Gen::P9 => &END_P9,
            Gen::P10 => &END_P10,
        }
    }

    fn flag(&self, bit: u32) -> bool {
        self.w[0] & bit != 0
    }
    fn set_flag(&mut self, bit: u32, on: bool) {
        if on {
            self.w[0] |= bit;
        } else {
            self.w[0] &= !bit;
        }
    }

    pub fn valid(&self) -> bool {
        self.flag(self.layout().valid)
    }
    pub fn set_valid(&mut self, on: bool) {
        self.set_flag(self.layout().valid, on)
    }
    pub fn enqueue(&self) -> bool {
        self.flag(self.layout().enqueue)
    }
    pub fn set_enqueue(&mut self, on: bool) {
        self.set_flag(self.layout().enqueue, on)
    }
    pub fn ucond_notify(&self) -> bool {
        self.flag(self.layout().ucond_notify)
    }
    pub fn set_ucond_notify(&mut self, on: bool) {
        self.set_flag(self.layout().ucond_notify, on)
    }
    pub fn backlog(&self) -> bool {
        self.flag(self.layout().backlog)
    }
    pub fn set_backlog(&mut self, on: bool) {
        self.set_flag(self.layout().backlog, on)
    }
    pub fn escalate(&self) -> bool {
        self.flag(self.layout().escalate)
    }
    pub fn set_escalate(&mut self, on: bool) {
        self.set_flag(self.layout().escalate, on)
    }
    pub fn uncond_escalate(&self) -> bool {
        self.flag(self.layout().uncond_escalate)
    }
    pub fn set_uncond_escalate(&mut self, on: bool) {
        self.set_flag(self.layout().uncond_escalate, on)
    }
    pub fn silent_escalate(&self) -> bool {
        self.flag(self.layout().silent_escalate)
    }
    pub fn set_silent_escalate(&mut self, on: bool) {
        self.set_flag(self.layout().silent_escalate, on)
    }
    /// Software bit: the END belongs to the firmware (kept across OS resets).
    pub fn firmware(&self) -> bool {
        self.flag(self.layout().firmware)
    }
    pub fn set_firmware(&mut self, on: bool) {
        self.set_flag(self.layout().firmware, on)
    }

    /// log2 of the queue size in bytes (12, 16, 21, 24), or None without a queue.
    pub fn queue_shift(&self) -> Option<u32> {
        if !self.enqueue() {
            return None;
        }
        let q = match self.gen {
            Gen::P9 => get32(END_P9_W0_QSIZE, self.w[0]),
            Gen::P10 => get32(END_P10_W3_QSIZE, self.w[3]),
        };
        Some(q + 12)
    }

    pub fn queue_addr(&self) -> u64 {
        match self.gen {
            Gen::P9 => u64::from(get32(END_P9_W2_ADDR_HI, self.w[2])) << 32 | u64::from(self.w[3]),
            Gen::P10 => {
                u64::from(get32(END_P10_W2_ADDR_HI, self.w[2])) << 32
                    | u64::from(get32(END_P10_W3_ADDR_LO, self.w[3])) << 7
            }
        }
    }

    /// Points the END at a queue of 2^`shift` bytes at `addr` (shift 12..=27).
    pub fn set_queue(&mut self, addr: u64, shift: u32) {
        let hi = (addr >> 32) as u32;
        let qsize = shift - 12;
        match self.gen {
            Gen::P9 => {
                self.w[0] = set32(END_P9_W0_QSIZE, self.w[0], qsize);
                self.w[2] = set32(END_P9_W2_ADDR_HI, self.w[2], hi);
                self.w[3] = addr as u32;
            }
            Gen::P10 => {
                self.w[2] = set32(END_P10_W2_ADDR_HI, self.w[2], hi);
                self.w[3] = set32(END_P10_W3_ADDR_LO, self.w[3], (addr as u32) >> 7);
                self.w[3] = set32(END_P10_W3_QSIZE, self.w[3], qsize);
            }
        }
    }

    /// Forgets the queue (address and size).
    pub fn clear_queue(&mut self) {
        self.set_enqueue(false);
        self.w[2] = 0;
        self.w[3] = 0;
        if self.gen == Gen::P9 {
            self.w[0] = set32(END_P9_W0_QSIZE, self.w[0], 0);
        }
    }

    pub fn generation(&self) -> u32 {
        u32::from(self.w[1] & END_W1_GENERATION != 0)
    }
    /// Producer index into the queue, in entries.
    pub fn index(&self) -> u32 {
        get32(END_W1_PAGE_OFF, self.w[1])
    }
    pub fn set_queue_state(&mut self, generation: u32, index: u32) {
        self.w[1] = set32(END_W1_GENERATION, self.w[1], generation & 1);
        self.w[1] = set32(END_W1_PAGE_OFF, self.w[1], index);
    }
    pub fn esn(&self) -> u32 {
        get32(END_W1_ESN, self.w[1])
    }
    pub fn ese(&self) -> u32 {
        get32(END_W1_ESE, self.w[1])
    }
    pub fn set_esn(&mut self, pq: u32) {
        self.w[1] = set32(END_W1_ESN, self.w[1], pq);
    }
    pub fn set_ese(&mut self, pq: u32) {
        self.w[1] = set32(END_W1_ESE, self.w[1], pq);
    }

    /// Where the escalation event goes: (END block, END index, data).
    pub fn escalation(&self) -> (u8, u32, u32) {
        (
            get32(END_W4_ESC_BLOCK, self.w[4]) as u8,
            get32(END_W4_ESC_INDEX, self.w[4]),
            get32(END_W5_ESC_DATA, self.w[5]),
        )
    }
    /// Words 4–5 only, so that a light watch of dword 2 carries the whole change; the END
    /// must also [escalate to an END](Self::set_escalates_to_end) for them to mean that.
    pub fn set_escalation(&mut self, block: u8, index: u32, data: u32) {
        self.w[4] = set32(END_W4_ESC_BLOCK, self.w[4], u32::from(block));
        self.w[4] = set32(END_W4_ESC_INDEX, self.w[4], index);
        self.w[5] = set32(END_W5_ESC_DATA, self.w[5], data);
    }
    /// Do words 4–5 name an END? Always on P9; on P10 only with "N" set in word 0 (else
    /// they name an ESB, and an escalation goes to whatever source has that number).
    pub fn escalates_to_end(&self) -> bool {
        self.layout()
            .escalate_end
            .is_none_or(|bit| self.w[0] & bit != 0)
    }
    pub fn set_escalates_to_end(&mut self) {
        if let Some(bit) = self.layout().escalate_end {
            self.w[0] |= bit;
        }
    }
    /// Words 4–5 as the dword a light cache watch writes.
    pub fn escalation_dword(&self) -> u64 {
        u64::from(self.w[4]) << 32 | u64::from(self.w[5])
    }

    /// The notified VP: (NVT block, NVT index).
    pub fn target(&self) -> (u8, u32) {
        match self.gen {
            Gen::P9 => (
                get32(END_P9_W6_NVT_BLOCK, self.w[6]) as u8,
                get32(END_P9_W6_NVT_INDEX, self.w[6]),
            ),
            Gen::P10 => (
                get32(END_P10_W6_NVT_BLOCK, self.w[6]) as u8,
                get32(END_P10_W6_NVT_INDEX, self.w[6]),
            ),
        }
    }
    pub fn set_target(&mut self, block: u8, index: u32, priority: u8) {
        let (bm, im) = match self.gen {
            Gen::P9 => (END_P9_W6_NVT_BLOCK, END_P9_W6_NVT_INDEX),
            Gen::P10 => (END_P10_W6_NVT_BLOCK, END_P10_W6_NVT_INDEX),
        };
        self.w[6] = set32(im, set32(bm, 0, u32::from(block)), index);
        self.w[7] = set32(END_W7_PRIORITY, 0, u32::from(priority));
    }
    pub fn priority(&self) -> u8 {
        get32(END_W7_PRIORITY, self.w[7]) as u8
    }

    pub fn to_dwords(&self) -> [u64; 4] {
        core::array::from_fn(|i| u64::from(self.w[2 * i]) << 32 | u64::from(self.w[2 * i + 1]))
    }
    pub fn from_dwords(gen: Gen, d: &[u64; 4]) -> Self {
        Self {
            gen,
            w: core::array::from_fn(|i| (d[i / 2] >> if i % 2 == 0 { 32 } else { 0 }) as u32),
        }
    }
}

// NVT (P9, 16 words) / NVP (P10, 8 words).
const NVT_W0_VALID: u32 = bit32(0);
const NVT_P9_W1_END_BLOCK: u32 = mask32(0, 3);
const NVT_P9_W1_END_INDEX: u32 = mask32(4, 31);
const NVT_P9_W4_IPB: u32 = mask32(16, 23);
const NVP_P10_W2_CPPR: u32 = mask32(0, 7);
const NVP_P10_W2_IPB: u32 = mask32(8, 15);
const NVP_P10_W2_LSMFB: u32 = mask32(16, 23);
const NVP_P10_W5_END_BLOCK: u32 = mask32(4, 7);
const NVP_P10_W5_END_INDEX: u32 = mask32(8, 31);
const NVT_W6_REPORT_HI: u32 = mask32(4, 31);
const NVT_W7_REPORT_LO: u32 = mask32(0, 23);

/// A virtual processor descriptor: NVT on P9 (64 bytes), NVP on P10 (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nvt {
    pub gen: Gen,
    /// P10 uses words 0..8; words 8..16 stay zero.
    pub w: [u32; 16],
}

impl Nvt {
    pub const fn zero(gen: Gen) -> Self {
        Self { gen, w: [0; 16] }
    }

    pub const fn bytes(gen: Gen) -> u64 {
        match gen {
            Gen::P9 => 64,
            Gen::P10 => 32,
        }
    }

    pub fn valid(&self) -> bool {
        self.w[0] & NVT_W0_VALID != 0
    }
    pub fn set_valid(&mut self, on: bool) {
        self.w[0] = set32(NVT_W0_VALID, self.w[0], u32::from(on));
    }

    /// The VP's first END (priority 0): (block, index); (0, 0) if none was assigned.
    pub fn end_base(&self) -> (u8, u32) {
        match self.gen {
            Gen::P9 => (
                get32(NVT_P9_W1_END_BLOCK, self.w[1]) as u8,
                get32(NVT_P9_W1_END_INDEX, self.w[1]),
            ),
            Gen::P10 => (
                get32(NVP_P10_W5_END_BLOCK, self.w[5]) as u8,
                get32(NVP_P10_W5_END_INDEX, self.w[5]),
            ),
        }
    }
    pub fn set_end_base(&mut self, block: u8, index: u32) {
        match self.gen {
            Gen::P9 => {
                self.w[1] = set32(NVT_P9_W1_END_BLOCK, self.w[1], u32::from(block));
                self.w[1] = set32(NVT_P9_W1_END_INDEX, self.w[1], index);
            }
            Gen::P10 => {
                self.w[5] = set32(NVP_P10_W5_END_BLOCK, self.w[5], u32::from(block));
                self.w[5] = set32(NVP_P10_W5_END_INDEX, self.w[5], index);
            }
        }
    }
    /// "Allocated" VPs have an END base; skiboot uses the same test.
    pub fn has_end_base(&self) -> bool {
        match self.gen {
            Gen::P9 => self.w[1] != 0,
            Gen::P10 => get32(NVP_P10_W5_END_BLOCK | NVP_P10_W5_END_INDEX, self.w[5]) != 0,
        }
    }

    /// The reporting cache-line pair (256-byte aligned address).
    pub fn report_cl_pair(&self) -> u64 {
        u64::from(get32(NVT_W6_REPORT_HI, self.w[6])) << 32
            | u64::from(get32(NVT_W7_REPORT_LO, self.w[7])) << 8
    }
    pub fn set_report_cl_pair(&mut self, addr: u64) {
        self.w[6] = set32(NVT_W6_REPORT_HI, self.w[6], (addr >> 32) as u32);
        self.w[7] = set32(NVT_W7_REPORT_LO, self.w[7], (addr as u32) >> 8);
    }

    /// Interrupts backlogged while the VP was not dispatched.
    pub fn ipb(&self) -> u8 {
        match self.gen {
            Gen::P9 => get32(NVT_P9_W4_IPB, self.w[4]) as u8,
            Gen::P10 => get32(NVP_P10_W2_IPB, self.w[2]) as u8,
        }
    }

    /// What `OPAL_XIVE_GET_VP_STATE` reports: P9 the raw words 4–5 (IPB at bits 40–47),
    /// P10 a TIMA word-0-shaped `CPPR<<48 | IPB<<40 | LSMFB<<32`.
    pub fn state(&self) -> u64 {
        match self.gen {
            Gen::P9 => u64::from(self.w[4]) << 32 | u64::from(self.w[5]),
            Gen::P10 => {
                u64::from(get32(NVP_P10_W2_CPPR, self.w[2])) << 48
                    | u64::from(get32(NVP_P10_W2_IPB, self.w[2])) << 40
                    | u64::from(get32(NVP_P10_W2_LSMFB, self.w[2])) << 32
            }
        }
    }

    /// The dwords a cache watch writes: 8 on P9, 4 on P10.
    pub fn to_dwords(&self) -> ([u64; 8], usize) {
        let d =
            core::array::from_fn(|i| u64::from(self.w[2 * i]) << 32 | u64::from(self.w[2 * i + 1]));
        (d, self.dwords())
    }
    pub fn dwords(&self) -> usize {
        (Self::bytes(self.gen) / 8) as usize
    }
    pub fn from_dwords(gen: Gen, d: &[u64]) -> Self {
        let mut n = Self::zero(gen);
        for (i, dw) in d.iter().take((Self::bytes(gen) / 8) as usize).enumerate() {
            n.w[2 * i] = (dw >> 32) as u32;
            n.w[2 * i + 1] = *dw as u32;
        }
        n
    }
}

/// Virtual Structure Descriptor: where a table (or an indirect sub-page) lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vsd(pub u64);

const VSD_MODE: u64 = mask64(0, 1);
/// Software bit: an indirect sub-page the firmware owns (kept across OS resets).
const VSD_FIRMWARE: u64 = 1 << 61;
const VSD_INDIRECT: u64 = 1 << 7;
const VSD_TSIZE: u64 = mask64(59, 63);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VsdMode {
    Exclusive = 2,
    Forward = 3,
}

const fn vsd_addr_mask(gen: Gen) -> u64 {
    match gen {
        Gen::P9 => 0x0fff_ffff_ffff_f000,
        Gen::P10 => 0x00ff_ffff_ffff_f000,
    }
}

impl Vsd {
    /// A local table (or sub-page) of 2^`size_shift` bytes at `addr` (naturally aligned,
    /// `size_shift >= 12`).
    pub fn exclusive(gen: Gen, addr: u64, size_shift: u32, indirect: bool) -> Self {
        let mut v = set64(VSD_MODE, 0, VsdMode::Exclusive as u64) | (addr & vsd_addr_mask(gen));
        v = set64(VSD_TSIZE, v, u64::from(size_shift - 12));
        if indirect {
            v |= VSD_INDIRECT;
        }
        Self(v)
    }

    /// A remote block, reached through another instance's port.
    pub fn forward(gen: Gen, addr: u64, size_shift: u32) -> Self {
        let v = set64(VSD_MODE, 0, VsdMode::Forward as u64) | (addr & vsd_addr_mask(gen));
        Self(set64(
            VSD_TSIZE,
            v,
            u64::from(size_shift.saturating_sub(12)),
        ))
    }

    pub fn with_firmware(self, on: bool) -> Self {
        Self(if on {
            self.0 | VSD_FIRMWARE
        } else {
            self.0 & !VSD_FIRMWARE
        })
    }

    pub const fn present(self) -> bool {
        self.0 & VSD_MODE != 0
    }
    pub const fn firmware(self) -> bool {
        self.0 & VSD_FIRMWARE != 0
    }
    pub const fn addr(self, gen: Gen) -> u64 {
        self.0 & vsd_addr_mask(gen)
    }
    pub const fn size_shift(self) -> u32 {
        get64(VSD_TSIZE, self.0) as u32 + 12
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eas_goldens() {
        assert_eq!(Eas::masked(0x10).0, 0x8000_0000_8000_0010);
        assert_eq!(Eas::routed(0, 0x0f, 0x10, false).0, 0x8000_000f_0000_0010);
        let e = Eas::routed(3, 0x12345, 0x7fff_ffff, true);
        assert!(e.valid() && e.is_masked());
        assert_eq!(
            (e.end_block(), e.end_index(), e.data()),
            (3, 0x12345, 0x7fff_ffff)
        );
    }

    #[test]
    fn firmware_end_golden_p9() {
        // v, q, n, FIRMWARE, QSIZE 4 (64 KiB); generation 1, index 0.
        let mut e = End::zero(Gen::P9);
        e.set_valid(true);
        e.set_enqueue(true);
        e.set_ucond_notify(true);
        e.set_firmware(true);
        e.set_queue(0x1234_5678_0000, 16);
        e.set_queue_state(1, 0);
        e.set_target(0, 0x80, 7);
        assert_eq!(e.w[0], 0xe004_8000);
        assert_eq!(e.w[1], 0x0040_0000);
        assert_eq!((e.w[2], e.w[3]), (0x1234, 0x5678_0000));
        assert_eq!(e.w[6], 0x80);
        assert_eq!(e.w[7], 7 << 16);
        assert_eq!(e.queue_shift(), Some(16));
        assert_eq!(e.queue_addr(), 0x1234_5678_0000);
        assert_eq!(End::from_dwords(Gen::P9, &e.to_dwords()), e);
    }

    #[test]
    fn end_fields_round_trip_and_keep_other_bits_p10() {
        let mut e = End {
            gen: Gen::P10,
            w: [0x0000_00ff; 8],
        };
        e.set_queue(0x00ab_cdef_1230_0000, 21);
        assert_eq!(e.queue_addr(), 0x00ab_cdef_1230_0000);
        e.set_enqueue(true);
        assert_eq!(e.queue_shift(), Some(21));
        e.set_queue_state(0, 0x3f_ffff);
        assert_eq!((e.generation(), e.index()), (0, 0x3f_ffff));
        e.set_queue_state(1, 5);
        assert_eq!((e.generation(), e.index()), (1, 5));
        e.set_target(2, 0x1234, 6);
        assert_eq!((e.target(), e.priority()), ((2, 0x1234), 6));
        e.set_escalation(1, 0x17, 0x100_0017);
        assert_eq!(e.escalation(), (1, 0x17, 0x100_0017));
        assert!(
            !e.escalates_to_end(),
            "words 4-5 alone do not make it an END"
        );
        e.set_escalates_to_end();
        assert!(e.w[0] & bit32(13) != 0, "P10 escalates to an END");
        assert!(e.escalates_to_end() && End::zero(Gen::P9).escalates_to_end());
        // Bits no setter owns survive: the low byte of w0 and w1 was 0xff.
        assert_eq!(e.w[0] & 0xff, 0xff);
        e.set_esn(PQ_OFF);
        e.set_ese(0);
        assert_eq!((e.esn(), e.ese()), (1, 0));
    }

    #[test]
    fn nvt_fields() {
        let mut n = Nvt::zero(Gen::P9);
        n.set_valid(true);
        n.set_end_base(0, 0x10);
        n.set_report_cl_pair(0x0000_0123_4567_8900);
        assert_eq!((n.w[0], n.w[1]), (0x8000_0000, 0x10));
        assert_eq!(n.report_cl_pair(), 0x0000_0123_4567_8900);
        n.w[4] = 0x0000_4200;
        assert_eq!(n.ipb(), 0x42);
        assert_eq!(n.state() & (0xff << 40), 0x42 << 40);
        assert_eq!(Nvt::from_dwords(Gen::P9, &n.to_dwords().0), n);

        let mut p = Nvt::zero(Gen::P10);
        p.set_end_base(1, 0x18);
        assert!(p.has_end_base());
        assert_eq!(p.end_base(), (1, 0x18));
        p.w[2] = 0xff42_0000;
        assert_eq!(p.state(), 0xff << 48 | 0x42 << 40);
        assert_eq!(p.to_dwords().1, 4);
    }

    #[test]
    fn vsd_encoding() {
        let v = Vsd::exclusive(Gen::P9, 0x3100_0000, 16, true);
        assert_eq!(v.0, 0x8000_0000_3100_0084);
        assert!(v.present());
        assert_eq!((v.addr(Gen::P9), v.size_shift()), (0x3100_0000, 16));
        assert!(v.with_firmware(true).firmware());
        let f = Vsd::forward(Gen::P9, 0x0006_0702_0311_0000, 12);
        assert_eq!(f.0 >> 62, 3);
    }
}
