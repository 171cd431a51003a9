//! Debian ppc64el packages (kernel, busybox, ...) fetched with a private apt state, so the
//! host's dpkg architecture list and apt lists stay untouched, and cached by file name.
//!
//! Layout under `${XDG_CACHE_HOME:-$HOME/.cache}/opalite/`:
//!   apt/       private apt configuration, lists and caches
//!   debs/      downloaded .deb files, named as apt names them
//!   unpacked/  `<deb name>` (whole package) or `<deb name>@<dir>` (one directory of it)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::bail;
use crate::elf;
use crate::util::{self, Context, Result};

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const SOURCES: &[(&str, &str)] = &[
    ("http://deb.debian.org/debian", "bookworm"),
    ("http://deb.debian.org/debian", "bookworm-updates"),
    ("http://deb.debian.org/debian-security", "bookworm-security"),
];
/// Package lists younger than this are reused without asking the mirror.
const LISTS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

pub struct DebCache {
    root: PathBuf,
}

impl DebCache {
    pub fn open() -> Result<DebCache> {
        let cache = DebCache {
            root: util::cache_dir()?,
        };
        cache.prepare_apt()?;
        Ok(cache)
    }

    fn apt_dir(&self) -> PathBuf {
        self.root.join("apt")
    }

    fn prepare_apt(&self) -> Result<()> {
        let apt = self.apt_dir();
        for dir in [
            "state/lists/partial",
            "cache/archives/partial",
            "etc/sources.list.d",
            "etc/preferences.d",
        ] {
            std::fs::create_dir_all(apt.join(dir))
                .context(format!("cannot create {}", apt.join(dir).display()))?;
        }
        let status = apt.join("state/status");
        if !status.exists() {
            std::fs::write(&status, "")?;
        }
        let sources: String = SOURCES
            .iter()
            .map(|(uri, suite)| format!("deb [signed-by={KEYRING}] {uri} {suite} main\n"))
            .collect();
        std::fs::write(apt.join("etc/sources.list"), sources)?;
        Ok(())
    }

    /// apt-get/apt-cache pointed at the private state, for ppc64el only.
    fn apt(&self, tool: &str) -> Command {
        let apt = self.apt_dir();
        let d = |p: &str| apt.join(p).display().to_string();
        let mut cmd = Command::new(tool);
        for opt in [
            "APT::Architecture=ppc64el".to_string(),
            "APT::Architectures=ppc64el".to_string(),
            format!("Dir::State={}", d("state")),
            format!("Dir::State::status={}", d("state/status")),
            format!("Dir::Cache={}", d("cache")),
            format!("Dir::Etc::SourceList={}", d("etc/sources.list")),
            format!("Dir::Etc::SourceParts={}", d("etc/sources.list.d")),
            format!("Dir::Etc::Preferences={}", d("etc/preferences")),
            format!("Dir::Etc::PreferencesParts={}", d("etc/preferences.d")),
            // As root apt would hand downloads to `_apt`, who cannot write into our cache.
            "APT::Sandbox::User=root".to_string(),
        ] {
            cmd.arg("-o").arg(opt);
        }
        cmd
    }

