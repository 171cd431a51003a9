// SPDX-License-Identifier: Apache-2.0
//! A core of std threads standing in for hardware threads, over the model.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hmi::model::CoreModel;
use hmi::{
    handle, ChipCores, Core, Gen, HmiEvent, Outcome, Shared, Siblings, ThreadCtx, ThreadRegs,
};

/// 4 GHz core: base TFMR 0x4B12_0000_0000_0000 (computed by hand in tfmr tests).
pub const CORE_HZ: u64 = 4_000_000_000;
pub const BASE: u64 = 0x4B12_0000_0000_0000;

pub struct Machine {
    pub model: CoreModel,
    pub core: Core,
    pub shared: Shared,
    pub chips: Vec<ChipCores>,
    pub timeout_us: u64,
}

impl Machine {
    pub fn new(gen: Gen, threads: usize) -> Self {
        assert_eq!(hmi::tfmr::base(CORE_HZ), BASE);
        Self {
            model: CoreModel::new(gen, threads, BASE).with_pause_hook(std::thread::yield_now),
            core: Core::new(),
            shared: Shared::new(),
            chips: vec![
                ChipCores {
                    chip_id: 0,
                    cores: 0xf,
                },
                ChipCores {
                    chip_id: 1,
                    cores: 0xf,
                },
            ],
            timeout_us: 2_000,
        }
    }

    pub fn all(&self) -> u8 {
        self.model.all_threads()
    }

    /// One call of the handler on thread `t`.
    pub fn call(
        &self,
        t: usize,
        threads: u8,
        siblings: &mut dyn Siblings,
    ) -> (Outcome, Vec<HmiEvent>) {
        self.call_with(t, threads, siblings, &mut self.model.regs(t))
    }

    /// One call of the handler on thread `t`, through `regs` (a wrapper of the model's).
    pub fn call_with(
        &self,
        t: usize,
        threads: u8,
        siblings: &mut dyn Siblings,
        regs: &mut dyn ThreadRegs,
    ) -> (Outcome, Vec<HmiEvent>) {
        let mut scom = &self.model.scom;
        let mut tod = self.model.tod(t);
        let mut ctx = ThreadCtx {
            gen: self.model.gen(),
            pir: t as u32,
            chip_id: 0,
            thread: t,
            threads,
            core: &self.core,
            shared: &self.shared,
            regs,
            scom: &mut scom,
            tod: &mut tod,
            clock: &self.model,
            siblings,
            chips: &self.chips,
            base_tfmr: BASE,
            timeout_us: self.timeout_us,
        };
        let mut evs = Vec::new();
        let out = handle(&mut ctx, &mut |e| {
            evs.push(e);
            true
        });
        (out, evs)
    }
}

/// Kicks, for the threads the test marks as sitting in firmware.
pub struct Kicker<'a> {
    pub kicked: &'a [AtomicBool; 8],
    pub firmware_owned: u8,
    pub calls: u32,
}

impl Siblings for Kicker<'_> {
    fn wake_firmware_owned(&mut self, mask: u8) {
        self.calls += 1;
        for t in 0..8 {
            if mask & self.firmware_owned & (1 << t) != 0 {
                self.kicked[t].store(true, Ordering::Release);
            }
        }
    }
}

/// A tiny deterministic generator for delays.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn delay(&mut self) {
        match self.next() % 4 {
            0 => {}
            1 => std::thread::yield_now(),
            2 => std::thread::sleep(Duration::from_micros(self.next() % 50)),
            _ => {
                for _ in 0..(self.next() % 2000) {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

/// One handler call: its outcome and the events it queued.
pub type Call = (Outcome, Vec<HmiEvent>);

pub struct Run {
    /// Per thread: None if it never called the handler; else every call's result.
    pub results: Vec<Option<Vec<Call>>>,
    pub kicks: u32,
    pub elapsed: Duration,
}

impl Run {
    pub fn first(&self, t: usize) -> &(Outcome, Vec<HmiEvent>) {
        &self.results[t].as_ref().expect("thread ran")[0]
    }
    /// Flags and events of all calls of thread t, merged.
    pub fn merged(&self, t: usize) -> (u64, Vec<HmiEvent>) {
        let mut f = 0;
        let mut evs = vec![];
        for (o, e) in self.results[t].as_ref().expect("thread ran") {
            f |= o.flags;
            evs.extend_from_slice(e);
        }
        (f, evs)
    }
}

/// Runs the threads of `running` (they take the HMI) and `parked` (in firmware: they call
/// the handler only once kicked). `absent` threads never call. Each thread calls the
/// handler again while its HMER still has a handled bit, as the hardware re-raises the
/// HMI (at most 4 calls).
pub fn run(m: &Machine, running: u8, parked: u8, seed: u64) -> Run {
    let kicked: [AtomicBool; 8] = Default::default();
    let kicks = std::sync::atomic::AtomicU32::new(0);
    let handled = hmi::hmer::handled_mask(m.model.gen());
    let start = Instant::now();
    let results = std::thread::scope(|s| {
        let hs: Vec<_> = (0..m.model.threads())
            .map(|t| {
                let kicked = &kicked;
                let kicks = &kicks;
                s.spawn(move || {
                    let mut rng =
                        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t as u64 + 1) | 1);
                    if parked & (1 << t) != 0 {
                        let deadline = Instant::now() + Duration::from_secs(20);
                        while !kicked[t].load(Ordering::Acquire) {
                            if Instant::now() > deadline {
                                return None;
                            }
                            std::thread::yield_now();
                        }
                    } else if running & (1 << t) == 0 {
                        return None;
                    }
                    rng.delay();
                    let mut k = Kicker {
                        kicked,
                        firmware_owned: parked,
                        calls: 0,
                    };
                    let mut calls = vec![m.call(t, m.all(), &mut k)];
                    while m.model.hmer(t) & handled != 0 && calls.len() < 4 {
                        calls.push(m.call(t, m.all(), &mut k));
                    }
                    kicks.fetch_add(k.calls, Ordering::AcqRel);
                    Some(calls)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    Run {
        results,
        kicks: kicks.load(Ordering::Acquire),
        elapsed: start.elapsed(),
    }
}
