// SPDX-License-Identifier: Apache-2.0
//! Calling OPAL as an OS does, and the console built on `OPAL_CONSOLE_WRITE`.
//!
//! Every call returns its r3 as a raw [`Ret`] (the full 64-bit register): whether a value
//! is a success, an error code or garbage such as a zero-extended `0xffffffff` is for the
//! cases to judge. Which tokens exist is asked once with `OPAL_CHECK_TOKEN`; a case that
//! calls an absent token gets [`Absent`] instead of an OPAL "bad token" call.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use opal_api::token::{
    OPAL_CEC_POWER_DOWN, OPAL_CEC_REBOOT, OPAL_CHECK_TOKEN, OPAL_CONSOLE_FLUSH, OPAL_CONSOLE_WRITE,
    OPAL_POLL_EVENTS,
};
use opal_api::OpalError;

use crate::arch;

/// Tokens probed with `OPAL_CHECK_TOKEN` (all defined ones are below this).
pub const PROBED_TOKENS: usize = 256;

/// r3 as OPAL returned it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ret(pub u64);

impl Ret {
    pub const SUCCESS: Ret = Ret(0);
    /// The most common refusal, named once for every area.
    pub const PARAMETER: Ret = Ret::err(OpalError::Parameter);

    pub const fn err(e: OpalError) -> Ret {
        Ret(e.code() as u64)
    }

    pub fn signed(self) -> i64 {
        self.0 as i64
    }

    pub fn is(self, e: OpalError) -> bool {
        self == Ret::err(e)
    }
}

/// The `OPAL_*` name of an error code.
pub fn error_name(e: OpalError) -> &'static str {
    match e {
        OpalError::Parameter => "OPAL_PARAMETER",
        OpalError::Busy => "OPAL_BUSY",
        OpalError::Partial => "OPAL_PARTIAL",
        OpalError::Constrained => "OPAL_CONSTRAINED",
        OpalError::Hardware => "OPAL_HARDWARE",
        OpalError::Unsupported => "OPAL_UNSUPPORTED",
        OpalError::NoMem => "OPAL_NO_MEM",
        OpalError::Resource => "OPAL_RESOURCE",
        OpalError::InternalError => "OPAL_INTERNAL_ERROR",
        OpalError::BusyEvent => "OPAL_BUSY_EVENT",
        OpalError::WrongState => "OPAL_WRONG_STATE",
        OpalError::XiveProvisioning => "OPAL_XIVE_PROVISIONING",
        OpalError::XiveFreeActive => "OPAL_XIVE_FREE_ACTIVE",
        _ => "OPAL error",
    }
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0 (OPAL_SUCCESS)");
        }
        match OpalError::try_from(self.signed()) {
            Ok(e) => write!(f, "{} ({})", self.signed(), error_name(e)),
            Err(_) if self.signed() < 0 => write!(f, "{:#018x}", self.0),
            Err(_) => write!(f, "{:#x}", self.0),
        }
    }
}

/// The token was reported absent by `OPAL_CHECK_TOKEN`; the call was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Absent(pub u64);

/// OPAL as found in `/ibm,opal`, with the set of tokens it has.
pub struct Opal {
    base: u64,
    entry: u64,
    present: [bool; PROBED_TOKENS],
    tb_hz: u64,
}

/// Where the panic path finds OPAL (set once by [`Opal::new`]).
static PANIC_BASE: AtomicU64 = AtomicU64::new(0);
static PANIC_ENTRY: AtomicU64 = AtomicU64::new(0);

impl Opal {
    /// # Safety
    /// `base` and `entry` must be `opal-base-address` and `opal-entry-address` from the
    /// device tree the running firmware passed in r3.
    pub unsafe fn new(base: u64, entry: u64, tb_hz: u64) -> Self {
        PANIC_BASE.store(base, Ordering::Relaxed);
        PANIC_ENTRY.store(entry, Ordering::Relaxed);
        let mut opal = Opal {
            base,
            entry,
            present: [false; PROBED_TOKENS],
            tb_hz: tb_hz.max(1),
        };
        for token in 0..PROBED_TOKENS as u64 {
            opal.present[token as usize] =
                opal.check_token(token) == Ret(opal_api::OPAL_TOKEN_PRESENT);
        }
        opal
    }

