// SPDX-License-Identifier: Apache-2.0
//! The other threads on command, for the cases that need a thread in a given state while
//! the boot thread calls OPAL (`sreset`, `quiesce`, `cpu.return_cpu`).
//!
//! [`Crew::enlist`] marks some threads and wakes the parked ones with
//! [`Job::Commands`]: a marked thread stays in [`worker`]'s command loop, the others go
//! straight back to sleep. The boot thread then posts one command at a time to a thread
//! ([`Crew::post`]) and waits for its answer ([`Crew::wait`]); a thread in a long command
//! ([`Op::LoopCalls`], [`Op::SpinUntilReset`]) publishes counters the case reads while it
//! runs. Dropping the crew sends every thread back to `secondary_park`, waking one that
//! still sleeps in [`arch::stop_until_reset`] with a doorbell.
//!
//! Threads are known by their index in the device tree's CPU list (at most [`MAX`]).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};

use conformance::system::System;
use opal_api::token::{OPAL_CHECK_TOKEN, OPAL_QUERY_CPU_STATUS, OPAL_RETURN_CPU};
use opal_api::OpalError;

use crate::arch::{self, Job};
use crate::fail;
use crate::opal::{self, Ret};
use crate::runner::{CaseResult, Ctx};

/// Threads the crew can command.
pub const MAX: usize = 16;

/// What a thread does when told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Op {
    /// `args[0]` = token (one of `opal::scalar_call`'s), `args[1..]` its arguments; the
    /// answer is r3.
    Call = 1,
    /// [`arch::stop_until_reset`], then `OPAL_CHECK_TOKEN(80)`: the answer is its r3.
    StopUntilReset = 2,
    /// Spin (MSR[EE] = 0) while this thread's reset count is `args[1]`, until
    /// [`Crew::stop_loops`] or timebase `args[0]`; then `OPAL_CHECK_TOKEN(80)`: the answer
    /// is its r3.
    SpinUntilReset = 3,
    /// `OPAL_CHECK_TOKEN(80)` in a loop until [`Crew::stop_loops`], counting the answers
    /// ([`Crew::counts`]); the answer is the number of calls.
    LoopCalls = 4,
    /// `OPAL_RETURN_CPU`: the thread leaves the crew for the firmware (no answer, unless
    /// the call returns: then its r3).
    ReturnCpu = 5,
    /// `OPAL_QUERY_CPU_STATUS(args[0], &status)` into a buffer on this thread's stack:
    /// the answer is r3. A call OPAL refuses with OPAL_INTERNAL_ERROR if it believes the
    /// thread is already inside OPAL (it is not one of the re-entrant tokens).
    QueryCpuStatus = 6,
}

const NO_PIR: u64 = u64::MAX;
/// The answer to [`Op::ReturnCpu`] while the thread is (or is on its way) in the firmware.
pub const RETURNED: u64 = 0x5245_5455_524e_4544;

static PIRS: [AtomicU64; MAX] = [const { AtomicU64::new(NO_PIR) }; MAX];
static ENLISTED: [AtomicBool; MAX] = [const { AtomicBool::new(false) }; MAX];
static IN_LOOP: [AtomicBool; MAX] = [const { AtomicBool::new(false) }; MAX];
static REQ: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];
static ACK: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];
static OP: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];
static ARGS: [[AtomicU64; 4]; MAX] = [const { [const { AtomicU64::new(0) }; 4] }; MAX];
static ANSWER: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];
static STOP_LOOPS: AtomicBool = AtomicBool::new(false);
/// `LoopCalls` answers: 1 (present), OPAL_BUSY, anything else; and the last "else".
static CALLS_OK: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];
static CALLS_BUSY: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];
static CALLS_OTHER: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];
static LAST_OTHER: [AtomicU64; MAX] = [const { AtomicU64::new(0) }; MAX];

/// Records which PIR has which index (the boot thread, before any command).
pub fn setup(sys: &System<'_>) {
    for (i, t) in sys.threads.iter().take(MAX).enumerate() {
        PIRS[i].store(u64::from(t.pir), SeqCst);
    }
}

fn index_of(pir: u32) -> Option<usize> {
    (0..MAX).find(|&i| PIRS[i].load(SeqCst) == u64::from(pir))
}

fn check_token_r3() -> u64 {
    opal::scalar_call(OPAL_CHECK_TOKEN, &[OPAL_CHECK_TOKEN]).map_or(u64::MAX, |r| r.0)
}

