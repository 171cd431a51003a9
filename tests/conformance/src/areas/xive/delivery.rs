// SPDX-License-Identifier: Apache-2.0
//! End-to-end delivery: an interrupt the payload triggers through its ESB must land in the
//! event queue OPAL was told to route it to (xive.md §6.1, §6.2, §6.4), so the other XIVE
//! cases are backed by real routing and not only by what the firmware remembers.
//!
//! Each case allocates an IPI on the boot chip (ALLOCATE_IRQ), reads its ESB pages
//! (GET_IRQ_INFO), enables the priority-7 queue of a hardware thread's VP (VP id = PIR,
//! §3.2, as Linux does, §14.1), routes the IPI there with a distinctive logical number
//! (SET_IRQ_CONFIG), sets PQ = 00 and triggers with a store to the trigger page. The
//! controller then writes `generation << 31 | lisn` as a big-endian word at the queue's
//! producer index (§6.4). The payload runs with MSR[EE] = 0, so no exception is taken: it
//! just reads the queue page. The queue state calls are checked against what the
//! hardware really did, which is what KVM migration relies on (§15.3 item 6).

use conformance::spec::{self, queue_entries};

use super::calls::{self, IrqInfoOut, Page};
use super::{check_girq, disable_queue, enable_queue, queue_state, retry_busy, skip, Env};
use crate::arch;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, CaseResult, Ctx};

/// `OPAL_XIVE_IRQ_TRIGGER_PAGE` and `OPAL_XIVE_IRQ_LSI` in GET_IRQ_INFO's flags (§13.3).
const IRQ_TRIGGER_PAGE: u64 = 0x1;
const IRQ_LSI: u64 = 0x4;

/// ESB offsets (§6.2): a store at 0 of the trigger page triggers; a load at 0xC00 of the
/// EOI page returns the old PQ and sets PQ = 00 (the load EOI Linux uses for IPIs).
const ESB_TRIGGER: u64 = 0x000;
const ESB_SET_PQ_00: u64 = 0xc00;
/// PQ values as an ESB load returns them (§6.1): P = 0x2, Q = 0x1.
const PQ_PENDING: u64 = 0b10;

/// Bit 31 of a queue entry: the generation the producer wrote it with (§6.4).
const GENERATION_BIT: u32 = 0x8000_0000;

/// SET_IRQ_CONFIG's priority that masks the source (§13.3).
const MASKED: u8 = 0xff;

/// How long a trigger may take to show up in the queue. Under QEMU the store writes the
/// entry before it completes; real hardware needs far less than this.
const DELIVERY_MS: u64 = 50;

/// An allocated IPI and its ESB pages, as GET_IRQ_INFO reported them.
struct Source {
    girq: u64,
    trig_page: u64,
    eoi_page: u64,
}

impl Source {
    /// ALLOCATE_IRQ on the boot chip, then GET_IRQ_INFO: an IPI has a trigger page and is
    /// not an LSI (§6.3).
    fn allocate(cx: &Ctx, env: &Env) -> CaseResult<Source> {
        let chip = env.chip;
        let r = retry_busy(cx, || calls::allocate_irq(cx, chip))?;
        let girq = check_girq(env, format_args!("ALLOCATE_IRQ({chip})"), r)?;
        let mut out = IrqInfoOut::all();
        let r = calls::get_irq_info(cx, girq, &mut out)?;
        expect(format_args!("GET_IRQ_INFO({girq:#x})"), r, Ret::SUCCESS)?;
        let get = |o: &Option<calls::Out64>, what| o.as_ref().map_or(Ok(0), |o| o.get(what));
        let flags = out.flags.get("flags")?;
        let eoi_page = get(&out.eoi_page, "eoi_page")?;
        let trig_page = get(&out.trig_page, "trig_page")?;
        let shift = out
            .esb_shift
            .as_ref()
            .map_or(Ok(0), |o| o.get("esb_shift"))?;
        if flags & IRQ_TRIGGER_PAGE == 0 || flags & IRQ_LSI != 0 {
            fail!("GET_IRQ_INFO({girq:#x}): flags {flags:#x}, an IPI has TRIGGER_PAGE and not LSI (xive.md §6.3)");
        }
        // The pages are about to be accessed: only ever touch what looks like ESB pages.
        let page_ok = |a: u64| a != 0 && a % 0x1000 == 0;
        if !page_ok(trig_page) || !page_ok(eoi_page) || !(12..=17).contains(&shift) {
            fail!("GET_IRQ_INFO({girq:#x}): trig_page {trig_page:#x}, eoi_page {eoi_page:#x}, esb_shift {shift}: not usable ESB pages (xive.md §6.3)");
        }
        Ok(Source {
            girq,
            trig_page,
            eoi_page,
        })
    }

