// SPDX-License-Identifier: Apache-2.0
//! `OPAL_CEC_POWER_DOWN` (5), `OPAL_CEC_REBOOT` (6), `OPAL_SYNC_HOST_REBOOT` (87):
//! skiboot `core/platform.c`, `doc/opal-api/opal-cec-power-down-5.rst`,
//! `opal-cec-reboot-6-116.rst`. The request is started here and completed by the platform
//! from the `OPAL_POLL_EVENTS` calls the OS makes afterwards.

use crate::Ctx;
use opal_api::{power_down, OpalError, OpalResult};

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
}
