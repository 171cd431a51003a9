// SPDX-License-Identifier: Apache-2.0
//! Malfunction alert (HMER bit 0): core FIR decode, hmi-mce-sreset.md §4.6.
#![cfg(feature = "model")]

mod common;

use common::{run, Machine};
use hmi::hw::NoSiblings;
use hmi::{flags, hmer, Disposition, Gen, HmiEvent, HmiType, Severity, Xstop, XstopType};

fn fir_bit(n: u32) -> u64 {
    1u64 << (63 - n)
}

fn all_events(r: &common::Run, threads: usize) -> Vec<(usize, HmiEvent)> {
    (0..threads)
        .flat_map(|t| r.merged(t).1.into_iter().map(move |e| (t, e)))
        .collect()
}

#[test]
fn a_core_checkstop_is_reported_once_with_reasons_and_pir() {
    for gen in [Gen::P9, Gen::P10] {
        for threads in [4usize, 8] {
            for i in 0..30 {
                let m = Machine::new(gen, threads);
                // Core 3 of chip 0: VSU logic (FIR 25) and hang recovery failed (52).
                m.model.inject_malfunction(0, 3, fir_bit(25) | fir_bit(52));
                let r = run(&m, m.all(), 0, 40 + i);
                let evs = all_events(&r, threads);
                assert_eq!(
                    evs.len(),
                    1,
                    "{gen:?}: one decode for the whole core: {evs:?}"
                );
                let (by, e) = evs[0];
                assert_eq!(
                    e,
                    HmiEvent {
                        severity: Severity::Fatal,
                        kind: HmiType::MalfuncAlert,
                        disposition: Disposition::NotRecovered,
                        hmer: hmer::MALFUNCTION_ALERT,
                        tfmr: 0,
                        xstop: Some(Xstop {
                            kind: XstopType::Core,
                            reason: 0x40 | 0x2000,
                            id: 0x0C, // chip 0, core 3: 3 << 2
                        }),
                    }
                );
                assert_eq!(r.merged(by).0, flags::NEW_EVENT);
                for t in 0..threads {
                    assert_eq!(m.model.hmer(t), 0);
                }
                assert_eq!(m.model.scom.alert(0), 0, "alert cleared");
                assert_eq!(m.core.recoveries(), 0);
            }
        }
    }
}

#[test]
fn the_event_bytes() {
    let m = Machine::new(Gen::P10, 4);
    // Chip 1, core 2: IFU regfile (FIR 3) and SPRD inject (63).
    m.model.inject_malfunction(1, 2, fir_bit(3) | fir_bit(63));
    let (out, evs) = m.call(0, m.all(), &mut NoSiblings);
    assert_eq!(out.handled, hmer::MALFUNCTION_ALERT);
    assert_eq!(evs.len(), 1);
    let want: [u8; 40] = [
        0x02, 0x03, 0x00, 0x01, 0, 0, 0, 0, // v2, fatal, malfunction alert, not recovered
        0x80, 0, 0, 0, 0, 0, 0, 0, // HMER bit 0
        0, 0, 0, 0, 0, 0, 0, 0, // TFMR
        0x01, 0, 0, 0, 0x00, 0x01, 0x00, 0x01, // core xstop, reason 0x10001
        0x00, 0x00, 0x01, 0x08, 0, 0, 0, 0, // PIR: chip 1 << 8 | core 2 << 2
    ];
    assert_eq!(evs[0].to_bytes(), want);
}

#[test]
fn nothing_found_is_one_unknown_event() {
    let unknown = Some(Xstop {
        kind: XstopType::Unknown,
        reason: 0,
        id: 0,
    });
    // Only the alert bit.
    let m = Machine::new(Gen::P9, 4);
    m.model.scom.inject_alert(0);
    m.model.inject_hmer_all(hmer::MALFUNCTION_ALERT);
    let r = run(&m, m.all(), 0, 3);
    let evs = all_events(&r, 4);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].1.xstop, unknown);
    assert_eq!(evs[0].1.disposition, Disposition::NotRecovered);

    // The only core with a FIR is asleep: skipped, so unknown.
    let m = Machine::new(Gen::P10, 4);
    m.model.inject_malfunction(0, 1, fir_bit(5));
    m.model.scom.set_asleep(0, 1 << 1);
    let (_, evs) = m.call(0, m.all(), &mut NoSiblings);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].xstop, unknown);

    // An alerted chip the decode was not told about.
    let m = Machine::new(Gen::P10, 4);
    m.model.inject_malfunction(3, 0, fir_bit(5));
    let (_, evs) = m.call(0, m.all(), &mut NoSiblings);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].xstop, unknown);
}

#[test]
fn an_unreadable_fir_counts_as_a_checkstop() {
    let m = Machine::new(Gen::P9, 4);
    m.model.scom.inject_alert(0);
    m.model.scom.set_broken(0, 1 << 2);
    m.model.inject_hmer(0, hmer::MALFUNCTION_ALERT);
    let (_, evs) = m.call(0, m.all(), &mut NoSiblings);
    assert_eq!(evs.len(), 1);
    assert_eq!(
        evs[0].xstop,
        Some(Xstop {
            kind: XstopType::Core,
            reason: 0,
            id: 0x08
        })
    );
}

#[test]
fn a_bit_outside_the_reason_table_is_still_a_core_checkstop() {
    let m = Machine::new(Gen::P10, 4);
    m.model.inject_malfunction(0, 0, fir_bit(1));
    m.model.inject_malfunction(0, 2, fir_bit(48));
    let (_, evs) = m.call(0, m.all(), &mut NoSiblings);
    let x: Vec<_> = evs.iter().map(|e| e.xstop.unwrap()).collect();
    assert_eq!(
        x,
        vec![
            Xstop {
                kind: XstopType::Core,
                reason: 0,
                id: 0
            },
            Xstop {
                kind: XstopType::Core,
                reason: 0x1000,
                id: 0x08
            },
        ]
    );
}

#[test]
fn malfunction_and_tfac_together() {
    let m = Machine::new(Gen::P9, 4);
    m.model.inject_core_tfac(hmi::model::CoreTfac::MissingSync);
    m.model.inject_malfunction(0, 1, fir_bit(10));
    let r = run(&m, m.all(), 0, 8);
    let evs = all_events(&r, 4);
    let tfac = evs.iter().filter(|(_, e)| e.kind == HmiType::Tfac).count();
    let malf: Vec<_> = evs
        .iter()
        .filter(|(_, e)| e.kind == HmiType::MalfuncAlert)
        .collect();
    assert_eq!(tfac, 4);
    assert_eq!(malf.len(), 1);
    assert_eq!(malf[0].1.xstop.unwrap().reason, 0x8);
    assert_eq!(m.model.resyncs(), 1);
    for t in 0..4 {
        assert_eq!(m.model.hmer(t), 0);
        assert_ne!(r.merged(t).0 & flags::TB_RESYNC, 0);
    }
    assert_eq!(m.model.violations(), 0);
}
