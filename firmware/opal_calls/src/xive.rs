// SPDX-License-Identifier: Apache-2.0
//! The `OPAL_XIVE_*` calls as the OS makes them: arguments from registers, out-parameters
//! written big-endian to OS memory. The logic is `xive::Xive`'s; this layer validates the
//! OS's pointers (before anything changes), takes the XIVE lock and writes the results.
//!
//! Out-pointers: 0 means "don't write" for the optional outputs (Linux passes NULL for
//! many), as in skiboot; the outputs a call exists to return are required (PARAMETER).
//!
//! Concurrency: one lock serialises every XIVE call (skiboot does the same); it is taken
//! with a bounded spin, so a CPU that died holding it (stopped by a crash NMI) makes later
//! callers fail with OPAL_BUSY instead of hanging the crash kernel.

use crate::args::{os_range, write_be32, write_be64, OsPtr};
use crate::Ctx;
use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use hal::{FwLock, Holder, OsRange};
use opal_api::{Be32, Be64, OpalError, OpalResult, Value};
use xive::{Controller, Xive};

/// The XIVE logic and the controller it drives.
pub struct XiveUnit {
    pub state: Xive,
    pub hw: Box<dyn Controller + Send>,
}

/// The XIVE unit behind its lock, plus the two facts other calls ask about without taking
/// the lock (so a busy or abandoned lock cannot change their answers): the generation
/// (fixed at boot) and the mode (written under the lock by `OPAL_XIVE_RESET`).
pub struct XiveLock {
    unit: FwLock<Option<XiveUnit>>,
    /// 0: no XIVE, 9 or 10.
    generation: AtomicU8,
    exploitation: AtomicBool,
}

impl XiveLock {
    pub const fn new() -> Self {
        Self {
            unit: FwLock::new(None),
            generation: AtomicU8::new(0),
            exploitation: AtomicBool::new(false),
        }
    }

    /// Hands the set-up unit to the OPAL calls (boot, before the OS runs).
    pub fn install(&self, unit: XiveUnit) {
        self.generation.store(
            match unit.state.gen() {
                xive::Gen::P9 => 9,
                xive::Gen::P10 => 10,
            },
            Ordering::Relaxed,
        );
        self.exploitation.store(
            unit.state.mode() == xive::Mode::Exploitation,
            Ordering::Release,
        );
        match self.unit.lock_bounded(BOOT_HOLDER, LOCK_SPINS) {
            Some(mut g) => *g = Some(unit),
            None => log::error!("XIVE: lock held at install; XIVE calls stay unavailable"),
        }
    }

    /// `who` left firmware in the middle of a XIVE call for good (OPAL_RETURN_CPU after
    /// being reset inside it): frees the lock if it was the holder, so the next kernel's
    /// XIVE_RESET can run. Returns whether it did.
    pub fn release_abandoned(&self, who: Holder) -> bool {
        self.unit.release_abandoned(who)
    }

    /// Runs `f` on the unit for firmware code outside an OPAL call (bounded wait for the
    /// lock). None: no XIVE, or the lock stayed held.
    pub fn with_unit<R>(&self, who: Holder, f: impl FnOnce(&mut XiveUnit) -> R) -> Option<R> {
        let mut guard = self.unit.lock_bounded(who, LOCK_SPINS)?;
        guard.as_mut().map(f)
    }
}

impl Default for XiveLock {
    fn default() -> Self {
        Self::new()
    }
}

/// Spins before a caller gives up on the lock (seconds of spinning on QEMU).
const LOCK_SPINS: u32 = 50_000_000;
/// The boot thread installing the unit, before any CPU has a PIR-based identity here.
const BOOT_HOLDER: Holder = Holder::from_pir(u32::MAX - 1);

fn with<R>(
    cx: &Ctx<'_>,
    f: impl FnOnce(&mut Xive, &mut dyn Controller) -> OpalResult<R>,
) -> OpalResult<R> {
    // The locking is `with_unit`'s, once in the image rather than in every call's shim.
    let mut f = Some(f);
    let mut result = Err(OpalError::InternalError);
    with_unit(cx, &mut |state, hw| {
        if let Some(f) = f.take() {
            result = f(state, hw);
        }
    })?;
    result
}

