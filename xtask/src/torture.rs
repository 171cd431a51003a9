//! `cargo xtask fuzz` and `cargo xtask torture`: the long runs CI has no time for.
//!
//! - `fuzz`: the conformance payload's fuzz mode (`conformance.fuzz=N`) on one machine and
//!   topology, with a given or random seed, printed before anything runs. A failure
//!   prints the command that replays it; a failing seed worth keeping becomes a
//!   `fuzz-seed-*` scenario of `cargo xtask test` (scenarios.rs `fuzz_regression`).
//! - `torture`: N reboots through `OPAL_CEC_REBOOT` in one QEMU run (the payload's
//!   `conformance.reboot-loop=N`, times in guest time) and N separate boots of the
//!   payload (QEMU start to exit, wall time), each reporting hangs, the median and the
//!   slowest cycle. `--firmware` runs the same against another image (skiboot).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::args::{FuzzOpts, Machine, Smp, TortureOpts};
use crate::harness;
use crate::qemu::{Console, QemuConfig};
use crate::scenarios::{Only, Step, FORBIDDEN_FUZZ, FORBIDDEN_PAYLOAD, FUZZ};
use crate::util::{self, Result};
use crate::{firmware, toolchain};

struct Setup {
    machine: Machine,
    smp: Smp,
    qemu: PathBuf,
    firmware: PathBuf,
    payload: PathBuf,
    logs: PathBuf,
}

fn setup(machine: Machine, smp: &Smp, other: &Option<PathBuf>) -> Result<Setup> {
    let qemu = toolchain::ensure_qemu()?;
    let (firmware, payload) = firmware::image_and_payload(other, false)?;
    let logs = util::repo_root().join("target/test-logs");
    std::fs::create_dir_all(&logs)?;
    Ok(Setup {
        machine,
        smp: smp.clone(),
        qemu,
        firmware,
        payload,
        logs,
    })
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Boots the payload with `append`; returns the outcome and the console text.
fn boot(
    s: &Setup,
    append: String,
    steps: &[Step],
    forbidden: &[&str],
    timeout: Duration,
    reboots: bool,
    log: &Path,
) -> Result<(harness::Outcome, String)> {
    let config = QemuConfig {
        machine: s.machine,
        smp: s.smp.clone(),
        memory: "2G".to_string(),
        firmware: s.firmware.clone(),
        kernel: Some(s.payload.clone()),
        initrd: None,
        append,
        flash: None,
        devices: Vec::new(),
        gdb: false,
        guest_may_reboot: reboots,
    };
    let mut cmd = Command::new(&s.qemu);
    cmd.args(config.args(Console::Captured));
    let outcome = harness::run(cmd, steps, forbidden, timeout, log, None)?;
    let text = String::from_utf8_lossy(&std::fs::read(log)?).replace('\r', "");
    Ok((outcome, text))
}

/// A seed from the clock and the process: different on every run.
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ u64::from(std::process::id()) << 32).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 8
}

/// The payload's `fuzz: N calls, seed S, T threads, SECS s` line: (calls, guest seconds).
fn fuzz_figures(text: &str) -> Option<(u64, f64)> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("fuzz: ") && l.contains(" calls, seed "))?;
    let rest = &line[line.find("fuzz: ")? + 6..];
    let calls = rest.split(' ').next()?.parse().ok()?;
    let secs = rest.rsplit(", ").next()?.strip_suffix(" s")?.parse().ok()?;
    Some((calls, secs))
}

/// `cargo xtask fuzz`; returns whether every run passed.
pub fn fuzz(o: &FuzzOpts) -> Result<bool> {
    let s = setup(o.machine, &o.smp, &o.firmware)?;
    let smp = o.smp.to_qemu();
    let mut failed = 0;
    for run in 1..=o.runs {
        let seed = o.seed.unwrap_or_else(random_seed);
        println!(
            "xtask: fuzz run {run} of {}: seed {seed:#x}, {} calls, {} -smp {smp}",
            o.runs,
            o.calls,
            o.machine.name()
        );
        let append = format!(
            "conformance.require=xive conformance.only=fuzz conformance.fuzz={} conformance.seed={seed:#x}",
            o.calls
        );
        // 100,000 calls take about 8 s on 4 threads; leave room for slow hosts.
        let timeout = Duration::from_secs(120 + o.calls / 1000);
        let log = s
            .logs
            .join(format!("fuzz-{}-{seed:#x}.log", o.machine.name()));
        let (outcome, text) = boot(&s, append, FUZZ, FORBIDDEN_FUZZ, timeout, false, &log)?;
        let figures = fuzz_figures(&text);
        match (&outcome.failure, figures) {
            (None, Some((calls, secs))) => println!(
                "xtask: fuzz ok: {calls} calls in {secs:.3} s of guest time ({:.0} calls/s)",
                calls as f64 / secs.max(0.001)
            ),
            (failure, _) => {
                failed += 1;
                let why = failure.as_deref().unwrap_or("no fuzz figures in the log");
                let fw = o
                    .firmware
                    .as_ref()
                    .map(|f| format!(" --firmware {}", f.display()))
                    .unwrap_or_default();
                println!("xtask: fuzz FAILED: {why} (log {})", log.display());
                println!(
                    "  replay: cargo xtask fuzz --machine {} --smp {smp} --calls {} --seed {seed:#x}{fw}",
                    o.machine.name(),
                    o.calls
                );
                println!(
                    "  keep it: a fuzz_regression(...) line in xtask/src/scenarios.rs makes it a `cargo xtask test` scenario"
                );
            }
        }
    }
    println!("xtask: fuzz: {} of {} runs passed", o.runs - failed, o.runs);
    Ok(failed == 0)
}

