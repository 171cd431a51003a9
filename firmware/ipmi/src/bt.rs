// SPDX-License-Identifier: Apache-2.0
//! The BT ("Block Transfer") system interface, host side: register layout, request framing,
//! and a driver that sends one request at a time and matches the response by sequence
//! number, NetFn and command.
//!
//! Mirrors skiboot `hw/bt.c` (`bt_send_msg`, `bt_get_resp`, `bt_set_h_busy`, `bt_idle`,
//! `bt_reset_interface`); the register semantics were checked against QEMU
//! `hw/ipmi/ipmi_bt.c`, which is what `-M powernv9/10` puts at LPC I/O 0xE4:
//!
//! | CTRL bit written as 1 | QEMU's effect |
//! |---|---|
//! | `CLR_WR_PTR` | host-to-BMC write pointer back to 0 |
//! | `CLR_RD_PTR` | BMC-to-host read pointer back to 0 |
//! | `H2B_ATN` | sets `B_BUSY` and hands the FIFO to the BMC at once (never reads back as 1 in QEMU) |
//! | `B2H_ATN`, `SMS_ATN` | clear that bit (write-1-to-clear) |
//! | `H_BUSY` | **toggles** `H_BUSY`, so it is only written when it must change |
//!
//! The BMC clears `B_BUSY` and sets `B2H_ATN` when the response is in the FIFO. A request
//! frame is `len, netfn<<2|lun, seq, cmd, data…` with `len` = 3 + data; a response frame is
//! `len, netfn<<2|lun, seq, cmd, cc, data…` with `len` = 4 + data. QEMU copies the request's
//! sequence number into its response.
//!
//! Nothing here waits without bound: [`Bt::poll`] never blocks, and the blocking calls
//! ([`Bt::transact`], [`Bt::request`]) stop at a deadline on the [`Clock`] and after a poll
//! budget, whichever comes first.
use core::fmt;

/// LPC I/O address of the BT interface on QEMU powernv and on AST2x00 BMC machines
/// (the `reg` of the device-tree node compatible with `"ipmi-bt"`).
pub const BT_IO_BASE: u16 = 0xE4;

/// Register offsets from the interface base.
pub const BT_CTRL: u16 = 0;
/// Host-to-BMC FIFO on writes, BMC-to-host FIFO on reads.
#[doc(alias = "BT_BMC2HOST")]
pub const BT_HOST2BMC: u16 = 1;
pub const BT_INTMASK: u16 = 2;

/// `BT_CTRL` bits (skiboot `hw/bt.c`).
pub const BT_CTRL_B_BUSY: u8 = 0x80;
pub const BT_CTRL_H_BUSY: u8 = 0x40;
pub const BT_CTRL_OEM0: u8 = 0x20;
pub const BT_CTRL_SMS_ATN: u8 = 0x10;
pub const BT_CTRL_B2H_ATN: u8 = 0x08;
pub const BT_CTRL_H2B_ATN: u8 = 0x04;
pub const BT_CTRL_CLR_RD_PTR: u8 = 0x02;
pub const BT_CTRL_CLR_WR_PTR: u8 = 0x01;

/// `BT_INTMASK` bits (skiboot `hw/bt.c`).
pub const BT_INTMASK_B2H_IRQEN: u8 = 0x01;
pub const BT_INTMASK_B2H_IRQ: u8 = 0x02;
pub const BT_INTMASK_BMC_HWRST: u8 = 0x80;

/// Header bytes counted by a request's length byte: NetFn/LUN, seq, cmd.
pub const BT_MIN_REQ_LEN: u8 = 3;
/// Header bytes counted by a response's length byte: NetFn/LUN, seq, cmd, completion code.
pub const BT_MIN_RESP_LEN: u8 = 4;

/// Most data bytes a request can carry: the length byte is a `u8`.
pub const MAX_REQ_DATA: usize = u8::MAX as usize - BT_MIN_REQ_LEN as usize;
/// Most data bytes a response can carry.
pub const MAX_RESP_DATA: usize = u8::MAX as usize - BT_MIN_RESP_LEN as usize;

