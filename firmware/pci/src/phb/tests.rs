// SPDX-License-Identifier: Apache-2.0
//! Bring-up and OPAL calls against the software PHB. Every refused call is checked to
//! leave the caches, the in-memory tables, the in-PHB tables and the register log as they
//! were.

use std::boxed::Box;
use std::cell::Cell;
use std::vec;
use std::vec::Vec;

use opal_api::pci::{FreezeState, PciErrorType};
use opal_api::OpalError;

use super::calls::FreezeStatus;
use super::*;
use crate::config::AccessSize;
use crate::layout::StackFacts;
use crate::model::{PhbKind, PhbModel, ScomModel};
use crate::reg::xscom as x;

const RTT_ADDR: u64 = 0x3100_0000;
const PELTV_ADDR: u64 = 0x3102_0000;
const PEST_ADDR: u64 = 0x3104_0000;
const BASE_MSI: u32 = 0xfe000;
const NOTIFY_PORT: u64 = 0x0006_0302_0000_0100;

/// A timebase that moves 1 us each time it is read.
struct TestClock(Cell<u64>);
impl hal::Clock for TestClock {
    fn now(&self) -> u64 {
        let t = self.0.get() + 512;
        self.0.set(t);
        t
    }
    fn ticks_per_us(&self) -> u64 {
        512
    }
}
fn clock() -> TestClock {
    TestClock(Cell::new(0))
}

fn leak(len: usize) -> &'static mut [u8] {
    Box::leak(vec![0xaau8; len].into_boxed_slice())
}

fn layout(gen: PhbGen, pec: u32, stack: u32) -> PhbLayout {
    let (nest, pci) = gen.pec_xscom_bases(pec).unwrap();
    PhbLayout::from_stack(&StackFacts {
        gen,
        chip_id: 0,
        topology_index: 0,
        pec_index: pec,
        pec_nest_base: nest,
        pec_pci_base: pci,
        stack_index: stack,
        phb_index: gen.phb_index(pec, stack).unwrap(),
    })
    .unwrap()
}

fn tables(num_pes: usize) -> IodaTables<'static> {
    IodaTables {
        rtt: leak(RTT_TABLE_SIZE),
        rtt_addr: RTT_ADDR,
        peltv: leak(PELTV_TABLE_SIZE),
        peltv_addr: PELTV_ADDR,
        pest: leak(num_pes * 16),
        pest_addr: PEST_ADDR,
    }
}

fn port_wiring() -> IrqWiring {
    IrqWiring {
        base_msi: BASE_MSI,
        notify: Notify::Port {
            addr: NOTIFY_PORT,
            index: BASE_MSI as u64,
        },
        store_eoi: false,
    }
}

/// A PHB brought up: P9 PHB0 (big) or PHB1 (small).
fn phb_with(big: bool, mut model: PhbModel) -> Phb<'static, PhbModel> {
    let l = if big {
        layout(PhbGen::Phb4, 0, 0)
    } else {
        layout(PhbGen::Phb4, 1, 0)
    };
    let caps = Caps::read(&mut model).unwrap();
    let mut p = Phb::new(
        model,
        l,
        caps,
        port_wiring(),
        InitOptions::for_phb(&l),
        tables(caps.num_pes as usize),
    )
    .unwrap();
    p.init_hw(&clock()).unwrap();
    p
}

fn phb() -> Phb<'static, PhbModel> {
    let mut m = PhbModel::new();
    m.add_endpoint(Bdfn::new(1, 0, 0).unwrap(), 0x1b36, 0x0010);
    phb_with(true, m)
}

/// Everything a refused call must leave alone.
#[derive(Debug, PartialEq)]
struct Snapshot {
    rtt: Vec<u8>,
    peltv: Vec<u8>,
    pest: Vec<u8>,
    tve: Vec<u64>,
    mbt: Vec<[u64; 2]>,
    mdt: Vec<u64>,
    mist: Vec<u64>,
    ioda: Vec<Vec<u64>>,
    reg_writes: usize,
    reset: ResetProgress,
    broken: bool,
}

fn snapshot(p: &Phb<'_, PhbModel>) -> Snapshot {
    use crate::reg::ioda::*;
    let m = p.regs();
    Snapshot {
        rtt: p.rtt().to_vec(),
        peltv: p.peltv().to_vec(),
        pest: p.pest().to_vec(),
        tve: p.tve.to_vec(),
        mbt: p.mbt.to_vec(),
        mdt: p.mdt.to_vec(),
        mist: p.mist.to_vec(),
        ioda: [
            TBL_MIST, TBL_PESTA, TBL_PESTB, TBL_TVT, TBL_MBT, TBL_MDT, TBL_PEEV,
        ]
        .iter()
        .map(|&t| m.ioda_table(t).to_vec())
        .collect(),
        reg_writes: m.reg_writes().len(),
        reset: p.reset,
        broken: p.broken,
    }
}

/// `$call` (on `$p`) fails with `$err` and changes nothing.
macro_rules! refused {
    ($p:ident, $err:expr, $call:expr) => {{
        let before = snapshot(&$p);
        let r = $call;
        assert_eq!(r.map(|_| ()), Err($err), "{}", stringify!($call));
        assert!(
            snapshot(&$p) == before,
            "{} changed state",
            stringify!($call)
        );
    }};
}

// ---- capabilities, tables, bring-up ----

#[test]
fn capabilities_of_big_and_small_phbs() {
    let big = Caps::read(&mut PhbModel::with_caps(PhbKind::Phb4, true)).unwrap();
    assert_eq!((big.num_pes, big.num_irqs), (512, 4096));
    assert_eq!(
        (big.mbt_windows(), big.tvt_entries(), big.mrt_entries()),
        (32, 1024, 16)
    );
    assert_eq!(
        (big.reserved_pe(), big.msi_count(), big.pest_size()),
        (511, 0xff8, 8192)
    );
    let small = Caps::read(&mut PhbModel::with_caps(PhbKind::Phb5, false)).unwrap();
    assert_eq!((small.num_pes, small.num_irqs), (256, 2048));
    assert_eq!(
        (small.mbt_windows(), small.tvt_entries(), small.peev_words()),
        (16, 512, 4)
    );
    assert_eq!(small.version, 0xa5_0000_0002);

    let mut m = PhbModel::new();
    m.set_reg(crate::reg::VERSION, 0);
    assert_eq!(Caps::read(&mut m), Err(InitError::Broken));
    let mut m = PhbModel::new();
    m.set_fenced(true);
    assert_eq!(Caps::read(&mut m), Err(InitError::Broken));
    let mut m = PhbModel::new();
    m.set_reg(crate::reg::PHB4_EEH_CAP, 0x0400 << 48);
    assert_eq!(
        Caps::read(&mut m),
        Err(InitError::UnsupportedGeometry {
            num_pes: 64,
            num_irqs: 4096
        })
    );
}