/// Runs `f` on the unit under its lock: `Busy` if the lock cannot be had, `Unsupported`
/// without a unit (and then `f` does not run).
#[inline(never)]
fn with_unit(cx: &Ctx<'_>, f: &mut dyn FnMut(&mut Xive, &mut dyn Controller)) -> OpalResult<()> {
    let mut guard = cx
        .xive
        .unit
        .lock_bounded(Holder::from_pir(cx.cpus.current()), LOCK_SPINS)
        .ok_or(OpalError::Busy)?;
    let unit = guard.as_mut().ok_or(OpalError::Unsupported)?;
    f(&mut unit.state, unit.hw.as_mut());
    cx.xive.exploitation.store(
        unit.state.mode() == xive::Mode::Exploitation,
        Ordering::Release,
    );
    Ok(())
}

/// A required out-parameter of `len` bytes.
fn out(cx: &Ctx<'_>, raw: u64, len: u64) -> OpalResult<OsRange> {
    os_range(cx, OsPtr::<u8>::new(raw), len)
}

/// An optional out-parameter: None for 0.
fn opt_out(cx: &Ctx<'_>, raw: u64, len: u64) -> OpalResult<Option<OsRange>> {
    if raw == 0 {
        Ok(None)
    } else {
        out(cx, raw, len).map(Some)
    }
}

fn put64(cx: &Ctx<'_>, at: Option<OsRange>, v: u64) {
    if let Some(r) = at {
        write_be64(cx, r, v);
    }
}

fn put32(cx: &Ctx<'_>, at: Option<OsRange>, v: u32) {
    if let Some(r) = at {
        write_be32(cx, r, v);
    }
}

fn value(v: u64) -> OpalResult<Value> {
    Value::new(v).ok_or(OpalError::InternalError)
}

/// `OPAL_XIVE_RESET(u64 version)`.
pub fn reset(cx: &Ctx<'_>, version: u64) -> OpalResult<()> {
    with(cx, |x, hw| x.reset(hw, version))
}

/// `OPAL_XIVE_GET_IRQ_INFO(u32 girq, *flags, *eoi_page, *trig_page, *esb_shift, *src_chip)`.
pub fn get_irq_info(
    cx: &Ctx<'_>,
    girq: u32,
    flags: OsPtr<Be64>,
    eoi_page: OsPtr<Be64>,
    trig_page: OsPtr<Be64>,
    esb_shift: OsPtr<Be32>,
    src_chip: OsPtr<Be32>,
) -> OpalResult<()> {
    let o_flags = out(cx, flags.raw, 8)?;
    let o_eoi = opt_out(cx, eoi_page.raw, 8)?;
    let o_trig = opt_out(cx, trig_page.raw, 8)?;
    let o_shift = opt_out(cx, esb_shift.raw, 4)?;
    let o_chip = opt_out(cx, src_chip.raw, 4)?;
    let info = with(cx, |x, hw| x.get_irq_info(hw, girq))?;
    put64(cx, Some(o_flags), info.flags);
    put64(cx, o_eoi, info.eoi_page);
    put64(cx, o_trig, info.trig_page);
    put32(cx, o_shift, info.esb_shift);
    put32(cx, o_chip, info.src_chip);
    Ok(())
}

/// `OPAL_XIVE_GET_IRQ_CONFIG(u32 girq, *vp, u8 *prio, *lirq)`: all three required.
pub fn get_irq_config(
    cx: &Ctx<'_>,
    girq: u32,
    vp: OsPtr<Be64>,
    prio: OsPtr<u8>,
    lirq: OsPtr<Be32>,
) -> OpalResult<()> {
    let (o_vp, o_prio, o_lirq) = (
        out(cx, vp.raw, 8)?,
        out(cx, prio.raw, 1)?,
        out(cx, lirq.raw, 4)?,
    );
    let c = with(cx, |x, hw| x.get_irq_config(hw, girq))?;
    write_be64(cx, o_vp, c.vp);
    cx.mem.write(o_prio, 0, &[c.prio]);
    write_be32(cx, o_lirq, c.lirq);
    Ok(())
}

/// `OPAL_XIVE_SET_IRQ_CONFIG(u32 girq, u64 vp, u8 prio, u32 lirq)`.
pub fn set_irq_config(cx: &Ctx<'_>, girq: u32, vp: u64, prio: u8, lirq: u32) -> OpalResult<()> {
    with(cx, |x, hw| x.set_irq_config(hw, girq, vp, prio, lirq))
}

