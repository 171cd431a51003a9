// SPDX-License-Identifier: Apache-2.0
//! The calls of kexec, kdump and NMIs: `OPAL_RETURN_CPU` (69), `OPAL_SIGNAL_SYSTEM_RESET`
//! (145) and `OPAL_QUIESCE` (158). skiboot `core/cpu.c`, `core/direct-controls.c`,
//! `core/opal.c`; Linux `arch/powerpc/platforms/powernv/{setup,smp}.c`.
//!
//! Linux's crash path (kdump, panic) asks, one CPU at a time, `QUIESCE(HOLD)`,
//! `SIGNAL_SYSTEM_RESET`, `QUIESCE(RESUME)`; the reset CPUs then tear their XIVE state
//! down and `RETURN_CPU`. kexec does the same without the resets.
//!
//! Concurrency and crash time: several CPUs return at once (each only changes its own
//! state, see the firmware's `cpu.rs`); resets are serialised by the firmware's reset lock,
//! taken with a bounded wait; quiesce ownership is a compare-and-swap, not a lock, so a
//! CPU that died owning nothing cannot block it. Nothing here waits without a bound.

use crate::Ctx;
use opal_api::{CpuStatus, OpalError, OpalResult};

/// `OPAL_SIGNAL_SYSTEM_RESET`'s broadcast targets.
pub const SYS_RESET_ALL: i32 = -1;
pub const SYS_RESET_ALL_OTHERS: i32 = -2;

/// `int64_t opal_return_cpu(void)`: the calling thread leaves the OS and parks in
/// firmware until `OPAL_START_CPU`. Does not return when it works.
///
/// | return | when |
/// |---|---|
/// | (none) | the thread is parked; `OPAL_QUERY_CPU_STATUS` says INACTIVE |
/// | WRONG_STATE | the caller is the last thread the OS has: returning it would leave the machine with no OS and nobody to start it again |
pub fn return_cpu(cx: &Ctx<'_>) -> OpalResult<()> {
    cx.cpus.return_to_firmware()
}

/// `int64_t opal_signal_system_reset(int32_t cpu_nr)`: a system reset (0x100) on
/// another thread, for NMI IPIs and crash dumps.
///
/// | `cpu_nr` | return |
/// |---|---|
/// | a thread the OS owns | SUCCESS (delivered), BUSY (a reset of it is still in flight), HARDWARE (direct controls failed; the thread was let go) |
/// | the caller | PARAMETER (a thread cannot stop itself) |
/// | unknown, or negative other than -1/-2 | PARAMETER |
/// | a thread the firmware owns (never started, or returned) | WRONG_STATE: its 0x100 vector is the OS's, which would run with firmware state (skiboot resets it anyway) |
/// | -2, all others | every other OS-owned thread in turn: SUCCESS if each was reset, PARTIAL if some were not (each failure is logged) |
/// | -1, all | as -2, then PARTIAL, since the caller cannot reset itself |
///
/// skiboot answers CONSTRAINED to -1/-2 on direct controls and resets nothing, so an OS
/// that asks for a broadcast gets none; here it is done thread by thread.
pub fn signal_system_reset(cx: &Ctx<'_>, cpu_nr: i32) -> OpalResult<()> {
    match cpu_nr {
        SYS_RESET_ALL => broadcast(cx, true),
        SYS_RESET_ALL_OTHERS => broadcast(cx, false),
        n if n < 0 => Err(OpalError::Parameter),
        n => reset_one(cx, n as u32),
    }
}

fn reset_one(cx: &Ctx<'_>, server: u32) -> OpalResult<()> {
    if server == cx.cpus.current() {
        log::error!("SRESET: Unable to reset self");
        return Err(OpalError::Parameter);
    }
    match cx.cpus.status(u64::from(server)) {
        None => {
            log::error!("SRESET: could not find cpu by server {server}");
            Err(OpalError::Parameter)
        }
        Some(CpuStatus::Started) => cx.nmi.reset(server),
        Some(_) => {
            log::warn!("SRESET: PIR {server:#06x} is not the OS's; not reset");
            Err(OpalError::WrongState)
        }
    }
}

fn broadcast(cx: &Ctx<'_>, include_self: bool) -> OpalResult<()> {
    let me = cx.cpus.current();
    let mut failed = 0u32;
    cx.cpus.for_each_server(&mut |server| {
        if server == me || cx.cpus.status(u64::from(server)) != Some(CpuStatus::Started) {
            return;
        }
        if let Err(e) = cx.nmi.reset(server) {
            log::error!("SRESET: PIR {server:#06x} could not be reset ({e:?})");
            failed += 1;
        }
    });
    if include_self {
        log::warn!("SRESET: PIR {me:#06x} (the caller) cannot reset itself");
        return Err(OpalError::Partial);
    }
    if failed > 0 {
        Err(OpalError::Partial)
    } else {
        Ok(())
    }
}