#[test]
fn table_buffers_and_wiring_are_checked() {
    let l = layout(PhbGen::Phb4, 0, 0);
    let caps = Caps::read(&mut PhbModel::new()).unwrap();
    let opts = InitOptions::for_phb(&l);
    let try_new = |t: IodaTables<'static>, irq: IrqWiring| {
        Phb::new(PhbModel::new(), l, caps, irq, opts, t).err()
    };
    let mut t = tables(512);
    t.rtt = leak(RTT_TABLE_SIZE / 2);
    assert_eq!(
        try_new(t, port_wiring()),
        Some(InitError::TableSize {
            table: Table::Rtt,
            len: RTT_TABLE_SIZE / 2
        })
    );
    let mut t = tables(512);
    t.pest = leak(256 * 16);
    assert_eq!(
        try_new(t, port_wiring()),
        Some(InitError::TableSize {
            table: Table::Pest,
            len: 4096
        })
    );
    let mut t = tables(512);
    t.rtt_addr = RTT_ADDR + 0x1000;
    assert_eq!(
        try_new(t, port_wiring()),
        Some(InitError::TableAddress {
            table: Table::Rtt,
            addr: RTT_ADDR + 0x1000
        })
    );
    let mut t = tables(512);
    t.peltv_addr = 1 << 60;
    assert_eq!(
        try_new(t, port_wiring()),
        Some(InitError::TableAddress {
            table: Table::Peltv,
            addr: 1 << 60
        }),
        "past the BAR's address field"
    );
    let abt = IrqWiring {
        notify: Notify::Abt { ic_esb_base: 0 },
        ..port_wiring()
    };
    assert_eq!(try_new(tables(512), abt), Some(InitError::AbtNeedsPhb5));
}

#[test]
fn p9_bring_up_programs_what_skiboot_does() {
    let p = phb();
    let m = p.regs();
    use crate::reg::*;
    // Every requester id starts in the reserved PE.
    assert!(p.rtt().chunks(2).all(|e| e == [0x01, 0xff]));
    assert!(p.peltv().iter().all(|&b| b == 0) && p.pest().iter().all(|&b| b == 0));
    assert_eq!(
        m.read_reg(CTRLR),
        ctrlr::IRQ_PGSZ_64K | ctrlr::TCE_CLB_DISABLE,
        "64 KiB ESB pages, 2 TVEs per PE, no P10 modes on P9"
    );
    assert_eq!(m.read_reg(INT_NOTIFY_ADDR), NOTIFY_PORT);
    assert_eq!(m.read_reg(INT_NOTIFY_INDEX), BASE_MSI as u64);
    assert_eq!(
        get_field(LSI_SRC_ID, m.read_reg(LSI_SOURCE_ID)) << 3,
        4088,
        "LSIs at the top"
    );
    assert_eq!(m.read_reg(RTT_BAR), RTT_ADDR | 1 << 63);
    assert_eq!(m.read_reg(PELTV_BAR), PELTV_ADDR | 1 << 63);
    assert_eq!(m.read_reg(PEST_BAR), PEST_ADDR | 1 << 63);
    assert_eq!(m.read_reg(M32_START_ADDR), 0x8000_0000);
    assert_eq!(
        m.read_reg(PHB4_CONFIG),
        PHB4C_32BIT_MSI_EN | PHB4C_64BIT_MSI_EN
    );
    assert_eq!(get_field(PCIE_SCR_MAXLINKSPEED, m.read_reg(PCIE_SCR)), 4);
    let creset = m.read_reg(PCIE_CRESET);
    assert_eq!(
        creset & (CRESET_CFG_CORE | CRESET_TLDLP | CRESET_PBL),
        0,
        "core resets lifted"
    );
    assert_ne!(creset & CRESET_PIPE_N, 0);
    assert_eq!(
        creset & CRESET_PERST_N,
        0,
        "PERST stays asserted until the link reset"
    );
    // Errors masked first, unmasked last.
    let writes = m.reg_writes();
    assert_eq!(writes.first(), Some(&(LEM_ERROR_MASK, u64::MAX)));
    assert_eq!(
        writes.iter().rev().find(|w| w.0 == LEM_ERROR_MASK),
        Some(&(LEM_ERROR_MASK, 0))
    );
    // The RTT is enabled before MSIs are, and the IODA reset comes after both.
    let at = |o| m.first_write(o).unwrap();
    assert!(at(RTT_BAR) < at(PHB4_CONFIG));
    assert!(at(PHB4_CONFIG) < at(RTC_INVALIDATE));
    assert_eq!(m.rtc_invalidations(), 1);
    assert_eq!(m.tce_kills(), [TCE_KILL_ALL]);
    // In-PHB tables as the caches say.
    let mbt = m.ioda_table(ioda::TBL_MBT);
    assert_eq!(
        mbt[0],
        0x5000_0000_0000_0000 | 0x0006_00c0_0000_0000,
        "M32: MDT column A, type M32"
    );
    assert_eq!(mbt[1], 0x8000_0000_0000_0000 | 0x00ff_ffff_8000_0000);
    assert_eq!(mbt[2], 0, "window 1: PE-segmented, disabled");
    assert_eq!(
        mbt[62],
        0x1000_0000_0000_0000 | 0x0c00_0000_0000_0000,
        "window 31: MDT column 3"
    );
    assert_eq!(
        mbt[58],
        0x1000_0000_0000_0000 | 0x0400_0000_0000_0000,
        "window 29: MDT column 1"
    );
    let mdt = m.ioda_table(ioda::TBL_MDT);
    assert_eq!(
        mdt[5], 0x0000_0005_0005_0005,
        "columns B-D = segment number"
    );
    assert!(m.ioda_table(ioda::TBL_TVT).iter().all(|&t| t == 0));
    // The root port: bus numbers, command register, target link speed.
    let rc = |p: &mut Phb<'static, PhbModel>, off| p.config_read(0, off, AccessSize::Word).data;
    let mut p = p;
    assert_eq!(rc(&mut p, 0x18), 0x00ff_0100);
    assert_eq!(
        rc(&mut p, 0x04) & 0xffff,
        0x0146,
        "memory, bus master, PERR, SERR"
    );
    assert_eq!(rc(&mut p, 0x78), 0x07fe_0004);
    assert!(!p.is_broken());
    assert!(
        p.regs().violations().is_empty(),
        "{:?}",
        p.regs().violations()
    );
}

