// SPDX-License-Identifier: Apache-2.0
//! The OPAL_XIVE_* logic against the caching model: every call's results, its errors, and
//! the hardware protocol (each test ends with `assert_coherent`, which fails on an END or
//! NVT written behind the cache's back, a stale read, an EAS not invalidated, a
//! translation not killed).

use crate::calls::{queue_flags as qf, vp_flags, PRIO_MASKED};
use crate::esb::SET_PQ_00 as ESB_SET_PQ_00;
use crate::hw::{Controller, Gen};
use crate::ids::{self, Girq, VpId, SOURCES};
use crate::model::{Model, RouterEvent};
use crate::state::{Mode, TableMemory, Xive};
use opal_api::OpalError;

const GENS: [Gen; 2] = [Gen::P9, Gen::P10];
/// OS memory for queues and donated pages in these tests.
pub(crate) const OS_PAGES: u64 = 0x4000_0000;

struct Bump(u64);
impl TableMemory for Bump {
    fn alloc(&mut self, size: u64, align: u64) -> Option<u64> {
        let base = (self.0 + align - 1) & !(align - 1);
        self.0 = base + size;
        Some(base)
    }
}

/// One or more chips with threads 0,1,4,5 on chip `chips[0]` (and 0x100.. on the others),
/// in the generation's boot mode.
fn boot(gen: Gen, chips: &[u32]) -> (Xive, Model) {
    let mut m = Model::new(gen, chips);
    let mut x = Xive::new(&mut m, &mut Bump(0x3100_0000), chips).expect("tables");
    for (n, &chip) in chips.iter().enumerate() {
        for t in [0, 1, 4, 5] {
            x.add_thread(&mut m, (n as u32) << 8 | t, chip)
                .expect("thread");
        }
    }
    m.assert_coherent();
    (x, m)
}

pub(crate) fn expl(gen: Gen) -> (Xive, Model) {
    let (mut x, mut m) = boot(gen, &[0]);
    assert_eq!(x.reset(&mut m, 1), Ok(()));
    m.assert_coherent();
    (x, m)
}

pub(crate) fn page(n: u64) -> u64 {
    OS_PAGES + (n << 16)
}

/// ALLOCATE_VP_BLOCK with Linux's provisioning loop; returns (base, pages donated).
fn alloc_vps(x: &mut Xive, m: &mut Model, order: u32, next_page: &mut u64) -> (u64, u32) {
    alloc_vps_donating(x, m, order, next_page, 1)
}

/// The same, donating `per_retry` pages per chip at each XIVE_PROVISIONING.
fn alloc_vps_donating(
    x: &mut Xive,
    m: &mut Model,
    order: u32,
    next_page: &mut u64,
    per_retry: u32,
) -> (u64, u32) {
    let mut donated = 0;
    loop {
        match x.allocate_vp_block(m, order) {
            Ok(base) => return (base, donated),
            Err(OpalError::XiveProvisioning) => {
                for chip in x.provision_chips() {
                    for _ in 0..per_retry {
                        assert_eq!(x.donate_page(m, chip, page(*next_page)), Ok(()));
                        *next_page += 1;
                        donated += 1;
                    }
                }
                assert!(donated < 10_000, "provisioning does not converge");
            }
            Err(e) => panic!("allocate_vp_block({order}): {e:?}"),
        }
    }
}

#[test]
fn boot_state_matches_skiboot_layout() {
    for gen in GENS {
        let (x, m) = boot(gen, &[0]);
        assert_eq!(
            x.mode(),
            if gen == Gen::P9 {
                Mode::Emulation
            } else {
                Mode::Exploitation
            }
        );
        // Threads 0,1,4,5 get END sets 1..4 and boot IPIs 0x10..0x13, like skiboot.
        let t: alloc::vec::Vec<_> = x
            .threads()
            .iter()
            .map(|t| (t.pir, t.end_base, t.ipi))
            .collect();
        assert_eq!(
            t,
            [(0, 8, 0x10), (1, 16, 0x11), (4, 24, 0x12), (5, 32, 0x13)]
        );
        for pir in [0, 1, 4, 5] {
            assert!(m.thread_enabled(0, pir));
            assert_eq!(m.tima_resets(0, pir), 1);
            let nvt = m.nvt(0, ids::hw_vp_index(pir)).expect("thread VP");
            assert_eq!(nvt[0] >> 63, 1, "thread VP valid");
        }
    }
}

