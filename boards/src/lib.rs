// SPDX-License-Identifier: Apache-2.0
//! Boards Opalite knows, chosen at run time from the device tree's root `compatible`, as
//! skiboot's `platforms/*` probes do (`qemu/qemu.c`, `mambo/mambo.c`). One image serves
//! them all; a board says what the machine around the processor offers.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// How the firmware talks to the BMC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bmc {
    /// IPMI over the BT interface on LPC I/O (QEMU's `isa-ipmi-bt`, AST BMCs).
    IpmiBt,
    /// No BMC (simulators).
    None,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Board {
    pub name: &'static str,
    /// Root `compatible` strings that select this board (any one of them).
    pub compatible: &'static [&'static str],
    pub bmc: Bmc,
}

pub static QEMU_POWERNV8: Board = Board {
    name: "QEMU powernv8",
    compatible: &["qemu,powernv8"],
    bmc: Bmc::IpmiBt,
};
pub static QEMU_POWERNV9: Board = Board {
    name: "QEMU powernv9",
    compatible: &["qemu,powernv9"],
    bmc: Bmc::IpmiBt,
};
pub static QEMU_POWERNV10: Board = Board {
    name: "QEMU powernv10",
    compatible: &["qemu,powernv10"],
    bmc: Bmc::IpmiBt,
};
pub static MAMBO: Board = Board {
    name: "Mambo",
    compatible: &["ibm,mambo"],
    bmc: Bmc::None,
};
/// Any PowerNV machine nothing more specific matched.
pub static GENERIC: Board = Board {
    name: "generic PowerNV",
    compatible: &["ibm,powernv"],
    bmc: Bmc::IpmiBt,
};

/// Probe order: the first board whose compatible matches wins, then `GENERIC`.
pub static BOARDS: &[&Board] = &[&QEMU_POWERNV8, &QEMU_POWERNV9, &QEMU_POWERNV10, &MAMBO];

pub fn probe<S: AsRef<str>>(root_compatible: &[S]) -> &'static Board {
    BOARDS
        .iter()
        .copied()
        .find(|b| {
            root_compatible
                .iter()
                .any(|c| b.compatible.contains(&c.as_ref()))
        })
        .unwrap_or(&GENERIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_machines_are_recognised() {
        assert_eq!(
            probe(&["qemu,powernv9", "ibm,powernv"]).name,
            "QEMU powernv9"
        );
        assert_eq!(
            probe(&["qemu,powernv10", "ibm,powernv"]).name,
            "QEMU powernv10"
        );
        assert_eq!(
            probe(&["qemu,powernv8", "ibm,powernv"]).name,
            "QEMU powernv8"
        );
    }

    #[test]
    fn unknown_machines_fall_back_to_generic() {
        assert_eq!(probe(&["rcs,talos", "ibm,powernv"]), &GENERIC);
        assert_eq!(probe::<&str>(&[]), &GENERIC);
        assert_eq!(probe(&["ibm,mambo"]).bmc, Bmc::None);
    }
}