    /// Refreshes the package lists unless they are recent.
    pub fn update_lists(&self) -> Result<()> {
        if !Path::new(KEYRING).is_file() {
            bail!("{KEYRING} is missing (package debian-archive-keyring): cannot verify Debian's archive");
        }
        let stamp = self.apt_dir().join("updated.stamp");
        let fresh = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < LISTS_MAX_AGE);
        if fresh && self.has_lists() {
            return Ok(());
        }
        eprintln!("xtask: updating Debian ppc64el package lists");
        let mut cmd = self.apt("apt-get");
        cmd.args(["-q", "update"]);
        if let Err(e) = util::capture(&mut cmd) {
            // One suite out of sync on the mirror must not stop us if the others came in.
            if !self.has_lists() {
                return Err(e);
            }
            let first_error = e.0.lines().find(|l| l.starts_with("E: ")).unwrap_or("");
            eprintln!("xtask: warning: some package lists failed, using the rest: {first_error}");
        }
        std::fs::write(&stamp, "")?;
        Ok(())
    }

    fn has_lists(&self) -> bool {
        std::fs::read_dir(self.apt_dir().join("state/lists")).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().contains("_Packages"))
        })
    }

    /// The newest `linux-image-6.1.0-<abi>-powerpc64le` the lists know about.
    pub fn newest_kernel_package(&self) -> Result<String> {
        let mut cmd = self.apt("apt-cache");
        cmd.args([
            "search",
            "--names-only",
            r"^linux-image-6\.1\.0-[0-9]+-powerpc64le$",
        ]);
        let out = util::capture(&mut cmd)?;
        match newest_kernel(&out) {
            Some(name) => Ok(name),
            None => bail!("no linux-image-6.1.0-*-powerpc64le package in the ppc64el lists"),
        }
    }

    /// Downloads a package's candidate version unless that exact file is cached.
    pub fn fetch(&self, pkg: &str) -> Result<PathBuf> {
        let mut uris = self.apt("apt-get");
        uris.args(["--print-uris", "download", pkg]);
        let out = util::capture(&mut uris)?;
        let Some(file) = deb_file_name(&out) else {
            bail!("apt-get --print-uris gave no file for {pkg}:\n{out}");
        };
        let debs = self.root.join("debs");
        let deb = debs.join(&file);
        if deb.is_file() {
            return Ok(deb);
        }
        eprintln!("xtask: downloading {file}");
        let tmp = debs.join(format!(".download-{}", std::process::id()));
        std::fs::create_dir_all(&tmp)?;
        let mut dl = self.apt("apt-get");
        dl.args(["-q", "download", pkg]).current_dir(&tmp);
        let result = util::capture(&mut dl).and_then(|_| {
            std::fs::rename(tmp.join(&file), &deb)
                .context(format!("apt-get download did not produce {file}"))
        });
        let _ = std::fs::remove_dir_all(&tmp);
        result.map(|()| deb)
    }

    /// Unpacks a .deb (or only `subdir` of it) once; returns the directory.
    pub fn unpack(&self, deb: &Path, subdir: Option<&str>) -> Result<PathBuf> {
        let name = deb.file_name().unwrap_or_default().to_string_lossy();
        let key = match subdir {
            // One cache entry per path; `/` would nest the entry's directory.
            Some(s) => format!("{name}@{}", s.replace('/', "+")),
            None => name.to_string(),
        };
        let unpacked = self.root.join("unpacked");
        let dest = unpacked.join(&key);
        if dest.is_dir() {
            return Ok(dest);
        }
        let tmp = unpacked.join(format!(".{key}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        let result = match subdir {
            None => util::capture(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&tmp)).map(drop),
            Some(dir) => extract_subdir(deb, dir, &tmp),
        };
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        // Rename last, so an interrupted unpack is never mistaken for a complete one.
        if let Err(e) = std::fs::rename(&tmp, &dest) {
            let _ = std::fs::remove_dir_all(&tmp);
            // A concurrent run may have finished the same unpack first.
            if !dest.is_dir() {
                return Err(e.into());
            }
        }
        Ok(dest)
    }

    /// The newest Debian 6.1 ppc64el kernel (`vmlinux`, an ELF QEMU copies raw).
    pub fn kernel(&self) -> Result<PathBuf> {
        self.update_lists()?;
        let pkg = self.newest_kernel_package()?;
        // Only boot/ is needed: the modules would be another 250 MB on disk.
        let dir = self.unpack(&self.fetch(&pkg)?, Some("boot"))?;
        let version = pkg.trim_start_matches("linux-image-");
        let kernel = dir.join("boot").join(format!("vmlinux-{version}"));
        if !kernel.is_file() {
            bail!("{} not found in {pkg}", kernel.display());
        }
        Ok(kernel)
    }

    /// The static ppc64el busybox binary.
    pub fn busybox(&self) -> Result<PathBuf> {
        self.update_lists()?;
        let dir = self.unpack(&self.fetch("busybox-static")?, None)?;
        let busybox = dir.join("bin/busybox");
        if !busybox.is_file() {
            bail!("{} not found in busybox-static", busybox.display());
        }
        Ok(busybox)
    }
}

