// SPDX-License-Identifier: Apache-2.0
//! KVM as the client: the OPAL_XIVE_* calls in the order Linux's KVM makes them
//! (`arch/powerpc/kvm/book3s_xive_native.c`, `book3s_xive.c`, `sysdev/xive/native.c`), for
//! whole guest lifetimes and migrations, against the caching model. A guest's queues live
//! in its RAM, so an event written anywhere but the current queue page at the right slot
//! is guest memory corruption; every enqueue is checked for that.

use crate::calls::{queue_flags as qf, sync_flags, vp_flags, PRIO_MASKED};
use crate::esb::{SET_PQ_00, SET_PQ_01, SET_PQ_10};
use crate::hw::{Controller, Gen};
use crate::ids::VpId;
use crate::model::{Model, RouterEvent};
use crate::state::Xive;
use crate::tests::{expl, page, OS_PAGES};
use alloc::vec::Vec;
use opal_api::OpalError;

const GENS: [Gen; 2] = [Gen::P9, Gen::P10];
/// KVM's guest queues are 64 KiB (its device only accepts shift 16): 16384 entries.
const GUEST_QSHIFT: u32 = 16;
const GUEST_ENTRIES: u32 = 1 << (GUEST_QSHIFT - 2);
/// The priority a pseries guest uses for its queues (7 is KVM's escalation priority).
const GUEST_PRIO: u32 = 6;
/// The host thread whose priority-7 queue takes the escalations (Linux's own queue).
const HOST_PIR: u32 = 0;
const HOST_QUEUE: u64 = 0x5000_0000;
/// Linux masks a shut-down interrupt with this "bad" logical number.
const XIVE_BAD_IRQ: u32 = 0x7fff_ffff;
/// Debian's NR_CPUS: KVM allocates a VP block of KVM_MAX_VCPUS.
const KVM_MAX_VCPUS_ORDER: u32 = 11;
/// The L1 host: booted, in exploitation mode (the crate tests' machine), its PIR 0 queue
/// at priority 7 enabled.
fn host(gen: Gen) -> (Xive, Model) {
    let (mut x, mut m) = expl(gen);
    let host_vp = VpId::encode_thread(HOST_PIR);
    assert_eq!(
        x.set_queue_info(
            &mut m,
            host_vp,
            7,
            HOST_QUEUE,
            16,
            qf::ENABLED | qf::ALWAYS_NOTIFY
        ),
        Ok(())
    );
    (x, m)
}

/// 64 KiB pages of "L1 RAM", handed out once each.
struct Pages(u64);
impl Pages {
    fn take(&mut self) -> u64 {
        self.0 += 1;
        page(self.0)
    }
}

/// One guest interrupt: KVM's hardware girq and the number the guest asked for (EISN).
#[derive(Clone, Copy)]
struct Source {
    girq: u32,
    eisn: u32,
    vcpu: usize,
}

struct Vcpu {
    vp: u64,
    qpage: u64,
    esc_girq: u32,
    /// Where the next event of this vCPU's queue must land, as KVM's guest would see it.
    slot: u32,
    toggle: u32,
}

struct Guest {
    vp_base: u64,
    vcpus: Vec<Vcpu>,
    sources: Vec<Source>,
}

/// What a migration carries over for one vCPU: the queue's (toggle, index) and its
/// contents (guest RAM), and the IPB KVM merges from GET_VP_STATE.
struct SavedVcpu {
    toggle: u32,
    index: u32,
    ipb: u64,
    queue: Vec<u32>,
}

struct Saved {
    vcpus: Vec<SavedVcpu>,
    /// The PQ bits KVM read back while masking each source for the save.
    pq: Vec<u8>,
}

/// `xive_native_alloc_vp_block`: retry through XIVE_PROVISIONING, donating a page per chip.
fn alloc_vp_block(x: &mut Xive, m: &mut Model, pages: &mut Pages) -> u64 {
    for _ in 0..64 {
        match x.allocate_vp_block(m, KVM_MAX_VCPUS_ORDER) {
            Ok(base) => return base,
            Err(OpalError::XiveProvisioning) => {
                for chip in x.provision_chips() {
                    assert_eq!(x.donate_page(m, chip, pages.take()), Ok(()));
                }
            }
            Err(e) => panic!("ALLOCATE_VP_BLOCK: {e:?}"),
        }
    }
    panic!("provisioning does not converge");
}

