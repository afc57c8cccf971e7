//! The command line as clap reads it: every command, flag and the environment variable behind
//! each (`ACI_CMK_*`, shown in `--help`). A flag beats its environment variable, which beats
//! the spec file.

use aci_cmk_core::names::{KeyVersion, SubscriptionId};
use aci_cmk_emulator::TimingProfile;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes, the environment and the credential order, under every command's `--help`.
pub const AFTER_HELP: &str = "\
Exit codes:
  0    success (plan --detailed-exitcode: no changes)
  1    error (the spec, preflight, a step, connecting)
  2    plan --detailed-exitcode: apply would change something; audit: findings at or above
       --fail-on
  130  interrupted (Ctrl-C or SIGTERM): in-flight calls are abandoned, finished steps stay;
       running the same command again converges

Precedence: a flag beats its ACI_CMK_* environment variable, which beats the spec file
(with --emulator, the emulator's subscription comes before the spec's).

Azure credentials (--auth auto), the first that applies:
  1. a service principal's client secret: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
  2. workload identity federation: AZURE_FEDERATED_TOKEN_FILE (with AZURE_TENANT_ID, AZURE_CLIENT_ID)
  3. a managed identity the environment announces (IDENTITY_ENDPOINT or MSI_ENDPOINT); on a VM,
     where the instance metadata service announces nothing, say --auth managed-identity
  4. the developer tools' sign-in: the Azure CLI (az login), then the Azure Developer CLI

Output: results on stdout, progress and logs on stderr (-v, RUST_LOG). --output json prints
exactly one JSON document on stdout; --stream prints JSON lines (progress events, then the
document). Secrets (secure environment values, client secrets, tokens) are never printed.";

/// aci-cmk: deploy Azure Container Instances whose data is encrypted with a customer-managed
/// key in Azure Key Vault, against Azure or the local emulator.
#[derive(Debug, Parser)]
#[command(name = "aci-cmk", version, after_long_help = AFTER_HELP)]
pub struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// How results are printed: text for people, or exactly one JSON document on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text, env = "ACI_CMK_OUTPUT")]
    pub output: Format,
    /// Print JSON lines on stdout: each progress event as it happens, then the result document
    /// (implies --output json).
    #[arg(long, global = true, env = "ACI_CMK_STREAM")]
    pub stream: bool,
    /// More logs on stderr: -v info, -vv debug, -vvv trace (RUST_LOG, when set, decides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and sentences.
    Text,
    /// One JSON document.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented deployment spec (TOML) that `apply` accepts as it is.
    #[command(after_long_help = AFTER_HELP)]
    Init(InitArgs),
    /// Show what `apply` would do, step by step (create / update / recover / recreate / in
    /// place), without writing anything.
    #[command(after_long_help = AFTER_HELP)]
    Plan(PlanArgs),
    /// Bring Azure to what the spec describes (preflight first: nothing is written if a rule
    /// is broken).
    #[command(after_long_help = AFTER_HELP)]
    Apply(SpecCommandArgs),
    /// Move the deployment to a new key version (or --version) and re-create the container
    /// groups on it.
    #[command(after_long_help = AFTER_HELP)]
    Rotate(RotateArgs),
    /// Remove what `apply` created; the vault stays soft-deleted and its key recoverable
    /// unless purging is allowed.
    #[command(after_long_help = AFTER_HELP)]
    Destroy(DestroyArgs),
    /// Show what is deployed, as Azure reports it: the resource group, vault, key id and
    /// version, identity, and each container group's state and encryption.
    #[command(after_long_help = AFTER_HELP)]
    Status(SpecCommandArgs),
    /// Audit the CMK posture of a subscription's container groups and the vaults, keys,
    /// identities and roles they name (reads only): a table, JSON or SARIF 2.1.0. Exits 2 when
    /// a finding is at or above --fail-on.
    #[command(after_long_help = AFTER_HELP)]
    Audit(AuditArgs),
    /// Audit, then fix what the audit found: a dry run by default (--apply carries it out);
    /// re-creating groups only with --allow-disruptive. Nothing is weakened: no firewall
    /// opened, no access beyond get + unwrapKey granted, nothing purged. Exits 1 when a step
    /// failed.
    #[command(after_long_help = AFTER_HELP)]
    Remediate(RemediateArgs),
    /// Run the local Azure emulator in the foreground and print the shell exports that point
    /// other clients (Azure CLI, Python, Node, curl, aci-cmk) at it. Ctrl-C stops it (exit 0).
    #[command(after_long_help = AFTER_HELP)]
    Emulator(EmulatorArgs),
    /// Print a shell completion script.
    #[command(after_long_help = AFTER_HELP)]
    Completions(CompletionsArgs),
}

