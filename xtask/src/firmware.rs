//! `cargo xtask build`: the firmware ELF (custom target, build-std) and the raw image.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bail;
use crate::toolchain;
use crate::util::{self, Context, Result};

pub const TARGET_JSON: &str = "firmware/powerpc64-opal.json";
/// Separate from the host `target/` so the two cargos never wait on each other's lock.
pub const FW_TARGET_DIR: &str = "target/fw";
pub const IMAGE: &str = "target/opalite.lid";
/// The conformance payload (tests/conformance), copied here after each build.
pub const PAYLOAD_ELF: &str = "target/opal-conformance.elf";
const PAYLOAD_PACKAGE: &str = "opal-conformance";
/// The test-only firmware build: HMI injection (feature `hmi-inject`), never released.
/// Its own target directory, so switching features does not rebuild the release image.
pub const HMI_TEST_TARGET_DIR: &str = "target/fw-hmi-inject";
pub const HMI_TEST_IMAGE: &str = "target/opalite-hmi-inject.lid";
/// Symbols only the injection build may contain (checked absent from the release ELF).
/// (`3hmi5model` is the mangled `hmi::model`, the software core the injection reads.)
pub const INJECTION_SYMBOLS: &[&str] = &["opal_exit_into_hmi", "hmi_inject", "3hmi5model"];

pub struct Built {
    pub elf: PathBuf,
    pub image: PathBuf,
    /// The conformance payload, built with the firmware (same target, same profile).
    pub payload: PathBuf,
}

/// Where build output goes: the terminal, or (under `xtask test`) a log file.
#[derive(Clone, Copy)]
pub enum Output<'a> {
    Terminal,
    Log(&'a Path),
}

impl Output<'_> {
    fn apply(self, cmd: &mut Command) -> Result<()> {
        if let Output::Log(path) = self {
            let f = File::options().create(true).append(true).open(path)?;
            cmd.stdout(f.try_clone()?).stderr(f);
        }
        Ok(())
    }
}

pub fn elf_path(debug: bool) -> PathBuf {
    target_binary(debug, "opalite")
}

/// The ELF of the HMI-injection build (`build_hmi_test_image`).
pub fn hmi_test_elf_path() -> PathBuf {
    util::repo_root()
        .join(HMI_TEST_TARGET_DIR)
        .join("powerpc64-opal/release/opalite")
}

fn target_binary(debug: bool, name: &str) -> PathBuf {
    let profile = if debug { "debug" } else { "release" };
    util::repo_root()
        .join(FW_TARGET_DIR)
        .join("powerpc64-opal")
        .join(profile)
        .join(name)
}

/// Builds the firmware and the conformance payload (one cargo run), then the raw image.
pub fn build(debug: bool, output: Output) -> Result<Built> {
    let root = util::repo_root();
    let version = opalite_version(&root);
    eprintln!(
        "xtask: building firmware {version} and the conformance payload ({})",
        if debug { "debug" } else { "release" },
    );
    cargo_build(
        &root,
        debug,
        &["opalite", PAYLOAD_PACKAGE],
        &[],
        FW_TARGET_DIR,
        &version,
        output,
    )
    .context("firmware build failed")?;

    let elf = elf_path(debug);
    if !elf.is_file() {
        bail!("the build succeeded but {} is missing", elf.display());
    }
    let image = root.join(IMAGE);
    make_image(&root, &elf, &image, output)?;
    let map = crate::symmap::patch(&elf, &image)?;
    let size = std::fs::metadata(&image)?.len();
    println!("{}: {}", IMAGE, util::human_size(size));
    println!(
        "  symbol map: {} symbols (opal_entry {:#x}), {} bytes of text packed to {} in a \
         {}-byte hole",
        map.symbols,
        map.opal_entry,
        map.text_len,
        map.blob.len(),
        map.hole_size
    );
    let payload = copy_payload(&root, debug)?;
    Ok(Built {
        elf,
        image,
        payload,
    })
}

/// The firmware image and the conformance payload a payload run boots: `other` (checked
/// to exist) with the payload built alone, or a fresh build of both.
pub fn image_and_payload(other: &Option<PathBuf>, debug: bool) -> Result<(PathBuf, PathBuf)> {
    match other {
        Some(path) if path.is_file() => Ok((path.clone(), build_payload(debug, Output::Terminal)?)),
        Some(path) => crate::bail!("{} does not exist", path.display()),
        None => {
            let built = build(debug, Output::Terminal)?;
            Ok((built.image, built.payload))
        }
    }
}

/// Builds only the conformance payload (to run it on another firmware).
pub fn build_payload(debug: bool, output: Output) -> Result<PathBuf> {
    let root = util::repo_root();
    let version = opalite_version(&root);
    eprintln!(
        "xtask: building the conformance payload ({})",
        if debug { "debug" } else { "release" },
    );
    cargo_build(
        &root,
        debug,
        &[PAYLOAD_PACKAGE],
        &[],
        FW_TARGET_DIR,
        &version,
        output,
    )
    .context("conformance payload build failed")?;
    copy_payload(&root, debug)
}