#[test]
fn p10_abt_bring_up() {
    let mut m = PhbModel::with_caps(PhbKind::Phb5, true);
    let l = layout(PhbGen::Phb5, 0, 0);
    let caps = Caps::read(&mut m).unwrap();
    let irq = IrqWiring {
        base_msi: BASE_MSI,
        notify: Notify::Abt {
            ic_esb_base: 0x0006_051f_c000_0000,
        },
        store_eoi: true,
    };
    let mut p = Phb::new(m, l, caps, irq, InitOptions::for_phb(&l), tables(512)).unwrap();
    p.init_hw(&clock()).unwrap();
    let m = p.regs();
    use crate::reg::*;
    assert_eq!(
        m.read_reg(CTRLR),
        ctrlr::IRQ_PGSZ_64K
            | ctrlr::TCE_CLB_DISABLE
            | ctrlr::IRQ_PQ_DISABLE
            | ctrlr::IRQ_ABT_MODE
            | ctrlr::IRQ_STORE_EOI
    );
    assert_eq!(
        m.read_reg(INT_NOTIFY_ADDR),
        INT_NOTIFY_ADDR_64K | 0x0006_051f_c000_0000
    );
    assert_eq!(m.first_write(INT_NOTIFY_INDEX), None, "unused in ABT mode");
    assert_ne!(m.read_reg(PCIE_DLP_CTL) & DLP_CTL_SFC_DISABLE, 0);
    assert_eq!(m.read_reg(PCIE_PDL_PHY_EQ_CNTL), 0x80f4_ffff_ff0f_9c00);
    assert_eq!(
        get_field(PCIE_SCR_MAXLINKSPEED, m.read_reg(PCIE_SCR)),
        5,
        "Gen5 on PHB0"
    );
    let src = p.irq_sources();
    assert_eq!(src.msi_esb, None, "MSIs use the IC's ESB pages");
    assert_eq!(
        (src.lsi_girq, src.lsi_esb),
        (0xfeff8, l.esb.base + (0xff8 << 16))
    );
    assert!(src.store_eoi);
}

#[test]
fn data_link_stuck_in_reset_breaks_the_phb() {
    let mut m = PhbModel::new();
    m.set_reg(crate::reg::PCIE_DLP_TRAIN_CTL, crate::reg::DLP_DL_PGRESET);
    let l = layout(PhbGen::Phb4, 0, 0);
    let caps = Caps::read(&mut m).unwrap();
    let mut p = Phb::new(
        m,
        l,
        caps,
        port_wiring(),
        InitOptions::for_phb(&l),
        tables(512),
    )
    .unwrap();
    let c = clock();
    assert_eq!(p.init_hw(&c), Err(InitError::DlpResetTimeout));
    assert!(c.0.get() >= 200_000 * 512, "waited 200 ms");
    assert!(p.is_broken());
    assert_eq!(
        p.config_read(0, 0, AccessSize::Word).result,
        Err(OpalError::Hardware)
    );
}

#[test]
fn interrupt_sources_for_xive() {
    let p = phb();
    let s = p.irq_sources();
    assert_eq!((s.msi_girq, s.msi_count), (0xfe000, 0xff8));
    assert_eq!(s.msi_esb, Some(0x0006_00c3_0000_0000));
    assert_eq!((s.lsi_girq, s.lsi_count), (0xfeff8, 8));
    assert_eq!(s.lsi_esb, 0x0006_00c3_0000_0000 + 0xff8 * 0x1_0000);
    assert_eq!(s.esb_shift, 16);
}

// ---- config space ----

#[test]
fn config_access_and_its_errors() {
    let mut p = phb();
    let r = p.config_read(0, 0, AccessSize::Word);
    assert_eq!((r.data, r.result), (0x04c1_1014, Ok(())));
    let r = p.config_read(0x100, 0, AccessSize::Half);
    assert_eq!((r.data, r.result), (0x1b36, Ok(())));
    assert_eq!(p.config_write(0x100, 0x3c, AccessSize::Byte, 0x5a), Ok(()));
    assert_eq!(p.config_read(0x100, 0x3c, AccessSize::Byte).data, 0x5a);
    // A function that is not there reads all-ones, successfully, as on hardware.
    let r = p.config_read(0x200, 0, AccessSize::Word);
    assert_eq!((r.data, r.result), (u32::MAX, Ok(())));

    let before = snapshot(&p);
    for (bdfn, off, size, err) in [
        (0x1_0000, 0, AccessSize::Word, OpalError::Parameter),
        (0x100, 0x1000, AccessSize::Byte, OpalError::Parameter),
        (0x100, 2, AccessSize::Word, OpalError::Parameter),
        (0x100, 1, AccessSize::Half, OpalError::Parameter),
        (0x008, 0, AccessSize::Word, OpalError::Hardware),
        (0x001, 0, AccessSize::Byte, OpalError::Hardware),
    ] {
        let r = p.config_read(bdfn, off, size);
        assert_eq!(
            (r.data, r.result),
            (size.all_ones(), Err(err)),
            "{bdfn:#x} {off:#x}"
        );
        assert_eq!(p.config_write(bdfn, off, size, 0), Err(err));
    }
    assert!(
        snapshot(&p) == before,
        "refused config accesses touched nothing"
    );
}

#[test]
fn config_cycles_carry_the_rtt_pe() {
    let mut p = phb();
    p.set_pe(7, 0x100, 7, 0, 0, 1).unwrap();
    p.config_read(0x100, 0, AccessSize::Word);
    let ca = p.regs().read_reg(crate::reg::CONFIG_ADDRESS);
    assert_eq!(get_field(crate::reg::ca::PE, ca), 7);
}

#[test]
fn fenced_phb_config_is_hardware_error_with_all_ones() {
    let mut p = phb();
    p.regs_mut().set_fenced(true);
    let r = p.config_read(0x100, 0, AccessSize::Half);
    assert_eq!((r.data, r.result), (0xffff, Err(OpalError::Hardware)));
    let r = p.config_read(0, 0, AccessSize::Byte);
    assert_eq!((r.data, r.result), (0xff, Err(OpalError::Hardware)));
}

// ---- EEH ----

