// SPDX-License-Identifier: Apache-2.0
//! One BT interface, three users: the OS's requests ([`OsChannel`], behind
//! `OPAL_IPMI_SEND/RECV`), the firmware's background requests (a SEL-time read that keeps
//! the extrapolated RTC honest, chassis control for power off and reboot), and the
//! firmware's blocking requests (Set SEL Time from `OPAL_RTC_WRITE`).
//!
//! The BT carries one request at a time. [`BmcLink`] decides who goes next so that no
//! user's answer is taken by another:
//!
//! - Every poller (OPAL_POLL_EVENTS, the BT interrupt) calls [`BmcLink::service`], which
//!   finishes the firmware request in flight (handing its result back) and then moves the
//!   OS request along. Nothing else calls [`Bt::poll`], so an answer always reaches the
//!   request it belongs to.
//! - A background request starts only when the BT is idle and no OS request waits: the
//!   OS never waits for housekeeping.
//! - A power request ([`BmcLink::start_urgent`]) goes out at once: an OS request in flight
//!   is answered with `IPMI_TIMEOUT_ERR`, a background request is dropped.
//! - A blocking request ([`BmcLink::blocking`]) first finishes whatever is in flight
//!   (bounded by the BT deadline), then runs, then lets a queued OS request start.
//!
//! The caller's lock (the firmware's BMC lock) serialises every method.
use crate::bt::{BtError, Clock, IoPort, Request, RequestHandle, Response};
use crate::os::{OsChannel, Reply};
use crate::Bt;

/// What a firmware request in flight was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwPurpose {
    /// Get SEL Time, to re-anchor the RTC.
    SelTime,
    /// Chassis control (power off, reboot).
    Chassis,
}

/// A finished firmware request, from [`BmcLink::service`].
#[derive(Debug)]
pub struct FwDone {
    pub purpose: FwPurpose,
    pub result: Result<Response, BtError>,
}

/// See the module documentation.
pub struct BmcLink<P, C> {
    bt: Bt<P, C>,
    os: OsChannel,
    fw: Option<(RequestHandle, FwPurpose)>,
}

impl<P: IoPort, C: Clock> BmcLink<P, C> {
    pub const fn new(bt: Bt<P, C>) -> Self {
        Self {
            bt,
            os: OsChannel::new(),
            fw: None,
        }
    }

    pub fn bt(&self) -> &Bt<P, C> {
        &self.bt
    }
    pub fn os(&self) -> &OsChannel {
        &self.os
    }

    /// The BT interrupt's acknowledge (the interrupt stays enabled).
    pub fn ack_interrupt(&mut self) {
        self.bt.set_irq_enabled(true);
    }

    /// Something is in flight or queued: a poller has work to do.
    pub fn busy(&self) -> bool {
        self.fw.is_some() || self.os.busy()
    }

    /// The firmware request in flight, if any.
    pub fn firmware_request(&self) -> Option<FwPurpose> {
        self.fw.map(|(_, p)| p)
    }

    fn finish_fw(&mut self, done: Result<Response, BtError>) -> Option<FwDone> {
        self.fw.take().map(|(_, purpose)| FwDone {
            purpose,
            result: done,
        })
    }

    /// Moves everything along without waiting; returns the firmware request that finished.
    pub fn service(&mut self) -> Option<FwDone> {
        let mut finished = None;
        if let Some((h, _)) = self.fw {
            if self.bt.in_flight() != Some(h) {
                finished = self.finish_fw(Err(BtError::Timeout));
            } else if let Some(done) = self.bt.poll() {
                finished = self.finish_fw(done);
            }
        }
        self.os.poll(&mut self.bt);
        finished
    }

    /// `OPAL_IPMI_SEND`: starts the OS request now, or after the firmware request in flight.
    pub fn os_send(&mut self, req: &Request) -> Result<(), BtError> {
        self.os.send(&mut self.bt, req)
    }

    /// `OPAL_IPMI_RECV`: the OS's reply, if it is ready.
    pub fn os_take(&mut self) -> Option<Reply> {
        self.os.take()
    }

    /// Starts a housekeeping request if the BT is idle and the OS is not waiting for it;
    /// returns whether it started.
    pub fn start_background(&mut self, req: &Request, purpose: FwPurpose) -> bool {
        if self.busy() || self.bt.in_flight().is_some() {
            return false;
        }
        match self.bt.start(req) {
            Ok(h) => {
                self.fw = Some((h, purpose));
                true
            }
            Err(_) => false,
        }
    }

    /// Starts a request that outranks everything (power): see the module documentation.
    pub fn start_urgent(&mut self, req: &Request, purpose: FwPurpose) -> Result<(), BtError> {
        self.os.preempt(&mut self.bt);
        if self.fw.take().is_some() || self.bt.in_flight().is_some() {
            self.bt.abort();
        }
        let h = self.bt.start(req)?;
        self.fw = Some((h, purpose));
        Ok(())
    }

    /// Runs a blocking firmware exchange on a free BT: finishes the firmware request in
    /// flight (its result is returned alongside) and the OS request in flight, runs `f`,
    /// then starts a queued OS request.
    pub fn blocking<R>(&mut self, f: impl FnOnce(&mut Bt<P, C>) -> R) -> (R, Option<FwDone>) {
        let finished = match self.fw {
            Some((h, _)) if self.bt.in_flight() == Some(h) => {
                let done = self.bt.wait();
                self.finish_fw(done)
            }
            Some(_) => self.finish_fw(Err(BtError::Timeout)),
            None => None,
        };
        self.os.settle(&mut self.bt);
        let r = f(&mut self.bt);
        self.os.poll(&mut self.bt);
        (r, finished)
    }
}
