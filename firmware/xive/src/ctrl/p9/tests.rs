// SPDX-License-Identifier: Apache-2.0
//! P9 sequences against the register-level fake.

use super::*;
use crate::ctrl::fake::{position, stores, Access, FakeRegs};
use crate::ctrl::{POLL_LIMIT, WATCH_FULL};
use crate::phys_map::bars;
use alloc::vec;

const BLK: u8 = 0;

fn instance(blk: u8, chip_id: u32) -> Instance {
    Instance {
        blk,
        chip_id,
        bars: bars(Gen::P9, chip_id),
    }
}

/// QEMU-like: scrub and kill VALID bits clear when read, syncs are always done.
fn qemu_like(ic: u64) -> FakeRegs {
    FakeRegs::new()
        .self_clearing(ic + VC_IVC_SCRUB_TRIG)
        .self_clearing(ic + VC_EQC_SCRUB_TRIG)
        .self_clearing(ic + PC_VPC_SCRUB_TRIG)
        .self_clearing(ic + VC_AT_MACRO_KILL)
        .self_clearing(ic + PC_AT_KILL)
        .done_value(ic + VC_EQC_CONFIG, VC_EQC_SYNC_MASK)
        .spec(ic + VC_EQC_CWATCH_SPEC)
        .spec(ic + PC_VPC_CWATCH_SPEC)
}

fn p9() -> (P9<FakeRegs>, u64) {
    let inst = instance(BLK, 0);
    let ic = inst.bars.ic;
    (P9::new(qemu_like(ic), vec![inst]), ic)
}

fn xscom_writes(log: &[Access]) -> Vec<(u32, u64)> {
    log.iter()
        .filter_map(|a| match a {
            Access::XscomWrite { index, value, .. } => Some((*index, *value)),
            _ => None,
        })
        .collect()
}

fn x(offset: u64) -> u32 {
    (offset >> 3) as u32
}

#[test]
fn init_programs_bars_over_xscom_in_skiboot_order() {
    let (mut c, ic) = p9();
    c.init_instance(BLK).unwrap();
    let log = c.regs().log();
    let b = bars(Gen::P9, 0);
    let expected = [
        (x(CQ_IC_BAR), ic | CQ_IC_BAR_VALID | CQ_IC_BAR_64K),
        (x(CQ_TM1_BAR), b.tm | CQ_TM_BAR_VALID | CQ_TM_BAR_64K),
        (x(CQ_TM2_BAR), 0),
        (x(CQ_PC_BAR), 0),
        (x(CQ_PC_BARM), 0x0000_0030_0000_0000),
        (x(CQ_PC_BAR), b.pc | CQ_PC_BAR_VALID),
        (x(CQ_VC_BAR), 0),
        (x(CQ_VC_BARM), 0x0000_0780_0000_0000),
        (x(CQ_VC_BAR), b.vc | CQ_VC_BAR_VALID),
        (
            x(CQ_PBI_CTL),
            CQ_PBI_PC_64K | CQ_PBI_VC_64K | CQ_PBI_FORCE_TM_LOCAL,
        ),
    ];
    assert_eq!(xscom_writes(&log), expected);
    // The XSCOM indices are the CQ ones skiboot lists (X_CQ_IC_BAR 0x10 … X_CQ_PBI_CTL 0x20).
    assert_eq!(
        expected.map(|e| e.0),
        [0x10, 0x12, 0x14, 0x16, 0x17, 0x16, 0x18, 0x19, 0x18, 0x20]
    );
    // No MMIO before the IC BAR and PBI_CTL are set.
    let last_xscom = log
        .iter()
        .rposition(|a| matches!(a, Access::XscomWrite { .. }))
        .unwrap();
    let first_mmio = position(&log, 0, |a| {
        matches!(a, Access::Load { .. } | Access::Store { .. })
    })
    .unwrap();
    assert!(last_xscom < first_mmio);
}

