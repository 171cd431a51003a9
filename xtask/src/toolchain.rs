//! Finding (and on Debian, installing) what the build and the tests need:
//! a Rust toolchain that can build `core` for the firmware target, lld, binutils, QEMU >= 10.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::bail;
use crate::util::{self, Context, Result};

/// QEMU releases older than this lack most of the powernv model.
const MIN_QEMU_MAJOR: u32 = 10;
const BACKPORTS_LINE: &str = "deb http://deb.debian.org/debian bookworm-backports main";
const BACKPORTS_FILE: &str = "/etc/apt/sources.list.d/bookworm-backports.list";

/// Set once `apt-get update` ran in this process (cleared when a source is added).
static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// A toolchain able to build `core`/`alloc` for `firmware/powerpc64-opal.json`.
#[derive(Debug)]
pub struct FirmwareToolchain {
    pub cargo: PathBuf,
    pub rustc: PathBuf,
    /// Cargo >= 1.96 wants `-Zjson-target-spec` for a `.json` target; older ones reject it.
    pub needs_json_flag: bool,
    pub origin: String,
}

/// Finds or installs the firmware toolchain plus lld and powerpc64 binutils.
pub fn ensure_firmware_toolchain() -> Result<FirmwareToolchain> {
    let mut missing: Vec<&str> = Vec::new();
    let mut found = find_firmware_toolchain();
    if found.is_none() {
        missing.extend(["rustc-web", "cargo-web", "rust-web-src"]);
    }
    if util::which("ld.lld").is_none() {
        missing.push("lld");
    }
    if util::which("powerpc64-linux-gnu-objcopy").is_none() {
        missing.push("binutils-powerpc64-linux-gnu");
    }
    if !missing.is_empty() {
        apt_install(&missing, None).context(
            "the firmware needs a Rust toolchain with rust-src, ld.lld and powerpc64 binutils",
        )?;
        if found.is_none() {
            found = find_firmware_toolchain();
        }
    }
    let Some((cargo, rustc, origin)) = found else {
        bail!("no Rust toolchain with library sources (rust-src) found, even after installing rustc-web");
    };
    let help = Command::new(&cargo)
        .args(["-Z", "help"])
        .env("RUSTC", &rustc)
        .output()
        .context(format!("cannot run {}", cargo.display()))?;
    let needs_json_flag = String::from_utf8_lossy(&help.stdout).contains("json-target-spec");
    Ok(FirmwareToolchain {
        cargo,
        rustc,
        needs_json_flag,
        origin,
    })
}

/// A rustup toolchain with rust-src wins; Debian's rustc-web (/usr/bin) is the fallback.
fn find_firmware_toolchain() -> Option<(PathBuf, PathBuf, String)> {
    let mut sysroots = Vec::new();
    // The toolchain `cargo xtask` itself runs with (honours `cargo +nightly xtask`).
    if let Ok(out) = util::capture(Command::new("rustc").args(["--print", "sysroot"])) {
        sysroots.push(PathBuf::from(out.trim()));
    }
    // Any other installed rustup toolchain.
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".rustup")));
    if let Some(Ok(entries)) = rustup_home.map(|h| std::fs::read_dir(h.join("toolchains"))) {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        sysroots.extend(dirs);
    }
    for sysroot in sysroots {
        let (cargo, rustc) = (sysroot.join("bin/cargo"), sysroot.join("bin/rustc"));
        if has_rust_src(&sysroot) && cargo.is_file() && rustc.is_file() {
            return Some((
                cargo,
                rustc,
                format!("rustup toolchain {}", sysroot.display()),
            ));
        }
    }
    let usr = Path::new("/usr");
    let (cargo, rustc) = (usr.join("bin/cargo"), usr.join("bin/rustc"));
    if has_rust_src(usr) && cargo.is_file() && rustc.is_file() {
        return Some((
            cargo,
            rustc,
            "Debian rustc-web/cargo-web (/usr/bin)".to_string(),
        ));
    }
    None
}

fn has_rust_src(sysroot: &Path) -> bool {
    sysroot
        .join("lib/rustlib/src/rust/library/core/Cargo.toml")
        .is_file()
}

/// Makes sure `qemu-system-ppc64` >= 10 is installed; returns its path.
pub fn ensure_qemu() -> Result<PathBuf> {
    const BIN: &str = "qemu-system-ppc64";
    if let Some(v) = qemu_version(BIN) {
        if v.0 >= MIN_QEMU_MAJOR {
            return Ok(util::which(BIN).unwrap_or_else(|| BIN.into()));
        }
        eprintln!(
            "xtask: {BIN} {}.{}.{} is too old (need >= {MIN_QEMU_MAJOR})",
            v.0, v.1, v.2
        );
    }
    if os_codename().as_deref() == Some("bookworm") {
        // bookworm's own QEMU is 7.2; 10.x comes from backports.
        ensure_backports_source()?;
        apt_install(&["qemu-system-ppc"], Some("bookworm-backports"))?;
    } else {
        apt_install(&["qemu-system-ppc"], None)?;
    }
    match qemu_version(BIN) {
        Some(v) if v.0 >= MIN_QEMU_MAJOR => Ok(util::which(BIN).unwrap_or_else(|| BIN.into())),
        Some(v) => bail!(
            "installed {BIN} is {}.{}.{}, need >= {MIN_QEMU_MAJOR}",
            v.0,
            v.1,
            v.2
        ),
        None => bail!("{BIN} still not runnable after installing qemu-system-ppc"),
    }
}

