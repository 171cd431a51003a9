// SPDX-License-Identifier: Apache-2.0
//! Machine-check (0x200) decoding for POWER9 and POWER10: SRR1, DSISR, DAR and SRR0 in, one
//! typed [`MceInfo`] out (hmi-mce-sreset.md §5.2).
//!
//! The tables are those of the processor user manuals as skiboot's `core/mce.c` and Linux's
//! `arch/powerpc/kernel/mce_power.c` carry them; severities are Linux's grading, because
//! Linux is who acts on them once it owns the vectors. The firmware itself only reports:
//! it never resumes after a machine check (see [`MceInfo::recoverable_in_firmware`] for
//! the one case skiboot recovers).
//!
//! Decoding order:
//! 1. POWER9, SRR1\[42\] set and DSISR exactly 0x0200_0000: the spurious machine check a
//!    `paste` raises on DD2.1 and earlier ([`MceError::SpuriousPaste`]).
//! 2. SRR1\[42\] set with the I-side code of an asynchronous store error (0x0814_0000, and
//!    on POWER9 also 0x0818_0000): the cause is in SRR1, so decode it as I-side.
//! 3. SRR1\[42\] set: D-side, from the DSISR bits. When several are set, the first one in
//!    [`MceError::DSIDE_ORDER`] wins (Linux's order: uncorrectable errors first). skiboot
//!    keeps the last match instead; we follow Linux so the report names the worst cause.
//! 4. Otherwise I-side, from `SRR1 & 0x081C_0000`.

use core::fmt;
use hal::bits::{ppc_bit, ppc_bitmask};

pub use crate::Gen;

/// Where the cause was reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Cause in SRR1 (instruction fetch, and the asynchronous store errors, whose cause
    /// also comes in SRR1).
    Instruction,
    /// SRR1\[42\]: a load or store; cause in DSISR.
    LoadStore,
}

/// Linux's grading (`MCE_SEV_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// `MCE_SEV_WARNING`: recoverable (flush and retry).
    Warning,
    /// `MCE_SEV_SEVERE`: the operation failed; the context that ran it cannot go on.
    Severe,
    /// `MCE_SEV_FATAL`: asynchronous, no precise context: the machine cannot go on.
    Fatal,
}

/// Every cause of both generations' tables. `Ifetch*` and the two `Store*Async` come
/// from SRR1, the others from DSISR. "PTW" = the hardware page-table walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MceError {
    /// SRR1 0x0004_0000.
    IfetchUe,
    /// SRR1 0x0008_0000.
    IfetchSlbParity,
    /// SRR1 0x000C_0000.
    IfetchSlbMultihit,
    /// SRR1 0x0010_0000.
    IfetchEratMultihit,
    /// SRR1 0x0014_0000.
    IfetchTlbMultihit,
    /// SRR1 0x0018_0000.
    IfetchPtwUe,
    /// SRR1 0x001C_0000: "foreign address" in the POWER9 manual, "control real address"
    /// in the POWER10 one.
    IfetchForeignAddress,
    /// SRR1 0x0800_0000, POWER9 only.
    IfetchForeignLinkTimeout,
    /// SRR1 0x0804_0000, POWER9 only.
    IfetchPtwForeignLinkTimeout,
    /// SRR1 0x0808_0000, POWER10 only (Linux `MCE_USER_ERROR_SCV`; not in §5.2's table).
    ScvInvalid,
    /// SRR1 0x080C_0000.
    IfetchRealAddress,
    /// SRR1 0x0810_0000.
    IfetchPtwRealAddress,
    /// SRR1 0x0814_0000 (usually with SRR1\[42\]).
    StoreRealAddressAsync,
    /// SRR1 0x0818_0000, POWER9 only (usually with SRR1\[42\]).
    StoreForeignLinkTimeoutAsync,
    /// SRR1 0x081C_0000.
    IfetchPtwForeignAddress,
    /// DSISR 0x8000.
    LoadStoreUe,
    /// DSISR 0x4000.
    LoadStorePtwUe,
    /// DSISR 0x2000, POWER9 only.
    LoadStoreForeignLinkTimeout,
    /// DSISR 0x1000, POWER9 only.
    LoadStorePtwForeignLinkTimeout,
    /// DSISR 0x0800.
    LoadStoreEratMultihit,
    /// DSISR 0x0400.
    LoadStoreTlbMultihit,
    /// DSISR 0x0200.
    TlbieProgramming,
    /// DSISR 0x0100.
    LoadStoreSlbParity,
    /// DSISR 0x0080.
    LoadStoreSlbMultihit,
    /// DSISR 0x0040 (what QEMU raises for a load from an unassigned address).
    LoadRealAddress,
    /// DSISR 0x0020.
    LoadStorePtwRealAddress,
    /// DSISR 0x0010.
    LoadStorePtwForeignAddress,
    /// DSISR 0x0008.
    LoadStoreForeignAddress,
    /// POWER9 DD2.1 and earlier: a `paste` with only DSISR 0x0200_0000. Harmless; the
    /// hardware raises the machine check again if something needs service.
    SpuriousPaste,
    /// No row matches.
    Unknown,
}