#[test]
fn init_sets_block_id_indirect_and_edt_vdt() {
    let inst = instance(3, 1);
    let ic = inst.bars.ic;
    let mut c = P9::new(qemu_like(ic), vec![inst]);
    c.init_instance(3).unwrap();
    let regs = c.regs();
    assert_ne!(regs.mmio(ic + VC_GLOBAL_CONFIG) & VC_GCONF_INDIRECT, 0);
    let pc = regs.mmio(ic + PC_GLOBAL_CONFIG);
    assert_ne!(pc & PC_GCONF_INDIRECT, 0);
    assert_eq!(get_field(PC_GCONF_CHIPID, pc), 3);
    let t = regs.mmio(ic + PC_TCTXT_CFG);
    assert_ne!(t & PC_TCTXT_CHIPID_OVERRIDE, 0);
    assert_eq!(get_field(PC_TCTXT_CHIPID, t), 3);
    assert_eq!(t & PC_TCTXT_CFG_STORE_ACK, 0);
    assert_eq!(get_field(CQ_INT_ADDR_OPT, regs.mmio(ic + CQ_CFG_PB_GEN)), 2);

    let log = regs.log();
    let tdr: Vec<u64> = stores(&log)
        .into_iter()
        .filter(|(pa, _)| *pa == ic + CQ_TDR)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(tdr.len(), 64 + 16);
    for (set, e) in tdr[..64].iter().enumerate() {
        let kind = if set < 48 {
            CQ_TDR_EDT_IPI
        } else {
            CQ_TDR_EDT_EQ
        };
        assert_eq!(*e, kind << 62 | 3 << 48 | (set as u64) << 32, "EDT {set}");
    }
    for (set, e) in tdr[64..].iter().enumerate() {
        assert_eq!(*e, 1 << 63 | 3 << 48 | (set as u64) << 32, "VDT {set}");
    }
    // EDT (AUTOINC) is selected before its 64 entries, VDT before its 16.
    let tar: Vec<u64> = stores(&log)
        .into_iter()
        .filter(|(pa, _)| *pa == ic + CQ_TAR)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        tar,
        [
            CQ_TAR_TBL_AUTOINC | CQ_TAR_TSEL_EDT,
            CQ_TAR_TBL_AUTOINC | CQ_TAR_TSEL_VDT
        ]
    );
}

#[test]
fn init_rejects_unknown_block_and_bad_bars() {
    let (mut c, _) = p9();
    assert_eq!(c.init_instance(5), Err(InitError::UnknownBlock(5)));
    let mut inst = instance(0, 0);
    inst.bars.vc_size = 3 << 30;
    let mut c = P9::new(FakeRegs::new(), vec![inst]);
    assert!(matches!(
        c.init_instance(0),
        Err(InitError::BadBar { bar: "VC", .. })
    ));
    assert!(
        c.regs().log().is_empty(),
        "nothing is written for a bad map"
    );
}

#[test]
fn init_fails_when_block_id_does_not_stick() {
    let inst = instance(2, 0);
    let ic = inst.bars.ic;
    let mut c = P9::new(qemu_like(ic).fixed(ic + PC_TCTXT_CFG, 0), vec![inst]);
    assert!(matches!(
        c.init_instance(2),
        Err(InitError::ReadBack {
            reg: "PC_TCTXT_CFG",
            ..
        })
    ));
}

