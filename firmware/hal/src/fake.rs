// SPDX-License-Identifier: Apache-2.0
//! Software models of the hal traits, for host tests. Never built into the firmware.

extern crate std;

use crate::console::{Console, FlushState};
use crate::cpu::{CpuControl, ReinitRequest, SystemReset};
use crate::os_mem::{OsMemory, OsMemoryRules, OsRange};
use crate::platform::{IpmiMsg, Platform};
use opal_api::{CpuStatus, OpalError, OpalResult};
use std::cell::{Cell, RefCell};
use std::vec::Vec;

/// RAM from 0 to `ram.len()`, with one firmware-reserved range.
pub struct FakeOsMemory {
    pub ram: RefCell<Vec<u8>>,
    pub firmware: [(u64, u64); 1],
}

impl FakeOsMemory {
    /// 1 MiB of RAM filled with 0xAA; the firmware owns 0x8_0000..0x9_0000.
    pub fn new() -> Self {
        Self {
            ram: RefCell::new(std::vec![0xAA; 0x10_0000]),
            firmware: [(0x8_0000, 0x1_0000)],
        }
    }
    pub fn peek(&self, addr: u64, len: usize) -> Vec<u8> {
        self.ram.borrow()[addr as usize..addr as usize + len].to_vec()
    }
    pub fn poke(&self, addr: u64, data: &[u8]) {
        self.ram.borrow_mut()[addr as usize..addr as usize + data.len()].copy_from_slice(data);
    }
    pub fn peek_be64(&self, addr: u64) -> u64 {
        u64::from_be_bytes(self.peek(addr, 8).try_into().unwrap())
    }
}

impl Default for FakeOsMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl OsMemory for FakeOsMemory {
    fn check(&self, raw: u64, len: u64) -> OpalResult<OsRange> {
        OsMemoryRules {
            ram_top: self.ram.borrow().len() as u64,
            firmware: &self.firmware,
        }
        .check(raw, len)
    }
    fn read(&self, range: OsRange, offset: u64, out: &mut [u8]) {
        assert!(
            offset + out.len() as u64 <= range.len,
            "read outside a checked range"
        );
        let at = (range.real + offset) as usize;
        out.copy_from_slice(&self.ram.borrow()[at..at + out.len()]);
    }
    fn write(&self, range: OsRange, offset: u64, data: &[u8]) {
        assert!(
            offset + data.len() as u64 <= range.len,
            "write outside a checked range"
        );
        let at = (range.real + offset) as usize;
        self.ram.borrow_mut()[at..at + data.len()].copy_from_slice(data);
    }
}

/// One terminal with a bounded output queue and scripted input.
pub struct FakeConsole {
    pub capacity: usize,
    pub out: RefCell<Vec<u8>>,
    pub sent: RefCell<Vec<u8>>,
    pub input: RefCell<Vec<u8>>,
    /// Bytes the "device" accepts per flush.
    pub drain_per_flush: Cell<usize>,
}

impl FakeConsole {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            out: RefCell::new(Vec::new()),
            sent: RefCell::new(Vec::new()),
            input: RefCell::new(Vec::new()),
            drain_per_flush: Cell::new(usize::MAX),
        }
    }
}

impl Console for FakeConsole {
    fn terminals(&self) -> u32 {
        1
    }
    fn write(&self, _term: u32, data: &[u8]) -> usize {
        let n = data.len().min(self.write_space(0));
        self.out.borrow_mut().extend_from_slice(&data[..n]);
        n
    }
    fn write_space(&self, _term: u32) -> usize {
        self.capacity - self.out.borrow().len()
    }
    fn read(&self, _term: u32, buf: &mut [u8]) -> usize {
        let mut input = self.input.borrow_mut();
        let n = buf.len().min(input.len());
        buf[..n].copy_from_slice(&input[..n]);
        input.drain(..n);
        n
    }
    fn flush(&self, _term: u32) -> FlushState {
        let mut out = self.out.borrow_mut();
        if out.is_empty() {
            return FlushState::Drained;
        }
        let n = out.len().min(self.drain_per_flush.get());
        if n == 0 {
            return FlushState::NoProgress;
        }
        self.sent.borrow_mut().extend(out.drain(..n));
        if out.is_empty() {
            FlushState::Drained
        } else {
            FlushState::Progress
        }
    }
    fn input_pending(&self) -> bool {
        !self.input.borrow().is_empty()
    }
    fn output_pending(&self) -> bool {
        !self.out.borrow().is_empty()
    }
}

