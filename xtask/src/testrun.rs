//! `cargo xtask test`: host unit tests, the Mambo boots, firmware build, QEMU scenarios,
//! in that order. Each prints `test <name> ... ok|FAILED (<reason>)|SKIPPED: <reason>`;
//! the last line is `N passed, N failed, N skipped`. A skip is never a pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::args::{Smp, TestOpts};
use crate::debian::DebCache;
use crate::firmware;
use crate::harness;
use crate::initramfs;
use crate::pnor_check;
use crate::qemu::{Console, QemuConfig};
use crate::scenarios::{Image, Kernel, Scenario, ON_DEMAND, SCENARIOS};
use crate::toolchain;
use crate::util::{self, Context, Result};

const LOG_DIR: &str = "target/test-logs";
const TAIL_LINES: usize = 40;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Tally {
    fn record_quietly(&mut self, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }

    /// A test that could not run here (its tool is absent): neither passed nor failed.
    fn record_skipped(&mut self, name: &str, reason: &str) {
        self.skipped += 1;
        println!("test {name} ... SKIPPED: {reason}");
    }

    fn record(&mut self, name: &str, result: std::result::Result<(), String>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("test {name} ... ok");
            }
            Err(reason) => {
                self.failed += 1;
                // One line, whatever the reason's text looks like.
                let reason = reason.lines().next().unwrap_or("").trim();
                println!("test {name} ... FAILED ({reason})");
            }
        }
    }
}

/// Everything the scenarios share once set up.
struct Bench {
    qemu: PathBuf,
    /// Debian's kernel and the busybox initramfs, for [`Kernel::Linux`] scenarios.
    linux: std::result::Result<(PathBuf, PathBuf), String>,
    /// The kexec initramfs, for [`Kernel::LinuxKexec`] scenarios.
    kexec_initrd: std::result::Result<PathBuf, String>,
    /// The kvm initramfs, for [`Kernel::LinuxKvm`] scenarios.
    kvm_initrd: std::result::Result<PathBuf, String>,
    /// The ipmi initramfs, for [`Kernel::LinuxIpmi`] scenarios.
    ipmi_initrd: std::result::Result<PathBuf, String>,
    /// The PNOR images' directory, for [`Kernel::Flash`] scenarios.
    flash_images: std::result::Result<PathBuf, String>,
    /// The pci initramfs, for [`Kernel::LinuxPci`] scenarios (the disks are in
    /// `pcirig::DIR`).
    pci_initrd: std::result::Result<PathBuf, String>,
    /// The pci-kexec initramfs, for [`Kernel::LinuxPciKexec`] scenarios.
    pci_kexec_initrd: std::result::Result<PathBuf, String>,
    /// The conformance payload, for [`Kernel::Conformance`] scenarios.
    payload: std::result::Result<PathBuf, String>,
}

