//! The PCI rows of `cargo xtask bench`: what Linux's use of the PHBs costs in firmware,
//! Opalite against skiboot, on powernv9 and powernv10, at `-smp 1` under icount (guest
//! time is one nanosecond per instruction, so the figures do not move with host load).
//!
//! * **Calls and time in them.** Linux boots the pci initramfs with nvme, virtio-blk and
//!   e1000e on the first three PHBs (the pci scenarios' rig) and the `opal_entry` and
//!   `opal_exit` trace events on from the command line, timed by the timebase
//!   (`trace_clock=ppc-tb`). After the pci mode's checks (disks read and written, DHCP),
//!   init.sh tallies the trace per token: calls and timebase ticks between each entry and
//!   its exit. The time includes the tracing itself, so a traced `OPAL_CHECK_TOKEN`, the
//!   cheapest call there is, is shown as the floor.
//! * **PCI bring-up per PHB.** From the firmware's msglog, which both firmwares stamp with
//!   the timebase: from the first line of PHB work (skiboot's `HWPROBE: Probing phb...`,
//!   our `PHB: bring-up of the PHBs starts`) to the last `PHB#` line before the kernel is
//!   started, over the number of PHBs named; with the three devices and with none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use super::{run_qemu, Firmwares, Row, Target, ICOUNT, TB_HZ};
use crate::args::{Machine, Smp};
use crate::debian;
use crate::initramfs;
use crate::pcirig::{self, PciRig};
use crate::qemu::{Console, QemuConfig};
use crate::util::{self, Result};

/// Kernel arguments for a traced boot: the two events from the start, the timebase as
/// the trace clock, and a buffer that holds a whole boot's calls (about 36,000 pairs; 32M fails to allocate that early).
const TRACE_ARGS: &str = "trace_event=powerpc:opal_entry,powerpc:opal_exit \
                          trace_clock=ppc-tb trace_buf_size=8M";

/// Where each kind of run ends (QEMU is then killed: the figures are in).
const TALLY_END: &str = "OPALITE-OPAL-TRACE-END";
const PHB_LOG_END: &str = "OPALITE-PHB-LOG-END";

/// Calls and timebase ticks inside them, per OPAL token.
pub(super) type Tally = BTreeMap<u64, (u64, f64)>;

/// One token's figures on one machine, for both firmwares (Opalite first).
pub(super) struct TokenRow {
    pub config: String,
    pub token: u64,
    pub calls: [u64; 2],
    pub ms: [f64; 2],
}

/// Whether `token` is one of the PHB calls (config space, EEH, windows, PEs, MSIs, DMA,
/// resets, TCE kills): the `OPAL_PCI_*` tokens and `OPAL_GET_MSI_32/64`.
pub(super) fn is_pci_token(token: u64) -> bool {
    opal_api::token::name(token).is_some_and(|n| n.contains("_PCI_") || n.contains("_MSI_"))
}

/// Reads init.sh's tally (`OPALITE-OPAL-TRACE token=.. calls=.. ticks=..` lines and the
/// END line). Refuses a tally that lost events or paired an exit with the wrong entry:
/// its figures would be too low.
pub(super) fn parse_tally(lines: &[String]) -> std::result::Result<Tally, String> {
    let field = |l: &str, key: &str| -> Option<String> {
        l.split_whitespace()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    };
    let num = |l: &str, key: &str| field(l, key).and_then(|v| v.parse::<f64>().ok());
    if lines
        .iter()
        .any(|l| l.contains("OPALITE-OPAL-TRACE-FAILED"))
    {
        return Err("init.sh could not read the trace".into());
    }
    let end = lines
        .iter()
        .find(|l| l.contains(TALLY_END))
        .ok_or("no tally: the run did not get to its end")?;
    let (entries, exits, unmatched) = (
        num(end, "entries"),
        num(end, "exits"),
        num(end, "unmatched"),
    );
    let (kept, written) = (field(end, "kept"), field(end, "written"));
    if entries.is_none() || entries != exits || unmatched != Some(0.0) {
        return Err(format!("entries and exits do not pair up: {end}"));
    }
    if kept.is_none() || kept != written {
        return Err(format!("the trace buffer lost events: {end}"));
    }
    let mut tally = Tally::new();
    for l in lines
        .iter()
        .filter(|l| l.contains("OPALITE-OPAL-TRACE token="))
    {
        match (num(l, "token"), num(l, "calls"), num(l, "ticks")) {
            (Some(t), Some(c), Some(ticks)) => {
                tally.insert(t as u64, (c as u64, ticks));
            }
            _ => return Err(format!("unreadable tally line: {l}")),
        }
    }
    let counted: u64 = tally.values().map(|(c, _)| c).sum();
    if Some(counted as f64) != entries {
        return Err(format!(
            "the per-token lines add up to {counted} calls: {end}"
        ));
    }
    Ok(tally)
}

