// SPDX-License-Identifier: Apache-2.0
//! ALLOCATE_IRQ / FREE_IRQ (xive.md §3.1, §13.3), up to exhaustion of a chip's IPI range.

use conformance::spec;
use opal_api::OpalError;

use super::calls;
use super::{check_girq, retry_busy, Env};
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, expect_eq, CaseResult, Ctx};

/// OPAL_XIVE_ANY_CHIP (§13.3 ALLOCATE_IRQ).
const ANY_CHIP: u32 = 0xffff_ffff;

fn allocate(cx: &Ctx, chip: u32) -> CaseResult<Ret> {
    retry_busy(cx, || calls::allocate_irq(cx, chip))
}

fn free(cx: &Ctx, girq: u64) -> CaseResult<Ret> {
    retry_busy(cx, || calls::free_irq(cx, girq))
}

/// Allocate, free, double free (OPAL_PARAMETER), first fit gives the freed girq back
/// (§3.1, §15.3 item 3); ANY_CHIP works; a chip that does not exist is OPAL_PARAMETER.
pub fn alloc_free(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let chip = env.chip;
    let girq = check_girq(
        &env,
        format_args!("ALLOCATE_IRQ({chip})"),
        allocate(cx, chip)?,
    )?;
    expect(
        format_args!("FREE_IRQ({girq:#x})"),
        free(cx, girq)?,
        Ret::SUCCESS,
    )?;
    expect(
        format_args!("FREE_IRQ({girq:#x}) again"),
        free(cx, girq)?,
        Ret::err(OpalError::Parameter),
    )?;
    let again = check_girq(
        &env,
        format_args!("ALLOCATE_IRQ({chip}) after a free"),
        allocate(cx, chip)?,
    )?;
    expect_eq(
        format_args!("ALLOCATE_IRQ after freeing {girq:#x} (first fit)"),
        again,
        girq,
    )?;
    let any = check_girq(
        &env,
        format_args!("ALLOCATE_IRQ(ANY_CHIP)"),
        allocate(cx, ANY_CHIP)?,
    )?;
    if any == girq {
        fail!("ALLOCATE_IRQ(ANY_CHIP) returned {any:#x}, which is still allocated");
    }
    let chips = cx.sys.chips();
    if let Some(absent) = (0..=0xffu32).find(|c| !chips.contains(c)) {
        expect(
            format_args!("ALLOCATE_IRQ({absent}) (no such chip)"),
            allocate(cx, absent)?,
            Ret::err(OpalError::Parameter),
        )?;
    }
    Ok(())
}

/// ALLOCATE_IRQ on the boot chip until it fails. Every success is a distinct, valid girq;
/// the failure is exactly OPAL_RESOURCE as a signed 64-bit r3 (§13.1: never a 32-bit
/// marker such as a zero-extended 0xffffffff). Then one FREE_IRQ makes exactly that girq
/// allocatable again, and the allocator is full once more.
pub fn exhaustion(cx: &mut Ctx) -> CaseResult {
    let env = Env::get(cx)?;
    let chip = env.chip;
    let limit = env.gen.girq_escalation_bit();
    // A girq seen twice is a double allocation.
    let mut seen = cx.arena.bitmap(limit)?;
    // One block's index space bounds the number of successes (§3.1).
    let max = 1u64 << env.gen.girq_index_bits();
    let (mut count, mut lowest, mut highest) = (0u64, u64::MAX, 0u64);
    let failure = loop {
        let r = allocate(cx, chip)?;
        // Anything that is not a girq ends the loop and is judged below: it must be
        // exactly OPAL_RESOURCE, so a zero-extended 0xffffffff fails there.
        let girq = match spec::girq_from_r3(env.gen, r.0) {
            Ok(girq) => girq,
            Err(spec::GirqError::Negative(_)) => break r,
            Err(spec::GirqError::NotAGirq(_)) if r.0 >= limit => break r,
            Err(spec::GirqError::NotAGirq(_)) => {
                check_girq(&env, format_args!("ALLOCATE_IRQ({chip}) #{}", count + 1), r)?
            }
        };
        if seen.test_and_set(girq) != Some(false) {
            fail!("ALLOCATE_IRQ({chip}) returned {girq:#x} twice (after {count} allocations)");
        }
        count += 1;
        lowest = lowest.min(girq);
        highest = highest.max(girq);
        if count > max {
            fail!("ALLOCATE_IRQ({chip}) never ran out: {count} girqs, more than a block's {max} (xive.md §3.1)");
        }
    };
    cx.info(format_args!(
        "{count} girqs allocated on chip {chip} ({lowest:#x}..={highest:#x}), then {failure}"
    ));
    if count == 0 {
        fail!("the first ALLOCATE_IRQ({chip}) failed: {failure}");
    }
    expect(
        format_args!("ALLOCATE_IRQ({chip}) once the chip is full (after {count})"),
        failure,
        Ret::err(OpalError::Resource),
    )?;
    // The allocator still works: free one, get exactly that one back.
    expect(
        format_args!("FREE_IRQ({lowest:#x})"),
        free(cx, lowest)?,
        Ret::SUCCESS,
    )?;
    let again = check_girq(
        &env,
        format_args!("ALLOCATE_IRQ({chip}) after a free"),
        allocate(cx, chip)?,
    )?;
    expect_eq(
        format_args!("ALLOCATE_IRQ({chip}) with only {lowest:#x} free"),
        again,
        lowest,
    )?;
    expect(
        format_args!("ALLOCATE_IRQ({chip}) full again"),
        allocate(cx, chip)?,
        Ret::err(OpalError::Resource),
    )?;
    // Give everything back in one go (§13.3 XIVE_RESET forgets the dynamic IPIs).
    expect(
        format_args!("XIVE_RESET(EXPL) after exhaustion"),
        calls::reset(cx, spec::reset_mode::EXPL)?,
        Ret::SUCCESS,
    )
}
