//! `cargo xtask conformance`: boots the OPAL conformance payload (tests/conformance) on
//! QEMU with Opalite or another firmware, streams the console to the terminal (and to
//! target/test-logs/conformance-<machine>.log) and judges the payload's summary line.

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::args::ConformanceOpts;
use crate::firmware;
use crate::qemu::{Console, QemuConfig};
use crate::toolchain;
use crate::util::{self, Context, Result};

/// Returns whether the payload reported no failure and QEMU exited by itself.
pub fn run(opts: &ConformanceOpts) -> Result<bool> {
    let root = util::repo_root();
    let qemu = toolchain::ensure_qemu()?;
    let (firmware, payload) = firmware::image_and_payload(&opts.firmware, opts.debug)?;
    let config = QemuConfig {
        machine: opts.machine,
        smp: opts.smp.clone(),
        memory: "2G".to_string(),
        firmware,
        kernel: Some(payload),
        initrd: None,
        append: opts.bootargs(),
        flash: None,
        devices: Vec::new(),
        gdb: false,
        guest_may_reboot: false,
    };
    let logs = root.join("target/test-logs");
    std::fs::create_dir_all(&logs)?;
    let log_path = logs.join(format!("conformance-{}.log", opts.machine.name()));
    let mut log =
        File::create(&log_path).context(format!("cannot create {}", log_path.display()))?;

    let mut cmd = Command::new(qemu);
    cmd.args(config.args(Console::Captured))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    eprintln!("+ {}", util::show(&cmd));
    writeln!(log, "# {}", util::show(&cmd))?;
    let mut child = cmd.spawn().context("cannot start QEMU")?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    if let Some(mut out) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = out.read(&mut chunk) {
                if n == 0 || tx.send(chunk[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
    }

    let deadline = Instant::now() + Duration::from_secs(opts.timeout);
    let mut text: Vec<u8> = Vec::new();
    let mut timed_out = false;
    let stdout = std::io::stdout();
    let status = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(data) => {
                log.write_all(&data)?;
                let mut term = stdout.lock();
                term.write_all(&data)?;
                term.flush()?;
                text.extend_from_slice(&data);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Output closed: QEMU is exiting.
                break child.wait()?;
            }
        }
        if let Some(status) = child.try_wait()? {
            // Drain what is still in the pipe.
            for data in rx.try_iter() {
                log.write_all(&data)?;
                std::io::stdout().write_all(&data)?;
                text.extend_from_slice(&data);
            }
            break status;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
    };
    log.flush()?;

    let text = String::from_utf8_lossy(&text).replace('\r', "");
    let summary = summary_line(&text);
    eprintln!(
        "xtask: log {}",
        log_path.strip_prefix(&root).unwrap_or(&log_path).display()
    );
    let verdict = judge(summary, timed_out, status.success(), opts.timeout);
    match &verdict {
        Ok(line) => eprintln!("xtask: conformance on {}: {line}", opts.machine.name()),
        Err(why) => eprintln!(
            "xtask: conformance on {} FAILED: {why}",
            opts.machine.name()
        ),
    }
    Ok(verdict.is_ok())
}

/// The payload's last `conformance: N passed, ...` line.
fn summary_line(text: &str) -> Option<&str> {
    text.lines()
        .rev()
        .find(|l| l.starts_with("conformance: ") && l.contains(" passed, "))
}

fn judge(
    summary: Option<&str>,
    timed_out: bool,
    exited_ok: bool,
    timeout: u64,
) -> std::result::Result<String, String> {
    if timed_out {
        return Err(format!("QEMU killed after {timeout} s"));
    }
    let Some(line) = summary else {
        return Err("the payload printed no summary".to_string());
    };
    if !line.contains(" 0 failed,") {
        return Err(line.to_string());
    }
    if !exited_ok {
        return Err(format!("{line}; but QEMU did not exit cleanly"));
    }
    Ok(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_judges_the_summary() {
        let text = "INIT: Starting kernel\nPASS xive.tokens\nconformance: 3 passed, 0 failed, 1 deviations, 0 skipped\n";
        let s = summary_line(text);
        assert_eq!(
            s,
            Some("conformance: 3 passed, 0 failed, 1 deviations, 0 skipped")
        );
        assert!(judge(s, false, true, 60).is_ok());
        assert!(judge(s, false, false, 60).is_err());
        assert!(judge(s, true, true, 60).is_err());
        assert!(judge(None, false, true, 60).is_err());
        let bad = summary_line("conformance: 2 passed, 10 failed, 0 deviations, 0 skipped\n");
        assert!(judge(bad, false, true, 60).is_err());
    }
}