#[test]
fn freeze_status_is_cheap_and_reads_peev_then_pest() {
    let mut p = phb();
    let before = p.regs().mmio_accesses();
    let writes = p.regs().reg_writes().len();
    let r = p.eeh_freeze_status(0x1ff);
    assert_eq!((r.data, r.result), (FreezeStatus::NOT_FROZEN, Ok(())));
    assert_eq!(
        p.regs().mmio_accesses() - before,
        3,
        "fence check, PEEV select, PEEV read"
    );
    let new_writes = &p.regs().reg_writes()[writes..];
    assert!(
        new_writes.iter().all(|w| w.0 == crate::reg::IODA_ADDR),
        "{new_writes:x?}"
    );

    p.regs_mut().freeze_pe(70, false, true);
    let r = p.eeh_freeze_status(70);
    assert_eq!(r.data.state, FreezeState::DmaFreeze);
    assert_eq!(
        p.eeh_freeze_status(71).data,
        FreezeStatus::NOT_FROZEN,
        "PEEV bit is per PE"
    );
    assert_eq!(
        p.eeh_freeze_status(6).data,
        FreezeStatus::NOT_FROZEN,
        "same bit, other word"
    );
    p.regs_mut().freeze_pe(3, true, true);
    assert_eq!(
        p.eeh_freeze_status(3).data.state,
        FreezeState::MmioDmaFreeze
    );
    p.regs_mut().freeze_pe(4, true, false);
    assert_eq!(p.eeh_freeze_status(4).data.state, FreezeState::MmioFreeze);
}

#[test]
fn freeze_status_of_a_fenced_or_dead_phb() {
    let mut p = phb();
    refused!(p, OpalError::Parameter, p.eeh_freeze_status(512).result);
    p.regs_mut().set_fenced(true);
    let r = p.eeh_freeze_status(0);
    assert_eq!((r.data, r.result), (FreezeStatus::PHB_STOPPED, Ok(())));
    p.regs_mut().set_fenced(false);
    p.broken = true;
    let r = p.eeh_freeze_status(0);
    assert_eq!(
        (r.data, r.result),
        (FreezeStatus::PHB_STOPPED, Err(OpalError::Hardware))
    );
    assert_eq!(r.data.error_type, PciErrorType::PhbError);
}

#[test]
fn freeze_clear_by_action() {
    let mut p = phb();
    p.regs_mut().freeze_pe(9, true, true);
    p.eeh_freeze_clear(9, 1).unwrap();
    assert_eq!(p.eeh_freeze_status(9).data.state, FreezeState::DmaFreeze);
    p.eeh_freeze_clear(9, 2).unwrap();
    assert_eq!(p.eeh_freeze_status(9).data.state, FreezeState::NotFrozen);
    p.regs_mut().freeze_pe(9, true, true);
    p.eeh_freeze_clear(9, 3).unwrap();
    assert_eq!(p.eeh_freeze_status(9).data.state, FreezeState::NotFrozen);
    refused!(p, OpalError::Parameter, p.eeh_freeze_clear(9, 0));
    refused!(p, OpalError::Parameter, p.eeh_freeze_clear(9, 4));
    refused!(p, OpalError::Parameter, p.eeh_freeze_clear(512, 3));
    p.regs_mut().set_fenced(true);
    assert_eq!(p.eeh_freeze_clear(9, 3), Err(OpalError::Hardware));
}

// ---- MMIO windows ----

const M64: u16 = 2;

#[test]
fn linux_m64_window_setup() {
    let mut p = phb();
    let m64 = p.layout().m64;
    p.set_phb_mem_window(M64, 31, m64.base, 0, m64.size)
        .unwrap();
    assert_eq!(
        p.regs().ioda_table(crate::reg::ioda::TBL_MBT)[62] & mbt::W0_ENABLE,
        0,
        "not live yet"
    );
    p.phb_mmio_enable(M64, 31, 1).unwrap();
    let mbt_hw = p.regs().ioda_table(crate::reg::ioda::TBL_MBT);
    let (w0, w1) = (mbt_hw[62], mbt_hw[63]);
    assert_eq!(w0 & mbt::W0_ENABLE, mbt::W0_ENABLE);
    assert_eq!(w0 & mbt::W0_TYPE_M32, 0);
    assert_eq!(get_field(mbt::W0_BASE_ADDR, w0) << 12, m64.base);
    assert_eq!(
        get_field(mbt::W0_MDT_COLUMN, w0),
        3,
        "the default mode of the last window is kept"
    );
    assert_eq!(Phb::<PhbModel>::mbt_range([w0, w1]), m64);
    assert_eq!(p.mbt_window(31), Some([w0, w1]), "cache and hardware agree");
    // Disabling puts the default back.
    p.phb_mmio_enable(M64, 31, 0).unwrap();
    assert_eq!(p.mbt_window(31), Some([p.default_mbt0(31), 0]));
}

#[test]
fn m64_window_errors_leave_the_mbt_alone() {
    let mut p = phb();
    let m64 = p.layout().m64;
    let m32 = p.layout().m32;
    refused!(
        p,
        OpalError::Unsupported,
        p.set_phb_mem_window(1, 0, m32.base, 0, m32.size)
    );
    refused!(
        p,
        OpalError::Unsupported,
        p.set_phb_mem_window(3, 1, m64.base, 0, 1 << 20)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(4, 1, m64.base, 0, 1 << 20)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 0, m64.base, 0, 1 << 20)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 32, m64.base, 0, 1 << 20)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 1, m64.base, 0, 3 << 20)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 1, m64.base, 0, 0x800)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 1, m64.base + (1 << 20), 0, 2 << 20)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 1, m32.base, 0, 1 << 20)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 1, m64.base, 0, m64.size * 2)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 1, m64.end(), 0, 1 << 20)
    );
    // Enabling needs an address first, and the mode must match.
    refused!(p, OpalError::Partial, p.phb_mmio_enable(M64, 1, 1));
    refused!(p, OpalError::Parameter, p.phb_mmio_enable(M64, 1, 3));
    refused!(p, OpalError::Unsupported, p.phb_mmio_enable(1, 0, 1));
    p.set_phb_mem_window(M64, 1, m64.base, 0, 1 << 30).unwrap();
    refused!(p, OpalError::Parameter, p.phb_mmio_enable(M64, 1, 2));
    p.phb_mmio_enable(M64, 1, 1).unwrap();
    refused!(
        p,
        OpalError::Partial,
        p.set_phb_mem_window(M64, 1, m64.base, 0, 1 << 20)
    );
    refused!(p, OpalError::Partial, p.map_pe_mmio_window(3, M64, 1, 0));
    // A second split window over the first one.
    p.set_phb_mem_window(M64, 2, m64.base, 0, 2 << 30).unwrap();
    refused!(p, OpalError::Parameter, p.phb_mmio_enable(M64, 2, 1));
    // A single-PE window inside the split one is how SR-IOV BARs are carved out.
    p.set_phb_mem_window(M64, 3, m64.base + (1 << 20), 0, 1 << 20)
        .unwrap();
    p.map_pe_mmio_window(5, M64, 3, 0).unwrap();
    p.phb_mmio_enable(M64, 3, 2).unwrap();
    // ...but two single-PE windows may not overlap.
    p.set_phb_mem_window(M64, 4, m64.base, 0, 2 << 20).unwrap();
    p.map_pe_mmio_window(6, M64, 4, 0).unwrap();
    refused!(p, OpalError::Parameter, p.phb_mmio_enable(M64, 4, 2));
    let w = p.mbt_window(3).unwrap();
    assert_eq!(get_field(mbt::W1_SINGLE_PE_NUM, w[1]), 5);
    assert_eq!(get_field(mbt::W0_MODE, w[0]), mbt::MODE_SINGLE_PE);
}

