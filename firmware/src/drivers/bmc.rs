// SPDX-License-Identifier: Apache-2.0
//! The BMC over IPMI BT: power off and reboot (chassis control), the real-time clock from
//! SEL time, the OS's own IPMI requests, and the flash driver's HIOMAP messages. skiboot
//! `platforms/astbmc`, `hw/ipmi/ipmi-power.c`, `hw/ipmi/ipmi-rtc.c`, `core/ipmi-opal.c`.
//!
//! Concurrency: one lock guards the BMC link (`ipmi::link::BmcLink`: the BT driver and
//! who it carries a request for), taken with a bounded wait. Nothing under it waits for
//! the BMC except `OPAL_RTC_WRITE`'s Set SEL Time, which the BT deadline bounds. Power
//! requests, the OS's requests and the RTC re-reads start under it and return at once;
//! the BT interrupt and `OPAL_POLL_EVENTS` move them along. If the lock's holder died (a
//! CPU reset by a crash NMI while it polled the BMC), a power request still goes out: it
//! drives the BT registers through a second, private driver instance (the holder is not
//! running, so nothing races), because power off and reboot must work from a crash.
//! Pollers and the interrupt skip a held lock; RTC_WRITE and IPMI_SEND/RECV answer BUSY;
//! SYNC_HOST_REBOOT answers done (Linux loops on it while it says busy). The RTC is read
//! from the BMC at boot and extrapolated with the timebase, so `OPAL_RTC_READ` never
//! waits; a read also starts a background Get SEL Time (at most one a second) that
//! re-anchors the clock if it has drifted.

use crate::arch;
use crate::console::TB_HZ;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use hal::{FwGuard, FwLock, Holder, IpmiMsg};
use ipmi::commands::{get_sel_time_request, parse_sel_time, ChassisControl};
use ipmi::link::{BmcLink, FwDone, FwPurpose};
use ipmi::{Bt, BtError, Request};
use opal_api::{event, OpalError, OpalResult};

pub struct TbClock;

impl ipmi::Clock for TbClock {
    fn now_us(&self) -> u64 {
        arch::timebase() / (TB_HZ.load(Ordering::Relaxed) / 1_000_000).max(1)
    }
    fn relax(&self) {
        arch::relax();
    }
}

type Link = Option<BmcLink<crate::drivers::lpc::LpcIo, TbClock>>;

static BMC: FwLock<Link> = FwLock::new(None);
/// A reply for the OS waits (mirrors the link, so OPAL_POLL_EVENTS needs no lock).
static IPMI_REPLY_READY: AtomicBool = AtomicBool::new(false);
/// Timebase of the last background SEL-time read (0: none yet).
static LAST_RTC_REREAD_TB: AtomicU64 = AtomicU64::new(0);
/// Drift the RTC re-read corrects; less is rounding (SEL time has whole seconds).
const RTC_DRIFT_SECS: u64 = 2;
/// Spins for the BMC lock before a caller goes on without it.
const BMC_SPINS: u32 = 5_000_000;
/// The BT port, for the crash-time power path (0: none).
static BT_PORT: AtomicU64 = AtomicU64::new(0);

fn lock_bmc() -> Option<FwGuard<'static, Link>> {
    BMC.lock_bounded(Holder::from_pir(arch::pir()), BMC_SPINS)
}

/// Publishes what the OS can see of the link, and acts on a finished firmware request.
/// Every holder of the lock calls this before letting go. Returns whether a reply for the
/// OS has just become ready (then, outside OPAL_HANDLE_INTERRUPT, the OS needs a kick).
fn settle(link: &BmcLink<crate::drivers::lpc::LpcIo, TbClock>, done: Option<FwDone>) -> bool {
    let ready = link.os().reply_ready();
    let was_ready = IPMI_REPLY_READY.swap(ready, Ordering::AcqRel);
    let became_ready = ready && !was_ready;
    act_on(done);
    became_ready
}

