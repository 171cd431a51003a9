// SPDX-License-Identifier: Apache-2.0
//! Timer facility recovery with std threads as the hardware threads of one core.
#![cfg(feature = "model")]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::{run, Machine, BASE};
use hmi::hmer;
use hmi::hw::NoSiblings;
use hmi::model::{CoreTfac, ModelRegs, ThreadTfac};
use hmi::{flags, Disposition, Gen, HmiType, Severity, ThreadRegs};

const TB_STOPPING: [CoreTfac; 8] = [
    CoreTfac::TbStateCorrupt,
    CoreTfac::MissingSync,
    CoreTfac::MissingStep,
    CoreTfac::Residue,
    CoreTfac::FwControl,
    CoreTfac::TfacTransfer,
    CoreTfac::TfmrCorrupt,
    CoreTfac::TbInvalid,
];

/// TFMR bit of an injected kind (from the §4.3 table, not from the crate).
fn tfmr_bit(kind: CoreTfac) -> u64 {
    let b = |n: u32| 1u64 << (63 - n);
    match kind {
        CoreTfac::TbStateCorrupt => b(27),
        CoreTfac::MissingSync => b(43),
        CoreTfac::MissingStep => b(44),
        CoreTfac::Residue => b(45),
        CoreTfac::FwControl => b(46),
        CoreTfac::TfacTransfer => b(25),
        CoreTfac::TfmrCorrupt => b(60),
        CoreTfac::HdecParity => b(26),
        CoreTfac::TbInvalid => 0,
        CoreTfac::TodError => b(51),
    }
}

/// The checks of one core-wide TB event that every thread took part in.
fn check_core_event(m: &Machine, r: &common::Run, kind: CoreTfac, ctx: &str) {
    let n = m.model.threads();
    assert_eq!(m.model.resyncs(), 1, "{ctx}: exactly one resync");
    assert_eq!(m.model.resync_by(), 1, "{ctx}: by thread 0");
    assert!(m.model.tb_valid() && m.model.tb_running(), "{ctx}: TB back");
    assert_eq!(m.model.core_errors(), 0, "{ctx}");
    assert_eq!(
        m.model.violations(),
        0,
        "{ctx}: violations {:#x}",
        m.model.violations()
    );
    for t in 0..n {
        assert_eq!(m.model.hmer(t), 0, "{ctx}: HMER of thread {t}");
        let (f, evs) = r.merged(t);
        assert_eq!(
            f,
            flags::TB_RESYNC | flags::NEW_EVENT,
            "{ctx}: thread {t} flags {f:#x}"
        );
        assert_eq!(evs.len(), 1, "{ctx}: thread {t} events {evs:?}");
        let e = &evs[0];
        assert_eq!(e.severity, Severity::ErrorSync);
        assert_eq!(e.disposition, Disposition::Recovered, "{ctx}");
        assert!(matches!(e.kind, HmiType::Tfac | HmiType::TfmrParity));
        // The TFMR at entry shows the error and an invalid TB.
        assert_eq!(
            e.tfmr & tfmr_bit(kind),
            tfmr_bit(kind),
            "{ctx}: {:#x}",
            e.tfmr
        );
        assert_eq!(e.tfmr & (1 << (63 - 41)), 0, "{ctx}: TB was invalid");
        assert_eq!(e.tfmr & 0xFFFE_0000_0000_0000 & !(1 << (63 - 10)), BASE);
    }
}

fn core_event_loop(gen: Gen, threads: usize, iterations: u64) {
    for i in 0..iterations {
        let m = Machine::new(gen, threads);
        let kind = TB_STOPPING[i as usize % TB_STOPPING.len()];
        m.model.inject_core_tfac(kind);
        let r = run(&m, m.all(), 0, i + 1);
        assert_eq!(
            m.core.recoveries(),
            1,
            "{gen:?}/{threads} {kind:?} iteration {i}"
        );
        check_core_event(
            &m,
            &r,
            kind,
            &format!("{gen:?}/{threads} {kind:?} iteration {i}"),
        );
    }
}

