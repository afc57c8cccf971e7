//! Files in the state directory: written and kept readable by the owner only (0600).

use std::path::Path;

use crate::error::EmulatorError;

/// Restricts a file to its owner (0600).
pub fn restrict_permissions(path: &Path) -> Result<(), EmulatorError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| EmulatorError::Io(format!("chmod {}: {e}", path.display())))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes a file readable by the owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), EmulatorError> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| EmulatorError::Io(format!("write {}: {e}", path.display())))?;
        f.write_all(contents)
            .map_err(|e| EmulatorError::Io(format!("write {}: {e}", path.display())))?;
    }
    #[cfg(not(unix))]
    std::fs::write(path, contents)
        .map_err(|e| EmulatorError::Io(format!("write {}: {e}", path.display())))?;
    restrict_permissions(path)
}

/// Encodes DER as PEM with the given label.
pub fn der_to_pem(der: &[u8], label: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
