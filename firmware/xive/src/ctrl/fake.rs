// SPDX-License-Identifier: Apache-2.0
//! A register-level fake [`Regs`] for the driver tests: it records every access in order,
//! keeps what was written, and models the few registers whose reads have an effect the
//! way QEMU does (VALID bits that clear on read, syncs that are always done, flush
//! polls that arm their control register). It can be told to report cache-watch
//! conflicts, to hold a register at a fixed value, or to never complete anything.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::vec::Vec;

use crate::hw::Regs;

use super::{ppc_bit, WATCH_CONFLICT, WATCH_FULL};

const VALID: u64 = ppc_bit(0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    XscomRead { blk: u8, index: u32 },
    XscomWrite { blk: u8, index: u32, value: u64 },
    Load { pa: u64 },
    Store { pa: u64, value: u64 },
    Load8 { pa: u64 },
    Store8 { pa: u64, value: u8 },
    MemRead { pa: u64 },
    MemWrite { pa: u64, value: u64 },
    Barrier,
}

#[derive(Default)]
pub struct FakeRegs {
    log: RefCell<Vec<Access>>,
    mmio: HashMap<u64, u64>,
    bytes: HashMap<u64, u8>,
    xscom: HashMap<(u8, u32), u64>,
    mem: HashMap<u64, u64>,
    /// Registers whose bit 0 (VALID) clears when read.
    self_clearing: HashSet<u64>,
    /// A store to the key sets bit 0 of the register at the value (P10 flush polls).
    arms: HashMap<u64, u64>,
    /// Registers that read as the given "done" value (sync status).
    done_values: HashMap<u64, u64>,
    /// Registers that always read as the given value, whatever was written.
    fixed: HashMap<u64, u64>,
    /// Cache-watch SPEC registers.
    specs: HashSet<u64>,
    /// How many SPEC reads still report FULL|CONFLICT.
    pub conflicts: u32,
    /// Nothing completes: VALID bits stay set, syncs never report done.
    pub stuck: bool,
}

impl FakeRegs {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn self_clearing(mut self, pa: u64) -> Self {
        self.self_clearing.insert(pa);
        self
    }

    pub fn arms(mut self, poll: u64, ctrl: u64) -> Self {
        self.arms.insert(poll, ctrl);
        self
    }

    pub fn done_value(mut self, pa: u64, value: u64) -> Self {
        self.done_values.insert(pa, value);
        self
    }

    pub fn fixed(mut self, pa: u64, value: u64) -> Self {
        self.fixed.insert(pa, value);
        self
    }

    pub fn spec(mut self, pa: u64) -> Self {
        self.specs.insert(pa);
        self
    }

    /// Every access so far, in order.
    pub fn log(&self) -> Vec<Access> {
        self.log.borrow().clone()
    }

    pub fn clear_log(&self) {
        self.log.borrow_mut().clear();
    }

    /// The value last stored at `pa` (MMIO).
    pub fn mmio(&self, pa: u64) -> u64 {
        self.mmio.get(&pa).copied().unwrap_or(0)
    }

    pub fn set_mmio(&mut self, pa: u64, value: u64) {
        self.mmio.insert(pa, value);
    }

    fn record(&self, a: Access) {
        self.log.borrow_mut().push(a);
    }
}

impl Regs for FakeRegs {
    fn xscom_read(&mut self, blk: u8, index: u32) -> u64 {
        self.record(Access::XscomRead { blk, index });
        self.xscom.get(&(blk, index)).copied().unwrap_or(0)
    }

    fn xscom_write(&mut self, blk: u8, index: u32, value: u64) {
        self.record(Access::XscomWrite { blk, index, value });
        self.xscom.insert((blk, index), value);
    }

    fn load64(&mut self, pa: u64) -> u64 {
        self.record(Access::Load { pa });
        if let Some(v) = self.fixed.get(&pa) {
            return *v;
        }
        if let Some(done) = self.done_values.get(&pa) {
            return if self.stuck { 0 } else { *done };
        }
        if self.specs.contains(&pa) && self.conflicts > 0 {
            self.conflicts -= 1;
            return self.mmio(pa) | WATCH_FULL | WATCH_CONFLICT;
        }
        let v = self.mmio(pa);
        if self.self_clearing.contains(&pa) && !self.stuck {
            self.mmio.insert(pa, v & !VALID);
            return v & !VALID;
        }
        v
    }

    fn store64(&mut self, pa: u64, value: u64) {
        self.record(Access::Store { pa, value });
        self.mmio.insert(pa, value);
        if let Some(ctrl) = self.arms.get(&pa).copied() {
            let v = self.mmio(ctrl) | VALID;
            self.mmio.insert(ctrl, v);
        }
    }

    fn load8(&mut self, pa: u64) -> u8 {
        self.record(Access::Load8 { pa });
        self.bytes.get(&pa).copied().unwrap_or(0)
    }

    fn store8(&mut self, pa: u64, value: u8) {
        self.record(Access::Store8 { pa, value });
        self.bytes.insert(pa, value);
    }

    fn mem_read64(&self, pa: u64) -> u64 {
        self.record(Access::MemRead { pa });
        self.mem.get(&pa).copied().unwrap_or(0)
    }

    fn mem_write64(&mut self, pa: u64, value: u64) {
        self.record(Access::MemWrite { pa, value });
        self.mem.insert(pa, value);
    }

    fn barrier(&mut self) {
        self.record(Access::Barrier);
    }
}

/// Position of the first access matching `pred` at or after `from`.
pub fn position(log: &[Access], from: usize, pred: impl Fn(&Access) -> bool) -> Option<usize> {
    log.iter().skip(from).position(pred).map(|i| i + from)
}

/// The MMIO stores, in order, as (address, value).
pub fn stores(log: &[Access]) -> Vec<(u64, u64)> {
    log.iter()
        .filter_map(|a| match a {
            Access::Store { pa, value } => Some((*pa, *value)),
            _ => None,
        })
        .collect()
}
