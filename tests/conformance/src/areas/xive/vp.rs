// SPDX-License-Identifier: Apache-2.0
//! VP blocks: provisioning, GET/SET_VP_INFO, FREE_VP_BLOCK and exhaustion of the VP
//! space (xive.md §3.2, §5.3, §11.3, §13.3).

use conformance::spec::{self, provision_pages_bound, Generation};
use opal_api::OpalError;

use super::calls::{self, Out, Page, QueueInfoOut};
use super::{
    allocate_block, deviation, donate_round, retry_busy, rounds_bound, set_vp, skip, thread_order,
    Env,
};
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, CaseResult, Ctx};

/// DONATE_PAGE rejects a page not 64 KiB aligned and a chip that does not exist with
/// OPAL_PARAMETER (§13.3).
pub fn donate_bad_args(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let page = Page::alloc(
        &mut cx.arena,
        2 * spec::PROVISION_PAGE,
        spec::PROVISION_PAGE,
    )?;
    let bad = page.offset(0x1000);
    expect(
        format_args!(
            "DONATE_PAGE(chip {}, {:#x}) (not 64 KiB aligned)",
            env.chip,
            bad.addr()
        ),
        calls::donate_page(cx, env.chip, bad)?,
        Ret::err(OpalError::Parameter),
    )?;
    let chips = cx.sys.chips();
    let absent = (0..=0xff).find(|c| !chips.contains(c)).unwrap_or(0xff);
    expect(
        format_args!(
            "DONATE_PAGE(chip {absent}, {:#x}) (no such chip)",
            page.addr()
        ),
        calls::donate_page(cx, absent, page)?,
        Ret::err(OpalError::Parameter),
    )
}

/// Linux's pool allocation (order of the thread count, §14.1 step 3): a base encoded as
/// §3.2 says, and FREE_VP_BLOCK gives it back.
pub fn alloc(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    for order in [0, thread_order(cx), 3] {
        let block = allocate_block(cx, &env, order, rounds_bound(&env, order))?;
        cx.info(format_args!(
            "ALLOCATE_VP_BLOCK({order}) = {:#x}",
            block.base
        ));
        expect(
            format_args!("FREE_VP_BLOCK({:#x})", block.base),
            free(cx, block.base)?,
            Ret::SUCCESS,
        )?;
    }
    Ok(())
}

/// A KVM-sized block (order 11, 2048 VPs) cannot be backed by what a reset leaves (only
/// the sub-pages holding the HW-thread VPs and their ENDs, §5.3/§13.3; 2048 VPs need
/// 16384 ENDs = 8 END sub-pages): OPAL must ask for pages with OPAL_XIVE_PROVISIONING, and
/// the protocol must converge.
pub fn provisioning(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let order = 11;
    let block = allocate_block(cx, &env, order, rounds_bound(&env, order))?;
    cx.info(format_args!(
        "ALLOCATE_VP_BLOCK({order}) = {:#x} after {} provisioning rounds",
        block.base, block.rounds
    ));
    if block.rounds == 0 {
        fail!("ALLOCATE_VP_BLOCK({order}) never returned OPAL_XIVE_PROVISIONING (xive.md §13.3)");
    }
    expect(
        format_args!("FREE_VP_BLOCK({:#x})", block.base),
        free(cx, block.base)?,
        Ret::SUCCESS,
    )
}

fn free(cx: &Ctx, base: u64) -> CaseResult<Ret> {
    calls::free_vp_block(cx, base)
}

