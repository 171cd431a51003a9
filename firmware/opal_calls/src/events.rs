// SPDX-License-Identifier: Apache-2.0
//! `OPAL_POLL_EVENTS` (10): runs the firmware's pollers and reports pending events.
//! skiboot `core/opal.c` `opal_poll_events`.

use crate::args::{os_range, write_be64, OsPtr};
use crate::Ctx;
use opal_api::{event, Be64, OpalResult};

/// The event bits as they stand now (level-style: a bit stays set while its cause does).
pub fn pending(cx: &Ctx<'_>) -> u64 {
    let mut mask = cx.platform.pending_events();
    if cx.console.input_pending() {
        mask |= event::CONSOLE_INPUT;
    }
    if cx.console.output_pending() {
        mask |= event::CONSOLE_OUTPUT;
    }
    if !cx.msgs.is_empty() {
        mask |= event::MSG_PENDING;
    }
    mask
}

/// `int64_t opal_poll_events(__be64 *outstanding_event_mask)`; the pointer may be NULL.
/// PARAMETER for a non-NULL pointer outside OS memory (checked before polling).
pub fn poll_events(cx: &Ctx<'_>, mask: OsPtr<Be64>) -> OpalResult<()> {
    let out = if mask.is_null() {
        None
    } else {
        Some(os_range(cx, mask, 8)?)
    };
    cx.platform.poll();
    for term in 0..cx.console.terminals() {
        cx.console.flush(term);
    }
    if let Some(out) = out {
        write_be64(cx, out, pending(cx));
    }
    Ok(())
}

/// `int64_t opal_handle_interrupt(uint32_t girq, __be64 *outstanding_event_mask)`: the OS
/// took a firmware-owned interrupt (PSI: UART, BMC, LPC); OPAL services it and reports the
/// events now pending. PARAMETER for a bad pointer (nothing done) or a girq no firmware
/// source owns (the mask is still written), as skiboot.
pub fn handle_interrupt(cx: &Ctx<'_>, girq: u32, mask: OsPtr<Be64>) -> OpalResult<()> {
    let out = os_range(cx, mask, 8)?;
    let handled = cx.platform.handle_interrupt(girq);
    write_be64(cx, out, pending(cx));
    handled
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::{event, token::OPAL_POLL_EVENTS};

    #[test]
    fn polls_and_reports_console_input() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_POLL_EVENTS, &[0x1000]), 0);
        assert_eq!(m.mem.peek_be64(0x1000), 0);
        m.console.input.borrow_mut().push(b'x');
        assert_eq!(m.call(OPAL_POLL_EVENTS, &[0x1000]), 0);
        assert_eq!(m.mem.peek_be64(0x1000), event::CONSOLE_INPUT);
        assert_eq!(m.platform.polls.get(), 2);
    }

    #[test]
    fn null_is_allowed_and_bad_pointers_are_not() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_POLL_EVENTS, &[0]), 0);
        assert_eq!(m.call(OPAL_POLL_EVENTS, &[0x8_0000]), -1);
        assert_eq!(m.call(OPAL_POLL_EVENTS, &[0x10_0000]), -1);
        assert_eq!(m.platform.polls.get(), 1, "no polling on a rejected call");
    }
}
