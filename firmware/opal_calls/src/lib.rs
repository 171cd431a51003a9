// SPDX-License-Identifier: Apache-2.0
//! The OPAL call table and the handlers of every call Opalite implements.
//!
//! One `static` table (rows, and a token index) maps each token to a shim that decodes r3..r10 into typed arguments
//! and calls the handler; `OPAL_CHECK_TOKEN` reads the same table, so a call is either in
//! the table and implemented or absent and reported absent. Handlers reach the machine
//! only through `hal` traits (bundled in [`Ctx`]), so the whole table runs in `cargo test`.
//!
//! Concurrency: the table is immutable; every handler may run on all CPUs at once, and
//! serialises through the hal implementations (the firmware's console and platform locks).
//! Mirrors skiboot `core/opal.c` (table, bad token) and `doc/opal-api/*.rst`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;

mod args;
pub mod console;
pub mod cpu;
pub mod events;
pub mod flash;
pub mod hmi;
pub mod ipmi;
pub mod msg;
pub mod nmi;
pub mod pci;
pub mod power;
pub mod rtc;
pub mod table;
pub mod xics;
pub mod xive;

pub use args::{FromReg, OsPtr};
pub use table::{check_token, dispatch, entry, Entry, ROWS};

use hal::{Console, CpuControl, OsMemory, PciHost, Platform, SystemReset};

/// Everything a handler may touch.
pub struct Ctx<'a> {
    pub mem: &'a dyn OsMemory,
    pub console: &'a dyn Console,
    pub cpus: &'a dyn CpuControl,
    pub nmi: &'a dyn SystemReset,
    pub platform: &'a dyn Platform,
    pub xics: &'a xics::Presenter,
    pub msgs: &'a msg::MessageQueue,
    pub xive: &'a xive::XiveLock,
    pub hmi: &'a dyn hmi::HmiHandling,
    /// The PHBs (none: the PCI calls are absent).
    pub pci: &'a dyn PciHost,
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use hal::fake::{FakeConsole, FakeCpus, FakeOsMemory, FakePci, FakePlatform, FakeReset};

    /// A machine of fakes: 1 MiB of RAM (firmware at 0x8_0000), PIRs 0,1,4,5.
    pub struct Machine {
        pub mem: FakeOsMemory,
        pub console: FakeConsole,
        pub cpus: FakeCpus,
        pub nmi: FakeReset,
        pub platform: FakePlatform,
        pub xics: xics::Presenter,
        pub msgs: msg::MessageQueue,
        pub xive: xive::XiveLock,
        pub hmi: FakeHmi,
        pub pci: FakePci,
    }

    /// An HMI source that answers each call with scripted flags and events, and sets
    /// NEW_EVENT the way the firmware does: only for an event the queue took.
    #[derive(Default)]
    pub struct FakeHmi {
        script: std::sync::Mutex<Option<(u64, Vec<[u64; 5]>)>>,
        calls: std::sync::atomic::AtomicU32,
        unavailable: std::sync::atomic::AtomicBool,
    }

    impl FakeHmi {
        pub fn script(&self, flags: u64, events: &[[u64; 5]]) {
            *self.script.lock().unwrap() = Some((flags, events.to_vec()));
        }
        pub fn calls(&self) -> u32 {
            self.calls.load(std::sync::atomic::Ordering::SeqCst)
        }
        /// A machine whose HMIs the firmware cannot handle (POWER8).
        pub fn unavailable(&self) {
            self.unavailable
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl hmi::HmiHandling for FakeHmi {
        fn available(&self) -> bool {
            !self.unavailable.load(std::sync::atomic::Ordering::SeqCst)
        }
        fn handle(&self, queue: &mut dyn FnMut([u64; 5]) -> bool) -> u64 {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let Some((mut flags, events)) = self.script.lock().unwrap().take() else {
                return 0;
            };
            for e in events {
                if queue(e) {
                    flags |= opal_api::hmi_flags::NEW_EVENT;
                }
            }
            flags
        }
    }

    impl Machine {
        pub fn new() -> Self {
            Self {
                mem: FakeOsMemory::new(),
                console: FakeConsole::new(4096),
                cpus: FakeCpus::new(),
                nmi: FakeReset::new(true),
                platform: FakePlatform::default(),
                xics: xics::Presenter::new(),
                msgs: msg::MessageQueue::new(),
                xive: xive::XiveLock::new(),
                hmi: FakeHmi::default(),
                pci: FakePci::default(),
            }
        }
        /// The same machine with a P9 or P10 XIVE (the caching model) behind the calls:
        /// one chip, threads 0, 1, 4, 5, in the generation's boot mode.
        pub fn with_xive(gen: ::xive::Gen) -> Self {
            struct Bump(u64);
            impl ::xive::TableMemory for Bump {
                fn alloc(&mut self, size: u64, align: u64) -> Option<u64> {
                    let base = (self.0 + align - 1) & !(align - 1);
                    self.0 = base + size;
                    Some(base)
                }
            }
            let m = Self::new();
            let mut hw = ::xive::model::Model::new(gen, &[0]);
            let mut state =
                ::xive::Xive::new(&mut hw, &mut Bump(0x3100_0000), &[0]).expect("xive tables");
            for pir in [0, 1, 4, 5] {
                state.add_thread(&mut hw, pir, 0).expect("thread");
            }
            m.xive.install(xive::XiveUnit {
                state,
                hw: alloc::boxed::Box::new(hw),
            });
            m
        }
        pub fn ctx(&self) -> Ctx<'_> {
            Ctx {
                mem: &self.mem,
                console: &self.console,
                cpus: &self.cpus,
                nmi: &self.nmi,
                platform: &self.platform,
                xics: &self.xics,
                msgs: &self.msgs,
                xive: &self.xive,
                hmi: &self.hmi,
                pci: &self.pci,
            }
        }
        /// Calls `token` through the real table with up to 8 arguments.
        pub fn call(&self, token: u64, args: &[u64]) -> i64 {
            let mut regs = [0u64; 8];
            regs[..args.len()].copy_from_slice(args);
            dispatch(&self.ctx(), token, &regs).into_r3()
        }
    }
}
