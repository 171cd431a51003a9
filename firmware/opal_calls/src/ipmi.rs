// SPDX-License-Identifier: Apache-2.0
//! `OPAL_IPMI_SEND` (107) and `OPAL_IPMI_RECV` (108): the OS's way to the BMC, behind
//! Linux's `ipmi_powernv` (`/dev/ipmi0`). skiboot `core/ipmi-opal.c`,
//! `doc/opal-api/opal-ipmi-send-recv-107-108.rst`.
//!
//! The message is `struct opal_ipmi_msg { u8 version; u8 netfn; u8 cmd; u8 data[]; }`,
//! version 1, `netfn` holding `netfn << 2 | lun`; a reply's data starts with the
//! completion code. One interface, id 0.
//!
//! Concurrency: the platform serialises both calls under its BMC lock (bounded wait) with
//! the firmware's own BMC traffic; neither call waits for the BMC. A request the BMC never
//! answers is answered by the firmware with completion code 0xC3 (timeout), so the OS is
//! never left waiting.
//!
//! Differences from skiboot: a wrong interface, version or buffer in RECV is refused
//! before the reply is taken (skiboot throws the reply away), so a corrected retry still
//! gets it; only a buffer too small for the reply loses it, as in skiboot (else its event
//! would stay up forever).

use crate::args::{os_range, read_be64, write_be64, OsPtr};
use crate::Ctx;
use hal::{IpmiMsg, IPMI_MAX_DATA};
use opal_api::{Be64, OpalError, OpalResult};

/// `OPAL_IPMI_MSG_FORMAT_VERSION_1`.
pub const MSG_FORMAT_VERSION_1: u8 = 1;
/// `ibm,ipmi-interface-id` of the one interface (skiboot `IPMI_DEFAULT_INTERFACE`).
pub const INTERFACE_ID: u64 = 0;
/// Version, NetFn/LUN and command before the data.
const HEADER: u64 = 3;

/// `int64_t opal_ipmi_send(uint64_t interface, struct opal_ipmi_msg *msg, uint64_t msg_len)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | the request is on its way; its reply raises the IPMI event |
/// | PARAMETER | unknown interface; `msg_len` shorter than the header or longer than the header and 252 data bytes; `msg` not OS memory |
/// | UNSUPPORTED | a version other than 1 |
/// | BUSY | the previous request is still unanswered, or the BMC driver is held |
pub fn send(cx: &Ctx<'_>, interface: u64, msg: OsPtr<u8>, msg_len: u64) -> OpalResult<()> {
    if interface != INTERFACE_ID {
        return Err(OpalError::Parameter);
    }
    if !(HEADER..=HEADER + IPMI_MAX_DATA as u64).contains(&msg_len) {
        return Err(OpalError::Parameter);
    }
    let at = os_range(cx, msg, msg_len)?;
    let mut buf = [0u8; HEADER as usize + IPMI_MAX_DATA];
    let buf = &mut buf[..msg_len as usize];
    cx.mem.read(at, 0, buf);
    if buf[0] != MSG_FORMAT_VERSION_1 {
        log::error!("OPAL IPMI: Incorrect version");
        return Err(OpalError::Unsupported);
    }
    let req = IpmiMsg::new(buf[1], buf[2], &buf[3..]).ok_or(OpalError::Parameter)?;
    log::trace!(
        "opal_ipmi_send(cmd: {:#04x} netfn: {:#04x} len: {:#x})",
        req.cmd,
        req.netfn_lun >> 2,
        req.data().len()
    );
    cx.platform.ipmi_send(&req)
}

