// SPDX-License-Identifier: Apache-2.0
//! Cross-checks against dtc, the reference device-tree compiler: dtc must accept what we
//! write, we must read what dtc writes, and both blobs must decompile to the same source.
//! When `dtc` is not installed each test prints a SKIPPED line and passes.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{edited_tree, qemu_powernv9_blob};
use devtree::{MemReserve, Tree};

/// Runs `dtc` with `args`, feeding `input` on stdin. `None` if dtc is not installed.
fn dtc(args: &[&str], input: &[u8]) -> Option<(Vec<u8>, String)> {
    let spawned = Command::new("dtc")
        .args(args)
        .arg("-") // read stdin
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => panic!("cannot run dtc: {error}"),
    };
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "dtc {args:?} failed: {stderr}");
    Some((output.stdout, stderr))
}

fn skipped(test: &str) {
    println!("SKIPPED {test} (dtc not found)");
}

#[test]
fn dtc_decompiles_our_output_and_our_edits_add_no_warnings() {
    let blob = edited_tree().to_dtb().unwrap();
    let Some((source, warnings)) = dtc(&["-I", "dtb", "-O", "dts"], &blob) else {
        return skipped("dtc_decompiles_our_output_and_our_edits_add_no_warnings");
    };
    let source = String::from_utf8(source).unwrap();
    // QEMU's own tree draws a simple_bus_reg warning for lpc@0 (no reg under a simple-bus);
    // the fixture copies that, so only warnings the input does not have count.
    let (_, input_warnings) = dtc(&["-I", "dtb", "-O", "dts"], &qemu_powernv9_blob()).unwrap();
    let new_warnings: Vec<&str> = warnings
        .lines()
        .filter(|line| !input_warnings.lines().any(|old| old == *line))
        // dtc prefers `stdout-path`, but hvc_opal and skiboot use `linux,stdout-path`
        // (boot contract §2.1), so that warning is expected too.
        .filter(|line| !line.contains("(chosen_node_stdout_path)"))
        .collect();
    assert!(
        new_warnings.is_empty(),
        "new dtc warnings: {new_warnings:#?}"
    );
    for expected in [
        "/memreserve/\t0x0000000028000000 0x0000000000100000;",
        "/memreserve/\t0x0000000030000000 0x0000000000600000;",
        "linux,stdout-path = \"/ibm,opal/consoles/serial@0\";",
        "compatible = \"ns16550\\0pnpPNP,501\";",
        "status = \"reserved\";",
        "opal-base-address = <0x00 0x30000000>;",
        "ibm,firmware-code@30000000 {",
        "ranges;",
    ] {
        assert!(
            source.contains(expected),
            "missing {expected:?} in:\n{source}"
        );
    }
}

#[test]
fn we_read_dtc_output_and_agree_on_the_source() {
    let source = br#"/dts-v1/;
/memreserve/ 0x30000000 0x400000;
/memreserve/ 0x203ffd800000 0x400000;
/ {
    compatible = "qemu,powernv9", "ibm,powernv";
    #address-cells = <2>;
    #size-cells = <2>;
    chosen { bootargs = "console=hvc0"; };
    cpus {
        #address-cells = <1>;
        #size-cells = <0>;
        PowerPC,POWER9@0 {
            device_type = "cpu";
            reg = <0>;
            ibm,ppc-interrupt-server#s = <0 1 2 3>;
            64-bit;
        };
    };
    ibm,opal { power-mgt { ibm,enabled-stop-levels = <0xc0000000>; }; };
};
"#;
    let Some((dtc_blob, _)) = dtc(&["-I", "dts", "-O", "dtb", "-b", "3"], source) else {
        return skipped("we_read_dtc_output_and_agree_on_the_source");
    };
    let tree = Tree::from_bytes(&dtc_blob).unwrap();
    assert_eq!(tree.boot_cpuid_phys(), 3);
    assert_eq!(
        tree.memreserves(),
        [
            MemReserve {
                address: 0x3000_0000,
                size: 0x40_0000
            },
            MemReserve {
                address: 0x203f_fd80_0000,
                size: 0x40_0000
            }
        ]
    );
    let cpu = tree.node("/cpus/PowerPC,POWER9@0").unwrap();
    assert_eq!(
        cpu.property_cells("ibm,ppc-interrupt-server#s")
            .unwrap()
            .count(),
        4
    );
    assert_eq!(
        tree.property("/ibm,opal/power-mgt", "ibm,enabled-stop-levels"),
        Some(&[0xc0, 0, 0, 0][..])
    );

    // Our re-encoding of dtc's blob decompiles to exactly what dtc's own blob does.
    let ours = tree.to_dtb().unwrap();
    let (from_ours, _) = dtc(&["-I", "dtb", "-O", "dts"], &ours).unwrap();
    let (from_dtc, _) = dtc(&["-I", "dtb", "-O", "dts"], &dtc_blob).unwrap();
    assert_eq!(
        String::from_utf8(from_ours).unwrap(),
        String::from_utf8(from_dtc).unwrap()
    );
    // And dtc's re-encoding of ours reads back as the same tree.
    let (dtc_of_ours, _) = dtc(&["-I", "dtb", "-O", "dtb"], &ours).unwrap();
    assert_eq!(Tree::from_bytes(&dtc_of_ours).unwrap(), tree);
}