impl Command {
    /// The command's name, as the JSON documents spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init(_) => "init",
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Rotate(_) => "rotate",
            Command::Destroy(_) => "destroy",
            Command::Status(_) => "status",
            Command::Audit(_) => "audit",
            Command::Remediate(_) => "remediate",
            Command::Emulator(_) => "emulator",
            Command::Completions(_) => "completions",
        }
    }
}

/// `aci-cmk audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit only these resource groups (repeat, or separate with commas); default: the
    /// whole subscription.
    #[arg(
        long = "resource-group",
        value_name = "G",
        value_delimiter = ',',
        env = "ACI_CMK_RESOURCE_GROUPS"
    )]
    pub resource_groups: Vec<aci_cmk_core::names::ResourceGroupName>,
    /// Deployment specs whose groups pin a key version by choice (a stale version is then
    /// info, not a warning); repeat, or separate with commas.
    #[arg(
        long = "spec",
        value_name = "FILE",
        value_delimiter = ',',
        env = "ACI_CMK_AUDIT_SPECS"
    )]
    pub specs: Vec<PathBuf>,
    /// What to write: a table, the report as JSON, or SARIF 2.1.0 for code-scanning tools.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table, env = "ACI_CMK_AUDIT_FORMAT")]
    pub format: AuditFormat,
    /// Write the --format output to this file (stdout then shows the table).
    #[arg(long, value_name = "FILE", env = "ACI_CMK_AUDIT_OUT")]
    pub out: Option<PathBuf>,
    /// The lowest severity that fails the audit (exit 2): info, low, medium, high or
    /// critical.
    #[arg(
        long,
        value_name = "SEVERITY",
        default_value = "high",
        env = "ACI_CMK_FAIL_ON"
    )]
    pub fail_on: aci_cmk_posture::Severity,
    /// Days before a key version's expiry that count as "expires soon".
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 30,
        env = "ACI_CMK_EXPIRY_WARNING_DAYS"
    )]
    pub expiry_warning_days: u32,
    /// Where Azure is.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `aci-cmk remediate`.
#[derive(Debug, Args)]
pub struct RemediateArgs {
    /// Carry the plan out; without it, a dry run that writes nothing (the default).
    #[arg(long, env = "ACI_CMK_APPLY", conflicts_with = "dry_run")]
    pub apply: bool,
    /// A dry run: report what would be done and write nothing (the default; for scripts that
    /// say so).
    #[arg(long, env = "ACI_CMK_DRY_RUN")]
    pub dry_run: bool,
    /// Also carry out the disruptive steps: re-creating container groups (they restart; their
    /// IP address may change).
    #[arg(long, env = "ACI_CMK_ALLOW_DISRUPTIVE")]
    pub allow_disruptive: bool,
    /// How many disruptive steps run at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 4,
        env = "ACI_CMK_CONCURRENCY"
    )]
    pub concurrency: usize,
    /// Remediate only these resource groups (repeat, or separate with commas).
    #[arg(
        long = "resource-group",
        value_name = "G",
        value_delimiter = ',',
        env = "ACI_CMK_RESOURCE_GROUPS"
    )]
    pub resource_groups: Vec<aci_cmk_core::names::ResourceGroupName>,
    /// Deployment specs of groups that may be re-created: they hold what Azure never returns
    /// (secure values); repeat, or separate with commas.
    #[arg(
        long = "spec",
        value_name = "FILE",
        value_delimiter = ',',
        env = "ACI_CMK_AUDIT_SPECS"
    )]
    pub specs: Vec<PathBuf>,
    /// A spec whose vault and key groups without a customer-managed key move onto (applied
    /// first; only with --allow-disruptive does a group move).
    #[arg(long, value_name = "FILE", env = "ACI_CMK_TARGET_SPEC")]
    pub target_spec: Option<PathBuf>,
    /// Where Azure is.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// What `audit` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A table for people.
    Table,
    /// The report as JSON.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// The spec file a command works on.
