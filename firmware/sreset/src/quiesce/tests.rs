// SPDX-License-Identifier: Apache-2.0
//! Host tests of `OPAL_QUIESCE`: the rules on one thread with a fake timebase, and the
//! protocol against OPAL entries running on std threads that follow the same entry
//! sequence as the firmware's assembly.

use super::*;
use crate::model::Timebase;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::thread;
use std::time::{Duration, Instant};
use std::vec::Vec;

/// Per-CPU words as the firmware keeps them in each CPU's header.
struct Cpus {
    servers: Vec<u32>,
    in_opal: Vec<AtomicU32>,
    flag: Vec<AtomicU32>,
    lock_break: AtomicBool,
}

impl Cpus {
    fn new(servers: &[u32]) -> Self {
        Self {
            servers: servers.to_vec(),
            in_opal: servers.iter().map(|_| AtomicU32::new(0)).collect(),
            flag: servers.iter().map(|_| AtomicU32::new(0)).collect(),
            lock_break: AtomicBool::new(false),
        }
    }

    fn flags(&self) -> Vec<u32> {
        self.flag
            .iter()
            .map(|f| f.load(Ordering::Relaxed))
            .collect()
    }

    fn lock_break(&self) -> bool {
        self.lock_break.load(Ordering::Relaxed)
    }

    /// The OPAL entry, as the assembly does it: count in, full fence, read the flag.
    fn enter(&self, i: usize) -> Result<(), OpalError> {
        loop {
            self.in_opal[i].fetch_add(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            match self.flag[i].load(Ordering::Relaxed) {
                0 => return Ok(()),
                QUIESCE_REJECT => {
                    self.in_opal[i].fetch_sub(1, Ordering::Release);
                    return Err(OpalError::Busy);
                }
                _ => {
                    self.in_opal[i].fetch_sub(1, Ordering::Release);
                    while self.flag[i].load(Ordering::Relaxed) == QUIESCE_HOLD {
                        spin_loop();
                        thread::yield_now();
                    }
                }
            }
        }
    }

    /// The OPAL exit: everything done inside is visible before the count drops.
    fn exit(&self, i: usize) {
        self.in_opal[i].fetch_sub(1, Ordering::Release);
    }
}

impl QuiesceCpus for Cpus {
    fn count(&self) -> usize {
        self.servers.len()
    }
    fn server(&self, i: usize) -> u32 {
        self.servers[i]
    }
    fn in_opal(&self, i: usize) -> u32 {
        self.in_opal[i].load(Ordering::Relaxed)
    }
    fn set_flag(&self, i: usize, value: u32) {
        self.flag[i].store(value, Ordering::Relaxed);
    }
    fn clear_in_opal(&self, i: usize) {
        self.in_opal[i].store(0, Ordering::Relaxed);
    }
    fn set_lock_break(&self, on: bool) {
        self.lock_break.store(on, Ordering::Relaxed);
    }
}

/// The wall clock, for the threaded tests, running 20 times slow: the 1 s budget lasts
/// 20 s. The test host is small and shared, and a caller preempted between its count
/// increment and its decrement for a whole second made HOLD answer PARTIAL there. The
/// budget itself is tested on the fake timebase.
struct WallClock(Instant);

impl Clock for WallClock {
    fn now(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
    fn ticks_per_us(&self) -> u64 {
        20_000
    }
    fn pause(&self) {
        spin_loop();
        thread::yield_now();
    }
}

const SERVERS: [u32; 4] = [0x00, 0x04, 0x08, 0x0c];
/// The CPU making the quiesce calls: index 0, inside OPAL while it does.
const ME: u32 = 0x00;

fn machine() -> (Quiesce, Cpus) {
    let cpus = Cpus::new(&SERVERS);
    cpus.in_opal[0].store(1, Ordering::Relaxed); // we are in OPAL_QUIESCE
    (Quiesce::new(), cpus)
}

// ----- rules, one thread -------------------------------------------------------------------

#[test]
fn hold_all_flags_every_other_cpu_and_never_waits_for_the_caller() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_HOLD, -1), Ok(()));
    assert_eq!(tb.now_us(), 0, "no waiting: only the caller is inside");
    assert_eq!(cpus.flags(), [0, 1, 1, 1]);
    assert_eq!(q.owner(), Some(ME));
    assert!(q.is_active());
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1), Ok(()));
    assert_eq!(cpus.flags(), [0, 0, 0, 0]);
    assert_eq!(q.owner(), None);
    assert_eq!(cpus.in_opal(0), 1, "plain RESUME leaves the counts alone");
}

