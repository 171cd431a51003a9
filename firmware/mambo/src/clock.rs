// SPDX-License-Identifier: Apache-2.0
//! The host's time of day through callthru 70, which skiboot's Mambo RTC is built on
//! (`OPAL_RTC_READ` = this plus the offset the last `OPAL_RTC_WRITE` set).

use crate::callthru::{Buffer, SimCallthru, GET_TIME};

/// Seconds since the Unix epoch on the host running the simulator. The simulator puts
/// them in the upper 32 bits of r3; the lower half is not documented, so it is dropped.
pub fn host_time_seconds(sim: &mut impl SimCallthru) -> u64 {
    (sim.call(GET_TIME, [0; 3], Buffer::None) as u64) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{Arg, ScriptedSim};

    #[test]
    fn seconds_are_the_upper_half() {
        let mut sim = ScriptedSim::new();
        // 2026-01-01T00:00:00Z is 1767225600 = 0x6955_b900; the low word is noise.
        sim.expect(GET_TIME, [Arg::Is(0); 3], 0x6955_b900_1234_5678);
        assert_eq!(host_time_seconds(&mut sim), 1_767_225_600);
    }

    #[test]
    fn a_top_bit_set_is_not_a_sign() {
        let mut sim = ScriptedSim::new();
        sim.expect(GET_TIME, [Arg::Is(0); 3], 0x8000_0001_0000_0000_u64 as i64);
        assert_eq!(host_time_seconds(&mut sim), 0x8000_0001);
    }
}