/// GET/SET_VP_INFO on an allocated VP (§13.3, P10 §11.5): not ENABLED until SET_VP_INFO
/// says so; then ENABLED, the CAM line of its NVT, the report pair given, its chip.
pub fn info(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let block = allocate_block(cx, &env, 3, rounds_bound(&env, 3))?;
    for offset in [0, 5] {
        let vp = block.base + offset;
        let d = match env.layout.decode(vp) {
            Ok(d) => d,
            Err(e) => fail!("VP {vp:#x} does not decode: {e:?}"),
        };
        let flags = vp_flags(cx, vp)?;
        if flags & spec::vp_flags::ENABLED != 0 {
            fail!("GET_VP_INFO({vp:#x}) says ENABLED before SET_VP_INFO (xive.md §13.3: NVTs are not valid)");
        }
        set_vp(cx, vp, spec::vp_flags::ENABLED)?;
        let (mut fl, mut cam, mut pair, mut chip) =
            (Out::new(), Out::new(), Out::new(), Out::new());
        let r = calls::get_vp_info(
            cx,
            vp,
            Some(&mut fl),
            Some(&mut cam),
            Some(&mut pair),
            Some(&mut chip),
        )?;
        expect(format_args!("GET_VP_INFO({vp:#x})"), r, Ret::SUCCESS)?;
        let want_flags = spec::vp_flags::ENABLED
            | if env.gen == Generation::P10 && env.save_restore {
                spec::vp_flags::SAVE_RESTORE
            } else {
                0
            };
        expect_eq(
            format_args!("GET_VP_INFO({vp:#x}) flags"),
            fl.get("flags")?,
            want_flags,
        )?;
        expect_eq(
            format_args!(
                "GET_VP_INFO({vp:#x}) cam (block {}, index {:#x})",
                d.block, d.index
            ),
            cam.get("cam")?,
            env.gen.cam(d.block, d.index, env.save_restore),
        )?;
        expect_eq(
            format_args!("GET_VP_INFO({vp:#x}) report_cl_pair"),
            pair.get("report_cl_pair")?,
            0,
        )?;
        let want_chip = env
            .provision_chips
            .as_slice()
            .get(d.block as usize)
            .copied();
        expect_eq(
            format_args!(
                "GET_VP_INFO({vp:#x}) chip_id (ibm,xive-provision-chips[{}])",
                d.block
            ),
            Some(chip.get("chip_id")? as u32),
            want_chip,
        )?;
        let r = retry_busy(cx, || {
            calls::set_vp_info(cx, vp, spec::vp_flags::ENABLED, 0x1)
        })?;
        expect(
            format_args!("SET_VP_INFO({vp:#x}, ENABLED, 0x1) (report_cl_pair & 0xff != 0)"),
            r,
            Ret::err(OpalError::Parameter),
        )?;
        set_vp(cx, vp, 0)?;
        if vp_flags(cx, vp)? & spec::vp_flags::ENABLED != 0 {
            fail!("GET_VP_INFO({vp:#x}) still says ENABLED after SET_VP_INFO(0)");
        }
    }
    expect(
        format_args!("FREE_VP_BLOCK({:#x})", block.base),
        free(cx, block.base)?,
        Ret::SUCCESS,
    )
}

fn vp_flags(cx: &Ctx, vp: u64) -> CaseResult<u64> {
    let mut flags = Out::new();
    let r = calls::get_vp_info(cx, vp, Some(&mut flags), None, None, None)?;
    expect(format_args!("GET_VP_INFO({vp:#x})"), r, Ret::SUCCESS)?;
    flags.get("flags")
}

