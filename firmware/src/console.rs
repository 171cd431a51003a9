// SPDX-License-Identifier: Apache-2.0
//! The console: a 16550 UART on the LPC I/O space (skiboot `hw/lpc-uart.c`), or Mambo's
//! callthru console (no interrupt: input is polled; skiboot `platforms/mambo/console.c`), an output
//! queue drained without waiting, an input buffer, the in-memory log, and the `log`
//! backend that prints skiboot-style lines `[seconds,level] PREFIX: message`.
//!
//! Concurrency: one lock guards the UART and both queues. The crash path (panic and
//! unexpected exceptions) must print even if a CPU died holding it, so it gives up after
//! a bounded wait and writes to the UART directly (`emergency_write`).

use crate::arch::{self, mmio::CiWindow};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};
use hal::{FlushState, FwGuard, FwLock, Holder};

const IER: u64 = 1;
/// IER bit 0: interrupt on received data available (and on character timeout).
const IER_RX_DATA: u8 = 0x01;
const IIR: u64 = 2;
const IIR_ID_MASK: u8 = 0x0f;
const IIR_CHAR_TIMEOUT: u8 = 0x0c;
const LSR: u64 = 5;
const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;
/// Polls of LSR before a byte is dropped (a wedged UART must not hang the firmware).
const TX_SPIN_LIMIT: u32 = 100_000;

struct Uart {
    regs: CiWindow,
}

impl Uart {
    #[inline(always)]
    fn try_put(&self, c: u8) -> bool {
        if self.regs.read8(LSR) & LSR_THR_EMPTY == 0 {
            return false;
        }
        self.regs.write8(0, c);
        true
    }

    fn put_blocking(&self, c: u8) {
        for _ in 0..TX_SPIN_LIMIT {
            if self.try_put(c) {
                return;
            }
            arch::relax();
        }
    }

    fn get(&self) -> Option<u8> {
        (self.regs.read8(LSR) & LSR_DATA_READY != 0).then(|| self.regs.read8(0))
    }
}

struct Ring<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Ring<N> {
    const fn new() -> Self {
        Self {
            buf: [0; N],
            head: 0,
            len: 0,
        }
    }
    #[inline(always)]
    fn push(&mut self, c: u8) -> bool {
        if self.len == N {
            return false;
        }
        self.buf[(self.head + self.len) % N] = c;
        self.len += 1;
        true
    }
    #[inline(always)]
    fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let c = self.buf[self.head];
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(c)
    }
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        (self.len > 0).then(|| self.buf[self.head])
    }
    #[inline(always)]
    fn space(&self) -> usize {
        N - self.len
    }
}

/// Size of the OS-visible output queue (skiboot: 4 KiB, reports 0xFFF free at most).
const TX_QUEUE: usize = 4096;

/// The UART's receive interrupt, as the firmware drives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RxIrq {
    Off,
    On,
    /// Wanted, but turned off while the input ring is full, so a level interrupt cannot
    /// fire forever (skiboot `rx_full`); back on once the OS reads.
    PausedFull,
}

struct State {
    uart: Option<Uart>,
    /// Mambo's console, instead of a UART.
    sim: Option<mambo::CallthruConsole>,
    tx: Ring<TX_QUEUE>,
    rx: Ring<1024>,
    rx_irq: RxIrq,
}

impl State {
    /// Moves queued bytes to the UART while it takes them; returns how many moved.
    fn drain(&mut self) -> usize {
        if self.sim.is_some() {
            // The simulator takes any number of bytes at once: one callthru per run.
            let mut chunk = [0u8; 256];
            let mut moved = 0;
            while self.tx.len > 0 {
                let mut n = 0;
                while let (Some(c), true) = (self.tx.peek(), n < chunk.len()) {
                    chunk[n] = c;
                    self.tx.pop();
                    n += 1;
                }
                mambo_write(&chunk[..n]);
                moved += n;
            }
            return moved;
        }
        let Some(uart) = &self.uart else {
            // No device: output goes only to the memory log, so nothing is ever stuck.
            let n = self.tx.len;
            self.tx = Ring::new();
            return n;
        };
        let mut moved = 0;
        while let Some(c) = self.tx.peek() {
            if !uart.try_put(c) {
                break;
            }
            self.tx.pop();
            moved += 1;
        }
        moved
    }