#[test]
fn reject_and_single_targets_set_only_their_flags() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_REJECT, 0x08), Ok(()));
    assert_eq!(cpus.flags(), [0, 0, 2, 0]);
    // RESUME undoes it whatever CPU it names.
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1), Ok(()));
    assert_eq!(cpus.flags(), [0, 0, 0, 0]);
}

#[test]
fn partial_when_a_cpu_stays_inside_past_the_budget() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    cpus.in_opal[2].store(1, Ordering::Relaxed);
    cpus.in_opal[3].store(2, Ordering::Relaxed); // re-entered
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_HOLD, -1),
        Err(OpalError::Partial)
    );
    // One budget for the whole call, not one per stuck CPU.
    let waited = tb.now_us();
    assert!(
        (QUIESCE_BUDGET_US..QUIESCE_BUDGET_US + 10).contains(&waited),
        "waited {waited} us"
    );
    // Still quiesced and owned: the caller must RESUME.
    assert_eq!(cpus.flags(), [0, 1, 1, 1]);
    assert_eq!(q.owner(), Some(ME));
    assert_eq!(
        q.call(&cpus, &tb, 0x04, QUIESCE_HOLD, -1),
        Err(OpalError::Busy)
    );
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1), Ok(()));
    assert_eq!(cpus.flags(), [0, 0, 0, 0]);
}

#[test]
fn a_cpu_that_leaves_within_the_budget_is_success() {
    struct Leaving<'a>(&'a Cpus, Cell<u32>);
    impl QuiesceCpus for Leaving<'_> {
        fn count(&self) -> usize {
            self.0.count()
        }
        fn server(&self, i: usize) -> u32 {
            self.0.server(i)
        }
        fn in_opal(&self, i: usize) -> u32 {
            // CPU 1 leaves OPAL after being looked at 500 times.
            if i == 1 {
                self.1.set(self.1.get() + 1);
                return u32::from(self.1.get() < 500);
            }
            self.0.in_opal(i)
        }
        fn set_flag(&self, i: usize, value: u32) {
            self.0.set_flag(i, value)
        }
        fn clear_in_opal(&self, i: usize) {
            self.0.clear_in_opal(i)
        }
        fn set_lock_break(&self, on: bool) {
            self.0.set_lock_break(on)
        }
    }
    use core::cell::Cell;
    let (q, cpus) = machine();
    let tb = Timebase::new();
    let leaving = Leaving(&cpus, Cell::new(0));
    assert_eq!(q.call(&leaving, &tb, ME, QUIESCE_HOLD, -1), Ok(()));
    assert!(tb.now_us() < QUIESCE_BUDGET_US);
}

#[test]
fn a_second_owner_gets_busy() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    let other = 0x04;
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_HOLD, 0x08), Ok(()));
    for kind in [QUIESCE_HOLD, QUIESCE_REJECT] {
        assert_eq!(q.call(&cpus, &tb, other, kind, -1), Err(OpalError::Busy));
        assert_eq!(q.call(&cpus, &tb, other, kind, 0x0c), Err(OpalError::Busy));
    }
    for kind in [
        QUIESCE_RESUME,
        QUIESCE_RESUME_FAST_REBOOT,
        QUIESCE_LOCK_BREAK,
    ] {
        assert_eq!(q.call(&cpus, &tb, other, kind, -1), Err(OpalError::Busy));
    }
    // The owner nesting a HOLD (its crash path) is refused too, and changes nothing.
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_HOLD, -1),
        Err(OpalError::Busy)
    );
    assert_eq!(cpus.flags(), [0, 0, 1, 0]);
    assert_eq!(q.owner(), Some(ME));
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_RESUME, 0x08), Ok(()));
    // Free again, for anyone: now the other CPU is the one inside OPAL_QUIESCE.
    cpus.in_opal[0].store(0, Ordering::Relaxed);
    cpus.in_opal[1].store(1, Ordering::Relaxed);
    assert_eq!(q.call(&cpus, &tb, other, QUIESCE_HOLD, -1), Ok(()));
    assert_eq!(cpus.flags(), [1, 0, 1, 1]);
    assert_eq!(q.call(&cpus, &tb, other, QUIESCE_RESUME, -1), Ok(()));
}

