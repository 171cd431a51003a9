// SPDX-License-Identifier: Apache-2.0
//! The OS's NVRAM and flash: `OPAL_READ_NVRAM` (7), `OPAL_WRITE_NVRAM` (8) behind Linux's
//! `/dev/nvram`, and `OPAL_FLASH_READ/WRITE/ERASE` (110-112) behind `powernv_flash`
//! (`/dev/mtd0`). skiboot `core/nvram.c`, `core/flash.c`,
//! `doc/opal-api/opal-flash-110-111-112.rst`.
//!
//! The NVRAM calls copy between the OS's buffer and the firmware's copy of the NVRAM
//! partition; a write is on flash when the call returns, all of it or none of it.
//!
//! The flash calls take the OS's async token and answer `OPAL_ASYNC_COMPLETION`; the
//! operation has run by then (nothing here waits for anything but the flash), and its
//! result comes as an `OPAL_MSG_ASYNC_COMP` message. Errors found before the operation
//! starts (bad id, range, buffer or token) are returned directly and take no token. As
//! in skiboot the accesses are raw: no ECC, no erase before write. A write that fails
//! part-way restores the chunk it failed in from a copy read just before, and logs how
//! many bytes reached the flash.
//!
//! Concurrency: the platform serialises everything under its flash lock (bounded wait:
//! a held lock is `OPAL_BUSY`, which the OS retries); the token slot is lock-free.

use crate::args::{os_range, OsPtr};
use crate::Ctx;
use opal_api::{OpalError, OpalOk, OpalResult};

/// Bytes moved per step between the OS's buffer and the platform (on the caller's stack).
const CHUNK: usize = 512;
/// The one flash the OS sees (`/ibm,opal/flash@0`, `ibm,opal-id` 0).
pub const SYSTEM_FLASH_ID: u64 = 0;

fn nvram_range(cx: &Ctx<'_>, size: u64, offset: u64) -> OpalResult<()> {
    let total = cx.platform.nvram_size();
    if total == 0 {
        return Err(OpalError::Hardware);
    }
    match offset.checked_add(size) {
        Some(end) if offset < total && end <= total => Ok(()),
        _ => Err(OpalError::Parameter),
    }
}

/// `int64_t opal_read_nvram(uint64_t buffer, uint64_t size, uint64_t offset)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | `size` bytes from `offset` are in the buffer |
/// | PARAMETER | `offset` at or past the end, `offset + size` past it, or a buffer outside OS memory |
/// | HARDWARE | no NVRAM (the call is absent from the table then) |
/// | BUSY | another CPU holds the NVRAM |
pub fn read_nvram(cx: &Ctx<'_>, buf: OsPtr<u8>, size: u64, offset: u64) -> OpalResult<()> {
    nvram_range(cx, size, offset)?;
    let at = os_range(cx, buf, size)?;
    let mut chunk = [0u8; CHUNK];
    let mut done = 0u64;
    while done < size {
        let n = (size - done).min(CHUNK as u64) as usize;
        cx.platform.nvram_read(offset + done, &mut chunk[..n])?;
        cx.mem.write(at, done, &chunk[..n]);
        done += n as u64;
    }
    Ok(())
}

/// `int64_t opal_write_nvram(uint64_t buffer, uint64_t size, uint64_t offset)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | the bytes are in NVRAM and on flash |
/// | PARAMETER | as for READ |
/// | HARDWARE | the flash write failed: NVRAM and flash keep the old contents |
/// | BUSY | another CPU holds the NVRAM or the flash |
pub fn write_nvram(cx: &Ctx<'_>, buf: OsPtr<u8>, size: u64, offset: u64) -> OpalResult<()> {
    nvram_range(cx, size, offset)?;
    let at = os_range(cx, buf, size)?;
    cx.platform
        .nvram_write(offset, size, &mut |rel, chunk| cx.mem.read(at, rel, chunk))
}

