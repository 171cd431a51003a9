// SPDX-License-Identifier: Apache-2.0
//! The firmware's symbol map for `/sys/firmware/opal/symbol_map`: xtask packs it into the
//! `.symmap` hole of the image (firmware/opal.ld); this unpacks it into the heap, which is
//! reserved from the OS, once at boot.

use alloc::vec::Vec;

extern "C" {
    static _symmap_start: u8;
    static _symmap_end: u8;
}

/// The unpacked text stays this small (the packed map fits in a 9 KiB hole; the text is
/// about 4 times bigger).
const MAX_TEXT: usize = 256 * 1024;

/// The map's text, leaked into the heap (address and size go into the device tree), or
/// `None` if the image carries no map (a build that bypassed xtask) or a corrupt one.
pub fn unpack() -> Option<&'static [u8]> {
    // SAFETY: the linker script defines both symbols around the hole, inside the image,
    // which nothing writes after xtask patched it.
    let hole = unsafe {
        let start = core::ptr::addr_of!(_symmap_start);
        let len = core::ptr::addr_of!(_symmap_end) as usize - start as usize;
        core::slice::from_raw_parts(start, len)
    };
    match symmap::unpack(hole, MAX_TEXT) {
        Ok(text) => Some(Vec::leak(text)),
        Err(e) => {
            log::warn!("no symbol map in the image: {e:?}");
            None
        }
    }
}
