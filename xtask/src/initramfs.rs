//! The busybox initramfs, written as an uncompressed cpio "newc" archive
//! (the format the kernel unpacks; see Linux's Documentation/driver-api/early-userspace).

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::debian::Userland;
use crate::util::{Context, Result};

/// PID 1: mounts, prints the test markers, then powers off or runs a shell.
pub const INIT_SCRIPT: &str = include_str!("init.sh");
/// Where `run` and `test` put the archive, relative to the repository.
pub const IMAGE: &str = "target/opalite-initramfs.cpio";
/// The kexec/kdump scenarios' archive (kexec-tools and `/boot/vmlinux` inside).
pub const KEXEC_IMAGE: &str = "target/opalite-initramfs-kexec.cpio";
/// The kvm scenarios' archive: QEMU, the KVM modules, and the guest's kernel and
/// initramfs (the small archive, whose /init has the guest's mode too).
pub const KVM_IMAGE: &str = "target/opalite-initramfs-kvm.cpio";
/// The ipmi initramfs: the small one plus ipmitool and the IPMI modules.
pub const IPMI_IMAGE: &str = "target/opalite-initramfs-ipmi.cpio";
/// The flash initramfs: the small one plus the MTD modules. It boots from the PNOR
/// image's ROOTFS partition, not from `-initrd`.
pub const FLASH_IMAGE: &str = "target/opalite-initramfs-flash.cpio";
/// The pci initramfs: the small one plus the nvme, virtio-blk and e1000e drivers and the
/// md5 of each disk's first MiB (xtask/src/pcirig.rs).
pub const PCI_IMAGE: &str = "target/opalite-initramfs-pci.cpio";
/// Where the kvm archive holds the guest's initramfs.
pub const GUEST_INITRD: &str = "boot/guest-initrd.cpio";

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// Writes cpio newc entries. Parents must be added before their children: the kernel
/// creates each entry as it reads it and does not make missing directories.
pub struct CpioWriter<W: Write> {
    out: W,
    next_ino: u32,
    offset: u64,
}

struct Entry<'a> {
    name: &'a str,
    mode: u32,
    nlink: u32,
    rdev: (u32, u32),
    data: &'a [u8],
}

impl<W: Write> CpioWriter<W> {
    pub fn new(out: W) -> Self {
        CpioWriter {
            out,
            next_ino: 1,
            offset: 0,
        }
    }

    pub fn dir(&mut self, name: &str, perm: u32) -> io::Result<()> {
        self.entry(Entry {
            name,
            mode: S_IFDIR | perm,
            nlink: 2,
            rdev: (0, 0),
            data: &[],
        })
    }

    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> io::Result<()> {
        self.entry(Entry {
            name,
            mode: S_IFREG | perm,
            nlink: 1,
            rdev: (0, 0),
            data,
        })
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(Entry {
            name,
            mode: S_IFLNK | 0o777,
            nlink: 1,
            rdev: (0, 0),
            data: target.as_bytes(),
        })
    }

    pub fn char_dev(&mut self, name: &str, perm: u32, major: u32, minor: u32) -> io::Result<()> {
        self.entry(Entry {
            name,
            mode: S_IFCHR | perm,
            nlink: 1,
            rdev: (major, minor),
            data: &[],
        })
    }

    /// Writes the trailer and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.next_ino = 0;
        self.entry(Entry {
            name: "TRAILER!!!",
            mode: 0,
            nlink: 1,
            rdev: (0, 0),
            data: &[],
        })?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn entry(&mut self, e: Entry) -> io::Result<()> {
        let ino = self.next_ino;
        self.next_ino += 1;
        let name_size = e.name.len() + 1; // with its NUL
        let fields = [
            ino,
            e.mode,
            0, // uid: root
            0, // gid: root
            e.nlink,
            0, // mtime 0 keeps the archive reproducible
            e.data.len() as u32,
            0, // dev major
            0, // dev minor
            e.rdev.0,
            e.rdev.1,
            name_size as u32,
            0, // check: only used by the "crc" variant
        ];
        let mut header = String::with_capacity(110);
        header.push_str("070701");
        for f in fields {
            header.push_str(&format!("{f:08x}"));
        }
        self.put(header.as_bytes())?;
        self.put(e.name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.put(e.data)?;
        self.pad()
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Name and data each end on a 4-byte boundary.
    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - (self.offset % 4) as usize) % 4;
        self.put(&[0u8; 3][..n])
    }
}