/// Where Debian's ppc64el dynamic loader looks for libraries (relative to `/`).
pub const LIB_DIR: &str = "lib/powerpc64le-linux-gnu";

/// The Debian package that ships each shared library our initramfs programs may need
/// (kexec-tools, and bookworm's qemu-system-ppc64 with everything its libraries need).
/// A soname missing here is an error that names it, never a silently broken initramfs.
const LIBRARY_PACKAGES: &[(&str, &str)] = &[
    ("ld64.so.2", "libc6"),
    ("libc.so.6", "libc6"),
    ("libm.so.6", "libc6"),
    ("libresolv.so.2", "libc6"),
    ("libz.so.1", "zlib1g"),
    ("liblzma.so.5", "liblzma5"),
    ("libaio.so.1", "libaio1"),
    ("libblkid.so.1", "libblkid1"),
    ("libbpf.so.1", "libbpf1"),
    ("libcapstone.so.4", "libcapstone4"),
    ("libcrypto.so.3", "libssl3"),
    ("libelf.so.1", "libelf1"),
    ("libfdt.so.1", "libfdt1"),
    ("libffi.so.8", "libffi8"),
    ("libfreeipmi.so.17", "libfreeipmi17"),
    ("libfuse3.so.3", "libfuse3-3"),
    ("libgcc_s.so.1", "libgcc-s1"),
    ("libgio-2.0.so.0", "libglib2.0-0"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libgmodule-2.0.so.0", "libglib2.0-0"),
    ("libgobject-2.0.so.0", "libglib2.0-0"),
    ("libgmp.so.10", "libgmp10"),
    ("libgcrypt.so.20", "libgcrypt20"),
    ("libgnutls.so.30", "libgnutls30"),
    ("libgpg-error.so.0", "libgpg-error0"),
    ("libhogweed.so.6", "libhogweed6"),
    ("libibverbs.so.1", "libibverbs1"),
    ("libidn2.so.0", "libidn2-0"),
    ("libjpeg.so.62", "libjpeg62-turbo"),
    ("libmount.so.1", "libmount1"),
    ("libnettle.so.8", "libnettle8"),
    ("libnl-3.so.200", "libnl-3-200"),
    ("libnl-route-3.so.200", "libnl-route-3-200"),
    ("libnuma.so.1", "libnuma1"),
    ("libp11-kit.so.0", "libp11-kit0"),
    ("libpcre2-8.so.0", "libpcre2-8-0"),
    ("libpixman-1.so.0", "libpixman-1-0"),
    ("libpng16.so.16", "libpng16-16"),
    ("librdmacm.so.1", "librdmacm1"),
    ("libreadline.so.8", "libreadline8"),
    ("libsasl2.so.2", "libsasl2-2"),
    ("libseccomp.so.2", "libseccomp2"),
    ("libselinux.so.1", "libselinux1"),
    ("libslirp.so.0", "libslirp0"),
    ("libtasn1.so.6", "libtasn1-6"),
    ("libtinfo.so.6", "libtinfo6"),
    ("libudev.so.1", "libudev1"),
    ("libunistring.so.2", "libunistring2"),
    ("liburing.so.2", "liburing2"),
    ("libvdeplug.so.2", "libvdeplug2"),
    ("libzstd.so.1", "libzstd1"),
];

/// The package that ships `soname`, or an error naming it and who needs it.
fn library_package(soname: &str, needed_by: &str) -> Result<&'static str> {
    match LIBRARY_PACKAGES.iter().find(|(s, _)| *s == soname) {
        Some((_, pkg)) => Ok(pkg),
        None => {
            bail!("{needed_by} needs {soname}, which no entry of debian.rs LIBRARY_PACKAGES ships")
        }
    }
}

