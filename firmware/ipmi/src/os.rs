// SPDX-License-Identifier: Apache-2.0
//! The OS's IPMI channel behind `OPAL_IPMI_SEND`/`OPAL_IPMI_RECV`: one OS request at a
//! time, sharing the BT driver with the firmware's own requests (chassis control, SEL
//! time), and one reply slot the OS empties with RECV.
//!
//! Mirrors what skiboot `core/ipmi-opal.c` and `hw/bt.c` give Linux's `ipmi_powernv`
//! (which never has more than one request outstanding), without skiboot's queue:
//!
//! - [`OsChannel::send`] starts the request at once if the BT is idle, or keeps it queued
//!   while a firmware request is in flight ([`OsChannel::poll`] starts it later). A second
//!   request while one is queued or in flight is refused ([`BtError::Busy`]). A request
//!   sent while an earlier reply still waits in the slot replaces it: the OS that asked
//!   has moved on (a kexec'd kernel, or one that gave up), and the new request's reply
//!   must not be confused with it. Dropped replies are counted.
//! - Every request ends in a reply, never in silence: the BMC's answer, or, when the BMC
//!   did not answer (BT timeout, BMC busy until the deadline), when a power request
//!   preempted it, or when its answer was malformed, a reply made up here with the
//!   request's response NetFn and command and a completion code:
//!   [`IPMI_TIMEOUT_ERR`] (0xC3, what skiboot gives for every message it drops) or, for a
//!   malformed answer, [`IPMI_ERR_UNSPECIFIED`] (0xFF).
//!
//! The caller (the firmware's BMC lock) serialises every method; nothing here waits except
//! [`OsChannel::settle`], which is bounded by the BT driver's deadline and poll budget.
use crate::bt::{BtError, Clock, IoPort, Request, RequestHandle, Response, MAX_RESP_DATA};
use crate::Bt;

/// Completion code of a reply the BMC never gave (skiboot `IPMI_TIMEOUT_ERR`).
pub const IPMI_TIMEOUT_ERR: u8 = 0xC3;
/// Completion code of a reply to a malformed BMC answer (`IPMI_ERR_UNSPECIFIED`).
pub const IPMI_ERR_UNSPECIFIED: u8 = 0xFF;

/// A reply for the OS: NetFn/LUN byte (`netfn << 2 | lun`, the response NetFn), command,
/// then the completion code and the data, as `struct opal_ipmi_msg` carries them.
#[derive(Clone, Copy)]
pub struct Reply {
    netfn_lun: u8,
    cmd: u8,
    len: u8,
    bytes: [u8; 1 + MAX_RESP_DATA],
}

impl Reply {
    fn from_response(r: &Response) -> Self {
        let d = r.data();
        let mut bytes = [0; 1 + MAX_RESP_DATA];
        bytes[0] = r.completion_code();
        bytes[1..1 + d.len()].copy_from_slice(d);
        Self {
            netfn_lun: r.netfn() << 2 | r.lun(),
            cmd: r.cmd(),
            len: 1 + d.len() as u8,
            bytes,
        }
    }

    /// The reply to a request the BMC did not answer properly.
    fn error(h: RequestHandle, cc: u8) -> Self {
        let mut bytes = [0; 1 + MAX_RESP_DATA];
        bytes[0] = cc;
        Self {
            netfn_lun: (h.netfn | 1) << 2,
            cmd: h.cmd,
            len: 1,
            bytes,
        }
    }

