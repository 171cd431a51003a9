//! The PCI devices the `pci-*` scenarios plug into QEMU's PHBs (pci-phb.md §1.1, §6,
//! §7.2): an nvme disk, a virtio-blk disk and an e1000e NIC on QEMU's user network, each
//! on its own PHB or behind a PCIe switch. The disks start as a fixed pseudo-random
//! pattern whose md5 the guest is given (`/etc/opalite-pci/DISK.md5` in the pci
//! initramfs) and checks; the guest then writes a marker sector, which [`check_after_run`]
//! finds in the run's copy of the image.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bail;
use crate::util::{Context, Result};

/// Where the pristine disk images go (each run boots copies).
pub const DIR: &str = "target/pci";
/// Each disk's size: the first MiB is the pattern, the marker sector sits just after it.
const DISK_BYTES: usize = 4 << 20;
const PATTERN_BYTES: usize = 1 << 20;
/// Where init.sh writes its marker (sector 2048) and what it starts with.
pub const MARKER_AT: usize = PATTERN_BYTES;
pub const MARKER: &[u8] = b"OPALITE-PCI-SECTOR ";

/// The disks, as Linux names them: (file stem, Linux block device, pattern seed).
pub const DISKS: [(&str, &str, u64); 2] = [
    ("nvme", "nvme0n1", 0x6e76_6d65),
    ("virtio", "vda", 0x7669_7274),
];

/// Where the devices sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciRig {
    /// One device per PHB of chip 0: nvme on `pcie.0`, virtio-blk on `pcie.1`, e1000e on
    /// `pcie.2` (the reference's §6 set-up).
    OnePerPhb,
    /// nvme on `pcie.0`; an `x3130-upstream` switch on `pcie.3` with two downstream ports,
    /// virtio-blk behind one and e1000e behind the other (§6.3).
    Switch,
    /// A two-chip powernv9: the same three devices on the second chip's PHBs.
    SecondChip,
}

impl PciRig {
    /// The bus names QEMU gives the root ports' secondary buses: chip 0's PHBs are
    /// `pcie.0`..`pcie.5`, chip 1's follow.
    fn buses(self) -> [&'static str; 3] {
        match self {
            PciRig::OnePerPhb | PciRig::Switch => ["pcie.0", "pcie.1", "pcie.2"],
            PciRig::SecondChip => ["pcie.6", "pcie.7", "pcie.8"],
        }
    }

    /// The `-device`, `-drive` and `-netdev` arguments, with the run's disk copies.
    pub fn qemu_args(self, disks: &[PathBuf; 2]) -> Vec<String> {
        let [nvme_bus, virtio_bus, nic_bus] = self.buses();
        let mut a: Vec<String> = Vec::new();
        let mut push = |opt: &str, val: String| {
            a.push(opt.to_string());
            a.push(val);
        };
        for (i, d) in disks.iter().enumerate() {
            push(
                "-drive",
                format!("if=none,id=disk{i},format=raw,file={}", d.display()),
            );
        }
        // `restrict=on` keeps the guest off the host's network; `romfile=` because Debian
        // ships no efi-e1000e.rom.
        push("-netdev", "user,id=net0,restrict=on".into());
        push(
            "-device",
            format!("nvme,bus={nvme_bus},addr=0x0,drive=disk0,serial=opalite0"),
        );
        match self {
            PciRig::OnePerPhb | PciRig::SecondChip => {
                push(
                    "-device",
                    format!("virtio-blk-pci,bus={virtio_bus},addr=0x0,drive=disk1"),
                );
                push(
                    "-device",
                    format!("e1000e,bus={nic_bus},addr=0x0,netdev=net0,romfile="),
                );
            }
            PciRig::Switch => {
                push(
                    "-device",
                    "x3130-upstream,id=up0,bus=pcie.3,addr=0x0".into(),
                );
                push(
                    "-device",
                    "xio3130-downstream,id=down0,bus=up0,chassis=1,slot=1,addr=0x0".into(),
                );
                push(
                    "-device",
                    "xio3130-downstream,id=down1,bus=up0,chassis=1,slot=2,addr=0x1".into(),
                );
                push(
                    "-device",
                    "virtio-blk-pci,bus=down0,addr=0x0,drive=disk1".into(),
                );
                push(
                    "-device",
                    "e1000e,bus=down1,addr=0x0,netdev=net0,romfile=".into(),
                );
            }
        }
        a
    }
}

