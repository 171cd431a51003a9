// SPDX-License-Identifier: Apache-2.0
//! `OPAL_GET_MSG` (85) and `OPAL_CHECK_ASYNC_COMPLETION` (86): skiboot `core/opal-msg.c`.
//!
//! Two kinds of message reach the OS:
//! - events (HMI, shutdown requests…) in a bounded queue of `struct opal_msg` (72 bytes,
//!   big-endian). A full queue refuses the new message and counts it ([`MessageQueue::refused`]);
//!   nothing queued is overwritten and nothing is allocated.
//! - completions of asynchronous calls (`OPAL_MSG_ASYNC_COMP`: params[0] the token,
//!   params[1] the call's return code). The OS picks the token (Linux's `opal-async.c`
//!   keeps a pool of `opal-msg-async-num` = [`ASYNC_TOKENS`] of them) and passes it to
//!   the call; the call takes it with [`MessageQueue::start_async`] and later completes it
//!   with [`MessageQueue::complete_async`]. Each token has its own slot, so a completion
//!   is never refused for lack of room, and a token is free for reuse only once the OS
//!   has taken its completion (through GET_MSG or CHECK_ASYNC_COMPLETION).
//!
//! Concurrency and crash time: the event queue's lock is only tried, a bounded number of
//! times, so a producer (an HMI handler during kdump) cannot wait on a CPU stopped while
//! holding it. Token slots are lock-free (one atomic state each): a completion from any
//! CPU, at any time, cannot block.

use crate::args::{os_range, OsPtr};
use crate::Ctx;
use core::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
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

/// How many asynchronous operations the OS may have outstanding: skiboot's
/// `OPAL_MAX_ASYNC_COMP`, given to Linux as `/ibm,opal/opal-msg-async-num`.
pub const ASYNC_TOKENS: usize = 16;

/// A token slot's state; the return code of a finished operation sits in `ASYNC_RC`.
const TOKEN_FREE: u8 = 0;
const TOKEN_RUNNING: u8 = 1;
const TOKEN_DONE: u8 = 2;

/// An asynchronous operation the OS started with a token: completing it consumes it.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "an operation that is never completed keeps its token busy"]
pub struct AsyncOp {
    token: usize,
}

impl AsyncOp {
    pub fn token(&self) -> u64 {
        self.token as u64
    }
}

