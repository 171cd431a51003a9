// SPDX-License-Identifier: Apache-2.0
//! The call table: one row per implemented token, decoded and dispatched by generated
//! shims. A handler whose signature disagrees with its row does not compile; two rows for
//! one token, or a token above `OPAL_LAST`, fail at compile time in `build_table`.

use crate::args::FromReg;
use crate::{console, cpu, events, flash, hmi, ipmi, msg, nmi, pci, power, rtc, xics, xive, Ctx};
use opal_api::token::{self, Token, OPAL_LAST};
use opal_api::{OpalError, OpalResult, OpalRet, Value};

#[derive(Clone, Copy)]
pub struct Entry {
    pub token: Token,
    /// The token's name and argument count: checked by the tests, not kept in the image.
    #[cfg(test)]
    pub name: &'static str,
    #[cfg(test)]
    pub nargs: u8,
    pub shim: fn(&Ctx<'_>, &[u64; 8]) -> OpalRet,
}

const SLOTS: usize = OPAL_LAST as usize + 1;
/// An INDEX slot with no row.
const NO_ROW: u8 = u8::MAX;

/// Token -> row of ROWS. A byte per token rather than an `Option<Entry>` per token keeps
/// the table small in the image (a few dozen rows against `OPAL_LAST` slots).
const fn build_index(rows: &[Entry]) -> [u8; SLOTS] {
    assert!(rows.len() < NO_ROW as usize, "too many rows for a u8 index");
    let mut index = [NO_ROW; SLOTS];
    let mut i = 0;
    while i < rows.len() {
        let tok = rows[i].token as usize;
        assert!(tok < SLOTS, "token above OPAL_LAST");
        assert!(index[tok] == NO_ROW, "two handlers for one token");
        index[tok] = i as u8;
        i += 1;
    }
    index
}

/// The row for `token`, if it is implemented.
pub fn entry(token: u64) -> Option<&'static Entry> {
    let row = *INDEX.get(usize::try_from(token).ok()?)?;
    ROWS.get(usize::from(row))
}

macro_rules! opal_table {
    ($($tok:ident => $handler:path [$($arg:ident : $ty:ty),* $(,)?];)*) => {
        /// Every implemented call, in table order.
        pub static ROWS: &[Entry] = &[$(
            Entry {
                token: token::$tok,
                #[cfg(test)]
                name: stringify!($tok),
                #[cfg(test)]
                nargs: 0 $(+ { let _ = stringify!($arg); 1 })*,
                shim: {
                    fn shim(cx: &Ctx<'_>, regs: &[u64; 8]) -> OpalRet {
                        const { assert!(0 $(+ { let _ = stringify!($arg); 1 })* <= 8, "OPAL passes at most r3..r10") };
                        let mut _regs = regs.iter().copied();
                        $(
                            let $arg = match <$ty as FromReg>::from_reg(_regs.next().unwrap_or(0)) {
                                Ok(v) => v,
                                Err(e) => return OpalRet::err(e),
                            };
                        )*
                        $handler(cx $(, $arg)*).into()
                    }
                    shim
                },
            },
        )*];
        static INDEX: [u8; SLOTS] = build_index(ROWS);
    };
}

use crate::args::{OsPtr, TermNo};
use opal_api::{Be32, Be64};