#[test]
fn core_event_4_threads() {
    core_event_loop(Gen::P9, 4, 200);
    core_event_loop(Gen::P10, 4, 200);
}

#[test]
fn core_event_8_threads() {
    core_event_loop(Gen::P10, 8, 200);
    core_event_loop(Gen::P9, 8, 100);
}

#[test]
fn parked_threads_are_kicked_and_join() {
    for (threads, parked) in [(4usize, 0b1000u8), (8, 0b0110_0010)] {
        for i in 0..100 {
            let m = Machine::new(Gen::P10, threads);
            m.model.inject_core_tfac(CoreTfac::MissingStep);
            let running = m.all() & !parked;
            let r = run(&m, running, parked, 1000 + i);
            let ctx = format!("{threads} threads, parked {parked:#b}, iteration {i}");
            // One opener kicked once.
            assert_eq!(r.kicks, 1, "{ctx}");
            for t in 0..threads {
                assert!(r.results[t].is_some(), "{ctx}: thread {t} ran");
            }
            assert_eq!(m.core.recoveries(), 1, "{ctx}");
            check_core_event(&m, &r, CoreTfac::MissingStep, &ctx);
        }
    }
}

#[test]
fn a_missing_thread_times_out_and_the_rest_finish() {
    for (gen, threads, missing) in [
        (Gen::P9, 4usize, 2usize),
        (Gen::P10, 8, 5),
        (Gen::P10, 4, 0),
        (Gen::P9, 8, 0),
    ] {
        for i in 0..15 {
            let mut m = Machine::new(gen, threads);
            // Long enough that a present thread descheduled by a busy host (cargo runs
            // these tests side by side, CI runs QEMU next to them) is not taken for the
            // missing one: 100 µs failed about one run in five with two QEMUs running.
            m.timeout_us = 2_000;
            m.model.inject_core_tfac(CoreTfac::TbStateCorrupt);
            let r = run(&m, m.all() & !(1 << missing), 0, 77 + i);
            let ctx = format!("{gen:?}/{threads} missing {missing} iteration {i}");
            assert!(r.elapsed.as_secs() < 20, "{ctx}: took {:?}", r.elapsed);
            assert!(r.results[missing].is_none());
            assert_eq!(m.model.resyncs(), 1, "{ctx}");
            // Thread 0 resyncs; without thread 0 the lowest thread present does.
            let by = if missing == 0 { 1 << 1 } else { 1 };
            assert_eq!(m.model.resync_by(), by, "{ctx}");
            assert!(m.model.tb_valid() && m.model.tb_running(), "{ctx}");
            assert_eq!(m.model.violations(), 0, "{ctx}");
            let mut resyncers = 0;
            for t in (0..threads).filter(|&t| t != missing) {
                let (f, evs) = r.merged(t);
                assert_eq!(f, flags::TB_RESYNC | flags::NEW_EVENT, "{ctx}: thread {t}");
                assert_eq!(evs.len(), 1);
                assert_eq!(m.model.hmer(t), 0);
                // What the firmware logs: who was expected, who came, who resynced.
                let seen = r.first(t).0.rendezvous.expect("took part");
                assert_eq!(seen.expected, m.all(), "{ctx}: thread {t}");
                assert_eq!(seen.met, m.all() & !(1 << missing), "{ctx}: thread {t}");
                assert_ne!(seen.resync_here, Some(false), "{ctx}: thread {t}");
                resyncers += usize::from(seen.resync_here == Some(true));
            }
            assert_eq!(resyncers, 1, "{ctx}: one thread says it resynced");
            // The missing thread's HMI is still pending: when it comes in late, it finds the
            // facility repaired and the session over.
            assert_eq!(m.model.hmer(missing), hmer::TFAC_ERROR);
            let (late, evs) = m.call(missing, m.all(), &mut NoSiblings);
            assert_eq!(late.flags, 0, "{ctx}: late thread");
            assert!(evs.is_empty());
            assert_eq!(m.model.hmer(missing), 0);
            assert_eq!(m.core.recoveries(), 1);
        }
    }
}