/// `worker_main` for [`Job::Commands`]: the command loop of an enlisted thread.
pub fn worker(pir: u32) {
    let Some(i) = index_of(pir) else { return };
    if !ENLISTED[i].load(SeqCst) {
        return;
    }
    IN_LOOP[i].store(true, SeqCst);
    let mut done = ACK[i].load(SeqCst);
    loop {
        let req = REQ[i].load(SeqCst);
        if req == done {
            if !ENLISTED[i].load(SeqCst) {
                break;
            }
            core::hint::spin_loop();
            continue;
        }
        let args: [u64; 4] = core::array::from_fn(|k| ARGS[i][k].load(SeqCst));
        let answer = match OP[i].load(SeqCst) {
            x if x == Op::Call as u64 => {
                opal::scalar_call(args[0], &args[1..]).map_or(u64::MAX, |r| r.0)
            }
            x if x == Op::StopUntilReset as u64 => {
                arch::stop_until_reset();
                check_token_r3()
            }
            x if x == Op::SpinUntilReset as u64 => {
                while arch::reset_record(pir).count == args[1]
                    && !STOP_LOOPS.load(SeqCst)
                    && arch::mftb() < args[0]
                {
                    core::hint::spin_loop();
                }
                check_token_r3()
            }
            x if x == Op::LoopCalls as u64 => {
                let mut n = 0u64;
                while !STOP_LOOPS.load(SeqCst) {
                    let r = check_token_r3();
                    n += 1;
                    if r == 1 {
                        CALLS_OK[i].fetch_add(1, SeqCst);
                    } else if Ret(r).is(OpalError::Busy) {
                        CALLS_BUSY[i].fetch_add(1, SeqCst);
                    } else {
                        LAST_OTHER[i].store(r, SeqCst);
                        CALLS_OTHER[i].fetch_add(1, SeqCst);
                    }
                }
                n
            }
            x if x == Op::QueryCpuStatus as u64 => {
                let mut status = [0u8; 8];
                let regs = [args[0], status.as_mut_ptr() as u64, 0, 0, 0, 0, 0, 0];
                // SAFETY: the only address passed is `status`, a live buffer of this
                // frame, of which OPAL writes one byte.
                let r = unsafe { opal::raw_call(OPAL_QUERY_CPU_STATUS, &regs) };
                r.unwrap_or(u64::MAX)
            }
            x if x == Op::ReturnCpu as u64 => {
                // Leaving: the command counts as done (a thread started again must not
                // run it twice) and the boot thread must not wait for this one any more.
                ANSWER[i].store(RETURNED, SeqCst);
                ACK[i].store(req, SeqCst);
                ENLISTED[i].store(false, SeqCst);
                IN_LOOP[i].store(false, SeqCst);
                let r = opal::scalar_call(OPAL_RETURN_CPU, &[]).map_or(u64::MAX, |r| r.0);
                ANSWER[i].store(r, SeqCst);
                return;
            }
            _ => u64::MAX,
        };
        ANSWER[i].store(answer, SeqCst);
        ACK[i].store(req, SeqCst);
        done = req;
    }
    IN_LOOP[i].store(false, SeqCst);
}

/// `LoopCalls` counters of one thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub ok: u64,
    pub busy: u64,
    pub other: u64,
    pub last_other: u64,
}

/// Some threads under the boot thread's command, released when dropped.
pub struct Crew {
    members: [bool; MAX],
    tick_ms: u64,
}

impl Crew {
    /// Enlists the threads with these PIRs (none of them the boot thread) and waits up to
    /// a second for each to reach its command loop.
    pub fn enlist(cx: &Ctx, pirs: &[u32]) -> CaseResult<Crew> {
        let mut crew = Crew {
            members: [false; MAX],
            tick_ms: cx.opal.ticks(1).max(1),
        };
        STOP_LOOPS.store(false, SeqCst);
        for &pir in pirs {
            let Some(i) = index_of(pir) else {
                fail!("PIR {pir:#x} is not among the first {MAX} threads")
            };
            if pir == cx.sys.boot_pir {
                fail!("the boot thread cannot be enlisted");
            }
            crew.members[i] = true;
            ENLISTED[i].store(true, SeqCst);
        }
        arch::wake_workers(Job::Commands);
        for &pir in pirs {
            let i = index_of(pir).unwrap_or(0);
            if !crew.until(1000, || IN_LOOP[i].load(SeqCst)) {
                fail!("thread PIR {pir:#x} did not answer the wakeup within 1 s");
            }
        }
        Ok(crew)
    }

    /// Polls `done` for up to `ms` milliseconds; whether it became true.
    pub fn until(&self, ms: u64, mut done: impl FnMut() -> bool) -> bool {
        let deadline = arch::mftb() + ms * self.tick_ms;
        loop {
            if done() {
                return true;
            }
            if arch::mftb() > deadline {
                return false;
            }
            core::hint::spin_loop();
        }
    }

    /// Spins for `ms` milliseconds.
    pub fn pause(&self, ms: u64) {
        let _ = self.until(ms, || false);
    }