/// Builds the test-only firmware with HMI injection (release profile) and its image.
pub fn build_hmi_test_image(output: Output) -> Result<PathBuf> {
    let root = util::repo_root();
    let version = format!("{}-hmi-inject", opalite_version(&root));
    eprintln!("xtask: building the HMI-injection test firmware");
    cargo_build(
        &root,
        false,
        &["opalite"],
        &["opalite/hmi-inject"],
        HMI_TEST_TARGET_DIR,
        &version,
        output,
    )
    .context("HMI-injection firmware build failed")?;
    let elf = hmi_test_elf_path();
    // The release check below looks for these names: they must exist here, or that
    // check could never fail.
    if injection_symbols_in(&elf)?.is_empty() {
        bail!(
            "{} has none of the injection symbols {INJECTION_SYMBOLS:?}",
            elf.display()
        );
    }
    let image = root.join(HMI_TEST_IMAGE);
    make_image(&root, &elf, &image, output)?;
    crate::symmap::patch(&elf, &image)?;
    Ok(image)
}

/// The release ELF's symbols that belong to the injection build only (must be none).
pub fn injection_symbols_in(elf: &Path) -> Result<Vec<String>> {
    let out = Command::new("powerpc64-linux-gnu-nm")
        .arg(elf)
        .output()
        .or_else(|_| Command::new("nm").arg(elf).output())
        .context("cannot run nm")?;
    if !out.status.success() {
        bail!("nm {} failed", elf.display());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.lines().count() < 100 {
        bail!(
            "nm listed almost no symbols in {}: stripped?",
            elf.display()
        );
    }
    Ok(text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|sym| INJECTION_SYMBOLS.iter().any(|i| sym.contains(i)))
        .map(str::to_owned)
        .collect())
}

/// The Mambo callthru word, big-endian as it sits in the image.
const CALLTHRU_WORD: [u8; 4] = [0x00, 0x0e, 0xae, 0xb0];

/// Addresses in the image `lid` (loaded at its ELF's link address) where the Mambo
/// callthru word appears outside the one function allowed to hold it
/// (`arch::mambo::Callthru::call`): on QEMU or hardware the word is an illegal
/// instruction, so anywhere else it is a bug waiting for a machine without `/mambo`.
pub fn callthru_words_outside_arch(elf: &Path, lid: &Path) -> Result<Vec<u64>> {
    let out = Command::new("nm")
        .args(["-C", "-S", "--defined-only"])
        .arg(elf)
        .output()
        .context("cannot run nm")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let home = text.lines().find_map(|l| {
        let mut w = l.splitn(4, ' ');
        let (addr, size, _kind, name) = (w.next()?, w.next()?, w.next()?, w.next()?);
        if name.contains("arch::mambo::Callthru") && name.contains("call") {
            Some((hex(addr)?, hex(size)?))
        } else {
            None
        }
    });
    let Some((start, size)) = home else {
        bail!("no arch::mambo::Callthru::call symbol in {}", elf.display());
    };
    // The image starts at `_image_start` (firmware/opal.ld).
    let base = text
        .lines()
        .find(|l| l.ends_with(" _image_start"))
        .and_then(|l| hex(l.split(' ').next()?));
    let Some(base) = base else {
        bail!("no _image_start symbol in {}", elf.display());
    };
    let image = std::fs::read(lid).context(format!("cannot read {}", lid.display()))?;
    Ok(image
        .windows(4)
        .enumerate()
        .filter(|(i, w)| i % 4 == 0 && *w == CALLTHRU_WORD)
        .map(|(i, _)| base + i as u64)
        .filter(|&a| !(start..start + size).contains(&a))
        .collect())
}

/// `cargo build` of `packages` for the firmware target, with build-std.
fn cargo_build(
    root: &Path,
    debug: bool,
    packages: &[&str],
    features: &[&str],
    target_dir: &str,
    version: &str,
    output: Output,
) -> Result<()> {
    let tc = toolchain::ensure_firmware_toolchain()?;
    eprintln!("xtask: using {}", tc.origin);
    let mut cmd = Command::new(&tc.cargo);
    cmd.current_dir(root).arg("build");
    if !debug {
        cmd.arg("--release");
    }
    for p in packages {
        cmd.args(["-p", p]);
    }
    cmd.args(["--target", TARGET_JSON])
        .args(["-Zbuild-std=core,alloc,compiler_builtins"])
        // `optimize_for_size`: core's and alloc's smaller algorithms (1.7 KiB less; the
        // firmware's hot paths do not sort or search). Not `panic_immediate_abort`: the
        // panic message and location are the crash report.
        .args(["-Zbuild-std-features=compiler-builtins-mem,optimize_for_size"]);
    if tc.needs_json_flag {
        cmd.arg("-Zjson-target-spec");
    }
    for f in features {
        cmd.args(["--features", f]);
    }
    cmd.args(["--target-dir", target_dir]);
    scrub_cargo_env(&mut cmd);
    cmd.env("RUSTC", &tc.rustc)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("OPALITE_VERSION", version);
    output.apply(&mut cmd)?;
    util::run(&mut cmd)
}

