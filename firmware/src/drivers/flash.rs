// SPDX-License-Identifier: Apache-2.0
//! The system flash (PNOR) and what lives in it: the boot partitions (BOOTKERNEL, ROOTFS)
//! loaded at boot, the NVRAM image the OS reads and writes, and raw access for
//! `OPAL_FLASH_*` (Linux's `powernv_flash`, `/dev/mtd0`). skiboot `core/flash.c`,
//! `libflash/ipmi-hiomap.c`, `core/nvram.c`.
//!
//! The way to the flash is chosen once at boot: HIOMAP v2 over the BMC's BT when the BMC
//! answers it, else direct reads of LPC firmware space (QEMU decodes the flash at FW
//! address 0 even without the protocol; a real BMC does not, and then there is no flash).
//!
//! Concurrency: one lock (`FLASH`) guards the backend and the table; each HIOMAP message
//! takes the BMC lock inside it, so the OS's IPMI traffic goes on between messages. The
//! NVRAM image has its own lock, taken before `FLASH` (order: NVRAM, FLASH, BMC). All are
//! taken with a bounded wait; a held lock is `OPAL_BUSY` for the OS, which retries.
//! Crash paths (NMI, machine check, power off from a crash) never touch the flash.
use crate::arch::mmio::CiWindow;
use crate::layout::BootArena;
use alloc::boxed::Box;
use alloc::string::String;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use flash::direct::DirectFw;
use flash::hiomap::{Hiomap, Transport};
use flash::partitions::{self, Partition, PartitionTable};
use flash::{Error, Flash, FwSpace};
use hal::{FwLock, Holder};
use opal_api::{OpalError, OpalResult};

/// LPC firmware space: 256 MiB, the most one IDSEL segment decodes.
const FW_SPACE_LEN: u64 = 0x1000_0000;
/// Where BOOTKERNEL and ROOTFS are loaded, and their room (skiboot's addresses).
const KERNEL_ADDR: u64 = crate::layout::KERNEL_LOAD_ADDR;
const KERNEL_ROOM: u64 = 0x0800_0000;
const INITRAMFS_ADDR: u64 = 0x2800_0000;
const INITRAMFS_ROOM: u64 = 0x0800_0000;
/// Secure-boot container magic: the payload starts 4 KiB later.
const STB_MAGIC: u32 = 0x1708_2011;
const STB_HEADER_LEN: u64 = 0x1000;
/// Spins for the flash or NVRAM lock before the OS is told BUSY.
const SPINS: u32 = 5_000_000;

/// Cache-inhibited accesses to LPC FW space: aligned words where possible (QEMU's LPC
/// takes 1- and 4-byte accesses only).
struct LpcFw(CiWindow);

impl FwSpace for LpcFw {
    fn read(&mut self, lpc: u32, buf: &mut [u8]) {
        let mut at = u64::from(lpc);
        let mut i = 0;
        if at % 4 == 0 {
            let run = buf.len() & !3;
            self.0.read32_run(at, &mut buf[..run]);
            i = run;
            at += run as u64;
        }
        while i < buf.len() {
            if at % 4 == 0 && buf.len() - i >= 4 {
                buf[i..i + 4].copy_from_slice(&self.0.read32(at).to_be_bytes());
                i += 4;
                at += 4;
            } else {
                buf[i] = self.0.read8(at);
                i += 1;
                at += 1;
            }
        }
    }
    fn write(&mut self, lpc: u32, data: &[u8]) {
        let mut at = u64::from(lpc);
        let mut i = 0;
        while i < data.len() {
            if at % 4 == 0 && data.len() - i >= 4 {
                let w = [data[i], data[i + 1], data[i + 2], data[i + 3]];
                self.0.write32(at, u32::from_be_bytes(w));
                i += 4;
                at += 4;
            } else {
                self.0.write8(at, data[i]);
                i += 1;
                at += 1;
            }
        }
    }
}

/// HIOMAP messages through the BMC driver.
struct BmcHiomap;

