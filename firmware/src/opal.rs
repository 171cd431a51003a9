// SPDX-License-Identifier: Apache-2.0
//! The Rust side of the OPAL entry: builds the handlers' context from the firmware's
//! singletons and dispatches. The assembly stub (head.S `opal_entry`) has already moved
//! to this CPU's OPAL stack (or its emergency stack when re-entered) and counted depth.

use crate::{console, cpu, hmi, layout, nmi, platform};
use core::sync::atomic::{AtomicU64, Ordering};
use hal::os_mem::{OsMemoryRules, OsRange};
use opal_api::{OpalError, OpalResult, OpalRet};
use opal_calls::{msg::MessageQueue, xics::Presenter, xive::XiveLock, Ctx};

static RAM_TOP: AtomicU64 = AtomicU64::new(0);
static RUNTIME_END: AtomicU64 = AtomicU64::new(layout::OPAL_BASE);
static XICS: Presenter = Presenter::new();
/// Messages for the OS (`OPAL_GET_MSG`): HMI events so far.
pub static MSGS: MessageQueue = MessageQueue::new();
/// The XIVE logic and controller, once `xive::init` has set them up.
pub static XIVE: XiveLock = XiveLock::new();

/// Queues an HMI event for the OS (from a thread parked in the firmware); false when the
/// queue is full.
pub fn queue_hmi_event(words: [u64; 5]) -> bool {
    opal_calls::hmi::queue_event(&MSGS, words)
}

/// Fixes what counts as OS memory: RAM below `ram_top`, minus the firmware's range.
pub fn set_memory_rules(ram_top: u64, runtime_end: u64) {
    RAM_TOP.store(ram_top, Ordering::Relaxed);
    RUNTIME_END.store(runtime_end, Ordering::Release);
}

/// OS memory in real mode: a validated range is addressed directly.
struct OsRam;

impl hal::OsMemory for OsRam {
    fn check(&self, raw: u64, len: u64) -> OpalResult<OsRange> {
        let fw = [(
            layout::OPAL_BASE,
            RUNTIME_END.load(Ordering::Acquire) - layout::OPAL_BASE,
        )];
        OsMemoryRules {
            ram_top: RAM_TOP.load(Ordering::Relaxed),
            firmware: &fw,
        }
        .check(raw, len)
    }
    fn read(&self, range: OsRange, offset: u64, out: &mut [u8]) {
        assert!(offset + out.len() as u64 <= range.len);
        // SAFETY: `check` proved the range is OS RAM, outside the firmware, and we run in
        // real mode where a real address is a valid pointer.
        unsafe {
            core::ptr::copy_nonoverlapping(
                (range.real + offset) as *const u8,
                out.as_mut_ptr(),
                out.len(),
            )
        };
    }
    fn write(&self, range: OsRange, offset: u64, data: &[u8]) {
        assert!(offset + data.len() as u64 <= range.len);
        // SAFETY: as in `read`.
        unsafe {
            core::ptr::copy_nonoverlapping(
                data.as_ptr(),
                (range.real + offset) as *mut u8,
                data.len(),
            )
        };
    }
}

/// Called by head.S with r3 = token, r4 = &[r3..r10] as the OS passed them, r5 = how
/// many OPAL calls this CPU was already in (0 or 1: head.S refuses a third level itself,
/// before it would build a frame over the level-1 one on the emergency stack).
#[no_mangle]
extern "C" fn opal_entry_rust(token: u64, args: &[u64; 8], depth: u64) -> i64 {
    if depth > 0 && !opal_calls::table::allowed_when_reentered(token) {
        return OpalRet::err(OpalError::InternalError).into_r3();
    }
    let cx = Ctx {
        mem: &OsRam,
        console: &console::OpalConsole,
        cpus: &cpu::Cpus,
        nmi: &nmi::Nmi,
        platform: &platform::FwPlatform,
        xics: &XICS,
        msgs: &MSGS,
        xive: &XIVE,
        hmi: &hmi::FwHmi,
        pci: crate::drivers::phb::host(),
    };
    let ret = opal_calls::dispatch(&cx, token, args).into_r3();
    #[cfg(feature = "hmi-inject")]
    crate::hmi_inject::at_call_exit(token, depth);
    ret
}
