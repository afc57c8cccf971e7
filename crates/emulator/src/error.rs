//! [`EmulatorError`]: why the emulator could not start or keep its state.

/// Errors starting the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A file or directory could not be read or written.
    #[error("i/o error: {0}")]
    Io(String),
    /// Certificate or key generation/loading failed.
    #[error("tls setup failed: {0}")]
    Tls(String),
    /// The state store could not be opened or written.
    #[error("state store error: {0}")]
    Store(String),
    /// The listening socket could not be bound.
    #[error("could not listen on {addr}: {message}")]
    Bind {
        /// Address that was tried.
        addr: String,
        /// The OS error.
        message: String,
    },
    /// An option is out of its range.
    #[error("invalid option {option}: {message}")]
    InvalidOption {
        /// The option at fault.
        option: &'static str,
        /// What it must be.
        message: String,
    },
}