/// `xive_native_configure_queue` then `kvmppc_xive_attach_escalation` in single-escalation
/// mode: request_irq on the escalation (SET_IRQ_CONFIG to the host, ESB on), then its ESB
/// off again (KVM turns it on when the vCPU cedes).
fn configure_queue(x: &mut Xive, m: &mut Model, vp: u64, qpage: u64) -> u32 {
    let info = x.get_queue_info(m, vp, GUEST_PRIO).expect("GET_QUEUE_INFO");
    let flags = qf::ENABLED | qf::ALWAYS_NOTIFY | qf::ESCALATE;
    assert_eq!(
        x.set_queue_info(m, vp, GUEST_PRIO, qpage, u64::from(GUEST_QSHIFT), flags),
        Ok(())
    );
    let esc = info.escalate_irq;
    let host_vp = VpId::encode_thread(HOST_PIR);
    assert_eq!(x.set_irq_config(m, esc, host_vp, 7, esc), Ok(()));
    let esb = x.get_irq_info(m, esc).expect("escalation info").eoi_page;
    m.esb_load(esb + SET_PQ_00);
    m.esb_load(esb + SET_PQ_01);
    esc
}

/// Device creation and vCPU connection, queues on fresh pages, then `nsources` sources
/// (KVM_DEV_XIVE_GRP_SOURCE: allocate, ESB off, mask; then SOURCE_CONFIG to a vCPU).
fn create_guest(
    x: &mut Xive,
    m: &mut Model,
    pages: &mut Pages,
    nvcpus: usize,
    nsources: u32,
) -> Guest {
    let vp_base = alloc_vp_block(x, m, pages);
    let mut vcpus = Vec::new();
    for server in 0..nvcpus as u64 {
        let vp = vp_base + server;
        x.get_vp_info(m, vp).expect("GET_VP_INFO");
        assert_eq!(
            x.set_vp_info(m, vp, vp_flags::ENABLED | vp_flags::SINGLE_ESCALATION, 0),
            Ok(())
        );
        let qpage = pages.take();
        let esc_girq = configure_queue(x, m, vp, qpage);
        vcpus.push(Vcpu {
            vp,
            qpage,
            esc_girq,
            slot: 0,
            toggle: 1,
        });
    }
    let mut g = Guest {
        vp_base,
        vcpus,
        sources: Vec::new(),
    };
    for n in 0..nsources {
        let girq = x.allocate_irq(m, u32::MAX, HOST_PIR).expect("ALLOCATE_IRQ");
        let src = Source {
            girq,
            eisn: 0x1000 + n,
            vcpu: n as usize % nvcpus,
        };
        set_up_source(x, m, &g, src);
        g.sources.push(src);
    }
    g
}

fn set_up_source(x: &mut Xive, m: &mut Model, g: &Guest, s: Source) {
    let esb = x.get_irq_info(m, s.girq).unwrap().eoi_page;
    m.esb_load(esb + SET_PQ_01);
    assert_eq!(x.set_irq_config(m, s.girq, 0, PRIO_MASKED, 0), Ok(()));
    let vp = g.vcpus[s.vcpu].vp;
    assert_eq!(
        x.set_irq_config(m, s.girq, vp, GUEST_PRIO as u8, s.eisn),
        Ok(())
    );
    m.esb_load(esb + SET_PQ_00);
}

