// SPDX-License-Identifier: Apache-2.0
//! The XIVE OPAL calls, typed (xive.md §13.2). Out-parameters are [`Out`] buffers the
//! caller owns (or `None` for a NULL pointer); memory given to OPAL to keep is a [`Page`]
//! from the arena. Those are the only addresses these wrappers pass, which is what makes
//! the `unsafe` OPAL call below sound.
//!
//! Every out-parameter is big-endian (§0); `Out` decodes it and also checks that OPAL
//! wrote it and wrote nothing past its width (a 64-bit store into a `__be32` slot).

use opal_api::token::*;

use crate::arena::Arena;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{CaseResult, Ctx};

/// What an out-parameter holds before the call; a value still made only of this byte
/// was not written.
const CANARY: u8 = 0xa5;

/// An out-parameter of `N` bytes (8, 4 or 1), followed by guard bytes.
#[repr(C, align(8))]
pub struct Out<const N: usize> {
    bytes: [u8; 16],
}

pub type Out64 = Out<8>;
pub type Out32 = Out<4>;

impl<const N: usize> Out<N> {
    pub fn new() -> Self {
        Out {
            bytes: [CANARY; 16],
        }
    }

    pub(crate) fn addr(&mut self) -> u64 {
        self.bytes.as_mut_ptr() as u64
    }

    fn snapshot(&self) -> [u8; 16] {
        // OPAL wrote these bytes behind the compiler's back: read them from memory.
        // SAFETY: `self.bytes` is a live, aligned array.
        unsafe { core::ptr::read_volatile(&self.bytes) }
    }

