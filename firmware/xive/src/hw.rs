// SPDX-License-Identifier: Apache-2.0
//! The seam between the XIVE logic and the controller.
//!
//! [`Controller`] is everything the OPAL handlers need from the hardware, one method per
//! *protocol* (cache watch, scrub, sync, kill), never a raw register: the register
//! sequences live in `ctrl::{p9,p10}` (over the [`Regs`] trait), and the host tests run the
//! handlers against `model::Model`, which caches ENDs/NVTs/EASes the way real hardware does
//! (QEMU does not), so a handler that writes a cached structure straight to RAM, or reads
//! one without flushing it, fails a test.
//!
//! Blocks: every XIVE instance (one per chip) owns one block id, assigned 0, 1, 2… in
//! device-tree order. A structure's block is also the instance that caches it, so every
//! method takes the block and nothing else names a chip.

/// XIVE generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gen {
    /// POWER9 XIVE (`ibm,power9-xive-x`).
    P9,
    /// POWER10 XIVE2 (`ibm,power10-xive-x`).
    P10,
}

/// A non-synchronous cache-watch update collided with the hardware (FULL and CONFLICT both
/// set in the watch SPEC register). The caller retries or returns `OPAL_BUSY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy;

/// The Virtual Structure Tables the logic programs, by meaning. `ctrl` maps them to each
/// generation's table-select numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Vst {
    /// Event State Buffers (P9 "SBE"): 2 bits per source.
    Esb,
    /// Event Assignment table (P9 "IVT"): one u64 per source. VC only.
    Eas,
    /// Event Notification Descriptors (P9 "EQDT").
    End,
    /// Virtual processor descriptors: NVT (P9 "VPDT") / NVP (P10).
    Nvt,
    /// Overflow queue page `n` (P9 "IRQ" blocks 0–5, P10 "ERQ"). VC only.
    Overflow(u8),
}

/// What the OPAL logic needs from one machine's XIVE instances.
///
/// Memory: `read64`/`write64` reach firmware-owned table memory (EAS table, indirect
/// pointer pages, NVT/END sub-pages while they are not linked yet). ENDs and NVTs that
/// are reachable through a VSD must only be written with `end_update`/`nvt_update` and
/// only read after `end_flush`/`nvt_flush`; EAS entries are written in RAM and then
/// `eas_invalidate`d.
pub trait Controller {
    fn gen(&self) -> Gen;

    /// Big-endian 64-bit load/store of firmware-owned memory.
    fn read64(&self, pa: u64) -> u64;
    fn write64(&mut self, pa: u64, value: u64);

    /// Programs the VSD of `table` for structure block `target` in instance `blk`
    /// (VC copy, and PC copy for the tables the PC reads).
    fn set_vsd(&mut self, blk: u8, table: Vst, target: u8, vsd: u64);

    /// Drops the cached copy of EAS `idx` after a direct RAM write (IVC scrub / EASC flush).
    fn eas_invalidate(&mut self, blk: u8, idx: u32);

    /// Writes END `idx` back to RAM and invalidates the cached copy (EQC scrub / ENDC
    /// flush, plus the ESB-read workaround), so RAM holds the current value.
    fn end_flush(&mut self, blk: u8, idx: u32);

    /// Replaces END `idx` (4 BE dwords) through a full cache watch. With `sync`, conflicts
    /// are retried (up to 10 times, then still `Busy`).
    fn end_update(&mut self, blk: u8, idx: u32, dwords: &[u64; 4], sync: bool) -> Result<(), Busy>;

    /// Replaces only END dword 2 (words 4–5: the escalation EAS) through a light watch.
    fn end_update_escalation(
        &mut self,
        blk: u8,
        idx: u32,
        dword2: u64,
        sync: bool,
    ) -> Result<(), Busy>;

    /// As `end_flush` for NVT/NVP `idx`.
    fn nvt_flush(&mut self, blk: u8, idx: u32);

    /// Replaces NVT `idx` through a full cache watch: 8 dwords on P9 (64-byte NVT), 4 on
    /// P10 (32-byte NVP).
    fn nvt_update(&mut self, blk: u8, idx: u32, dwords: &[u64], sync: bool) -> Result<(), Busy>;

    /// Invalidates the translation caches after indirect sub-pages were removed
    /// (P9 `VC_AT_MACRO_KILL` + `PC_AT_KILL`; P10 the same registers), and waits.
    fn kill_translations(&mut self, blk: u8);

    /// Waits until every event already accepted by instance `blk` has reached memory
    /// (sync injection + poll).
    fn sync(&mut self, blk: u8);

    /// 64-bit load from an ESB page at `addr` (offset included: 0x800 reads PQ,
    /// 0xC00/0xD00/0xE00/0xF00 set PQ and return the old one). Returns the raw value.
    fn esb_load(&mut self, addr: u64) -> u64;
    /// 64-bit store to an ESB page (trigger).
    fn esb_store(&mut self, addr: u64, value: u64);

    /// Lets the presenter of instance `blk` match (or stop matching) thread `pir`.
    fn thread_enable(&mut self, blk: u8, pir: u32, enable: bool);

    /// Puts thread `pir`'s TIMA back to firmware defaults through the indirect TIMA:
    /// HV CPPR 0, POOL context pulled, PHYS ring VT set.
    fn tima_reset(&mut self, blk: u8, pir: u32);

    /// Thread `pir`'s TIMA ring `ring` (0 USER, 1 OS, 2 POOL, 3 PHYS) through the indirect
    /// TIMA, 16 bytes (NSR, CPPR, IPB, LSMFB, ACK#, INC, AGE, PIPR, then word 2), for dumps.
    fn tima_ring(&mut self, blk: u8, pir: u32, ring: u8) -> [u8; 16];
}

/// Raw access to the registers of the XIVE instances, for `ctrl::{p9,p10}`. The firmware
/// implements it over XSCOM and cache-inhibited MMIO; the tests over register models.
pub trait Regs {
    /// 8-byte XSCOM access to register `index` of instance `blk` (the instance's XSCOM base
    /// comes from its device-tree `reg`).
    fn xscom_read(&mut self, blk: u8, index: u32) -> u64;
    fn xscom_write(&mut self, blk: u8, index: u32, value: u64);
    /// Cache-inhibited loads/stores at a physical address (IC pages, ESBs, TIMA).
    fn load64(&mut self, pa: u64) -> u64;
    fn store64(&mut self, pa: u64, value: u64);
    fn load8(&mut self, pa: u64) -> u8;
    fn store8(&mut self, pa: u64, value: u8);
    /// Big-endian access to firmware memory (tables), cacheable.
    fn mem_read64(&self, pa: u64) -> u64;
    fn mem_write64(&mut self, pa: u64, value: u64);
    /// A full memory barrier (`sync`) between table writes and the register write that
    /// publishes them.
    fn barrier(&mut self);
}
