// SPDX-License-Identifier: Apache-2.0
//! Bus numbering: a depth-first walk from the root port that gives every bridge its
//! primary, secondary and subordinate bus numbers, the way skiboot (`core/pci.c`,
//! `pci_scan_bus`/`pci_scan_bridge`) and Linux (`pci_scan_bridge` when it assigns) do.
//!
//! A bridge is first opened to every bus below its secondary (subordinate 0xff), so config
//! cycles to the buses being numbered reach it; once its subtree is numbered, the
//! subordinate is closed down to the last bus used. Behind a PCIe root port or switch
//! downstream port only device 0 is probed (the link has one device on it); behind an
//! upstream switch port or a conventional PCI bridge, all 32.
//!
//! Running out of bus numbers (more bridges than buses 1-255) is an error, never a panic;
//! the bridges numbered before it keep their numbers. Recursion depth is bounded by the
//! bus count: every level takes a bus number.

use crate::{config_read, config_write, Bdfn, CfgError, PhbRegs};

/// Config access as the walk needs it; every [`PhbRegs`] has it through
/// [`config_read`]/[`config_write`].
pub trait ConfigSpace {
    fn read(&mut self, bdfn: Bdfn, offset: u32, size: u32) -> Result<u32, CfgError>;
    fn write(&mut self, bdfn: Bdfn, offset: u32, size: u32, value: u32) -> Result<(), CfgError>;
}

impl<R: PhbRegs + ?Sized> ConfigSpace for R {
    fn read(&mut self, bdfn: Bdfn, offset: u32, size: u32) -> Result<u32, CfgError> {
        config_read(self, bdfn, offset, size)
    }
    fn write(&mut self, bdfn: Bdfn, offset: u32, size: u32, value: u32) -> Result<(), CfgError> {
        config_write(self, bdfn, offset, size, value)
    }
}

/// Config-space offsets and values the walk uses (PCI Local Bus / PCIe base spec).
mod cfg {
    pub const VENDOR_ID: u32 = 0x00;
    pub const DEVICE_ID: u32 = 0x02;
    pub const STATUS: u32 = 0x06;
    pub const STATUS_CAP_LIST: u32 = 0x10;
    pub const HEADER_TYPE: u32 = 0x0e;
    pub const HEADER_MULTI_FUNCTION: u32 = 0x80;
    pub const HEADER_BRIDGE: u32 = 0x01;
    pub const PRIMARY_BUS: u32 = 0x18;
    pub const SUBORDINATE_BUS: u32 = 0x1a;
    pub const CAP_PTR: u32 = 0x34;
    pub const CAP_ID_PCIE: u32 = 0x10;
    pub const PCIE_FLAGS: u32 = 0x02;
    pub const PCIE_LINK_STATUS: u32 = 0x12;
    pub const LINK_STATUS_DLLA: u32 = 1 << 13;
    pub const PCIE_TYPE_ROOT_PORT: u32 = 4;
    pub const PCIE_TYPE_DOWNSTREAM: u32 = 6;
}

/// A bridge's bus numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusRange {
    pub primary: u8,
    pub secondary: u8,
    pub subordinate: u8,
}

/// One function the walk found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub bdfn: Bdfn,
    pub vendor: u16,
    pub device: u16,
    /// For a bridge, the numbers it was given.
    pub bridge: Option<BusRange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// No bus number was left for the secondary bus of the bridge at `bridge`.
    BusNumbersExhausted { bridge: Bdfn },
    /// A config access was refused.
    Config(CfgError),
}

impl From<CfgError> for ScanError {
    fn from(e: CfgError) -> ScanError {
        ScanError::Config(e)
    }
}

/// Number every bus below the root port (bdfn 0, whose secondary bus becomes 1) and report
/// each function found to `visit`, a bridge after its subtree (so with its final numbers).
/// Returns the root port's subordinate bus.
pub fn assign_buses<C: ConfigSpace + ?Sized>(
    cfg: &mut C,
    visit: &mut dyn FnMut(Found),
) -> Result<u8, ScanError> {
    let range = number_bridge(cfg, Bdfn::ROOT, 0, 1, visit)?;
    Ok(range.subordinate)
}