/// `OPAL_XIVE_GET_QUEUE_INFO(u64 vp, u32 prio, *qpage, *qsize, *qeoi_page, *escalate_irq,
/// *qflags)`.
#[allow(clippy::too_many_arguments)]
pub fn get_queue_info(
    cx: &Ctx<'_>,
    vp: u64,
    prio: u32,
    qpage: OsPtr<Be64>,
    qsize: OsPtr<Be64>,
    qeoi_page: OsPtr<Be64>,
    escalate_irq: OsPtr<Be32>,
    qflags: OsPtr<Be64>,
) -> OpalResult<()> {
    let o = (
        opt_out(cx, qpage.raw, 8)?,
        opt_out(cx, qsize.raw, 8)?,
        opt_out(cx, qeoi_page.raw, 8)?,
        opt_out(cx, escalate_irq.raw, 4)?,
        opt_out(cx, qflags.raw, 8)?,
    );
    let q = with(cx, |x, hw| x.get_queue_info(hw, vp, prio))?;
    put64(cx, o.0, q.qpage);
    put64(cx, o.1, q.qsize);
    put64(cx, o.2, q.qeoi_page);
    put32(cx, o.3, q.escalate_irq);
    put64(cx, o.4, q.qflags);
    Ok(())
}

/// `OPAL_XIVE_SET_QUEUE_INFO(u64 vp, u32 prio, u64 qpage, u64 qsize, u64 qflags)`. An
/// enabled queue's page must be OS RAM.
pub fn set_queue_info(
    cx: &Ctx<'_>,
    vp: u64,
    prio: u32,
    qpage: u64,
    qsize: u64,
    qflags: u64,
) -> OpalResult<()> {
    let enabling = qflags & xive::calls::queue_flags::ENABLED != 0;
    // Compared as u64: a qsize with high bits set is not a valid size, however it truncates.
    if enabling
        && xive::calls::QUEUE_SHIFTS
            .iter()
            .any(|&s| u64::from(s) == qsize)
    {
        out(cx, qpage, 1 << qsize)?;
    }
    with(cx, |x, hw| {
        x.set_queue_info(hw, vp, prio, qpage, qsize, qflags)
    })
}

/// `OPAL_XIVE_DONATE_PAGE(u32 chip, u64 addr)`: 64 KiB of OS RAM.
pub fn donate_page(cx: &Ctx<'_>, chip: u32, addr: u64) -> OpalResult<()> {
    out(cx, addr, 1 << 16)?;
    with(cx, |x, hw| x.donate_page(hw, chip, addr))
}

/// `OPAL_XIVE_ALLOCATE_VP_BLOCK(u32 order)`: the VP base id.
pub fn allocate_vp_block(cx: &Ctx<'_>, order: u32) -> OpalResult<Value> {
    with(cx, |x, hw| x.allocate_vp_block(hw, order)).and_then(value)
}

/// `OPAL_XIVE_FREE_VP_BLOCK(u64 vp_base)`.
pub fn free_vp_block(cx: &Ctx<'_>, vp_base: u64) -> OpalResult<()> {
    with(cx, |x, hw| x.free_vp_block(hw, vp_base))
}

/// `OPAL_XIVE_GET_VP_INFO(u64 vp, *flags, *cam, *report_cl_pair, *chip_id)`.
pub fn get_vp_info(
    cx: &Ctx<'_>,
    vp: u64,
    flags: OsPtr<Be64>,
    cam: OsPtr<Be64>,
    report_cl_pair: OsPtr<Be64>,
    chip_id: OsPtr<Be32>,
) -> OpalResult<()> {
    let o = (
        opt_out(cx, flags.raw, 8)?,
        opt_out(cx, cam.raw, 8)?,
        opt_out(cx, report_cl_pair.raw, 8)?,
        opt_out(cx, chip_id.raw, 4)?,
    );
    let v = with(cx, |x, hw| x.get_vp_info(hw, vp))?;
    put64(cx, o.0, v.flags);
    put64(cx, o.1, v.cam);
    put64(cx, o.2, v.report_cl_pair);
    put32(cx, o.3, v.chip_id);
    Ok(())
}

