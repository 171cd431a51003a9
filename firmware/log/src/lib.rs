// SPDX-License-Identifier: Apache-2.0
//! The part of the `log` crate's interface the firmware uses (`error!` .. `trace!`, the
//! `Log` trait, `set_logger`, `set_max_level`), with the same names so no call site
//! changes, but a smaller call site: a `log` call site puts a `(target, module_path,
//! &Location)` record and a `Location` (file, line, column) in the image for every line,
//! which the firmware's logger never reads. Here a call site passes the level, the target
//! and the `format_args!` to one out-of-line function.
//!
//! Where the level is checked: `error!` to `debug!` check it in that function, not at the
//! call site (the firmware lets all four through from the first line of `boot_main` on, so
//! a check at every site only costs code); their arguments are evaluated, never formatted,
//! when the line is filtered. `trace!` (which the firmware filters) and `log!` check at
//! the call site, as `log` does, so a filtered line evaluates none of its arguments.
//!
//! What `Record` offers is what the firmware's logger reads: level, target, arguments.
#![no_std]

use core::cmp::Ordering as CmpOrdering;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};

/// A line's level, most severe first (as in `log`).
#[repr(usize)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error = 1,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The most verbose level let through; `Off` lets nothing through.
#[repr(usize)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LevelFilter {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Level {
    pub fn to_level_filter(self) -> LevelFilter {
        match self {
            Level::Error => LevelFilter::Error,
            Level::Warn => LevelFilter::Warn,
            Level::Info => LevelFilter::Info,
            Level::Debug => LevelFilter::Debug,
            Level::Trace => LevelFilter::Trace,
        }
    }
}

impl PartialEq<LevelFilter> for Level {
    fn eq(&self, other: &LevelFilter) -> bool {
        *self as usize == *other as usize
    }
}

impl PartialOrd<LevelFilter> for Level {
    fn partial_cmp(&self, other: &LevelFilter) -> Option<CmpOrdering> {
        Some((*self as usize).cmp(&(*other as usize)))
    }
}

impl PartialEq<Level> for LevelFilter {
    fn eq(&self, other: &Level) -> bool {
        *self as usize == *other as usize
    }
}

impl PartialOrd<Level> for LevelFilter {
    fn partial_cmp(&self, other: &Level) -> Option<CmpOrdering> {
        Some((*self as usize).cmp(&(*other as usize)))
    }
}

/// What a logger's `enabled` is asked about.
#[derive(Clone, Copy, Debug)]
pub struct Metadata<'a> {
    level: Level,
    target: &'a str,
}

impl<'a> Metadata<'a> {
    pub fn level(&self) -> Level {
        self.level
    }
    pub fn target(&self) -> &'a str {
        self.target
    }
}

/// One line for the logger.
#[derive(Clone, Debug)]
pub struct Record<'a> {
    metadata: Metadata<'a>,
    args: fmt::Arguments<'a>,
}

impl<'a> Record<'a> {
    pub fn metadata(&self) -> &Metadata<'a> {
        &self.metadata
    }
    pub fn level(&self) -> Level {
        self.metadata.level
    }
    pub fn target(&self) -> &'a str {
        self.metadata.target
    }
    pub fn args(&self) -> &fmt::Arguments<'a> {
        &self.args
    }
}

pub trait Log: Sync + Send {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool;
    fn log(&self, record: &Record<'_>);
    fn flush(&self);
}

struct NopLogger;

impl Log for NopLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }
    fn log(&self, _: &Record<'_>) {}
    fn flush(&self) {}
}

/// `set_logger` was called before.
#[derive(Debug)]
pub struct SetLoggerError(());

impl fmt::Display for SetLoggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("attempted to set a logger after the logging system was already initialized")
    }
}

const UNSET: usize = 0;
const SETTING: usize = 1;
const SET: usize = 2;

static STATE: AtomicUsize = AtomicUsize::new(UNSET);
static mut LOGGER: &dyn Log = &NopLogger;
static MAX_LEVEL: AtomicUsize = AtomicUsize::new(LevelFilter::Off as usize);

/// Installs the logger, once (as `log::set_logger`).
pub fn set_logger(logger: &'static dyn Log) -> Result<(), SetLoggerError> {
    match STATE.compare_exchange(UNSET, SETTING, Ordering::Acquire, Ordering::Relaxed) {
        Ok(_) => {
            // SAFETY: only the one caller that moved STATE to SETTING writes LOGGER, and
            // nobody reads it before STATE is SET (Release below, Acquire in `logger`).
            unsafe { LOGGER = logger };
            STATE.store(SET, Ordering::Release);
            Ok(())
        }
        Err(_) => Err(SetLoggerError(())),
    }
}

/// The logger, or one that drops everything before `set_logger`.
pub fn logger() -> &'static dyn Log {
    if STATE.load(Ordering::Acquire) != SET {
        return &NopLogger;
    }
    // SAFETY: LOGGER is written once, before STATE became SET, and never again.
    unsafe { LOGGER }
}

pub fn set_max_level(level: LevelFilter) {
    MAX_LEVEL.store(level as usize, Ordering::Relaxed);
}