#[test]
fn emulation_mode_refuses_exploitation_calls() {
    let (mut x, mut m) = boot(Gen::P9, &[0]);
    let w = Some(OpalError::WrongState);
    assert_eq!(x.allocate_irq(&mut m, 0, 0).err(), w);
    assert_eq!(x.get_irq_info(&m, 0x10).err(), w);
    assert_eq!(x.get_irq_config(&mut m, 0x10).err(), w);
    assert_eq!(x.set_irq_config(&mut m, 0x10, 0, 7, 1).err(), w);
    assert_eq!(x.get_queue_info(&mut m, 0, 7).err(), w);
    assert_eq!(
        x.set_queue_info(&mut m, 0, 7, page(0), 16, qf::ENABLED)
            .err(),
        w
    );
    assert_eq!(x.get_queue_state(&mut m, 0, 7).err(), w);
    assert_eq!(x.set_queue_state(&mut m, 0, 7, 0, 0).err(), w);
    assert_eq!(x.donate_page(&m, 0, page(0)).err(), w);
    assert_eq!(x.allocate_vp_block(&mut m, 1).err(), w);
    assert_eq!(x.free_vp_block(&mut m, 0x4100_0000).err(), w);
    assert_eq!(x.free_irq(&mut m, 0x10).err(), w);
    // Allowed in both modes.
    assert!(x.get_vp_info(&mut m, 0).is_ok());
    assert!(x.get_vp_state(&mut m, 0).is_ok());
    assert_eq!(x.sync(&mut m, 1, 0x10), Ok(()));
    assert_eq!(x.reset(&mut m, 2), Err(OpalError::Parameter));
    assert_eq!(x.reset(&mut m, 1), Ok(()));
    assert_eq!(x.mode(), Mode::Exploitation);
    m.assert_coherent();
}

#[test]
fn p10_reset_options() {
    let (mut x, mut m) = boot(Gen::P10, &[0]);
    assert_eq!(x.reset(&mut m, 0), Ok(()));
    assert_eq!(x.mode(), Mode::Exploitation, "no XICS emulation on P10");
    assert_eq!(x.reset(&mut m, 2), Err(OpalError::Parameter));
    assert_eq!(x.reset(&mut m, 1 << 40), Err(OpalError::Parameter));
}

#[test]
fn irq_exhaustion_is_resource_and_the_allocator_recovers() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        let limit: u32 = if gen == Gen::P9 { 1 << 24 } else { 1 << 28 };
        let mut got = alloc::vec::Vec::new();
        let err = loop {
            match x.allocate_irq(&mut m, 0, 0) {
                Ok(g) => {
                    assert!(g < limit && g >= ids::FIRST_IRQ, "girq {g:#x}");
                    got.push(g);
                }
                Err(e) => break e,
            }
        };
        assert_eq!(err, OpalError::Resource);
        assert_eq!(err as i64, -10, "a signed 64-bit -10, not 0xffffffff");
        assert_eq!(got.len() as u32, SOURCES - ids::FIRST_IRQ - 4);
        assert_eq!(got[0], 0x14, "first runtime IRQ after the 4 boot IPIs");
        // Still usable: free one, get it back; exhausted again after.
        assert_eq!(x.free_irq(&mut m, got[1000]), Ok(()));
        assert_eq!(x.allocate_irq(&mut m, 0, 0), Ok(got[1000]));
        assert_eq!(
            x.allocate_irq(&mut m, u32::MAX, 0),
            Err(OpalError::Resource)
        );
        m.assert_coherent();
        // RESET forgets them all.
        assert_eq!(x.reset(&mut m, 1), Ok(()));
        assert_eq!(x.allocate_irq(&mut m, 0, 0), Ok(0x14));
        m.assert_coherent();
    }
}

#[test]
fn any_chip_prefers_the_callers_chip_then_falls_back() {
    let (mut x, mut m) = boot(Gen::P9, &[0, 1]);
    assert_eq!(x.reset(&mut m, 1), Ok(()));
    let on_chip8 = x.allocate_irq(&mut m, u32::MAX, 0x100).unwrap();
    assert_eq!(Girq::decode(Gen::P9, on_chip8).unwrap().block, 1);
    assert_eq!(
        x.allocate_irq(&mut m, 3, 0),
        Err(OpalError::Parameter),
        "no chip 3"
    );
    while x.allocate_irq(&mut m, 0, 0).is_ok() {}
    let g = x.allocate_irq(&mut m, u32::MAX, 0).unwrap();
    assert_eq!(
        Girq::decode(Gen::P9, g).unwrap().block,
        1,
        "chip 0 full: chip 1"
    );
    m.assert_coherent();
}

#[test]
fn allocated_irqs_round_trip_and_free_checks_first() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        let g = x.allocate_irq(&mut m, 0, 0).unwrap();
        // Allocated: valid and masked, routed nowhere.
        let c = x.get_irq_config(&mut m, g).unwrap();
        assert_eq!((c.prio, c.lirq), (PRIO_MASKED, g));
        let info = x.get_irq_info(&m, g).unwrap();
        assert_eq!(info.flags, crate::calls::irq_flags::TRIGGER_PAGE);
        assert_eq!(info.esb_shift, 17);
        assert_eq!(info.eoi_page, info.trig_page + 0x1_0000);
        // Boot IPIs and never-allocated numbers are not freeable, and stay untouched.
        let boot_ipi = 0x10u32;
        let before = x.read_eas(&m, 0, boot_ipi);
        assert_eq!(x.free_irq(&mut m, boot_ipi), Err(OpalError::Parameter));
        assert_eq!(x.read_eas(&m, 0, boot_ipi), before);
        assert_eq!(x.free_irq(&mut m, g + 1), Err(OpalError::Parameter));
        assert_eq!(x.free_irq(&mut m, g), Ok(()));
        assert_eq!(
            x.free_irq(&mut m, g),
            Err(OpalError::Parameter),
            "double free"
        );
        assert_eq!(
            x.get_irq_config(&mut m, g),
            Err(OpalError::Parameter),
            "freed"
        );
        assert_eq!(x.allocate_irq(&mut m, 0, 0), Ok(g), "first fit");
        m.assert_coherent();
    }
}