/// A disk's first MiB: xorshift64 from its seed, so each disk differs and every run
/// starts from the same bytes.
fn pattern(seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(PATTERN_BYTES);
    while out.len() < PATTERN_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_be_bytes());
    }
    out
}

/// Writes the pristine disk images to [`DIR`] and returns (file in the initramfs,
/// host file) pairs for each disk's md5 as the host's `md5sum` computes it.
pub fn build(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let dir = root.join(DIR);
    std::fs::create_dir_all(&dir).context(format!("cannot create {}", dir.display()))?;
    let mut md5s = Vec::new();
    for (stem, dev, seed) in DISKS {
        let mut img = pattern(seed);
        img.resize(DISK_BYTES, 0);
        let path = dir.join(format!("{stem}.img"));
        std::fs::write(&path, &img).context(format!("cannot write {}", path.display()))?;
        let first = dir.join(format!("{stem}.first-mib"));
        std::fs::write(&first, &img[..PATTERN_BYTES])?;
        let out = Command::new("md5sum")
            .arg(&first)
            .output()
            .context("cannot run md5sum")?;
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(sum) = text.split_whitespace().next().filter(|s| s.len() == 32) else {
            bail!("md5sum gave `{text}` for {}", first.display());
        };
        let sum_file = dir.join(format!("{dev}.md5"));
        std::fs::write(&sum_file, format!("{sum}\n"))?;
        md5s.push((format!("etc/opalite-pci/{dev}.md5"), sum_file));
    }
    Ok(md5s)
}

/// Fresh copies of the disks for one run (`run_stem` plus `-nvme.img`, `-virtio.img`).
pub fn copy_for_run(root: &Path, run_stem: &Path) -> Result<[PathBuf; 2]> {
    let copy = |stem: &str| -> Result<PathBuf> {
        let to = PathBuf::from(format!("{}-{stem}.img", run_stem.display()));
        std::fs::copy(root.join(DIR).join(format!("{stem}.img")), &to)
            .context(format!("cannot copy the {stem} disk for the run"))?;
        Ok(to)
    };
    Ok([copy(DISKS[0].0)?, copy(DISKS[1].0)?])
}

/// The guest's marker sector must be in each host image after the run.
pub fn check_after_run(disks: &[PathBuf; 2]) -> std::result::Result<(), String> {
    for (path, (_, dev, _)) in disks.iter().zip(DISKS) {
        let img =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let want: Vec<u8> = [MARKER, dev.as_bytes()].concat();
        if img.get(MARKER_AT..MARKER_AT + want.len()) != Some(&want[..]) {
            return Err(format!(
                "the sector {dev} wrote is not in {} at {MARKER_AT:#x} after the run",
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_differ_and_repeat() {
        assert_eq!(pattern(DISKS[0].2), pattern(DISKS[0].2));
        assert_ne!(pattern(DISKS[0].2), pattern(DISKS[1].2));
        assert_eq!(pattern(1).len(), PATTERN_BYTES);
    }

    #[test]
    fn switch_rig_puts_two_devices_behind_the_switch() {
        let disks = [PathBuf::from("a.img"), PathBuf::from("b.img")];
        let a = PciRig::Switch.qemu_args(&disks).join(" ");
        assert!(a.contains("x3130-upstream,id=up0,bus=pcie.3"));
        assert!(a.contains("virtio-blk-pci,bus=down0"));
        assert!(a.contains("e1000e,bus=down1"));
        assert!(a.contains("nvme,bus=pcie.0"));
        let b = PciRig::SecondChip.qemu_args(&disks).join(" ");
        assert!(b.contains("nvme,bus=pcie.6") && b.contains("e1000e,bus=pcie.8"));
    }

    #[test]
    fn a_missing_marker_fails_the_check() {
        let dir = std::env::temp_dir().join(format!("opalite-pcirig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let disks = [dir.join("n.img"), dir.join("v.img")];
        for (p, (_, dev, _)) in disks.iter().zip(DISKS) {
            let mut img = vec![0u8; DISK_BYTES];
            let m: Vec<u8> = [MARKER, dev.as_bytes()].concat();
            img[MARKER_AT..MARKER_AT + m.len()].copy_from_slice(&m);
            std::fs::write(p, img).unwrap();
        }
        assert_eq!(check_after_run(&disks), Ok(()));
        std::fs::write(&disks[1], vec![0u8; DISK_BYTES]).unwrap();
        assert!(check_after_run(&disks).unwrap_err().contains("vda"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
