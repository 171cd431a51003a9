// SPDX-License-Identifier: Apache-2.0
//! Where a PHB lives: from the facts QEMU's (or Hostboot's) device tree gives about one
//! `stack@` node under a `pbcq@` node, the PHB's XSCOM registers, its OPAL id, and the
//! physical addresses of its MMIO windows, register space and interrupt (ESB) space; then
//! the XSCOM writes that map them (skiboot `phb4_probe_stack`, `hw/phys-map.c`).
//!
//! The physical map is skiboot's, so the addresses Linux sees match a skiboot boot
//! (pci-phb.md §2.1): chip 0 has the 64-bit windows at 0x6_0000_0000_0000 and up, the 32-bit
//! ones at 0x6_00c0_0000_0000, ESBs at 0x6_00c3_0000_0000 and registers at
//! 0x6_00c3_c000_0000; other chips are offset by `chip << 42` (P9) or `topology << 44` (P10).

use alloc::vec::Vec;

use hal::{Scom, ScomError};

use crate::reg::xscom as x;

/// The PHB generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhbGen {
    /// POWER9.
    Phb4,
    /// POWER10.
    Phb5,
}

impl PhbGen {
    /// `compatible` of the PEC nodes QEMU puts under `xscom@`.
    pub const fn pbcq_compatible(self) -> &'static str {
        match self {
            PhbGen::Phb4 => "ibm,power9-pbcq",
            PhbGen::Phb5 => "ibm,power10-pbcq",
        }
    }

    /// First `compatible` string of the `pciex@` node the firmware creates.
    pub const fn pciex_compatible(self) -> &'static str {
        match self {
            PhbGen::Phb4 => "ibm,power9-pciex",
            PhbGen::Phb5 => "ibm,power10-pciex",
        }
    }

    /// Stacks (PHBs) of each PEC (QEMU `pnv_phb4_pec.c` tables `{1, 2, 3}` and `{3, 3}`).
    pub const fn stacks_per_pec(self) -> &'static [u32] {
        match self {
            PhbGen::Phb4 => &[1, 2, 3],
            PhbGen::Phb5 => &[3, 3],
        }
    }

    /// The global PHB index of stack `stack` of PEC `pec`, if both exist.
    pub fn phb_index(self, pec: u32, stack: u32) -> Option<u32> {
        let stacks = self.stacks_per_pec();
        let in_pec = *stacks.get(pec as usize)?;
        if stack >= in_pec {
            return None;
        }
        Some(stacks[..pec as usize].iter().sum::<u32>() + stack)
    }

    /// The XSCOM nest and PCI base of PEC `pec` (pbcq `reg[0]` and `reg[2]`).
    pub fn pec_xscom_bases(self, pec: u32) -> Option<(u64, u64)> {
        if pec as usize >= self.stacks_per_pec().len() {
            return None;
        }
        let pec = pec as u64;
        Some(match self {
            PhbGen::Phb4 => (0x401_0c00 + 0x400 * pec, 0xd01_0800 + 0x100_0000 * pec),
            PhbGen::Phb5 => (0x301_1800 - 0x100_0000 * pec, 0x801_0800 + 0x100_0000 * pec),
        })
    }

    /// The OPAL PHB id (`ibm,opal-phbid`) of PHB `index` of `chip` (skiboot
    /// `phb4_get_opal_id`: 6 PHBs per P9 Nimbus chip, 0x12 ids per P10 chip).
    pub const fn opal_id(self, chip: u32, index: u32) -> u64 {
        let per_chip = match self {
            PhbGen::Phb4 => 6,
            PhbGen::Phb5 => 0x12,
        };
        chip as u64 * per_chip + index as u64
    }
}

/// What the device tree says about one `stack@` node and its `pbcq@` parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackFacts {
    pub gen: PhbGen,
    /// `ibm,chip-id` of the chip.
    pub chip_id: u32,
    /// The chip's slot in the physical map: the chip id on P9; on P10 skiboot uses the
    /// chip's topology index (QEMU: equal to the chip id).
    pub topology_index: u32,
    /// pbcq `ibm,pec-index`.
    pub pec_index: u32,
    /// pbcq `reg[0]`: the PEC's nest XSCOM base.
    pub pec_nest_base: u64,
    /// pbcq `reg[2]`: the PEC's PCI XSCOM base.
    pub pec_pci_base: u64,
    /// stack `reg`.
    pub stack_index: u32,
    /// stack `ibm,phb-index`.
    pub phb_index: u32,
}