/// Fires source `s` once while its vCPU is not running, and checks the event: written in
/// this guest's queue page at the slot and generation the guest expects, nowhere else,
/// and backlogged in the NVT. Then the guest's EOI. A vCPU that `ceded` has its
/// escalation on (KVM's cede path): the event must also wake the host with the
/// escalation girq, once, and the escalation is off again afterwards (no EOI in
/// single-escalation mode).
fn fire(x: &mut Xive, m: &mut Model, g: &mut Guest, s: Source, ceded: bool) {
    let (blk, idx) = girq_location(x, s.girq);
    let esc_esb = x
        .get_irq_info(m, g.vcpus[s.vcpu].esc_girq)
        .unwrap()
        .eoi_page;
    if ceded {
        m.esb_load(esc_esb + SET_PQ_00);
    }
    let events = m.trigger(blk, idx);
    if ceded {
        m.esb_load(esc_esb + SET_PQ_01);
    }
    let v = &mut g.vcpus[s.vcpu];
    let writes: Vec<(u64, u32, u32)> = events
        .iter()
        .filter_map(|e| match e {
            RouterEvent::Enqueued {
                addr, slot, entry, ..
            } => Some((*addr, *slot, *entry)),
            _ => None,
        })
        .collect();
    let expected = (
        v.qpage + 4 * u64::from(v.slot),
        v.slot,
        v.toggle << 31 | s.eisn,
    );
    assert_eq!(
        writes.first(),
        Some(&expected),
        "event of {:#x} for vCPU {}: {events:?}",
        s.girq,
        s.vcpu
    );
    // The only other write allowed is the escalation, into the host's queue.
    let wake: Vec<u32> = writes[1..]
        .iter()
        .map(|&(addr, _, entry)| {
            assert!(
                (HOST_QUEUE..HOST_QUEUE + 0x1_0000).contains(&addr),
                "stray write at {addr:#x}: {events:?}"
            );
            entry & 0x7fff_ffff
        })
        .collect();
    let expected_wake = if ceded {
        alloc::vec![v.esc_girq]
    } else {
        Vec::new()
    };
    assert_eq!(wake, expected_wake, "host wake-ups: {events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RouterEvent::Backlogged { priority, .. } if u32::from(*priority) == GUEST_PRIO)),
        "not backlogged: {events:?}"
    );
    v.slot = (v.slot + 1) % GUEST_ENTRIES;
    if v.slot == 0 {
        v.toggle ^= 1;
    }
    let esb = x.get_irq_info(m, s.girq).unwrap().eoi_page;
    m.esb_load(esb + SET_PQ_00);
}

fn girq_location(x: &Xive, girq: u32) -> (u8, u32) {
    let g = crate::ids::Girq::decode(x.gen(), girq).expect("girq");
    (g.block, g.index)
}

/// QEMU's stop handler (every source to PQ 10, keeping the old bits), KVM_DEV_XIVE_EQ_SYNC
/// (SYNC of source and queue), then the state QEMU saves.
fn save(x: &mut Xive, m: &mut Model, g: &Guest) -> Saved {
    let mut pq = Vec::new();
    for s in &g.sources {
        let esb = x.get_irq_info(m, s.girq).unwrap().eoi_page;
        pq.push(m.esb_load(esb + SET_PQ_10) as u8 & 3);
    }
    for s in &g.sources {
        assert_eq!(x.sync(m, sync_flags::EAS, s.girq), Ok(()));
        assert_eq!(x.sync(m, sync_flags::QUEUE, s.girq), Ok(()));
    }
    let vcpus = g
        .vcpus
        .iter()
        .map(|v| {
            let info = x.get_queue_info(m, v.vp, GUEST_PRIO).unwrap();
            assert_eq!(info.qpage, v.qpage);
            assert_ne!(info.qflags & qf::ALWAYS_NOTIFY, 0);
            let (toggle, index) = x.get_queue_state(m, v.vp, GUEST_PRIO).unwrap();
            assert_eq!(
                (toggle, index),
                (v.toggle, v.slot),
                "saved state is the guest's"
            );
            let ipb = x.get_vp_state(m, v.vp).unwrap() & (0xff << 40);
            let queue = (0..GUEST_ENTRIES)
                .map(|i| m.peek32(v.qpage + 4 * u64::from(i)))
                .collect();
            SavedVcpu {
                toggle,
                index,
                ipb,
                queue,
            }
        })
        .collect();
    Saved { vcpus, pq }
}