/// Builds the test/interactive initramfs around a static ppc64el busybox.
pub fn build(busybox: &Path, out: &Path) -> Result<()> {
    write(busybox, None, out)
}

/// What the kexec and kvm initramfs add to the small one.
pub struct Extras<'a> {
    /// kexec and its loader and libraries (see `DebCache::kexec_tools`).
    pub userland: &'a Userland,
    /// The kernel to put at `/boot/vmlinux`, for `kexec -l`/`-p` (and KVM guests).
    pub kernel: Option<&'a Path>,
}

/// Builds the initramfs of the kexec and kdump scenarios: the small one plus kexec-tools
/// and the kernel itself (about 45 MB more, so only these scenarios pay for it).
pub fn build_kexec(busybox: &Path, extras: &Extras, out: &Path) -> Result<()> {
    write(busybox, Some(extras), out)
}

/// Fetches Debian's kexec-tools and writes the kexec initramfs around `kernel` to
/// [`KEXEC_IMAGE`] in the repository; returns its path (`test` and `bench` both boot it).
pub fn build_kexec_image(
    debian: &crate::debian::DebCache,
    busybox: &Path,
    kernel: &Path,
) -> Result<std::path::PathBuf> {
    write_kexec_image(
        debian,
        busybox,
        kernel,
        crate::debian::Userland::default(),
        KEXEC_IMAGE,
    )
}

/// kexec-tools, `kernel` and `more`, written to `image` (relative to the repository).
fn write_kexec_image(
    debian: &crate::debian::DebCache,
    busybox: &Path,
    kernel: &Path,
    more: crate::debian::Userland,
    image: &str,
) -> Result<std::path::PathBuf> {
    let mut userland = debian
        .kexec_tools()
        .context("cannot get Debian's ppc64el kexec-tools")?;
    userland.extend(more);
    let path = crate::util::repo_root().join(image);
    build_kexec(
        busybox,
        &Extras {
            userland: &userland,
            kernel: Some(kernel),
        },
        &path,
    )?;
    Ok(path)
}

/// Fetches Debian's qemu-system-ppc64 (with SLOF) and the KVM modules, and writes the
/// kvm initramfs to [`KVM_IMAGE`]: L1's userland for starting KVM guests of `kernel`
/// with the small initramfs `guest_initrd`. Returns its path.
pub fn build_kvm_image(
    debian: &crate::debian::DebCache,
    busybox: &Path,
    kernel: &Path,
    guest_initrd: &Path,
) -> Result<std::path::PathBuf> {
    let mut userland = debian
        .qemu_system_ppc()
        .context("cannot get Debian's ppc64el qemu-system-ppc")?;
    userland.extend(
        debian
            .kernel_modules(&["kvm-hv"])
            .context("cannot get the KVM modules from the kernel package")?,
    );
    userland
        .files
        .push((GUEST_INITRD.into(), guest_initrd.to_path_buf()));
    let path = crate::util::repo_root().join(KVM_IMAGE);
    write(
        busybox,
        Some(&Extras {
            userland: &userland,
            kernel: Some(kernel),
        }),
        &path,
    )?;
    Ok(path)
}

/// Fetches Debian's ipmitool and the IPMI modules, and writes the ipmi initramfs to
/// [`IPMI_IMAGE`]: the small one plus `/usr/bin/ipmitool` and the modules. Returns its path.
pub fn build_ipmi_image(
    debian: &crate::debian::DebCache,
    busybox: &Path,
) -> Result<std::path::PathBuf> {
    let userland = debian
        .ipmitool()
        .context("cannot get Debian's ppc64el ipmitool and the IPMI modules")?;
    write_with_userland(busybox, &userland, IPMI_IMAGE)
}

