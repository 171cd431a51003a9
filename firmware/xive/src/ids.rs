// SPDX-License-Identifier: Apache-2.0
//! The numbers OPAL shows the OS: global interrupt numbers (girqs) and VP ids
//! (xive.md §3). Both are encodings of (block, index) pairs the OS does arithmetic on, so
//! they follow skiboot bit for bit.

use crate::hw::Gen;
use opal_api::OpalError;

/// Sources per block Opalite uses: the EAS table is 2 MiB (skiboot uses 1 Mi sources and
/// an 8 MiB table per chip; 256 Ki is far more than Linux and KVM allocate, and keeps the
/// memory reserved from the OS small).
pub const SOURCE_SHIFT: u32 = 18;
pub const SOURCES: u32 = 1 << SOURCE_SHIFT;
/// The first girq index ever handed out (0–0xF stay unused; 2 is XICS's IPI number).
pub const FIRST_IRQ: u32 = 0x10;

/// log2 of the VPs per block (the VP allocator's whole order), as skiboot sizes it:
/// P9 1 Mi ENDs / 8 priorities; P10 8 Mi ENDs / 8 priorities. ENDs per block are 8 per VP.
pub const fn vp_shift(gen: Gen) -> u32 {
    match gen {
        Gen::P9 => 17,
        Gen::P10 => 20,
    }
}
/// The largest VP space of any generation (bounds VP id decoding).
pub const MAX_VP_SHIFT: u32 = 20;
/// Priorities per VP, hence ENDs per VP.
pub const PRIORITIES: u32 = 8;
/// HW-thread VPs: `0x80 | (PIR & 0x7f)`, permanently reserved in the VP allocator.
pub const HW_VP_BASE: u32 = 0x80;
pub const HW_VP_COUNT: u32 = 0x80;

/// A global interrupt number, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Girq {
    pub block: u8,
    /// Source index (or END index for an escalation girq).
    pub index: u32,
    /// An END's escalation interrupt rather than a source.
    pub escalation: bool,
}

const fn girq_block_shift(gen: Gen) -> u32 {
    match gen {
        Gen::P9 => 20,
        Gen::P10 => 24,
    }
}

impl Girq {
    pub const fn source(block: u8, index: u32) -> Self {
        Self {
            block,
            index,
            escalation: false,
        }
    }

    pub const fn escalation(block: u8, end: u32) -> Self {
        Self {
            block,
            index: end,
            escalation: true,
        }
    }

    /// P9: `E(24) | block(23..20) | index(19..0)`; P10: `E(28) | block(27..24) | index(23..0)`.
    pub fn encode(self, gen: Gen) -> u32 {
        let shift = girq_block_shift(gen);
        (u32::from(self.escalation) << (shift + 4))
            | (u32::from(self.block) & 0xf) << shift
            | (self.index & ((1 << shift) - 1))
    }

    /// `None` if bits above the escalation bit are set.
    pub fn decode(gen: Gen, raw: u32) -> Option<Self> {
        let shift = girq_block_shift(gen);
        if raw >> (shift + 5) != 0 {
            return None;
        }
        Some(Self {
            block: ((raw >> shift) & 0xf) as u8,
            index: raw & ((1 << shift) - 1),
            escalation: raw & (1 << (shift + 4)) != 0,
        })
    }
}

/// A decoded OPAL VP id: `G(31) V(30) E(29) order(28..24) index(23..0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VpId {
    /// V=0: the physical thread with this PIR.
    Thread { pir: u32 },
    /// V=1: VP `index` of block `block`, from an allocation of 2^`order` VPs.
    Allocated { block: u8, index: u32, order: u32 },
}

const VP_GROUP: u64 = 1 << 31;
const VP_VIRTUAL: u64 = 1 << 30;
const VP_ESCALATION: u64 = 1 << 29;
const VP_ORDER_SHIFT: u32 = 24;
const VP_INDEX_MASK: u64 = (1 << 24) - 1;

impl VpId {
    /// Decodes `raw` for a machine whose VP allocations span 2^`alloc_bits` blocks.
    /// Whether a `Thread` PIR exists, and whether an `Allocated` VP was allocated, is for
    /// the caller to check.
    pub fn decode(raw: u64, alloc_bits: u32, vp_shift: u32) -> Result<Self, OpalError> {
        if raw >> 32 != 0 || raw & (VP_GROUP | VP_ESCALATION) != 0 {
            return Err(OpalError::Parameter);
        }
        let index = (raw & VP_INDEX_MASK) as u32;
        if raw & VP_VIRTUAL == 0 {
            return Ok(VpId::Thread { pir: index });
        }
        let order = ((raw >> VP_ORDER_SHIFT) & 0x1f) as u32;
        if order <= alloc_bits || order - alloc_bits > vp_shift {
            return Err(OpalError::Parameter);
        }
        let per_chip = order - alloc_bits;
        let low = (1u32 << per_chip) - 1;
        let block = (index >> per_chip) & ((1 << alloc_bits) - 1);
        let idx = ((index >> alloc_bits) & !low) | (index & low);
        if idx >= 1 << vp_shift {
            return Err(OpalError::Parameter);
        }
        Ok(VpId::Allocated {
            block: block as u8,
            index: idx,
            order,
        })
    }

