// SPDX-License-Identifier: Apache-2.0
//! `OPAL_GET_MSG` (85) and `OPAL_CHECK_ASYNC_COMPLETION` (86): skiboot `core/opal-msg.c`.
//!
//! A bounded queue of `struct opal_msg` (72 bytes, big-endian). Nothing in Opalite queues
//! messages yet (no asynchronous calls exist), so the OS sees an empty queue; the queue
//! itself is complete so that the first producer only has to call `push`.

use crate::args::{os_range, OsPtr};
use crate::Ctx;
use core::sync::atomic::{AtomicU64, Ordering};
use opal_api::msg::OPAL_MSG_SIZE;
use opal_api::{OpalError, OpalResult};
use spin::Mutex;

const DEPTH: usize = 16;
/// Tries for the queue's lock before a producer gives up (its holders copy 72 bytes).
const PUSH_TRIES: u32 = 1_000_000;

/// One `struct opal_msg`: `__be32 msg_type; __be32 size; __be64 params[8]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpalMsg {
    pub msg_type: u32,
    pub params: [u64; 8],
}

impl OpalMsg {
    pub fn to_bytes(&self) -> [u8; OPAL_MSG_SIZE] {
        let mut b = [0u8; OPAL_MSG_SIZE];
        b[0..4].copy_from_slice(&self.msg_type.to_be_bytes());
        b[4..8].copy_from_slice(&(OPAL_MSG_SIZE as u32 - 8).to_be_bytes());
        for (i, p) in self.params.iter().enumerate() {
            b[8 + 8 * i..16 + 8 * i].copy_from_slice(&p.to_be_bytes());
        }
        b
    }
}

struct Ring {
    slots: [Option<OpalMsg>; DEPTH],
    head: usize,
    len: usize,
}

pub struct MessageQueue {
    ring: Mutex<Ring>,
    /// Messages refused because the queue was full (the OS was not reading them).
    refused: AtomicU64,
}

impl MessageQueue {
    pub const fn new() -> Self {
        Self {
            ring: Mutex::new(Ring {
                slots: [None; DEPTH],
                head: 0,
                len: 0,
            }),
            refused: AtomicU64::new(0),
        }
    }

    /// Queues a message; `Err(Resource)` when full, counted (the producer decides whether
    /// to retry; nothing already queued is overwritten).
    ///
    /// Crash time: the lock is only tried, a bounded number of times, so a producer (an HMI
    /// handler during kdump) cannot wait forever on a CPU that was stopped holding it.
    pub fn push(&self, msg: OpalMsg) -> OpalResult<()> {
        let Some(mut r) = (0..PUSH_TRIES).find_map(|_| self.ring.try_lock()) else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(OpalError::Busy);
        };
        if r.len == DEPTH {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(OpalError::Resource);
        }
        let at = (r.head + r.len) % DEPTH;
        r.slots[at] = Some(msg);
        r.len += 1;
        Ok(())
    }

    fn pop(&self) -> Option<OpalMsg> {
        let mut r = self.ring.lock();
        if r.len == 0 {
            return None;
        }
        let head = r.head;
        let msg = r.slots[head].take();
        r.head = (head + 1) % DEPTH;
        r.len -= 1;
        msg
    }

    /// How many messages were refused since boot.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.ring.lock().len == 0
    }
}

impl Default for MessageQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// `int64_t opal_get_msg(uint64_t buffer, uint64_t size)`
///
/// | return | when |
/// |---|---|
/// | SUCCESS | the oldest message was copied and removed |
/// | RESOURCE | no message is waiting |
/// | PARAMETER | `size` < 72 or a buffer outside OS memory |
pub fn get_msg(cx: &Ctx<'_>, buf: OsPtr<u8>, size: u64) -> OpalResult<()> {
    if size < OPAL_MSG_SIZE as u64 {
        return Err(OpalError::Parameter);
    }
    let at = os_range(cx, buf, OPAL_MSG_SIZE as u64)?;
    let msg = cx.msgs.pop().ok_or(OpalError::Resource)?;
    cx.mem.write(at, 0, &msg.to_bytes());
    Ok(())
}

/// `int64_t opal_check_completion(uint64_t buffer, uint64_t size, uint64_t token)`.
/// Opalite completes every call synchronously and hands out no async tokens, so any
/// token is unknown: PARAMETER (skiboot would answer BUSY forever for a token it never
/// issued; a caller waiting on it would hang).
pub fn check_async_completion(
    cx: &Ctx<'_>,
    buf: OsPtr<u8>,
    size: u64,
    _tok: u64,
) -> OpalResult<()> {
    if size < OPAL_MSG_SIZE as u64 {
        return Err(OpalError::Parameter);
    }
    os_range(cx, buf, OPAL_MSG_SIZE as u64)?;
    Err(OpalError::Parameter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Machine;
    use opal_api::token::*;

    #[test]
    fn empty_queue_is_resource_and_messages_come_out_in_order() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_GET_MSG, &[0x1000, 72]), -10);
        let shutdown = OpalMsg {
            msg_type: opal_api::msg::SHUTDOWN,
            params: [1, 0, 0, 0, 0, 0, 0, 0],
        };
        m.msgs.push(shutdown).unwrap();
        m.msgs
            .push(OpalMsg {
                msg_type: 0,
                params: [7; 8],
            })
            .unwrap();
        assert_eq!(m.call(OPAL_GET_MSG, &[0x1000, 0x10000]), 0);
        assert_eq!(m.mem.peek(0x1000, 8), [0, 0, 0, 3, 0, 0, 0, 64]);
        assert_eq!(m.mem.peek_be64(0x1008), 1);
        assert_eq!(m.mem.peek(0x1000 + 72, 1), [0xAA], "nothing past 72 bytes");
        assert_eq!(m.call(OPAL_GET_MSG, &[0x1000, 72]), 0);
        assert_eq!(m.mem.peek_be64(0x1008), 7);
        assert_eq!(m.call(OPAL_GET_MSG, &[0x1000, 72]), -10);
    }

    #[test]
    fn bad_buffers_keep_the_message() {
        let m = Machine::new();
        m.msgs
            .push(OpalMsg {
                msg_type: 0,
                params: [0; 8],
            })
            .unwrap();
        assert_eq!(m.call(OPAL_GET_MSG, &[0x1000, 71]), -1);
        assert_eq!(m.call(OPAL_GET_MSG, &[0, 72]), -1);
        assert_eq!(m.call(OPAL_GET_MSG, &[0x7_FFF0, 72]), -1);
        assert!(!m.msgs.is_empty());
    }

    #[test]
    fn queue_is_bounded() {
        let q = MessageQueue::new();
        for _ in 0..DEPTH {
            q.push(OpalMsg {
                msg_type: 0,
                params: [0; 8],
            })
            .unwrap();
        }
        assert_eq!(
            q.push(OpalMsg {
                msg_type: 0,
                params: [0; 8]
            }),
            Err(OpalError::Resource)
        );
        assert_eq!(q.refused(), 1);
    }

    #[test]
    fn no_async_token_is_ever_outstanding() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 72, 3]), -1);
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 8, 3]), -1);
    }
}
