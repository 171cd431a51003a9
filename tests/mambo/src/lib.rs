// SPDX-License-Identifier: Apache-2.0
//! Opalite's boot tests under Mambo (IBM's POWER Functional Simulator, systemsim); run
//! by `cargo xtask test` as the `mambo-*` steps. See `tests/mambo/README.md`.
//!
//! - [`cases`] reads the matrix in `tests/mambo/cases/*.env`;
//! - [`locate`] finds the simulator for a case's model (`MAMBO_PATH`, `P9MAMBO_PATH`,
//!   `P10MAMBO_PATH`, then IBM's default install roots). When it is absent the case is
//!   **skipped**, and says so: it never counts as passed;
//! - [`run_case`] starts `boot.tcl` in batch mode and waits, with a timeout, for the
//!   case's expected lines in order ([`watch`]), failing at once on a forbidden line.
//!   The transcript is kept whatever the outcome.
//!
//! The run path has never met a real simulator (none is installed where this was
//! written); [`watch`] and the process handling are tested against `sh`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The directory holding `boot.tcl`, `cases/` and `expected/`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    P9,
    P10,
}

impl Model {
    fn parse(s: &str) -> Option<Model> {
        match s {
            "p9" => Some(Model::P9),
            "p10" => Some(Model::P10),
            _ => None,
        }
    }

    /// The simulator's start script, relative to its install root.
    fn default_binary(self) -> &'static str {
        match self {
            Model::P9 => "run/p9/power9",
            Model::P10 => "run/p10/power10",
        }
    }

    /// The per-model variables (`P9MAMBO_PATH`, `P9MAMBO_BINARY`) and install roots.
    fn variables(self) -> (&'static str, &'static str, &'static [&'static str]) {
        match self {
            Model::P9 => ("P9MAMBO_PATH", "P9MAMBO_BINARY", &["/opt/ibm/systemsim-p9"]),
            Model::P10 => (
                "P10MAMBO_PATH",
                "P10MAMBO_BINARY",
                &["/opt/ibm/systemsim-p10-1.2-1", "/opt/ibm/systemsim-p10"],
            ),
        }
    }
}

/// One `cases/NAME.env`: the model, how long to wait, which expected lines, and the
/// variables handed to `boot.tcl` (everything else in the file: `CPUS`, `THREADS`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub model: Model,
    pub timeout: Duration,
    /// Stem of the `expected/*.txt` file.
    pub expected: String,
    pub sim_env: BTreeMap<String, String>,
}

/// Keys the runner consumes; the rest of a case file is the simulator's environment.
const RUNNER_KEYS: [&str; 3] = ["MODEL", "TIMEOUT", "EXPECTED"];

impl Case {
    pub fn parse(name: &str, text: &str) -> Result<Case, String> {
        let mut vars = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!("{name}.env:{}: not KEY=VALUE: `{line}`", n + 1));
            };
            vars.insert(key.trim().to_string(), value.trim().to_string());
        }
        let take = |vars: &mut BTreeMap<String, String>, key: &str| {
            vars.remove(key)
                .ok_or_else(|| format!("{name}.env: no {key}"))
        };
        let model = take(&mut vars, "MODEL")?;
        let model = Model::parse(&model)
            .ok_or_else(|| format!("{name}.env: MODEL `{model}` is not p9 or p10"))?;
        let timeout = take(&mut vars, "TIMEOUT")?;
        let timeout = timeout
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| format!("{name}.env: TIMEOUT `{timeout}` is not seconds"))?;
        let expected = take(&mut vars, "EXPECTED")?;
        debug_assert!(RUNNER_KEYS.iter().all(|k| !vars.contains_key(*k)));
        Ok(Case {
            name: name.to_string(),
            model,
            timeout,
            expected,
            sim_env: vars,
        })
    }
}

