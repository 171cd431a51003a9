// SPDX-License-Identifier: Apache-2.0
//! The XIVE area: the exploitation-mode OPAL calls Linux and KVM make (xive.md §13, §14),
//! checked against the specification, including exhaustion of the IRQ and VP allocators.
//!
//! Every case starts from `OPAL_XIVE_RESET(EXPL)` with the arena empty (`before_each`),
//! so cases do not depend on each other. Expected values come from xive.md, cited by
//! section; where the specification records a skiboot behaviour it rejects (§16), the
//! case reports skiboot's answer as a DEVIATION rather than a failure.
//!
//! Generation-aware: P10 has no XICS emulation and resets always land in exploitation
//! mode (§11.5), VP space and table geometry differ (§5.3, §11.3), CAM lines differ.

pub(crate) mod calls;
mod delivery;
mod irq;
mod queue;
mod reset;
mod vp;

use conformance::list::List;
use conformance::spec::{self, Generation, VpLayout};
use conformance::system::MAX_CHIPS;
use opal_api::token::*;
use opal_api::OpalError;

use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx, Verdict};
use calls::{Out, Page};

/// Tokens 128–144 and 170 (§13.2).
pub const TOKENS: &[u64] = &[
    OPAL_XIVE_RESET,
    OPAL_XIVE_GET_IRQ_INFO,
    OPAL_XIVE_GET_IRQ_CONFIG,
    OPAL_XIVE_SET_IRQ_CONFIG,
    OPAL_XIVE_GET_QUEUE_INFO,
    OPAL_XIVE_SET_QUEUE_INFO,
    OPAL_XIVE_DONATE_PAGE,
    OPAL_XIVE_ALLOCATE_VP_BLOCK,
    OPAL_XIVE_FREE_VP_BLOCK,
    OPAL_XIVE_GET_VP_INFO,
    OPAL_XIVE_SET_VP_INFO,
    OPAL_XIVE_ALLOCATE_IRQ,
    OPAL_XIVE_FREE_IRQ,
    OPAL_XIVE_SYNC,
    OPAL_XIVE_DUMP,
    OPAL_XIVE_GET_QUEUE_STATE,
    OPAL_XIVE_SET_QUEUE_STATE,
    OPAL_XIVE_GET_VP_STATE,
];

pub static AREA: Area = Area {
    name: "xive",
    tokens: TOKENS,
    before_each: Some(start_clean),
    cases: &[
        Case {
            name: "xive.tokens",
            run: tokens,
        },
        Case {
            name: "xive.reset.exploitation",
            run: reset::exploitation,
        },
        Case {
            name: "xive.reset.bad_mode",
            run: reset::bad_mode,
        },
        Case {
            name: "xive.reset.emulation",
            run: reset::emulation,
        },
        Case {
            name: "xive.donate.bad_args",
            run: vp::donate_bad_args,
        },
        Case {
            name: "xive.vp.alloc",
            run: vp::alloc,
        },
        Case {
            name: "xive.vp.provisioning",
            run: vp::provisioning,
        },
        Case {
            name: "xive.vp.info",
            run: vp::info,
        },
        Case {
            name: "xive.vp.info_hw_thread",
            run: vp::info_hw_thread,
        },
        Case {
            name: "xive.vp.free_bad_base",
            run: vp::free_bad_base,
        },
        Case {
            name: "xive.vp.free_active",
            run: vp::free_active,
        },
        Case {
            name: "xive.vp.exhaustion",
            run: vp::exhaustion,
        },
        Case {
            name: "xive.queue.info",
            run: queue::info,
        },
        Case {
            name: "xive.queue.enable_without_queue",
            run: queue::enable_without_queue,
        },
        Case {
            name: "xive.queue.hw_thread",
            run: queue::hw_thread,
        },
        Case {
            name: "xive.queue.state_after_enable",
            run: queue::state_after_enable,
        },
        Case {
            name: "xive.queue.state_roundtrip",
            run: queue::state_roundtrip,
        },
        Case {
            name: "xive.queue.state_disabled",
            run: queue::state_disabled,
        },
        Case {
            name: "xive.queue.bad_priority",
            run: queue::bad_priority,
        },
        Case {
            name: "xive.queue.state_null_pointers",
            run: queue::state_null_pointers,
        },
        Case {
            name: "xive.queue.bad_size",
            run: queue::bad_size,
        },
        Case {
            name: "xive.queue.misaligned_page",
            run: queue::misaligned_page,
        },
        Case {
            name: "xive.irq.alloc_free",
            run: irq::alloc_free,
        },
        Case {
            name: "xive.delivery.enqueue",
            run: delivery::enqueue,
        },
        Case {
            name: "xive.delivery.wrap",
            run: delivery::wrap,
        },
        Case {
            name: "xive.delivery.restore_state",
            run: delivery::restore_state,
        },
        Case {
            name: "xive.delivery.masked",
            run: delivery::masked,
        },
        Case {
            name: "xive.delivery.other_thread",
            run: delivery::other_thread,
        },
        Case {
            name: "xive.irq.exhaustion",
            run: irq::exhaustion,
        },
        Case {
            name: "xive.vp.fill",
            run: vp::fill,
        },
        Case {
            name: "xive.reset.starts_over",
            run: reset::starts_over,
        },
    ],
};