#[test]
fn irq_config_priorities_masking_and_errors() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        let g = x.allocate_irq(&mut m, 0, 0).unwrap();
        for prio in 0..8u8 {
            assert_eq!(x.set_irq_config(&mut m, g, 4, prio, 0x1234), Ok(()));
            let c = x.get_irq_config(&mut m, g);
            assert_eq!(c.map(|c| (c.vp, c.prio, c.lirq)), Ok((4, prio, 0x1234)));
            assert!(!m.routing_changed_since_sync(0), "synced after routing");
        }
        for bad in [8u8, 9, 0x80, 0xfe] {
            assert_eq!(
                x.set_irq_config(&mut m, g, 4, bad, 1),
                Err(OpalError::Parameter)
            );
        }
        assert_eq!(
            x.set_irq_config(&mut m, g, 4, PRIO_MASKED, 0x7fff_ffff),
            Ok(())
        );
        assert_eq!(x.get_irq_config(&mut m, g).unwrap().prio, PRIO_MASKED);
        assert!(x
            .read_eas(&m, 0, Girq::decode(gen, g).unwrap().index)
            .unwrap()
            .is_masked());
        // KVM masks with target 0 whether or not a PIR 0 exists.
        assert_eq!(x.set_irq_config(&mut m, g, 0, PRIO_MASKED, 0), Ok(()));
        // Unknown targets, girqs, data.
        assert_eq!(
            x.set_irq_config(&mut m, g, 2, 7, 1),
            Err(OpalError::Parameter),
            "no PIR 2"
        );
        assert_eq!(
            x.set_irq_config(&mut m, g, 1 << 31, 7, 1),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            x.set_irq_config(&mut m, g, 4, 7, 0x8000_0000),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            x.set_irq_config(&mut m, g + 1, 4, 7, 1),
            Err(OpalError::Parameter),
            "not allocated"
        );
        assert_eq!(
            x.set_irq_config(&mut m, 0xffff_ffff, 4, 7, 1),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            x.get_irq_config(&mut m, 0x00f0_0000 | 0x10),
            Err(OpalError::Parameter),
            "block 15"
        );
        assert_eq!(
            x.get_irq_info(&m, 5),
            Err(OpalError::Parameter),
            "below the first IRQ"
        );
        assert_eq!(x.get_irq_info(&m, 0x1f00_0000), Err(OpalError::Parameter));
        m.assert_coherent();
    }
}

#[test]
fn an_ipi_reaches_the_threads_queue_with_the_right_generation() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        let q = page(0);
        assert_eq!(
            x.set_queue_info(&mut m, 4, 7, q, 12, qf::ENABLED | qf::ALWAYS_NOTIFY),
            Ok(())
        );
        let g = x.allocate_irq(&mut m, 0, 0).unwrap();
        assert_eq!(x.set_irq_config(&mut m, g, 4, 7, 0x42), Ok(()));
        let info = x.get_irq_info(&m, g).unwrap();
        m.esb_load(info.eoi_page + ESB_SET_PQ_00);
        let idx = Girq::decode(gen, g).unwrap().index;
        // A 4 KiB queue holds 1024 entries: fill it and wrap once.
        for n in 0..1030u32 {
            let ev = m.trigger(0, idx);
            let entry = ev.iter().find_map(|e| match e {
                RouterEvent::Enqueued { entry, slot, .. } => Some((*entry, *slot)),
                _ => None,
            });
            let generation = if n < 1024 { 1 } else { 0 };
            assert_eq!(
                entry,
                Some((generation << 31 | 0x42, n % 1024)),
                "event {n}: {ev:?}"
            );
            assert!(ev
                .iter()
                .any(|e| matches!(e, RouterEvent::Notified(n) if n.presented && n.priority == 7)));
            m.esb_load(info.eoi_page + ESB_SET_PQ_00); // the OS's EOI
        }
        assert_eq!(x.get_queue_state(&mut m, 4, 7), Ok((0, 6)));
        m.assert_coherent();
    }
}

