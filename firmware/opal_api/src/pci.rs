// SPDX-License-Identifier: Apache-2.0
//! Argument and result values of the `OPAL_PCI_*` calls (skiboot `include/opal-api.h`:
//! `enum OpalFreezeState`, `OpalEehFreezeActionToken`, `OpalPciStatusToken`,
//! `OpalPciBusCompare`, `OpalPeAction`, `OpalPeltvAction`, `OpalMmioWindowType`,
//! `OpalM64EnableAction`, `OpalPciResetScope`, `OpalPciResetState`, the TCE kill types).
//! Each decoder returns `None` for a value skiboot does not define; the handler turns that
//! into `OPAL_PARAMETER`.

macro_rules! abi_enum {
    ($(#[$m:meta])* $name:ident : $repr:ty { $($(#[$vm:meta])* $v:ident = $n:expr,)* }) => {
        $(#[$m])*
        #[repr($repr)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $v = $n,)* }
        impl $name {
            /// The value as the OS passed it; `None` if it names no variant.
            pub const fn from_raw(raw: u64) -> Option<Self> {
                match raw {
                    $(n if n == $n => Some(Self::$v),)*
                    _ => None,
                }
            }
            /// The ABI number.
            pub const fn raw(self) -> $repr {
                self as $repr
            }
        }
    };
}

abi_enum! {
    /// `*freeze_state` of `OPAL_PCI_EEH_FREEZE_STATUS`.
    FreezeState: u8 {
        #[doc(alias = "OPAL_EEH_STOPPED_NOT_FROZEN")] NotFrozen = 0,
        #[doc(alias = "OPAL_EEH_STOPPED_MMIO_FREEZE")] MmioFreeze = 1,
        #[doc(alias = "OPAL_EEH_STOPPED_DMA_FREEZE")] DmaFreeze = 2,
        #[doc(alias = "OPAL_EEH_STOPPED_MMIO_DMA_FREEZE")] MmioDmaFreeze = 3,
        #[doc(alias = "OPAL_EEH_STOPPED_RESET")] Reset = 4,
        #[doc(alias = "OPAL_EEH_STOPPED_TEMP_UNAVAIL")] TempUnavail = 5,
        #[doc(alias = "OPAL_EEH_STOPPED_PERM_UNAVAIL")] PermUnavail = 6,
    }
}

abi_enum! {
    /// `*pci_error_type` of `OPAL_PCI_EEH_FREEZE_STATUS` (`enum OpalPciStatusToken`).
    PciErrorType: u16 {
        #[doc(alias = "OPAL_EEH_NO_ERROR")] NoError = 0,
        #[doc(alias = "OPAL_EEH_IOC_ERROR")] IocError = 1,
        #[doc(alias = "OPAL_EEH_PHB_ERROR")] PhbError = 2,
        #[doc(alias = "OPAL_EEH_PE_ERROR")] PeError = 3,
        #[doc(alias = "OPAL_EEH_PE_MMIO_ERROR")] PeMmioError = 4,
        #[doc(alias = "OPAL_EEH_PE_DMA_ERROR")] PeDmaError = 5,
    }
}

abi_enum! {
    /// `eeh_action_token` of `OPAL_PCI_EEH_FREEZE_CLEAR` (and `_SET`, same numbers).
    FreezeAction: u8 {
        #[doc(alias = "OPAL_EEH_ACTION_CLEAR_FREEZE_MMIO")] Mmio = 1,
        #[doc(alias = "OPAL_EEH_ACTION_CLEAR_FREEZE_DMA")] Dma = 2,
        #[doc(alias = "OPAL_EEH_ACTION_CLEAR_FREEZE_ALL")] All = 3,
    }
}

abi_enum! {
    /// `window_type` of the MMIO window calls (`enum OpalMmioWindowType`).
    WindowType: u8 {
        #[doc(alias = "OPAL_M32_WINDOW_TYPE")] M32 = 1,
        #[doc(alias = "OPAL_M64_WINDOW_TYPE")] M64 = 2,
        #[doc(alias = "OPAL_IO_WINDOW_TYPE")] Io = 3,
    }
}

abi_enum! {
    /// `enable` of `OPAL_PCI_PHB_MMIO_ENABLE` (`enum OpalM64EnableAction`).
    M64Enable: u8 {
        #[doc(alias = "OPAL_DISABLE_M64")] Disable = 0,
        /// Segmented: segment n belongs to PE n.
        #[doc(alias = "OPAL_ENABLE_M64_SPLIT")] Split = 1,
        /// The whole window belongs to one PE.
        #[doc(alias = "OPAL_ENABLE_M64_NON_SPLIT")] NonSplit = 2,
    }
}

abi_enum! {
    /// `bus_compare` of `OPAL_PCI_SET_PE` (`enum OpalPciBusCompare`): how many top bits
    /// of the bus number must match.
    BusCompare: u8 {
        #[doc(alias = "OpalPciBusAny")] Any = 0,
        #[doc(alias = "OpalPciBus3Bits")] Top3Bits = 2,
        #[doc(alias = "OpalPciBus4Bits")] Top4Bits = 3,
        #[doc(alias = "OpalPciBus5Bits")] Top5Bits = 4,
        #[doc(alias = "OpalPciBus6Bits")] Top6Bits = 5,
        #[doc(alias = "OpalPciBus7Bits")] Top7Bits = 6,
        #[doc(alias = "OpalPciBusAll")] All = 7,
    }
}

abi_enum! {
    /// `dev_compare` / `func_compare` of `OPAL_PCI_SET_PE`
    /// (`OPAL_IGNORE_RID_DEVICE_NUMBER` ... `OPAL_COMPARE_RID_FUNCTION_NUMBER`).
    RidCompare: u8 {
        Ignore = 0,
        Compare = 1,
    }
}

abi_enum! {
    /// `pe_action` of `OPAL_PCI_SET_PE` (`enum OpalPeAction`).
    PeAction: u8 {
        #[doc(alias = "OPAL_UNMAP_PE")] Unmap = 0,
        #[doc(alias = "OPAL_MAP_PE")] Map = 1,
    }
}

abi_enum! {
    /// `state` of `OPAL_PCI_SET_PELTV` (`enum OpalPeltvAction`).
    PeltvAction: u8 {
        #[doc(alias = "OPAL_REMOVE_PE_FROM_DOMAIN")] Remove = 0,
        #[doc(alias = "OPAL_ADD_PE_TO_DOMAIN")] Add = 1,
    }
}

abi_enum! {
    /// `reset_scope` of `OPAL_PCI_RESET` (`enum OpalPciResetScope`).
    ResetScope: u8 {
        #[doc(alias = "OPAL_RESET_PHB_COMPLETE")] PhbComplete = 1,
        #[doc(alias = "OPAL_RESET_PCI_LINK")] PciLink = 2,
        #[doc(alias = "OPAL_RESET_PHB_ERROR")] PhbError = 3,
        #[doc(alias = "OPAL_RESET_PCI_HOT")] PciHot = 4,
        #[doc(alias = "OPAL_RESET_PCI_FUNDAMENTAL")] PciFundamental = 5,
        #[doc(alias = "OPAL_RESET_PCI_IODA_TABLE")] IodaTable = 6,
    }
}

abi_enum! {
    /// `assert_state` of `OPAL_PCI_RESET` (`enum OpalPciResetState`).
    ResetState: u8 {
        #[doc(alias = "OPAL_DEASSERT_RESET")] Deassert = 0,
        #[doc(alias = "OPAL_ASSERT_RESET")] Assert = 1,
    }
}

abi_enum! {
    /// `kill_type` of `OPAL_PCI_TCE_KILL`.
    TceKill: u8 {
        #[doc(alias = "OPAL_PCI_TCE_KILL_PAGES")] Pages = 0,
        #[doc(alias = "OPAL_PCI_TCE_KILL_PE")] Pe = 1,
        #[doc(alias = "OPAL_PCI_TCE_KILL_ALL")] All = 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copied by hand from skiboot include/opal-api.h.
    #[test]
    fn numbers_are_pinned() {
        assert_eq!(FreezeState::MmioDmaFreeze.raw(), 3);
        assert_eq!(FreezeState::PermUnavail.raw(), 6);
        assert_eq!(PciErrorType::PhbError.raw(), 2);
        assert_eq!(PciErrorType::PeDmaError.raw(), 5);
        assert_eq!(FreezeAction::All.raw(), 3);
        assert_eq!(
            (
                WindowType::M32.raw(),
                WindowType::M64.raw(),
                WindowType::Io.raw()
            ),
            (1, 2, 3)
        );
        assert_eq!(M64Enable::NonSplit.raw(), 2);
        assert_eq!((BusCompare::Top3Bits.raw(), BusCompare::All.raw()), (2, 7));
        assert_eq!((PeAction::Unmap.raw(), PeAction::Map.raw()), (0, 1));
        assert_eq!(PeltvAction::Add.raw(), 1);
        assert_eq!(
            (ResetScope::PhbComplete.raw(), ResetScope::IodaTable.raw()),
            (1, 6)
        );
        assert_eq!(ResetState::Assert.raw(), 1);
        assert_eq!(
            (TceKill::Pages.raw(), TceKill::Pe.raw(), TceKill::All.raw()),
            (0, 1, 2)
        );
    }

    #[test]
    fn undefined_values_decode_to_none() {
        assert_eq!(BusCompare::from_raw(1), None, "1 is not a bus compare");
        assert_eq!(BusCompare::from_raw(8), None);
        assert_eq!(BusCompare::from_raw(5), Some(BusCompare::Top6Bits));
        assert_eq!(FreezeAction::from_raw(0), None);
        assert_eq!(WindowType::from_raw(0), None);
        assert_eq!(ResetScope::from_raw(7), None);
        assert_eq!(ResetState::from_raw(2), None);
        assert_eq!(TceKill::from_raw(3), None);
        assert_eq!(PeAction::from_raw(1 << 32), None, "no truncation here");
    }
}
