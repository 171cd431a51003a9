// SPDX-License-Identifier: Apache-2.0
//! The Mambo callthru: the one place the simulator's special instruction exists
//! (`firmware/mambo` has the protocol, host-tested). On QEMU or hardware the word is an
//! illegal instruction, so [`Callthru::new`] is only reachable once the board probe found
//! `/mambo`, and it says so in its contract.

use core::arch::asm;
use mambo::{Buffer, SimCallthru};

/// Proof that the machine is Mambo; see the module documentation.
pub struct Callthru(());

impl Callthru {
    /// # Safety
    /// The board is Mambo (`boards::MAMBO`): the device tree has a `/mambo` node.
    pub const unsafe fn new() -> Self {
        Callthru(())
    }
}

impl SimCallthru for Callthru {
    /// Never inlined: the word stays in this one function, which xtask checks.
    #[inline(never)]
    fn call(&mut self, cmd: u64, args: [u64; 3], _buffer: Buffer<'_>) -> i64 {
        let r3: u64;
        // SAFETY: on Mambo (the constructor's contract) the word is the callthru: the
        // simulator reads r3-r6 and may read or write the buffer their addresses name,
        // which `_buffer` keeps borrowed for the duration (no `nomem`, so the compiler
        // does not cache memory across it).
        unsafe {
            asm!(
                ".long 0x000EAEB0",
                inout("r3") cmd => r3,
                in("r4") args[0],
                in("r5") args[1],
                in("r6") args[2],
                options(nostack)
            )
        };
        r3 as i64
    }
}
