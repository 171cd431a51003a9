// SPDX-License-Identifier: Apache-2.0
//! Are we under Mambo? skiboot's answer, which we keep: the device tree has a `/mambo`
//! node (`core/chip.c`, `platforms/mambo/mambo.c`). The simulator's own tree has it and
//! `tests/mambo/boot.tcl` adds it when missing; the root `compatible` is only
//! `ibm,powernv` there, so it cannot tell. Nothing else may execute a callthru: on any
//! other machine the instruction is illegal.

/// Whether the root node's children, by node name, include `mambo`. A name with a unit
/// address (`mambo@0`) counts too: a path without one matches either, as in a DT path.
pub fn is_mambo<'a>(root_child_names: impl IntoIterator<Item = &'a str>) -> bool {
    root_child_names
        .into_iter()
        .any(|name| name.split('@').next() == Some("mambo"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mambo_node_at_the_root_is_mambo() {
        assert!(is_mambo(["cpus", "memory@0", "mambo", "chosen"]));
        assert!(is_mambo(["mambo@0"]));
    }

    #[test]
    fn anything_else_is_not() {
        assert!(!is_mambo([]));
        assert!(!is_mambo(["cpus", "xscom@603fc00000000", "qemu"]));
        assert!(!is_mambo(["mambo-chip", "ibm,mambo", "mamb"]));
    }
}