opal_table! {
    OPAL_CONSOLE_WRITE => console::write[term: TermNo, len: OsPtr<Be64>, buf: OsPtr<u8>];
    OPAL_HANDLE_INTERRUPT => events::handle_interrupt[girq: u32, mask: OsPtr<Be64>];
    OPAL_CONSOLE_READ => console::read[term: TermNo, len: OsPtr<Be64>, buf: OsPtr<u8>];
    OPAL_RTC_READ => rtc::read[ymd: OsPtr<Be32>, hms: OsPtr<Be64>];
    OPAL_RTC_WRITE => rtc::write[ymd: u32, hms: u64];
    OPAL_CEC_POWER_DOWN => power::cec_power_down[request: u64];
    OPAL_CEC_REBOOT => power::cec_reboot[];
    OPAL_CEC_REBOOT2 => power::cec_reboot2[reboot_type: u32, diag: OsPtr<u8>];
    OPAL_POLL_EVENTS => events::poll_events[mask: OsPtr<Be64>];
    OPAL_CONSOLE_WRITE_BUFFER_SPACE => console::write_buffer_space[term: TermNo, len: OsPtr<Be64>];
    OPAL_START_CPU => cpu::start_cpu[server: u64, entry: u64];
    OPAL_QUERY_CPU_STATUS => cpu::query_cpu_status[server: u64, status: OsPtr<u8>];
    OPAL_RETURN_CPU => nmi::return_cpu[];
    OPAL_REINIT_CPUS => cpu::reinit_cpus[flags: u64];
    OPAL_CHECK_TOKEN => check_token_call[tok: u64];
    OPAL_GET_MSG => msg::get_msg[buf: OsPtr<u8>, size: u64];
    OPAL_CHECK_ASYNC_COMPLETION => msg::check_async_completion[buf: OsPtr<u8>, size: u64, tok: u64];
    OPAL_SYNC_HOST_REBOOT => power::sync_host_reboot[];
    OPAL_CONSOLE_FLUSH => console::flush[term: TermNo];
    OPAL_INT_GET_XIRR => xics::get_xirr[xirr: OsPtr<Be32>, just_poll: u64];
    OPAL_INT_SET_CPPR => xics::set_cppr[cppr: u64];
    OPAL_INT_EOI => xics::eoi[xirr: u32];
    OPAL_NMMU_SET_PTCR => power::nmmu_set_ptcr[chip: u64, ptcr: u64];
    OPAL_IPMI_SEND => ipmi::send[interface: u64, msg: OsPtr<u8>, msg_len: u64];
    OPAL_IPMI_RECV => ipmi::recv[interface: u64, msg: OsPtr<u8>, msg_len: OsPtr<Be64>];
    OPAL_READ_NVRAM => flash::read_nvram[buf: OsPtr<u8>, size: u64, offset: u64];
    OPAL_WRITE_NVRAM => flash::write_nvram[buf: OsPtr<u8>, size: u64, offset: u64];
    OPAL_FLASH_READ => flash::flash_read[id: u64, offset: u64, buf: OsPtr<u8>, size: u64, tok: u64];
    OPAL_FLASH_WRITE => flash::flash_write[id: u64, offset: u64, buf: OsPtr<u8>, size: u64, tok: u64];
    OPAL_FLASH_ERASE => flash::flash_erase[id: u64, offset: u64, size: u64, tok: u64];
    OPAL_PCI_CONFIG_READ_BYTE => pci::config_read_byte[phb: u64, bdfn: u64, offset: u64, data: OsPtr<u8>];
    OPAL_PCI_CONFIG_READ_HALF_WORD => pci::config_read_half_word[phb: u64, bdfn: u64, offset: u64, data: OsPtr<u16>];
    OPAL_PCI_CONFIG_READ_WORD => pci::config_read_word[phb: u64, bdfn: u64, offset: u64, data: OsPtr<Be32>];
    OPAL_PCI_CONFIG_WRITE_BYTE => pci::config_write_byte[phb: u64, bdfn: u64, offset: u64, data: u8];
    OPAL_PCI_CONFIG_WRITE_HALF_WORD => pci::config_write_half_word[phb: u64, bdfn: u64, offset: u64, data: u16];
    OPAL_PCI_CONFIG_WRITE_WORD => pci::config_write_word[phb: u64, bdfn: u64, offset: u64, data: u32];
    OPAL_PCI_EEH_FREEZE_STATUS => pci::eeh_freeze_status[phb: u64, pe: u64, freeze_state: OsPtr<u8>, pci_error_type: OsPtr<u16>, phb_status: OsPtr<Be64>];
    OPAL_PCI_EEH_FREEZE_CLEAR => pci::eeh_freeze_clear[phb: u64, pe: u64, action: u64];
    OPAL_PCI_PHB_MMIO_ENABLE => pci::phb_mmio_enable[phb: u64, window_type: u16, window: u16, enable: u16];
    OPAL_PCI_SET_PHB_MEM_WINDOW => pci::set_phb_mem_window[phb: u64, window_type: u16, window: u16, addr: u64, pci_addr: u64, size: u64];
    OPAL_PCI_MAP_PE_MMIO_WINDOW => pci::map_pe_mmio_window[phb: u64, pe: u64, window_type: u16, window: u16, segment: u16];
    OPAL_PCI_SET_PE => pci::set_pe[phb: u64, pe: u64, bdfn: u64, bus_compare: u8, dev_compare: u8, func_compare: u8, action: u8];
    OPAL_PCI_SET_PELTV => pci::set_peltv[phb: u64, parent: u32, child: u32, state: u8];
    OPAL_PCI_SET_XIVE_PE => pci::set_xive_pe[phb: u64, pe: u64, ive: u32];
    OPAL_GET_MSI_32 => pci::get_msi_32[phb: u64, mve: u32, ive: u32, range: u8, address: OsPtr<Be32>, data: OsPtr<Be32>];
    OPAL_GET_MSI_64 => pci::get_msi_64[phb: u64, mve: u32, ive: u32, range: u8, address: OsPtr<Be64>, data: OsPtr<Be32>];
    OPAL_PCI_MAP_PE_DMA_WINDOW => pci::map_pe_dma_window[phb: u64, pe: u16, window_id: u16, levels: u16, table_addr: u64, table_size: u64, page_size: u64];
    OPAL_PCI_MAP_PE_DMA_WINDOW_REAL => pci::map_pe_dma_window_real[phb: u64, pe: u16, window_id: u16, pci_start: u64, size: u64];
    OPAL_PCI_RESET => pci::pci_reset[slot: u64, scope: u8, assert_state: u8];
    OPAL_PCI_POLL => pci::pci_poll[slot: u64];
    OPAL_PCI_TCE_KILL => pci::tce_kill[phb: u64, kill_type: u32, pe: u64, tce_size: u32, dma_addr: u64, npages: u32];
    OPAL_XIVE_RESET => xive::reset[version: u64];
    OPAL_XIVE_GET_IRQ_INFO => xive::get_irq_info[girq: u32, flags: OsPtr<Be64>, eoi_page: OsPtr<Be64>, trig_page: OsPtr<Be64>, esb_shift: OsPtr<Be32>, src_chip: OsPtr<Be32>];
    OPAL_XIVE_GET_IRQ_CONFIG => xive::get_irq_config[girq: u32, vp: OsPtr<Be64>, prio: OsPtr<u8>, lirq: OsPtr<Be32>];
    OPAL_XIVE_SET_IRQ_CONFIG => xive::set_irq_config[girq: u32, vp: u64, prio: u8, lirq: u32];
    OPAL_XIVE_GET_QUEUE_INFO => xive::get_queue_info[vp: u64, prio: u32, qpage: OsPtr<Be64>, qsize: OsPtr<Be64>, qeoi_page: OsPtr<Be64>, escalate_irq: OsPtr<Be32>, qflags: OsPtr<Be64>];
    OPAL_XIVE_SET_QUEUE_INFO => xive::set_queue_info[vp: u64, prio: u32, qpage: u64, qsize: u64, qflags: u64];
    OPAL_XIVE_DONATE_PAGE => xive::donate_page[chip: u32, addr: u64];
    OPAL_XIVE_ALLOCATE_VP_BLOCK => xive::allocate_vp_block[order: u32];
    OPAL_XIVE_FREE_VP_BLOCK => xive::free_vp_block[vp_base: u64];
    OPAL_XIVE_GET_VP_INFO => xive::get_vp_info[vp: u64, flags: OsPtr<Be64>, cam: OsPtr<Be64>, report_cl_pair: OsPtr<Be64>, chip_id: OsPtr<Be32>];
    OPAL_XIVE_SET_VP_INFO => xive::set_vp_info[vp: u64, flags: u64, report_cl_pair: u64];
    OPAL_XIVE_ALLOCATE_IRQ => xive::allocate_irq[chip: u32];
    OPAL_XIVE_FREE_IRQ => xive::free_irq[girq: u32];
    OPAL_XIVE_SYNC => xive::sync[kind: u32, id: u32];
    OPAL_XIVE_DUMP => xive::dump[kind: u32, id: u32];
    OPAL_XIVE_GET_QUEUE_STATE => xive::get_queue_state[vp: u64, prio: u32, toggle: OsPtr<Be32>, index: OsPtr<Be32>];
    OPAL_XIVE_SET_QUEUE_STATE => xive::set_queue_state[vp: u64, prio: u32, toggle: u32, index: u32];
    OPAL_HANDLE_HMI => hmi::handle_hmi[];
    OPAL_SIGNAL_SYSTEM_RESET => nmi::signal_system_reset[cpu_nr: i32];
    OPAL_HANDLE_HMI2 => hmi::handle_hmi2[out_flags: OsPtr<Be64>];
    OPAL_QUIESCE => nmi::quiesce[kind: u32, cpu: i32];
    OPAL_XIVE_GET_VP_STATE => xive::get_vp_state[vp: u64, state: OsPtr<Be64>];
}

