// SPDX-License-Identifier: Apache-2.0
//! P10 sequences against the register-level fake.

use super::*;
use crate::ctrl::fake::{position, stores, Access, FakeRegs};
use crate::ctrl::{POLL_LIMIT, WATCH_FULL};
use crate::phys_map::bars;
use alloc::vec;

const BLK: u8 = 0;
/// QEMU 10.0.2's `PNV_XIVE2_CAPABILITIES`.
const QEMU_CAP: u64 = 0x2000_1200_76f0_00fc;

fn instance(blk: u8, chip_id: u32) -> Instance {
    Instance {
        blk,
        chip_id,
        bars: bars(Gen::P10, chip_id),
    }
}

/// QEMU-like: a FLUSH_POLL store arms FLUSH_CTRL.POLL_VALID, which clears when read;
/// kills clear on read; syncs are always done; the capabilities are QEMU's.
fn qemu_like(ic: u64) -> FakeRegs {
    let mut f = FakeRegs::new();
    for (p, c) in [
        (X_VC_EASC_FLUSH_POLL, X_VC_EASC_FLUSH_CTRL),
        (X_VC_ENDC_FLUSH_POLL, X_VC_ENDC_FLUSH_CTRL),
        (X_PC_NXC_FLUSH_POLL, X_PC_NXC_FLUSH_CTRL),
    ] {
        f = f.arms(mmio(ic, p), mmio(ic, c)).self_clearing(mmio(ic, c));
    }
    f.self_clearing(mmio(ic, X_VC_AT_MACRO_KILL))
        .self_clearing(mmio(ic, X_PC_AT_KILL))
        .done_value(mmio(ic, X_VC_ENDC_SYNC_DONE), VC_ENDC_SYNC_POLL_DONE)
        .fixed(mmio(ic, X_CQ_XIVE_CAP), QEMU_CAP)
        .spec(mmio(ic, X_VC_ENDC_WATCH0_SPEC))
        .spec(mmio(ic, X_PC_NXC_WATCH0_SPEC))
}

fn p10() -> (P10<FakeRegs>, u64) {
    let inst = instance(BLK, 0);
    let ic = inst.bars.ic;
    (P10::new(qemu_like(ic), vec![inst]), ic)
}

fn xscom_writes(log: &[Access]) -> Vec<(u32, u64)> {
    log.iter()
        .filter_map(|a| match a {
            Access::XscomWrite { index, value, .. } => Some((*index, *value)),
            _ => None,
        })
        .collect()
}

#[test]
fn init_resets_bars_then_programs_them_over_xscom() {
    let (mut c, ic) = p10();
    c.init_instance(BLK).unwrap();
    let log = c.regs().log();
    let b = bars(Gen::P10, 0);
    let bar = |base: u64, range: u64| base | CQ_BAR_VALID | CQ_BAR_64K | range;
    assert_eq!(
        xscom_writes(&log),
        [
            (X_CQ_RST_CTL, CQ_RST_PB_BAR_RESET),
            (X_CQ_IC_BAR, ic | CQ_IC_BAR_VALID | CQ_IC_BAR_64K),
            (X_CQ_TM_BAR, b.tm | CQ_TM_BAR_VALID | CQ_TM_BAR_64K),
            // 1 TiB NVPG and ESB: RANGE 16; 2 TiB END: RANGE 17.
            (X_CQ_NVPG_BAR, bar(b.pc, 16)),
            (X_CQ_ESB_BAR, bar(b.vc, 16)),
            (X_CQ_END_BAR, bar(b.end, 17)),
        ]
    );
    // The first MMIO access comes after the IC BAR write.
    let ic_bar = position(&log, 0, |a| {
        matches!(
            a,
            Access::XscomWrite {
                index: X_CQ_IC_BAR,
                ..
            }
        )
    })
    .unwrap();
    let first_mmio = position(&log, 0, |a| {
        matches!(a, Access::Load { .. } | Access::Store { .. })
    })
    .unwrap();
    assert!(ic_bar < first_mmio);
    assert_eq!(
        log[first_mmio],
        Access::Load {
            pa: mmio(ic, X_CQ_XIVE_CAP)
        }
    );
}

