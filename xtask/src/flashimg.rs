//! The PNOR images the flash scenarios boot, built by `mkimage pnor build` from layouts
//! written here (`target/flash/`), and the corrupt ones made from them. Each run boots a
//! copy (QEMU writes the guest's flash writes back to the file), which is checked after.
use std::path::{Path, PathBuf};

use crate::bail;
use crate::util::{Context, Result};

/// Where the images and their layouts go.
pub const DIR: &str = "target/flash";

/// Which image a flash scenario boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashImage {
    /// 128 MiB: BOOTKERNEL = Debian's kernel, ROOTFS = the flash initramfs (in an unsigned
    /// container, which skiboot needs for a non-ELF partition), NVRAM with
    /// the scenario's bootargs, a SCRATCH partition for the guest's writes.
    Boot,
    /// The 32 MiB corrupt-image base with its table header's checksum broken.
    BadToc,
    /// The same with two bits flipped in one ECC group of BOOTKERNEL (ECC-protected).
    EccError,
    /// The same cut to 16 MiB: the table describes more flash than there is.
    Truncated,
}

impl FlashImage {
    fn file(self) -> &'static str {
        match self {
            FlashImage::Boot => "boot.pnor",
            FlashImage::BadToc => "bad-toc.pnor",
            FlashImage::EccError => "ecc-error.pnor",
            FlashImage::Truncated => "truncated.pnor",
        }
    }
}

/// The NVRAM partition's flash offset, and where in it init.sh leaves its token (the data
/// of the `common` partition skiboot and Opalite format at 0x1000).
pub const NVRAM_PART: usize = 0x1_0000;
pub const NVRAM_TOKEN_AT: usize = NVRAM_PART + 0x1010;
pub const NVRAM_TOKEN: &[u8] = b"opalite-nvram-ok";
/// SCRATCH's flash offset, and what init.sh writes there through /dev/mtd0.
pub const SCRATCH: usize = 0xa_0000;
pub const SCRATCH_PATTERN: &[u8] = b"opalite-mtd\nopalite-mtd\n";

const BOOT_LAYOUT: &str = "\
size 128M
block 4K
partition VERSION    0x8000     4K    readonly   version opalite-flash-test
partition NVRAM      0x10000    576K  preserved  nvram bootargs=console=hvc0 opalite.test=flash
partition SCRATCH    0xa0000    64K   -          erased
partition BOOTKERNEL 0x100000   64M   -          file {kernel}
partition ROOTFS     0x4100000  32M   -          container {initrd}
";

const CORRUPT_LAYOUT: &str = "\
size 32M
block 4K
partition VERSION    0x8000     4K    readonly   version opalite-corrupt-test
partition NVRAM      0x10000    576K  preserved  nvram
partition BOOTKERNEL 0x100000   8M    ecc        file {initrd}
";
/// BOOTKERNEL's offset in the corrupt images, and the ECC group spoilt.
const CORRUPT_BOOTKERNEL: usize = 0x10_0000;
const SPOILT_GROUP: usize = 1000;

fn build_one(dir: &Path, name: &str, layout: &str, log: &mut String) -> Result<Vec<u8>> {
    let layout_path = dir.join(format!("{name}.layout"));
    std::fs::write(&layout_path, layout)?;
    let image = dir.join(format!("{name}.base"));
    let out = crate::pnor_check::mkimage(&[
        "build".as_ref(),
        layout_path.as_os_str(),
        "-o".as_ref(),
        image.as_os_str(),
    ])
    .output()
    .context("cannot run mkimage")?;
    log.push_str(&String::from_utf8_lossy(&out.stdout));
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!(
            "mkimage pnor build {}: {}",
            layout_path.display(),
            log.trim()
        );
    }
    let bytes = std::fs::read(&image)?;
    std::fs::remove_file(&image)?;
    Ok(bytes)
}

/// Builds every image into [`DIR`]; returns the directory.
pub fn build(root: &Path, kernel: &Path, initrd: &Path) -> Result<PathBuf> {
    let dir = root.join(DIR);
    std::fs::create_dir_all(&dir)?;
    let mut log = String::new();
    let fill = |l: &str| {
        l.replace("{kernel}", &kernel.display().to_string())
            .replace("{initrd}", &initrd.display().to_string())
    };
    let boot = build_one(&dir, "boot", &fill(BOOT_LAYOUT), &mut log)?;
    std::fs::write(dir.join(FlashImage::Boot.file()), &boot)?;

    let base = build_one(&dir, "corrupt", &fill(CORRUPT_LAYOUT), &mut log)?;
    let mut bad_toc = base.clone();
    bad_toc[0x20] ^= 0x01;
    std::fs::write(dir.join(FlashImage::BadToc.file()), &bad_toc)?;
    let mut ecc = base.clone();
    ecc[CORRUPT_BOOTKERNEL + 9 * SPOILT_GROUP] ^= 0x03;
    std::fs::write(dir.join(FlashImage::EccError.file()), &ecc)?;
    std::fs::write(dir.join(FlashImage::Truncated.file()), &base[..16 << 20])?;
    Ok(dir)
}

const PAYLOAD_LAYOUT: &str = "\
size 32M
block 4K
partition VERSION    0x8000     4K    readonly   version opalite-flash-bench
partition NVRAM      0x10000    576K  preserved  nvram bootargs={bootargs}
partition BOOTKERNEL 0x100000   16M   -          file {payload}
";

/// The bench's image: the conformance payload as BOOTKERNEL, started with `bootargs`
/// from NVRAM. Returns its path.
pub fn build_payload_image(root: &Path, payload: &Path, bootargs: &str) -> Result<PathBuf> {
    let dir = root.join(DIR);
    std::fs::create_dir_all(&dir)?;
    let layout = PAYLOAD_LAYOUT
        .replace("{payload}", &payload.display().to_string())
        .replace("{bootargs}", bootargs);
    let mut log = String::new();
    let bytes = build_one(&dir, "payload", &layout, &mut log)?;
    let path = dir.join("payload.pnor");
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// A fresh copy of `image` for one run, next to its log.
pub fn copy_for_run(dir: &Path, image: FlashImage, run_image: &Path) -> Result<PathBuf> {
    std::fs::copy(dir.join(image.file()), run_image)
        .context(format!("cannot copy {} for the run", image.file()))?;
    Ok(run_image.to_path_buf())
}

/// What the guest's writes must have left in the run's copy of the boot image.
pub fn check_after_boot_run(run_image: &Path) -> std::result::Result<(), String> {
    let img = std::fs::read(run_image)
        .map_err(|e| format!("cannot read {}: {e}", run_image.display()))?;
    let at = |off: usize, len: usize| img.get(off..off + len).unwrap_or(&[]);
    if at(NVRAM_TOKEN_AT, NVRAM_TOKEN.len()) != NVRAM_TOKEN {
        return Err(format!(
            "the NVRAM token is not on the flash image at {NVRAM_TOKEN_AT:#x} after the run"
        ));
    }
    if at(SCRATCH, SCRATCH_PATTERN.len()) != SCRATCH_PATTERN {
        return Err(format!(
            "the /dev/mtd0 write is not on the flash image at {SCRATCH:#x} after the run"
        ));
    }
    // The NVRAM's first partition header is still the firmware's (0x51 "ibm,skiboot").
    if at(NVRAM_PART, 1) != [0x51] || at(NVRAM_PART + 4, 11) != b"ibm,skiboot" {
        return Err("the NVRAM partition no longer starts with the ibm,skiboot header".into());
    }
    Ok(())
}