/// I-side causes by SRR1\[36\] and SRR1\[43:45\] read as a 4-bit number (a table
/// rather than a match: LLVM turns that match into a tree of branches).
static IFETCH: [MceError; 16] = {
    use MceError::*;
    [
        Unknown,                      // 0x0000_0000
        IfetchUe,                     // 0x0004_0000
        IfetchSlbParity,              // 0x0008_0000
        IfetchSlbMultihit,            // 0x000C_0000
        IfetchEratMultihit,           // 0x0010_0000
        IfetchTlbMultihit,            // 0x0014_0000
        IfetchPtwUe,                  // 0x0018_0000
        IfetchForeignAddress,         // 0x001C_0000
        IfetchForeignLinkTimeout,     // 0x0800_0000, P9
        IfetchPtwForeignLinkTimeout,  // 0x0804_0000, P9
        ScvInvalid,                   // 0x0808_0000, P10
        IfetchRealAddress,            // 0x080C_0000
        IfetchPtwRealAddress,         // 0x0810_0000
        StoreRealAddressAsync,        // 0x0814_0000
        StoreForeignLinkTimeoutAsync, // 0x0818_0000, P9
        IfetchPtwForeignAddress,      // 0x081C_0000
    ]
};

/// SRR1\[42\]: the machine check is from a load or store.
const SRR1_MC_LOADSTORE: u64 = ppc_bit(42);
/// SRR1\[36\] and SRR1\[43:45\]: the I-side cause.
const SRR1_MC_IFETCH: u64 = ppc_bit(36) | ppc_bitmask(43, 45);
/// SRR1\[46:47\]: power-saving wake-up state (0: not woken from stop).
const SRR1_WAKESTATE: u64 = ppc_bitmask(46, 47);
const DSISR_SPURIOUS_PASTE: u32 = 0x0200_0000;
/// Every D-side cause bit of [`MceError::DSIDE_ORDER`].
const DSISR_KNOWN: u32 = 0xFFF8;

impl MceError {
    /// D-side causes in the order they are tried; the first match wins.
    pub const DSIDE_ORDER: [(u16, MceError); 13] = [
        (0x8000, Self::LoadStoreUe),
        (0x4000, Self::LoadStorePtwUe),
        (0x2000, Self::LoadStoreForeignLinkTimeout),
        (0x1000, Self::LoadStorePtwForeignLinkTimeout),
        (0x0800, Self::LoadStoreEratMultihit),
        (0x0400, Self::LoadStoreTlbMultihit),
        (0x0200, Self::TlbieProgramming),
        // Linux tries multi-hit before parity.
        (0x0080, Self::LoadStoreSlbMultihit),
        (0x0100, Self::LoadStoreSlbParity),
        (0x0040, Self::LoadRealAddress),
        (0x0020, Self::LoadStorePtwRealAddress),
        (0x0010, Self::LoadStorePtwForeignAddress),
        (0x0008, Self::LoadStoreForeignAddress),
    ];

    /// The I-side cause for `SRR1 & 0x081C_0000` on `gen`.
    fn from_ifetch(gen: Gen, code: u64) -> Self {
        // SRR1[36] and SRR1[43:45] as one 4-bit number: 0x0800_0000 is 8, 0x001C_0000 is 7.
        let key = ((code >> 24 & 8) | (code >> 18 & 7)) as usize;
        // Codes the other generation does not have: P10 has no 0x0800_0000, 0x0804_0000,
        // 0x0818_0000 (keys 8, 9, 14); P9 has no 0x0808_0000 (key 10).
        let absent: u16 = match gen {
            Gen::P9 => 1 << 10,
            Gen::P10 => 1 << 8 | 1 << 9 | 1 << 14,
        };
        if absent & 1 << key != 0 {
            Self::Unknown
        } else {
            IFETCH[key]
        }
    }

    /// Linux's severity for this cause (an unknown cause is severe, as in Linux).
    pub fn severity(self) -> Severity {
        use MceError::*;
        match self {
            IfetchSlbMultihit
            | IfetchEratMultihit
            | IfetchTlbMultihit
            | ScvInvalid
            | LoadStoreEratMultihit
            | LoadStoreTlbMultihit
            | TlbieProgramming
            | LoadStoreSlbMultihit
            | SpuriousPaste => Severity::Warning,
            StoreRealAddressAsync | StoreForeignLinkTimeoutAsync => Severity::Fatal,
            _ => Severity::Severe,
        }
    }