pub struct MessageQueue {
    ring: Mutex<Ring>,
    /// Messages refused because the queue was full (the OS was not reading them).
    refused: AtomicU64,
    tokens: [AtomicU8; ASYNC_TOKENS],
    rcs: [AtomicI64; ASYNC_TOKENS],
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
            tokens: [const { AtomicU8::new(TOKEN_FREE) }; ASYNC_TOKENS],
            rcs: [const { AtomicI64::new(0) }; ASYNC_TOKENS],
        }
    }

    /// Takes the OS's `token` for a new asynchronous operation: PARAMETER if it is not one
    /// the OS was given, BUSY while an earlier operation with it has not been collected.
    pub fn start_async(&self, token: u64) -> OpalResult<AsyncOp> {
        let slot = usize::try_from(token)
            .ok()
            .and_then(|t| self.tokens.get(t))
            .ok_or(OpalError::Parameter)?;
        slot.compare_exchange(
            TOKEN_FREE,
            TOKEN_RUNNING,
            Ordering::Acquire,
            Ordering::Relaxed,
        )
        .map_err(|_| OpalError::Busy)?;
        Ok(AsyncOp {
            token: token as usize,
        })
    }

    /// Finishes `op` with the call's result; the OS then finds an `OPAL_MSG_ASYNC_COMP`.
    pub fn complete_async(&self, op: AsyncOp, rc: OpalResult<()>) {
        let code = match rc {
            Ok(()) => 0,
            Err(e) => e.code(),
        };
        self.rcs[op.token].store(code, Ordering::Relaxed);
        self.tokens[op.token].store(TOKEN_DONE, Ordering::Release);
    }

    /// Collects a completion: `Some(message)` for a finished operation, freeing its token.
    fn take_completion(&self, token: usize) -> Option<OpalMsg> {
        self.tokens[token]
            .compare_exchange(TOKEN_DONE, TOKEN_FREE, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        let mut params = [0; 8];
        params[0] = token as u64;
        params[1] = self.rcs[token].load(Ordering::Relaxed) as u64;
        Some(OpalMsg {
            msg_type: opal_api::msg::ASYNC_COMP,
            params,
        })
    }

    fn token_state(&self, token: usize) -> u8 {
        self.tokens[token].load(Ordering::Acquire)
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

    /// No event and no completion is waiting for the OS.
    pub fn is_empty(&self) -> bool {
        self.ring.lock().len == 0 && (0..ASYNC_TOKENS).all(|t| self.token_state(t) != TOKEN_DONE)
    }

    /// The next message for GET_MSG: events first, then completions by token.
    fn next(&self) -> Option<OpalMsg> {
        self.pop()
            .or_else(|| (0..ASYNC_TOKENS).find_map(|t| self.take_completion(t)))
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
/// | SUCCESS | the oldest event (or else a completion) was copied and removed |
/// | RESOURCE | no message is waiting |
/// | PARAMETER | `size` < 72 or a buffer outside OS memory |
pub fn get_msg(cx: &Ctx<'_>, buf: OsPtr<u8>, size: u64) -> OpalResult<()> {
    if size < OPAL_MSG_SIZE as u64 {
        return Err(OpalError::Parameter);
    }
    let at = os_range(cx, buf, OPAL_MSG_SIZE as u64)?;
    let msg = cx.msgs.next().ok_or(OpalError::Resource)?;
    cx.mem.write(at, 0, &msg.to_bytes());
    Ok(())
}

/// `int64_t opal_check_completion(uint64_t buffer, uint64_t size, uint64_t token)`: the
/// completion of the operation started with `token`, if it has finished.
///
/// | return | when |
/// |---|---|
/// | SUCCESS | it finished: its `OPAL_MSG_ASYNC_COMP` was copied and the token is free |
/// | BUSY | it is still running |
/// | PARAMETER | `size` < 72, a buffer outside OS memory, a token at or past [`ASYNC_TOKENS`], or a token no operation holds |
///
/// skiboot answers BUSY for a token nothing holds, so a caller polling it would poll
/// forever; PARAMETER tells it at once.
pub fn check_async_completion(cx: &Ctx<'_>, buf: OsPtr<u8>, size: u64, tok: u64) -> OpalResult<()> {
    if size < OPAL_MSG_SIZE as u64 {
        return Err(OpalError::Parameter);
    }
    let at = os_range(cx, buf, OPAL_MSG_SIZE as u64)?;
    let token = usize::try_from(tok)
        .ok()
        .filter(|&t| t < ASYNC_TOKENS)
        .ok_or(OpalError::Parameter)?;
    if let Some(msg) = cx.msgs.take_completion(token) {
        cx.mem.write(at, 0, &msg.to_bytes());
        return Ok(());
    }
    match cx.msgs.token_state(token) {
        TOKEN_FREE => Err(OpalError::Parameter),
        // Running, or finished and collected by another CPU between the two looks.
        _ => Err(OpalError::Busy),
    }
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
    fn unknown_and_idle_tokens_are_parameter() {
        let m = Machine::new();
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 72, 3]), -1);
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 72, 16]), -1);
        assert_eq!(
            m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 72, u64::MAX]),
            -1
        );
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 8, 3]), -1);
    }

    #[test]
    fn a_completion_is_busy_until_done_then_collected_once() {
        let m = Machine::new();
        let op = m.msgs.start_async(5).unwrap();
        assert_eq!(
            m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 72, 5]),
            -2,
            "BUSY"
        );
        assert!(m.msgs.is_empty(), "nothing for GET_MSG while it runs");
        m.msgs.complete_async(op, Err(OpalError::Hardware));
        assert!(!m.msgs.is_empty());
        // A bad buffer leaves the completion where it is.
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x7_FFF0, 72, 5]), -1);
        assert_eq!(m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 72, 5]), 0);
        assert_eq!(m.mem.peek(0x1000, 8), [0, 0, 0, 0, 0, 0, 0, 64]);
        assert_eq!(m.mem.peek_be64(0x1008), 5);
        assert_eq!(m.mem.peek_be64(0x1010) as i64, OpalError::Hardware.code());
        assert_eq!(
            m.call(OPAL_CHECK_ASYNC_COMPLETION, &[0x1000, 72, 5]),
            -1,
            "collected"
        );
        assert!(m.msgs.is_empty());
    }

    #[test]
    fn tokens_are_reused_only_after_their_completion_is_collected() {
        let q = MessageQueue::new();
        let ops: Vec<AsyncOp> = (0..ASYNC_TOKENS as u64)
            .map(|t| q.start_async(t).unwrap())
            .collect();
        assert_eq!(
            q.start_async(ASYNC_TOKENS as u64),
            Err(OpalError::Parameter)
        );
        for op in ops {
            let token = op.token();
            assert_eq!(q.start_async(token), Err(OpalError::Busy), "running");
            q.complete_async(op, Ok(()));
            assert_eq!(
                q.start_async(token),
                Err(OpalError::Busy),
                "done, not collected"
            );
        }
        // Completions fit even with the event queue full, and GET_MSG hands events out
        // first, then every completion.
        for i in 0..DEPTH as u64 {
            q.push(OpalMsg {
                msg_type: opal_api::msg::HMI_EVT,
                params: [i; 8],
            })
            .unwrap();
        }
        let mut completions = 0;
        while let Some(msg) = q.next() {
            if msg.msg_type == opal_api::msg::ASYNC_COMP {
                assert_eq!(msg.params[0], completions, "by token");
                assert_eq!(msg.params[1], 0);
                completions += 1;
            } else {
                assert_eq!(completions, 0, "events come first");
            }
        }
        assert_eq!(completions, ASYNC_TOKENS as u64);
        assert_eq!(q.refused(), 0);
        let again = q.start_async(0).unwrap();
        q.complete_async(again, Ok(()));
    }

    #[test]
    fn get_msg_delivers_a_completion() {
        let m = Machine::new();
        let op = m.msgs.start_async(0).unwrap();
        m.msgs.complete_async(op, Ok(()));
        assert_eq!(m.call(OPAL_GET_MSG, &[0x1000, 72]), 0);
        assert_eq!(m.mem.peek(0x1000, 4), [0, 0, 0, 0], "OPAL_MSG_ASYNC_COMP");
        assert_eq!(m.mem.peek_be64(0x1008), 0);
        assert_eq!(m.call(OPAL_GET_MSG, &[0x1000, 72]), -10);
        assert!(m.msgs.start_async(0).is_ok(), "free again");
    }

    #[test]
    fn completions_from_many_threads_are_each_collected_once() {
        use std::sync::Arc;
        let q = Arc::new(MessageQueue::new());
        for _ in 0..200 {
            let ops: Vec<AsyncOp> = (0..ASYNC_TOKENS as u64)
                .map(|t| q.start_async(t).unwrap())
                .collect();
            let workers: Vec<_> = ops
                .into_iter()
                .map(|op| {
                    let q = Arc::clone(&q);
                    std::thread::spawn(move || q.complete_async(op, Ok(())))
                })
                .collect();
            let mut seen = [false; ASYNC_TOKENS];
            let mut got = 0;
            while got < ASYNC_TOKENS {
                if let Some(msg) = q.next() {
                    let t = msg.params[0] as usize;
                    assert!(!seen[t], "token {t} delivered twice");
                    seen[t] = true;
                    got += 1;
                }
            }
            for w in workers {
                w.join().unwrap();
            }
            assert!(q.is_empty());
        }
    }
}
