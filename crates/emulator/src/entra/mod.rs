//! Entra ID: token signing and validation ([`tokens`]), request authentication ([`bearer`]), the token endpoint with its OpenID
//! metadata and JWKS ([`token_endpoint`]), and the App Service-style managed-identity endpoint
//! ([`managed_identity_endpoint`]).

pub mod bearer;
pub mod managed_identity_endpoint;
pub mod token_endpoint;
pub mod tokens;