/// `int64_t opal_ipmi_recv(uint64_t interface, struct opal_ipmi_msg *msg, __be64 *msg_len)`:
/// `*msg_len` is the buffer's size on entry and the message's on return.
///
/// | return | when |
/// |---|---|
/// | SUCCESS | the reply is in `msg`, its length in `*msg_len` |
/// | EMPTY | no reply yet |
/// | PARAMETER | unknown interface, or a pointer outside OS memory (nothing taken) |
/// | UNSUPPORTED | the buffer's version byte is not 1 (nothing taken) |
/// | RESOURCE | the buffer cannot hold the reply (the reply is dropped) |
/// | BUSY | the BMC driver is held by another CPU |
pub fn recv(cx: &Ctx<'_>, interface: u64, msg: OsPtr<u8>, msg_len: OsPtr<Be64>) -> OpalResult<()> {
    if interface != INTERFACE_ID {
        return Err(OpalError::Parameter);
    }
    let len_at = os_range(cx, msg_len, 8)?;
    let capacity = read_be64(cx, len_at);
    // Only what a reply can fill must be OS memory; a huge size is not an error.
    let usable = capacity.min(HEADER + IPMI_MAX_DATA as u64);
    let at = os_range(cx, msg, usable.max(HEADER))?;
    let mut version = [0u8];
    cx.mem.read(at, 0, &mut version);
    if version[0] != MSG_FORMAT_VERSION_1 {
        log::error!("OPAL IPMI: Incorrect version");
        return Err(OpalError::Unsupported);
    }
    let reply = cx.platform.ipmi_recv()?;
    let total = HEADER + reply.data().len() as u64;
    if capacity < total {
        log::error!("OPAL IPMI: {capacity}-byte buffer for a {total}-byte reply: dropped");
        return Err(OpalError::Resource);
    }
    cx.mem.write(at, 1, &[reply.netfn_lun, reply.cmd]);
    cx.mem.write(at, HEADER, reply.data());
    write_be64(cx, len_at, total);
    log::debug!(
        "opal_ipmi_recv(cmd: {:#04x} netfn: {:#04x} resp_size: {:#04x})",
        reply.cmd,
        reply.netfn_lun >> 2,
        reply.data().len().saturating_sub(1)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::Machine;
    use opal_api::event;
    use opal_api::token::{OPAL_IPMI_RECV, OPAL_IPMI_SEND, OPAL_POLL_EVENTS};

    const MSG: u64 = 0x1000;
    const LEN: u64 = 0x2000;
    const REPLY: u64 = 0x3000;

    /// Get Device ID (App NetFn 6, cmd 1), with two data bytes to see them echoed.
    fn put_request(m: &Machine) {
        m.mem.poke(MSG, &[1, 0x06 << 2, 0x01, 0xAB, 0xCD]);
    }

    fn prepare_reply_buffer(m: &Machine, size: u64) {
        m.mem.poke(REPLY, &[1]);
        m.mem.poke(LEN, &size.to_be_bytes());
    }

    #[test]
    fn request_and_reply_round_trip_with_the_event_bit() {
        let m = Machine::new();
        put_request(&m);
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, MSG, 5]), 0);
        let req = m.platform.ipmi_requests.borrow()[0];
        assert_eq!(
            (req.netfn_lun, req.cmd, req.data()),
            (0x18, 0x01, &[0xAB, 0xCD][..])
        );
        assert_eq!(m.call(OPAL_POLL_EVENTS, &[0x4000]), 0);
        assert_ne!(m.mem.peek_be64(0x4000) & event::IPMI_RECV, 0, "event up");
        prepare_reply_buffer(&m, 3 + 272);
        assert_eq!(m.call(OPAL_IPMI_RECV, &[0, REPLY, LEN]), 0);
        assert_eq!(
            m.mem.peek_be64(LEN),
            6,
            "header, completion code, two bytes"
        );
        assert_eq!(m.mem.peek(REPLY, 6), [1, 0x07 << 2, 0x01, 0x00, 0xAB, 0xCD]);
        assert_eq!(m.call(OPAL_POLL_EVENTS, &[0x4000]), 0);
        assert_eq!(m.mem.peek_be64(0x4000) & event::IPMI_RECV, 0, "event down");
        assert_eq!(
            m.call(OPAL_IPMI_RECV, &[0, REPLY, LEN]),
            -16,
            "EMPTY once taken"
        );
    }

    #[test]
    fn send_refuses_bad_input_without_reaching_the_bmc() {
        let m = Machine::new();
        put_request(&m);
        assert_eq!(m.call(OPAL_IPMI_SEND, &[1, MSG, 5]), -1, "interface 1");
        assert_eq!(
            m.call(OPAL_IPMI_SEND, &[0, MSG, 2]),
            -1,
            "shorter than the header"
        );
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, MSG, 3 + 253]), -1, "too long");
        assert_eq!(
            m.call(OPAL_IPMI_SEND, &[0, MSG, u64::MAX]),
            -1,
            "length wraps"
        );
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, 0, 5]), -1, "NULL");
        assert_eq!(
            m.call(OPAL_IPMI_SEND, &[0, 0x10_0000 - 2, 5]),
            -1,
            "runs off RAM"
        );
        m.mem.poke(MSG, &[2]);
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, MSG, 5]), -7, "version 2");
        assert!(m.platform.ipmi_requests.borrow().is_empty());
        put_request(&m);
        m.platform.ipmi_unanswered.set(true);
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, MSG, 3]), 0, "no data is fine");
        assert_eq!(
            m.call(OPAL_IPMI_SEND, &[0, MSG, 3 + 252]),
            -2,
            "one at a time: BUSY"
        );
    }

    #[test]
    fn recv_checks_before_taking_and_drops_only_an_unfittable_reply() {
        let m = Machine::new();
        m.platform.ipmi_unanswered.set(true);
        put_request(&m);
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, MSG, 5]), 0);
        prepare_reply_buffer(&m, 64);
        assert_eq!(
            m.call(OPAL_IPMI_RECV, &[0, REPLY, LEN]),
            -16,
            "not answered yet"
        );
        m.platform.ipmi_answer();
        assert_eq!(m.call(OPAL_IPMI_RECV, &[7, REPLY, LEN]), -1, "interface 7");
        assert_eq!(m.call(OPAL_IPMI_RECV, &[0, REPLY, 0]), -1, "NULL length");
        assert_eq!(m.call(OPAL_IPMI_RECV, &[0, 0, LEN]), -1, "NULL buffer");
        m.mem.poke(REPLY, &[0]);
        assert_eq!(m.call(OPAL_IPMI_RECV, &[0, REPLY, LEN]), -7, "version 0");
        assert_eq!(m.mem.peek_be64(LEN), 64, "length untouched on error");
        prepare_reply_buffer(&m, 5);
        assert_eq!(
            m.call(OPAL_IPMI_RECV, &[0, REPLY, LEN]),
            -10,
            "needs 6 bytes"
        );
        assert_eq!(
            m.call(OPAL_IPMI_RECV, &[0, REPLY, LEN]),
            -16,
            "dropped, as skiboot"
        );
        // A huge size is only a size: the reply still lands.
        m.platform.ipmi_unanswered.set(false);
        put_request(&m);
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, MSG, 5]), 0);
        prepare_reply_buffer(&m, u64::MAX);
        assert_eq!(m.call(OPAL_IPMI_RECV, &[0, REPLY, LEN]), 0);
        assert_eq!(m.mem.peek_be64(LEN), 6);
    }

    #[test]
    fn absent_without_a_bmc() {
        let m = Machine::new();
        m.platform.no_bmc.set(true);
        put_request(&m);
        assert_eq!(m.call(OPAL_IPMI_SEND, &[0, MSG, 5]), -1, "bad token");
        assert_eq!(
            m.call(opal_api::token::OPAL_CHECK_TOKEN, &[OPAL_IPMI_SEND]),
            0
        );
        assert_eq!(
            m.call(opal_api::token::OPAL_CHECK_TOKEN, &[OPAL_IPMI_RECV]),
            0
        );
    }
}
