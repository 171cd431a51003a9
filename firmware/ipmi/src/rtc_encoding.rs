// SPDX-License-Identifier: Apache-2.0
//! Conversion between Unix seconds (what IPMI SEL time carries) and the OPAL RTC encoding
//! used by `OPAL_RTC_READ` / `OPAL_RTC_WRITE`:
//!
//! * `y_m_d` (u32): BCD `YYYYMMDD`, e.g. 2026-11-21 is `0x2026_1121`;
//! * `h_m_s_ms` (u64): BCD hour in bits 63..56, minute in 55..48, second in 47..40; the
//!   low 40 bits (milliseconds) are written as 0 and ignored on input.
//!
//! Mirrors skiboot `core/time-utils.c` (`tm_to_datetime` / `datetime_to_tm`) and the decode
//! in Linux `drivers/rtc/rtc-opal.c`; see `opal-boot-contract.md` §7.3. All times are UTC.
//! Years 1970..=9999 are representable.

/// Which field of a date/time was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcField {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtcError {
    /// A nibble of this field is above 9.
    InvalidBcd(RtcField),
    /// Valid BCD, but not a valid value (month 13, 31 April, 29 February 2100, hour 24,
    /// a year before 1970 or after 9999, ...).
    OutOfRange(RtcField),
}

/// A UTC calendar date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

const SECS_PER_DAY: u64 = 86_400;
const FIRST_YEAR: u16 = 1970;
const LAST_YEAR: u16 = 9999;
/// 9999-12-31 23:59:59 UTC.
const LAST_SECOND: u64 = 253_402_300_799;

const fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

