// SPDX-License-Identifier: Apache-2.0
//! The real-time clock: `OPAL_RTC_READ` (3), `OPAL_RTC_WRITE` (4) (skiboot
//! `doc/opal-api/opal-rtc-read-write-3-4.rst`): a BCD date `YYYYMMDD` in a `__be32` and
//! BCD `HHMMSS` in the top three bytes of a `__be64`; BUSY_EVENT means poll and retry.

use opal_api::token::*;
use opal_api::OpalError;

use super::common::{bad_pointers, call, retry_busy};
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "rtc",
    tokens: &[OPAL_RTC_READ, OPAL_RTC_WRITE],
    before_each: None,
    cases: &[
        Case {
            name: "rtc.read",
            run: read,
        },
        Case {
            name: "rtc.read.bad_pointers",
            run: read_bad_pointers,
        },
        Case {
            name: "rtc.write",
            run: write,
        },
        Case {
            name: "rtc.write.bad_bcd",
            run: write_bad_bcd,
        },
    ],
};

/// Whether every nibble of `v` is a decimal digit and it lies in `lo..=hi` as a number.
fn bcd_in(v: u64, lo: u64, hi: u64) -> bool {
    let mut n = 0;
    for shift in (0..16).rev() {
        let d = v >> (shift * 4) & 0xf;
        if d > 9 {
            return false;
        }
        n = n * 10 + d;
    }
    (lo..=hi).contains(&n)
}

fn read_clock(cx: &Ctx) -> CaseResult<(u32, u64)> {
    let mut ymd = Out::<4>::new();
    let mut hms = Out::<8>::new();
    let r = retry_busy(cx, || call(cx, OPAL_RTC_READ, &[ymd.addr(), hms.addr()]))?;
    expect(format_args!("RTC_READ"), r, Ret::SUCCESS)?;
    Ok((
        ymd.get("year_month_day")? as u32,
        hms.get("hour_minute_second")?,
    ))
}

/// READ: SUCCESS, both words written, a valid BCD date and time.
fn read(cx: &mut Ctx) -> CaseResult {
    let (ymd, hms) = read_clock(cx)?;
    let y = u64::from(ymd);
    let ok = bcd_in(y >> 16, 1970, 2999)
        && bcd_in(y >> 8 & 0xff, 1, 12)
        && bcd_in(y & 0xff, 1, 31)
        && bcd_in(hms >> 56, 0, 23)
        && bcd_in(hms >> 48 & 0xff, 0, 59)
        && bcd_in(hms >> 40 & 0xff, 0, 59);
    if !ok {
        fail!("RTC_READ: {ymd:08x} {hms:016x} is not a BCD date and time");
    }
    cx.info(format_args!("{ymd:08x} {:06x}", hms >> 40));
    Ok(())
}

/// A bad pointer in either slot is PARAMETER and the other word is not written.
fn read_bad_pointers(cx: &mut Ctx) -> CaseResult {
    for (what, bad) in bad_pointers(cx) {
        let mut ymd = Out::<4>::new();
        let mut hms = Out::<8>::new();
        let r = retry_busy(cx, || call(cx, OPAL_RTC_READ, &[bad, hms.addr()]))?;
        expect(
            format_args!("RTC_READ(ymd = {what})"),
            r,
            Ret::err(OpalError::Parameter),
        )?;
        let r = retry_busy(cx, || call(cx, OPAL_RTC_READ, &[ymd.addr(), bad]))?;
        expect(
            format_args!("RTC_READ(hms = {what})"),
            r,
            Ret::err(OpalError::Parameter),
        )?;
        if !ymd.untouched() || !hms.untouched() {
            fail!("a refused RTC_READ ({what}) wrote the other word");
        }
    }
    Ok(())
}

/// WRITE of the time just read: SUCCESS (after BUSY_EVENT retries).
fn write(cx: &mut Ctx) -> CaseResult {
    let (ymd, hms) = read_clock(cx)?;
    let r = retry_busy(cx, || call(cx, OPAL_RTC_WRITE, &[u64::from(ymd), hms]))?;
    expect(
        format_args!("RTC_WRITE({ymd:08x}, {hms:016x})"),
        r,
        Ret::SUCCESS,
    )
}

/// A month 13, day 32, hour 25, or a non-decimal digit is PARAMETER.
fn write_bad_bcd(cx: &mut Ctx) -> CaseResult {
    let good_time = 0x1234_5600_0000_0000u64;
    for (ymd, hms) in [
        (0x2026_1321u64, good_time),
        (0x2026_1132, good_time),
        (0x2026_1A21, good_time),
        (0x2026_1121, 0x2500_0000_0000_0000),
        (0x2026_1121, 0x1260_0000_0000_0000),
    ] {
        let r = retry_busy(cx, || call(cx, OPAL_RTC_WRITE, &[ymd, hms]))?;
        expect(
            format_args!("RTC_WRITE({ymd:08x}, {hms:016x})"),
            r,
            Ret::err(OpalError::Parameter),
        )?;
    }
    Ok(())
}
