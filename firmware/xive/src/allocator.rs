// SPDX-License-Identifier: Apache-2.0
//! The allocators behind the OPAL calls: interrupt numbers per block, END sets per block and
//! VP blocks across blocks (xive.md §3). Pure bookkeeping, no hardware.

use alloc::vec;
use alloc::vec::Vec;

/// A fixed-size bitmap; a set bit means "in use".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
    len: u32,
}

impl Bitmap {
    pub fn new(len: u32) -> Self {
        Self {
            words: vec![0; len.div_ceil(64) as usize],
            len,
        }
    }
    pub fn len(&self) -> u32 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, i: u32) -> bool {
        i < self.len && self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }
    pub fn set(&mut self, i: u32, on: bool) {
        if i >= self.len {
            return;
        }
        let w = &mut self.words[(i / 64) as usize];
        if on {
            *w |= 1 << (i % 64);
        } else {
            *w &= !(1 << (i % 64));
        }
    }
    pub fn set_range(&mut self, start: u32, count: u32, on: bool) {
        for i in start..start.saturating_add(count).min(self.len) {
            self.set(i, on);
        }
    }
    /// First clear bit in `from..to`.
    pub fn first_clear(&self, from: u32, to: u32) -> Option<u32> {
        let to = to.min(self.len);
        let mut i = from;
        while i < to {
            let word = self.words[(i / 64) as usize] | ((1u64 << (i % 64)) - 1);
            if word == u64::MAX {
                i = (i / 64 + 1) * 64;
                continue;
            }
            let found = (i / 64) * 64 + (!word).trailing_zeros();
            return (found < to).then_some(found);
        }
        None
    }
    /// First set bit at or after `from`. A word at a time: POWER10's END-set map has a
    /// million bits, which a bit-by-bit walk takes milliseconds over.
    pub fn first_set(&self, from: u32) -> Option<u32> {
        let mut i = from;
        while i < self.len {
            let word = self.words[(i / 64) as usize] & !((1u64 << (i % 64)) - 1);
            if word == 0 {
                i = (i / 64 + 1) * 64;
                continue;
            }
            let found = (i / 64) * 64 + word.trailing_zeros();
            return (found < self.len).then_some(found);
        }
        None
    }
    /// How many bits of `from..to` are set.
    pub fn count_set(&self, from: u32, to: u32) -> u32 {
        let to = to.min(self.len);
        let mut n = 0;
        let mut i = from;
        while i < to {
            let word = i / 64;
            let lo = i % 64;
            let hi = (to - word * 64).min(64);
            let mask = (u64::MAX >> (64 - (hi - lo))) << lo;
            n += (self.words[word as usize] & mask).count_ones();
            i = word * 64 + hi;
        }
        n
    }
    /// Are all bits of `start..start+count` clear?
    pub fn range_clear(&self, start: u32, count: u32) -> bool {
        self.count_set(start, start.saturating_add(count)) == 0
    }
    pub fn iter_set(&self) -> impl Iterator<Item = u32> + '_ {
        core::iter::successors(self.first_set(0), |&i| self.first_set(i + 1))
    }
    pub fn clear_all(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }
}

/// Interrupt numbers of one block, skiboot's two-ended scheme: hardware units' ranges are
/// carved from the top, the boot-time per-thread IPIs from the bottom (from `first`), and
/// `OPAL_XIVE_ALLOCATE_IRQ` takes the first free number in between.
#[derive(Clone, Debug)]
pub struct IrqAllocator {
    /// Lowest index a hardware range has taken.
    hw_bottom: u32,
    /// One past the highest boot IPI.
    ipi_top: u32,
    /// Runtime allocations, indexed by source.
    dynamic: Bitmap,
    /// No free runtime number lies below this one (keeps first-fit cheap).
    lowest_free: u32,
}

impl IrqAllocator {
    pub fn new(sources: u32, first: u32) -> Self {
        Self {
            hw_bottom: sources,
            ipi_top: first,
            dynamic: Bitmap::new(sources),
            lowest_free: 0,
        }
    }