#[test]
fn vsd_goes_to_vc_and_pc_except_overflow() {
    let (mut c, ic) = p9();
    let vsd = 0x8000_0000_3040_0004;
    c.set_vsd(BLK, Vst::End, 1, vsd);
    let log = c.regs().log();
    let addr = 2 << 48 | 1 << 32;
    assert_eq!(log[0], Access::Barrier);
    assert_eq!(
        stores(&log),
        [
            (ic + VC_VSD_TABLE_ADDR, addr),
            (ic + VC_VSD_TABLE_DATA, vsd),
            (ic + PC_VSD_TABLE_ADDR, addr),
            (ic + PC_VSD_TABLE_DATA, vsd),
        ]
    );

    for (table, select) in [(Vst::Eas, 0), (Vst::Esb, 1), (Vst::Nvt, 3)] {
        c.regs().clear_log();
        c.set_vsd(BLK, table, 0, vsd);
        let s = stores(&c.regs().log());
        assert_eq!(s.len(), 4, "{table:?}: VC and PC copies");
        assert_eq!(s[0].1, select << 48);
        assert_eq!(s[2], (ic + PC_VSD_TABLE_ADDR, select << 48));
    }

    c.regs().clear_log();
    c.set_vsd(BLK, Vst::Overflow(2), BLK, 0x8000_0000_3050_0004);
    let s = stores(&c.regs().log());
    assert_eq!(s[0], (ic + VC_VSD_TABLE_ADDR, 4 << 48 | 2 << 32));
    assert!(
        s.iter().all(|(pa, _)| *pa != ic + PC_VSD_TABLE_ADDR),
        "IRQ table is VC only"
    );
    let cfg = c.regs().mmio(ic + VC_IRQ_CONFIG_IPI + 16);
    assert_ne!(cfg & VC_IRQ_CONFIG_MEMB_EN, 0);
    assert_eq!(get_field(VC_IRQ_CONFIG_MEMB_SZ, cfg), 4);

    c.set_vsd(BLK, Vst::Overflow(2), BLK, 0);
    assert_eq!(
        c.regs().mmio(ic + VC_IRQ_CONFIG_IPI + 16) & VC_IRQ_CONFIG_MEMB_EN,
        0
    );

    c.regs().clear_log();
    c.set_vsd(BLK, Vst::Overflow(6), BLK, 0x8000_0000_3050_0004);
    assert!(c.regs().log().is_empty());
}

#[test]
fn end_update_watches_in_reverse_then_scrubs() {
    let (mut c, ic) = p9();
    let end = [0x1111, 0x2222, 0x3333, 0x4444];
    c.end_update(BLK, 0x0f, &end, false).unwrap();
    let log = c.regs().log();
    let spec = ic + VC_EQC_CWATCH_SPEC;
    let d0 = ic + VC_EQC_CWATCH_DAT0;
    assert_eq!(
        log[0],
        Access::Store {
            pa: spec,
            value: WATCH_FULL | 0x0f
        }
    );
    assert_eq!(log[1], Access::Load { pa: d0 });
    assert_eq!(
        log[2..6],
        [
            Access::Store {
                pa: d0 + 24,
                value: 0x4444
            },
            Access::Store {
                pa: d0 + 16,
                value: 0x3333
            },
            Access::Store {
                pa: d0 + 8,
                value: 0x2222
            },
            Access::Store {
                pa: d0,
                value: 0x1111
            },
        ]
    );
    assert_eq!(log[6], Access::Load { pa: spec });
    // Then the EQC scrub with WANT_INVAL, polled, and the ESn workaround load.
    assert_eq!(
        log[7..9],
        [
            Access::Store {
                pa: ic + VC_EQC_SCRUB_MASK,
                value: VC_SCRUB_BLOCK_ID | VC_SCRUB_OFFSET
            },
            Access::Store {
                pa: ic + VC_EQC_SCRUB_TRIG,
                value: VC_SCRUB_VALID | VC_SCRUB_WANT_INVAL | 0x0f
            },
        ]
    );
    assert_eq!(
        log[9],
        Access::Load {
            pa: ic + VC_EQC_SCRUB_TRIG
        }
    );
    assert_eq!(log[10], Access::Barrier);
    let esn = bars(Gen::P9, 0).end_esb + (0x0f << 17) + 0x800;
    assert_eq!(log[11], Access::Load { pa: esn });
    assert_eq!(log.len(), 12);
}