fn act_on(done: Option<FwDone>) {
    let Some(done) = done else { return };
    match (done.purpose, done.result) {
        (FwPurpose::SelTime, Ok(r)) => match parse_sel_time(&r) {
            Ok(secs) => {
                let (bmc, ours) = (u64::from(secs), unix_now());
                if bmc.abs_diff(ours) >= RTC_DRIFT_SECS {
                    log::debug!("RTC: BMC says {bmc}, we said {ours}: re-anchored");
                    set_rtc(bmc);
                }
            }
            Err(e) => log::warn!("IPMI: bad SEL time answer: {e:?}"),
        },
        (FwPurpose::Chassis, Ok(r)) => {
            if let Err(e) = ipmi::commands::parse_chassis_control(&r) {
                log::error!("IPMI: chassis control refused: {e:?}");
            }
        }
        (what, Err(e)) => log::warn!("IPMI: {what:?} request failed: {e:?}"),
    }
}

/// Moves the link along if it has work (the BT interrupt and the pollers); see [`settle`].
fn service(link: &mut BmcLink<crate::drivers::lpc::LpcIo, TbClock>) -> bool {
    let done = if link.busy() { link.service() } else { None };
    settle(link, done)
}

/// One blocking request on behalf of another driver (the flash's HIOMAP messages): the
/// answer's data after a zero completion code, copied into `reply`. Lock order: a
/// caller may hold the flash lock, never the other way round.
pub fn bmc_request(netfn: u8, cmd: u8, data: &[u8], reply: &mut [u8]) -> Result<usize, BtError> {
    let req = Request::new(netfn, cmd, data)?;
    let answer = blocking(|bt| bt.request(&req))?;
    let d = answer.ok_data()?;
    let dst = reply
        .get_mut(..d.len())
        .ok_or(BtError::BufferTooSmall { needed: d.len() })?;
    dst.copy_from_slice(d);
    Ok(d.len())
}

/// One blocking exchange `f` on a free BT under the BMC lock (`BmcLink::blocking`), the
/// link settled and the OS kicked after. `Busy` if the lock is held, `NoRequest` if the
/// machine has no BMC link.
fn blocking<R>(
    f: impl FnOnce(&mut Bt<crate::drivers::lpc::LpcIo, TbClock>) -> Result<R, BtError>,
) -> Result<R, BtError> {
    let mut guard = lock_bmc().ok_or(BtError::Busy)?;
    let link = guard.as_mut().ok_or(BtError::NoRequest)?;
    let (answer, done) = link.blocking(f);
    let kick = settle(link, done);
    drop(guard);
    if kick {
        crate::interrupts::kick_os_events();
    }
    answer
}

/// The BMC lock's holder left OPAL for good in the middle of a call (cpu.rs).
pub fn release_abandoned(who: Holder) -> bool {
    BMC.release_abandoned(who)
}
/// Unix time at timebase 0, from the BMC's SEL clock (valid when RTC_VALID).
static RTC_EPOCH_AT_TB0: AtomicU64 = AtomicU64::new(0);
static RTC_VALID: AtomicBool = AtomicBool::new(false);
/// Whole seconds of timebase since the machine started.
fn tb_seconds() -> u64 {
    arch::timebase() / TB_HZ.load(Ordering::Relaxed).max(1)
}

fn unix_now() -> u64 {
    RTC_EPOCH_AT_TB0.load(Ordering::Relaxed) + tb_seconds()
}

/// Anchors the clock: `unix_seconds` is the time now.
pub fn set_rtc(unix_seconds: u64) {
    RTC_EPOCH_AT_TB0.store(unix_seconds.saturating_sub(tb_seconds()), Ordering::Relaxed);
    RTC_VALID.store(true, Ordering::Release);
}