/// The seconds of a firmware log line's `[    1.234567890,7]` stamp.
fn log_secs(line: &str) -> Option<f64> {
    let inner = line.split_once('[')?.1.split_once(']')?.0;
    inner.split_once(',')?.0.trim().parse().ok()
}

/// The PHB id of a `PHB#0001...` mention.
fn phb_id(line: &str) -> Option<&str> {
    let at = line.find("PHB#")? + 4;
    let id = line.get(at..at + 4)?;
    id.chars().all(|c| c.is_ascii_hexdigit()).then_some(id)
}

/// Milliseconds of PHB bring-up per PHB and the number of PHBs, from the msglog lines
/// init.sh printed (`OPALITE-PHB-LOG ...`).
pub(super) fn bring_up_per_phb(lines: &[String]) -> Option<(f64, usize)> {
    let log: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once("OPALITE-PHB-LOG ").map(|(_, rest)| rest))
        .collect();
    let kernel_at = log.iter().position(|l| l.contains("Starting kernel"))?;
    let boot = &log[..kernel_at];
    let start = boot
        .iter()
        .find(|l| l.contains("HWPROBE: Probing phb") || l.contains("PHB: bring-up of the PHBs"))
        .and_then(|l| log_secs(l))?;
    let end = boot
        .iter()
        .rev()
        .find(|l| phb_id(l).is_some())
        .and_then(|l| log_secs(l))?;
    let phbs: BTreeSet<&str> = boot.iter().filter_map(|l| phb_id(l)).collect();
    if phbs.is_empty() || end < start {
        return None;
    }
    Some(((end - start) * 1000.0 / phbs.len() as f64, phbs.len()))
}

/// The figures of one firmware on one machine.
#[derive(Default)]
struct Figures {
    tally: Option<Tally>,
    /// (ms per PHB, PHBs) with the devices, and with none.
    bring_up: [Option<(f64, usize)>; 2],
}

fn pci_calls(t: &Tally) -> (u64, f64) {
    t.iter()
        .filter(|(tok, _)| is_pci_token(**tok))
        .fold((0, 0.0), |(c, x), (_, (n, ticks))| (c + n, x + ticks))
}

fn ticks_ms(ticks: f64) -> f64 {
    ticks / TB_HZ * 1000.0
}

