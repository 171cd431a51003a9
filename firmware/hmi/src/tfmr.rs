// SPDX-License-Identifier: Apache-2.0
//! TFMR (SPR 0x13D): each thread's view of the core's timer facility
//! (hmi-mce-sreset.md §4.3), and the error groups the recovery works on.

use hal::bits::{ppc_bit, ppc_bitmask};

pub const MAX_CYC_BET_STEPS: u64 = ppc_bitmask(0, 7);
pub const N_CLKS_PER_STEP: u64 = ppc_bitmask(8, 9);
pub const MASK_HMI: u64 = ppc_bit(10);
pub const SYNC_BIT_SEL: u64 = ppc_bitmask(11, 13);
pub const TB_ECLIPZ: u64 = ppc_bit(14);
pub const LOAD_TOD_MOD: u64 = ppc_bit(16);
pub const MOVE_CHIP_TOD_TO_TB: u64 = ppc_bit(18);
/// Written with the error bits to clear them; reads 1 until the clear is done.
pub const CLEAR_TB_ERRORS: u64 = ppc_bit(24);
pub const TFAC_XFER_ERROR: u64 = ppc_bit(25);
pub const HDEC_PARITY_ERROR: u64 = ppc_bit(26);
pub const TBST_CORRUPT: u64 = ppc_bit(27);
/// TB state machine, bits 28:31 ([`TbState`]).
pub const TBST_ENCODED: u64 = ppc_bitmask(28, 31);
pub const TBST_LAST: u64 = ppc_bitmask(32, 35);
pub const TB_ENABLED: u64 = ppc_bit(40);
pub const TB_VALID: u64 = ppc_bit(41);
pub const TB_SYNC_OCCURED: u64 = ppc_bit(42);
pub const TB_MISSING_SYNC: u64 = ppc_bit(43);
pub const TB_MISSING_STEP: u64 = ppc_bit(44);
pub const TB_RESIDUE_ERR: u64 = ppc_bit(45);
pub const FW_CONTROL_ERR: u64 = ppc_bit(46);
pub const CHIP_TOD_STATUS: u64 = ppc_bitmask(47, 50);
pub const CHIP_TOD_INTERRUPT: u64 = ppc_bit(51);
pub const CHIP_TOD_TIMEOUT: u64 = ppc_bit(54);
pub const CHIP_TOD_PARITY_ERR: u64 = ppc_bit(56);
pub const PURR_PARITY_ERR: u64 = ppc_bit(57);
pub const SPURR_PARITY_ERR: u64 = ppc_bit(58);
pub const DEC_PARITY_ERR: u64 = ppc_bit(59);
pub const TFMR_CORRUPT: u64 = ppc_bit(60);
pub const PURR_OVERFLOW: u64 = ppc_bit(61);
pub const SPURR_OVERFLOW: u64 = ppc_bit(62);

/// Errors local to one thread.
pub const THREAD_ERRORS: u64 = PURR_PARITY_ERR | SPURR_PARITY_ERR | DEC_PARITY_ERR;
/// Errors signalled to every thread of the core.
pub const CORE_ERRORS: u64 = TBST_CORRUPT
    | TB_MISSING_SYNC
    | TB_MISSING_STEP
    | FW_CONTROL_ERR
    | TFMR_CORRUPT
    | TB_RESIDUE_ERR
    | HDEC_PARITY_ERROR
    | TFAC_XFER_ERROR;
/// Chip TOD errors (every core of the chip).
pub const TOD_ERRORS: u64 = CHIP_TOD_INTERRUPT | CHIP_TOD_TIMEOUT | CHIP_TOD_PARITY_ERR;
/// The core errors the "clear TB errors" sequence (bit 24) clears. The TFAC transfer
/// error is cleared with them (our choice: it is a TB facility error with no sequence of
/// its own in §4.3).
pub const TB_ERRORS: u64 = TBST_CORRUPT
    | TB_MISSING_SYNC
    | TB_MISSING_STEP
    | TB_RESIDUE_ERR
    | FW_CONTROL_ERR
    | TFAC_XFER_ERROR;
/// The configuration fields every TFMR write carries ([`base`]).
pub const CONFIG: u64 = MAX_CYC_BET_STEPS | N_CLKS_PER_STEP | SYNC_BIT_SEL | TB_ECLIPZ;

/// The TFMR value every recovery write starts from (skiboot `base_tfmr`): ECLIPZ mode,
/// sync bit select 4, one clock per step encoding 0, and max cycles between steps
/// `core_hz·240 / (4·32 MHz) / 100` (clamped to the 8-bit field).
pub const fn base(core_hz: u64) -> u64 {
    let mut max_cyc = core_hz / 1_000_000 * 240 / (4 * 32) / 100;
    if max_cyc > 0xff {
        max_cyc = 0xff;
    }
    (max_cyc << 56) | (4 << (63 - 13)) | TB_ECLIPZ
}