/// Default time from [`Bt::start`] to giving up: skiboot's `BT_MSG_TIMEOUT` (3 s).
pub const DEFAULT_TIMEOUT_US: u64 = 3_000_000;
/// Default cap on polls in the blocking calls, in case the [`Clock`] does not advance. Each
/// poll reads `BT_CTRL` over LPC (about a microsecond or more), so this is well above
/// [`DEFAULT_TIMEOUT_US`] when the clock works.
pub const DEFAULT_POLL_LIMIT: u32 = 10_000_000;

/// Byte access to LPC I/O space. The firmware implements it over the LPC MMIO window
/// (`lbzcix`/`stbcix`); host tests implement it with `sim::BtSim`.
pub trait IoPort {
    fn inb(&self, port: u16) -> u8;
    fn outb(&self, port: u16, val: u8);
}

impl<T: IoPort + ?Sized> IoPort for &T {
    fn inb(&self, port: u16) -> u8 {
        (**self).inb(port)
    }
    fn outb(&self, port: u16, val: u8) {
        (**self).outb(port, val)
    }
}

/// Monotonic time for the driver's deadlines.
pub trait Clock {
    /// Microseconds since any fixed point (e.g. timebase / 512 on POWER9/10).
    fn now_us(&self) -> u64;
    /// Called between two polls of a blocking wait; may pause briefly. Default: nothing.
    fn relax(&self) {}
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now_us(&self) -> u64 {
        (**self).now_us()
    }
    fn relax(&self) {
        (**self).relax()
    }
}

/// Why a BT exchange failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BtError {
    /// This driver already has a request in flight (BT allows one outstanding request
    /// here, as QEMU's capabilities say); finish or [`Bt::abort`] it first.
    Busy,
    /// [`Bt::poll`] was called with no request in flight.
    NoRequest,
    /// The BMC kept `B_BUSY` (or `H2B_ATN`) set until the deadline: the request was
    /// **not** sent, so it is safe to retry.
    BmcBusy,
    /// The request was sent but no response with its sequence number arrived in time.
    Timeout,
    /// A response arrived but is malformed or does not answer the request.
    BadResponse(BadResponse),
    /// The BMC answered with a non-zero completion code (typed helpers only; the raw
    /// [`Bt::transact`] returns the code instead).
    Completion(u8),
    /// More than [`MAX_REQ_DATA`] data bytes.
    RequestTooLong { len: usize },
    /// A request NetFn must be even and below 0x40.
    InvalidNetFn(u8),
    /// The caller's response buffer is shorter than the response data.
    BufferTooSmall { needed: usize },
}

/// What was wrong with a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadResponse {
    /// The length byte is below [`BT_MIN_RESP_LEN`].
    ShortLength(u8),
    /// The sequence number matched but NetFn (as received, without LUN) or command did not
    /// answer the request.
    Mismatch { netfn: u8, cmd: u8 },
    /// A typed command got a data length it cannot parse.
    DataLength { expected: usize, got: usize },
}

impl fmt::Display for BtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BtError::Busy => f.write_str("a BT request is already in flight"),
            BtError::NoRequest => f.write_str("no BT request in flight"),
            BtError::BmcBusy => f.write_str("BMC stayed busy; request not sent"),
            BtError::Timeout => f.write_str("no BT response before the deadline"),
            BtError::BadResponse(BadResponse::ShortLength(l)) => {
                write!(f, "BT response length {l} is too short")
            }
            BtError::BadResponse(BadResponse::Mismatch { netfn, cmd }) => {
                write!(
                    f,
                    "BT response netfn {netfn:#04x} cmd {cmd:#04x} does not match"
                )
            }
            BtError::BadResponse(BadResponse::DataLength { expected, got }) => {
                write!(f, "BT response has {got} data bytes, expected {expected}")
            }
            BtError::Completion(cc) => write!(f, "IPMI completion code {cc:#04x}"),
            BtError::RequestTooLong { len } => write!(f, "IPMI request data too long ({len})"),
            BtError::InvalidNetFn(n) => write!(f, "invalid request netfn {n:#04x}"),
            BtError::BufferTooSmall { needed } => {
                write!(f, "response buffer too small ({needed} bytes needed)")
            }
        }
    }
}