#[test]
fn m32_segments_go_to_mdt_column_a() {
    let mut p = phb();
    p.map_pe_mmio_window(0x1fe, 1, 0, 3).unwrap();
    let e = p.regs().ioda_table(crate::reg::ioda::TBL_MDT)[3];
    assert_eq!(e, 0x01fe_0003_0003_0003, "column A = PE, B-D untouched");
    assert_eq!(p.mdt(3), Some(e), "cached for resets");
    refused!(p, OpalError::Parameter, p.map_pe_mmio_window(512, 1, 0, 3));
    refused!(p, OpalError::Parameter, p.map_pe_mmio_window(1, 1, 1, 3));
    refused!(p, OpalError::Parameter, p.map_pe_mmio_window(1, 1, 0, 512));
    refused!(p, OpalError::Parameter, p.map_pe_mmio_window(1, 2, 0, 0));
    refused!(p, OpalError::Parameter, p.map_pe_mmio_window(1, 2, 32, 0));
    refused!(p, OpalError::Parameter, p.map_pe_mmio_window(1, 0, 0, 0));
    refused!(p, OpalError::Unsupported, p.map_pe_mmio_window(1, 3, 0, 0));
}

// ---- PEs ----

fn rtt_pes(p: &Phb<'_, PhbModel>, rids: &[u16]) -> Vec<u16> {
    rids.iter()
        .map(|&r| p.rtt_pe(Bdfn::from_raw(r as u64).unwrap()))
        .collect()
}

#[test]
fn set_pe_compare_semantics() {
    let mut p = phb();
    // Linux's root bus PE, then bus 1.
    p.set_pe(0x1fe, 0x0000, 7, 0, 0, 1).unwrap();
    p.set_pe(0, 0x0100, 7, 0, 0, 1).unwrap();
    assert_eq!(
        rtt_pes(&p, &[0x0000, 0x00ff, 0x0100, 0x01ff, 0x0200]),
        [0x1fe, 0x1fe, 0, 0, 0x1ff]
    );
    assert_eq!(
        p.regs().rtc_invalidations(),
        3,
        "one per SET_PE after the reset's"
    );
    // Top 3 bits of the bus: buses 0x20-0x3f.
    p.set_pe(5, 0x2000, 2, 0, 0, 1).unwrap();
    assert_eq!(
        rtt_pes(&p, &[0x1fff, 0x2000, 0x3fff, 0x4000]),
        [0x1ff, 5, 5, 0x1ff]
    );
    // Device and function compares.
    p.set_pe(6, 0x0518, 7, 1, 0, 1).unwrap();
    assert_eq!(
        rtt_pes(&p, &[0x0510, 0x0518, 0x051f, 0x0520]),
        [0x1ff, 6, 6, 0x1ff]
    );
    p.set_pe(8, 0x061a, 7, 1, 1, 1).unwrap();
    assert_eq!(rtt_pes(&p, &[0x0619, 0x061a, 0x061b]), [0x1ff, 8, 0x1ff]);
    // Bus "any" with a function compare: function 2 everywhere.
    p.set_pe(9, 0x0002, 0, 0, 1, 1).unwrap();
    assert_eq!(rtt_pes(&p, &[0x0002, 0xab0a, 0xab0b]), [9, 9, 0x1ff]);
    // Unmap goes back to the reserved PE, whatever PE is named.
    p.set_pe(0, 0x0100, 7, 0, 0, 0).unwrap();
    assert_eq!(rtt_pes(&p, &[0x0100, 0x01ff]), [0x1ff, 0x1ff]);
    assert_eq!(
        &p.rtt()[0x0518 * 2..0x0518 * 2 + 2],
        &[0, 6],
        "big-endian in memory"
    );
}

#[test]
fn set_pe_errors() {
    let mut p = phb();
    refused!(p, OpalError::Parameter, p.set_pe(512, 0x100, 7, 0, 0, 1));
    refused!(p, OpalError::Parameter, p.set_pe(1, 0x1_0000, 7, 0, 0, 1));
    refused!(p, OpalError::Parameter, p.set_pe(1, 0x100, 1, 0, 0, 1));
    refused!(p, OpalError::Parameter, p.set_pe(1, 0x100, 8, 0, 0, 1));
    refused!(p, OpalError::Parameter, p.set_pe(1, 0x100, 7, 2, 0, 1));
    refused!(p, OpalError::Parameter, p.set_pe(1, 0x100, 7, 0, 2, 1));
    refused!(p, OpalError::Parameter, p.set_pe(1, 0x100, 7, 0, 0, 2));
}

#[test]
fn small_phb_pe_limits() {
    let mut p = phb_with(false, PhbModel::with_caps(PhbKind::Phb4, false));
    assert_eq!(p.reserved_pe(), 255);
    assert!(p.rtt().chunks(2).all(|e| e == [0, 0xff]));
    refused!(p, OpalError::Parameter, p.set_pe(256, 0x100, 7, 0, 0, 1));
    refused!(p, OpalError::Parameter, p.set_peltv(0, 256, 1));
    refused!(
        p,
        OpalError::Parameter,
        p.map_pe_dma_window(256, 512, 1, 0, 0x1000, 0x1000)
    );
    refused!(
        p,
        OpalError::Parameter,
        p.set_phb_mem_window(M64, 16, p.layout().m64.base, 0, 1 << 20)
    );
    p.set_peltv(255, 9, 1).unwrap();
    assert_eq!(p.peltv()[255 * 32 + 1], 0x40, "rows of num_pes / 8 bytes");
}

