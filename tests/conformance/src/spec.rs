// SPDX-License-Identifier: Apache-2.0
//! What the XIVE specification says, as numbers and encodings the cases check firmware
//! answers against. Every item names its section of `/work/shared/reference/xive.md`
//! (copied into the project as the XIVE reference); nothing here is taken from what a
//! firmware happens to return.

/// Processor generation, from the PVR (opal-boot-contract.md §1.2: P9 `0x004E_xxxx`,
/// P10 `0x0080_xxxx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    P9,
    P10,
}

/// `PVR_VER` of POWER9 and POWER10.
const PVR_VER_P9: u32 = 0x004e;
const PVR_VER_P10: u32 = 0x0080;

impl Generation {
    pub fn from_pvr(pvr: u32) -> Option<Self> {
        match pvr >> 16 {
            PVR_VER_P9 => Some(Generation::P9),
            PVR_VER_P10 => Some(Generation::P10),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Generation::P9 => "POWER9",
            Generation::P10 => "POWER10",
        }
    }

    /// The escalation bit of a girq; every normal girq is below it (§3.1).
    pub fn girq_escalation_bit(self) -> u64 {
        match self {
            Generation::P9 => 1 << 24,
            Generation::P10 => 1 << 28,
        }
    }

    /// Bits of the per-block index in a girq (§3.1); the block number sits above them.
    pub fn girq_index_bits(self) -> u32 {
        match self {
            Generation::P9 => 20,
            Generation::P10 => 24,
        }
    }

    /// NVT (P9, 64 bytes) or NVP (P10, 32 bytes) entries in one 64 KiB indirect sub-page
    /// (§5.3, §11.3).
    pub fn vps_per_page(self) -> u64 {
        match self {
            Generation::P9 => 1024,
            Generation::P10 => 2048,
        }
    }

    /// ENDs (32 bytes each) in one 64 KiB indirect sub-page (§5.3, §11.3).
    pub fn ends_per_page(self) -> u64 {
        2048
    }

    /// ENDs each VP owns, one per priority (§3.3: a naturally aligned set; on P10 the set
    /// has one END per configured priority, §11.3).
    pub fn ends_per_vp(self, priorities: u32) -> u64 {
        match self {
            Generation::P9 => 8,
            Generation::P10 => u64::from(priorities.next_power_of_two()),
        }
    }

    /// log2 of the VP space of one block. P9: 128 Ki VPs = 1 Mi ENDs / 8 (§5.3). P10:
    /// 8 Mi ENDs (§11.1, END BAR sizing) / ENDs per VP, i.e. 1 Mi with 8 priorities (§11.3).
    pub fn vp_space_order(self, priorities: u32) -> u32 {
        match self {
            Generation::P9 => 17,
            Generation::P10 => 23 - self.ends_per_vp(priorities).trailing_zeros(),
        }
    }

    /// The CAM line `GET_VP_INFO` reports for NVT `idx` of `blk`: `blk << 19 | idx` on P9
    /// (§13.3), `blk << 24 | idx` on P10 plus the HO bit when VP save-restore is on (§11.5).
    pub fn cam(self, blk: u32, idx: u32, save_restore: bool) -> u64 {
        match self {
            Generation::P9 => u64::from(blk) << 19 | u64::from(idx),
            Generation::P10 => {
                let ho = if save_restore { CAM_P10_HO } else { 0 };
                u64::from(blk) << 24 | u64::from(idx) | ho
            }
        }
    }
}

/// TIMA word-2 HO bit that P10 adds to the CAM with save-restore (§11.5).
pub const CAM_P10_HO: u64 = 0x4000_0000;

/// HW-thread VPs `0x80..0x100` of every block, reserved in the VP allocator (§3.2, §5.3;
/// P10 keeps 7-bit thread ids, §11.3).
pub const HW_VP_BASE: u32 = 0x80;
pub const HW_VP_END: u32 = 0x100;

/// No girq index below this is ever handed out (§3.1).
pub const FIRST_IRQ_INDEX: u64 = 0x10;