/// Returns whether everything passed.
pub fn run(opts: &TestOpts) -> Result<bool> {
    let root = util::repo_root();
    let logs = root.join(LOG_DIR);
    std::fs::create_dir_all(&logs)?;
    let mut tally = Tally::default();

    if !opts.qemu_only && opts.selects("host-unit-tests") {
        let result = host_unit_tests(&root, &logs.join("host-unit-tests.log"));
        tally.record("host-unit-tests", result);
    }
    if !opts.qemu_only && opts.selects("pnor-crosscheck") {
        eprintln!(
            "xtask: mkimage pnor images against pflash (log: {})",
            rel(&logs.join("pnor-crosscheck.log"))
        );
        let result = pnor_check::run(&root, &logs.join("pnor-crosscheck.log"));
        tally.record("pnor-crosscheck", result);
    }
    if !opts.qemu_only {
        mambo_boots(opts, &logs, &mut tally);
    }

    let scenarios: Vec<&Scenario> = if opts.host_only {
        Vec::new()
    } else {
        SCENARIOS
            .iter()
            .filter(|s| {
                if ON_DEMAND.contains(&s.name) {
                    opts.selects_on_demand(s.name)
                } else {
                    opts.selects(s.name)
                }
            })
            .collect()
    };
    let want_build = !opts.host_only && opts.firmware.is_none();
    let needs_payload = scenarios.iter().any(|s| s.kernel == Kernel::Conformance);
    let needs = |k: Kernel| scenarios.iter().any(|s| s.kernel == k);
    let extra = Extra {
        kexec: needs(Kernel::LinuxKexec),
        kvm: needs(Kernel::LinuxKvm),
        ipmi: needs(Kernel::LinuxIpmi),
        flash: scenarios
            .iter()
            .any(|s| matches!(s.kernel, Kernel::Flash(_))),
        pci: scenarios
            .iter()
            .any(|s| matches!(s.kernel, Kernel::LinuxPci(_))),
        pci_kexec: scenarios
            .iter()
            .any(|s| matches!(s.kernel, Kernel::LinuxPciKexec(_))),
    };
    let needs_linux = extra.kexec
        || extra.kvm
        || extra.ipmi
        || extra.flash
        || extra.pci
        || extra.pci_kexec
        || needs(Kernel::Linux);
    // `firmware::build` makes the payload too; with `--firmware` it is built on its own.
    let mut payload: std::result::Result<PathBuf, String> = Err("not built".to_string());
    let firmware: std::result::Result<PathBuf, String> = match &opts.firmware {
        Some(path) if path.is_file() => Ok(path.clone()),
        Some(path) => Err(format!("{} does not exist", path.display())),
        None if want_build && (!scenarios.is_empty() || opts.selects("firmware-build")) => {
            let log = logs.join("firmware-build.log");
            let built = build_logged(opts.debug, &log);
            tally.record(
                "firmware-build",
                built.as_ref().map(drop).map_err(Clone::clone),
            );
            match built {
                Ok(b) => {
                    payload = Ok(b.payload);
                    Ok(b.image)
                }
                Err(_) => Err("the firmware build failed".to_string()),
            }
        }
        None => Err("not built".to_string()),
    };
    if let (Ok(image), true) = (&firmware, want_build) {
        let elf = firmware::elf_path(opts.debug);
        let confined = match firmware::callthru_words_outside_arch(&elf, image) {
            Ok(stray) if stray.is_empty() => Ok(()),
            Ok(stray) => Err(format!(
                "the Mambo callthru word is outside arch::mambo::Callthru::call at {stray:#x?}"
            )),
            Err(e) => Err(e.to_string()),
        };
        tally.record("mambo-callthru-confined", confined);
    }
    // The HMI scenarios boot the test-only injection build, which the release image must
    // not contain a trace of. With `--firmware` (another firmware) they do not apply.
    let wants_injection = scenarios.iter().any(|s| s.image == Image::HmiInject);
    let injection: std::result::Result<PathBuf, String> = if wants_injection && want_build {
        if let Ok(elf) = firmware.as_ref().map(|_| firmware::elf_path(opts.debug)) {
            let clean = match firmware::injection_symbols_in(&elf) {
                Ok(found) if found.is_empty() => Ok(()),
                Ok(found) => Err(format!(
                    "the release image has injection symbols: {found:?}"
                )),
                Err(e) => Err(e.to_string()),
            };
            tally.record("release-image-has-no-hmi-injection", clean);
        }
        let log = logs.join("firmware-hmi-inject-build.log");
        let _ = std::fs::write(&log, "");
        eprintln!(
            "xtask: building the HMI-injection firmware (log: {})",
            rel(&log)
        );
        let built = firmware::build_hmi_test_image(firmware::Output::Log(&log))
            .map_err(|e| format!("{e} (log {})", rel(&log)));
        tally.record(
            "firmware-hmi-inject-build",
            built.as_ref().map(drop).map_err(Clone::clone),
        );
        built
    } else {
        Err("not built".to_string())
    };
    if opts.firmware.is_some() && needs_payload {
        let log = logs.join("payload-build.log");
        let built = payload_logged(opts.debug, &log);
        tally.record(
            "payload-build",
            built.as_ref().map(drop).map_err(Clone::clone),
        );
        payload = built.map_err(|_| "the payload build failed".to_string());
    }

    if !scenarios.is_empty() {
        let bench = setup_bench(&root, needs_linux, extra, payload).map_err(|e| {
            eprintln!("xtask: cannot prepare the QEMU runs: {e}");
            format!("setup failed: {e}")
        });
        let other_firmware = opts.firmware.is_some();
        for s in scenarios {
            if s.image == Image::HmiInject && other_firmware {
                println!(
                    "scenario {}: skipped (needs Opalite's HMI-injection build)",
                    s.name
                );
                continue;
            }
            let applies = s.steps_for(true).iter().any(|t| {
                matches!(
                    t,
                    crate::scenarios::Step::Expect(..) | crate::scenarios::Step::ExpectAll(..)
                )
            });
            if other_firmware && !applies {
                println!(
                    "scenario {}: skipped (checks Opalite-only behaviour)",
                    s.name
                );
                continue;
            }
            let image = match s.image {
                Image::Release => &firmware,
                Image::HmiInject => &injection,
            };
            let mut runs = Tally::default();
            for run in 1..=opts.repeat {
                let result = match (image, &bench) {
                    (Err(e), _) | (_, Err(e)) => Err(e.clone()),
                    (Ok(fw), Ok(bench)) => run_scenario(
                        s,
                        fw,
                        bench,
                        other_firmware,
                        &logs,
                        run_tag(run, opts.repeat),
                    ),
                };
                let name = match opts.repeat {
                    1 => s.name.to_string(),
                    n => format!("{} (run {run}/{n})", s.name),
                };
                runs.record(&name, result.clone());
                tally.record_quietly(result.is_ok());
            }
            if opts.repeat > 1 {
                println!(
                    "scenario {}: {} passed, {} failed of {}",
                    s.name, runs.passed, runs.failed, opts.repeat
                );
            }
        }
    }

    println!(
        "{} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.skipped
    );
    Ok(tally.failed == 0)
}