    pub const fn netfn_lun(&self) -> u8 {
        self.netfn_lun
    }
    pub const fn cmd(&self) -> u8 {
        self.cmd
    }
    /// Completion code, then data.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

fn reply_for(h: RequestHandle, done: Result<Response, BtError>) -> Reply {
    match done {
        Ok(r) => Reply::from_response(&r),
        Err(BtError::BadResponse(_)) => Reply::error(h, IPMI_ERR_UNSPECIFIED),
        Err(_) => Reply::error(h, IPMI_TIMEOUT_ERR),
    }
}

enum State {
    Idle,
    /// Waiting for a firmware request to leave the BT.
    Queued(Request),
    InFlight(RequestHandle),
    Ready(Reply),
}

/// See the module documentation.
pub struct OsChannel {
    state: State,
    dropped: u32,
}

impl Default for OsChannel {
    fn default() -> Self {
        Self::new()
    }
}

impl OsChannel {
    pub const fn new() -> Self {
        Self {
            state: State::Idle,
            dropped: 0,
        }
    }

    /// Replies dropped because the OS sent a new request without taking them.
    pub const fn dropped_replies(&self) -> u32 {
        self.dropped
    }

    /// A reply is waiting for RECV (the OPAL IPMI event is up).
    pub const fn reply_ready(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// An OS request is queued or in flight.
    pub const fn busy(&self) -> bool {
        matches!(self.state, State::Queued(_) | State::InFlight(_))
    }

    /// Starts (or queues) the OS's request; see the module documentation.
    pub fn send<P: IoPort, C: Clock>(
        &mut self,
        bt: &mut Bt<P, C>,
        req: &Request,
    ) -> Result<(), BtError> {
        match self.state {
            State::Queued(_) | State::InFlight(_) => return Err(BtError::Busy),
            State::Ready(_) => self.dropped += 1,
            State::Idle => {}
        }
        self.state = State::Queued(*req);
        self.poll(bt);
        Ok(())
    }

    /// Moves the OS request along without waiting: starts it if queued and the BT is free,
    /// collects its reply if it is in flight. Leaves a firmware request alone.
    pub fn poll<P: IoPort, C: Clock>(&mut self, bt: &mut Bt<P, C>) {
        if let State::Queued(req) = &self.state {
            if bt.in_flight().is_some() {
                return;
            }
            self.state = match bt.start(req) {
                Ok(h) => State::InFlight(h),
                // Unreachable with the BT idle; answer rather than lose the request.
                Err(_) => State::Ready(Reply::error(
                    RequestHandle {
                        seq: 0,
                        netfn: req.netfn(),
                        cmd: req.cmd(),
                    },
                    IPMI_TIMEOUT_ERR,
                )),
            };
        }
        if let State::InFlight(h) = self.state {
            if bt.in_flight() != Some(h) {
                // Someone took the BT from under us without telling us.
                self.state = State::Ready(Reply::error(h, IPMI_TIMEOUT_ERR));
            } else if let Some(done) = bt.poll() {
                self.state = State::Ready(reply_for(h, done));
            }
        }
    }

    /// Before a blocking firmware request: finishes the OS request in flight (bounded by
    /// the BT deadline and poll budget), so the firmware finds the BT free.
    pub fn settle<P: IoPort, C: Clock>(&mut self, bt: &mut Bt<P, C>) {
        if let State::InFlight(h) = self.state {
            let done = if bt.in_flight() == Some(h) {
                bt.wait()
            } else {
                Err(BtError::Timeout)
            };
            self.state = State::Ready(reply_for(h, done));
        }
    }

    /// A power request takes the BT now: the OS request in flight is abandoned and answered
    /// with [`IPMI_TIMEOUT_ERR`] (a queued one stays queued).
    pub fn preempt<P: IoPort, C: Clock>(&mut self, bt: &mut Bt<P, C>) {
        if let State::InFlight(h) = self.state {
            if bt.in_flight() == Some(h) {
                bt.abort();
            }
            self.state = State::Ready(Reply::error(h, IPMI_TIMEOUT_ERR));
        }
    }

    /// Takes the waiting reply (RECV).
    pub fn take(&mut self) -> Option<Reply> {
        match core::mem::replace(&mut self.state, State::Idle) {
            State::Ready(r) => Some(r),
            other => {
                self.state = other;
                None
            }
        }
    }
}