/// Is `token` implemented?
pub fn check_token(token: u64) -> bool {
    entry(token).is_some()
}

/// `OPAL_CHECK_TOKEN(u64 token)`: `OPAL_TOKEN_PRESENT` (1) or `OPAL_TOKEN_ABSENT` (0).
fn check_token_call(cx: &Ctx<'_>, tok: u64) -> OpalResult<Value> {
    let answer = if check_token(tok) && !absent_on_this_machine(cx, tok) {
        opal_api::OPAL_TOKEN_PRESENT
    } else {
        opal_api::OPAL_TOKEN_ABSENT
    };
    Value::new(answer).ok_or(OpalError::InternalError)
}

/// Calls in the table that this machine does not have: POWER10's XIVE2 has no XICS
/// emulation, so there the XICS calls are absent (skiboot does not register them either)
/// rather than present and always WRONG_STATE; system reset needs working direct
/// controls (QEMU powernv9 has none, and Linux then uses doorbell IPIs instead); HMI
/// handling needs a generation the firmware knows (not POWER8); IPMI needs a BMC; NVRAM and flash calls a flash; the PCI calls a PHB.
fn absent_on_this_machine(cx: &Ctx<'_>, token: u64) -> bool {
    match token {
        token::OPAL_INT_GET_XIRR | token::OPAL_INT_SET_CPPR | token::OPAL_INT_EOI => {
            crate::xive::generation(cx) == Some(::xive::Gen::P10)
        }
        token::OPAL_SIGNAL_SYSTEM_RESET => !cx.nmi.available(),
        token::OPAL_HANDLE_HMI | token::OPAL_HANDLE_HMI2 => !cx.hmi.available(),
        token::OPAL_IPMI_SEND | token::OPAL_IPMI_RECV => !cx.platform.has_ipmi(),
        token::OPAL_READ_NVRAM | token::OPAL_WRITE_NVRAM => cx.platform.nvram_size() == 0,
        token::OPAL_FLASH_READ | token::OPAL_FLASH_WRITE | token::OPAL_FLASH_ERASE => {
            cx.platform.flash_geometry().is_none()
        }
        t if is_pci_call(t) => !cx.pci.present(),
        _ => false,
    }
}

