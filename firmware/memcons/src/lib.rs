// SPDX-License-Identifier: Apache-2.0
//! The in-memory console: the firmware's log in a ring of memory the OS can read, in the
//! layout Linux's `arch/powerpc/platforms/powernv/opal-msglog.c` reads as
//! `/sys/firmware/opal/msglog` (skiboot `core/console.c`, `struct memcons`). The firmware
//! names its address in `/ibm,opal/ibm,opal-memcons`.
//!
//! ```text
//! offset  field       (all big-endian)
//!  0      magic       u64  "f0iegras" (0x6630696567726173)
//!  8      obuf_phys   u64  real address of the output ring
//! 16      ibuf_phys   u64  real address of the input ring
//! 24      obuf_size   u32
//! 28      ibuf_size   u32
//! 32      out_pos     u32  next byte to write; bit 31 once the ring has wrapped
//! 36      in_prod     u32  input ring: next byte an outside agent writes
//! 40      in_cons     u32  input ring: next byte the firmware reads
//! ```
//!
//! Concurrency and crash time: writers never lock. Each reserves its bytes with one atomic
//! add, writes them, then publishes `out_pos`, so a CPU that dies in the middle of a write
//! (a crash NMI) costs at most one garbled line and never stops another CPU's log. A
//! reader sees `out_pos` move only after the bytes before it were written by every writer
//! that finished; a writer still in progress may show as a partly written line.
//!
//! The input ring is written by an outside agent (a debugger, a BMC or a simulator
//! script) and read by the firmware; its indices come from outside, so they are checked
//! before use and a bad one empties the ring instead of reading out of bounds.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// `MEMCONS_MAGIC`.
pub const MAGIC: u64 = 0x6630_6965_6772_6173;
/// `out_pos` bit: the ring has wrapped, so the oldest byte is at `out_pos`.
pub const OUT_POS_WRAP: u32 = 0x8000_0000;
/// `out_pos` bits holding the position.
pub const OUT_POS_MASK: u32 = 0x00ff_ffff;
/// Bytes of `struct memcons` the OS reads.
pub const HEADER_LEN: usize = 44;

/// A memory console with an `OUT`-byte output ring and an `IN`-byte input ring.
///
/// The header fields hold big-endian values (stored as `to_be()`), so their bytes in
/// memory are what the OS expects on any host: the host tests read them back as bytes.
#[repr(C)]
pub struct Memcons<const OUT: usize, const IN: usize> {
    magic: AtomicU64,
    obuf_phys: AtomicU64,
    ibuf_phys: AtomicU64,
    obuf_size: AtomicU32,
    ibuf_size: AtomicU32,
    out_pos: AtomicU32,
    in_prod: AtomicU32,
    in_cons: AtomicU32,
    /// Output bytes ever reserved by writers.
    reserved: AtomicUsize,
    /// Output bytes ever written and published (the most any finished writer reached).
    published: AtomicUsize,
    out: [AtomicU8; OUT],
    input: [AtomicU8; IN],
}

impl<const OUT: usize, const IN: usize> Memcons<OUT, IN> {
    const SIZES_FIT: () = assert!(
        OUT > 0 && OUT <= OUT_POS_MASK as usize && IN > 0 && IN <= u32::MAX as usize,
        "ring sizes must fit the memcons fields"
    );

