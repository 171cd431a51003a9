// SPDX-License-Identifier: Apache-2.0
//! The machines Opalite knows, each described by what it has: how the console is
//! reached, how the firmware talks to the BMC, how it reads the flash, how it powers off
//! and reboots, and, plainly, what Opalite is missing to run there. One image serves
//! them all: [`probe`] picks the board at run time from the device tree, as skiboot's
//! `core/platform.c` does from `platforms/*` (`images-boards-mambo.md` §4).
//!
//! One module per machine: [`qemu`] (powernv8/9/10), [`mambo`], [`talos`], [`blackbird`],
//! [`rainier`], and [`generic`] for anything else. A board is data, not code: probing has
//! no side effects, and what a board implies for the firmware is checked by the tests at
//! the bottom of this file.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// What every hostboot-started POWER9 OpenPOWER machine needs that Opalite lacks, then
/// the board's own gaps.
macro_rules! missing_on_hostboot_p9 {
    [$($board_only:expr),*] => {
        &[
            "HDAT parsing: hostboot hands over HDAT (SPIRA) structures, not a flattened \
             device tree, and Opalite only reads a device tree",
            "the PNOR through HIOMAP is only shown against QEMU's BMC and a host model \
             (small moving windows, BMC events): never against OpenBMC's hiomapd, and \
             the BMC's HIOMAP event (an OEM SEL) is not read",
            "PCIe: no PHB initialisation and no slot table",
            "OCC and power management, sensors, SEL/eSEL logging, the BMC's watchdog",
            "the hostboot hand-off (payload entry, memory reservations) was never run",
            $($board_only),*
        ]
    };
}

pub mod blackbird;
pub mod generic;
pub mod mambo;
pub mod qemu;
pub mod rainier;
pub mod talos;

pub use self::mambo::MAMBO;
pub use generic::GENERIC;
pub use qemu::{QEMU_POWERNV10, QEMU_POWERNV8, QEMU_POWERNV9};

/// The LPC I/O port of the console UART on AST BMC machines (and QEMU's).
pub const LPC_UART_IO_PORT: u16 = 0x3f8;
/// The LPC I/O port of the IPMI BT interface on AST BMC machines (and QEMU's).
pub const IPMI_BT_IO_PORT: u16 = 0xe4;

/// How a board is recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The root node's `compatible` has one of these strings.
    RootCompatible(&'static [&'static str]),
    /// The root node has a `mambo` child ([`::mambo::is_mambo`]); the simulator's root
    /// `compatible` is only `ibm,powernv`.
    MamboNode,
    /// Nothing more specific matched.
    Fallback,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processor {
    Power8,
    Power9,
    Power10,
    /// Whatever the simulator models.
    Any,
}

/// Where the firmware's console goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    /// A 16550 on LPC I/O. The firmware uses the port the device tree's `ns16550` node
    /// names; this is the port the machine has it at.
    LpcUart16550 { io_port: u16 },
    /// Mambo's callthru console (`::mambo::CallthruConsole`).
    MamboCallthru,
}

/// How the firmware talks to the BMC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bmc {
    /// IPMI over the BT interface on LPC I/O (AST2400/2500 BMCs; QEMU's `isa-ipmi-bt`).
    IpmiBt { io_port: u16 },
    /// PLDM over MCTP to an eBMC (IBM's POWER10 systems). Opalite has no PLDM.
    PldmOverMctp,
    /// No BMC (simulators).
    None,
}

/// A way to reach the firmware flash (PNOR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashAccess {
    /// The BMC maps flash windows into LPC firmware space on request (IPMI OEM 0x3A/0x5A).
    HiomapOverIpmi,
    /// QEMU maps the whole PNOR into LPC firmware space, readable without asking the BMC.
    QemuLpcFirmwareSpace,
    /// The simulator's bogus disk 0, given as `ROOTDISK` (`::mambo::BogusDisk`).
    MamboBogusDisk,
}

/// How the machine powers off or reboots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerControl {
    /// IPMI Chassis Control (netfn 0, cmd 2): 0 power down, 3 hard reset.
    IpmiChassisControl,
    /// Callthru 31 (`::mambo::exit::exit`): the simulation stops.
    MamboExit,
    /// The machine has no way the firmware knows; the OPAL call answers UNSUPPORTED.
    Unsupported,
}

