// SPDX-License-Identifier: Apache-2.0
//! The features, one row each, in the order they appear in the node (skiboot's order, so
//! Linux walks them as it does under skiboot). The facts (names, ISA levels, who may use
//! a feature, facility-control and hwcap bit numbers, dependencies, which processors have
//! it) are the binding's and skiboot's `core/cpufeatures.c`; POWER8 rows, and rows no
//! POWER9 or later processor has, are left out.
//!
//! Bit numbers count from the least significant bit, as Linux shifts them
//! (`1 << hfscr-bit-nr`): HFSCR/FSCR bit 0 is the floating-point facility.

use crate::usable::{ALL, HV, HV_OS, OS, PR};
use crate::{Cpu, Cpus, Feature, Recipe};

use Recipe::{ControlBit, Kernel, NotNeeded};

/// A kernel recipe with no facility-control bit: most features.
const KERNEL: Recipe = Kernel { control_bit: None };

/// Every processor this crate knows.
const EVERY: Cpus = Cpus::of(&Cpu::ALL);
const POWER9: Cpus = Cpus::of(&[Cpu::P9Dd21, Cpu::P9Dd22, Cpu::P9Dd23, Cpu::P9P]);
const POWER10_ON: Cpus = Cpus::of(&[Cpu::P10, Cpu::P11]);

/// ISA 2.07B, the base every node assumes: a feature with this level is no newer.
const BASE: u32 = 0;
pub(crate) const ISA_3_0B: u32 = 3000;
pub(crate) const ISA_3_1: u32 = 3100;

/// A feature the table states in full.
#[allow(clippy::too_many_arguments)]
const fn row(
    name: &'static str,
    cpus: Cpus,
    isa: u32,
    usable: u32,
    hv: Recipe,
    os: Recipe,
    hwcap_bit: Option<u8>,
    dependencies: &'static [&'static str],
) -> Feature {
    Feature {
        name,
        cpus,
        isa,
        usable,
        hv,
        os,
        hwcap_bit,
        dependencies,
    }
}

/// A feature every level may use and none has to enable: an instruction set addition.
const fn instructions(
    name: &'static str,
    cpus: Cpus,
    isa: u32,
    hwcap_bit: Option<u8>,
    dependencies: &'static [&'static str],
) -> Feature {
    row(
        name,
        cpus,
        isa,
        ALL,
        NotNeeded,
        NotNeeded,
        hwcap_bit,
        dependencies,
    )
}