/// Files to add to an initramfs, paths relative to its root.
#[derive(Debug, Default)]
pub struct Userland {
    /// (path in the initramfs, file on the host), parents before children not implied.
    pub files: Vec<(String, PathBuf)>,
    /// (path in the initramfs, link target).
    pub symlinks: Vec<(String, String)>,
}

impl Userland {
    pub fn extend(&mut self, other: Userland) {
        self.files.extend(other.files);
        for link in other.symlinks {
            if !self.symlinks.contains(&link) {
                self.symlinks.push(link);
            }
        }
    }
}

/// Where the kvm scenarios' /init finds the kernel modules, in load order.
pub const MODULE_DIR: &str = "lib/modules/opalite";

impl DebCache {
    /// Debian's ppc64el `/sbin/kexec` and `/sbin/vmcore-dmesg` (kexec-tools) with their
    /// loader and libraries.
    pub fn kexec_tools(&self) -> Result<Userland> {
        self.update_lists()?;
        let dir = self.unpack(&self.fetch("kexec-tools")?, None)?;
        self.programs(&dir, &["sbin/kexec", "sbin/vmcore-dmesg"], "kexec")
    }

    /// Debian's ppc64el `/usr/bin/ipmitool` with its loader and libraries, and the IPMI
    /// modules Linux needs for `/dev/ipmi0` on PowerNV (`ipmi_powernv` behind OPAL, the
    /// message handler, the device interface).
    pub fn ipmitool(&self) -> Result<Userland> {
        self.update_lists()?;
        let dir = self.unpack(&self.fetch("ipmitool")?, None)?;
        let mut u = self.programs(&dir, &["usr/bin/ipmitool"], "ipmitool")?;
        u.extend(self.kernel_modules(&["ipmi_powernv", "ipmi_devintf"])?);
        Ok(u)
    }

    /// The modules Linux needs for `/dev/mtd0` on PowerNV (`powernv_flash` behind
    /// OPAL_FLASH_*, and the MTD core it needs).
    pub fn flash_modules(&self) -> Result<Userland> {
        self.kernel_modules(&["powernv_flash"])
    }

    /// The drivers for the `pci-*` scenarios' devices: nvme, virtio-blk (with virtio_pci,
    /// a module in Debian's 6.1) and e1000e, with what they depend on.
    pub fn pci_modules(&self) -> Result<Userland> {
        self.kernel_modules(&["nvme", "virtio_pci", "virtio_blk", "e1000e"])
    }

    /// Debian's ppc64el `qemu-system-ppc64` with its loader and libraries, and SLOF (the
    /// pseries firmware) where that QEMU looks for it, `/usr/share/qemu`.
    pub fn qemu_system_ppc(&self) -> Result<Userland> {
        self.update_lists()?;
        let dir = self.unpack(&self.fetch("qemu-system-ppc")?, None)?;
        let mut u = self.programs(&dir, &["usr/bin/qemu-system-ppc64"], "qemu-system-ppc64")?;
        let data = self.unpack(&self.fetch("qemu-system-data")?, None)?;
        let slof = "usr/share/qemu/slof.bin";
        if !data.join(slof).is_file() {
            bail!("{slof} not found in qemu-system-data");
        }
        u.files.push((slof.into(), data.join(slof)));
        Ok(u)
    }