#[test]
fn queue_info_and_state_round_trip_for_every_size() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        for (n, shift) in [12u32, 16, 21, 24].into_iter().enumerate() {
            let q = OS_PAGES + ((n as u64 + 1) << 24);
            let prio = n as u32;
            assert_eq!(
                x.set_queue_info(
                    &mut m,
                    1,
                    prio,
                    q,
                    u64::from(shift),
                    qf::ENABLED | qf::ALWAYS_NOTIFY
                ),
                Ok(())
            );
            let info = x.get_queue_info(&mut m, 1, prio).unwrap();
            assert_eq!(
                (info.qpage, info.qsize, info.qflags),
                (q, u64::from(shift), qf::ENABLED | qf::ALWAYS_NOTIFY)
            );
            assert_eq!(
                x.get_queue_state(&mut m, 1, prio),
                Ok((1, 0)),
                "enable starts at (1, 0)"
            );
            let entries = 1u32 << (shift - 2);
            for (t, i) in [(0, 0), (1, 5), (0, entries - 1), (1, entries / 2)] {
                assert_eq!(x.set_queue_state(&mut m, 1, prio, t, i), Ok(()));
                assert_eq!(x.get_queue_state(&mut m, 1, prio), Ok((t, i)));
            }
            assert_eq!(
                x.set_queue_state(&mut m, 1, prio, 0, entries),
                Err(OpalError::Parameter)
            );
            assert_eq!(
                x.set_queue_state(&mut m, 1, prio, 2, 0),
                Err(OpalError::Parameter)
            );
            assert_eq!(
                x.get_queue_state(&mut m, 1, prio),
                Ok((1, entries / 2)),
                "unchanged"
            );
            // Enabling again resets generation and index.
            assert_eq!(
                x.set_queue_info(&mut m, 1, prio, q, u64::from(shift), qf::ENABLED),
                Ok(())
            );
            assert_eq!(x.get_queue_state(&mut m, 1, prio), Ok((1, 0)));
            // Disabled: both state calls are WRONG_STATE and the info is empty.
            assert_eq!(x.set_queue_info(&mut m, 1, prio, 0, 0, 0), Ok(()));
            assert_eq!(
                x.get_queue_state(&mut m, 1, prio),
                Err(OpalError::WrongState)
            );
            assert_eq!(
                x.set_queue_state(&mut m, 1, prio, 1, 0),
                Err(OpalError::WrongState)
            );
            let info = x.get_queue_info(&mut m, 1, prio).unwrap();
            assert_eq!((info.qpage, info.qsize, info.qflags), (0, 0, 0));
        }
        m.assert_coherent();
    }
}

#[test]
fn queue_info_rejects_bad_arguments_and_changes_nothing() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        let p = Err(OpalError::Parameter);
        assert_eq!(
            x.set_queue_info(&mut m, 1, 7, page(0), 16, qf::ENABLED),
            Ok(())
        );
        let before = x.get_queue_info(&mut m, 1, 7).unwrap();
        for (vp, prio, qpage, qsize, flags) in [
            (1, 8, page(1), 16, qf::ENABLED),           // priority
            (1, 0xff, page(1), 16, qf::ENABLED),        // 0xff is only a mask value
            (2, 7, page(1), 16, qf::ENABLED),           // no PIR 2
            (1, 7, page(1), 15, qf::ENABLED),           // size
            (1, 7, page(1), 64, qf::ENABLED),           // size
            (1, 7, page(1) + 0x1000, 16, qf::ENABLED),  // alignment
            (1, 7, 0, 16, qf::ENABLED),                 // no page
            (1, 7, page(1), 16, qf::ENABLED | 0x100),   // flags
            (0x4100_0000, 7, page(1), 16, qf::ENABLED), // unallocated VP
        ] {
            assert_eq!(
                x.set_queue_info(&mut m, vp, prio, qpage, qsize, flags),
                p,
                "{vp:#x} {prio} {qsize}"
            );
        }
        assert_eq!(x.get_queue_info(&mut m, 1, 7), Ok(before));
        assert_eq!(
            x.get_queue_info(&mut m, 1, 8).err(),
            Some(OpalError::Parameter)
        );
        assert_eq!(
            x.get_queue_state(&mut m, 1, 8).err(),
            Some(OpalError::Parameter)
        );
        assert_eq!(x.set_queue_state(&mut m, 3, 7, 0, 0), p);
        // A queue without a page (qsize 0) is enabled but has no queue.
        assert_eq!(x.set_queue_info(&mut m, 1, 6, 0, 0, qf::ENABLED), Ok(()));
        assert_eq!(x.get_queue_state(&mut m, 1, 6), Ok((1, 0)));
        assert_eq!(x.set_queue_state(&mut m, 1, 6, 0, 1), p);
        m.assert_coherent();
    }
}

