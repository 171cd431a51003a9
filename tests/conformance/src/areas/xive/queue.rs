// SPDX-License-Identifier: Apache-2.0
//! Event queues: SET/GET_QUEUE_INFO and GET/SET_QUEUE_STATE (xive.md §6.4, §6.5, §13.3),
//! on allocated VPs (KVM's use) and on a hardware thread's VP (the host's use, §14.1).

use conformance::spec::{self, queue_entries, queue_flags, Generation};
use opal_api::OpalError;

use super::calls::{self, Out, Page, QueueInfoOut};
use super::{
    deviation, disable_queue, enable_queue, enabled_vp, queue_page, queue_state, retry_busy, Env,
};
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, CaseResult, Ctx, Verdict};

/// What GET_QUEUE_INFO reports, every output requested.
struct QueueInfo {
    qpage: u64,
    qsize: u64,
    qeoi_page: u64,
    escalate_irq: u64,
    qflags: u64,
}

fn queue_info(cx: &Ctx, vp: u64, prio: u32) -> CaseResult<QueueInfo> {
    let mut out = QueueInfoOut::all();
    let r = calls::get_queue_info(cx, vp, prio, &mut out)?;
    expect(
        format_args!("GET_QUEUE_INFO({vp:#x}, prio {prio})"),
        r,
        Ret::SUCCESS,
    )?;
    let get = |o: &Option<Out<8>>, what| o.as_ref().map_or(Ok(0), |o| o.get(what));
    Ok(QueueInfo {
        qpage: get(&out.qpage, "qpage")?,
        qsize: get(&out.qsize, "qsize")?,
        qeoi_page: get(&out.qeoi_page, "qeoi_page")?,
        escalate_irq: out
            .escalate_irq
            .as_ref()
            .map_or(Ok(0), |o| o.get("escalate_irq"))?,
        qflags: get(&out.qflags, "qflags")?,
    })
}

/// Compares GET_QUEUE_INFO's qpage with the page given. skiboot on P10 reports the END's
/// address-low field without shifting it back (`qpage >> 7` in the low word): recognised
/// and returned as a DEVIATION so the rest of the case still runs (docs/conformance.md).
fn check_qpage(
    env: &Env,
    what: core::fmt::Arguments<'_>,
    got: u64,
    page: Page,
) -> CaseResult<Option<Verdict>> {
    let want = page.addr();
    if got == want {
        return Ok(None);
    }
    let skiboot_p10 = (want >> 32) << 32 | (want & 0xffff_ffff) >> 7;
    if env.gen == Generation::P10 && got == skiboot_p10 {
        return Ok(Some(deviation(format_args!(
            "{what}: qpage {got:#x} is the queue address {want:#x} shifted right by 7 \
             (skiboot P10 returns END word 3's address field unshifted; docs/conformance.md)"
        ))));
    }
    fail!("{what}: qpage {got:#x}, the spec says {want:#x} (the page given to SET_QUEUE_INFO)")
}