impl Transport for BmcHiomap {
    fn exchange(&mut self, request: &[u8], reply: &mut [u8]) -> Result<usize, Error> {
        use flash::hiomap::{CMD, NETFN};
        crate::drivers::bmc::bmc_request(NETFN, CMD, request, reply).map_err(|e| match e {
            ipmi::BtError::Completion(cc) => Error::Bmc(cc),
            _ => Error::Transport,
        })
    }
}

enum Backend {
    Hiomap(Hiomap<LpcFw>),
    Direct(DirectFw<LpcFw>),
}

struct SystemFlash {
    backend: Backend,
    /// None: no valid partition table (the flash is still offered raw, as skiboot does).
    table: Option<PartitionTable>,
}

impl SystemFlash {
    fn access<R>(&mut self, f: impl FnOnce(&mut dyn Flash) -> R) -> R {
        match &mut self.backend {
            Backend::Hiomap(h) => f(&mut h.session(&mut BmcHiomap)),
            Backend::Direct(d) => f(d),
        }
    }
}

/// Boxed, so the empty lock is zeroes in .bss rather than a table's worth of .data.
static FLASH: FwLock<Option<Box<SystemFlash>>> = FwLock::new(None);

fn lock_flash() -> OpalResult<hal::FwGuard<'static, Option<Box<SystemFlash>>>> {
    FLASH
        .lock_bounded(Holder::from_pir(crate::arch::pir()), SPINS)
        .ok_or(OpalError::Busy)
}

/// A CPU left OPAL for good holding a flash lock (cpu.rs).
pub fn release_abandoned(who: Holder) -> bool {
    let a = FLASH.release_abandoned(who);
    let b = NVRAM.release_abandoned(who);
    a || b
}

/// Finds the flash the ways the board lists, in its order (HIOMAP over the BMC, or LPC
/// firmware space read directly), then reads the partition table. Boot thread, before
/// the OS.
pub fn init(ways: &[boards::FlashAccess], fw_base: Option<u64>, has_bmc: bool) {
    let Some(base) = fw_base else {
        log::info!("no LPC firmware space: no flash");
        return;
    };
    // SAFETY: the LPC bus's FW-space range from the device tree; only this driver uses it.
    let window = || LpcFw(unsafe { CiWindow::new(base, FW_SPACE_LEN) });
    let backend = ways.iter().find_map(|way| match way {
        boards::FlashAccess::HiomapOverIpmi if has_bmc => {
            let mut h = Hiomap::new(window());
            match h.session(&mut BmcHiomap).negotiate() {
                Ok(g) => {
                    log::info!(
                        "HIOMAP v2 negotiated: block size {} KiB, flash {} MiB, erase granule {} KiB",
                        (1u32 << g.block_shift) >> 10,
                        g.flash_size >> 20,
                        g.erase_granule >> 10
                    );
                    Some(Backend::Hiomap(h))
                }
                Err(e) => {
                    log::info!("HIOMAP: {e}");
                    None
                }
            }
        }
        boards::FlashAccess::QemuLpcFirmwareSpace => {
            // Without the BMC's word on the size, the table's header gives it.
            let mut probe = DirectFw::new(window(), 0, FW_SPACE_LEN);
            let mut h = [0u8; pnor::ffs::HEADER_LEN];
            let size = probe
                .read(0, &mut h)
                .ok()
                .and_then(|_| pnor::ffs::Header::parse(&h).ok())
                .map(|h| h.flash_len())
                .filter(|&l| l > 0 && l <= FW_SPACE_LEN);
            match size {
                Some(len) => {
                    log::info!("reading the flash in LPC firmware space directly");
                    Some(Backend::Direct(DirectFw::new(window(), 0, len)))
                }
                None => {
                    log::info!("nothing in LPC firmware space");
                    None
                }
            }
        }
        _ => None,
    });
    let Some(backend) = backend else {
        log::info!("no flash");
        return;
    };
    let mut sf = SystemFlash {
        backend,
        table: None,
    };
    let mut scratch = alloc::vec![0u8; partitions::MAX_TABLE];
    match sf.access(|f| PartitionTable::read(f, &mut scratch)) {
        Ok(t) => {
            log::info!(
                "Found system flash: {} partitions, {} MiB",
                t.iter().count(),
                t.flash_len >> 20
            );
            sf.table = Some(t);
        }
        Err(e) => log::error!("no valid partition table ({e}); using the raw device only"),
    }
    let (size, granule) = sf.access(|f| (f.size(), f.erase_granule()));
    if let Ok(mut g) = lock_flash() {
        *g = Some(Box::new(sf));
        FLASH_GRANULE.store(granule, Ordering::Relaxed);
        FLASH_SIZE.store(size, Ordering::Release);
    }
}

