//! The QEMU boot scenarios of `cargo xtask test`, as data. Edit the tables below.
//!
//! A scenario boots QEMU with a `kernel`: Debian's Linux and the busybox initramfs, or
//! the conformance payload (tests/conformance, no initramfs). It then walks its `steps`
//! in order over the console output:
//! `expect` waits for a substring (a `*` in it matches anything within one line),
//! `expect_all` waits for several in any order (lines from different CPUs),
//! `forbid` makes a substring forbidden from that point of the output on, and
//! `send` types text on the console. After the last step QEMU must exit by itself with
//! status 0 (the guest powered off) before the timeout. A forbidden substring anywhere fails
//! the scenario at once.

use crate::args::Machine;

/// Which firmware a step applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// Any firmware.
    Any,
    /// Only Opalite (its own log lines); skipped with `--firmware`.
    Opalite,
    /// Only another firmware given with `--firmware` (e.g. skiboot).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Expect(Only, &'static str),
    /// Every pattern, in any order, after the previous step's match; the next step
    /// continues after the last of them.
    ExpectAll(Only, &'static [&'static str]),
    /// Forbidden from the current position of the output on (e.g. a second panic).
    Forbid(Only, &'static str),
    Send(&'static str),
}

const fn expect(s: &'static str) -> Step {
    Step::Expect(Only::Any, s)
}
const fn opalite(s: &'static str) -> Step {
    Step::Expect(Only::Opalite, s)
}
const fn other_fw(s: &'static str) -> Step {
    Step::Expect(Only::Other, s)
}
const fn expect_all(s: &'static [&'static str]) -> Step {
    Step::ExpectAll(Only::Any, s)
}
const fn opalite_all(s: &'static [&'static str]) -> Step {
    Step::ExpectAll(Only::Opalite, s)
}
const fn forbid(s: &'static str) -> Step {
    Step::Forbid(Only::Any, s)
}
const fn opalite_forbid(s: &'static str) -> Step {
    Step::Forbid(Only::Opalite, s)
}
const fn send(s: &'static str) -> Step {
    Step::Send(s)
}

/// What QEMU loads with `-kernel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Debian's ppc64el Linux with xtask's busybox initramfs.
    Linux,
    /// The same kernel with the bigger initramfs that also holds kexec-tools and the
    /// kernel itself (`/boot/vmlinux`), for the kexec and kdump scenarios.
    LinuxKexec,
    /// The same kernel with the kvm initramfs: Debian's QEMU, the KVM modules, and the
    /// kernel and small initramfs again for the guests (`/boot`).
    LinuxKvm,
    /// The small initramfs plus Debian's ipmitool and the IPMI modules.
    LinuxIpmi,
    /// No `-kernel` at all: what the firmware does with nothing to boot.
    None,
    /// No `-kernel`: a PNOR image on the machine's flash (xtask/src/flashimg.rs), whose
    /// BOOTKERNEL and ROOTFS the firmware boots, or a corrupt one it must refuse.
    Flash(crate::flashimg::FlashImage),
    /// The small initramfs plus the nvme, virtio-blk and e1000e drivers, with those
    /// devices plugged into the PHBs as the rig says (xtask/src/pcirig.rs).
    LinuxPci(crate::pcirig::PciRig),
    /// The kexec initramfs with the pci one's drivers: kexec and kdump with the devices.
    LinuxPciKexec(crate::pcirig::PciRig),
    /// target/opal-conformance.elf, the bare-metal OPAL client; `append` carries its
    /// options (`conformance.require=...`, see tests/conformance/src/bootargs.rs).
    Conformance,
}

#[derive(Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub machine: Machine,
    pub smp: &'static str,
    /// QEMU `-m`.
    pub memory: &'static str,
    pub kernel: Kernel,
    pub append: &'static str,
    pub steps: &'static [Step],
    pub forbidden: &'static [&'static str],
    /// Seconds, for Opalite; doubled for another firmware (skiboot's smp 4 boots are slow).
    pub timeout: u64,
    /// The guest reboots on purpose: QEMU runs without `-no-reboot`.
    pub reboots: bool,
    /// Which Opalite image the scenario boots.
    pub image: Image,
}

/// The firmware image a scenario needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    /// target/opalite.lid, what users boot.
    Release,
    /// target/opalite-hmi-inject.lid: the test-only build that injects HMIs on demand
    /// (QEMU never raises one). Opalite only: skipped with `--firmware`.
    HmiInject,
}

impl Scenario {
    /// The steps that apply to Opalite (`other_firmware` false) or to another image.
    pub fn steps_for(&self, other_firmware: bool) -> Vec<Step> {
        self.steps
            .iter()
            .copied()
            .filter(|s| match s {
                Step::Expect(Only::Opalite, _)
                | Step::ExpectAll(Only::Opalite, _)
                | Step::Forbid(Only::Opalite, _) => !other_firmware,
                Step::Expect(Only::Other, _)
                | Step::ExpectAll(Only::Other, _)
                | Step::Forbid(Only::Other, _) => other_firmware,
                _ => true,
            })
            .collect()
    }

    pub fn timeout_for(&self, other_firmware: bool) -> u64 {
        if other_firmware {
            self.timeout * 2
        } else {
            self.timeout
        }
    }
}

/// What every Linux boot forbids, then the `extra` lines of a kind of scenario.
macro_rules! forbidden_in_linux_boots {
    ($($extra:literal),* $(,)?) => {
        &[
            "panicked at",
            "Unexpected exception",
            "Kernel panic",
            "Oops",
            "Called with bad token",
            // What Linux says when the firmware gives no message log or no async tokens.
            "ibm,opal-memcons property not found",
            "has no opal-msg-async-num",
            "OPALITE-SYMMAP-FAILED",
            $($extra),*
        ]
    };
}

const FORBIDDEN: &[&str] = forbidden_in_linux_boots!();

/// A firmware DEBUG line (level 7) belongs in the memory log only (skiboot prints them
/// on the console until it has read its log levels).
const DEBUG_ON_CONSOLE: Step = opalite_forbid(",7] ");

/// Linux 6.1's account of the processor at boot, as it is under skiboot: the two
/// `dt-cpu-ftrs` lines appear only when the firmware gives Linux
/// /cpus/ibm,powerpc-cpu-features (without it Linux uses its PVR table and other bits,
/// e.g. no DAWR1 on POWER10, which nested KVM needs), then `print_system_info`'s lines.
struct LinuxCpu {
    /// After "INIT: Starting kernel", before "Hardware name:".
    dt_cpu_ftrs: [Step; 2],
    /// After "Hardware name:", with more than one thread per core.
    cpu_features_smt: Step,
    /// The same with one thread per core: Linux then clears CPU_FTR_SMT (0x100000).
    cpu_features_one_thread: Step,
    /// After `cpu_features`.
    user_and_mmu_features: [Step; 2],
    /// `time_init`'s width of the decrementer, from the cpu nodes' `ibm,dec-bits`
    /// (32 bits without it).
    decrementer: Step,
}

/// After `mmu_features`: the firmware feature word. OPAL (0x10000000) and form-1
/// affinity (0x100000000), which Linux takes from /chosen/ibm,architecture-vec-5.
const FIRMWARE_FEATURES: Step = expect("firmware_features = 0x0000000110000000");

const LINUX_CPU_P9: LinuxCpu = LinuxCpu {
    dt_cpu_ftrs: [
        expect("dt-cpu-ftrs: setup for ISA 3000"),
        expect("dt-cpu-ftrs: final cpu/mmu features = 0x0001f86b8f5fb187 0x3c007041"),
    ],
    cpu_features_smt: expect("cpu_features      = 0x0001f86b8f5fb187"),
    cpu_features_one_thread: expect("cpu_features      = 0x0001f86b8f4fb187"),
    user_and_mmu_features: [
        expect("cpu_user_features = 0xdc0065c2 0xaef00000"),
        expect("mmu_features      = 0x3c007641"),
    ],
    decrementer: expect("time_init: 56 bit decrementer (max: 7fffffffffffff)"),
};

/// POWER10: ISA 3.1 and both DAWRs in cpu_features instead of POWER9's errata bits, and
/// ARCH_3_1 and MMA in the second user word.
const LINUX_CPU_P10: LinuxCpu = LinuxCpu {
    dt_cpu_ftrs: [
        expect("dt-cpu-ftrs: setup for ISA 3100"),
        expect("dt-cpu-ftrs: final cpu/mmu features = 0x000c00eb8f5fb187 0x3c007041"),
    ],
    cpu_features_smt: expect("cpu_features      = 0x000c00eb8f5fb187"),
    cpu_features_one_thread: expect("cpu_features      = 0x000c00eb8f4fb187"),
    user_and_mmu_features: [
        expect("cpu_user_features = 0xdc0065c2 0xaef60000"),
        expect("mmu_features      = 0x3c007641"),
    ],
    decrementer: expect("time_init: 56 bit decrementer (max: 7fffffffffffff)"),
};

/// A Linux boot to the busybox shell and power-off: Opalite's lines for the threads it
/// finds (`CPU: PIR ...`), Linux's view of the processor (`$cpu_features` says which
/// cpu_features line the topology gives), and how many CPUs /init sees.
macro_rules! boot {
    ($linux_cpu:expr, $cpu_features:ident, cpus $cpus:literal, pirs [$($pir:literal),+]
     $(, numa [$($numa:expr),+])?) => {
        &[
            DEBUG_ON_CONSOLE,
            opalite("OPALITE: Opalite"),
            $(opalite(concat!("CPU: PIR ", $pir)),)+
            expect("INIT: Starting kernel"),
            $linux_cpu.dt_cpu_ftrs[0],
            $linux_cpu.dt_cpu_ftrs[1],
            RADIX_PAGE_SIZES[0],
            RADIX_PAGE_SIZES[1],
            // Linux prints /ibm,opal/firmware/version here.
            opalite("Hardware name:*opal:opalite-"),
            other_fw("Hardware name:*opal:"),
            $linux_cpu.$cpu_features,
            $linux_cpu.user_and_mmu_features[0],
            $linux_cpu.user_and_mmu_features[1],
            FIRMWARE_FEATURES,
            $linux_cpu.decrementer,
            $($($numa,)+)?
            expect("OPALITE-USERSPACE-OK"),
            // /init's symbol_map_check: the map's opal_entry is the device tree's.
            expect("OPALITE-SYMMAP-OK opal_entry="),
            expect(concat!("OPALITE-CPUS=", $cpus, " ")),
            // /sys/firmware/opal/msglog: the whole boot log, DEBUG lines included.
            forbid("debug-lines=0"),
            opalite(concat!("OPALITE-MSGLOG present lines=* banner=1 cpu-lines=", $cpus, " ")),
            other_fw("OPALITE-MSGLOG present"),
            expect("reboot: Power down"),
        ]
    };
}