/// Threads by PIR with their state; records starts and reinit requests.
pub struct FakeCpus {
    pub threads: RefCell<Vec<(u64, CpuStatus)>>,
    pub current: u32,
    pub started: RefCell<Vec<(u64, u64)>>,
    pub reinits: RefCell<Vec<ReinitRequest>>,
    /// PIRs that called OPAL_RETURN_CPU and were let go.
    pub returned: RefCell<Vec<u32>>,
}

impl FakeCpus {
    /// PIRs 0,1,4,5 (2 cores × 2 threads); 0 is the caller and OS-owned.
    pub fn new() -> Self {
        Self {
            threads: RefCell::new(std::vec![
                (0, CpuStatus::Started),
                (1, CpuStatus::Inactive),
                (4, CpuStatus::Inactive),
                (5, CpuStatus::Inactive),
            ]),
            current: 0,
            started: RefCell::new(Vec::new()),
            reinits: RefCell::new(Vec::new()),
            returned: RefCell::new(Vec::new()),
        }
    }
}

impl Default for FakeCpus {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuControl for FakeCpus {
    fn status(&self, server: u64) -> Option<CpuStatus> {
        self.threads
            .borrow()
            .iter()
            .find(|t| t.0 == server)
            .map(|t| t.1)
    }
    fn start(&self, server: u64, entry: u64) -> OpalResult<()> {
        let mut threads = self.threads.borrow_mut();
        let t = threads
            .iter_mut()
            .find(|t| t.0 == server)
            .ok_or(OpalError::Parameter)?;
        if t.1 != CpuStatus::Inactive {
            return Err(OpalError::WrongState);
        }
        t.1 = CpuStatus::Started;
        self.started.borrow_mut().push((server, entry));
        Ok(())
    }
    fn reinit(&self, req: ReinitRequest) -> OpalResult<()> {
        let busy = self
            .threads
            .borrow()
            .iter()
            .any(|t| t.0 != self.current as u64 && t.1 == CpuStatus::Started);
        self.reinits.borrow_mut().push(req);
        if busy {
            return Err(OpalError::WrongState);
        }
        Ok(())
    }
    fn current(&self) -> u32 {
        self.current
    }
    /// As the firmware: only an OS-owned thread returns, and never the last one.
    fn return_to_firmware(&self) -> OpalResult<()> {
        let mut threads = self.threads.borrow_mut();
        let others_in_os = threads
            .iter()
            .filter(|t| t.0 != u64::from(self.current) && t.1 == CpuStatus::Started)
            .count();
        let me = threads
            .iter_mut()
            .find(|t| t.0 == u64::from(self.current))
            .ok_or(OpalError::Parameter)?;
        if me.1 != CpuStatus::Started || others_in_os == 0 {
            return Err(OpalError::WrongState);
        }
        me.1 = CpuStatus::Inactive;
        self.returned.borrow_mut().push(self.current);
        Ok(())
    }
    fn for_each_server(&self, f: &mut dyn FnMut(u32)) {
        for t in self.threads.borrow().iter() {
            f(t.0 as u32);
        }
    }
}

/// System reset that records what it was asked; `fail` makes chosen PIRs fail.
pub struct FakeReset {
    pub available: Cell<bool>,
    pub resets: RefCell<Vec<u32>>,
    pub fail: RefCell<Vec<(u32, OpalError)>>,
    pub quiesces: RefCell<Vec<(u32, i32)>>,
}

impl FakeReset {
    pub fn new(available: bool) -> Self {
        Self {
            available: Cell::new(available),
            resets: RefCell::new(Vec::new()),
            fail: RefCell::new(Vec::new()),
            quiesces: RefCell::new(Vec::new()),
        }
    }
}

impl SystemReset for FakeReset {
    fn available(&self) -> bool {
        self.available.get()
    }
    fn reset(&self, server: u32) -> OpalResult<()> {
        if let Some(&(_, e)) = self.fail.borrow().iter().find(|f| f.0 == server) {
            return Err(e);
        }
        self.resets.borrow_mut().push(server);
        Ok(())
    }
    fn quiesce(&self, kind: u32, cpu: i32) -> OpalResult<()> {
        self.quiesces.borrow_mut().push((kind, cpu));
        Ok(())
    }
}

/// A platform with a settable clock and a record of power requests.
#[derive(Default)]
pub struct FakePlatform {
    pub polls: Cell<u32>,
    pub clock: Cell<u64>,
    pub rtc_busy_reads: Cell<u32>,
    pub power_requests: RefCell<Vec<&'static str>>,
    pub bmc_busy: Cell<bool>,
    /// Chips with a nest MMU, and the PTCR each was given.
    pub nest_mmus: RefCell<Vec<(u64, Option<u64>)>>,
    /// The machine has no BMC.
    pub no_bmc: Cell<bool>,
    /// Every OS IPMI request, in order.
    pub ipmi_requests: RefCell<Vec<IpmiMsg>>,
    /// The BMC holds back its answers until `ipmi_answer`.
    pub ipmi_unanswered: Cell<bool>,
    ipmi_outstanding: Cell<bool>,
    ipmi_reply: Cell<Option<IpmiMsg>>,
    /// The NVRAM as the firmware keeps it, and as it is on flash.
    nvram: RefCell<Vec<u8>>,
    nvram_on_flash: RefCell<Vec<u8>>,
    /// The system flash and its erase granule (empty: none).
    flash: RefCell<Vec<u8>>,
    flash_granule: Cell<u32>,
    /// Flash writes (NVRAM's and raw) fail once this many more bytes have been written.
    flash_write_budget: Cell<Option<u64>>,
}

impl FakePlatform {
    /// Gives the machine `len` bytes of zeroed NVRAM.
    pub fn set_nvram(&self, len: usize) {
        *self.nvram.borrow_mut() = std::vec![0; len];
        *self.nvram_on_flash.borrow_mut() = std::vec![0; len];
    }
    /// The NVRAM as it is on flash.
    pub fn nvram_flash(&self) -> Vec<u8> {
        self.nvram_on_flash.borrow().clone()
    }
    /// Gives the machine a flash of `len` bytes holding a pattern.
    pub fn set_flash(&self, len: usize, granule: u32) {
        *self.flash.borrow_mut() = (0..len).map(|i| (i % 253) as u8).collect();
        self.flash_granule.set(granule);
    }
    pub fn flash_bytes(&self) -> Vec<u8> {
        self.flash.borrow().clone()
    }
    /// Makes flash writes fail after `bytes` more bytes (a write that would cross the
    /// limit fails whole).
    pub fn fail_flash_writes_after(&self, bytes: u64) {
        self.flash_write_budget.set(Some(bytes));
    }
    fn spend_write(&self, n: usize) -> OpalResult<()> {
        match self.flash_write_budget.get() {
            Some(left) if left < n as u64 => Err(OpalError::Hardware),
            Some(left) => {
                self.flash_write_budget.set(Some(left - n as u64));
                Ok(())
            }
            None => Ok(()),
        }
    }
    /// Answers the OS's outstanding IPMI request: completion code 0, then its data.
    pub fn ipmi_answer(&self) {
        if !self.ipmi_outstanding.replace(false) {
            return;
        }
        let Some(req) = self.ipmi_requests.borrow().last().copied() else {
            return;
        };
        let mut data = std::vec![0];
        data.extend_from_slice(req.data());
        data.truncate(crate::platform::IPMI_MAX_DATA);
        let reply = IpmiMsg::new((req.netfn_lun | 4) & !3, req.cmd, &data);
        self.ipmi_reply.set(reply);
    }
}

impl Platform for FakePlatform {
    /// The fake machine has no firmware-owned interrupt sources.
    fn handle_interrupt(&self, _girq: u32) -> OpalResult<()> {
        Err(OpalError::Parameter)
    }