/// (size, erase granule) of the flash, if there is one.
pub fn geometry() -> Option<(u64, u32)> {
    let size = FLASH_SIZE.load(Ordering::Acquire);
    (size > 0).then(|| (size, FLASH_GRANULE.load(Ordering::Relaxed)))
}

/// The flash's geometry as found at boot (size 0: no flash), mirrored out of the lock:
/// `OPAL_CHECK_TOKEN` and every flash call ask for it, and a flash operation in progress
/// on another CPU must not make the flash look absent.
static FLASH_SIZE: AtomicU64 = AtomicU64::new(0);
static FLASH_GRANULE: AtomicU32 = AtomicU32::new(0);

fn hardware(what: &str, e: Error) -> OpalError {
    log::error!("{what}: {e}");
    match e {
        Error::OutOfRange => OpalError::Parameter,
        _ => OpalError::Hardware,
    }
}

/// Raw flash access for `OPAL_FLASH_*`.
pub fn read(offset: u64, buf: &mut [u8]) -> OpalResult<()> {
    let mut g = lock_flash()?;
    let sf = g.as_mut().ok_or(OpalError::Hardware)?;
    sf.access(|f| f.read(offset, buf))
        .map_err(|e| hardware("read", e))
}

pub fn write(offset: u64, data: &[u8]) -> OpalResult<()> {
    let mut g = lock_flash()?;
    let sf = g.as_mut().ok_or(OpalError::Hardware)?;
    sf.access(|f| f.write(offset, data))
        .map_err(|e| hardware("write", e))
}

pub fn erase(offset: u64, len: u64) -> OpalResult<()> {
    let mut g = lock_flash()?;
    let sf = g.as_mut().ok_or(OpalError::Hardware)?;
    sf.access(|f| f.erase(offset, len))
        .map_err(|e| hardware("erase", e))
}

/// A partition's entry, if the table has it.
fn partition(name: &str) -> Option<Partition> {
    let g = lock_flash().ok()?;
    g.as_ref()?.table.as_ref()?.find(name)
}

/// Reads partition `part` from `offset` into real memory `dst..dst+len`.
fn load(part: &Partition, offset: u64, dst: u64, len: u64) -> Result<u32, Error> {
    let mut g = lock_flash().map_err(|_| Error::Unavailable)?;
    let sf = g.as_mut().ok_or(Error::Unavailable)?;
    // SAFETY: the caller gives a range of RAM the kernel's load area owns (below
    // OPAL_BASE, not in use by the firmware).
    let out = unsafe { core::slice::from_raw_parts_mut(dst as *mut u8, len as usize) };
    let mut corrected = 0;
    for (i, chunk) in out.chunks_mut(0x1_0000).enumerate() {
        let at = offset + (i as u64) * 0x1_0000;
        corrected += sf
            .access(|f| partitions::read(f, part, at, chunk))?
            .corrected;
    }
    Ok(corrected)
}