#[test]
fn a_stopped_timebase_does_not_hang_the_rendezvous() {
    // HDEC parity keeps the TB valid; freeze it anyway, and leave a thread out, so every
    // wait ends on the poll budget.
    for threads in [4usize, 8] {
        let mut m = Machine::new(Gen::P9, threads);
        // As above: the poll budget scales with it.
        m.timeout_us = 2_000;
        m.model.inject_core_tfac(CoreTfac::HdecParity);
        m.model.freeze_tb(true);
        let before = m.model.tb();
        let r = run(&m, m.all() & !0b10, 0, 5);
        assert!(r.elapsed.as_secs() < 20);
        assert_eq!(m.model.tb(), before, "the TB did not move");
        // Each wait ends on its poll budget, 16 polls per µs of the timeout (not one per
        // tick, 512 per µs): per thread at most 4 meetings of 2 stages and 3 other waits.
        let budget = m.timeout_us * hmi::POLLS_PER_US;
        let present = threads as u64 - 1;
        assert!(
            m.model.pauses() <= present * 11 * budget,
            "{threads} threads: {} polls",
            m.model.pauses()
        );
        for t in (0..threads).filter(|&t| t != 1) {
            let (f, _) = r.merged(t);
            assert_eq!(f, flags::HDEC_LOST | flags::NEW_EVENT, "thread {t}: {f:#x}");
            assert_eq!(m.model.hdec(t), 0);
        }
        assert_eq!(m.model.resyncs(), 0, "TB valid: no resync");
        assert_eq!(m.model.core_errors(), 0);
        assert_eq!(m.model.violations(), 0);
    }
}

#[test]
fn hdec_parity_is_core_wide() {
    for threads in [4usize, 8] {
        for i in 0..50 {
            let m = Machine::new(Gen::P10, threads);
            for t in 0..threads {
                m.model.set_timers(t, 5, 0x1234, 7, 8);
            }
            m.model.inject_core_tfac(CoreTfac::HdecParity);
            let r = run(&m, m.all(), 0, 300 + i);
            for t in 0..threads {
                let (f, evs) = r.merged(t);
                assert_eq!(f, flags::HDEC_LOST | flags::NEW_EVENT, "thread {t}");
                assert_eq!(evs[0].disposition, Disposition::Recovered);
                assert_eq!(m.model.hdec(t), 0);
                assert_eq!(m.model.dec(t), 5, "DEC untouched");
            }
            assert_eq!(m.model.resyncs(), 0);
            assert_eq!(m.model.core_errors(), 0);
            assert_eq!(m.model.violations(), 0);
        }
    }
}