#[test]
fn resume_without_owning_is_busy() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    for kind in [QUIESCE_RESUME, QUIESCE_RESUME_FAST_REBOOT] {
        assert_eq!(q.call(&cpus, &tb, ME, kind, -1), Err(OpalError::Busy));
    }
    // Nor can a former owner resume twice.
    q.call(&cpus, &tb, ME, QUIESCE_HOLD, -1).unwrap();
    q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1).unwrap();
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1),
        Err(OpalError::Busy)
    );
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_LOCK_BREAK, -1),
        Err(OpalError::Busy)
    );
}

#[test]
fn lock_break_needs_the_owner_of_a_quiesce_of_all() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_LOCK_BREAK, -1),
        Err(OpalError::Busy),
        "nothing quiesced"
    );
    q.call(&cpus, &tb, ME, QUIESCE_HOLD, 0x04).unwrap();
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_LOCK_BREAK, -1),
        Err(OpalError::Busy),
        "only one CPU quiesced"
    );
    assert!(!cpus.lock_break());
    q.call(&cpus, &tb, ME, QUIESCE_RESUME, 0x04).unwrap();

    q.call(&cpus, &tb, ME, QUIESCE_REJECT, -1).unwrap();
    assert_eq!(
        q.call(&cpus, &tb, 0x04, QUIESCE_LOCK_BREAK, -1),
        Err(OpalError::Busy),
        "not the owner"
    );
    assert!(!cpus.lock_break());
    // The target checked is the quiesce's, not the LOCK_BREAK's own argument.
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_LOCK_BREAK, 0x08), Ok(()));
    assert!(cpus.lock_break());
    assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1), Ok(()));
    assert!(!cpus.lock_break());
    assert_eq!(cpus.flags(), [0, 0, 0, 0]);
}

#[test]
fn resume_fast_reboot_zeroes_every_count() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    cpus.in_opal[3].store(1, Ordering::Relaxed);
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_HOLD, -1),
        Err(OpalError::Partial)
    );
    q.call(&cpus, &tb, ME, QUIESCE_LOCK_BREAK, -1).unwrap();
    assert_eq!(
        q.call(&cpus, &tb, ME, QUIESCE_RESUME_FAST_REBOOT, -1),
        Ok(())
    );
    assert!((0..4).all(|i| cpus.in_opal(i) == 0));
    assert_eq!(cpus.flags(), [0, 0, 0, 0]);
    assert!(!cpus.lock_break());
    assert_eq!(q.owner(), None);
}

#[test]
fn bad_arguments_are_parameter_errors_and_change_nothing() {
    let (q, cpus) = machine();
    let tb = Timebase::new();
    for (kind, cpu) in [
        (QUIESCE_HOLD, -2),
        (QUIESCE_HOLD, i32::MIN),
        (QUIESCE_HOLD, 0x10), // no such server
        (QUIESCE_RESUME, 0x10),
        (QUIESCE_LOCK_BREAK, -3),
        (0, -1),
        (6, -1),
        (u32::MAX, 0x04),
        (QUIESCE_HOLD, ME as i32), // ourselves
        (QUIESCE_REJECT, ME as i32),
    ] {
        assert_eq!(
            q.call(&cpus, &tb, ME, kind, cpu),
            Err(OpalError::Parameter),
            "type {kind} cpu {cpu}"
        );
        assert_eq!(q.owner(), None);
        assert_eq!(cpus.flags(), [0, 0, 0, 0]);
    }
    // Arguments are checked before ownership, as skiboot does.
    q.call(&cpus, &tb, ME, QUIESCE_HOLD, -1).unwrap();
    assert_eq!(
        q.call(&cpus, &tb, 0x04, QUIESCE_RESUME, -7),
        Err(OpalError::Parameter)
    );
    assert_eq!(
        q.call(&cpus, &tb, NO_OWNER, QUIESCE_RESUME, -1),
        Err(OpalError::Parameter)
    );
    q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1).unwrap();
}