pub(super) fn rows(
    qemu: &Path,
    fws: &Firmwares,
    logs: &Path,
    rows: &mut Vec<Row>,
    tokens: &mut Vec<TokenRow>,
) -> Result<()> {
    let root = util::repo_root();
    let cache = debian::DebCache::open()?;
    let kernel = cache.kernel()?;
    let busybox = cache.busybox()?;
    let md5s = pcirig::build(&root)?;
    let pci_initrd = initramfs::build_pci_image(&cache, &busybox, md5s)?;
    let plain_initrd = root.join(initramfs::IMAGE);
    initramfs::build(&busybox, &plain_initrd)?;

    for machine in [Machine::Powernv9, Machine::Powernv10] {
        let config = super::config_name(machine, "1");
        let mut figs: [Figures; 2] = Default::default();
        for (i, (fw_name, image)) in fws.images.iter().enumerate() {
            let stem = logs.join(format!("pci-{fw_name}-{}", machine.name()));
            // With the devices, traced.
            let disks = pcirig::copy_for_run(&root, &stem)?;
            let boot = QemuConfig {
                machine,
                smp: Smp::parse("1")?,
                memory: "2G".into(),
                firmware: image.clone(),
                kernel: Some(kernel.clone()),
                initrd: Some(pci_initrd.clone()),
                append: format!(
                    "console=hvc0 opalite.test=pci opalite.opal-trace=1 opalite.phb-log=1 {TRACE_ARGS}"
                ),
                flash: None,
                devices: PciRig::OnePerPhb.qemu_args(&disks),
                gdb: false,
                guest_may_reboot: false,
            };
            let mut args = boot.args(Console::Captured);
            args.extend(["-icount".into(), ICOUNT.into()]);
            let log = stem.with_extension("log");
            let cap = run_qemu(qemu, &args, Duration::from_secs(1200), &[PHB_LOG_END], &log)?;
            for d in &disks {
                let _ = std::fs::remove_file(d);
            }
            let lines: Vec<String> = cap.lines.into_iter().map(|(_, l)| l).collect();
            if let Some(l) = lines.iter().find(|l| l.contains("OPALITE-PCI-FAILED")) {
                eprintln!(
                    "xtask: bench: the pci checks failed with {fw_name} on {config} ({l}); its call figures are left out (log {})",
                    log.display()
                );
            } else {
                match parse_tally(&lines) {
                    Ok(t) => figs[i].tally = Some(t),
                    Err(e) => eprintln!(
                        "xtask: bench: no call figures from {fw_name} on {config}: {e} (log {})",
                        log.display()
                    ),
                }
            }
            figs[i].bring_up[0] = bring_up_per_phb(&lines);

            // No devices, untraced: the bring-up of empty PHBs.
            let empty = QemuConfig {
                initrd: Some(plain_initrd.clone()),
                append: "console=hvc0 opalite.test=poweroff opalite.phb-log=1".into(),
                devices: Vec::new(),
                ..boot
            };
            let mut args = empty.args(Console::Captured);
            args.extend(["-icount".into(), ICOUNT.into()]);
            let log = logs.join(format!("pci-empty-{fw_name}-{}.log", machine.name()));
            let cap = run_qemu(qemu, &args, Duration::from_secs(900), &[PHB_LOG_END], &log)?;
            let lines: Vec<String> = cap.lines.into_iter().map(|(_, l)| l).collect();
            figs[i].bring_up[1] = bring_up_per_phb(&lines);
            for (b, what) in figs[i].bring_up.iter().zip(["with devices", "empty"]) {
                if b.is_none() {
                    eprintln!(
                        "xtask: bench: no PHB bring-up lines ({what}) from {fw_name} on {config} (see target/bench-logs/pci-*{fw_name}-{}.log)",
                        machine.name()
                    );
                }
            }
        }
        push_rows(&config, &figs, rows, tokens);
    }
    Ok(())
}

