// SPDX-License-Identifier: Apache-2.0
//! `OPAL_PCI_RESET` and `OPAL_PCI_POLL`: resets that take longer than an OPAL call run as
//! a state machine. A call returns the milliseconds the OS should wait before the next
//! `OPAL_PCI_POLL`; 0 means done (skiboot `phb4_creset`, `phb4_freset`, `phb4_hreset`,
//! `opal_pci_reset`, `opal_pci_poll`).
//!
//! * Complete reset (scope 1, kdump kernels): PERST asserted, the ETU held in reset over
//!   XSCOM until the PBCQ has no transaction pending, released, the PHB brought up again
//!   from the caches, PERST held, released, then the link waited for.
//! * Fundamental reset (5): PERST asserted and held, released, link waited for; a PHB
//!   that still holds PERST from its init (boot) skips the hold.
//! * Hot reset (4): secondary bus reset on the root port, held, released, link waited for.
//! * PHB error (3) and IODA table (6) resets complete within the call.
//!
//! A link that does not train within a second is an empty slot, not an error: the reset
//! completes. Deasserting a scope is accepted and does nothing, as in skiboot. Waits follow
//! skiboot's (10 ms ETU steps, 100 ms drain retries, 250 ms PERST hold); under QEMU every
//! step completes on its first poll.

use hal::{Scom, ScomError};
use opal_api::pci::{ResetScope, ResetState};
use opal_api::{OpalError, OpalResult};

use super::Phb;
use crate::config::{config_read, config_write};
use crate::reg::{self, xscom as x};
use crate::{ppc_bit, Bdfn, PhbRegs};

/// Where a running reset is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetProgress {
    Idle,
    /// Complete reset: the ETU is held in reset until the PBCQ drains.
    EtuDrain {
        polls_left: u16,
    },
    /// Complete reset: the ETU is out of reset; its logic settles before re-init.
    EtuSettle,
    /// Complete reset: core resets lifted, waiting for DL_PGRESET to clear.
    DlpReset {
        polls_left: u16,
    },
    /// Complete reset: tables reprogrammed, waiting the 256 ns+ before the rest.
    TablesSettle,
    /// PERST is asserted and held.
    PerstHeld,
    /// Secondary bus reset is asserted on the root port.
    HotResetHeld,
    /// Reset released: waiting for the data link to come up.
    LinkTraining {
        polls_left: u16,
    },
}

/// skiboot retries the PBCQ drain 500 times, 100 ms apart.
const DRAIN_POLLS: u16 = 500;
/// 200 polls 1 ms apart, as at boot.
const DLP_POLLS: u16 = 200;
/// 100 polls 10 ms apart: a second for the link.
pub(super) const LINK_POLLS: u16 = 100;
/// PERST held for 250 ms (skiboot's minimum across a complete reset).
const PERST_HOLD_MS: u64 = 250;
/// Root port Bridge Control (0x3e), Secondary Bus Reset.
const BRIDGE_CONTROL: u32 = 0x3e;
const BRIDGE_CTL_BUS_RESET: u32 = 0x40;
/// PBCQ_STAT bits 0-1: transactions still outstanding.
const PBCQ_PENDING: u64 = ppc_bit(0) | ppc_bit(1);

