// SPDX-License-Identifier: Apache-2.0
//! The in-memory log, as `ibm,opal-memcons` (Linux's `/sys/firmware/opal/msglog`): the
//! last 128 KiB of everything the firmware logged, from its first line, and a small input
//! ring an outside agent (a debugger) can type into. Lock-free (see the `memcons` crate),
//! so the crash path logs even when another CPU died mid-write. A debugger reads it as
//! `MEMCONS` (its `out` ring, written up to `published`; see the README's gdb section).

use memcons::Memcons;

pub const OUT_LEN: usize = 128 * 1024;
const IN_LEN: usize = 256;

#[no_mangle]
pub static MEMCONS: Memcons<OUT_LEN, IN_LEN> = Memcons::new();

pub fn append(s: &[u8]) {
    MEMCONS.write(s);
}

/// Makes the log readable by the OS; returns the address for `ibm,opal-memcons`.
pub fn publish() -> u64 {
    MEMCONS.publish()
}

/// Bytes an outside agent typed into the input ring.
pub fn read_input(buf: &mut [u8]) -> usize {
    MEMCONS.read_input(buf)
}