/// The `OPAL_PCI_*` rows (and GET_MSI): absent without a PHB.
fn is_pci_call(token: u64) -> bool {
    matches!(token, 13..=18 | 23 | 26..=29 | 31 | 32 | 37 | 39 | 40 | 44 | 45 | 49 | 62 | 126)
}

/// Calls a CPU may make while it is already inside OPAL (an NMI or machine check taken
/// during a call, whose handler prints or reboots). Same set as skiboot's
/// `opal_entry_check`, plus `OPAL_RETURN_CPU`: a CPU reset inside a call whose NMI
/// handler returns it to firmware abandons the interrupted call for good (the firmware
/// frees the locks it held), which beats leaving it spinning in the OS, lost to the next
/// kernel. Everything else gets `OPAL_INTERNAL_ERROR` rather than running on top of the
/// interrupted call's half-updated state.
pub fn allowed_when_reentered(token: u64) -> bool {
    matches!(
        token,
        token::OPAL_CONSOLE_READ
            | token::OPAL_CONSOLE_WRITE
            | token::OPAL_CONSOLE_WRITE_BUFFER_SPACE
            | token::OPAL_CONSOLE_FLUSH
            | token::OPAL_POLL_EVENTS
            | token::OPAL_CHECK_TOKEN
            | token::OPAL_CEC_REBOOT
            | token::OPAL_CEC_REBOOT2
            | token::OPAL_SIGNAL_SYSTEM_RESET
            | token::OPAL_RETURN_CPU
    )
}