/// Loads one boot partition (with its secure-boot header skipped) to `dst`; returns the
/// payload's length.
fn load_boot_partition(name: &str, dst: u64, room: u64) -> Option<u64> {
    let part = partition(name)?;
    let mut len = part.used_len();
    let mut skip = 0;
    let mut head = [0u8; 8];
    let peek = {
        let mut g = lock_flash().ok()?;
        let sf = g.as_mut()?;
        sf.access(|f| partitions::read(f, &part, 0, &mut head))
    };
    if let Err(e) = peek {
        log::error!("{name}: {e}");
        return None;
    }
    if u32::from_be_bytes([head[0], head[1], head[2], head[3]]) == STB_MAGIC {
        log::info!("{name} is in a secure-boot container (not verified)");
        skip = STB_HEADER_LEN;
        len = len.saturating_sub(STB_HEADER_LEN);
    }
    if len == 0 || len > room {
        log::error!(
            "{name}: {len} bytes do not fit the {} MiB for it",
            room >> 20
        );
        return None;
    }
    match load(&part, skip, dst, len) {
        Ok(corrected) => {
            if corrected > 0 {
                log::warn!("{name}: {corrected} single-bit ECC errors corrected");
            }
            log::info!("loaded {name}: {len} bytes at {dst:#x}");
            Some(len)
        }
        Err(e) => {
            log::error!("{name} does not load: {e}");
            None
        }
    }
}

/// BOOTKERNEL to the kernel's load address and, if there is one, ROOTFS as the initramfs
/// (set in `/chosen`). Returns whether a kernel came from flash; if not, whatever QEMU
/// loaded at the kernel address (`-kernel`) is booted, as skiboot does.
pub fn load_boot_partitions(tree: &mut devtree::Tree) -> bool {
    if partition("BOOTKERNEL").is_none() {
        return false;
    }
    if load_boot_partition("BOOTKERNEL", KERNEL_ADDR, KERNEL_ROOM).is_none() {
        // Nothing half-loaded may be mistaken for a kernel.
        // SAFETY: the kernel load area, which nothing else uses at boot.
        unsafe { core::ptr::write_bytes(KERNEL_ADDR as *mut u8, 0, 64) };
        return false;
    }
    if let Some(len) = load_boot_partition("ROOTFS", INITRAMFS_ADDR, INITRAMFS_ROOM) {
        let set = tree
            .set_property(
                "/chosen",
                "linux,initrd-start",
                &INITRAMFS_ADDR.to_be_bytes(),
            )
            .and_then(|_| {
                tree.set_property(
                    "/chosen",
                    "linux,initrd-end",
                    &(INITRAMFS_ADDR + len).to_be_bytes(),
                )
            });
        if set.is_err() {
            log::error!("could not record the initramfs in /chosen");
        }
    }
    true
}

/// The NVRAM partition, kept in reserved memory: the OS reads the copy, writes go to the
/// flash first and to the copy once they are on flash.
struct NvramImage {
    part: Partition,
    image: &'static mut [u8],
}

static NVRAM: FwLock<Option<Box<NvramImage>>> = FwLock::new(None);
static NVRAM_SIZE: AtomicU64 = AtomicU64::new(0);

/// Largest NVRAM we keep a copy of (skiboot's QEMU layout has 576 KiB).
const NVRAM_MAX: u64 = 0x10_0000;

/// Reads the NVRAM partition into firmware memory, formatting it (and writing that back)
/// if it does not check, as skiboot does. Boot thread.
pub fn init_nvram(arena: &mut BootArena) {
    let Some(part) = partition("NVRAM") else {
        return;
    };
    let len = part.data_len() & !15;
    if len == 0 || len > NVRAM_MAX || part.ecc {
        log::error!(
            "NVRAM: a {len}-byte{} partition is not supported",
            if part.ecc { " ECC" } else { "" }
        );
        return;
    }
    let Some(at) = arena.alloc(len, 0x1000) else {
        log::error!("NVRAM: no room for a {len}-byte copy");
        return;
    };
    // SAFETY: fresh arena memory, reserved from the OS, ours alone from now on.
    let image = unsafe { core::slice::from_raw_parts_mut(at as *mut u8, len as usize) };
    if let Err(e) = load(&part, 0, at, len) {
        log::error!("NVRAM: {e}");
        return;
    }
    let bad = pnor::nvram::partitions(image).find_map(|p| p.err());
    if let Some(bad) = bad {
        log::warn!("NVRAM: {bad}: re-initialising");
        if pnor::nvram::format(image).is_err() {
            return;
        }
        let written = lock_flash().ok().and_then(|mut g| {
            g.as_mut()
                .map(|sf| sf.access(|f| partitions::write(f, &part, 0, image)))
        });
        if !matches!(written, Some(Ok(()))) {
            log::error!("NVRAM: could not write the formatted image back");
        }
    }
    if let Some(mut g) = NVRAM.lock_bounded(Holder::from_pir(crate::arch::pir()), SPINS) {
        *g = Some(Box::new(NvramImage { part, image }));
        NVRAM_SIZE.store(len, Ordering::Release);
    }
}