/// Every case in `dir/cases`, by name.
pub fn cases(dir: &Path) -> Result<Vec<Case>, String> {
    let cases_dir = dir.join("cases");
    let entries =
        std::fs::read_dir(&cases_dir).map_err(|e| format!("{}: {e}", cases_dir.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "env") {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.push(Case::parse(&name, &text)?);
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// One line per entry of `dir/expected/<stem>.txt`, `#` comments and blank lines left out.
/// Lines are substrings to look for, taken as written (no trimming).
pub fn markers(dir: &Path, stem: &str) -> Result<Vec<String>, String> {
    let path = dir.join("expected").join(format!("{stem}.txt"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect())
}

/// Where the simulator for `model` should be, in the order they are tried, and the first
/// that is there. `var` reads the environment; `exists` says whether a file is there.
pub fn locate(
    model: Model,
    var: impl Fn(&str) -> Option<String>,
    exists: impl Fn(&Path) -> bool,
) -> (Option<PathBuf>, Vec<PathBuf>) {
    let (path_var, binary_var, roots) = model.variables();
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    let mut candidates = Vec::new();
    if let Some(root) = set(path_var) {
        let binary = set(binary_var).unwrap_or_else(|| model.default_binary().to_string());
        candidates.push(Path::new(&root).join(binary));
    }
    if let Some(root) = set("MAMBO_PATH") {
        let binary = set("MAMBO_BINARY").unwrap_or_else(|| model.default_binary().to_string());
        candidates.push(Path::new(&root).join(binary));
    }
    for root in roots {
        candidates.push(Path::new(root).join(model.default_binary()));
    }
    let found = candidates.iter().find(|p| exists(p)).cloned();
    (found, candidates)
}

/// [`locate`] with the real environment and file system.
pub fn locate_here(model: Model) -> (Option<PathBuf>, Vec<PathBuf>) {
    locate(model, |v| std::env::var(v).ok(), |p| p.is_file())
}

/// What one watched run came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every marker was seen, in order.
    Passed,
    Forbidden(String),
    /// The output ended (the simulator exited) before this marker.
    EndedBefore(String),
    TimedOut(String),
}

/// Reads `lines` until every marker has been seen in order, a forbidden line comes, the
/// lines end or `timeout` passes. One line may satisfy several consecutive markers.
/// Every line read is also written to `transcript`.
pub fn watch(
    lines: &Receiver<String>,
    markers: &[String],
    forbidden: &[String],
    timeout: Duration,
    transcript: &mut impl Write,
) -> Verdict {
    let deadline = Instant::now() + timeout;
    let mut next = 0;
    loop {
        if next == markers.len() {
            return Verdict::Passed;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match lines.recv_timeout(left) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => return Verdict::TimedOut(markers[next].clone()),
            Err(RecvTimeoutError::Disconnected) => {
                return Verdict::EndedBefore(markers[next].clone())
            }
        };
        let _ = writeln!(transcript, "{line}");
        if let Some(bad) = forbidden.iter().find(|f| line.contains(f.as_str())) {
            return Verdict::Forbidden(bad.clone());
        }
        while next < markers.len() && line.contains(markers[next].as_str()) {
            next += 1;
        }
    }
}

/// Sends every line `from` produces to `to`, lossily decoded (a simulator console can
/// print anything).
fn forward_lines(from: impl Read + Send + 'static, to: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut buf = Vec::new();
        while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&buf);
            if to
                .send(line.trim_end_matches(['\n', '\r']).to_string())
                .is_err()
            {
                break;
            }
            buf.clear();
        }
    });
}

/// Runs `command` (stdout and stderr both watched), waits as [`watch`] does, then stops
/// it: it is killed unless it exits by itself within a few seconds of the last marker.
/// The transcript goes to `log`.
pub fn run_watched(
    mut command: Command,
    markers: &[String],
    forbidden: &[String],
    timeout: Duration,
    log: &Path,
) -> Result<Verdict, String> {
    let mut transcript =
        std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let _ = writeln!(transcript, "+ {command:?}");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let (send, lines) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        forward_lines(out, send.clone());
    }
    if let Some(err) = child.stderr.take() {
        forward_lines(err, send);
    }
    let verdict = watch(&lines, markers, forbidden, timeout, &mut transcript);
    // A passed run ends with the simulator stopping; give it a moment to leave.
    let grace = Instant::now() + Duration::from_secs(5);
    while verdict == Verdict::Passed && Instant::now() < grace {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !matches!(child.try_wait(), Ok(Some(_))) {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    // What was still in the pipes, for the transcript.
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        let _ = writeln!(transcript, "{line}");
    }
    let _ = writeln!(transcript, "# {verdict:?}, simulator {status}");
    Ok(verdict)
}