/// Runs the handler for `token`. Unknown tokens get `OPAL_PARAMETER`, as in skiboot.
pub fn dispatch(cx: &Ctx<'_>, token: u64, regs: &[u64; 8]) -> OpalRet {
    match entry(token) {
        Some(entry) if !absent_on_this_machine(cx, token) => (entry.shim)(cx, regs),
        _ => {
            log::error!("OPAL: Called with bad token {} !", token as i64);
            OpalRet::err(OpalError::Parameter)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Machine;

    #[test]
    fn rows_sit_at_their_tokens() {
        for e in ROWS.iter() {
            assert_eq!(entry(e.token).map(|f| f.name), Some(e.name));
            assert_eq!(opal_api::token::name(e.token), Some(e.name));
        }
        let implemented = (0..=OPAL_LAST).filter(|&t| entry(t).is_some()).count();
        assert_eq!(implemented, ROWS.len(), "every row reachable by its token");
        assert_eq!(entry(token::OPAL_CONSOLE_WRITE).map(|e| e.nargs), Some(3));
        assert_eq!(entry(token::OPAL_CEC_REBOOT).map(|e| e.nargs), Some(0));
    }

    #[test]
    fn unknown_tokens_are_parameter_errors() {
        let m = Machine::new();
        for tok in [11u64, 0, 181, 1000, u64::MAX, (-1i64) as u64] {
            assert_eq!(m.call(tok, &[1, 2, 3]), -1, "token {tok}");
        }
    }

    #[test]
    fn check_token_reports_exactly_the_table() {
        let m = Machine::new();
        // A machine with everything the table can offer.
        m.platform.set_nvram(0x1000);
        m.platform.set_flash(0x1_0000, 0x1000);
        m.pci.phbs.borrow_mut().push((0, 256));
        for tok in 0..=200u64 {
            let want = i64::from(entry(tok).is_some());
            assert_eq!(m.call(token::OPAL_CHECK_TOKEN, &[tok]), want, "token {tok}");
        }
        // What Linux relies on at boot (skiboot-baseline.md): present 117 and (HMI
        // handling) 98/166, absent 71/76/83/101/102.
        assert_eq!(
            m.call(token::OPAL_CHECK_TOKEN, &[token::OPAL_CONSOLE_FLUSH]),
            1
        );
        for present in [token::OPAL_HANDLE_HMI, token::OPAL_HANDLE_HMI2] {
            assert_eq!(m.call(token::OPAL_CHECK_TOKEN, &[present]), 1);
        }
        for absent in [71, 76, 83, 101, 102] {
            assert_eq!(
                m.call(token::OPAL_CHECK_TOKEN, &[absent]),
                0,
                "token {absent}"
            );
        }
        assert_eq!(m.call(token::OPAL_CHECK_TOKEN, &[u64::MAX]), 0);
    }

    #[test]
    fn reentry_allows_only_the_crash_path_calls() {
        assert!(allowed_when_reentered(token::OPAL_CONSOLE_WRITE));
        assert!(allowed_when_reentered(token::OPAL_POLL_EVENTS));
        assert!(!allowed_when_reentered(token::OPAL_START_CPU));
        assert!(!allowed_when_reentered(token::OPAL_REINIT_CPUS));
        assert!(allowed_when_reentered(token::OPAL_RETURN_CPU));
        assert!(!allowed_when_reentered(token::OPAL_QUIESCE));
    }
}