    fn receive(&mut self) {
        if let Some(sim) = &mut self.sim {
            let mut typed = [0u8; 16];
            let want = self.rx.space().min(typed.len());
            // SAFETY: `sim` exists only on Mambo (`attach_mambo`'s contract).
            let n = sim.read(
                &mut unsafe { arch::mambo::Callthru::new() },
                &mut typed[..want],
            );
            for &c in &typed[..n] {
                self.rx.push(c);
            }
        }
        if let Some(uart) = &self.uart {
            while self.rx.space() > 0 {
                match uart.get() {
                    Some(c) => {
                        self.rx.push(c);
                    }
                    None => break,
                }
            }
        }
        // What an outside agent typed into the memory console's input ring.
        let mut typed = [0u8; 16];
        let n = crate::memlog::read_input(&mut typed[..self.rx.space().min(16)]);
        for &c in &typed[..n] {
            self.rx.push(c);
        }
        self.update_rx_irq();
    }

    /// Pauses the receive interrupt while the ring is full and resumes it when there is
    /// room again.
    fn update_rx_irq(&mut self) {
        let Some(uart) = &self.uart else { return };
        match self.rx_irq {
            RxIrq::On if self.rx.space() == 0 => {
                uart.regs.write8(IER, 0);
                self.rx_irq = RxIrq::PausedFull;
            }
            RxIrq::PausedFull if self.rx.space() > 0 => {
                uart.regs.write8(IER, IER_RX_DATA);
                self.rx_irq = RxIrq::On;
            }
            _ => {}
        }
    }
}

static CONSOLE: FwLock<State> = FwLock::new(State {
    uart: None,
    sim: None,
    tx: Ring::new(),
    rx: Ring::new(),
    rx_irq: RxIrq::Off,
});
/// Address of the UART registers, for the lock-free crash path (0 = none).
static UART_BASE: AtomicU64 = AtomicU64::new(0);

/// Attaches the UART whose registers are at `base`.
///
/// # Safety
/// `base` must be the real address of a 16550 register block.
pub unsafe fn attach_uart(base: u64) {
    // SAFETY: forwarded from the caller.
    let regs = unsafe { CiWindow::new(base, 8) };
    if let Some(mut st) = lock_bounded() {
        st.uart = Some(Uart { regs });
    }
    UART_BASE.store(base, Ordering::Release);
}

/// The console is Mambo's (for the lock-free crash path).
static ON_MAMBO: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Uses Mambo's callthru console.
///
/// # Safety
/// The board is Mambo: the callthru instruction exists.
pub unsafe fn attach_mambo() {
    if let Some(mut st) = lock_bounded() {
        st.sim = Some(mambo::CallthruConsole::new());
    }
    ON_MAMBO.store(true, Ordering::Release);
}

fn mambo_write(bytes: &[u8]) {
    // SAFETY: only reached with the console attached by `attach_mambo`, on Mambo.
    mambo::CallthruConsole::new().write(&mut unsafe { arch::mambo::Callthru::new() }, bytes);
}

/// Firmware output: the memory log always, the UART through the queue (waiting for room
/// when the queue is full, so firmware messages are never dropped while the UART works).
fn firmware_write(s: &[u8]) {
    crate::memlog::append(s);
    let Some(mut st) = lock_bounded() else {
        emergency_write(s);
        return;
    };
    for &c in s {
        if c == b'\n' {
            push_waiting(&mut st, b'\r');
        }
        push_waiting(&mut st, c);
    }
    st.drain();
}

fn push_waiting(st: &mut State, c: u8) {
    if !st.tx.push(c) {
        st.drain();
        if !st.tx.push(c) {
            if let (Some(uart), Some(old)) = (&st.uart, st.tx.pop()) {
                uart.put_blocking(old);
            }
            st.tx.push(c);
        }
    }
}

