// SPDX-License-Identifier: Apache-2.0
//! A software model of QEMU's BT interface (`hw/ipmi/ipmi_bt.c`, behind `isa-ipmi-bt`) and
//! of the part of its BMC simulator (`hw/ipmi/ipmi_bmc_sim.c`) Opalite uses, implementing
//! [`IoPort`] so the driver runs unchanged in host tests. Built for this crate's tests and,
//! with the `sim` feature, for other crates' tests. `no_std`, no allocation.
//!
//! Modelled as QEMU does it:
//! * `BT_CTRL` writes: `CLR_WR_PTR` empties the request buffer, `CLR_RD_PTR` rewinds the
//!   response, `B2H_ATN`/`SMS_ATN` are write-1-to-clear, `H_BUSY` toggles, `H2B_ATN` sets
//!   `B_BUSY` and processes the request at once (so `H2B_ATN` never reads back as 1).
//! * A request whose length byte is not (bytes written − 1) is dropped and **`B_BUSY` stays
//!   set**; so is one shorter than 4 bytes.
//! * Get BT Interface Capabilities is answered by the BT layer itself (1 request, buffer
//!   sizes 0xFF, 10 s, 0 retries).
//! * BMC: completion 0xC2 for a LUN other than 0, 0xC1 for an unknown command, 0xC7 for
//!   data shorter than the command needs; Chassis Control (actions 0-5, else 0xCC), Get
//!   Device ID, Get/Set SEL Time.
//! * The response copies the request's sequence number; delivering it clears `B_BUSY`, sets
//!   `B2H_ATN` and, if `B2H_IRQEN` is set, `B2H_IRQ`.
//! * Reading the FIFO past the end of the response returns 0xFF; reading its last byte
//!   empties it.
//!
//! Test knobs beyond QEMU: a slow or silent BMC ([`Behaviour`]), forcing `B_BUSY`, injecting
//! an arbitrary response frame, and a log of every register access.
use core::cell::{Cell, RefCell};

use crate::bt::{
    Clock, IoPort, BT_CTRL, BT_CTRL_B2H_ATN, BT_CTRL_B_BUSY, BT_CTRL_CLR_RD_PTR,
    BT_CTRL_CLR_WR_PTR, BT_CTRL_H2B_ATN, BT_CTRL_H_BUSY, BT_CTRL_SMS_ATN, BT_HOST2BMC, BT_INTMASK,
    BT_INTMASK_B2H_IRQ, BT_INTMASK_B2H_IRQEN, BT_IO_BASE,
};

/// QEMU's `MAX_IPMI_MSG_SIZE`: the size of the BT input and output buffers.
pub const MAX_IPMI_MSG_SIZE: usize = 300;
/// Register accesses kept in the log: the most recent ones.
pub const OP_LOG_LEN: usize = 1024;

/// One register access, `reg` relative to the interface base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoOp {
    In { reg: u16, val: u8 },
    Out { reg: u16, val: u8 },
}

/// How the simulated BMC answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// During the `H2B_ATN` write, as QEMU's simulator does.
    Immediate,
    /// After this many further reads of `BT_CTRL` (a slow BMC).
    AfterCtrlReads(u32),
    /// Never: requests are accepted and dropped, `B_BUSY` stays set.
    Never,
}

/// A byte frame (a request as the BMC received it, or a response).
#[derive(Clone, Copy)]
pub struct Frame {
    buf: [u8; MAX_IPMI_MSG_SIZE],
    len: usize,
}

impl Frame {
    const EMPTY: Frame = Frame {
        buf: [0; MAX_IPMI_MSG_SIZE],
        len: 0,
    };

    fn from_slice(bytes: &[u8]) -> Self {
        let mut f = Self::EMPTY;
        let n = bytes.len().min(MAX_IPMI_MSG_SIZE);
        f.buf[..n].copy_from_slice(&bytes[..n]);
        f.len = n;
        f
    }
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl core::fmt::Debug for Frame {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.bytes().fmt(f)
    }
}

/// A copy of the register access log.
#[derive(Clone, Copy)]
pub struct OpLog {
    ops: [IoOp; OP_LOG_LEN],
    len: usize,
}

impl OpLog {
    pub fn as_slice(&self) -> &[IoOp] {
        &self.ops[..self.len]
    }
}

struct State {
    ctrl: u8,
    intmask: u8,
    irq: bool,
    inmsg: [u8; MAX_IPMI_MSG_SIZE],
    inlen: usize,
    outmsg: [u8; MAX_IPMI_MSG_SIZE],
    outlen: usize,
    outpos: usize,
    waiting_seq: u8,
    behaviour: Behaviour,
    pending: Option<Frame>,
    countdown: u32,
    // BMC
    sel_time: u32,
    device_id: [u8; 11],
    chassis_last: Option<u8>,
    chassis_count: u32,
    requests: u32,
    last_request: Frame,
    // bookkeeping
    ops: [IoOp; OP_LOG_LEN],
    nops: usize,
    stray: u32,
}