/// `XIVE_RESET(EXPL)` before each case: the firmware forgets every allocation, donated
/// page and queue (§13.3), which is also what lets the runner reuse the arena.
fn start_clean(cx: &mut Ctx) -> CaseResult {
    expect(
        format_args!("XIVE_RESET(EXPL)"),
        calls::reset(cx, spec::reset_mode::EXPL)?,
        Ret::SUCCESS,
    )
}

/// `OPAL_CHECK_TOKEN` says 1 for every XIVE token (§13.2).
fn tokens(cx: &mut Ctx) -> CaseResult {
    let mut absent = crate::runner::Msg::new();
    for &t in TOKENS {
        let r = cx.opal.check_token(t);
        if r != Ret(opal_api::OPAL_TOKEN_PRESENT) {
            let _ = core::fmt::Write::write_fmt(&mut absent, format_args!(" {t}={r}"));
        }
    }
    if !absent.as_str().is_empty() {
        fail!(
            "OPAL_CHECK_TOKEN is not 1 (present) for:{}",
            absent.as_str()
        );
    }
    Ok(())
}

/// What the XIVE cases need from the device tree.
pub struct Env {
    pub gen: Generation,
    pub layout: VpLayout,
    /// `ibm,xive-provision-chips`: where DONATE_PAGE pages go, block by block.
    pub provision_chips: List<u32, MAX_CHIPS>,
    /// `ibm,xive-#priorities`: valid priorities are `0..priorities`.
    pub priorities: u32,
    pub save_restore: bool,
    pub boot_pir: u32,
    /// The boot thread's chip, for ALLOCATE_IRQ.
    pub chip: u32,
    pub single_chip: bool,
}

impl Env {
    pub fn get(cx: &Ctx) -> CaseResult<Env> {
        let sys = cx.sys;
        let Some(gen) = sys.generation else {
            fail!(
                "unknown processor generation (PVR {:x?}): the XIVE cases know P9 and P10",
                sys.pvr
            );
        };
        let Some(x) = sys.xive else {
            fail!("no device-tree node compatible with ibm,opal-xive-pe (xive.md §12.4)");
        };
        let Some(layout) = VpLayout::from_provision_chips(x.provision_chips.len()) else {
            fail!(
                "ibm,xive-provision-chips has {} entries, not a power of two (xive.md §12.4)",
                x.provision_chips.len()
            );
        };
        let priorities = match x.priorities {
            Some(p @ 1..=8) => p,
            other => fail!("ibm,xive-#priorities is {other:?}, not 1..8 (xive.md §12.4)"),
        };
        if !x.eq_sizes.contains(&12) || !x.eq_sizes.contains(&16) {
            fail!(
                "ibm,xive-eq-sizes {:?} lacks 12 or 16 (xive.md §6.4)",
                x.eq_sizes
            );
        }
        let Some(chip) = sys.chip_of(sys.boot_pir) else {
            fail!("no CPU node has the boot PIR {:#x}", sys.boot_pir);
        };
        Ok(Env {
            gen,
            layout,
            provision_chips: x.provision_chips,
            priorities,
            save_restore: x.save_restore,
            boot_pir: sys.boot_pir,
            chip,
            single_chip: sys.chips().len() == 1,
        })
    }
}