#[test]
fn init_configures_gen2_with_our_block_id() {
    let inst = instance(2, 1);
    let ic = inst.bars.ic;
    let mut c = P10::new(qemu_like(ic), vec![inst]);
    c.init_instance(2).unwrap();
    let cfg = c.regs().mmio(mmio(ic, X_CQ_XIVE_CFG));
    assert_eq!(
        get_field(CQ_XIVE_CFG_HYP_HARD_RANGE, cfg),
        0,
        "7-bit thread ids"
    );
    assert_eq!(get_field(CQ_XIVE_CFG_VP_INT_PRIO, cfg), 3, "8 priorities");
    assert_ne!(cfg & CQ_XIVE_CFG_HYP_HARD_BLKID_OVERRIDE, 0);
    assert_eq!(get_field(CQ_XIVE_CFG_HYP_HARD_BLOCK_ID, cfg), 2);
    assert_ne!(
        cfg & CQ_XIVE_CFG_EN_VP_SAVE_RESTORE,
        0,
        "QEMU has save-restore"
    );
    assert_eq!(c.configuration(2), Some(cfg));
    assert_eq!(c.capabilities(2), Some(QEMU_CAP));

    // The CFG write is read back before anything else is configured.
    let log = c.regs().log();
    let w = position(
        &log,
        0,
        |a| matches!(a, Access::Store { pa, .. } if *pa == mmio(ic, X_CQ_XIVE_CFG)),
    )
    .unwrap();
    assert_eq!(
        log[w + 1],
        Access::Load {
            pa: mmio(ic, X_CQ_XIVE_CFG)
        }
    );

    // Set translation: ESB, END, NVPG, 16 entries each, all VALID | block 2.
    let s = stores(&log);
    let tar: Vec<u64> = s
        .iter()
        .filter(|(pa, _)| *pa == mmio(ic, X_CQ_TAR))
        .map(|e| e.1)
        .collect();
    assert_eq!(tar, [1 << 63, 1 << 63 | 2 << 48, 1 << 63 | 3 << 48]);
    let tdr: Vec<u64> = s
        .iter()
        .filter(|(pa, _)| *pa == mmio(ic, X_CQ_TDR))
        .map(|e| e.1)
        .collect();
    assert_eq!(tdr, vec![1 << 63 | 2; 48]);

    // IC VSD: VC only, indexed by chip id 1, exclusive, 32 MiB.
    let vsd_addr = s
        .iter()
        .position(|(pa, v)| *pa == mmio(ic, X_VC_VSD_TABLE_ADDR) && *v == 6 << 48 | 1 << 32)
        .unwrap();
    assert_eq!(
        s[vsd_addr + 1],
        (mmio(ic, X_VC_VSD_TABLE_DATA), 2 << 62 | ic | 13)
    );
    assert!(s.iter().all(|(pa, _)| *pa != mmio(ic, X_PC_VSD_TABLE_ADDR)));
}

#[test]
fn init_checks_version_and_readback() {
    let inst = instance(0, 0);
    let ic = inst.bars.ic;
    let old = qemu_like(ic).fixed(mmio(ic, X_CQ_XIVE_CAP), 1 << 60);
    let mut c = P10::new(old, vec![inst]);
    assert_eq!(c.init_instance(0), Err(InitError::UnsupportedVersion(1)));

    let stuck_cfg = qemu_like(ic).fixed(mmio(ic, X_CQ_XIVE_CFG), 0x0030_0000_3300_0000);
    let mut c = P10::new(stuck_cfg, vec![inst]);
    assert!(matches!(
        c.init_instance(0),
        Err(InitError::ReadBack {
            reg: "CQ_XIVE_CFG",
            read: 0x0030_0000_3300_0000,
            ..
        })
    ));
    assert_eq!(c.configuration(0), None);

    let mut c = P10::new(qemu_like(ic), vec![inst]);
    assert_eq!(c.init_instance(1), Err(InitError::UnknownBlock(1)));
}

#[test]
fn two_instances_forward_ic_vsds() {
    let (a, b) = (instance(0, 0), instance(1, 8));
    let mut c = P10::new(qemu_like(a.bars.ic), vec![a, b]);
    c.init_instance(0).unwrap();
    let s = stores(&c.regs().log());
    let data = |chip: u64| {
        let i = s
            .iter()
            .position(|(pa, v)| {
                *pa == mmio(a.bars.ic, X_VC_VSD_TABLE_ADDR) && *v == 6 << 48 | chip << 32
            })
            .unwrap();
        s[i + 1].1
    };
    assert_eq!(data(0), 2 << 62 | a.bars.ic | 13);
    assert_eq!(data(8), 3 << 62 | b.bars.ic | 13);
}

