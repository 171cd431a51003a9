// SPDX-License-Identifier: Apache-2.0
#![cfg_attr(not(test), no_std)]