#[test]
fn peltv_bits() {
    let mut p = phb();
    p.set_peltv(0x1fe, 0x1fe, 1).unwrap();
    p.set_peltv(0x1fe, 0, 1).unwrap();
    assert_eq!(p.peltv()[0x1fe * 64 + 0x1fe / 8], 0x02);
    assert_eq!(p.peltv()[0x1fe * 64], 0x80);
    p.set_peltv(0x1fe, 0, 0).unwrap();
    assert_eq!(p.peltv()[0x1fe * 64], 0x00);
    refused!(p, OpalError::Parameter, p.set_peltv(512, 0, 1));
    refused!(p, OpalError::Parameter, p.set_peltv(0, 512, 1));
    refused!(p, OpalError::Parameter, p.set_peltv(0, 0, 2));
}

// ---- MSIs ----

#[test]
fn set_xive_pe_writes_one_mist_quarter() {
    let mut p = phb();
    p.set_xive_pe(0x1fe, 5).unwrap();
    p.set_xive_pe(3, 6).unwrap();
    p.set_xive_pe(0x1ff, 4).unwrap();
    let hw = p.regs().ioda_table(crate::reg::ioda::TBL_MIST)[1];
    assert_eq!(
        hw, 0x01ff_01fe_0003_0000,
        "MSIs 4-7 are quarters 0-3 of word 1"
    );
    assert_eq!(p.mist_word(1), Some(hw));
    refused!(p, OpalError::Parameter, p.set_xive_pe(512, 0));
    refused!(p, OpalError::Parameter, p.set_xive_pe(0, 0xff8));
}

#[test]
fn msi_composition_and_checks() {
    let p = phb();
    let m = p.get_msi_64(0, 2, 1).unwrap();
    assert_eq!((m.address, m.data), (1 << 60, 2));
    let m = p.get_msi_32(0, 0x25, 1).unwrap();
    assert_eq!((m.address, m.data), (0xffff_0200, 5));
    assert_eq!(p.get_msi_64(512, 0, 1), Err(OpalError::Parameter));
    assert_eq!(p.get_msi_64(0, 0xff8, 1), Err(OpalError::Parameter));
    assert_eq!(p.get_msi_32(0, 0, 2), Err(OpalError::Parameter));
}

// ---- DMA ----

#[test]
fn dma_windows_as_linux_sets_them() {
    let mut p = phb();
    // 2 GiB of 4 KiB pages in two levels of 64 KiB (Linux's multilevel 32-bit window).
    p.map_pe_dma_window(1, 2, 2, 0x4000_0000, 0x1_0000, 0x1000)
        .unwrap();
    let tve = p.regs().ioda_table(crate::reg::ioda::TBL_TVT)[2];
    assert_eq!(tve, (0x4_0000 << 16) | (1 << 13) | (5 << 8) | 1);
    assert_eq!(ioda::tce_window_size(tve), Some(1 << (13 + 13 + 12)));
    assert_eq!(p.tve(2), Some(tve));
    p.map_pe_dma_window_real(1, 3, 1 << 59, 2 << 30).unwrap();
    let bypass = p.regs().ioda_table(crate::reg::ioda::TBL_TVT)[3];
    assert_eq!(bypass, ioda::tve_bypass(1 << 59, 2 << 30).unwrap());
    assert_eq!(get_field(ioda::tvt::IO_PSIZE, bypass), 0, "pass-through");
    // Size 0 disables either kind.
    p.map_pe_dma_window(1, 2, 0, 0, 0, 0).unwrap();
    p.map_pe_dma_window_real(1, 3, 0, 0).unwrap();
    assert_eq!(
        &p.regs().ioda_table(crate::reg::ioda::TBL_TVT)[2..4],
        &[0, 0]
    );
}

#[test]
fn impossible_dma_windows_are_refused() {
    let mut p = phb();
    use OpalError::Parameter as P;
    refused!(p, P, p.map_pe_dma_window(512, 1024, 1, 0, 0x1000, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 4, 1, 0, 0x1000, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 0, 0, 0x1000, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 6, 0, 0x1000, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 1, 0, 0x800, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 1, 0, 0x3000, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 1, 0, 1 << 43, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 1, 0, 0x1000, 0x2000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 1, 0x1800, 0x1000, 0x1000));
    refused!(p, P, p.map_pe_dma_window(1, 2, 1, 1 << 60, 0x1000, 0x1000));
    refused!(p, P, p.map_pe_dma_window_real(1, 2, 1 << 59, 1 << 24));
    refused!(p, P, p.map_pe_dma_window_real(1, 3, 0, 1 << 24));
    refused!(p, P, p.map_pe_dma_window_real(1, 3, 3 << 59, 1 << 24));
    refused!(
        p,
        P,
        p.map_pe_dma_window_real(1, 3, (1 << 59) | (1 << 23), 1 << 24)
    );
    refused!(
        p,
        P,
        p.map_pe_dma_window_real(1, 3, 1 << 59, (1 << 24) + 4096)
    );
    refused!(p, P, p.map_pe_dma_window_real(1, 3, 1 << 59, 1 << 50));
    refused!(p, P, p.map_pe_dma_window_real(0, 3, 1 << 59, 1 << 24));
}

#[test]
fn tce_kills() {
    let mut p = phb();
    use crate::reg::*;
    p.tce_kill(1, 0x1fe, 0, 0, 0).unwrap();
    p.tce_kill(0, 7, 0x1000, 0x8000_0000, 3).unwrap();
    p.tce_kill(2, 0, 0, 0, 0).unwrap();
    let kills = &p.regs().tce_kills()[1..]; // [0] is the bring-up's kill-all
    assert_eq!(
        kills,
        [TCE_KILL_PE | 0x1fe, TCE_KILL_PE | 7, TCE_KILL_ALL],
        "pages become a PE kill"
    );
    assert_ne!(
        p.regs().read_reg(DMA_READ_WRITE_SYNC) & DMA_READ_SYNC_START,
        0,
        "DMA sync started"
    );
    use OpalError::Parameter as P;
    refused!(p, P, p.tce_kill(3, 0, 0, 0, 0));
    refused!(p, P, p.tce_kill(1, 512, 0, 0, 0));
    refused!(p, P, p.tce_kill(0, 1, 0x2000, 0, 1));
    refused!(p, P, p.tce_kill(0, 1, 0x1_0000, 0x8000, 1));
    refused!(p, P, p.tce_kill(0, 1, 0x1000, 1 << 60, 1));
    // A kill that never leaves the queue.
    p.regs_mut().stall_tce_kill(POLL_READS);
    assert_eq!(p.tce_kill(1, 1, 0, 0, 0), Err(OpalError::Hardware));
    p.regs_mut().stall_tce_kill(POLL_READS - 1);
    assert_eq!(p.tce_kill(1, 1, 0, 0, 0), Ok(()), "one read to spare");
}