    /// The big-endian value OPAL stored; fails if it stored nothing or too much.
    pub fn get(&self, what: &str) -> CaseResult<u64> {
        let b = self.snapshot();
        if b[N..].iter().any(|&x| x != CANARY) {
            fail!("{what}: OPAL wrote past this {N}-byte out-parameter");
        }
        if b[..N].iter().all(|&x| x == CANARY) {
            fail!("{what}: OPAL returned success but did not write this out-parameter");
        }
        Ok(b[..N].iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
    }

    /// Stores `value` big-endian in the first `N` bytes (an in-out parameter such as a
    /// console length); the guard bytes keep the canary.
    pub fn set(&mut self, value: u64) {
        let bytes = value.to_be_bytes();
        let n = N.min(8);
        self.bytes[..n].copy_from_slice(&bytes[8 - n..]);
    }

    /// The first `N` bytes as a big-endian value, whatever they hold, if nothing past
    /// them was written.
    pub fn value_if_guarded(&self) -> Option<u64> {
        let b = self.snapshot();
        b[N..]
            .iter()
            .all(|&x| x == CANARY)
            .then(|| b[..N].iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
    }

    /// Whether OPAL left the buffer alone.
    pub fn untouched(&self) -> bool {
        self.snapshot().iter().all(|&x| x == CANARY)
    }
}

impl<const N: usize> Default for Out<N> {
    fn default() -> Self {
        Self::new()
    }
}

fn ptr<const N: usize>(out: Option<&mut Out<N>>) -> u64 {
    out.map_or(0, |o| o.addr())
}

/// Physical memory handed to OPAL to keep (a donated page, a queue): arena memory the
/// payload does not use while OPAL may, or [`Page::NONE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page(u64);

impl Page {
    /// "No page" (address 0), e.g. to disable a queue.
    pub const NONE: Page = Page(0);

    /// `size` zeroed bytes aligned to `align`.
    pub fn alloc(arena: &mut Arena, size: u64, align: u64) -> CaseResult<Page> {
        arena.alloc_zeroed(size, align).map(Page)
    }

    pub fn addr(self) -> u64 {
        self.0
    }

    /// An address `offset` bytes in: to pass deliberately misaligned pages. The caller
    /// allocates enough that it stays inside its allocation.
    pub fn offset(self, offset: u64) -> Page {
        Page(self.0 + offset)
    }
}

fn call(cx: &Ctx, token: u64, args: &[u64]) -> CaseResult<Ret> {
    // SAFETY: the wrappers below pass as addresses only `Out` buffers borrowed mutably
    // for the duration of the call, 0, or `Page`s (arena memory nothing else uses).
    Ok(unsafe { cx.opal.call(token, args) }?)
}

pub fn reset(cx: &Ctx, mode: u64) -> CaseResult<Ret> {
    call(cx, OPAL_XIVE_RESET, &[mode])
}

pub fn allocate_irq(cx: &Ctx, chip: u32) -> CaseResult<Ret> {
    call(cx, OPAL_XIVE_ALLOCATE_IRQ, &[u64::from(chip)])
}

pub fn free_irq(cx: &Ctx, girq: u64) -> CaseResult<Ret> {
    call(cx, OPAL_XIVE_FREE_IRQ, &[girq])
}

pub fn allocate_vp_block(cx: &Ctx, order: u32) -> CaseResult<Ret> {
    call(cx, OPAL_XIVE_ALLOCATE_VP_BLOCK, &[u64::from(order)])
}

pub fn free_vp_block(cx: &Ctx, base: u64) -> CaseResult<Ret> {
    call(cx, OPAL_XIVE_FREE_VP_BLOCK, &[base])
}

pub fn donate_page(cx: &Ctx, chip: u32, page: Page) -> CaseResult<Ret> {
    call(cx, OPAL_XIVE_DONATE_PAGE, &[u64::from(chip), page.0])
}

pub fn get_vp_info(
    cx: &Ctx,
    vp: u64,
    flags: Option<&mut Out64>,
    cam: Option<&mut Out64>,
    report_cl_pair: Option<&mut Out64>,
    chip: Option<&mut Out32>,
) -> CaseResult<Ret> {
    let args = [vp, ptr(flags), ptr(cam), ptr(report_cl_pair), ptr(chip)];
    call(cx, OPAL_XIVE_GET_VP_INFO, &args)
}

pub fn set_vp_info(cx: &Ctx, vp: u64, flags: u64, report_cl_pair: u64) -> CaseResult<Ret> {
    call(cx, OPAL_XIVE_SET_VP_INFO, &[vp, flags, report_cl_pair])
}

pub fn set_queue_info(
    cx: &Ctx,
    vp: u64,
    prio: u32,
    page: Page,
    qsize: u64,
    qflags: u64,
) -> CaseResult<Ret> {
    call(
        cx,
        OPAL_XIVE_SET_QUEUE_INFO,
        &[vp, u64::from(prio), page.0, qsize, qflags],
    )
}

/// The outputs of `GET_QUEUE_INFO`, each optional.
#[derive(Default)]
pub struct QueueInfoOut {
    pub qpage: Option<Out64>,
    pub qsize: Option<Out64>,
    pub qeoi_page: Option<Out64>,
    pub escalate_irq: Option<Out32>,
    pub qflags: Option<Out64>,
}

impl QueueInfoOut {
    /// Every output requested.
    pub fn all() -> Self {
        QueueInfoOut {
            qpage: Some(Out::new()),
            qsize: Some(Out::new()),
            qeoi_page: Some(Out::new()),
            escalate_irq: Some(Out::new()),
            qflags: Some(Out::new()),
        }
    }
}

pub fn get_queue_info(cx: &Ctx, vp: u64, prio: u32, out: &mut QueueInfoOut) -> CaseResult<Ret> {
    let args = [
        vp,
        u64::from(prio),
        ptr(out.qpage.as_mut()),
        ptr(out.qsize.as_mut()),
        ptr(out.qeoi_page.as_mut()),
        ptr(out.escalate_irq.as_mut()),
        ptr(out.qflags.as_mut()),
    ];
    call(cx, OPAL_XIVE_GET_QUEUE_INFO, &args)
}

pub fn get_queue_state(
    cx: &Ctx,
    vp: u64,
    prio: u32,
    toggle: Option<&mut Out32>,
    index: Option<&mut Out32>,
) -> CaseResult<Ret> {
    call(
        cx,
        OPAL_XIVE_GET_QUEUE_STATE,
        &[vp, u64::from(prio), ptr(toggle), ptr(index)],
    )
}

pub fn set_queue_state(cx: &Ctx, vp: u64, prio: u32, toggle: u32, index: u32) -> CaseResult<Ret> {
    let args = [vp, u64::from(prio), u64::from(toggle), u64::from(index)];
    call(cx, OPAL_XIVE_SET_QUEUE_STATE, &args)
}

/// The outputs of `GET_IRQ_INFO`: flags is required (§13.3), the rest optional.
pub struct IrqInfoOut {
    pub flags: Out64,
    pub eoi_page: Option<Out64>,
    pub trig_page: Option<Out64>,
    pub esb_shift: Option<Out32>,
    pub src_chip: Option<Out32>,
}

impl IrqInfoOut {
    /// Every output requested.
    pub fn all() -> Self {
        IrqInfoOut {
            flags: Out::new(),
            eoi_page: Some(Out::new()),
            trig_page: Some(Out::new()),
            esb_shift: Some(Out::new()),
            src_chip: Some(Out::new()),
        }
    }
}

pub fn get_irq_info(cx: &Ctx, girq: u64, out: &mut IrqInfoOut) -> CaseResult<Ret> {
    let args = [
        girq,
        out.flags.addr(),
        ptr(out.eoi_page.as_mut()),
        ptr(out.trig_page.as_mut()),
        ptr(out.esb_shift.as_mut()),
        ptr(out.src_chip.as_mut()),
    ];
    call(cx, OPAL_XIVE_GET_IRQ_INFO, &args)
}

pub fn set_irq_config(cx: &Ctx, girq: u64, vp: u64, prio: u8, lirq: u32) -> CaseResult<Ret> {
    let args = [girq, vp, u64::from(prio), u64::from(lirq)];
    call(cx, OPAL_XIVE_SET_IRQ_CONFIG, &args)
}