    /// Whether the hardware's address register (SRR0 for I-side, DAR for D-side) names
    /// the faulting address for this cause (Linux `nip_valid` / `dar_valid`).
    fn address_valid(self) -> bool {
        use MceError::*;
        match self {
            StoreRealAddressAsync | StoreForeignLinkTimeoutAsync | SpuriousPaste | Unknown => false,
            // The UE's address comes from decoding the instruction, not from DAR.
            LoadStoreUe
            | TlbieProgramming
            | LoadStorePtwRealAddress
            | LoadStorePtwForeignAddress
            | LoadStoreForeignAddress => false,
            _ => true,
        }
    }

    /// The operation, "page table walk " or nothing, and what went wrong, in the manuals'
    /// (and skiboot's) words; [`fmt::Display`] joins them: "load" "" "real address error".
    pub fn words(self) -> [&'static str; 3] {
        let [op, cause] = WORD_INDEX[self as usize];
        let ptw = if cause & PTW != 0 {
            "page table walk "
        } else {
            ""
        };
        [word(op.into()), ptw, word((cause & !PTW).into())]
    }

    /// Every cause, in declaration order (`ALL[e as usize] == e`).
    pub const ALL: [MceError; 30] = {
        use MceError::*;
        [
            IfetchUe,
            IfetchSlbParity,
            IfetchSlbMultihit,
            IfetchEratMultihit,
            IfetchTlbMultihit,
            IfetchPtwUe,
            IfetchForeignAddress,
            IfetchForeignLinkTimeout,
            IfetchPtwForeignLinkTimeout,
            ScvInvalid,
            IfetchRealAddress,
            IfetchPtwRealAddress,
            StoreRealAddressAsync,
            StoreForeignLinkTimeoutAsync,
            IfetchPtwForeignAddress,
            LoadStoreUe,
            LoadStorePtwUe,
            LoadStoreForeignLinkTimeout,
            LoadStorePtwForeignLinkTimeout,
            LoadStoreEratMultihit,
            LoadStoreTlbMultihit,
            TlbieProgramming,
            LoadStoreSlbParity,
            LoadStoreSlbMultihit,
            LoadRealAddress,
            LoadStorePtwRealAddress,
            LoadStorePtwForeignAddress,
            LoadStoreForeignAddress,
            SpuriousPaste,
            Unknown,
        ]
    };

    /// Both sides share their words (the firmware image is small).
    const fn parts(self) -> (Op, Cause) {
        use Cause::*;
        use MceError::*;
        match self {
            IfetchUe => (Op::Ifetch, Ue),
            IfetchSlbParity => (Op::Ifetch, SlbParity),
            IfetchSlbMultihit => (Op::Ifetch, SlbMultihit),
            IfetchEratMultihit => (Op::Ifetch, EratMultihit),
            IfetchTlbMultihit => (Op::Ifetch, TlbMultihit),
            IfetchPtwUe => (Op::Ifetch, PtwUe),
            IfetchForeignAddress => (Op::Ifetch, Foreign),
            IfetchForeignLinkTimeout => (Op::Ifetch, Link),
            IfetchPtwForeignLinkTimeout => (Op::Ifetch, PtwLink),
            ScvInvalid => (Op::Scv, Invalid),
            IfetchRealAddress => (Op::Ifetch, RealAddress),
            IfetchPtwRealAddress => (Op::Ifetch, PtwRealAddress),
            StoreRealAddressAsync => (Op::AsyncStore, RealAddress),
            StoreForeignLinkTimeoutAsync => (Op::AsyncStore, Link),
            IfetchPtwForeignAddress => (Op::Ifetch, PtwForeign),
            LoadStoreUe => (Op::LoadStore, Ue),
            LoadStorePtwUe => (Op::LoadStore, PtwUe),
            LoadStoreForeignLinkTimeout => (Op::LoadStore, Link),
            LoadStorePtwForeignLinkTimeout => (Op::LoadStore, PtwLink),
            LoadStoreEratMultihit => (Op::LoadStore, EratMultihit),
            LoadStoreTlbMultihit => (Op::LoadStore, TlbMultihit),
            TlbieProgramming => (Op::Tlbie, Programming),
            LoadStoreSlbParity => (Op::LoadStore, SlbParity),
            LoadStoreSlbMultihit => (Op::LoadStore, SlbMultihit),
            LoadRealAddress => (Op::Load, RealAddress),
            LoadStorePtwRealAddress => (Op::LoadStore, PtwRealAddress),
            LoadStorePtwForeignAddress => (Op::LoadStore, PtwForeign),
            LoadStoreForeignAddress => (Op::LoadStore, Foreign),
            SpuriousPaste => (Op::Paste, Spurious),
            MceError::Unknown => (Op::Unknown, Cause::Unknown),
        }
    }
}

/// What was being done; the first words of [`WORDS`].
#[derive(Clone, Copy)]
enum Op {
    Ifetch,
    LoadStore,
    Load,
    AsyncStore,
    Scv,
    Tlbie,
    Paste,
    Unknown,
}

