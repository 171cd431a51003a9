// SPDX-License-Identifier: Apache-2.0
//! Hardware threads: the per-CPU table, parking, and the jobs a parked thread runs for
//! others (skiboot `core/cpu.c`).
//!
//! A thread that is not running the OS sleeps in stop0-lite waiting on its mailbox. A
//! poster fills the mailbox, then rings the thread's doorbell; the sleeper clears its
//! doorbell *before* it looks at the mailbox, so a doorbell rung after the look is still
//! pending and ends the next stop at once (no lost wake-up). A 10 ms decrementer bounds
//! the sleep in case a doorbell cannot reach the thread (cross-core on real hardware).
//!
//! A thread the OS hands back (OPAL_RETURN_CPU, kexec and kdump) leaves its OPAL call for
//! good: head.S `return_to_park` counts it out of OPAL and restarts its stack, and it
//! parks like a secondary that was never started, until the next kernel's START_CPU.
//!
//! Concurrency: `CONTROL` serialises OPAL_START_CPU, OPAL_REINIT_CPUS and OPAL_RETURN_CPU
//! (the calls that change who owns a thread); the state word of each thread changes by CAS
//! or by the owning thread itself.
//!
//! Crash time (kdump: every secondary returns at once, some of them reset by an NMI in
//! the middle of a call): `CONTROL` is a bounded `FwLock`. RETURN_CPU goes on without it
//! if its holder died (the lock only guards the "never the last OS thread" check);
//! START_CPU and REINIT_CPUS answer BUSY. REINIT_CPUS waits at most 1 s for threads that
//! are still the OS's and then applies itself to every thread that can answer, so a thread
//! that never came back cannot leave the next kernel with the wrong interrupt endianness.
//! A CPU returned from inside an interrupted call frees the firmware locks it held.

use crate::layout::{MAX_CPUS, PARK_DEC_TICKS, PIR_SLOTS};
use crate::{arch, console, layout};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use hal::{FwLock, Holder, ReinitRequest};
use opal_api::{CpuStatus, OpalError, OpalResult};

/// Owner of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// Listed in the device tree, has not called in (yet).
    Absent = 0,
    /// Parked in OPAL, startable.
    Parked = 1,
    /// Being handed to the OS.
    Starting = 2,
    /// Running the OS.
    Os = 3,
    /// The boot thread, until it enters the kernel.
    Boot = 4,
}

impl State {
    /// The OS owns the thread (or is about to, or it is the boot thread still on its way).
    fn is_os(self) -> bool {
        matches!(self, Self::Os | Self::Starting | Self::Boot)
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Parked,
            2 => Self::Starting,
            3 => Self::Os,
            4 => Self::Boot,
            _ => Self::Absent,
        }
    }
}

const JOB_NONE: u32 = 0;
const JOB_START: u32 = 1;
const JOB_REINIT: u32 = 2;
/// Not posted: a parked thread makes it up itself when its HMER has an HMI pending (an
/// HMI ends a stop but is not taken with MSR[EE]=0, so the park loop has to look).
const JOB_HMI: u32 = 3;

pub struct PerCpu {
    pir: AtomicU32,
    state: AtomicU8,
    job: AtomicU32,
    job_arg: AtomicU64,
    /// Incremented by the thread each time it finishes a job.
    jobs_done: AtomicU32,
}

impl PerCpu {
    const fn new() -> Self {
        Self {
            // Zero, not a marker: only registered entries are ever read, and an all-zero
            // table lives in .bss instead of the image.
            pir: AtomicU32::new(0),
            state: AtomicU8::new(State::Absent as u8),
            job: AtomicU32::new(JOB_NONE),
            job_arg: AtomicU64::new(0),
            jobs_done: AtomicU32::new(0),
        }
    }
    fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }
    fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::Release);
    }
    pub fn pir(&self) -> u32 {
        self.pir.load(Ordering::Relaxed)
    }
}

static CPUS: [PerCpu; MAX_CPUS] = [const { PerCpu::new() }; MAX_CPUS];
static NCPUS: AtomicUsize = AtomicUsize::new(0);
static CONTROL: FwLock<()> = FwLock::new(());
/// Spins for `CONTROL` (its critical sections are short: a bounded wait covers them).
const CONTROL_SPINS: u32 = 10_000_000;
/// The PVR major family, decided once at boot (9 or 10; 8 for POWER8).
static GENERATION: AtomicU32 = AtomicU32::new(9);