    /// A timebase value `ms` milliseconds from now (for [`Op::SpinUntilReset`]).
    pub fn deadline(&self, ms: u64) -> u64 {
        arch::mftb() + ms * self.tick_ms
    }

    fn index(&self, pir: u32) -> CaseResult<usize> {
        match index_of(pir) {
            Some(i) if self.members[i] => Ok(i),
            _ => fail!("thread PIR {pir:#x} is not in the crew"),
        }
    }

    /// Hands `op` to the thread; it starts at once (it spins on its mailbox).
    pub fn post(&self, pir: u32, op: Op, args: &[u64]) -> CaseResult {
        let i = self.index(pir)?;
        if REQ[i].load(SeqCst) != ACK[i].load(SeqCst) {
            fail!("thread PIR {pir:#x} is still busy with its last command");
        }
        if op == Op::LoopCalls {
            CALLS_OK[i].store(0, SeqCst);
            CALLS_BUSY[i].store(0, SeqCst);
            CALLS_OTHER[i].store(0, SeqCst);
        }
        for (k, a) in ARGS[i].iter().enumerate() {
            a.store(args.get(k).copied().unwrap_or(0), SeqCst);
        }
        OP[i].store(op as u64, SeqCst);
        REQ[i].fetch_add(1, SeqCst);
        Ok(())
    }

    /// The answer to the thread's last command, if it comes within `ms` milliseconds.
    pub fn wait(&self, pir: u32, ms: u64) -> CaseResult<Option<Ret>> {
        let i = self.index(pir)?;
        let done = self.until(ms, || ACK[i].load(SeqCst) == REQ[i].load(SeqCst));
        Ok(done.then(|| Ret(ANSWER[i].load(SeqCst))))
    }

    /// Posts `op` and waits up to a second for the answer; fails if none comes.
    pub fn run(&self, pir: u32, op: Op, args: &[u64]) -> CaseResult<Ret> {
        self.post(pir, op, args)?;
        match self.wait(pir, 1000)? {
            Some(r) => Ok(r),
            None => fail!("thread PIR {pir:#x} did not finish {op:?} within 1 s"),
        }
    }

    /// A scalar OPAL call made by that thread (see `opal::scalar_call`).
    pub fn call(&self, pir: u32, token: u64, args: &[u64]) -> CaseResult<Ret> {
        let mut a = [token, 0, 0, 0];
        for (d, s) in a[1..].iter_mut().zip(args) {
            *d = *s;
        }
        self.run(pir, Op::Call, &a)
    }

    /// Ends every [`Op::LoopCalls`] and [`Op::SpinUntilReset`].
    pub fn stop_loops(&self) {
        STOP_LOOPS.store(true, SeqCst);
    }

    /// Lets loops run again (before the next [`Op::LoopCalls`]).
    pub fn allow_loops(&self) {
        STOP_LOOPS.store(false, SeqCst);
    }

    pub fn counts(&self, pir: u32) -> Counts {
        let Some(i) = index_of(pir) else {
            return Counts::default();
        };
        Counts {
            ok: CALLS_OK[i].load(SeqCst),
            busy: CALLS_BUSY[i].load(SeqCst),
            other: CALLS_OTHER[i].load(SeqCst),
            last_other: LAST_OTHER[i].load(SeqCst),
        }
    }

    /// The answer to the thread's last command as it stands (no waiting).
    pub fn answer(&self, pir: u32) -> Option<Ret> {
        index_of(pir).map(|i| Ret(ANSWER[i].load(SeqCst)))
    }

    /// The thread leaves the crew (it went back to the firmware with `OPAL_RETURN_CPU`).
    pub fn forget(&mut self, pir: u32) {
        if let Some(i) = index_of(pir) {
            self.members[i] = false;
        }
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        STOP_LOOPS.store(true, SeqCst);
        for i in 0..MAX {
            if self.members[i] {
                ENLISTED[i].store(false, SeqCst);
            }
        }
        for i in (0..MAX).filter(|&i| self.members[i]) {
            let pir = PIRS[i].load(SeqCst) as u32;
            let mut rung = false;
            let gone = self.until(1000, || {
                if !rung && arch::reset_record(pir).in_stop {
                    arch::doorbell(pir);
                    rung = true;
                }
                !IN_LOOP[i].load(SeqCst)
            });
            if !gone {
                let mut m = crate::runner::Msg::new();
                let _ = core::fmt::Write::write_fmt(
                    &mut m,
                    format_args!(
                        "\r\nwarning: thread PIR {pir:#x} did not leave its command loop\r\n"
                    ),
                );
                opal::emergency_write(m.as_str().as_bytes());
            }
        }
        STOP_LOOPS.store(false, SeqCst);
    }
}
