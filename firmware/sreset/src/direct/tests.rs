// SPDX-License-Identifier: Apache-2.0
//! Host tests of the direct controls: PIR decoding, error codes, and (against
//! [`crate::model`]) the register sequences.

use super::*;

const P9: Generation = Generation::P9;
const P10: Generation = Generation::P10;

fn thread(chip: u32, core: u32, thread: u32) -> ThreadId {
    ThreadId { chip, core, thread }
}

// ----- PIR -------------------------------------------------------------------------------

#[test]
fn p9_pir_as_qemu_powernv9_numbers_threads() {
    // QEMU: chip_id << 8 | core << 2 | thread.
    assert_eq!(ThreadId::from_pir(P9, 0x0000), Some(thread(0, 0, 0)));
    assert_eq!(ThreadId::from_pir(P9, 0x0006), Some(thread(0, 1, 2)));
    assert_eq!(ThreadId::from_pir(P9, 0x010e), Some(thread(1, 3, 2)));
    assert_eq!(ThreadId::from_pir(P9, 0x005f), Some(thread(0, 23, 3)));
    // GCID 0x7f is the widest chip id: node 15, chip 7.
    assert_eq!(ThreadId::from_pir(P9, 0x7f00), Some(thread(0x7f, 0, 0)));
}

#[test]
fn p10_pir_as_qemu_powernv10_numbers_threads() {
    assert_eq!(ThreadId::from_pir(P10, 0x0013), Some(thread(0, 4, 3)));
    assert_eq!(ThreadId::from_pir(P10, 0x017d), Some(thread(1, 31, 1)));
    assert_eq!(ThreadId::from_pir(P10, 0x0f00), Some(thread(15, 0, 0)));
}

#[test]
fn pirs_that_name_no_smt4_thread_are_refused() {
    // P9 has 24 cores: 24..63 (including anything with reserved bit 56) do not exist.
    assert_eq!(ThreadId::from_pir(P9, 24 << 2), None);
    assert_eq!(ThreadId::from_pir(P9, 0x80), None);
    assert_eq!(ThreadId::from_pir(P9, 1 << 15), None);
    // P10: spare bit 56 and the spare bits above the topology id.
    assert_eq!(ThreadId::from_pir(P10, 0x80), None);
    assert_eq!(ThreadId::from_pir(P10, 1 << 12), None);
    assert_eq!(ThreadId::from_pir(P10, u32::MAX), None);
}

#[test]
fn pir_round_trips() {
    for gen in [P9, P10] {
        let chips = if gen == P9 { 0x80 } else { 0x10 };
        for chip in 0..chips {
            for core in 0..gen.cores_per_chip() {
                for t in 0..THREADS_PER_CORE {
                    let id = thread(chip, core, t);
                    assert_eq!(ThreadId::from_pir(gen, id.pir(gen)), Some(id));
                }
            }
        }
    }
}

// ----- errors ----------------------------------------------------------------------------

#[test]
fn only_busy_is_opal_busy() {
    let t = thread(0, 0, 0);
    let core = t.core_id();
    assert_eq!(SresetError::Busy.opal_error(), OpalError::Busy);
    assert_eq!(OpalError::from(SresetError::Busy).code(), -2);
    for e in [
        SresetError::InvalidThread(t),
        SresetError::WakeupTimeout(core),
        SresetError::CoreGated(core),
        SresetError::QuiesceTimeout(t),
        SresetError::ContinueTimeout(t),
        SresetError::Scom {
            chip: 0,
            pcba: 0,
            error: ScomError::Timeout,
        },
        SresetError::TableFull,
    ] {
        assert_eq!(e.opal_error(), OpalError::Hardware, "{e:?}");
        assert_eq!(e.opal_error().code(), -6);
    }
}

// ----- sequences, against the model --------------------------------------------------------

use crate::model::{Access, Machine, Model, SresetTaken, Timebase, Wakeup, Write};

type Controls<'t, const N: usize = 64> = DirectControls<Model<'t>, &'t Timebase, N>;