/// `cargo test` at the root (the workspace's default members, i.e. every host crate),
/// then the host half of the conformance payload, which is not a default member.
fn host_unit_tests(root: &Path, log: &Path) -> std::result::Result<(), String> {
    eprintln!("xtask: cargo test (log: {})", rel(log));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let runs: [&[&str]; 2] = [&["test"], &["test", "-p", "opal-conformance", "--lib"]];
    for args in runs {
        let status = Command::new(&cargo)
            .args(args)
            .current_dir(root)
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file.try_clone().map_err(|e| e.to_string())?)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            print_log_tail(log);
            return Err(format!(
                "cargo {}: {status}, log {}",
                args.join(" "),
                rel(log)
            ));
        }
    }
    Ok(())
}

/// The `mambo-*` steps: one per `tests/mambo/cases/*.env`. A case whose simulator is not
/// installed is skipped (the usual outcome: systemsim is not packaged for Debian). The
/// firmware is built only when some case can run.
fn mambo_boots(opts: &TestOpts, logs: &Path, tally: &mut Tally) {
    let cases = match mambo_boot::cases(&mambo_boot::dir()) {
        Ok(cases) => cases,
        Err(e) => return tally.record("mambo-cases", Err(e)),
    };
    let mut images: Option<std::result::Result<(PathBuf, PathBuf), String>> = None;
    for case in cases {
        let name = format!("mambo-{}", case.name);
        if !opts.selects(&name) {
            continue;
        }
        let (systemsim, tried) = mambo_boot::locate_here(case.model);
        let Some(systemsim) = systemsim else {
            let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
            tally.record_skipped(
                &name,
                &format!("systemsim not found (looked for {})", tried.join(", ")),
            );
            continue;
        };
        let images = images.get_or_insert_with(|| mambo_images(opts, logs));
        let result = images.clone().and_then(|(firmware, payload)| {
            let log = logs.join(format!("{name}.log"));
            eprintln!(
                "xtask: {name} on {} (log {})",
                systemsim.display(),
                rel(&log)
            );
            mambo_boot::run_case(
                &case,
                &mambo_boot::Inputs {
                    systemsim: &systemsim,
                    firmware: &firmware,
                    payload: &payload,
                    log: &log,
                },
            )
            .inspect_err(|_| print_log_tail(&log))
        });
        tally.record(&name, result);
    }
}