/// Retries a call that may answer OPAL_BUSY, as Linux does for SET_QUEUE_INFO,
/// SET_VP_INFO, ALLOCATE_IRQ, FREE_IRQ and ALLOCATE_VP_BLOCK (§13.1).
pub fn retry_busy(cx: &Ctx, mut f: impl FnMut() -> CaseResult<Ret>) -> CaseResult<Ret> {
    for _ in 0..100 {
        let r = f()?;
        if !r.is(OpalError::Busy) {
            return Ok(r);
        }
        cx.opal.poll_events();
    }
    fail!("still OPAL_BUSY after 100 tries")
}

/// One 64 KiB page per provisioning chip (§13.3 DONATE_PAGE, §14.1 step 3).
pub fn donate_round(cx: &mut Ctx, env: &Env) -> CaseResult {
    for &chip in env.provision_chips.iter() {
        let page = Page::alloc(&mut cx.arena, spec::PROVISION_PAGE, spec::PROVISION_PAGE)?;
        expect(
            format_args!("DONATE_PAGE(chip {chip}, {:#x})", page.addr()),
            calls::donate_page(cx, chip, page)?,
            Ret::SUCCESS,
        )?;
    }
    Ok(())
}

/// A VP block and how many provisioning rounds it took.
pub struct Block {
    pub base: u64,
    pub rounds: u32,
}

/// ALLOCATE_VP_BLOCK with the provisioning protocol: on OPAL_XIVE_PROVISIONING donate a
/// page per provisioning chip and retry, at most `max_rounds` times (§13.3, §14.1).
/// Checks the base's encoding (§3.2).
pub fn allocate_block(cx: &mut Ctx, env: &Env, order: u32, max_rounds: u32) -> CaseResult<Block> {
    let mut rounds = 0;
    loop {
        let r = retry_busy(cx, || calls::allocate_vp_block(cx, order))?;
        if r.is(OpalError::XiveProvisioning) {
            rounds += 1;
            if rounds > max_rounds {
                fail!("ALLOCATE_VP_BLOCK({order}) still wants pages after {max_rounds} provisioning rounds");
            }
            donate_round(cx, env)?;
            continue;
        }
        if r.signed() < 0 {
            fail!("ALLOCATE_VP_BLOCK({order}) returned {r}");
        }
        if let Err(e) = env.layout.check_block_base(r.0, order) {
            fail!("ALLOCATE_VP_BLOCK({order}) returned {r}, not a valid block base (xive.md §3.2): {e:?}");
        }
        return Ok(Block { base: r.0, rounds });
    }
}

/// Upper bound on provisioning rounds for a block of `order`: one per page it can need
/// (§13.3), plus slack.
pub fn rounds_bound(env: &Env, order: u32) -> u32 {
    let local = env.layout.local_order(order);
    spec::provision_pages_bound(env.gen, env.priorities, local) as u32 + 2
}

/// A small block (Linux's pool: order of the thread count, §14.1), its first VP enabled.
pub fn enabled_vp(cx: &mut Ctx, env: &Env) -> CaseResult<u64> {
    let order = thread_order(cx);
    let block = allocate_block(cx, env, order, rounds_bound(env, order))?;
    set_vp(cx, block.base, spec::vp_flags::ENABLED)?;
    Ok(block.base)
}

