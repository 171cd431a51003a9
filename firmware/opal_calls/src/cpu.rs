// SPDX-License-Identifier: Apache-2.0
//! `OPAL_START_CPU` (41), `OPAL_QUERY_CPU_STATUS` (42), `OPAL_REINIT_CPUS` (70):
//! skiboot `core/cpu.c`.

use crate::args::{os_range, OsPtr};
use crate::Ctx;
use hal::ReinitRequest;
use opal_api::{reinit, OpalError, OpalResult};

/// `int64_t opal_start_cpu(uint64_t server_no, uint64_t start_address)`: the thread
/// leaves OPAL and enters `start_address` in big-endian real mode with r3 = its PIR.
///
/// | return | when |
/// |---|---|
/// | SUCCESS | the thread was handed over |
/// | PARAMETER | no such thread, or an entry address outside OS memory |
/// | WRONG_STATE | the thread is not waiting in OPAL (already started, or unavailable) |
pub fn start_cpu(cx: &Ctx<'_>, server: u64, entry: u64) -> OpalResult<()> {
    cx.cpus.status(server).ok_or(OpalError::Parameter)?;
    let entry = cx.mem.check(entry, 4)?.real;
    cx.cpus.start(server, entry)
}

/// `int64_t opal_query_cpu_status(uint64_t server_no, uint8_t *thread_status)`: writes
/// 0 INACTIVE, 1 STARTED or 2 UNAVAILABLE. PARAMETER for an unknown thread or pointer.
pub fn query_cpu_status(cx: &Ctx<'_>, server: u64, status: OsPtr<u8>) -> OpalResult<()> {
    let at = os_range(cx, status, 1)?;
    let state = cx.cpus.status(server).ok_or(OpalError::Parameter)?;
    cx.mem.write(at, 0, &[state as u8]);
    Ok(())
}

const KNOWN: u64 = reinit::HILE_BE
    | reinit::HILE_LE
    | reinit::MMU_HASH
    | reinit::MMU_RADIX
    | reinit::TM_SUSPEND_DISABLED;

/// Decodes `OPAL_REINIT_CPUS` flags; checks everything before anything is applied.
pub fn decode_reinit(flags: u64) -> OpalResult<ReinitRequest> {
    if flags & !KNOWN != 0 {
        return Err(OpalError::Unsupported);
    }
    // Opalite does not implement the P9 TM-suspend workaround, so it cannot promise it.
    if flags & reinit::TM_SUSPEND_DISABLED != 0 {
        return Err(OpalError::Unsupported);
    }
    let little_endian_interrupts = match (flags & reinit::HILE_BE, flags & reinit::HILE_LE) {
        (0, 0) => None,
        (_, 0) => Some(false),
        (0, _) => Some(true),
        _ => return Err(OpalError::Parameter),
    };
    let radix = match (flags & reinit::MMU_RADIX, flags & reinit::MMU_HASH) {
        (0, 0) => None,
        (0, _) => Some(false),
        _ => Some(true),
    };
    Ok(ReinitRequest {
        little_endian_interrupts,
        radix,
    })
}

/// `int64_t opal_reinit_cpus(uint64_t flags)`: sets the interrupt endianness (HID0.HILE)
/// and MMU mode on every thread. Linux's first call (0xE) and kexec's (0xD).
///
/// | return | when |
/// |---|---|
/// | SUCCESS | applied on every thread |
/// | UNSUPPORTED | unknown flag bits, or TM_SUSPEND_DISABLED (nothing applied) |
/// | PARAMETER | HILE_BE and HILE_LE together |
/// | WRONG_STATE | another thread stayed with the OS for 1 s (the request was applied to every other thread, so the kernel that asked gets its own threads right) |
pub fn reinit_cpus(cx: &Ctx<'_>, flags: u64) -> OpalResult<()> {
    cx.cpus.reinit(decode_reinit(flags)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Machine;
    use opal_api::token::*;
    use opal_api::CpuStatus;

    #[test]
    fn query_then_start_like_linux_smp_bringup() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_QUERY_CPU_STATUS, &[4, 0x1000]), 0);
        assert_eq!(m.mem.peek(0x1000, 1), [0]);
        assert_eq!(m.call(OPAL_START_CPU, &[4, 0xCEE4]), 0);
        assert_eq!(&*m.cpus.started.borrow(), &[(4, 0xCEE4)]);
        assert_eq!(m.call(OPAL_QUERY_CPU_STATUS, &[4, 0x1000]), 0);
        assert_eq!(m.mem.peek(0x1000, 1), [CpuStatus::Started as u8]);
        assert_eq!(m.call(OPAL_START_CPU, &[4, 0xCEE4]), -14, "already started");
    }

    #[test]
    fn bad_cpu_arguments() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_QUERY_CPU_STATUS, &[2, 0x1000]), -1, "no PIR 2");
        assert_eq!(m.call(OPAL_QUERY_CPU_STATUS, &[1, 0]), -1);
        assert_eq!(m.call(OPAL_QUERY_CPU_STATUS, &[1, 0x8_0000]), -1);
        assert_eq!(m.call(OPAL_START_CPU, &[3, 0xCEE4]), -1);
        assert_eq!(
            m.call(OPAL_START_CPU, &[1, 0x8_0000]),
            -1,
            "entry in firmware"
        );
        assert_eq!(
            m.call(OPAL_START_CPU, &[1, 0x4000_0000_0000]),
            -1,
            "entry past RAM"
        );
        assert!(m.cpus.started.borrow().is_empty());
    }

    #[test]
    fn reinit_flags_like_linux_boot_and_kexec() {
        let boot = decode_reinit(0xE).unwrap();
        assert_eq!(
            boot,
            ReinitRequest {
                little_endian_interrupts: Some(true),
                radix: Some(true)
            }
        );
        let kexec = decode_reinit(0xD).unwrap();
        assert_eq!(kexec.little_endian_interrupts, Some(false));
        assert_eq!(decode_reinit(reinit::MMU_HASH).unwrap().radix, Some(false));
        assert_eq!(
            decode_reinit(0),
            Ok(ReinitRequest {
                little_endian_interrupts: None,
                radix: None
            })
        );
        assert_eq!(decode_reinit(1 << 5), Err(OpalError::Unsupported));
        assert_eq!(
            decode_reinit(reinit::TM_SUSPEND_DISABLED),
            Err(OpalError::Unsupported)
        );
        assert_eq!(decode_reinit(3), Err(OpalError::Parameter));
    }

    #[test]
    fn reinit_needs_the_other_threads_in_opal() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_REINIT_CPUS, &[0xE]), 0);
        assert_eq!(m.cpus.reinits.borrow().len(), 1);
        assert_eq!(m.call(OPAL_REINIT_CPUS, &[0x100]), -7);
        assert_eq!(m.call(OPAL_START_CPU, &[1, 0x4000]), 0);
        assert_eq!(m.call(OPAL_REINIT_CPUS, &[0xE]), -14);
        assert_eq!(
            m.cpus.reinits.borrow().len(),
            2,
            "applied to the threads that could follow, and WRONG_STATE said"
        );
    }
}
