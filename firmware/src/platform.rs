// SPDX-License-Identifier: Apache-2.0
//! Board services behind the OPAL calls: the BMC over IPMI BT (power off, reboot, the
//! real-time clock from SEL time), and the pollers. skiboot `platforms/astbmc`,
//! `hw/ipmi/ipmi-power.c`, `hw/ipmi/ipmi-rtc.c`.
//!
//! Concurrency: one lock guards the BT driver, taken with a bounded wait. Power requests
//! are started under it and return at once; `OPAL_POLL_EVENTS` moves them along. If the
//! lock's holder died (a CPU reset by a crash NMI while it polled the BMC), a power
//! request still goes out: it drives the BT registers through a second, private driver
//! instance (the holder is not running, so nothing races), because power off and reboot
//! must work from a crash. Pollers skip a held lock; RTC_WRITE answers BUSY;
//! SYNC_HOST_REBOOT answers done (Linux loops on it while it says busy). The RTC is read from the BMC once
//! at boot and then extrapolated with the timebase, so `OPAL_RTC_READ` never waits.

use crate::arch::{self, mmio::CiWindow};
use crate::console::{self, TB_HZ};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use hal::{FwGuard, FwLock, Holder};
use ipmi::commands::ChassisControl;
use ipmi::{Bt, BtError, IoPort};
use opal_api::{OpalError, OpalResult};

/// LPC I/O space (64 KiB) through the cache-inhibited OPB window.
pub struct LpcIo(CiWindow);

impl IoPort for LpcIo {
    fn inb(&self, port: u16) -> u8 {
        self.0.read8(u64::from(port))
    }
    fn outb(&self, port: u16, val: u8) {
        self.0.write8(u64::from(port), val)
    }
}

pub struct TbClock;

impl ipmi::Clock for TbClock {
    fn now_us(&self) -> u64 {
        arch::timebase() / (TB_HZ.load(Ordering::Relaxed) / 1_000_000).max(1)
    }
    fn relax(&self) {
        arch::relax();
    }
}

type BmcLink = Option<Bt<LpcIo, TbClock>>;

static BMC: FwLock<BmcLink> = FwLock::new(None);
/// Spins for the BMC lock before a caller goes on without it.
const BMC_SPINS: u32 = 5_000_000;
/// The LPC I/O window and BT port, for the crash-time power path (0: none).
static LPC_IO_BASE: AtomicU64 = AtomicU64::new(0);
static BT_PORT: AtomicU64 = AtomicU64::new(0);

fn lock_bmc() -> Option<FwGuard<'static, BmcLink>> {
    BMC.lock_bounded(Holder::from_pir(arch::pir()), BMC_SPINS)
}

/// The BMC lock's holder left OPAL for good in the middle of a call (cpu.rs).
pub fn release_abandoned(who: Holder) -> bool {
    BMC.release_abandoned(who)
}
/// Unix time at timebase 0, from the BMC's SEL clock (valid when RTC_VALID).
static RTC_EPOCH_AT_TB0: AtomicU64 = AtomicU64::new(0);
static RTC_VALID: AtomicBool = AtomicBool::new(false);
/// Nest MMU units in the device tree (`ibm,power9-nest-mmu`/`ibm,power10-nest-mmu`).
static NEST_MMU_CHIPS: AtomicU64 = AtomicU64::new(0);

/// Records how many nest MMU units the device tree lists.
pub fn set_nest_mmus(count: usize) {
    NEST_MMU_CHIPS.store(count as u64, Ordering::Relaxed);
}

/// Whole seconds of timebase since the machine started.
fn tb_seconds() -> u64 {
    arch::timebase() / TB_HZ.load(Ordering::Relaxed).max(1)
}

fn unix_now() -> u64 {
    RTC_EPOCH_AT_TB0.load(Ordering::Relaxed) + tb_seconds()
}

/// Anchors the clock: `unix_seconds` is the time now.
fn set_rtc(unix_seconds: u64) {
    RTC_EPOCH_AT_TB0.store(unix_seconds.saturating_sub(tb_seconds()), Ordering::Relaxed);
    RTC_VALID.store(true, Ordering::Release);
}

/// Creates the LPC I/O window.
///
/// # Safety
/// `io_base` must be the real address of the primary LPC bus's I/O space (64 KiB).
pub unsafe fn lpc_io(io_base: u64) -> LpcIo {
    LPC_IO_BASE.store(io_base, Ordering::Release);
    // SAFETY: forwarded.
    LpcIo(unsafe { CiWindow::new(io_base, 0x1_0000) })
}