/// The simulated BT interface and BMC.
pub struct BtSim {
    base: u16,
    st: RefCell<State>,
}

impl Default for BtSim {
    fn default() -> Self {
        Self::new(BT_IO_BASE)
    }
}

impl BtSim {
    /// An idle interface at LPC I/O `base`, answering at once, SEL time 0.
    pub fn new(base: u16) -> Self {
        Self {
            base,
            st: RefCell::new(State {
                ctrl: 0,
                intmask: 0,
                irq: false,
                inmsg: [0; MAX_IPMI_MSG_SIZE],
                inlen: 0,
                outmsg: [0; MAX_IPMI_MSG_SIZE],
                outlen: 0,
                outpos: 0,
                waiting_seq: 0,
                behaviour: Behaviour::Immediate,
                pending: None,
                countdown: 0,
                sel_time: 0,
                // QEMU's defaults: device id 0x20, IPMI 2.0, SDR/SEL/sensor support.
                device_id: [0x20, 0x00, 0x00, 0x00, 0x02, 0x07, 0, 0, 0, 0, 0],
                chassis_last: None,
                chassis_count: 0,
                requests: 0,
                last_request: Frame::EMPTY,
                ops: [IoOp::In { reg: 0, val: 0 }; OP_LOG_LEN],
                nops: 0,
                stray: 0,
            }),
        }
    }

    pub fn set_behaviour(&self, b: Behaviour) {
        self.st.borrow_mut().behaviour = b;
    }
    /// Current `BT_CTRL` value, without logging or side effects.
    pub fn ctrl(&self) -> u8 {
        self.st.borrow().ctrl
    }
    /// Current `BT_INTMASK` value.
    pub fn intmask(&self) -> u8 {
        self.st.borrow().intmask
    }
    /// Level of the B2H interrupt line.
    pub fn irq_raised(&self) -> bool {
        self.st.borrow().irq
    }
    /// Force `B_BUSY` on or off (a BMC that is busy with something else).
    pub fn set_bmc_busy(&self, busy: bool) {
        let mut st = self.st.borrow_mut();
        if busy {
            st.ctrl |= BT_CTRL_B_BUSY;
        } else {
            st.ctrl &= !BT_CTRL_B_BUSY;
        }
    }
    /// Set bits in `BT_CTRL` directly (e.g. `SMS_ATN`, or a stuck `H_BUSY`).
    pub fn set_ctrl_bits(&self, bits: u8) {
        self.st.borrow_mut().ctrl |= bits;
    }
    /// Put `frame` (starting with its length byte) in the response FIFO and raise `B2H_ATN`,
    /// as if the BMC had answered something.
    pub fn inject_response(&self, frame: &[u8]) {
        let mut st = self.st.borrow_mut();
        let f = Frame::from_slice(frame);
        st.deliver(&f);
    }
    pub fn sel_time(&self) -> u32 {
        self.st.borrow().sel_time
    }
    pub fn set_sel_time(&self, secs: u32) {
        self.st.borrow_mut().sel_time = secs;
    }
    /// The 11 Get Device ID data bytes the BMC answers with.
    pub fn set_device_id(&self, bytes: [u8; 11]) {
        self.st.borrow_mut().device_id = bytes;
    }
    /// Last Chassis Control action (data byte & 0xF) accepted, and how many were accepted.
    pub fn chassis(&self) -> (Option<u8>, u32) {
        let st = self.st.borrow();
        (st.chassis_last, st.chassis_count)
    }
    /// Requests handed over with `H2B_ATN`, and the last one as the BMC saw it.
    pub fn requests(&self) -> (u32, Frame) {
        let st = self.st.borrow();
        (st.requests, st.last_request)
    }
    /// The last [`OP_LOG_LEN`] register accesses, oldest first.
    pub fn ops(&self) -> OpLog {
        let st = self.st.borrow();
        let mut ops = st.ops;
        if st.nops > OP_LOG_LEN {
            ops.rotate_left(st.nops % OP_LOG_LEN);
        }
        OpLog {
            ops,
            len: st.nops.min(OP_LOG_LEN),
        }
    }
    /// Register accesses since the last [`BtSim::clear_ops`], including those no longer kept.
    pub fn op_count(&self) -> usize {
        self.st.borrow().nops
    }
    pub fn clear_ops(&self) {
        self.st.borrow_mut().nops = 0;
    }
    /// Accesses outside the three BT registers.
    pub fn stray_accesses(&self) -> u32 {
        self.st.borrow().stray
    }
}