/// The PVR major family `register` recorded (9, 10; 8 for POWER8).
pub fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

fn cpus() -> &'static [PerCpu] {
    &CPUS[..NCPUS.load(Ordering::Acquire)]
}

/// The CPU index of thread `pir` (None: not a thread the firmware manages).
pub fn index_of_pir(pir: u64) -> Option<usize> {
    let slot = arch::PIR_TO_CPU.get(usize::try_from(pir).ok()?)?;
    let idx = slot.load(Ordering::Acquire);
    (idx != 0).then(|| usize::from(idx) - 1)
}

fn by_pir(pir: u64) -> Option<&'static PerCpu> {
    index_of_pir(pir).map(|i| &CPUS[i])
}

fn me() -> Holder {
    Holder::from_pir(arch::pir())
}

/// The header head.S keeps at the bottom of each CPU's region (layout.rs PCPU_*).
#[repr(C)]
pub struct PcpuHeader {
    /// OPAL calls the CPU is inside (0, 1, or 2 when re-entered).
    pub depth: AtomicU32,
    /// Set by the quiesce owner: 0, HOLD (1) or REJECT (2).
    pub quiesce: AtomicU32,
    /// Test builds only: end the current call in a synthetic HMI (head.S reads and clears it).
    pub inject_hmi: AtomicU32,
}

const _: () = assert!(
    layout::PCPU_OPAL_DEPTH == 0 && layout::PCPU_QUIESCE == 4 && layout::PCPU_INJECT_HMI == 8,
    "PcpuHeader must match head.S"
);

/// Base address of CPU `index`'s per-CPU region.
fn region_base(index: usize) -> u64 {
    layout::STACKS_BASE + index as u64 * layout::STACK_SIZE
}

/// CPU `index`'s header.
pub fn header(index: usize) -> &'static PcpuHeader {
    assert!(index < MAX_CPUS);
    // SAFETY: the per-CPU regions are firmware-reserved memory (layout.rs), aligned to
    // STACK_SIZE; the header's words are only ever accessed as aligned 32-bit words (here
    // atomically, in head.S by lwz/stw), and nothing else lives in the first 12 bytes.
    unsafe { &*(region_base(index) as *const PcpuHeader) }
}

/// How many threads are registered (indices 0..count() for `header` and `pir_of`).
pub fn count() -> usize {
    NCPUS.load(Ordering::Acquire)
}

pub fn pir_of(index: usize) -> u32 {
    CPUS[index].pir()
}

/// Registers the device tree's threads (boot thread included) and lets the parked
/// secondaries in. Returns how many threads are known.
pub fn register(pirs: &[u32], boot_pir: u32, generation: u32) -> usize {
    GENERATION.store(generation, Ordering::Relaxed);
    let mut n = 0;
    for &pir in pirs {
        if n == MAX_CPUS || pir as usize >= PIR_SLOTS {
            log::warn!("thread PIR {pir:#x} is beyond what Opalite manages; left asleep");
            continue;
        }
        CPUS[n].pir.store(pir, Ordering::Relaxed);
        clear_header(n);
        let state = if pir == boot_pir {
            State::Boot
        } else {
            State::Absent
        };
        CPUS[n].set_state(state);
        arch::PIR_TO_CPU[pir as usize].store(n as u16 + 1, Ordering::Release);
        n += 1;
    }
    NCPUS.store(n, Ordering::Release);
    n
}

/// Zeroes CPU `index`'s header (OPAL depth and quiesce flag). RAM survives a reboot, and a
/// reboot requested from inside an OPAL call (OPAL_CEC_REBOOT) resets the machine with the
/// depth still 1 (or a quiesce still in force): left alone, every later call would be
/// taken for a re-entered one and refused, or held forever.
fn clear_header(index: usize) {
    let h = header(index);
    h.depth.store(0, Ordering::SeqCst);
    h.quiesce.store(0, Ordering::SeqCst);
    h.inject_hmi.store(0, Ordering::SeqCst);
}

/// Releases the secondaries waiting in the head and waits (bounded) until each has
/// parked. Returns how many called in.
pub fn release_secondaries(go_word: *mut u32, timeout_ticks: u64) -> usize {
    // SAFETY: `go_word` points at `secondaries_go` in the loaded copy of the image, which
    // nothing else writes.
    unsafe { go_word.write_volatile(1) };
    arch::sync();
    for c in cpus() {
        if c.state() == State::Absent {
            arch::doorbell(c.pir());
        }
    }
    let deadline = arch::timebase() + timeout_ticks;
    loop {
        let waiting = cpus().iter().filter(|c| c.state() == State::Absent).count();
        if waiting == 0 || arch::timebase() > deadline {
            return cpus().iter().filter(|c| c.state() == State::Parked).count();
        }
        arch::relax();
    }
}