#[rustfmt::skip]
pub(crate) const FEATURES: &[Feature] = &[
    row("big-endian", EVERY, BASE, ALL, KERNEL, KERNEL, None, &[]),
    row("little-endian", EVERY, BASE, ALL, KERNEL, KERNEL, None, &[]),
    row("hypervisor", EVERY, BASE, HV, KERNEL, NotNeeded, None, &[]),
    // Interrupt vectors and their control registers (AIL, ILE, LPCR...).
    row("interrupt-facilities", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &[]),
    row("smt", EVERY, BASE, ALL, KERNEL, KERNEL, Some(14), &[]),
    row("program-priority-register", EVERY, BASE, ALL, NotNeeded, NotNeeded, None, &[]),
    row("virtual-page-class-key-protection", EVERY, BASE, ALL, KERNEL, KERNEL, None, &[]),
    row("strong-access-ordering", EVERY, BASE, ALL, KERNEL, KERNEL, None, &[]),
    row("no-execute", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &[]),
    row("cache-inhibited-large-page", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &[]),
    row("debug-facilities", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &[]),
    // The second data address watchpoint (DAWR1/DAWRX1): what KVM checks for nested guests.
    row("debug-facilities-v31", POWER10_ON, ISA_3_1, HV_OS, KERNEL, KERNEL, None, &[]),
    row("come-from-address-register", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &["debug-facilities"]),
    row("branch-tracing", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &["debug-facilities"]),
    row("floating-point", EVERY, BASE, ALL, Kernel { control_bit: Some(0) }, KERNEL, Some(27), &[]),
    row("vector", EVERY, BASE, ALL, Kernel { control_bit: Some(1) }, KERNEL, Some(28), &["floating-point"]),
    row("vector-scalar", EVERY, BASE, ALL, KERNEL, KERNEL, Some(7), &["vector"]),
    instructions("vector-crypto", EVERY, BASE, Some(57), &["vector"]),
    instructions("quadword-load-store", EVERY, BASE, None, &[]),
    instructions("decimal-integer", EVERY, BASE, None, &[]),
    instructions("decimal-floating-point", EVERY, BASE, Some(10), &["floating-point"]),
    row("data-stream-control-register", EVERY, BASE, ALL,
        Kernel { control_bit: Some(2) }, Kernel { control_bit: Some(2) }, Some(61), &[]),
    row("branch-history-rolling-buffer", EVERY, BASE, ALL,
        Kernel { control_bit: Some(4) }, KERNEL, None, &[]),
    row("event-based-branch", EVERY, BASE, ALL,
        Kernel { control_bit: Some(7) }, Kernel { control_bit: Some(7) }, Some(60), &[]),
    row("target-address-register", EVERY, BASE, ALL,
        Kernel { control_bit: Some(8) }, Kernel { control_bit: Some(8) }, Some(58), &[]),
    row("control-register", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &[]),
    row("processor-utilization-of-resources-register", EVERY, BASE, HV_OS, KERNEL, KERNEL, None, &[]),
    row("mmu-radix", EVERY, ISA_3_0B, HV_OS, KERNEL, KERNEL, None, &[]),
    row("mmu-hash-v3", EVERY, ISA_3_0B, HV_OS, KERNEL, KERNEL, None, &[]),
    instructions("wait-v3", EVERY, ISA_3_0B, None, &[]),
    row("idle-stop", EVERY, ISA_3_0B, HV_OS, KERNEL, KERNEL, None, &[]),
    // External interrupts from XIVE arrive as hypervisor virtualization interrupts.
    row("hypervisor-virtualization-interrupt", EVERY, ISA_3_0B, HV, KERNEL, NotNeeded, None, &[]),
    row("machine-check-power9", POWER9, ISA_3_0B, HV_OS, KERNEL, KERNEL, None, &[]),
    // ISA 3.0B, not 3.1, in skiboot's table too.
    row("machine-check-power10", POWER10_ON, ISA_3_0B, HV_OS, KERNEL, KERNEL, None, &[]),
    row("performance-monitor-power9", POWER9, ISA_3_0B, HV_OS, KERNEL, KERNEL, None, &[]),
    row("performance-monitor-power10", POWER10_ON, ISA_3_1, HV_OS, KERNEL, KERNEL, None, &[]),
    row("system-call-vectored", EVERY, ISA_3_0B, OS | PR,
        NotNeeded, Kernel { control_bit: Some(12) }, Some(52), &[]),
    row("processor-control-facility-v3", EVERY, ISA_3_0B, HV_OS,
        Kernel { control_bit: Some(10) }, NotNeeded, None, &[]),
    instructions("pc-relative-addressing", EVERY, ISA_3_0B, None, &[]),
    row("timer-facilities", EVERY, BASE, HV_OS, NotNeeded, NotNeeded, None, &[]),
    // The large decrementer and the hypervisor decrementer.
    row("timer-facilities-v3", EVERY, ISA_3_0B, HV_OS, NotNeeded, NotNeeded, None, &["timer-facilities"]),
    instructions("random-number-generator", EVERY, ISA_3_0B, Some(53), &[]),
    instructions("fixed-point-v3", EVERY, ISA_3_0B, None, &[]),
    instructions("decimal-integer-v3", EVERY, ISA_3_0B, None, &["fixed-point-v3", "decimal-integer"]),
    instructions("floating-point-v3", EVERY, ISA_3_0B, None, &["floating-point"]),
    instructions("decimal-floating-point-v3", EVERY, ISA_3_0B, None,
        &["floating-point-v3", "decimal-floating-point"]),
    instructions("vector-v3", EVERY, ISA_3_0B, None, &["vector"]),
    instructions("vector-scalar-v3", EVERY, ISA_3_0B, None, &["vector-v3", "vector-scalar"]),
    instructions("vector-binary128", EVERY, ISA_3_0B, Some(54), &["vector-scalar-v3"]),
    instructions("vector-binary16", EVERY, ISA_3_0B, None, &["vector-v3"]),
    instructions("event-based-branch-v3", EVERY, ISA_3_0B, None, &["event-based-branch"]),
    instructions("atomic-memory-operations", EVERY, ISA_3_0B, None, &[]),
    instructions("copy-paste", EVERY, ISA_3_0B, None, &[]),
    // Problem state only: Linux clears PCR[MMA_DIS] itself when it sees the name.
    row("matrix-multiply-accumulate", POWER10_ON, ISA_3_1, PR, NotNeeded, NotNeeded, Some(49), &[]),
    // Toolchains targeting ISA 3.1 assume prefixed instructions work.
    row("prefix-instructions", POWER10_ON, ISA_3_1, ALL, ControlBit(13), ControlBit(13), None, &[]),
    // POWER9 errata Linux works around (TM suspend emulated by the hypervisor, and the
    // XER[SO] bug met while doing so): the node says the bug is there.
    row("tm-suspend-hypervisor-assist", Cpus::of(&[Cpu::P9Dd22, Cpu::P9Dd23, Cpu::P9P]), ISA_3_0B, HV,
        KERNEL, NotNeeded, None, &[]),
    row("tm-suspend-xer-so-bug", Cpus::of(&[Cpu::P9Dd22]), ISA_3_0B, HV, KERNEL, NotNeeded, None, &[]),
];