/// Takes the console lock, giving up after a bounded wait (its holder may have died: a
/// CPU reset by a crash NMI in the middle of a console call). Every user has a way on
/// without it: output goes straight to the UART (`emergency_write`), input waits.
fn lock_bounded() -> Option<FwGuard<'static, State>> {
    CONSOLE.lock_bounded(Holder::from_pir(arch::pir()), 1_000_000)
}

/// The console's holder left OPAL for good in the middle of a call (cpu.rs).
pub fn release_abandoned(who: Holder) -> bool {
    CONSOLE.release_abandoned(who)
}

/// Writes straight to the UART without the lock: crash paths only.
pub fn emergency_write(s: &[u8]) {
    if ON_MAMBO.load(Ordering::Acquire) {
        mambo_write(s);
        return;
    }
    let base = UART_BASE.load(Ordering::Acquire);
    if base == 0 {
        return;
    }
    // SAFETY: UART_BASE only ever holds an address `attach_uart` was given.
    let uart = Uart {
        regs: unsafe { CiWindow::new(base, 8) },
    };
    for &c in s {
        if c == b'\n' {
            uart.put_blocking(b'\r');
        }
        uart.put_blocking(c);
    }
}

/// The OPAL console (terminal 0) as `opal_calls` sees it.
pub struct OpalConsole;

impl hal::Console for OpalConsole {
    fn terminals(&self) -> u32 {
        1
    }
    fn write(&self, _term: u32, data: &[u8]) -> usize {
        #[cfg(feature = "hmi-inject")]
        crate::hmi_inject::scan_console(data);
        let Some(mut st) = lock_bounded() else {
            // The crash path must get its message out: bypass the queue.
            emergency_write(data);
            return data.len();
        };
        let mut taken = 0;
        for &c in data {
            if !st.tx.push(c) {
                st.drain();
                if !st.tx.push(c) {
                    break;
                }
            }
            taken += 1;
        }
        st.drain();
        taken
    }
    fn write_space(&self, _term: u32) -> usize {
        let Some(mut st) = lock_bounded() else {
            // Writes go straight to the UART then, so any amount fits.
            return TX_QUEUE;
        };
        st.drain();
        st.tx.space()
    }
    fn read(&self, _term: u32, buf: &mut [u8]) -> usize {
        let Some(mut st) = lock_bounded() else {
            return 0;
        };
        st.receive();
        let mut n = 0;
        while n < buf.len() {
            match st.rx.pop() {
                Some(c) => {
                    buf[n] = c;
                    n += 1;
                }
                None => break,
            }
        }
        st.update_rx_irq();
        n
    }
    fn flush(&self, _term: u32) -> FlushState {
        let Some(mut st) = lock_bounded() else {
            // Nothing of the caller's is queued: its writes went straight out.
            return FlushState::Drained;
        };
        let moved = st.drain();
        if st.tx.len == 0 {
            FlushState::Drained
        } else if moved > 0 {
            FlushState::Progress
        } else {
            FlushState::NoProgress
        }
    }
    fn input_pending(&self) -> bool {
        lock_bounded().is_some_and(|mut st| {
            st.receive();
            st.rx.len > 0
        })
    }
    fn output_pending(&self) -> bool {
        lock_bounded().is_some_and(|st| st.tx.len > 0)
    }
}

/// Crash-path writer: lock-free.
pub struct EmergencyWriter;

impl Write for EmergencyWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::memlog::append(s.as_bytes());
        emergency_write(s.as_bytes());
        Ok(())
    }
}

/// Timebase ticks per second (from the device tree; QEMU and P9/P10 use 512 MHz).
pub static TB_HZ: AtomicU64 = AtomicU64::new(512_000_000);

struct Logger;