/// `order(nr_cpus)`, as Linux sizes its VP pool.
pub fn thread_order(cx: &Ctx) -> u32 {
    (cx.sys.threads.len().max(1) as u32)
        .next_power_of_two()
        .trailing_zeros()
}

pub fn set_vp(cx: &Ctx, vp: u64, flags: u64) -> CaseResult {
    let r = retry_busy(cx, || calls::set_vp_info(cx, vp, flags, 0))?;
    expect(
        format_args!("SET_VP_INFO({vp:#x}, {flags:#x}, 0)"),
        r,
        Ret::SUCCESS,
    )
}

/// A zeroed queue page of `2^qsize` bytes, naturally aligned (§6.4).
pub fn queue_page(cx: &mut Ctx, qsize: u64) -> CaseResult<Page> {
    Page::alloc(&mut cx.arena, 1 << qsize, 1 << qsize)
}

/// SET_QUEUE_INFO(vp, prio, new page, qsize, ENABLED | ALWAYS_NOTIFY), as Linux does.
pub fn enable_queue(cx: &mut Ctx, vp: u64, prio: u32, qsize: u64) -> CaseResult<Page> {
    let page = queue_page(cx, qsize)?;
    let flags = spec::queue_flags::ENABLED | spec::queue_flags::ALWAYS_NOTIFY;
    let r = retry_busy(cx, || {
        calls::set_queue_info(cx, vp, prio, page, qsize, flags)
    })?;
    expect(
        format_args!(
            "SET_QUEUE_INFO({vp:#x}, prio {prio}, {:#x}, {qsize}, ENABLED|ALWAYS_NOTIFY)",
            page.addr()
        ),
        r,
        Ret::SUCCESS,
    )?;
    Ok(page)
}

pub fn disable_queue(cx: &Ctx, vp: u64, prio: u32) -> CaseResult {
    let r = retry_busy(cx, || calls::set_queue_info(cx, vp, prio, Page::NONE, 0, 0))?;
    expect(
        format_args!("SET_QUEUE_INFO({vp:#x}, prio {prio}, 0, 0, 0)"),
        r,
        Ret::SUCCESS,
    )
}

/// GET_QUEUE_STATE that must succeed: (toggle, index).
pub fn queue_state(cx: &Ctx, vp: u64, prio: u32) -> CaseResult<(u32, u32)> {
    let (mut t, mut i) = (Out::new(), Out::new());
    let r = calls::get_queue_state(cx, vp, prio, Some(&mut t), Some(&mut i))?;
    expect(
        format_args!("GET_QUEUE_STATE({vp:#x}, prio {prio})"),
        r,
        Ret::SUCCESS,
    )?;
    Ok((t.get("toggle")? as u32, i.get("index")? as u32))
}

/// A girq ALLOCATE_IRQ may return: judged on the full 64-bit r3, below the escalation
/// bit and at or above index 0x10 (§3.1, §13.1; `spec::girq_from_r3`).
pub fn check_girq(env: &Env, what: core::fmt::Arguments<'_>, r: Ret) -> CaseResult<u64> {
    match spec::girq_from_r3(env.gen, r.0) {
        Ok(girq) => Ok(girq),
        Err(spec::GirqError::Negative(_)) => fail!("{what}: returned {r}"),
        Err(spec::GirqError::NotAGirq(_)) => fail!(
            "{what}: returned {r}, not a girq (must be below {:#x} with an index of at least {:#x}, xive.md §3.1)",
            env.gen.girq_escalation_bit(),
            spec::FIRST_IRQ_INDEX
        ),
    }
}

/// Turns "the answer is the one the spec records for skiboot and rejects" into a
/// DEVIATION verdict.
pub fn deviation(args: core::fmt::Arguments<'_>) -> Verdict {
    Verdict::Deviation(crate::msg!("{args}"))
}

/// A case that does not apply to this machine.
pub fn skip(args: core::fmt::Arguments<'_>) -> Verdict {
    Verdict::Skip(crate::msg!("{args}"))
}