const fn days_in_month(year: u64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Leap years in 1..=y (proleptic Gregorian).
const fn leaps_through(y: u64) -> u64 {
    y / 4 - y / 100 + y / 400
}

/// Days from 1970-01-01 to January 1st of `year` (`year` >= 1970).
const fn days_before_year(year: u64) -> u64 {
    365 * (year - 1970) + leaps_through(year - 1) - leaps_through(1969)
}

/// Days from January 1st to the first of `month` (1..=12).
const fn days_before_month(year: u64, month: u8) -> u64 {
    let mut days = 0;
    let mut m = 1;
    while m < month {
        days += days_in_month(year, m) as u64;
        m += 1;
    }
    days
}

impl DateTime {
    /// The calendar time of `secs` after the Unix epoch.
    pub fn from_unix(secs: u64) -> Result<Self, RtcError> {
        if secs > LAST_SECOND {
            return Err(RtcError::OutOfRange(RtcField::Year));
        }
        let days = secs / SECS_PER_DAY;
        let tod = secs % SECS_PER_DAY;
        // Start from the mean Gregorian year (146097 days per 400 years), then correct by
        // the at most one or two years the leap-year pattern can put it off.
        let mut year = 1970 + days * 400 / 146_097;
        while days_before_year(year) > days {
            year -= 1;
        }
        while days_before_year(year + 1) <= days {
            year += 1;
        }
        let mut doy = days - days_before_year(year);
        let mut month = 1;
        while doy >= u64::from(days_in_month(year, month)) {
            doy -= u64::from(days_in_month(year, month));
            month += 1;
        }
        Ok(Self {
            year: year as u16,
            month,
            day: doy as u8 + 1,
            hour: (tod / 3600) as u8,
            minute: (tod / 60 % 60) as u8,
            second: (tod % 60) as u8,
        })
    }

    /// Unix seconds, after checking every field.
    pub fn to_unix(&self) -> Result<u64, RtcError> {
        self.validate()?;
        let y = u64::from(self.year);
        let days = days_before_year(y) + days_before_month(y, self.month) + u64::from(self.day - 1);
        Ok(days * SECS_PER_DAY
            + u64::from(self.hour) * 3600
            + u64::from(self.minute) * 60
            + u64::from(self.second))
    }

    fn validate(&self) -> Result<(), RtcError> {
        use RtcField::*;
        let bad = |f| Err(RtcError::OutOfRange(f));
        if !(FIRST_YEAR..=LAST_YEAR).contains(&self.year) {
            return bad(Year);
        }
        if !(1..=12).contains(&self.month) {
            return bad(Month);
        }
        if self.day < 1 || self.day > days_in_month(u64::from(self.year), self.month) {
            return bad(Day);
        }
        if self.hour > 23 {
            return bad(Hour);
        }
        if self.minute > 59 {
            return bad(Minute);
        }
        // No leap seconds: Unix time has none and Linux's rtc_valid_tm rejects 60.
        if self.second > 59 {
            return bad(Second);
        }
        Ok(())
    }

    /// The OPAL `(y_m_d, h_m_s_ms)` pair. Fields must be in range (as from
    /// [`DateTime::from_unix`]).
    pub fn to_opal(&self) -> (u32, u64) {
        let ymd = (u32::from(bcd4(self.year)) << 16)
            | (u32::from(bcd2(self.month)) << 8)
            | u32::from(bcd2(self.day));
        let hms = (u64::from(bcd2(self.hour)) << 56)
            | (u64::from(bcd2(self.minute)) << 48)
            | (u64::from(bcd2(self.second)) << 40);
        (ymd, hms)
    }

    /// Decodes and checks an OPAL `(y_m_d, h_m_s_ms)` pair; the millisecond bits are ignored.
    pub fn from_opal(ymd: u32, hms: u64) -> Result<Self, RtcError> {
        use RtcField::*;
        let year = from_bcd((ymd >> 16) & 0xFFFF, 4).ok_or(RtcError::InvalidBcd(Year))?;
        let month = from_bcd((ymd >> 8) & 0xFF, 2).ok_or(RtcError::InvalidBcd(Month))?;
        let day = from_bcd(ymd & 0xFF, 2).ok_or(RtcError::InvalidBcd(Day))?;
        let byte = |shift: u32| ((hms >> shift) & 0xFF) as u32;
        let hour = from_bcd(byte(56), 2).ok_or(RtcError::InvalidBcd(Hour))?;
        let minute = from_bcd(byte(48), 2).ok_or(RtcError::InvalidBcd(Minute))?;
        let second = from_bcd(byte(40), 2).ok_or(RtcError::InvalidBcd(Second))?;
        let dt = Self {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
        };
        dt.validate()?;
        Ok(dt)
    }
}

/// Two BCD digits; `v` < 100.
const fn bcd2(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

/// Four BCD digits; `v` < 10000.
const fn bcd4(v: u16) -> u16 {
    ((v / 1000) << 12) | ((v / 100 % 10) << 8) | ((v / 10 % 10) << 4) | (v % 10)
}

/// The value of the low `digits` BCD nibbles of `v`, or `None` if one is above 9.
fn from_bcd(v: u32, digits: u32) -> Option<u32> {
    let mut out = 0;
    for i in (0..digits).rev() {
        let nib = (v >> (4 * i)) & 0xF;
        if nib > 9 {
            return None;
        }
        out = out * 10 + nib;
    }
    Some(out)
}

/// Unix seconds to the OPAL RTC pair. Every `u32` (the range of IPMI SEL time, up to
/// 2106-02-07) is representable, so this cannot fail.
pub fn unix_to_opal_rtc(secs: u32) -> (u32, u64) {
    match DateTime::from_unix(u64::from(secs)) {
        Ok(dt) => dt.to_opal(),
        // Unreachable: u32::MAX seconds is in year 2106.
        Err(_) => (0x1970_0101, 0),
    }
}

/// Like [`unix_to_opal_rtc`] for any `u64`; fails after 9999-12-31 23:59:59.
pub fn try_unix_to_opal_rtc(secs: u64) -> Result<(u32, u64), RtcError> {
    DateTime::from_unix(secs).map(|dt| dt.to_opal())
}

/// The OPAL RTC pair to Unix seconds, rejecting invalid BCD digits and out-of-range fields
/// (including dates before 1970). The result may exceed `u32` (years after 2106): the
/// caller decides whether its clock (e.g. IPMI SEL time) can hold it.
pub fn opal_rtc_to_unix(ymd: u32, hms: u64) -> Result<u64, RtcError> {
    DateTime::from_opal(ymd, hms)?.to_unix()
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn hms(h: u8, m: u8, s: u8) -> u64 {
        ((h as u64) << 56) | ((m as u64) << 48) | ((s as u64) << 40)
    }

    #[test]
    fn epoch() {
        assert_eq!(unix_to_opal_rtc(0), (0x1970_0101, 0));
        assert_eq!(opal_rtc_to_unix(0x1970_0101, 0), Ok(0));
    }

    #[test]
    fn date_2026_11_21() {
        // `date -u -d 2026-11-21T12:34:56 +%s` = 1795264496
        let secs = 1_795_264_496;
        assert_eq!(unix_to_opal_rtc(secs), (0x2026_1121, hms(0x12, 0x34, 0x56)));
        assert_eq!(
            opal_rtc_to_unix(0x2026_1121, hms(0x12, 0x34, 0x56)),
            Ok(u64::from(secs))
        );
        // Midnight and the last second of the day.
        assert_eq!(unix_to_opal_rtc(1_795_219_200), (0x2026_1121, 0));
        assert_eq!(
            unix_to_opal_rtc(1_795_305_599),
            (0x2026_1121, hms(0x23, 0x59, 0x59))
        );
        assert_eq!(unix_to_opal_rtc(1_795_305_600), (0x2026_1122, 0));
    }

    #[test]
    fn hms_byte_positions_match_linux_rtc_opal() {
        // Linux: hour = bits 56-63, minute 48-55, second 40-47.
        let (_, h) = unix_to_opal_rtc(1_795_264_496);
        assert_eq!((h >> 56) & 0xFF, 0x12);
        assert_eq!((h >> 48) & 0xFF, 0x34);
        assert_eq!((h >> 40) & 0xFF, 0x56);
        assert_eq!(h & 0xFF_FFFF_FFFF, 0);
    }

    #[test]
    fn leap_years() {
        // 2024-02-29 00:00:00 = 1709164800; 2024-03-01 = 1709251200.
        assert_eq!(unix_to_opal_rtc(1_709_164_800), (0x2024_0229, 0));
        assert_eq!(unix_to_opal_rtc(1_709_251_200), (0x2024_0301, 0));
        assert_eq!(opal_rtc_to_unix(0x2024_0229, 0), Ok(1_709_164_800));
        // 2023 is not a leap year.
        assert_eq!(
            opal_rtc_to_unix(0x2023_0229, 0),
            Err(RtcError::OutOfRange(RtcField::Day))
        );
        // 2024-12-31 is day 366.
        assert_eq!(unix_to_opal_rtc(1_735_603_200), (0x2024_1231, 0));
        assert_eq!(unix_to_opal_rtc(1_735_689_600), (0x2025_0101, 0));
    }

    #[test]
    fn year_2000_is_a_leap_year() {
        // 2000-02-29 = 951782400; 1999-12-31 23:59:59 = 946684799.
        assert_eq!(unix_to_opal_rtc(951_782_400), (0x2000_0229, 0));
        assert_eq!(opal_rtc_to_unix(0x2000_0229, 0), Ok(951_782_400));
        assert_eq!(
            unix_to_opal_rtc(946_684_799),
            (0x1999_1231, hms(0x23, 0x59, 0x59))
        );
        assert_eq!(unix_to_opal_rtc(946_684_800), (0x2000_0101, 0));
    }

    #[test]
    fn year_2100_is_not_a_leap_year() {
        // 2100-02-28 = 4107456000; 2100-03-01 = 4107542400.
        assert_eq!(unix_to_opal_rtc(4_107_456_000), (0x2100_0228, 0));
        assert_eq!(unix_to_opal_rtc(4_107_542_400), (0x2100_0301, 0));
        assert_eq!(opal_rtc_to_unix(0x2100_0301, 0), Ok(4_107_542_400));
        assert_eq!(
            opal_rtc_to_unix(0x2100_0229, 0),
            Err(RtcError::OutOfRange(RtcField::Day))
        );
        // 2099-12-31 23:59:59 -> 2100-01-01.
        assert_eq!(
            unix_to_opal_rtc(4_102_444_799),
            (0x2099_1231, hms(0x23, 0x59, 0x59))
        );
        assert_eq!(unix_to_opal_rtc(4_102_444_800), (0x2100_0101, 0));
    }

    #[test]
    fn u32_limit_and_beyond() {
        // u32::MAX = 2106-02-07 06:28:15.
        assert_eq!(
            unix_to_opal_rtc(u32::MAX),
            (0x2106_0207, hms(0x06, 0x28, 0x15))
        );
        // Years after 2106 decode to more than u32.
        assert_eq!(opal_rtc_to_unix(0x2200_0101, 0), Ok(7_258_118_400));
        // 9999-12-31 23:59:59 = 253402300799, the last representable second.
        assert_eq!(
            try_unix_to_opal_rtc(253_402_300_799),
            Ok((0x9999_1231, hms(0x23, 0x59, 0x59)))
        );
        assert_eq!(
            opal_rtc_to_unix(0x9999_1231, hms(0x23, 0x59, 0x59)),
            Ok(253_402_300_799)
        );
        assert_eq!(
            try_unix_to_opal_rtc(253_402_300_800),
            Err(RtcError::OutOfRange(RtcField::Year))
        );
        assert_eq!(
            try_unix_to_opal_rtc(u64::MAX),
            Err(RtcError::OutOfRange(RtcField::Year))
        );
    }

    #[test]
    fn milliseconds_are_ignored() {
        assert_eq!(
            opal_rtc_to_unix(0x2026_1121, hms(0x12, 0x34, 0x56) | 0x99_9999),
            Ok(1_795_264_496)
        );
    }

    #[test]
    fn rejects_invalid_bcd() {
        use RtcField::*;
        let e = |f| Err(RtcError::InvalidBcd(f));
        assert_eq!(opal_rtc_to_unix(0x20A6_1121, 0), e(Year));
        assert_eq!(opal_rtc_to_unix(0x2026_1A21, 0), e(Month));
        assert_eq!(opal_rtc_to_unix(0x2026_112F, 0), e(Day));
        assert_eq!(opal_rtc_to_unix(0x2026_1121, hms(0x1A, 0, 0)), e(Hour));
        assert_eq!(opal_rtc_to_unix(0x2026_1121, hms(0, 0xB0, 0)), e(Minute));
        assert_eq!(opal_rtc_to_unix(0x2026_1121, hms(0, 0, 0x0F)), e(Second));
    }

    #[test]
    fn rejects_out_of_range_fields() {
        use RtcField::*;
        let e = |f| Err(RtcError::OutOfRange(f));
        assert_eq!(
            opal_rtc_to_unix(0x1969_1231, hms(0x23, 0x59, 0x59)),
            e(Year)
        );
        assert_eq!(opal_rtc_to_unix(0x0000_0101, 0), e(Year));
        assert_eq!(opal_rtc_to_unix(0x2026_0021, 0), e(Month));
        assert_eq!(opal_rtc_to_unix(0x2026_1321, 0), e(Month));
        assert_eq!(opal_rtc_to_unix(0x2026_1100, 0), e(Day));
        assert_eq!(opal_rtc_to_unix(0x2026_0431, 0), e(Day));
        assert_eq!(opal_rtc_to_unix(0x2026_1232, 0), e(Day));
        assert_eq!(opal_rtc_to_unix(0x2026_1121, hms(0x24, 0, 0)), e(Hour));
        assert_eq!(opal_rtc_to_unix(0x2026_1121, hms(0, 0x60, 0)), e(Minute));
        assert_eq!(opal_rtc_to_unix(0x2026_1121, hms(0, 0, 0x60)), e(Second));
    }

    #[test]
    fn round_trip_sweep() {
        // Every day from 1970 to 2106 at a varying time of day, plus the day boundaries.
        let mut secs: u64 = 0;
        let mut last_ymd = 0;
        while secs <= u64::from(u32::MAX) {
            let (ymd, h) = unix_to_opal_rtc(secs as u32);
            assert!(
                ymd > last_ymd,
                "dates must increase: {ymd:#x} after {last_ymd:#x}"
            );
            last_ymd = ymd;
            assert_eq!(opal_rtc_to_unix(ymd, h), Ok(secs), "{secs}");
            secs += SECS_PER_DAY + 37;
        }
        // Coarser, up to the year 9999.
        while secs <= LAST_SECOND {
            let (ymd, h) = try_unix_to_opal_rtc(secs).unwrap();
            assert!(ymd > last_ymd);
            last_ymd = ymd;
            assert_eq!(opal_rtc_to_unix(ymd, h), Ok(secs), "{secs}");
            secs += 29 * SECS_PER_DAY + 3_607;
        }
    }

    #[test]
    fn date_time_fields() {
        let dt = DateTime::from_unix(1_795_264_496).unwrap();
        assert_eq!(
            dt,
            DateTime {
                year: 2026,
                month: 11,
                day: 21,
                hour: 12,
                minute: 34,
                second: 56
            }
        );
        assert_eq!(dt.to_unix(), Ok(1_795_264_496));
    }
}