/// The firmware image and the conformance payload the Mambo cases boot.
fn mambo_images(opts: &TestOpts, logs: &Path) -> std::result::Result<(PathBuf, PathBuf), String> {
    let log = logs.join("mambo-firmware-build.log");
    match &opts.firmware {
        Some(image) => Ok((image.clone(), payload_logged(opts.debug, &log)?)),
        None => build_logged(opts.debug, &log).map(|b| (b.image, b.payload)),
    }
}

fn build_logged(debug: bool, log: &Path) -> std::result::Result<firmware::Built, String> {
    eprintln!("xtask: building the firmware (log: {})", rel(log));
    let _ = std::fs::write(log, "");
    firmware::build(debug, firmware::Output::Log(log)).map_err(|e| {
        print_log_tail(log);
        format!("{e}; log {}", rel(log))
    })
}

fn payload_logged(debug: bool, log: &Path) -> std::result::Result<PathBuf, String> {
    eprintln!(
        "xtask: building the conformance payload (log: {})",
        rel(log)
    );
    let _ = std::fs::write(log, "");
    firmware::build_payload(debug, firmware::Output::Log(log)).map_err(|e| {
        print_log_tail(log);
        format!("{e}; log {}", rel(log))
    })
}

/// Which of the bigger initramfs images the selected scenarios boot.
#[derive(Clone, Copy)]
struct Extra {
    kexec: bool,
    kvm: bool,
    ipmi: bool,
    flash: bool,
    pci: bool,
    pci_kexec: bool,
}

fn setup_bench(
    root: &Path,
    needs_linux: bool,
    extra: Extra,
    payload: std::result::Result<PathBuf, String>,
) -> Result<Bench> {
    let qemu = toolchain::ensure_qemu()?;
    let not = || "not prepared".to_string();
    let mut bench = Bench {
        qemu,
        linux: Err(not()),
        kexec_initrd: Err(not()),
        kvm_initrd: Err(not()),
        ipmi_initrd: Err(not()),
        flash_images: Err(not()),
        pci_initrd: Err(not()),
        pci_kexec_initrd: Err(not()),
        payload,
    };
    if needs_linux {
        match prepare_linux(root, extra) {
            Ok(linux) => {
                bench.linux = Ok((linux.kernel, linux.initrd));
                bench.kexec_initrd = linux.kexec_initrd.ok_or_else(not);
                bench.kvm_initrd = linux.kvm_initrd.ok_or_else(not);
                bench.ipmi_initrd = linux.ipmi_initrd.ok_or_else(not);
                bench.flash_images = linux.flash_images.ok_or_else(not);
                bench.pci_initrd = linux.pci_initrd.ok_or_else(not);
                bench.pci_kexec_initrd = linux.pci_kexec_initrd.ok_or_else(not);
            }
            Err(e) => {
                eprintln!("xtask: cannot prepare Linux: {e}");
                let e = format!("setup failed: {e}");
                bench.linux = Err(e.clone());
                bench.kexec_initrd = Err(e.clone());
                bench.kvm_initrd = Err(e.clone());
                bench.ipmi_initrd = Err(e.clone());
                bench.flash_images = Err(e.clone());
                bench.pci_initrd = Err(e.clone());
                bench.pci_kexec_initrd = Err(e);
            }
        }
    }
    Ok(bench)
}

struct Linux {
    kernel: PathBuf,
    initrd: PathBuf,
    kexec_initrd: Option<PathBuf>,
    kvm_initrd: Option<PathBuf>,
    ipmi_initrd: Option<PathBuf>,
    flash_images: Option<PathBuf>,
    pci_initrd: Option<PathBuf>,
    pci_kexec_initrd: Option<PathBuf>,
}