/// Fetches the MTD modules and writes the flash initramfs to [`FLASH_IMAGE`].
pub fn build_flash_image(
    debian: &crate::debian::DebCache,
    busybox: &Path,
) -> Result<std::path::PathBuf> {
    let userland = debian
        .flash_modules()
        .context("cannot get the MTD modules from Debian's ppc64el kernel")?;
    write_with_userland(busybox, &userland, FLASH_IMAGE)
}

/// Fetches the PCI device drivers and writes the pci initramfs to [`PCI_IMAGE`], with
/// `files` (initramfs path, host file) added.
pub fn build_pci_image(
    debian: &crate::debian::DebCache,
    busybox: &Path,
    files: Vec<(String, std::path::PathBuf)>,
) -> Result<std::path::PathBuf> {
    let mut userland = debian
        .pci_modules()
        .context("cannot get the PCI device drivers from Debian's ppc64el kernel")?;
    userland.files.extend(files);
    write_with_userland(busybox, &userland, PCI_IMAGE)
}

/// The pci-kexec initramfs: the kexec one (kexec-tools and the kernel) plus the pci one's
/// drivers and md5 files, for kexec and kdump with the devices attached.
pub const PCI_KEXEC_IMAGE: &str = "target/opalite-initramfs-pci-kexec.cpio";

/// Writes [`PCI_KEXEC_IMAGE`] around `kernel`, with `files` added.
pub fn build_pci_kexec_image(
    debian: &crate::debian::DebCache,
    busybox: &Path,
    kernel: &Path,
    files: Vec<(String, std::path::PathBuf)>,
) -> Result<std::path::PathBuf> {
    let mut drivers = debian
        .pci_modules()
        .context("cannot get the PCI device drivers from Debian's ppc64el kernel")?;
    drivers.files.extend(files);
    write_kexec_image(debian, busybox, kernel, drivers, PCI_KEXEC_IMAGE)
}

/// The small initramfs plus `userland`, written to `image` (relative to the repository).
fn write_with_userland(
    busybox: &Path,
    userland: &crate::debian::Userland,
    image: &str,
) -> Result<std::path::PathBuf> {
    let path = crate::util::repo_root().join(image);
    write(
        busybox,
        Some(&Extras {
            userland,
            kernel: None,
        }),
        &path,
    )?;
    Ok(path)
}

