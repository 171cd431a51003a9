// SPDX-License-Identifier: Apache-2.0
//! Board-level services behind OPAL calls: pollers, the real-time clock, power.

use opal_api::OpalResult;

/// Most data bytes in an IPMI request or reply between the OS and the BMC (a BT frame's
/// length byte counts at most 255, less its header).
pub const IPMI_MAX_DATA: usize = 252;

/// An IPMI message between the OS and the BMC, as `struct opal_ipmi_msg` carries it less
/// its version byte. A reply's data starts with the completion code.
#[derive(Clone, Copy)]
pub struct IpmiMsg {
    /// `netfn << 2 | lun`.
    pub netfn_lun: u8,
    pub cmd: u8,
    len: u8,
    data: [u8; IPMI_MAX_DATA],
}

impl IpmiMsg {
    /// `None` if `data` is longer than [`IPMI_MAX_DATA`].
    pub fn new(netfn_lun: u8, cmd: u8, data: &[u8]) -> Option<Self> {
        let mut buf = [0; IPMI_MAX_DATA];
        buf.get_mut(..data.len())?.copy_from_slice(data);
        Some(Self {
            netfn_lun,
            cmd,
            len: data.len() as u8,
            data: buf,
        })
    }
    pub fn data(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }
}

pub trait Platform {
    /// Runs the firmware's pollers (console drain, BMC protocol progress).
    fn poll(&self);
    /// Event bits (`opal_api::event`) owned by the platform, e.g. RTC completion.
    fn pending_events(&self) -> u64;
    /// Seconds since the Unix epoch. `Err(BusyEvent)` while a read is in flight.
    fn rtc_read(&self) -> OpalResult<u64>;
    fn rtc_write(&self, unix_seconds: u64) -> OpalResult<()>;
    /// Starts powering the machine off; completes from later `poll` calls.
    fn power_down(&self, immediate: bool) -> OpalResult<()>;
    /// Starts a full reboot; completes from later `poll` calls.
    fn reboot(&self) -> OpalResult<()>;
    /// `Err(BusyEvent)` while firmware work that must finish before the host reboots
    /// (BMC requests, flash writes) is in flight.
    fn host_reboot_sync(&self) -> OpalResult<()>;
    /// Tells the nest MMU of `chip` (or every chip for `u64::MAX`) the partition table.
    /// `Err(Unsupported)` when the machine has no nest MMU (QEMU), as skiboot answers.
    fn nest_mmu_set_ptcr(&self, chip: u64, ptcr: u64) -> OpalResult<()>;
    /// Services the firmware-owned interrupt `girq` (the OS got it and calls
    /// `OPAL_HANDLE_INTERRUPT`). `Err(Parameter)` if no firmware source owns it.
    fn handle_interrupt(&self, girq: u32) -> OpalResult<()>;
    /// The machine has a BMC the OS may talk to (`OPAL_IPMI_SEND/RECV` exist).
    fn has_ipmi(&self) -> bool;
    /// Starts the OS's IPMI request. `Err(Busy)` while its previous request is unanswered
    /// or the BMC driver is held; `Err(Parameter)` for a request the BMC cannot carry.
    fn ipmi_send(&self, req: &IpmiMsg) -> OpalResult<()>;
    /// Takes the reply to the OS's request (the `event::IPMI_RECV` bit is up while one
    /// waits). `Err(Empty)` if none is ready.
    fn ipmi_recv(&self) -> OpalResult<IpmiMsg>;
    /// Bytes of NVRAM (0: none, and the NVRAM calls are absent).
    fn nvram_size(&self) -> u64;
    /// Copies NVRAM from `offset` (the caller checked the range against `nvram_size`).
    fn nvram_read(&self, offset: u64, buf: &mut [u8]) -> OpalResult<()>;
    /// Writes `len` bytes at `offset`, asking `fill(relative offset, chunk)` for them,
    /// perhaps more than once: all of them reach the flash, or none (`Err(Hardware)`).
    fn nvram_write(
        &self,
        offset: u64,
        len: u64,
        fill: &mut dyn FnMut(u64, &mut [u8]),
    ) -> OpalResult<()>;
    /// Size and erase granule of the system flash (None: no flash, the calls are absent).
    fn flash_geometry(&self) -> Option<(u64, u32)>;
    /// Raw flash accesses (no ECC, no erase before write); ranges checked by the caller.
    fn flash_read(&self, offset: u64, buf: &mut [u8]) -> OpalResult<()>;
    fn flash_write(&self, offset: u64, data: &[u8]) -> OpalResult<()>;
    fn flash_erase(&self, offset: u64, len: u64) -> OpalResult<()>;
}