/// Makes sure IBM's `pflash` (Debian's `opal-utils`, amd64) is installed; returns its path.
/// It lives in /usr/sbin, which a non-root PATH may lack.
pub fn ensure_pflash() -> Result<PathBuf> {
    let find = || {
        util::which("pflash").or_else(|| {
            let p = PathBuf::from("/usr/sbin/pflash");
            p.is_file().then_some(p)
        })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    apt_install(&["opal-utils"], None)?;
    match find() {
        Some(p) => Ok(p),
        None => bail!("pflash still missing after installing opal-utils"),
    }
}

fn qemu_version(bin: &str) -> Option<(u32, u32, u32)> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    parse_qemu_version(&String::from_utf8_lossy(&out.stdout))
}

/// Parses "QEMU emulator version 10.0.2 (Debian ...)".
pub fn parse_qemu_version(text: &str) -> Option<(u32, u32, u32)> {
    let rest = text.split("version ").nth(1)?;
    let word = rest.split_whitespace().next()?;
    let mut nums = word.split('.').map(|n| n.parse::<u32>().ok());
    let major = nums.next()??;
    let minor = nums.next().flatten().unwrap_or(0);
    let patch = nums.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

fn os_codename() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|v| v.trim_matches('"').to_string())
}

/// Adds bookworm-backports to apt's sources unless some source already names it.
fn ensure_backports_source() -> Result<()> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        files.extend(entries.flatten().map(|e| e.path()));
    }
    let present = files.iter().any(|f| {
        let is_source = f.extension().is_some_and(|e| e == "list" || e == "sources")
            || f.ends_with("sources.list");
        is_source && std::fs::read_to_string(f).is_ok_and(|t| mentions_backports(&t))
    });
    if present {
        return Ok(());
    }
    eprintln!("xtask: adding `{BACKPORTS_LINE}` to {BACKPORTS_FILE}");
    let text = format!("{BACKPORTS_LINE}\n");
    if std::fs::write(BACKPORTS_FILE, &text).is_err() {
        // Not root: let sudo write it.
        let mut tee = Command::new("sudo");
        tee.args([
            "sh",
            "-c",
            &format!("echo '{BACKPORTS_LINE}' > {BACKPORTS_FILE}"),
        ]);
        util::run(&mut tee).context(format!("cannot write {BACKPORTS_FILE}"))?;
    }
    APT_UPDATED.store(false, Ordering::SeqCst);
    Ok(())
}

/// True if an apt source file (one-line or deb822 format) enables bookworm-backports.
fn mentions_backports(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .any(|l| l.split_whitespace().any(|w| w == "bookworm-backports"))
}

/// Installs Debian packages (running `apt-get update` first, once per process).
pub fn apt_install(pkgs: &[&str], target_release: Option<&str>) -> Result<()> {
    if !Path::new("/usr/bin/apt-get").exists() || !Path::new("/usr/bin/dpkg").exists() {
        bail!(
            "missing packages {} and this host has no apt-get: xtask can only install them on \
             Debian 12 (bookworm); install the equivalents yourself (Rust with rust-src for a \
             custom target, ld.lld, powerpc64-linux-gnu binutils, qemu-system-ppc64 >= 10)",
            pkgs.join(" ")
        );
    }
    eprintln!("xtask: installing {} with apt", pkgs.join(" "));
    wait_for_other_apt();
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        // A failing mirror suite should not stop us: the install below decides.
        if let Err(e) = util::run(apt_get().arg("update")) {
            eprintln!("xtask: warning: {e}");
        }
    }
    let mut cmd = apt_get();
    cmd.args(["install", "-y", "--no-install-recommends"]);
    if let Some(release) = target_release {
        cmd.args(["-t", release]);
    }
    cmd.args(pkgs);
    util::run(&mut cmd)
}

/// `apt-get`, through sudo when not root, non-interactive, waiting for the dpkg lock.
fn apt_get() -> Command {
    let mut cmd = if util::euid() == Some(0) {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.arg("apt-get");
        c
    };
    cmd.env("DEBIAN_FRONTEND", "noninteractive").args([
        "-o",
        "DPkg::Lock::Timeout=900",
        "-o",
        "Dpkg::Options::=--force-confold",
    ]);
    cmd
}

/// Waits while another apt/dpkg runs (e.g. a provisioning script), so we do not race it.
fn wait_for_other_apt() {
    let start = Instant::now();
    let mut announced = false;
    while let Some(who) = other_apt_process() {
        if start.elapsed() > Duration::from_secs(1800) {
            eprintln!("xtask: {who} still running after 30 min; going ahead anyway");
            return;
        }
        if !announced {
            eprintln!("xtask: waiting for {who} to finish before using apt");
            announced = true;
        }
        std::thread::sleep(Duration::from_secs(3));
    }
}

fn other_apt_process() -> Option<String> {
    let me = std::process::id().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        let comm = comm.trim();
        if matches!(
            comm,
            "apt" | "apt-get" | "aptitude" | "dpkg" | "unattended-upgr"
        ) {
            return Some(format!("{comm} (pid {pid})"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_versions() {
        let text = "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\nCopyright";
        assert_eq!(parse_qemu_version(text), Some((10, 0, 2)));
        assert_eq!(
            parse_qemu_version("QEMU emulator version 7.2.15"),
            Some((7, 2, 15))
        );
        assert_eq!(
            parse_qemu_version("QEMU emulator version 9.1"),
            Some((9, 1, 0))
        );
        assert_eq!(parse_qemu_version("garbage"), None);
    }

    #[test]
    fn backports_detection() {
        assert!(mentions_backports(
            "deb http://deb.debian.org/debian bookworm-backports main\n"
        ));
        assert!(mentions_backports(
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-backports\n"
        ));
        assert!(!mentions_backports(
            "# deb http://x bookworm-backports main\n"
        ));
        assert!(!mentions_backports("Suites: bookworm bookworm-updates\n"));
    }
}