/// An IPMI request: NetFn (even, the request form), command and data. LUN is always 0.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Request {
    netfn: u8,
    cmd: u8,
    len: u8,
    data: [u8; MAX_REQ_DATA],
}

impl Request {
    /// Checks the NetFn and the data length, and copies the data.
    pub fn new(netfn: u8, cmd: u8, data: &[u8]) -> Result<Self, BtError> {
        if netfn & 1 != 0 || netfn >= 0x40 {
            return Err(BtError::InvalidNetFn(netfn));
        }
        if data.len() > MAX_REQ_DATA {
            return Err(BtError::RequestTooLong { len: data.len() });
        }
        let mut buf = [0; MAX_REQ_DATA];
        buf[..data.len()].copy_from_slice(data);
        Ok(Self {
            netfn,
            cmd,
            len: data.len() as u8,
            data: buf,
        })
    }

    /// For requests fixed at compile time (the typed commands); the caller guarantees a
    /// valid NetFn, the length is checked at compile time.
    pub(crate) const fn fixed<const N: usize>(netfn: u8, cmd: u8, data: [u8; N]) -> Self {
        const { assert!(N <= MAX_REQ_DATA) };
        let mut buf = [0; MAX_REQ_DATA];
        let mut i = 0;
        while i < N {
            buf[i] = data[i];
            i += 1;
        }
        Self {
            netfn,
            cmd,
            len: N as u8,
            data: buf,
        }
    }

    pub const fn netfn(&self) -> u8 {
        self.netfn
    }
    pub const fn cmd(&self) -> u8 {
        self.cmd
    }
    pub fn data(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("netfn", &self.netfn)
            .field("cmd", &self.cmd)
            .field("data", &self.data())
            .finish()
    }
}

/// A response read from the BMC-to-host FIFO.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Response {
    netfn_lun: u8,
    seq: u8,
    cmd: u8,
    cc: u8,
    len: u8,
    data: [u8; MAX_RESP_DATA],
}

impl Response {
    /// NetFn as received (the response form, i.e. the request NetFn | 1).
    pub const fn netfn(&self) -> u8 {
        self.netfn_lun >> 2
    }
    pub const fn lun(&self) -> u8 {
        self.netfn_lun & 3
    }
    pub const fn seq(&self) -> u8 {
        self.seq
    }
    pub const fn cmd(&self) -> u8 {
        self.cmd
    }
    pub const fn completion_code(&self) -> u8 {
        self.cc
    }
    pub fn data(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }
    /// The data if the completion code is 0, else [`BtError::Completion`].
    pub fn ok_data(&self) -> Result<&[u8], BtError> {
        match self.cc {
            0 => Ok(self.data()),
            cc => Err(BtError::Completion(cc)),
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("netfn", &self.netfn())
            .field("lun", &self.lun())
            .field("seq", &self.seq)
            .field("cmd", &self.cmd)
            .field("cc", &self.cc)
            .field("data", &self.data())
            .finish()
    }
}

/// Identifies the request in flight, as returned by [`Bt::start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHandle {
    pub seq: u8,
    pub netfn: u8,
    pub cmd: u8,
}

const FRAME_MAX: usize = 1 + BT_MIN_REQ_LEN as usize + MAX_REQ_DATA;

struct InFlight {
    handle: RequestHandle,
    frame: [u8; FRAME_MAX],
    frame_len: usize,
    sent: bool,
    deadline: u64,
}

/// Register access relative to the interface base.
struct Regs<'a, P> {
    io: &'a P,
    base: u16,
}

