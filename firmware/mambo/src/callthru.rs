// SPDX-License-Identifier: Apache-2.0
//! Callthru numbers (the value in r3) and the trait every Mambo service is written
//! against. The numbers are the simulator's (`images-boards-mambo.md` §3.2); the aliases
//! are skiboot's names for them (`platforms/mambo/mambo.h`), so a grep finds both.

/// Write r5 bytes at real address r4 to the simulator's console.
#[doc(alias = "SIM_WRITE_CONSOLE_CODE")]
pub const WRITE_CONSOLE: u64 = 0;
/// Stop the simulation.
#[doc(alias = "SIM_EXIT_CODE")]
pub const EXIT: u64 = 31;
/// The next console input character, or -1 when there is none (there is no "poll" call).
#[doc(alias = "SIM_READ_CONSOLE_CODE")]
pub const READ_CONSOLE: u64 = 60;
/// The host's time of day, seconds in the upper 32 bits.
#[doc(alias = "SIM_GET_TIME_CODE")]
pub const GET_TIME: u64 = 70;
/// Run the TCL command of r5 bytes at real address r4 in the simulator.
#[doc(alias = "SIM_CALL_TCL")]
pub const CALL_TCL: u64 = 86;
/// r4 = buffer, r5 = first sector, r6 = `(nsect << 16) | disk id`.
#[doc(alias = "SIM_BOGUS_DISK_READ")]
pub const BOGUS_DISK_READ: u64 = 116;
/// As [`BOGUS_DISK_READ`], from the buffer to the disk.
#[doc(alias = "SIM_BOGUS_DISK_WRITE")]
pub const BOGUS_DISK_WRITE: u64 = 117;
/// r4 = what to ask ([`crate::disk::InfoOp`]), r5 = disk id.
#[doc(alias = "SIM_BOGUS_DISK_INFO")]
pub const BOGUS_DISK_INFO: u64 = 118;

/// The memory a callthru reads or writes. Its real address is also in one of the
/// arguments (the simulator only sees registers); the borrow keeps the memory alive and
/// exclusively ours across the instruction, and lets a fake see or fill it.
pub enum Buffer<'a> {
    None,
    /// The simulator reads it (console output, TCL commands, disk writes).
    ToSim(&'a [u8]),
    /// The simulator writes it (disk reads).
    FromSim(&'a mut [u8]),
}

impl Buffer<'_> {
    /// The buffer's real address, as the simulator wants it in a register. The firmware
    /// runs with the MMU off, so a pointer's value is the real address.
    pub fn address(&self) -> u64 {
        match self {
            Buffer::None => 0,
            Buffer::ToSim(b) => b.as_ptr() as u64,
            Buffer::FromSim(b) => b.as_ptr() as u64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Buffer::None => 0,
            Buffer::ToSim(b) => b.len(),
            Buffer::FromSim(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One callthru: r3 = `cmd`, r4..r6 = `args`; returns the simulator's r3.
///
/// The real implementation (firmware arch module only, see the crate docs) puts the
/// registers in place and executes `0x000EAEB0`; it must tell the compiler that the
/// instruction may read and write memory, since `buffer`'s address is in `args`.
pub trait SimCallthru {
    fn call(&mut self, cmd: u64, args: [u64; 3], buffer: Buffer<'_>) -> i64;
}

/// Runs `command` in the simulator's TCL interpreter (skiboot sends
/// `mysim cpu C:T interrupt SystemReset` this way). Returns the simulator's r3.
pub fn call_tcl(sim: &mut impl SimCallthru, command: &str) -> i64 {
    let bytes = command.as_bytes();
    let buffer = Buffer::ToSim(bytes);
    let address = buffer.address();
    sim.call(CALL_TCL, [address, bytes.len() as u64, 0], buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Arg, ScriptedSim};

    #[test]
    fn numbers_are_the_simulators() {
        let numbers = [
            (WRITE_CONSOLE, 0),
            (EXIT, 31),
            (READ_CONSOLE, 60),
            (GET_TIME, 70),
            (CALL_TCL, 86),
            (BOGUS_DISK_READ, 116),
            (BOGUS_DISK_WRITE, 117),
            (BOGUS_DISK_INFO, 118),
        ];
        for (ours, expected) in numbers {
            assert_eq!(ours, expected);
        }
    }

    #[test]
    fn tcl_command_goes_by_address_and_length() {
        let mut sim = ScriptedSim::new();
        sim.expect(CALL_TCL, [Arg::BufferAddress, Arg::Is(35), Arg::Is(0)], 7);
        assert_eq!(call_tcl(&mut sim, "mysim cpu 0:1 interrupt SystemReset"), 7);
        assert_eq!(
            sim.sent(),
            [b"mysim cpu 0:1 interrupt SystemReset".to_vec()]
        );
    }
}
