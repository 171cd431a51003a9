// SPDX-License-Identifier: Apache-2.0
//! Events and messages: `OPAL_HANDLE_INTERRUPT` (9), `OPAL_POLL_EVENTS` (10),
//! `OPAL_GET_MSG` (85), `OPAL_CHECK_ASYNC_COMPLETION` (86) (skiboot `core/opal.c`,
//! `core/opal-msg.c`, `doc/opal-api/opal-get-msg-85.rst`).

use opal_api::msg::OPAL_MSG_SIZE;
use opal_api::token::*;
use opal_api::OpalError;

use super::common::{bad_pointers, call, Buf};
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "events",
    tokens: &[
        OPAL_HANDLE_INTERRUPT,
        OPAL_POLL_EVENTS,
        OPAL_GET_MSG,
        OPAL_CHECK_ASYNC_COMPLETION,
    ],
    before_each: None,
    cases: &[
        Case {
            name: "events.poll",
            run: poll,
        },
        Case {
            name: "events.poll.bad_pointers",
            run: poll_bad_pointers,
        },
        Case {
            name: "events.handle_interrupt.unknown_girq",
            run: handle_unknown,
        },
        Case {
            name: "events.handle_interrupt.bad_pointers",
            run: handle_bad_pointers,
        },
        Case {
            name: "events.get_msg",
            run: get_msg,
        },
        Case {
            name: "events.get_msg.bad_args",
            run: get_msg_bad_args,
        },
        Case {
            name: "events.get_msg.bad_pointers",
            run: get_msg_bad_pointers,
        },
        Case {
            name: "events.check_async.unknown_token",
            run: check_async_unknown,
        },
    ],
};

/// A girq with the escalation bit and the top block: no firmware source has it.
const NO_SOURCE: u64 = 0xffff_fff0;

/// POLL_EVENTS(NULL) and POLL_EVENTS(&mask): SUCCESS, the mask written.
fn poll(cx: &mut Ctx) -> CaseResult {
    let r = call(cx, OPAL_POLL_EVENTS, &[0])?;
    expect(format_args!("POLL_EVENTS(NULL)"), r, Ret::SUCCESS)?;
    let mut mask = Out::<8>::new();
    let r = call(cx, OPAL_POLL_EVENTS, &[mask.addr()])?;
    expect(format_args!("POLL_EVENTS(&mask)"), r, Ret::SUCCESS)?;
    let m = mask.get("*outstanding_event_mask")?;
    cx.info(format_args!("event mask {m:#x}"));
    Ok(())
}

fn poll_bad_pointers(cx: &mut Ctx) -> CaseResult {
    for (what, bad) in bad_pointers(cx).into_iter().skip(1) {
        let r = call(cx, OPAL_POLL_EVENTS, &[bad])?;
        expect(format_args!("POLL_EVENTS({what})"), r, Ret::PARAMETER)?;
    }
    Ok(())
}

/// HANDLE_INTERRUPT of a girq no firmware source owns: PARAMETER, the event mask still
/// written (skiboot `opal_handle_interrupt` reports the events on every path).
fn handle_unknown(cx: &mut Ctx) -> CaseResult {
    let mut mask = Out::<8>::new();
    let r = call(cx, OPAL_HANDLE_INTERRUPT, &[NO_SOURCE, mask.addr()])?;
    expect(
        format_args!("HANDLE_INTERRUPT({NO_SOURCE:#x})"),
        r,
        Ret::PARAMETER,
    )?;
    mask.get("*outstanding_event_mask")?;
    Ok(())
}

fn handle_bad_pointers(cx: &mut Ctx) -> CaseResult {
    for (what, bad) in bad_pointers(cx) {
        let r = call(cx, OPAL_HANDLE_INTERRUPT, &[NO_SOURCE, bad])?;
        expect(
            format_args!("HANDLE_INTERRUPT(mask = {what})"),
            r,
            Ret::PARAMETER,
        )?;
    }
    Ok(())
}

/// GET_MSG until RESOURCE (at most 64 messages): each SUCCESS writes exactly the 72-byte
/// `struct opal_msg` whose `size` field is at most 64; a huge `size` is fine.
fn get_msg(cx: &mut Ctx) -> CaseResult {
    for n in 0..64 {
        let mut buf = Buf::new(OPAL_MSG_SIZE);
        let size = if n % 2 == 0 {
            OPAL_MSG_SIZE as u64
        } else {
            u64::MAX
        };
        let r = call(cx, OPAL_GET_MSG, &[buf.addr(), size])?;
        if r.is(OpalError::Resource) {
            if !buf.untouched() {
                fail!("GET_MSG returned RESOURCE but wrote the buffer");
            }
            cx.info(format_args!("{n} messages were queued"));
            return Ok(());
        }
        expect(format_args!("GET_MSG(72 bytes)"), r, Ret::SUCCESS)?;
        if !buf.guard_intact() {
            fail!("GET_MSG wrote past the 72-byte message");
        }
        let b = buf.bytes();
        let body = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        if body > 64 {
            fail!("GET_MSG: message size field {body} > 64");
        }
    }
    fail!("GET_MSG never returned RESOURCE in 64 calls")
}

/// A buffer smaller than a message is PARAMETER.
fn get_msg_bad_args(cx: &mut Ctx) -> CaseResult {
    for size in [0, 8, OPAL_MSG_SIZE as u64 - 1] {
        let mut buf = Buf::new(OPAL_MSG_SIZE);
        let r = call(cx, OPAL_GET_MSG, &[buf.addr(), size])?;
        expect(format_args!("GET_MSG(size {size})"), r, Ret::PARAMETER)?;
        if !buf.untouched() {
            fail!("a refused GET_MSG (size {size}) wrote the buffer");
        }
    }
    Ok(())
}

fn get_msg_bad_pointers(cx: &mut Ctx) -> CaseResult {
    for (what, bad) in bad_pointers(cx) {
        let r = call(cx, OPAL_GET_MSG, &[bad, OPAL_MSG_SIZE as u64])?;
        expect(format_args!("GET_MSG({what})"), r, Ret::PARAMETER)?;
    }
    Ok(())
}

/// CHECK_ASYNC_COMPLETION for a token past `opal-msg-async-num`, one within it that no
/// call holds, and with a buffer smaller than a message: PARAMETER; nothing written.
fn check_async_unknown(cx: &mut Ctx) -> CaseResult {
    for (size, token) in [
        (OPAL_MSG_SIZE as u64, 0xdead),
        (OPAL_MSG_SIZE as u64, 3),
        (8, 3),
    ] {
        let mut buf = Buf::new(OPAL_MSG_SIZE);
        let r = call(cx, OPAL_CHECK_ASYNC_COMPLETION, &[buf.addr(), size, token])?;
        expect(
            format_args!("CHECK_ASYNC_COMPLETION(size {size}, token {token:#x})"),
            r,
            Ret::PARAMETER,
        )?;
        if !buf.untouched() {
            fail!("a refused CHECK_ASYNC_COMPLETION wrote the buffer");
        }
    }
    Ok(())
}