#[test]
fn a_quiesce_is_a_const_static() {
    static Q: Quiesce = Quiesce::new();
    assert_eq!(Q.owner(), None);
}

// ----- the protocol, with OPAL entries on other threads -------------------------------------

/// What the OPAL callers on the other CPUs saw.
struct Stats {
    /// Callers between a successful entry and their exit, all CPUs together.
    inside: AtomicU32,
    calls: [AtomicU64; 4],
    busy: [AtomicU64; 4],
    stop: AtomicBool,
}

impl Stats {
    fn new() -> Self {
        Self {
            inside: AtomicU32::new(0),
            calls: Default::default(),
            busy: Default::default(),
            stop: AtomicBool::new(false),
        }
    }

    fn calls(&self) -> [u64; 4] {
        self.calls.each_ref().map(|c| c.load(Ordering::SeqCst))
    }

    fn busy(&self) -> [u64; 4] {
        self.busy.each_ref().map(|c| c.load(Ordering::SeqCst))
    }
}

/// Lets the callers go, even when the test fails half-way (a failed assertion must not
/// leave `thread::scope` waiting for threads held at entry).
struct Release<'a> {
    cpus: &'a Cpus,
    stop: &'a AtomicBool,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for i in 0..self.cpus.count() {
            self.cpus.set_flag(i, 0);
        }
    }
}

/// CPU `i` making OPAL calls in a loop until told to stop.
fn caller_loop(cpus: &Cpus, stats: &Stats, i: usize) {
    while !stats.stop.load(Ordering::Relaxed) {
        match cpus.enter(i) {
            Ok(()) => {
                stats.inside.fetch_add(1, Ordering::SeqCst);
                for _ in 0..20 {
                    spin_loop();
                }
                stats.calls[i].fetch_add(1, Ordering::SeqCst);
                stats.inside.fetch_sub(1, Ordering::SeqCst);
                cpus.exit(i);
            }
            Err(e) => {
                assert_eq!(e, OpalError::Busy);
                stats.busy[i].fetch_add(1, Ordering::SeqCst);
                thread::yield_now(); // as an OS would, rather than hammer the firmware
            }
        }
        if i.is_multiple_of(2) {
            thread::yield_now(); // some callers race flat out, others give way
        }
    }
}

/// Waits (for real, at most 30 s: the host is shared) until `done` holds.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "never: {what}");
        thread::yield_now();
    }
}

/// Watches for a while that nobody is inside and nobody gets in.
fn assert_nobody_gets_in(stats: &Stats) {
    let calls = stats.calls();
    for _ in 0..200 {
        assert_eq!(stats.inside.load(Ordering::SeqCst), 0);
        thread::yield_now();
    }
    assert_eq!(stats.calls(), calls);
}

const ROUNDS: usize = 200;

/// The threaded tests run one at a time: on a small machine, several of them at once
/// starve each other's threads for long enough to reach the 1 s budget.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `rounds` with CPUs 1..4 calling OPAL in a loop on their own threads; the caller
/// (CPU 0, `ME`) drives the quiesce from `rounds`.
fn with_callers(rounds: impl FnOnce(&Quiesce, &Cpus, &Stats, &WallClock)) {
    let _serial = one_at_a_time();
    let (q, cpus) = machine();
    let stats = Stats::new();
    let clock = WallClock(Instant::now());
    thread::scope(|s| {
        let _release = Release {
            cpus: &cpus,
            stop: &stats.stop,
        };
        for i in 1..4 {
            let (cpus, stats) = (&cpus, &stats);
            s.spawn(move || caller_loop(cpus, stats, i));
        }
        rounds(&q, &cpus, &stats, &clock);
    });
}

