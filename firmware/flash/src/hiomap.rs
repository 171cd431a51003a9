// SPDX-License-Identifier: Apache-2.0
//! HIOMAP v2 (`images-boards-mambo.md` §2.5; OpenBMC's "mboxd" protocol carried over
//! IPMI): the BMC owns the flash and maps a window of it into LPC firmware space on
//! request. Each message is IPMI netfn [`NETFN`] command [`CMD`], data `[command,
//! sequence, arguments...]`, answered with `[command, sequence, results...]`. Offsets and
//! sizes are 16-bit little-endian counts of blocks of `1 << block_shift` bytes.
//!
//! [`Hiomap`] keeps what survives between accesses (the negotiated geometry, the window
//! open now, BMC events not yet handled); a [`Session`] pairs it with the IPMI transport
//! for one access and implements [`Flash`]. Rules it follows:
//!
//! - a window is used only for the flash range the BMC said it covers, and a write goes
//!   only through a write window, then MARK_DIRTY for the blocks touched and FLUSH before
//!   the window may move, so nothing written is lost when the BMC recycles the window;
//! - a BMC event is handled before the next access: `PROTOCOL_RESET` renegotiates,
//!   `WINDOW_RESET` forgets the window (both are acknowledged), `FLASH_LOST` fails every
//!   access until the BMC clears it;
//! - nothing is retried behind the caller's back: an error goes up as it happened.
use crate::{in_bounds, Error, Flash, FwSpace};

/// IPMI network function (IBM OEM) and command of every HIOMAP message.
pub const NETFN: u8 = 0x3a;
pub const CMD: u8 = 0x5a;

/// HIOMAP commands.
pub mod command {
    pub const RESET: u8 = 1;
    pub const GET_INFO: u8 = 2;
    pub const GET_FLASH_INFO: u8 = 3;
    pub const CREATE_READ_WINDOW: u8 = 4;
    pub const CLOSE_WINDOW: u8 = 5;
    pub const CREATE_WRITE_WINDOW: u8 = 6;
    pub const MARK_DIRTY: u8 = 7;
    pub const FLUSH: u8 = 8;
    pub const ACK: u8 = 9;
    pub const ERASE: u8 = 10;
}

/// BMC state bits (delivered by the BMC in an OEM SEL event).
pub mod event {
    pub const PROTOCOL_RESET: u8 = 0x01;
    pub const WINDOW_RESET: u8 = 0x02;
    pub const FLASH_LOST: u8 = 0x40;
    pub const DAEMON_READY: u8 = 0x80;
    /// The bits the host must acknowledge.
    pub const ACKABLE: u8 = PROTOCOL_RESET | WINDOW_RESET;
}

/// The protocol version we speak.
pub const VERSION: u8 = 2;

/// Sends one HIOMAP message and waits for the answer.
pub trait Transport {
    /// `request` is the message data (`[command, sequence, args...]`); the answer's data
    /// after a zero completion code goes to `reply`, and its length is returned. A
    /// non-zero completion code is `Error::Bmc(code)`.
    fn exchange(&mut self, request: &[u8], reply: &mut [u8]) -> Result<usize, Error>;
}

/// What GET_INFO and GET_FLASH_INFO said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub block_shift: u8,
    /// Seconds the BMC suggests an access may take (0: no suggestion).
    pub timeout_s: u16,
    pub flash_size: u64,
    pub erase_granule: u32,
}

/// The window the BMC has open for us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub writable: bool,
    /// LPC FW address of the window's first byte.
    pub lpc_addr: u32,
    /// Flash offset of the window's first byte.
    pub flash_offset: u64,
    pub len: u64,
}

impl Window {
    fn covers(&self, offset: u64) -> bool {
        offset >= self.flash_offset && offset - self.flash_offset < self.len
    }
}

/// See the module documentation.
pub struct Hiomap<F> {
    fw: F,
    seq: u8,
    geometry: Option<Geometry>,
    window: Option<Window>,
    /// The BMC's state bits as last reported, ackable ones kept until handled.
    events: u8,
}