/// How an ALLOCATE_IRQ r3 fails to be a girq.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GirqError {
    /// A negative `int64_t`: an OPAL error code (or garbage with the sign bit set).
    Negative(i64),
    /// Positive but not a girq: at or above the escalation bit (a zero-extended 32-bit
    /// `0xffffffff` lands here, §13.1), or an index below 0x10 (§3.1).
    NotAGirq(u64),
}

/// Reads ALLOCATE_IRQ's full 64-bit r3: a girq, or why it is not one (§3.1, §13.1).
pub fn girq_from_r3(gen: Generation, r3: u64) -> Result<u64, GirqError> {
    if (r3 as i64) < 0 {
        return Err(GirqError::Negative(r3 as i64));
    }
    let index = r3 & ((1 << gen.girq_index_bits()) - 1);
    if r3 >= gen.girq_escalation_bit() || index < FIRST_IRQ_INDEX {
        return Err(GirqError::NotAGirq(r3));
    }
    Ok(r3)
}

/// Queue sizes (log2 bytes) OPAL accepts with ENABLED (§6.4, §13.3 SET_QUEUE_INFO).
pub const QUEUE_SIZES: [u64; 4] = [12, 16, 21, 24];

/// Entries (4 bytes each) of a queue of `2^qsize` bytes (§6.4).
pub const fn queue_entries(qsize: u64) -> u64 {
    1 << (qsize - 2)
}

/// State of a queue right after SET_QUEUE_INFO enabled it: generation 1, index 0 (§6.4).
pub const QUEUE_STATE_AFTER_ENABLE: (u32, u32) = (1, 0);

/// Queue flags (§13.2).
pub mod queue_flags {
    pub const ENABLED: u64 = 0x1;
    pub const ALWAYS_NOTIFY: u64 = 0x2;
    pub const ESCALATE: u64 = 0x4;
}

/// VP flags (§13.2).
pub mod vp_flags {
    pub const ENABLED: u64 = 0x1;
    pub const SINGLE_ESCALATION: u64 = 0x2;
    pub const SAVE_RESTORE: u64 = 0x4;
}

/// `OPAL_XIVE_RESET` modes (§13.2).
pub mod reset_mode {
    pub const EMU: u64 = 0;
    pub const EXPL: u64 = 1;
}

/// The ENDs of one VP sit 128 KiB apart in the END ESB region: `GET_QUEUE_INFO`'s EOI
/// page of END `i` is `end_esb_base + i * 128 KiB` (§6.5).
pub const END_ESB_STRIDE: u64 = 0x2_0000;

/// Provisioning pages are 64 KiB (§12.4 `ibm,xive-provision-page-size`, §13.3 DONATE_PAGE).
pub const PROVISION_PAGE: u64 = 0x1_0000;

/// Fields of an OPAL VP id: `G(31) V(30) E(29) order(28..24) index(23..0)` (§3.2).
const VP_G: u64 = 1 << 31;
const VP_V: u64 = 1 << 30;
const VP_E: u64 = 1 << 29;
const VP_ORDER_SHIFT: u32 = 24;
const VP_INDEX_MASK: u64 = 0xff_ffff;

/// Why a VP id is not an allocated-block id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VpIdError {
    /// Wider than 32 bits.
    TooWide,
    /// G, E set, or V clear.
    NotAllocated,
    /// V=1 needs `order > n`.
    OrderTooSmall,
}

/// The block-group layout of allocated VP ids: `n = log2(#blocks used for allocation)`
/// (§3.2), taken from the length of `ibm,xive-provision-chips` (§12.4: the chip ids of the
/// `2^n` blocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VpLayout {
    pub alloc_bits: u32,
}

/// An allocated VP id taken apart (§3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodedVp {
    pub block: u32,
    /// The NVT index inside the block.
    pub index: u32,
    pub order: u32,
}

impl VpLayout {
    /// `chips` = entries of `ibm,xive-provision-chips`, a power of two.
    pub fn from_provision_chips(chips: usize) -> Option<Self> {
        (chips.is_power_of_two() && chips <= 16).then(|| VpLayout {
            alloc_bits: chips.trailing_zeros(),
        })
    }

    /// ALLOCATE_VP_BLOCK raises the order to `n + 1` (§3.2, §13.3).
    pub fn effective_order(self, requested: u32) -> u32 {
        requested.max(self.alloc_bits + 1)
    }