#[test]
fn watch_conflicts_are_busy_or_retried() {
    let (mut c, ic) = p9();
    let spec = ic + VC_EQC_CWATCH_SPEC;
    let attempts = |c: &P9<FakeRegs>| {
        c.regs()
            .log()
            .iter()
            .filter(|a| matches!(a, Access::Store { pa, .. } if *pa == spec))
            .count()
    };

    c.regs.conflicts = 1;
    assert_eq!(c.end_update(BLK, 8, &[0; 4], false), Err(Busy));
    assert_eq!(attempts(&c), 1);
    // A failed non-synchronous update does not scrub.
    assert!(!c
        .regs()
        .log()
        .iter()
        .any(|a| matches!(a, Access::Store { pa, .. } if *pa == ic + VC_EQC_SCRUB_TRIG)));

    c.regs.clear_log();
    c.regs.conflicts = 3;
    assert_eq!(c.end_update(BLK, 8, &[0; 4], true), Ok(()));
    assert_eq!(attempts(&c), 4);

    c.regs.clear_log();
    c.regs.conflicts = 100;
    assert_eq!(c.end_update(BLK, 8, &[0; 4], true), Err(Busy));
    assert_eq!(attempts(&c), 10);

    // A light watch of the escalation dword: DAT2, then DAT0 rewritten with what it held.
    c.regs.clear_log();
    c.regs.conflicts = 0;
    c.regs.set_mmio(ic + VC_EQC_CWATCH_DAT0, 0xabcd);
    c.end_update_escalation(BLK, 9, 0x5555, false).unwrap();
    let log = c.regs().log();
    assert_eq!(
        log[0],
        Access::Store { pa: spec, value: 9 },
        "light: no FULL"
    );
    assert_eq!(
        log[2..4],
        [
            Access::Store {
                pa: ic + VC_EQC_CWATCH_DAT0 + 16,
                value: 0x5555
            },
            Access::Store {
                pa: ic + VC_EQC_CWATCH_DAT0,
                value: 0xabcd
            },
        ]
    );
}

#[test]
fn nvt_update_takes_eight_dwords_and_rereads_hw_vp() {
    let (mut c, ic) = p9();
    let nvt = [1, 2, 3, 4, 5, 6, 7, 8];
    c.nvt_update(BLK, 0x80, &nvt, true).unwrap();
    let log = c.regs().log();
    let spec = ic + PC_VPC_CWATCH_SPEC;
    let d0 = ic + PC_VPC_CWATCH_DAT0;
    assert_eq!(
        log[0],
        Access::Store {
            pa: spec,
            value: WATCH_FULL | 0x80
        }
    );
    let data: Vec<(u64, u64)> = stores(&log[2..10]);
    assert_eq!(data[0], (d0 + 56, 8));
    assert_eq!(data[7], (d0, 1));
    let trig = position(
        &log,
        0,
        |a| matches!(a, Access::Store { pa, .. } if *pa == ic + PC_VPC_SCRUB_TRIG),
    )
    .unwrap();
    assert_eq!(
        log[trig],
        Access::Store {
            pa: ic + PC_VPC_SCRUB_TRIG,
            value: PC_SCRUB_VALID | PC_SCRUB_WANT_INVAL | 0x80
        }
    );
    // Workaround: light watch of HW VP 0x80 with DAT0 written back unchanged.
    let tail = &log[log.len() - 3..];
    assert_eq!(
        tail[0],
        Access::Store {
            pa: spec,
            value: 0x80
        }
    );
    assert_eq!(tail[1], Access::Load { pa: d0 });
    assert!(matches!(tail[2], Access::Store { pa, .. } if pa == d0));

    assert_eq!(c.nvt_update(BLK, 0x80, &nvt[..4], true), Err(Busy));
}

#[test]
fn polls_end_when_hardware_never_completes() {
    let (mut c, ic) = p9();
    c.regs.stuck = true;
    c.regs.set_mmio(ic + VC_AT_MACRO_KILL, VC_KILL_VALID);
    c.eas_invalidate(BLK, 0x10);
    c.end_flush(BLK, 0x10);
    c.nvt_flush(BLK, 0x80);
    c.kill_translations(BLK);
    c.sync(BLK);
    let loads = c
        .regs()
        .log()
        .iter()
        .filter(|a| matches!(a, Access::Load { .. }))
        .count();
    // Each of the five scrub/kill polls and the sync poll gave up after POLL_LIMIT reads.
    assert!(loads >= 6 * POLL_LIMIT as usize);
    assert!(loads < 7 * POLL_LIMIT as usize);
}

#[test]
fn eas_invalidate_orders_ram_before_scrub() {
    let (mut c, ic) = p9();
    c.eas_invalidate(BLK, 0x12345);
    let log = c.regs().log();
    assert_eq!(log[0], Access::Barrier);
    assert_eq!(
        log[2],
        Access::Store {
            pa: ic + VC_IVC_SCRUB_TRIG,
            value: VC_SCRUB_VALID | VC_SCRUB_WANT_INVAL | 0x12345
        }
    );
}