pub fn max_level() -> LevelFilter {
    match MAX_LEVEL.load(Ordering::Relaxed) {
        0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        4 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    pub use core::{format_args, module_path};

    /// The call site's level check: `level` passes the filter set by `set_max_level`.
    #[inline(always)]
    pub fn enabled(level: Level) -> bool {
        level as usize <= MAX_LEVEL.load(Ordering::Relaxed)
    }

    /// Every call site's one call.
    #[inline(never)]
    pub fn log(level: Level, target: &str, args: fmt::Arguments<'_>) {
        if !enabled(level) {
            return;
        }
        logger().log(&Record {
            metadata: Metadata { level, target },
            args,
        });
    }
}

#[macro_export]
macro_rules! log {
    (target: $target:expr, $lvl:expr, $($arg:tt)+) => {{
        let lvl = $lvl;
        if $crate::__private::enabled(lvl) {
            $crate::__private::log(lvl, $target, $crate::__private::format_args!($($arg)+));
        }
    }};
    ($lvl:expr, $($arg:tt)+) => {
        $crate::log!(target: $crate::__private::module_path!(), $lvl, $($arg)+)
    };
}

/// `error!` to `debug!`: the level is checked in the call (see the crate's notes).
#[doc(hidden)]
#[macro_export]
macro_rules! __log_unchecked {
    (target: $target:expr, $lvl:expr, $($arg:tt)+) => {
        $crate::__private::log($lvl, $target, $crate::__private::format_args!($($arg)+))
    };
    ($lvl:expr, $($arg:tt)+) => {
        $crate::__log_unchecked!(target: $crate::__private::module_path!(), $lvl, $($arg)+)
    };
}

#[macro_export]
macro_rules! error {
    (target: $target:expr, $($arg:tt)+) => { $crate::__log_unchecked!(target: $target, $crate::Level::Error, $($arg)+) };
    ($($arg:tt)+) => { $crate::__log_unchecked!($crate::Level::Error, $($arg)+) };
}

#[macro_export]
macro_rules! warn {
    (target: $target:expr, $($arg:tt)+) => { $crate::__log_unchecked!(target: $target, $crate::Level::Warn, $($arg)+) };
    ($($arg:tt)+) => { $crate::__log_unchecked!($crate::Level::Warn, $($arg)+) };
}

#[macro_export]
macro_rules! info {
    (target: $target:expr, $($arg:tt)+) => { $crate::__log_unchecked!(target: $target, $crate::Level::Info, $($arg)+) };
    ($($arg:tt)+) => { $crate::__log_unchecked!($crate::Level::Info, $($arg)+) };
}

#[macro_export]
macro_rules! debug {
    (target: $target:expr, $($arg:tt)+) => { $crate::__log_unchecked!(target: $target, $crate::Level::Debug, $($arg)+) };
    ($($arg:tt)+) => { $crate::__log_unchecked!($crate::Level::Debug, $($arg)+) };
}

#[macro_export]
macro_rules! trace {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!(target: $target, $crate::Level::Trace, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::Level::Trace, $($arg)+) };
}

/// Would a line at `level` pass the level filter?
#[macro_export]
macro_rules! log_enabled {
    (target: $target:expr, $lvl:expr) => {{
        let _ = $target;
        $crate::__private::enabled($lvl)
    }};
    ($lvl:expr) => {
        $crate::__private::enabled($lvl)
    };
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::sync::Mutex;
    use std::vec::Vec;

    static LINES: Mutex<Vec<(Level, String, String)>> = Mutex::new(Vec::new());

    struct Capture;
    impl Log for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn log(&self, r: &Record<'_>) {
            let line = (
                r.level(),
                String::from(r.target()),
                std::format!("{}", r.args()),
            );
            LINES.lock().unwrap().push(line);
        }
        fn flush(&self) {}
    }

    static CAPTURE: Capture = Capture;

    // One test: the logger and the level are process-wide.
    #[test]
    fn lines_reach_the_logger_with_level_target_and_text_and_disabled_ones_run_nothing() {
        let evaluated = core::cell::Cell::new(false);
        let touch = || {
            evaluated.set(true);
            1
        };
        info!("before any logger {}", touch());
        assert!(
            evaluated.get(),
            "info! evaluates its arguments even when filtered"
        );
        assert!(
            LINES.lock().unwrap().is_empty(),
            "but the default filter is Off"
        );
        evaluated.set(false);
        log!(Level::Info, "checked at the call site {}", touch());
        assert!(
            !evaluated.get(),
            "log! checks the level before its arguments"
        );

        set_logger(&CAPTURE).unwrap();
        assert!(set_logger(&CAPTURE).is_err());
        set_max_level(LevelFilter::Debug);
        assert_eq!(max_level(), LevelFilter::Debug);
        trace!("filtered {}", touch());
        assert!(
            !evaluated.get(),
            "a filtered line evaluates none of its arguments"
        );
        assert!(log_enabled!(Level::Debug) && !log_enabled!(Level::Trace));

        let x = 5;
        info!("x = {x:#x}");
        warn!(target: "opalite::cpu", "{} of {}", 1, 2,);
        debug!("debug");
        let lines = LINES.lock().unwrap();
        assert_eq!(
            *lines,
            [
                (
                    Level::Info,
                    String::from(module_path!()),
                    String::from("x = 0x5")
                ),
                (
                    Level::Warn,
                    String::from("opalite::cpu"),
                    String::from("1 of 2")
                ),
                (
                    Level::Debug,
                    String::from(module_path!()),
                    String::from("debug")
                ),
            ]
        );
        assert!(Level::Error < Level::Warn && Level::Trace <= LevelFilter::Trace);
        assert!(Level::Debug > LevelFilter::Info);
    }
}