    fn poll(&self) {
        self.polls.set(self.polls.get() + 1);
    }
    fn pending_events(&self) -> u64 {
        match self.ipmi_reply.get() {
            Some(_) => opal_api::event::IPMI_RECV,
            None => 0,
        }
    }
    fn rtc_read(&self) -> OpalResult<u64> {
        if self.rtc_busy_reads.get() > 0 {
            self.rtc_busy_reads.set(self.rtc_busy_reads.get() - 1);
            return Err(OpalError::BusyEvent);
        }
        Ok(self.clock.get())
    }
    fn rtc_write(&self, unix_seconds: u64) -> OpalResult<()> {
        self.clock.set(unix_seconds);
        Ok(())
    }
    fn power_down(&self, immediate: bool) -> OpalResult<()> {
        self.power_requests
            .borrow_mut()
            .push(if immediate { "off-now" } else { "off" });
        Ok(())
    }
    fn reboot(&self) -> OpalResult<()> {
        self.power_requests.borrow_mut().push("reboot");
        Ok(())
    }
    fn host_reboot_sync(&self) -> OpalResult<()> {
        if self.bmc_busy.get() {
            Err(OpalError::BusyEvent)
        } else {
            Ok(())
        }
    }
    fn has_ipmi(&self) -> bool {
        !self.no_bmc.get()
    }
    /// A BMC that answers every request at once with completion code 0 and the request's
    /// data echoed back, unless `ipmi_unanswered` holds it back.
    fn ipmi_send(&self, req: &IpmiMsg) -> OpalResult<()> {
        if self.ipmi_outstanding.get() {
            return Err(OpalError::Busy);
        }
        self.ipmi_requests.borrow_mut().push(*req);
        self.ipmi_outstanding.set(true);
        if !self.ipmi_unanswered.get() {
            self.ipmi_answer();
        }
        Ok(())
    }
    fn ipmi_recv(&self) -> OpalResult<IpmiMsg> {
        self.ipmi_reply.take().ok_or(OpalError::Empty)
    }
    fn nvram_size(&self) -> u64 {
        self.nvram.borrow().len() as u64
    }
    fn nvram_read(&self, offset: u64, buf: &mut [u8]) -> OpalResult<()> {
        let n = self.nvram.borrow();
        let at = offset as usize;
        buf.copy_from_slice(n.get(at..at + buf.len()).ok_or(OpalError::Parameter)?);
        Ok(())
    }
    /// Flash first, chunk by chunk; the old contents put back if a chunk fails.
    fn nvram_write(
        &self,
        offset: u64,
        len: u64,
        fill: &mut dyn FnMut(u64, &mut [u8]),
    ) -> OpalResult<()> {
        let (at, len) = (offset as usize, len as usize);
        let mut chunk = std::vec![0u8; 256];
        let mut done = 0;
        while done < len {
            let k = (len - done).min(chunk.len());
            fill(done as u64, &mut chunk[..k]);
            if self.spend_write(k).is_err() {
                let old = self.nvram.borrow()[at..at + done].to_vec();
                self.nvram_on_flash.borrow_mut()[at..at + done].copy_from_slice(&old);
                return Err(OpalError::Hardware);
            }
            self.nvram_on_flash.borrow_mut()[at + done..at + done + k].copy_from_slice(&chunk[..k]);
            done += k;
        }
        let mut image = self.nvram.borrow_mut();
        fill(0, &mut image[at..at + len]);
        Ok(())
    }
    fn flash_geometry(&self) -> Option<(u64, u32)> {
        let f = self.flash.borrow();
        (!f.is_empty()).then(|| (f.len() as u64, self.flash_granule.get()))
    }
    fn flash_read(&self, offset: u64, buf: &mut [u8]) -> OpalResult<()> {
        let f = self.flash.borrow();
        let at = offset as usize;
        buf.copy_from_slice(f.get(at..at + buf.len()).ok_or(OpalError::Parameter)?);
        Ok(())
    }
    fn flash_write(&self, offset: u64, data: &[u8]) -> OpalResult<()> {
        self.spend_write(data.len())?;
        let at = offset as usize;
        self.flash.borrow_mut()[at..at + data.len()].copy_from_slice(data);
        Ok(())
    }
    fn flash_erase(&self, offset: u64, len: u64) -> OpalResult<()> {
        self.flash.borrow_mut()[offset as usize..(offset + len) as usize].fill(0xff);
        Ok(())
    }
    fn nest_mmu_set_ptcr(&self, chip: u64, ptcr: u64) -> OpalResult<()> {
        let mut mmus = self.nest_mmus.borrow_mut();
        if mmus.is_empty() {
            return Err(OpalError::Unsupported);
        }
        let mut hit = false;
        for m in mmus.iter_mut().filter(|m| chip == u64::MAX || m.0 == chip) {
            m.1 = Some(ptcr);
            hit = true;
        }
        if hit {
            Ok(())
        } else {
            Err(OpalError::Parameter)
        }
    }
}

/// One function's config space in the fake: ((phb, bdfn), 4 KiB little-endian).
pub type ConfigSpace = ((u64, u16), Vec<u8>);

/// PHBs with fixed PE counts, two functions each (the root port and 01:00.0) with a
/// settable config space, and a log of every call with its decoded arguments, so the
/// handlers' decoding and out-parameters can be checked. Checks arguments the way the
/// real PHB code does for the cases the handler tests use: unknown PHB or slot id,
/// PE >= num_pes, bdfn > 0xffff, offset > 0xfff or misaligned: `OPAL_PARAMETER`; bus 0
/// devfn != 0: `OPAL_HARDWARE`; a PHB marked held: `OPAL_BUSY`.
#[derive(Default)]
pub struct FakePci {
    /// (OPAL id, PE count).
    pub phbs: RefCell<Vec<(u64, u32)>>,
    /// Every call that reached a PHB: name and arguments after the PHB id.
    pub calls: RefCell<Vec<(&'static str, Vec<u64>)>>,
    /// The PHB's lock is held by someone else.
    pub held: Cell<bool>,
    /// (phb, bdfn) -> 4 KiB config space, little-endian as on the wire.
    pub config: RefCell<Vec<ConfigSpace>>,
    /// PEs reported frozen (phb, pe).
    pub frozen: RefCell<Vec<(u64, u64)>>,
    /// What PCI_RESET and PCI_POLL answer.
    pub reset_ms: Cell<u64>,
    /// Holders whose locks `release_abandoned` frees.
    pub holding: RefCell<Vec<crate::Holder>>,
}

impl FakePci {
    pub fn with_phbs(phbs: &[(u64, u32)]) -> Self {
        let f = Self::default();
        for &(id, _) in phbs {
            for bdfn in [0u16, 0x100] {
                let mut space = std::vec![0u8; 4096];
                space[..4].copy_from_slice(&(0x0000_1014u32 | u32::from(bdfn) << 16).to_le_bytes());
                f.config.borrow_mut().push(((id, bdfn), space));
            }
        }
        *f.phbs.borrow_mut() = phbs.to_vec();
        f
    }
    fn enter(&self, phb: u64, name: &'static str, args: &[u64]) -> OpalResult<u32> {
        let pes = self
            .phbs
            .borrow()
            .iter()
            .find(|p| p.0 == phb)
            .map(|p| p.1)
            .ok_or(OpalError::Parameter)?;
        if self.held.get() {
            return Err(OpalError::Busy);
        }
        self.calls.borrow_mut().push((name, args.to_vec()));
        Ok(pes)
    }
    fn pe(&self, phb: u64, name: &'static str, pe: u64, args: &[u64]) -> OpalResult<()> {
        if pe >= u64::from(self.enter(phb, name, args)?) {
            return Err(OpalError::Parameter);
        }
        Ok(())
    }
    fn cfg(&self, bdfn: u64, offset: u64, size: u8) -> OpalResult<(u16, usize)> {
        if bdfn > 0xffff || offset > 0xfff || !offset.is_multiple_of(u64::from(size)) {
            return Err(OpalError::Parameter);
        }
        if bdfn >> 8 == 0 && bdfn != 0 {
            return Err(OpalError::Hardware);
        }
        Ok((bdfn as u16, offset as usize))
    }
}

impl crate::PciHost for FakePci {
    fn present(&self) -> bool {
        !self.phbs.borrow().is_empty()
    }
    fn config_read(
        &self,
        _: crate::Holder,
        phb: u64,
        bdfn: u64,
        offset: u64,
        size: u8,
    ) -> (u32, OpalResult<()>) {
        let ones = (u64::MAX >> (64 - 8 * u32::from(size.clamp(1, 4)))) as u32;
        let r = self
            .enter(phb, "config_read", &[bdfn, offset, u64::from(size)])
            .and_then(|_| self.cfg(bdfn, offset, size));
        let (bdfn, at) = match r {
            Ok(t) => t,
            Err(e) => return (ones, Err(e)),
        };
        let config = self.config.borrow();
        let Some((_, space)) = config.iter().find(|(k, _)| *k == (phb, bdfn)) else {
            return (ones, Ok(()));
        };
        let mut b = [0u8; 4];
        b[..usize::from(size)].copy_from_slice(&space[at..at + usize::from(size)]);
        (u32::from_le_bytes(b), Ok(()))
    }
    fn config_write(
        &self,
        _: crate::Holder,
        phb: u64,
        bdfn: u64,
        offset: u64,
        size: u8,
        value: u32,
    ) -> OpalResult<()> {
        self.enter(
            phb,
            "config_write",
            &[bdfn, offset, u64::from(size), u64::from(value)],
        )?;
        let (bdfn, at) = self.cfg(bdfn, offset, size)?;
        let mut config = self.config.borrow_mut();
        if let Some((_, space)) = config.iter_mut().find(|(k, _)| *k == (phb, bdfn)) {
            space[at..at + usize::from(size)]
                .copy_from_slice(&value.to_le_bytes()[..usize::from(size)]);
        }
        Ok(())
    }
    fn eeh_freeze_status(
        &self,
        _: crate::Holder,
        phb: u64,
        pe: u64,
    ) -> (crate::FreezeReport, OpalResult<()>) {
        let clear = crate::FreezeReport {
            state: 0,
            error_type: 0,
        };
        if let Err(e) = self.pe(phb, "eeh_freeze_status", pe, &[pe]) {
            return (clear, Err(e));
        }
        if self.frozen.borrow().contains(&(phb, pe)) {
            return (
                crate::FreezeReport {
                    state: 3,
                    error_type: 2,
                },
                Ok(()),
            );
        }
        (clear, Ok(()))
    }
    fn eeh_freeze_clear(&self, _: crate::Holder, phb: u64, pe: u64, action: u64) -> OpalResult<()> {
        self.pe(phb, "eeh_freeze_clear", pe, &[pe, action])?;
        if !(1..=3).contains(&action) {
            return Err(OpalError::Parameter);
        }
        self.frozen.borrow_mut().retain(|f| *f != (phb, pe));
        Ok(())
    }
    fn phb_mmio_enable(
        &self,
        _: crate::Holder,
        phb: u64,
        window_type: u16,
        window: u16,
        enable: u16,
    ) -> OpalResult<()> {
        self.enter(
            phb,
            "phb_mmio_enable",
            &[window_type.into(), window.into(), enable.into()],
        )
        .map(drop)
    }
    fn set_phb_mem_window(
        &self,
        _: crate::Holder,
        phb: u64,
        window_type: u16,
        window: u16,
        addr: u64,
        pci_addr: u64,
        size: u64,
    ) -> OpalResult<()> {
        self.enter(
            phb,
            "set_phb_mem_window",
            &[window_type.into(), window.into(), addr, pci_addr, size],
        )
        .map(drop)
    }
    fn map_pe_mmio_window(
        &self,
        _: crate::Holder,
        phb: u64,
        pe: u64,
        window_type: u16,
        window: u16,
        segment: u16,
    ) -> OpalResult<()> {
        self.pe(
            phb,
            "map_pe_mmio_window",
            pe,
            &[pe, window_type.into(), window.into(), segment.into()],
        )
    }
    fn set_pe(
        &self,
        _: crate::Holder,
        phb: u64,
        pe: u64,
        bdfn: u64,
        bus_compare: u8,
        dev_compare: u8,
        func_compare: u8,
        action: u8,
    ) -> OpalResult<()> {
        let args = [
            pe,
            bdfn,
            bus_compare.into(),
            dev_compare.into(),
            func_compare.into(),
            action.into(),
        ];
        self.pe(phb, "set_pe", pe, &args)?;
        if bdfn > 0xffff {
            return Err(OpalError::Parameter);
        }
        Ok(())
    }
    fn set_peltv(
        &self,
        _: crate::Holder,
        phb: u64,
        parent: u32,
        child: u32,
        state: u8,
    ) -> OpalResult<()> {
        self.pe(
            phb,
            "set_peltv",
            u64::from(parent.max(child)),
            &[parent.into(), child.into(), state.into()],
        )
    }
    fn set_xive_pe(&self, _: crate::Holder, phb: u64, pe: u64, ive: u32) -> OpalResult<()> {
        self.pe(phb, "set_xive_pe", pe, &[pe, ive.into()])
    }
    fn get_msi_64(
        &self,
        _: crate::Holder,
        phb: u64,
        pe: u64,
        ive: u32,
        range: u8,
    ) -> OpalResult<(u64, u32)> {
        self.pe(phb, "get_msi_64", pe, &[pe, ive.into(), range.into()])?;
        Ok((1 << 60 | u64::from(ive & !0x1f) << 4, ive & 0x1f))
    }
    fn get_msi_32(
        &self,
        _: crate::Holder,
        phb: u64,
        pe: u64,
        ive: u32,
        range: u8,
    ) -> OpalResult<(u32, u32)> {
        self.pe(phb, "get_msi_32", pe, &[pe, ive.into(), range.into()])?;
        Ok((0xffff_0000 | (ive & !0x1f) << 4, ive & 0x1f))
    }
    fn map_pe_dma_window(
        &self,
        _: crate::Holder,
        phb: u64,
        pe: u64,
        window_id: u16,
        levels: u16,
        table_addr: u64,
        table_size: u64,
        page_size: u64,
    ) -> OpalResult<()> {
        let args = [
            pe,
            window_id.into(),
            levels.into(),
            table_addr,
            table_size,
            page_size,
        ];
        self.pe(phb, "map_pe_dma_window", pe, &args)
    }
    fn map_pe_dma_window_real(
        &self,
        _: crate::Holder,
        phb: u64,
        pe: u64,
        window_id: u16,
        pci_start: u64,
        size: u64,
    ) -> OpalResult<()> {
        self.pe(
            phb,
            "map_pe_dma_window_real",
            pe,
            &[pe, window_id.into(), pci_start, size],
        )
    }
    fn tce_kill(
        &self,
        _: crate::Holder,
        phb: u64,
        kill_type: u32,
        pe: u64,
        tce_size: u32,
        dma_addr: u64,
        npages: u32,
    ) -> OpalResult<()> {
        let args = [
            kill_type.into(),
            pe,
            tce_size.into(),
            dma_addr,
            npages.into(),
        ];
        self.enter(phb, "tce_kill", &args).map(drop)
    }
    fn pci_reset(
        &self,
        _: crate::Holder,
        slot: u64,
        scope: u8,
        assert_state: u8,
    ) -> OpalResult<u64> {
        self.enter(slot, "pci_reset", &[scope.into(), assert_state.into()])?;
        Ok(self.reset_ms.get())
    }
    fn pci_poll(&self, _: crate::Holder, slot: u64) -> OpalResult<u64> {
        self.enter(slot, "pci_poll", &[])?;
        Ok(self.reset_ms.get())
    }
    fn release_abandoned(&self, who: crate::Holder) -> usize {
        let mut h = self.holding.borrow_mut();
        let before = h.len();
        h.retain(|x| *x != who);
        before - h.len()
    }
}