/// Device release: per vCPU, sources masked, VP disabled, escalation freed, queues reset;
/// then the sources freed and the VP block given back.
fn destroy(x: &mut Xive, m: &mut Model, g: Guest) {
    for v in &g.vcpus {
        for s in g.sources.iter().filter(|s| g.vcpus[s.vcpu].vp == v.vp) {
            let esb = x.get_irq_info(m, s.girq).unwrap().eoi_page;
            m.esb_load(esb + SET_PQ_01);
            assert_eq!(x.set_irq_config(m, s.girq, 0, PRIO_MASKED, 0), Ok(()));
        }
        assert_eq!(x.set_vp_info(m, v.vp, 0, 0), Ok(()));
        let esb = x.get_irq_info(m, v.esc_girq).unwrap().eoi_page;
        m.esb_load(esb + SET_PQ_01);
        let host_vp = VpId::encode_thread(HOST_PIR);
        assert_eq!(
            x.set_irq_config(m, v.esc_girq, host_vp, PRIO_MASKED, XIVE_BAD_IRQ),
            Ok(())
        );
        for prio in 0..8 {
            assert_eq!(
                x.set_queue_info(m, v.vp, prio, 0, 0, 0),
                Ok(()),
                "prio {prio}"
            );
        }
    }
    for s in &g.sources {
        let esb = x.get_irq_info(m, s.girq).unwrap().eoi_page;
        m.esb_load(esb + SET_PQ_01);
        assert_eq!(x.set_irq_config(m, s.girq, 0, PRIO_MASKED, 0), Ok(()));
        assert_eq!(x.free_irq(m, s.girq), Ok(()));
    }
    assert_eq!(x.free_vp_block(m, g.vp_base), Ok(()));
}

/// The destination: a new device and VP block, the queues on new pages holding the saved
/// contents, SET_QUEUE_STATE when not (1, 0), new girqs for the same guest numbers, and the
/// saved PQ bits.
fn restore(x: &mut Xive, m: &mut Model, pages: &mut Pages, old: &Guest, saved: &Saved) -> Guest {
    let mut g = create_guest(x, m, pages, old.vcpus.len(), 0);
    for (v, s) in g.vcpus.iter_mut().zip(&saved.vcpus) {
        for (i, word) in s.queue.iter().enumerate() {
            m.poke32(v.qpage + 4 * i as u64, *word);
        }
        if (s.toggle, s.index) != (1, 0) {
            assert_eq!(
                x.set_queue_state(m, v.vp, GUEST_PRIO, s.toggle, s.index),
                Ok(())
            );
        }
        v.toggle = s.toggle;
        v.slot = s.index;
    }
    for (n, s) in old.sources.iter().enumerate() {
        let girq = x.allocate_irq(m, u32::MAX, HOST_PIR).unwrap();
        let src = Source { girq, ..*s };
        set_up_source(x, m, &g, src);
        let esb = x.get_irq_info(m, girq).unwrap().eoi_page;
        let restore_pq = [SET_PQ_00, SET_PQ_01, SET_PQ_10, SET_PQ_10][saved.pq[n] as usize];
        m.esb_load(esb + restore_pq);
        g.sources.push(src);
    }
    g
}

/// `n` events spread over the guest's sources.
fn run(x: &mut Xive, m: &mut Model, g: &mut Guest, n: u32) {
    for i in 0..n {
        let s = g.sources[i as usize % g.sources.len()];
        fire(x, m, g, s, i % 97 == 0);
    }
}

#[test]
fn a_guest_migrated_three_times_after_two_others_keeps_its_queues() {
    for gen in GENS {
        let (mut x, mut m) = host(gen);
        let mut pages = Pages(0);
        // Two guests come and go first, so blocks, sets and girqs are reused.
        for _ in 0..2 {
            let mut g = create_guest(&mut x, &mut m, &mut pages, 2, 4);
            run(&mut x, &mut m, &mut g, 100);
            destroy(&mut x, &mut m, g);
        }
        let mut g = create_guest(&mut x, &mut m, &mut pages, 2, 4);
        // Migrate with vCPU 0's queue just before its wrap, then just after, then mid-way.
        for (round, events) in [(0, 2 * GUEST_ENTRIES - 2), (1, 6), (2, 5000)] {
            run(&mut x, &mut m, &mut g, events);
            let saved = save(&mut x, &mut m, &g);
            assert!(
                saved.vcpus.iter().all(|v| v.ipb == 0x02 << 40),
                "round {round}: priority 6 backlogged in every NVT"
            );
            let next = restore(&mut x, &mut m, &mut pages, &g, &saved);
            destroy(&mut x, &mut m, g);
            g = next;
            // The restored guest goes on where the saved one stopped.
            run(&mut x, &mut m, &mut g, 2 * GUEST_ENTRIES + 3);
        }
        destroy(&mut x, &mut m, g);
        m.assert_coherent();
    }
}

