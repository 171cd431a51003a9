// SPDX-License-Identifier: Apache-2.0
//! `OPAL_RTC_READ` (3) and `OPAL_RTC_WRITE` (4): skiboot `core/time-utils.c` encoding,
//! `doc/opal-api/opal-rtc-read-write-3-4.rst`. Date: BCD `YYYYMMDD` in a 32-bit word;
//! time: BCD hour, minute, second in the top three bytes of a 64-bit word.

use crate::args::{os_range, write_be32, write_be64, OsPtr};
use crate::Ctx;
use ipmi::rtc_encoding::{opal_rtc_to_unix, try_unix_to_opal_rtc};
use opal_api::{Be32, Be64, OpalError, OpalResult};

/// `int64_t opal_rtc_read(__be32 *year_month_day, __be64 *hour_minute_second_millisecond)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | both words written |
/// | BUSY_EVENT | the clock is being fetched; poll events and retry |
/// | PARAMETER | a pointer outside OS memory (nothing written) |
/// | HARDWARE | the clock could not be read |
pub fn read(cx: &Ctx<'_>, ymd: OsPtr<Be32>, hms: OsPtr<Be64>) -> OpalResult<()> {
    let ymd_at = os_range(cx, ymd, 4)?;
    let hms_at = os_range(cx, hms, 8)?;
    let now = cx.platform.rtc_read()?;
    let (date, time) = try_unix_to_opal_rtc(now).map_err(|_| OpalError::Hardware)?;
    write_be32(cx, ymd_at, date);
    write_be64(cx, hms_at, time);
    Ok(())
}

/// `int64_t opal_rtc_write(uint32_t year_month_day, uint64_t hour_minute_second_millisecond)`:
/// PARAMETER for an invalid BCD date or time.
pub fn write(cx: &Ctx<'_>, ymd: u32, hms: u64) -> OpalResult<()> {
    let secs = opal_rtc_to_unix(ymd, hms).map_err(|_| OpalError::Parameter)?;
    cx.platform.rtc_write(secs)
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::{OPAL_RTC_READ, OPAL_RTC_WRITE};

    /// 2026-11-21 12:34:56 UTC
    const NOW: u64 = 1_795_264_496;

    #[test]
    fn read_writes_bcd_big_endian() {
        let m = Machine::new();
        m.platform.clock.set(NOW);
        assert_eq!(m.call(OPAL_RTC_READ, &[0x1000, 0x1008]), 0);
        assert_eq!(m.mem.peek(0x1000, 4), [0x20, 0x26, 0x11, 0x21]);
        assert_eq!(m.mem.peek_be64(0x1008), 0x1234_5600_0000_0000);
    }

    #[test]
    fn read_passes_busy_event_through_and_checks_pointers_first() {
        let m = Machine::new();
        m.platform.rtc_busy_reads.set(1);
        assert_eq!(m.call(OPAL_RTC_READ, &[0x1000, 0x1008]), -12);
        assert_eq!(m.call(OPAL_RTC_READ, &[0x1000, 0]), -1);
        assert_eq!(m.mem.peek(0x1000, 4), [0xAA; 4], "nothing written on error");
        assert_eq!(m.call(OPAL_RTC_READ, &[0x8_0000, 0x1008]), -1);
    }

    #[test]
    fn write_round_trips_and_rejects_bad_bcd() {
        let m = Machine::new();
        assert_eq!(
            m.call(OPAL_RTC_WRITE, &[0x2026_1121, 0x1234_5600_0000_0000]),
            0
        );
        assert_eq!(m.platform.clock.get(), NOW);
        assert_eq!(m.call(OPAL_RTC_WRITE, &[0x2026_1321, 0]), -1, "month 13");
        assert_eq!(
            m.call(OPAL_RTC_WRITE, &[0x2026_1121, 0x2500_0000_0000_0000]),
            -1
        );
        assert_eq!(m.call(OPAL_RTC_WRITE, &[0x2026_1A21, 0]), -1, "not BCD");
        assert_eq!(m.platform.clock.get(), NOW);
    }
}