impl Op {
    const COUNT: usize = 8;
}

/// What went wrong; the words of [`WORDS`] after the operations. The `Ptw*` causes are
/// the word of their plain cause after "page table walk ".
#[derive(Clone, Copy)]
enum Cause {
    Ue,
    SlbParity,
    SlbMultihit,
    EratMultihit,
    TlbMultihit,
    Foreign,
    Link,
    RealAddress,
    Invalid,
    Programming,
    Spurious,
    Unknown,
    PtwUe,
    PtwForeign,
    PtwLink,
    PtwRealAddress,
}

impl Cause {
    /// Whether the cause is in the page-table walk, and its plain word.
    const fn split(self) -> (bool, Cause) {
        match self {
            Cause::PtwUe => (true, Cause::Ue),
            Cause::PtwForeign => (true, Cause::Foreign),
            Cause::PtwLink => (true, Cause::Link),
            Cause::PtwRealAddress => (true, Cause::RealAddress),
            c => (false, c),
        }
    }
}

/// Every word of the report, '|'-separated: the [`Op`]s, then the [`Cause`]s, in the
/// order they are declared. One string rather than tables of string slices (16 bytes a
/// word, and LLVM folds the two matches into four 30-entry tables): the image is small.
/// NOTE: keep in sync with `Op` and `Cause` (the `every_error_has_its_words` test).
const WORDS: &str = "ifetch|load/store|load|async store|scv|tlbie(l)|paste|unknown|\
uncorrectable memory error|SLB parity error|SLB multi-hit|ERAT multi-hit|TLB multi-hit|\
to foreign/control address|foreign link timeout|real address error|invalid|\
programming error|spurious machine check|cause";

/// Set in a [`WORD_INDEX`] cause number: "page table walk " goes before the word.
const PTW: u8 = 0x80;

/// [`MceError::parts`] as two word numbers per cause, built at compile time: 60 bytes,
/// where the match would become two tables of 8-byte entries.
static WORD_INDEX: [[u8; 2]; MceError::ALL.len()] = {
    let mut t = [[0; 2]; MceError::ALL.len()];
    let mut i = 0;
    while i < t.len() {
        let (op, cause) = MceError::ALL[i].parts();
        let (ptw, cause) = cause.split();
        t[i] = [
            op as u8,
            Op::COUNT as u8 + cause as u8 + if ptw { PTW } else { 0 },
        ];
        i += 1;
    }
    t
};

/// Word `n` of [`WORDS`].
fn word(n: usize) -> &'static str {
    // By hand: `split('|').nth(n)` costs the image 700 bytes.
    let bytes = WORDS.as_bytes();
    let (mut start, mut k) = (0, 0);
    for i in 0..=bytes.len() {
        if i == bytes.len() || bytes[i] == b'|' {
            if k == n {
                return WORDS.get(start..i).unwrap_or("?");
            }
            k += 1;
            start = i + 1;
        }
    }
    "?"
}

/// A decoded machine check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MceInfo {
    pub side: Side,
    pub error: MceError,
    pub severity: Severity,
    /// The faulting address when the hardware reports a valid one: DAR for D-side, SRR0
    /// for I-side (as Linux's `dar_valid`/`nip_valid`).
    pub address: Option<u64>,
    /// SRR0: where the interrupted context resumes (for async errors, not the culprit).
    pub nip: u64,
    /// SRR1\[46:47\] != 0: the machine check woke the thread from a stop state.
    pub power_saving_wake: bool,
    /// skiboot recovers only ERAT multi-hits while in firmware (flush the ERAT, resume).
    /// False when any other D-side cause bit is set with it.
    pub recoverable_in_firmware: bool,
}

/// Decodes a machine check from the registers the 0x200 interrupt left.
pub fn decode(gen: Gen, srr1: u64, dsisr: u32, dar: u64, srr0: u64) -> MceInfo {
    let code = srr1 & SRR1_MC_IFETCH;
    let async_store = code == 0x0814_0000 || (gen == Gen::P9 && code == 0x0818_0000);
    let loadstore = srr1 & SRR1_MC_LOADSTORE != 0 && !async_store;
    let (side, error, recoverable) = if !loadstore {
        let e = MceError::from_ifetch(gen, code);
        (Side::Instruction, e, e == MceError::IfetchEratMultihit)
    } else if gen == Gen::P9 && dsisr == DSISR_SPURIOUS_PASTE {
        (Side::LoadStore, MceError::SpuriousPaste, false)
    } else {
        // The link-timeout bits are POWER9's only; POWER10 leaves them undefined.
        let dsisr = dsisr
            & if gen == Gen::P9 {
                DSISR_KNOWN
            } else {
                DSISR_KNOWN & !0x3000
            };
        let e = MceError::DSIDE_ORDER
            .iter()
            .find(|&&(bit, _)| dsisr & u32::from(bit) != 0)
            .map_or(MceError::Unknown, |&(_, e)| e);
        let alone = dsisr.count_ones() == 1;
        (
            Side::LoadStore,
            e,
            alone && e == MceError::LoadStoreEratMultihit,
        )
    };
    let address = match side {
        Side::Instruction => srr0,
        Side::LoadStore => dar,
    };
    MceInfo {
        side,
        error,
        severity: error.severity(),
        address: error.address_valid().then_some(address),
        nip: srr0,
        power_saving_wake: srr1 & SRR1_WAKESTATE != 0,
        recoverable_in_firmware: recoverable,
    }
}