/// Prints every known thread in PIR order with its chip, core, thread and state.
pub fn print_inventory(threads: &[crate::inventory::Thread]) {
    // PIR order by repeated minimum: a few hundred threads at most, once per boot, and
    // no sort routine in the image (the library's stable sort is 3 KiB).
    let mut last = None;
    while let Some(c) = cpus()
        .iter()
        .filter(|c| last.is_none_or(|l| c.pir() > l))
        .min_by_key(|c| c.pir())
    {
        let pir = c.pir();
        last = Some(pir);
        let state = match c.state() {
            State::Absent => "did not call in",
            State::Parked => "parked",
            State::Starting | State::Os => "OS",
            State::Boot => "boot thread",
        };
        let chip = threads.iter().find(|t| t.pir == pir).map_or(0, |t| t.chip);
        log::info!(
            "PIR {pir:#06x} chip {chip} core {} thread {} ({state})",
            (pir >> 2) & 0x3f,
            pir & 3
        );
    }
}

/// The threads of `pir`'s core that the firmware knows (bit t: thread t, from the PIR's
/// low two bits: SMT4 cores, as QEMU and non-fused P9/P10 number them), and the index of
/// the core's lowest-numbered registered thread, which names the core.
pub fn core_of(pir: u32) -> Option<(usize, u8)> {
    let key = pir >> 2;
    let mut first = None;
    let mut mask = 0u8;
    for (i, c) in cpus().iter().enumerate() {
        if c.pir() >> 2 == key && c.state() != State::Absent {
            first.get_or_insert(i);
            mask |= 1 << (c.pir() & 3);
        }
    }
    first.map(|i| (i, mask))
}

/// Is the thread parked in the firmware (never started, or returned by the OS)?
pub fn is_parked(pir: u32) -> bool {
    by_pir(u64::from(pir)).is_some_and(|c| c.state() == State::Parked)
}

/// Is the thread running the OS?
#[cfg(feature = "hmi-inject")]
pub fn runs_os(pir: u32) -> bool {
    by_pir(u64::from(pir)).is_some_and(|c| c.state() == State::Os)
}

/// The index of the calling thread (for its `header`).
#[cfg(feature = "hmi-inject")]
pub fn my_index() -> Option<usize> {
    index_of_pir(u64::from(arch::pir()))
}

/// The boot thread becomes the OS's when it enters the kernel.
pub fn boot_thread_to_os() {
    if let Some(c) = by_pir(u64::from(arch::pir())) {
        c.set_state(State::Os);
    }
}

/// Entry of every secondary thread from the head, on its own stack.
#[no_mangle]
extern "C" fn secondary_main(pir: u64) -> ! {
    let Some(me) = by_pir(pir) else {
        // Cannot happen: the head only comes here for registered PIRs.
        loop {
            arch::stop_until_doorbell(u32::MAX >> 1);
        }
    };
    crate::hmi::enable_on_this_thread();
    me.set_state(State::Parked);
    park(me)
}

/// Where a thread the OS returned (OPAL_RETURN_CPU) lands, on a fresh stack, counted out
/// of OPAL (head.S `return_to_park`).
#[no_mangle]
extern "C" fn returned_main(pir: u64) -> ! {
    // The OS may have left its hypervisor decrementer armed (KVM); a pending HDEC would end
    // every stop at once and turn parking into spinning.
    arch::disarm_hdec();
    match by_pir(pir) {
        Some(me) => park(me),
        None => loop {
            arch::stop_until_doorbell(u32::MAX >> 1);
        },
    }
}