impl<F: FwSpace> Hiomap<F> {
    pub const fn new(fw: F) -> Self {
        Self {
            fw,
            seq: 0,
            geometry: None,
            window: None,
            events: event::DAEMON_READY,
        }
    }

    /// The geometry, once a session negotiated it.
    pub fn geometry(&self) -> Option<Geometry> {
        self.geometry
    }

    /// The window open now.
    pub fn window(&self) -> Option<Window> {
        self.window
    }

    /// Records the BMC state bits from an event; they act at the next access.
    pub fn note_events(&mut self, bits: u8) {
        self.events = (self.events & event::ACKABLE) | bits;
    }

    /// Pairs the state with a transport for some accesses.
    pub fn session<'a, T: Transport>(&'a mut self, link: &'a mut T) -> Session<'a, T, F> {
        Session { map: self, link }
    }
}

/// [`Hiomap`] with its transport: see the module documentation.
pub struct Session<'a, T, F> {
    map: &'a mut Hiomap<F>,
    link: &'a mut T,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

impl<T: Transport, F: FwSpace> Session<'_, T, F> {
    /// One message; returns the results after the echoed command and sequence.
    fn send(&mut self, cmd: u8, args: &[u8], out: &mut [u8; 8]) -> Result<usize, Error> {
        let seq = self.map.seq;
        self.map.seq = seq.wrapping_add(1);
        let mut req = [0u8; 10];
        req[0] = cmd;
        req[1] = seq;
        req[2..2 + args.len()].copy_from_slice(args);
        let mut reply = [0u8; 16];
        let n = self.link.exchange(&req[..2 + args.len()], &mut reply)?;
        if n < 2 || n > reply.len() {
            return Err(Error::Protocol("short reply"));
        }
        if reply[0] != cmd || reply[1] != seq {
            return Err(Error::Protocol("reply to another request"));
        }
        let results = n - 2;
        let keep = results.min(out.len());
        out[..keep].copy_from_slice(&reply[2..2 + keep]);
        Ok(results)
    }

    fn send_expecting(&mut self, cmd: u8, args: &[u8], len: usize) -> Result<[u8; 8], Error> {
        let mut out = [0u8; 8];
        if self.send(cmd, args, &mut out)? < len {
            return Err(Error::Protocol("short reply"));
        }
        Ok(out)
    }

    /// GET_INFO (version 2 only) and GET_FLASH_INFO.
    pub fn negotiate(&mut self) -> Result<Geometry, Error> {
        self.map.geometry = None;
        self.map.window = None;
        let info = self.send_expecting(command::GET_INFO, &[VERSION], 4)?;
        if info[0] != VERSION {
            return Err(Error::Protocol("BMC does not speak HIOMAP v2"));
        }
        let block_shift = info[1];
        if !(9..=20).contains(&block_shift) {
            return Err(Error::Protocol("block size out of range"));
        }
        let flash = self.send_expecting(command::GET_FLASH_INFO, &[], 4)?;
        let blocks = u64::from(le16(&flash, 0));
        let granule = u32::from(le16(&flash, 2)) << block_shift;
        if blocks == 0 || granule == 0 {
            return Err(Error::Protocol("empty flash or zero erase granule"));
        }
        let g = Geometry {
            block_shift,
            timeout_s: le16(&info, 2),
            flash_size: blocks << block_shift,
            erase_granule: granule,
        };
        self.map.geometry = Some(g);
        Ok(g)
    }

    /// Handles pending BMC events, negotiating if needed.
    fn ready(&mut self) -> Result<Geometry, Error> {
        let ev = self.map.events;
        if ev & event::FLASH_LOST != 0 || ev & event::DAEMON_READY == 0 {
            return Err(Error::Unavailable);
        }
        if ev & event::PROTOCOL_RESET != 0 {
            self.map.geometry = None;
            self.map.window = None;
        }
        if ev & event::WINDOW_RESET != 0 {
            self.map.window = None;
        }
        if ev & event::ACKABLE != 0 {
            self.send_expecting(command::ACK, &[ev & event::ACKABLE], 0)?;
            self.map.events &= !event::ACKABLE;
        }
        match self.map.geometry {
            Some(g) => Ok(g),
            None => self.negotiate(),
        }
    }

    /// A window covering `offset`, asked to reach to `offset + len`.
    fn window_at(&mut self, writable: bool, offset: u64, len: u64) -> Result<Window, Error> {
        let g = self.ready()?;
        if let Some(w) = self.map.window {
            if w.covers(offset) && (w.writable || !writable) {
                return Ok(w);
            }
        }
        self.map.window = None;
        let shift = g.block_shift;
        let first = offset >> shift;
        let end = (offset + len).div_ceil(1 << shift);
        let count = (end - first).min(0xffff);
        let first16 = u16::try_from(first).map_err(|_| Error::OutOfRange)?;
        let mut args = [0u8; 4];
        args[..2].copy_from_slice(&first16.to_le_bytes());
        args[2..].copy_from_slice(&(count as u16).to_le_bytes());
        let cmd = if writable {
            command::CREATE_WRITE_WINDOW
        } else {
            command::CREATE_READ_WINDOW
        };
        let r = self.send_expecting(cmd, &args, 6)?;
        let w = Window {
            writable,
            lpc_addr: u32::from(le16(&r, 0)) << shift,
            len: u64::from(le16(&r, 2)) << shift,
            flash_offset: u64::from(le16(&r, 4)) << shift,
        };
        if !w.covers(offset) {
            return Err(Error::Protocol("window does not cover the request"));
        }
        self.map.window = Some(w);
        Ok(w)
    }

    /// MARK_DIRTY for `offset..offset+len` of window `w`, then FLUSH.
    fn commit(&mut self, w: Window, offset: u64, len: u64) -> Result<(), Error> {
        let shift = self.map.geometry.map_or(12, |g| g.block_shift);
        let rel = offset - w.flash_offset;
        let first = rel >> shift;
        let count = (rel + len).div_ceil(1 << shift) - first;
        let mut args = [0u8; 4];
        args[..2].copy_from_slice(&(first as u16).to_le_bytes());
        args[2..].copy_from_slice(&(count as u16).to_le_bytes());
        self.send_expecting(command::MARK_DIRTY, &args, 0)?;
        self.send_expecting(command::FLUSH, &[], 0)?;
        Ok(())
    }

    /// CLOSE_WINDOW, if one is open (a window left open keeps the BMC from using the
    /// flash itself).
    pub fn close(&mut self) -> Result<(), Error> {
        if self.map.window.take().is_some() {
            self.send_expecting(command::CLOSE_WINDOW, &[0], 0)?;
        }
        Ok(())
    }

    fn check_range(&mut self, offset: u64, len: u64) -> Result<(), Error> {
        let g = self.ready()?;
        if !in_bounds(offset, len, g.flash_size) {
            return Err(Error::OutOfRange);
        }
        Ok(())
    }

    /// Writes `fill`-or-`data` bytes over `offset..offset+len`, window by window.
    fn store(&mut self, mut offset: u64, data: Option<&[u8]>, len: u64) -> Result<(), Error> {
        let ones = [0xffu8; 256];
        let mut done = 0u64;
        while done < len {
            let w = self.window_at(true, offset, len - done)?;
            let n = (len - done).min(w.flash_offset + w.len - offset);
            let mut put = 0u64;
            while put < n {
                let lpc = w.lpc_addr + (offset + put - w.flash_offset) as u32;
                let step = match data {
                    Some(d) => {
                        let at = (done + put) as usize;
                        let step = n - put;
                        self.map.fw.write(lpc, &d[at..at + step as usize]);
                        step
                    }
                    None => {
                        let step = (n - put).min(ones.len() as u64);
                        self.map.fw.write(lpc, &ones[..step as usize]);
                        step
                    }
                };
                put += step;
            }
            self.commit(w, offset, n)?;
            offset += n;
            done += n;
        }
        Ok(())
    }
}