/// Why a `stack@` node does not describe a PHB this code can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The PEC has no such stack, or the generation no such PEC.
    NoSuchStack { pec: u32, stack: u32 },
    /// `ibm,phb-index` disagrees with the PEC/stack position.
    PhbIndexMismatch { expected: u32, found: u32 },
    /// A pbcq `reg` base is not where this PEC's registers are.
    XscomBaseMismatch { expected: u64, found: u64 },
    /// The chip is past what the physical map can place.
    ChipOutOfRange(u32),
}

/// A range of physical (CPU) addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub base: u64,
    pub size: u64,
}

impl Window {
    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.base + self.size
    }

    /// Whether `[base, base + size)` lies entirely inside this window.
    pub const fn contains_range(&self, base: u64, size: u64) -> bool {
        match base.checked_add(size) {
            Some(end) => base >= self.base && end <= self.end(),
            None => false,
        }
    }

    /// Whether the two windows share a byte.
    pub const fn overlaps(&self, other: &Window) -> bool {
        self.base < other.end() && other.base < self.end()
    }
}

/// The XSCOM bases of one stack (pci-phb.md §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackXscom {
    pub pec_nest: u64,
    pub pec_pci: u64,
    /// `pec_nest + 0x40 * (stack + 1)`: BARs, BAR_EN, NFIR, PBCQ status.
    pub nest: u64,
    /// `pec_pci + 0x40 * (stack + 1)`: PCI FIR, ETU reset.
    pub pci: u64,
    /// `pec_pci + 0x100 + 0x40 * stack`: the indirect (ASB) window onto PHB registers.
    pub etu: u64,
}

/// Size of the 32-bit window and of the M32 PCI space (skiboot `M32_PCI_SIZE`).
pub const M32_SIZE: u64 = 2 << 30;
/// PCI address of the M32 window (skiboot `M32_PCI_START`).
pub const M32_PCI_START: u64 = 0x8000_0000;
/// Size of each PHB's 64-bit window.
pub const M64_SIZE: u64 = 256 << 30;
/// Address space reserved for each PHB's register BAR.
pub const REGS_RESERVED: u64 = 1 << 20;
/// Address space reserved for each PHB's ESB pages (256 MiB of it is used).
pub const ESB_RESERVED: u64 = 512 << 20;
/// Size of the register range Linux maps (the `pciex@` node's `reg[0]`).
pub const REGS_DT_SIZE: u64 = 0x1000;

/// Everything about one PHB that does not need its registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhbLayout {
    pub gen: PhbGen,
    pub chip_id: u32,
    pub pec_index: u32,
    pub stack_index: u32,
    /// Global PHB index on the chip (0-5).
    pub index: u32,
    /// The id Linux passes in r3.
    pub opal_id: u64,
    pub xscom: StackXscom,
    /// The register BAR (1 MiB reserved; QEMU decodes 0x3000 bytes).
    pub regs: Window,
    /// The interrupt BAR: ESB pages, 64 KiB per source.
    pub esb: Window,
    /// 64-bit MMIO window (MMIO BAR0); PCI address = CPU address.
    pub m64: Window,
    /// 32-bit MMIO window (MMIO BAR1), PCI `M32_PCI_START..+2 GiB`.
    pub m32: Window,
}