#[test]
fn sync_stores_to_notify_page_and_clears_done_bits() {
    let (mut c, ic) = p9();
    c.regs.set_mmio(ic + VC_EQC_CONFIG, 0);
    c.sync(BLK);
    let log = c.regs().log();
    let notify = ic + 0x1_0000;
    let s = stores(&log);
    assert_eq!(
        s[..5],
        [
            (notify + 0xd00, 0),
            (notify + 0xd80, 0),
            (notify + 0xe00, 0),
            (notify + 0xc00, 0),
            (notify + 0xc80, 0)
        ]
    );
    assert_eq!(s[5], (ic + VC_EQC_CONFIG, 0));
    assert_eq!(
        *log.last().unwrap(),
        Access::Load {
            pa: ic + VC_GLOBAL_CONFIG
        }
    );
}

#[test]
fn kill_clears_masks_then_polls() {
    let (mut c, ic) = p9();
    c.kill_translations(BLK);
    let s = stores(&c.regs().log());
    assert_eq!(
        s,
        [
            (ic + VC_AT_MACRO_KILL_MASK, 0),
            (ic + VC_AT_MACRO_KILL, VC_KILL_VALID | 3 << 48),
            (ic + PC_AT_KILL_MASK, 0),
            (ic + PC_AT_KILL, PC_AT_KILL_VALID),
        ]
    );
}

#[test]
fn thread_enable_clears_then_sets_then_reads() {
    let (mut c, ic) = p9();
    // PIR 0x105: chip 1, core 1, thread 1 → fused core 0, bit 5 of REG0.
    c.thread_enable(BLK, 0x105, true);
    assert_eq!(
        c.regs().log(),
        [
            Access::Store {
                pa: ic + PC_THREAD_EN_REG0_CLR,
                value: 1 << 58
            },
            Access::Store {
                pa: ic + PC_THREAD_EN_REG0_SET,
                value: 1 << 58
            },
            Access::Load {
                pa: ic + PC_THREAD_EN_REG0
            },
        ]
    );
    c.regs.clear_log();
    // PIR 0x4c: core 19 → fused core 9, REG1.
    c.thread_enable(BLK, 0x4c, false);
    assert_eq!(
        c.regs().log(),
        [
            Access::Store {
                pa: ic + PC_THREAD_EN_REG1_CLR,
                value: 1 << (63 - 0xc)
            },
            Access::Load {
                pa: ic + PC_THREAD_EN_REG1
            },
        ]
    );
}

#[test]
fn tima_reset_goes_through_indir0_and_page_4() {
    let (mut c, ic) = p9();
    c.tima_reset(BLK, 0x0d);
    let tm = ic + 4 * 0x1_0000;
    assert_eq!(
        c.regs().log(),
        [
            Access::Store {
                pa: ic + PC_TCTXT_INDIR0,
                value: PC_TCTXT_INDIR_VALID | 0x0d << 48
            },
            Access::Load {
                pa: ic + PC_TCTXT_INDIR0
            },
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
            Access::Store {
                pa: ic + PC_TCTXT_INDIR0,
                value: 0
            },
        ]
    );
}

#[test]
fn unknown_block_touches_nothing() {
    let (mut c, _) = p9();
    c.set_vsd(7, Vst::End, 7, 1);
    c.eas_invalidate(7, 0);
    c.sync(7);
    c.thread_enable(7, 0, true);
    c.tima_reset(7, 0);
    assert_eq!(c.end_update(7, 0, &[0; 4], true), Err(Busy));
    assert!(c.regs().log().is_empty());
}

#[test]
fn memory_and_esb_pass_through() {
    let (mut c, _) = p9();
    c.write64(0x3100_0000, 42);
    assert_eq!(c.read64(0x3100_0000), 42);
    c.esb_store(0x6_0100_0002_0000, 0);
    c.esb_load(0x6_0100_0003_0800);
    assert_eq!(
        c.regs().log()[2..],
        [
            Access::Store {
                pa: 0x6_0100_0002_0000,
                value: 0
            },
            Access::Load {
                pa: 0x6_0100_0003_0800
            },
        ]
    );
}