// ---- resets ----

#[test]
fn ioda_table_reset_purges_everything() {
    let mut p = phb();
    p.set_pe(3, 0x100, 7, 0, 0, 1).unwrap();
    p.set_peltv(3, 3, 1).unwrap();
    p.map_pe_dma_window_real(3, 7, 1 << 59, 1 << 31).unwrap();
    p.set_xive_pe(3, 0).unwrap();
    p.map_pe_mmio_window(3, 1, 0, 0).unwrap();
    let mut scom = ScomModel::default();
    assert_eq!(p.pci_reset(&mut scom, 6, 1), Ok(0));
    assert!(p.rtt().chunks(2).all(|e| e == [0x01, 0xff]));
    assert!(p.peltv().iter().all(|&b| b == 0));
    use crate::reg::ioda::*;
    let m = p.regs();
    assert_eq!(m.ioda_table(TBL_TVT)[7], 0);
    assert_eq!(m.ioda_table(TBL_MIST)[0], 0);
    assert_eq!(m.ioda_table(TBL_MDT)[0], 0);
    assert_eq!(m.tce_kills().last(), Some(&crate::reg::TCE_KILL_ALL));
    assert_eq!(p.pci_reset(&mut scom, 6, 0), Ok(0), "deassert does nothing");
    assert!(scom.writes().is_empty(), "no XSCOM for an IODA reset");
}

/// Poll until done; the waits asked for, in order.
fn run_reset(p: &mut Phb<'static, PhbModel>, scom: &mut ScomModel, first: u64) -> Vec<u64> {
    let mut waits = vec![first];
    for _ in 0..1000 {
        match p.pci_poll(scom) {
            Ok(0) => return waits,
            Ok(ms) => waits.push(ms),
            Err(e) => panic!("reset failed: {e:?} after {waits:?}"),
        }
    }
    panic!("reset never finished: {waits:?}");
}

#[test]
fn complete_reset_runs_and_restores_the_phb() {
    let mut p = phb();
    let etu = p.layout().xscom.pci + x::PCI_STK_ETU_RESET;
    p.map_pe_dma_window_real(2, 5, 1 << 59, 1 << 30).unwrap();
    let tve = p.tve(5).unwrap();
    let mut scom = ScomModel::default();
    let first = p.pci_reset(&mut scom, 1, 1).unwrap();
    assert_eq!(first, 10);
    assert_eq!(scom.get(0, etu), 1 << 63, "ETU held in reset");
    assert_eq!(
        p.regs().read_reg(crate::reg::PCIE_CRESET) & crate::reg::CRESET_PERST_N,
        0
    );
    // While it runs: other resets wait, config space is unreachable, EEH says "stopped".
    assert_eq!(p.pci_reset(&mut scom, 6, 1), Err(OpalError::Busy));
    assert_eq!(
        p.config_read(0, 0, AccessSize::Word).result,
        Err(OpalError::Hardware)
    );
    assert_eq!(p.eeh_freeze_status(0).data, FreezeStatus::PHB_STOPPED);
    let waits = run_reset(&mut p, &mut scom, first);
    assert_eq!(
        waits,
        [10, 10, 1, 1, 100, 10],
        "drain, settle, DLP, tables, PERST hold, link"
    );
    assert_eq!(scom.get(0, etu), 0, "ETU released");
    assert_ne!(
        p.regs().read_reg(crate::reg::PCIE_CRESET) & crate::reg::CRESET_PERST_N,
        0
    );
    assert_eq!(p.reset_progress(), ResetProgress::Idle);
    assert_eq!(
        p.regs().ioda_table(crate::reg::ioda::TBL_TVT)[5],
        tve,
        "the TVT is restored from the cache"
    );
    assert_eq!(p.config_read(0, 0, AccessSize::Word).result, Ok(()));
    assert!(
        p.regs().violations().is_empty(),
        "{:?}",
        p.regs().violations()
    );
    assert_eq!(p.pci_poll(&mut scom), Ok(0), "polling an idle PHB");
    assert_eq!(p.pci_reset(&mut scom, 1, 0), Ok(0), "deassert does nothing");
}

#[test]
fn complete_reset_waits_for_the_pbcq_then_gives_up() {
    let mut p = phb();
    let stat = p.layout().xscom.nest + x::NEST_STK_PBCQ_STAT;
    let mut scom = ScomModel::default();
    scom.set(0, stat, 1 << 63);
    p.pci_reset(&mut scom, 1, 1).unwrap();
    assert_eq!(
        p.pci_poll(&mut scom),
        Ok(100),
        "still pending: retry in 100 ms"
    );
    scom.set(0, stat, 0);
    assert_eq!(p.pci_poll(&mut scom), Ok(10), "drained");

    let mut p = phb();
    let mut scom = ScomModel::default();
    scom.set(0, stat, 1 << 62);
    p.pci_reset(&mut scom, 1, 1).unwrap();
    let mut polls = 0;
    let r = loop {
        polls += 1;
        match p.pci_poll(&mut scom) {
            Ok(100) => continue,
            other => break other,
        }
    };
    assert_eq!((r, polls), (Err(OpalError::Hardware), 501));
    assert!(p.is_broken());
    assert_eq!(p.pci_reset(&mut scom, 6, 1), Err(OpalError::Hardware));
    assert_eq!(p.set_pe(1, 0x100, 7, 0, 0, 1), Err(OpalError::Hardware));
}

#[test]
fn complete_reset_with_a_failing_xscom_breaks_the_phb() {
    let mut p = phb();
    let mut scom = ScomModel::default();
    scom.fail_address(p.layout().xscom.pci + x::PCI_STK_ETU_RESET);
    assert_eq!(p.pci_reset(&mut scom, 1, 1), Err(OpalError::Hardware));
    assert!(p.is_broken());
}