    /// Programs (paths relative to the unpacked package `dir`) with their program
    /// interpreter and the shared libraries their `DT_NEEDED` entries name, transitively.
    fn programs(&self, dir: &Path, programs: &[&str], what: &str) -> Result<Userland> {
        let mut u = Userland::default();
        let mut queue = Vec::new();
        for program in programs {
            let host = dir.join(program);
            let d = elf::dynamic(&std::fs::read(&host)?)
                .context(format!("cannot read {}", host.display()))?;
            if d.machine != elf::EM_PPC64 {
                bail!(
                    "{} is not a ppc64 ELF (machine {})",
                    host.display(),
                    d.machine
                );
            }
            u.files.push((program.to_string(), host.clone()));
            queue.extend(d.needed);
            let Some(interp) = d.interp else { continue };
            let Some((_, base)) = interp.rsplit_once('/') else {
                bail!("odd program interpreter `{interp}` in {}", host.display());
            };
            let link = interp.trim_start_matches('/').to_string();
            if link != format!("{LIB_DIR}/{base}") && !u.symlinks.iter().any(|(l, _)| *l == link) {
                u.symlinks.push((link, format!("/{LIB_DIR}/{base}")));
            }
            queue.push(base.to_string());
        }
        while let Some(soname) = queue.pop() {
            let dest = format!("{LIB_DIR}/{soname}");
            if u.files.iter().any(|(d, _)| *d == dest) {
                continue;
            }
            let pkg = library_package(&soname, what)?;
            let root = self.unpack(&self.fetch(pkg)?, None)?;
            let host = find_library(&root, &soname)
                .context(format!("{soname} not found in Debian's {pkg}"))?;
            let lib = elf::dynamic(&std::fs::read(&host)?)
                .context(format!("cannot read {}", host.display()))?;
            queue.extend(lib.needed);
            u.files.push((dest, host));
        }
        Ok(u)
    }

    /// The modules `wanted` (and the ones they depend on) from the kernel package, as
    /// `MODULE_DIR/NN-name.ko` numbered in load order: dependencies first, for a plain
    /// `insmod` loop. Only these files are extracted, not the package's 250 MB of modules.
    pub fn kernel_modules(&self, wanted: &[&str]) -> Result<Userland> {
        self.update_lists()?;
        let pkg = self.newest_kernel_package()?;
        let deb = self.fetch(&pkg)?;
        let version = pkg.trim_start_matches("linux-image-");
        // The .deb has no modules.dep (depmod writes it at install): modules.order says
        // where each module is, each module's .modinfo `depends=` what it needs.
        let base = format!("lib/modules/{version}");
        let order_file = format!("{base}/modules.order");
        let order =
            std::fs::read_to_string(self.unpack(&deb, Some(&order_file))?.join(&order_file))?;
        let mut paths = Vec::new();
        let order = load_order(wanted, |name| {
            let Some(rel) = module_path(&order, name) else {
                bail!("no module {name} in {pkg} (modules.order)");
            };
            let file = format!("{base}/{rel}");
            let host = self.unpack(&deb, Some(&file))?.join(&file);
            let depends = modinfo_depends(&std::fs::read(&host)?);
            paths.push((name.to_string(), host));
            Ok(depends)
        })?;
        let mut u = Userland::default();
        for (i, name) in order.iter().enumerate() {
            let (_, host) = paths.iter().find(|(n, _)| n == name).expect("resolved");
            u.files
                .push((format!("{MODULE_DIR}/{i:02}-{name}.ko"), host.clone()));
        }
        Ok(u)
    }
}

/// The path of module `name` in a modules.order listing (`-` and `_` are the same in
/// module names: kvm-hv.ko is the module kvm_hv).
fn module_path<'a>(modules_order: &'a str, name: &str) -> Option<&'a str> {
    let norm = |s: &str| s.replace('-', "_");
    modules_order.lines().map(str::trim).find(|l| {
        let file = l.rsplit('/').next().unwrap_or(l);
        file.strip_suffix(".ko")
            .is_some_and(|stem| norm(stem) == norm(name))
    })
}

/// The `depends=` list of a module's .modinfo strings (NUL-separated `key=value`).
fn modinfo_depends(ko: &[u8]) -> Vec<String> {
    ko.split(|&b| b == 0)
        .find_map(|s| s.strip_prefix(b"depends="))
        .map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .filter(|d| !d.is_empty())
                .map(|d| d.replace('-', "_"))
                .collect()
        })
        .unwrap_or_default()
}