/// The kernel, the small initramfs and the bigger ones `extra` asks for.
fn prepare_linux(root: &Path, extra: Extra) -> Result<Linux> {
    let debian = DebCache::open()?;
    let kernel = debian
        .kernel()
        .context("cannot get the Debian ppc64el kernel")?;
    let busybox = debian
        .busybox()
        .context("cannot get Debian's ppc64el busybox")?;
    let initrd = root.join(initramfs::IMAGE);
    initramfs::build(&busybox, &initrd)?;
    let kexec_initrd = if extra.kexec {
        Some(initramfs::build_kexec_image(&debian, &busybox, &kernel)?)
    } else {
        None
    };
    // The guests boot the same kernel and the small initramfs (its /init has their mode).
    let kvm_initrd = if extra.kvm {
        Some(initramfs::build_kvm_image(
            &debian, &busybox, &kernel, &initrd,
        )?)
    } else {
        None
    };
    let ipmi_initrd = if extra.ipmi {
        Some(initramfs::build_ipmi_image(&debian, &busybox)?)
    } else {
        None
    };
    let flash_images = if extra.flash {
        let flash_initrd = initramfs::build_flash_image(&debian, &busybox)?;
        Some(crate::flashimg::build(root, &kernel, &flash_initrd)?)
    } else {
        None
    };
    let md5s = if extra.pci || extra.pci_kexec {
        crate::pcirig::build(root)?
    } else {
        Vec::new()
    };
    let pci_initrd = if extra.pci {
        Some(initramfs::build_pci_image(&debian, &busybox, md5s.clone())?)
    } else {
        None
    };
    let pci_kexec_initrd = if extra.pci_kexec {
        Some(initramfs::build_pci_kexec_image(
            &debian, &busybox, &kernel, md5s,
        )?)
    } else {
        None
    };
    Ok(Linux {
        kernel,
        initrd,
        kexec_initrd,
        kvm_initrd,
        ipmi_initrd,
        flash_images,
        pci_initrd,
        pci_kexec_initrd,
    })
}

/// Linux 6.1's kexec copy can machine-check on QEMU TCG (a VMX memcpy reached with the MMU
/// off after the copy overwrote live kernel memory): seen about once in 15 kexecs on
/// skiboot and on Opalite alike, always between these two lines.
const KEXEC_COPY_FLAKE: (&str, &str) = (
    "Starting switchover sequence",
    "Entering checkstop state: machine check with MSR[ME]=0",
);

/// Did this kexec run die of the known Linux copy checkstop (and of nothing else)?
fn died_in_kexec_copy(log: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(log) else {
        return false;
    };
    match (
        text.rfind(KEXEC_COPY_FLAKE.0),
        text.rfind(KEXEC_COPY_FLAKE.1),
    ) {
        (Some(switch), Some(checkstop)) => checkstop > switch,
        _ => false,
    }
}

/// Does a scenario with this kernel kexec (and so can meet the copy checkstop)? The
/// pci-kexec image's scenarios do as well as the plain kexec image's.
fn kexecs(kernel: Kernel) -> bool {
    matches!(kernel, Kernel::LinuxKexec | Kernel::LinuxPciKexec(_))
}

/// The log name's suffix for run `run` of `repeat` (none without `--repeat`).
fn run_tag(run: usize, repeat: usize) -> String {
    if repeat > 1 {
        format!(".run{run}")
    } else {
        String::new()
    }
}

