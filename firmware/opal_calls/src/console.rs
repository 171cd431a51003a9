// SPDX-License-Identifier: Apache-2.0
//! `OPAL_CONSOLE_WRITE` (1), `OPAL_CONSOLE_READ` (2), `OPAL_CONSOLE_WRITE_BUFFER_SPACE`
//! (25), `OPAL_CONSOLE_FLUSH` (117): skiboot `core/console.c`, `hw/lpc-uart.c`,
//! `doc/opal-api/opal-console-read-write-1-2.rst`.
//!
//! Every pointer is validated, and the length word and whole buffer checked, before any
//! byte moves. Output is queued (the firmware drains it from pollers and flush), so a call
//! never waits on a slow UART.

use crate::args::{os_range, read_be64, write_be64, OsPtr, TermNo};
use crate::Ctx;
use hal::FlushState;
use opal_api::{Be64, OpalError, OpalResult};

/// Bytes moved per copy between OS memory and the console.
const CHUNK: usize = 256;

fn check_term(cx: &Ctx<'_>, term: TermNo) -> OpalResult<u32> {
    if term.0 < cx.console.terminals() {
        Ok(term.0)
    } else {
        Err(OpalError::Parameter)
    }
}

/// `int64_t opal_console_write(int64_t term, __be64 *length, const uint8_t *buffer)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | `*length` bytes were queued (may be fewer than offered) |
/// | PARAMETER | bad terminal, bad `length` pointer, or a buffer outside OS memory |
/// | BUSY_EVENT | nothing could be queued; `*length` is 0 (call `OPAL_POLL_EVENTS`, retry) |
pub fn write(cx: &Ctx<'_>, term: TermNo, len: OsPtr<Be64>, buf: OsPtr<u8>) -> OpalResult<()> {
    let term = check_term(cx, term)?;
    let len_at = os_range(cx, len, 8)?;
    let offered = read_be64(cx, len_at);
    if offered == 0 {
        write_be64(cx, len_at, 0);
        return Ok(());
    }
    let src = os_range(cx, buf, offered)?;
    let mut done = 0u64;
    let mut chunk = [0u8; CHUNK];
    while done < offered {
        let n = (offered - done).min(CHUNK as u64) as usize;
        cx.mem.read(src, done, &mut chunk[..n]);
        let taken = cx.console.write(term, &chunk[..n]);
        done += taken as u64;
        if taken < n {
            break;
        }
    }
    write_be64(cx, len_at, done);
    if done == 0 {
        return Err(OpalError::BusyEvent);
    }
    Ok(())
}

/// `int64_t opal_console_write_buffer_space(int64_t term, __be64 *length)`: how many
/// bytes a following write will take. PARAMETER for a bad terminal or pointer.
pub fn write_buffer_space(cx: &Ctx<'_>, term: TermNo, len: OsPtr<Be64>) -> OpalResult<()> {
    let term = check_term(cx, term)?;
    let len_at = os_range(cx, len, 8)?;
    write_be64(cx, len_at, cx.console.write_space(term) as u64);
    Ok(())
}

/// `int64_t opal_console_read(int64_t term, __be64 *length, uint8_t *buffer)`:
/// non-blocking; `*length` in: buffer size, out: bytes read (0 when nothing is waiting).
/// PARAMETER for a bad terminal, pointer or buffer.
pub fn read(cx: &Ctx<'_>, term: TermNo, len: OsPtr<Be64>, buf: OsPtr<u8>) -> OpalResult<()> {
    let term = check_term(cx, term)?;
    let len_at = os_range(cx, len, 8)?;
    let room = read_be64(cx, len_at);
    if room == 0 {
        return Ok(());
    }
    let dst = os_range(cx, buf, room)?;
    let mut done = 0u64;
    let mut chunk = [0u8; CHUNK];
    while done < room {
        let want = (room - done).min(CHUNK as u64) as usize;
        let got = cx.console.read(term, &mut chunk[..want]);
        if got == 0 {
            break;
        }
        cx.mem.write(dst, done, &chunk[..got]);
        done += got as u64;
    }
    write_be64(cx, len_at, done);
    Ok(())
}

