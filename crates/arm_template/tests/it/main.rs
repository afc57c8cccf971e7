//! Tests of the public API, as the emulator uses it: the engine's behaviour on whole
//! templates ([`engine`], ported from the emulator), and property tests that random
//! templates and expressions never panic ([`props`]).

mod engine;
mod props;