/// skiboot's log levels (`PR_ERR` 3, `PR_WARNING` 4, `PR_NOTICE` 5, `PR_DEBUG` 7,
/// `PR_TRACE` 8). Our info lines are the kind skiboot logs at NOTICE.
fn skiboot_level(l: log::Level) -> u32 {
    match l {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 5,
        log::Level::Debug => 7,
        log::Level::Trace => 8,
    }
}

/// skiboot's default filtering (`debug_descriptor.console_log_levels`): the console gets
/// levels up to NOTICE, the memory log (msglog) up to DEBUG, and nothing keeps TRACE.
const CONSOLE_MAX_LEVEL: u32 = 5;
const MEMORY_MAX_LEVEL: u32 = 7;

/// "opalite::cpu" → "CPU", the crate root → "OPALITE"; other crates put their prefix in
/// the message themselves.
fn prefix(target: &str) -> Option<&str> {
    if target == "opalite" {
        return Some("opalite");
    }
    target
        .strip_prefix("opalite::")
        .map(|m| m.rsplit_once("::").map_or(m, |(_, last)| last))
}

struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        skiboot_level(m.level()) <= MEMORY_MAX_LEVEL
    }
    fn log(&self, record: &log::Record<'_>) {
        let level = skiboot_level(record.level());
        if level > MEMORY_MAX_LEVEL {
            return;
        }
        let tb = arch::timebase();
        let hz = TB_HZ.load(Ordering::Relaxed).max(1);
        let secs = tb / hz;
        let nanos = (tb % hz) * 1_000_000_000 / hz;
        let mut line = Line {
            buf: [0; 256],
            len: 0,
        };
        let _ = write!(line, "[{:5}.{:09},{}] ", secs, nanos, level);
        if let Some(p) = prefix(record.target()) {
            for c in p.bytes() {
                let _ = line.write_char(c.to_ascii_uppercase() as char);
            }
            let _ = line.write_str(": ");
        }
        let _ = write!(line, "{}\n", record.args());
        if level <= CONSOLE_MAX_LEVEL {
            firmware_write(&line.buf[..line.len]);
        } else {
            crate::memlog::append(&line.buf[..line.len]);
        }
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

pub fn init_logging() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Debug);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxIrqError {
    /// No UART is attached.
    NoUart,
    /// IER did not read back as written (the value read).
    NotTaken(u8),
}

/// Turns on the UART's receive interrupt (16550 IER bit 0, the only one the firmware
/// uses; skiboot `uart_update_ier`). MCR OUT2 is left alone: skiboot never sets it, and
/// QEMU's 16550 does not gate its IRQ with it. Transmit stays polled.
pub fn enable_rx_interrupt() -> Result<(), RxIrqError> {
    let mut st = lock_bounded().ok_or(RxIrqError::NoUart)?;
    let uart = st.uart.as_ref().ok_or(RxIrqError::NoUart)?;
    uart.regs.write8(IER, IER_RX_DATA);
    let ier = uart.regs.read8(IER);
    if ier != IER_RX_DATA {
        return Err(RxIrqError::NotTaken(ier));
    }
    st.rx_irq = RxIrq::On;
    // Whatever is already waiting would otherwise keep the line up unnoticed.
    st.receive();
    Ok(())
}

/// The UART's SerIRQ fired: moves the received bytes into the input ring (reading RBR is
/// what drops the line) and clears a character-timeout indication that has no data behind
/// it (skiboot's AST2500 SUART workaround).
pub fn uart_interrupt() {
    let Some(mut st) = lock_bounded() else { return };
    st.receive();
    if let Some(uart) = &st.uart {
        let timeout = uart.regs.read8(IIR) & IIR_ID_MASK == IIR_CHAR_TIMEOUT;
        if timeout && uart.regs.read8(LSR) & LSR_DATA_READY == 0 {
            let _ = uart.regs.read8(0);
        }
    }
}

/// Runs from OPAL_POLL_EVENTS and the flush path: moves input and output along.
pub fn poll() {
    if let Some(mut st) = CONSOLE.try_lock(Holder::from_pir(arch::pir())) {
        st.drain();
        st.receive();
    }
}