/// Linux's radix page sizes from the cpu nodes' `ibm,processor-radix-AP-encodings`
/// (without it: 4K and 64K only, and RAM mapped with 64 KiB pages, as under skiboot on
/// QEMU). All of these machines have 2 GiB, so the second GiB is one 1 GiB page.
const RADIX_PAGE_SIZES: [Step; 2] = [
    opalite("radix-mmu: Page sizes from device-tree:"),
    opalite("radix-mmu: Mapped 0x0000000040000000-0x0000000080000000 with 1.00 GiB pages"),
];

/// Linux's NUMA lines for one chip: one node with every CPU. Linux prints them only when
/// NUMA is on, i.e. when the firmware gives it the affinity properties
/// (`/ibm,opal/ibm,associativity-reference-points`, `ibm,associativity` on cpu and
/// memory nodes).
const NUMA_ONE_CHIP_SMP4: [Step; 2] = [
    expect("smp: Brought up 1 node, 4 CPUs"),
    expect("numa: Node 0 CPUs: 0-3"),
];

/// `-smp 4,cores=2,threads=2`.
const BOOT_SMP4_P9: &[Step] = boot!(LINUX_CPU_P9, cpu_features_smt, cpus "4",
    pirs ["0x0000", "0x0001", "0x0004", "0x0005"],
    numa [NUMA_ONE_CHIP_SMP4[0], NUMA_ONE_CHIP_SMP4[1]]);
const BOOT_SMP4_P10: &[Step] = boot!(LINUX_CPU_P10, cpu_features_smt, cpus "4",
    pirs ["0x0000", "0x0001", "0x0004", "0x0005"],
    numa [NUMA_ONE_CHIP_SMP4[0], NUMA_ONE_CHIP_SMP4[1]]);
/// `-smp 1`: one core of one thread.
const BOOT_SMP1_P9: &[Step] =
    boot!(LINUX_CPU_P9, cpu_features_one_thread, cpus "1", pirs ["0x0000"]);
const BOOT_SMP1_P10: &[Step] =
    boot!(LINUX_CPU_P10, cpu_features_one_thread, cpus "1", pirs ["0x0000"]);

/// Types a command at the shell: checks console input (OPAL_CONSOLE_READ) end to end.
const SHELL_ECHO: &[Step] = &[
    expect("OPALITE-SHELL-READY"),
    expect("opalite-sh# "),
    send("echo OPALITE-ECHO-$((6*7))\n"),
    expect("OPALITE-ECHO-42"),
    send("poweroff -f\n"),
    expect("reboot: Power down"),
];

/// `reboot full` from Linux (RESTART2 with "full", which busybox cannot send: our
/// `opalite-reboot2`) reaches the firmware as OPAL_CEC_REBOOT2 and the machine comes back
/// to a second shell.
const REBOOT2: &[Step] = &[
    DEBUG_ON_CONSOLE,
    expect("OPALITE-SHELL-READY"),
    expect("opalite-sh# "),
    send("opalite-reboot2 full\n"),
    forbid("Unsupported 'full' reboot"),
    forbid("Unable to issue 'full' reboot"),
    opalite("OPAL: OPAL_CEC_REBOOT2 type 2: full reboot"),
    opalite("OPALITE: Opalite"),
    expect("INIT: Starting kernel"),
    expect("OPALITE-SHELL-READY"),
    expect("opalite-sh# "),
    send("poweroff -f\n"),
    expect("reboot: Power down"),
];

/// Native XIVE: Linux picks the XIVE backend, and the console's interrupt (the UART's
/// SerIRQ through the PSI bridge, serviced by OPAL_HANDLE_INTERRUPT) fires when we type.
/// The awk sums a /proc/interrupts line over every CPU column.
const XIVE_NATIVE: &[Step] = &[
    expect("xive: Interrupt handling initialized with native backend"),
    expect("OPALITE-SHELL-READY"),
    expect("opalite-sh# "),
    send("echo OPALITE-ECHO-$((6*7))\n"),
    expect("OPALITE-ECHO-42"),
    send("awk '/XIVE-IRQ/ && /lpc-uart/ { s = 0; for (i = 2; $i ~ /^[0-9]+$/; i++) s += $i; print \"UART-IRQS-\" (s > 0 ? \"SEEN\" : \"NONE\") }' /proc/interrupts\n"),
    expect("UART-IRQS-SEEN"),
    send("awk '/hvc_console/ { s = 0; for (i = 2; $i ~ /^[0-9]+$/; i++) s += $i; print \"HVC-IRQS-\" (s > 0 ? \"SEEN\" : \"NONE\") }' /proc/interrupts\n"),
    expect("HVC-IRQS-SEEN"),
    send("poweroff -f\n"),
    expect("reboot: Power down"),
];