/// Every priority of an enabled VP gets a 64 KiB queue; GET_QUEUE_INFO gives back the
/// page, the size and the flags, an escalation girq for each END of the VP's naturally
/// aligned END set (§3.3, escalation bit §3.1) and the END's ESn page, 128 KiB apart
/// (§6.5). Disabling reports page 0, size 0, flags 0 (§15.3 item 5).
pub fn info(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    let flags = queue_flags::ENABLED | queue_flags::ALWAYS_NOTIFY;
    let mut first: Option<QueueInfo> = None;
    let mut found = None;
    for prio in 0..env.priorities {
        let page = enable_queue(cx, vp, prio, 16)?;
        let q = queue_info(cx, vp, prio)?;
        found = found.or(check_qpage(
            &env,
            format_args!("prio {prio}"),
            q.qpage,
            page,
        )?);
        expect_eq(format_args!("prio {prio} qsize"), q.qsize, 16)?;
        expect_eq(format_args!("prio {prio} qflags"), q.qflags, flags)?;
        let esc_bit = env.gen.girq_escalation_bit();
        if q.escalate_irq & esc_bit == 0 {
            fail!("prio {prio} escalate_irq {:#x} lacks the escalation bit {esc_bit:#x} (xive.md §3.1)", q.escalate_irq);
        }
        if q.qeoi_page == 0 {
            fail!("prio {prio} qeoi_page is 0");
        }
        match &first {
            None => {
                let set = env.gen.ends_per_vp(env.priorities);
                if (q.escalate_irq & !esc_bit) % set != 0 {
                    fail!(
                        "prio 0 escalate_irq {:#x}: END {:#x} does not start an aligned set of {set} (xive.md §3.3)",
                        q.escalate_irq,
                        q.escalate_irq & !esc_bit
                    );
                }
                first = Some(q);
            }
            Some(f) => {
                let p = u64::from(prio);
                expect_eq(
                    format_args!("prio {prio} escalate_irq (END set base + prio, xive.md §3.3)"),
                    q.escalate_irq,
                    f.escalate_irq + p,
                )?;
                expect_eq(
                    format_args!(
                        "prio {prio} qeoi_page (END ESB pages 128 KiB apart, xive.md §6.5)"
                    ),
                    q.qeoi_page,
                    f.qeoi_page + p * spec::END_ESB_STRIDE,
                )?;
            }
        }
    }
    for prio in 0..env.priorities {
        disable_queue(cx, vp, prio)?;
        let q = queue_info(cx, vp, prio)?;
        expect_eq(
            format_args!("after disabling prio {prio}, (qpage, qsize, qflags)"),
            (q.qpage, q.qsize, q.qflags),
            (0, 0, 0),
        )?;
    }
    found.map_or(Ok(()), Err)
}

/// ENABLED with qsize 0 enables the END without a queue (§13.3 SET_QUEUE_INFO): page and
/// size read back as 0, flags ENABLED, and the queue state is the enable state.
pub fn enable_without_queue(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    let r = retry_busy(cx, || {
        calls::set_queue_info(cx, vp, 0, Page::NONE, 0, queue_flags::ENABLED)
    })?;
    expect(
        format_args!("SET_QUEUE_INFO({vp:#x}, 0, 0, 0, ENABLED)"),
        r,
        Ret::SUCCESS,
    )?;
    let q = queue_info(cx, vp, 0)?;
    expect_eq(
        format_args!("(qpage, qsize, qflags)"),
        (q.qpage, q.qsize, q.qflags),
        (0, 0, queue_flags::ENABLED),
    )?;
    expect_eq(
        format_args!("GET_QUEUE_STATE"),
        queue_state(cx, vp, 0)?,
        spec::QUEUE_STATE_AFTER_ENABLE,
    )?;
    disable_queue(cx, vp, 0)
}

/// The host's queue: the boot thread's VP (its PIR) at priority 7, as Linux sets it up
/// (§14.1 step 4); state and info as for allocated VPs.
pub fn hw_thread(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = u64::from(env.boot_pir);
    let prio = env.priorities - 1;
    let page = enable_queue(cx, vp, prio, 16)?;
    let q = queue_info(cx, vp, prio)?;
    let found = check_qpage(&env, format_args!("PIR {vp:#x} prio {prio}"), q.qpage, page)?;
    expect_eq(format_args!("PIR {vp:#x} prio {prio} qsize"), q.qsize, 16)?;
    expect_eq(
        format_args!("GET_QUEUE_STATE after enable"),
        queue_state(cx, vp, prio)?,
        spec::QUEUE_STATE_AFTER_ENABLE,
    )?;
    set_state(cx, vp, prio, 0, 42)?;
    expect_eq(
        format_args!("GET_QUEUE_STATE after SET_QUEUE_STATE(0, 42)"),
        queue_state(cx, vp, prio)?,
        (0, 42),
    )?;
    disable_queue(cx, vp, prio)?;
    let (mut t, mut i) = (Out::new(), Out::new());
    let r = calls::get_queue_state(cx, vp, prio, Some(&mut t), Some(&mut i))?;
    expect(
        format_args!("GET_QUEUE_STATE on the disabled queue"),
        r,
        Ret::err(OpalError::WrongState),
    )?;
    found.map_or(Ok(()), Err)
}