/// How far Opalite gets on the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Boots Linux, shown by `cargo xtask test`.
    Tested,
    /// The firmware has the parts, but no run has shown it boots.
    Untested,
    /// Recognised and reported by name, and that is all: see `missing`.
    NotSupported,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Board {
    pub name: &'static str,
    pub identity: Identity,
    pub processor: Processor,
    pub console: Console,
    pub bmc: Bmc,
    /// Ways to the flash, preferred first; empty when there is none.
    pub flash: &'static [FlashAccess],
    pub power_off: PowerControl,
    pub reboot: PowerControl,
    pub support: Support,
    /// Which machine this is; [`Board::missing`] goes through it.
    pub machine: Machine,
}

/// The machines, one per board. The prose about each ([`Machine::missing`]) lives
/// outside the `Board` statics, so the firmware image carries it only if it prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    QemuPowernv8,
    QemuPowernv9,
    QemuPowernv10,
    Mambo,
    TalosII,
    Blackbird,
    Rainier,
    Generic,
}

impl Machine {
    /// What Opalite lacks for this machine, in plain words.
    pub fn missing(self) -> &'static [&'static str] {
        match self {
            Machine::QemuPowernv8 => qemu::MISSING_QEMU_POWERNV8,
            Machine::QemuPowernv9 | Machine::QemuPowernv10 => qemu::MISSING_ON_QEMU,
            Machine::Mambo => self::mambo::MISSING_MAMBO,
            Machine::TalosII => talos::MISSING_TALOS_II,
            Machine::Blackbird => blackbird::MISSING_BLACKBIRD,
            Machine::Rainier => rainier::MISSING_RAINIER,
            Machine::Generic => generic::MISSING_GENERIC,
        }
    }
}

impl Board {
    /// What Opalite lacks for this machine, in plain words.
    pub fn missing(&self) -> &'static [&'static str] {
        self.machine.missing()
    }

    /// Whether the cores' direct controls (the XSCOM sreset that `OPAL_SIGNAL_SYSTEM_RESET`
    /// uses) work: QEMU models them on powernv10 only; Mambo resets threads through TCL,
    /// which Opalite does not do; real POWER9/POWER10 chips have them.
    pub fn has_direct_controls(&self) -> bool {
        match self.machine {
            Machine::QemuPowernv8 | Machine::QemuPowernv9 | Machine::Mambo => false,
            Machine::QemuPowernv10
            | Machine::TalosII
            | Machine::Blackbird
            | Machine::Rainier
            | Machine::Generic => true,
        }
    }

    /// Whether the device tree's root describes this board. `root_compatible` is the root
    /// node's `compatible` strings, `root_children` its child node names.
    pub fn matches(
        &self,
        root_compatible: &[impl AsRef<str>],
        root_children: &[impl AsRef<str>],
    ) -> bool {
        match self.identity {
            Identity::RootCompatible(strings) => root_compatible
                .iter()
                .any(|c| strings.contains(&c.as_ref())),
            Identity::MamboNode => ::mambo::is_mambo(root_children.iter().map(AsRef::as_ref)),
            Identity::Fallback => true,
        }
    }
}

/// Probe order. The sets of machines they match do not overlap (tested), so the order
/// only decides which test runs first; Mambo comes first because its test is a node,
/// which nothing else has.
pub static BOARDS: &[&Board] = &[
    &MAMBO,
    &QEMU_POWERNV8,
    &QEMU_POWERNV9,
    &QEMU_POWERNV10,
    &talos::TALOS_II,
    &blackbird::BLACKBIRD,
    &rainier::RAINIER,
];