#[test]
fn fundamental_and_hot_resets() {
    let mut p = phb();
    let mut scom = ScomModel::default();
    let perst_n = |p: &Phb<'_, PhbModel>| {
        p.regs().read_reg(crate::reg::PCIE_CRESET) & crate::reg::CRESET_PERST_N
    };
    // Fresh from init PERST is still asserted: released at once, no 250 ms hold.
    assert_eq!(perst_n(&p), 0);
    let first = p.pci_reset(&mut scom, 5, 1).unwrap();
    assert_eq!(first, 1);
    assert_ne!(perst_n(&p), 0);
    assert_eq!(run_reset(&mut p, &mut scom, first), [1]);
    // With the link running, PERST is asserted and held.
    let first = p.pci_reset(&mut scom, 5, 1).unwrap();
    assert_eq!(first, 250);
    assert_eq!(perst_n(&p), 0);
    assert_eq!(run_reset(&mut p, &mut scom, first), [250, 10]);
    assert_ne!(perst_n(&p), 0);

    let first = p.pci_reset(&mut scom, 4, 1).unwrap();
    assert_eq!(
        p.config_read(0, 0x3e, AccessSize::Half).result,
        Err(OpalError::Hardware)
    );
    assert_ne!(
        p.regs().config_bytes(Bdfn::ROOT, 0x3e, 1)[0] & 0x40,
        0,
        "secondary bus reset"
    );
    assert_eq!(run_reset(&mut p, &mut scom, first), [2, 10]);
    assert_eq!(p.config_read(0, 0x3e, AccessSize::Half).data & 0x40, 0);
    assert!(scom.writes().is_empty());

    // An empty slot: the link never trains, the reset still completes after a second.
    p.regs_mut().set_link_trained(false);
    let first = p.pci_reset(&mut scom, 5, 1).unwrap();
    let waits = run_reset(&mut p, &mut scom, first);
    assert_eq!(waits.len(), 2 + super::reset::LINK_POLLS as usize);
}

#[test]
fn reset_argument_errors() {
    let mut p = phb();
    let mut scom = ScomModel::default();
    refused!(p, OpalError::Parameter, p.pci_reset(&mut scom, 0, 1));
    refused!(p, OpalError::Parameter, p.pci_reset(&mut scom, 7, 1));
    refused!(p, OpalError::Parameter, p.pci_reset(&mut scom, 6, 2));
    refused!(p, OpalError::Unsupported, p.pci_reset(&mut scom, 2, 1));
    p.regs_mut().set_reg(crate::reg::PAPR_ERR_INJ_CTL, 7);
    assert_eq!(p.pci_reset(&mut scom, 3, 1), Ok(0));
    assert_eq!(p.regs().read_reg(crate::reg::PAPR_ERR_INJ_CTL), 0);
}

#[test]
fn whole_boot_sequence_of_one_phb() {
    use crate::dt::{device_nodes, function_facts, pciex_properties, LsiMap, PhbDtContext};
    use crate::model::{Kind, NodeId};
    use crate::registry::PhbRegistry;
    use crate::scan::{assign_buses, root_port_link_active};

    let l = layout(PhbGen::Phb4, 1, 1);
    let mut scom = ScomModel::default();
    l.map_bars(&mut scom).unwrap();
    let mut m = PhbModel::with_caps(PhbKind::Phb4, false);
    let nic = m.add_child(NodeId::ROOT_PORT, 0, Kind::Endpoint, 0x8086, 0x10d3);
    m.poke(nic, 0x08, &[0, 0, 0, 2]);
    m.poke(nic, 0x3d, &[1]);
    m.poke(NodeId::ROOT_PORT, 0x52, &[0x00, 0x20]); // data link active
    let caps = Caps::read(&mut m).unwrap();
    let irq = IrqWiring {
        base_msi: 0xfd000,
        ..port_wiring()
    };
    let mut p = Phb::new(m, l, caps, irq, InitOptions::for_phb(&l), tables(256)).unwrap();
    p.init_hw(&clock()).unwrap();
    let mut wait = p.pci_reset(&mut scom, 5, 1).unwrap();
    while wait != 0 {
        wait = p.pci_poll(&mut scom).unwrap();
    }
    assert!(root_port_link_active(p.regs_mut()).unwrap());
    let mut found = Vec::new();
    assign_buses(p.regs_mut(), &mut |f| found.push(f)).unwrap();
    found.push(crate::scan::Found {
        bdfn: Bdfn::ROOT,
        vendor: 0x1014,
        device: 0x04c1,
        bridge: Some(crate::scan::BusRange {
            primary: 0,
            secondary: 1,
            subordinate: 1,
        }),
    });
    let facts: Vec<_> = found
        .iter()
        .map(|f| function_facts(p.regs_mut(), f).unwrap())
        .collect();
    let src = p.irq_sources();
    let lsi = LsiMap {
        interrupt_parent: 9,
        girqs: [0, 1, 2, 3].map(|i| src.lsi_girq + i),
    };
    let root = device_nodes(&facts, &lsi).unwrap();
    assert_eq!(root.children[0].name, "ethernet@0");
    let map = root.property("interrupt-map").unwrap();
    assert_eq!(
        &map[20..24],
        &0xfd7f8u32.to_be_bytes(),
        "INTA of PHB2 as observed"
    );
    let props = pciex_properties(
        &p.dt_facts(),
        &PhbDtContext {
            interrupt_parent: 9,
            associativity: &[4, 0, 0, 0, 0],
            stack_phandle: None,
        },
    );
    let msi = props
        .iter()
        .find(|p| p.name == "ibm,opal-msi-ranges")
        .unwrap();
    assert_eq!(msi.value, [0, 0x0f, 0xd0, 0x00, 0, 0, 0x07, 0xf8]);
    let mut reg: PhbRegistry<Phb<'static, PhbModel>, 12> = PhbRegistry::new();
    reg.insert(l.opal_id, p).unwrap();
    assert_eq!(l.opal_id, 2);
    assert!(reg.get(2).is_ok());
    assert!(reg.get(3).is_err());
    assert!(reg.get(2).unwrap().regs().violations().is_empty());
}

#[test]
fn set_pe_visits_exactly_the_matching_rids() {
    for (mask, want) in [
        (0xffff, 0x0518),
        (0xff00, 0x0100),
        (0xfff8, 0x0618),
        (0x0007, 0x0002),
        (0xe000, 0x2000),
        (0x0000, 0x0000),
    ] {
        let fast: Vec<u16> = super::calls::rids_matching(mask, want).collect();
        let slow: Vec<u16> = (0..=u16::MAX).filter(|r| r & mask == want).collect();
        assert_eq!(fast, slow, "mask {mask:#x} want {want:#x}");
    }
}
