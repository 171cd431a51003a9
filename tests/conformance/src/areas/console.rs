// SPDX-License-Identifier: Apache-2.0
//! The console: `OPAL_CONSOLE_WRITE` (1), `OPAL_CONSOLE_READ` (2),
//! `OPAL_CONSOLE_WRITE_BUFFER_SPACE` (25), `OPAL_CONSOLE_FLUSH` (117) (skiboot
//! `doc/opal-api/opal-console-read-write-1-2.rst`). Every line this payload prints is also
//! a CONSOLE_WRITE; these cases check the in-out length word and the errors.

use opal_api::token::*;
use opal_api::OpalError;

use super::common::{bad_pointers, call, retry_busy, Buf};
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "console",
    tokens: &[
        OPAL_CONSOLE_WRITE,
        OPAL_CONSOLE_READ,
        OPAL_CONSOLE_WRITE_BUFFER_SPACE,
        OPAL_CONSOLE_FLUSH,
    ],
    before_each: None,
    cases: &[
        Case {
            name: "console.write",
            run: write,
        },
        Case {
            name: "console.write.bad_terminal",
            run: write_bad_terminal,
        },
        Case {
            name: "console.write.bad_pointers",
            run: write_bad_pointers,
        },
        Case {
            name: "console.write_buffer_space",
            run: buffer_space,
        },
        Case {
            name: "console.write_buffer_space.bad_pointers",
            run: buffer_space_bad_pointers,
        },
        Case {
            name: "console.read",
            run: read,
        },
        Case {
            name: "console.read.bad_pointers",
            run: read_bad_pointers,
        },
        Case {
            name: "console.flush",
            run: flush,
        },
    ],
};

/// Terminal numbers no console has (`int64_t term_number`).
const BAD_TERMS: [u64; 3] = [u64::MAX, 0x1_0000_0000, 99];

/// A 2-byte `CONSOLE_WRITE` of an empty line to terminal 0 (retried while BUSY_EVENT):
/// the answer, and the length word it used.
pub(super) fn write_empty_line(cx: &Ctx) -> CaseResult<(Ret, Out<8>)> {
    let text = *b"\r\n";
    let mut len = Out::<8>::new();
    let r = retry_busy(cx, || {
        len.set(2);
        call(
            cx,
            OPAL_CONSOLE_WRITE,
            &[0, len.addr(), text.as_ptr() as u64],
        )
    })?;
    Ok((r, len))
}

/// A 2-byte write (an empty line) and a 0-byte write: SUCCESS with `*length` = bytes
/// taken (2, after BUSY_EVENT retries), and 0 for 0.
fn write(cx: &mut Ctx) -> CaseResult {
    let (r, mut len) = write_empty_line(cx)?;
    expect(format_args!("CONSOLE_WRITE(0, 2 bytes)"), r, Ret::SUCCESS)?;
    expect_eq(
        format_args!("*length after writing 2 bytes"),
        len.get("length")?,
        2,
    )?;
    let text = *b"\r\n";
    len.set(0);
    let r = call(
        cx,
        OPAL_CONSOLE_WRITE,
        &[0, len.addr(), text.as_ptr() as u64],
    )?;
    expect(format_args!("CONSOLE_WRITE(0, 0 bytes)"), r, Ret::SUCCESS)?;
    expect_eq(
        format_args!("*length after writing 0 bytes"),
        len.value_if_guarded(),
        Some(0),
    )
}

/// A terminal no console has is PARAMETER for write, read, buffer space and flush.
fn write_bad_terminal(cx: &mut Ctx) -> CaseResult {
    let text = *b"x";
    for term in BAD_TERMS {
        let mut len = Out::<8>::new();
        len.set(1);
        let r = call(
            cx,
            OPAL_CONSOLE_WRITE,
            &[term, len.addr(), text.as_ptr() as u64],
        )?;
        expect(
            format_args!("CONSOLE_WRITE(term {term:#x})"),
            r,
            Ret::PARAMETER,
        )?;
        let mut buf = Out::<8>::new();
        len.set(8);
        let r = call(cx, OPAL_CONSOLE_READ, &[term, len.addr(), buf.addr()])?;
        expect(
            format_args!("CONSOLE_READ(term {term:#x})"),
            r,
            Ret::PARAMETER,
        )?;
        if !buf.untouched() {
            fail!("CONSOLE_READ(term {term:#x}) wrote the buffer");
        }
        let mut space = Out::<8>::new();
        let r = call(cx, OPAL_CONSOLE_WRITE_BUFFER_SPACE, &[term, space.addr()])?;
        expect(
            format_args!("CONSOLE_WRITE_BUFFER_SPACE(term {term:#x})"),
            r,
            Ret::PARAMETER,
        )?;
        if !space.untouched() {
            fail!("CONSOLE_WRITE_BUFFER_SPACE(term {term:#x}) wrote *length");
        }
        let r = call(cx, OPAL_CONSOLE_FLUSH, &[term])?;
        expect(
            format_args!("CONSOLE_FLUSH(term {term:#x})"),
            r,
            Ret::PARAMETER,
        )?;
    }
    Ok(())
}