impl PhbLayout {
    /// Check the facts of one stack and derive its layout.
    pub fn from_stack(f: &StackFacts) -> Result<PhbLayout, LayoutError> {
        let expected =
            f.gen
                .phb_index(f.pec_index, f.stack_index)
                .ok_or(LayoutError::NoSuchStack {
                    pec: f.pec_index,
                    stack: f.stack_index,
                })?;
        if expected != f.phb_index {
            return Err(LayoutError::PhbIndexMismatch {
                expected,
                found: f.phb_index,
            });
        }
        // The PEC index is valid here, so its bases exist.
        let (nest, pci) = f
            .gen
            .pec_xscom_bases(f.pec_index)
            .ok_or(LayoutError::NoSuchStack {
                pec: f.pec_index,
                stack: f.stack_index,
            })?;
        for (expected, found) in [(nest, f.pec_nest_base), (pci, f.pec_pci_base)] {
            if expected != found {
                return Err(LayoutError::XscomBaseMismatch { expected, found });
            }
        }
        let chip_offset = match f.gen {
            // 2^42 per chip leaves room for 16 chips below the 2^46 limit of the map.
            PhbGen::Phb4 if f.chip_id < 16 => (f.chip_id as u64) << 42,
            PhbGen::Phb5 if f.topology_index < 4 => (f.topology_index as u64) << 44,
            PhbGen::Phb4 => return Err(LayoutError::ChipOutOfRange(f.chip_id)),
            PhbGen::Phb5 => return Err(LayoutError::ChipOutOfRange(f.topology_index)),
        };
        let n = f.phb_index as u64;
        let m64_base = if n < 3 {
            0x0006_0000_0000_0000 + n * M64_SIZE
        } else {
            0x0006_0200_0000_0000 + (n - 3) * M64_SIZE
        };
        let stack = f.stack_index as u64;
        Ok(PhbLayout {
            gen: f.gen,
            chip_id: f.chip_id,
            pec_index: f.pec_index,
            stack_index: f.stack_index,
            index: f.phb_index,
            opal_id: f.gen.opal_id(f.chip_id, f.phb_index),
            xscom: StackXscom {
                pec_nest: nest,
                pec_pci: pci,
                nest: nest + 0x40 * (stack + 1),
                pci: pci + 0x40 * (stack + 1),
                etu: pci + 0x100 + 0x40 * stack,
            },
            regs: Window {
                base: chip_offset + 0x0006_00c3_c000_0000 + n * REGS_RESERVED,
                size: REGS_RESERVED,
            },
            esb: Window {
                base: chip_offset + 0x0006_00c3_0000_0000 + n * ESB_RESERVED,
                size: 256 << 20,
            },
            m64: Window {
                base: chip_offset + m64_base,
                size: M64_SIZE,
            },
            m32: Window {
                base: chip_offset + 0x0006_00c0_0000_0000 + n * M32_SIZE,
                size: M32_SIZE,
            },
        })
    }

    /// The `MMIO_BARn_MASK` value of a window: the address bits that must match, in the
    /// same `<< 8` format as the BAR (skiboot keeps bits 8-63 of the mask).
    pub const fn bar_mask(size: u64) -> u64 {
        ((!(size - 1)) & 0x00ff_ffff_ffff_ffff) << 8
    }

    /// Map the PHB's register, interrupt and MMIO BARs over XSCOM and take the ETU out of
    /// reset (skiboot `phb4_probe_stack`). QEMU maps a region only when BAR_EN is written,
    /// so every BAR is written before the enables. A failing write of the register BAR
    /// means the PHB is garded: the error is returned before anything else is touched.
    pub fn map_bars<S: Scom + ?Sized>(&self, scom: &mut S) -> Result<(), ScomError> {
        let chip = self.chip_id;
        let nest = self.xscom.nest;
        scom.write(chip, nest + x::NEST_STK_PHB_REG_BAR, self.regs.base << 8)?;
        scom.write(chip, nest + x::NEST_STK_IRQ_BAR, self.esb.base << 8)?;
        scom.write(chip, nest + x::NEST_STK_MMIO_BAR0, self.m64.base << 8)?;
        scom.write(
            chip,
            nest + x::NEST_STK_MMIO_BAR0_MASK,
            Self::bar_mask(self.m64.size),
        )?;
        scom.write(chip, nest + x::NEST_STK_MMIO_BAR1, self.m32.base << 8)?;
        scom.write(
            chip,
            nest + x::NEST_STK_MMIO_BAR1_MASK,
            Self::bar_mask(self.m32.size),
        )?;
        let enables = scom.read(chip, nest + x::NEST_STK_BAR_EN)?;
        scom.write(
            chip,
            nest + x::NEST_STK_BAR_EN,
            enables | x::BAR_EN_MMIO0 | x::BAR_EN_MMIO1 | x::BAR_EN_PHB | x::BAR_EN_INT,
        )?;
        // Clear what earlier firmware or a previous boot left in the FIRs, then release
        // the ETU. skiboot waits 1 ms after this before touching PHB registers.
        scom.write(chip, self.xscom.pci + x::PCI_STK_PCI_FIR, 0)?;
        scom.write(chip, nest + x::NEST_STK_PCI_NFIR, 0)?;
        scom.write(chip, self.xscom.pci + x::PCI_STK_ETU_RESET, 0)
    }
}