fn controls(machine: Machine, tb: &Timebase) -> Controls<'_> {
    DirectControls::new(machine.generation(), Model::new(machine, tb), tb)
}

fn write(chip: u32, pcba: u64, value: u64) -> Write {
    Write { chip, pcba, value }
}

/// The writes of one sreset of `t` that goes through, on `gen`.
fn sreset_writes(gen: Generation, t: ThreadId) -> [Write; 4] {
    let regs = CoreRegs::of(gen, t.core);
    let request = match gen {
        Generation::P9 => P9_SPWKUP_SET,
        Generation::P10 => P10_SPWU_REQ,
    };
    [
        write(t.chip, regs.wakeup_request, request),
        write(t.chip, regs.direct_controls, thread_stop(t.thread)),
        write(t.chip, regs.direct_controls, thread_sreset(t.thread)),
        write(t.chip, regs.wakeup_request, 0),
    ]
}

fn taken<'a>(dc: &'a Controls<'_>) -> impl Iterator<Item = (ThreadId, bool)> + 'a {
    dc.scom()
        .sresets()
        .map(|s: SresetTaken| (s.thread, s.from_stop))
}

#[test]
fn p9_sequence_is_wakeup_stop_sreset_release() {
    let tb = Timebase::new();
    let mut dc = controls(Machine::P9, &tb);
    let t = thread(1, 1, 2);
    assert_eq!(dc.sreset(t), Ok(()));
    let m = dc.scom();
    assert_eq!(
        m.writes(),
        [
            write(1, 0x210f_010d, 1 << 63),
            write(1, 0x2101_0a9c, 1 << (63 - 23)),
            write(1, 0x2101_0a9c, 1 << (63 - 20)),
            write(1, 0x210f_010d, 0),
        ]
    );
    assert_eq!(taken(&dc).collect::<Vec<_>>(), [(t, false)]);
    assert!(dc.scom().thread_running(t));
    assert!(!dc.scom().wakeup_requested(t.core_id()));
    assert_eq!(dc.wakeup_count(t.core_id()), 0);
    dc.scom().assert_no_violations();
}

#[test]
fn p10_sequence_is_wakeup_stop_sreset_release() {
    let tb = Timebase::new();
    let mut dc = controls(Machine::P10, &tb);
    let t = thread(0, 5, 3); // quad 1, second core
    assert_eq!(dc.sreset(t), Ok(()));
    assert_eq!(
        dc.scom().writes(),
        [
            write(0, 0x210e_483c, 1 << 63),
            write(0, 0x2102_4449, 1 << (63 - 31)),
            write(0, 0x2102_4449, 1 << (63 - 28)),
            write(0, 0x210e_483c, 0),
        ]
    );
    assert_eq!(taken(&dc).collect::<Vec<_>>(), [(t, false)]);
    assert!(!dc.scom().wakeup_requested(t.core_id()));
    dc.scom().assert_no_violations();
}

#[test]
fn p9_release_keeps_its_delays_and_p10_has_none() {
    let tb = Timebase::new();
    let mut dc = controls(Machine::P9, &tb);
    let start = tb.now_us();
    dc.sreset(thread(0, 0, 0)).unwrap();
    assert!(tb.now_us() - start >= P9_RELEASE_SETTLE_US + P9_RELEASE_DELAY_US);
    // Back to back on one core: the model flags an assert within 10 ms of a release.
    dc.sreset(thread(0, 0, 1)).unwrap();
    dc.scom().assert_no_violations();

    let tb = Timebase::new();
    let mut dc = controls(Machine::P10, &tb);
    dc.sreset(thread(0, 0, 0)).unwrap();
    assert!(tb.now_us() < 1_000, "P10 took {} us", tb.now_us());
}

#[test]
fn a_thread_in_deep_stop_wakes_as_from_power_saving() {
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let t = thread(0, 2, 1);
        dc.scom_mut().core_in_deep_stop(t.core_id());
        assert_eq!(dc.sreset(t), Ok(()), "{machine:?}");
        assert_eq!(dc.scom().writes(), sreset_writes(machine.generation(), t));
        assert_eq!(taken(&dc).collect::<Vec<_>>(), [(t, true)]);
        assert!(dc.scom().thread_running(t));
        // One thread now runs, so the core stays up without our wakeup.
        assert!(!dc.scom().core_gated(t.core_id()));
        dc.scom().assert_no_violations();
    }
}