#[derive(Debug, Args)]
pub struct SpecArg {
    /// The deployment spec: TOML (`.toml`), else JSON.
    #[arg(value_name = "SPEC", env = "ACI_CMK_SPEC")]
    pub spec: PathBuf,
}

/// `apply SPEC` and `status SPEC`.
#[derive(Debug, Args)]
pub struct SpecCommandArgs {
    /// The spec.
    #[command(flatten)]
    pub spec: SpecArg,
    /// Where Azure is.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `plan SPEC [--detailed-exitcode]`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The spec.
    #[command(flatten)]
    pub spec: SpecArg,
    /// Exit 0 when apply would change nothing, 2 when it would change something, 1 on error
    /// (Terraform's convention).
    #[arg(long, env = "ACI_CMK_DETAILED_EXITCODE")]
    pub detailed_exitcode: bool,
    /// Where Azure is.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `rotate SPEC [--version V]`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The spec.
    #[command(flatten)]
    pub spec: SpecArg,
    /// Move to this existing key version (32 hex digits) instead of creating a new one;
    /// required when the spec names an existing key.
    #[arg(long, value_name = "V", env = "ACI_CMK_KEY_VERSION")]
    pub version: Option<KeyVersion>,
    /// Instead of creating a version, move the container groups onto the newest usable one
    /// (or `--version`): each group on an older version is re-created, a disabled, expired or
    /// not-yet-valid version is never used, and with the lifecycle's `retire_previous` the
    /// versions left are disabled. Exits 1 when a group failed to move or is stranded on a
    /// retired version.
    #[arg(long, env = "ACI_CMK_FOLLOW_LATEST")]
    pub follow_latest: bool,
    /// Where Azure is.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `destroy SPEC [--purge]`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The spec.
    #[command(flatten)]
    pub spec: SpecArg,
    /// Purge the soft-deleted vault too (the spec's `allow.purge_on_destroy`); impossible
    /// while purge protection holds it, which is then reported, not an error.
    #[arg(long, env = "ACI_CMK_PURGE")]
    pub purge: bool,
    /// Delete the resource group as well, with whatever else it holds.
    #[arg(long, env = "ACI_CMK_DELETE_RESOURCE_GROUP")]
    pub delete_resource_group: bool,
    /// Where Azure is.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `init [FILE] [--flow …] [--rbac]`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the spec ("-": stdout).
    #[arg(
        value_name = "FILE",
        default_value = "aci-cmk.toml",
        env = "ACI_CMK_SPEC"
    )]
    pub file: PathBuf,
    /// How ACI reaches the key: the ACI service principal on an open vault, or a managed
    /// identity through the vault firewall.
    #[arg(long, value_enum, default_value_t = FlowName::Standard, env = "ACI_CMK_FLOW")]
    pub flow: FlowName,
    /// Authorize the vault with Azure RBAC instead of access policies.
    #[arg(long, env = "ACI_CMK_RBAC")]
    pub rbac: bool,
    /// The region of the resource group and everything in it.
    #[arg(long, default_value = "westeurope", env = "ACI_CMK_LOCATION")]
    pub location: String,
    /// Overwrite FILE if it exists.
    #[arg(long, env = "ACI_CMK_FORCE")]
    pub force: bool,
    /// With --emulator or --emulator-url the spec gets the emulator's subscription (the
    /// embedded emulator's state is created), and with --subscription that one; otherwise a
    /// placeholder that --subscription / ACI_CMK_SUBSCRIPTION fill at run time.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The CMK flows, as `init` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlowName {
    /// The ACI first-party service principal gets get + unwrapKey on a vault open to public
    /// networks.
    Standard,
    /// A user-assigned managed identity gets them; the vault firewall lets only trusted Azure
    /// services (and the spec's ip_rules) through.
    NetworkProtected,
}