/// Why a `stack@` node's facts could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactsError<'a> {
    /// `node` lacks `property`, or it is not the size it should be.
    Property {
        node: &'a str,
        property: &'static str,
    },
}

fn cell<'a>(
    node: fdt::node::FdtNode<'_, 'a>,
    property: &'static str,
    index: usize,
) -> Result<u32, FactsError<'a>> {
    node.property(property)
        .and_then(|p| p.value.get(4 * index..4 * index + 4))
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or(FactsError::Property {
            node: node.name,
            property,
        })
}

/// The facts of every enabled `stack@` node of every PEC in QEMU's (or Hostboot's) device
/// tree, in tree order, as skiboot's `phb4_probe_pbcq` walks them: `xscom@` nodes at the
/// root give the chip (`ibm,chip-id`; on P10 also `ibm,primary-topology-index`, which
/// picks the chip's slot in the physical map), their `ibm,power9-pbcq` /
/// `ibm,power10-pbcq` children the PEC (`ibm,pec-index`, `reg` = <nest 0x100 pci 0x200>),
/// and theirs the stacks (`reg`, `ibm,phb-index`). A node that lacks something gives an
/// error in its place, and the walk goes on.
pub fn stacks_from_fdt<'a>(tree: &fdt::Fdt<'a>) -> Vec<Result<StackFacts, FactsError<'a>>> {
    let mut out = Vec::new();
    for xscom in tree
        .find_node("/")
        .into_iter()
        .flat_map(|root| root.children())
        .filter(|n| n.name.starts_with("xscom@"))
    {
        for pbcq in xscom.children() {
            let Some(compatible) = pbcq.compatible() else {
                continue;
            };
            let gen = if compatible
                .all()
                .any(|c| c == PhbGen::Phb4.pbcq_compatible())
            {
                PhbGen::Phb4
            } else if compatible
                .all()
                .any(|c| c == PhbGen::Phb5.pbcq_compatible())
            {
                PhbGen::Phb5
            } else {
                continue;
            };
            for stack in pbcq.children().filter(|n| n.name.starts_with("stack@")) {
                let disabled = stack
                    .property("status")
                    .and_then(|s| s.as_str())
                    .is_some_and(|s| s == "disabled");
                if !disabled {
                    out.push(stack_facts(gen, xscom, pbcq, stack));
                }
            }
        }
    }
    out
}