impl<R: PhbRegs> Phb<'_, R> {
    /// The reset state machine's position (Idle when no reset runs).
    pub fn reset_progress(&self) -> ResetProgress {
        self.reset
    }

    /// `OPAL_PCI_RESET(phb, scope, assert)`. Returns the milliseconds to wait before
    /// `OPAL_PCI_POLL`, or 0 when the reset is already done.
    ///
    /// | result | when |
    /// |---|---|
    /// | `Parameter` | undefined scope or assert state |
    /// | `Unsupported` | link reset (scope 2): PHB4 has no separate one |
    /// | `Busy` | another reset is running (poll it to completion first) |
    /// | `Hardware` | the PHB is dead; an XSCOM or register step failed (the PHB is then dead) |
    pub fn pci_reset<S: Scom + ?Sized>(
        &mut self,
        scom: &mut S,
        scope: u8,
        assert_state: u8,
    ) -> OpalResult<u64> {
        let scope = ResetScope::from_raw(scope as u64).ok_or(OpalError::Parameter)?;
        let assert = ResetState::from_raw(assert_state as u64).ok_or(OpalError::Parameter)?;
        if scope == ResetScope::PciLink {
            return Err(OpalError::Unsupported);
        }
        self.alive()?;
        if self.reset != ResetProgress::Idle {
            return Err(OpalError::Busy);
        }
        if assert == ResetState::Deassert {
            return Ok(0);
        }
        match scope {
            ResetScope::IodaTable => {
                self.ioda_reset(true)?;
                Ok(0)
            }
            ResetScope::PhbError => {
                for r in [
                    reg::PAPR_ERR_INJ_CTL,
                    reg::PAPR_ERR_INJ_ADDR,
                    reg::PAPR_ERR_INJ_MASK,
                ] {
                    self.regs.write64(r, 0);
                }
                Ok(0)
            }
            ResetScope::PciFundamental => {
                // A PHB fresh from init still holds PERST, as it has since power-on:
                // nothing to hold it for, release it now (skiboot's "FRESET: Assert
                // skipped", which saves every PHB's 250 ms at boot).
                if self.regs.read64(reg::PCIE_CRESET) & reg::CRESET_PERST_N == 0 {
                    self.set_perst(false);
                    self.reset = ResetProgress::LinkTraining {
                        polls_left: LINK_POLLS,
                    };
                    // The first look soon: a link QEMU models (or one a slot trains
                    // quickly) is up at once, and each PHB's boot waits for this poll.
                    return Ok(1);
                }
                self.set_perst(true);
                self.reset = ResetProgress::PerstHeld;
                Ok(PERST_HOLD_MS)
            }
            ResetScope::PciHot => {
                let ctl = self.root_bridge_control()?;
                config_write(
                    &mut self.regs,
                    Bdfn::ROOT,
                    BRIDGE_CONTROL,
                    2,
                    ctl | BRIDGE_CTL_BUS_RESET,
                )
                .map_err(|_| OpalError::Hardware)?;
                self.reset = ResetProgress::HotResetHeld;
                // PCIe: Secondary Bus Reset held at least 1 ms.
                Ok(2)
            }
            ResetScope::PhbComplete => {
                self.set_perst(true);
                let etu = self.layout.xscom.pci + x::PCI_STK_ETU_RESET;
                self.scom_step(scom.write(self.layout.chip_id, etu, ppc_bit(0)))?;
                self.reset = ResetProgress::EtuDrain {
                    polls_left: DRAIN_POLLS,
                };
                Ok(10)
            }
            ResetScope::PciLink => Err(OpalError::Unsupported),
        }
    }

    /// `OPAL_PCI_POLL(phb)`: advance a running reset. Returns the milliseconds to wait
    /// before polling again, 0 when done (also when no reset runs).
    ///
    /// | result | when |
    /// |---|---|
    /// | `Hardware` | the PHB is dead, or this step failed: the PBCQ never drained, the data link stayed in reset, an XSCOM or register access failed (the PHB is then dead) |
    pub fn pci_poll<S: Scom + ?Sized>(&mut self, scom: &mut S) -> OpalResult<u64> {
        self.alive()?;
        let chip = self.layout.chip_id;
        match self.reset {
            ResetProgress::Idle => Ok(0),
            ResetProgress::EtuDrain { polls_left } => {
                let stat = self
                    .scom_step(scom.read(chip, self.layout.xscom.nest + x::NEST_STK_PBCQ_STAT))?;
                if stat & PBCQ_PENDING == 0 {
                    let etu = self.layout.xscom.pci + x::PCI_STK_ETU_RESET;
                    self.scom_step(scom.write(chip, etu, 0))?;
                    self.reset = ResetProgress::EtuSettle;
                    return Ok(10);
                }
                if polls_left == 0 {
                    return self.reset_failed();
                }
                self.reset = ResetProgress::EtuDrain {
                    polls_left: polls_left - 1,
                };
                Ok(100)
            }
            ResetProgress::EtuSettle => {
                if self.init_hw_cores().is_err() {
                    return self.reset_failed();
                }
                self.reset = ResetProgress::DlpReset {
                    polls_left: DLP_POLLS,
                };
                Ok(1)
            }
            ResetProgress::DlpReset { polls_left } => {
                if self.regs.read64(reg::PCIE_DLP_TRAIN_CTL) & reg::DLP_DL_PGRESET != 0 {
                    if polls_left == 0 {
                        return self.reset_failed();
                    }
                    self.reset = ResetProgress::DlpReset {
                        polls_left: polls_left - 1,
                    };
                    return Ok(1);
                }
                if self.init_hw_tables().is_err() {
                    return self.reset_failed();
                }
                self.reset = ResetProgress::TablesSettle;
                Ok(1)
            }
            ResetProgress::TablesSettle => {
                if self.init_hw_finish().is_err() {
                    return self.reset_failed();
                }
                // PERST has stayed asserted since the reset began; hold it a while more.
                self.set_perst(true);
                self.reset = ResetProgress::PerstHeld;
                Ok(100)
            }
            ResetProgress::PerstHeld => {
                self.set_perst(false);
                self.reset = ResetProgress::LinkTraining {
                    polls_left: LINK_POLLS,
                };
                Ok(10)
            }
            ResetProgress::HotResetHeld => {
                let ctl = self.root_bridge_control()?;
                if config_write(
                    &mut self.regs,
                    Bdfn::ROOT,
                    BRIDGE_CONTROL,
                    2,
                    ctl & !BRIDGE_CTL_BUS_RESET,
                )
                .is_err()
                {
                    return self.reset_failed();
                }
                self.reset = ResetProgress::LinkTraining {
                    polls_left: LINK_POLLS,
                };
                Ok(10)
            }
            ResetProgress::LinkTraining { polls_left } => {
                let trained = self.regs.read64(reg::PCIE_DLP_TRAIN_CTL) & reg::DLP_TL_LINKACT != 0;
                if trained || polls_left == 0 {
                    // No link after a second: an empty slot, which the scan will see.
                    self.reset = ResetProgress::Idle;
                    return Ok(0);
                }
                self.reset = ResetProgress::LinkTraining {
                    polls_left: polls_left - 1,
                };
                Ok(10)
            }
        }
    }

    /// PERST is active low: asserting clears PERST_N.
    fn set_perst(&mut self, asserted: bool) {
        let creset = self.regs.read64(reg::PCIE_CRESET);
        let creset = if asserted {
            creset & !reg::CRESET_PERST_N
        } else {
            creset | reg::CRESET_PERST_N
        };
        self.regs.write64(reg::PCIE_CRESET, creset);
    }

    fn root_bridge_control(&mut self) -> OpalResult<u32> {
        config_read(&mut self.regs, Bdfn::ROOT, BRIDGE_CONTROL, 2).map_err(|_| OpalError::Hardware)
    }

    fn scom_step<T>(&mut self, r: Result<T, ScomError>) -> OpalResult<T> {
        match r {
            Ok(v) => Ok(v),
            Err(_) => self.reset_failed(),
        }
    }

    /// A reset that cannot finish leaves the PHB unusable (skiboot marks it broken).
    fn reset_failed<T>(&mut self) -> OpalResult<T> {
        self.broken = true;
        self.reset = ResetProgress::Idle;
        Err(OpalError::Hardware)
    }
}