    /// The OPAL id of VP `index` of `block` in an allocation of 2^`order` VPs.
    pub fn encode_allocated(block: u8, index: u32, order: u32, alloc_bits: u32) -> u64 {
        let per_chip = order - alloc_bits;
        let low = (1u32 << per_chip) - 1;
        let raw_index =
            ((index & !low) << alloc_bits) | (u32::from(block) << per_chip) | (index & low);
        VP_VIRTUAL | u64::from(order) << VP_ORDER_SHIFT | (u64::from(raw_index) & VP_INDEX_MASK)
    }

    pub const fn encode_thread(pir: u32) -> u64 {
        pir as u64 & VP_INDEX_MASK
    }
}

/// The NVT index of a hardware thread's VP.
pub const fn hw_vp_index(pir: u32) -> u32 {
    HW_VP_BASE | (pir & 0x7f)
}

/// The CAM line the presenter matches for NVT `index` of `block`.
pub const fn cam_line(gen: Gen, block: u8, index: u32) -> u64 {
    match gen {
        Gen::P9 => (block as u64) << 19 | index as u64,
        Gen::P10 => (block as u64) << 24 | index as u64,
    }
}

/// floor(log2(number of XIVE blocks)): VP allocations span 2^n blocks.
pub fn alloc_bits(blocks: usize) -> u32 {
    usize::BITS - 1 - blocks.max(1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn girq_layouts() {
        assert_eq!(Girq::source(0, 0x10).encode(Gen::P9), 0x10);
        assert_eq!(Girq::source(1, 0xffff0).encode(Gen::P9), 0x1f_fff0);
        assert_eq!(Girq::escalation(0, 0x0f).encode(Gen::P9), 0x100_000f);
        assert_eq!(Girq::escalation(2, 0x17).encode(Gen::P10), 0x1200_0017);
        for gen in [Gen::P9, Gen::P10] {
            for g in [Girq::source(3, 0x1234), Girq::escalation(15, 0xff)] {
                assert_eq!(Girq::decode(gen, g.encode(gen)), Some(g));
            }
        }
        assert_eq!(Girq::decode(Gen::P9, 0x200_0000), None);
        assert_eq!(Girq::decode(Gen::P9, 0xffff_ffff), None);
    }

    #[test]
    fn vp_ids_round_trip_for_every_chip_count_and_order() {
        for chips in 1..=16usize {
            let n = alloc_bits(chips);
            for order in n + 1..=n + 17 {
                let per_chip = order - n;
                let base = if per_chip == 17 { 0 } else { 1 << per_chip };
                for blk in 0..(1u8 << n) {
                    for off in [0, (1 << per_chip) - 1] {
                        let raw = VpId::encode_allocated(blk, base + off, order, n);
                        assert_eq!(
                            VpId::decode(raw, n, 17),
                            Ok(VpId::Allocated {
                                block: blk,
                                index: base + off,
                                order
                            }),
                            "chips {chips} order {order} blk {blk}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn vp_id_examples_and_rejects() {
        // 1 chip, ALLOCATE_VP_BLOCK(0) → order 1; a base at index 0 is 0x4100_0000.
        assert_eq!(VpId::encode_allocated(0, 0, 1, 0), 0x4100_0000);
        assert_eq!(VpId::encode_allocated(0, 0x800, 11, 0), 0x4b00_0800);
        assert_eq!(VpId::decode(0x5, 0, 17), Ok(VpId::Thread { pir: 5 }));
        for bad in [
            1u64 << 31,
            1 << 29 | 1 << 30,
            1 << 32,
            0x4000_0000,
            u64::MAX,
        ] {
            assert_eq!(
                VpId::decode(bad, 0, 17),
                Err(OpalError::Parameter),
                "{bad:#x}"
            );
        }
        // order must exceed the block bits.
        assert_eq!(VpId::decode(0x4100_0000, 1, 17), Err(OpalError::Parameter));
        // an order too large for a block's VP space.
        assert_eq!(VpId::decode(0x5f00_0000, 0, 17), Err(OpalError::Parameter));
    }

    #[test]
    fn block_bits() {
        assert_eq!(
            [1, 2, 3, 4, 7, 8, 16].map(alloc_bits),
            [0, 1, 1, 2, 2, 3, 4]
        );
        assert_eq!(hw_vp_index(0x104), 0x84);
        assert_eq!(cam_line(Gen::P9, 1, 0x84), 0x80084);
    }
}