/// Bytes of NVRAM (0: none).
pub fn nvram_size() -> u64 {
    NVRAM_SIZE.load(Ordering::Acquire)
}

fn lock_nvram() -> OpalResult<hal::FwGuard<'static, Option<Box<NvramImage>>>> {
    NVRAM
        .lock_bounded(Holder::from_pir(crate::arch::pir()), SPINS)
        .ok_or(OpalError::Busy)
}

pub fn nvram_read(offset: u64, buf: &mut [u8]) -> OpalResult<()> {
    let g = lock_nvram()?;
    let n = g.as_ref().ok_or(OpalError::Hardware)?;
    let src = n
        .image
        .get(offset as usize..offset as usize + buf.len())
        .ok_or(OpalError::Parameter)?;
    buf.copy_from_slice(src);
    Ok(())
}

/// Writes `len` bytes at `offset`, taken chunk by chunk from `fill(relative offset,
/// chunk)`: all of it reaches the flash or none of it does. Each chunk goes to the flash
/// first; if one fails, the flash is rewritten from the copy (still the old contents)
/// and the call fails; only when all are on flash does the copy take the new bytes
/// (`fill` is asked again: the OS's buffer does not change during its call).
pub fn nvram_write(offset: u64, len: u64, fill: &mut dyn FnMut(u64, &mut [u8])) -> OpalResult<()> {
    let mut g = lock_nvram()?;
    let n = g.as_mut().ok_or(OpalError::Hardware)?;
    let end = offset.checked_add(len).ok_or(OpalError::Parameter)?;
    if end > n.image.len() as u64 {
        return Err(OpalError::Parameter);
    }
    let mut fl = lock_flash()?;
    let sf = fl.as_mut().ok_or(OpalError::Hardware)?;
    let mut chunk = [0u8; 512];
    let mut done = 0u64;
    while done < len {
        let k = (len - done).min(chunk.len() as u64) as usize;
        fill(done, &mut chunk[..k]);
        if let Err(e) = sf.access(|f| partitions::write(f, &n.part, offset + done, &chunk[..k])) {
            let old = &n.image[offset as usize..(offset + done) as usize + k];
            let restored = sf.access(|f| partitions::write(f, &n.part, offset, old));
            log::error!(
                "NVRAM: write of {len} bytes at {offset:#x} failed after {done} ({e}); old contents {}",
                if restored.is_ok() { "restored" } else { "NOT restored" }
            );
            return Err(OpalError::Hardware);
        }
        done += k as u64;
    }
    let mut done = 0u64;
    while done < len {
        let k = (len - done).min(chunk.len() as u64) as usize;
        let at = (offset + done) as usize;
        fill(done, &mut n.image[at..at + k]);
        done += k as u64;
    }
    Ok(())
}

/// `bootargs` from the NVRAM's `ibm,skiboot` partition, which overrides the device tree's
/// as in skiboot (a `key=value` NUL-separated list).
pub fn nvram_bootargs() -> Option<String> {
    let g = lock_nvram().ok()?;
    let n = g.as_ref()?;
    let p = pnor::nvram::partitions(n.image)
        .filter_map(Result::ok)
        .find(|p| p.name == pnor::nvram::NAME_FW_PRIV.as_bytes())?;
    let data = n
        .image
        .get(p.offset + pnor::nvram::HEADER_LEN..p.offset + p.len)?;
    data.split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(b"bootargs="))
        .and_then(|v| core::str::from_utf8(v).ok())
        .map(String::from)
}