impl State {
    fn log(&mut self, op: IoOp) {
        self.ops[self.nops % OP_LOG_LEN] = op;
        self.nops += 1;
    }

    fn read(&mut self, reg: u16) -> u8 {
        match reg {
            BT_CTRL => {
                if let (Some(f), Behaviour::AfterCtrlReads(_)) = (self.pending, self.behaviour) {
                    if self.countdown == 0 {
                        self.pending = None;
                        self.deliver(&f);
                    } else {
                        self.countdown -= 1;
                    }
                }
                self.ctrl
            }
            BT_HOST2BMC if self.outpos < self.outlen => {
                let v = self.outmsg[self.outpos];
                self.outpos += 1;
                if self.outpos == self.outlen {
                    self.outpos = 0;
                    self.outlen = 0;
                }
                v
            }
            BT_INTMASK => self.intmask,
            _ => 0xFF,
        }
    }

    fn write(&mut self, reg: u16, val: u8) {
        match reg {
            BT_CTRL => {
                if val & BT_CTRL_CLR_WR_PTR != 0 {
                    self.inlen = 0;
                }
                if val & BT_CTRL_CLR_RD_PTR != 0 {
                    self.outpos = 0;
                }
                if val & BT_CTRL_B2H_ATN != 0 {
                    self.ctrl &= !BT_CTRL_B2H_ATN;
                }
                if val & BT_CTRL_SMS_ATN != 0 {
                    self.ctrl &= !BT_CTRL_SMS_ATN;
                }
                if val & BT_CTRL_H_BUSY != 0 {
                    self.ctrl ^= BT_CTRL_H_BUSY;
                }
                if val & BT_CTRL_H2B_ATN != 0 {
                    self.ctrl |= BT_CTRL_B_BUSY;
                    self.handle_event();
                }
            }
            BT_HOST2BMC => {
                if self.inlen < MAX_IPMI_MSG_SIZE {
                    self.inmsg[self.inlen] = val;
                }
                self.inlen += 1;
            }
            BT_INTMASK => {
                let en = val & BT_INTMASK_B2H_IRQEN != 0;
                if en != (self.intmask & BT_INTMASK_B2H_IRQEN != 0) {
                    if en {
                        if self.ctrl & (BT_CTRL_B2H_ATN | BT_CTRL_SMS_ATN) != 0 {
                            self.intmask |= BT_INTMASK_B2H_IRQ;
                            self.irq = true;
                        }
                        self.intmask |= BT_INTMASK_B2H_IRQEN;
                    } else {
                        if self.intmask & BT_INTMASK_B2H_IRQ != 0 {
                            self.intmask &= !BT_INTMASK_B2H_IRQ;
                            self.irq = false;
                        }
                        self.intmask &= !BT_INTMASK_B2H_IRQEN;
                    }
                }
                if val & BT_INTMASK_B2H_IRQ != 0 && self.intmask & BT_INTMASK_B2H_IRQ != 0 {
                    self.intmask &= !BT_INTMASK_B2H_IRQ;
                    self.irq = false;
                }
            }
            _ => {}
        }
    }

    /// QEMU `ipmi_bt_handle_event`.
    fn handle_event(&mut self) {
        let inlen = self.inlen.min(MAX_IPMI_MSG_SIZE);
        self.requests += 1;
        self.last_request = Frame::from_slice(&self.inmsg[..inlen]);
        if self.inlen < 4 {
            return;
        }
        if usize::from(self.inmsg[0]) != self.inlen - 1 {
            // Length mismatch: QEMU ignores the request and leaves B_BUSY set.
            self.ctrl |= BT_CTRL_B_BUSY;
            self.inlen = 0;
            return;
        }
        if self.inmsg[1] == (0x06 << 2) && self.inmsg[3] == 0x36 {
            let m = &self.inmsg;
            let caps = [9, m[1] | 0x04, m[2], m[3], 0, 1, 0xFF, 0xFF, 10, 0];
            self.respond(Frame::from_slice(&caps));
            return;
        }
        self.waiting_seq = self.inmsg[2];
        let mut cmd = [0u8; MAX_IPMI_MSG_SIZE];
        cmd[0] = self.inmsg[1];
        cmd[1] = self.inmsg[3];
        cmd[2..inlen - 2].copy_from_slice(&self.inmsg[4..inlen]);
        let rsp = self.handle_command(&cmd[..inlen - 2], self.inlen - 2);
        // QEMU `ipmi_bt_handle_rsp`: len, netfn, seq, then cmd, cc, data.
        let r = rsp.bytes();
        let mut out = Frame::EMPTY;
        out.buf[0] = (r.len() + 1) as u8;
        out.buf[1] = r[0];
        out.buf[2] = self.waiting_seq;
        out.buf[3..r.len() + 2].copy_from_slice(&r[1..]);
        out.len = r.len() + 2;
        self.respond(out);
    }