/// GET_VP_INFO on a physical thread's VP (V=0, index = PIR, §3.2): enabled after a reset
/// to exploitation mode, on the thread's chip, CAM line of HW VP `0x80 | PIR & 0x7f`.
pub fn info_hw_thread(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = u64::from(env.boot_pir);
    let (mut fl, mut cam, mut chip) = (Out::new(), Out::new(), Out::new());
    let r = calls::get_vp_info(cx, vp, Some(&mut fl), Some(&mut cam), None, Some(&mut chip))?;
    expect(format_args!("GET_VP_INFO(PIR {vp:#x})"), r, Ret::SUCCESS)?;
    if fl.get("flags")? & spec::vp_flags::ENABLED == 0 {
        fail!("GET_VP_INFO(PIR {vp:#x}) is not ENABLED after XIVE_RESET(EXPL) (xive.md §13.3)");
    }
    expect_eq(
        format_args!("GET_VP_INFO(PIR {vp:#x}) chip_id"),
        chip.get("chip_id")? as u32,
        env.chip,
    )?;
    if env.single_chip {
        let index = spec::HW_VP_BASE | (env.boot_pir & 0x7f);
        expect_eq(
            format_args!("GET_VP_INFO(PIR {vp:#x}) cam (block 0, HW VP {index:#x})"),
            cam.get("cam")?,
            env.gen.cam(0, index, env.save_restore),
        )?;
    }
    // A PIR no CPU has does not decode (§3.2): one above every thread's, and one in a
    // gap between threads if there is one (skiboot accepts those, see below).
    let pirs = cx.sys.threads;
    let max = pirs.iter().map(|t| t.pir).max().unwrap_or(0);
    let mut flags = Out::new();
    let r = calls::get_vp_info(cx, u64::from(max + 1), Some(&mut flags), None, None, None)?;
    expect(
        format_args!("GET_VP_INFO(PIR {:#x}) (above every thread)", max + 1),
        r,
        Ret::err(OpalError::Parameter),
    )?;
    let Some(hole) = (0..max).find(|p| !pirs.iter().any(|t| t.pir == *p)) else {
        return Ok(());
    };
    let mut flags = Out::new();
    let r = calls::get_vp_info(cx, u64::from(hole), Some(&mut flags), None, None, None)?;
    if r == Ret::SUCCESS {
        return Err(deviation(format_args!(
            "GET_VP_INFO(PIR {hole:#x}) succeeded though no thread has that PIR (xive.md §3.2 says \
             OPAL_PARAMETER; skiboot's find_cpu_by_pir accepts every PIR up to the highest)"
        )));
    }
    expect(
        format_args!("GET_VP_INFO(PIR {hole:#x}) (no such thread)"),
        r,
        Ret::err(OpalError::Parameter),
    )
}

/// FREE_VP_BLOCK of something that is not a block base: OPAL_PARAMETER (§13.3).
pub fn free_bad_base(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let block = allocate_block(cx, &env, 3, rounds_bound(&env, 3))?;
    expect(
        format_args!("FREE_VP_BLOCK({:#x}) (base + 1)", block.base + 1),
        free(cx, block.base + 1)?,
        Ret::err(OpalError::Parameter),
    )?;
    expect(
        format_args!("FREE_VP_BLOCK({:#x})", block.base),
        free(cx, block.base)?,
        Ret::SUCCESS,
    )
}

/// FREE_VP_BLOCK with an enabled VP answers OPAL_XIVE_FREE_ACTIVE and frees nothing
/// (§13.3: check all VPs first). skiboot frees the VPs before the enabled one and then
/// returns FREE_ACTIVE (recorded in §13.3 and §16 as not to be replicated): the first VP
/// loses its END set, which GET_QUEUE_INFO shows as a different escalation girq (the girq
/// names the VP's END, §3.1) or as a VP whose queues no longer resolve.
pub fn free_active(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let order = env.layout.alloc_bits + 1;
    let block = allocate_block(cx, &env, order, rounds_bound(&env, order))?;
    let (first, second) = (block.base, block.base + 1);
    let before = escalation_irq(cx, first)?;
    let Ok(before) = before else {
        fail!(
            "GET_QUEUE_INFO({first:#x}, 0) on a new block returned {}",
            before.unwrap_err()
        );
    };
    set_vp(cx, second, spec::vp_flags::ENABLED)?;
    expect(
        format_args!("FREE_VP_BLOCK({first:#x}) with VP {second:#x} enabled"),
        free(cx, first)?,
        Ret::err(OpalError::XiveFreeActive),
    )?;
    let after = escalation_irq(cx, first)?;
    set_vp(cx, second, 0)?;
    expect(
        format_args!("FREE_VP_BLOCK({first:#x}) once disabled"),
        free(cx, first)?,
        Ret::SUCCESS,
    )?;
    match after {
        Ok(esc) if esc == before => Ok(()),
        Ok(esc) => Err(deviation(format_args!(
            "after FREE_VP_BLOCK refused with XIVE_FREE_ACTIVE, VP {first:#x} prio 0 escalates to {esc:#x} \
             instead of {before:#x}: its END set was freed anyway (xive.md §13.3, §16)"
        ))),
        Err(r) if r.is(OpalError::Parameter) => Err(deviation(format_args!(
            "after FREE_VP_BLOCK refused with XIVE_FREE_ACTIVE, GET_QUEUE_INFO({first:#x}, 0) returned {r}: \
             its END set was freed anyway (xive.md §13.3, §16)"
        ))),
        Err(r) => fail!("GET_QUEUE_INFO({first:#x}, 0) after the refused free returned {r}"),
    }
}