/// Modules in an order `insmod` can load them: each after everything it depends on.
fn load_order(
    wanted: &[&str],
    mut depends_of: impl FnMut(&str) -> Result<Vec<String>>,
) -> Result<Vec<String>> {
    fn visit(
        name: String,
        depends_of: &mut dyn FnMut(&str) -> Result<Vec<String>>,
        done: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> Result<()> {
        if done.contains(&name) {
            return Ok(());
        }
        if path.contains(&name) {
            bail!("module dependency cycle: {} -> {name}", path.join(" -> "));
        }
        path.push(name.clone());
        for dep in depends_of(&name)? {
            visit(dep, depends_of, done, path)?;
        }
        path.pop();
        done.push(name);
        Ok(())
    }
    let mut done = Vec::new();
    for name in wanted {
        visit(
            name.replace('-', "_"),
            &mut depends_of,
            &mut done,
            &mut Vec::new(),
        )?;
    }
    Ok(done)
}

/// A library in an unpacked package, following symlinks inside that tree only (Debian's
/// are often absolute, and must not resolve against the host's own /lib).
fn find_library(root: &Path, soname: &str) -> Result<PathBuf> {
    for dir in [LIB_DIR.to_string(), format!("usr/{LIB_DIR}")] {
        let mut path = root.join(&dir).join(soname);
        for _ in 0..8 {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                break;
            };
            if meta.file_type().is_file() {
                return Ok(path);
            }
            if !meta.file_type().is_symlink() {
                break;
            }
            let target = std::fs::read_link(&path)?;
            path = match target.strip_prefix("/") {
                Ok(abs) => root.join(abs),
                Err(_) => path.parent().unwrap_or(root).join(target),
            };
        }
    }
    bail!("no {soname} under {}", root.display())
}

/// `dpkg-deb --fsys-tarfile DEB | tar -x ./DIR`.
fn extract_subdir(deb: &Path, dir: &str, dest: &Path) -> Result<()> {
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run dpkg-deb")?;
    let tar_in = dpkg.stdout.take().expect("piped");
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .arg(format!("./{dir}"))
        .stdin(tar_in)
        .status()
        .context("cannot run tar");
    let dpkg = dpkg.wait()?;
    let tar = tar?;
    if !dpkg.success() || !tar.success() {
        bail!(
            "cannot extract ./{dir} from {} (dpkg-deb {dpkg}, tar {tar})",
            deb.display()
        );
    }
    Ok(())
}

/// Picks the highest ABI number among `apt-cache search` result lines.
fn newest_kernel(search_output: &str) -> Option<String> {
    search_output
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|name| {
            let abi = name
                .strip_prefix("linux-image-6.1.0-")?
                .strip_suffix("-powerpc64le")?;
            Some((abi.parse::<u32>().ok()?, name.to_string()))
        })
        .max()
        .map(|(_, name)| name)
}