#[test]
fn a_thread_in_shallow_stop_and_a_running_sibling() {
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let sleeping = thread(0, 7, 0);
        let running = thread(0, 7, 1);
        dc.scom_mut().thread_in_stop(sleeping);
        dc.sreset(sleeping).unwrap();
        dc.sreset(running).unwrap();
        assert_eq!(
            taken(&dc).collect::<Vec<_>>(),
            [(sleeping, true), (running, false)]
        );
        dc.scom().assert_no_violations();
    }
}

#[test]
fn wakeup_never_granted_fails_leaving_no_reference() {
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let t = thread(0, 3, 0);
        dc.scom_mut().set_wakeup(t.core_id(), Wakeup::Never);
        let start = tb.now_us();
        let err = dc.sreset(t).unwrap_err();
        assert_eq!(err, SresetError::WakeupTimeout(t.core_id()));
        assert_eq!(err.opal_error(), OpalError::Hardware);
        let waited = tb.now_us() - start;
        assert!(
            (WAKEUP_TIMEOUT_US..WAKEUP_TIMEOUT_US + 2 * POLL_INTERVAL_US).contains(&waited),
            "waited {waited} us"
        );
        // Nothing touched the thread, and we hold no reference. The request itself stays
        // asserted in hardware: withdrawing it before DONE breaks the wakeup protocol
        // (skiboot does the same), and the model would report ReleasedBeforeDone.
        assert_eq!(
            dc.scom().writes(),
            &sreset_writes(machine.generation(), t)[..1]
        );
        assert_eq!(dc.wakeup_count(t.core_id()), 0);
        assert!(dc.scom().wakeup_requested(t.core_id()));
        assert!(dc.scom().thread_running(t));

        // Once the microcontroller answers, the next sreset asserts again, and its
        // release finally withdraws the request.
        dc.scom_mut().set_wakeup(t.core_id(), Wakeup::Grant);
        dc.scom_mut().clear_log();
        assert_eq!(dc.sreset(t), Ok(()));
        assert_eq!(dc.scom().writes(), sreset_writes(machine.generation(), t));
        assert!(!dc.scom().wakeup_requested(t.core_id()));
        dc.scom().assert_no_violations();
    }
}

#[test]
fn wakeup_is_waited_for_within_the_budget_only() {
    for (latency, ok) in [
        (60_000, true),
        (WAKEUP_TIMEOUT_US - 50, true),
        (150_000, false),
    ] {
        let tb = Timebase::new();
        let mut dc = controls(Machine::P9, &tb);
        dc.scom_mut().set_wakeup_latency_us(latency);
        assert_eq!(dc.sreset(thread(0, 0, 0)).is_ok(), ok, "latency {latency}");
    }
}

#[test]
fn a_core_that_stays_gated_gets_its_request_withdrawn() {
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let t = thread(1, 9, 2);
        dc.scom_mut()
            .core_in_deep_stop(t.core_id())
            .set_wakeup(t.core_id(), Wakeup::StaysGated);
        assert_eq!(dc.sreset(t), Err(SresetError::CoreGated(t.core_id())));
        let w = sreset_writes(machine.generation(), t);
        assert_eq!(dc.scom().writes(), [w[0], w[3]]);
        assert!(!dc.scom().wakeup_requested(t.core_id()));
        assert_eq!(dc.wakeup_count(t.core_id()), 0);
        dc.scom().assert_no_violations();
    }
}

#[test]
fn p10_gated_with_spwu_done_is_taken_as_awake() {
    let tb = Timebase::new();
    let mut dc = controls(Machine::P10, &tb);
    let t = thread(0, 12, 0);
    dc.scom_mut()
        .core_in_deep_stop(t.core_id())
        .set_wakeup(t.core_id(), Wakeup::GatedButDone);
    assert_eq!(dc.sreset(t), Ok(()));
    assert_eq!(dc.scom().writes(), sreset_writes(Generation::P10, t));
    dc.scom().assert_no_violations();
}