    /// `count` numbers aligned to `align` (a power of two), below every earlier range.
    pub fn alloc_hw(&mut self, count: u32, align: u32) -> Option<u32> {
        let base = self.hw_bottom.checked_sub(count)? & !(align - 1);
        if base < self.ipi_top {
            return None;
        }
        self.hw_bottom = base;
        Some(base)
    }

    /// One boot-time IPI, above every earlier one. Only before runtime allocations.
    pub fn alloc_boot_ipi(&mut self) -> Option<u32> {
        if self.ipi_top >= self.hw_bottom {
            return None;
        }
        self.ipi_top += 1;
        Some(self.ipi_top - 1)
    }

    /// First free number between the boot IPIs and the hardware ranges.
    pub fn alloc_dynamic(&mut self) -> Option<u32> {
        let from = self.ipi_top.max(self.lowest_free);
        let Some(i) = self.dynamic.first_clear(from, self.hw_bottom) else {
            self.lowest_free = self.hw_bottom;
            return None;
        };
        self.dynamic.set(i, true);
        self.lowest_free = i + 1;
        Some(i)
    }

    /// Frees a runtime allocation; false (and nothing changes) if `index` is not one.
    pub fn free_dynamic(&mut self, index: u32) -> bool {
        if !self.is_dynamic(index) {
            return false;
        }
        self.dynamic.set(index, false);
        self.lowest_free = self.lowest_free.min(index);
        true
    }

    pub fn is_dynamic(&self, index: u32) -> bool {
        self.dynamic.get(index)
    }
    pub fn dynamic_indexes(&self) -> impl Iterator<Item = u32> + '_ {
        self.dynamic.iter_set()
    }
    /// Forgets every runtime allocation (OPAL_XIVE_RESET).
    pub fn reset_dynamic(&mut self) {
        self.dynamic.clear_all();
        self.lowest_free = 0;
    }
    /// Boot IPIs are `first..ipi_top`.
    pub fn ipi_top(&self) -> u32 {
        self.ipi_top
    }
    pub fn hw_bottom(&self) -> u32 {
        self.hw_bottom
    }
}

/// Live VP allocations the firmware keeps track of at most (KVM makes one per guest).
pub const MAX_LIVE_BLOCKS: usize = 4096;

/// VP blocks: naturally aligned power-of-two ranges of the per-block VP index space (the
/// same range on every block of an allocation group), buddy-style over a bitmap, with
/// the hardware threads' VPs permanently reserved.
#[derive(Clone, Debug)]
pub struct VpAllocator {
    used: Bitmap,
    /// Live allocations: per-block base → per-block order.
    blocks: Blocks,
    reserved: (u32, u32),
    shift: u32,
}

impl VpAllocator {
    pub fn new(shift: u32, reserved_base: u32, reserved_count: u32) -> Self {
        let mut a = Self {
            used: Bitmap::new(1 << shift),
            blocks: Blocks::default(),
            reserved: (reserved_base, reserved_count),
            shift,
        };
        a.reset();
        a
    }

    /// Back to boot state: nothing allocated but the reserved range.
    pub fn reset(&mut self) {
        self.used.clear_all();
        self.used.set_range(self.reserved.0, self.reserved.1, true);
        self.blocks.0.clear();
    }

    /// 2^`order` VPs, aligned; the lowest free position.
    pub fn alloc(&mut self, order: u32) -> Option<u32> {
        // Bounded bookkeeping: the record of live blocks is heap memory, and an OS asking
        // for millions of tiny blocks must get an error, not exhaust the firmware's heap.
        if order > self.shift || self.blocks.0.len() >= MAX_LIVE_BLOCKS {
            return None;
        }
        let size = 1u32 << order;
        let mut base = 0u32;
        while u64::from(base) + u64::from(size) <= 1u64 << self.shift {
            if self.used.range_clear(base, size) {
                self.used.set_range(base, size, true);
                self.blocks.insert(base, order);
                return Some(base);
            }
            base += size;
        }
        None
    }