#[test]
fn dec_parity_is_local() {
    for gen in [Gen::P9, Gen::P10] {
        let m = Machine::new(gen, 4);
        for t in 0..4 {
            m.model.set_timers(t, 5, 6, 7, 8);
        }
        m.model.inject_thread_tfac(1, ThreadTfac::DecParity);
        // The other threads have no HMI.
        assert_eq!(
            m.call(0, m.all(), &mut NoSiblings).0,
            hmi::Outcome::default()
        );
        let (out, evs) = m.call(1, m.all(), &mut NoSiblings);
        assert_eq!(out.flags, flags::DEC_LOST | flags::NEW_EVENT);
        assert_eq!(out.handled, hmer::TFAC_ERROR);
        assert_eq!(m.model.dec(1), u64::MAX);
        assert_eq!(m.model.dec(0), 5);
        assert_eq!(m.model.hdec(1), 6);
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].kind, HmiType::Tfac);
        assert_eq!(evs[0].disposition, Disposition::Recovered);
        assert_eq!(m.model.peek_tfmr(1) & (1 << (63 - 59)), 0, "cleared");
        assert_eq!(m.core.recoveries(), 0, "no rendezvous");
        assert_eq!(m.model.tfmr_writes(), 2, "base + error, twice");
        assert_eq!(m.model.violations(), 0);

        // Golden bytes of that event, laid out by hand: HMER bit 4; TFMR = base
        // 0x4B12..., TB state running (8 at 28:31), TB enabled and valid (40, 41), DEC
        // parity (59).
        let want: [u8; 40] = [
            0x02, 0x02, 0x04, 0x00, 0, 0, 0, 0, //
            0x08, 0, 0, 0, 0, 0, 0, 0, //
            0x4B, 0x12, 0x00, 0x08, 0x00, 0xC0, 0x00, 0x10, //
            0, 0, 0, 0, 0, 0, 0, 0, //
            0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(evs[0].to_bytes(), want);
    }
}

#[test]
fn purr_and_spurr_parity() {
    let m = Machine::new(Gen::P10, 4);
    m.model.set_timers(2, 5, 6, 7, 8);
    m.model.inject_thread_tfac(2, ThreadTfac::PurrParity);
    m.model.inject_thread_tfac(2, ThreadTfac::SpurrParity);
    let (out, _) = m.call(2, m.all(), &mut NoSiblings);
    assert_eq!(out.flags, flags::NEW_EVENT);
    assert_eq!(
        (m.model.purr(2), m.model.spurr(2), m.model.dec(2)),
        (0, 0, 5)
    );
    assert_eq!(m.model.violations(), 0);
}

#[test]
fn a_broken_tod_leaves_tod_tb_fail() {
    let m = Machine::new(Gen::P9, 4);
    m.model.fail_tod(true);
    m.model.inject_core_tfac(CoreTfac::MissingSync);
    let r = run(&m, m.all(), 0, 9);
    for t in 0..4 {
        let (f, evs) = r.merged(t);
        assert_eq!(
            f & (flags::TB_RESYNC | flags::TOD_TB_FAIL),
            flags::TOD_TB_FAIL,
            "thread {t}"
        );
        assert_eq!(evs.last().unwrap().disposition, Disposition::NotRecovered);
        // Thread 0 tried the resync and says it failed; the others did not try.
        let seen = r.first(t).0.rendezvous.expect("took part");
        let want = (t == 0).then_some(false);
        assert_eq!(seen.resync_here, want, "thread {t}");
    }
    assert_eq!(m.model.resyncs(), 1);
    assert!(!m.model.tb_valid());
}

#[test]
fn tod_errors_with_a_valid_tb_skip_the_rendezvous() {
    let m = Machine::new(Gen::P10, 4);
    m.model.inject_core_tfac(CoreTfac::TodError);
    for i in 0..50 {
        m.model.inject_core_tfac(CoreTfac::TodError);
        let r = run(&m, m.all(), 0, 11 + i);
        assert_eq!(m.core.recoveries(), 0);
        assert_eq!(m.model.core_errors(), 0);
        // The first thread there fixes the TOD; a thread that reads its TFMR after that
        // has nothing to report.
        let mut reported = 0;
        for t in 0..4 {
            let (f, evs) = r.merged(t);
            assert_eq!(m.model.hmer(t), 0);
            assert!(evs.len() <= 1);
            if let Some(e) = evs.first() {
                reported += 1;
                assert_eq!(f, flags::NEW_EVENT);
                assert_eq!(e.disposition, Disposition::Recovered);
                assert_ne!(e.tfmr & (1 << (63 - 51)), 0);
            } else {
                assert_eq!(f, 0);
            }
        }
        assert!(reported >= 1);
    }
}