    /// The order each block allocates locally for a block of `order`.
    pub fn local_order(self, order: u32) -> u32 {
        self.effective_order(order) - self.alloc_bits
    }

    pub fn decode(self, vp: u64) -> Result<DecodedVp, VpIdError> {
        if vp >> 32 != 0 {
            return Err(VpIdError::TooWide);
        }
        if vp & (VP_G | VP_E) != 0 || vp & VP_V == 0 {
            return Err(VpIdError::NotAllocated);
        }
        let order = ((vp >> VP_ORDER_SHIFT) & 0x1f) as u32;
        let n = self.alloc_bits;
        if order <= n {
            return Err(VpIdError::OrderTooSmall);
        }
        let index = vp & VP_INDEX_MASK;
        let local = order - n;
        let m = (1u64 << local) - 1;
        let block = (index >> local) & ((1 << n) - 1);
        let idx = ((index >> n) & !m) | (index & m);
        Ok(DecodedVp {
            block: block as u32,
            index: idx as u32,
            order,
        })
    }

    /// The inverse of [`decode`](Self::decode).
    pub fn encode(self, vp: DecodedVp) -> u64 {
        let n = self.alloc_bits;
        let local = vp.order - n;
        let m = (1u64 << local) - 1;
        let idx = u64::from(vp.index);
        let index = ((idx & !m) << n) | (u64::from(vp.block) << local) | (idx & m);
        VP_V | u64::from(vp.order) << VP_ORDER_SHIFT | (index & VP_INDEX_MASK)
    }

    /// Checks a base returned by ALLOCATE_VP_BLOCK(`requested`): an allocated-block id of
    /// the effective order, block 0, index aligned to `2^order` (§3.2).
    pub fn check_block_base(self, base: u64, requested: u32) -> Result<DecodedVp, BaseError> {
        let d = self.decode(base).map_err(BaseError::Id)?;
        let order = self.effective_order(requested);
        if d.order != order {
            return Err(BaseError::Order {
                got: d.order,
                want: order,
            });
        }
        if d.block != 0 {
            return Err(BaseError::Block(d.block));
        }
        if base & VP_INDEX_MASK & ((1 << order) - 1) != 0 {
            return Err(BaseError::Misaligned);
        }
        Ok(d)
    }
}

/// Why a VP block base is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseError {
    Id(VpIdError),
    Order { got: u32, want: u32 },
    Block(u32),
    Misaligned,
}

/// Pages one block must find to back a VP block of local order `local` (§13.3
/// ALLOCATE_VP_BLOCK): NVT sub-pages covering `[base, base + 2^local]` (inclusive end, so
/// one extra) plus END sub-pages for `2^local` END sets. An upper bound: pages already
/// installed are not counted off.
pub fn provision_pages_bound(gen: Generation, priorities: u32, local: u32) -> u64 {
    let vps = 1u64 << local;
    let nvt_pages = vps / gen.vps_per_page() + 2;
    let end_pages = (vps * gen.ends_per_vp(priorities)).div_ceil(gen.ends_per_page()) + 1;
    nvt_pages + end_pages
}

/// SRR1 after a system reset (0x100) interrupt (hmi-mce-sreset.md §0.4; Power ISA 3.0
/// "System Reset Interrupt"): [42:45] the wake reason, [46:47] whether it was a
/// power-saving wakeup and what state was lost.
pub mod srr1 {
    /// SRR1[42:45].
    pub const fn wake_reason(srr1: u64) -> u64 {
        (srr1 >> 18) & 0xf
    }

    /// SRR1[46:47]: 0 not a power-saving wakeup, 1 no state lost, 2 GPRs lost,
    /// 3 hypervisor resources lost.
    pub const fn wake_state(srr1: u64) -> u64 {
        (srr1 >> 16) & 3
    }

