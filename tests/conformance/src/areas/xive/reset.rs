// SPDX-License-Identifier: Apache-2.0
//! `OPAL_XIVE_RESET` (xive.md §13.3, P10 deltas §11.5) and mode gating (§13.2).

use conformance::spec::{self, Generation};
use opal_api::OpalError;

use super::calls::{self, Out, Page};
use super::{allocate_block, check_girq, enable_queue, rounds_bound, set_vp, Env};
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, CaseResult, Ctx};

/// RESET(EXPL) succeeds, and again (reset is idempotent, §15.3 item 13).
pub fn exploitation(cx: &mut Ctx) -> CaseResult {
    for _ in 0..2 {
        let r = calls::reset(cx, spec::reset_mode::EXPL)?;
        expect(format_args!("XIVE_RESET(EXPL)"), r, Ret::SUCCESS)?;
    }
    Ok(())
}

/// RESET(2): P9 rejects versions above 1, P10 rejects unknown option bits; both
/// OPAL_PARAMETER (§13.3, §11.5).
pub fn bad_mode(cx: &mut Ctx) -> CaseResult {
    expect(
        format_args!("XIVE_RESET(2)"),
        calls::reset(cx, 2)?,
        Ret::err(OpalError::Parameter),
    )?;
    expect(
        format_args!("XIVE_RESET(EXPL) after a rejected reset"),
        calls::reset(cx, spec::reset_mode::EXPL)?,
        Ret::SUCCESS,
    )
}

/// RESET(EMU). P9: back to XICS emulation, where the exploitation-only calls answer
/// OPAL_WRONG_STATE and GET_VP_INFO still works (§13.2). P10: there is no emulation, the
/// reset lands in exploitation mode anyway (§11.5), so ALLOCATE_IRQ works.
pub fn emulation(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    expect(
        format_args!("XIVE_RESET(EMU)"),
        calls::reset(cx, spec::reset_mode::EMU)?,
        Ret::SUCCESS,
    )?;
    match env.gen {
        Generation::P9 => {
            let wrong = Ret::err(OpalError::WrongState);
            let r = calls::allocate_irq(cx, env.chip)?;
            expect(
                format_args!("in emulation mode, ALLOCATE_IRQ({})", env.chip),
                r,
                wrong,
            )?;
            let r = calls::allocate_vp_block(cx, 1)?;
            expect(
                format_args!("in emulation mode, ALLOCATE_VP_BLOCK(1)"),
                r,
                wrong,
            )?;
            let (mut t, mut i) = (Out::new(), Out::new());
            let vp = u64::from(env.boot_pir);
            let r = calls::get_queue_state(cx, vp, 7, Some(&mut t), Some(&mut i))?;
            expect(
                format_args!("in emulation mode, GET_QUEUE_STATE({vp:#x}, 7)"),
                r,
                wrong,
            )?;
            let page = Page::alloc(&mut cx.arena, spec::PROVISION_PAGE, spec::PROVISION_PAGE)?;
            let r = calls::donate_page(cx, env.chip, page)?;
            expect(format_args!("in emulation mode, DONATE_PAGE"), r, wrong)?;
            let mut flags = Out::new();
            let r = calls::get_vp_info(cx, vp, Some(&mut flags), None, None, None)?;
            expect(
                format_args!("in emulation mode, GET_VP_INFO({vp:#x})"),
                r,
                Ret::SUCCESS,
            )?;
        }
        Generation::P10 => {
            let what = format_args!("after XIVE_RESET(EMU) on P10, ALLOCATE_IRQ({})", env.chip);
            let girq = check_girq(&env, what, calls::allocate_irq(cx, env.chip)?)?;
            expect(
                format_args!("FREE_IRQ({girq:#x})"),
                calls::free_irq(cx, girq)?,
                Ret::SUCCESS,
            )?;
        }
    }
    expect(
        format_args!("XIVE_RESET(EXPL)"),
        calls::reset(cx, spec::reset_mode::EXPL)?,
        Ret::SUCCESS,
    )
}

/// RESET returns the allocators to their initial state and forgets queues and enabled
/// VPs (§13.3 XIVE_RESET, §15.3 item 8): the same requests get the same answers.
pub fn starts_over(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let order = 3;
    let first = allocate_block(cx, &env, order, rounds_bound(&env, order))?;
    let what = format_args!("ALLOCATE_IRQ({})", env.chip);
    let girq = check_girq(&env, what, calls::allocate_irq(cx, env.chip)?)?;
    set_vp(cx, first.base, spec::vp_flags::ENABLED)?;
    enable_queue(cx, first.base, 0, 16)?;

    expect(
        format_args!("XIVE_RESET(EXPL)"),
        calls::reset(cx, spec::reset_mode::EXPL)?,
        Ret::SUCCESS,
    )?;
    // The arena pages given before the reset are the firmware's no more, but leave them
    // alone anyway: new requests get new pages.
    let again = allocate_block(cx, &env, order, rounds_bound(&env, order))?;
    expect_eq(
        format_args!(
            "ALLOCATE_VP_BLOCK({order}) after a reset (first was {:#x})",
            first.base
        ),
        again.base,
        first.base,
    )?;
    let what = format_args!("ALLOCATE_IRQ({}) after a reset", env.chip);
    let girq_again = check_girq(&env, what, calls::allocate_irq(cx, env.chip)?)?;
    expect_eq(
        format_args!("ALLOCATE_IRQ after a reset (first was {girq:#x})"),
        girq_again,
        girq,
    )?;

    let mut flags = Out::new();
    let r = calls::get_vp_info(cx, again.base, Some(&mut flags), None, None, None)?;
    expect(
        format_args!("GET_VP_INFO({:#x})", again.base),
        r,
        Ret::SUCCESS,
    )?;
    if flags.get("flags")? & spec::vp_flags::ENABLED != 0 {
        fail!(
            "VP {:#x} is still ENABLED after a reset (xive.md §13.3: valid NVTs are cleared)",
            again.base
        );
    }
    let (mut t, mut i) = (Out::new(), Out::new());
    let r = calls::get_queue_state(cx, again.base, 0, Some(&mut t), Some(&mut i))?;
    expect(
        format_args!(
            "GET_QUEUE_STATE({:#x}, 0) of a queue enabled before the reset",
            again.base
        ),
        r,
        Ret::err(OpalError::WrongState),
    )?;
    expect(
        format_args!("the final XIVE_RESET(EXPL)"),
        calls::reset(cx, spec::reset_mode::EXPL)?,
        Ret::SUCCESS,
    )
}