    /// A store to the trigger page: one event (§6.2).
    fn trigger(&self) {
        // SAFETY: GET_IRQ_INFO reported `trig_page` as this IPI's trigger page, which the
        // payload allocated; an 8-byte store at offset 0 is the trigger (xive.md §6.2).
        unsafe { arch::ci_store64(self.trig_page + ESB_TRIGGER, 0) };
    }

    /// Sets PQ = 00 and returns the previous PQ (§6.2): the EOI of an IPI.
    fn set_pq_00(&self) -> u64 {
        // SAFETY: `eoi_page` is this IPI's EOI page per GET_IRQ_INFO; an 8-byte load at
        // 0xC00 is defined (returns the old PQ, sets 00; xive.md §6.2).
        unsafe { arch::ci_load64(self.eoi_page + ESB_SET_PQ_00) & 0xff }
    }

    /// The EOI after a delivered event: the event left P set (PQ 00 → 10, §6.1).
    fn eoi(&self, after: core::fmt::Arguments<'_>) -> CaseResult {
        let old = self.set_pq_00();
        if old != PQ_PENDING {
            fail!(
                "{after}: the EOI load (ESB +0xC00) returned PQ {old:#04b}, the spec says 0b10 \
                 (a forwarded trigger sets P, xive.md §6.1)"
            );
        }
        Ok(())
    }

    /// SET_IRQ_CONFIG(girq, vp, prio, lisn), which must succeed.
    fn route(&self, cx: &Ctx, vp: u64, prio: u8, lisn: u32) -> CaseResult {
        let girq = self.girq;
        let r = retry_busy(cx, || calls::set_irq_config(cx, girq, vp, prio, lisn))?;
        expect(
            format_args!("SET_IRQ_CONFIG({girq:#x}, {vp:#x}, {prio}, {lisn:#x})"),
            r,
            Ret::SUCCESS,
        )
    }

    fn free(self, cx: &Ctx) -> CaseResult {
        let girq = self.girq;
        let r = retry_busy(cx, || calls::free_irq(cx, girq))?;
        expect(format_args!("FREE_IRQ({girq:#x})"), r, Ret::SUCCESS)
    }
}

/// An enabled event queue and where it lives.
struct Queue {
    vp: u64,
    prio: u32,
    page: Page,
    entries: u32,
}

impl Queue {
    /// SET_QUEUE_INFO(vp, prio, fresh zeroed page, qsize, ENABLED | ALWAYS_NOTIFY).
    fn enable(cx: &mut Ctx, vp: u64, prio: u32, qsize: u64) -> CaseResult<Queue> {
        let page = enable_queue(cx, vp, prio, qsize)?;
        Ok(Queue {
            vp,
            prio,
            page,
            entries: queue_entries(qsize) as u32,
        })
    }

    /// Entry `index`, as the controller wrote it (big-endian, §6.4).
    fn entry(&self, cx: &Ctx, index: u32) -> CaseResult<u32> {
        arch::sync();
        match cx.arena.read_be32(self.page.addr() + 4 * u64::from(index)) {
            Some(v) => Ok(v),
            None => fail!("queue entry {index} lies outside the payload's queue page"),
        }
    }

    /// Waits (bounded) until entry `index` reads `want`.
    fn wait_for(
        &self,
        cx: &Ctx,
        index: u32,
        want: u32,
        what: core::fmt::Arguments<'_>,
    ) -> CaseResult {
        let deadline = arch::mftb() + cx.opal.ticks(DELIVERY_MS);
        loop {
            let got = self.entry(cx, index)?;
            if got == want {
                return Ok(());
            }
            if arch::mftb() > deadline {
                fail!(
                    "{what}: queue of VP {:#x} prio {} entry {index} is {got:#010x} after {DELIVERY_MS} ms, \
                     the spec says {want:#010x} (generation << 31 | lisn, xive.md §6.4)",
                    self.vp,
                    self.prio
                );
            }
        }
    }

    fn state(&self, cx: &Ctx) -> CaseResult<(u32, u32)> {
        queue_state(cx, self.vp, self.prio)
    }

    fn disable(self, cx: &Ctx) -> CaseResult {
        disable_queue(cx, self.vp, self.prio)
    }
}

/// The entry the controller writes for `lisn` with generation `gen` (§6.4).
fn queue_word(gen: u32, lisn: u32) -> u32 {
    if gen == 1 {
        GENERATION_BIT | lisn
    } else {
        lisn
    }
}

