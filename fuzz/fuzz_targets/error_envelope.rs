//! Error envelopes (ARM, Key Vault, Graph, Entra) on any bytes and any status: no panic, a
//! typed error carrying the status.
#![no_main]

use aci_cmk_core::{Error, ServiceError};
use azure_core::http::{StatusCode, headers::Headers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_le_bytes([*a, *b]) % 500, rest),
        _ => (500, data),
    };
    let _ = ServiceError::from_body(body);
    let error = Error::from_response(StatusCode::from(status), &Headers::new(), body);
    assert_eq!(error.status(), Some(status));
    let _ = (error.to_string(), format!("{error:?}"));
    if let Some(service) = error.service_error() {
        let _ = (service.root_cause(), service.codes().count());
    }
});