    /// The order of the live allocation starting at `base`.
    pub fn order_of(&self, base: u32) -> Option<u32> {
        self.blocks.get(base)
    }

    /// The live allocation containing VP `index`: (base, order).
    pub fn containing(&self, index: u32) -> Option<(u32, u32)> {
        let (base, order) = self.blocks.last_at_or_below(index)?;
        (index < base + (1 << order)).then_some((base, order))
    }

    /// Frees the allocation at `base`; false if there is none.
    pub fn free(&mut self, base: u32) -> bool {
        match self.blocks.remove(base) {
            Some(order) => {
                self.used.set_range(base, 1 << order, false);
                true
            }
            None => false,
        }
    }

    pub fn live(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.blocks.0.iter().copied()
    }
}

/// The live VP allocations as an ordered map, base → order: a vector sorted by base.
/// Not a `BTreeMap`, which does the same for at most [`MAX_LIVE_BLOCKS`] entries with
/// 6 KiB of B-tree code in the image. `Debug` prints it as the map it was (`{base: order}`).
#[derive(Clone, Default)]
struct Blocks(Vec<(u32, u32)>);

impl Blocks {
    fn find(&self, base: u32) -> Result<usize, usize> {
        self.0.binary_search_by_key(&base, |&(b, _)| b)
    }

    fn insert(&mut self, base: u32, order: u32) {
        match self.find(base) {
            Ok(i) => self.0[i].1 = order,
            Err(i) => self.0.insert(i, (base, order)),
        }
    }

    fn get(&self, base: u32) -> Option<u32> {
        self.find(base).ok().map(|i| self.0[i].1)
    }

    fn remove(&mut self, base: u32) -> Option<u32> {
        self.find(base).ok().map(|i| self.0.remove(i).1)
    }

    /// The entry with the greatest base at or below `index`.
    fn last_at_or_below(&self, index: u32) -> Option<(u32, u32)> {
        let after = self.0.partition_point(|&(b, _)| b <= index);
        after.checked_sub(1).map(|i| self.0[i])
    }
}

