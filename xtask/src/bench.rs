//! `cargo xtask bench`: Opalite against Debian's skiboot, side by side, in the same run on
//! the same QEMU. Firmware-only figures come from the conformance payload's bench mode
//! (`conformance.bench`, tests/conformance/src/bench.rs) run under `-icount shift=0`: guest
//! time is one nanosecond per instruction, so they do not move with host load. The Linux
//! end-to-end figures are plain multi-threaded TCG wall clock (what a developer feels).
//! Prints a table and writes target/bench.json. Not part of `cargo xtask test`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::args::{BenchOpts, Machine, Smp};
use crate::debian;
use crate::firmware;
use crate::initramfs;
use crate::qemu::{Console, QemuConfig};
use crate::tbprog;
use crate::toolchain;
use crate::util::{self, Result};

mod pci;

pub const SKIBOOT: &str = "/usr/share/qemu/skiboot.lid";
/// The deterministic clock: 2^0 ns of guest time per instruction; `sleep=off` so that
/// idle waits jump to the next timer instead of following the host's clock.
const ICOUNT: &str = "shift=0,sleep=off";
const USERSPACE_MARKER: &str = "OPALITE-USERSPACE-OK";

/// One figure for both firmwares.
struct Row {
    metric: String,
    config: String,
    unit: &'static str,
    opalite: Option<f64>,
    skiboot: Option<f64>,
    /// What the Opalite/skiboot ratio (or, for absolute targets, Opalite's value) must not
    /// exceed, and how the target reads.
    target: Option<Target>,
}

#[derive(Clone, Copy)]
enum Target {
    /// Opalite / skiboot at most this.
    Ratio(f64),
    /// Opalite's value at most this.
    Absolute(f64),
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        match (self.opalite, self.skiboot) {
            (Some(o), Some(s)) if s > 0.0 => Some(o / s),
            _ => None,
        }
    }

    fn met(&self) -> Option<bool> {
        match self.target? {
            Target::Ratio(r) => self.ratio().map(|x| x <= r),
            Target::Absolute(a) => self.opalite.map(|x| x <= a),
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Some(Target::Ratio(r)) if r < 1.0 => format!("<= 1/{:.0}", 1.0 / r),
            Some(Target::Ratio(r)) => format!("<= {r}x"),
            Some(Target::Absolute(a)) => format!("<= {}", fmt_value(a, self.unit)),
            None => "-".into(),
        }
    }
}

/// What one QEMU run printed, with host seconds since QEMU start for each line.
struct Capture {
    lines: Vec<(f64, String)>,
    /// Host seconds from QEMU start to its exit; None if it was killed at the deadline.
    exit: Option<f64>,
}

impl Capture {
    fn bench(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        for (_, l) in &self.lines {
            let mut w = l.split_whitespace();
            if let (Some("BENCH"), Some(name), Some(value)) = (w.next(), w.next(), w.next()) {
                if let Ok(v) = value.parse::<f64>() {
                    m.insert(name.to_string(), v);
                }
            }
        }
        m
    }

    fn first(&self, needle: &str) -> Option<f64> {
        self.lines
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(t, _)| *t)
    }
}

/// QEMU arguments for the conformance payload in a bench mode (`append`), under icount.
/// The reboot mode needs the guest's reset to reset the machine rather than end QEMU.
fn payload_args(
    machine: Machine,
    smp: &str,
    image: &Path,
    payload: &Path,
    append: &str,
) -> Result<Vec<String>> {
    let config = QemuConfig {
        machine,
        smp: Smp::parse(smp)?,
        memory: "2G".into(),
        firmware: image.to_path_buf(),
        kernel: Some(payload.to_path_buf()),
        initrd: None,
        append: append.into(),
        flash: None,
        devices: Vec::new(),
        gdb: false,
        guest_may_reboot: append == "conformance.bench-reboot",
    };
    let mut args = config.args(Console::Captured);
    args.extend(["-icount".into(), ICOUNT.into()]);
    Ok(args)
}