impl<T: Transport, F: FwSpace> Flash for Session<'_, T, F> {
    fn size(&self) -> u64 {
        self.map.geometry.map_or(0, |g| g.flash_size)
    }

    fn erase_granule(&self) -> u32 {
        self.map.geometry.map_or(0, |g| g.erase_granule)
    }

    fn read(&mut self, mut offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.check_range(offset, buf.len() as u64)?;
        let mut done = 0usize;
        while done < buf.len() {
            let want = (buf.len() - done) as u64;
            let w = self.window_at(false, offset, want)?;
            let n = want.min(w.flash_offset + w.len - offset) as usize;
            let lpc = w.lpc_addr + (offset - w.flash_offset) as u32;
            self.map.fw.read(lpc, &mut buf[done..done + n]);
            done += n;
            offset += n as u64;
        }
        Ok(())
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error> {
        self.check_range(offset, data.len() as u64)?;
        self.store(offset, Some(data), data.len() as u64)
    }

    /// ERASE, then a read-back: a BMC whose ERASE leaves the data (the reference notes
    /// one QEMU version does) gets the 0xFF bytes written instead.
    fn erase(&mut self, offset: u64, len: u64) -> Result<(), Error> {
        self.check_range(offset, len)?;
        let g = u64::from(self.erase_granule());
        if !offset.is_multiple_of(g) || !len.is_multiple_of(g) {
            return Err(Error::OutOfRange);
        }
        let shift = self.map.geometry.map_or(12, |g| g.block_shift);
        let mut at = offset;
        while at < offset + len {
            let w = self.window_at(true, at, offset + len - at)?;
            let n = (offset + len - at).min(w.flash_offset + w.len - at);
            let rel = (at - w.flash_offset) >> shift;
            let mut args = [0u8; 4];
            args[..2].copy_from_slice(&(rel as u16).to_le_bytes());
            args[2..].copy_from_slice(&((n >> shift) as u16).to_le_bytes());
            self.send_expecting(command::ERASE, &args, 0)?;
            self.send_expecting(command::FLUSH, &[], 0)?;
            let mut chunk = [0u8; 256];
            let mut erased = true;
            let mut seen = 0u64;
            while seen < n && erased {
                let k = (n - seen).min(chunk.len() as u64) as usize;
                self.map.fw.read(
                    w.lpc_addr + (at + seen - w.flash_offset) as u32,
                    &mut chunk[..k],
                );
                erased = chunk[..k].iter().all(|&b| b == 0xff);
                seen += k as u64;
            }
            if !erased {
                self.store(at, None, n)?;
            }
            at += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{FakeBmc, Log};

    fn setup(flash_len: usize, max_window_blocks: u16) -> FakeBmc {
        let mut f = FakeBmc::new(flash_len, 12, max_window_blocks);
        for (i, b) in f.flash_mut().iter_mut().enumerate() {
            *b = (i * 7 + i / 4096) as u8;
        }
        f
    }

    #[test]
    fn negotiates_version_2_and_the_geometry() {
        let mut bmc = setup(0x10_0000, 4);
        let mut map = Hiomap::new(bmc.fw());
        let g = map.session(&mut bmc).negotiate().unwrap();
        assert_eq!(
            g,
            Geometry {
                block_shift: 12,
                timeout_s: 0,
                flash_size: 0x10_0000,
                erase_granule: 4096
            }
        );
        assert_eq!(
            bmc.log(),
            vec![
                Log::Cmd(command::GET_INFO, vec![2]),
                Log::Cmd(command::GET_FLASH_INFO, vec![])
            ]
        );
    }

    #[test]
    fn a_v1_bmc_is_refused() {
        let mut bmc = setup(0x10_0000, 4);
        bmc.set_version(1);
        let mut map = Hiomap::new(bmc.fw());
        assert!(matches!(
            map.session(&mut bmc).negotiate(),
            Err(Error::Protocol(_))
        ));
        assert_eq!(map.geometry(), None);
    }

    #[test]
    fn reads_across_small_moving_windows() {
        let mut bmc = setup(0x10_0000, 2);
        let expect = bmc.flash_mut()[0x3f00..0x3f00 + 0x5200].to_vec();
        let mut map = Hiomap::new(bmc.fw());
        let mut buf = vec![0u8; 0x5200];
        map.session(&mut bmc).read(0x3f00, &mut buf).unwrap();
        assert_eq!(buf, expect);
        // 0x3f00..0x9100 in two-block windows: blocks 3-4, 5-6, 7-8, 9.
        assert_eq!(bmc.windows_created(), 4);
        assert_eq!(bmc.stray_accesses(), 0);
        // A read inside the open window reuses it.
        map.session(&mut bmc).read(0x9000, &mut buf[..16]).unwrap();
        assert_eq!(bmc.windows_created(), 4);
    }

    #[test]
    fn a_window_that_misses_the_request_is_an_error() {
        let mut bmc = setup(0x10_0000, 2);
        bmc.misplace_windows_by(0x10);
        let mut map = Hiomap::new(bmc.fw());
        let mut b = [0u8; 8];
        assert_eq!(
            map.session(&mut bmc).read(0x2000, &mut b),
            Err(Error::Protocol("window does not cover the request"))
        );
        assert_eq!(map.window(), None);
    }

    #[test]
    fn writes_are_marked_dirty_and_flushed_in_each_window() {
        let mut bmc = setup(0x10_0000, 2);
        let mut map = Hiomap::new(bmc.fw());
        let data: Vec<u8> = (0..0x2100u32).map(|i| (i % 251) as u8).collect();
        let before = bmc.flash_mut().to_vec();
        map.session(&mut bmc).write(0x1ff0, &data).unwrap();
        let after = bmc.flash_mut().to_vec();
        assert_eq!(&after[0x1ff0..0x1ff0 + 0x2100], &data[..]);
        assert_eq!(&after[..0x1ff0], &before[..0x1ff0]);
        assert_eq!(&after[0x40f0..], &before[0x40f0..]);
        // Blocks 1-2 then 3-4: each window dirtied and flushed before the next opened.
        let cmds: Vec<u8> = bmc.commands();
        use command::*;
        assert_eq!(
            cmds,
            vec![
                GET_INFO,
                GET_FLASH_INFO,
                CREATE_WRITE_WINDOW,
                MARK_DIRTY,
                FLUSH,
                CREATE_WRITE_WINDOW,
                MARK_DIRTY,
                FLUSH
            ]
        );
        assert_eq!(bmc.stray_accesses(), 0);
    }

    #[test]
    fn a_read_window_is_not_used_for_writing() {
        let mut bmc = setup(0x10_0000, 4);
        let mut map = Hiomap::new(bmc.fw());
        let mut b = [0u8; 4];
        map.session(&mut bmc).read(0x1000, &mut b).unwrap();
        map.session(&mut bmc).write(0x1000, b"abcd").unwrap();
        assert_eq!(bmc.windows_created(), 2);
        assert_eq!(&bmc.flash_mut()[0x1000..0x1004], b"abcd");
    }

    #[test]
    fn erase_sets_ones_even_when_the_bmc_erase_does_nothing() {
        for noop in [false, true] {
            let mut bmc = setup(0x10_0000, 2);
            bmc.set_erase_is_noop(noop);
            let mut map = Hiomap::new(bmc.fw());
            map.session(&mut bmc).erase(0x1000, 0x3000).unwrap();
            let f = bmc.flash_mut();
            assert!(f[0x1000..0x4000].iter().all(|&b| b == 0xff), "noop={noop}");
            assert_ne!(f[0xfff], 0xff);
            assert_ne!(f[0x4000], 0xff);
        }
    }

    #[test]
    fn out_of_range_and_misaligned_accesses_change_nothing() {
        let mut bmc = setup(0x10_0000, 2);
        let before = bmc.flash_mut().to_vec();
        let mut map = Hiomap::new(bmc.fw());
        {
            let mut s = map.session(&mut bmc);
            let mut b = [0u8; 16];
            assert_eq!(s.read(0x10_0000 - 8, &mut b), Err(Error::OutOfRange));
            assert_eq!(s.write(u64::MAX - 2, b"xyz"), Err(Error::OutOfRange));
            assert_eq!(s.erase(0x800, 0x1000), Err(Error::OutOfRange));
            assert_eq!(s.erase(0x1000, 0x800), Err(Error::OutOfRange));
        }
        assert_eq!(bmc.flash_mut().to_vec(), before);
        assert_eq!(bmc.windows_created(), 0);
    }

    #[test]
    fn bmc_errors_come_back_as_they_are() {
        let mut bmc = setup(0x10_0000, 2);
        bmc.fail_command(command::CREATE_READ_WINDOW, 0xc0);
        let mut map = Hiomap::new(bmc.fw());
        let mut b = [0u8; 4];
        assert_eq!(map.session(&mut bmc).read(0, &mut b), Err(Error::Bmc(0xc0)));
        assert_eq!(map.window(), None);
    }

    #[test]
    fn window_reset_reopens_and_protocol_reset_renegotiates_after_an_ack() {
        let mut bmc = setup(0x10_0000, 4);
        let mut map = Hiomap::new(bmc.fw());
        let mut b = [0u8; 4];
        map.session(&mut bmc).read(0, &mut b).unwrap();
        bmc.clear_log();
        map.note_events(event::DAEMON_READY | event::WINDOW_RESET);
        bmc.drop_windows();
        map.session(&mut bmc).read(0, &mut b).unwrap();
        assert_eq!(
            bmc.commands(),
            vec![command::ACK, command::CREATE_READ_WINDOW]
        );
        assert_eq!(
            bmc.log()[0],
            Log::Cmd(command::ACK, vec![event::WINDOW_RESET])
        );
        bmc.clear_log();
        map.note_events(event::DAEMON_READY | event::PROTOCOL_RESET);
        map.session(&mut bmc).read(0, &mut b).unwrap();
        assert_eq!(
            bmc.commands(),
            vec![
                command::ACK,
                command::GET_INFO,
                command::GET_FLASH_INFO,
                command::CREATE_READ_WINDOW
            ]
        );
    }

    #[test]
    fn a_lost_flash_fails_until_the_daemon_is_back() {
        let mut bmc = setup(0x10_0000, 4);
        let mut map = Hiomap::new(bmc.fw());
        let mut b = [0u8; 4];
        map.note_events(event::FLASH_LOST);
        assert_eq!(
            map.session(&mut bmc).read(0, &mut b),
            Err(Error::Unavailable)
        );
        map.note_events(0);
        assert_eq!(
            map.session(&mut bmc).read(0, &mut b),
            Err(Error::Unavailable)
        );
        assert!(bmc.commands().is_empty());
        map.note_events(event::DAEMON_READY);
        map.session(&mut bmc).read(0, &mut b).unwrap();
    }

    #[test]
    fn a_reply_for_another_request_is_refused() {
        let mut bmc = setup(0x10_0000, 4);
        bmc.corrupt_sequence();
        let mut map = Hiomap::new(bmc.fw());
        assert_eq!(
            map.session(&mut bmc).negotiate(),
            Err(Error::Protocol("reply to another request"))
        );
    }

    #[test]
    fn close_sends_close_window_once() {
        let mut bmc = setup(0x10_0000, 4);
        let mut map = Hiomap::new(bmc.fw());
        let mut b = [0u8; 4];
        map.session(&mut bmc).read(0, &mut b).unwrap();
        map.session(&mut bmc).close().unwrap();
        map.session(&mut bmc).close().unwrap();
        let closes = bmc
            .commands()
            .iter()
            .filter(|&&c| c == command::CLOSE_WINDOW)
            .count();
        assert_eq!(closes, 1);
    }
}