#[test]
fn a_thread_that_never_quiesces_times_out_and_the_wakeup_goes() {
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let t = thread(0, 4, 1);
        dc.scom_mut().thread_never_quiesces(t);
        let start = tb.now_us();
        let err = dc.sreset(t).unwrap_err();
        assert_eq!(err, SresetError::QuiesceTimeout(t));
        assert_eq!(err.opal_error(), OpalError::Hardware);
        assert!(tb.now_us() - start >= QUIESCE_TIMEOUT_US);
        // Not quiesced, so there is nothing to continue.
        let w = sreset_writes(machine.generation(), t);
        assert_eq!(dc.scom().writes(), [w[0], w[1], w[3]]);
        assert!(!dc.scom().wakeup_requested(t.core_id()));
        assert!(dc.scom().sresets().next().is_none());
        dc.scom().assert_no_violations();
    }
}

#[test]
fn a_stop_that_reports_failure_but_lands_is_undone() {
    // An XSCOM error does not prove the write did not reach the chiplet: the thread may
    // be quiesced anyway, and must not be left so.
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let t = thread(0, 4, 1);
        let dctl = CoreRegs::of(machine.generation(), t.core).direct_controls;
        dc.scom_mut()
            .set_quiesce_latency_us(0)
            .fail_scom_after_effect(
                0,
                dctl,
                Access::WriteWithBits(thread_stop(1)),
                ScomError::Timeout,
            );
        assert!(matches!(dc.sreset(t), Err(SresetError::Scom { .. })));
        let w = sreset_writes(machine.generation(), t);
        assert_eq!(
            dc.scom().writes(),
            [w[0], w[1], write(0, dctl, thread_start(1)), w[3]]
        );
        assert!(dc.scom().thread_running(t));
        assert!(dc.scom().sresets().next().is_none());
        dc.scom().assert_no_violations();
        // Nothing is left marked stopped.
        dc.scom_mut().clear_failures();
        assert_eq!(dc.sreset(t), Ok(()));
    }
}

#[test]
fn partly_quiesced_is_not_quiesced() {
    // While quiescing, the model shows some of the bits (P9: 2 of 4; P10: QUIESCED
    // without MAINT). An SRESET in that window is a violation.
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        dc.scom_mut().set_quiesce_latency_us(1_000);
        assert_eq!(dc.sreset(thread(0, 0, 3)), Ok(()));
        dc.scom().assert_no_violations();
    }
}

#[test]
fn a_thread_already_stopped_is_busy_and_nothing_stays_asserted() {
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let t = thread(1, 0, 2);
        dc.scom_mut().thread_already_stopped(t);
        let err = dc.sreset(t).unwrap_err();
        assert_eq!(err, SresetError::Busy);
        assert_eq!(err.opal_error(), OpalError::Busy);
        let w = sreset_writes(machine.generation(), t);
        assert_eq!(dc.scom().writes(), [w[0], w[3]]);
        assert!(!dc.scom().wakeup_requested(t.core_id()));
        assert_eq!(dc.wakeup_count(t.core_id()), 0);
        assert!(
            dc.scom().thread_quiesced(t),
            "someone else's stop is left alone"
        );
        dc.scom().assert_no_violations();
    }
}