#[test]
fn back_to_back_events_do_not_mix() {
    for threads in [4usize, 8] {
        for i in 0..50 {
            let m = Machine::new(Gen::P10, threads);
            m.model.inject_core_tfac(CoreTfac::TbStateCorrupt);
            let r1 = run(&m, m.all(), 0, 500 + i);
            check_core_event(&m, &r1, CoreTfac::TbStateCorrupt, "first");
            m.model.reset_counters();
            m.model.inject_core_tfac(CoreTfac::Residue);
            let r2 = run(&m, m.all(), 0, 900 + i);
            check_core_event(&m, &r2, CoreTfac::Residue, "second");
            assert_eq!(m.core.recoveries(), 2);
            // A harmless event next: one event, from thread 0, no timebase flags.
            m.model.reset_counters();
            m.model.inject_hmer_all(hmer::PROC_RECV_DONE);
            let r3 = run(&m, m.all(), 0, 1300 + i);
            for t in 0..threads {
                let (f, evs) = r3.merged(t);
                if t == 0 {
                    assert_eq!(f, flags::NEW_EVENT);
                    assert_eq!(evs.len(), 1);
                    assert_eq!(evs[0].kind, HmiType::ProcRecovDone);
                    assert_eq!(evs[0].hmer, hmer::PROC_RECV_DONE);
                } else {
                    assert_eq!(f, 0);
                    assert!(evs.is_empty());
                }
                assert_eq!(m.model.hmer(t), 0);
            }
            assert_eq!(m.core.recoveries(), 2);
            assert_eq!(m.model.resyncs(), 0);
            assert_eq!(m.model.tfmr_writes(), 0);
        }
    }
}

#[test]
fn a_second_event_while_the_first_is_still_leaving() {
    // The second core error is injected as soon as thread 0 has returned from the first:
    // the others may still be in the last rendezvous. Each thread handles until its HMER
    // is clean. Two recoveries, two resyncs, the TB valid at the end.
    for threads in [4usize, 8] {
        for i in 0..100 {
            let m = Machine::new(Gen::P9, threads);
            m.model.inject_core_tfac(CoreTfac::MissingStep);
            let handled = hmer::handled_mask(Gen::P9);
            let injected = AtomicBool::new(false);
            let r = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|t| {
                        let m = &m;
                        let injected = &injected;
                        s.spawn(move || {
                            let mut rng = common::Rng(i * 31 + t as u64 + 1);
                            rng.delay();
                            let mut calls = vec![m.call(t, m.all(), &mut NoSiblings)];
                            if t == 0 {
                                m.model.inject_core_tfac(CoreTfac::FwControl);
                                injected.store(true, Ordering::Release);
                            }
                            // The hardware raises the HMI again while HMER has the bit.
                            while !injected.load(Ordering::Acquire) {
                                std::thread::yield_now();
                            }
                            while m.model.hmer(t) & handled != 0 && calls.len() < 6 {
                                calls.push(m.call(t, m.all(), &mut NoSiblings));
                            }
                            calls
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            });
            let ctx = format!("{threads} threads iteration {i}");
            assert_eq!(m.core.recoveries(), 2, "{ctx}");
            assert_eq!(m.model.resyncs(), 2, "{ctx}");
            assert!(m.model.tb_valid() && m.model.tb_running(), "{ctx}");
            assert_eq!(m.model.core_errors(), 0, "{ctx}");
            assert_eq!(m.model.violations(), 0, "{ctx}");
            for (t, calls) in r.iter().enumerate() {
                assert_eq!(m.model.hmer(t), 0, "{ctx}");
                let tfac: Vec<_> = calls.iter().flat_map(|c| c.1.iter()).collect();
                assert_eq!(tfac.len(), 2, "{ctx}: thread {t}: one event per core event");
                assert!(
                    tfac.iter().all(|e| e.disposition == Disposition::Recovered),
                    "{ctx}"
                );
                for (o, _) in calls {
                    assert_eq!(o.flags & flags::TOD_TB_FAIL, 0, "{ctx}");
                }
            }
        }
    }
}

/// A thread's registers that stop it for good at its first timebase write (step 1 of the
/// core procedure, under the core's lock, after the first rendezvous): an NMI took it and
/// the OS gave the CPU back to the firmware, discarding its stack.
struct Vanishing<'m> {
    regs: ModelRegs<'m>,
    gone: &'m AtomicBool,
}

