// SPDX-License-Identifier: Apache-2.0
//! The OS's IPMI channel: `OPAL_IPMI_SEND` (107), `OPAL_IPMI_RECV` (108) (skiboot
//! `core/ipmi-opal.c`, `doc/opal-api/opal-ipmi-send-recv-107-108.rst`): `struct
//! opal_ipmi_msg { u8 version (1); u8 netfn (netfn << 2 | lun); u8 cmd; u8 data[]; }`,
//! interface 0; a reply's data starts with the completion code and raises an OPAL event.
//! QEMU's powernv machines always have a BMC (`ipmi-bmc-sim` behind an `isa-ipmi-bt`).

use opal_api::token::*;
use opal_api::OpalError;

use super::common::{call, Buf};
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, Area, Case, CaseResult, Ctx};

pub static AREA: Area = Area {
    name: "ipmi",
    tokens: &[OPAL_IPMI_SEND, OPAL_IPMI_RECV],
    before_each: Some(drain),
    cases: &[
        Case {
            name: "ipmi.get_device_id",
            run: get_device_id,
        },
        Case {
            name: "ipmi.recv.empty",
            run: recv_empty,
        },
        Case {
            name: "ipmi.send.bad_message",
            run: send_bad_message,
        },
        Case {
            name: "ipmi.recv.small_buffer",
            run: recv_small_buffer,
        },
    ],
};

const VERSION_1: u8 = 1;
/// Get Device ID: App NetFn (6), command 1; answered with NetFn 7.
const GET_DEVICE_ID: [u8; 3] = [VERSION_1, 0x06 << 2, 0x01];

fn send(cx: &Ctx, msg: &[u8]) -> CaseResult<Ret> {
    let mut b = Buf::new(msg.len());
    b.set(0, msg);
    call(cx, OPAL_IPMI_SEND, &[0, b.addr(), msg.len() as u64])
}

/// One RECV into a `capacity`-byte buffer: (return, reply bytes, length written).
fn recv(cx: &Ctx, capacity: u64) -> CaseResult<(Ret, [u8; 128], u64)> {
    let mut b = Buf::new(capacity as usize);
    b.set(0, &[VERSION_1]);
    let mut len = super::Out::<8>::new();
    len.set(capacity);
    let r = call(cx, OPAL_IPMI_RECV, &[0, b.addr(), len.addr()])?;
    Ok((r, b.bytes(), len.value_if_guarded().unwrap_or(u64::MAX)))
}

/// RECV until the reply comes (EMPTY means not yet: poll events), for up to 2 s.
fn await_reply(cx: &Ctx, capacity: u64) -> CaseResult<(Ret, [u8; 128], u64)> {
    let deadline = crate::arch::mftb() + cx.opal.ticks(2000);
    loop {
        let got = recv(cx, capacity)?;
        if !got.0.is(OpalError::Empty) || crate::arch::mftb() > deadline {
            return Ok(got);
        }
        cx.opal.poll_events();
    }
}

/// Takes any reply an earlier case left, so every case starts with none waiting.
fn drain(cx: &mut Ctx) -> CaseResult {
    for _ in 0..4 {
        cx.opal.poll_events();
        let _ = recv(cx, 112)?;
    }
    Ok(())
}

/// Get Device ID goes out and its reply comes back: version 1, NetFn 7 (App response),
/// command 1, completion code 0 and at least the 11 bytes IPMI defines, with the length
/// written to match.
fn get_device_id(cx: &mut Ctx) -> CaseResult {
    expect(
        format_args!("IPMI_SEND(Get Device ID)"),
        send(cx, &GET_DEVICE_ID)?,
        Ret::SUCCESS,
    )?;
    let (r, b, len) = await_reply(cx, 112)?;
    expect(format_args!("IPMI_RECV"), r, Ret::SUCCESS)?;
    expect_eq(
        format_args!("reply header"),
        (b[0], b[1], b[2]),
        (VERSION_1, 0x07 << 2, 0x01),
    )?;
    expect_eq(format_args!("completion code"), b[3], 0)?;
    if !(3 + 1 + 11..=112).contains(&len) {
        fail!("IPMI_RECV wrote length {len}, not 15..=112");
    }
    cx.info(format_args!(
        "device id {:#04x}, IPMI version {:#04x}, {len} bytes",
        b[4], b[8]
    ));
    Ok(())
}

/// With nothing sent, RECV is EMPTY.
fn recv_empty(cx: &mut Ctx) -> CaseResult {
    expect(
        format_args!("IPMI_RECV with nothing sent"),
        recv(cx, 112)?.0,
        Ret::err(OpalError::Empty),
    )
}

/// A length shorter than the header, one past what a BT frame carries (the 3-byte header
/// and 252 data bytes; skiboot allows 60), and version 2 are refused, and nothing reaches
/// the BMC (RECV stays EMPTY).
fn send_bad_message(cx: &mut Ctx) -> CaseResult {
    let mut b = Buf::new(8);
    b.set(0, &GET_DEVICE_ID);
    for (what, len, want) in [
        ("length 2", 2u64, Ret::PARAMETER),
        ("length 0", 0, Ret::PARAMETER),
        ("length 3 + 253", 3 + 253, Ret::PARAMETER),
        ("length 2^64-1", u64::MAX, Ret::PARAMETER),
    ] {
        let r = call(cx, OPAL_IPMI_SEND, &[0, b.addr(), len])?;
        expect(format_args!("IPMI_SEND({what})"), r, want)?;
    }
    let r = send(cx, &[2, 0x06 << 2, 0x01])?;
    expect(
        format_args!("IPMI_SEND(version 2)"),
        r,
        Ret::err(OpalError::Unsupported),
    )?;
    for _ in 0..10 {
        cx.opal.poll_events();
    }
    expect(
        format_args!("IPMI_RECV after refused sends"),
        recv(cx, 112)?.0,
        Ret::err(OpalError::Empty),
    )
}

/// A buffer too small for the reply is RESOURCE, and the reply is gone (skiboot drops it,
/// else its event would never clear): the next RECV is EMPTY.
fn recv_small_buffer(cx: &mut Ctx) -> CaseResult {
    expect(
        format_args!("IPMI_SEND(Get Device ID)"),
        send(cx, &GET_DEVICE_ID)?,
        Ret::SUCCESS,
    )?;
    let (r, _, _) = await_reply(cx, 6)?;
    expect(
        format_args!("IPMI_RECV(6-byte buffer)"),
        r,
        Ret::err(OpalError::Resource),
    )?;
    expect(
        format_args!("IPMI_RECV after RESOURCE"),
        recv(cx, 112)?.0,
        Ret::err(OpalError::Empty),
    )
}