/// Brings up the BMC link (if the board has one) and reads the clock.
pub fn init(io: Option<crate::drivers::lpc::LpcIo>, bt_port: Option<u16>) {
    let (Some(io), Some(port)) = (io, bt_port) else {
        log::info!("no IPMI BT interface: no RTC, power off and reboot unavailable");
        return;
    };
    BT_PORT.store(u64::from(port), Ordering::Release);
    let mut bt = Bt::new(io, TbClock, port);
    bt.init();
    match bt.get_sel_time() {
        Ok(secs) => {
            set_rtc(u64::from(secs));
            log::info!("BMC on IPMI BT at LPC I/O {port:#x}, SEL time {secs}");
        }
        Err(e) => log::warn!("BMC did not give the time: {e:?}"),
    }
    // Answers then raise the BT's SerIRQ, so the OS's replies reach it without waiting
    // for its next poll (skiboot `bt_init_interface`).
    bt.set_irq_enabled(true);
    match lock_bmc() {
        Some(mut g) => *g = Some(BmcLink::new(bt)),
        None => log::error!("IPMI: BMC lock held at boot"),
    }
}

/// The BT interface's SerIRQ fired (skiboot `bt_irq`): acknowledges B2H_IRQ, keeping the
/// interrupt enabled, and moves a request in flight along. If another CPU holds the
/// driver, the line stays up and the interrupt comes back after the OS's EOI.
pub fn bt_interrupt() {
    let Some(mut guard) = BMC.try_lock(Holder::from_pir(arch::pir())) else {
        return;
    };
    if let Some(link) = guard.as_mut() {
        link.ack_interrupt();
        // Inside OPAL_HANDLE_INTERRUPT: its returned events tell the OS, no kick needed.
        let _ = service(link);
    }
}

pub fn has_rtc() -> bool {
    RTC_VALID.load(Ordering::Acquire)
}

/// Starts a chassis control request, replacing any request still in flight (a power
/// request outranks everything the BMC could still be doing for us).
pub fn chassis(what: ChassisControl) -> OpalResult<()> {
    let Some(mut guard) = lock_bmc() else {
        return chassis_without_the_lock(what);
    };
    let link = guard.as_mut().ok_or(OpalError::Unsupported)?;
    let started = link.start_urgent(&what.request(), FwPurpose::Chassis);
    // A preempted OS request's made-up reply: the OS is going down, it needs no kick.
    let _ = settle(link, None);
    started.map_err(|e| {
        log::error!("IPMI: chassis control failed to start: {e:?}");
        OpalError::Hardware
    })
}

/// After an RTC read: re-reads SEL time in the background if the last read is a second
/// old and the BMC is free (never makes the caller or the OS wait).
fn reread_rtc_soon() {
    let (now, last) = (arch::timebase(), LAST_RTC_REREAD_TB.load(Ordering::Relaxed));
    if last != 0 && now.wrapping_sub(last) < TB_HZ.load(Ordering::Relaxed) {
        return;
    }
    let Some(mut guard) = BMC.try_lock(Holder::from_pir(arch::pir())) else {
        return;
    };
    let kick = match guard.as_mut() {
        Some(link) => {
            if link.start_background(&get_sel_time_request(), FwPurpose::SelTime) {
                LAST_RTC_REREAD_TB.store(now.max(1), Ordering::Relaxed);
            }
            service(link)
        }
        None => false,
    };
    drop(guard);
    if kick {
        crate::interrupts::kick_os_events();
    }
}

/// A power request while the BT driver's lock is held by a CPU that does not let go.
fn chassis_without_the_lock(what: ChassisControl) -> OpalResult<()> {
    let (base, port) = (
        crate::drivers::lpc::io_base(),
        BT_PORT.load(Ordering::Acquire),
    );
    if base == 0 || port == 0 {
        return Err(OpalError::Unsupported);
    }
    log::error!(
        "IPMI: BT driver held by PIR {:#x}; sending the power request directly",
        BMC.holder().map_or(u32::MAX, Holder::pir)
    );
    // SAFETY: the same LPC I/O window `lpc_io` was given at boot.
    let io = unsafe { crate::drivers::lpc::io(base) };
    let mut bt = Bt::new(io, TbClock, port as u16);
    bt.init();
    bt.start(&what.request()).map(|_| ()).map_err(|e| {
        log::error!("IPMI: chassis control failed to start: {e:?}");
        OpalError::Hardware
    })
}