impl fmt::Display for MceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [op, ptw, cause] = self.words();
        write!(f, "{op} {ptw}{cause}")
    }
}

/// "machine check (load/store): load real address error at 0x1000 (severe), NIP 0x3000",
/// then ", woke from stop" and ", ERAT flush recovers" when they apply. Severity words:
/// recoverable (Linux's warning), severe, fatal.
impl fmt::Display for MceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Instruction => "instruction",
            Side::LoadStore => "load/store",
        };
        let [op, ptw, cause] = self.error.words();
        let severity = match self.severity {
            Severity::Warning => "recoverable",
            Severity::Severe => "severe",
            Severity::Fatal => "fatal",
        };
        let wake = if self.power_saving_wake {
            ", woke from stop"
        } else {
            ""
        };
        let fix = if self.recoverable_in_firmware {
            ", ERAT flush recovers"
        } else {
            ""
        };
        write!(f, "machine check ({side}): {op} {ptw}{cause}")?;
        if let Some(a) = self.address {
            write!(f, " at {a:#x}")?;
        }
        write!(f, " ({severity}), NIP {:#x}{wake}{fix}", self.nip)
    }
}

#[cfg(test)]
mod tests {
    use super::MceError::*;
    use super::Severity::*;
    use super::*;

    const NIP: u64 = 0x3000_1234;
    const DAR: u64 = 0x0006_0000_0000_0008;

    /// (SRR1 code, P9 expectation, P10 expectation, severity, SRR0 valid), written from
    /// the §5.2 I-side table and Linux's P9/P10 tables, not from the code above.
    const ISIDE: [(u64, MceError, MceError, Severity, bool); 16] = [
        (0x0004_0000, IfetchUe, IfetchUe, Severe, true),
        (0x0008_0000, IfetchSlbParity, IfetchSlbParity, Severe, true),
        (
            0x000C_0000,
            IfetchSlbMultihit,
            IfetchSlbMultihit,
            Warning,
            true,
        ),
        (
            0x0010_0000,
            IfetchEratMultihit,
            IfetchEratMultihit,
            Warning,
            true,
        ),
        (
            0x0014_0000,
            IfetchTlbMultihit,
            IfetchTlbMultihit,
            Warning,
            true,
        ),
        (0x0018_0000, IfetchPtwUe, IfetchPtwUe, Severe, true),
        (
            0x001C_0000,
            IfetchForeignAddress,
            IfetchForeignAddress,
            Severe,
            true,
        ),
        (0x0800_0000, IfetchForeignLinkTimeout, Unknown, Severe, true),
        (
            0x0804_0000,
            IfetchPtwForeignLinkTimeout,
            Unknown,
            Severe,
            true,
        ),
        (0x0808_0000, Unknown, ScvInvalid, Warning, true),
        (
            0x080C_0000,
            IfetchRealAddress,
            IfetchRealAddress,
            Severe,
            true,
        ),
        (
            0x0810_0000,
            IfetchPtwRealAddress,
            IfetchPtwRealAddress,
            Severe,
            true,
        ),
        (
            0x0814_0000,
            StoreRealAddressAsync,
            StoreRealAddressAsync,
            Fatal,
            false,
        ),
        (
            0x0818_0000,
            StoreForeignLinkTimeoutAsync,
            Unknown,
            Fatal,
            false,
        ),
        (
            0x081C_0000,
            IfetchPtwForeignAddress,
            IfetchPtwForeignAddress,
            Severe,
            true,
        ),
        (0x0000_0000, Unknown, Unknown, Severe, false),
    ];