    /// QEMU `ipmi_sim_handle_command`; `cmd` = netfn/lun, cmd, data.
    fn handle_command(&mut self, cmd: &[u8], cmd_len: usize) -> Frame {
        let mut rsp = Frame::EMPTY;
        rsp.buf[..3].copy_from_slice(&[cmd[0] | 0x04, cmd[1], 0]);
        rsp.len = 3;
        let set_error = |rsp: &mut Frame, cc: u8| rsp.buf[2] = cc;
        if cmd_len > MAX_IPMI_MSG_SIZE {
            set_error(&mut rsp, 0xC6);
            return rsp;
        }
        if cmd[0] & 0x03 != 0 {
            set_error(&mut rsp, 0xC2);
            return rsp;
        }
        let min_len = match (cmd[0] >> 2, cmd[1]) {
            (0x00, 0x02) => 3,
            (0x06, 0x01) | (0x0A, 0x48) => 0,
            (0x0A, 0x49) => 6,
            _ => {
                set_error(&mut rsp, 0xC1);
                return rsp;
            }
        };
        if cmd_len < min_len {
            set_error(&mut rsp, 0xC7);
            return rsp;
        }
        let push = |rsp: &mut Frame, bytes: &[u8]| {
            rsp.buf[rsp.len..rsp.len + bytes.len()].copy_from_slice(bytes);
            rsp.len += bytes.len();
        };
        match (cmd[0] >> 2, cmd[1]) {
            (0x00, 0x02) => match cmd[2] & 0x0F {
                action @ 0..=5 => {
                    self.chassis_last = Some(action);
                    self.chassis_count += 1;
                }
                _ => set_error(&mut rsp, 0xCC),
            },
            (0x06, 0x01) => push(&mut rsp, &self.device_id),
            (0x0A, 0x48) => push(&mut rsp, &self.sel_time.to_le_bytes()),
            (0x0A, 0x49) => {
                self.sel_time = u32::from_le_bytes([cmd[2], cmd[3], cmd[4], cmd[5]]);
            }
            _ => {}
        }
        rsp
    }

    fn respond(&mut self, out: Frame) {
        match self.behaviour {
            Behaviour::Immediate => self.deliver(&out),
            Behaviour::AfterCtrlReads(n) => {
                self.pending = Some(out);
                self.countdown = n;
            }
            Behaviour::Never => {}
        }
    }

    fn deliver(&mut self, out: &Frame) {
        self.outmsg[..out.len].copy_from_slice(out.bytes());
        self.outlen = out.len;
        self.outpos = 0;
        self.ctrl &= !BT_CTRL_B_BUSY;
        self.ctrl |= BT_CTRL_B2H_ATN;
        if self.intmask & BT_INTMASK_B2H_IRQ == 0 && self.intmask & BT_INTMASK_B2H_IRQEN != 0 {
            self.intmask |= BT_INTMASK_B2H_IRQ;
            self.irq = true;
        }
    }
}

impl IoPort for BtSim {
    fn inb(&self, port: u16) -> u8 {
        let mut st = self.st.borrow_mut();
        let reg = port.wrapping_sub(self.base);
        if reg > BT_INTMASK {
            st.stray += 1;
            return 0xFF;
        }
        let val = st.read(reg);
        st.log(IoOp::In { reg, val });
        val
    }

    fn outb(&self, port: u16, val: u8) {
        let mut st = self.st.borrow_mut();
        let reg = port.wrapping_sub(self.base);
        if reg > BT_INTMASK {
            st.stray += 1;
            return;
        }
        st.log(IoOp::Out { reg, val });
        st.write(reg, val);
    }
}

/// A clock for tests: every [`Clock::now_us`] returns the current time and then advances it
/// by `step` microseconds (0 = a stuck clock).
pub struct SimClock {
    now: Cell<u64>,
    step: u64,
    relaxes: Cell<u64>,
}

impl SimClock {
    pub const fn new(step: u64) -> Self {
        Self {
            now: Cell::new(0),
            step,
            relaxes: Cell::new(0),
        }
    }
    pub fn advance(&self, us: u64) {
        self.now.set(self.now.get() + us);
    }
    pub fn peek(&self) -> u64 {
        self.now.get()
    }
    /// How often the driver called [`Clock::relax`].
    pub fn relaxes(&self) -> u64 {
        self.relaxes.get()
    }
}

impl Clock for SimClock {
    fn now_us(&self) -> u64 {
        let t = self.now.get();
        self.now.set(t.saturating_add(self.step));
        t
    }
    fn relax(&self) {
        self.relaxes.set(self.relaxes.get() + 1);
    }
}
