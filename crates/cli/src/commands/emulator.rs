//! `aci-cmk emulator [--port N] [--state-dir DIR]`: the local Azure emulator in the
//! foreground, with the shell exports that point other clients at it.
//!
//! Beside its state (or in a private temporary directory without one) it writes, mode 0600:
//! `ready.json` (its ready line, for `--emulator-url` / `ACI_CMK_EMULATOR_URL`),
//! `client-secret` (the deployer's secret, which is never printed: the exports read it with
//! `$(cat …)`) and `env.sh` (the exports, to `.` in another shell). The exports: the CA
//! bundle for Python (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`), Node (`NODE_EXTRA_CA_CERTS`)
//! and curl (`CURL_CA_BUNDLE`); `AZURE_CORE_INSTANCE_DISCOVERY=false`, which MSAL needs for
//! a custom authority; the deployer's `AZURE_*` ids; `HTTPS_PROXY` with `--connect-proxy`;
//! and, as comments, the `az cloud register` and `az login` lines.

use crate::{
    args::EmulatorArgs,
    connect::embedded,
    error::CliError,
    interrupt,
    output::{Outcome, Output},
};
use aci_cmk_emulator::{Emulator, EmulatorOptions, ReadyInfo};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The port without a state directory that remembers one.
pub const DEFAULT_PORT: u16 = 8443;

/// Runs the emulator until Ctrl-C or SIGTERM.
pub async fn run(args: EmulatorArgs, output: Output) -> Result<Outcome, CliError> {
    let remembered = match &args.state_dir {
        Some(dir) => embedded::remembered_port(dir)?,
        None => None,
    };
    if let (Some(remembered), Some(port)) = (remembered, args.port)
        && remembered != port
    {
        eprintln!(
            "warning: the resources in this state were created on port {remembered}; on port \
             {port} their URLs no longer lead to them"
        );
    }
    let port = args.port.or(remembered).unwrap_or(DEFAULT_PORT);
    let state = args
        .state_dir
        .as_ref()
        .map_or_else(|| "in memory".to_owned(), |d| d.display().to_string());
    let options = EmulatorOptions {
        port,
        state_dir: args.state_dir.clone(),
        connect_proxy: args.connect_proxy,
        timing: args.timing,
        ..EmulatorOptions::default()
    };
    let emulator = Emulator::start(options)
        .await
        .map_err(|e| match &args.state_dir {
            Some(dir) => embedded::start_error(&e, dir, remembered),
            None => CliError::Emulator {
                state: state.clone(),
                message: e.to_string(),
            },
        })?;
    let info = emulator.info().clone();
    if let (Some(dir), Some(port)) = (&args.state_dir, embedded::port_of(&info.arm_endpoint)) {
        embedded::remember_port(dir, port)?;
    }
    let (dir, temporary) = match &args.state_dir {
        Some(dir) => (dir.clone(), false),
        None => (private_temp_dir()?, true),
    };
    let files = Files::new(&dir);
    write_private(&files.ready, &format!("{}\n", info.to_ready_line()))?;
    write_private(&files.secret, &info.client_secret)?;
    let exports = exports(&info, &files);
    let script = shell_script(&info, &files, &exports, &state);
    write_private(&files.env, &script)?;

    let outcome = Outcome {
        result: document(&info, &files, &exports),
        text: script,
        ..Outcome::ok(json!(null), "")
    };
    output.outcome("emulator", &outcome);
    eprintln!(
        "aci-cmk emulator: serving {} until Ctrl-C",
        info.arm_endpoint
    );
    interrupt::signal().await;
    eprintln!("aci-cmk emulator: stopping");
    emulator.shutdown().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Outcome {
        printed: true,
        ..Outcome::ok(json!(null), "")
    })
}

/// The files written beside the state.
struct Files {
    ready: PathBuf,
    secret: PathBuf,
    env: PathBuf,
}

impl Files {
    fn new(dir: &Path) -> Self {
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
        Self {
            ready: absolute.join("ready.json"),
            secret: absolute.join("client-secret"),
            env: absolute.join("env.sh"),
        }
    }
}