/// The board the device tree's root describes, or [`GENERIC`].
pub fn probe(
    root_compatible: &[impl AsRef<str>],
    root_children: &[impl AsRef<str>],
) -> &'static Board {
    BOARDS
        .iter()
        .copied()
        .find(|b| b.matches(root_compatible, root_children))
        .unwrap_or(&GENERIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_controls_follow_what_qemu_models() {
        assert!(QEMU_POWERNV10.has_direct_controls());
        assert!(!QEMU_POWERNV9.has_direct_controls());
        assert!(!MAMBO.has_direct_controls());
    }

    const NONE: [&str; 0] = [];
    /// Root children of a QEMU powernv tree.
    const QEMU_ROOT: [&str; 5] = ["cpus", "memory@0", "chosen", "xscom@603fc00000000", "qemu"];

    fn all_boards() -> impl Iterator<Item = &'static Board> {
        BOARDS.iter().copied().chain([&GENERIC])
    }

    #[test]
    fn qemu_machines_are_recognised() {
        for (compatible, board) in [
            ("qemu,powernv8", &QEMU_POWERNV8),
            ("qemu,powernv9", &QEMU_POWERNV9),
            ("qemu,powernv10", &QEMU_POWERNV10),
        ] {
            assert_eq!(probe(&[compatible, "ibm,powernv"], &QEMU_ROOT), board);
        }
    }

    #[test]
    fn mambo_is_the_node_not_the_compatible() {
        let root = ["cpus", "memory@0", "mambo", "chosen"];
        assert_eq!(probe(&["ibm,powernv"], &root), &MAMBO);
        assert_eq!(probe(&["ibm,powernv"], &QEMU_ROOT), &GENERIC);
        assert_eq!(
            probe(&["ibm,mambo"], &NONE),
            &GENERIC,
            "no compatible says Mambo"
        );
    }

    #[test]
    fn raptor_and_ibm_boards_are_recognised() {
        assert_eq!(
            probe(&["rcs,talos", "ibm,powernv"], &NONE),
            &talos::TALOS_II
        );
        assert_eq!(
            probe(&["rcs,blackbird", "ibm,powernv"], &NONE),
            &blackbird::BLACKBIRD
        );
        for variant in [
            "ibm,rainier",
            "ibm,rainier-2s2u",
            "ibm,rainier-2s4u",
            "ibm,rainier-1s4u",
        ] {
            assert_eq!(
                probe(&[variant, "ibm,powernv"], &NONE),
                &rainier::RAINIER,
                "{variant}"
            );
        }
    }

    #[test]
    fn unknown_machines_fall_back_to_generic() {
        assert_eq!(probe(&["ibm,witherspoon", "ibm,powernv"], &NONE), &GENERIC);
        assert_eq!(probe(&NONE, &NONE), &GENERIC);
        assert_eq!(
            probe(&[String::from("qemu,powernv11")], &[String::from("qemu")]),
            &GENERIC
        );
    }

    /// Every board is chosen by its own identity, and no other board claims the same
    /// machine: probe order never decides.
    #[test]
    fn each_board_is_the_only_match_for_its_identity() {
        for board in BOARDS {
            let samples: &[(&[&str], &[&str])] = match board.identity {
                Identity::RootCompatible(strings) => &[(strings, &["cpus"])],
                Identity::MamboNode => &[(&["ibm,powernv"], &["cpus", "mambo"])],
                Identity::Fallback => panic!("{}: the fallback is not in BOARDS", board.name),
            };
            for (compatible, children) in samples {
                for one in compatible.iter() {
                    let claims: Vec<&str> = BOARDS
                        .iter()
                        .filter(|b| b.matches(&[*one], children))
                        .map(|b| b.name)
                        .collect();
                    assert_eq!(claims, [board.name], "`{one}` with {children:?}");
                    assert_eq!(probe(&[*one], children), *board);
                }
            }
        }
    }

    /// A callthru is an illegal instruction anywhere but under Mambo.
    #[test]
    fn only_the_mambo_node_board_uses_callthrus() {
        for board in all_boards() {
            let callthru = board.console == Console::MamboCallthru
                || board.flash.contains(&FlashAccess::MamboBogusDisk)
                || board.power_off == PowerControl::MamboExit
                || board.reboot == PowerControl::MamboExit;
            assert_eq!(
                callthru,
                board.identity == Identity::MamboNode,
                "{}",
                board.name
            );
        }
    }

    #[test]
    fn ipmi_uses_have_an_ipmi_bmc() {
        for board in all_boards() {
            let needs_ipmi = board.flash.contains(&FlashAccess::HiomapOverIpmi)
                || board.power_off == PowerControl::IpmiChassisControl
                || board.reboot == PowerControl::IpmiChassisControl;
            if needs_ipmi {
                assert!(matches!(board.bmc, Bmc::IpmiBt { .. }), "{}", board.name);
            }
        }
    }

    #[test]
    fn direct_firmware_space_reads_are_qemus_and_only_a_fallback() {
        for board in all_boards() {
            if let Some(at) = board
                .flash
                .iter()
                .position(|f| *f == FlashAccess::QemuLpcFirmwareSpace)
            {
                assert!(board.name.starts_with("QEMU"), "{}", board.name);
                assert!(at > 0, "{}: HIOMAP comes first", board.name);
            }
        }
    }

    #[test]
    fn what_is_not_tested_says_what_is_missing() {
        for board in all_boards() {
            if board.support != Support::Tested {
                assert!(!board.missing().is_empty(), "{}", board.name);
            }
            assert!(
                board.missing().iter().all(|m| !m.trim().is_empty()),
                "{}",
                board.name
            );
        }
    }

    #[test]
    fn names_and_machines_are_unique() {
        let boards: Vec<&Board> = all_boards().collect();
        for (i, board) in boards.iter().enumerate() {
            for later in &boards[i + 1..] {
                assert_ne!(board.name, later.name);
                assert_ne!(
                    board.machine, later.machine,
                    "{} and {}",
                    board.name, later.name
                );
            }
        }
    }
}