#[test]
fn a_failed_sreset_write_continues_the_thread_then_releases() {
    // (machine, thread set-up, expected continue command)
    type Setup = fn(&mut Model<'_>, ThreadId);
    type Command = fn(u32) -> u64;
    let running: Setup = |_, _| {};
    let in_stop: Setup = |m, t| {
        m.thread_in_stop(t);
    };
    let inactive: Setup = |m, t| {
        m.thread_inactive(t);
    };
    let cases: [(Machine, Setup, Command); 6] = [
        (Machine::P9, running, thread_start),
        (Machine::P9, in_stop, thread_clear_maint),
        (Machine::P9, inactive, thread_clear_maint),
        (Machine::P10, running, thread_start),
        (Machine::P10, in_stop, thread_clear_maint),
        (Machine::P10, inactive, thread_clear_maint),
    ];
    for (machine, setup, resume) in cases {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let gen = machine.generation();
        let t = thread(0, 6, 2);
        let dctl = CoreRegs::of(gen, t.core).direct_controls;
        setup(dc.scom_mut(), t);
        dc.scom_mut().fail_scom(
            0,
            dctl,
            Access::WriteWithBits(thread_sreset(2)),
            ScomError::Timeout,
        );
        let err = dc.sreset(t).unwrap_err();
        assert_eq!(
            err,
            SresetError::Scom {
                chip: 0,
                pcba: dctl,
                error: ScomError::Timeout
            }
        );
        assert_eq!(err.opal_error(), OpalError::Hardware);
        let w = sreset_writes(gen, t);
        assert_eq!(
            dc.scom().writes(),
            [w[0], w[1], w[2], write(0, dctl, resume(2)), w[3]],
            "{machine:?}"
        );
        assert!(!dc.scom().thread_quiesced(t));
        assert!(dc.scom().sresets().next().is_none());
        assert!(!dc.scom().wakeup_requested(t.core_id()));
        dc.scom().assert_no_violations();
    }
}

#[test]
fn a_thread_we_could_not_restart_stays_busy() {
    for machine in [Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        let gen = machine.generation();
        let t = thread(0, 1, 0);
        let dctl = CoreRegs::of(gen, t.core).direct_controls;
        dc.scom_mut().fail_scom(
            0,
            dctl,
            Access::WriteWithBits(thread_sreset(0) | thread_start(0)),
            ScomError::Parity,
        );
        assert!(matches!(dc.sreset(t), Err(SresetError::Scom { .. })));
        assert!(!dc.scom().wakeup_requested(t.core_id()), "released anyway");
        assert!(dc.scom().thread_quiesced(t));

        dc.scom_mut().clear_failures();
        dc.scom_mut().clear_log();
        assert_eq!(dc.sreset(t), Err(SresetError::Busy));
        let w = sreset_writes(gen, t);
        assert_eq!(dc.scom().writes(), [w[0], w[3]]);
        // Other threads of the core are not affected.
        assert_eq!(dc.sreset(thread(0, 1, 1)), Ok(()));
        dc.scom().assert_no_violations();
    }
}

#[test]
fn scom_failures_before_the_sreset_still_release() {
    for machine in [Machine::P9, Machine::P10] {
        let gen = machine.generation();
        let t = thread(0, 2, 3);
        let regs = CoreRegs::of(gen, t.core);
        let w = sreset_writes(gen, t);

        // RAS status unreadable: nothing is stopped.
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        dc.scom_mut()
            .fail_scom(0, regs.ras_status, Access::Read, ScomError::Clock);
        assert!(matches!(dc.sreset(t), Err(SresetError::Scom { .. })));
        assert_eq!(dc.scom().writes(), [w[0], w[3]]);

        // STOP refused: the continue finds nothing quiesced.
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        dc.scom_mut().fail_scom(
            0,
            regs.direct_controls,
            Access::AnyWrite,
            ScomError::Address,
        );
        assert!(matches!(dc.sreset(t), Err(SresetError::Scom { .. })));
        assert_eq!(dc.scom().writes(), [w[0], w[1], w[3]]);
        assert!(dc.scom().thread_running(t));
        assert!(!dc.scom().wakeup_requested(t.core_id()));

        // The wakeup request refused: nothing else is tried.
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        dc.scom_mut()
            .fail_scom(0, regs.wakeup_request, Access::AnyWrite, ScomError::Timeout);
        assert!(matches!(dc.sreset(t), Err(SresetError::Scom { .. })));
        assert_eq!(dc.scom().writes(), [w[0]]);
        assert_eq!(dc.wakeup_count(t.core_id()), 0);
    }
}

#[test]
fn a_failed_release_after_the_sreset_is_still_success() {
    // The reset is on its way; an error would make Linux send a second NMI by doorbell.
    let tb = Timebase::new();
    let mut dc = controls(Machine::P10, &tb);
    let t = thread(0, 0, 0);
    let request = CoreRegs::of(Generation::P10, 0).wakeup_request;
    dc.scom_mut()
        .fail_scom(0, request, Access::WriteOf(0), ScomError::Timeout);
    assert_eq!(dc.sreset(t), Ok(()));
    assert_eq!(taken(&dc).count(), 1);
    // The reference is gone; the next assert writes the request again.
    assert_eq!(dc.wakeup_count(t.core_id()), 0);
    assert!(dc.scom().wakeup_requested(t.core_id()));
    dc.scom_mut().clear_failures();
    assert_eq!(dc.sreset(t), Ok(()));
    assert!(!dc.scom().wakeup_requested(t.core_id()));
    assert_eq!(dc.release_special_wakeup(t.core_id()), Ok(()));
}

#[test]
fn two_threads_of_one_core_share_the_wakeup_reference() {
    for machine in [Machine::P9, Machine::P10] {
        let gen = machine.generation();
        let (t0, t1) = (thread(0, 8, 0), thread(0, 8, 1));
        let core = t0.core_id();

        // Back to back: each sreset takes and drops the only reference.
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        dc.sreset(t0).unwrap();
        dc.sreset(t1).unwrap();
        let (w0, w1) = (sreset_writes(gen, t0), sreset_writes(gen, t1));
        assert_eq!(dc.scom().writes(), [w0, w1].concat());
        assert_eq!(dc.wakeup_count(core), 0);
        dc.scom().assert_no_violations();

        // With a reference held elsewhere (HMI recovery, say), neither touches it.
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        dc.assert_special_wakeup(core).unwrap();
        assert_eq!(dc.wakeup_count(core), 1);
        dc.sreset(t0).unwrap();
        assert_eq!(dc.wakeup_count(core), 1);
        dc.sreset(t1).unwrap();
        assert!(dc.scom().wakeup_requested(core));
        dc.release_special_wakeup(core).unwrap();
        assert_eq!(dc.wakeup_count(core), 0);
        assert_eq!(
            dc.scom().writes(),
            [w0[0], w0[1], w0[2], w1[1], w1[2], w0[3]]
        );
        assert_eq!(taken(&dc).count(), 2);
        dc.scom().assert_no_violations();
    }
}

#[test]
fn releasing_what_is_not_held_writes_nothing() {
    let tb = Timebase::new();
    let mut dc = controls(Machine::P9, &tb);
    let core = CoreId { chip: 0, core: 0 };
    assert_eq!(dc.release_special_wakeup(core), Ok(()));
    dc.assert_special_wakeup(core).unwrap();
    dc.release_special_wakeup(core).unwrap();
    dc.scom_mut().clear_log();
    assert_eq!(dc.release_special_wakeup(core), Ok(()));
    assert!(dc.scom().writes().is_empty());
}

#[test]
fn a_full_table_is_an_error_and_frees_up_again() {
    let tb = Timebase::new();
    let mut dc: Controls<'_, 2> =
        DirectControls::new(Generation::P10, Model::new(Machine::P10, &tb), &tb);
    let cores = [0, 1, 2].map(|core| CoreId { chip: 0, core });
    dc.assert_special_wakeup(cores[0]).unwrap();
    dc.assert_special_wakeup(cores[1]).unwrap();
    dc.scom_mut().clear_log();
    assert_eq!(
        dc.assert_special_wakeup(cores[2]),
        Err(SresetError::TableFull)
    );
    let err = dc.sreset(thread(0, 2, 0)).unwrap_err();
    assert_eq!(err, SresetError::TableFull);
    assert_eq!(err.opal_error(), OpalError::Hardware);
    assert!(dc.scom().writes().is_empty());
    // A core already in the table still works.
    assert_eq!(dc.sreset(thread(0, 1, 3)), Ok(()));
    dc.release_special_wakeup(cores[0]).unwrap();
    assert_eq!(dc.sreset(thread(0, 2, 0)), Ok(()));
}

#[test]
fn threads_outside_the_generation_are_refused_before_any_scom() {
    let tb = Timebase::new();
    let mut dc = controls(Machine::P9, &tb);
    for t in [thread(0, 24, 0), thread(0, 0, 4)] {
        assert_eq!(dc.sreset(t), Err(SresetError::InvalidThread(t)));
    }
    assert!(dc.scom().writes().is_empty());
}

#[test]
fn qemu_powernv10_one_done_flag_per_quad() {
    let tb = Timebase::new();
    let mut dc = controls(Machine::QemuPowernv10, &tb);
    // Core 0 then core 1 of quad 0: each release clears the quad's flag, each assert sets
    // it again.
    let (a, b) = (thread(0, 0, 0), thread(0, 1, 0));
    assert_eq!(dc.sreset(a), Ok(()));
    assert_eq!(dc.sreset(b), Ok(()));
    assert_eq!(
        dc.scom().writes(),
        [
            sreset_writes(Generation::P10, a),
            sreset_writes(Generation::P10, b)
        ]
        .concat()
    );
    assert_eq!(taken(&dc).collect::<Vec<_>>(), [(a, false), (b, false)]);

    // Core 0 held while core 1 comes and goes: core 1's release clears "done" for core 0
    // too, which QEMU never checks again (it gates nothing), so core 0 still works.
    let a1 = thread(0, 0, 1);
    dc.assert_special_wakeup(a.core_id()).unwrap();
    dc.sreset(b).unwrap();
    assert_eq!(dc.sreset(a1), Ok(()));
    dc.release_special_wakeup(a.core_id()).unwrap();
    assert_eq!(taken(&dc).count(), 4);
}

#[test]
fn qemu_powernv10_continues_with_clear_maint() {
    // QEMU's THREAD_INFO reads 0, so skiboot's rule always picks CLEAR_MAINT there.
    let tb = Timebase::new();
    let mut dc = controls(Machine::QemuPowernv10, &tb);
    let t = thread(0, 3, 1);
    let dctl = CoreRegs::of(Generation::P10, 3).direct_controls;
    dc.scom_mut().fail_scom(
        0,
        dctl,
        Access::WriteWithBits(thread_sreset(1)),
        ScomError::Failed,
    );
    assert!(dc.sreset(t).is_err());
    let w = sreset_writes(Generation::P10, t);
    assert_eq!(
        dc.scom().writes(),
        [
            w[0],
            w[1],
            w[2],
            write(0, dctl, thread_clear_maint(1)),
            w[3]
        ]
    );
    assert!(dc.scom().thread_running(t));
}

#[test]
fn probe_tells_qemu_powernv9_from_machines_with_direct_controls() {
    let core = CoreId { chip: 0, core: 0 };
    let tb = Timebase::new();
    let mut dc = controls(Machine::QemuPowernv9, &tb);
    assert_eq!(dc.probe(core), Err(SresetError::WakeupTimeout(core)));
    assert!(tb.now_us() >= WAKEUP_TIMEOUT_US);
    // And a sreset there would fail the same way: the token must stay absent.
    assert_eq!(
        dc.sreset(thread(0, 0, 1)),
        Err(SresetError::WakeupTimeout(core))
    );

    for machine in [Machine::QemuPowernv10, Machine::P9, Machine::P10] {
        let tb = Timebase::new();
        let mut dc = controls(machine, &tb);
        assert_eq!(dc.probe(core), Ok(()), "{machine:?}");
        assert_eq!(dc.wakeup_count(core), 0);
        assert!(!dc.scom().wakeup_requested(core));
        dc.scom().assert_no_violations();
    }

    // A core in deep stop goes back to sleep after the probe.
    let tb = Timebase::new();
    let mut dc = controls(Machine::P10, &tb);
    dc.scom_mut().core_in_deep_stop(core);
    assert_eq!(dc.probe(core), Ok(()));
    assert!(dc.scom().core_gated(core));
    dc.scom().assert_no_violations();
}
