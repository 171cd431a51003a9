// SPDX-License-Identifier: Apache-2.0
//! The simulator's console, through callthrus 0 (write) and 60 (read). Mambo has no
//! console interrupt and no "is there input?" call: the only way to know is to read a
//! character, so the console keeps one read ahead for the next read (what skiboot's
//! `platforms/mambo/console.c` does). The OPAL console poller must therefore call
//! [`CallthruConsole::has_input`] periodically (skiboot polls every 100 ms).

use crate::callthru::{Buffer, SimCallthru, READ_CONSOLE, WRITE_CONSOLE};

#[derive(Debug, Default)]
pub struct CallthruConsole {
    /// A character `has_input` read that no `read` has returned yet.
    read_ahead: Option<u8>,
}

/// What READ_CONSOLE answered: a character, or nothing. The simulator answers -1 for "no
/// input"; anything else outside a byte's range is not a character either.
fn decode(reply: i64) -> Option<u8> {
    u8::try_from(reply).ok()
}

impl CallthruConsole {
    pub const fn new() -> Self {
        CallthruConsole { read_ahead: None }
    }

    /// Writes `bytes` to the simulator's console: r4 = their address, r5 = their count.
    pub fn write(&self, sim: &mut impl SimCallthru, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let buffer = Buffer::ToSim(bytes);
        let address = buffer.address();
        sim.call(WRITE_CONSOLE, [address, bytes.len() as u64, 0], buffer);
    }

    /// Whether a character is waiting. Reads one from the simulator if none is kept,
    /// and keeps it for the next `read`.
    pub fn has_input(&mut self, sim: &mut impl SimCallthru) -> bool {
        if self.read_ahead.is_none() {
            self.read_ahead = read_one(sim);
        }
        self.read_ahead.is_some()
    }

    /// Fills `buf` with waiting input, the kept character first; returns how many bytes.
    /// Stops at the first "no input" answer, so it never waits.
    pub fn read(&mut self, sim: &mut impl SimCallthru, buf: &mut [u8]) -> usize {
        let mut count = 0;
        for slot in buf.iter_mut() {
            let Some(c) = self.read_ahead.take().or_else(|| read_one(sim)) else {
                break;
            };
            *slot = c;
            count += 1;
        }
        count
    }
}

fn read_one(sim: &mut impl SimCallthru) -> Option<u8> {
    decode(sim.call(READ_CONSOLE, [0; 3], Buffer::None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Arg, ScriptedSim};

    const NO_ARGS: [Arg; 3] = [Arg::Is(0), Arg::Is(0), Arg::Is(0)];

    #[test]
    fn write_passes_address_and_length() {
        let mut sim = ScriptedSim::new();
        sim.expect(
            WRITE_CONSOLE,
            [Arg::BufferAddress, Arg::Is(6), Arg::Is(0)],
            0,
        );
        CallthruConsole::new().write(&mut sim, b"hello\n");
        assert_eq!(sim.sent(), [b"hello\n".to_vec()]);
    }

    #[test]
    fn empty_write_makes_no_call() {
        let mut sim = ScriptedSim::new();
        CallthruConsole::new().write(&mut sim, b"");
    }

    #[test]
    fn read_stops_at_no_input() {
        let mut sim = ScriptedSim::new();
        sim.expect(READ_CONSOLE, NO_ARGS, i64::from(b'o'));
        sim.expect(READ_CONSOLE, NO_ARGS, i64::from(b'k'));
        sim.expect(READ_CONSOLE, NO_ARGS, -1);
        let mut console = CallthruConsole::new();
        let mut buf = [0u8; 8];
        assert_eq!(console.read(&mut sim, &mut buf), 2);
        assert_eq!(&buf[..2], b"ok");
    }

    #[test]
    fn has_input_keeps_the_character_it_read() {
        let mut sim = ScriptedSim::new();
        sim.expect(READ_CONSOLE, NO_ARGS, i64::from(b'x'));
        let mut console = CallthruConsole::new();
        assert!(console.has_input(&mut sim));
        // Asking again does not read a second character and lose the first.
        assert!(console.has_input(&mut sim));
        sim.expect(READ_CONSOLE, NO_ARGS, i64::from(b'y'));
        sim.expect(READ_CONSOLE, NO_ARGS, -1);
        let mut buf = [0u8; 4];
        assert_eq!(console.read(&mut sim, &mut buf), 2);
        assert_eq!(&buf[..2], b"xy");
    }

    #[test]
    fn no_input_is_not_kept() {
        let mut sim = ScriptedSim::new();
        sim.expect(READ_CONSOLE, NO_ARGS, -1);
        sim.expect(READ_CONSOLE, NO_ARGS, -1);
        let mut console = CallthruConsole::new();
        assert!(!console.has_input(&mut sim));
        assert!(
            !console.has_input(&mut sim),
            "a second poll asks the simulator again"
        );
    }

    #[test]
    fn a_full_buffer_leaves_the_rest_with_the_simulator() {
        let mut sim = ScriptedSim::new();
        sim.expect(READ_CONSOLE, NO_ARGS, i64::from(b'a'));
        let mut console = CallthruConsole::new();
        let mut buf = [0u8; 1];
        assert_eq!(console.read(&mut sim, &mut buf), 1);
        assert_eq!(
            console.read(&mut sim, &mut []),
            0,
            "an empty buffer reads nothing"
        );
    }

    #[test]
    fn byte_values_and_only_those_are_characters() {
        assert_eq!(decode(0), Some(0));
        assert_eq!(decode(0xff), Some(0xff));
        assert_eq!(decode(-1), None);
        assert_eq!(decode(0x100), None);
        assert_eq!(decode(i64::MIN), None);
    }
}