fn stack_facts<'a>(
    gen: PhbGen,
    xscom: fdt::node::FdtNode<'_, 'a>,
    pbcq: fdt::node::FdtNode<'_, 'a>,
    stack: fdt::node::FdtNode<'_, 'a>,
) -> Result<StackFacts, FactsError<'a>> {
    let chip_id = cell(xscom, "ibm,chip-id", 0)?;
    let topology_index = match gen {
        // skiboot's P9 map is indexed by chip id.
        PhbGen::Phb4 => chip_id,
        PhbGen::Phb5 => cell(xscom, "ibm,primary-topology-index", 0)?,
    };
    Ok(StackFacts {
        gen,
        chip_id,
        topology_index,
        pec_index: cell(pbcq, "ibm,pec-index", 0)?,
        pec_nest_base: cell(pbcq, "reg", 0)? as u64,
        pec_pci_base: cell(pbcq, "reg", 2)? as u64,
        stack_index: cell(stack, "reg", 0)?,
        phb_index: cell(stack, "ibm,phb-index", 0)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScomModel;

    /// A device tree shaped like QEMU 10's (pci-phb.md §1.1): one chip, its PECs and stacks.
    fn qemu_tree(gen: PhbGen, chip: u32, with_topology: bool) -> std::vec::Vec<u8> {
        let mut t = devtree::Tree::new();
        let xscom = std::format!(
            "/xscom@{:x}",
            0x0006_03fc_0000_0000_u64 + ((chip as u64) << 42)
        );
        t.add_node(&xscom).unwrap();
        t.set_property_u32(&xscom, "ibm,chip-id", chip).unwrap();
        if with_topology {
            t.set_property_u32(&xscom, "ibm,primary-topology-index", chip)
                .unwrap();
        }
        for (pec, &stacks) in gen.stacks_per_pec().iter().enumerate() {
            let (nest, pci) = gen.pec_xscom_bases(pec as u32).unwrap();
            let pbcq = std::format!("{xscom}/pbcq@{nest:x}");
            t.add_node(&pbcq).unwrap();
            t.set_property_strings(&pbcq, "compatible", &[gen.pbcq_compatible()])
                .unwrap();
            t.set_property_cells(&pbcq, "reg", &[nest as u32, 0x100, pci as u32, 0x200])
                .unwrap();
            t.set_property_u32(&pbcq, "ibm,pec-index", pec as u32)
                .unwrap();
            for s in 0..stacks {
                let stack = std::format!("{pbcq}/stack@{s}");
                t.add_node(&stack).unwrap();
                t.set_property_u32(&stack, "reg", s).unwrap();
                let index = gen.phb_index(pec as u32, s).unwrap();
                t.set_property_u32(&stack, "ibm,phb-index", index).unwrap();
                if gen == PhbGen::Phb4 && pec == 2 && s == 2 {
                    t.set_property_string(&stack, "status", "disabled").unwrap();
                }
            }
        }
        t.to_dtb().unwrap()
    }

    #[test]
    fn stacks_of_a_qemu_p9_tree() {
        let blob = qemu_tree(PhbGen::Phb4, 0, false);
        let tree = fdt::Fdt::new(&blob).unwrap();
        let stacks: std::vec::Vec<_> = stacks_from_fdt(&tree)
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let ids: std::vec::Vec<_> = stacks
            .iter()
            .map(|s| (s.pec_index, s.stack_index, s.phb_index))
            .collect();
        assert_eq!(
            ids,
            [(0, 0, 0), (1, 0, 1), (1, 1, 2), (2, 0, 3), (2, 1, 4)],
            "stack 2.2 disabled"
        );
        let l = PhbLayout::from_stack(&stacks[2]).unwrap();
        assert_eq!((l.xscom.nest, l.xscom.etu), (0x401_1080, 0xe01_0940));
    }

    #[test]
    fn stacks_of_a_qemu_p10_tree() {
        let blob = qemu_tree(PhbGen::Phb5, 1, true);
        let tree = fdt::Fdt::new(&blob).unwrap();
        let stacks = stacks_from_fdt(&tree);
        assert_eq!(stacks.len(), 6);
        let s = stacks[4].unwrap();
        assert_eq!(
            (s.gen, s.chip_id, s.topology_index, s.phb_index),
            (PhbGen::Phb5, 1, 1, 4)
        );
        assert_eq!(s.pec_nest_base, 0x201_1800);
        assert!(PhbLayout::from_stack(&s).is_ok());
        let blob = qemu_tree(PhbGen::Phb5, 0, false);
        let tree = fdt::Fdt::new(&blob).unwrap();
        assert_eq!(
            stacks_from_fdt(&tree)[0],
            Err(FactsError::Property {
                node: "xscom@603fc00000000",
                property: "ibm,primary-topology-index"
            })
        );
    }

    fn p9_stack(pec: u32, stack: u32, phb: u32) -> StackFacts {
        let (nest, pci) = PhbGen::Phb4.pec_xscom_bases(pec).unwrap();
        StackFacts {
            gen: PhbGen::Phb4,
            chip_id: 0,
            topology_index: 0,
            pec_index: pec,
            pec_nest_base: nest,
            pec_pci_base: pci,
            stack_index: stack,
            phb_index: phb,
        }
    }

    #[test]
    fn pec_bases_and_phb_numbering() {
        assert_eq!(
            PhbGen::Phb4.pec_xscom_bases(1),
            Some((0x401_1000, 0xe01_0800))
        );
        assert_eq!(
            PhbGen::Phb4.pec_xscom_bases(2),
            Some((0x401_1400, 0xf01_0800))
        );
        assert_eq!(
            PhbGen::Phb5.pec_xscom_bases(1),
            Some((0x201_1800, 0x901_0800))
        );
        assert_eq!(PhbGen::Phb5.pec_xscom_bases(2), None);
        let p9: std::vec::Vec<_> = [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2)]
            .iter()
            .map(|&(p, s)| PhbGen::Phb4.phb_index(p, s))
            .collect();
        assert_eq!(p9, [0, 1, 2, 3, 4, 5].map(Some));
        assert_eq!(PhbGen::Phb4.phb_index(0, 1), None);
        assert_eq!(PhbGen::Phb5.phb_index(1, 2), Some(5));
        assert_eq!(PhbGen::Phb5.phb_index(1, 3), None);
        assert_eq!(PhbGen::Phb4.opal_id(1, 2), 8);
        assert_eq!(PhbGen::Phb5.opal_id(1, 2), 0x14);
    }

    #[test]
    fn p9_phb0_and_phb2_as_skiboot_logs_them() {
        let l = PhbLayout::from_stack(&p9_stack(0, 0, 0)).unwrap();
        assert_eq!(
            (l.xscom.nest, l.xscom.pci, l.xscom.etu),
            (0x401_0c40, 0xd01_0840, 0xd01_0900)
        );
        assert_eq!(l.regs.base, 0x0006_00c3_c000_0000);
        assert_eq!(l.esb.base, 0x0006_00c3_0000_0000);
        assert_eq!(
            l.m32,
            Window {
                base: 0x0006_00c0_0000_0000,
                size: 2 << 30
            }
        );
        assert_eq!(
            l.m64,
            Window {
                base: 0x0006_0000_0000_0000,
                size: 256 << 30
            }
        );
        // "PHB[0:2] ... X[PE]=0x04011000/0x04011080 X[PCI]=0x0e010800/0x0e010880 X[ETU]=0x0e010940"
        let l = PhbLayout::from_stack(&p9_stack(1, 1, 2)).unwrap();
        assert_eq!(
            (l.xscom.nest, l.xscom.pci, l.xscom.etu),
            (0x401_1080, 0xe01_0880, 0xe01_0940)
        );
        assert_eq!(l.m64.base, 0x0006_0080_0000_0000);
        let l = PhbLayout::from_stack(&p9_stack(2, 0, 3)).unwrap();
        assert_eq!(
            l.m64.base, 0x0006_0200_0000_0000,
            "PHB3-5 use the second 64-bit block"
        );
        assert_eq!(l.regs.base, 0x0006_00c3_c030_0000);
        assert_eq!(l.esb.base, 0x0006_00c3_6000_0000);
    }

    #[test]
    fn second_chip_offsets() {
        let mut f = p9_stack(0, 0, 0);
        f.chip_id = 1;
        let l = PhbLayout::from_stack(&f).unwrap();
        assert_eq!(l.m64.base, 0x0006_0400_0000_0000);
        assert_eq!(l.opal_id, 6);
        let (nest, pci) = PhbGen::Phb5.pec_xscom_bases(0).unwrap();
        let f = StackFacts {
            gen: PhbGen::Phb5,
            chip_id: 1,
            topology_index: 1,
            pec_index: 0,
            pec_nest_base: nest,
            pec_pci_base: pci,
            stack_index: 0,
            phb_index: 0,
        };
        let l = PhbLayout::from_stack(&f).unwrap();
        assert_eq!(l.m32.base, 0x0006_10c0_0000_0000);
        assert_eq!(l.opal_id, 0x12);
    }

    #[test]
    fn inconsistent_facts_are_refused() {
        let mut f = p9_stack(1, 1, 2);
        f.phb_index = 1;
        assert_eq!(
            PhbLayout::from_stack(&f),
            Err(LayoutError::PhbIndexMismatch {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            PhbLayout::from_stack(&p9_stack(0, 1, 1)),
            Err(LayoutError::NoSuchStack { pec: 0, stack: 1 })
        );
        let mut f = p9_stack(0, 0, 0);
        f.pec_pci_base = 0xe01_0800;
        assert_eq!(
            PhbLayout::from_stack(&f),
            Err(LayoutError::XscomBaseMismatch {
                expected: 0xd01_0800,
                found: 0xe01_0800
            })
        );
        let mut f = p9_stack(0, 0, 0);
        f.chip_id = 16;
        assert_eq!(
            PhbLayout::from_stack(&f),
            Err(LayoutError::ChipOutOfRange(16))
        );
    }

    #[test]
    fn windows_of_one_chip_do_not_overlap() {
        let mut all = std::vec::Vec::new();
        for (pec, stacks) in PhbGen::Phb4.stacks_per_pec().iter().enumerate() {
            for s in 0..*stacks {
                let phb = PhbGen::Phb4.phb_index(pec as u32, s).unwrap();
                let l = PhbLayout::from_stack(&p9_stack(pec as u32, s, phb)).unwrap();
                all.extend([
                    l.m64,
                    l.m32,
                    Window {
                        base: l.regs.base,
                        size: REGS_RESERVED,
                    },
                    Window {
                        base: l.esb.base,
                        size: ESB_RESERVED,
                    },
                ]);
            }
        }
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(!a.overlaps(b), "{a:x?} overlaps {b:x?}");
            }
        }
    }

    #[test]
    fn bars_are_written_before_the_enables() {
        let l = PhbLayout::from_stack(&p9_stack(0, 0, 0)).unwrap();
        let mut scom = ScomModel::default();
        scom.set(0, l.xscom.pci + x::PCI_STK_ETU_RESET, 1 << 63);
        l.map_bars(&mut scom).unwrap();
        let nest = l.xscom.nest;
        assert_eq!(
            scom.get(0, nest + x::NEST_STK_PHB_REG_BAR),
            0x0600_c3c0_0000_0000
        );
        assert_eq!(
            scom.get(0, nest + x::NEST_STK_IRQ_BAR),
            0x0600_c300_0000_0000
        );
        assert_eq!(
            scom.get(0, nest + x::NEST_STK_MMIO_BAR0),
            0x0600_0000_0000_0000
        );
        // 256 GiB: mask bits for address bits 38-55, shifted left by 8.
        assert_eq!(
            scom.get(0, nest + x::NEST_STK_MMIO_BAR0_MASK),
            0xffff_c000_0000_0000
        );
        assert_eq!(
            scom.get(0, nest + x::NEST_STK_MMIO_BAR1_MASK),
            0xffff_ff80_0000_0000
        );
        assert_eq!(
            scom.get(0, nest + x::NEST_STK_BAR_EN),
            0xf000_0000_0000_0000
        );
        assert_eq!(
            scom.get(0, l.xscom.pci + x::PCI_STK_ETU_RESET),
            0,
            "ETU released"
        );
        let en = scom.write_index(0, nest + x::NEST_STK_BAR_EN).unwrap();
        for bar in [
            x::NEST_STK_PHB_REG_BAR,
            x::NEST_STK_IRQ_BAR,
            x::NEST_STK_MMIO_BAR0,
            x::NEST_STK_MMIO_BAR0_MASK,
            x::NEST_STK_MMIO_BAR1,
            x::NEST_STK_MMIO_BAR1_MASK,
        ] {
            assert!(
                scom.write_index(0, nest + bar).unwrap() < en,
                "BAR {bar:#x} after BAR_EN"
            );
        }
        // QEMU's decode of the 32-bit window: size = (~mask >> 8) + 1 over the kept bits.
        let mask = scom.get(0, nest + x::NEST_STK_MMIO_BAR1_MASK) >> 8;
        assert_eq!((!mask & 0x00ff_ffff_ffff_ffff) + 1, 2 << 30);
    }

    #[test]
    fn a_garded_phb_stops_at_the_register_bar() {
        let l = PhbLayout::from_stack(&p9_stack(0, 0, 0)).unwrap();
        let mut scom = ScomModel::default();
        scom.fail_address(l.xscom.nest + x::NEST_STK_PHB_REG_BAR);
        assert_eq!(l.map_bars(&mut scom), Err(ScomError::Address));
        assert_eq!(scom.writes().len(), 0, "nothing else was written");
    }
}