/// The exported variables, in order, each with what reads it. The secret is not among them:
/// the script reads it from its file.
fn exports(info: &ReadyInfo, files: &Files) -> Vec<(&'static str, String, &'static str)> {
    let ca = info.ca_cert_pem_path.clone();
    let mut vars = vec![
        (
            "ACI_CMK_EMULATOR_URL",
            files.ready.display().to_string(),
            "aci-cmk: use this emulator",
        ),
        ("AZURE_TENANT_ID", info.tenant_id.clone(), "the deployer"),
        ("AZURE_CLIENT_ID", info.client_id.clone(), "the deployer"),
        ("AZURE_SUBSCRIPTION_ID", info.subscription_id.clone(), ""),
        (
            "AZURE_AUTHORITY_HOST",
            info.authority_host.clone(),
            "Entra ID",
        ),
        (
            "REQUESTS_CA_BUNDLE",
            ca.clone(),
            "Python requests, the Azure CLI",
        ),
        (
            "SSL_CERT_FILE",
            ca.clone(),
            "Python's ssl and OpenSSL tools",
        ),
        ("NODE_EXTRA_CA_CERTS", ca.clone(), "Node.js"),
        ("CURL_CA_BUNDLE", ca, "curl"),
        (
            "AZURE_CORE_INSTANCE_DISCOVERY",
            "false".to_owned(),
            "MSAL (Python SDK, Azure CLI): a custom authority",
        ),
    ];
    if let Some(proxy) = &info.https_proxy {
        vars.push((
            "HTTPS_PROXY",
            proxy.clone(),
            "tunnels *.localhost to the emulator; refuses other hosts",
        ));
    }
    vars
}

/// A POSIX shell word holding `value`.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The exports as a script to `.` (and to print).
fn shell_script(
    info: &ReadyInfo,
    files: &Files,
    exports: &[(&str, String, &str)],
    state: &str,
) -> String {
    let mut script = format!(
        "# aci-cmk emulator at {} (state: {state}); Ctrl-C stops it.\n\
         # In another shell: . {}\n\
         # A shell with these trusts only the emulator's CA.\n",
        info.arm_endpoint,
        sh_quote(&files.env.display().to_string())
    );
    for (name, value, what) in exports {
        let comment = if what.is_empty() {
            String::new()
        } else {
            format!("  # {what}")
        };
        script.push_str(&format!("export {name}={}{comment}\n", sh_quote(value)));
    }
    script.push_str(&format!(
        "export AZURE_CLIENT_SECRET=\"$(cat {})\"  # the deployer's secret, never printed\n",
        sh_quote(&files.secret.display().to_string())
    ));
    if info.https_proxy.is_none() {
        script.push_str(
            "# Clients other than aci-cmk must resolve *.localhost (glibc does not): add hosts\n\
             # lines for the vaults, or restart with --connect-proxy for HTTPS_PROXY.\n",
        );
    }
    for line in az_lines(info) {
        script.push_str(&format!("#   {line}\n"));
    }
    script
}

/// The Azure CLI's lines: register the emulator as a cloud (it reads the rest from
/// `/metadata/endpoints`), switch to it, sign in as the deployer.
fn az_lines(info: &ReadyInfo) -> Vec<String> {
    vec![
        "The Azure CLI:".to_owned(),
        format!(
            "az cloud register --name AciCmkEmulator --endpoint-resource-manager {}/",
            info.arm_endpoint.trim_end_matches('/')
        ),
        "az cloud set --name AciCmkEmulator".to_owned(),
        "az login --service-principal --username \"$AZURE_CLIENT_ID\" --password \"$AZURE_CLIENT_SECRET\" --tenant \"$AZURE_TENANT_ID\"".to_owned(),
    ]
}

/// The JSON document: the endpoints and ids (no secret), the files and the exports.
fn document(
    info: &ReadyInfo,
    files: &Files,
    exports: &[(&str, String, &str)],
) -> serde_json::Value {
    let exports: serde_json::Map<String, serde_json::Value> = exports
        .iter()
        .map(|(name, value, _)| ((*name).to_owned(), value.clone().into()))
        .collect();
    json!({
        "arm_endpoint": info.arm_endpoint,
        "graph_endpoint": info.graph_endpoint,
        "authority_host": info.authority_host,
        "keyvault_dns_suffix": info.keyvault_dns_suffix,
        "tenant_id": info.tenant_id,
        "subscription_id": info.subscription_id,
        "client_id": info.client_id,
        "ca_cert_pem_path": info.ca_cert_pem_path,
        "admin_endpoint": info.admin_endpoint,
        "https_proxy": info.https_proxy,
        "timing": info.timing.to_string(),
        "ready_file": files.ready,
        "client_secret_file": files.secret,
        "env_file": files.env,
        "exports": exports,
        "az": az_lines(info)[1..].to_vec(),
    })
}

/// A new directory only this user can read.
fn private_temp_dir() -> Result<PathBuf, CliError> {
    let dir = std::env::temp_dir().join(format!("aci-cmk-emulator-{}", uuid::Uuid::new_v4()));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).map_err(|source| CliError::Io {
        what: format!("create {}", dir.display()),
        source,
    })?;
    Ok(dir)
}

/// Writes `text` to `path`, readable by this user only.
fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io = |source| CliError::Io {
        what: format!("write {}", path.display()),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_words_survive_quotes() {
        assert_eq!(super::sh_quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
