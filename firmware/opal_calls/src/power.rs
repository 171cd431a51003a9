// SPDX-License-Identifier: Apache-2.0
//! `OPAL_CEC_POWER_DOWN` (5), `OPAL_CEC_REBOOT` (6), `OPAL_SYNC_HOST_REBOOT` (87),
//! `OPAL_CEC_REBOOT2` (116):
//! skiboot `core/platform.c`, `doc/opal-api/opal-cec-power-down-5.rst`,
//! `opal-cec-reboot-6-116.rst`. The request is started here and completed by the platform
//! from the `OPAL_POLL_EVENTS` calls the OS makes afterwards.

use crate::args::{os_range, OsPtr};
use crate::Ctx;
use opal_api::{power_down, OpalError, OpalResult};

/// `OPAL_CEC_REBOOT2` reboot types (opal-api.h).
const REBOOT_NORMAL: u32 = 0;
const REBOOT_PLATFORM_ERROR: u32 = 1;
const REBOOT_FULL_IPL: u32 = 2;
const REBOOT_MPIPL: u32 = 3;
const REBOOT_FAST: u32 = 4;
/// The most of the OS's message that is logged.
const MSG_MAX: usize = 160;

/// `int64_t opal_cec_power_down(uint64_t request)`: 0 normal, 1 immediate.
/// PARAMETER for any other request; HARDWARE if the BMC cannot be asked.
pub fn cec_power_down(cx: &Ctx<'_>, request: u64) -> OpalResult<()> {
    let immediate = match request {
        power_down::NORMAL => false,
        power_down::IMMEDIATE => true,
        _ => return Err(OpalError::Parameter),
    };
    cx.platform.power_down(immediate)
}

/// `int64_t opal_cec_reboot(void)`
pub fn cec_reboot(cx: &Ctx<'_>) -> OpalResult<()> {
    cx.platform.reboot()
}

/// `int64_t opal_cec_reboot2(uint32_t reboot_type, char *diag)`: Linux calls it with
/// PLATFORM_ERROR and a reason after a fatal HMI or machine check
/// (`pnv_platform_error_reboot`), then panics whatever the answer.
///
/// | type | what happens |
/// |---|---|
/// | NORMAL, FULL_IPL, FAST | a full reboot (there is no fast reboot), as OPAL_CEC_REBOOT |
/// | PLATFORM_ERROR | the OS's reason is logged, then a full reboot (skiboot on BMC machines without checkstop-on-error does the same) |
/// | MPIPL | UNSUPPORTED: no memory-preserving IPL yet |
/// | any other | UNSUPPORTED, as skiboot |
///
/// `diag` may be 0; a bad pointer is only not printed (the reboot still happens: the
/// caller is on its way down and has no use for a PARAMETER).
pub fn cec_reboot2(cx: &Ctx<'_>, reboot_type: u32, diag: OsPtr<u8>) -> OpalResult<()> {
    match reboot_type {
        REBOOT_NORMAL | REBOOT_FULL_IPL | REBOOT_FAST => {
            log::info!("OPAL: OPAL_CEC_REBOOT2 type {reboot_type}: full reboot");
            cx.platform.reboot()
        }
        REBOOT_PLATFORM_ERROR => {
            let mut buf = [0u8; MSG_MAX];
            let text = read_message(cx, diag, &mut buf);
            log::error!("OPAL: Reboot requested due to Platform error: {text}");
            cx.platform.reboot()
        }
        REBOOT_MPIPL => Err(OpalError::Unsupported),
        _ => Err(OpalError::Unsupported),
    }
}

/// The NUL-terminated string at `p`, as far as it is OS memory and printable ASCII.
fn read_message<'b>(cx: &Ctx<'_>, p: OsPtr<u8>, buf: &'b mut [u8; MSG_MAX]) -> &'b str {
    if p.raw == 0 {
        return "(no reason given)";
    }
    // The longest prefix that is OS memory (the string may end just below a boundary).
    let mut len = MSG_MAX as u64;
    let range = loop {
        match os_range(cx, p, len) {
            Ok(r) => break r,
            Err(_) if len > 1 => len /= 2,
            Err(_) => return "(unreadable reason)",
        }
    };
    cx.mem.read(range, 0, &mut buf[..len as usize]);
    let end = buf[..len as usize]
        .iter()
        .position(|&b| b == 0 || !(b == b' ' || b.is_ascii_graphic()))
        .unwrap_or(len as usize);
    core::str::from_utf8(&buf[..end]).unwrap_or("")
}

