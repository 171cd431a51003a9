// SPDX-License-Identifier: Apache-2.0
//! The OPAL areas the payload checks, one module each, in the order they run. A new
//! area is a module with a `pub static AREA: Area` and a line here.

use crate::runner::Area;

mod opal;
mod xive;

pub static AREAS: &[&Area] = &[&opal::AREA, &xive::AREA];