/// What a case needs besides itself.
pub struct Inputs<'a> {
    pub systemsim: &'a Path,
    pub firmware: &'a Path,
    pub payload: &'a Path,
    pub log: &'a Path,
}

/// Boots one case: `<systemsim> -n -f boot.tcl` from the simulator's directory, with the
/// case's variables and the images, then [`run_watched`].
pub fn run_case(case: &Case, inputs: &Inputs) -> Result<(), String> {
    let dir = dir();
    let expected = markers(&dir, &case.expected)?;
    let forbidden = markers(&dir, "forbidden")?;
    let mut command = Command::new(inputs.systemsim);
    command
        .arg("-n")
        .arg("-f")
        .arg(dir.join("boot.tcl"))
        .envs(&case.sim_env)
        .env("OPALITE_FW", inputs.firmware)
        .env("OPALITE_PAYLOAD", inputs.payload)
        .env("OPALITE_AUTORUN", "1");
    // The simulator's start scripts find their own files relative to where they run.
    if let Some(run_dir) = inputs.systemsim.parent() {
        command.current_dir(run_dir);
    }
    match run_watched(command, &expected, &forbidden, case.timeout, inputs.log)? {
        Verdict::Passed => Ok(()),
        Verdict::Forbidden(line) => Err(format!("forbidden `{line}` appeared")),
        Verdict::EndedBefore(m) => Err(format!("the simulator stopped before `{m}`")),
        Verdict::TimedOut(m) => Err(format!("no `{m}` within {} s", case.timeout.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn feed(lines: &[&str]) -> Receiver<String> {
        let (send, recv) = mpsc::channel();
        for l in lines {
            send.send(l.to_string()).unwrap();
        }
        recv
    }

    #[test]
    fn shipped_cases_parse_and_name_existing_expectations() {
        let dir = dir();
        let all = cases(&dir).unwrap();
        let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["p10-smt1", "p10-smt2", "p9-smt1", "p9-smt2"]);
        for case in &all {
            assert!(
                !markers(&dir, &case.expected).unwrap().is_empty(),
                "{}",
                case.name
            );
            assert!(case.sim_env.contains_key("THREADS"), "{}", case.name);
        }
        assert!(!markers(&dir, "forbidden").unwrap().is_empty());
        assert!(dir.join("boot.tcl").is_file());
    }

    #[test]
    fn case_keys_split_between_runner_and_simulator() {
        let case = Case::parse(
            "x",
            "# c\nMODEL=p10\nTHREADS = 2\nTIMEOUT=60\nEXPECTED=boot\n",
        )
        .unwrap();
        assert_eq!(case.model, Model::P10);
        assert_eq!(case.timeout, Duration::from_secs(60));
        assert_eq!(case.expected, "boot");
        assert_eq!(
            case.sim_env.into_iter().collect::<Vec<_>>(),
            [("THREADS".into(), "2".into())]
        );
        assert!(Case::parse("x", "MODEL=p8\nTIMEOUT=1\nEXPECTED=a").is_err());
        assert!(Case::parse("x", "MODEL=p9\nEXPECTED=a").is_err());
        assert!(Case::parse("x", "MODEL=p9\nTIMEOUT=soon\nEXPECTED=a").is_err());
        assert!(Case::parse("x", "MODEL p9").is_err());
    }

    #[test]
    fn the_model_variable_comes_first_then_mambo_path_then_opt_ibm() {
        let env = |v: &str| match v {
            "P9MAMBO_PATH" => Some("/sim/p9".to_string()),
            "MAMBO_PATH" => Some("/sim/any".to_string()),
            "MAMBO_BINARY" => Some("bin/power9".to_string()),
            _ => None,
        };
        let (found, tried) = locate(Model::P9, env, |_| false);
        assert_eq!(found, None);
        assert_eq!(
            tried,
            [
                PathBuf::from("/sim/p9/run/p9/power9"),
                PathBuf::from("/sim/any/bin/power9"),
                PathBuf::from("/opt/ibm/systemsim-p9/run/p9/power9"),
            ]
        );
        let (found, _) = locate(Model::P9, env, |p| p.starts_with("/sim/any"));
        assert_eq!(found, Some(PathBuf::from("/sim/any/bin/power9")));
    }

    #[test]
    fn p10_defaults_and_empty_variables() {
        let env = |v: &str| (v == "P10MAMBO_PATH").then(String::new);
        let (found, tried) = locate(Model::P10, env, |p| p.to_string_lossy().contains("p10"));
        assert_eq!(
            found,
            Some(PathBuf::from(
                "/opt/ibm/systemsim-p10-1.2-1/run/p10/power10"
            ))
        );
        assert_eq!(tried.len(), 2, "an empty P10MAMBO_PATH is not a candidate");
    }

    #[test]
    fn markers_in_order_pass() {
        let lines = feed(&[
            "noise",
            "Opalite starting on Mambo",
            "conformance: 5 passed, 0 failed, 0 deviations",
            "bye",
        ]);
        let markers = strings(&["starting on Mambo", "conformance:", "passed, 0 failed,"]);
        let mut out = Vec::new();
        let verdict = watch(&lines, &markers, &[], Duration::from_secs(5), &mut out);
        assert_eq!(verdict, Verdict::Passed);
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("starting on Mambo"));
    }

    #[test]
    fn markers_out_of_order_do_not_pass() {
        let lines = feed(&["b", "a"]);
        let verdict = watch(
            &lines,
            &strings(&["a", "b"]),
            &[],
            Duration::from_secs(5),
            &mut Vec::new(),
        );
        assert_eq!(verdict, Verdict::EndedBefore("b".into()));
    }

    #[test]
    fn a_forbidden_line_fails_at_once() {
        let lines = feed(&["a", "Machine Check Stop", "b"]);
        let verdict = watch(
            &lines,
            &strings(&["a", "b"]),
            &strings(&["Machine Check Stop"]),
            Duration::from_secs(5),
            &mut Vec::new(),
        );
        assert_eq!(verdict, Verdict::Forbidden("Machine Check Stop".into()));
    }

    #[test]
    fn silence_times_out() {
        let (_keep_open, lines) = mpsc::channel::<String>();
        let verdict = watch(
            &lines,
            &strings(&["x"]),
            &[],
            Duration::from_millis(100),
            &mut Vec::new(),
        );
        assert_eq!(verdict, Verdict::TimedOut("x".into()));
    }

    fn log_path(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("mambo-boot-{tag}-{}.log", std::process::id()))
    }

    #[test]
    fn a_process_is_watched_on_both_outputs_and_logged() {
        let mut sh = Command::new("sh");
        sh.args([
            "-c",
            "echo one; echo two >&2; echo Execution stopped: Sim Support exit requested stop",
        ]);
        let log = log_path("ok");
        // Markers from stdout only: stderr is another pipe, its order against stdout's
        // is not kept.
        let markers = strings(&["one", "exit requested stop"]);
        let verdict = run_watched(sh, &markers, &[], Duration::from_secs(20), &log).unwrap();
        assert_eq!(verdict, Verdict::Passed);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("two"), "stderr is in the transcript: {text}");
        assert!(text.contains("exit requested stop"));
        let _ = std::fs::remove_file(&log);
    }

    #[test]
    fn a_hung_process_is_killed_at_the_timeout() {
        let mut sh = Command::new("sh");
        sh.args(["-c", "echo started; exec sleep 60"]);
        let log = log_path("hang");
        let start = Instant::now();
        let verdict = run_watched(
            sh,
            &strings(&["started", "never"]),
            &[],
            Duration::from_millis(500),
            &log,
        )
        .unwrap();
        assert_eq!(verdict, Verdict::TimedOut("never".into()));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the child was not left running"
        );
        let _ = std::fs::remove_file(&log);
    }
}
