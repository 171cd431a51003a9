// SPDX-License-Identifier: Apache-2.0
//! `OPAL_HANDLE_HMI` (98) and `OPAL_HANDLE_HMI2` (166): Linux's real-mode 0xE60 handler
//! (and its idle exit, for a thread an HMI woke) asks the firmware to decode and recover
//! whatever this thread's HMER holds. skiboot `core/hmi.c`.
//!
//! The work is the firmware's (`firmware/hmi`, behind [`HmiHandling`]): this layer checks
//! the out-pointer *before* anything is handled, so a bad pointer changes nothing, queues
//! the events for `OPAL_GET_MSG` and writes the flags.
//!
//! Concurrency: every thread of a core may call at once (a core-wide timer-facility error
//! reaches all of them, and they must meet in the firmware's rendezvous); nothing here
//! takes a lock but the message queue's.

use crate::args::{os_range, write_be64, OsPtr};
use crate::msg::{MessageQueue, OpalMsg};
use crate::Ctx;
use opal_api::{Be64, OpalResult};

/// What the firmware does with this thread's pending HMI.
pub trait HmiHandling: Sync {
    /// This machine's HMIs can be handled (POWER9, POWER10); otherwise the two calls are
    /// absent rather than successes that do nothing.
    fn available(&self) -> bool;
    /// Handles and clears the HMI conditions pending on the calling thread. Each event is
    /// offered to `queue` as the five big-endian words of a version-2 `OpalHMIEvent`;
    /// `queue` answers false when the event could not be queued. Returns the out-flags of
    /// `OPAL_HANDLE_HMI2` (0 when nothing was pending).
    fn handle(&self, queue: &mut dyn FnMut([u64; 5]) -> bool) -> u64;
}

/// Queues one HMI event (its five words) for `OPAL_GET_MSG`; false when the queue
/// refused it. Also the way a thread parked in the firmware reports its events.
pub fn queue_event(msgs: &MessageQueue, words: [u64; 5]) -> bool {
    let mut params = [0u64; 8];
    params[..5].copy_from_slice(&words);
    msgs.push(OpalMsg {
        msg_type: opal_api::msg::HMI_EVT,
        params,
    })
    .is_ok()
}

fn handle_and_queue(cx: &Ctx<'_>) -> u64 {
    cx.hmi.handle(&mut |words| queue_event(cx.msgs, words))
}

/// `int64_t opal_handle_hmi(void)`: the legacy form. SUCCESS always (as skiboot): Linux
/// reads it as "an event may be waiting" and polls for messages.
pub fn handle_hmi(cx: &Ctx<'_>) -> OpalResult<()> {
    handle_and_queue(cx);
    Ok(())
}

/// `int64_t opal_handle_hmi2(__be64 *out_flags)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | handled (flags written; 0 when this thread had nothing pending) |
/// | PARAMETER | `out_flags` is not OS memory: nothing handled, HMER left as it was |
pub fn handle_hmi2(cx: &Ctx<'_>, out_flags: OsPtr<Be64>) -> OpalResult<()> {
    let out = os_range(cx, out_flags, 8)?;
    let flags = handle_and_queue(cx);
    write_be64(cx, out, flags);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::token::{OPAL_GET_MSG, OPAL_HANDLE_HMI, OPAL_HANDLE_HMI2};

    use opal_api::hmi_flags::{NEW_EVENT, TB_RESYNC};

    #[test]
    fn flags_and_events_reach_the_os() {
        let m = Machine::new();
        m.hmi
            .script(TB_RESYNC, &[[0x0202_0400_0000_0000, 0x10, 0x20, 0, 0]]);
        assert_eq!(m.call(OPAL_HANDLE_HMI2, &[0x1000]), 0);
        assert_eq!(m.mem.peek_be64(0x1000), TB_RESYNC | NEW_EVENT);
        assert_eq!(m.call(OPAL_GET_MSG, &[0x2000, 72]), 0);
        assert_eq!(m.mem.peek(0x2000, 8), [0, 0, 0, 4, 0, 0, 0, 64]);
        assert_eq!(m.mem.peek_be64(0x2008), 0x0202_0400_0000_0000);
        assert_eq!(m.mem.peek_be64(0x2010), 0x10);
        assert_eq!(m.mem.peek_be64(0x2030), 0, "params 5..7 are zero");
        assert_eq!(
            m.call(OPAL_GET_MSG, &[0x2000, 72]),
            -10,
            "one event, one message"
        );
    }

    #[test]
    fn nothing_pending_is_success_with_no_flags() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_HANDLE_HMI2, &[0x1000]), 0);
        assert_eq!(m.mem.peek_be64(0x1000), 0);
        assert_eq!(m.call(OPAL_HANDLE_HMI, &[]), 0);
        assert!(m.msgs.is_empty());
    }

    #[test]
    fn absent_where_hmis_cannot_be_handled() {
        let m = Machine::new();
        m.hmi.unavailable();
        assert_eq!(m.call(opal_api::token::OPAL_CHECK_TOKEN, &[166]), 0);
        assert_eq!(m.call(opal_api::token::OPAL_CHECK_TOKEN, &[98]), 0);
        assert_eq!(m.call(OPAL_HANDLE_HMI2, &[0x1000]), -1, "a bad token");
        assert_eq!(m.hmi.calls(), 0);
    }

    #[test]
    fn bad_pointer_handles_nothing() {
        let m = Machine::new();
        m.hmi.script(TB_RESYNC, &[[1, 2, 3, 4, 5]]);
        for bad in [0u64, 0x8_0000, 0xF_FFFC, 0x7FFF_FFFF_FFFF_FFF8] {
            assert_eq!(m.call(OPAL_HANDLE_HMI2, &[bad]), -1, "{bad:#x}");
        }
        assert_eq!(m.hmi.calls(), 0, "the HMI stays pending for a good call");
        assert!(m.msgs.is_empty());
        assert_eq!(m.call(OPAL_HANDLE_HMI2, &[0x1000]), 0);
        assert_eq!(m.hmi.calls(), 1);
    }

    #[test]
    fn a_full_queue_drops_the_event_and_says_so() {
        let m = Machine::new();
        while m
            .msgs
            .push(crate::msg::OpalMsg {
                msg_type: 0,
                params: [0; 8],
            })
            .is_ok()
        {}
        m.hmi.script(0, &[[1, 2, 3, 4, 5]]);
        assert_eq!(m.call(OPAL_HANDLE_HMI2, &[0x1000]), 0);
        assert_eq!(
            m.mem.peek_be64(0x1000),
            0,
            "no NEW_EVENT for an event not queued"
        );
        assert_eq!(m.msgs.refused(), 2);
    }
}