/// `OPAL_XIVE_SET_VP_INFO(u64 vp, u64 flags, u64 report_cl_pair)`.
pub fn set_vp_info(cx: &Ctx<'_>, vp: u64, flags: u64, report_cl_pair: u64) -> OpalResult<()> {
    // The hardware writes a 256-byte context report there: it must be OS RAM.
    if report_cl_pair != 0 {
        out(cx, report_cl_pair, 256)?;
    }
    with(cx, |x, hw| x.set_vp_info(hw, vp, flags, report_cl_pair))
}

/// `OPAL_XIVE_ALLOCATE_IRQ(u32 chip)`: the girq, or RESOURCE (-10) when none is left.
pub fn allocate_irq(cx: &Ctx<'_>, chip: u32) -> OpalResult<Value> {
    let pir = cx.cpus.current();
    with(cx, |x, hw| x.allocate_irq(hw, chip, pir)).and_then(|g| value(u64::from(g)))
}

/// `OPAL_XIVE_FREE_IRQ(u32 girq)`.
pub fn free_irq(cx: &Ctx<'_>, girq: u32) -> OpalResult<()> {
    with(cx, |x, hw| x.free_irq(hw, girq))
}

/// `OPAL_XIVE_SYNC(u32 type, u32 id)`.
pub fn sync(cx: &Ctx<'_>, kind: u32, id: u32) -> OpalResult<()> {
    with(cx, |x, hw| x.sync(hw, kind, id))
}

/// `OPAL_XIVE_DUMP(u32 type, u32 id)`.
pub fn dump(cx: &Ctx<'_>, kind: u32, id: u32) -> OpalResult<()> {
    with(cx, |x, hw| x.dump(hw, kind, id))
}

/// `OPAL_XIVE_GET_QUEUE_STATE(u64 vp, u32 prio, be32 *toggle, be32 *index)`.
pub fn get_queue_state(
    cx: &Ctx<'_>,
    vp: u64,
    prio: u32,
    toggle: OsPtr<Be32>,
    index: OsPtr<Be32>,
) -> OpalResult<()> {
    let (o_t, o_i) = (out(cx, toggle.raw, 4)?, out(cx, index.raw, 4)?);
    let (t, i) = with(cx, |x, hw| x.get_queue_state(hw, vp, prio))?;
    write_be32(cx, o_t, t);
    write_be32(cx, o_i, i);
    Ok(())
}

/// `OPAL_XIVE_SET_QUEUE_STATE(u64 vp, u32 prio, u32 toggle, u32 index)`.
pub fn set_queue_state(
    cx: &Ctx<'_>,
    vp: u64,
    prio: u32,
    toggle: u32,
    index: u32,
) -> OpalResult<()> {
    with(cx, |x, hw| x.set_queue_state(hw, vp, prio, toggle, index))
}

/// `OPAL_INT_EOI` in exploitation mode: a source EOI; true if the source re-triggered.
pub fn source_eoi(cx: &Ctx<'_>, girq: u32) -> OpalResult<bool> {
    with(cx, |x, hw| x.source_eoi(hw, girq))
}

/// `OPAL_XIVE_GET_VP_STATE(u64 vp, be64 *state)`.
pub fn get_vp_state(cx: &Ctx<'_>, vp: u64, state: OsPtr<Be64>) -> OpalResult<()> {
    let o = out(cx, state.raw, 8)?;
    let s = with(cx, |x, hw| x.get_vp_state(hw, vp))?;
    write_be64(cx, o, s);
    Ok(())
}

/// The XIVE generation, if the machine has XIVE (no lock taken).
pub fn generation(cx: &Ctx<'_>) -> Option<xive::Gen> {
    match cx.xive.generation.load(Ordering::Relaxed) {
        9 => Some(xive::Gen::P9),
        10 => Some(xive::Gen::P10),
        _ => None,
    }
}

