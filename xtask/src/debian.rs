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
            Some(s) => format!("{name}@{s}"),
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