#[test]
fn provisioning_then_donate_then_success() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        // Linux's host allocation (4 CPUs: order 2) fits the firmware's own pages.
        let mut next = 0;
        let (small, donated) = alloc_vps(&mut x, &mut m, 2, &mut next);
        assert_eq!(donated, 0);
        assert_eq!(
            VpId::decode(small, 0, ids::vp_shift(gen)),
            Ok(VpId::Allocated {
                block: 0,
                index: 0,
                order: 2
            })
        );
        // A KVM-sized block needs pages: the first answer is XIVE_PROVISIONING (-31).
        assert_eq!(
            x.allocate_vp_block(&mut m, 11),
            Err(OpalError::XiveProvisioning)
        );
        assert_eq!(OpalError::XiveProvisioning as i64, -31);
        let (big, donated) = alloc_vps(&mut x, &mut m, 11, &mut next);
        assert!(donated > 0);
        assert_eq!(big & 0xff00_0000, 0x4b00_0000);
        // Pages are checked: misaligned, and already in use.
        assert_eq!(
            x.donate_page(&m, 0, page(900) + 0x1000),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            x.donate_page(&m, 0, page(0)),
            Err(OpalError::Parameter),
            "already used"
        );
        assert_eq!(
            x.donate_page(&m, 7, page(901)),
            Err(OpalError::Parameter),
            "no chip 7"
        );
        // Every VP works: queue and enable on the last one.
        let last = big + (1 << 11) - 1;
        assert_eq!(x.set_vp_info(&mut m, last, vp_flags::ENABLED, 0), Ok(()));
        assert_eq!(
            x.set_queue_info(&mut m, last, 3, page(950), 16, qf::ENABLED),
            Ok(())
        );
        assert_eq!(x.get_queue_state(&mut m, last, 3), Ok((1, 0)));
        m.assert_coherent();
        // RESET gives every donated page back: a fresh allocation needs them again.
        assert_eq!(x.reset(&mut m, 1), Ok(()));
        assert_eq!(
            x.allocate_vp_block(&mut m, 11),
            Err(OpalError::XiveProvisioning)
        );
        assert_eq!(
            x.donate_page(&m, 0, page(0)),
            Ok(()),
            "the OS owns its pages again"
        );
        m.assert_coherent();
    }
}

#[test]
fn vp_block_exhaustion_is_resource_and_recovers() {
    let (mut x, mut m) = expl(Gen::P9);
    let mut next = 0;
    assert_eq!(
        x.allocate_vp_block(&mut m, 17),
        Err(OpalError::Resource),
        "thread VPs split the space"
    );
    assert_eq!(x.allocate_vp_block(&mut m, 30), Err(OpalError::Resource));
    let (half, _) = alloc_vps_donating(&mut x, &mut m, 16, &mut next, 64);
    assert_eq!(half, 0x5001_0000);
    assert_eq!(x.allocate_vp_block(&mut m, 16), Err(OpalError::Resource));
    assert_eq!(OpalError::Resource as i64, -10);
    assert_eq!(x.free_vp_block(&mut m, half), Ok(()));
    assert_eq!(
        x.allocate_vp_block(&mut m, 16),
        Ok(half),
        "pages stay installed"
    );
    m.assert_coherent();
}

#[test]
fn vp_info_enable_free_and_single_escalation() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        let mut next = 0;
        let (base, _) = alloc_vps(&mut x, &mut m, 3, &mut next);
        let vp = base + 2;
        let info = x.get_vp_info(&mut m, vp).unwrap();
        assert_eq!(info.flags, 0, "allocated VPs start disabled");
        let (blk, idx) = match VpId::decode(vp, 0, ids::vp_shift(gen)).unwrap() {
            VpId::Allocated { block, index, .. } => (block, index),
            _ => unreachable!(),
        };
        assert_eq!(info.cam, ids::cam_line(gen, blk, idx));
        assert_eq!(x.get_vp_state(&mut m, vp), Err(OpalError::WrongState));
        assert_eq!(
            x.set_vp_info(&mut m, vp, vp_flags::ENABLED, 0x1234_5600),
            Ok(())
        );
        let info = x.get_vp_info(&mut m, vp).unwrap();
        assert_eq!(
            (info.flags, info.report_cl_pair),
            (vp_flags::ENABLED, 0x1234_5600)
        );
        assert_eq!(x.get_vp_state(&mut m, vp), Ok(0));
        assert_eq!(
            x.set_vp_info(&mut m, vp, vp_flags::ENABLED, 0x80),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            x.set_vp_info(&mut m, vp, vp_flags::SAVE_RESTORE, 0),
            Err(OpalError::Parameter)
        );
        // Freeing with an enabled VP: FREE_ACTIVE and nothing freed.
        assert_eq!(
            x.free_vp_block(&mut m, base),
            Err(OpalError::XiveFreeActive)
        );
        assert_eq!(
            x.get_vp_info(&mut m, base).unwrap().flags,
            0,
            "neighbour still allocated"
        );
        assert_eq!(
            x.free_vp_block(&mut m, base + 1),
            Err(OpalError::Parameter),
            "not a base"
        );
        // Single escalation: END 7 becomes the silent gather queue.
        assert_eq!(
            x.set_vp_info(
                &mut m,
                vp,
                vp_flags::ENABLED | vp_flags::SINGLE_ESCALATION,
                0
            ),
            Ok(())
        );
        assert_eq!(
            x.get_vp_info(&mut m, vp).unwrap().flags,
            vp_flags::ENABLED | vp_flags::SINGLE_ESCALATION
        );
        let esc: alloc::vec::Vec<u32> = (0..8)
            .map(|p| x.get_queue_info(&mut m, vp, p).unwrap().escalate_irq)
            .collect();
        assert!(
            esc.iter().all(|&e| e == esc[7]),
            "one escalation source: {esc:x?}"
        );
        assert_eq!(
            x.set_queue_info(&mut m, vp, 7, page(990), 16, qf::ENABLED),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            x.get_irq_info(&m, esc[7])
                .map(|i| (i.flags, i.esb_shift, i.trig_page)),
            Ok((0, 17, 0))
        );
        // Disable, then free works.
        assert_eq!(x.set_vp_info(&mut m, vp, 0, 0), Ok(()));
        assert_eq!(x.get_vp_info(&mut m, vp).unwrap().flags, 0);
        assert_eq!(x.free_vp_block(&mut m, base), Ok(()));
        assert_eq!(
            x.get_vp_info(&mut m, vp),
            Err(OpalError::Parameter),
            "freed"
        );
        m.assert_coherent();
    }
}