/// The checks every flash call makes before it takes the token (skiboot's, including
/// that no operation may span the whole flash: `size` must be below its size).
fn flash_range(cx: &Ctx<'_>, id: u64, offset: u64, size: u64) -> OpalResult<u32> {
    let (total, granule) = cx.platform.flash_geometry().ok_or(OpalError::Parameter)?;
    if id != SYSTEM_FLASH_ID {
        return Err(OpalError::Parameter);
    }
    if size >= total || offset >= total || offset + size > total {
        return Err(OpalError::Parameter);
    }
    Ok(granule)
}

fn finish(cx: &Ctx<'_>, token: u64, op: impl FnOnce() -> OpalResult<()>) -> OpalResult<OpalOk> {
    let pending = cx.msgs.start_async(token)?;
    let rc = op();
    cx.msgs.complete_async(pending, rc);
    Ok(OpalOk::AsyncCompletion)
}

/// `int64_t opal_flash_read(uint64_t id, uint64_t offset, uint64_t buf, uint64_t size,
/// uint64_t token)`
///
/// | return | when |
/// |---|---|
/// | ASYNC_COMPLETION | done; the message carries SUCCESS or HARDWARE |
/// | PARAMETER | not flash 0, a range not inside the flash (or all of it), a buffer outside OS memory, a token the OS was not given |
/// | BUSY | the token's previous operation was not collected |
pub fn flash_read(
    cx: &Ctx<'_>,
    id: u64,
    offset: u64,
    buf: OsPtr<u8>,
    size: u64,
    token: u64,
) -> OpalResult<OpalOk> {
    flash_range(cx, id, offset, size)?;
    let at = os_range(cx, buf, size)?;
    finish(cx, token, || {
        let mut chunk = [0u8; CHUNK];
        let mut done = 0u64;
        while done < size {
            let n = (size - done).min(CHUNK as u64) as usize;
            cx.platform.flash_read(offset + done, &mut chunk[..n])?;
            cx.mem.write(at, done, &chunk[..n]);
            done += n as u64;
        }
        Ok(())
    })
}

/// `int64_t opal_flash_write(uint64_t id, uint64_t offset, uint64_t buf, uint64_t size,
/// uint64_t token)`: as READ. A failure part-way leaves the bytes before the failing
/// chunk written and that chunk as it was (the log says how many bytes were written).
pub fn flash_write(
    cx: &Ctx<'_>,
    id: u64,
    offset: u64,
    buf: OsPtr<u8>,
    size: u64,
    token: u64,
) -> OpalResult<OpalOk> {
    flash_range(cx, id, offset, size)?;
    let at = os_range(cx, buf, size)?;
    finish(cx, token, || {
        let mut chunk = [0u8; CHUNK];
        let mut before = [0u8; CHUNK];
        let mut done = 0u64;
        while done < size {
            let n = (size - done).min(CHUNK as u64) as usize;
            cx.mem.read(at, done, &mut chunk[..n]);
            cx.platform.flash_read(offset + done, &mut before[..n])?;
            if let Err(e) = cx.platform.flash_write(offset + done, &chunk[..n]) {
                let restored = cx.platform.flash_write(offset + done, &before[..n]).is_ok();
                log::error!(
                    "FLASH: write of {size} bytes at {offset:#x}: {done} written, then failed ({})",
                    if restored {
                        "that chunk restored"
                    } else {
                        "that chunk NOT restored"
                    }
                );
                return Err(e);
            }
            done += n as u64;
        }
        Ok(())
    })
}

