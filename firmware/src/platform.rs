// SPDX-License-Identifier: Apache-2.0
//! The machine behind the OPAL calls (`hal::Platform`): the board's choices (power off
//! and reboot, Mambo's clock), the firmware-owned interrupts, and the drivers that serve
//! the platform calls (`drivers::bmc` for IPMI, the clock and chassis control,
//! `drivers::flash` for NVRAM and the flash). Their concurrency and crash-time rules are
//! in their own modules.

use crate::arch;
use crate::console::{self, TB_HZ};
use crate::drivers::{bmc, flash};
use core::sync::atomic::{AtomicU64, Ordering};
use hal::IpmiMsg;
use ipmi::commands::ChassisControl;
use opal_api::{OpalError, OpalResult};

/// Nest MMU units in the device tree (`ibm,power9-nest-mmu`/`ibm,power10-nest-mmu`).
static NEST_MMU_CHIPS: AtomicU64 = AtomicU64::new(0);

/// Records how many nest MMU units the device tree lists.
pub fn set_nest_mmus(count: usize) {
    NEST_MMU_CHIPS.store(count as u64, Ordering::Relaxed);
}

/// The board the probe chose: how this machine powers off and reboots.
static BOARD: spin::Once<&'static boards::Board> = spin::Once::new();

/// Records the board. On Mambo the clock comes from the simulator's host time (there is
/// no BMC to ask).
pub fn set_board(board: &'static boards::Board) {
    BOARD.call_once(|| board);
    if board.machine == boards::Machine::Mambo {
        // SAFETY: the board is Mambo: the callthru exists.
        let mut sim = unsafe { arch::mambo::Callthru::new() };
        bmc::set_rtc(mambo::clock::host_time_seconds(&mut sim));
    }
}

/// Power off or reboot the way the board says (IPMI when no board was recorded).
fn power(how: fn(&boards::Board) -> boards::PowerControl, ipmi: ChassisControl) -> OpalResult<()> {
    let control = BOARD
        .get()
        .map_or(boards::PowerControl::IpmiChassisControl, |b| how(b));
    match control {
        boards::PowerControl::IpmiChassisControl => bmc::chassis(ipmi),
        boards::PowerControl::MamboExit => {
            // SAFETY: only Mambo boards say MamboExit.
            let _kept_running = mambo::exit::exit(&mut unsafe { arch::mambo::Callthru::new() });
            Err(OpalError::Unsupported)
        }
        boards::PowerControl::Unsupported => Err(OpalError::Unsupported),
    }
}

/// Firmware-initiated power off (nothing to boot, an unsupported machine): asks the BMC
/// and polls it for up to 5 s; returns if the machine is still on after that.
pub fn power_off_and_wait() {
    use hal::Platform;
    if FwPlatform.power_down(false).is_err() {
        return;
    }
    let tb_hz = TB_HZ.load(Ordering::Relaxed);
    let until = arch::timebase() + 5 * tb_hz;
    while arch::timebase() < until {
        FwPlatform.poll();
        arch::relax();
    }
}

pub struct FwPlatform;

impl hal::Platform for FwPlatform {
    fn handle_interrupt(&self, girq: u32) -> OpalResult<()> {
        #[cfg(feature = "hmi-inject")]
        if crate::hmi_inject::is_kick(girq) {
            return Ok(());
        }
        if crate::interrupts::is_event_kick(girq) {
            return Ok(());
        }
        crate::drivers::psi::handle_psi_interrupt(girq)
            .map(|_| ())
            .map_err(|_| OpalError::Parameter)
    }

    fn poll(&self) {
        console::poll();
        bmc::poll()
    }

    fn pending_events(&self) -> u64 {
        bmc::pending_events()
    }

    fn rtc_read(&self) -> OpalResult<u64> {
        bmc::rtc_read()
    }

    fn rtc_write(&self, unix_seconds: u64) -> OpalResult<()> {
        bmc::rtc_write(unix_seconds)
    }

    fn power_down(&self, immediate: bool) -> OpalResult<()> {
        log::info!(target: "opalite::opal", "Shutdown request type {}...", u8::from(immediate));
        power(|b| b.power_off, ChassisControl::PowerDown)
    }

    fn reboot(&self) -> OpalResult<()> {
        log::info!(target: "opalite::opal", "Reboot request...");
        power(|b| b.reboot, ChassisControl::HardReset)
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
        bmc::host_reboot_sync()
    }

    fn has_ipmi(&self) -> bool {
        bmc::has_ipmi()
    }

    fn ipmi_send(&self, req: &IpmiMsg) -> OpalResult<()> {
        bmc::ipmi_send(req)
    }

    fn ipmi_recv(&self) -> OpalResult<IpmiMsg> {
        bmc::ipmi_recv()
    }

    fn nvram_size(&self) -> u64 {
        flash::nvram_size()
    }

    fn nvram_read(&self, offset: u64, buf: &mut [u8]) -> OpalResult<()> {
        flash::nvram_read(offset, buf)
    }

    fn nvram_write(
        &self,
        offset: u64,
        len: u64,
        fill: &mut dyn FnMut(u64, &mut [u8]),
    ) -> OpalResult<()> {
        flash::nvram_write(offset, len, fill)
    }

    fn flash_geometry(&self) -> Option<(u64, u32)> {
        flash::geometry()
    }

    fn flash_read(&self, offset: u64, buf: &mut [u8]) -> OpalResult<()> {
        flash::read(offset, buf)
    }

    fn flash_write(&self, offset: u64, data: &[u8]) -> OpalResult<()> {
        flash::write(offset, data)
    }

    fn flash_erase(&self, offset: u64, len: u64) -> OpalResult<()> {
        flash::erase(offset, len)
    }
}