#[test]
fn single_escalation_refuses_a_live_priority_7_queue() {
    let (mut x, mut m) = expl(Gen::P9);
    let mut next = 0;
    let (vp, _) = alloc_vps(&mut x, &mut m, 1, &mut next);
    assert_eq!(
        x.set_queue_info(&mut m, vp, 7, page(500), 16, qf::ENABLED),
        Ok(())
    );
    assert_eq!(
        x.set_vp_info(
            &mut m,
            vp,
            vp_flags::ENABLED | vp_flags::SINGLE_ESCALATION,
            0
        ),
        Err(OpalError::Parameter)
    );
    assert_eq!(x.get_vp_info(&mut m, vp).unwrap().flags, 0, "unchanged");
    m.assert_coherent();
}

#[test]
fn bogus_vp_ids_are_parameter_errors() {
    let (mut x, mut m) = expl(Gen::P9);
    for vp in [
        2u64,
        0x100,
        1 << 31,
        1 << 29,
        0x4000_0000,
        0x5f00_0000,
        0x4bff_ffff,
        1 << 40,
        u64::MAX,
    ] {
        assert_eq!(
            x.get_vp_info(&mut m, vp),
            Err(OpalError::Parameter),
            "{vp:#x}"
        );
        assert_eq!(
            x.set_vp_info(&mut m, vp, 1, 0),
            Err(OpalError::Parameter),
            "{vp:#x}"
        );
        assert_eq!(
            x.get_vp_state(&mut m, vp),
            Err(OpalError::Parameter),
            "{vp:#x}"
        );
        assert_eq!(
            x.get_queue_info(&mut m, vp, 0),
            Err(OpalError::Parameter),
            "{vp:#x}"
        );
        assert_eq!(
            x.free_vp_block(&mut m, vp),
            Err(OpalError::Parameter),
            "{vp:#x}"
        );
    }
    m.assert_coherent();
}

#[test]
fn sync_and_dump_arguments() {
    let (mut x, mut m) = expl(Gen::P9);
    let g = x.allocate_irq(&mut m, 0, 0).unwrap();
    assert_eq!(x.sync(&mut m, 0, 0), Ok(()));
    let before = m.sync_count(0);
    assert_eq!(x.sync(&mut m, 1, g), Ok(()));
    assert!(m.sync_count(0) > before);
    assert_eq!(x.sync(&mut m, 3, g), Ok(()));
    assert_eq!(x.sync(&mut m, 4, g), Err(OpalError::Parameter));
    assert_eq!(
        x.sync(&mut m, 1, 0x00f0_0010),
        Err(OpalError::Parameter),
        "block 15"
    );
    assert_eq!(
        x.sync(&mut m, 2, g + 1),
        Err(OpalError::Parameter),
        "unallocated"
    );
    assert_eq!(x.dump(&mut m, 4, 0), Ok(()));
    assert_eq!(x.dump(&mut m, 4, 2), Err(OpalError::Parameter));
    assert_eq!(x.dump(&mut m, 5, 1), Ok(()));
    assert_eq!(x.dump(&mut m, 6, 0), Err(OpalError::Parameter));
    assert_eq!(x.dump(&mut m, 0, 99), Err(OpalError::Parameter));
}

#[test]
fn reset_is_idempotent_and_masks_what_the_os_unmasked() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        assert_eq!(
            x.set_queue_info(&mut m, 0, 7, page(0), 16, qf::ENABLED),
            Ok(())
        );
        let g = x.allocate_irq(&mut m, 0, 0).unwrap();
        assert_eq!(x.set_irq_config(&mut m, g, 0, 7, 9), Ok(()));
        assert_eq!(x.reset(&mut m, 1), Ok(()));
        let snapshot = |x: &Xive, m: &mut Model| {
            (0..0x20u32)
                .map(|i| x.read_eas(&*m, 0, i))
                .collect::<alloc::vec::Vec<_>>()
        };
        let a = snapshot(&x, &mut m);
        assert_eq!(x.reset(&mut m, 1), Ok(()));
        assert_eq!(snapshot(&x, &mut m), a);
        assert_eq!(
            x.get_queue_state(&mut m, 0, 7),
            Err(OpalError::WrongState),
            "queues disabled"
        );
        assert_eq!(
            x.get_irq_config(&mut m, g),
            Err(OpalError::Parameter),
            "runtime IRQs gone"
        );
        m.assert_coherent();
    }
}