/// The local file name from `apt-get --print-uris download` ('URI' FILE SIZE HASH).
fn deb_file_name(print_uris: &str) -> Option<String> {
    let line = print_uris.lines().find(|l| l.starts_with('\''))?;
    let file = line.split_whitespace().nth(1)?;
    (file.ends_with(".deb") && !file.contains('/')).then(|| file.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_newest_kernel_numerically() {
        let out = "linux-image-6.1.0-9-powerpc64le - Linux 6.1\n\
                   linux-image-6.1.0-50-powerpc64le - Linux 6.1 for Little-endian 64-bit PowerPC\n\
                   linux-image-6.1.0-47-powerpc64le - Linux 6.1\n\
                   linux-image-6.1.0-51-powerpc64le-dbg - debug symbols\n";
        assert_eq!(
            newest_kernel(out).as_deref(),
            Some("linux-image-6.1.0-50-powerpc64le")
        );
        assert_eq!(newest_kernel(""), None);
    }

    #[test]
    fn libraries_resolve_inside_the_tree() {
        let root = std::env::temp_dir().join(format!("xtask-libs-{}", std::process::id()));
        let lib = root.join(LIB_DIR);
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::create_dir_all(root.join("usr").join(LIB_DIR)).unwrap();
        std::fs::write(lib.join("libc.so.6"), b"x").unwrap();
        std::os::unix::fs::symlink("libc.so.6", lib.join("libalias.so.1")).unwrap();
        std::os::unix::fs::symlink(
            format!("/{LIB_DIR}/libc.so.6"),
            root.join("usr").join(LIB_DIR).join("libabs.so.2"),
        )
        .unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", lib.join("libgone.so.1")).unwrap();
        let found = |s: &str| find_library(&root, s).ok();
        assert_eq!(found("libc.so.6"), Some(lib.join("libc.so.6")));
        assert_eq!(found("libalias.so.1"), Some(lib.join("libc.so.6")));
        assert_eq!(found("libabs.so.2"), Some(lib.join("libc.so.6")));
        assert_eq!(found("libgone.so.1"), None);
        assert_eq!(found("libnone.so.1"), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn every_qemu_library_has_a_package_and_an_unknown_one_is_named() {
        // bookworm's qemu-system-ppc64 DT_NEEDED closure, as read from its 7.2 package.
        for soname in [
            "libfdt.so.1",
            "libglib-2.0.so.0",
            "libgnutls.so.30",
            "libnl-route-3.so.200",
            "libp11-kit.so.0",
            "libslirp.so.0",
            "ld64.so.2",
        ] {
            assert!(library_package(soname, "qemu").is_ok(), "{soname}");
        }
        assert_eq!(
            library_package("libgio-2.0.so.0", "q").unwrap(),
            "libglib2.0-0"
        );
        let e = library_package("libnew.so.9", "qemu-system-ppc64").unwrap_err();
        assert!(
            e.0.contains("libnew.so.9") && e.0.contains("qemu-system-ppc64"),
            "{}",
            e.0
        );
        for (i, (s, _)) in LIBRARY_PACKAGES.iter().enumerate() {
            assert!(
                !LIBRARY_PACKAGES[..i].iter().any(|(t, _)| t == s),
                "{s} twice"
            );
        }
    }

    #[test]
    fn modules_are_found_by_either_spelling_and_read_their_depends() {
        let order = "kernel/arch/powerpc/kvm/kvm.ko\nkernel/arch/powerpc/kvm/kvm-hv.ko\n";
        assert_eq!(
            module_path(order, "kvm_hv"),
            Some("kernel/arch/powerpc/kvm/kvm-hv.ko")
        );
        assert_eq!(
            module_path(order, "kvm-hv"),
            Some("kernel/arch/powerpc/kvm/kvm-hv.ko")
        );
        assert_eq!(
            module_path(order, "kvm"),
            Some("kernel/arch/powerpc/kvm/kvm.ko")
        );
        assert_eq!(module_path(order, "kv"), None);
        let ko = b"\x7fELF..\0license=GPL\0depends=kvm,irq-bypass\0name=kvm_hv\0";
        assert_eq!(modinfo_depends(ko), ["kvm", "irq_bypass"]);
        assert!(modinfo_depends(b"\0depends=\0name=kvm\0").is_empty());
        assert!(modinfo_depends(b"no modinfo").is_empty());
    }

    #[test]
    fn modules_load_after_their_dependencies() {
        let deps = |name: &str| -> Result<Vec<String>> {
            Ok(match name {
                "kvm_hv" => vec!["kvm".into(), "base".into()],
                "kvm" => vec!["base".into()],
                "loop_a" => vec!["loop_b".into()],
                "loop_b" => vec!["loop_a".into()],
                _ => vec![],
            })
        };
        assert_eq!(
            load_order(&["kvm-hv", "kvm"], deps).unwrap(),
            ["base", "kvm", "kvm_hv"]
        );
        let e = load_order(&["loop_a"], deps).unwrap_err();
        assert!(e.0.contains("cycle"), "{}", e.0);
    }

    #[test]
    fn reads_print_uris() {
        let out = "'http://deb.debian.org/debian/pool/main/b/busybox/busybox-static_1.35.0-4%2bdeb12u1%2bb1_ppc64el.deb' \
                   busybox-static_1%3a1.35.0-4+deb12u1+b1_ppc64el.deb 965108 SHA256:932d\n";
        assert_eq!(
            deb_file_name(out).as_deref(),
            Some("busybox-static_1%3a1.35.0-4+deb12u1+b1_ppc64el.deb")
        );
        assert_eq!(deb_file_name("Reading package lists...\n"), None);
    }
}
