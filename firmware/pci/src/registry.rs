// SPDX-License-Identifier: Apache-2.0
//! The machine's PHBs by OPAL id, the r3 of every `OPAL_PCI_*` call (skiboot
//! `pci_get_phb`, `pci_slot_find`). Fixed capacity and no allocation, so a lookup on the
//! call path is a short scan. The firmware stores whatever it locks a PHB with.

use opal_api::{OpalError, OpalResult};

/// Bit 63 of a slot id marks a slot below a PHB (`1 << 63 | bdfn << 16 | phb id`, skiboot
/// `PCI_SLOT_ID`); without it the id is the PHB's own slot.
pub const DEVICE_SLOT: u64 = 1 << 63;

/// Why a PHB could not be registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryError {
    Full,
    DuplicateId(u64),
}

/// Up to `N` PHBs, each under its OPAL id.
pub struct PhbRegistry<T, const N: usize> {
    entries: [Option<(u64, T)>; N],
}

impl<T, const N: usize> Default for PhbRegistry<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> PhbRegistry<T, N> {
    pub fn new() -> Self {
        PhbRegistry {
            entries: core::array::from_fn(|_| None),
        }
    }

    /// Register `phb` under `id`.
    pub fn insert(&mut self, id: u64, phb: T) -> Result<(), RegistryError> {
        if self.entries.iter().flatten().any(|(i, _)| *i == id) {
            return Err(RegistryError::DuplicateId(id));
        }
        let free = self
            .entries
            .iter_mut()
            .find(|e| e.is_none())
            .ok_or(RegistryError::Full)?;
        *free = Some((id, phb));
        Ok(())
    }

    /// The PHB a call names in r3; OPAL_PARAMETER for an id no PHB has (skiboot).
    pub fn get(&self, id: u64) -> OpalResult<&T> {
        self.entries
            .iter()
            .flatten()
            .find(|(i, _)| *i == id)
            .map(|(_, phb)| phb)
            .ok_or(OpalError::Parameter)
    }

    /// The PHB of the slot `OPAL_PCI_RESET`/`OPAL_PCI_POLL` name. Only PHB slots exist
    /// (no hotplug slots are registered), so a device slot id is OPAL_PARAMETER, as
    /// skiboot answers a slot it does not know.
    pub fn slot(&self, slot_id: u64) -> OpalResult<&T> {
        if slot_id & DEVICE_SLOT != 0 {
            return Err(OpalError::Parameter);
        }
        self.get(slot_id)
    }

    /// Every registered PHB with its id, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.entries.iter().flatten().map(|(i, p)| (*i, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_opal_id() {
        let mut r: PhbRegistry<&str, 3> = PhbRegistry::new();
        r.insert(0, "phb0").unwrap();
        r.insert(6, "chip1 phb0").unwrap();
        assert_eq!(r.insert(6, "again"), Err(RegistryError::DuplicateId(6)));
        r.insert(2, "phb2").unwrap();
        assert_eq!(r.insert(3, "phb3"), Err(RegistryError::Full));
        assert_eq!(r.get(6), Ok(&"chip1 phb0"));
        assert_eq!(r.get(1), Err(OpalError::Parameter), "no such PHB");
        assert_eq!(r.get(u64::MAX), Err(OpalError::Parameter));
        assert_eq!(r.slot(2), Ok(&"phb2"));
        assert_eq!(
            r.slot(DEVICE_SLOT | 0x0100 << 16 | 2),
            Err(OpalError::Parameter)
        );
        let ids: std::vec::Vec<_> = r.iter().map(|(i, _)| i).collect();
        assert_eq!(ids, [0, 6, 2]);
    }
}
