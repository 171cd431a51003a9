// SPDX-License-Identifier: Apache-2.0
//! Every HMER cause of hmi-mce-sreset.md §4.2/§4.6, one at a time, on both generations.
#![cfg(feature = "model")]

mod common;

use common::{Machine, BASE};
use hmi::hw::NoSiblings;
use hmi::{flags, Disposition, Gen, HmiEvent, HmiType, Severity};

fn bit(n: u32) -> u64 {
    1u64 << (63 - n)
}

/// (bit, severity, type, disposition, thread 0 only), written from the reference.
const P9_EVENTS: &[(u32, u8, u8, u8, bool)] = &[
    (2, 0, 1, 0, true),
    (3, 0, 3, 0, true),
    (11, 0, 2, 0, true),
    (17, 0, 10, 0, true),
    (20, 3, 11, 1, false),
];
const P10_EVENTS: &[(u32, u8, u8, u8, bool)] = &[
    (2, 0, 1, 0, true),
    (6, 0, 1, 0, true),
    (11, 0, 2, 0, true),
    (18, 0, 10, 0, true),
];
/// Bits left alone: never enabled, or reserved on that generation.
const P9_IGNORED: &[u32] = &[
    1, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 18, 19, 21, 22, 23, 24, 40, 63,
];
const P10_IGNORED: &[u32] = &[
    1, 3, 7, 8, 9, 10, 12, 14, 15, 16, 17, 19, 20, 21, 22, 23, 30, 63,
];

fn event_tuple(e: &HmiEvent) -> (u8, u8, u8) {
    (e.severity as u8, e.kind as u8, e.disposition as u8)
}

#[test]
fn event_causes() {
    for (gen, table) in [(Gen::P9, P9_EVENTS), (Gen::P10, P10_EVENTS)] {
        for &(b, sev, ty, disp, per_core) in table {
            for t in [0usize, 1, 3] {
                let m = Machine::new(gen, 4);
                m.model.inject_hmer(t, bit(b));
                let (out, evs) = m.call(t, m.all(), &mut NoSiblings);
                let ctx = format!("{gen:?} bit {b} thread {t}");
                assert_eq!(out.handled, bit(b), "{ctx}");
                assert_eq!(m.model.hmer(t), 0, "{ctx}");
                assert_eq!(m.model.hmer_clears(t), 1, "{ctx}: one AND write");
                if per_core && t != 0 {
                    assert!(evs.is_empty(), "{ctx}");
                    assert_eq!(out.flags, 0, "{ctx}");
                } else {
                    assert_eq!(evs.len(), 1, "{ctx}");
                    assert_eq!(event_tuple(&evs[0]), (sev, ty, disp), "{ctx}");
                    assert_eq!((evs[0].hmer, evs[0].tfmr, evs[0].xstop), (bit(b), 0, None));
                    assert_eq!(out.flags, flags::NEW_EVENT, "{ctx}");
                    assert_eq!((out.events, out.dropped), (1, 0));
                }
                assert_eq!(m.model.violations(), 0, "{ctx}");
                assert_eq!(m.core.recoveries(), 0);
            }
        }
    }
}

#[test]
fn ignored_causes_change_nothing() {
    for (gen, bits) in [(Gen::P9, P9_IGNORED), (Gen::P10, P10_IGNORED)] {
        for &b in bits {
            let m = Machine::new(gen, 4);
            m.model.inject_hmer(0, bit(b));
            let (out, evs) = m.call(0, m.all(), &mut NoSiblings);
            assert_eq!(out, hmi::Outcome::default(), "{gen:?} bit {b}");
            assert!(evs.is_empty());
            assert_eq!(m.model.hmer(0), bit(b), "{gen:?} bit {b} stays set");
            assert_eq!(m.model.hmer_clears(0), 0);
            assert_eq!(m.model.tfmr_writes(), 0);
        }
    }
}

#[test]
fn nothing_set_is_not_an_error() {
    let m = Machine::new(Gen::P10, 4);
    assert_eq!(
        m.call(0, m.all(), &mut NoSiblings).0,
        hmi::Outcome::default()
    );
    assert_eq!(m.model.hmer_clears(0), 0);
}

#[test]
fn several_causes_at_once_each_handled_once() {
    // P9: recovery done + again + hyp resource, and an XSCOM status bit that must stay.
    let m = Machine::new(Gen::P9, 4);
    let set = bit(2) | bit(11) | bit(20) | bit(8);
    m.model.inject_hmer(0, set);
    let (out, evs) = m.call(0, m.all(), &mut NoSiblings);
    assert_eq!(out.handled, bit(2) | bit(11) | bit(20));
    assert_eq!(m.model.hmer(0), bit(8));
    let got: Vec<_> = evs.iter().map(event_tuple).collect();
    assert_eq!(got, vec![(0, 1, 0), (0, 2, 0), (3, 11, 1)]);
    assert!(evs.iter().all(|e| e.hmer == set));
    assert_eq!(out.flags, flags::NEW_EVENT);
    assert_eq!(m.model.violations(), 0);
}

#[test]
fn a_full_queue_is_counted() {
    let m = Machine::new(Gen::P10, 4);
    m.model.inject_hmer(0, bit(2));
    let mut regs = m.model.regs(0);
    let mut scom = &m.model.scom;
    let mut tod = m.model.tod(0);
    let mut ctx = hmi::ThreadCtx {
        gen: Gen::P10,
        pir: 0,
        chip_id: 0,
        thread: 0,
        threads: 0xf,
        core: &m.core,
        shared: &m.shared,
        regs: &mut regs,
        scom: &mut scom,
        tod: &mut tod,
        clock: &m.model,
        siblings: &mut NoSiblings,
        chips: &m.chips,
        base_tfmr: BASE,
        timeout_us: 100,
    };
    let out = hmi::handle(&mut ctx, &mut |_| false);
    assert_eq!((out.events, out.dropped, out.flags), (0, 1, 0));
    assert_eq!(out.handled, bit(2));
}

#[test]
fn the_table_matches_the_reference() {
    use hmi::hmer::{cause, Action};
    for (gen, table) in [(Gen::P9, P9_EVENTS), (Gen::P10, P10_EVENTS)] {
        for &(b, sev, ty, disp, per_core) in table {
            match cause(gen, b).action {
                Action::Event {
                    severity,
                    kind,
                    disposition,
                    per_core: pc,
                } => {
                    assert_eq!(
                        (severity as u8, kind as u8, disposition as u8, pc),
                        (sev, ty, disp, per_core)
                    );
                }
                a => panic!("{gen:?} bit {b}: {a:?}"),
            }
        }
        assert_eq!(cause(gen, 0).action, Action::MalfunctionDecode);
        assert_eq!(cause(gen, 4).action, Action::Tfac);
        assert_eq!(cause(gen, 5).action, Action::Tfac);
    }
    // The names of the event types the table uses.
    assert_eq!(HmiType::DebugTrigFir as u8, 10);
    assert_eq!(Severity::Fatal as u8, 3);
    assert_eq!(Disposition::NotRecovered as u8, 1);
}
