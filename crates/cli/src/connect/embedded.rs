//! The emulator embedded in the process (`--emulator`), on a state directory that outlives
//! the command (`.aci-cmk/emulator/` by default), so that consecutive commands see the same
//! Azure.
//!
//! Its resources name the port they were created on (a vault's URL, the `vaultBaseUrl` a
//! container group is encrypted with), so the emulator listens on the same port every time:
//! the first start picks a free port and remembers it in the state directory's `port` file
//! (ADR 005). `aci-cmk emulator --state-dir` reads and writes the same file.

use crate::error::CliError;
use aci_cmk_emulator::{Emulator, EmulatorError, EmulatorOptions, RunningEmulator, TimingProfile};
use std::path::Path;

/// The file in a state directory that remembers its port.
pub const PORT_FILE: &str = "port";

/// Starts the emulator on `state_dir` (created when missing), on the port its resources were
/// created on, or on a free port that is then remembered.
pub async fn start(state_dir: &Path, timing: TimingProfile) -> Result<RunningEmulator, CliError> {
    let remembered = remembered_port(state_dir)?;
    let options = EmulatorOptions {
        port: remembered.unwrap_or(0),
        state_dir: Some(state_dir.to_owned()),
        timing,
        ..EmulatorOptions::default()
    };
    let emulator = Emulator::start(options)
        .await
        .map_err(|e| start_error(&e, state_dir, remembered))?;
    let port = port_of(&emulator.info().arm_endpoint);
    if let Some(port) = port.filter(|p| Some(*p) != remembered) {
        remember_port(state_dir, port)?;
    }
    Ok(emulator)
}

/// The port remembered in `state_dir`, if any.
pub fn remembered_port(state_dir: &Path) -> Result<Option<u16>, CliError> {
    let path = state_dir.join(PORT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| CliError::Emulator {
                state: state_dir.display().to_string(),
                message: format!(
                    "{} does not hold a port number; remove it (or the whole state directory)",
                    path.display()
                ),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CliError::Io {
            what: format!("read {}", path.display()),
            source,
        }),
    }
}

/// Remembers `port` in `state_dir`.
pub fn remember_port(state_dir: &Path, port: u16) -> Result<(), CliError> {
    let path = state_dir.join(PORT_FILE);
    std::fs::write(&path, format!("{port}\n")).map_err(|source| CliError::Io {
        what: format!("write {}", path.display()),
        source,
    })
}

/// The port of an endpoint URL `https://localhost:{port}`.
pub fn port_of(endpoint: &str) -> Option<u16> {
    endpoint
        .trim_end_matches('/')
        .rsplit(':')
        .next()?
        .parse()
        .ok()
}

/// Says why the emulator on `state_dir` did not start, and what to do.
pub fn start_error(error: &EmulatorError, state_dir: &Path, port: Option<u16>) -> CliError {
    let dir = state_dir.display();
    let hint = match (error, port) {
        (EmulatorError::Bind { .. }, Some(port)) => format!(
            "; the resources in {dir} were created on port {port} (their URLs name it), so the \
             emulator must listen there again: stop what holds the port (another aci-cmk command \
             on this state?), or use another --emulator-state"
        ),
        (EmulatorError::Store(_), _) => format!(
            "; is another aci-cmk command or `aci-cmk emulator` using {dir}? Its state opens in \
             one process at a time (use --emulator-url with a running `aci-cmk emulator`)"
        ),
        _ => String::new(),
    };
    CliError::Emulator {
        state: dir.to_string(),
        message: format!("{error}{hint}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_port_of_an_endpoint() {
        assert_eq!(super::port_of("https://localhost:8443"), Some(8443));
        assert_eq!(super::port_of("https://localhost:50123/"), Some(50123));
        assert_eq!(super::port_of("https://localhost"), None);
    }
}
