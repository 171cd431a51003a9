// SPDX-License-Identifier: Apache-2.0
//! The OPAL console as the call handlers see it: terminals numbered from 0, buffered
//! output drained by the firmware's pollers, non-blocking input.

/// Progress of `OPAL_CONSOLE_FLUSH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushState {
    /// Everything queued has reached the device.
    Drained,
    /// Some bytes went out, more remain.
    Progress,
    /// Nothing could be sent this time.
    NoProgress,
}

pub trait Console {
    /// Number of terminals (`reg` values of `/ibm,opal/consoles/serial@N`).
    fn terminals(&self) -> u32;
    /// Queues as much of `data` as fits; returns how many bytes were taken.
    fn write(&self, term: u32, data: &[u8]) -> usize;
    /// Bytes a following `write` will accept.
    fn write_space(&self, term: u32) -> usize;
    /// Takes up to `buf.len()` received bytes; never waits.
    fn read(&self, term: u32, buf: &mut [u8]) -> usize;
    /// Pushes queued output towards the device.
    fn flush(&self, term: u32) -> FlushState;
    /// Received bytes are waiting (`OPAL_EVENT_CONSOLE_INPUT`).
    fn input_pending(&self) -> bool;
    /// Queued output has not all reached the device (`OPAL_EVENT_CONSOLE_OUTPUT`).
    fn output_pending(&self) -> bool;
}