    /// Calls a token whatever `OPAL_CHECK_TOKEN` said.
    ///
    /// # Safety
    /// Every argument the token treats as an address it writes through must be memory
    /// OPAL may write: a live buffer of the caller, or arena memory nothing else uses.
    unsafe fn call_unchecked(&self, token: u64, args: &[u64]) -> Ret {
        let mut regs = [0u64; 8];
        for (r, a) in regs.iter_mut().zip(args) {
            *r = *a;
        }
        // SAFETY: base and entry come from the device tree (see `new`); the caller vouches
        // for the pointer arguments.
        Ret(unsafe { arch::opal_call_raw(token, &regs, self.base, self.entry) })
    }

    /// Calls `token` with up to 8 arguments, unless it is absent.
    ///
    /// # Safety
    /// As [`call_unchecked`](Self::call_unchecked).
    pub unsafe fn call(&self, token: u64, args: &[u64]) -> Result<Ret, Absent> {
        if !self.is_present(token) {
            return Err(Absent(token));
        }
        // SAFETY: passed on to the caller.
        Ok(unsafe { self.call_unchecked(token, args) })
    }

    /// `OPAL_CHECK_TOKEN(token)`: 1 present, 0 absent (opal-boot-contract.md §3.2).
    pub fn check_token(&self, token: u64) -> Ret {
        // SAFETY: CHECK_TOKEN takes no address.
        unsafe { self.call_unchecked(OPAL_CHECK_TOKEN, &[token]) }
    }

    pub fn is_present(&self, token: u64) -> bool {
        self.present.get(token as usize).copied().unwrap_or(false)
    }

    /// Timebase ticks in `ms` milliseconds.
    pub fn ticks(&self, ms: u64) -> u64 {
        self.tb_hz / 1000 * ms
    }

    /// `OPAL_POLL_EVENTS(NULL)`: lets the firmware run its pollers (console flush, BMC).
    pub fn poll_events(&self) {
        // SAFETY: a NULL event-mask pointer is "don't write" (skiboot core/opal.c).
        let _ = unsafe { self.call(OPAL_POLL_EVENTS, &[0]) };
    }

    /// Writes all of `bytes` to console 0, retrying partial writes and OPAL_BUSY for up to
    /// two seconds. Returns false if the console gave up.
    pub fn console_write(&self, bytes: &[u8]) -> bool {
        let deadline = arch::mftb() + self.ticks(2000);
        let mut rest = bytes;
        while !rest.is_empty() {
            // `__be64 *length`: in, bytes offered; out, bytes taken.
            let mut len = (rest.len() as u64).to_be_bytes();
            // SAFETY: `len` is a live 8-byte buffer OPAL writes; the data is only read.
            let rc = unsafe {
                self.call(
                    OPAL_CONSOLE_WRITE,
                    &[0, len.as_mut_ptr() as u64, rest.as_ptr() as u64],
                )
            };
            let taken = u64::from_be_bytes(len).min(rest.len() as u64) as usize;
            match rc {
                Ok(Ret::SUCCESS) => rest = &rest[taken..],
                Ok(r)
                    if r.is(OpalError::Busy)
                        || r.is(OpalError::BusyEvent)
                        || r.is(OpalError::Partial) =>
                {
                    rest = &rest[taken..];
                }
                _ => return false,
            }
            if !rest.is_empty() {
                if arch::mftb() > deadline {
                    return false;
                }
                self.poll_events();
            }
        }
        true
    }

    /// Drains the console (`OPAL_CONSOLE_FLUSH` where present, else a few polls).
    pub fn console_flush(&self) {
        let deadline = arch::mftb() + self.ticks(1000);
        while arch::mftb() < deadline {
            // SAFETY: CONSOLE_FLUSH takes a terminal number only.
            match unsafe { self.call(OPAL_CONSOLE_FLUSH, &[0]) } {
                Ok(r) if r.is(OpalError::Busy) || r.is(OpalError::Partial) => self.poll_events(),
                Ok(_) => return,
                Err(Absent(_)) => self.poll_events(),
            }
        }
    }

    /// `OPAL_CEC_POWER_DOWN(0)`, then polls until the machine is gone. Returns if it is
    /// still there after ten seconds.
    pub fn power_down(&self) {
        let deadline = arch::mftb() + self.ticks(10_000);
        let mut requested = false;
        while arch::mftb() < deadline {
            if !requested {
                // SAFETY: POWER_DOWN takes a request code only.
                match unsafe { self.call(OPAL_CEC_POWER_DOWN, &[opal_api::power_down::NORMAL]) } {
                    Ok(r) if r.is(OpalError::Busy) || r.is(OpalError::BusyEvent) => {}
                    Ok(_) => requested = true,
                    Err(Absent(_)) => return,
                }
            }
            self.poll_events();
        }
    }