fn push_rows(config: &str, figs: &[Figures; 2], rows: &mut Vec<Row>, tokens: &mut Vec<TokenRow>) {
    let each = |f: &dyn Fn(&Tally) -> Option<f64>| -> [Option<f64>; 2] {
        [0, 1].map(|i| figs[i].tally.as_ref().and_then(f))
    };
    let calls = each(&|t| Some(pci_calls(t).0 as f64));
    let ms = each(&|t| Some(ticks_ms(pci_calls(t).1)));
    let all = each(&|t| Some(t.values().map(|(c, _)| *c as f64).sum()));
    let floor = each(&|t| {
        let (c, ticks) = t.get(&opal_api::token::OPAL_CHECK_TOKEN)?;
        (*c > 0).then(|| ticks / *c as f64 / TB_HZ * 1e9)
    });
    let what =
        "Linux boot with nvme + virtio-blk + e1000e, disks and DHCP checked (traced, icount)";
    for (metric, unit, v, target) in [
        (
            format!("PCI: OPAL_PCI_* calls, {what}"),
            "calls",
            calls,
            None,
        ),
        (
            format!("PCI: guest time in OPAL_PCI_* calls, {what}"),
            "ms",
            ms,
            Some(Target::Ratio(1.0)),
        ),
        (format!("PCI: all OPAL calls, {what}"), "calls", all, None),
        (
            "PCI: a traced OPAL_CHECK_TOKEN (the floor each traced call's time includes)".into(),
            "ns",
            floor,
            None,
        ),
    ] {
        rows.push(Row {
            metric,
            config: config.into(),
            unit,
            opalite: v[0],
            skiboot: v[1],
            target,
        });
    }
    for (k, what) in ["with nvme + virtio-blk + e1000e", "no devices"]
        .iter()
        .enumerate()
    {
        let b = [0, 1].map(|i| figs[i].bring_up[k]);
        let phbs = b
            .iter()
            .flatten()
            .map(|(_, n)| n.to_string())
            .collect::<Vec<_>>();
        rows.push(Row {
            metric: format!(
                "PCI: firmware bring-up per PHB at boot, {what} (msglog, icount; PHBs: {})",
                if phbs.is_empty() {
                    "-".into()
                } else {
                    phbs.join("/")
                }
            ),
            config: config.into(),
            unit: "ms",
            opalite: b[0].map(|(ms, _)| ms),
            skiboot: b[1].map(|(ms, _)| ms),
            target: Some(Target::Ratio(1.0)),
        });
    }
    let (Some(o), Some(s)) = (&figs[0].tally, &figs[1].tally) else {
        return;
    };
    let pci: BTreeSet<u64> = o
        .keys()
        .chain(s.keys())
        .copied()
        .filter(|t| is_pci_token(*t))
        .collect();
    for token in pci {
        let get = |t: &Tally| t.get(&token).copied().unwrap_or((0, 0.0));
        let (oc, ot) = get(o);
        let (sc, st) = get(s);
        tokens.push(TokenRow {
            config: config.into(),
            token,
            calls: [oc, sc],
            ms: [ticks_ms(ot), ticks_ms(st)],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pci_tokens_are_the_phb_calls() {
        for t in [13, 15, 18, 23, 31, 37, 40, 45, 49, 126] {
            assert!(is_pci_token(t), "{t}");
        }
        for t in [1, 2, 10, 80, 101] {
            assert!(!is_pci_token(t), "{t}");
        }
    }

    #[test]
    fn reads_a_complete_tally() {
        let t = parse_tally(&lines(&[
            "noise",
            "OPALITE-OPAL-TRACE token=23 calls=3 ticks=1536",
            "OPALITE-OPAL-TRACE token=80 calls=2 ticks=100",
            "OPALITE-OPAL-TRACE-END entries=5 exits=5 unmatched=0 kept=10 written=10",
        ]))
        .unwrap();
        assert_eq!(t.get(&23), Some(&(3, 1536.0)));
        assert_eq!(pci_calls(&t), (3, 1536.0));
        assert!((ticks_ms(512e3) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn refuses_a_tally_that_lost_or_mispaired_events() {
        let body = "OPALITE-OPAL-TRACE token=23 calls=5 ticks=1";
        for end in [
            "OPALITE-OPAL-TRACE-END entries=5 exits=5 unmatched=0 kept=9 written=10",
            "OPALITE-OPAL-TRACE-END entries=5 exits=4 unmatched=0 kept=9 written=9",
            "OPALITE-OPAL-TRACE-END entries=5 exits=5 unmatched=1 kept=10 written=10",
            "OPALITE-OPAL-TRACE-END entries=6 exits=6 unmatched=0 kept=12 written=12",
        ] {
            assert!(parse_tally(&lines(&[body, end])).is_err(), "{end}");
        }
        assert!(parse_tally(&lines(&[body])).is_err());
        assert!(parse_tally(&lines(&["OPALITE-OPAL-TRACE-FAILED no tracefs"])).is_err());
    }

    #[test]
    fn bring_up_runs_from_the_first_phb_work_to_the_last_phb_line_before_the_kernel() {
        let log = lines(&[
            "OPALITE-PHB-LOG [    1.000000000,5] PHB: Verbose EEH enabled",
            "OPALITE-PHB-LOG [    2.000000000,6] HWPROBE: Probing phb4...",
            "OPALITE-PHB-LOG [    2.100000000,7] PHB#0000[0:0]: Initializing PHB...",
            "OPALITE-PHB-LOG [    2.200000000,7] PHB#0001[0:1]: Initializing PHB...",
            "OPALITE-PHB-LOG [    2.600000000,5] PHB#0001:00:00.0 [ROOT] 1014 04c1",
            "OPALITE-PHB-LOG [    3.000000000,5] INIT: Starting kernel at 0x20010000",
            "OPALITE-PHB-LOG [    9.000000000,3] PHB#0000: a runtime line",
            "OPALITE-PHB-LOG-END",
        ]);
        let (ms, n) = bring_up_per_phb(&log).unwrap();
        assert_eq!(n, 2);
        assert!((ms - 300.0).abs() < 1e-6, "{ms}");
        let ours = lines(&[
            "OPALITE-PHB-LOG [    0.500000000,7] PHB: bring-up of the PHBs starts",
            "OPALITE-PHB-LOG [    0.540000000,6] PHB: PHB#0000[0:0]: up, link up",
            "OPALITE-PHB-LOG [    0.600000000,6] INIT: Starting kernel at 0x20010000",
        ]);
        let (ms, n) = bring_up_per_phb(&ours).unwrap();
        assert_eq!(n, 1);
        assert!((ms - 40.0).abs() < 1e-6, "{ms}");
        // No start line, or no kernel start: no figure.
        assert_eq!(bring_up_per_phb(&log[2..]), None);
        assert_eq!(bring_up_per_phb(&ours[..2]), None);
        assert_eq!(phb_id("PHB#00g1"), None);
    }
}