/// Where Azure is: the embedded emulator, a running emulator, or Azure itself.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Connecting")]
pub struct ConnectArgs {
    /// Run against an emulator embedded in this process, its state kept in --emulator-state
    /// so that consecutive commands see the same Azure (apply, then plan: no changes).
    #[arg(long, env = "ACI_CMK_EMULATOR", conflicts_with = "emulator_url")]
    pub emulator: bool,
    /// The embedded emulator's state directory (relative to the working directory).
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".aci-cmk/emulator",
        env = "ACI_CMK_EMULATOR_STATE"
    )]
    pub emulator_state: PathBuf,
    /// How long the embedded emulator's long-running operations and propagation take:
    /// instant, fast (every state Azure shows, briefly) or azure (as live Azure).
    #[arg(long, value_name = "PROFILE", default_value_t = TimingProfile::Fast, env = "ACI_CMK_EMULATOR_TIMING")]
    pub emulator_timing: TimingProfile,
    /// Use a running emulator: a file holding its ready line (`aci-cmk emulator` writes
    /// one and exports this variable), or "-" to read the line from stdin.
    #[arg(long, value_name = "FILE|-", env = "ACI_CMK_EMULATOR_URL")]
    pub emulator_url: Option<String>,
    /// The subscription (else, with an emulator, the emulator's; else the spec's).
    #[arg(long, value_name = "ID", env = "ACI_CMK_SUBSCRIPTION")]
    pub subscription: Option<SubscriptionId>,
    /// The Azure cloud (not used with an emulator).
    #[arg(long, value_enum, default_value_t = CloudName::Public, env = "ACI_CMK_CLOUD")]
    pub cloud: CloudName,
    /// Which credential signs in to Azure (not used with an emulator). auto takes the first
    /// that applies: the environment's client secret, workload identity, a managed identity
    /// the environment announces, the developer tools (az, azd).
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto, env = "ACI_CMK_AUTH")]
    pub auth: AuthMethod,
    /// The client id of a user-assigned managed identity (--auth managed-identity, or auto
    /// when it picks one); without it, the system-assigned identity.
    #[arg(long, value_name = "ID", env = "ACI_CMK_MANAGED_IDENTITY_CLIENT_ID")]
    pub managed_identity_client_id: Option<String>,
}

/// The Azure clouds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CloudName {
    /// Azure (public).
    Public,
    /// Azure operated by 21Vianet (China).
    China,
    /// Azure US Government.
    Usgov,
}

/// Which credential signs in to Azure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthMethod {
    /// The first that applies, in the documented order.
    Auto,
    /// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET.
    ClientSecret,
    /// AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID and AZURE_CLIENT_ID.
    WorkloadIdentity,
    /// The managed identity of the machine or service this runs on.
    ManagedIdentity,
    /// The Azure CLI's sign-in, then the Azure Developer CLI's.
    DeveloperTools,
}

/// `emulator [--port N] [--state-dir DIR]`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// HTTPS port on 127.0.0.1 and ::1 (0 picks a free one). Default: the port the state
    /// directory's resources were created on, else 8443.
    #[arg(long, value_name = "N", env = "ACI_CMK_EMULATOR_PORT")]
    pub port: Option<u16>,
    /// Keep the state (and the CA, the ready line and env.sh) in DIR across restarts;
    /// without it the state lives in memory and the files in a temporary directory.
    #[arg(long, value_name = "DIR", env = "ACI_CMK_EMULATOR_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Also run an HTTP CONNECT proxy for clients that cannot resolve `*.localhost`
    /// (exported as HTTPS_PROXY).
    #[arg(long, env = "ACI_CMK_EMULATOR_CONNECT_PROXY")]
    pub connect_proxy: bool,
    /// How long long-running operations and propagation take: instant, fast or azure.
    #[arg(long, value_name = "PROFILE", default_value_t = TimingProfile::Fast, env = "ACI_CMK_EMULATOR_TIMING")]
    pub timing: TimingProfile,
}

/// `completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, env = "ACI_CMK_SHELL")]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_flag_has_an_environment_variable() {
        fn walk(command: &clap::Command, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version" | "verbose");
                if !builtin && arg.get_env().is_none() {
                    missing.push(format!("{} --{}", command.get_name(), arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), &mut missing);
        assert!(missing.is_empty(), "flags without ACI_CMK_*: {missing:?}");
    }
}
