//! What every vCPU was doing when a scenario timed out. A hang that CI meets once in ten
//! runs and a developer's machine never does leaves only its console log; the log's last
//! line says where the output stopped, not which CPU is spinning where. So each scenario's
//! QEMU gets a second, silent monitor on a unix socket, and before a timed-out QEMU is
//! killed the harness asks it for `info cpus` and `info registers -a`. The raw answer goes
//! into the log; a one-line-per-CPU summary (NIP and LR, named from the firmware ELF's
//! symbols when the address is ours) goes into the failure report.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// QEMU arguments for the diagnostic monitor at `socket` (alongside `-monitor none`).
pub fn monitor_args(socket: &Path) -> Vec<String> {
    vec![
        "-chardev".into(),
        format!(
            "socket,id=stall,path={},server=on,wait=off",
            socket.display()
        ),
        "-mon".into(),
        "chardev=stall,mode=readline".into(),
    ]
}

/// How long to collect the monitor's answer; `info registers -a` of a few vCPUs is a few
/// KiB and comes at once unless the QEMU main loop itself is stuck (then that is the news).
const ANSWER_WAIT: Duration = Duration::from_secs(3);

/// Asks the monitor at `socket` for the vCPUs' state. `None` when QEMU does not answer.
pub fn snapshot(socket: &Path) -> Option<String> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(200))).ok()?;
    s.write_all(b"info cpus\ninfo registers -a\n").ok()?;
    let (mut out, mut chunk) = (Vec::new(), [0u8; 8192]);
    let start = Instant::now();
    let mut quiet_since = Instant::now();
    while start.elapsed() < ANSWER_WAIT {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&chunk[..n]);
                quiet_since = Instant::now();
            }
            // Read timeout: the answer is complete once it has been quiet a while.
            Err(_) if !out.is_empty() && quiet_since.elapsed() > Duration::from_millis(600) => {
                break
            }
            Err(_) => {}
        }
    }
    (!out.is_empty()).then(|| String::from_utf8_lossy(&out).replace('\r', ""))
}

/// One vCPU as `info registers` shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Vcpu {
    pub index: u32,
    pub nip: u64,
    pub lr: u64,
    pub msr: Option<u64>,
    pub halted: bool,
}

/// The vCPUs in `text`, the monitor's answer. PowerPC's register dump starts each CPU with
/// `NIP <hex>   LR <hex> CTR <hex> XER <hex> CPU#<n>` and follows it with `MSR <hex> ...`;
/// `info cpus` marks a halted one `CPU #<n>: thread_id=... (halted)`.
pub fn parse(text: &str) -> Vec<Vcpu> {
    let halted: Vec<u32> = text
        .lines()
        .filter(|l| l.contains("(halted)"))
        .filter_map(|l| {
            let after = l.split("CPU #").nth(1)?;
            after.split(':').next()?.trim().parse().ok()
        })
        .collect();
    let hex = |w: Option<&str>| w.and_then(|w| u64::from_str_radix(w, 16).ok());
    let mut cpus: Vec<Vcpu> = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            Some(&"NIP") => {
                let field = |name: &str| {
                    hex(words
                        .iter()
                        .position(|w| *w == name)
                        .and_then(|i| words.get(i + 1).copied()))
                };
                let index = words
                    .iter()
                    .find_map(|w| w.strip_prefix("CPU#"))
                    .and_then(|n| n.parse().ok());
                if let (Some(nip), Some(lr), Some(index)) = (field("NIP"), field("LR"), index) {
                    cpus.push(Vcpu {
                        index,
                        nip,
                        lr,
                        msr: None,
                        halted: halted.contains(&index),
                    });
                }
            }
            Some(&"MSR") => {
                if let Some(last) = cpus.last_mut().filter(|c| c.msr.is_none()) {
                    last.msr = hex(words.get(1).copied());
                }
            }
            _ => {}
        }
    }
    cpus
}

/// Names addresses from `nm` output: the nearest symbol at or below, if the address lies
/// within `span` bytes of the firmware's symbols (anything else is the OS's).
pub struct Symbols {
    sorted: Vec<(u64, String)>,
}

impl Symbols {
    pub fn from_elf(elf: &Path) -> Option<Self> {
        let text = crate::symmap::nm_text(elf).ok()?;
        Some(Self::from_nm(&text))
    }