impl<P: IoPort> Regs<'_, P> {
    fn ctrl(&self) -> u8 {
        self.io.inb(self.base.wrapping_add(BT_CTRL))
    }
    fn set_ctrl(&self, v: u8) {
        self.io.outb(self.base.wrapping_add(BT_CTRL), v)
    }
    fn fifo_read(&self) -> u8 {
        self.io.inb(self.base.wrapping_add(BT_HOST2BMC))
    }
    fn fifo_write(&self, v: u8) {
        self.io.outb(self.base.wrapping_add(BT_HOST2BMC), v)
    }
    fn set_intmask(&self, v: u8) {
        self.io.outb(self.base.wrapping_add(BT_INTMASK), v)
    }

    /// Send `frame` if the BMC is idle (skiboot `bt_idle`: neither `B_BUSY` nor `H2B_ATN`),
    /// first dropping a response nobody asked for that is still flagged by `B2H_ATN` (it
    /// cannot be the answer to a request not yet sent). Returns (sent, stale dropped).
    fn try_send(&self, frame: &[u8]) -> (bool, bool) {
        let mut ctrl = self.ctrl();
        let stale = ctrl & BT_CTRL_B2H_ATN != 0;
        if stale {
            self.discard_response();
            ctrl = self.ctrl();
        }
        if ctrl & (BT_CTRL_B_BUSY | BT_CTRL_H2B_ATN) != 0 {
            return (false, stale);
        }
        self.send(frame);
        (true, stale)
    }

    /// skiboot `bt_set_h_busy`: H_BUSY toggles on a write of 1, so read it first.
    fn set_h_busy(&self, busy: bool) {
        if (self.ctrl() & BT_CTRL_H_BUSY != 0) != busy {
            self.set_ctrl(BT_CTRL_H_BUSY);
        }
    }

    /// skiboot `bt_send_msg`.
    fn send(&self, frame: &[u8]) {
        self.set_ctrl(BT_CTRL_CLR_WR_PTR);
        for &b in frame {
            self.fifo_write(b);
        }
        self.set_ctrl(BT_CTRL_H2B_ATN);
    }

    /// skiboot `bt_get_resp`, without the queue search. Leaves H_BUSY clear on every path.
    fn read_response(&self) -> Result<Response, BadResponse> {
        self.set_h_busy(true);
        self.set_ctrl(BT_CTRL_B2H_ATN);
        self.set_ctrl(BT_CTRL_CLR_RD_PTR);
        let len = self.fifo_read();
        if len < BT_MIN_RESP_LEN {
            self.set_h_busy(false);
            return Err(BadResponse::ShortLength(len));
        }
        let mut r = Response {
            netfn_lun: self.fifo_read(),
            seq: self.fifo_read(),
            cmd: self.fifo_read(),
            cc: self.fifo_read(),
            len: len - BT_MIN_RESP_LEN,
            data: [0; MAX_RESP_DATA],
        };
        for b in &mut r.data[..usize::from(r.len)] {
            *b = self.fifo_read();
        }
        self.set_h_busy(false);
        Ok(r)
    }

    /// Acknowledge and drop whatever response is in the FIFO (skiboot `bt_flush_msg`).
    fn discard_response(&self) {
        self.set_h_busy(true);
        self.set_ctrl(BT_CTRL_B2H_ATN | BT_CTRL_CLR_RD_PTR | BT_CTRL_CLR_WR_PTR);
        self.set_h_busy(false);
    }

    /// skiboot `bt_init_interface`, except that the B2H interrupt stays disabled: Opalite
    /// polls, as skiboot does until its first BT interrupt arrives.
    fn init(&self) {
        self.set_intmask(BT_INTMASK_B2H_IRQ);
        self.set_h_busy(false);
    }
}

/// The BT driver: one request in flight at a time.
///
/// Typical firmware use: [`Bt::init`] once, the blocking [`Bt::transact`] (or the typed
/// helpers in [`crate::commands`]) at boot, and [`Bt::start`] + [`Bt::poll`] from OPAL calls
/// that must return to the OS quickly (e.g. start a chassis power-down in
/// `OPAL_CEC_POWER_DOWN`, then poll from `OPAL_POLL_EVENTS`).
pub struct Bt<P, C> {
    io: P,
    clock: C,
    base: u16,
    timeout_us: u64,
    poll_limit: u32,
    next_seq: u8,
    inflight: Option<InFlight>,
    stale: u32,
}