/// The TB state machine (TFMR 28:31).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TbState {
    Reset = 0,
    SendTodMod = 1,
    NotSet = 2,
    SyncWait = 6,
    GetTod = 7,
    Running = 8,
    Error = 9,
}

impl TbState {
    pub const fn from_bits(v: u8) -> Option<Self> {
        Some(match v {
            0 => TbState::Reset,
            1 => TbState::SendTodMod,
            2 => TbState::NotSet,
            6 => TbState::SyncWait,
            7 => TbState::GetTod,
            8 => TbState::Running,
            9 => TbState::Error,
            _ => return None,
        })
    }

    /// The field value placed in a TFMR.
    pub const fn field(self) -> u64 {
        (self as u64) << (63 - 31)
    }
}

/// The TB state field of a TFMR value.
pub const fn tb_state(tfmr: u64) -> u8 {
    ((tfmr & TBST_ENCODED) >> (63 - 31)) as u8
}

/// A TFMR value sorted into the groups the recovery works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TfmrErrors {
    /// Set bits of [`THREAD_ERRORS`].
    pub thread: u64,
    /// Set bits of [`CORE_ERRORS`].
    pub core: u64,
    /// Set bits of [`TOD_ERRORS`].
    pub tod: u64,
    /// TFMR bit 41.
    pub tb_valid: bool,
    /// TFMR 28:31 (see [`TbState::from_bits`]).
    pub tb_state: u8,
}

impl TfmrErrors {
    pub const fn of(tfmr: u64) -> Self {
        Self {
            thread: tfmr & THREAD_ERRORS,
            core: tfmr & CORE_ERRORS,
            tod: tfmr & TOD_ERRORS,
            tb_valid: tfmr & TB_VALID != 0,
            tb_state: tb_state(tfmr),
        }
    }

    /// The TFMR itself is not trustworthy.
    pub const fn corrupt(&self) -> bool {
        self.core & TFMR_CORRUPT != 0
    }

    /// Core-wide work is needed: a core error, or an invalid TB without any error
    /// (POWER10 after waking from stop2 or deeper), which is treated as a corrupt TFMR.
    pub const fn needs_core_recovery(&self) -> bool {
        self.core != 0 || (!self.tb_valid && self.tod == 0)
    }

    pub const fn any(&self) -> bool {
        self.thread != 0 || self.core != 0 || self.tod != 0 || !self.tb_valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values() {
        assert_eq!(TB_VALID, 0x0000_0000_0040_0000);
        assert_eq!(CLEAR_TB_ERRORS, 0x0000_0080_0000_0000);
        assert_eq!(TBST_ENCODED, 0x0000_000F_0000_0000);
        assert_eq!(TFMR_CORRUPT, 0x8);
        assert_eq!(DEC_PARITY_ERR, 0x10);
        assert_eq!(THREAD_ERRORS, 0x70);
        assert_eq!(TbState::Error.field(), 0x0000_0009_0000_0000);
        assert_eq!(tb_state(0x0000_0008_0040_0000), 8);
    }

    #[test]
    fn base_for_a_4ghz_core() {
        // 4000 MHz: 4000·240/128/100 = 75 = 0x4B; sync bit select 4; ECLIPZ.
        assert_eq!(
            base(4_000_000_000),
            0x4B10_0000_0000_0000 | 0x0002_0000_0000_0000
        );
    }

    #[test]
    fn classify() {
        let v = TB_VALID | TbState::Running.field() | DEC_PARITY_ERR | HDEC_PARITY_ERROR;
        let e = TfmrErrors::of(v);
        assert_eq!(e.thread, DEC_PARITY_ERR);
        assert_eq!(e.core, HDEC_PARITY_ERROR);
        assert_eq!(e.tod, 0);
        assert!(e.tb_valid);
        assert_eq!(e.tb_state, 8);
        assert!(e.needs_core_recovery());
        let e = TfmrErrors::of(TB_VALID | CHIP_TOD_TIMEOUT | PURR_PARITY_ERR);
        assert_eq!(
            (e.thread, e.core, e.tod),
            (PURR_PARITY_ERR, 0, CHIP_TOD_TIMEOUT)
        );
        assert!(!e.needs_core_recovery());
        // TB invalid without any error bit: core recovery.
        assert!(TfmrErrors::of(TbState::Reset.field()).needs_core_recovery());
        assert!(!TfmrErrors::of(TB_VALID).any());
    }
}