impl core::fmt::Debug for Blocks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(b, o)| (b, o)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_level_queries_agree_with_bit_by_bit() {
        let mut b = Bitmap::new(300);
        for i in [0, 1, 63, 64, 65, 127, 128, 200, 255, 256, 299] {
            b.set(i, true);
        }
        let slow_count =
            |b: &Bitmap, from: u32, to: u32| (from..to).filter(|&i| b.get(i)).count() as u32;
        for (from, to) in [
            (0, 300),
            (1, 64),
            (63, 65),
            (64, 128),
            (65, 127),
            (128, 129),
            (5, 5),
            (250, 400),
            (299, 300),
        ] {
            assert_eq!(
                b.count_set(from, to),
                slow_count(&b, from, to),
                "{from}..{to}"
            );
        }
        for from in [0, 1, 2, 64, 66, 129, 256, 257, 299, 300, 500] {
            assert_eq!(
                b.first_set(from),
                (from..300).find(|&i| b.get(i)),
                "from {from}"
            );
        }
        let all: Vec<u32> = b.iter_set().collect();
        assert_eq!(all, (0..300).filter(|&i| b.get(i)).collect::<Vec<_>>());
        assert!(b.range_clear(2, 61) && !b.range_clear(2, 62));
    }

    /// The sorted vector answers as the `BTreeMap` it replaced, on a random mix of
    /// inserts, removals and lookups, `Debug` included.
    #[test]
    fn blocks_behave_as_a_btree_map() {
        use alloc::collections::BTreeMap;
        use alloc::format;
        let mut ours = Blocks::default();
        let mut map = BTreeMap::new();
        let mut x = 0x2545_f491u32;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let key = x % 300;
            match x >> 30 {
                0 | 1 => {
                    ours.insert(key, x % 7);
                    map.insert(key, x % 7);
                }
                2 => assert_eq!(ours.remove(key), map.remove(&key)),
                _ => {
                    assert_eq!(ours.get(key), map.get(&key).copied());
                    assert_eq!(
                        ours.last_at_or_below(key),
                        map.range(..=key).next_back().map(|(&b, &o)| (b, o))
                    );
                }
            }
        }
        assert_eq!(format!("{ours:?}"), format!("{map:?}"));
        assert!(ours
            .0
            .iter()
            .zip(map.iter())
            .all(|(a, (b, o))| a == &(*b, *o)));
        assert_eq!(ours.0.len(), map.len());
        assert_eq!(Blocks::default().last_at_or_below(0), None);
    }

    #[test]
    fn bitmap_first_clear_spans_words() {
        let mut b = Bitmap::new(200);
        b.set_range(0, 130, true);
        assert_eq!(b.first_clear(0, 200), Some(130));
        assert_eq!(b.first_clear(0, 130), None);
        b.set(130, true);
        assert_eq!(b.first_clear(5, 200), Some(131));
        b.set_range(131, 69, true);
        assert_eq!(b.first_clear(0, 200), None);
        assert!(!b.get(500));
    }

    #[test]
    fn irq_allocator_two_ends_and_first_fit() {
        let mut a = IrqAllocator::new(0x100, 0x10);
        assert_eq!(a.alloc_hw(16, 16), Some(0xf0));
        assert_eq!(a.alloc_hw(3, 4), Some(0xec), "0xed aligned down to 4");
        assert_eq!(a.alloc_boot_ipi(), Some(0x10));
        assert_eq!(a.alloc_boot_ipi(), Some(0x11));
        assert_eq!(a.alloc_dynamic(), Some(0x12));
        assert_eq!(a.alloc_dynamic(), Some(0x13));
        assert!(a.free_dynamic(0x12));
        assert!(!a.free_dynamic(0x12), "double free");
        assert!(!a.free_dynamic(0x10), "boot IPIs are not dynamic");
        assert_eq!(a.alloc_dynamic(), Some(0x12), "first fit reuses");
        // Exhaust the middle: 0x12..0xec.
        let mut n = 2;
        while a.alloc_dynamic().is_some() {
            n += 1;
        }
        assert_eq!(n, 0xec - 0x12);
        assert!(a.free_dynamic(0x40));
        assert_eq!(a.alloc_dynamic(), Some(0x40), "usable after exhaustion");
        a.reset_dynamic();
        assert_eq!(a.alloc_dynamic(), Some(0x12));
    }

    #[test]
    fn hw_ranges_never_cross_ipis() {
        let mut a = IrqAllocator::new(0x40, 0x10);
        assert_eq!(a.alloc_hw(0x20, 0x20), Some(0x20));
        assert_eq!(a.alloc_hw(0x20, 0x20), None);
        assert_eq!(a.alloc_hw(0x10, 0x10), Some(0x10));
        assert_eq!(a.alloc_boot_ipi(), None);
        assert_eq!(a.alloc_dynamic(), None);
    }

    #[test]
    fn vp_blocks_are_aligned_and_skip_the_reserved_threads() {
        let mut v = VpAllocator::new(17, 0x80, 0x80);
        assert_eq!(v.alloc(1), Some(0));
        assert_eq!(v.alloc(6), Some(0x40));
        assert_eq!(v.alloc(7), Some(0x100), "0x80..0x100 is reserved");
        assert_eq!(v.alloc(17), None, "the reserved range splits the space");
        assert_eq!(v.alloc(16), Some(0x1_0000));
        assert_eq!(v.alloc(16), None);
        assert_eq!(v.containing(0x1_0005), Some((0x1_0000, 16)));
        assert_eq!(v.containing(0x81), None);
        assert!(!v.free(0x1_0001), "not a base");
        assert!(v.free(0x1_0000));
        assert_eq!(v.alloc(16), Some(0x1_0000), "usable after exhaustion");
        v.reset();
        assert_eq!(v.alloc(1), Some(0));
        assert_eq!(v.alloc(18), None);
    }
}