    /// An empty console, not yet visible to the OS (all zero, so a static of it is BSS).
    /// Writes are kept from the first one on; [`Memcons::publish`] fills in the header.
    #[allow(clippy::declare_interior_mutable_const)]
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::SIZES_FIT;
        const ZERO: AtomicU8 = AtomicU8::new(0);
        Self {
            magic: AtomicU64::new(0),
            obuf_phys: AtomicU64::new(0),
            ibuf_phys: AtomicU64::new(0),
            obuf_size: AtomicU32::new(0),
            ibuf_size: AtomicU32::new(0),
            out_pos: AtomicU32::new(0),
            in_prod: AtomicU32::new(0),
            in_cons: AtomicU32::new(0),
            reserved: AtomicUsize::new(0),
            published: AtomicUsize::new(0),
            out: [ZERO; OUT],
            input: [ZERO; IN],
        }
    }

    /// Fills in the header (the rings' addresses and sizes, then the magic, last so a
    /// reader never sees a valid magic with the rest missing) and returns the address of
    /// the structure, for `ibm,opal-memcons`. The firmware runs in real mode, so the
    /// addresses of its statics are real addresses.
    pub fn publish(&self) -> u64 {
        self.obuf_phys
            .store((self.out.as_ptr() as u64).to_be(), Ordering::Relaxed);
        self.ibuf_phys
            .store((self.input.as_ptr() as u64).to_be(), Ordering::Relaxed);
        self.obuf_size
            .store((OUT as u32).to_be(), Ordering::Relaxed);
        self.ibuf_size.store((IN as u32).to_be(), Ordering::Relaxed);
        self.publish_out_pos();
        self.magic.store(MAGIC.to_be(), Ordering::Release);
        self as *const Self as u64
    }

    /// Appends `s` to the output ring (the oldest bytes give way when it is full).
    pub fn write(&self, s: &[u8]) {
        let start = self.reserved.fetch_add(s.len(), Ordering::Relaxed);
        for (i, &c) in s.iter().enumerate() {
            self.out[(start + i) % OUT].store(c, Ordering::Relaxed);
        }
        self.published.fetch_max(start + s.len(), Ordering::Release);
        self.publish_out_pos();
    }

    /// Writes `out_pos` from `published`. Writers finishing together may store in either
    /// order, so each stores again until what it stored is still current: the last
    /// one to leave leaves the newest value.
    fn publish_out_pos(&self) {
        // A writer can only be overtaken by writers that finished after it, so a few
        // rounds are enough; bounded so that no writer can be held here.
        for _ in 0..8 {
            let done = self.published.load(Ordering::Acquire);
            self.out_pos
                .store(Self::encode_out_pos(done).to_be(), Ordering::SeqCst);
            if self.published.load(Ordering::SeqCst) == done {
                return;
            }
        }
    }

    fn encode_out_pos(done: usize) -> u32 {
        let pos = (done % OUT) as u32;
        if done >= OUT {
            pos | OUT_POS_WRAP
        } else {
            pos
        }
    }

    /// Output bytes written since boot (the ring holds the last `OUT` of them).
    pub fn written(&self) -> usize {
        self.published.load(Ordering::Acquire)
    }

    /// Takes up to `buf.len()` bytes from the input ring; returns how many.
    pub fn read_input(&self, buf: &mut [u8]) -> usize {
        let prod = u32::from_be(self.in_prod.load(Ordering::Acquire)) as usize;
        let mut cons = u32::from_be(self.in_cons.load(Ordering::Relaxed)) as usize;
        if prod >= IN || cons >= IN {
            // Not an index we could have been given honestly: drop what is there.
            self.in_cons.store(0, Ordering::Relaxed);
            self.in_prod.store(0, Ordering::Release);
            return 0;
        }
        let mut n = 0;
        while n < buf.len() && cons != prod {
            buf[n] = self.input[cons].load(Ordering::Relaxed);
            n += 1;
            cons = (cons + 1) % IN;
        }
        self.in_cons.store((cons as u32).to_be(), Ordering::Release);
        n
    }

    /// The header as the OS sees it in memory.
    pub fn header_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        let fields64 = [&self.magic, &self.obuf_phys, &self.ibuf_phys];
        for (i, f) in fields64.iter().enumerate() {
            b[8 * i..8 * i + 8].copy_from_slice(&f.load(Ordering::Acquire).to_ne_bytes());
        }
        let fields32 = [
            &self.obuf_size,
            &self.ibuf_size,
            &self.out_pos,
            &self.in_prod,
            &self.in_cons,
        ];
        for (i, f) in fields32.iter().enumerate() {
            b[24 + 4 * i..28 + 4 * i].copy_from_slice(&f.load(Ordering::Acquire).to_ne_bytes());
        }
        b
    }

    /// The output ring's byte at `i` (tests and debugging).
    pub fn out_byte(&self, i: usize) -> u8 {
        self.out[i % OUT].load(Ordering::Relaxed)
    }

    /// Puts bytes in the input ring as an outside agent would (host tests only).
    #[cfg(test)]
    fn feed_input(&self, s: &[u8]) {
        let mut prod = u32::from_be(self.in_prod.load(Ordering::Relaxed)) as usize;
        for &c in s {
            self.input[prod].store(c, Ordering::Relaxed);
            prod = (prod + 1) % IN;
        }
        self.in_prod.store((prod as u32).to_be(), Ordering::Release);
    }
}

impl<const OUT: usize, const IN: usize> Default for Memcons<OUT, IN> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