#[test]
fn bad_restores_from_guest_controlled_state_change_nothing() {
    for gen in GENS {
        let (mut x, mut m) = host(gen);
        let mut pages = Pages(0);
        let mut g = create_guest(&mut x, &mut m, &mut pages, 2, 2);
        run(&mut x, &mut m, &mut g, 10);
        let vp = g.vcpus[0].vp;
        let before = x.get_queue_state(&mut m, vp, GUEST_PRIO).unwrap();
        for (toggle, index) in [(0, GUEST_ENTRIES), (1, u32::MAX), (2, 0), (u32::MAX, 1)] {
            assert_eq!(
                x.set_queue_state(&mut m, vp, GUEST_PRIO, toggle, index),
                Err(OpalError::Parameter),
                "({toggle}, {index:#x})"
            );
        }
        assert_eq!(x.get_queue_state(&mut m, vp, GUEST_PRIO), Ok(before));
        // A queue page the controller owns (a donated page now holding ENDs or NVTs, or
        // kept for later): refused, the queue stays where it was.
        let info = x.get_queue_info(&mut m, vp, GUEST_PRIO).unwrap();
        let flags = qf::ENABLED | qf::ALWAYS_NOTIFY | qf::ESCALATE;
        for donated in [OS_PAGES + (1 << 16), OS_PAGES + (1 << 16) + 0x1000] {
            for shift in [12u64, 16] {
                if donated & ((1 << shift) - 1) != 0 {
                    continue;
                }
                assert_eq!(
                    x.set_queue_info(&mut m, vp, GUEST_PRIO, donated, shift, flags),
                    Err(OpalError::Parameter),
                    "donated page {donated:#x}, shift {shift}"
                );
            }
        }
        // 16 MiB around the donated pages.
        assert_eq!(
            x.set_queue_info(&mut m, vp, GUEST_PRIO, OS_PAGES, 24, flags),
            Err(OpalError::Parameter)
        );
        let spare = pages.take();
        for chip in x.provision_chips() {
            assert_eq!(x.donate_page(&mut m, chip, spare), Ok(()));
        }
        assert_eq!(
            x.set_queue_info(&mut m, vp, GUEST_PRIO, spare, 16, flags),
            Err(OpalError::Parameter),
            "a donated page not installed yet"
        );
        assert_eq!(x.get_queue_info(&mut m, vp, GUEST_PRIO), Ok(info));
        assert_eq!(x.get_queue_state(&mut m, vp, GUEST_PRIO), Ok(before));
        // VPs outside the allocated block, and after it is freed.
        let outside = g.vp_base + (1 << KVM_MAX_VCPUS_ORDER);
        assert_eq!(
            x.get_queue_state(&mut m, outside, GUEST_PRIO),
            Err(OpalError::Parameter)
        );
        assert_eq!(
            x.set_queue_state(&mut m, outside, GUEST_PRIO, 1, 0),
            Err(OpalError::Parameter)
        );
        let base = g.vp_base;
        destroy(&mut x, &mut m, g);
        for bad in [base, base + 1] {
            assert_eq!(x.get_vp_state(&mut m, bad), Err(OpalError::Parameter));
            assert_eq!(
                x.get_queue_state(&mut m, bad, GUEST_PRIO),
                Err(OpalError::Parameter)
            );
            assert_eq!(
                x.set_queue_state(&mut m, bad, GUEST_PRIO, 1, 0),
                Err(OpalError::Parameter)
            );
            assert_eq!(
                x.set_queue_info(&mut m, bad, GUEST_PRIO, pages.take(), 16, flags),
                Err(OpalError::Parameter)
            );
        }
        m.assert_coherent();
    }
}