#[test]
fn hold_keeps_every_other_cpu_out_until_resume() {
    with_callers(|q, cpus, stats, clock| {
        for round in 0..ROUNDS {
            let before = stats.calls();
            eventually("every CPU makes calls", || {
                let now = stats.calls();
                (1..4).all(|i| now[i] > before[i])
            });
            assert_eq!(
                q.call(cpus, clock, ME, QUIESCE_HOLD, -1),
                Ok(()),
                "round {round}"
            );
            assert_nobody_gets_in(stats);
            assert_eq!(stats.busy(), [0; 4], "HOLD makes callers wait, not fail");
            assert_eq!(q.call(cpus, clock, ME, QUIESCE_RESUME, -1), Ok(()));
        }
    });
}

#[test]
fn reject_turns_calls_away_with_busy() {
    with_callers(|q, cpus, stats, clock| {
        for round in 0..ROUNDS {
            let calls = stats.calls();
            eventually("every CPU makes calls", || {
                let now = stats.calls();
                (1..4).all(|i| now[i] > calls[i])
            });
            assert_eq!(
                q.call(cpus, clock, ME, QUIESCE_REJECT, -1),
                Ok(()),
                "round {round}"
            );
            let busy = stats.busy();
            eventually("every CPU is turned away", || {
                let now = stats.busy();
                (1..4).all(|i| now[i] > busy[i])
            });
            assert_nobody_gets_in(stats);
            assert_eq!(q.call(cpus, clock, ME, QUIESCE_RESUME, -1), Ok(()));
        }
    });
}

#[test]
fn hold_of_one_cpu_leaves_the_others_running() {
    with_callers(|q, cpus, stats, clock| {
        for round in 0..ROUNDS / 4 {
            let held = 1 + round % 3;
            assert_eq!(
                q.call(cpus, clock, ME, QUIESCE_HOLD, SERVERS[held] as i32),
                Ok(())
            );
            let calls = stats.calls();
            for other in (1..4).filter(|&i| i != held) {
                eventually("the others keep calling", || {
                    stats.calls()[other] > calls[other]
                });
            }
            assert_eq!(stats.calls()[held], calls[held], "round {round}");
            // A held CPU that is just starting a call counts itself in, sees the flag
            // and backs out (the entry protocol), so a look can catch 1 for a moment; it
            // never stays in.
            eventually("the held CPU is not inside", || cpus.in_opal(held) == 0);
            assert_eq!(q.call(cpus, clock, ME, QUIESCE_RESUME, -1), Ok(()));
            eventually("the held CPU calls again", || {
                stats.calls()[held] > calls[held]
            });
        }
    });
}

#[test]
fn partial_with_a_caller_stuck_inside_then_it_waits_at_entry() {
    let _serial = one_at_a_time();
    let (q, cpus) = machine();
    let leave = AtomicBool::new(false);
    let calls = AtomicU64::new(0);
    let tb = Timebase::new(); // only this thread reads it
    thread::scope(|s| {
        let _release = Release {
            cpus: &cpus,
            stop: &leave,
        };
        s.spawn(|| {
            // CPU 2 is in a long call (a flash write, say).
            cpus.enter(2).unwrap();
            while !leave.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            cpus.exit(2);
            // Its next call finds the HOLD and waits at entry.
            cpus.enter(2).unwrap();
            calls.fetch_add(1, Ordering::SeqCst);
            cpus.exit(2);
        });
        eventually("CPU 2 is inside", || cpus.in_opal(2) == 1);
        assert_eq!(
            q.call(&cpus, &tb, ME, QUIESCE_HOLD, -1),
            Err(OpalError::Partial)
        );
        assert!(tb.now_us() >= QUIESCE_BUDGET_US);
        assert_eq!(q.owner(), Some(ME));
        leave.store(true, Ordering::SeqCst);
        eventually("CPU 2 has left", || cpus.in_opal(2) == 0);
        for _ in 0..200 {
            thread::yield_now();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0, "held at entry");
        assert_eq!(q.call(&cpus, &tb, ME, QUIESCE_RESUME, -1), Ok(()));
        eventually("CPU 2 got its call in", || {
            calls.load(Ordering::SeqCst) == 1
        });
    });
}