#[test]
fn vsd_pc_copies_except_eas_and_erq() {
    let (mut c, ic) = p10();
    let vsd = 0x8000_0000_3040_0004;
    for (table, select, pc) in [
        (Vst::Esb, 0, true),
        (Vst::Eas, 1, false),
        (Vst::End, 2, true),
        (Vst::Nvt, 3, true),
    ] {
        c.regs.clear_log();
        c.set_vsd(BLK, table, 0, vsd);
        let log = c.regs().log();
        assert_eq!(log[0], Access::Barrier);
        let addr = select << 48;
        let mut expected = vec![
            (mmio(ic, X_VC_VSD_TABLE_ADDR), addr),
            (mmio(ic, X_VC_VSD_TABLE_DATA), vsd),
        ];
        if pc {
            expected.push((mmio(ic, X_PC_VSD_TABLE_ADDR), addr));
            expected.push((mmio(ic, X_PC_VSD_TABLE_DATA), vsd));
        }
        assert_eq!(stores(&log), expected, "{table:?}");
    }

    c.regs.clear_log();
    c.set_vsd(BLK, Vst::Overflow(6), BLK, 0x8000_0000_3050_0004);
    let s = stores(&c.regs().log());
    assert_eq!(s[0], (mmio(ic, X_VC_VSD_TABLE_ADDR), 8 << 48 | 6 << 32));
    assert_eq!(s.len(), 3, "VC copy and the queue config");
    let cfg = c.regs().mmio(mmio(ic, X_VC_QUEUES_CFG_REM0 + 6));
    assert_ne!(cfg & VC_QUEUES_CFG_MEMB_EN, 0);
    assert_eq!(get_field(VC_QUEUES_CFG_MEMB_SZ, cfg), 4);

    c.regs.clear_log();
    c.set_vsd(BLK, Vst::Overflow(7), BLK, 1);
    c.set_vsd(BLK, Vst::End, 16, 1);
    assert!(c.regs().log().is_empty());
}

#[test]
fn end_update_watch_then_flush() {
    let (mut c, ic) = p10();
    c.end_update(BLK, 0x17, &[1, 2, 3, 4], true).unwrap();
    let log = c.regs().log();
    let spec = mmio(ic, X_VC_ENDC_WATCH0_SPEC);
    let d0 = mmio(ic, X_VC_ENDC_WATCH0_DATA0);
    assert_eq!(spec, ic + 0x1_0500);
    assert_eq!(
        log[..7],
        [
            Access::Store {
                pa: spec,
                value: WATCH_FULL | 0x17
            },
            Access::Load { pa: d0 },
            Access::Store {
                pa: d0 + 24,
                value: 4
            },
            Access::Store {
                pa: d0 + 16,
                value: 3
            },
            Access::Store {
                pa: d0 + 8,
                value: 2
            },
            Access::Store { pa: d0, value: 1 },
            Access::Load { pa: spec },
        ]
    );
    let poll_value = VC_ENDC_FLUSH_POLL_BLOCK_ID_MASK | VC_ENDC_FLUSH_POLL_OFFSET_MASK | 0x17 << 32;
    assert_eq!(
        log[7..],
        [
            Access::Store {
                pa: mmio(ic, X_VC_ENDC_FLUSH_POLL),
                value: poll_value
            },
            Access::Load {
                pa: mmio(ic, X_VC_ENDC_FLUSH_CTRL)
            },
            Access::Barrier,
        ]
    );
}

#[test]
fn nvp_update_is_four_dwords_of_type_nvp() {
    let (mut c, ic) = p10();
    c.regs.conflicts = 2;
    c.nvt_update(BLK, 0x80, &[1, 2, 3, 4], true).unwrap();
    let log = c.regs().log();
    let spec = mmio(ic, X_PC_NXC_WATCH0_SPEC);
    let specs = log
        .iter()
        .filter(|a| {
            **a == Access::Store {
                pa: spec,
                value: WATCH_FULL | 0x80,
            }
        })
        .count();
    assert_eq!(specs, 3, "two conflicts, then success");
    assert!(log.contains(&Access::Store {
        pa: mmio(ic, X_PC_NXC_FLUSH_POLL),
        value: PC_NXC_FLUSH_POLL_BLOCK_ID_MASK | PC_NXC_FLUSH_POLL_OFFSET_MASK | 0x80 << 32
    }));

    c.regs.conflicts = 1;
    assert_eq!(c.nvt_update(BLK, 0x80, &[1, 2, 3, 4], false), Err(Busy));
    assert_eq!(
        c.nvt_update(BLK, 0x80, &[0; 8], true),
        Err(Busy),
        "P10 NVPs are 32 bytes"
    );
}