/// Runs QEMU until it exits, `timeout` passes, or a console line contains one of the
/// `stop_at` texts; in the last two cases QEMU is killed.
fn run_qemu(
    qemu: &Path,
    args: &[String],
    timeout: Duration,
    stop_at: &[&str],
    log: &Path,
) -> Result<Capture> {
    let mut cmd = Command::new(qemu);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    eprintln!("+ {}", util::show(&cmd));
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| util::Error(format!("cannot start QEMU: {e}")))?;
    let (tx, rx) = mpsc::channel::<(f64, Vec<u8>)>();
    if let Some(mut out) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = out.read(&mut chunk) {
                let t = start.elapsed().as_secs_f64();
                if n == 0 || tx.send((t, chunk[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
    }
    let mut lines = Vec::new();
    let mut partial: Vec<u8> = Vec::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut take = |t: f64, data: &[u8], lines: &mut Vec<(f64, String)>| {
        raw.extend_from_slice(data);
        for &b in data {
            if b == b'\n' {
                let text = String::from_utf8_lossy(&partial).replace('\r', "");
                lines.push((t, text));
                partial.clear();
            } else {
                partial.push(b);
            }
        }
    };
    let deadline = start + timeout;
    let exit = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok((t, data)) => {
                take(t, &data, &mut lines);
                let seen = |n: &&str| lines.iter().any(|(_, l)| l.contains(*n));
                if stop_at.iter().any(seen) {
                    let _ = child.kill();
                    child.wait()?;
                    break Some(start.elapsed().as_secs_f64());
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                child.wait()?;
                break Some(start.elapsed().as_secs_f64());
            }
        }
        if child.try_wait()?.is_some() {
            let t = start.elapsed().as_secs_f64();
            for (t, data) in rx.try_iter() {
                take(t, &data, &mut lines);
            }
            break Some(t);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            break None;
        }
    };
    if !partial.is_empty() {
        lines.push((
            exit.unwrap_or(0.0),
            String::from_utf8_lossy(&partial).into(),
        ));
    }
    std::fs::write(log, &raw)?;
    Ok(Capture { lines, exit })
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

struct Firmwares {
    /// (name, image) in table order: Opalite first.
    images: [(&'static str, PathBuf); 2],
}

/// One machine and `-smp`: the payload's `BENCH` figures and the power-off wall time (ms)
/// for Opalite and skiboot, in that order.
type ConfigResult = (
    Machine,
    &'static str,
    [BTreeMap<String, f64>; 2],
    [Option<f64>; 2],
);

/// One machine and `-smp`: the reboot run's `BENCH` figures for Opalite and skiboot.
type RebootResult = (Machine, &'static str, [BTreeMap<String, f64>; 2]);

/// The machines and `-smp` topologies of the firmware-only runs.
fn topologies(quick: bool) -> Vec<(Machine, &'static str)> {
    let mut v = vec![
        (Machine::Powernv9, "1"),
        (Machine::Powernv9, "4,cores=2,threads=2"),
        (Machine::Powernv10, "1"),
        (Machine::Powernv10, "4,cores=2,threads=2"),
    ];
    if !quick {
        v.extend([
            (Machine::Powernv9, "8,cores=2,threads=4"),
            (Machine::Powernv9, "16,cores=4,threads=4"),
            (Machine::Powernv9, "4,sockets=2,cores=1,threads=2"),
            (Machine::Powernv9, "8,sockets=2,cores=2,threads=2"),
        ]);
    }
    v
}

fn config_name(machine: Machine, smp: &str) -> String {
    format!("{} smp {smp}", machine.name())
}

pub fn run(opts: &BenchOpts) -> Result<bool> {
    let root = util::repo_root();
    let qemu = toolchain::ensure_qemu()?;
    let built = firmware::build(false, firmware::Output::Terminal)?;
    let fws = Firmwares {
        images: [
            ("opalite", built.image.clone()),
            ("skiboot", PathBuf::from(SKIBOOT)),
        ],
    };
    if !fws.images[1].1.is_file() {
        crate::bail!("{SKIBOOT} is missing (Debian package qemu-system-data)");
    }
    let logs = root.join("target/bench-logs");
    std::fs::create_dir_all(&logs)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut tokens: Vec<pci::TokenRow> = Vec::new();

    let only = opts.kexec_only || opts.pci_only;
    let linux = !opts.quick && !opts.no_linux;
    if !only {
        firmware_rows(opts, &qemu, &fws, &built.payload, &logs, &mut rows)?;
    }
    if linux && !only {
        linux_rows(opts, &qemu, &fws, &logs, &mut rows)?;
    }
    if opts.kexec_only || (linux && !only) {
        kexec_rows(opts.runs, &qemu, &fws, &logs, &mut rows)?;
    }
    if opts.pci_only || (linux && !only) {
        pci::rows(&qemu, &fws, &logs, &mut rows, &mut tokens)?;
    }

    print_table(&rows);
    print_tokens(&tokens);
    let json = to_json(&rows, &tokens);
    let out = root.join("target/bench.json");
    std::fs::write(&out, json)?;
    eprintln!("xtask: wrote {}", out.display());
    Ok(true)
}

/// Image size, then the conformance payload's firmware-only runs (icount).
fn firmware_rows(
    opts: &BenchOpts,
    qemu: &Path,
    fws: &Firmwares,
    payload: &Path,
    logs: &Path,
    rows: &mut Vec<Row>,
) -> Result<()> {
    // Footprint: image size.
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64).ok();
    rows.push(Row {
        metric: "image size".into(),
        config: "-".into(),
        unit: "bytes",
        opalite: size(&fws.images[0].1),
        skiboot: size(&fws.images[1].1),
        target: Some(Target::Absolute(256.0 * 1024.0)),
    });

    // Firmware-only runs (payload, icount).
    let mut per_config: Vec<ConfigResult> = Vec::new();
    for (machine, smp) in topologies(opts.quick) {
        let mut figures: [BTreeMap<String, f64>; 2] = Default::default();
        let mut poweroff: [Option<f64>; 2] = [None, None];
        for (i, (fw_name, image)) in fws.images.iter().enumerate() {
            let args = payload_args(machine, smp, image, payload, "conformance.bench")?;
            let log = logs.join(format!(
                "payload-{fw_name}-{}-smp{}.log",
                machine.name(),
                smp.replace(',', "_")
            ));
            let cap = run_qemu(qemu, &args, Duration::from_secs(300), &[], &log)?;
            let b = cap.bench();
            if !b.contains_key("entry-tb") {
                eprintln!(
                    "xtask: bench: no BENCH lines from {fw_name} on {} (log {})",
                    config_name(machine, smp),
                    log.display()
                );
            }
            // Power-off: host wall time from the payload's last line to QEMU's exit.
            poweroff[i] = match (cap.first("BENCH poweroff-tb"), cap.exit) {
                (Some(t0), Some(t1)) => Some((t1 - t0) * 1000.0),
                _ => None,
            };
            figures[i] = b;
        }
        per_config.push((machine, smp, figures, poweroff));
    }

    // Boot from flash: the payload as BOOTKERNEL of a PNOR image, its bootargs in NVRAM,
    // no -kernel; one thread per machine. A fresh image copy per run.
    let flash_image = crate::flashimg::build_payload_image(
        &crate::util::repo_root(),
        payload,
        "conformance.bench",
    )?;
    let mut from_flash: Vec<(Machine, [Option<f64>; 2])> = Vec::new();
    for machine in [Machine::Powernv9, Machine::Powernv10] {
        let mut entry = [None, None];
        for (i, (fw_name, image)) in fws.images.iter().enumerate() {
            let copy = logs.join(format!("flash-{fw_name}-{}.pnor", machine.name()));
            std::fs::copy(&flash_image, &copy)?;
            let config = QemuConfig {
                machine,
                smp: Smp::parse("1")?,
                memory: "2G".into(),
                firmware: image.to_path_buf(),
                kernel: None,
                initrd: None,
                append: String::new(),
                flash: Some(copy.clone()),
                devices: Vec::new(),
                gdb: false,
                guest_may_reboot: false,
            };
            let mut args = config.args(Console::Captured);
            args.extend(["-icount".into(), ICOUNT.into()]);
            let log = logs.join(format!("flash-{fw_name}-{}.log", machine.name()));
            let cap = run_qemu(qemu, &args, Duration::from_secs(300), &[], &log)?;
            let b = cap.bench();
            entry[i] = match (b.get("entry-tb"), b.get("tb-hz")) {
                (Some(t), Some(hz)) => Some(t / hz * 1000.0),
                _ => {
                    eprintln!(
                        "xtask: bench: no entry from flash with {fw_name} on {} (log {})",
                        machine.name(),
                        log.display()
                    );
                    None
                }
            };
            let _ = std::fs::remove_file(&copy);
        }
        from_flash.push((machine, entry));
    }
    for (machine, entry) in &from_flash {
        rows.push(Row {
            metric: "boot from flash (QEMU start -> kernel entry, icount)".into(),
            config: config_name(*machine, "1"),
            unit: "ms",
            opalite: entry[0],
            skiboot: entry[1],
            target: Some(Target::Ratio(1.0)),
        });
    }

    // Reboot: the payload's `conformance.bench-reboot` over two boots in one QEMU run.
    let mut reboots: Vec<RebootResult> = Vec::new();
    for (machine, smp) in topologies(true) {
        let mut figures: [BTreeMap<String, f64>; 2] = Default::default();
        for (i, (fw_name, image)) in fws.images.iter().enumerate() {
            let args = payload_args(machine, smp, image, payload, "conformance.bench-reboot")?;
            let log = logs.join(format!(
                "reboot-{fw_name}-{}-smp{}.log",
                machine.name(),
                smp.replace(',', "_")
            ));
            // The second boot's last line ends the run: the figures are in by then.
            let cap = run_qemu(
                qemu,
                &args,
                Duration::from_secs(300),
                &["BENCH poweroff-tb"],
                &log,
            )?;
            let b = cap.bench();
            if !b.contains_key("reboot-entry-tb") {
                eprintln!(
                    "xtask: bench: no second boot from {fw_name} on {} (log {})",
                    config_name(machine, smp),
                    log.display()
                );
            }
            figures[i] = b;
        }
        reboots.push((machine, smp, figures));
    }

    let ms = |b: &BTreeMap<String, f64>, key: &str| -> Option<f64> {
        let hz = *b.get("tb-hz")?;
        Some(b.get(key)? / hz * 1000.0)
    };
    for (machine, smp, f, _) in &per_config {
        rows.push(Row {
            metric: "firmware boot (QEMU start -> kernel entry, icount)".into(),
            config: config_name(*machine, smp),
            unit: "ms",
            opalite: ms(&f[0], "entry-tb"),
            skiboot: ms(&f[1], "entry-tb"),
            target: Some(Target::Ratio(1.0 / 20.0)),
        });
    }
    // Per-call costs and reserved memory: the 1-thread and 4-thread configurations.
    for (machine, smp, f, _) in per_config.iter().take(4) {
        for (key, what) in [
            ("check-token", "OPAL_CHECK_TOKEN"),
            ("console-write-1", "OPAL_CONSOLE_WRITE 1 byte"),
            ("console-write-4k", "OPAL_CONSOLE_WRITE 4 KiB"),
        ] {
            let ns = |b: &BTreeMap<String, f64>| Some(b.get(key)? / b.get("tb-hz")? * 1e9);
            rows.push(Row {
                metric: format!("call cost: {what} (icount)"),
                config: config_name(*machine, smp),
                unit: "ns",
                opalite: ns(&f[0]),
                skiboot: ns(&f[1]),
                target: Some(Target::Ratio(1.0)),
            });
        }
        rows.push(Row {
            metric: "memory reserved from the OS (device tree)".into(),
            config: config_name(*machine, smp),
            unit: "bytes",
            opalite: f[0].get("reserved-bytes").copied(),
            skiboot: f[1].get("reserved-bytes").copied(),
            target: Some(Target::Ratio(0.25)),
        });
    }
    for (machine, smp, _, p) in per_config.iter().take(4) {
        rows.push(Row {
            metric: "power-off (OS request -> QEMU exit, wall)".into(),
            config: config_name(*machine, smp),
            unit: "ms",
            opalite: p[0],
            skiboot: p[1],
            target: None,
        });
    }
    // The timebase keeps counting through QEMU's system reset, so the second boot's entry
    // minus the first boot's request is the whole reboot as the OS sees it: the
    // firmware's request path, QEMU's reset and the firmware's boot.
    let reboot_ms = |b: &BTreeMap<String, f64>| -> Option<f64> {
        let ticks = b.get("reboot-entry-tb")? - b.get("reboot-request-tb")?;
        Some(ticks / b.get("tb-hz")? * 1000.0)
    };
    for (machine, smp, f) in &reboots {
        rows.push(Row {
            metric: "reboot firmware part (OPAL_CEC_REBOOT -> next kernel entry, icount)".into(),
            config: config_name(*machine, smp),
            unit: "ms",
            opalite: reboot_ms(&f[0]),
            skiboot: reboot_ms(&f[1]),
            target: Some(Target::Ratio(1.0 / 10.0)),
        });
    }
    // Scaling: boot at N threads over boot at 1 thread (powernv9), against N.
    let one = per_config
        .iter()
        .find(|(m, s, _, _)| *m == Machine::Powernv9 && *s == "1")
        .map(|(_, _, f, _)| [ms(&f[0], "entry-tb"), ms(&f[1], "entry-tb")]);
    if let Some(one) = one {
        for (machine, smp, f, _) in per_config
            .iter()
            .filter(|(m, s, _, _)| *m == Machine::Powernv9 && *s != "1")
        {
            let threads: f64 = Smp::parse(smp).map(|s| s.cpus as f64).unwrap_or(1.0);
            let growth = |i: usize| Some(ms(&f[i], "entry-tb")? / one[i]?);
            rows.push(Row {
                metric: format!("scaling: boot(N)/boot(1), N = {threads}"),
                config: config_name(*machine, smp),
                unit: "x",
                opalite: growth(0),
                skiboot: growth(1),
                target: Some(Target::Absolute(threads)),
            });
        }
    }

    Ok(())
}

/// QEMU start -> the initramfs's userspace marker, plain TCG, median of `opts.runs`.
/// Linux to the busybox shell and power-off (the boot scenarios' `opalite.test=poweroff`).
fn linux_boot(
    machine: Machine,
    smp: &str,
    firmware: &Path,
    kernel: &Path,
    initrd: &Path,
) -> Result<QemuConfig> {
    Ok(QemuConfig {
        machine,
        smp: Smp::parse(smp)?,
        memory: "2G".into(),
        firmware: firmware.to_path_buf(),
        kernel: Some(kernel.to_path_buf()),
        initrd: Some(initrd.to_path_buf()),
        append: "console=hvc0 opalite.test=poweroff".into(),
        flash: None,
        devices: Vec::new(),
        gdb: false,
        guest_may_reboot: false,
    })
}

fn linux_rows(
    opts: &BenchOpts,
    qemu: &Path,
    fws: &Firmwares,
    logs: &Path,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let root = util::repo_root();
    let cache = debian::DebCache::open()?;
    let kernel = cache.kernel()?;
    let initrd = root.join(initramfs::IMAGE);
    initramfs::build(&cache.busybox()?, &initrd)?;
    for smp in ["1", "4,cores=2,threads=2"] {
        let mut medians = [None, None];
        for (i, (fw_name, image)) in fws.images.iter().enumerate() {
            let mut walls = Vec::new();
            for run in 0..opts.runs {
                let config = linux_boot(Machine::Powernv9, smp, image, &kernel, &initrd)?;
                let log = logs.join(format!(
                    "linux-{fw_name}-powernv9-smp{}-{run}.log",
                    smp.replace(',', "_")
                ));
                let cap = run_qemu(
                    qemu,
                    &config.args(Console::Captured),
                    Duration::from_secs(200),
                    &[],
                    &log,
                )?;
                match cap.first(USERSPACE_MARKER) {
                    Some(t) => walls.push(t),
                    None => eprintln!("xtask: bench: no userspace marker in {}", log.display()),
                }
            }
            medians[i] = median(walls);
        }
        rows.push(Row {
            metric: format!(
                "end-to-end: QEMU start -> Linux userspace (wall, median of {})",
                opts.runs
            ),
            config: config_name(Machine::Powernv9, smp),
            unit: "s",
            opalite: medians[0],
            skiboot: medians[1],
            target: None,
        });
    }
    // The same under icount, once (deterministic): guest time from QEMU start to /init,
    // read from the timebase /bin/opalite-tb logs there (the timebase starts at 0 with the
    // machine and runs at 512 MHz). Linux at -smp 4 does not get past early boot under
    // icount here, so -smp 1.
    for machine in [Machine::Powernv9, Machine::Powernv10] {
        let mut secs = [None, None];
        for (i, (fw_name, image)) in fws.images.iter().enumerate() {
            let config = linux_boot(machine, "1", image, &kernel, &initrd)?;
            let mut args = config.args(Console::Captured);
            args.extend(["-icount".into(), ICOUNT.into()]);
            let log = logs.join(format!(
                "linux-icount-{fw_name}-{}-smp1.log",
                machine.name()
            ));
            let cap = run_qemu(qemu, &args, Duration::from_secs(600), &[], &log)?;
            secs[i] = cap
                .lines
                .iter()
                .find_map(|(_, l)| tbprog::parse_line(l))
                .map(|tb| tb as f64 / TB_HZ);
            if secs[i].is_none() {
                eprintln!("xtask: bench: no OPALITE-TB line in {}", log.display());
            }
        }
        rows.push(Row {
            metric: "end-to-end: QEMU start -> Linux userspace (icount, guest time)".into(),
            config: config_name(machine, "1"),
            unit: "s",
            opalite: secs[0],
            skiboot: secs[1],
            target: None,
        });
    }
    Ok(())
}

/// Where a hand-over figure stops.
#[derive(Clone, Copy)]
enum Until {
    /// A later console line of the first kernel (same printk clock).
    Line(&'static str),
    /// The second kernel's clock origin: its `time_init`, right after its first
    /// console lines; found from its `OPALITE-TB` line.
    NextKernel,
}

/// One figure of a hand-over run: from a console line of the first kernel to `until`.
struct Span {
    metric: &'static str,
    from: &'static str,
    until: Until,
}

/// A kexec or kdump run of the kexec initramfs, and the figures read from its console.
struct Handover {
    /// For the log names.
    name: &'static str,
    append: &'static str,
    /// The run is over (and QEMU killed) once this appears.
    end: &'static str,
    spans: &'static [Span],
}

// kernel_kexec() prints "Starting new kernel" as the reboot syscall starts, and
// default_machine_kexec() "Starting switchover sequence." once the secondaries are back in
// OPAL (OPAL_RETURN_CPU) and the primary has reset XIVE and called OPAL_REINIT_CPUS; the
// copy of the new image and the next kernel's early boot follow. sysrq prints "Trigger a
// crash" just before panic(); the crash path's own lines never reach the console.
const HANDOVERS: &[Handover] = &[
    Handover {
        name: "kexec",
        append: "console=hvc0 opalite.test=kexec",
        end: "OPALITE-KEXEC-DONE",
        spans: &[
            Span {
                metric: "kexec: `kexec -e` -> switchover (CPUs in OPAL, XIVE reset, REINIT_CPUS)",
                from: "kexec_core: Starting new kernel",
                until: Until::Line("kexec: Starting switchover sequence."),
            },
            Span {
                metric: "kexec: `kexec -e` -> next kernel's clock start (its first lines)",
                from: "kexec_core: Starting new kernel",
                until: Until::NextKernel,
            },
        ],
    },
    Handover {
        name: "kdump",
        append: "console=hvc0 opalite.test=kdump-thread crashkernel=512M",
        end: "OPALITE-OLD-DMESG-END",
        spans: &[Span {
            metric: "kdump: `echo c` -> capture kernel's clock start (its first lines)",
            from: "sysrq: Trigger a crash",
            until: Until::NextKernel,
        }],
    },
];

/// Lines after which a hand-over cannot succeed: stop rather than wait for the timeout.
const HANDOVER_FAILED: &[&str] = &[
    "OPALITE-KEXEC-FAILED",
    "OPALITE-KDUMP-LOAD-FAILED",
    "not responding",
    "Called with bad token",
    "panicked at",
    "Unexpected exception",
    " is stuck.",
    "Entering checkstop state",
];

/// The timebase frequency of POWER9/POWER10 and of QEMU's powernv machines. (Linux's
/// "decrementer frequency" line is a debug message, not on the console.)
const TB_HZ: f64 = 512e6;

/// The printk time (seconds) at the start of a Linux console line, `[    4.123456] ...`.
fn printk_secs(line: &str) -> Option<f64> {
    let inner = line.strip_prefix('[')?.split_once(']')?.0;
    // Firmware lines look alike but carry a log level after a comma.
    if inner.contains(',') {
        return None;
    }
    inner.trim().parse().ok()
}

/// Milliseconds of guest time from the first kernel's `from` line to `until`. Each
/// kernel's clock origin on the timebase is its `OPALITE-TB` line's value minus that
/// line's printk time.
fn handover_ms(lines: &[String], from: &str, until: Until) -> Option<f64> {
    let origins: Vec<(usize, f64)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let tb = tbprog::parse_line(l)? as f64;
            Some((i, tb - printk_secs(l)? * TB_HZ))
        })
        .collect();
    let (&(first_at, first), &(second_at, second)) = (origins.first()?, origins.get(1)?);
    let stamped = |text: &str, after: usize| {
        lines
            .iter()
            .enumerate()
            .skip(after)
            .find_map(|(i, l)| Some((i, printk_secs(l.contains(text).then_some(l)?)?)))
            .filter(|(i, _)| *i < second_at)
    };
    let (from_at, from_secs) = stamped(from, first_at)?;
    match until {
        Until::Line(text) => {
            let (_, secs) = stamped(text, from_at)?;
            Some((secs - from_secs) * 1000.0)
        }
        Until::NextKernel => Some((second - (first + from_secs * TB_HZ)) / TB_HZ * 1000.0),
    }
}

/// kexec and kdump on Debian's Linux with the kexec initramfs, powernv9 and powernv10:
/// at `-smp 1` under icount, once (deterministic; Linux at `-smp 4` does not get past
/// early boot under icount here), and at `-smp 4,cores=2,threads=2` under plain TCG, the
/// median of `runs` (the timebase then follows the host's clock and its load).
fn kexec_rows(
    runs: u32,
    qemu: &Path,
    fws: &Firmwares,
    logs: &Path,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let cache = debian::DebCache::open()?;
    let kernel = cache.kernel()?;
    let initrd = initramfs::build_kexec_image(&cache, &cache.busybox()?, &kernel)?;
    let setups = [("1", true, 1), ("4,cores=2,threads=2", false, runs)];
    for h in HANDOVERS {
        for (smp, icount, runs) in setups {
            for machine in [Machine::Powernv9, Machine::Powernv10] {
                let mut figures: Vec<[Vec<f64>; 2]> =
                    h.spans.iter().map(|_| Default::default()).collect();
                for (i, (fw_name, image)) in fws.images.iter().enumerate() {
                    for run in 0..runs {
                        let config = QemuConfig {
                            machine,
                            smp: Smp::parse(smp)?,
                            memory: "2G".into(),
                            firmware: image.clone(),
                            kernel: Some(kernel.clone()),
                            initrd: Some(initrd.clone()),
                            append: h.append.into(),
                            flash: None,
                            devices: Vec::new(),
                            gdb: false,
                            guest_may_reboot: false,
                        };
                        let mut args = config.args(Console::Captured);
                        if icount {
                            args.extend(["-icount".into(), ICOUNT.into()]);
                        }
                        let log = logs.join(format!(
                            "{}-{fw_name}-{}-smp{}-{run}.log",
                            h.name,
                            machine.name(),
                            smp.replace(',', "_")
                        ));
                        let mut stop = vec![h.end];
                        stop.extend(HANDOVER_FAILED);
                        let cap = run_qemu(qemu, &args, Duration::from_secs(600), &stop, &log)?;
                        let lines: Vec<String> = cap.lines.into_iter().map(|(_, l)| l).collect();
                        for (span, f) in h.spans.iter().zip(figures.iter_mut()) {
                            match handover_ms(&lines, span.from, span.until) {
                                Some(ms) => f[i].push(ms),
                                None => eprintln!(
                                    "xtask: bench: no `{}` figure from {fw_name} on {} (log {})",
                                    span.metric,
                                    machine.name(),
                                    log.display()
                                ),
                            }
                        }
                    }
                }
                for (span, [o, s]) in h.spans.iter().zip(figures) {
                    let how = if icount {
                        "icount".to_string()
                    } else {
                        format!("plain TCG, host-load dependent, median of {runs}")
                    };
                    rows.push(Row {
                        metric: format!("{} ({how})", span.metric),
                        config: config_name(machine, smp),
                        unit: "ms",
                        opalite: median(o),
                        skiboot: median(s),
                        target: None,
                    });
                }
            }
        }
    }
    Ok(())
}

fn fmt_value(v: f64, unit: &str) -> String {
    match unit {
        "bytes" if v >= 1024.0 * 1024.0 => format!("{:.2} MiB", v / 1048576.0),
        "bytes" => format!("{:.1} KiB", v / 1024.0),
        "ms" => format!("{v:.3} ms"),
        "ns" => format!("{v:.0} ns"),
        "s" => format!("{v:.2} s"),
        "x" => format!("{v:.2}x"),
        "calls" => format!("{v:.0}"),
        _ => format!("{v}"),
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "Opalite vs skiboot ({SKIBOOT}), same QEMU, same run. Firmware-only figures: \
         QEMU -icount {ICOUNT} (1 instruction = 1 ns of guest time, idle skipped: deterministic); \
         power-off and end-to-end: host wall clock, plain TCG; kexec and kdump: two kernels' printk clocks put on the guest timebase, \
         -smp 1 under the same icount, -smp 4 under plain TCG."
    );
    println!();
    println!("| metric | config | Opalite | skiboot | ratio | target | met |");
    println!("|---|---|---:|---:|---:|---|---|");
    for r in rows {
        let v = |x: Option<f64>| x.map_or("-".into(), |x| fmt_value(x, r.unit));
        let ratio = r.ratio().map_or("-".into(), |x| format!("{x:.3}"));
        let met = match r.met() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.metric,
            r.config,
            v(r.opalite),
            v(r.skiboot),
            ratio,
            r.target_text(),
            met
        );
    }
}

/// Per OPAL_PCI_* token: calls and guest time in them, both firmwares (bench/pci.rs).
fn print_tokens(tokens: &[pci::TokenRow]) {
    if tokens.is_empty() {
        return;
    }
    println!();
    println!(
        "OPAL_PCI_* calls per token, Linux boot with nvme + virtio-blk + e1000e to the end of \
         its disk and DHCP checks (opal_entry/opal_exit traced on the timebase, -icount {ICOUNT}, -smp 1)"
    );
    println!();
    println!("| token | name | config | Opalite calls | skiboot calls | Opalite ms | skiboot ms |");
    println!("|---:|---|---|---:|---:|---:|---:|");
    for t in tokens {
        println!(
            "| {} | {} | {} | {} | {} | {:.3} | {:.3} |",
            t.token,
            opal_api::token::name(t.token).unwrap_or("?"),
            t.config,
            t.calls[0],
            t.calls[1],
            t.ms[0],
            t.ms[1]
        );
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "null".into(),
    }
}

fn to_json(rows: &[Row], tokens: &[pci::TokenRow]) -> String {
    let when = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut o = format!(
        "{{\n  \"unix_time\": {when},\n  \"reference\": {},\n  \"icount\": {},\n  \"rows\": [\n",
        json_str(SKIBOOT),
        json_str(ICOUNT)
    );
    for (i, r) in rows.iter().enumerate() {
        o.push_str(&format!(
            "    {{\"metric\": {}, \"config\": {}, \"unit\": {}, \"opalite\": {}, \"skiboot\": {}, \"ratio\": {}, \"target\": {}, \"met\": {}}}{}\n",
            json_str(&r.metric),
            json_str(&r.config),
            json_str(r.unit),
            json_num(r.opalite),
            json_num(r.skiboot),
            json_num(r.ratio()),
            json_str(&r.target_text()),
            r.met().map_or("null".into(), |m| m.to_string()),
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    o.push_str("  ],\n  \"pci_tokens\": [\n");
    for (i, t) in tokens.iter().enumerate() {
        o.push_str(&format!(
            "    {{\"token\": {}, \"name\": {}, \"config\": {}, \"opalite_calls\": {}, \"skiboot_calls\": {}, \"opalite_ms\": {}, \"skiboot_ms\": {}}}{}\n",
            t.token,
            json_str(opal_api::token::name(t.token).unwrap_or("?")),
            json_str(&t.config),
            t.calls[0],
            t.calls[1],
            json_num(Some(t.ms[0])),
            json_num(Some(t.ms[1])),
            if i + 1 < tokens.len() { "," } else { "" }
        ));
    }
    o.push_str("  ]\n}\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ratios() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        let r = Row {
            metric: "m".into(),
            config: "c".into(),
            unit: "ms",
            opalite: Some(1.0),
            skiboot: Some(40.0),
            target: Some(Target::Ratio(1.0 / 20.0)),
        };
        assert_eq!(r.ratio(), Some(0.025));
        assert_eq!(r.met(), Some(true));
        assert_eq!(r.target_text(), "<= 1/20");
        let json = to_json(
            &[r],
            &[pci::TokenRow {
                config: "c".into(),
                token: 23,
                calls: [2002, 1571],
                ms: [1.5, 0.25],
            }],
        );
        assert!(json.contains("\"met\": true"));
        assert!(json.contains(
            "\"name\": \"OPAL_PCI_EEH_FREEZE_STATUS\", \"config\": \"c\", \"opalite_calls\": 2002"
        ));
    }

    #[test]
    fn handover_on_the_timebase() {
        // Kernel 1's clock started at timebase 10 s, kernel 2's at 25 s; kexec at 12 s.
        let tb = |secs: f64| format!("{:016x}", (secs * TB_HZ) as u64);
        let lines: Vec<String> = [
            "[    0.000000] dt-cpu-ftrs: setup for ISA 3000".to_string(),
            format!("[    1.000000] OPALITE-TB 0x{}", tb(11.0)),
            "[   12.000000,5] OPAL: firmware line with a level".into(),
            "[    2.000000] kexec_core: Starting new kernel".into(),
            "[    2.250000] kexec: Starting switchover sequence.".into(),
            "[    0.000000] dt-cpu-ftrs: setup for ISA 3000".into(),
            format!("[    3.000000] OPALITE-TB 0x{}", tb(28.0)),
            "[    4.000000] kexec: Starting switchover sequence.".into(),
        ]
        .into();
        let from = "kexec_core: Starting new kernel";
        let ms = handover_ms(&lines, from, Until::NextKernel).unwrap();
        assert!((ms - 13_000.0).abs() < 0.01, "{ms}");
        let switch = Until::Line("kexec: Starting switchover sequence.");
        let ms = handover_ms(&lines, from, switch).unwrap();
        assert!((ms - 250.0).abs() < 0.01, "{ms}");
        // No second kernel, no figure; a line only the second kernel printed does not count.
        assert_eq!(handover_ms(&lines[..6], from, Until::NextKernel), None);
        let mut no_switch = lines.clone();
        no_switch.remove(4);
        assert_eq!(handover_ms(&no_switch, from, switch), None);
        assert_eq!(
            handover_ms(&lines, "never printed", Until::NextKernel),
            None
        );
        assert_eq!(printk_secs("[   12.000000,5] OPAL"), None);
        assert_eq!(printk_secs("[    4.500000] x"), Some(4.5));
    }

    #[test]
    fn reads_bench_lines() {
        let cap = Capture {
            lines: vec![
                (0.1, "BENCH entry-tb 12345".into()),
                (0.2, "BENCH check-token 80.50".into()),
                (0.3, "noise BENCH x 1".into()),
            ],
            exit: Some(1.0),
        };
        let b = cap.bench();
        assert_eq!(b.get("entry-tb"), Some(&12345.0));
        assert_eq!(b.get("check-token"), Some(&80.5));
        assert_eq!(b.len(), 2);
        assert_eq!(cap.first("check-token"), Some(0.2));
    }
}