fn number_bridge<C: ConfigSpace + ?Sized>(
    cfg: &mut C,
    bridge: Bdfn,
    primary: u8,
    secondary: u8,
    visit: &mut dyn FnMut(Found),
) -> Result<BusRange, ScanError> {
    // Keep the secondary latency timer (byte 0x1b); open the subordinate wide.
    let old = cfg.read(bridge, cfg::PRIMARY_BUS, 4)?;
    let opened = (old & 0xff00_0000) | 0x00ff_0000 | (secondary as u32) << 8 | primary as u32;
    cfg.write(bridge, cfg::PRIMARY_BUS, 4, opened)?;
    let only_dev0 = is_pcie_port_above_a_link(cfg, bridge)?;
    let subordinate = scan_bus(cfg, secondary, only_dev0, visit)?;
    cfg.write(bridge, cfg::SUBORDINATE_BUS, 1, subordinate as u32)?;
    Ok(BusRange {
        primary,
        secondary,
        subordinate,
    })
}

/// Whether `bdfn` is a PCIe root port or switch downstream port: one device behind it.
fn is_pcie_port_above_a_link<C: ConfigSpace + ?Sized>(
    cfg: &mut C,
    bdfn: Bdfn,
) -> Result<bool, ScanError> {
    Ok(matches!(
        pcie_port_type(cfg, bdfn)?,
        Some(cfg::PCIE_TYPE_ROOT_PORT | cfg::PCIE_TYPE_DOWNSTREAM)
    ))
}

/// Offset of `bdfn`'s PCI Express capability, if it has one.
fn pcie_cap<C: ConfigSpace + ?Sized>(cfg: &mut C, bdfn: Bdfn) -> Result<Option<u32>, CfgError> {
    let status = cfg.read(bdfn, cfg::STATUS, 2)?;
    if status == 0xffff || status & cfg::STATUS_CAP_LIST == 0 {
        return Ok(None);
    }
    let mut at = cfg.read(bdfn, cfg::CAP_PTR, 1)? & 0xfc;
    // A capability list is at most 48 entries long (0x40-0xff, 4 bytes each); a loop in a
    // broken device's list stops there.
    for _ in 0..48 {
        if at < 0x40 {
            break;
        }
        let header = cfg.read(bdfn, at, 2)?;
        if header & 0xff == cfg::CAP_ID_PCIE {
            return Ok(Some(at));
        }
        at = (header >> 8) & 0xfc;
    }
    Ok(None)
}

/// The device/port type of `bdfn`'s PCI Express capability (PCIe base spec: 0 endpoint,
/// 4 root port, 5 switch upstream, 6 switch downstream, ...), `None` for a conventional
/// PCI function.
pub fn pcie_port_type<C: ConfigSpace + ?Sized>(
    cfg: &mut C,
    bdfn: Bdfn,
) -> Result<Option<u32>, CfgError> {
    match pcie_cap(cfg, bdfn)? {
        Some(at) => Ok(Some((cfg.read(bdfn, at + cfg::PCIE_FLAGS, 2)? >> 4) & 0xf)),
        None => Ok(None),
    }
}

/// Whether the root port's link is up: Link Status (PCIe capability + 0x12) bit 13, Data
/// Link Layer Link Active. QEMU's PHB reports every link trained, so this bit is what
/// tells an empty slot from a populated one (pci-phb.md §1.7); skiboot scans an empty
/// slot's root port only.
pub fn root_port_link_active<C: ConfigSpace + ?Sized>(cfg: &mut C) -> Result<bool, CfgError> {
    match pcie_cap(cfg, Bdfn::ROOT)? {
        Some(at) => {
            Ok(cfg.read(Bdfn::ROOT, at + cfg::PCIE_LINK_STATUS, 2)? & cfg::LINK_STATUS_DLLA != 0)
        }
        None => Ok(false),
    }
}

