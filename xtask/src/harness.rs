//! Runs one QEMU scenario with its console on pipes: follows the expected output, types
//! input, enforces the timeout (killing QEMU) and keeps the whole log.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::scenarios::Step;
use crate::util::{self, Context, Result};

/// After a forbidden string, keep reading this long so the log shows what followed.
const GRACE_AFTER_FORBIDDEN: Duration = Duration::from_secs(2);

pub struct Outcome {
    /// None when the scenario passed.
    pub failure: Option<String>,
    pub elapsed: Duration,
    /// Each expected string and when (seconds after QEMU started) it appeared.
    pub milestones: Vec<(&'static str, f64)>,
    /// The first expected string that never appeared.
    pub missing: Option<&'static str>,
    /// On a timeout, what each vCPU was executing (`stall::parse` of the monitor's answer).
    pub stalled: Vec<crate::stall::Vcpu>,
}

enum Msg {
    Data(Vec<u8>),
    Eof,
}

/// Kills QEMU if we leave early for any reason (error, panic), so nothing is orphaned.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub fn run(
    mut cmd: Command,
    steps: &[Step],
    forbidden: &[&str],
    timeout: Duration,
    log_path: &Path,
    monitor: Option<&Path>,
) -> Result<Outcome> {
    let mut log =
        File::create(log_path).context(format!("cannot create {}", log_path.display()))?;
    writeln!(log, "# {}", util::show(&cmd))?;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = Guard(cmd.spawn().context("cannot start QEMU")?);
    let mut stdin: Option<ChildStdin> = child.0.stdin.take();

    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.0.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || pump(out, tx));
    }
    if let Some(err) = child.0.stderr.take() {
        let tx = tx.clone();
        std::thread::spawn(move || pump(err, tx));
    }
    drop(tx);

    let deadline = start + timeout;
    let longest_forbidden = forbidden.iter().map(|f| f.len()).max().unwrap_or(0);
    let mut buf: Vec<u8> = Vec::new();
    let mut forbidden_scanned = 0;
    // `Step::Forbid` patterns, each with where its scan has got to.
    let mut forbidden_later: Vec<(&str, usize)> = Vec::new();
    let (mut cursor, mut step) = (0usize, 0usize);
    let mut milestones = Vec::new();
    let mut failure: Option<String> = None;
    let mut kill_at: Option<Instant> = None;
    let mut timed_out = false;
    let mut exit: Option<(ExitStatus, Instant)> = None;
    let mut open_streams: u32 = 2;
    let mut stalled = Vec::new();

    loop {
        let mut incoming = vec![rx.recv_timeout(Duration::from_millis(100))];
        incoming.extend(rx.try_iter().map(Ok));
        for msg in incoming {
            match msg {
                Ok(Msg::Data(d)) => {
                    log.write_all(&d)?;
                    buf.extend_from_slice(&d);
                }
                Ok(Msg::Eof) => open_streams = open_streams.saturating_sub(1),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Both pipes closed: nothing to wait on but QEMU's exit.
                    open_streams = 0;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        let now = Instant::now();

        if failure.is_none() {
            if let Some(f) = find_any(&buf, forbidden_scanned, forbidden) {
                failure = Some(format!("forbidden `{f}` in the console output"));
                kill_at = Some(now + GRACE_AFTER_FORBIDDEN);
            }
            forbidden_scanned = buf.len().saturating_sub(longest_forbidden);
            for (f, from) in forbidden_later.iter_mut() {
                if failure.is_none() && find(&buf[*from..], f.as_bytes()).is_some() {
                    failure = Some(format!(
                        "forbidden `{f}` in the console output (after it was forbidden)"
                    ));
                    kill_at = Some(now + GRACE_AFTER_FORBIDDEN);
                }
                *from = (*from).max(buf.len().saturating_sub(f.len()));
            }
        }

        // Matching goes on after a forbidden string, so the report shows how far it got.
        while step < steps.len() {
            match steps[step] {
                Step::Expect(_, pattern) => match find_pattern(&buf, cursor, pattern) {
                    Some(end) => {
                        cursor = end;
                        milestones.push((pattern, start.elapsed().as_secs_f64()));
                    }
                    None => break,
                },
                Step::ExpectAll(_, patterns) => {
                    let ends: Option<Vec<usize>> = patterns
                        .iter()
                        .map(|p| find_pattern(&buf, cursor, p))
                        .collect();
                    let Some(ends) = ends else { break };
                    cursor = ends.into_iter().max().unwrap_or(cursor);
                    let t = start.elapsed().as_secs_f64();
                    milestones.extend(patterns.iter().map(|p| (*p, t)));
                }
                Step::Forbid(_, pattern) => forbidden_later.push((pattern, cursor)),
                Step::Send(text) => {
                    // If QEMU is gone the write fails; the missing output reports that.
                    if let Some(input) = stdin.as_mut() {
                        let _ = input
                            .write_all(text.as_bytes())
                            .and_then(|()| input.flush());
                    }
                }
            }
            step += 1;
        }

        if exit.is_none() {
            if let Some(status) = child.0.try_wait()? {
                exit = Some((status, now));
            }
        }
        if exit.is_none() && (now >= deadline || kill_at.is_some_and(|t| now >= t)) {
            timed_out = now >= deadline;
            if timed_out {
                if let Some(answer) = monitor.and_then(crate::stall::snapshot) {
                    writeln!(log, "\n---- vCPU state at the timeout (QEMU monitor) ----")?;
                    log.write_all(answer.as_bytes())?;
                    writeln!(log, "\n---- end of vCPU state ----")?;
                    stalled = crate::stall::parse(&answer);
                }
            }
            let _ = child.0.kill();
            exit = Some((child.0.wait()?, now));
        }
        // Done once QEMU is gone and its output drained (or the pipes linger oddly).
        if let Some((_, when)) = exit {
            if open_streams == 0 || now.duration_since(when) > Duration::from_secs(2) {
                break;
            }
        }
    }
    drop(stdin);
    log.flush()?;

    let (status, _) = exit.expect("loop ends only after exit");
    let secs = timeout.as_secs();
    let pending = steps[step.min(steps.len())..].iter().find_map(|s| match s {
        Step::Expect(_, p) => Some(*p),
        // The first of the group that did not appear.
        Step::ExpectAll(_, ps) => ps
            .iter()
            .copied()
            .find(|p| find_pattern(&buf, cursor, p).is_none())
            .or(ps.first().copied()),
        Step::Forbid(..) | Step::Send(_) => None,
    });
    // QEMU exits with status 0 on SIGTERM too; say so rather than look like a guest exit.
    let killed = find(&buf, b": terminating on signal").is_some();
    let failure = failure.or_else(|| match (pending, timed_out) {
        (Some(p), true) => Some(format!("timeout after {secs} s waiting for `{p}`")),
        (Some(p), false) if killed => Some(format!("QEMU killed by a signal before `{p}`")),
        (Some(p), false) => Some(format!("QEMU exited ({status}) before `{p}`")),
        (None, true) => Some(format!(
            "timeout after {secs} s: QEMU did not exit after the last step"
        )),
        (None, false) if !status.success() => Some(format!("QEMU exited with {status}")),
        (None, false) => None,
    });
    Ok(Outcome {
        failure,
        elapsed: start.elapsed(),
        milestones,
        missing: pending,
        stalled,
    })
}

/// Forwards one of QEMU's output pipes to the main loop, chunk by chunk.
fn pump(mut stream: impl Read, tx: mpsc::Sender<Msg>) {
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send(Msg::Data(chunk[..n].to_vec())).is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Msg::Eof);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The first of `needles` occurring in `buf[from..]`.
fn find_any<'a>(buf: &[u8], from: usize, needles: &[&'a str]) -> Option<&'a str> {
    let hay = &buf[from.min(buf.len())..];
    needles
        .iter()
        .copied()
        .find(|n| find(hay, n.as_bytes()).is_some())
}

