// SPDX-License-Identifier: Apache-2.0
//! The PCI host-bridge calls (`OPAL_PCI_*`, `OPAL_GET_MSI_*`; pci-phb.md §3): present
//! only on a machine with PHBs. Checked against PHB 0 of chip 0 (OPAL id 0 on QEMU's
//! powernv9 and powernv10, as under skiboot) and its root port (bdfn 0): config reads,
//! EEH freeze status, and the refusals of bad PHB ids, PE numbers and config offsets.
//! Nothing here changes a PHB's set-up.

use opal_api::token::*;
use opal_api::OpalError;

use super::common::call;
use super::Out;
use crate::fail;
use crate::opal::Ret;
use crate::runner::{expect, Area, Case, CaseResult, Ctx, Verdict};

pub static AREA: Area = Area {
    name: "pci",
    tokens: &[
        OPAL_PCI_CONFIG_READ_BYTE,
        OPAL_PCI_CONFIG_READ_HALF_WORD,
        OPAL_PCI_CONFIG_READ_WORD,
        OPAL_PCI_CONFIG_WRITE_BYTE,
        OPAL_PCI_CONFIG_WRITE_HALF_WORD,
        OPAL_PCI_CONFIG_WRITE_WORD,
        OPAL_PCI_EEH_FREEZE_STATUS,
        OPAL_PCI_EEH_FREEZE_CLEAR,
        OPAL_PCI_PHB_MMIO_ENABLE,
        OPAL_PCI_SET_PHB_MEM_WINDOW,
        OPAL_PCI_MAP_PE_MMIO_WINDOW,
        OPAL_PCI_SET_PE,
        OPAL_PCI_SET_PELTV,
        OPAL_PCI_SET_XIVE_PE,
        OPAL_GET_MSI_32,
        OPAL_GET_MSI_64,
        OPAL_PCI_MAP_PE_DMA_WINDOW,
        OPAL_PCI_MAP_PE_DMA_WINDOW_REAL,
        OPAL_PCI_RESET,
        OPAL_PCI_POLL,
        OPAL_PCI_TCE_KILL,
    ],
    before_each: None,
    cases: &[
        Case {
            name: "pci.root_port_config",
            run: root_port_config,
        },
        Case {
            name: "pci.freeze_status",
            run: freeze_status,
        },
        Case {
            name: "pci.bad_arguments",
            run: bad_arguments,
        },
    ],
};

const PHB: u64 = 0;
/// A PHB id no machine has.
const NO_PHB: u64 = 0xdead;

fn need_pci(cx: &Ctx) -> CaseResult {
    if !cx.opal.is_present(OPAL_PCI_CONFIG_READ_WORD) {
        return Err(Verdict::Skip(crate::msg!("no PHB on this machine")));
    }
    Ok(())
}

/// CONFIG_READ of the root port: word, half-word and byte agree (big-endian out), and
/// it is an IBM bridge (vendor 0x1014, header type 1).
fn root_port_config(cx: &mut Ctx) -> CaseResult {
    need_pci(cx)?;
    let mut w = Out::<4>::new();
    let r = call(cx, OPAL_PCI_CONFIG_READ_WORD, &[PHB, 0, 0, w.addr()])?;
    expect(format_args!("CONFIG_READ_WORD(0, 0, 0)"), r, Ret::SUCCESS)?;
    let id = w.get("vendor/device")?;
    let mut h = Out::<2>::new();
    let r = call(cx, OPAL_PCI_CONFIG_READ_HALF_WORD, &[PHB, 0, 0, h.addr()])?;
    expect(
        format_args!("CONFIG_READ_HALF_WORD(0, 0, 0)"),
        r,
        Ret::SUCCESS,
    )?;
    let vendor = h.get("vendor")?;
    let mut b = Out::<1>::new();
    let r = call(cx, OPAL_PCI_CONFIG_READ_BYTE, &[PHB, 0, 0x0e, b.addr()])?;
    expect(format_args!("CONFIG_READ_BYTE(0, 0, 0xe)"), r, Ret::SUCCESS)?;
    let header = b.get("header type")?;
    if vendor != 0x1014 || id & 0xffff != vendor || header & 0x7f != 1 {
        fail!("root port: id {id:08x}, vendor {vendor:04x}, header {header:02x}");
    }
    cx.info(format_args!("root port {:04x}:{:04x}", vendor, id >> 16));
    Ok(())
}

/// FREEZE_STATUS of PE 0: SUCCESS, not frozen, no error; both out-parameters written.
fn freeze_status(cx: &mut Ctx) -> CaseResult {
    need_pci(cx)?;
    let mut state = Out::<1>::new();
    let mut kind = Out::<2>::new();
    let r = call(
        cx,
        OPAL_PCI_EEH_FREEZE_STATUS,
        &[PHB, 0, state.addr(), kind.addr(), 0],
    )?;
    expect(format_args!("EEH_FREEZE_STATUS(0, pe 0)"), r, Ret::SUCCESS)?;
    let (s, k) = (state.get("freeze_state")?, kind.get("pci_error_type")?);
    if s != 0 || k != 0 {
        fail!("PE 0 reported frozen: state {s}, error type {k}");
    }
    Ok(())
}

/// An unknown PHB, a misaligned or out-of-range config offset are
/// PARAMETER; a bus-0 device other than the root port is HARDWARE. (A PE past the
/// PHB's in FREEZE_STATUS is PARAMETER on Opalite, host-tested, but SUCCESS on skiboot
/// 7.1, so it is not checked here.)
fn bad_arguments(cx: &mut Ctx) -> CaseResult {
    need_pci(cx)?;
    let mut w = Out::<4>::new();
    let p = Ret::PARAMETER;
    let checks: [(&str, u64, [u64; 5], Ret); 6] = [
        (
            "CONFIG_READ_WORD unknown PHB",
            OPAL_PCI_CONFIG_READ_WORD,
            [NO_PHB, 0, 0, w.addr(), 0],
            p,
        ),
        (
            "CONFIG_READ_WORD offset 0x1000",
            OPAL_PCI_CONFIG_READ_WORD,
            [PHB, 0, 0x1000, w.addr(), 0],
            p,
        ),
        (
            "CONFIG_READ_WORD offset 2",
            OPAL_PCI_CONFIG_READ_WORD,
            [PHB, 0, 2, w.addr(), 0],
            p,
        ),
        (
            "CONFIG_READ_WORD 00:01.0",
            OPAL_PCI_CONFIG_READ_WORD,
            [PHB, 8, 0, w.addr(), 0],
            Ret::err(OpalError::Hardware),
        ),
        (
            "SET_PELTV unknown PHB",
            OPAL_PCI_SET_PELTV,
            [NO_PHB, 0, 0, 1, 0],
            p,
        ),
        (
            "PCI_POLL unknown slot",
            OPAL_PCI_POLL,
            [NO_PHB, 0, 0, 0, 0],
            p,
        ),
    ];
    for (what, token, args, want) in checks {
        let r = call(cx, token, &args)?;
        expect(format_args!("{what}"), r, want)?;
    }
    Ok(())
}