/// Triggers once, expects the entry at `index` with generation `gen`, then EOIs.
fn deliver(
    cx: &Ctx,
    src: &Source,
    q: &Queue,
    lisn: u32,
    (gen, index): (u32, u32),
    what: core::fmt::Arguments<'_>,
) -> CaseResult {
    src.trigger();
    q.wait_for(cx, index, queue_word(gen, lisn), what)?;
    src.eoi(what)
}

/// The host's priority: the highest one, 7 with 8 priorities (Linux, §14.1).
fn host_prio(env: &Env) -> u32 {
    env.priorities - 1
}

/// The usual start: the boot thread's queue, an IPI routed to it with `lisn`, PQ = 00.
fn boot_thread_setup(
    cx: &mut Ctx,
    env: &Env,
    qsize: u64,
    lisn: u32,
) -> CaseResult<(Source, Queue)> {
    let vp = u64::from(env.boot_pir);
    let prio = host_prio(env);
    let q = Queue::enable(cx, vp, prio, qsize)?;
    let src = Source::allocate(cx, env)?;
    src.route(cx, vp, prio as u8, lisn)?;
    // PQ = 00 after SET_IRQ_CONFIG, as Linux starts an interrupt (§14.1 step 6); what
    // the firmware left there (01 after ALLOCATE_IRQ in skiboot) does not matter.
    src.set_pq_00();
    Ok((src, q))
}

/// One trigger lands at entry 0 with generation 1, and the queue state moves to (1, 1).
pub fn enqueue(cx: &mut Ctx) -> CaseResult {
    const LISN: u32 = 0x0dec_0001;
    let env = Env::get(cx)?;
    let (src, q) = boot_thread_setup(cx, &env, 16, LISN)?;
    deliver(
        cx,
        &src,
        &q,
        LISN,
        (1, 0),
        format_args!("the first trigger"),
    )?;
    expect_eq(
        format_args!("queue entry 1 (nothing was written there)"),
        q.entry(cx, 1)?,
        0,
    )?;
    expect_eq(
        format_args!("GET_QUEUE_STATE after one event"),
        q.state(cx)?,
        (1, 1),
    )?;
    q.disable(cx)?;
    src.free(cx)
}

/// 1030 events into a 1024-entry (4 KiB) queue: the producer wraps, flips its generation
/// to 0, and GET_QUEUE_STATE reports exactly where it is: (0, 6) (§6.4, §15.3 item 6).
pub fn wrap(cx: &mut Ctx) -> CaseResult {
    const LISN: u32 = 0x0dec_0002;
    const QSIZE: u64 = 12;
    let env = Env::get(cx)?;
    let (src, q) = boot_thread_setup(cx, &env, QSIZE, LISN)?;
    let entries = q.entries;
    let events = entries + 6;
    for n in 0..events {
        let gen = 1 ^ ((n / entries) % 2);
        deliver(
            cx,
            &src,
            &q,
            LISN,
            (gen, n % entries),
            format_args!("event #{}", n + 1),
        )?;
    }
    expect_eq(
        format_args!("GET_QUEUE_STATE after {events} events in a {entries}-entry queue"),
        q.state(cx)?,
        (0, events % entries),
    )?;
    expect_eq(
        format_args!("queue entry 5 (written in the second pass, generation 0)"),
        q.entry(cx, 5)?,
        queue_word(0, LISN),
    )?;
    expect_eq(
        format_args!("queue entry 6 (still from the first pass, generation 1)"),
        q.entry(cx, 6)?,
        queue_word(1, LISN),
    )?;
    q.disable(cx)?;
    src.free(cx)
}

/// SET_QUEUE_STATE must reach the controller: the next event lands at the restored index
/// with the restored generation, for both generations (§13.3, §15.3 item 5; the KVM
/// migration restore path, §14).
pub fn restore_state(cx: &mut Ctx) -> CaseResult {
    const LISN: u32 = 0x0dec_0003;
    let env = Env::get(cx)?;
    let (src, q) = boot_thread_setup(cx, &env, 16, LISN)?;
    let (vp, prio) = (q.vp, q.prio);
    deliver(
        cx,
        &src,
        &q,
        LISN,
        (1, 0),
        format_args!("the first trigger"),
    )?;
    for (gen, index) in [(1u32, 100u32), (0, 200)] {
        let r = calls::set_queue_state(cx, vp, prio, gen, index)?;
        expect(
            format_args!("SET_QUEUE_STATE({vp:#x}, {prio}, {gen}, {index})"),
            r,
            Ret::SUCCESS,
        )?;
        deliver(
            cx,
            &src,
            &q,
            LISN,
            (gen, index),
            format_args!("the trigger after SET_QUEUE_STATE({gen}, {index})"),
        )?;
        expect_eq(
            format_args!("GET_QUEUE_STATE after SET_QUEUE_STATE({gen}, {index}) and one event"),
            q.state(cx)?,
            (gen, index + 1),
        )?;
    }
    // Nothing went where the producer was before the restore.
    expect_eq(
        format_args!("queue entry 1 (skipped by the restore)"),
        q.entry(cx, 1)?,
        0,
    )?;
    q.disable(cx)?;
    src.free(cx)
}