/// GET_QUEUE_INFO(vp, 0)'s escalation girq, or the error it returned.
fn escalation_irq(cx: &Ctx, vp: u64) -> CaseResult<Result<u64, Ret>> {
    let mut out = QueueInfoOut {
        escalate_irq: Some(Out::new()),
        ..Default::default()
    };
    let r = calls::get_queue_info(cx, vp, 0, &mut out)?;
    if r != Ret::SUCCESS {
        return Ok(Err(r));
    }
    match &out.escalate_irq {
        Some(o) => Ok(Ok(o.get("escalate_irq")?)),
        None => Ok(Err(r)),
    }
}

/// The VP allocator runs out with OPAL_RESOURCE (§13.3): a block larger than a block's
/// VP space (P9 2^17, §5.3; P10 8 Mi ENDs / priorities, §11.3) can never be had, nor can
/// the whole space, because the HW-thread VPs 0x80..0xff are reserved in it (§3.2).
pub fn exhaustion(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let space = env.gen.vp_space_order(env.priorities);
    let n = env.layout.alloc_bits;
    for (order, why) in [
        (n + space + 1, "larger than the VP space"),
        (
            n + space,
            "the whole VP space, which holds the reserved HW-thread VPs",
        ),
        (31, "the largest order a VP id can encode"),
    ] {
        let r = retry_busy(cx, || calls::allocate_vp_block(cx, order))?;
        expect(
            format_args!("ALLOCATE_VP_BLOCK({order}) ({why})"),
            r,
            Ret::err(OpalError::Resource),
        )?;
    }
    // The allocator is still usable.
    let block = allocate_block(cx, &env, 3, rounds_bound(&env, 3))?;
    expect(
        format_args!("FREE_VP_BLOCK({:#x})", block.base),
        free(cx, block.base)?,
        Ret::SUCCESS,
    )
}

/// Fills the VP space: a block of half the space fits once (the other half holds the
/// HW-thread VPs, §3.2), a second one gets OPAL_RESOURCE; after FREE_VP_BLOCK the same
/// request succeeds again, at the same base (the only place it fits).
///
/// The pages such a block needs are donated up front (bounded by §13.3's sizing), so one
/// ALLOCATE_VP_BLOCK does the work instead of hundreds of provisioning rounds.
pub fn fill(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let local = env.gen.vp_space_order(env.priorities) - 1;
    let order = env.layout.alloc_bits + local;
    let pages = provision_pages_bound(env.gen, env.priorities, local);
    let bytes = pages * spec::PROVISION_PAGE * env.provision_chips.len() as u64;
    if bytes > cx.arena.range().len() / 2 {
        return Err(skip(format_args!(
            "a block of order {order} needs up to {} MiB of donated pages; the payload has {} MiB",
            bytes >> 20,
            cx.arena.range().len() >> 20
        )));
    }
    for _ in 0..pages {
        donate_round(cx, &env)?;
    }
    let block = allocate_block(cx, &env, order, 4)?;
    cx.info(format_args!(
        "ALLOCATE_VP_BLOCK({order}) = {:#x}",
        block.base
    ));
    let r = retry_busy(cx, || calls::allocate_vp_block(cx, order))?;
    expect(
        format_args!("a second ALLOCATE_VP_BLOCK({order})"),
        r,
        Ret::err(OpalError::Resource),
    )?;
    expect(
        format_args!("FREE_VP_BLOCK({:#x})", block.base),
        free(cx, block.base)?,
        Ret::SUCCESS,
    )?;
    let again = allocate_block(cx, &env, order, 4)?;
    expect_eq(
        format_args!("ALLOCATE_VP_BLOCK({order}) after freeing the only block that fits"),
        again.base,
        block.base,
    )?;
    expect(
        format_args!("FREE_VP_BLOCK({:#x})", again.base),
        free(cx, again.base)?,
        Ret::SUCCESS,
    )
}
