//! Command-line parsing, by hand (the grammar is small and xtask has no dependencies).

use std::path::PathBuf;

use crate::bail;
use crate::util::Result;

pub const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  build [--debug]
      Build the firmware and write the raw image target/opalite.lid; also build the
      conformance payload, target/opal-conformance.elf.
  run [options]
      Boot Linux on QEMU with the firmware, console on this terminal (a busybox shell).
        --machine powernv9|powernv10|powernv8   (default powernv9)
        --smp N[,cores=C,threads=T]             (default 1)
        --memory SIZE                           (default 2G)
        --kernel PATH      kernel to load at 0x20000000 (default: Debian's ppc64el vmlinux)
        --initrd PATH      initramfs (default: the busybox one xtask builds)
        --append STR       extra kernel arguments after console=hvc0
        --firmware PATH    boot this image instead of building Opalite (e.g. skiboot.lid)
        --pci              plug in an nvme disk, a virtio-blk disk and an e1000e NIC on
                           QEMU's user network (one per PHB; the disks are fresh copies,
                           target/pci/run-*.img) and boot the initramfs with their
                           drivers (insmod /lib/modules/opalite/*.ko in the shell)
        --gdb              wait for gdb on 127.0.0.1:1234
        --debug            build the firmware without --release
  test [options]
      Host unit tests, the PNOR cross-check, the Mambo boots (tests/mambo; SKIPPED when
      systemsim is not installed), firmware build, then the QEMU boot scenarios.
        --host-only        only the host steps (unit tests, PNOR cross-check, Mambo)
        --qemu-only        skip the host steps
        --filter SUBSTR    only the tests whose name contains SUBSTR (repeatable)
        --firmware PATH    run the QEMU scenarios against this image (no build)
        --repeat N         run each selected scenario N times, report passes and failures
                           (logs: target/test-logs/NAME.runI.log)
        --debug            build the firmware without --release
  conformance [options]
      Boot the OPAL conformance payload (tests/conformance) instead of Linux and print
      its report; succeeds if no case failed.
        --machine powernv9|powernv10|powernv8   (default powernv9)
        --smp N[,cores=C,threads=T]             (default 4,cores=2,threads=2)
        --firmware PATH    run it on this image (e.g. skiboot.lid) instead of Opalite
        --require AREA     an absent OPAL area is a failure, not a skip (repeatable;
                           `all` for every area)
        --append STR       more payload options, e.g. conformance.only=xive.queue
        --timeout SECS     kill QEMU after this long (default 600)
        --debug            build without --release
  bench [options]
      Opalite against Debian's skiboot (/usr/share/qemu/skiboot.lid) in the same run:
      firmware boot, OPAL call cost, reserved memory, power-off (QEMU -icount shift=0 for
      guest-time figures), image size, scaling over threads and chips, Linux end-to-end
      wall clock. Prints a table with Opalite/skiboot ratios; writes target/bench.json.
        --quick            powernv9/10 at 1 and 4 threads only, no scaling, no Linux
        --no-linux         everything but the Linux end-to-end, kexec and kdump runs
        --kexec-only       only the kexec and kdump rows (Linux under -icount)
        --pci-only         only the PCI rows: OPAL_PCI_* calls and guest time in them
                           per token (Linux traced, three devices), PHB bring-up per
                           PHB with the devices and without (-icount, -smp 1)
        --runs N           Linux boots per firmware and thread count (default 3)
  fuzz [options]
      The conformance payload's fuzz mode: random OPAL calls from every thread, then the
      payload's checks. Prints the seed first; a failure prints the command replaying it.
        --machine powernv9|powernv10            (default powernv9)
        --smp N[,cores=C,threads=T]             (default 4,cores=2,threads=2)
        --calls N          calls per run (default 1000000)
        --seed S           seed (decimal or 0x hex; default: a new random one per run)
        --runs N           runs, each with its own seed unless --seed (default 1)
        --firmware PATH    fuzz this image instead of Opalite
  torture [options]
      Reboots through OPAL_CEC_REBOOT in one QEMU run (guest time per cycle), then
      separate boots of the payload (QEMU start to exit): hangs, median and slowest.
        --machine, --smp, --firmware            as for fuzz
        --reboots N        reboots (default 1000; 0 to skip)
        --boots N          boots (default 1000; 0 to skip)
  help
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    Powernv8,
    Powernv9,
    Powernv10,
}

impl Machine {
    pub fn parse(s: &str) -> Result<Machine> {
        Ok(match s {
            "powernv8" => Machine::Powernv8,
            "powernv9" => Machine::Powernv9,
            "powernv10" => Machine::Powernv10,
            _ => bail!("unknown machine `{s}` (expected powernv9, powernv10 or powernv8)"),
        })
    }

    /// QEMU's `-M` value.
    pub fn name(self) -> &'static str {
        match self {
            Machine::Powernv8 => "powernv8",
            Machine::Powernv9 => "powernv9",
            Machine::Powernv10 => "powernv10",
        }
    }
}

/// A QEMU `-smp` value, checked before QEMU sees it so typos fail early and clearly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smp {
    /// Total threads; computed from the topology when the leading count is omitted.
    pub cpus: u32,
    pub sockets: Option<u32>,
    pub cores: Option<u32>,
    pub threads: Option<u32>,
}

impl Smp {
    pub fn parse(s: &str) -> Result<Smp> {
        let mut cpus = None;
        let (mut sockets, mut cores, mut threads) = (None, None, None);
        for (i, part) in s.split(',').enumerate() {
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k, v),
                None if i == 0 => ("cpus", part),
                None => bail!("bad --smp `{s}`: `{part}` should be key=value"),
            };
            let n: u32 = match value.parse() {
                Ok(n) if n > 0 => n,
                _ => bail!("bad --smp `{s}`: `{value}` is not a positive number"),
            };
            let slot = match key {
                "cpus" => &mut cpus,
                "sockets" => &mut sockets,
                "cores" => &mut cores,
                "threads" => &mut threads,
                _ => bail!("bad --smp `{s}`: unknown key `{key}` (use cores=, threads=, sockets=)"),
            };
            if slot.replace(n).is_some() {
                bail!("bad --smp `{s}`: `{key}` given twice");
            }
        }
        let topology = sockets.unwrap_or(1) * cores.unwrap_or(1) * threads.unwrap_or(1);
        let cpus = cpus.unwrap_or(topology);
        if threads.is_some_and(|t| t > 8) {
            bail!("bad --smp `{s}`: POWER cores have at most 8 threads");
        }
        Ok(Smp {
            cpus,
            sockets,
            cores,
            threads,
        })
    }

    /// The value for QEMU's `-smp`.
    pub fn to_qemu(&self) -> String {
        let mut s = self.cpus.to_string();
        for (key, value) in [
            ("sockets", self.sockets),
            ("cores", self.cores),
            ("threads", self.threads),
        ] {
            if let Some(v) = value {
                s.push_str(&format!(",{key}={v}"));
            }
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunOpts {
    pub machine: Machine,
    pub smp: Smp,
    pub memory: String,
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub append: Option<String>,
    pub firmware: Option<PathBuf>,
    /// Attach the pci scenarios' devices (`pcirig::PciRig::OnePerPhb`).
    pub pci: bool,
    pub gdb: bool,
    pub debug: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestOpts {
    pub host_only: bool,
    pub qemu_only: bool,
    pub filters: Vec<String>,
    pub firmware: Option<PathBuf>,
    /// Runs of each scenario (`--repeat`), at least 1.
    pub repeat: usize,
    pub debug: bool,
}

impl Default for TestOpts {
    fn default() -> Self {
        TestOpts {
            host_only: false,
            qemu_only: false,
            filters: Vec::new(),
            firmware: None,
            repeat: 1,
            debug: false,
        }
    }
}

impl TestOpts {
    /// Whether a test called `name` was selected by `--filter` (all are without one).
    pub fn selects(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }

    /// Like `selects`, for a scenario that runs only when a filter names it (too long or
    /// too exposed to a known Linux flake for every CI run).
    pub fn selects_on_demand(&self, name: &str) -> bool {
        self.filters.iter().any(|f| name.contains(f.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConformanceOpts {
    pub machine: Machine,
    pub smp: Smp,
    pub firmware: Option<PathBuf>,
    pub require: Vec<String>,
    pub append: Option<String>,
    pub timeout: u64,
    pub debug: bool,
}

impl ConformanceOpts {
    /// The payload's command line (`/chosen/bootargs`).
    pub fn bootargs(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        if !self.require.is_empty() {
            words.push(format!("conformance.require={}", self.require.join(",")));
        }
        words.extend(self.append.clone());
        words.join(" ")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BenchOpts {
    pub quick: bool,
    pub no_linux: bool,
    pub kexec_only: bool,
    pub pci_only: bool,
    pub runs: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Build { debug: bool },
    Run(RunOpts),
    Test(TestOpts),
    Conformance(ConformanceOpts),
    Bench(BenchOpts),
    Fuzz(FuzzOpts),
    Torture(TortureOpts),
    Help,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FuzzOpts {
    pub machine: Machine,
    pub smp: Smp,
    pub calls: u64,
    pub seed: Option<u64>,
    pub runs: u32,
    pub firmware: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TortureOpts {
    pub machine: Machine,
    pub smp: Smp,
    pub reboots: u64,
    pub boots: u64,
    pub firmware: Option<PathBuf>,
}

/// Splits `--opt=value` and `--opt value` alike, and knows which options take a value.
struct Args {
    items: std::vec::IntoIter<String>,
}

impl Args {
    fn next_opt(&mut self) -> Option<(String, Option<String>)> {
        let arg = self.items.next()?;
        match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => Some((k.to_string(), Some(v.to_string()))),
            _ => Some((arg, None)),
        }
    }

    fn value(&mut self, opt: &str, inline: Option<String>) -> Result<String> {
        match inline.or_else(|| self.items.next()) {
            Some(v) => Ok(v),
            None => bail!("{opt} needs a value"),
        }
    }
}

fn no_value(opt: &str, inline: &Option<String>) -> Result<()> {
    if inline.is_some() {
        bail!("{opt} takes no value");
    }
    Ok(())
}

pub fn parse(argv: Vec<String>) -> Result<Cmd> {
    let mut argv = argv.into_iter();
    let command = argv.next().unwrap_or_else(|| "help".to_string());
    let mut args = Args { items: argv };
    match command.as_str() {
        "build" => {
            let mut debug = false;
            while let Some((opt, inline)) = args.next_opt() {
                match opt.as_str() {
                    "--debug" => {
                        no_value(&opt, &inline)?;
                        debug = true
                    }
                    _ => bail!("unknown option `{opt}` for build\n\n{USAGE}"),
                }
            }
            Ok(Cmd::Build { debug })
        }
        "run" => parse_run(&mut args).map(Cmd::Run),
        "test" => parse_test(&mut args).map(Cmd::Test),
        "conformance" => parse_conformance(&mut args).map(Cmd::Conformance),
        "bench" => parse_bench(&mut args).map(Cmd::Bench),
        "fuzz" => parse_fuzz(&mut args).map(Cmd::Fuzz),
        "torture" => parse_torture(&mut args).map(Cmd::Torture),
        "help" | "-h" | "--help" => Ok(Cmd::Help),
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn parse_run(args: &mut Args) -> Result<RunOpts> {
    let mut o = RunOpts {
        machine: Machine::Powernv9,
        smp: Smp::parse("1")?,
        memory: "2G".to_string(),
        kernel: None,
        initrd: None,
        append: None,
        firmware: None,
        pci: false,
        gdb: false,
        debug: false,
    };
    while let Some((opt, inline)) = args.next_opt() {
        match opt.as_str() {
            "--machine" | "-M" => o.machine = Machine::parse(&args.value(&opt, inline)?)?,
            "--smp" => o.smp = Smp::parse(&args.value(&opt, inline)?)?,
            "--memory" | "-m" => o.memory = parse_memory(&args.value(&opt, inline)?)?,
            "--kernel" => o.kernel = Some(args.value(&opt, inline)?.into()),
            "--initrd" => o.initrd = Some(args.value(&opt, inline)?.into()),
            "--append" => o.append = Some(args.value(&opt, inline)?),
            "--firmware" => o.firmware = Some(args.value(&opt, inline)?.into()),
            "--gdb" => {
                no_value(&opt, &inline)?;
                o.gdb = true
            }
            "--pci" => {
                no_value(&opt, &inline)?;
                o.pci = true
            }
            "--debug" => {
                no_value(&opt, &inline)?;
                o.debug = true
            }
            _ => bail!("unknown option `{opt}` for run\n\n{USAGE}"),
        }
    }
    Ok(o)
}

fn parse_test(args: &mut Args) -> Result<TestOpts> {
    let mut o = TestOpts::default();
    while let Some((opt, inline)) = args.next_opt() {
        match opt.as_str() {
            "--filter" => o.filters.push(args.value(&opt, inline)?),
            "--firmware" => o.firmware = Some(args.value(&opt, inline)?.into()),
            "--repeat" => {
                let v = args.value(&opt, inline)?;
                o.repeat = match v.parse::<usize>() {
                    Ok(n) if n >= 1 => n,
                    _ => bail!("bad --repeat `{v}` (a count of runs, 1 or more)"),
                };
            }
            "--host-only" | "--qemu-only" | "--debug" => {
                no_value(&opt, &inline)?;
                match opt.as_str() {
                    "--host-only" => o.host_only = true,
                    "--qemu-only" => o.qemu_only = true,
                    _ => o.debug = true,
                }
            }
            _ => bail!("unknown option `{opt}` for test\n\n{USAGE}"),
        }
    }
    if o.host_only && o.qemu_only {
        bail!("--host-only and --qemu-only exclude each other");
    }
    Ok(o)
}

fn parse_bench(args: &mut Args) -> Result<BenchOpts> {
    let mut o = BenchOpts {
        quick: false,
        no_linux: false,
        kexec_only: false,
        pci_only: false,
        runs: 3,
    };
    while let Some((opt, inline)) = args.next_opt() {
        match opt.as_str() {
            "--quick" => {
                no_value(&opt, &inline)?;
                o.quick = true
            }
            "--no-linux" => {
                no_value(&opt, &inline)?;
                o.no_linux = true
            }
            "--kexec-only" => {
                no_value(&opt, &inline)?;
                o.kexec_only = true
            }
            "--pci-only" => {
                no_value(&opt, &inline)?;
                o.pci_only = true
            }
            "--runs" => {
                let v = args.value(&opt, inline)?;
                o.runs = match v.parse() {
                    Ok(n) if n > 0 => n,
                    _ => bail!("--runs needs a positive number, not `{v}`"),
                };
            }
            _ => bail!("unknown option `{opt}` for bench\n\n{USAGE}"),
        }
    }
    Ok(o)
}

fn parse_conformance(args: &mut Args) -> Result<ConformanceOpts> {
    let mut o = ConformanceOpts {
        machine: Machine::Powernv9,
        smp: Smp::parse("4,cores=2,threads=2")?,
        firmware: None,
        require: Vec::new(),
        append: None,
        timeout: 600,
        debug: false,
    };
    while let Some((opt, inline)) = args.next_opt() {
        match opt.as_str() {
            "--machine" | "-M" => o.machine = Machine::parse(&args.value(&opt, inline)?)?,
            "--smp" => o.smp = Smp::parse(&args.value(&opt, inline)?)?,
            "--firmware" => o.firmware = Some(args.value(&opt, inline)?.into()),
            "--require" => o.require.push(args.value(&opt, inline)?),
            "--append" => o.append = Some(args.value(&opt, inline)?),
            "--timeout" => {
                let v = args.value(&opt, inline)?;
                o.timeout = match v.parse() {
                    Ok(n) if n > 0 => n,
                    _ => bail!("bad --timeout `{v}` (seconds, > 0)"),
                }
            }
            "--debug" => {
                no_value(&opt, &inline)?;
                o.debug = true
            }
            _ => bail!("unknown option `{opt}` for conformance\n\n{USAGE}"),
        }
    }
    Ok(o)
}

/// A count or seed: decimal, or hex with 0x.
fn number(opt: &str, v: &str) -> Result<u64> {
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    };
    match parsed {
        Some(n) => Ok(n),
        None => bail!("{opt} needs a number (decimal or 0x hex), not `{v}`"),
    }
}

fn parse_fuzz(args: &mut Args) -> Result<FuzzOpts> {
    let mut o = FuzzOpts {
        machine: Machine::Powernv9,
        smp: Smp::parse("4,cores=2,threads=2")?,
        calls: 1_000_000,
        seed: None,
        runs: 1,
        firmware: None,
    };
    while let Some((opt, inline)) = args.next_opt() {
        match opt.as_str() {
            "--machine" | "-M" => o.machine = Machine::parse(&args.value(&opt, inline)?)?,
            "--smp" => o.smp = Smp::parse(&args.value(&opt, inline)?)?,
            "--calls" => o.calls = number(&opt, &args.value(&opt, inline)?)?.max(1),
            "--seed" => o.seed = Some(number(&opt, &args.value(&opt, inline)?)?),
            "--runs" => o.runs = number(&opt, &args.value(&opt, inline)?)?.clamp(1, 10_000) as u32,
            "--firmware" => o.firmware = Some(args.value(&opt, inline)?.into()),
            _ => bail!("unknown option `{opt}` for fuzz\n\n{USAGE}"),
        }
    }
    Ok(o)
}

fn parse_torture(args: &mut Args) -> Result<TortureOpts> {
    let mut o = TortureOpts {
        machine: Machine::Powernv9,
        smp: Smp::parse("4,cores=2,threads=2")?,
        reboots: 1000,
        boots: 1000,
        firmware: None,
    };
    while let Some((opt, inline)) = args.next_opt() {
        match opt.as_str() {
            "--machine" | "-M" => o.machine = Machine::parse(&args.value(&opt, inline)?)?,
            "--smp" => o.smp = Smp::parse(&args.value(&opt, inline)?)?,
            "--reboots" => o.reboots = number(&opt, &args.value(&opt, inline)?)?.min(100_000),
            "--boots" => o.boots = number(&opt, &args.value(&opt, inline)?)?,
            "--firmware" => o.firmware = Some(args.value(&opt, inline)?.into()),
            _ => bail!("unknown option `{opt}` for torture\n\n{USAGE}"),
        }
    }
    Ok(o)
}

/// QEMU's `-m` syntax: a number with an optional K/M/G/T suffix.
fn parse_memory(s: &str) -> Result<String> {
    let digits = s.trim_end_matches(|c: char| "KkMmGgTt".contains(c));
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && s.len() - digits.len() <= 1;
    if !ok {
        bail!("bad --memory `{s}` (examples: 2G, 4096M)");
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn bench_options() {
        let Cmd::Bench(o) = parse(argv("bench")).unwrap() else {
            panic!()
        };
        assert!(!o.pci_only && !o.kexec_only && !o.quick && o.runs == 3);
        let Cmd::Bench(o) = parse(argv("bench --pci-only --runs 2")).unwrap() else {
            panic!()
        };
        assert!(o.pci_only && !o.kexec_only && o.runs == 2);
        assert!(parse(argv("bench --pci-only=1")).is_err());
    }

    #[test]
    fn smp_forms() {
        let s = Smp::parse("4,cores=2,threads=2").unwrap();
        assert_eq!((s.cpus, s.cores, s.threads), (4, Some(2), Some(2)));
        assert_eq!(s.to_qemu(), "4,cores=2,threads=2");
        assert_eq!(Smp::parse("1").unwrap().to_qemu(), "1");
        // The leading count may be left to QEMU's arithmetic.
        let t = Smp::parse("cores=2,threads=4").unwrap();
        assert_eq!(t.cpus, 8);
        assert_eq!(t.to_qemu(), "8,cores=2,threads=4");
    }

    #[test]
    fn smp_errors() {
        for bad in [
            "",
            "0",
            "x",
            "4,cores",
            "4,cores=0",
            "4,dies=2",
            "4,cores=2,cores=2",
            "16,threads=16",
        ] {
            assert!(Smp::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn fuzz_and_torture_options() {
        let Cmd::Fuzz(o) = parse(argv(
            "fuzz --machine powernv10 --calls 0x10 --seed 0x321e070",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (o.machine, o.calls, o.seed, o.runs),
            (Machine::Powernv10, 16, Some(0x321e070), 1)
        );
        let Cmd::Fuzz(d) = parse(argv("fuzz")).unwrap() else {
            panic!()
        };
        assert_eq!(
            (d.calls, d.seed, d.smp.to_qemu()),
            (1_000_000, None, "4,cores=2,threads=2".into())
        );
        assert!(parse(argv("fuzz --seed 12x")).is_err());
        assert!(parse(argv("fuzz --bogus")).is_err());
        let Cmd::Torture(t) = parse(argv("torture --reboots 100 --boots 0")).unwrap() else {
            panic!()
        };
        assert_eq!((t.reboots, t.boots, t.firmware), (100, 0, None));
        let Cmd::Torture(t) = parse(argv("torture")).unwrap() else {
            panic!()
        };
        assert_eq!((t.reboots, t.boots), (1000, 1000));
    }

    #[test]
    fn run_defaults() {
        let Cmd::Run(o) = parse(argv("run")).unwrap() else {
            panic!()
        };
        assert_eq!(o.machine, Machine::Powernv9);
        assert_eq!(o.smp.cpus, 1);
        assert_eq!(o.memory, "2G");
        assert!(!o.gdb && !o.pci && o.firmware.is_none() && o.append.is_none());
        let Cmd::Run(o) = parse(argv("run --pci")).unwrap() else {
            panic!()
        };
        assert!(o.pci);
        assert!(parse(argv("run --pci=1")).is_err());
    }

    #[test]
    fn run_options() {
        let cmd = parse(argv(
            "run --machine powernv10 --smp=4,cores=2,threads=2 --gdb --firmware /x/skiboot.lid -m 4G --append quiet",
        ))
        .unwrap();
        let Cmd::Run(o) = cmd else { panic!() };
        assert_eq!(o.machine, Machine::Powernv10);
        assert_eq!(o.smp.to_qemu(), "4,cores=2,threads=2");
        assert!(o.gdb);
        assert_eq!(o.firmware, Some(PathBuf::from("/x/skiboot.lid")));
        assert_eq!(o.memory, "4G");
        assert_eq!(o.append.as_deref(), Some("quiet"));
    }

    #[test]
    fn append_keeps_spaces_when_given_as_one_argument() {
        let cmd = parse(vec!["run".into(), "--append".into(), "a=1 b=2".into()]).unwrap();
        let Cmd::Run(o) = cmd else { panic!() };
        assert_eq!(o.append.as_deref(), Some("a=1 b=2"));
    }

    #[test]
    fn test_options() {
        let Cmd::Test(o) = parse(argv("test --qemu-only --filter smp1 --filter=p10")).unwrap()
        else {
            panic!()
        };
        assert!(o.qemu_only && !o.host_only);
        assert_eq!(o.filters, vec!["smp1", "p10"]);
        assert!(o.selects("boot-powernv9-smp1"));
        assert!(!o.selects("boot-powernv9-smp4"));
        assert!(TestOpts::default().selects("anything"));
        assert_eq!(o.repeat, 1);
        let Cmd::Test(o) = parse(argv("test --filter kvm-long --repeat 20")).unwrap() else {
            panic!()
        };
        assert_eq!(o.repeat, 20);
        assert!(parse(argv("test --repeat 0")).is_err());
        assert!(parse(argv("test --repeat=x")).is_err());
        assert!(parse(argv("test --host-only --qemu-only")).is_err());
    }

    #[test]
    fn conformance_options() {
        let Cmd::Conformance(o) = parse(argv("conformance")).unwrap() else {
            panic!()
        };
        assert_eq!(o.machine, Machine::Powernv9);
        assert_eq!(o.smp.to_qemu(), "4,cores=2,threads=2");
        assert_eq!(o.bootargs(), "");
        let cmd = parse(vec![
            "conformance".into(),
            "--machine=powernv10".into(),
            "--firmware".into(),
            "/usr/share/qemu/skiboot.lid".into(),
            "--require".into(),
            "xive".into(),
            "--append".into(),
            "conformance.only=xive.queue".into(),
            "--timeout=30".into(),
        ])
        .unwrap();
        let Cmd::Conformance(o) = cmd else { panic!() };
        assert_eq!(o.machine, Machine::Powernv10);
        assert_eq!(o.timeout, 30);
        assert_eq!(
            o.bootargs(),
            "conformance.require=xive conformance.only=xive.queue"
        );
        assert!(parse(argv("conformance --timeout 0")).is_err());
        assert!(parse(argv("conformance --initrd x")).is_err());
    }

    #[test]
    fn build_and_errors() {
        assert_eq!(
            parse(argv("build --debug")).unwrap(),
            Cmd::Build { debug: true }
        );
        assert_eq!(parse(vec![]).unwrap(), Cmd::Help);
        assert!(parse(argv("frobnicate")).is_err());
        assert!(parse(argv("run --machine powernv11")).is_err());
        assert!(parse(argv("run --smp")).is_err());
        assert!(parse(argv("run --gdb=yes")).is_err());
        assert!(parse(argv("run --memory 2X")).is_err());
        assert!(parse(argv("build --release")).is_err());
    }
}