/// `int64_t opal_console_flush(int64_t term)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | all queued output reached the device |
/// | PARTIAL | some went out, more remains (call again) |
/// | BUSY | no progress this time |
/// | PARAMETER | bad terminal |
pub fn flush(cx: &Ctx<'_>, term: TermNo) -> OpalResult<()> {
    let term = check_term(cx, term)?;
    match cx.console.flush(term) {
        FlushState::Drained => Ok(()),
        FlushState::Progress => Err(OpalError::Partial),
        FlushState::NoProgress => Err(OpalError::Busy),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::*;

    const LEN: u64 = 0x1000;
    const BUF: u64 = 0x2000;

    #[test]
    fn write_queues_bytes_and_reports_the_count_big_endian() {
        let m = Machine::new();
        m.mem.poke(BUF, b"hello");
        m.mem.poke(LEN, &5u64.to_be_bytes());
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, LEN, BUF]), 0);
        assert_eq!(m.mem.peek_be64(LEN), 5);
        assert_eq!(&*m.console.out.borrow(), b"hello");
        // Linux passes linear-map addresses.
        m.mem.poke(LEN, &1u64.to_be_bytes());
        assert_eq!(
            m.call(OPAL_CONSOLE_WRITE, &[0, 0xC000_0000_0000_0000 | LEN, BUF]),
            0
        );
        assert_eq!(&*m.console.out.borrow(), b"helloh");
    }

    #[test]
    fn write_takes_what_fits_then_says_busy_event() {
        let m = Machine::new();
        let m = Machine {
            console: hal::fake::FakeConsole::new(3),
            ..m
        };
        m.mem.poke(BUF, b"abcdef");
        m.mem.poke(LEN, &6u64.to_be_bytes());
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, LEN, BUF]), 0);
        assert_eq!(m.mem.peek_be64(LEN), 3);
        m.mem.poke(LEN, &6u64.to_be_bytes());
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, LEN, BUF]), -12);
        assert_eq!(m.mem.peek_be64(LEN), 0);
    }

    #[test]
    fn write_rejects_bad_arguments_without_touching_anything() {
        let m = Machine::new();
        m.mem.poke(LEN, &5u64.to_be_bytes());
        // bad terminal, NULL and firmware pointers, a buffer running past RAM
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[1, LEN, BUF]), -1);
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[u64::MAX, LEN, BUF]), -1);
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, 0, BUF]), -1);
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, 0x8_0000, BUF]), -1);
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, LEN, 0]), -1);
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, LEN, 0x7_FFFE]), -1);
        m.mem.poke(LEN, &u64::MAX.to_be_bytes());
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, LEN, BUF]), -1);
        assert_eq!(m.mem.peek_be64(LEN), u64::MAX, "length untouched on error");
        assert!(m.console.out.borrow().is_empty());
    }

    #[test]
    fn buffer_space_and_flush() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_CONSOLE_WRITE_BUFFER_SPACE, &[0, LEN]), 0);
        assert_eq!(m.mem.peek_be64(LEN), 4096);
        assert_eq!(m.call(OPAL_CONSOLE_WRITE_BUFFER_SPACE, &[0, 0x8_0008]), -1);
        assert_eq!(m.call(OPAL_CONSOLE_WRITE_BUFFER_SPACE, &[2, LEN]), -1);
        m.mem.poke(BUF, b"abcd");
        m.mem.poke(LEN, &4u64.to_be_bytes());
        assert_eq!(m.call(OPAL_CONSOLE_WRITE, &[0, LEN, BUF]), 0);
        m.console.drain_per_flush.set(3);
        assert_eq!(m.call(OPAL_CONSOLE_FLUSH, &[0]), -3, "partial");
        m.console.drain_per_flush.set(0);
        assert_eq!(m.call(OPAL_CONSOLE_FLUSH, &[0]), -2, "busy");
        m.console.drain_per_flush.set(10);
        assert_eq!(m.call(OPAL_CONSOLE_FLUSH, &[0]), 0);
        assert_eq!(&*m.console.sent.borrow(), b"abcd");
        assert_eq!(m.call(OPAL_CONSOLE_FLUSH, &[7]), -1);
    }

    #[test]
    fn read_is_non_blocking_and_bounded_by_the_buffer() {
        let m = Machine::new();
        m.mem.poke(LEN, &16u64.to_be_bytes());
        assert_eq!(m.call(OPAL_CONSOLE_READ, &[0, LEN, BUF]), 0);
        assert_eq!(m.mem.peek_be64(LEN), 0);
        m.console.input.borrow_mut().extend_from_slice(b"ls\n");
        m.mem.poke(LEN, &2u64.to_be_bytes());
        m.mem.poke(BUF, &[0xEE; 4]);
        assert_eq!(m.call(OPAL_CONSOLE_READ, &[0, LEN, BUF]), 0);
        assert_eq!(m.mem.peek_be64(LEN), 2);
        assert_eq!(
            m.mem.peek(BUF, 4),
            [b'l', b's', 0xEE, 0xEE],
            "no byte past the buffer"
        );
        m.mem.poke(LEN, &8u64.to_be_bytes());
        assert_eq!(m.call(OPAL_CONSOLE_READ, &[0, LEN, 0x8_0000]), -1);
        assert_eq!(&*m.console.input.borrow(), b"\n", "input kept on error");
    }
}