    /// (DSISR bit, on POWER10 too, cause, severity, DAR valid), from §5.2's D-side list and
    /// Linux's dar_valid column.
    const DSIDE: [(u32, bool, MceError, Severity, bool); 13] = [
        (0x8000, true, LoadStoreUe, Severe, false),
        (0x4000, true, LoadStorePtwUe, Severe, true),
        (0x2000, false, LoadStoreForeignLinkTimeout, Severe, true),
        (0x1000, false, LoadStorePtwForeignLinkTimeout, Severe, true),
        (0x0800, true, LoadStoreEratMultihit, Warning, true),
        (0x0400, true, LoadStoreTlbMultihit, Warning, true),
        (0x0200, true, TlbieProgramming, Warning, false),
        (0x0100, true, LoadStoreSlbParity, Severe, true),
        (0x0080, true, LoadStoreSlbMultihit, Warning, true),
        (0x0040, true, LoadRealAddress, Severe, true),
        (0x0020, true, LoadStorePtwRealAddress, Severe, false),
        (0x0010, true, LoadStorePtwForeignAddress, Severe, false),
        (0x0008, true, LoadStoreForeignAddress, Severe, false),
    ];

    #[test]
    fn every_iside_row_of_both_generations() {
        for &(code, p9, p10, sev, nip_valid) in &ISIDE {
            for (gen, want) in [(Gen::P9, p9), (Gen::P10, p10)] {
                let m = decode(gen, 0x9000_0000_0000_1000 | code, 0xffff_ffff, DAR, NIP);
                assert_eq!(m.side, Side::Instruction, "{gen:?} {code:#x}");
                assert_eq!(m.error, want, "{gen:?} {code:#x}");
                let (sev, valid) = if want == Unknown {
                    (Severe, false)
                } else {
                    (sev, nip_valid)
                };
                assert_eq!(m.severity, sev, "{gen:?} {code:#x}");
                assert_eq!(m.address, valid.then_some(NIP), "{gen:?} {code:#x}");
                assert_eq!(m.nip, NIP);
                assert_eq!(m.recoverable_in_firmware, code == 0x0010_0000);
                assert!(!m.power_saving_wake);
            }
        }
    }

    #[test]
    fn every_dside_row_of_both_generations() {
        for &(bit, on_p10, want, sev, dar_valid) in &DSIDE {
            for gen in [Gen::P9, Gen::P10] {
                let m = decode(gen, SRR1_MC_LOADSTORE, bit, DAR, NIP);
                assert_eq!(m.side, Side::LoadStore);
                if gen == Gen::P10 && !on_p10 {
                    assert_eq!(m.error, Unknown, "P10 {bit:#x}");
                    assert_eq!((m.severity, m.address), (Severe, None));
                    continue;
                }
                assert_eq!(m.error, want, "{gen:?} {bit:#x}");
                assert_eq!(m.severity, sev, "{gen:?} {bit:#x}");
                assert_eq!(m.address, dar_valid.then_some(DAR), "{gen:?} {bit:#x}");
                assert_eq!(m.nip, NIP);
                assert_eq!(m.recoverable_in_firmware, bit == 0x0800);
            }
        }
    }

    #[test]
    fn dside_with_no_known_bit_is_unknown_and_severe() {
        for gen in [Gen::P9, Gen::P10] {
            let m = decode(gen, SRR1_MC_LOADSTORE, 0x0000_0007, DAR, NIP);
            assert_eq!(
                (m.side, m.error, m.severity, m.address),
                (Side::LoadStore, Unknown, Severe, None)
            );
        }
    }

    #[test]
    fn several_dsisr_bits_the_first_in_linux_order_wins() {
        // UE and load real address error: the UE (0x8000) is reported.
        let m = decode(Gen::P9, SRR1_MC_LOADSTORE, 0x8040, DAR, NIP);
        assert_eq!(
            (m.error, m.severity, m.address),
            (LoadStoreUe, Severe, None)
        );
        // SLB parity and multi-hit: Linux tries multi-hit first.
        assert_eq!(
            decode(Gen::P10, SRR1_MC_LOADSTORE, 0x0180, DAR, NIP).error,
            LoadStoreSlbMultihit
        );
        // Real address error and foreign address: 0x0040 before 0x0008.
        assert_eq!(
            decode(Gen::P10, SRR1_MC_LOADSTORE, 0x0048, DAR, NIP).error,
            LoadRealAddress
        );
        // A P9-only bit is ignored on P10, so the next one wins there.
        assert_eq!(
            decode(Gen::P9, SRR1_MC_LOADSTORE, 0x2040, DAR, NIP).error,
            LoadStoreForeignLinkTimeout
        );
        assert_eq!(
            decode(Gen::P10, SRR1_MC_LOADSTORE, 0x2040, DAR, NIP).error,
            LoadRealAddress
        );
    }

    #[test]
    fn erat_multihit_with_another_cause_is_not_recoverable() {
        let m = decode(Gen::P9, SRR1_MC_LOADSTORE, 0x0800, DAR, NIP);
        assert!(m.recoverable_in_firmware);
        let m = decode(Gen::P9, SRR1_MC_LOADSTORE, 0x0840, DAR, NIP);
        assert_eq!(m.error, LoadStoreEratMultihit);
        assert!(!m.recoverable_in_firmware);
        // Ignored bits (P9-only on P10) do not count against it.
        assert!(decode(Gen::P10, SRR1_MC_LOADSTORE, 0x2800, DAR, NIP).recoverable_in_firmware);
    }