#[test]
fn busy_from_the_cache_watch_is_retried_for_synchronous_updates() {
    let (mut x, mut m) = expl(Gen::P9);
    m.inject_busy(3);
    assert_eq!(
        x.set_queue_info(&mut m, 0, 7, page(0), 16, qf::ENABLED),
        Ok(())
    );
    m.inject_busy(11);
    assert_eq!(x.set_queue_state(&mut m, 0, 7, 0, 3), Err(OpalError::Busy));
    assert_eq!(
        x.get_queue_state(&mut m, 0, 7),
        Ok((1, 0)),
        "nothing half-written"
    );
    m.inject_busy(0);
    m.assert_coherent();
}

#[test]
fn a_phb_gets_one_aligned_range_split_into_msis_and_lsis() {
    use crate::state::{HwSource, InitError};
    for gen in GENS {
        let (mut x, mut m) = boot(gen, &[0]);
        // A PSI-like unit first, so the PHB range is not trivially at the top.
        let psi = HwSource {
            first: 0,
            count: 14,
            esb_base: 0x0006_0302_031c_0000,
            esb_shift: 12,
            lsi: true,
            two_pages: false,
        };
        let psi_first = x.add_hw_source(&mut m, 0, 16, psi).unwrap();
        let esb = 0x0006_00c3_0000_0000u64;
        let msis = HwSource {
            first: 0,
            count: 2048 - 8,
            esb_base: esb,
            esb_shift: 16,
            lsi: false,
            two_pages: false,
        };
        let lsis = HwSource {
            first: 2048 - 8,
            count: 8,
            esb_base: esb + ((2048u64 - 8) << 16),
            esb_shift: 16,
            lsi: true,
            two_pages: false,
        };
        // Overlapping or out-of-range units reserve nothing.
        let bad = HwSource {
            first: 2040,
            count: 9,
            ..lsis
        };
        assert_eq!(
            x.add_hw_sources(&mut m, 0, 2048, 2048, &[msis, bad]),
            Err(InitError::InvalidUnits)
        );
        let overlap = HwSource {
            first: 2000,
            ..lsis
        };
        assert_eq!(
            x.add_hw_sources(&mut m, 0, 2048, 2048, &[msis, overlap]),
            Err(InitError::InvalidUnits)
        );
        assert_eq!(
            x.add_hw_sources(&mut m, 7, 2048, 2048, &[msis, lsis]),
            Err(InitError::UnknownChip(7))
        );
        m.add_device_esbs(esb, 2048, 16);
        let base = x
            .add_hw_sources(&mut m, 0, 2048, 2048, &[msis, lsis])
            .unwrap();
        assert_eq!(base % 2048, 0, "aligned to the PHB's interrupt count");
        assert!(base + 2048 <= psi_first, "below the earlier range");
        assert_eq!(x.reset(&mut m, 1), Ok(()));
        let msi = x.get_irq_info(&m, base + 5).unwrap();
        assert_eq!(msi.flags, 0);
        assert_eq!(
            (msi.eoi_page, msi.trig_page, msi.esb_shift),
            (esb + (5 << 16), esb + (5 << 16), 16)
        );
        let inta = x.get_irq_info(&m, base + 2040).unwrap();
        assert_eq!(inta.flags, crate::calls::irq_flags::LSI);
        assert_eq!((inta.eoi_page, inta.trig_page), (esb + (2040 << 16), 0));
        assert_eq!(x.hw_source(base + 2047).map(|(_, _, off)| off), Some(7));
        assert_eq!(x.set_irq_config(&mut m, base + 5, 0, 7, base + 5), Ok(()));
        assert_eq!(x.get_irq_config(&mut m, base + 5).map(|c| c.prio), Ok(7));
        // The next PHB's range sits below this one, aligned too.
        let next = x
            .add_hw_sources(
                &mut m,
                0,
                4096,
                4096,
                &[HwSource {
                    count: 4088,
                    ..msis
                }],
            )
            .unwrap();
        assert_eq!(next % 4096, 0);
        assert!(next + 4096 <= base);
        m.assert_coherent();
    }
}