/// Priority 0xff masks (§13.3 SET_IRQ_CONFIG): a trigger then adds nothing to the queue.
/// Routing it again unmasks: after the EOI the next trigger is delivered.
pub fn masked(cx: &mut Ctx) -> CaseResult {
    const LISN: u32 = 0x0dec_0004;
    let env = Env::get(cx)?;
    let (src, q) = boot_thread_setup(cx, &env, 16, LISN)?;
    let (vp, prio) = (q.vp, q.prio);
    deliver(
        cx,
        &src,
        &q,
        LISN,
        (1, 0),
        format_args!("the first trigger"),
    )?;
    src.route(cx, vp, MASKED, LISN)?;
    src.trigger();
    let settle = arch::mftb() + cx.opal.ticks(DELIVERY_MS);
    while arch::mftb() < settle {
        let got = q.entry(cx, 1)?;
        if got != 0 {
            fail!("a trigger after SET_IRQ_CONFIG(.., prio 0xff) wrote {got:#010x} to queue entry 1: the source is masked (xive.md §13.3)");
        }
    }
    expect_eq(
        format_args!("GET_QUEUE_STATE after a trigger of a masked source"),
        q.state(cx)?,
        (1, 1),
    )?;
    src.route(cx, vp, prio as u8, LISN)?;
    // The masked trigger still set P (the ESB is not the EAS): EOI, then trigger again.
    src.eoi(format_args!("the trigger while masked"))?;
    deliver(
        cx,
        &src,
        &q,
        LISN,
        (1, 1),
        format_args!("the trigger after unmasking"),
    )?;
    q.disable(cx)?;
    src.free(cx)
}

/// Routing to another thread's VP puts the event in that thread's queue and not in the
/// boot thread's; routing back brings it back (§13.3 SET_IRQ_CONFIG, Linux affinity).
pub fn other_thread(cx: &mut Ctx) -> CaseResult {
    const LISN: u32 = 0x0dec_0005;
    let env = Env::get(cx)?;
    let boot = env.boot_pir;
    // Prefer a thread of another core (PIR bits above the thread number differ).
    let threads = cx.sys.threads;
    let others = || threads.iter().map(|t| t.pir).filter(|&p| p != boot);
    let Some(other) = others()
        .find(|&p| p >> 2 != boot >> 2)
        .or_else(|| others().next())
    else {
        return Err(skip(format_args!("only one thread")));
    };
    cx.info(format_args!("boot PIR {boot:#x}, other PIR {other:#x}"));
    let (src, mine) = boot_thread_setup(cx, &env, 16, LISN)?;
    let prio = mine.prio;
    let theirs = Queue::enable(cx, u64::from(other), prio, 16)?;
    src.route(cx, u64::from(other), prio as u8, LISN)?;
    deliver(
        cx,
        &src,
        &theirs,
        LISN,
        (1, 0),
        format_args!("the trigger routed to PIR {other:#x}"),
    )?;
    expect_eq(
        format_args!("boot thread's queue entry 0 (the event went to PIR {other:#x})"),
        mine.entry(cx, 0)?,
        0,
    )?;
    expect_eq(
        format_args!("GET_QUEUE_STATE of PIR {other:#x}"),
        theirs.state(cx)?,
        (1, 1),
    )?;
    expect_eq(
        format_args!("GET_QUEUE_STATE of the boot thread"),
        mine.state(cx)?,
        spec::QUEUE_STATE_AFTER_ENABLE,
    )?;
    src.route(cx, u64::from(boot), prio as u8, LISN)?;
    deliver(
        cx,
        &src,
        &mine,
        LISN,
        (1, 0),
        format_args!("the trigger routed back to PIR {boot:#x}"),
    )?;
    expect_eq(
        format_args!("PIR {other:#x} queue entry 1 (the event went back to the boot thread)"),
        theirs.entry(cx, 1)?,
        0,
    )?;
    theirs.disable(cx)?;
    mine.disable(cx)?;
    src.free(cx)
}