#[test]
fn eas_invalidate_flushes_the_easc() {
    let (mut c, ic) = p10();
    c.eas_invalidate(BLK, 0x10);
    assert_eq!(
        c.regs().log(),
        [
            Access::Barrier,
            Access::Store {
                pa: mmio(ic, X_VC_EASC_FLUSH_POLL),
                value: VC_EASC_FLUSH_POLL_BLOCK_ID_MASK
                    | VC_EASC_FLUSH_POLL_OFFSET_MASK
                    | 0x10 << 32
            },
            Access::Load {
                pa: mmio(ic, X_VC_EASC_FLUSH_CTRL)
            },
            Access::Barrier,
        ]
    );
}

#[test]
fn polls_end_when_hardware_never_completes() {
    let (mut c, _) = p10();
    c.regs.stuck = true;
    c.eas_invalidate(BLK, 1);
    c.end_flush(BLK, 1);
    c.nvt_flush(BLK, 1);
    c.kill_translations(BLK);
    c.sync(BLK);
    let loads = c
        .regs()
        .log()
        .iter()
        .filter(|a| matches!(a, Access::Load { .. }))
        .count();
    // Three flushes, two kills, one sync, each POLL_LIMIT reads; the sync's one extra read.
    assert_eq!(loads, 6 * POLL_LIMIT as usize + 1);
}

#[test]
fn sync_uses_the_poll_page_and_sync_done() {
    let (mut c, ic) = p10();
    c.sync(BLK);
    let log = c.regs().log();
    let page = ic + 6 * 0x1_0000;
    let s = stores(&log);
    let offsets: Vec<u64> = s[..7].iter().map(|(pa, _)| pa - page).collect();
    assert_eq!(offsets, [0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300]);
    assert_eq!(s[7], (mmio(ic, X_VC_ENDC_SYNC_DONE), 0));
    assert_eq!(
        *log.last().unwrap(),
        Access::Load {
            pa: mmio(ic, X_VC_ENDC_SYNC_DONE)
        }
    );
}

#[test]
fn kill_end_and_nvp_translations() {
    let (mut c, ic) = p10();
    c.kill_translations(BLK);
    assert_eq!(
        stores(&c.regs().log()),
        [
            (mmio(ic, X_VC_AT_MACRO_KILL_MASK), 0),
            (mmio(ic, X_VC_AT_MACRO_KILL), 1 << 63 | 2 << 48),
            (mmio(ic, X_PC_AT_KILL_MASK), 0),
            (mmio(ic, X_PC_AT_KILL), 1 << 63 | 3 << 36),
        ]
    );
}

#[test]
fn thread_enable_resets_then_sets() {
    let (mut c, ic) = p10();
    c.thread_enable(BLK, 0x0106, true);
    assert_eq!(
        c.regs().log(),
        [
            Access::Store {
                pa: ic + 0x3_0018,
                value: 1 << 57
            },
            Access::Store {
                pa: ic + 0x3_0010,
                value: 1 << 57
            },
            Access::Load { pa: ic + 0x3_0000 },
        ]
    );
}

#[test]
fn tima_reset_uses_the_thread_page() {
    let (mut c, ic) = p10();
    c.tima_reset(BLK, 0x0105);
    let tm = ic + (256 + 5) * 0x1_0000;
    assert_eq!(
        c.regs().log(),
        [
            Access::Store8 {
                pa: tm + 0x38,
                value: 0x80
            },
            Access::Load8 { pa: tm + 0x38 },
            Access::Store8 {
                pa: tm + 0x31,
                value: 0
            },
            Access::Load { pa: tm + 0x828 },
        ]
    );
    c.regs.clear_log();
    c.tima_reset(BLK, 0x0180);
    assert!(c.regs().log().is_empty(), "no page for thread 0x80");
}