/// Finds `pattern` in `buf[from..]`, where `*` matches any text within one line.
/// Returns the offset just past the match.
pub fn find_pattern(buf: &[u8], from: usize, pattern: &str) -> Option<usize> {
    let mut pieces = pattern.split('*').filter(|p| !p.is_empty());
    let Some(first) = pieces.next() else {
        return Some(from);
    };
    let rest: Vec<&str> = pieces.collect();
    let mut start = from;
    while let Some(at) = find(&buf[start.min(buf.len())..], first.as_bytes()) {
        let first_at = start + at;
        let line_end = buf[first_at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |n| first_at + n);
        let mut pos = first_at + first.len();
        let whole = rest.iter().all(|piece| {
            match find(&buf[pos.min(line_end)..line_end], piece.as_bytes()) {
                Some(n) => {
                    pos += n + piece.len();
                    true
                }
                None => false,
            }
        });
        if whole {
            return Some(pos);
        }
        start = first_at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_substrings_in_order() {
        let buf = b"aaa INIT: Starting kernel\nfoo\nbar OPALITE-USERSPACE-OK\n";
        let end = find_pattern(buf, 0, "INIT: Starting kernel").unwrap();
        assert_eq!(&buf[end..end + 1], b"\n");
        assert!(find_pattern(buf, end, "OPALITE-USERSPACE-OK").is_some());
        // Something before the cursor no longer counts.
        assert!(find_pattern(buf, end, "INIT").is_none());
    }

    #[test]
    fn wildcard_stays_within_a_line() {
        let buf = b"Hardware name: IBM PowerNV opal:v7.1-106 PowerNV\nx opal:opalite-1\n";
        assert!(find_pattern(buf, 0, "Hardware name:*opal:v7").is_some());
        assert!(find_pattern(buf, 0, "Hardware name:*opal:opalite-").is_none());
        let end = find_pattern(buf, 0, "Hardware name:*opal:").unwrap();
        assert_eq!(&buf[end..end + 2], b"v7");
    }

    #[test]
    fn wildcard_tries_later_lines() {
        let buf = b"Hardware name: a\nHardware name: b opal:opalite-x\n";
        assert!(find_pattern(buf, 0, "Hardware name:*opal:opalite-").is_some());
    }

    #[test]
    fn incomplete_line_can_match_later() {
        let mut buf = b"Hardware name: IBM PowerNV".to_vec();
        assert!(find_pattern(&buf, 0, "Hardware name:*opal:").is_none());
        buf.extend_from_slice(b" opal:opalite-v0.1.0\n");
        assert!(find_pattern(&buf, 0, "Hardware name:*opal:opalite-").is_some());
    }

    /// Runs `sh -c script` through the harness, standing in for QEMU.
    fn run_sh(script: &str, steps: &[Step], timeout_ms: u64) -> Outcome {
        let log = std::env::temp_dir().join(format!("xtask-harness-{}.log", std::process::id()));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        let out = run(
            cmd,
            steps,
            &["Kernel panic"],
            Duration::from_millis(timeout_ms),
            &log,
            None,
        );
        let _ = std::fs::remove_file(&log);
        out.unwrap()
    }

    #[test]
    fn passes_types_and_sees_the_exit() {
        use crate::scenarios::Only::Any;
        let steps = [
            Step::Expect(Any, "ready"),
            Step::Send("42\n"),
            Step::Expect(Any, "got-42"),
        ];
        let o = run_sh("echo ready; read x; echo got-$x", &steps, 10_000);
        assert_eq!(o.failure, None);
        assert_eq!(o.missing, None);
        assert_eq!(o.milestones.len(), 2);
    }

    #[test]
    fn timeout_kills_the_process() {
        use crate::scenarios::Only::Any;
        let steps = [Step::Expect(Any, "never")];
        let t = Instant::now();
        let o = run_sh("echo hello; exec sleep 30", &steps, 500);
        assert!(t.elapsed() < Duration::from_secs(5), "killed promptly");
        assert_eq!(
            o.failure.as_deref(),
            Some("timeout after 0 s waiting for `never`")
        );
        assert_eq!(o.missing, Some("never"));
    }

    #[test]
    fn failures_are_reported() {
        use crate::scenarios::Only::Any;
        let steps = [Step::Expect(Any, "a")];
        let o = run_sh("echo a; exit 3", &steps, 10_000);
        assert_eq!(
            o.failure.as_deref(),
            Some("QEMU exited with exit status: 3")
        );
        let o = run_sh("echo Kernel panic; exec sleep 30", &steps, 10_000);
        assert_eq!(
            o.failure.as_deref(),
            Some("forbidden `Kernel panic` in the console output")
        );
        let o = run_sh("echo b", &steps, 10_000);
        assert_eq!(
            o.failure.as_deref(),
            Some("QEMU exited (exit status: 0) before `a`")
        );
    }

    #[test]
    fn groups_match_in_any_order_and_forbids_start_where_they_stand() {
        use crate::scenarios::Only::Any;
        let steps = [
            Step::Expect(Any, "start"),
            Step::ExpectAll(Any, &["PIR 5", "PIR 1"]),
            Step::Forbid(crate::scenarios::Only::Any, "Kernel panic"),
            Step::Expect(Any, "end"),
        ];
        let script = "echo start; echo PIR 1; echo PIR 5; echo end";
        let o = run_sh(script, &steps, 10_000);
        assert_eq!(o.failure, None);
        assert_eq!(o.milestones.len(), 4);
        // A panic before the Forbid step is allowed by it (the default list still applies
        // in run_sh, so use another word), one after it is not.
        let steps = [
            Step::Expect(Any, "start"),
            Step::Forbid(crate::scenarios::Only::Any, "boom"),
            Step::Expect(Any, "end"),
        ];
        let o = run_sh("echo boom; echo start; echo end", &steps, 10_000);
        assert_eq!(o.failure, None);
        let o = run_sh(
            "echo start; echo boom; echo end; exec sleep 30",
            &steps,
            10_000,
        );
        assert_eq!(
            o.failure.as_deref(),
            Some("forbidden `boom` in the console output (after it was forbidden)")
        );
        let steps = [Step::ExpectAll(Any, &["a", "b", "c"])];
        let o = run_sh("echo c; echo a", &steps, 10_000);
        assert_eq!(o.missing, Some("b"));
    }

    #[test]
    fn forbidden_scan() {
        let buf = b"ok\nKernel panic - not syncing\n";
        assert_eq!(
            find_any(buf, 0, &["Oops", "Kernel panic"]),
            Some("Kernel panic")
        );
        assert_eq!(find_any(buf, 20, &["Kernel panic"]), None);
        assert_eq!(find_any(buf, 99, &["x"]), None);
    }
}
