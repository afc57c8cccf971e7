//! Logs go to stderr through tracing-subscriber: warnings by default, `-v` info, `-vv` debug,
//! `-vvv` trace; `RUST_LOG`, when set, decides instead.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber for `verbose` `-v` flags.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // A second subscriber cannot be installed; the first one stays, which is fine.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .try_init();
}
