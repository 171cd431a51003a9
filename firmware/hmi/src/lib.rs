// SPDX-License-Identifier: Apache-2.0
//! Hypervisor maintenance interrupt and machine-check decoding (`OPAL_HANDLE_HMI2`).
//!
//! Empty until the HMI issue: `OPAL_HANDLE_HMI`/`OPAL_HANDLE_HMI2` are absent from the
//! call table, so Linux handles HMIs without firmware help.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