    /// Reasons: an external (direct-control) reset of a thread that was not in a
    /// power-saving state (QEMU `SRR1_WAKESCOM`), a hypervisor doorbell, and a system
    /// reset that woke a thread from `stop` (Linux `SRR1_WAKERESET`).
    pub const REASON_SCOM: u64 = 0b0010;
    pub const REASON_HDOORBELL: u64 = 0b0011;
    pub const REASON_RESET: u64 = 0b0100;
    pub const REASON_DECREMENTER: u64 = 0b0110;

    /// A short name for a reason, for messages.
    pub const fn reason_name(reason: u64) -> &'static str {
        match reason {
            0b0010 => "external reset (not power-saving)",
            0b0011 => "hypervisor doorbell",
            0b0100 => "system reset",
            0b0101 => "privileged doorbell",
            0b0110 => "decrementer",
            0b1000 => "external interrupt",
            0b1001 => "hypervisor virtualization",
            0b1010 => "HMI",
            _ => "other",
        }
    }
}

/// `OPAL_SIGNAL_SYSTEM_RESET(int32 cpu)` targets besides a server number
/// (`doc/opal-api/opal-signal-system-reset-145.rst`).
pub mod sreset {
    pub const ALL: i32 = -1;
    pub const ALL_OTHERS: i32 = -2;
}

/// `OPAL_QUIESCE(u32 type, int32 cpu)` types (`doc/opal-api/opal-quiesce-158.rst`); a cpu
/// of −1 is every thread but the caller.
pub mod quiesce {
    pub const HOLD: u64 = 1;
    pub const REJECT: u64 = 2;
    pub const LOCK_BREAK: u64 = 3;
    pub const RESUME: u64 = 4;
    pub const RESUME_FAST_REBOOT: u64 = 5;
    pub const ALL: i32 = -1;
}