impl<P: IoPort, C: Clock> Bt<P, C> {
    /// A driver for the interface at LPC I/O `base` (normally [`BT_IO_BASE`]), with the
    /// default 3 s timeout. Touches no register; call [`Bt::init`] before the first request.
    pub const fn new(io: P, clock: C, base: u16) -> Self {
        Self {
            io,
            clock,
            base,
            timeout_us: DEFAULT_TIMEOUT_US,
            poll_limit: DEFAULT_POLL_LIMIT,
            next_seq: 0,
            inflight: None,
            stale: 0,
        }
    }

    /// Time from [`Bt::start`] until [`BtError::BmcBusy`] / [`BtError::Timeout`].
    pub const fn with_timeout_us(mut self, us: u64) -> Self {
        self.timeout_us = us;
        self
    }

    /// Most polls one blocking call makes before [`BtError::Timeout`], whatever the clock says.
    pub const fn with_poll_limit(mut self, polls: u32) -> Self {
        self.poll_limit = polls;
        self
    }

    pub fn io(&self) -> &P {
        &self.io
    }
    pub fn clock(&self) -> &C {
        &self.clock
    }
    pub const fn base(&self) -> u16 {
        self.base
    }
    /// How many responses were dropped because no request of ours had their sequence number
    /// (late answers to timed-out requests, or leftovers from before a reboot).
    pub const fn stale_responses(&self) -> u32 {
        self.stale
    }
    /// The request in flight, if any.
    pub fn in_flight(&self) -> Option<RequestHandle> {
        self.inflight.as_ref().map(|f| f.handle)
    }