fn set_state(cx: &Ctx, vp: u64, prio: u32, toggle: u32, index: u32) -> CaseResult {
    // No OPAL_BUSY retry: Linux does not retry this call (§13.1).
    let r = calls::set_queue_state(cx, vp, prio, toggle, index)?;
    expect(
        format_args!("SET_QUEUE_STATE({vp:#x}, {prio}, {toggle}, {index})"),
        r,
        Ret::SUCCESS,
    )
}

/// Right after SET_QUEUE_INFO enables a queue its state is generation 1, index 0
/// (§6.4), for every priority.
pub fn state_after_enable(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    for prio in 0..env.priorities {
        enable_queue(cx, vp, prio, 16)?;
        expect_eq(
            format_args!("GET_QUEUE_STATE({vp:#x}, prio {prio}) after enable"),
            queue_state(cx, vp, prio)?,
            spec::QUEUE_STATE_AFTER_ENABLE,
        )?;
    }
    Ok(())
}

/// Any (toggle, index) with toggle in {0, 1} and index below the queue's entry count is
/// read back exactly (§15.3 item 5), for 4 KiB and 64 KiB queues; enabling the queue
/// again resets it to (1, 0) (§6.4).
pub fn state_roundtrip(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    for (prio, qsize) in [(0u32, 12u64), (1, 16)] {
        let entries = queue_entries(qsize) as u32;
        enable_queue(cx, vp, prio, qsize)?;
        for (t, i) in [
            (0, 0),
            (0, 1),
            (1, 1),
            (1, entries - 1),
            (0, entries / 2),
            (0, entries - 1),
            (1, 0),
        ] {
            set_state(cx, vp, prio, t, i)?;
            expect_eq(
                format_args!("qsize {qsize}: GET_QUEUE_STATE after SET_QUEUE_STATE({t}, {i})"),
                queue_state(cx, vp, prio)?,
                (t, i),
            )?;
        }
        set_state(cx, vp, prio, 0, 3)?;
        enable_queue(cx, vp, prio, qsize)?;
        expect_eq(
            format_args!("qsize {qsize}: GET_QUEUE_STATE after enabling the queue again"),
            queue_state(cx, vp, prio)?,
            spec::QUEUE_STATE_AFTER_ENABLE,
        )?;
    }
    Ok(())
}

/// GET/SET_QUEUE_STATE on a queue that is not enabled (never, or no longer) answer
/// OPAL_WRONG_STATE (§13.3).
pub fn state_disabled(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    let wrong = Ret::err(OpalError::WrongState);
    for when in ["never enabled", "disabled"] {
        if when == "disabled" {
            enable_queue(cx, vp, 0, 16)?;
            disable_queue(cx, vp, 0)?;
        }
        let (mut t, mut i) = (Out::new(), Out::new());
        let r = calls::get_queue_state(cx, vp, 0, Some(&mut t), Some(&mut i))?;
        expect(
            format_args!("GET_QUEUE_STATE({vp:#x}, 0) on a {when} queue"),
            r,
            wrong,
        )?;
        let r = calls::set_queue_state(cx, vp, 0, 0, 1)?;
        expect(
            format_args!("SET_QUEUE_STATE({vp:#x}, 0, 0, 1) on a {when} queue"),
            r,
            wrong,
        )?;
    }
    Ok(())
}