/// A bad `length` pointer, a bad buffer, and a length running past the end of memory
/// (2^64 − 1 bytes) are PARAMETER; `*length` is left as it was.
fn write_bad_pointers(cx: &mut Ctx) -> CaseResult {
    let text = *b"xy";
    for (what, bad) in bad_pointers(cx) {
        let r = call(cx, OPAL_CONSOLE_WRITE, &[0, bad, text.as_ptr() as u64])?;
        expect(
            format_args!("CONSOLE_WRITE(length = {what})"),
            r,
            Ret::PARAMETER,
        )?;
        let mut len = Out::<8>::new();
        len.set(2);
        let r = call(cx, OPAL_CONSOLE_WRITE, &[0, len.addr(), bad])?;
        expect(
            format_args!("CONSOLE_WRITE(buffer = {what})"),
            r,
            Ret::PARAMETER,
        )?;
        expect_eq(
            format_args!("*length after a refused write ({what})"),
            len.value_if_guarded(),
            Some(2),
        )?;
    }
    let mut len = Out::<8>::new();
    len.set(u64::MAX);
    let r = call(
        cx,
        OPAL_CONSOLE_WRITE,
        &[0, len.addr(), text.as_ptr() as u64],
    )?;
    expect(
        format_args!("CONSOLE_WRITE(2^64 - 1 bytes)"),
        r,
        Ret::PARAMETER,
    )?;
    expect_eq(
        format_args!("*length after a refused huge write"),
        len.value_if_guarded(),
        Some(u64::MAX),
    )
}

/// WRITE_BUFFER_SPACE(0): SUCCESS and a 64-bit length written.
fn buffer_space(cx: &mut Ctx) -> CaseResult {
    let mut space = Out::<8>::new();
    let r = call(cx, OPAL_CONSOLE_WRITE_BUFFER_SPACE, &[0, space.addr()])?;
    expect(
        format_args!("CONSOLE_WRITE_BUFFER_SPACE(0)"),
        r,
        Ret::SUCCESS,
    )?;
    let n = space.get("*length")?;
    if n > 1 << 32 {
        fail!("CONSOLE_WRITE_BUFFER_SPACE(0) reports {n:#x} bytes free");
    }
    cx.info(format_args!("{n} bytes free"));
    Ok(())
}

fn buffer_space_bad_pointers(cx: &mut Ctx) -> CaseResult {
    for (what, bad) in bad_pointers(cx) {
        let r = call(cx, OPAL_CONSOLE_WRITE_BUFFER_SPACE, &[0, bad])?;
        expect(
            format_args!("CONSOLE_WRITE_BUFFER_SPACE(length = {what})"),
            r,
            Ret::PARAMETER,
        )?;
    }
    Ok(())
}

/// READ(0) into 8 bytes: SUCCESS, `*length` ≤ 8 and nothing written past it; a 0-byte
/// read is SUCCESS with `*length` 0. Non-blocking: no input is waiting in a test run.
fn read(cx: &mut Ctx) -> CaseResult {
    let mut len = Out::<8>::new();
    let mut buf = Buf::new(8);
    len.set(8);
    let r = call(cx, OPAL_CONSOLE_READ, &[0, len.addr(), buf.addr()])?;
    expect(format_args!("CONSOLE_READ(0, 8 bytes)"), r, Ret::SUCCESS)?;
    let got = len.value_if_guarded();
    match got {
        Some(n) if n <= 8 => {}
        _ => fail!("CONSOLE_READ(0, 8 bytes): *length = {got:x?}"),
    }
    if !buf.guard_intact() {
        fail!("CONSOLE_READ(0, 8 bytes) wrote past the buffer");
    }
    len.set(0);
    let r = call(cx, OPAL_CONSOLE_READ, &[0, len.addr(), buf.addr()])?;
    expect(format_args!("CONSOLE_READ(0, 0 bytes)"), r, Ret::SUCCESS)?;
    expect_eq(
        format_args!("*length after a 0-byte read"),
        len.value_if_guarded(),
        Some(0),
    )
}

fn read_bad_pointers(cx: &mut Ctx) -> CaseResult {
    let mut buf = Buf::new(8);
    for (what, bad) in bad_pointers(cx) {
        let r = call(cx, OPAL_CONSOLE_READ, &[0, bad, buf.addr()])?;
        expect(
            format_args!("CONSOLE_READ(length = {what})"),
            r,
            Ret::PARAMETER,
        )?;
        let mut len = Out::<8>::new();
        len.set(8);
        let r = call(cx, OPAL_CONSOLE_READ, &[0, len.addr(), bad])?;
        expect(
            format_args!("CONSOLE_READ(buffer = {what})"),
            r,
            Ret::PARAMETER,
        )?;
    }
    if !buf.untouched() {
        fail!("a refused CONSOLE_READ wrote the buffer");
    }
    Ok(())
}

/// FLUSH(0): SUCCESS, or PARTIAL / BUSY while output drains; SUCCESS within 2 s.
fn flush(cx: &mut Ctx) -> CaseResult {
    let deadline = crate::arch::mftb() + cx.opal.ticks(2000);
    loop {
        let r = call(cx, OPAL_CONSOLE_FLUSH, &[0])?;
        if r == Ret::SUCCESS {
            return Ok(());
        }
        if !(r.is(OpalError::Partial) || r.is(OpalError::Busy)) {
            fail!("CONSOLE_FLUSH(0): returned {r}, the spec says 0, -3 or -2");
        }
        if crate::arch::mftb() > deadline {
            fail!("CONSOLE_FLUSH(0) still {r} after 2 s");
        }
        cx.opal.poll_events();
    }
}
