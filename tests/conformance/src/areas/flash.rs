// SPDX-License-Identifier: Apache-2.0
//! The system flash, raw: `OPAL_FLASH_READ` (110), `OPAL_FLASH_WRITE` (111),
//! `OPAL_FLASH_ERASE` (112) (skiboot `core/flash.c`,
//! `doc/opal-api/opal-flash-110-111-112.rst`): `(id, offset, buffer or size, size,
//! token)`, answered `OPAL_ASYNC_COMPLETION` with the result in an `OPAL_MSG_ASYNC_COMP`
//! for the token; a request refused up front takes no token. QEMU's powernv machines
//! always have a flash (128 MiB of 0xFF without a drive); nothing here touches its first
//! 16 MiB, where a partition table would be.

use opal_api::msg::OPAL_MSG_SIZE;
use opal_api::token::*;

use super::common::{call, Buf};
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, Area, Case, CaseResult, Ctx, Verdict};

pub static AREA: Area = Area {
    name: "flash",
    tokens: &[OPAL_FLASH_READ, OPAL_FLASH_WRITE, OPAL_FLASH_ERASE],
    before_each: None,
    cases: &[
        Case {
            name: "flash.read.completes",
            run: read_completes,
        },
        Case {
            name: "flash.write_then_read",
            run: write_then_read,
        },
        Case {
            name: "flash.erase_then_read",
            run: erase_then_read,
        },
        Case {
            name: "flash.bad_requests",
            run: bad_requests,
        },
    ],
};

/// The scratch area: 16 MiB in, one 4 KiB erase block (QEMU's granule).
pub const SCRATCH: u64 = 0x100_0000;
pub const BLOCK: u64 = 0x1000;
const TOKEN: u64 = 1;

/// Waits (polling events, up to 2 s) for `token`'s completion; returns its result code.
fn completion(cx: &Ctx, token: u64) -> CaseResult<i64> {
    let deadline = crate::arch::mftb() + cx.opal.ticks(2000);
    loop {
        let mut msg = Buf::new(OPAL_MSG_SIZE);
        let r = call(
            cx,
            OPAL_CHECK_ASYNC_COMPLETION,
            &[msg.addr(), OPAL_MSG_SIZE as u64, token],
        )?;
        if r == Ret::SUCCESS {
            let b = msg.bytes();
            let param = |i: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[8 + 8 * i..16 + 8 * i]);
                u64::from_be_bytes(w)
            };
            expect_eq(format_args!("completion's token"), param(0), token)?;
            return Ok(param(1) as i64);
        }
        if crate::arch::mftb() > deadline {
            fail!(
                "no completion for token {token} within 2 s (last CHECK_ASYNC_COMPLETION {})",
                r.signed()
            );
        }
        cx.opal.poll_events();
    }
}

/// One operation, run to its completion: its result code.
fn run_op(cx: &Ctx, token_no: u64, args: &[u64]) -> CaseResult<i64> {
    let r = call(cx, token_no, args)?;
    expect(
        format_args!(
            "{} {args:x?}",
            opal_api::token::name(token_no).unwrap_or("?")
        ),
        r,
        Ret(opal_api::error::OPAL_ASYNC_COMPLETION as u64),
    )?;
    completion(cx, TOKEN)
}

fn read(cx: &Ctx, offset: u64, len: usize) -> CaseResult<[u8; 128]> {
    let mut b = Buf::new(len);
    let rc = run_op(
        cx,
        OPAL_FLASH_READ,
        &[0, offset, b.addr(), len as u64, TOKEN],
    )?;
    expect_eq(format_args!("FLASH_READ's completion"), rc, 0)?;
    if !b.guard_intact() {
        fail!("FLASH_READ of {len} bytes wrote past them");
    }
    Ok(b.bytes())
}

/// A read completes with SUCCESS, writes exactly its bytes, and reads the same twice.
fn read_completes(cx: &mut Ctx) -> CaseResult {
    let a = read(cx, SCRATCH, 64)?;
    let b = read(cx, SCRATCH, 64)?;
    expect_eq(
        format_args!("two reads of the same 64 bytes"),
        &a[..64],
        &b[..64],
    )
}

/// A write's bytes read back (raw: no erase first, as skiboot's calls are).
fn write_then_read(cx: &mut Ctx) -> CaseResult {
    let pattern: [u8; 64] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
    let mut b = Buf::new(64);
    b.set(0, &pattern);
    let rc = run_op(
        cx,
        OPAL_FLASH_WRITE,
        &[0, SCRATCH + 0x100, b.addr(), 64, TOKEN],
    )?;
    expect_eq(format_args!("FLASH_WRITE's completion"), rc, 0)?;
    let back = read(cx, SCRATCH + 0x100, 64)?;
    expect_eq(format_args!("bytes read back"), &back[..64], &pattern[..])
}

/// An erased block reads as 0xFF. (QEMU's HIOMAP ERASE may leave the data; a firmware
/// that trusts it, as skiboot does, then reads back the old bytes: a deviation, not a
/// pass.)
fn erase_then_read(cx: &mut Ctx) -> CaseResult {
    let mut b = Buf::new(8);
    b.set(0, &[0u8; 8]);
    let rc = run_op(cx, OPAL_FLASH_WRITE, &[0, SCRATCH, b.addr(), 8, TOKEN])?;
    expect_eq(format_args!("FLASH_WRITE's completion"), rc, 0)?;
    let rc = run_op(cx, OPAL_FLASH_ERASE, &[0, SCRATCH, BLOCK, TOKEN])?;
    expect_eq(format_args!("FLASH_ERASE's completion"), rc, 0)?;
    let back = read(cx, SCRATCH, 64)?;
    if back[..64].iter().all(|&x| x == 0xff) {
        return Ok(());
    }
    let m = crate::msg!("an erased block reads back {:02x?}", &back[..8]);
    if cx.sys.is_opalite() {
        return Err(Verdict::Fail(m));
    }
    Err(Verdict::Deviation(m))
}

/// Refused up front, with PARAMETER: a flash id other than 0, an offset or size past the
/// flash. None of them takes the token: a good request with it afterwards completes.
fn bad_requests(cx: &mut Ctx) -> CaseResult {
    let mut b = Buf::new(8);
    for (what, tok, args) in [
        (
            "READ id 1",
            OPAL_FLASH_READ,
            [1, SCRATCH, b.addr(), 8, TOKEN],
        ),
        (
            "READ offset 2^64-8",
            OPAL_FLASH_READ,
            [0, u64::MAX - 7, b.addr(), 8, TOKEN],
        ),
        (
            "READ size 2^64-1",
            OPAL_FLASH_READ,
            [0, 0, b.addr(), u64::MAX, TOKEN],
        ),
        (
            "WRITE id 7",
            OPAL_FLASH_WRITE,
            [7, SCRATCH, b.addr(), 8, TOKEN],
        ),
        (
            "ERASE size 2^63",
            OPAL_FLASH_ERASE,
            [0, 0, 1 << 63, TOKEN, 0],
        ),
    ] {
        let r = call(cx, tok, &args)?;
        expect(format_args!("FLASH_{what}"), r, Ret::PARAMETER)?;
    }
    if !b.untouched() {
        fail!("a refused FLASH_READ wrote its buffer");
    }
    // The token is still free: a good request takes it and completes.
    read(cx, SCRATCH, 8).map(drop)
}