/// A priority at or above `ibm,xive-#priorities` (and 8 in any case) is OPAL_PARAMETER
/// for all four queue calls (§13.3 error matrix).
pub fn bad_priority(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    enable_queue(cx, vp, 0, 16)?;
    let page = queue_page(cx, 16)?;
    let param = Ret::err(OpalError::Parameter);
    let bad: &[u32] = if env.priorities == 8 {
        &[8]
    } else {
        &[env.priorities, 8]
    };
    for &prio in bad {
        let flags = queue_flags::ENABLED | queue_flags::ALWAYS_NOTIFY;
        let r = calls::set_queue_info(cx, vp, prio, page, 16, flags)?;
        expect(
            format_args!("SET_QUEUE_INFO({vp:#x}, prio {prio})"),
            r,
            param,
        )?;
        let r = calls::get_queue_info(cx, vp, prio, &mut QueueInfoOut::all())?;
        expect(
            format_args!("GET_QUEUE_INFO({vp:#x}, prio {prio})"),
            r,
            param,
        )?;
        let (mut t, mut i) = (Out::new(), Out::new());
        let r = calls::get_queue_state(cx, vp, prio, Some(&mut t), Some(&mut i))?;
        expect(
            format_args!("GET_QUEUE_STATE({vp:#x}, prio {prio})"),
            r,
            param,
        )?;
        let r = calls::set_queue_state(cx, vp, prio, 0, 1)?;
        expect(
            format_args!("SET_QUEUE_STATE({vp:#x}, prio {prio})"),
            r,
            param,
        )?;
    }
    Ok(())
}

/// GET_QUEUE_STATE's two out-pointers are required: a NULL one is OPAL_PARAMETER, and the
/// other buffer is left alone (§13.3).
pub fn state_null_pointers(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    enable_queue(cx, vp, 0, 16)?;
    let param = Ret::err(OpalError::Parameter);
    let mut t = Out::new();
    let r = calls::get_queue_state(cx, vp, 0, Some(&mut t), None)?;
    expect(
        format_args!("GET_QUEUE_STATE({vp:#x}, 0, &toggle, NULL)"),
        r,
        param,
    )?;
    if !t.untouched() {
        fail!("GET_QUEUE_STATE(.., &toggle, NULL) failed but wrote the toggle");
    }
    let mut i = Out::new();
    let r = calls::get_queue_state(cx, vp, 0, None, Some(&mut i))?;
    expect(
        format_args!("GET_QUEUE_STATE({vp:#x}, 0, NULL, &index)"),
        r,
        param,
    )?;
    if !i.untouched() {
        fail!("GET_QUEUE_STATE(.., NULL, &index) failed but wrote the index");
    }
    let r = calls::get_queue_state(cx, vp, 0, None, None)?;
    expect(
        format_args!("GET_QUEUE_STATE({vp:#x}, 0, NULL, NULL)"),
        r,
        param,
    )
}

/// With ENABLED, a queue size outside {0, 12, 16, 21, 24} is OPAL_PARAMETER (§13.3).
pub fn bad_size(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    let page = queue_page(cx, 16)?;
    for qsize in [11u64, 13, 15, 17, 25, 64] {
        let r = calls::set_queue_info(cx, vp, 0, page, qsize, queue_flags::ENABLED)?;
        expect(
            format_args!("SET_QUEUE_INFO({vp:#x}, 0, page, qsize {qsize}, ENABLED)"),
            r,
            Ret::err(OpalError::Parameter),
        )?;
    }
    Ok(())
}

/// A queue page must be naturally aligned (§6.4); the specification rejects a misaligned
/// one with OPAL_PARAMETER (§13.3, §16). skiboot does not check (recorded there).
pub fn misaligned_page(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let vp = enabled_vp(cx, &env)?;
    // Two 64 KiB pages, so the misaligned queue still lies in payload memory.
    let page = Page::alloc(&mut cx.arena, 2 << 16, 1 << 16)?.offset(0x1000);
    let flags = queue_flags::ENABLED | queue_flags::ALWAYS_NOTIFY;
    let r = retry_busy(cx, || calls::set_queue_info(cx, vp, 0, page, 16, flags))?;
    if r == Ret::SUCCESS {
        disable_queue(cx, vp, 0)?;
        return Err(deviation(format_args!(
            "SET_QUEUE_INFO accepted a 64 KiB queue at {:#x}, not 64 KiB aligned \
             (xive.md §13.3/§16: skiboot does not check; the spec says OPAL_PARAMETER)",
            page.addr()
        )));
    }
    expect(
        format_args!(
            "SET_QUEUE_INFO({vp:#x}, 0, {:#x} (misaligned), 16, ENABLED)",
            page.addr()
        ),
        r,
        Ret::err(OpalError::Parameter),
    )
}