/// Runs a scenario; a kexec scenario that died of the known Linux copy checkstop runs once
/// more (and says so), since that failure is the kernel's, whatever the firmware.
fn run_scenario(
    s: &Scenario,
    firmware: &Path,
    bench: &Bench,
    other_firmware: bool,
    logs: &Path,
    tag: String,
) -> std::result::Result<(), String> {
    let first = run_scenario_once(s, firmware, bench, other_firmware, logs, &tag);
    let log = logs.join(format!("{}{tag}.log", s.name));
    if first.is_err() && kexecs(s.kernel) && died_in_kexec_copy(&log) {
        let kept = logs.join(format!("{}{tag}.checkstop.log", s.name));
        let _ = std::fs::rename(&log, &kept);
        eprintln!(
            "xtask: {}: Linux's kexec copy checkstopped (known QEMU/Linux flake, log kept as {}); running it once more",
            s.name,
            rel(&kept)
        );
        return run_scenario_once(s, firmware, bench, other_firmware, logs, &tag);
    }
    first
}

fn run_scenario_once(
    s: &Scenario,
    firmware: &Path,
    bench: &Bench,
    other_firmware: bool,
    logs: &Path,
    tag: &str,
) -> std::result::Result<(), String> {
    let (kernel, initrd) = match s.kernel {
        Kernel::Linux => {
            let (kernel, initrd) = bench.linux.clone()?;
            (Some(kernel), Some(initrd))
        }
        Kernel::LinuxKexec => {
            let (kernel, _) = bench.linux.clone()?;
            (Some(kernel), Some(bench.kexec_initrd.clone()?))
        }
        Kernel::LinuxKvm => {
            let (kernel, _) = bench.linux.clone()?;
            (Some(kernel), Some(bench.kvm_initrd.clone()?))
        }
        Kernel::LinuxIpmi => {
            let (kernel, _) = bench.linux.clone()?;
            (Some(kernel), Some(bench.ipmi_initrd.clone()?))
        }
        Kernel::LinuxPci(_) => {
            let (kernel, _) = bench.linux.clone()?;
            (Some(kernel), Some(bench.pci_initrd.clone()?))
        }
        Kernel::LinuxPciKexec(_) => {
            let (kernel, _) = bench.linux.clone()?;
            (Some(kernel), Some(bench.pci_kexec_initrd.clone()?))
        }
        Kernel::Conformance => (Some(bench.payload.clone()?), None),
        Kernel::None | Kernel::Flash(_) => (None, None),
    };
    // A flash scenario boots a fresh copy of its image, which QEMU writes back to.
    let flash = match s.kernel {
        Kernel::Flash(img) => {
            let copy = logs.join(format!("{}{tag}.pnor", s.name));
            Some(
                crate::flashimg::copy_for_run(&bench.flash_images.clone()?, img, &copy)
                    .map_err(|e| e.to_string())?,
            )
        }
        _ => None,
    };
    // A PCI scenario's disks are fresh copies too, checked after the run.
    let (disks, devices) = match s.kernel {
        Kernel::LinuxPci(rig) | Kernel::LinuxPciKexec(rig) => {
            let root = util::repo_root();
            let disks = crate::pcirig::copy_for_run(&root, &logs.join(format!("{}{tag}", s.name)))
                .map_err(|e| e.to_string())?;
            let devices = rig.qemu_args(&disks);
            (Some(disks), devices)
        }
        _ => (None, Vec::new()),
    };
    let config = QemuConfig {
        machine: s.machine,
        smp: Smp::parse(s.smp).map_err(|e| e.to_string())?,
        memory: s.memory.to_string(),
        firmware: firmware.to_path_buf(),
        kernel,
        initrd,
        append: s.append.to_string(),
        flash: flash.clone(),
        devices,
        gdb: false,
        guest_may_reboot: s.reboots,
    };
    let mut cmd = Command::new(&bench.qemu);
    cmd.args(config.args(Console::Captured));
    let monitor = logs.join(format!("{}{tag}.mon", s.name));
    let _ = std::fs::remove_file(&monitor);
    cmd.args(crate::stall::monitor_args(&monitor));
    let log = logs.join(format!("{}{tag}.log", s.name));
    let timeout = s.timeout_for(other_firmware);
    eprintln!("xtask: {} (timeout {timeout} s, log {})", s.name, rel(&log));
    let outcome = harness::run(
        cmd,
        &s.steps_for(other_firmware),
        s.forbidden,
        Duration::from_secs(timeout),
        &log,
        Some(&monitor),
    )
    .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&monitor);
    if !outcome.stalled.is_empty() {
        let symbols = crate::stall::elf_for_image(firmware)
            .and_then(|elf| crate::stall::Symbols::from_elf(&elf));
        eprintln!("xtask: {}: vCPUs at the timeout:", s.name);
        for line in crate::stall::summary(&outcome.stalled, symbols.as_ref()) {
            eprintln!("xtask:   {line}");
        }
    }
    let marks: Vec<String> = outcome
        .milestones
        .iter()
        .map(|(what, t)| format!("{t:.1}s {what}"))
        .collect();
    let seen = if marks.is_empty() {
        "nothing".to_string()
    } else {
        marks.join(" | ")
    };
    let missing = match outcome.missing {
        Some(m) => format!("; never saw `{m}`"),
        None => String::new(),
    };
    eprintln!(
        "xtask: {} finished in {:.1} s; seen: {seen}{missing}",
        s.name,
        outcome.elapsed.as_secs_f64(),
    );
    let result = match outcome.failure {
        None => match (s.kernel, &flash) {
            (Kernel::Flash(crate::flashimg::FlashImage::Boot), Some(copy)) => {
                crate::flashimg::check_after_boot_run(copy)
            }
            _ => match &disks {
                Some(d) => crate::pcirig::check_after_run(d),
                None => Ok(()),
            },
        },
        Some(reason) => {
            print_log_tail(&log);
            Err(reason)
        }
    };
    // A passing run's image copy is 32 or 128 MiB of nothing new: only failures keep it.
    if let (Ok(()), Some(copy)) = (&result, &flash) {
        let _ = std::fs::remove_file(copy);
    }
    if let (Ok(()), Some(disks)) = (&result, &disks) {
        for d in disks {
            let _ = std::fs::remove_file(d);
        }
    }
    result
}

