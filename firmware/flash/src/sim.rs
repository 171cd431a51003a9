// SPDX-License-Identifier: Apache-2.0
//! Host-test models: RAM behind FW space, and a fake BMC that lends small windows onto
//! its flash at moving LPC addresses, as a real HIOMAP daemon may. The fake is strict:
//! data written to a window reaches the flash only through MARK_DIRTY and FLUSH, and
//! an access outside the open window is counted as stray.
use std::cell::RefCell;
use std::rc::Rc;

use crate::hiomap::{command, Transport};
use crate::{Error, FwSpace};

/// Plain memory at LPC address 0.
pub struct RamFw {
    pub mem: Vec<u8>,
}

impl RamFw {
    pub fn new(len: usize) -> Self {
        Self { mem: vec![0; len] }
    }
}

impl FwSpace for RamFw {
    fn read(&mut self, lpc: u32, buf: &mut [u8]) {
        let a = lpc as usize;
        buf.copy_from_slice(&self.mem[a..a + buf.len()]);
    }
    fn write(&mut self, lpc: u32, data: &[u8]) {
        let a = lpc as usize;
        self.mem[a..a + data.len()].copy_from_slice(data);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Log {
    Cmd(u8, Vec<u8>),
}

struct OpenWindow {
    writable: bool,
    lpc: u32,
    flash_offset: usize,
    buf: Vec<u8>,
    dirty: Vec<bool>,
}

struct State {
    flash: Vec<u8>,
    shift: u8,
    max_window_blocks: u16,
    version: u8,
    window: Option<OpenWindow>,
    created: usize,
    stray: usize,
    misplace_blocks: u16,
    erase_noop: bool,
    fail: Option<(u8, u8)>,
    corrupt_seq: bool,
    log: Vec<Log>,
}

pub struct FakeBmc {
    s: Rc<RefCell<State>>,
}

pub struct FakeFw {
    s: Rc<RefCell<State>>,
}

impl FakeBmc {
    pub fn new(flash_len: usize, shift: u8, max_window_blocks: u16) -> Self {
        Self {
            s: Rc::new(RefCell::new(State {
                flash: vec![0; flash_len],
                shift,
                max_window_blocks,
                version: 2,
                window: None,
                created: 0,
                stray: 0,
                misplace_blocks: 0,
                erase_noop: false,
                fail: None,
                corrupt_seq: false,
                log: Vec::new(),
            })),
        }
    }
    pub fn fw(&self) -> FakeFw {
        FakeFw { s: self.s.clone() }
    }
    pub fn flash_mut(&mut self) -> std::cell::RefMut<'_, Vec<u8>> {
        std::cell::RefMut::map(self.s.borrow_mut(), |s| &mut s.flash)
    }
    pub fn set_version(&mut self, v: u8) {
        self.s.borrow_mut().version = v;
    }
    pub fn misplace_windows_by(&mut self, blocks: u16) {
        self.s.borrow_mut().misplace_blocks = blocks;
    }
    pub fn set_erase_is_noop(&mut self, noop: bool) {
        self.s.borrow_mut().erase_noop = noop;
    }
    pub fn fail_command(&mut self, cmd: u8, cc: u8) {
        self.s.borrow_mut().fail = Some((cmd, cc));
    }
    pub fn corrupt_sequence(&mut self) {
        self.s.borrow_mut().corrupt_seq = true;
    }
    /// The BMC drops its window (what precedes a WINDOW_RESET event).
    pub fn drop_windows(&mut self) {
        self.s.borrow_mut().window = None;
    }
    pub fn windows_created(&self) -> usize {
        self.s.borrow().created
    }
    pub fn stray_accesses(&self) -> usize {
        self.s.borrow().stray
    }
    pub fn log(&self) -> Vec<Log> {
        self.s.borrow().log.clone()
    }
    pub fn commands(&self) -> Vec<u8> {
        self.s
            .borrow()
            .log
            .iter()
            .map(|Log::Cmd(c, _)| *c)
            .collect()
    }
    pub fn clear_log(&mut self) {
        self.s.borrow_mut().log.clear();
    }
}

fn le16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

impl Transport for FakeBmc {
    fn exchange(&mut self, req: &[u8], reply: &mut [u8]) -> Result<usize, Error> {
        let mut s = self.s.borrow_mut();
        let (cmd, seq, args) = (req[0], req[1], &req[2..]);
        s.log.push(Log::Cmd(cmd, args.to_vec()));
        if let Some((c, cc)) = s.fail {
            if c == cmd {
                return Err(Error::Bmc(cc));
            }
        }
        let block = 1usize << s.shift;
        let mut out = vec![cmd, if s.corrupt_seq { seq ^ 1 } else { seq }];
        match cmd {
            command::GET_INFO => out.extend([s.version, s.shift, 0, 0]),
            command::GET_FLASH_INFO => {
                let blocks = (s.flash.len() / block) as u16;
                out.extend(blocks.to_le_bytes());
                out.extend(1u16.to_le_bytes());
            }
            command::CREATE_READ_WINDOW | command::CREATE_WRITE_WINDOW => {
                let first = le16(args, 0) + usize::from(s.misplace_blocks);
                let total = s.flash.len() / block;
                if first >= total {
                    return Err(Error::Bmc(0xc9));
                }
                let count = le16(args, 2)
                    .min(usize::from(s.max_window_blocks))
                    .min(total - first)
                    .max(1);
                // A new LPC address each time, as a daemon recycling its buffers may.
                let lpc = 0x0f00_0000u32 + (s.created as u32 % 3) * 0x10_0000;
                s.created += 1;
                let off = first * block;
                let buf = s.flash[off..off + count * block].to_vec();
                s.window = Some(OpenWindow {
                    writable: cmd == command::CREATE_WRITE_WINDOW,
                    lpc,
                    flash_offset: off,
                    buf,
                    dirty: vec![false; count],
                });
                out.extend(((lpc as usize / block) as u16).to_le_bytes());
                out.extend((count as u16).to_le_bytes());
                out.extend((first as u16).to_le_bytes());
            }
            command::CLOSE_WINDOW => s.window = None,
            command::MARK_DIRTY | command::ERASE => {
                let noop = s.erase_noop;
                let Some(w) = s.window.as_mut().filter(|w| w.writable) else {
                    return Err(Error::Bmc(0xd5));
                };
                let (first, count) = (le16(args, 0), le16(args, 2));
                if first + count > w.dirty.len() {
                    return Err(Error::Bmc(0xc9));
                }
                for b in first..first + count {
                    w.dirty[b] = true;
                    if cmd == command::ERASE && !noop {
                        w.buf[b * block..(b + 1) * block].fill(0xff);
                    }
                }
            }
            command::FLUSH => {
                if let Some(w) = s.window.take() {
                    for (b, _) in w.dirty.iter().enumerate().filter(|(_, d)| **d) {
                        let at = w.flash_offset + b * block;
                        s.flash[at..at + block].copy_from_slice(&w.buf[b * block..(b + 1) * block]);
                    }
                    let mut w = w;
                    w.dirty.fill(false);
                    s.window = Some(w);
                }
            }
            command::ACK => {}
            _ => return Err(Error::Bmc(0xc1)),
        }
        reply[..out.len()].copy_from_slice(&out);
        Ok(out.len())
    }
}

impl FwSpace for FakeFw {
    fn read(&mut self, lpc: u32, buf: &mut [u8]) {
        let mut s = self.s.borrow_mut();
        let hit = s.window.as_ref().and_then(|w| {
            let rel = lpc.checked_sub(w.lpc)? as usize;
            (rel + buf.len() <= w.buf.len()).then(|| w.buf[rel..rel + buf.len()].to_vec())
        });
        match hit {
            Some(d) => buf.copy_from_slice(&d),
            None => {
                s.stray += 1;
                buf.fill(0xff);
            }
        }
    }
    fn write(&mut self, lpc: u32, data: &[u8]) {
        let mut s = self.s.borrow_mut();
        let ok = match s.window.as_mut() {
            Some(w) if w.writable => match lpc.checked_sub(w.lpc) {
                Some(rel) if rel as usize + data.len() <= w.buf.len() => {
                    let rel = rel as usize;
                    w.buf[rel..rel + data.len()].copy_from_slice(data);
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if !ok {
            s.stray += 1;
        }
    }
}
