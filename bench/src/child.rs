//! The emulator binary as a child process, so that the bench process's memory and CPU are the
//! client's alone.

use crate::Result;
use aci_cmk_core::{
    cloud::EmulatorProfile,
    transport::{HttpTransport, TransportOptions},
};
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Stdio},
    time::{Duration, Instant},
};

/// A running emulator binary.
pub struct ChildEmulator {
    child: Child,
    // Kept open: the emulator's stdout stays a live pipe while it runs.
    _stdout: BufReader<ChildStdout>,
    /// Its ready line, parsed.
    pub profile: EmulatorProfile,
    /// From spawn to the ready line.
    pub startup: Duration,
    /// An HTTP client trusting its CA (and resolving `*.localhost` to loopback).
    pub http: reqwest::Client,
}

impl ChildEmulator {
    /// Spawns `bin --port 0 --timing instant [--state-dir dir]` and waits for its ready line.
    /// The `instant` timing profile: the benchmarks measure the client's own gaps against the
    /// injected latency, not the intermediate states a timing profile makes a client wait
    /// through (under `fast` a vault create alone adds a poll). Its request logging (stderr,
    /// `RUST_LOG`) is turned down to warnings and discarded: the benchmarks measure the
    /// server, not its log formatting.
    pub async fn spawn(bin: &Path, state_dir: Option<&Path>) -> Result<Self> {
        let bin = bin.to_path_buf();
        let state_dir: Option<PathBuf> = state_dir.map(Path::to_path_buf);
        let (child, stdout, line, startup) = tokio::task::spawn_blocking(move || {
            let mut command = Command::new(&bin);
            command
                .args(["--port", "0", "--timing", "instant"])
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            if let Some(dir) = &state_dir {
                command.arg("--state-dir").arg(dir);
            }
            let started = Instant::now();
            let mut child = command
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
            let stdout = child.stdout.take().ok_or("the child has no stdout")?;
            let mut stdout = BufReader::new(stdout);
            let mut line = String::new();
            stdout
                .read_line(&mut line)
                .map_err(|e| format!("reading the ready line: {e}"))?;
            let startup = started.elapsed();
            if line.trim().is_empty() {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} exited without a ready line", bin.display()));
            }
            Ok::<_, String>((child, stdout, line, startup))
        })
        .await??;
        let profile = EmulatorProfile::from_ready_line(line.trim())?;
        let http = HttpTransport::new(
            TransportOptions::default().with_extra_root_ca_pem(profile.ca_cert_pem()?),
        )?
        .reqwest_client()
        .clone();
        Ok(Self {
            child,
            _stdout: stdout,
            profile,
            startup,
            http,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Replaces its fault configuration through the admin API.
    pub async fn set_faults(&self, config: &serde_json::Value) -> Result<()> {
        let response = self
            .http
            .put(format!("{}/faults", self.profile.admin_endpoint))
            .json(config)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("PUT faults: {}", response.status()).into());
        }
        Ok(())
    }

    /// Clears its request log through the admin API.
    pub async fn clear_requests(&self) -> Result<()> {
        self.http
            .delete(format!("{}/requests", self.profile.admin_endpoint))
            .send()
            .await?;
        Ok(())
    }

    /// Its request log through the admin API.
    pub async fn requests(&self, service: &str) -> Result<Vec<serde_json::Value>> {
        let response = self
            .http
            .get(format!(
                "{}/requests?service={service}",
                self.profile.admin_endpoint
            ))
            .send()
            .await?;
        let value: serde_json::Value = response.json().await?;
        let entries = match value {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Object(mut o) => match o.remove("value") {
                Some(serde_json::Value::Array(a)) => a,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Ok(entries)
    }

    /// Its whole request log through the admin API, as the emulator's own entries.
    pub async fn log(&self) -> Result<Vec<aci_cmk_emulator::LogEntry>> {
        let value: serde_json::Value = self
            .http
            .get(format!("{}/requests", self.profile.admin_endpoint))
            .send()
            .await?
            .json()
            .await?;
        let entries = match value {
            serde_json::Value::Object(mut o) => o.remove("value").unwrap_or_default(),
            other => other,
        };
        Ok(serde_json::from_value(entries)?)
    }

    /// Stops it: SIGTERM by its pid (a graceful shutdown that removes its temporary CA), then
    /// SIGKILL if it has not exited within two seconds.
    pub async fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildEmulator {
    fn drop(&mut self) {
        // Only if `stop` was not called (an error path): never leave the child running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Resets this process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0); whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A field of `/proc/{pid}/status` in kB (`VmRSS`, `VmHWM`).
pub fn proc_status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(&format!("{field}:")))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU seconds (user + system, all threads) a process has used, from `/proc/{pid}/stat`
/// (clock ticks of 1/100 s, Linux's USER_HZ).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields count from after its closing parenthesis.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Busy and total CPU seconds of the whole machine so far, from the first line of `/proc/stat`
/// (busy: user, nice, system, irq, softirq, steal; total adds idle and iowait).
pub fn machine_cpu_seconds() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    if v.len() < 8 {
        return None;
    }
    let busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    let total = busy + v[3] + v[4];
    Some((busy / 100.0, total / 100.0))
}
