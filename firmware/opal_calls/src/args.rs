// SPDX-License-Identifier: Apache-2.0
//! Decoding of r3..r10 into typed arguments, truncated the way a C callee would see them.

use core::marker::PhantomData;
use opal_api::{OpalError, OpalResult};

pub trait FromReg: Sized {
    fn from_reg(raw: u64) -> OpalResult<Self>;
}

impl FromReg for u64 {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        Ok(raw)
    }
}

impl FromReg for i64 {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        Ok(raw as i64)
    }
}

/// A C `uint32_t` parameter sees only the low 32 bits.
impl FromReg for u32 {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        Ok(raw as u32)
    }
}

/// A C `int32_t` parameter sees only the low 32 bits, as a signed number.
impl FromReg for i32 {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        Ok(raw as u32 as i32)
    }
}

/// A C `uint16_t` parameter sees only the low 16 bits.
impl FromReg for u16 {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        Ok(raw as u16)
    }
}

/// A C `uint8_t` parameter sees only the low 8 bits.
impl FromReg for u8 {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        Ok(raw as u8)
    }
}

/// An address the OS gave us. Holds no pointer and cannot be dereferenced; handlers go
/// through `OsMemory::check` to use it.
#[derive(Debug)]
pub struct OsPtr<T> {
    pub raw: u64,
    _t: PhantomData<T>,
}

impl<T> Clone for OsPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for OsPtr<T> {}

impl<T> OsPtr<T> {
    pub const fn new(raw: u64) -> Self {
        Self {
            raw,
            _t: PhantomData,
        }
    }
    pub const fn is_null(self) -> bool {
        self.raw == 0
    }
}

impl<T> FromReg for OsPtr<T> {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        Ok(Self::new(raw))
    }
}

/// Terminal number of the console calls (`int64_t term_number`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermNo(pub u32);

impl FromReg for TermNo {
    fn from_reg(raw: u64) -> OpalResult<Self> {
        u32::try_from(raw as i64)
            .map(TermNo)
            .map_err(|_| OpalError::Parameter)
    }
}

use crate::Ctx;
use hal::OsRange;

/// Validates `len` bytes at `p` as OS memory.
pub(crate) fn os_range<T>(cx: &Ctx<'_>, p: OsPtr<T>, len: u64) -> OpalResult<OsRange> {
    cx.mem.check(p.raw, len)
}

pub(crate) fn read_be64(cx: &Ctx<'_>, r: OsRange) -> u64 {
    let mut b = [0u8; 8];
    cx.mem.read(r, 0, &mut b);
    u64::from_be_bytes(b)
}

pub(crate) fn write_be64(cx: &Ctx<'_>, r: OsRange, v: u64) {
    cx.mem.write(r, 0, &v.to_be_bytes());
}

pub(crate) fn write_be32(cx: &Ctx<'_>, r: OsRange, v: u32) {
    cx.mem.write(r, 0, &v.to_be_bytes());
}