/// Copies the payload ELF to target/opal-conformance.elf. QEMU's `-kernel` loads the
/// file as it is, and both firmwares run an ELF in place.
fn copy_payload(root: &Path, debug: bool) -> Result<PathBuf> {
    let built = target_binary(debug, PAYLOAD_PACKAGE);
    if !built.is_file() {
        bail!("the build succeeded but {} is missing", built.display());
    }
    let dest = root.join(PAYLOAD_ELF);
    std::fs::copy(&built, &dest).context(format!(
        "cannot copy {} to {}",
        built.display(),
        dest.display()
    ))?;
    let size = std::fs::metadata(&dest)?.len();
    println!("{}: {}", PAYLOAD_ELF, util::human_size(size));
    Ok(dest)
}

/// ELF -> raw image with tools/mkimage; objcopy if mkimage is missing or fails.
fn make_image(root: &Path, elf: &Path, image: &Path, output: Output) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut mk = Command::new(cargo);
    mk.current_dir(root)
        .args(["run", "--quiet", "-p", "mkimage", "--release", "--"])
        .arg(elf)
        .arg(image);
    output.apply(&mut mk)?;
    match util::run(&mut mk) {
        Ok(()) if image.is_file() => return Ok(()),
        Ok(()) => eprintln!("xtask: mkimage did not write {}", image.display()),
        Err(e) => eprintln!("xtask: {e}"),
    }
    eprintln!("xtask: falling back to objcopy");
    let mut objcopy = Command::new("powerpc64-linux-gnu-objcopy");
    objcopy.args(["-O", "binary"]).arg(elf).arg(image);
    output.apply(&mut objcopy)?;
    util::run(&mut objcopy).context("cannot make the raw image")
}

/// Drops what the outer (rustup) cargo exported, so Debian's cargo starts clean.
fn scrub_cargo_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if should_scrub(&key) {
            cmd.env_remove(key.as_ref());
        }
    }
}

fn should_scrub(key: &str) -> bool {
    // Network/registry/terminal settings are the user's and still apply.
    const KEEP: &[&str] = &[
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTR",
        "CARGO_TERM_",
    ];
    if KEEP.iter().any(|k| key.starts_with(k)) {
        return false;
    }
    key == "CARGO"
        || key.starts_with("CARGO_")
        || key.starts_with("__CARGO")
        || key.starts_with("RUSTC")
        || key.starts_with("RUSTDOC")
        || key.starts_with("RUSTUP_")
        || key == "RUSTFLAGS"
}

/// `v<crate version>-g<short hash>[-dirty]`, or just `v<crate version>` without git.
pub fn opalite_version(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("--no-optional-locks") // read-only: never refresh the index
            .args(args)
            .current_dir(root)
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let hash = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = hash.is_some()
        && git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    format_version(env!("CARGO_PKG_VERSION"), hash.as_deref(), dirty)
}

fn format_version(crate_version: &str, hash: Option<&str>, dirty: bool) -> String {
    match hash {
        Some(h) if !h.is_empty() => {
            format!("v{crate_version}-g{h}{}", if dirty { "-dirty" } else { "" })
        }
        _ => format!("v{crate_version}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_strings() {
        assert_eq!(
            format_version("0.1.0", Some("1a2b3c4"), false),
            "v0.1.0-g1a2b3c4"
        );
        assert_eq!(
            format_version("0.1.0", Some("1a2b3c4"), true),
            "v0.1.0-g1a2b3c4-dirty"
        );
        assert_eq!(format_version("0.1.0", None, true), "v0.1.0");
    }

    #[test]
    fn env_scrubbing() {
        for k in [
            "RUSTC",
            "RUSTC_WRAPPER",
            "RUSTFLAGS",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
        ] {
            assert!(should_scrub(k), "{k}");
        }
        for k in [
            "RUSTUP_TOOLCHAIN",
            "CARGO",
            "CARGO_MANIFEST_DIR",
            "CARGO_ENCODED_RUSTFLAGS",
        ] {
            assert!(should_scrub(k), "{k}");
        }
        for k in [
            "CARGO_HOME",
            "CARGO_NET_OFFLINE",
            "CARGO_HTTP_PROXY",
            "PATH",
            "HOME",
        ] {
            assert!(!should_scrub(k), "{k}");
        }
    }
}