    #[test]
    fn async_store_codes_with_srr1_42_are_iside() {
        for gen in [Gen::P9, Gen::P10] {
            let m = decode(gen, SRR1_MC_LOADSTORE | 0x0814_0000, 0x0040, DAR, NIP);
            assert_eq!(
                (m.side, m.error, m.severity, m.address),
                (Side::Instruction, StoreRealAddressAsync, Fatal, None)
            );
        }
        let m = decode(Gen::P9, SRR1_MC_LOADSTORE | 0x0818_0000, 0x0040, DAR, NIP);
        assert_eq!(
            (m.side, m.error, m.severity),
            (Side::Instruction, StoreForeignLinkTimeoutAsync, Fatal)
        );
        // Not an async store code on P10: DSISR decides.
        let m = decode(Gen::P10, SRR1_MC_LOADSTORE | 0x0818_0000, 0x0040, DAR, NIP);
        assert_eq!((m.side, m.error), (Side::LoadStore, LoadRealAddress));
        // Other I-side codes with SRR1[42] stay D-side.
        let m = decode(Gen::P9, SRR1_MC_LOADSTORE | 0x080C_0000, 0x0400, DAR, NIP);
        assert_eq!((m.side, m.error), (Side::LoadStore, LoadStoreTlbMultihit));
    }

    #[test]
    fn spurious_paste_on_p9_only() {
        let m = decode(Gen::P9, SRR1_MC_LOADSTORE, 0x0200_0000, DAR, NIP);
        assert_eq!(
            (m.side, m.error, m.severity, m.address),
            (Side::LoadStore, SpuriousPaste, Warning, None)
        );
        assert!(!m.recoverable_in_firmware);
        assert_eq!(
            decode(Gen::P10, SRR1_MC_LOADSTORE, 0x0200_0000, DAR, NIP).error,
            Unknown
        );
        // Only the exact value: with a real cause bit it is that cause.
        assert_eq!(
            decode(Gen::P9, SRR1_MC_LOADSTORE, 0x0200_0040, DAR, NIP).error,
            LoadRealAddress
        );
        // Without SRR1[42] it is I-side.
        assert_eq!(
            decode(Gen::P9, 0x0004_0000, 0x0200_0000, DAR, NIP).error,
            IfetchUe
        );
    }

    #[test]
    fn power_saving_wake_is_srr1_46_47() {
        for ws in [0x0001_0000u64, 0x0002_0000, 0x0003_0000] {
            let m = decode(Gen::P10, ws | SRR1_MC_LOADSTORE, 0x0040, DAR, NIP);
            assert!(m.power_saving_wake);
            assert_eq!(m.error, LoadRealAddress);
        }
        assert!(!decode(Gen::P10, 0x0004_0000, 0, DAR, NIP).power_saving_wake);
    }

    // What QEMU 10 raises for an access to an unassigned physical address (§5.3), with
    // the MSR bits it keeps in SRR1 (SF, HV, ME) around them.
    const QEMU_MSR: u64 = 0x9000_0000_0000_1000;

    #[test]
    fn qemu_failed_load() {
        for gen in [Gen::P9, Gen::P10] {
            let m = decode(
                gen,
                QEMU_MSR | (1 << (63 - 42)),
                1 << (63 - 57),
                0x0006_0300_0000_0000,
                NIP,
            );
            assert_eq!(m.side, Side::LoadStore);
            assert_eq!(m.error, LoadRealAddress);
            assert_eq!(m.severity, Severe);
            assert_eq!(m.address, Some(0x0006_0300_0000_0000));
            assert!(!m.recoverable_in_firmware && !m.power_saving_wake);
            assert_eq!(
                m.to_string(),
                "machine check (load/store): load real address error at 0x6030000000000 \
                 (severe), NIP 0x30001234"
            );
        }
    }

    #[test]
    fn qemu_failed_store() {
        let srr1 = QEMU_MSR
            | [36, 42, 43, 45]
                .iter()
                .map(|b| 1u64 << (63 - b))
                .sum::<u64>();
        assert_eq!(srr1 & 0x081C_0000, 0x0814_0000);
        for gen in [Gen::P9, Gen::P10] {
            let m = decode(gen, srr1, 0, 0x0006_0300_0000_0000, NIP);
            assert_eq!(
                (m.side, m.error, m.severity, m.address),
                (Side::Instruction, StoreRealAddressAsync, Fatal, None)
            );
            assert_eq!(
                m.to_string(),
                "machine check (instruction): async store real address error (fatal), NIP 0x30001234"
            );
        }
    }