impl ThreadRegs for Vanishing<'_> {
    fn hmer(&mut self) -> u64 {
        self.regs.hmer()
    }
    fn clear_hmer(&mut self, bits: u64) {
        self.regs.clear_hmer(bits)
    }
    fn tfmr(&mut self) -> u64 {
        self.regs.tfmr()
    }
    fn write_tfmr(&mut self, v: u64) {
        self.regs.write_tfmr(v)
    }
    fn write_dec(&mut self, v: u64) {
        self.regs.write_dec(v)
    }
    fn write_hdec(&mut self, v: u64) {
        self.regs.write_hdec(v)
    }
    fn write_purr(&mut self, v: u64) {
        self.regs.write_purr(v)
    }
    fn write_spurr(&mut self, v: u64) {
        self.regs.write_spurr(v)
    }
    fn write_tb(&mut self, _v: u64) {
        self.gone.store(true, Ordering::Release);
        loop {
            std::thread::park();
        }
    }
}

#[test]
fn a_thread_that_vanishes_mid_recovery_is_abandoned_and_the_core_recovers_again() {
    for (gen, threads, lost) in [(Gen::P10, 4usize, 2usize), (Gen::P9, 8, 0)] {
        // The lost thread's std thread never ends: the machine lives as long as the test
        // process.
        let m: &'static Machine = Box::leak(Box::new(Machine::new(gen, threads)));
        let gone: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        let ctx = format!("{gen:?}/{threads} losing {lost}");
        m.model.inject_core_tfac(CoreTfac::TbStateCorrupt);
        std::thread::spawn(move || {
            let mut regs = Vanishing {
                regs: m.model.regs(lost),
                gone,
            };
            m.call_with(lost, m.all(), &mut NoSiblings, &mut regs);
            unreachable!("the lost thread came back");
        });
        // The others recover without it (it is missing from the second rendezvous on).
        let r = run(m, m.all() & !(1 << lost), 0, 41);
        assert!(gone.load(Ordering::Acquire), "{ctx}: lost in step 1");
        assert_eq!(m.core.recoveries(), 1, "{ctx}");
        assert!(m.model.tb_valid() && m.model.tb_running(), "{ctx}");
        for t in (0..threads).filter(|&t| t != lost) {
            let (f, _) = r.merged(t);
            assert_eq!(f & flags::TOD_TB_FAIL, 0, "{ctx}: thread {t}");
        }

        // The firmware takes the CPU back (OPAL_RETURN_CPU) and abandons its call.
        m.core.abandon(lost);
        m.shared.abandon(lost as u32);

        // The next event opens a new session that every thread (the lost one restarted)
        // joins, and costs no timeout on the core's lock.
        m.model.reset_counters();
        let pauses = m.model.pauses();
        m.model.inject_core_tfac(CoreTfac::MissingStep);
        let r = run(m, m.all(), 0, 43);
        assert_eq!(m.core.recoveries(), 2, "{ctx}: a new session");
        check_core_event(m, &r, CoreTfac::MissingStep, &ctx);
        for t in 0..threads {
            let seen = r.first(t).0.rendezvous.expect("took part");
            assert_eq!(seen.met, m.all(), "{ctx}: thread {t}");
        }
        let budget = m.timeout_us * hmi::POLLS_PER_US;
        let polls = m.model.pauses() - pauses;
        assert!(
            polls < threads as u64 * budget,
            "{ctx}: {polls} polls, a lock wait timed out"
        );
    }
}
