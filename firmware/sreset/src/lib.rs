// SPDX-License-Identifier: Apache-2.0
//! System reset (NMI) through the core direct controls (`OPAL_SIGNAL_SYSTEM_RESET`) and
//! the quiesce protocol (`OPAL_QUIESCE`).
//!
//! Empty until the sreset issue: both tokens are absent from the call table, so Linux
//! falls back to ordinary IPIs for its NMI paths.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