/// An `int32_t` argument as an OS passes it in a 64-bit register: sign-extended.
pub const fn int32_arg(v: i32) -> u64 {
    v as i64 as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srr1_fields() {
        // QEMU's sreset of a thread in stop with PSSCR[EC] = 1: WAKERESET | WS_NOLOSS,
        // plus the MSR bits (SF, HV, ME).
        let stop = 0x9000_0000_0000_1000 | 0x0010_0000 | 0x0001_0000;
        assert_eq!(srr1::wake_reason(stop), srr1::REASON_RESET);
        assert_eq!(srr1::wake_state(stop), 1);
        // A running thread: SRR1_WAKESCOM, no power-saving state.
        let running = 0x9000_0000_0000_1000 | 0x0008_0000;
        assert_eq!(srr1::wake_reason(running), srr1::REASON_SCOM);
        assert_eq!(srr1::wake_state(running), 0);
        assert_eq!(srr1::wake_reason(0x000c_0000), srr1::REASON_HDOORBELL);
        assert_eq!(srr1::reason_name(srr1::REASON_RESET), "system reset");
        assert_eq!(int32_arg(sreset::ALL_OTHERS), 0xffff_ffff_ffff_fffe);
        assert_eq!(int32_arg(i32::MIN), 0xffff_ffff_8000_0000);
        assert_eq!(int32_arg(0x7ff), 0x7ff);
    }

    #[test]
    fn generation_from_pvr() {
        assert_eq!(Generation::from_pvr(0x004e_1202), Some(Generation::P9));
        assert_eq!(Generation::from_pvr(0x0080_1200), Some(Generation::P10));
        assert_eq!(Generation::from_pvr(0x004d_0200), None);
    }

    #[test]
    fn vp_space() {
        assert_eq!(Generation::P9.vp_space_order(8), 17);
        assert_eq!(Generation::P10.vp_space_order(8), 20);
        assert_eq!(Generation::P10.vp_space_order(4), 21);
    }

    #[test]
    fn one_chip_examples_from_the_spec() {
        // §3.2: ALLOCATE_VP_BLOCK(0) on one chip is bumped to order 1, e.g. 0x41000000.
        let l = VpLayout::from_provision_chips(1).unwrap();
        assert_eq!(l.effective_order(0), 1);
        let d = l.check_block_base(0x4100_0000, 0).unwrap();
        assert_eq!((d.block, d.index, d.order), (0, 0, 1));
        // A KVM block of order 11 is 0x4B000000 | base.
        let d = l.check_block_base(0x4B00_0800, 11).unwrap();
        assert_eq!((d.block, d.index, d.order), (0, 0x800, 11));
        assert_eq!(
            l.check_block_base(0x4B00_0400, 11),
            Err(BaseError::Misaligned)
        );
        assert_eq!(
            l.check_block_base(0x4100_0000, 3),
            Err(BaseError::Order { got: 1, want: 3 })
        );
        assert_eq!(l.decode(0x10), Err(VpIdError::NotAllocated));
        assert_eq!(l.decode(0xC100_0000), Err(VpIdError::NotAllocated));
        assert_eq!(l.decode(0x4000_0000), Err(VpIdError::OrderTooSmall));
    }

    #[test]
    fn block_group_mode_round_trips() {
        for chips in [1usize, 2, 4, 8, 16] {
            let l = VpLayout::from_provision_chips(chips).unwrap();
            let n = l.alloc_bits;
            for order in n + 1..=17 {
                let local = order - n;
                for block in 0..chips as u32 {
                    for index in [0u32, 1, (1 << local) - 1, 5 << local, (3 << local) | 1] {
                        if u64::from(index) >= 1 << (24 - n) {
                            continue;
                        }
                        let vp = DecodedVp {
                            block,
                            index,
                            order,
                        };
                        assert_eq!(l.decode(l.encode(vp)), Ok(vp), "{chips} {order} {vp:?}");
                    }
                }
            }
        }
        // Two chips: consecutive ids walk a chip's sub-block first, then the next chip.
        let l = VpLayout::from_provision_chips(2).unwrap();
        let base = l.encode(DecodedVp {
            block: 0,
            index: 8,
            order: 4,
        });
        let d = |i: u64| l.decode(base + i).unwrap();
        assert_eq!((d(0).block, d(0).index), (0, 8));
        assert_eq!((d(7).block, d(7).index), (0, 15));
        assert_eq!((d(8).block, d(8).index), (1, 8));
        assert_eq!(VpLayout::from_provision_chips(3), None);
    }

    #[test]
    fn cam_lines() {
        assert_eq!(Generation::P9.cam(1, 0x80, true), 0x80080);
        assert_eq!(Generation::P10.cam(1, 0x80, false), 0x100_0080);
        assert_eq!(Generation::P10.cam(0, 0x800, true), 0x4000_0800);
    }

    #[test]
    fn allocate_irq_results() {
        for gen in [Generation::P9, Generation::P10] {
            assert_eq!(girq_from_r3(gen, 0x14), Ok(0x14));
            assert_eq!(girq_from_r3(gen, 0xfafff), Ok(0xfafff));
            // OPAL_RESOURCE as a proper int64_t.
            assert_eq!(
                girq_from_r3(gen, -10i64 as u64),
                Err(GirqError::Negative(-10))
            );
            // The classic bug: a 32-bit error marker zero-extended into r3.
            assert_eq!(
                girq_from_r3(gen, 0xffff_ffff),
                Err(GirqError::NotAGirq(0xffff_ffff))
            );
            assert_eq!(
                girq_from_r3(gen, 0xffff_fff6),
                Err(GirqError::NotAGirq(0xffff_fff6))
            );
            // Index 0..0xf is never handed out.
            assert_eq!(girq_from_r3(gen, 0x2), Err(GirqError::NotAGirq(0x2)));
        }
        // Block 1, index 0x10: a girq on both; the escalation bit differs.
        assert_eq!(girq_from_r3(Generation::P9, 0x10_0010), Ok(0x10_0010));
        assert_eq!(
            girq_from_r3(Generation::P9, 1 << 24 | 0x10),
            Err(GirqError::NotAGirq(1 << 24 | 0x10))
        );
        assert_eq!(
            girq_from_r3(Generation::P10, 1 << 24 | 0x10),
            Ok(1 << 24 | 0x10)
        );
    }

    #[test]
    fn provisioning_bound() {
        // P9, 64 Ki VPs: 64 NVT pages (+2) and 256 END pages (+1).
        assert_eq!(provision_pages_bound(Generation::P9, 8, 16), 66 + 257);
        assert_eq!(queue_entries(12), 1024);
        assert_eq!(queue_entries(16), 16384);
    }
}
