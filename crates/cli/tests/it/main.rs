//! The `aci-cmk` binary, run as an operator runs it, against the emulator: embedded
//! (`--emulator`, its state in a temporary working directory), or started by the test
//! (`--emulator-url`) where the test must hold a request in flight. One binary, one module
//! per concern.

mod emulator_command;
mod flow;
mod interrupt;
mod spec_errors;
mod support;