    pub fn from_nm(text: &str) -> Self {
        let mut sorted: Vec<(u64, String)> = crate::symmap::parse_nm(text)
            .into_iter()
            .filter(|(_, kind, _)| matches!(kind, b'T' | b't'))
            .map(|(a, _, n)| (a, n))
            .collect();
        sorted.sort_by_key(|(a, _)| *a);
        Self { sorted }
    }

    pub fn name(&self, addr: u64) -> Option<String> {
        let (first, last) = (self.sorted.first()?.0, self.sorted.last()?.0);
        // A little past the last symbol still belongs to it; far past is not ours.
        if addr < first || addr > last + 0x1_0000 {
            return None;
        }
        let i = self
            .sorted
            .partition_point(|(a, _)| *a <= addr)
            .checked_sub(1)?;
        let (start, name) = &self.sorted[i];
        Some(format!(
            "{}+{:#x}",
            crate::symmap::strip_generics(name),
            addr - start
        ))
    }
}

/// One line per vCPU: `CPU#1 NIP 0x30012345 (opal_entry+0x40) LR ... MSR ... halted`.
pub fn summary(cpus: &[Vcpu], symbols: Option<&Symbols>) -> Vec<String> {
    let named = |a: u64| match symbols.and_then(|s| s.name(a)) {
        Some(n) => format!("{a:#x} ({n})"),
        None => format!("{a:#x}"),
    };
    cpus.iter()
        .map(|c| {
            let mut line = format!("CPU#{} NIP {} LR {}", c.index, named(c.nip), named(c.lr));
            if let Some(msr) = c.msr {
                line.push_str(&format!(" MSR {msr:#x}"));
            }
            if c.halted {
                line.push_str(" halted");
            }
            line
        })
        .collect()
}

/// The firmware ELF that `image` was made from, when it is one of ours.
pub fn elf_for_image(image: &Path) -> Option<PathBuf> {
    let root = crate::util::repo_root();
    if image == root.join(crate::firmware::IMAGE) {
        Some(crate::firmware::elf_path(false))
    } else if image == root.join(crate::firmware::HMI_TEST_IMAGE) {
        Some(crate::firmware::hmi_test_elf_path())
    } else {
        None
    }
    .filter(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shaped like QEMU 10's `info cpus` and `info registers -a` for two POWER10 vCPUs.
    const ANSWER: &str = "\
QEMU 10.0.2 monitor - type 'help' for more information
(qemu) info cpus
* CPU #0: thread_id=4242
  CPU #1: thread_id=4243 (halted)
(qemu) info registers -a

CPU#0
NIP 0000000030012344   LR 0000000030010100 CTR 0000000000000000 XER 0000000000000000 CPU#0
MSR 9000000000001000 HID0 0000000000000000  HF 9000000000001000 iidx 3 didx 3
TB 00000000 00000000 DECR 0
GPR00 0000000000000000 0000000031c00000 0000000000000000 0000000000000000

CPU#1
NIP c00000000001f5e0   LR c00000000001f5b0 CTR 0000000000000000 XER 0000000000000000 CPU#1
MSR 9000000000009033 HID0 0000000000000000  HF 9000000000009033 iidx 1 didx 1
";

    #[test]
    fn parses_each_vcpu_with_its_state() {
        let cpus = parse(ANSWER);
        assert_eq!(
            cpus,
            vec![
                Vcpu {
                    index: 0,
                    nip: 0x3001_2344,
                    lr: 0x3001_0100,
                    msr: Some(0x9000_0000_0000_1000),
                    halted: false
                },
                Vcpu {
                    index: 1,
                    nip: 0xc000_0000_0001_f5e0,
                    lr: 0xc000_0000_0001_f5b0,
                    msr: Some(0x9000_0000_0000_9033),
                    halted: true
                },
            ]
        );
    }

    #[test]
    fn names_firmware_addresses_only() {
        let nm = "0000000030010000 T opal_entry\n\
                  0000000030012300 t _ZN7opalite3cpu4park17h0123456789abcdefE\n\
                  0000000030020000 D some_data\n";
        let symbols = Symbols::from_nm(nm);
        let lines = summary(&parse(ANSWER), Some(&symbols));
        assert!(lines[0].contains("NIP 0x30012344 ("), "{}", lines[0]);
        assert!(lines[0].contains("+0x44)"), "{}", lines[0]);
        assert!(
            lines[0].contains("LR 0x30010100 (opal_entry+0x100)"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines[1],
            "CPU#1 NIP 0xc00000000001f5e0 LR 0xc00000000001f5b0 MSR 0x9000000000009033 halted"
        );
    }
}