fn write(busybox: &Path, extras: Option<&Extras>, out: &Path) -> Result<()> {
    let bb = std::fs::read(busybox).context(format!("cannot read {}", busybox.display()))?;
    // Write then rename: a QEMU starting meanwhile (another run) never sees half a file.
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let file = std::fs::File::create(&tmp).context(format!("cannot write {}", tmp.display()))?;
    let mut w = CpioWriter::new(BufWriter::new(file));
    for dir in ["bin", "dev", "etc", "proc", "root", "sys", "tmp"] {
        w.dir(dir, if dir == "tmp" { 0o1777 } else { 0o755 })?;
    }
    // The kernel opens /dev/console for PID 1 before /init can mount devtmpfs.
    w.char_dev("dev/console", 0o600, 5, 1)?;
    w.char_dev("dev/null", 0o666, 1, 3)?;
    w.file("bin/busybox", 0o755, &bb)?;
    w.symlink("bin/sh", "busybox")?;
    w.file("init", 0o755, INIT_SCRIPT.as_bytes())?;
    w.file("bin/opalite-tb", 0o755, &crate::tbprog::image())?;
    w.file(
        "bin/opalite-reboot2",
        0o755,
        &crate::tbprog::reboot2_image(),
    )?;
    if let Some(x) = extras {
        let mut dirs: Vec<String> = vec!["boot".into(), "sbin".into()];
        let paths = x.userland.files.iter().map(|(p, _)| p);
        for path in paths.chain(x.userland.symlinks.iter().map(|(p, _)| p)) {
            for (i, _) in path.match_indices('/') {
                if !dirs.iter().any(|d| d == &path[..i]) {
                    dirs.push(path[..i].to_string());
                }
            }
        }
        // Parents before children: shorter paths first is enough for a prefix tree.
        dirs.sort_by_key(|d| (d.matches('/').count(), d.clone()));
        for d in &dirs {
            w.dir(d, 0o755)?;
        }
        for (path, host) in &x.userland.files {
            let data = std::fs::read(host).context(format!("cannot read {}", host.display()))?;
            w.file(path, 0o755, &data)?;
        }
        for (path, target) in &x.userland.symlinks {
            w.symlink(path, target)?;
        }
        if let Some(path) = x.kernel {
            let kernel = std::fs::read(path).context(format!("cannot read {}", path.display()))?;
            w.file("boot/vmlinux", 0o644, &kernel)?;
        }
    }
    w.finish()?
        .into_inner()
        .map_err(|e| e.into_error())
        .context(format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, out).context(format!("cannot write {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Parsed {
        name: String,
        mode: u32,
        data: Vec<u8>,
        rdev: (u32, u32),
    }

    /// Minimal reader, to check that what we write parses back as newc.
    fn parse(mut a: &[u8]) -> Vec<Parsed> {
        let mut entries = Vec::new();
        let mut off = 0usize;
        loop {
            assert_eq!(&a[..6], b"070701", "magic at offset {off}");
            let field = |i: usize| {
                let s = std::str::from_utf8(&a[6 + 8 * i..14 + 8 * i]).unwrap();
                u32::from_str_radix(s, 16).unwrap()
            };
            let (mode, size, rdev) = (field(1), field(6) as usize, (field(9), field(10)));
            let namesize = field(11) as usize;
            let name = std::str::from_utf8(&a[110..110 + namesize - 1])
                .unwrap()
                .to_string();
            assert_eq!(a[110 + namesize - 1], 0, "name NUL");
            let data_start = (110 + namesize).next_multiple_of(4);
            let data = a[data_start..data_start + size].to_vec();
            let next = (data_start + size).next_multiple_of(4);
            off += next;
            a = &a[next..];
            if name == "TRAILER!!!" {
                assert!(a.is_empty(), "nothing after the trailer");
                return entries;
            }
            entries.push(Parsed {
                name,
                mode,
                data,
                rdev,
            });
        }
    }

    #[test]
    fn header_layout() {
        let mut w = CpioWriter::new(Vec::new());
        w.file("init", 0o755, b"#!/bin/sh\n").unwrap();
        let out = w.finish().unwrap();
        let expected_header = concat!(
            "070701", "00000001", "000081ed", "00000000", "00000000", "00000001", "00000000",
            "0000000a", "00000000", "00000000", "00000000", "00000000", "00000005", "00000000",
        );
        assert_eq!(&out[..110], expected_header.as_bytes());
        // 110 + "init\0" = 115, padded to 116; then 10 bytes of data padded to 12.
        assert_eq!(&out[110..116], b"init\0\0");
        assert_eq!(&out[116..128], b"#!/bin/sh\n\0\0");
        assert_eq!(&out[128..134], b"070701");
        assert_eq!(out.len() % 4, 0);
    }

    #[test]
    fn round_trip() {
        let mut w = CpioWriter::new(Vec::new());
        w.dir("dev", 0o755).unwrap();
        w.char_dev("dev/console", 0o600, 5, 1).unwrap();
        w.symlink("sh", "busybox").unwrap();
        w.file("abc", 0o644, b"xyz").unwrap();
        let entries = parse(&w.finish().unwrap());
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["dev", "dev/console", "sh", "abc"]);
        assert_eq!(entries[0].mode, S_IFDIR | 0o755);
        assert_eq!(
            (entries[1].mode, entries[1].rdev),
            (S_IFCHR | 0o600, (5, 1))
        );
        assert_eq!(entries[2].mode, S_IFLNK | 0o777);
        assert_eq!(entries[2].data, b"busybox");
        assert_eq!(entries[3].data, b"xyz");
    }

    #[test]
    fn kexec_archive_adds_programs_libraries_and_the_kernel_after_their_directories() {
        let dir = std::env::temp_dir().join(format!("xtask-kexec-cpio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let put = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, data).unwrap();
            p
        };
        let userland = Userland {
            files: vec![
                ("sbin/kexec".into(), put("kexec", b"KX")),
                (
                    "lib/powerpc64le-linux-gnu/libc.so.6".into(),
                    put("libc", b"LC"),
                ),
            ],
            symlinks: vec![(
                "lib64/ld64.so.2".into(),
                "/lib/powerpc64le-linux-gnu/ld64.so.2".into(),
            )],
        };
        let kernel = put("vmlinux", b"KERNEL");
        let extras = Extras {
            userland: &userland,
            kernel: Some(&kernel),
        };
        let out = dir.join("out.cpio");
        build_kexec(&put("busybox", b"BB"), &extras, &out).unwrap();
        let entries = parse(&std::fs::read(&out).unwrap());
        let at = |n: &str| {
            entries
                .iter()
                .position(|e| e.name == n)
                .unwrap_or_else(|| panic!("{n}"))
        };
        for (parent, child) in [
            ("sbin", "sbin/kexec"),
            ("lib", "lib/powerpc64le-linux-gnu"),
            (
                "lib/powerpc64le-linux-gnu",
                "lib/powerpc64le-linux-gnu/libc.so.6",
            ),
            ("lib64", "lib64/ld64.so.2"),
            ("boot", "boot/vmlinux"),
        ] {
            assert!(at(parent) < at(child), "{parent} before {child}");
            assert_eq!(entries[at(parent)].mode, S_IFDIR | 0o755);
        }
        assert_eq!(entries[at("boot/vmlinux")].data, b"KERNEL");
        assert_eq!(entries[at("sbin/kexec")].data, b"KX");
        assert_eq!(entries[at("lib64/ld64.so.2")].mode, S_IFLNK | 0o777);
        assert_eq!(entries[at("bin/opalite-tb")].data, crate::tbprog::image());
        // The small archive has none of it.
        build(&dir.join("busybox"), &out).unwrap();
        let small = parse(&std::fs::read(&out).unwrap());
        assert!(small
            .iter()
            .all(|e| !e.name.starts_with("boot") && !e.name.starts_with("sbin")));
        // Every initramfs has the two small programs.
        for prog in ["bin/opalite-tb", "bin/opalite-reboot2"] {
            assert!(small.iter().any(|e| e.name == prog), "{prog}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn init_script_has_the_markers() {
        assert!(INIT_SCRIPT.starts_with("#!/bin/sh\n"));
        for marker in [
            "OPALITE-USERSPACE-OK",
            "OPALITE-CPUS=",
            "opalite.test=",
            "poweroff -f",
            "OPALITE-KEXEC-GEN=",
            "opalite.kexec-count=",
            "kexec -p /boot/vmlinux",
            "OPALITE-VMCORE size=",
            "OPALITE-OLD-DMESG: ",
            "NMI backtrace for cpu",
            "opalite.kvm=",
            "insmod",
            "-incoming",
            "opalite-guest: tick ",
            "opalite-kvm: FAILED",
        ] {
            assert!(INIT_SCRIPT.contains(marker), "{marker}");
        }
    }

    /// A shell function defined twice silently replaces the first for every mode (a pci
    /// helper named like the kvm mode's `wait_for` once broke the KVM scenarios).
    #[test]
    fn init_script_defines_each_function_once() {
        let mut names: Vec<&str> = INIT_SCRIPT
            .lines()
            .filter_map(|l| l.strip_suffix("() {"))
            .filter(|n| !n.contains(' '))
            .collect();
        assert!(names.len() > 20, "functions found: {names:?}");
        names.sort_unstable();
        let twice: Vec<_> = names.windows(2).filter(|w| w[0] == w[1]).collect();
        assert!(twice.is_empty(), "defined twice: {twice:?}");
    }
}