/// Brings up the BMC link (if the board has one) and reads the clock.
pub fn init(io: Option<LpcIo>, bt_port: Option<u16>) {
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
    match lock_bmc() {
        Some(mut g) => *g = Some(bt),
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
    if let Some(bt) = guard.as_mut() {
        bt.set_irq_enabled(true);
        if bt.in_flight().is_some() {
            if let Some(Err(e)) = bt.poll() {
                log::warn!("IPMI: request failed: {e:?}");
            }
        }
    }
}

pub fn has_rtc() -> bool {
    RTC_VALID.load(Ordering::Acquire)
}

/// Starts a chassis control request, replacing any request still in flight (a power
/// request outranks everything the BMC could still be doing for us).
fn chassis(what: ChassisControl) -> OpalResult<()> {
    let Some(mut guard) = lock_bmc() else {
        return chassis_without_the_lock(what);
    };
    let bt = guard.as_mut().ok_or(OpalError::Unsupported)?;
    if bt.in_flight().is_some() {
        bt.abort();
    }
    bt.start(&what.request()).map(|_| ()).map_err(|e| {
        log::error!("IPMI: chassis control failed to start: {e:?}");
        OpalError::Hardware
    })
}

/// A power request while the BT driver's lock is held by a CPU that does not let go.
fn chassis_without_the_lock(what: ChassisControl) -> OpalResult<()> {
    let (base, port) = (
        LPC_IO_BASE.load(Ordering::Acquire),
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
    let io = unsafe { lpc_io(base) };
    let mut bt = Bt::new(io, TbClock, port as u16);
    bt.init();
    bt.start(&what.request()).map(|_| ()).map_err(|e| {
        log::error!("IPMI: chassis control failed to start: {e:?}");
        OpalError::Hardware
    })
}

pub struct FwPlatform;

impl hal::Platform for FwPlatform {
    fn handle_interrupt(&self, girq: u32) -> OpalResult<()> {
        #[cfg(feature = "hmi-inject")]
        if crate::hmi_inject::is_kick(girq) {
            return Ok(());
        }
        crate::psi::handle_psi_interrupt(girq)
            .map(|_| ())
            .map_err(|_| OpalError::Parameter)
    }

    fn poll(&self) {
        console::poll();
        if let Some(mut guard) = BMC.try_lock(Holder::from_pir(arch::pir())) {
            if let Some(bt) = guard.as_mut().filter(|bt| bt.in_flight().is_some()) {
                if let Some(Err(e)) = bt.poll() {
                    log::warn!("IPMI: request failed: {e:?}");
                }
            }
        }
    }

    fn pending_events(&self) -> u64 {
        0
    }

    fn rtc_read(&self) -> OpalResult<u64> {
        if has_rtc() {
            Ok(unix_now())
        } else {
            Err(OpalError::Hardware)
        }
    }

    fn rtc_write(&self, unix_seconds: u64) -> OpalResult<()> {
        let secs = u32::try_from(unix_seconds).map_err(|_| OpalError::Parameter)?;
        let mut guard = lock_bmc().ok_or(OpalError::Busy)?;
        let bt = guard.as_mut().ok_or(OpalError::Hardware)?;
        match bt.set_sel_time(secs) {
            Ok(()) => {}
            Err(BtError::Busy) => return Err(OpalError::Busy),
            Err(e) => {
                log::error!("IPMI: set SEL time failed: {e:?}");
                return Err(OpalError::Hardware);
            }
        }
        set_rtc(u64::from(secs));
        Ok(())
    }

    fn power_down(&self, immediate: bool) -> OpalResult<()> {
        log::info!(target: "opalite::opal", "Shutdown request type {}...", u8::from(immediate));
        chassis(ChassisControl::PowerDown)
    }

    fn reboot(&self) -> OpalResult<()> {
        log::info!(target: "opalite::opal", "Reboot request...");
        chassis(ChassisControl::HardReset)
    }

    fn nest_mmu_set_ptcr(&self, chip: u64, _ptcr: u64) -> OpalResult<()> {
        match NEST_MMU_CHIPS.load(Ordering::Relaxed) {
            0 => Err(OpalError::Unsupported),
            _ => {
                // The nest MMU's PTCR write (over XSCOM) is not written yet; say so
                // instead of pretending.
                log::error!("OPAL: nest MMU PTCR for chip {chip:#x}: not implemented yet");
                Err(OpalError::Hardware)
            }
        }
    }

    fn host_reboot_sync(&self) -> OpalResult<()> {
        // A held lock has nothing of ours in flight that we could wait for.
        let Some(guard) = lock_bmc() else {
            return Ok(());
        };
        match guard.as_ref().and_then(|bt| bt.in_flight()) {
            Some(_) => Err(OpalError::BusyEvent),
            None => Ok(()),
        }
    }
}