/// `int64_t opal_quiesce(uint32_t quiesce_type, int32_t cpu)`: keeps other CPUs out of
/// OPAL (HOLD: they wait at the entry; REJECT: they get BUSY), breaks firmware locks
/// after a quiesce of every CPU (LOCK_BREAK), and lets them in again (RESUME). The
/// protocol is `sreset::quiesce`'s; the returns are skiboot's:
///
/// | return | when |
/// |---|---|
/// | SUCCESS | done |
/// | PARTIAL | HOLD/REJECT: a target stayed inside OPAL for 1 s (the quiesce stays in force; RESUME it) |
/// | BUSY | another CPU owns the quiesce; LOCK_BREAK or RESUME without owning it; LOCK_BREAK of a quiesce that was not of every CPU |
/// | PARAMETER | unknown type, unknown server, or a negative cpu other than -1 |
pub fn quiesce(cx: &Ctx<'_>, kind: u32, cpu: i32) -> OpalResult<()> {
    cx.nmi.quiesce(kind, cpu)
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::*;

    /// PIRs 0 (caller), 1, 4, 5; 1 and 4 handed to the OS.
    fn machine_with_two_started() -> Machine {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_START_CPU, &[1, 0x4000]), 0);
        assert_eq!(m.call(OPAL_START_CPU, &[4, 0x4000]), 0);
        m
    }

    #[test]
    fn return_cpu_parks_and_the_next_kernel_starts_it_again() {
        let mut m = machine_with_two_started();
        m.cpus.current = 4;
        assert_eq!(m.call(OPAL_RETURN_CPU, &[]), 0);
        assert_eq!(&*m.cpus.returned.borrow(), &[4]);
        m.cpus.current = 0;
        assert_eq!(m.call(OPAL_QUERY_CPU_STATUS, &[4, 0x1000]), 0);
        assert_eq!(m.mem.peek(0x1000, 1), [0], "INACTIVE after returning");
        assert_eq!(m.call(OPAL_START_CPU, &[4, 0x8000]), 0);
        assert_eq!(m.cpus.started.borrow().last(), Some(&(4, 0x8000)));
    }

    #[test]
    fn the_last_os_thread_cannot_return() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_RETURN_CPU, &[]), -14);
        assert!(m.cpus.returned.borrow().is_empty());
        assert_eq!(m.call(OPAL_QUERY_CPU_STATUS, &[0, 0x1000]), 0);
        assert_eq!(m.mem.peek(0x1000, 1), [1], "still STARTED");
    }

    #[test]
    fn a_parked_thread_cannot_return_again() {
        let mut m = machine_with_two_started();
        m.cpus.current = 5;
        assert_eq!(m.call(OPAL_RETURN_CPU, &[]), -14);
    }

    #[test]
    fn sreset_one_thread_and_the_bad_servers() {
        let m = machine_with_two_started();
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[1]), 0);
        assert_eq!(&*m.nmi.resets.borrow(), &[1]);
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[0]), -1, "self");
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[2]), -1, "no PIR 2");
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[0x7ff]), -1);
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[(-3i64) as u64]), -1);
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[5]), -14, "firmware's");
        assert_eq!(&*m.nmi.resets.borrow(), &[1], "nothing else was reset");
    }

    #[test]
    fn the_32_bit_argument_is_sign_extended_from_the_low_word() {
        let m = machine_with_two_started();
        // Linux passes an int32 in a 64-bit register; only the low word counts.
        assert_eq!(
            m.call(OPAL_SIGNAL_SYSTEM_RESET, &[0xffff_ffff_ffff_fffe]),
            0
        );
        assert_eq!(&*m.nmi.resets.borrow(), &[1, 4]);
    }

    #[test]
    fn all_others_resets_each_os_thread_in_turn() {
        let m = machine_with_two_started();
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[(-2i64) as u64]), 0);
        assert_eq!(
            &*m.nmi.resets.borrow(),
            &[1, 4],
            "not 0 (self) nor 5 (parked)"
        );
    }

    #[test]
    fn a_failed_thread_makes_the_broadcast_partial_but_the_rest_are_reset() {
        let m = machine_with_two_started();
        m.nmi
            .fail
            .borrow_mut()
            .push((1, opal_api::OpalError::Hardware));
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[(-2i64) as u64]), -3);
        assert_eq!(&*m.nmi.resets.borrow(), &[4]);
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[1]), -6, "one: the error");
    }

    #[test]
    fn all_including_self_is_partial() {
        let m = machine_with_two_started();
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[(-1i64) as u64]), -3);
        assert_eq!(&*m.nmi.resets.borrow(), &[1, 4]);
    }

    #[test]
    fn sreset_is_absent_where_the_machine_cannot_do_it() {
        let m = Machine::new();
        m.nmi.available.set(false);
        assert_eq!(m.call(OPAL_CHECK_TOKEN, &[OPAL_SIGNAL_SYSTEM_RESET]), 0);
        assert_eq!(m.call(OPAL_SIGNAL_SYSTEM_RESET, &[1]), -1, "bad token");
        assert!(m.nmi.resets.borrow().is_empty());
        assert_eq!(m.call(OPAL_CHECK_TOKEN, &[OPAL_QUIESCE]), 1);
        m.nmi.available.set(true);
        assert_eq!(m.call(OPAL_CHECK_TOKEN, &[OPAL_SIGNAL_SYSTEM_RESET]), 1);
    }

    #[test]
    fn quiesce_passes_type_and_signed_cpu() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_QUIESCE, &[1, (-1i64) as u64]), 0);
        assert_eq!(m.call(OPAL_QUIESCE, &[4, 5]), 0);
        assert_eq!(&*m.nmi.quiesces.borrow(), &[(1, -1), (4, 5)]);
    }
}