    /// `OPAL_CEC_REBOOT`, then polls `OPAL_POLL_EVENTS` while the firmware and the BMC get
    /// the reset done, as Linux's `pnv_restart` does. Returns the last answer if the
    /// machine is still there after ten seconds, or if the token is absent.
    pub fn reboot(&self) -> Result<Ret, Absent> {
        let deadline = arch::mftb() + self.ticks(10_000);
        let mut last = Ret(u64::MAX);
        let mut requested = false;
        while arch::mftb() < deadline {
            if !requested {
                // SAFETY: CEC_REBOOT takes no argument.
                last = unsafe { self.call(OPAL_CEC_REBOOT, &[])? };
                requested = !(last.is(OpalError::Busy) || last.is(OpalError::BusyEvent));
            }
            self.poll_events();
        }
        Ok(last)
    }
}

/// Calls OPAL from a thread that holds no [`Opal`] (a fuzz worker), with the location
/// recorded by [`Opal::new`]; `None` before that.
///
/// # Safety
/// As [`Opal::call`]: every address among `args` the token writes through must be memory
/// OPAL may write.
pub unsafe fn raw_call(token: u64, args: &[u64; 8]) -> Option<u64> {
    let (base, entry) = (
        PANIC_BASE.load(Ordering::Relaxed),
        PANIC_ENTRY.load(Ordering::Relaxed),
    );
    if entry == 0 {
        return None;
    }
    // SAFETY: the location came from the device tree; the caller vouches for `args`.
    Some(unsafe { arch::opal_call_raw(token, args, base, entry) })
}

/// Tokens whose arguments are numbers only (no address OPAL reads or writes through):
/// `CHECK_TOKEN(token)`, `SIGNAL_SYSTEM_RESET(cpu)`, `QUIESCE(type, cpu)`,
/// `RETURN_CPU()` (does not come back when it works).
const SCALAR_TOKENS: &[u64] = &[
    OPAL_CHECK_TOKEN,
    opal_api::token::OPAL_SIGNAL_SYSTEM_RESET,
    opal_api::token::OPAL_QUIESCE,
    opal_api::token::OPAL_RETURN_CPU,
];

/// Calls one of the tokens above from any thread, with the location recorded by
/// [`Opal::new`] (as [`raw_call`], without the pointer obligation). `None` for another
/// token or before `Opal::new`.
pub fn scalar_call(token: u64, args: &[u64]) -> Option<Ret> {
    if !SCALAR_TOKENS.contains(&token) {
        return None;
    }
    let mut regs = [0u64; 8];
    for (r, a) in regs.iter_mut().zip(args) {
        *r = *a;
    }
    // SAFETY: these tokens take no address, so nothing is written on our behalf.
    unsafe { raw_call(token, &regs) }.map(Ret)
}

/// Writes a message with only the OPAL location the panic path kept.
pub fn emergency_write(bytes: &[u8]) {
    let (base, entry) = (
        PANIC_BASE.load(Ordering::Relaxed),
        PANIC_ENTRY.load(Ordering::Relaxed),
    );
    if entry == 0 {
        return;
    }
    let mut len = (bytes.len() as u64).to_be_bytes();
    let args = [
        0,
        len.as_mut_ptr() as u64,
        bytes.as_ptr() as u64,
        0,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: the location was recorded from the device tree; `len` is a live buffer.
    let _ = unsafe { arch::opal_call_raw(OPAL_CONSOLE_WRITE, &args, base, entry) };
    let _ = len;
}

/// A line-buffered `fmt::Write` onto the OPAL console.
pub struct Console<'a> {
    opal: &'a Opal,
    buf: [u8; 256],
    len: usize,
}

impl<'a> Console<'a> {
    pub fn new(opal: &'a Opal) -> Self {
        Console {
            opal,
            buf: [0; 256],
            len: 0,
        }
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            self.opal.console_write(&self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl fmt::Write for Console<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if b == b'\n' {
                // OPAL consoles pass bytes through; QEMU's serial wants CR LF.
                for &c in b"\r\n" {
                    if self.len == self.buf.len() {
                        self.flush();
                    }
                    self.buf[self.len] = c;
                    self.len += 1;
                }
                self.flush();
                continue;
            }
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}
