// SPDX-License-Identifier: Apache-2.0
//! The firmware heap: boot-time allocations (the device trees, tables). OPAL calls do not
//! allocate, with one bounded exception: `OPAL_XIVE_ALLOCATE_VP_BLOCK` records each live
//! VP block (at most `xive::allocator::MAX_LIVE_BLOCKS`), taking the allocator lock
//! under the XIVE lock.

use crate::layout::{HEAP_BASE, HEAP_SIZE};
use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

pub fn init() {
    // SAFETY: HEAP_BASE..+HEAP_SIZE is reserved for the heap by the memory map (layout.rs)
    // and nothing else uses it; init runs once, on the boot thread, before any allocation.
    unsafe { HEAP.lock().init(HEAP_BASE as *mut u8, HEAP_SIZE) };
}
