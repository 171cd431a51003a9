//! `cargo xtask test`: host unit tests, firmware build, QEMU scenarios, in that order.
//! Each prints `test <name> ... ok|FAILED (<reason>)`; the last line is `N passed, N failed`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::args::{Smp, TestOpts};
use crate::debian::DebCache;
use crate::firmware;
use crate::harness;
use crate::initramfs;
use crate::qemu::{Console, QemuConfig};
use crate::scenarios::{Scenario, SCENARIOS};
use crate::toolchain;
use crate::util::{self, Context, Result};

const LOG_DIR: &str = "target/test-logs";
const TAIL_LINES: usize = 40;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
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
    kernel: PathBuf,
    initrd: PathBuf,
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

    let scenarios: Vec<&Scenario> = if opts.host_only {
        Vec::new()
    } else {
        SCENARIOS.iter().filter(|s| opts.selects(s.name)).collect()
    };
    let want_build = !opts.host_only && opts.firmware.is_none();
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
            built.map_err(|_| "the firmware build failed".to_string())
        }
        None => Err("not built".to_string()),
    };

    if !scenarios.is_empty() {
        let bench = setup_bench(&root).map_err(|e| {
            eprintln!("xtask: cannot prepare the QEMU runs: {e}");
            format!("setup failed: {e}")
        });
        let other_firmware = opts.firmware.is_some();
        for s in scenarios {
            let result = match (&firmware, &bench) {
                (Err(e), _) | (_, Err(e)) => Err(e.clone()),
                (Ok(fw), Ok(bench)) => run_scenario(s, fw, bench, other_firmware, &logs),
            };
            tally.record(s.name, result);
        }
    }

    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(tally.failed == 0)
}

/// `cargo test` at the root: the workspace's default members, i.e. every host crate.
fn host_unit_tests(root: &Path, log: &Path) -> std::result::Result<(), String> {
    eprintln!("xtask: cargo test (log: {})", rel(log));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let status = Command::new(cargo)
        .arg("test")
        .current_dir(root)
        .stdout(file.try_clone().map_err(|e| e.to_string())?)
        .stderr(file)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        return Ok(());
    }
    print_log_tail(log);
    Err(format!("cargo test: {status}, log {}", rel(log)))
}

fn build_logged(debug: bool, log: &Path) -> std::result::Result<PathBuf, String> {
    eprintln!("xtask: building the firmware (log: {})", rel(log));
    let _ = std::fs::write(log, "");
    match firmware::build(debug, firmware::Output::Log(log)) {
        Ok(built) => Ok(built.image),
        Err(e) => {
            print_log_tail(log);
            Err(format!("{e}; log {}", rel(log)))
        }
    }
}

fn setup_bench(root: &Path) -> Result<Bench> {
    let qemu = toolchain::ensure_qemu()?;
    let debian = DebCache::open()?;
    let kernel = debian
        .kernel()
        .context("cannot get the Debian ppc64el kernel")?;
    let busybox = debian
        .busybox()
        .context("cannot get Debian's ppc64el busybox")?;
    let initrd = root.join(initramfs::IMAGE);
    initramfs::build(&busybox, &initrd)?;
    Ok(Bench {
        qemu,
        kernel,
        initrd,
    })
}

fn run_scenario(
    s: &Scenario,
    firmware: &Path,
    bench: &Bench,
    other_firmware: bool,
    logs: &Path,
) -> std::result::Result<(), String> {
    let config = QemuConfig {
        machine: s.machine,
        smp: Smp::parse(s.smp).map_err(|e| e.to_string())?,
        memory: "2G".to_string(),
        firmware: firmware.to_path_buf(),
        kernel: bench.kernel.clone(),
        initrd: bench.initrd.clone(),
        append: s.append.to_string(),
        gdb: false,
    };
    let mut cmd = Command::new(&bench.qemu);
    cmd.args(config.args(Console::Captured));
    let log = logs.join(format!("{}.log", s.name));
    let timeout = s.timeout_for(other_firmware);
    eprintln!("xtask: {} (timeout {timeout} s, log {})", s.name, rel(&log));
    let outcome = harness::run(
        cmd,
        &s.steps_for(other_firmware),
        s.forbidden,
        Duration::from_secs(timeout),
        &log,
    )
    .map_err(|e| e.to_string())?;
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
    match outcome.failure {
        None => Ok(()),
        Some(reason) => {
            print_log_tail(&log);
            Err(reason)
        }
    }
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