#[test]
fn hardware_sources_report_their_own_esbs_and_are_masked_by_reset() {
    for gen in GENS {
        let (mut x, mut m) = boot(gen, &[0]);
        let unit = crate::state::HwSource {
            first: 0,
            count: 14,
            esb_base: 0x0006_0302_031c_0000,
            esb_shift: 12,
            lsi: true,
            two_pages: false,
        };
        m.add_device_esbs(unit.esb_base, unit.count, unit.esb_shift);
        let first = x.add_hw_source(&mut m, 0, 16, unit).unwrap();
        assert_eq!(first, ids::SOURCES - 16, "carved from the top, 16-aligned");
        assert_eq!(x.reset(&mut m, 1), Ok(()));
        let info = x.get_irq_info(&m, first + 8).unwrap();
        assert_eq!(info.flags, crate::calls::irq_flags::LSI);
        assert_eq!(
            (info.eoi_page, info.trig_page, info.esb_shift),
            (0x0006_0302_031c_8000, 0, 12)
        );
        assert_eq!(
            x.hw_source(first + 8).map(|(b, _, off)| (b, off)),
            Some((0, 8))
        );
        assert_eq!(x.hw_source(first + 14), None);
        // Linux routes it; RESET masks it again.
        assert_eq!(x.set_irq_config(&mut m, first + 8, 0, 7, first + 8), Ok(()));
        assert_eq!(x.get_irq_config(&mut m, first + 8).map(|c| c.prio), Ok(7));
        m.esb_load(info.eoi_page + 0xc00); // the OS unmasks it at its ESB
        assert_eq!(x.reset(&mut m, 1), Ok(()));
        assert_eq!(
            m.device_pq(info.eoi_page),
            Some(0b01),
            "RESET turned the source off"
        );
        assert_eq!(
            x.get_irq_config(&mut m, first + 8).map(|c| c.prio),
            Ok(PRIO_MASKED)
        );
        // Not a runtime IRQ: FREE_IRQ refuses it.
        assert_eq!(x.free_irq(&mut m, first + 8), Err(OpalError::Parameter));
        m.assert_coherent();
    }
}

#[test]
fn oversized_queue_sizes_are_refused_however_they_truncate() {
    let (mut x, mut m) = expl(Gen::P9);
    for qsize in [(1u64 << 32) | 12, (1 << 63) | 16, u64::MAX] {
        assert_eq!(
            x.set_queue_info(
                &mut m,
                1,
                7,
                page(0),
                qsize,
                crate::calls::queue_flags::ENABLED
            ),
            Err(OpalError::Parameter),
            "{qsize:#x}"
        );
    }
    m.assert_coherent();
}

#[test]
fn donations_are_bounded_by_the_sub_pages_a_block_can_hold() {
    let (mut x, mut m) = expl(Gen::P9);
    let slots = crate::state::subpage_slots(Gen::P9) as u64;
    // Sub-page 0 of each directory is the firmware's; the rest may be donated.
    let mut n = 0;
    let err = loop {
        match x.donate_page(&m, 0, page(n)) {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, OpalError::Resource);
    assert_eq!(n, slots);
    assert_eq!(x.reset(&mut m, 1), Ok(()));
    assert_eq!(
        x.donate_page(&m, 0, page(0)),
        Ok(()),
        "usable again after RESET"
    );
}

#[test]
fn escalation_girqs_must_name_an_allocated_end() {
    for gen in GENS {
        let (mut x, mut m) = expl(gen);
        // END 0x7ff lies in the firmware's sub-page 0 but in no allocated set.
        let stray = Girq::escalation(0, 0x7ff).encode(gen);
        assert_eq!(x.get_irq_info(&m, stray), Err(OpalError::Parameter));
        assert_eq!(x.get_irq_config(&mut m, stray), Err(OpalError::Parameter));
        assert_eq!(
            x.set_irq_config(&mut m, stray, 0, 7, 1),
            Err(OpalError::Parameter)
        );
        let set0 = Girq::escalation(0, 7).encode(gen);
        assert_eq!(
            x.get_irq_info(&m, set0),
            Err(OpalError::Parameter),
            "set 0 is reserved"
        );
        // A thread's END (PIR 0: set 1, END 0xf) is fine.
        let ok = Girq::escalation(0, 0xf).encode(gen);
        assert!(x.get_irq_info(&m, ok).is_ok());
        m.assert_coherent();
    }
}

#[test]
fn a_vp_block_that_fails_half_way_leaves_nothing_allocated() {
    let (mut x, mut m) = expl(Gen::P9);
    let mut next = 0;
    // Every cache watch BUSY (beyond the synchronous retries): the END set taken for the
    // first VP must be given back and the buddy range freed.
    let (first, _) = alloc_vps(&mut x, &mut m, 2, &mut next);
    assert_eq!(x.free_vp_block(&mut m, first), Ok(()));
    m.inject_busy(1000);
    assert_eq!(x.allocate_vp_block(&mut m, 2), Err(OpalError::Busy));
    m.inject_busy(0);
    // Everything is back: the same request gets the same base and works.
    assert_eq!(x.allocate_vp_block(&mut m, 2), Ok(first));
    assert_eq!(
        x.set_vp_info(&mut m, first + 3, vp_flags::ENABLED, 0),
        Ok(())
    );
    m.assert_coherent();
}