    #[test]
    fn qemu_failed_ifetch() {
        let srr1 = QEMU_MSR | [36, 44, 45].iter().map(|b| 1u64 << (63 - b)).sum::<u64>();
        assert_eq!(srr1 & 0x081C_0000, 0x080C_0000);
        for gen in [Gen::P9, Gen::P10] {
            let m = decode(gen, srr1, 0, 0, 0x0006_0300_0000_0000);
            assert_eq!(
                (m.side, m.error, m.severity),
                (Side::Instruction, IfetchRealAddress, Severe)
            );
            assert_eq!(m.address, Some(0x0006_0300_0000_0000));
            assert_eq!(
                m.to_string(),
                "machine check (instruction): ifetch real address error at 0x6030000000000 \
                 (severe), NIP 0x6030000000000"
            );
        }
    }

    #[test]
    fn display_mentions_wake_and_recovery() {
        let m = decode(Gen::P9, 0x0003_0000 | 0x0010_0000, 0, 0, 0x100);
        assert_eq!(
            m.to_string(),
            "machine check (instruction): ifetch ERAT multi-hit at 0x100 (recoverable), NIP 0x100, \
             woke from stop, ERAT flush recovers"
        );
    }

    #[test]
    fn every_error_has_its_words() {
        let all = [
            (IfetchUe, "ifetch uncorrectable memory error"),
            (IfetchSlbParity, "ifetch SLB parity error"),
            (IfetchSlbMultihit, "ifetch SLB multi-hit"),
            (IfetchEratMultihit, "ifetch ERAT multi-hit"),
            (IfetchTlbMultihit, "ifetch TLB multi-hit"),
            (
                IfetchPtwUe,
                "ifetch page table walk uncorrectable memory error",
            ),
            (IfetchForeignAddress, "ifetch to foreign/control address"),
            (IfetchForeignLinkTimeout, "ifetch foreign link timeout"),
            (
                IfetchPtwForeignLinkTimeout,
                "ifetch page table walk foreign link timeout",
            ),
            (ScvInvalid, "scv invalid"),
            (IfetchRealAddress, "ifetch real address error"),
            (
                IfetchPtwRealAddress,
                "ifetch page table walk real address error",
            ),
            (StoreRealAddressAsync, "async store real address error"),
            (
                StoreForeignLinkTimeoutAsync,
                "async store foreign link timeout",
            ),
            (
                IfetchPtwForeignAddress,
                "ifetch page table walk to foreign/control address",
            ),
            (LoadStoreUe, "load/store uncorrectable memory error"),
            (
                LoadStorePtwUe,
                "load/store page table walk uncorrectable memory error",
            ),
            (
                LoadStoreForeignLinkTimeout,
                "load/store foreign link timeout",
            ),
            (
                LoadStorePtwForeignLinkTimeout,
                "load/store page table walk foreign link timeout",
            ),
            (LoadStoreEratMultihit, "load/store ERAT multi-hit"),
            (LoadStoreTlbMultihit, "load/store TLB multi-hit"),
            (TlbieProgramming, "tlbie(l) programming error"),
            (LoadStoreSlbParity, "load/store SLB parity error"),
            (LoadStoreSlbMultihit, "load/store SLB multi-hit"),
            (LoadRealAddress, "load real address error"),
            (
                LoadStorePtwRealAddress,
                "load/store page table walk real address error",
            ),
            (
                LoadStorePtwForeignAddress,
                "load/store page table walk to foreign/control address",
            ),
            (
                LoadStoreForeignAddress,
                "load/store to foreign/control address",
            ),
            (SpuriousPaste, "paste spurious machine check"),
            (Unknown, "unknown cause"),
        ];
        for (i, (e, text)) in all.into_iter().enumerate() {
            assert_eq!(e.to_string(), text);
            assert_eq!((MceError::ALL[i], e as usize), (e, i));
        }
        assert_eq!(
            WORDS.split('|').count(),
            Op::COUNT + Cause::Unknown as usize + 1
        );
    }

    #[test]
    fn generation_from_pvr() {
        assert_eq!(Gen::from_pvr(0x004e_1202), Some(Gen::P9));
        assert_eq!(Gen::from_pvr(0x0080_0200), Some(Gen::P10));
        assert_eq!(Gen::from_pvr(0x0082_0200), Some(Gen::P10));
        assert_eq!(Gen::from_pvr(0x004d_0200), None); // POWER8
        assert_eq!(Gen::from_pvr(0), None);
    }

    #[test]
    fn bit_masks_match_ibm_numbering() {
        let all = MceError::DSIDE_ORDER
            .iter()
            .fold(0, |m, &(bit, _)| m | u32::from(bit));
        assert_eq!(all, DSISR_KNOWN);
        assert_eq!(SRR1_MC_LOADSTORE, 0x0000_0000_0020_0000);
        assert_eq!(SRR1_MC_IFETCH, 0x0000_0000_081C_0000);
        assert_eq!(SRR1_WAKESTATE, 0x0000_0000_0003_0000);
    }
}