/// Moves the link along (OPAL_POLL_EVENTS, which returns the events itself: no kick).
pub fn poll() {
    if let Some(mut guard) = BMC.try_lock(Holder::from_pir(arch::pir())) {
        if let Some(link) = guard.as_mut() {
            let _ = service(link);
        }
    }
}

/// The event bits the BMC link owns (a reply for the OS waits).
pub fn pending_events() -> u64 {
    if IPMI_REPLY_READY.load(Ordering::Acquire) {
        event::IPMI_RECV
    } else {
        0
    }
}

/// `OPAL_RTC_READ`: the SEL-anchored clock; starts a re-read at most once a second.
pub fn rtc_read() -> OpalResult<u64> {
    if has_rtc() {
        reread_rtc_soon();
        Ok(unix_now())
    } else {
        Err(OpalError::Hardware)
    }
}

/// `OPAL_RTC_WRITE`: Set SEL Time (blocking, bounded by the BT deadline), then re-anchors.
pub fn rtc_write(unix_seconds: u64) -> OpalResult<()> {
    let secs = u32::try_from(unix_seconds).map_err(|_| OpalError::Parameter)?;
    match blocking(|bt| bt.set_sel_time(secs)) {
        Ok(()) => {}
        Err(BtError::Busy) => return Err(OpalError::Busy),
        Err(BtError::NoRequest) => return Err(OpalError::Hardware),
        Err(e) => {
            log::error!("IPMI: set SEL time failed: {e:?}");
            return Err(OpalError::Hardware);
        }
    }
    set_rtc(u64::from(secs));
    Ok(())
}

/// `OPAL_SYNC_HOST_REBOOT`: BUSY_EVENT while a firmware request is in flight.
pub fn host_reboot_sync() -> OpalResult<()> {
    // A held lock has nothing of ours in flight that we could wait for.
    let Some(guard) = lock_bmc() else {
        return Ok(());
    };
    // The OS's own request is not firmware work: the OS that asked is going away.
    match guard.as_ref().and_then(|link| link.firmware_request()) {
        Some(_) => Err(OpalError::BusyEvent),
        None => Ok(()),
    }
}

/// The machine has a BMC the OS may talk to.
pub fn has_ipmi() -> bool {
    BT_PORT.load(Ordering::Acquire) != 0
}

/// `OPAL_IPMI_SEND`: starts the OS's request.
pub fn ipmi_send(req: &IpmiMsg) -> OpalResult<()> {
    let req =
        Request::new(req.netfn_lun >> 2, req.cmd, req.data()).map_err(|_| OpalError::Parameter)?;
    let mut guard = lock_bmc().ok_or(OpalError::Busy)?;
    let link = guard.as_mut().ok_or(OpalError::Hardware)?;
    let sent = link.os_send(&req);
    // QEMU's BMC answers during the send: tell the OS now, not at its next heartbeat.
    let kick = settle(link, None);
    drop(guard);
    if kick {
        crate::interrupts::kick_os_events();
    }
    sent.map_err(|e| match e {
        BtError::Busy => OpalError::Busy,
        _ => OpalError::Parameter,
    })
}

/// `OPAL_IPMI_RECV`: the OS's reply, if ready.
pub fn ipmi_recv() -> OpalResult<IpmiMsg> {
    let mut guard = lock_bmc().ok_or(OpalError::Busy)?;
    let link = guard.as_mut().ok_or(OpalError::Hardware)?;
    // A reply may be on the wire already: take it now rather than after the interrupt.
    let done = if link.busy() { link.service() } else { None };
    let reply = link.os_take();
    let _ = settle(link, done);
    let reply = reply.ok_or(OpalError::Empty)?;
    IpmiMsg::new(reply.netfn_lun(), reply.cmd(), reply.bytes()).ok_or(OpalError::Hardware)
}