    fn regs(&self) -> Regs<'_, P> {
        Regs {
            io: &self.io,
            base: self.base,
        }
    }

    /// Bring the interface to a known state: acknowledge a pending B2H interrupt and leave
    /// interrupts disabled, clear a stuck `H_BUSY`, and drop a response left over from
    /// before this boot (its sequence number could collide with ours).
    pub fn init(&mut self) {
        let regs = self.regs();
        regs.init();
        if regs.ctrl() & BT_CTRL_B2H_ATN != 0 {
            regs.discard_response();
            self.stale += 1;
        }
    }

    /// skiboot `bt_reset_interface`: pulse `BMC_HWRST`, then [`Bt::init`]'s register writes.
    /// Done automatically after a timeout. (QEMU ignores `BMC_HWRST`.)
    pub fn reset_interface(&mut self) {
        let regs = self.regs();
        regs.set_intmask(BT_INTMASK_BMC_HWRST);
        regs.init();
    }

    /// Enable or disable the B2H interrupt (SerIRQ 10 on QEMU), acknowledging a pending one.
    pub fn set_irq_enabled(&mut self, enabled: bool) {
        let en = if enabled { BT_INTMASK_B2H_IRQEN } else { 0 };
        self.regs().set_intmask(BT_INTMASK_B2H_IRQ | en);
    }

    /// If the BMC raised `SMS_ATN` (it has an event or message for the host, e.g. QEMU's
    /// `system_powerdown`), clear it and return true (skiboot `bt_poll`).
    pub fn take_sms_atn(&mut self) -> bool {
        let regs = self.regs();
        if regs.ctrl() & BT_CTRL_SMS_ATN != 0 {
            regs.set_ctrl(BT_CTRL_SMS_ATN);
            true
        } else {
            false
        }
    }

    /// Queue `req` and send it at once if the BMC is idle; never waits. The deadline starts
    /// now. Fails with [`BtError::Busy`] if a request is already in flight.
    pub fn start(&mut self, req: &Request) -> Result<RequestHandle, BtError> {
        if self.inflight.is_some() {
            return Err(BtError::Busy);
        }
        let handle = RequestHandle {
            seq: self.next_seq,
            netfn: req.netfn,
            cmd: req.cmd,
        };
        self.next_seq = self.next_seq.wrapping_add(1);

        let data = req.data();
        let mut frame = [0; FRAME_MAX];
        frame[0] = BT_MIN_REQ_LEN + req.len;
        frame[1] = req.netfn << 2; // LUN 0
        frame[2] = handle.seq;
        frame[3] = req.cmd;
        frame[4..4 + data.len()].copy_from_slice(data);
        let frame_len = 4 + data.len();

        let deadline = self.clock.now_us().saturating_add(self.timeout_us);
        let regs = Regs {
            io: &self.io,
            base: self.base,
        };
        let (sent, stale) = regs.try_send(&frame[..frame_len]);
        self.stale += u32::from(stale);
        self.inflight = Some(InFlight {
            handle,
            frame,
            frame_len,
            sent,
            deadline,
        });
        Ok(handle)
    }

    /// Advance the request in flight without waiting: send it if it is still queued and the
    /// BMC became idle, collect the response if `B2H_ATN` is set.
    ///
    /// Returns `None` while the request is still in flight, `Some` once it is finished (the
    /// driver is then free for the next [`Bt::start`]), and `Some(Err(NoRequest))` if
    /// nothing was in flight. A response whose sequence number is not ours is dropped and
    /// counted in [`Bt::stale_responses`].
    pub fn poll(&mut self) -> Option<Result<Response, BtError>> {
        let regs = Regs {
            io: &self.io,
            base: self.base,
        };
        let Some(fl) = self.inflight.as_mut() else {
            return Some(Err(BtError::NoRequest));
        };

        if !fl.sent {
            let (sent, stale) = regs.try_send(&fl.frame[..fl.frame_len]);
            self.stale += u32::from(stale);
            fl.sent = sent;
            if !sent {
                if self.clock.now_us() >= fl.deadline {
                    self.inflight = None;
                    self.reset_interface();
                    return Some(Err(BtError::BmcBusy));
                }
                return None;
            }
            // Just sent: look for the answer at once (QEMU gives it during the H2B_ATN write).
        }

        if regs.ctrl() & BT_CTRL_B2H_ATN != 0 {
            let h = fl.handle;
            match regs.read_response() {
                Err(bad) => {
                    self.inflight = None;
                    return Some(Err(BtError::BadResponse(bad)));
                }
                Ok(r) if r.seq == h.seq => {
                    self.inflight = None;
                    if r.netfn() != h.netfn | 1 || r.cmd != h.cmd {
                        return Some(Err(BtError::BadResponse(BadResponse::Mismatch {
                            netfn: r.netfn(),
                            cmd: r.cmd,
                        })));
                    }
                    return Some(Ok(r));
                }
                Ok(_) => self.stale += 1,
            }
        }

        if self.clock.now_us() >= fl.deadline {
            self.inflight = None;
            self.reset_interface();
            return Some(Err(BtError::Timeout));
        }
        None
    }

    /// Forget the request in flight (its response, if it ever comes, will be dropped as
    /// stale). No register is touched.
    pub fn abort(&mut self) {
        self.inflight = None;
    }

    /// Poll until the request in flight finishes, the deadline passes, or the poll budget
    /// runs out (then the request is aborted and [`BtError::Timeout`] returned).
    pub fn wait(&mut self) -> Result<Response, BtError> {
        let mut polls: u32 = 0;
        loop {
            if let Some(done) = self.poll() {
                return done;
            }
            polls += 1;
            if polls >= self.poll_limit {
                self.abort();
                self.reset_interface();
                return Err(BtError::Timeout);
            }
            self.clock.relax();
        }
    }

    /// [`Bt::start`] then [`Bt::wait`]: the whole response, whatever its completion code.
    pub fn request(&mut self, req: &Request) -> Result<Response, BtError> {
        self.start(req)?;
        self.wait()
    }

    /// Send `netfn`/`cmd`/`data`, wait (bounded) for the answer and copy its data into
    /// `resp`. Returns `(completion_code, data_len)`; a non-zero completion code is *not* an
    /// error here.
    pub fn transact(
        &mut self,
        netfn: u8,
        cmd: u8,
        data: &[u8],
        resp: &mut [u8],
    ) -> Result<(u8, usize), BtError> {
        let r = self.request(&Request::new(netfn, cmd, data)?)?;
        let d = r.data();
        let dst = resp
            .get_mut(..d.len())
            .ok_or(BtError::BufferTooSmall { needed: d.len() })?;
        dst.copy_from_slice(d);
        Ok((r.cc, d.len()))
    }
}