/// `int64_t opal_sync_host_reboot(void)`: BUSY_EVENT while firmware work that must finish
/// first is in flight, SUCCESS once the host may reboot.
pub fn sync_host_reboot(cx: &Ctx<'_>) -> OpalResult<()> {
    cx.platform.host_reboot_sync()
}

/// `int64_t opal_nmmu_set_ptcr(uint64_t chip_id, uint64_t ptcr)`: tells the nest MMU
/// (accelerators' MMU) where the partition table is; chip -1 means every chip. Linux calls
/// it at boot without a token check and accepts SUCCESS or UNSUPPORTED.
///
/// | return | when |
/// |---|---|
/// | SUCCESS | every addressed nest MMU took the value |
/// | UNSUPPORTED | the machine has no nest MMU (QEMU) |
/// | PARAMETER | no nest MMU on that chip |
/// | HARDWARE | a nest MMU could not be written |
pub fn nmmu_set_ptcr(cx: &Ctx<'_>, chip: u64, ptcr: u64) -> OpalResult<()> {
    cx.platform.nest_mmu_set_ptcr(chip, ptcr)
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::*;

    #[test]
    fn power_requests_reach_the_platform() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_CEC_POWER_DOWN, &[0]), 0);
        assert_eq!(m.call(OPAL_CEC_POWER_DOWN, &[1]), 0);
        assert_eq!(m.call(OPAL_CEC_POWER_DOWN, &[2]), -1);
        assert_eq!(m.call(OPAL_CEC_REBOOT, &[]), 0);
        assert_eq!(
            &*m.platform.power_requests.borrow(),
            &["off", "off-now", "reboot"]
        );
    }

    #[test]
    fn nmmu_ptcr_reaches_the_addressed_chips() {
        let m = Machine::new();
        assert_eq!(
            m.call(OPAL_NMMU_SET_PTCR, &[u64::MAX, 0x1234]),
            -7,
            "no nest MMU"
        );
        m.platform
            .nest_mmus
            .borrow_mut()
            .extend([(0, None), (1, None)]);
        assert_eq!(m.call(OPAL_NMMU_SET_PTCR, &[1, 0x5000]), 0);
        assert_eq!(
            &*m.platform.nest_mmus.borrow(),
            &[(0, None), (1, Some(0x5000))]
        );
        assert_eq!(m.call(OPAL_NMMU_SET_PTCR, &[u64::MAX, 0x6000]), 0);
        assert_eq!(
            &*m.platform.nest_mmus.borrow(),
            &[(0, Some(0x6000)), (1, Some(0x6000))]
        );
        assert_eq!(m.call(OPAL_NMMU_SET_PTCR, &[7, 0x6000]), -1);
    }

    #[test]
    fn sync_host_reboot_waits_for_the_bmc() {
        let m = Machine::new();
        m.platform.bmc_busy.set(true);
        assert_eq!(m.call(OPAL_SYNC_HOST_REBOOT, &[]), -12);
        m.platform.bmc_busy.set(false);
        assert_eq!(m.call(OPAL_SYNC_HOST_REBOOT, &[]), 0);
    }

    #[test]
    fn reboot2_types() {
        let m = Machine::new();
        let reason = b"Unrecoverable HMI exception\0";
        m.mem.poke(0x3000, reason);
        assert_eq!(m.call(OPAL_CEC_REBOOT2, &[1, 0x3000]), 0);
        assert_eq!(m.call(OPAL_CEC_REBOOT2, &[1, 0]), 0);
        assert_eq!(
            m.call(OPAL_CEC_REBOOT2, &[1, 0x8_0000]),
            0,
            "bad reason pointer"
        );
        assert_eq!(m.call(OPAL_CEC_REBOOT2, &[0, 0]), 0);
        assert_eq!(m.call(OPAL_CEC_REBOOT2, &[2, 0]), 0);
        assert_eq!(m.call(OPAL_CEC_REBOOT2, &[3, 0]), -7, "no MPIPL");
        assert_eq!(m.call(OPAL_CEC_REBOOT2, &[99, 0]), -7);
        assert_eq!(m.platform.power_requests.borrow().len(), 5);
    }
}