/// A parked thread's wake-up source (its hypervisor doorbell) and mailbox, for
/// `hal::park::wait_for_job`, which clears the doorbell before it reads the mailbox (no
/// lost wake-up). Whatever else ends a stop (the decrementer fallback, a stray exception
/// condition) leads to another look at the mailbox and another stop.
struct Mailbox(&'static PerCpu);

impl hal::park::Parking for Mailbox {
    fn clear_wakeup(&mut self) {
        arch::doorbell_clear();
        arch::sync();
    }
    fn take_job(&mut self) -> u32 {
        // The mailbox first: an HMI session can last seconds, longer than a START or
        // REINIT poster waits (and a thread that starts the OS takes the HMI there).
        match self.0.job.swap(JOB_NONE, Ordering::Acquire) {
            JOB_NONE if crate::hmi::pending_here() => JOB_HMI,
            job => job,
        }
    }
    fn sleep(&mut self) {
        arch::stop_until_doorbell(PARK_DEC_TICKS);
    }
}

fn park(me: &'static PerCpu) -> ! {
    loop {
        match hal::park::wait_for_job(&mut Mailbox(me)) {
            JOB_START => {
                let entry = me.job_arg.load(Ordering::Relaxed);
                me.set_state(State::Os);
                // SAFETY: OPAL_START_CPU validated `entry` as OS memory.
                unsafe { arch::enter_secondary(entry, me.pir()) }
            }
            JOB_REINIT => {
                apply_reinit(decode_req(me.job_arg.load(Ordering::Relaxed)));
                me.jobs_done.fetch_add(1, Ordering::Release);
            }
            JOB_HMI => crate::hmi::handle_parked(),
            other => log::warn!("PIR {:#06x}: unknown job {other} ignored", me.pir()),
        }
    }
}

fn encode_req(r: ReinitRequest) -> u64 {
    let tri = |v: Option<bool>| match v {
        None => 0u64,
        Some(false) => 1,
        Some(true) => 2,
    };
    tri(r.little_endian_interrupts) | tri(r.radix) << 2
}

fn decode_req(v: u64) -> ReinitRequest {
    let tri = |x: u64| match x & 3 {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    };
    ReinitRequest {
        little_endian_interrupts: tri(v),
        radix: tri(v >> 2),
    }
}

/// HID0.HILE on P9/P10 (PPC_BIT(4)); P8 has it at PPC_BIT(19).
const HID0_HILE_P9: u64 = hal::bits::ppc_bit(4);
const HID0_HILE_P8: u64 = hal::bits::ppc_bit(19);
/// P9 radix mode (PPC_BIT(8)); POWER10 does not use it.
const HID0_RADIX_P9: u64 = hal::bits::ppc_bit(8);

/// Applies a reinit request to the calling thread. QEMU keeps HID0 per thread, so every
/// thread sets its own; on hardware the value is per core and the writes are identical.
fn apply_reinit(req: ReinitRequest) {
    let generation = GENERATION.load(Ordering::Relaxed);
    let hile = if generation == 8 {
        HID0_HILE_P8
    } else {
        HID0_HILE_P9
    };
    let mut hid0 = arch::hid0();
    let before = hid0;
    match req.little_endian_interrupts {
        Some(true) => hid0 |= hile,
        Some(false) => hid0 &= !hile,
        None => {}
    }
    if generation == 9 {
        match req.radix {
            Some(true) => hid0 |= HID0_RADIX_P9,
            Some(false) => hid0 &= !HID0_RADIX_P9,
            None => {}
        }
    }
    if hid0 != before {
        arch::set_hid0(hid0);
    }
}

/// Timebase ticks to wait for a parked thread to run a job, and for OS threads to come
/// back before REINIT_CPUS gives up on them (1 s at 512 MHz).
const JOB_TIMEOUT_TICKS: u64 = 512_000_000;

/// Does any thread other than `me` still run the OS?
fn others_in_os(me: &PerCpu) -> bool {
    cpus()
        .iter()
        .any(|c| !core::ptr::eq(c, me) && c.state().is_os())
}

/// `who` abandoned an OPAL call it was reset inside: give back the locks it held.
fn release_locks_of(who: Holder) {
    // HMI state has no holder to report: the thread's part in it is just dropped.
    crate::hmi::release_abandoned(who.pir());
    for (name, released) in [
        ("XIVE", crate::opal::XIVE.release_abandoned(who)),
        ("console", console::release_abandoned(who)),
        ("BMC", crate::drivers::bmc::release_abandoned(who)),
        ("flash", crate::drivers::flash::release_abandoned(who)),
        ("CPU control", CONTROL.release_abandoned(who)),
        ("system reset", crate::nmi::release_abandoned(who)),
        ("PHB", crate::drivers::phb::release_abandoned(who)),
    ] {
        if released {
            log::warn!(
                "PIR {:#06x} left a call holding the {name} lock; released",
                who.pir()
            );
        }
    }
}

/// `hal::CpuControl` over the real threads.
pub struct Cpus;

impl hal::CpuControl for Cpus {
    fn status(&self, server: u64) -> Option<CpuStatus> {
        let c = by_pir(server)?;
        Some(match c.state() {
            State::Parked => CpuStatus::Inactive,
            State::Starting | State::Os | State::Boot => CpuStatus::Started,
            State::Absent => CpuStatus::Unavailable,
        })
    }

    fn start(&self, server: u64, entry: u64) -> OpalResult<()> {
        let c = by_pir(server).ok_or(OpalError::Parameter)?;
        let _g = CONTROL
            .lock_bounded(me(), CONTROL_SPINS)
            .ok_or(OpalError::Busy)?;
        c.state
            .compare_exchange(
                State::Parked as u8,
                State::Starting as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map_err(|_| OpalError::WrongState)?;
        c.job_arg.store(entry, Ordering::Relaxed);
        c.job.store(JOB_START, Ordering::Release);
        arch::doorbell(c.pir());
        Ok(())
    }

    fn reinit(&self, req: ReinitRequest) -> OpalResult<()> {
        let my_pir = arch::pir();
        // Threads may still be on their way back (kexec: RETURN_CPU races this call).
        // Wait without the lock, which RETURN_CPU takes.
        let deadline = arch::timebase() + JOB_TIMEOUT_TICKS;
        let in_os = |c: &PerCpu| c.pir() != my_pir && c.state().is_os();
        while cpus().iter().any(in_os) && arch::timebase() < deadline {
            arch::relax();
        }
        let _g = CONTROL
            .lock_bounded(me(), CONTROL_SPINS)
            .ok_or(OpalError::Busy)?;
        let mut missing = false;
        for c in cpus().iter().filter(|c| in_os(c)) {
            log::error!("OPAL: CPU {:#x} not in OPAL !", c.pir());
            missing = true;
        }
        // Everything that can answer follows the request, even when some thread could
        // not: the calling kernel (or the next one) needs its own threads right.
        // The jobs_done value each parked thread will reach; None: not asked.
        let mut waits = [None::<u32>; MAX_CPUS];
        for (i, c) in cpus().iter().enumerate() {
            if c.pir() == my_pir || c.state() != State::Parked {
                continue;
            }
            waits[i] = Some(c.jobs_done.load(Ordering::Acquire).wrapping_add(1));
            c.job_arg.store(encode_req(req), Ordering::Relaxed);
            c.job.store(JOB_REINIT, Ordering::Release);
            arch::doorbell(c.pir());
        }
        apply_reinit(req);
        let deadline = arch::timebase() + JOB_TIMEOUT_TICKS;
        for (i, c) in cpus().iter().enumerate() {
            let Some(target) = waits[i] else { continue };
            while c.jobs_done.load(Ordering::Acquire) != target {
                if arch::timebase() > deadline {
                    log::error!("thread {:#x} did not apply OPAL_REINIT_CPUS", c.pir());
                    return Err(OpalError::Hardware);
                }
                arch::relax();
            }
        }
        if missing {
            Err(OpalError::WrongState)
        } else {
            Ok(())
        }
    }

    fn current(&self) -> u32 {
        arch::pir()
    }

    fn return_to_firmware(&self) -> OpalResult<()> {
        let pir = arch::pir();
        let index = index_of_pir(u64::from(pir)).ok_or(OpalError::Parameter)?;
        let me_cpu = &CPUS[index];
        {
            // Serialises the last-thread check with other returns. A dead holder must not
            // keep this thread in the OS: go on unlocked then.
            let _g = CONTROL.lock_bounded(me(), CONTROL_SPINS);
            if me_cpu.state() != State::Os {
                return Err(OpalError::WrongState);
            }
            if !others_in_os(me_cpu) {
                log::error!("PIR {pir:#06x} is the OS's last thread; it cannot return");
                return Err(OpalError::WrongState);
            }
            log::info!("PIR {pir:#06x} returned to OPAL");
            me_cpu.set_state(State::Parked);
        }
        if header(index).depth.load(Ordering::Acquire) > 1 {
            release_locks_of(me());
        }
        // SAFETY: `index` is this CPU's own region, and the call in progress (with any call
        // it interrupted) is over for good: nothing on this stack is needed again.
        unsafe { arch::leave_opal_and_park(region_base(index), pir) }
    }

    fn for_each_server(&self, f: &mut dyn FnMut(u32)) {
        for c in cpus() {
            f(c.pir());
        }
    }
}