/// `int64_t opal_flash_erase(uint64_t id, uint64_t offset, uint64_t size, uint64_t token)`:
/// as READ; `offset` and `size` must be multiples of the erase granule
/// (`ibm,flash-block-size`).
pub fn flash_erase(
    cx: &Ctx<'_>,
    id: u64,
    offset: u64,
    size: u64,
    token: u64,
) -> OpalResult<OpalOk> {
    let granule = u64::from(flash_range(cx, id, offset, size)?);
    if granule == 0 || offset % granule != 0 || size % granule != 0 {
        return Err(OpalError::Parameter);
    }
    finish(cx, token, || cx.platform.flash_erase(offset, size))
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::*;

    const BUF: u64 = 0x1_0000;
    const MSG: u64 = 0x6_0000;

    fn completion(m: &Machine, token: u64) -> (u64, i64) {
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[MSG, 72, token]), 0);
        let b = m.mem.peek(MSG, 72);
        let p = |i: usize| u64::from_be_bytes(b[8 + 8 * i..16 + 8 * i].try_into().unwrap());
        (p(0), p(1) as i64)
    }

    #[test]
    fn nvram_reads_and_writes_round_trip() {
        let m = Machine::new();
        m.platform.set_nvram(0x1000);
        m.mem.poke(BUF, b"opalite!");
        assert_eq!(m.call(OPAL_WRITE_NVRAM, &[BUF, 8, 0x800]), 0);
        assert_eq!(&m.platform.nvram_flash()[0x800..0x808], b"opalite!");
        m.mem.poke(BUF, &[0; 8]);
        assert_eq!(m.call(OPAL_READ_NVRAM, &[BUF, 8, 0x800]), 0);
        assert_eq!(m.mem.peek(BUF, 8), b"opalite!");
        // A long one, across chunks.
        let long: Vec<u8> = (0..0xa00u32).map(|i| i as u8).collect();
        m.mem.poke(BUF, &long);
        assert_eq!(m.call(OPAL_WRITE_NVRAM, &[BUF, 0xa00, 0x100]), 0);
        assert_eq!(&m.platform.nvram_flash()[0x100..0xb00], &long[..]);
    }

    #[test]
    fn nvram_ranges_are_checked() {
        let m = Machine::new();
        m.platform.set_nvram(0x1000);
        let p = opal_api::OpalError::Parameter.code();
        assert_eq!(m.call(OPAL_READ_NVRAM, &[BUF, 8, 0x1000]), p);
        assert_eq!(m.call(OPAL_READ_NVRAM, &[BUF, 9, 0xff8]), p);
        assert_eq!(m.call(OPAL_WRITE_NVRAM, &[BUF, u64::MAX, 8]), p);
        assert_eq!(m.call(OPAL_WRITE_NVRAM, &[u64::MAX - 4, 8, 0]), p);
        assert!(m.platform.nvram_flash().iter().all(|&b| b == 0));
    }

    #[test]
    fn a_failed_nvram_write_leaves_the_old_contents() {
        let m = Machine::new();
        m.platform.set_nvram(0x1000);
        let old: Vec<u8> = (0..0x600u32).map(|i| (i * 5) as u8).collect();
        m.mem.poke(BUF, &old);
        assert_eq!(m.call(OPAL_WRITE_NVRAM, &[BUF, 0x600, 0]), 0);
        m.mem.poke(BUF, &[0xaa; 0x600]);
        m.platform.fail_flash_writes_after(0x300);
        assert_eq!(
            m.call(OPAL_WRITE_NVRAM, &[BUF, 0x600, 0]),
            opal_api::OpalError::Hardware.code()
        );
        assert_eq!(&m.platform.nvram_flash()[..0x600], &old[..]);
        assert_eq!(m.call(OPAL_READ_NVRAM, &[BUF, 0x600, 0]), 0);
        assert_eq!(m.mem.peek(BUF, 0x600), old);
    }

    #[test]
    fn flash_operations_complete_through_their_token() {
        let m = Machine::new();
        m.platform.set_flash(0x10_000, 0x1000);
        m.mem.poke(BUF, b"hello flash");
        assert_eq!(m.call(OPAL_FLASH_WRITE, &[0, 0x2000, BUF, 11, 3]), -15);
        assert_eq!(completion(&m, 3), (3, 0));
        assert_eq!(&m.platform.flash_bytes()[0x2000..0x200b], b"hello flash");
        m.mem.poke(BUF, &[0; 11]);
        assert_eq!(m.call(OPAL_FLASH_READ, &[0, 0x2000, BUF, 11, 4]), -15);
        assert_eq!(completion(&m, 4), (4, 0));
        assert_eq!(m.mem.peek(BUF, 11), b"hello flash");
        assert_eq!(m.call(OPAL_FLASH_ERASE, &[0, 0x2000, 0x1000, 5]), -15);
        assert_eq!(completion(&m, 5), (5, 0));
        assert!(m.platform.flash_bytes()[0x2000..0x3000]
            .iter()
            .all(|&b| b == 0xff));
    }

    #[test]
    fn bad_flash_requests_take_no_token_and_change_nothing() {
        let m = Machine::new();
        m.platform.set_flash(0x10_000, 0x1000);
        let before = m.platform.flash_bytes();
        let p = opal_api::OpalError::Parameter.code();
        assert_eq!(m.call(OPAL_FLASH_WRITE, &[1, 0, BUF, 8, 1]), p);
        assert_eq!(m.call(OPAL_FLASH_WRITE, &[0, 0xfff8, BUF, 16, 1]), p);
        assert_eq!(m.call(OPAL_FLASH_READ, &[0, 0, BUF, 0x10_000, 1]), p);
        assert_eq!(m.call(OPAL_FLASH_READ, &[0, u64::MAX, BUF, 2, 1]), p);
        assert_eq!(m.call(OPAL_FLASH_ERASE, &[0, 0x800, 0x1000, 1]), p);
        assert_eq!(m.call(OPAL_FLASH_ERASE, &[0, 0x1000, 0x800, 1]), p);
        assert_eq!(m.call(OPAL_FLASH_WRITE, &[0, 0, u64::MAX - 4, 8, 1]), p);
        assert_eq!(m.call(OPAL_FLASH_WRITE, &[0, 0, BUF, 8, 999]), p);
        assert_eq!(m.platform.flash_bytes(), before);
        // Token 1 is still free: a good request uses it.
        assert_eq!(m.call(OPAL_FLASH_READ, &[0, 0, BUF, 8, 1]), -15);
        // ...and it is busy until collected.
        assert_eq!(
            m.call(OPAL_FLASH_READ, &[0, 0, BUF, 8, 1]),
            opal_api::OpalError::Busy.code()
        );
        assert_eq!(completion(&m, 1), (1, 0));
    }

    #[test]
    fn a_failed_flash_write_reports_hardware_and_restores_its_chunk() {
        let m = Machine::new();
        m.platform.set_flash(0x10_000, 0x1000);
        let before = m.platform.flash_bytes();
        m.mem.poke(BUF, &[0x11; 0x500]);
        m.platform.fail_flash_writes_after(0x300);
        assert_eq!(m.call(OPAL_FLASH_WRITE, &[0, 0x1000, BUF, 0x500, 2]), -15);
        assert_eq!(completion(&m, 2), (2, opal_api::OpalError::Hardware.code()));
        let after = m.platform.flash_bytes();
        // The first 512-byte chunk reached the flash; the failing one was put back.
        assert!(after[0x1000..0x1200].iter().all(|&b| b == 0x11));
        assert_eq!(&after[0x1200..], &before[0x1200..]);
    }

    #[test]
    fn without_nvram_or_flash_the_calls_are_absent() {
        let m = Machine::new();
        for t in [
            OPAL_READ_NVRAM,
            OPAL_WRITE_NVRAM,
            OPAL_FLASH_READ,
            OPAL_FLASH_WRITE,
            OPAL_FLASH_ERASE,
        ] {
            assert_eq!(m.call(OPAL_CHECK_TOKEN, &[t]), 0, "token {t}");
        }
        m.platform.set_nvram(0x1000);
        m.platform.set_flash(0x10_000, 0x1000);
        for t in [
            OPAL_READ_NVRAM,
            OPAL_WRITE_NVRAM,
            OPAL_FLASH_READ,
            OPAL_FLASH_WRITE,
            OPAL_FLASH_ERASE,
        ] {
            assert_eq!(m.call(OPAL_CHECK_TOKEN, &[t]), 1, "token {t}");
        }
    }
}