/// Probe `bus`, number the bridges on it, and return the last bus number used below it.
fn scan_bus<C: ConfigSpace + ?Sized>(
    cfg: &mut C,
    bus: u8,
    only_dev0: bool,
    visit: &mut dyn FnMut(Found),
) -> Result<u8, ScanError> {
    let mut last = bus;
    let devices = if only_dev0 { 1 } else { 32 };
    for dev in 0..devices {
        for func in 0..8 {
            let Some(bdfn) = Bdfn::new(bus, dev, func) else {
                break;
            };
            let vendor = cfg.read(bdfn, cfg::VENDOR_ID, 2)?;
            if vendor == 0xffff || vendor == 0 {
                if func == 0 {
                    break;
                }
                continue;
            }
            let device = cfg.read(bdfn, cfg::DEVICE_ID, 2)? as u16;
            let header = cfg.read(bdfn, cfg::HEADER_TYPE, 1)?;
            let bridge = if header & 0x7f == cfg::HEADER_BRIDGE {
                let Some(secondary) = last.checked_add(1) else {
                    return Err(ScanError::BusNumbersExhausted { bridge: bdfn });
                };
                let range = number_bridge(cfg, bdfn, bus, secondary, visit)?;
                last = range.subordinate;
                Some(range)
            } else {
                None
            };
            visit(Found {
                bdfn,
                vendor: vendor as u16,
                device,
                bridge,
            });
            if func == 0 && header & cfg::HEADER_MULTI_FUNCTION == 0 {
                break;
            }
        }
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, NodeId, PhbModel};
    use std::vec::Vec;

    fn bdfn(bus: u8, dev: u8, func: u8) -> Bdfn {
        Bdfn::new(bus, dev, func).unwrap()
    }

    fn range(primary: u8, secondary: u8, subordinate: u8) -> Option<BusRange> {
        Some(BusRange {
            primary,
            secondary,
            subordinate,
        })
    }

    fn scan(m: &mut PhbModel) -> (Result<u8, ScanError>, Vec<Found>) {
        let mut found = Vec::new();
        let r = assign_buses(m, &mut |f| found.push(f));
        (r, found)
    }

    /// Root port -> switch upstream port -> two downstream ports -> an endpoint each (the
    /// second one with two functions).
    fn switch_topology() -> (PhbModel, [NodeId; 5]) {
        let mut m = PhbModel::new();
        let up = m.add_child(NodeId::ROOT_PORT, 0, Kind::SwitchUpstream, 0x10b5, 0x8725);
        let down0 = m.add_child(up, 0, Kind::SwitchDownstream, 0x10b5, 0x8726);
        let down1 = m.add_child(up, 1 << 3, Kind::SwitchDownstream, 0x10b5, 0x8726);
        let nvme = m.add_child(down0, 0, Kind::Endpoint, 0x1b36, 0x0010);
        let nic = m.add_child(down1, 0, Kind::Endpoint, 0x8086, 0x10d3);
        m.add_child(down1, 1, Kind::Endpoint, 0x8086, 0x10d3);
        // Not reachable: device 1 behind a downstream port (one device per link).
        m.add_child(down0, 1 << 3, Kind::Endpoint, 0xdead, 0xbeef);
        (m, [up, down0, down1, nvme, nic])
    }

    #[test]
    fn root_port_switch_and_endpoints() {
        let (mut m, [up, down0, down1, ..]) = switch_topology();
        let (r, found) = scan(&mut m);
        assert_eq!(r, Ok(4));
        assert_eq!(m.bus_numbers(NodeId::ROOT_PORT), (0, 1, 4));
        assert_eq!(m.bus_numbers(up), (1, 2, 4));
        assert_eq!(m.bus_numbers(down0), (2, 3, 3));
        assert_eq!(m.bus_numbers(down1), (2, 4, 4));
        let expect = [
            Found {
                bdfn: bdfn(3, 0, 0),
                vendor: 0x1b36,
                device: 0x0010,
                bridge: None,
            },
            Found {
                bdfn: bdfn(2, 0, 0),
                vendor: 0x10b5,
                device: 0x8726,
                bridge: range(2, 3, 3),
            },
            Found {
                bdfn: bdfn(4, 0, 0),
                vendor: 0x8086,
                device: 0x10d3,
                bridge: None,
            },
            Found {
                bdfn: bdfn(4, 0, 1),
                vendor: 0x8086,
                device: 0x10d3,
                bridge: None,
            },
            Found {
                bdfn: bdfn(2, 1, 0),
                vendor: 0x10b5,
                device: 0x8726,
                bridge: range(2, 4, 4),
            },
            Found {
                bdfn: bdfn(1, 0, 0),
                vendor: 0x10b5,
                device: 0x8725,
                bridge: range(1, 2, 4),
            },
        ];
        assert_eq!(found, expect);
        // The numbers route: the endpoints now answer at their bdfns.
        assert_eq!(config_read(&mut m, bdfn(4, 0, 1), 0, 4), Ok(0x10d3_8086));
        // The model answers at device 1 behind the downstream port (as hardware that aliases
        // device 0 would); only the walk's one-device-per-link rule kept it out of `found`.
        assert_eq!(config_read(&mut m, bdfn(3, 1, 0), 0, 4), Ok(0xbeef_dead));
        assert_eq!(config_read(&mut m, bdfn(5, 0, 0), 0, 4), Ok(0xffff_ffff));
    }

    #[test]
    fn nothing_answers_before_numbering() {
        let (mut m, _) = switch_topology();
        assert_eq!(config_read(&mut m, bdfn(1, 0, 0), 0, 2), Ok(0xffff));
        assert_eq!(config_read(&mut m, bdfn(3, 0, 0), 0, 2), Ok(0xffff));
    }

    #[test]
    fn rescan_gives_the_same_numbers_and_keeps_latency() {
        let (mut m, [up, ..]) = switch_topology();
        config_write(&mut m, Bdfn::ROOT, 0x1b, 1, 0x40).unwrap();
        scan(&mut m).0.unwrap();
        assert_eq!(scan(&mut m).0, Ok(4));
        assert_eq!(m.bus_numbers(up), (1, 2, 4));
        assert_eq!(config_read(&mut m, Bdfn::ROOT, 0x18, 4), Ok(0x4004_0100));
    }

    #[test]
    fn conventional_bridge_probes_every_device() {
        let mut m = PhbModel::new();
        let br = m.add_child(NodeId::ROOT_PORT, 0, Kind::PciBridge, 0x104c, 0x8240);
        m.add_child(br, 0, Kind::Endpoint, 1, 1);
        m.add_child(br, 5 << 3, Kind::Endpoint, 2, 2);
        let deeper = m.add_child(br, 31 << 3, Kind::PciBridge, 3, 3);
        m.add_child(deeper, 0, Kind::Endpoint, 4, 4);
        let (r, found) = scan(&mut m);
        assert_eq!(r, Ok(3));
        let at: Vec<_> = found.iter().map(|f| (f.bdfn, f.vendor)).collect();
        assert_eq!(
            at,
            [
                (bdfn(2, 0, 0), 1),
                (bdfn(2, 5, 0), 2),
                (bdfn(3, 0, 0), 4),
                (bdfn(2, 31, 0), 3),
                (bdfn(1, 0, 0), 0x104c)
            ]
        );
        assert_eq!(m.bus_numbers(deeper), (2, 3, 3));
    }

    fn chain(bridges: usize) -> PhbModel {
        let mut m = PhbModel::new();
        let mut parent = NodeId::ROOT_PORT;
        for _ in 0..bridges {
            parent = m.add_child(parent, 0, Kind::PciBridge, 0x1234, 0x5678);
        }
        m.add_child(parent, 0, Kind::Endpoint, 0x1af4, 0x1001);
        m
    }

    #[test]
    fn a_chain_that_uses_every_bus_fits() {
        // Root port: bus 1; bridges 1..=254: buses 2..=255.
        let mut m = chain(254);
        let (r, found) = scan(&mut m);
        assert_eq!(r, Ok(255));
        assert_eq!(found[0].bdfn, bdfn(255, 0, 0));
        assert_eq!(found.len(), 255);
    }

    #[test]
    fn a_chain_deeper_than_the_bus_space_is_an_error() {
        let mut m = chain(255);
        let (r, _) = scan(&mut m);
        assert_eq!(
            r,
            Err(ScanError::BusNumbersExhausted {
                bridge: bdfn(255, 0, 0)
            })
        );
        let mut m = chain(400);
        assert_eq!(
            scan(&mut m).0,
            Err(ScanError::BusNumbersExhausted {
                bridge: bdfn(255, 0, 0)
            })
        );
    }

    #[test]
    fn siblings_past_the_bus_space_are_an_error() {
        // A fan-out rather than a chain: 8 bridges of 32 bridges each want 1 + 8 + 256 bus
        // numbers below the root port's, more than the 254 left.
        let mut m = PhbModel::new();
        let top = m.add_child(NodeId::ROOT_PORT, 0, Kind::PciBridge, 1, 1);
        for d in 0..8u8 {
            let mid = m.add_child(top, d << 3, Kind::PciBridge, 2, 2);
            for e in 0..32u8 {
                m.add_child(mid, e << 3, Kind::PciBridge, 3, 3);
            }
        }
        let (r, _) = scan(&mut m);
        assert!(
            matches!(r, Err(ScanError::BusNumbersExhausted { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn root_port_link_state() {
        let mut m = PhbModel::new();
        assert_eq!(root_port_link_active(&mut m), Ok(false));
        // The model's PCIe capability is at 0x40; Link Status is at +0x12.
        m.poke(NodeId::ROOT_PORT, 0x52, &[0x00, 0x20]);
        assert_eq!(root_port_link_active(&mut m), Ok(true));
        m.set_fenced(true);
        assert_eq!(
            root_port_link_active(&mut m),
            Ok(false),
            "no capability list"
        );
    }

    #[test]
    fn a_fenced_phb_shows_nothing() {
        let (mut m, _) = switch_topology();
        m.set_fenced(true);
        let (r, found) = scan(&mut m);
        assert_eq!(r, Ok(1));
        assert!(found.is_empty());
    }
}