/// Is the machine in exploitation mode? (The XICS calls are emulation-only.) No lock
/// taken: the mode is mirrored after every XIVE call.
pub fn exploitation_mode(cx: &Ctx<'_>) -> bool {
    cx.xive.exploitation.load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::*;
    use xive::calls::queue_flags::{ALWAYS_NOTIFY, ENABLED};
    use xive::Gen;

    /// Out-parameters in the fake RAM (1 MiB; firmware at 0x8_0000..0x9_0000).
    const OUT: u64 = 0x1000;
    const QPAGE: u64 = 0x1_0000;
    const FIRMWARE: u64 = 0x8_0000;

    #[test]
    fn irq_exhaustion_is_minus_10_in_r3_never_a_32_bit_marker() {
        for (gen, limit) in [(Gen::P9, 1i64 << 24), (Gen::P10, 1 << 28)] {
            let m = Machine::with_xive(gen);
            assert_eq!(m.call(OPAL_XIVE_RESET, &[1]), 0);
            let mut last = 0;
            let r3 = loop {
                let r = m.call(OPAL_XIVE_ALLOCATE_IRQ, &[0]);
                if r < 0 {
                    break r;
                }
                assert!(r >= 0x10 && r < limit, "girq {r:#x}");
                last = r;
            };
            assert_eq!(r3, -10, "OPAL_RESOURCE as a signed 64-bit value");
            assert_ne!(r3 as u64, 0xffff_ffff);
            // ANY_CHIP too, and the allocator still works after a free.
            assert_eq!(m.call(OPAL_XIVE_ALLOCATE_IRQ, &[0xffff_ffff]), -10);
            assert_eq!(m.call(OPAL_XIVE_FREE_IRQ, &[last as u64]), 0);
            assert_eq!(m.call(OPAL_XIVE_ALLOCATE_IRQ, &[0xffff_ffff]), last);
        }
    }

    #[test]
    fn queue_state_round_trips_big_endian_through_the_table() {
        for gen in [Gen::P9, Gen::P10] {
            let m = Machine::with_xive(gen);
            assert_eq!(m.call(OPAL_XIVE_RESET, &[1]), 0);
            assert_eq!(
                m.call(
                    OPAL_XIVE_SET_QUEUE_INFO,
                    &[4, 7, QPAGE, 16, ENABLED | ALWAYS_NOTIFY]
                ),
                0
            );
            assert_eq!(m.call(OPAL_XIVE_GET_QUEUE_STATE, &[4, 7, OUT, OUT + 4]), 0);
            assert_eq!(
                m.mem.peek(OUT, 8),
                [0, 0, 0, 1, 0, 0, 0, 0],
                "(1, 0) big-endian"
            );
            assert_eq!(m.call(OPAL_XIVE_SET_QUEUE_STATE, &[4, 7, 0, 0x1234]), 0);
            assert_eq!(m.call(OPAL_XIVE_GET_QUEUE_STATE, &[4, 7, OUT, OUT + 4]), 0);
            assert_eq!(m.mem.peek(OUT, 8), [0, 0, 0, 0, 0, 0, 0x12, 0x34]);
            // Required outputs: NULL, and a pointer into the firmware, are PARAMETER and
            // write nothing.
            m.mem.poke(OUT, &[0xAA; 8]);
            assert_eq!(m.call(OPAL_XIVE_GET_QUEUE_STATE, &[4, 7, 0, OUT]), -1);
            assert_eq!(
                m.call(OPAL_XIVE_GET_QUEUE_STATE, &[4, 7, OUT, FIRMWARE]),
                -1
            );
            assert_eq!(m.mem.peek(OUT, 8), [0xAA; 8]);
            // The queue page must be OS RAM.
            assert_eq!(
                m.call(OPAL_XIVE_SET_QUEUE_INFO, &[4, 6, FIRMWARE, 16, ENABLED]),
                -1
            );
            assert_eq!(
                m.call(OPAL_XIVE_SET_QUEUE_INFO, &[4, 6, 0x4000_0000, 16, ENABLED]),
                -1
            );
            // Disabled queue: WRONG_STATE.
            assert_eq!(m.call(OPAL_XIVE_SET_QUEUE_INFO, &[4, 7, 0, 0, 0]), 0);
            assert_eq!(
                m.call(OPAL_XIVE_GET_QUEUE_STATE, &[4, 7, OUT, OUT + 4]),
                -14
            );
            assert_eq!(m.call(OPAL_XIVE_SET_QUEUE_STATE, &[4, 7, 1, 0]), -14);
        }
    }

    #[test]
    fn optional_outputs_may_be_null() {
        let m = Machine::with_xive(Gen::P9);
        assert_eq!(m.call(OPAL_XIVE_RESET, &[1]), 0);
        assert_eq!(
            m.call(OPAL_XIVE_SET_QUEUE_INFO, &[1, 3, QPAGE, 12, ENABLED]),
            0
        );
        // Only qflags and the escalation girq asked for.
        m.mem.poke(OUT, &[0xAA; 16]);
        assert_eq!(
            m.call(OPAL_XIVE_GET_QUEUE_INFO, &[1, 3, 0, 0, 0, OUT + 8, OUT]),
            0
        );
        assert_eq!(m.mem.peek_be64(OUT), ENABLED);
        assert_eq!(
            m.mem.peek(OUT + 8, 4),
            [0x01, 0x00, 0x00, 0x13],
            "escalation girq of END 0x13"
        );
        assert_eq!(m.mem.peek(OUT + 12, 4), [0xAA; 4]);
        // GET_IRQ_INFO needs its flags pointer.
        let girq = m.call(OPAL_XIVE_ALLOCATE_IRQ, &[0]) as u64;
        assert_eq!(m.call(OPAL_XIVE_GET_IRQ_INFO, &[girq, 0, OUT, 0, 0, 0]), -1);
        assert_eq!(m.call(OPAL_XIVE_GET_IRQ_INFO, &[girq, OUT, 0, 0, 0, 0]), 0);
        assert_eq!(m.mem.peek_be64(OUT), 1, "TRIGGER_PAGE");
        // GET_IRQ_CONFIG's prio is one byte.
        assert_eq!(m.call(OPAL_XIVE_SET_IRQ_CONFIG, &[girq, 1, 3, 0x77]), 0);
        m.mem.poke(OUT, &[0xAA; 16]);
        assert_eq!(
            m.call(OPAL_XIVE_GET_IRQ_CONFIG, &[girq, OUT, OUT + 8, OUT + 12]),
            0
        );
        assert_eq!(
            m.mem.peek(OUT, 16),
            [0, 0, 0, 0, 0, 0, 0, 1, 3, 0xAA, 0xAA, 0xAA, 0, 0, 0, 0x77]
        );
    }

    #[test]
    fn xics_calls_stop_in_exploitation_mode() {
        let m = Machine::with_xive(Gen::P9);
        assert_eq!(
            m.call(OPAL_INT_SET_CPPR, &[0xff]),
            0,
            "emulation mode at boot"
        );
        assert_eq!(m.call(OPAL_XIVE_RESET, &[1]), 0);
        assert_eq!(m.call(OPAL_INT_SET_CPPR, &[0xff]), -14);
        assert_eq!(m.call(OPAL_INT_GET_XIRR, &[OUT, 0]), -14);
        // EOI becomes a source EOI: unknown girqs are PARAMETER, allocated ones work.
        assert_eq!(m.call(OPAL_INT_EOI, &[0xff00_0000]), -1);
        // A new source is off (PQ 01): the EOI sets PQ 00 and, Q having been set,
        // re-triggers it as skiboot's and Linux's EOIs do, and says so.
        let girq = m.call(OPAL_XIVE_ALLOCATE_IRQ, &[0]) as u64;
        assert_eq!(m.call(OPAL_INT_EOI, &[0xff00_0000 | girq]), 1);
        assert_eq!(
            m.call(OPAL_INT_EOI, &[0xff00_0000 | girq]),
            0,
            "PQ was 00 now"
        );
        assert_eq!(m.call(OPAL_XIVE_RESET, &[0]), 0);
        assert_eq!(m.call(OPAL_INT_SET_CPPR, &[0xff]), 0);
        // POWER10 has no XICS emulation: the calls are absent, as on skiboot.
        let p10 = Machine::with_xive(Gen::P10);
        assert_eq!(p10.call(OPAL_INT_SET_CPPR, &[0xff]), -1);
        for tok in [OPAL_INT_GET_XIRR, OPAL_INT_SET_CPPR, OPAL_INT_EOI] {
            assert_eq!(p10.call(OPAL_CHECK_TOKEN, &[tok]), 0);
            assert_eq!(m.call(OPAL_CHECK_TOKEN, &[tok]), 1);
        }
        assert_eq!(p10.call(OPAL_CHECK_TOKEN, &[OPAL_XIVE_RESET]), 1);
    }

    #[test]
    fn without_xive_the_calls_say_unsupported() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_XIVE_RESET, &[1]), -7);
        assert_eq!(m.call(OPAL_INT_SET_CPPR, &[0xff]), 0);
    }
}
