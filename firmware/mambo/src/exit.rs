// SPDX-License-Identifier: Apache-2.0
//! Stopping the simulation through callthru 31: Mambo's power-off and terminate. The
//! simulator prints `Execution stopped: Sim Support exit requested stop`, which is what
//! `tests/mambo` waits for.

use crate::callthru::{Buffer, SimCallthru, EXIT};

/// The simulator came back from EXIT (a user continued it). `OPAL_CEC_POWER_DOWN` then
/// answers `OPAL_UNSUPPORTED`, as skiboot's does: the machine did not power off.
#[must_use = "the simulation kept running: the caller must report or halt"]
#[derive(Debug, PartialEq, Eq)]
pub struct SimKeptRunning;

/// Asks the simulator to stop. Returns only if it did not.
pub fn exit(sim: &mut impl SimCallthru) -> SimKeptRunning {
    sim.call(EXIT, [0; 3], Buffer::None);
    SimKeptRunning
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Arg, ScriptedSim};

    #[test]
    fn exit_is_callthru_31_without_arguments() {
        let mut sim = ScriptedSim::new();
        sim.expect(EXIT, [Arg::Is(0); 3], 0);
        assert_eq!(exit(&mut sim), SimKeptRunning);
    }
}
