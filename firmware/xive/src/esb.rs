// SPDX-License-Identifier: Apache-2.0
//! ESB loads (xive.md §6.2): the offset into an ESB page selects the operation, the low
//! byte of the returned value holds the old P (0x2) and Q (0x1) bits. One definition for
//! the OPAL logic, the register drivers and the PSI code.

/// Side-effect-free read of PQ.
pub const GET: u64 = 0x800;
/// Set PQ to 00 (enabled, nothing pending), returning the old PQ.
pub const SET_PQ_00: u64 = 0xc00;
/// Set PQ to 01 (off: triggers are dropped), returning the old PQ.
pub const SET_PQ_01: u64 = 0xd00;
pub const SET_PQ_10: u64 = 0xe00;
pub const SET_PQ_11: u64 = 0xf00;
pub const P: u8 = 0x2;
pub const Q: u8 = 0x1;
/// PQ state "off" (masked).
pub const PQ_OFF: u8 = Q;
