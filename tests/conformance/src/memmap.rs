// SPDX-License-Identifier: Apache-2.0
//! Choosing the RAM the payload may hand to OPAL (donated pages, queue pages) and use
//! itself: RAM from the device tree, minus every reservation the firmware declared
//! (`/memreserve/`, `/reserved-memory`, `reserved-ranges`), minus the payload and the tree.

use crate::list::List;

/// A half-open physical range `[start, end)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    /// `[start, start + size)`, saturating at the top of the address space.
    pub fn sized(start: u64, size: u64) -> Self {
        Range {
            start,
            end: start.saturating_add(size),
        }
    }

    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Do the `len` bytes at `at` lie inside? Checked arithmetic: an `at` near the top of
    /// the address space (the fuzzer draws them) must not wrap around into the range.
    pub fn holds(&self, at: u64, len: u64) -> bool {
        at >= self.start && at.checked_add(len).is_some_and(|end| end <= self.end)
    }
}

/// The largest `align`-aligned range of `ram` at or above `floor` that overlaps nothing in
/// `taken`.
pub fn largest_free<const R: usize, const T: usize>(
    ram: &List<Range, R>,
    taken: &List<Range, T>,
    floor: u64,
    align: u64,
) -> Option<Range> {
    let align_up = |v: u64| v.checked_add(align - 1).map(|v| v & !(align - 1));
    let mut best: Option<Range> = None;
    for region in ram.iter() {
        // Candidate starts: the region's start and the end of every reservation.
        let starts = core::iter::once(region.start).chain(taken.iter().map(|t| t.end));
        for start in starts {
            let Some(start) = align_up(start.max(floor).max(region.start)) else {
                continue;
            };
            if start >= region.end || taken.iter().any(|t| t.start <= start && start < t.end) {
                continue;
            }
            let end = taken
                .iter()
                .filter(|t| t.start > start)
                .map(|t| t.start)
                .fold(region.end, u64::min)
                & !(align - 1);
            let candidate = Range { start, end };
            if end > start && best.is_none_or(|b| candidate.len() > b.len()) {
                best = Some(candidate);
            }
        }
    }
    best
}

/// How many bytes the union of `ranges` covers: firmwares list the same reservation more
/// than once (skiboot puts each in `/reserved-memory` and in `reserved-ranges`).
pub fn covered_bytes<const N: usize>(ranges: &List<Range, N>) -> u64 {
    let mut sorted = *ranges;
    sorted.as_mut_slice().sort_unstable_by_key(|r| r.start);
    let (mut total, mut reach) = (0u64, 0u64);
    for r in sorted.iter() {
        let start = r.start.max(reach);
        if r.end > start {
            total += r.end - start;
        }
        reach = reach.max(r.end);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_does_not_wrap() {
        let pool = Range::sized(0x2010_0000, 4096);
        assert!(pool.holds(0x2010_0000, 8));
        assert!(pool.holds(0x2010_0ff8, 8));
        assert!(!pool.holds(0x2010_0ffc, 8));
        assert!(!pool.holds(0x200f_fff8, 8));
        // The argument that made the payload write to 0xffff_ffff_ffff_fff8 (issue 13):
        // `at + 8` wraps to 0, which the old check took for "inside".
        assert!(!pool.holds(0xffff_ffff_ffff_fff8, 8));
        assert!(!pool.holds(u64::MAX, 1));
    }

    #[test]
    fn covered_bytes_counts_overlaps_once() {
        let r: List<Range, 8> = list(&[
            (0x3000_0000, 0x3300_0000),
            (0x1000, 0x2000),
            (0x3000_0000, 0x3100_0000),
            (0x3200_0000, 0x3400_0000),
        ]);
        assert_eq!(covered_bytes(&r), 0x1000 + 0x400_0000);
        assert_eq!(covered_bytes(&List::<Range, 1>::new()), 0);
    }

    fn list<const N: usize>(items: &[(u64, u64)]) -> List<Range, N> {
        let mut l = List::new();
        for &(s, e) in items {
            l.push(Range { start: s, end: e }).unwrap();
        }
        l
    }

    #[test]
    fn skips_reservations_and_the_floor() {
        // 2 GiB of RAM; skiboot-like reservations at 0x3000_0000..0x32c2_2000; payload at
        // 0x2000_0000..0x2010_0000; floor 0x2000_0000.
        let ram: List<Range, 4> = list(&[(0, 0x8000_0000)]);
        let taken: List<Range, 8> = list(&[
            (0x3000_0000, 0x32c2_2000),
            (0x2000_0000, 0x2010_0000),
            (0x0100_0000, 0x0110_0000),
        ]);
        let free = largest_free(&ram, &taken, 0x2000_0000, 0x1_0000).unwrap();
        assert_eq!(
            free,
            Range {
                start: 0x32c3_0000,
                end: 0x8000_0000
            }
        );
    }

    #[test]
    fn nothing_free() {
        let ram: List<Range, 4> = list(&[(0, 0x4000_0000)]);
        let taken: List<Range, 8> = list(&[(0, 0x4000_0000)]);
        assert_eq!(largest_free(&ram, &taken, 0, 0x1_0000), None);
        assert_eq!(
            largest_free(&ram, &List::<Range, 1>::new(), 0x4000_0000, 0x1_0000),
            None
        );
    }

    #[test]
    fn picks_the_largest_gap() {
        let ram: List<Range, 4> = list(&[(0, 0x1000_0000), (0x2000_0000, 0x2100_0000)]);
        let taken: List<Range, 8> = list(&[(0x400_0000, 0x500_0000)]);
        let free = largest_free(&ram, &taken, 0, 0x1_0000).unwrap();
        assert_eq!(
            free,
            Range {
                start: 0x500_0000,
                end: 0x1000_0000
            }
        );
    }
}