/// Two chips: two XIVE blocks reaching each other through forward VSDs, VP allocations
/// spanning both (block-group mode), a PSI bridge per chip; and, as under skiboot, one
/// NUMA node a chip, each with its memory, and the CPUs numbered by PIR, so chip 0 has
/// CPUs 0-3.
const BOOT_TWO_CHIPS: &[Step] = &[
    opalite("XIVE: 2 block(s), 8 threads"),
    expect("Initmem setup node 0 [mem 0x0000000000000000-0x000000003fffffff]"),
    expect("Initmem setup node 1 [mem 0x0000000040000000-0x000000007fffffff]"),
    expect("xive: Interrupt handling initialized with native backend"),
    expect("smp: Brought up 2 nodes, 8 CPUs"),
    expect("numa: Node 0 CPUs: 0-3"),
    expect("numa: Node 1 CPUs: 4-7"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-CPUS=8 "),
    expect("reboot: Power down"),
];

const POWEROFF: &str = "console=hvc0 opalite.test=poweroff";

/// The conformance payload's run: every case passes (a DEVIATION, an answer that matches
/// a documented skiboot departure from the spec, is accepted from another firmware but
/// not from Opalite), and the payload powers the machine off.
const CONFORMANCE: &[Step] = &[
    expect("opal-conformance "),
    expect("setup: "),
    expect("conformance: * passed, 0 failed,"),
    opalite(" 0 deviations,"),
];

/// The payload's options: the XIVE area must be there (absent tokens are a failure).
const CONFORMANCE_XIVE: &str = "conformance.require=xive";

pub const FORBIDDEN_PAYLOAD: &[&str] = &[
    "payload panic",
    "Unexpected exception",
    "Called with bad token",
    "OPAL_CEC_POWER_DOWN did not power",
];

/// The fuzz run calls absent tokens on purpose, which Opalite logs as bad tokens.
pub const FORBIDDEN_FUZZ: &[&str] = &[
    "payload panic",
    "Unexpected exception",
    "OPAL_CEC_POWER_DOWN did not power",
];

/// 100,000 random calls over the four threads, then a sanity re-run (tests/conformance
/// src/areas/fuzz.rs); the seed is the timebase and is printed.
const CONFORMANCE_FUZZ: &str = "conformance.only=fuzz conformance.fuzz=100000";

/// The fuzz run: 100,000 calls from every thread, then the payload's sanity re-run.
pub const FUZZ: &[Step] = &[
    expect("opal-conformance "),
    expect("fuzz: * calls, seed"),
    expect("conformance: 1 passed, 0 failed,"),
];

/// OPAL_CEC_REBOOT from the OS, then a second boot that must work like the first: the
/// payload's reboot bench mode calls it, finds its marker after the reset, and powers off.
const REBOOT: &[Step] = &[
    expect("BENCH reboot-first-entry-tb"),
    expect("BENCH reboot-entry-tb"),
    expect("BENCH poweroff-tb"),
];

/// What every kexec and kdump scenario forbids besides [`FORBIDDEN`]: a CPU that did
/// not come back (Linux 6.1 `__cpu_up`: "Processor N is stuck."), one that did not reach
/// OPAL before the jump (`pnv_kexec_wait_secondaries_down`), one that missed the crash IPI
/// (`crash_kexec_prepare_cpus`: "ERROR: N cpu(s) not responding", then the request for a
/// manual system reset), and our /init's own failure markers.
const FORBIDDEN_KEXEC: &[&str] = &[
    "panicked at",
    "Unexpected exception",
    "Kernel panic",
    "Oops",
    "Called with bad token",
    " is stuck.",
    "timed out waiting for cpu",
    "OPALITE-KEXEC-FAILED",
    "OPALITE-INITRD-FAILED",
];

/// The secondaries of `-smp 4,cores=2,threads=2` (PIRs 0x1, 0x4, 0x5; /init kexecs and
/// crashes on PIR 0, whatever Linux number the firmware's device tree gives it) parking in
/// OPAL_RETURN_CPU, in whatever order they get there.
const RETURNED_1_2_3: &[&str] = &[
    "CPU: PIR 0x0001 returned to OPAL",
    "CPU: PIR 0x0004 returned to OPAL",
    "CPU: PIR 0x0005 returned to OPAL",
];

/// The crash and panic NMIs Linux sends on powernv10 with OPAL_SIGNAL_SYSTEM_RESET, one
/// call per CPU from PIR 0: online CPUs in Linux's order, then (kdump) each offline one.
/// Linux's order follows the device tree, so only the set is checked.
const SRESET_1_2_3: &[&str] = &[
    "SRESET: PIR 0x0001 reset",
    "SRESET: PIR 0x0004 reset",
    "SRESET: PIR 0x0005 reset",
];

/// One `kexec -l` + `kexec -e` of the same kernel from PIR 0, and the second kernel's
/// checks: all four CPUs back online (OPAL_START_CPU after OPAL_RETURN_CPU), native XIVE
/// again (OPAL_XIVE_RESET and the XIVE setup after the first kernel's teardown).
const KEXEC: &[Step] = &[
    opalite("OPALITE: Opalite"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-KEXEC-GEN=0 CPUS=0-3"),
    expect("OPALITE-XIVE-NATIVE gen=0"),
    expect("OPALITE-KEXEC-LOADED gen=1 loaded=1"),
    opalite_all(RETURNED_1_2_3),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-KEXEC-GEN=1 CPUS=0-3"),
    expect("OPALITE-XIVE-NATIVE gen=1"),
    expect("OPALITE-KEXEC-DONE after 1"),
    expect("reboot: Power down"),
];

/// `opalite.kexec-count=N`: each kernel kexecs the next (generations 1..=N, listed in the
/// invocation), and every one must come up with all four CPUs and native XIVE.
macro_rules! kexec_loop {
    ($last:literal; $($gen:literal)+) => {
        &[
            opalite("OPALITE: Opalite"),
            expect("OPALITE-USERSPACE-OK"),
            expect("OPALITE-KEXEC-GEN=0 CPUS=0-3"),
            expect("OPALITE-XIVE-NATIVE gen=0"),
            $(
                expect(concat!("OPALITE-KEXEC-LOADED gen=", $gen, " loaded=1")),
                opalite_all(RETURNED_1_2_3),
                expect(concat!("OPALITE-KEXEC-GEN=", $gen, " CPUS=0-3")),
                expect(concat!("OPALITE-XIVE-NATIVE gen=", $gen)),
            )+
            expect(concat!("OPALITE-KEXEC-DONE after ", $last)),
            expect("reboot: Power down"),
        ]
    };
}

/// Ten kexecs in one QEMU run (op-test's kexec loop count).
const KEXEC_LOOP10: &[Step] = kexec_loop!(10; 1 2 3 4 5 6 7 8 9 10);

/// The kdump scenarios panic on purpose, so "Kernel panic" is only forbidden after that
/// panic's line (a `forbid` step): a second panic, in the capture kernel, fails. The
/// crashed kernel's own "Sending IPI to other CPUs" / "IPI complete" / "ERROR: N cpu(s)
/// not responding" never reach the console (printk is not flushed before the jump): the
/// capture kernel prints them from the old log buffer (`vmcore-dmesg`), where these
/// forbidden strings apply too.
macro_rules! forbidden_in_crash_boots {
    ($($extra:literal),* $(,)?) => {
        &[
            "panicked at",
            "Unexpected exception",
            "Oops",
            "Called with bad token",
            " is stuck.",
            "timed out waiting for cpu",
            "not responding",
            "Activate system reset",
            "OPALITE-INITRD-FAILED",
            "OPALITE-KDUMP-LOAD-FAILED",
            "OPALITE-KDUMP-NO-CRASH",
            "OPALITE-VMCORE missing",
            $($extra),*
        ]
    };
}

const FORBIDDEN_CRASH: &[&str] = forbidden_in_crash_boots!();

/// kdump with `crashkernel=512M` on PIR 0, some CPUs offline (the mode says which), as
/// Linux 6.1 does it on PowerNV (`crash_kexec_prepare_cpus`): NMI IPIs to the online
/// CPUs, then one to each present but offline CPU (`crash_wake_offline`); every one of
/// them parks in OPAL_RETURN_CPU; then the capture kernel boots on PIR 0 alone and reads
/// /proc/vmcore. powernv9 has no OPAL_SIGNAL_SYSTEM_RESET (doorbells instead).
const KDUMP_P9: &[Step] = &[
    opalite("OPALITE: Opalite"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-KDUMP-LOADED=1"),
    expect("OPALITE-KDUMP-CRASH online="),
    expect("Kernel panic - not syncing: sysrq triggered crash"),
    forbid("Kernel panic"),
    opalite_all(RETURNED_1_2_3),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-KDUMP-CAPTURE ONLINE=1 PIR=0"),
    expect("OPALITE-VMCORE size=* magic=ELF read=16MiB"),
    expect("OPALITE-OLD-DMESG: *Sending IPI to other CPUs"),
    expect("OPALITE-OLD-DMESG: *IPI complete"),
    expect("reboot: Power down"),
];

/// The same on powernv10, where Linux sends the crash NMIs with OPAL_SIGNAL_SYSTEM_RESET
/// to every other CPU, online (first) and offline alike: PIRs 0x1, 0x4, 0x5 with either
/// offline set (PIR 5; PIRs 4-5).
const KDUMP_P10: &[Step] = &[
    opalite("OPALITE: Opalite"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-KDUMP-LOADED=1"),
    expect("OPALITE-KDUMP-CRASH online="),
    expect("Kernel panic - not syncing: sysrq triggered crash"),
    forbid("Kernel panic"),
    opalite_all(SRESET_1_2_3),
    opalite_all(RETURNED_1_2_3),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-KDUMP-CAPTURE ONLINE=1 PIR=0"),
    expect("OPALITE-VMCORE size=* magic=ELF read=16MiB"),
    expect("OPALITE-OLD-DMESG: *Sending IPI to other CPUs"),
    expect("OPALITE-OLD-DMESG: *IPI complete"),
    expect("reboot: Power down"),
];

/// The HMI scenarios (the HMI-injection firmware): Linux's own HMI path runs end to end:
/// the injected HMI enters Linux's 0xE60 handler, which calls OPAL_HANDLE_HMI2, and its
/// opal-hmi driver prints the event it then reads with OPAL_GET_MSG. "Kernel panic" is
/// forbidden until the malfunction alert, whose fatal event must end in one.
const FORBIDDEN_HMI: &[&str] = &[
    "panicked at",
    "Unexpected exception",
    "Oops",
    "Called with bad token",
    "OPALITE-HMI-CPU-BAD",
    "OPALITE-HMI-NO-PANIC",
    "TB invalid",
    "timebase is invalid",
];

/// -smp 4,cores=2,threads=2 with PIR 5 offline: a core-wide timer-facility error on core 0
/// (PIRs 0 and 1 meet in the firmware's rendezvous, PIR 0 resynchronises the timebase)
/// and on core 1 (PIR 4 goes on without the offline PIR 5, which never comes); every
/// online CPU still runs and its timebase moves; PIR 5 stays offline and comes back
/// online fine; then a malfunction alert (a core checkstop) is fatal, as Linux treats it.
const HMI: &[Step] = &[
    opalite("OPALITE: Opalite"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-HMI-KICKS pinned=4"),
    expect("OPALITE-HMI-OFFLINE 3 (PIR 5)"),
    // The firmware's account comes first, then Linux's opal-hmi lines, one per thread.
    opalite("HMI: injected tfac-core on PIRs 0x0000-0x0001"),
    opalite("HMI: core of PIR 0x0000: timebase resynchronised by PIR 0x0000, 2 of 2 threads"),
    expect("Severe Hypervisor Maintenance interrupt [Recovered]"),
    expect("Error detail: Timer facility experienced an error"),
    expect("OPALITE-HMI-INJECTED tfac-core pir=0 events=2"),
    opalite("HMI: injected tfac-core on PIRs 0x0004-0x0005"),
    opalite("HMI: core of PIR 0x0004: PIR 0x0005 did not join"),
    opalite("HMI: core of PIR 0x0004: timebase resynchronised by PIR 0x0004, 1 of 2 threads"),
    expect("OPALITE-HMI-INJECTED tfac-core pir=4 events=1"),
    expect_all(&[
        "OPALITE-HMI-CPU-OK pir=0 tb-moves",
        "OPALITE-HMI-CPU-OK pir=1 tb-moves",
        "OPALITE-HMI-CPU-OK pir=4 tb-moves",
    ]),
    expect("OPALITE-HMI-STILL-OFFLINE 3"),
    expect("OPALITE-HMI-ONLINE-AGAIN pir=5"),
    // Linux stops the machine on a fatal event: OPAL_CEC_REBOOT2(PLATFORM_ERROR), then
    // panic() (which may or may not print before the reboot lands), and QEMU
    // (-no-reboot) exits on the reboot. A panic before this point leaves the steps
    // above unmet, so "Kernel panic" itself is not forbidden.
    expect("Fatal Hypervisor Maintenance interrupt [Not recovered]"),
    expect("Error detail: Malfunction Alert"),
    expect("[Unit: PC ] Logic core check stop"),
    expect("Hardware platform error: Unrecoverable HMI exception"),
    opalite("Reboot requested due to Platform error: Unrecoverable HMI exception"),
];

/// kdump-thread, then the HMI arrives in the capture kernel (PIR 0) while the crashed
/// kernel's other CPUs (PIRs 1, 4, 5) sit parked in OPAL: they are woken in the firmware,
/// join the rendezvous there and stay parked (the 2017 Linux bug was such a CPU running
/// the old kernel's memory); the capture kernel prints the events and reads the dump.
const HMI_KDUMP: &[Step] = &[
    opalite("OPALITE: Opalite"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-KDUMP-LOADED=1"),
    expect("Kernel panic - not syncing: sysrq triggered crash"),
    forbid("Kernel panic"),
    opalite_all(RETURNED_1_2_3),
    expect("OPALITE-KDUMP-CAPTURE ONLINE=1 PIR=0"),
    expect("OPALITE-HMI-KICKS pinned=1"),
    opalite("HMI: PIR 0x0001 handles it in the firmware (parked)"),
    opalite("HMI: core of PIR 0x0000: timebase resynchronised by PIR 0x0000, 2 of 2 threads"),
    expect("OPALITE-HMI-INJECTED tfac-core pir=0 events=2"),
    opalite_all(&[
        "HMI: PIR 0x0004 handles it in the firmware (parked)",
        "HMI: PIR 0x0005 handles it in the firmware (parked)",
    ]),
    opalite("HMI: core of PIR 0x0004: timebase resynchronised by PIR 0x0004, 2 of 2 threads"),
    expect("OPALITE-HMI-INJECTED tfac-core pir=4 events=2"),
    expect("OPALITE-HMI-CPU-OK pir=0 tb-moves"),
    expect("OPALITE-VMCORE size=* magic=ELF read=16MiB"),
    expect("reboot: Power down"),
];

/// op-test's per-core HMI causes (6 timer-facility errors, a recovered core error) on
/// every core of a two-chip powernv9, one after the other.
const HMI_CAUSES_2CHIPS: &[Step] = &[
    opalite("OPALITE: Opalite"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-HMI-KICKS pinned=8"),
    expect("OPALITE-HMI-CPU-OK pir=0 tb-moves"),
    expect("OPALITE-HMI-CAUSES injected=28 missed=0"),
    expect("reboot: Power down"),
];

/// IPMI from Linux (`opalite.test=ipmi`, the ipmi initramfs): Debian's ipmi_powernv finds
/// the BMC through OPAL_IPMI_SEND/RECV and the `/ibm,opal/ipmi` node, `ipmitool mc info`
/// and `sel time get` answer from QEMU's BMC (its device id 0x20, IPMI 2.0; its SEL clock
/// is the one the RTC was read from), and 1,000 requests from one ipmitool, while hwclock
/// reads and writes the RTC through the same BT, all get their own answer.
const IPMI: &[Step] = &[
    DEBUG_ON_CONSOLE,
    expect("OPALITE-USERSPACE-OK"),
    expect("Found new BMC"),
    expect("OPALITE-IPMI-DEV /dev/ipmi0"),
    expect("OPALITE-IPMI-MC-INFO Device ID : 32;IPMI Version : 2.0;"),
    expect("OPALITE-IPMI-SEL-TIME matches the RTC"),
    expect("OPALITE-IPMI-BATCH requests=1000 device-id=500 sel-time=500 errors=0 in * s, rtc reads=* writes=* failed=0"),
    expect("reboot: Power down"),
];

/// What the IPMI scenarios forbid: [`FORBIDDEN`]'s lines, the script's failures, and the
/// ipmi_powernv driver's complaints (a reply with no request, a failed probe).
const FORBIDDEN_IPMI: &[&str] = forbidden_in_linux_boots!(
    "OPALITE-IPMI-FAILED",
    "OPALITE-IPMI-SEL-TIME differs",
    "no current message",
    "ipmi-powernv: probe of",
);

/// Booting from flash (xtask/src/flashimg.rs's boot image, no `-kernel`): the firmware
/// loads BOOTKERNEL and ROOTFS and takes the bootargs from NVRAM; Linux reads and writes
/// the flash through /dev/mtd0 and leaves a token in NVRAM, reboots in the same QEMU
/// run, and finds the token again. The run's image copy is checked afterwards.
const FLASH_BOOT: &[Step] = &[
    DEBUG_ON_CONSOLE,
    opalite("FLASH: HIOMAP v2 negotiated: block size 4 KiB, flash 128 MiB, erase granule 4 KiB"),
    opalite("FLASH: Found system flash: 6 partitions, 128 MiB"),
    opalite("FLASH: loaded BOOTKERNEL: 45854832 bytes at 0x20000000"),
    opalite("FLASH: loaded ROOTFS: * bytes at 0x28000000"),
    opalite("INIT: bootargs from NVRAM: console=hvc0 opalite.test=flash"),
    expect("Kernel command line: console=hvc0 opalite.test=flash"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-MTD-OK table magic and VERSION read back"),
    expect("OPALITE-FLASH-WRITE-OK 4096 bytes at 0xa0000"),
    expect("OPALITE-NVRAM-WRITTEN opalite-nvram-ok"),
    // The second boot, same QEMU, same flash.
    opalite("FLASH: loaded BOOTKERNEL"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-NVRAM-READBACK-OK opalite-nvram-ok"),
    expect("reboot: Power down"),
];

const FORBIDDEN_FLASH: &[&str] = forbidden_in_linux_boots!("OPALITE-FLASH-FAILED");

const fn flash_boot(name: &'static str, machine: Machine) -> Scenario {
    Scenario {
        name,
        machine,
        smp: "2",
        memory: "2G",
        kernel: Kernel::Flash(crate::flashimg::FlashImage::Boot),
        append: "",
        steps: FLASH_BOOT,
        forbidden: FORBIDDEN_FLASH,
        timeout: 240,
        reboots: true,
        image: Image::Release,
    }
}

/// A corrupt flash: a plain message naming what is wrong, then nothing to boot (power
/// off after 5 s), never a hang.
const fn flash_corrupt(
    name: &'static str,
    image: crate::flashimg::FlashImage,
    steps: &'static [Step],
) -> Scenario {
    Scenario {
        name,
        machine: Machine::Powernv9,
        smp: "1",
        memory: "2G",
        kernel: Kernel::Flash(image),
        append: "",
        steps,
        forbidden: FORBIDDEN,
        timeout: 60,
        reboots: false,
        image: Image::Release,
    }
}

const FLASH_BAD_TOC: &[Step] = &[
    opalite("FLASH: no valid partition table (partition table header checksum is wrong (words XOR to 0x01000000)); using the raw device only"),
    opalite("INIT: nothing to boot: powering off in 5 s"),
    opalite("OPAL: Shutdown request type 0..."),
];
const FLASH_ECC_ERROR: &[Step] = &[
    opalite("FLASH: Found system flash: 4 partitions, 32 MiB"),
    opalite("FLASH: BOOTKERNEL does not load: uncorrectable ECC error at flash offset 0x102328"),
    opalite("INIT: nothing to boot: powering off in 5 s"),
    opalite("OPAL: Shutdown request type 0..."),
];
const FLASH_TRUNCATED: &[Step] = &[
    opalite("FLASH: HIOMAP v2 negotiated: block size 4 KiB, flash 16 MiB"),
    opalite("FLASH: no valid partition table (the table describes a 0x2000000-byte flash, the image has 0x1000000 bytes); using the raw device only"),
    opalite("INIT: nothing to boot: powering off in 5 s"),
    opalite("OPAL: Shutdown request type 0..."),
];

/// 100 reboots through OPAL_CEC_REBOOT in one QEMU run (the payload's reboot loop; the
/// 1,000-reboot run is `cargo xtask torture`): every cycle comes back, then the median
/// and the slowest.
const REBOOT_TORTURE_100: &[Step] = &[
    expect("TORTURE start: 100 reboots through OPAL_CEC_REBOOT"),
    expect("TORTURE reboot 100 of 100: "),
    expect("TORTURE reboots=100 median=* ms slowest=* ms (cycle *)"),
];

/// The 100-reboot torture on `machine`, 4 threads.
const fn reboot_torture_100(name: &'static str, machine: Machine) -> Scenario {
    Scenario {
        name,
        machine,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Conformance,
        append: "conformance.reboot-loop=100",
        steps: REBOOT_TORTURE_100,
        forbidden: FORBIDDEN_PAYLOAD,
        timeout: 240,
        reboots: true,
        image: Image::Release,
    }
}

/// A fuzz seed that once failed, replayed with the calls and topology it failed with
/// (`cargo xtask fuzz` prints how to add one): the payload must pass as any fuzz run.
const fn fuzz_regression(
    name: &'static str,
    machine: Machine,
    smp: &'static str,
    append: &'static str,
) -> Scenario {
    Scenario {
        name,
        machine,
        smp,
        memory: "2G",
        kernel: Kernel::Conformance,
        append,
        steps: FUZZ,
        forbidden: FORBIDDEN_FUZZ,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    }
}

/// POWER8 is not supported yet: Opalite says so on the UART (through XSCOM's ECCB, P8's
/// only way to LPC) and powers off through the BMC, so QEMU exits by itself.
const UNSUPPORTED_POWER8: &[Step] = &[opalite(
    "OPALITE: Opalite does not support POWER8 yet (QEMU powernv8): use -M powernv9 or -M powernv10. Powering off.",
)];

/// No `-kernel`: the firmware says there is nothing to boot and powers off after 5 s
/// (a key would keep it on; checked by hand, since the run then never ends).
const NOTHING_TO_BOOT: &[Step] = &[
    // QEMU with no flash drive presents 128 MiB of 0xFF: an empty flash.
    opalite("FLASH: HIOMAP v2 negotiated: block size 4 KiB, flash 128 MiB"),
    opalite("FLASH: no valid partition table (no partition table: the flash reads as all 0xFF); using the raw device only"),
    opalite("OPALITE: no bootable kernel at 0x20000000: EntryIsZeros"),
    opalite("INIT: nothing to boot: powering off in 5 s (press a key to stay on)"),
    opalite("OPAL: Shutdown request type 0..."),
];

/// The injection build's boot-time machine-check self-test (`opalite.mce-selftest`): one
/// load from an address nothing answers, with MSR[ME] on, reaches the firmware's 0x200
/// vector; the report decodes QEMU's SRR1/DSISR and says where the thread was; for the
/// test only the load then returns -1 and Linux boots as usual. "Unexpected exception"
/// is the report's own header here, so it is not forbidden.
const MCE_SELFTEST: &[Step] = &[
    opalite(
        "OPALITE: machine check (load/store): load real address error at 0x10000000000 (severe)",
    ),
    opalite("Unexpected exception 0x200 on PIR 0x0 (at boot)"),
    opalite("self-test: machine check taken true, load returned 0xffffffffffffffff, boot goes on"),
    expect("OPALITE-USERSPACE-OK"),
    expect("reboot: Power down"),
];

const FORBIDDEN_MCE_SELFTEST: &[&str] = &["panicked at", "Kernel panic", "Oops", "halted"];

/// sysrq-l asks every online CPU for a backtrace (Linux: one "safe" NMI IPI at a time,
/// a doorbell, never OPAL_SIGNAL_SYSTEM_RESET), then a panic with no capture kernel:
/// `smp_send_stop` stops the other CPUs with the "unsafe" NMI IPI, which on powernv10
/// is OPAL_SIGNAL_SYSTEM_RESET for each online CPU; `panic=-1` then reboots at once and
/// QEMU (`-no-reboot`) exits.
const NMI: &[Step] = &[
    opalite("OPALITE: Opalite"),
    expect("OPALITE-USERSPACE-OK"),
    expect("OPALITE-NMI CPUS=0-3"),
    // The CPU that handles the sysrq (PIR 0) prints first, then the others by number.
    expect_all(&[
        "NMI backtrace for cpu 0",
        "NMI backtrace for cpu 1",
        "NMI backtrace for cpu 2",
        "NMI backtrace for cpu 3",
    ]),
    expect("OPALITE-NMI-BACKTRACES=4"),
    expect("Kernel panic - not syncing: sysrq triggered crash"),
    forbid("Kernel panic"),
    opalite_all(SRESET_1_2_3),
];

const FORBIDDEN_NMI: &[&str] = &[
    "panicked at",
    "Unexpected exception",
    "Oops",
    "Called with bad token",
    "didn't respond to backtrace IPI",
    "OPALITE-NMI-NO-CRASH",
];

/// What the KVM scenarios forbid besides [`FORBIDDEN`]: trouble in a guest (its console
/// and its QEMU's stderr are on ours, each line prefixed `[L2 guest N IC]`, so an error
/// or warning of the guest's QEMU shows as `] qemu-system-ppc64: `, while L1's own QEMU
/// warns at the start of a line), the L1 script's failure marker, and any XIVE error
/// line from the firmware (Opalite's `log::error!` and skiboot's `prerror` both print
/// level 3 as `[time,3] XIVE...`).
const FORBIDDEN_KVM: &[&str] = &[
    "panicked at",
    "Unexpected exception",
    "Kernel panic",
    "Oops",
    "Called with bad token",
    "BUG:",
    "kernel BUG",
    "list_del corruption",
    "list_add corruption",
    // L1 stuck (seen once on Opalite: a thread looping in __replay_soft_interrupts from
    // a guest's power-off on, 111 s), before the soft lockup's "BUG:" two minutes later.
    "Hard LOCKUP",
    "rcu_sched detected stalls",
    "opalite-kvm: FAILED",
    "] qemu-system-ppc64: ",
    ",3] XIVE",
];

/// The steps of a kvm run (`opalite.test=kvm`): modules loaded, then per guest, in the
/// order of the `opalite.kvm=` plan, its number, interrupt controller (as the plan and
/// the markers spell it), the controller the guest sees, and its migrations' numbers.
/// Each guest boots to its first tick, gets saved and restored, counts to the end and
/// powers off.
macro_rules! kvm_plan {
    ($( $n:literal $ic:literal $chip:literal [$($m:literal)*] );+) => {
        &[
            opalite("OPALITE: Opalite"),
            expect("opalite-kvm: L1 up"),
            expect("opalite-kvm: modules ok"),
            $(
                expect(concat!("[L2 guest ", $n, " ", $ic, "] opalite-guest: up, 2 cpus, interrupts ", $chip)),
                expect(concat!("opalite-kvm: guest ", $n, " ", $ic, " boot ok")),
                $(
                    expect(concat!("opalite-kvm: guest ", $n, " ", $ic, " migrate ", $m, " save")),
                    expect(concat!("opalite-kvm: guest ", $n, " ", $ic, " migrate ", $m, " ok")),
                )*
                expect(concat!("opalite-kvm: guest ", $n, " ", $ic, " end ok")),
            )+
            expect("opalite-kvm: all guests done"),
            expect("reboot: Power down"),
        ]
    };
}

/// CI's KVM run: a XIVE-native guest saved and restored once, then an XICS-on-XIVE one.
const KVM_SHORT_PLAN: &str = "console=hvc0 opalite.test=kvm opalite.kvm=xive:1,xics:0";
const KVM_SHORT: &[Step] = kvm_plan!(1 "xive" "XIVE" [1]; 2 "xics" "XICS" []);

/// The sequence that once found guest memory corruption after a restore (1 run in 8):
/// in one L1 boot, a XIVE guest, an XICS guest, then a XIVE guest and an XICS guest
/// each saved and restored three times in a row.
const KVM_LONG_PLAN: &str = "console=hvc0 opalite.test=kvm opalite.kvm=xive:0,xics:0,xive:3,xics:3";
const KVM_LONG: &[Step] = kvm_plan!(
    1 "xive" "XIVE" [];
    2 "xics" "XICS" [];
    3 "xive" "XIVE" [1 2 3];
    4 "xics" "XICS" [1 2 3]
);

/// Scenarios `cargo xtask test` runs only when a `--filter` names them: the 10-kexec loop
/// (two minutes, and ten chances to meet Linux's kexec copy checkstop, which a single
/// retry does not cover), and the long KVM runs (each is minutes of nested TCG; they are
/// for `--repeat`; CI runs the short form on powernv9 and powernv10).
/// `cargo xtask test --filter kexec-loop10` runs the first.
pub const ON_DEMAND: &[&str] = &[
    "kexec-loop10-powernv9-smp4",
    "kvm-long-powernv9-smp2",
    "kvm-long-powernv10-smp2",
];

/// A PCI scenario's steps: each `PCI` in the list stands for the pci mode's checks
/// (init.sh `pci_mode`): both disks read the host's bytes and keep a written sector,
/// eth0 gets QEMU's DHCP lease, MSIs are delivered.
macro_rules! pci_steps {
    (@acc [$($done:expr,)*]) => { &[$($done,)*] };
    (@acc [$($done:expr,)*] PCI, $($rest:tt)*) => {
        pci_steps!(@acc [
            $($done,)*
            expect("OPALITE-PCI-DRIVERS-LOADED"),
            expect("OPALITE-PCI-MD5-OK nvme0n1"),
            expect("OPALITE-PCI-WRITE-OK nvme0n1"),
            expect("OPALITE-PCI-MD5-OK vda"),
            expect("OPALITE-PCI-WRITE-OK vda"),
            expect("OPALITE-PCI-LINK-UP eth0"),
            expect("OPALITE-PCI-DHCP-LEASE 10.0.2.15 from 10.0.2.2"),
            expect("OPALITE-PCI-MSI-GROWING"),
        ] $($rest)*)
    };
    (@acc [$($done:expr,)*] $next:expr, $($rest:tt)*) => {
        pci_steps!(@acc [$($done,)* $next,] $($rest)*)
    };
    ($($items:tt)*) => { pci_steps!(@acc [] $($items)*) };
}

/// One device per PHB: nvme behind PHB 0, virtio-blk behind 1, e1000e behind 2, and the
/// six root ports (IBM 1014: 04c1 on POWER9, 0652 on POWER10).
const PCI_ONE_PER_PHB: &[Step] = pci_steps!(
    DEBUG_ON_CONSOLE,
    opalite("PHB#0000[0:0]: up, link up, 1 device function(s)"),
    opalite("PHB#0005[0:5]: up, link down"),
    expect_all(&[
        "0000:00:00.0=0x1014:0x",
        "0000:01:00.0=0x1b36:0x0010",
        "0001:01:00.0=0x1af4:0x1042",
        "0002:01:00.0=0x8086:0x10d3",
        "0005:00:00.0=0x1014:0x",
    ]),
    PCI,
    expect("reboot: Power down"),
);

/// The same with `iommu=nobypass`: every DMA goes through the TCE tables.
const PCI_NOBYPASS: &[Step] = pci_steps!(
    DEBUG_ON_CONSOLE,
    forbid("Enabling 64-bit DMA bypass"),
    expect("PowerNV: IOMMU bypass window disabled"),
    expect("Setting up 32-bit TCE table at 0..80000000"),
    expect_all(&[
        "0000:01:00.0=0x1b36:0x0010",
        "0001:01:00.0=0x1af4:0x1042",
        "0002:01:00.0=0x8086:0x10d3",
    ]),
    PCI,
    expect("reboot: Power down"),
);

/// nvme on PHB 0, and a switch on PHB 3 (upstream port 104c:8232 on bus 1, downstream
/// ports 104c:8233 on bus 2) with virtio-blk on bus 3 and e1000e on bus 4.
const PCI_SWITCH: &[Step] = pci_steps!(
    DEBUG_ON_CONSOLE,
    opalite("PHB#0003[0:3]: up, link up, 5 device function(s)"),
    expect_all(&[
        "0000:01:00.0=0x1b36:0x0010",
        "0003:01:00.0=0x104c:0x8232",
        "0003:02:00.0=0x104c:0x8233",
        "0003:02:01.0=0x104c:0x8233",
        "0003:03:00.0=0x1af4:0x1042",
        "0003:04:00.0=0x8086:0x10d3",
    ]),
    PCI,
    expect("reboot: Power down"),
);

/// Two chips, the devices on the second chip's PHBs 0-2 (OPAL ids, and Linux's PCI
/// domains, 6-8).
const PCI_SECOND_CHIP: &[Step] = pci_steps!(
    DEBUG_ON_CONSOLE,
    opalite_all(&[
        "PHB#0006[1:0]: up, link up, 1 device function(s)",
        "PHB#0007[1:1]: up, link up, 1 device function(s)",
        "PHB#0008[1:2]: up, link up, 1 device function(s)",
    ]),
    expect_all(&[
        "0006:01:00.0=0x1b36:0x0010",
        "0007:01:00.0=0x1af4:0x1042",
        "0008:01:00.0=0x8086:0x10d3",
    ]),
    PCI,
    expect("reboot: Power down"),
);

/// What the PCI scenarios forbid: the script's failures, an EEH freeze Linux noticed,
/// a PHB the firmware left out, and a DMA Linux saw fail.
const FORBIDDEN_PCI: &[&str] = forbidden_in_linux_boots!(
    "OPALITE-PCI-FAILED",
    "EEH: Frozen",
    "EEH: PHB#",
    "]: left out:",
    "DMA error",
    "timeout, aborting",
);

/// kexec with the devices in use: Linux's shutdown resets each PHB's IODA tables, and
/// the second kernel finds and uses every device again.
const PCI_KEXEC: &[Step] = pci_steps!(
    DEBUG_ON_CONSOLE,
    opalite("PHB#0000[0:0]: up, link up, 1 device function(s)"),
    expect("OPALITE-KEXEC-GEN=0 CPUS=0-3"),
    PCI,
    expect("OPALITE-KEXEC-LOADED gen=1 loaded=1"),
    expect("OPALITE-KEXEC-GEN=1 CPUS=0-3"),
    PCI,
    expect("OPALITE-KEXEC-DONE after 1"),
    expect("reboot: Power down"),
);

/// kdump with the devices in use: the capture kernel (`reset_devices`) gives each PHB a
/// complete reset, polled, and then uses every device again.
const PCI_KDUMP: &[Step] = pci_steps!(
    DEBUG_ON_CONSOLE,
    opalite("PHB#0000[0:0]: up, link up, 1 device function(s)"),
    PCI,
    expect("OPALITE-KDUMP-LOADED=1"),
    expect("OPALITE-KDUMP-CRASH online="),
    expect("Kernel panic - not syncing: sysrq triggered crash"),
    forbid("Kernel panic"),
    // Linux's capture kernel: OPAL_PCI_RESET(complete), OPAL_PCI_POLL until done.
    expect("Issue PHB reset ..."),
    expect("OPALITE-KDUMP-CAPTURE ONLINE=1 PIR=0"),
    PCI,
    expect("OPALITE-VMCORE size=* magic=ELF read=16MiB"),
    expect("reboot: Power down"),
);

/// What the PCI kexec and kdump scenarios forbid: the crash scenarios' lines (CPUs that
/// did not come back) and the PCI scenarios'.
const FORBIDDEN_PCI_KEXEC: &[&str] = forbidden_in_crash_boots!(
    "OPALITE-KEXEC-FAILED",
    "OPALITE-PCI-FAILED",
    "EEH: Frozen",
    "]: left out:",
    "XIVE: refused",
);

const PCI_KEXEC_APPEND: &str = "console=hvc0 opalite.test=kexec opalite.pci=1";
const PCI_KDUMP_APPEND: &str =
    "console=hvc0 opalite.test=kdump-thread opalite.pci=1 crashkernel=512M";

/// A PCI kexec or kdump scenario: the kexec scenarios' four threads (PIR 5 offline for
/// kdump), the pci-kexec initramfs, one device per PHB.
const fn pci_kexec(
    name: &'static str,
    machine: Machine,
    append: &'static str,
    steps: &'static [Step],
) -> Scenario {
    Scenario {
        name,
        machine,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxPciKexec(crate::pcirig::PciRig::OnePerPhb),
        append,
        steps,
        forbidden: FORBIDDEN_PCI_KEXEC,
        timeout: 300,
        reboots: false,
        image: Image::Release,
    }
}

/// A PCI scenario: two threads, the pci initramfs, devices as `rig` places them.
const fn pci(
    name: &'static str,
    machine: Machine,
    smp: &'static str,
    rig: crate::pcirig::PciRig,
    append: &'static str,
    steps: &'static [Step],
) -> Scenario {
    Scenario {
        name,
        machine,
        smp,
        memory: "2G",
        kernel: Kernel::LinuxPci(rig),
        append,
        steps,
        forbidden: FORBIDDEN_PCI,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    }
}

/// An IPMI scenario on `machine`: two threads, so the RTC traffic and ipmitool run side by
/// side.
const fn ipmi(name: &'static str, machine: Machine) -> Scenario {
    Scenario {
        name,
        machine,
        smp: "2",
        memory: "2G",
        kernel: Kernel::LinuxIpmi,
        append: "console=hvc0 opalite.test=ipmi",
        steps: IPMI,
        forbidden: FORBIDDEN_IPMI,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    }
}

/// A KVM scenario: the L1 shape KVM needs (one core of two threads, 4 GiB for the host
/// and its guests), the kvm initramfs, and a plan with its steps.
const fn kvm(
    name: &'static str,
    machine: Machine,
    append: &'static str,
    steps: &'static [Step],
    timeout: u64,
) -> Scenario {
    Scenario {
        name,
        machine,
        smp: "2,cores=1,threads=2",
        memory: "4G",
        kernel: Kernel::LinuxKvm,
        append,
        steps,
        forbidden: FORBIDDEN_KVM,
        timeout,
        reboots: false,
        image: Image::Release,
    }
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "boot-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: POWEROFF,
        steps: BOOT_SMP4_P9,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "boot-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: POWEROFF,
        steps: BOOT_SMP4_P10,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "boot-powernv9-smp1",
        machine: Machine::Powernv9,
        smp: "1",
        memory: "2G",
        kernel: Kernel::Linux,
        append: POWEROFF,
        steps: BOOT_SMP1_P9,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "boot-powernv10-smp1",
        machine: Machine::Powernv10,
        smp: "1",
        memory: "2G",
        kernel: Kernel::Linux,
        append: POWEROFF,
        steps: BOOT_SMP1_P10,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "shell-echo-powernv9-smp1",
        machine: Machine::Powernv9,
        smp: "1",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=shell-echo",
        steps: SHELL_ECHO,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "reboot2-powernv10-smp1",
        machine: Machine::Powernv10,
        smp: "1",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=shell-echo",
        steps: REBOOT2,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: true,
        image: Image::Release,
    },
    reboot_torture_100("reboot-torture100-powernv9-smp4", Machine::Powernv9),
    reboot_torture_100("reboot-torture100-powernv10-smp4", Machine::Powernv10),
    // Issue 13: the bounds check that wrapped (`set_len` wrote to 0xffff_ffff_ffff_fff8).
    fuzz_regression(
        "fuzz-seed-0x321e070-powernv10-smp4",
        Machine::Powernv10,
        "4,cores=2,threads=2",
        "conformance.require=xive conformance.only=fuzz conformance.fuzz=300000 conformance.seed=0x321e070",
    ),
    Scenario {
        name: "unsupported-powernv8",
        machine: Machine::Powernv8,
        smp: "1",
        memory: "1G",
        kernel: Kernel::None,
        append: "",
        steps: UNSUPPORTED_POWER8,
        forbidden: FORBIDDEN,
        timeout: 60,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "nothing-to-boot-powernv10-smp1",
        machine: Machine::Powernv10,
        smp: "1",
        memory: "2G",
        kernel: Kernel::None,
        append: "",
        steps: NOTHING_TO_BOOT,
        forbidden: FORBIDDEN,
        timeout: 60,
        reboots: false,
        image: Image::Release,
    },
    flash_boot("flash-boot-powernv9-smp2", Machine::Powernv9),
    flash_boot("flash-boot-powernv10-smp2", Machine::Powernv10),
    flash_corrupt(
        "flash-bad-toc-powernv9-smp1",
        crate::flashimg::FlashImage::BadToc,
        FLASH_BAD_TOC,
    ),
    flash_corrupt(
        "flash-ecc-error-powernv9-smp1",
        crate::flashimg::FlashImage::EccError,
        FLASH_ECC_ERROR,
    ),
    flash_corrupt(
        "flash-truncated-powernv9-smp1",
        crate::flashimg::FlashImage::Truncated,
        FLASH_TRUNCATED,
    ),
    ipmi("ipmi-powernv9-smp2", Machine::Powernv9),
    ipmi("ipmi-powernv10-smp2", Machine::Powernv10),
    pci(
        "pci-powernv9-smp2",
        Machine::Powernv9,
        "2",
        crate::pcirig::PciRig::OnePerPhb,
        "console=hvc0 opalite.test=pci",
        PCI_ONE_PER_PHB,
    ),
    pci(
        "pci-powernv10-smp2",
        Machine::Powernv10,
        "2",
        crate::pcirig::PciRig::OnePerPhb,
        "console=hvc0 opalite.test=pci",
        PCI_ONE_PER_PHB,
    ),
    pci(
        "pci-nobypass-powernv9-smp2",
        Machine::Powernv9,
        "2",
        crate::pcirig::PciRig::OnePerPhb,
        "console=hvc0 opalite.test=pci iommu=nobypass",
        PCI_NOBYPASS,
    ),
    pci(
        "pci-nobypass-powernv10-smp2",
        Machine::Powernv10,
        "2",
        crate::pcirig::PciRig::OnePerPhb,
        "console=hvc0 opalite.test=pci iommu=nobypass",
        PCI_NOBYPASS,
    ),
    pci(
        "pci-switch-powernv9-smp2",
        Machine::Powernv9,
        "2",
        crate::pcirig::PciRig::Switch,
        "console=hvc0 opalite.test=pci",
        PCI_SWITCH,
    ),
    pci(
        "pci-switch-powernv10-smp2",
        Machine::Powernv10,
        "2",
        crate::pcirig::PciRig::Switch,
        "console=hvc0 opalite.test=pci",
        PCI_SWITCH,
    ),
    pci_kexec("pci-kexec-powernv9-smp4", Machine::Powernv9, PCI_KEXEC_APPEND, PCI_KEXEC),
    pci_kexec("pci-kexec-powernv10-smp4", Machine::Powernv10, PCI_KEXEC_APPEND, PCI_KEXEC),
    pci_kexec("pci-kdump-powernv9-smp4", Machine::Powernv9, PCI_KDUMP_APPEND, PCI_KDUMP),
    pci_kexec("pci-kdump-powernv10-smp4", Machine::Powernv10, PCI_KDUMP_APPEND, PCI_KDUMP),
    pci(
        "pci-powernv9-2chips-smp4",
        Machine::Powernv9,
        "4,sockets=2,cores=1,threads=2",
        crate::pcirig::PciRig::SecondChip,
        "console=hvc0 opalite.test=pci",
        PCI_SECOND_CHIP,
    ),
    Scenario {
        name: "boot-powernv9-2chips-smp8",
        machine: Machine::Powernv9,
        smp: "8,sockets=2,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: POWEROFF,
        steps: BOOT_TWO_CHIPS,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "xive-native-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=shell-echo",
        steps: XIVE_NATIVE,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "xive-native-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=shell-echo",
        steps: XIVE_NATIVE,
        forbidden: FORBIDDEN,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    // XIVE from a real OS-side caller; includes exhausting a chip's ~1 Mi IPIs, which
    // skiboot's allocator does in about a minute under QEMU.
    Scenario {
        name: "conformance-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Conformance,
        append: CONFORMANCE_XIVE,
        steps: CONFORMANCE,
        forbidden: FORBIDDEN_PAYLOAD,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "conformance-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Conformance,
        append: CONFORMANCE_XIVE,
        steps: CONFORMANCE,
        forbidden: FORBIDDEN_PAYLOAD,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "reboot-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Conformance,
        append: "conformance.bench-reboot",
        steps: REBOOT,
        forbidden: FORBIDDEN_PAYLOAD,
        timeout: 120,
        reboots: true,
        image: Image::Release,
    },
    Scenario {
        name: "conformance-fuzz-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Conformance,
        append: CONFORMANCE_FUZZ,
        steps: FUZZ,
        forbidden: FORBIDDEN_FUZZ,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "conformance-fuzz-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Conformance,
        append: CONFORMANCE_FUZZ,
        steps: FUZZ,
        forbidden: FORBIDDEN_FUZZ,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "kexec-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=kexec",
        steps: KEXEC,
        forbidden: FORBIDDEN_KEXEC,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "kexec-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=kexec",
        steps: KEXEC,
        forbidden: FORBIDDEN_KEXEC,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "kexec-loop10-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=kexec opalite.kexec-count=10",
        steps: KEXEC_LOOP10,
        forbidden: FORBIDDEN_KEXEC,
        timeout: 600,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "hmi-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=hmi panic=-1",
        steps: HMI,
        forbidden: FORBIDDEN_HMI,
        timeout: 180,
        reboots: false,
        image: Image::HmiInject,
    },
    Scenario {
        name: "hmi-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=hmi panic=-1",
        steps: HMI,
        forbidden: FORBIDDEN_HMI,
        timeout: 180,
        reboots: false,
        image: Image::HmiInject,
    },
    Scenario {
        name: "hmi-kdump-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=hmi-kdump crashkernel=512M",
        steps: HMI_KDUMP,
        forbidden: FORBIDDEN_HMI,
        timeout: 240,
        reboots: false,
        image: Image::HmiInject,
    },
    Scenario {
        name: "hmi-kdump-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=hmi-kdump crashkernel=512M",
        steps: HMI_KDUMP,
        forbidden: FORBIDDEN_HMI,
        timeout: 240,
        reboots: false,
        image: Image::HmiInject,
    },
    Scenario {
        name: "mce-selftest-powernv9-smp1",
        machine: Machine::Powernv9,
        smp: "1",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=poweroff opalite.mce-selftest",
        steps: MCE_SELFTEST,
        forbidden: FORBIDDEN_MCE_SELFTEST,
        timeout: 120,
        reboots: false,
        image: Image::HmiInject,
    },
    Scenario {
        name: "mce-selftest-powernv10-smp1",
        machine: Machine::Powernv10,
        smp: "1",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=poweroff opalite.mce-selftest",
        steps: MCE_SELFTEST,
        forbidden: FORBIDDEN_MCE_SELFTEST,
        timeout: 120,
        reboots: false,
        image: Image::HmiInject,
    },
    Scenario {
        name: "hmi-causes-powernv9-2chips-smp8",
        machine: Machine::Powernv9,
        smp: "8,sockets=2,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=hmi-causes",
        steps: HMI_CAUSES_2CHIPS,
        forbidden: FORBIDDEN_HMI,
        timeout: 240,
        reboots: false,
        image: Image::HmiInject,
    },
    Scenario {
        name: "kdump-thread-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=kdump-thread crashkernel=512M",
        steps: KDUMP_P9,
        forbidden: FORBIDDEN_CRASH,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "kdump-core-powernv9-smp4",
        machine: Machine::Powernv9,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=kdump-core crashkernel=512M",
        steps: KDUMP_P9,
        forbidden: FORBIDDEN_CRASH,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "kdump-thread-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=kdump-thread crashkernel=512M",
        steps: KDUMP_P10,
        forbidden: FORBIDDEN_CRASH,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "kdump-core-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::LinuxKexec,
        append: "console=hvc0 opalite.test=kdump-core crashkernel=512M",
        steps: KDUMP_P10,
        forbidden: FORBIDDEN_CRASH,
        timeout: 240,
        reboots: false,
        image: Image::Release,
    },
    Scenario {
        name: "nmi-powernv10-smp4",
        machine: Machine::Powernv10,
        smp: "4,cores=2,threads=2",
        memory: "2G",
        kernel: Kernel::Linux,
        append: "console=hvc0 opalite.test=nmi panic=-1",
        steps: NMI,
        forbidden: FORBIDDEN_NMI,
        timeout: 120,
        reboots: false,
        image: Image::Release,
    },
    kvm(
        "kvm-powernv9-smp2",
        Machine::Powernv9,
        KVM_SHORT_PLAN,
        KVM_SHORT,
        900,
    ),
    kvm(
        "kvm-powernv10-smp2",
        Machine::Powernv10,
        KVM_SHORT_PLAN,
        KVM_SHORT,
        900,
    ),
    kvm(
        "kvm-long-powernv9-smp2",
        Machine::Powernv9,
        KVM_LONG_PLAN,
        KVM_LONG,
        2400,
    ),
    kvm(
        "kvm-long-powernv10-smp2",
        Machine::Powernv10,
        KVM_LONG_PLAN,
        KVM_LONG,
        2400,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Smp;

    #[test]
    fn names_are_unique_and_smp_values_parse() {
        for (i, s) in SCENARIOS.iter().enumerate() {
            assert!(
                SCENARIOS[..i].iter().all(|t| t.name != s.name),
                "{}",
                s.name
            );
            Smp::parse(s.smp).unwrap();
        }
    }

    #[test]
    fn opalite_only_steps_are_skipped_for_other_firmware() {
        let s = &SCENARIOS[0];
        let ours = s.steps_for(false);
        let theirs = s.steps_for(true);
        assert!(ours.contains(&opalite("CPU: PIR 0x0005")));
        assert!(!theirs.contains(&opalite("CPU: PIR 0x0005")));
        assert!(theirs.contains(&other_fw("Hardware name:*opal:")));
        assert!(!ours.contains(&other_fw("Hardware name:*opal:")));
        assert_eq!(theirs.last(), Some(&expect("reboot: Power down")));
        assert_eq!(s.timeout_for(true), 2 * s.timeout_for(false));
    }

    #[test]
    fn conformance_scenarios_require_xive_and_no_deviation_from_opalite() {
        let runs: Vec<&Scenario> = SCENARIOS
            .iter()
            .filter(|s| {
                s.kernel == Kernel::Conformance
                    && s.name.starts_with("conformance-")
                    && !s.name.contains("fuzz")
            })
            .collect();
        assert_eq!(runs.len(), 2);
        let fuzz = SCENARIOS
            .iter()
            .find(|s| s.name == "conformance-fuzz-powernv9-smp4")
            .unwrap();
        assert!(fuzz.append.contains("conformance.fuzz=100000"));
        for s in runs {
            assert_eq!(s.smp, "4,cores=2,threads=2");
            assert!(s.append.contains("conformance.require=xive"));
            assert!(s.steps_for(false).contains(&opalite(" 0 deviations,")));
            assert!(!s.steps_for(true).contains(&opalite(", 0 deviations,")));
            assert!(s
                .steps_for(true)
                .contains(&expect("conformance: * passed, 0 failed,")));
        }
    }

    #[test]
    fn boots_check_linux_numa_nodes_on_every_firmware() {
        let cases: [(&str, &[&str]); 3] = [
            ("boot-powernv9-smp4", &["numa: Node 0 CPUs: 0-3"]),
            ("boot-powernv10-smp4", &["numa: Node 0 CPUs: 0-3"]),
            (
                "boot-powernv9-2chips-smp8",
                &["numa: Node 0 CPUs: 0-3", "numa: Node 1 CPUs: 4-7"],
            ),
        ];
        for (name, lines) in cases {
            let s = named(name);
            for other_firmware in [false, true] {
                let steps = s.steps_for(other_firmware);
                for line in lines {
                    assert!(steps.contains(&expect(line)), "{name}: {line}");
                }
            }
        }
    }

    #[test]
    fn linux_boots_check_the_cpu_features_of_their_machine() {
        let single_chip_boots = [
            "boot-powernv9-smp1",
            "boot-powernv9-smp4",
            "boot-powernv10-smp1",
            "boot-powernv10-smp4",
        ];
        for s in single_chip_boots.map(named) {
            let (isa, other) = match s.machine {
                Machine::Powernv9 => ("3000", "3100"),
                Machine::Powernv10 => ("3100", "3000"),
                Machine::Powernv8 => continue,
            };
            for other_firmware in [false, true] {
                let steps = s.steps_for(other_firmware);
                let has = |text: &str| {
                    steps
                        .iter()
                        .any(|step| matches!(step, Step::Expect(Only::Any, t) if *t == text))
                };
                assert!(
                    has(&format!("dt-cpu-ftrs: setup for ISA {isa}")),
                    "{}",
                    s.name
                );
                assert!(
                    !has(&format!("dt-cpu-ftrs: setup for ISA {other}")),
                    "{}",
                    s.name
                );
                let features = |prefix: &str| {
                    steps.iter().any(|step| {
                        matches!(step, Step::Expect(Only::Any, text) if text.starts_with(prefix))
                    })
                };
                assert!(features("cpu_features      = 0x"), "{}", s.name);
                assert!(features("cpu_user_features = 0x"), "{}", s.name);
                assert!(features("mmu_features      = 0x"), "{}", s.name);
                // skiboot's firmware feature word and decrementer, in the order Linux
                // prints them (steps match in sequence).
                let at = |text: &str| {
                    steps
                        .iter()
                        .position(|step| matches!(step, Step::Expect(Only::Any, t) if *t == text))
                        .unwrap_or_else(|| panic!("{}: no step {text:?}", s.name))
                };
                let mmu = steps
                    .iter()
                    .position(|step| {
                        matches!(step, Step::Expect(Only::Any, t) if t.starts_with("mmu_features"))
                    })
                    .unwrap();
                let firmware = at("firmware_features = 0x0000000110000000");
                let decrementer = at("time_init: 56 bit decrementer (max: 7fffffffffffff)");
                let userspace = at("OPALITE-USERSPACE-OK");
                assert!(mmu < firmware && firmware < decrementer, "{}", s.name);
                assert!(decrementer < userspace, "{}", s.name);
            }
        }
    }

    #[test]
    fn smp1_expects_one_cpu() {
        let s = SCENARIOS
            .iter()
            .find(|s| s.name == "boot-powernv9-smp1")
            .unwrap();
        assert!(s.steps.contains(&expect("OPALITE-CPUS=1 ")));
        assert!(!s.steps.contains(&opalite("CPU: PIR 0x0001")));
    }

    fn named(name: &str) -> &'static Scenario {
        SCENARIOS.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn kexec_and_kdump_use_the_kexec_initramfs_on_two_cores_of_two_threads() {
        let runs: Vec<&Scenario> = SCENARIOS
            .iter()
            .filter(|s| s.name.starts_with("kexec-") || s.name.starts_with("kdump-"))
            .collect();
        assert_eq!(runs.len(), 7);
        for s in runs {
            assert_eq!(s.kernel, Kernel::LinuxKexec, "{}", s.name);
            // The PIRs and cpu numbers in the steps assume this topology.
            assert_eq!(s.smp, "4,cores=2,threads=2", "{}", s.name);
            for f in [" is stuck.", "timed out waiting for cpu", "Oops"] {
                assert!(s.forbidden.contains(&f), "{}: {f}", s.name);
            }
            let returned = Step::ExpectAll(Only::Opalite, RETURNED_1_2_3);
            assert!(s.steps.contains(&returned), "{}", s.name);
            assert!(!s.steps_for(true).contains(&returned), "{}", s.name);
        }
    }

    #[test]
    fn only_the_hmi_scenarios_boot_the_injection_build() {
        let hmi: Vec<&str> = SCENARIOS
            .iter()
            .filter(|s| s.image == Image::HmiInject)
            .map(|s| s.name)
            .collect();
        assert_eq!(
            hmi,
            [
                "hmi-powernv9-smp4",
                "hmi-powernv10-smp4",
                "hmi-kdump-powernv9-smp4",
                "hmi-kdump-powernv10-smp4",
                "mce-selftest-powernv9-smp1",
                "mce-selftest-powernv10-smp1",
                "hmi-causes-powernv9-2chips-smp8",
            ]
        );
        for s in SCENARIOS
            .iter()
            .filter(|s| s.image == Image::HmiInject && s.name.starts_with("hmi-"))
        {
            // A panic is what the malfunction alert must end in, never before.
            assert!(!s.forbidden.contains(&"Kernel panic"), "{}", s.name);
            assert!(s.forbidden.contains(&"OPALITE-HMI-CPU-BAD"), "{}", s.name);
            assert!(!ON_DEMAND.contains(&s.name), "{} runs in CI", s.name);
            if s.name.contains("kdump") {
                assert_eq!(s.kernel, Kernel::LinuxKexec, "{}", s.name);
            }
        }
    }

    #[test]
    fn kdump_forbids_a_panic_only_after_the_intended_one() {
        for name in [
            "kdump-thread-powernv9-smp4",
            "kdump-core-powernv9-smp4",
            "kdump-thread-powernv10-smp4",
            "kdump-core-powernv10-smp4",
            "nmi-powernv10-smp4",
        ] {
            let s = named(name);
            assert!(!s.forbidden.contains(&"Kernel panic"), "{name}");
            let panic = s
                .steps
                .iter()
                .position(|&t| t == expect("Kernel panic - not syncing: sysrq triggered crash"))
                .unwrap();
            assert_eq!(s.steps[panic + 1], forbid("Kernel panic"), "{name}");
            if name.starts_with("kdump-") {
                assert!(s.append.contains("crashkernel=512M"), "{name}");
                assert!(s.forbidden.contains(&"not responding"), "{name}");
                assert_eq!(
                    s.steps.last(),
                    Some(&expect("reboot: Power down")),
                    "{name}"
                );
            }
        }
        // A panic is not expected at all in the plain kexec runs.
        assert!(named("kexec-powernv9-smp4")
            .forbidden
            .contains(&"Kernel panic"));
    }

    #[test]
    fn system_resets_are_expected_from_opalite_on_powernv10_only() {
        let resets = |steps: &[Step]| -> Vec<Step> {
            steps
                .iter()
                .copied()
                .filter(|t| match t {
                    Step::Expect(_, p) => p.contains("SRESET"),
                    Step::ExpectAll(_, ps) => ps.iter().any(|p| p.contains("SRESET")),
                    _ => false,
                })
                .collect()
        };
        let p10 = [opalite_all(&[
            "SRESET: PIR 0x0001 reset",
            "SRESET: PIR 0x0004 reset",
            "SRESET: PIR 0x0005 reset",
        ])];
        for name in [
            "kdump-thread-powernv10-smp4",
            "kdump-core-powernv10-smp4",
            "nmi-powernv10-smp4",
        ] {
            assert_eq!(resets(named(name).steps), p10, "{name}");
            assert!(resets(&named(name).steps_for(true)).is_empty(), "{name}");
        }
        for name in ["kdump-thread-powernv9-smp4", "kdump-core-powernv9-smp4"] {
            assert!(resets(named(name).steps).is_empty(), "{name}");
        }
    }

    /// The `opalite.kvm=` plan of a scenario: (interrupt controller, migrations) per guest.
    fn kvm_plan_of(s: &Scenario) -> Vec<(&str, usize)> {
        let plan = s
            .append
            .split_whitespace()
            .find_map(|w| w.strip_prefix("opalite.kvm="))
            .unwrap_or_else(|| panic!("{}: no opalite.kvm=", s.name));
        plan.split(',')
            .map(|g| {
                let (ic, m) = g.split_once(':').unwrap();
                (ic, m.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn kvm_steps_follow_the_plan_init_runs() {
        let runs: Vec<&Scenario> = SCENARIOS
            .iter()
            .filter(|s| s.kernel == Kernel::LinuxKvm)
            .collect();
        assert_eq!(runs.len(), 4);
        for s in runs {
            // The L1 QEMU of the user's report; its guests each get -m 512M.
            assert_eq!(
                (s.smp, s.memory),
                ("2,cores=1,threads=2", "4G"),
                "{}",
                s.name
            );
            for f in [
                "list_del corruption",
                "kernel BUG",
                "opalite-kvm: FAILED",
                ",3] XIVE",
            ] {
                assert!(s.forbidden.contains(&f), "{}: {f}", s.name);
            }
            let marker = |n: usize, ic: &str, what: &str| {
                expect(Box::leak(
                    format!("opalite-kvm: guest {n} {ic} {what}").into_boxed_str(),
                ))
            };
            let mut want = Vec::new();
            for (i, (ic, migrations)) in kvm_plan_of(s).into_iter().enumerate() {
                assert!(ic == "xive" || ic == "xics", "{}: {ic}", s.name);
                let n = i + 1;
                want.push(marker(n, ic, "boot ok"));
                for m in 1..=migrations {
                    want.push(marker(n, ic, &format!("migrate {m} save")));
                    want.push(marker(n, ic, &format!("migrate {m} ok")));
                }
                want.push(marker(n, ic, "end ok"));
            }
            let got: Vec<Step> = s
                .steps
                .iter()
                .copied()
                .filter(|t| matches!(t, Step::Expect(_, p) if p.starts_with("opalite-kvm: guest ")))
                .collect();
            assert_eq!(got, want, "{}", s.name);
        }
        // CI's runs save and restore a XIVE guest and boot an XICS one on both machines; the
        // long form has the three restores in a row of each kind, and waits for --filter.
        assert_eq!(
            kvm_plan_of(named("kvm-powernv9-smp2")),
            [("xive", 1), ("xics", 0)]
        );
        assert!(!ON_DEMAND.contains(&"kvm-powernv9-smp2"));
        assert!(!ON_DEMAND.contains(&"kvm-powernv10-smp2"));
        let long = kvm_plan_of(named("kvm-long-powernv9-smp2"));
        assert_eq!(long, [("xive", 0), ("xics", 0), ("xive", 3), ("xics", 3)]);
        for name in ["kvm-long-powernv9-smp2", "kvm-long-powernv10-smp2"] {
            assert!(ON_DEMAND.contains(&name), "{name}");
        }
    }

    #[test]
    fn kexec_loop_walks_ten_generations() {
        let s = named("kexec-loop10-powernv9-smp4");
        assert!(s.append.contains("opalite.kexec-count=10"));
        for gen in 0..=10 {
            let line = format!("OPALITE-KEXEC-GEN={gen} CPUS=0-3");
            assert!(
                s.steps
                    .iter()
                    .any(|t| matches!(t, Step::Expect(Only::Any, p) if *p == line)),
                "generation {gen}"
            );
        }
        let groups = s
            .steps
            .iter()
            .filter(|t| matches!(t, Step::ExpectAll(..)))
            .count();
        assert_eq!(groups, 10);
        assert_eq!(
            s.steps.iter().rev().nth(1),
            Some(&expect("OPALITE-KEXEC-DONE after 10"))
        );
    }
}