fn print_log_tail(log: &Path) {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text).replace('\r', "");
    eprintln!("---- last {TAIL_LINES} lines of {} ----", rel(log));
    eprintln!("{}", util::tail(&text, TAIL_LINES));
    eprintln!("---- end of {} ----", rel(log));
}

/// A path relative to the repository, for shorter messages.
fn rel(path: &Path) -> String {
    let root = util::repo_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod flake_tests {
    use super::*;

    #[test]
    fn the_pci_kexec_scenarios_get_the_copy_flake_retry_too() {
        assert!(kexecs(Kernel::LinuxKexec));
        assert!(kexecs(Kernel::LinuxPciKexec(
            crate::pcirig::PciRig::OnePerPhb
        )));
        assert!(!kexecs(Kernel::LinuxPci(crate::pcirig::PciRig::OnePerPhb)));
        assert!(!kexecs(Kernel::Linux));
    }

    #[test]
    fn only_a_checkstop_after_the_switchover_is_the_kexec_copy_flake() {
        let dir = std::env::temp_dir().join(format!("opalite-flake-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("k.log");
        let write = |text: &str| std::fs::write(&log, text).unwrap();
        write("kexec: Starting switchover sequence.\nEntering checkstop state: machine check with MSR[ME]=0\n");
        assert!(died_in_kexec_copy(&log));
        write("Entering checkstop state: machine check with MSR[ME]=0\nkexec: Starting switchover sequence.\n");
        assert!(
            !died_in_kexec_copy(&log),
            "a checkstop before the switchover is ours"
        );
        write("kexec: Starting switchover sequence.\nKernel panic\n");
        assert!(!died_in_kexec_copy(&log));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!died_in_kexec_copy(&log), "no log");
    }

    #[test]
    fn repeated_runs_keep_one_log_each() {
        assert_eq!(run_tag(1, 1), "");
        assert_eq!(run_tag(3, 20), ".run3");
    }

    #[test]
    fn on_demand_names_are_scenarios() {
        for name in ON_DEMAND {
            assert!(SCENARIOS.iter().any(|s| s.name == *name), "{name}");
        }
    }
}
