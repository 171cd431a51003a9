// SPDX-License-Identifier: Apache-2.0
//! The OPAL areas the payload checks, one module each, in the order they run. A new
//! area is a module with a `pub static AREA: Area` and a line here.

use crate::runner::Area;

mod common;
mod console;
mod cpu;
mod events;
mod fuzz;
mod misc;
mod opal;
mod power;
mod rtc;
mod xics;
mod xive;

pub(crate) use xive::calls::Out;

pub static AREAS: &[&Area] = &[
    &opal::AREA,
    &console::AREA,
    &rtc::AREA,
    &events::AREA,
    &cpu::AREA,
    &misc::AREA,
    &xics::AREA,
    &xive::AREA,
    &power::AREA,
    &fuzz::AREA,
];