/// Median and slowest (value, 1-based index) of `times`.
fn median_and_slowest(times: &[f64]) -> Option<(f64, f64, usize)> {
    let (at, slowest) = times
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some((sorted[sorted.len() / 2], slowest, at + 1))
}

/// `TORTURE reboot K of N: MS ms` lines: each cycle's milliseconds.
fn reboot_cycles(text: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("TORTURE reboot ")?;
            let ms = rest.split(": ").nth(1)?.strip_suffix(" ms")?;
            ms.parse().ok()
        })
        .collect()
}

/// `cargo xtask torture`; returns whether nothing hung.
pub fn torture(o: &TortureOpts) -> Result<bool> {
    let s = setup(o.machine, &o.smp, &o.firmware)?;
    let who = if o.firmware.is_some() {
        "other firmware"
    } else {
        "Opalite"
    };
    let what = format!("{} -smp {}", o.machine.name(), o.smp.to_qemu());
    let mut ok = true;
    if o.reboots > 0 {
        let n = o.reboots;
        let steps = [
            Step::Expect(Only::Any, "TORTURE start"),
            Step::Expect(Only::Any, leak(format!("TORTURE reboots={n} median="))),
        ];
        // Opalite's cycles take about 0.1 s; skiboot's 1.5 s, with some near a minute.
        let per_cycle = if o.firmware.is_some() { 30 } else { 2 };
        let timeout = Duration::from_secs(60 + per_cycle * n);
        let log = s
            .logs
            .join(format!("torture-reboots-{}.log", o.machine.name()));
        println!(
            "xtask: torture: {n} reboots on {what} ({who}), log {}",
            log.display()
        );
        let (outcome, text) = boot(
            &s,
            format!("conformance.reboot-loop={n}"),
            &steps,
            FORBIDDEN_PAYLOAD,
            timeout,
            true,
            &log,
        )?;
        let cycles = reboot_cycles(&text);
        let hangs = u64::from(outcome.failure.is_some());
        ok &= hangs == 0;
        if let Some(why) = &outcome.failure {
            println!(
                "xtask: torture: reboot cycle {} of {n} did not end: {why}",
                cycles.len() + 1
            );
        }
        if let Some((median, slowest, at)) = median_and_slowest(&cycles) {
            println!(
                "xtask: torture: {} of {n} reboots, hangs {hangs}, median {median:.3} ms, slowest {slowest:.3} ms (cycle {at}), guest time",
                cycles.len()
            );
        }
    }
    if o.boots > 0 {
        let n = o.boots;
        let steps = [Step::Expect(Only::Any, "conformance: 0 passed, 0 failed,")];
        let mut times = Vec::new();
        let mut hangs = 0;
        println!("xtask: torture: {n} boots of the payload on {what} ({who})");
        for i in 1..=n {
            let log = s
                .logs
                .join(format!("torture-boot-{}.log", o.machine.name()));
            let (outcome, _) = boot(
                &s,
                "conformance.only=none".to_string(),
                &steps,
                FORBIDDEN_PAYLOAD,
                Duration::from_secs(60),
                false,
                &log,
            )?;
            match &outcome.failure {
                None => times.push(outcome.elapsed.as_secs_f64() * 1000.0),
                Some(why) => {
                    hangs += 1;
                    let kept = s
                        .logs
                        .join(format!("torture-boot-{}-{i}.log", o.machine.name()));
                    let _ = std::fs::rename(&log, &kept);
                    println!(
                        "xtask: torture: boot {i} failed: {why} (log {})",
                        kept.display()
                    );
                }
            }
            if i % 100 == 0 {
                println!("xtask: torture: {i} of {n} boots, {hangs} failed");
            }
        }
        ok &= hangs == 0;
        if let Some((median, slowest, at)) = median_and_slowest(&times) {
            println!(
                "xtask: torture: {n} boots, failed {hangs}, median {median:.1} ms, slowest {slowest:.1} ms (boot {at}), QEMU start to exit, wall time"
            );
        }
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_payload_figures() {
        let text = "INFO fuzz.run: fuzz: 100000 calls, seed 0x2a, 4 threads, 6.250 s\n";
        assert_eq!(fuzz_figures(text), Some((100_000, 6.25)));
        let cycles = reboot_cycles("TORTURE start: 3 reboots\nTORTURE reboot 1 of 3: 101.5 ms\nTORTURE reboot 2 of 3: 99.0 ms\nTORTURE reboot 3 of 3: 130.25 ms\nTORTURE reboots=3 median=101.5 ms slowest=130.25 ms (cycle 3)\n");
        assert_eq!(cycles, [101.5, 99.0, 130.25]);
        assert_eq!(median_and_slowest(&cycles), Some((101.5, 130.25, 3)));
        assert_eq!(median_and_slowest(&[]), None);
        assert_ne!(random_seed(), 0);
    }
}
