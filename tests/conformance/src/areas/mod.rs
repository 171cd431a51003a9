// SPDX-License-Identifier: Apache-2.0
//! The OPAL areas the payload checks, one module each, in the order they run. A new
//! area is a module with a `pub static AREA: Area` and a line here.

use crate::arch::{self, Job};
use crate::runner::Area;

mod common;
mod console;
mod cpu;
mod events;
mod flash;
mod fuzz;
mod hmi;
mod invariants;
mod ipmi;
mod misc;
mod opal;
mod pci;
mod power;
mod quiesce;
mod rtc;
mod sreset;
mod threads;
mod xics;
mod xive;

pub(crate) use xive::calls::Out;

pub use threads::setup as setup_threads;

pub static AREAS: &[&Area] = &[
    &opal::AREA,
    &console::AREA,
    &rtc::AREA,
    &events::AREA,
    &ipmi::AREA,
    &flash::AREA,
    &pci::AREA,
    &cpu::AREA,
    &misc::AREA,
    &xics::AREA,
    &xive::AREA,
    &sreset::AREA,
    &quiesce::AREA,
    &hmi::AREA,
    &power::AREA,
    &fuzz::AREA,
];

/// Where `secondary_park` sends a woken thread: the job the boot thread chose with
/// `arch::wake_workers`.
#[no_mangle]
extern "C" fn worker_main(slot: u64, pir: u64) {
    match arch::current_job() {
        Job::Fuzz => fuzz::worker(slot, pir),
        Job::Commands => threads::worker(pir as u32),
        Job::None => {}
    }
}
