//! The error type shared by every client: what went wrong, in the caller's terms, with the
//! service's own code and request ids so that a user can quote them to Azure support.

use azure_core::http::{StatusCode, headers::Headers};
use serde::Deserialize;
use std::{fmt, time::Duration};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of every call made through the core pipeline.
///
/// The variants tell apart what a caller reacts to differently. Every variant that comes from a
/// service response carries a [`ServiceError`] with the HTTP status, the service's error code
/// (and Key Vault's inner code), its message and the request ids.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The resource (or the resource group, key, principal, ...) does not exist: 404.
    #[error("not found: {0}")]
    NotFound(Box<ServiceError>),
    /// The request conflicts with the current state (name taken, already exists, soft-deleted
    /// object holding the name): 409.
    #[error("conflict: {0}")]
    Conflict(Box<ServiceError>),
    /// Key Vault refused the caller because no access policy grants the permission
    /// (inner code `ForbiddenByPolicy`).
    #[error("forbidden by the vault's access policies: {0}")]
    ForbiddenByAccessPolicy(Box<ServiceError>),
    /// Key Vault or ARM refused the caller because no role assignment grants the action
    /// (`ForbiddenByRbac`, `AuthorizationFailed`).
    #[error("forbidden by role-based access control: {0}")]
    ForbiddenByRbac(Box<ServiceError>),
    /// Key Vault's firewall refused the caller (`ForbiddenByFirewall`).
    #[error("forbidden by the vault firewall: {0}")]
    ForbiddenByFirewall(Box<ServiceError>),
    /// Any other 403, for example a disabled key.
    #[error("forbidden: {0}")]
    Forbidden(Box<ServiceError>),
    /// The service did not accept the credential's token: 401.
    #[error("not authenticated: {0}")]
    Unauthenticated(Box<ServiceError>),
    /// The service throttled the caller (429) and the retry policy gave up.
    #[error("throttled: {0}")]
    Throttled(Box<ServiceError>),
    /// The service rejected the request as invalid: 400, 422.
    #[error("invalid request: {0}")]
    InvalidInput(Box<ServiceError>),
    /// Any other unsuccessful status.
    #[error("service error: {0}")]
    Service(Box<ServiceError>),
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("{operation} ended {status}: {error}")]
    OperationFailed {
        /// The operation, e.g. `create container group cg1`.
        operation: String,
        /// The terminal status the service reported.
        status: String,
        /// The error the service attached to the operation.
        error: Box<ServiceError>,
    },
    /// A long-running operation did not finish within the allowed time.
    #[error("{operation} did not finish within {waited:?}")]
    Timeout {
        /// The operation, e.g. `create container group cg1`.
        operation: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The request could not be sent or its response not read (DNS, TCP, TLS, IO).
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: azure_core::Error,
    },
    /// The credential could not produce a token.
    #[error("credential error: {message}")]
    Credential {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: azure_core::Error,
    },
    /// A bearer token would have been sent over plain http to a host that is not loopback.
    #[error("refusing to send a bearer token over plain http to {host}: use https")]
    InsecureTransport {
        /// The host the request was for.
        host: String,
    },
    /// The request was refused on the client side, before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A response body could not be decoded.
    #[error("could not decode the response of {what}: {message}")]
    Decode {
        /// Which response.
        what: String,
        /// What was wrong with it.
        message: String,
    },
    /// The client could not be configured (bad endpoint URL, unreadable CA certificate, ...).
    #[error("configuration error: {0}")]
    Configuration(String),
}

impl Error {
    /// The service error behind this error, if it came from a service response.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::NotFound(e)
            | Error::Conflict(e)
            | Error::ForbiddenByAccessPolicy(e)
            | Error::ForbiddenByRbac(e)
            | Error::ForbiddenByFirewall(e)
            | Error::Forbidden(e)
            | Error::Unauthenticated(e)
            | Error::Throttled(e)
            | Error::InvalidInput(e)
            | Error::Service(e)
            | Error::OperationFailed { error: e, .. } => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of the service response, if any.
    pub fn status(&self) -> Option<u16> {
        self.service_error().map(|e| e.status)
    }

    /// The service's error code (`ResourceNotFound`, `Forbidden`, ...), if any.
    pub fn code(&self) -> Option<&str> {
        self.service_error().and_then(|e| e.code.as_deref())
    }

    /// Whether the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Whether the request conflicted with the current state.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }

    /// Whether the caller lacks permission, by access policy, RBAC, firewall or otherwise.
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            Error::ForbiddenByAccessPolicy(_)
                | Error::ForbiddenByRbac(_)
                | Error::ForbiddenByFirewall(_)
                | Error::Forbidden(_)
        )
    }

    /// Builds the error for an unsuccessful response, classifying it by status and codes.
    pub fn from_response(status: StatusCode, headers: &Headers, body: &[u8]) -> Self {
        Self::classify(ServiceError::from_response(status, headers, body))
    }

    /// Classifies a parsed service error into the variant a caller reacts to.
    pub fn classify(error: ServiceError) -> Self {
        let error = Box::new(error);
        let has_code = |wanted: &str| error.codes().any(|c| c.eq_ignore_ascii_case(wanted));
        match error.status {
            404 => Error::NotFound(error),
            409 => Error::Conflict(error),
            401 => Error::Unauthenticated(error),
            429 => Error::Throttled(error),
            400 | 422 if has_code("PrincipalNotFound") => Error::NotFound(error),
            400 | 422 => Error::InvalidInput(error),
            403 if has_code("ForbiddenByFirewall") => Error::ForbiddenByFirewall(error),
            403 if has_code("ForbiddenByRbac") || has_code("AuthorizationFailed") => {
                Error::ForbiddenByRbac(error)
            }
            403 if has_code("ForbiddenByPolicy") || has_code("AccessDenied") => {
                Error::ForbiddenByAccessPolicy(error)
            }
            403 => Error::Forbidden(error),
            _ => Error::Service(error),
        }
    }

    /// Converts an `azure_core` error (from a pipeline or an official client) into ours.
    pub fn from_azure_core(error: azure_core::Error) -> Self {
        use azure_core::error::ErrorKind;
        match error.kind() {
            ErrorKind::HttpResponse {
                status,
                raw_response: Some(raw),
                ..
            } => Self::from_response(*status, raw.headers(), raw.body()),
            ErrorKind::HttpResponse {
                status, error_code, ..
            } => Self::classify(ServiceError {
                status: u16::from(*status),
                code: error_code.clone(),
                message: error.to_string(),
                ..ServiceError::default()
            }),
            ErrorKind::Credential => Error::Credential {
                message: error.to_string(),
                source: error,
            },
            ErrorKind::Io | ErrorKind::Connection => Error::Transport {
                message: error.to_string(),
                source: error,
            },
            ErrorKind::DataConversion => Error::Decode {
                what: "a service response".into(),
                message: error.to_string(),
            },
            _ => Error::Transport {
                message: error.to_string(),
                source: error,
            },
        }
    }
}

impl From<azure_core::Error> for Error {
    fn from(error: azure_core::Error) -> Self {
        // Our auth policy reports an insecure URL through azure_core's error type, which the
        // retry policy may have wrapped: recover it from the chain.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(e) = cause {
            if let Some(insecure) = e.downcast_ref::<crate::auth::InsecureTransportError>() {
                return Error::InsecureTransport {
                    host: insecure.host.clone(),
                };
            }
            cause = e.source();
        }
        Self::from_azure_core(error)
    }
}

/// What a service said about a failed request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// The HTTP status.
    pub status: u16,
    /// The top-level error code (`ResourceNotFound`, `Forbidden`, `BadParameter`, ...), from the
    /// body or else from the `x-ms-error-code` header.
    pub code: Option<String>,
    /// The innermost Key Vault `innererror.code` (`ForbiddenByPolicy`, `ForbiddenByFirewall`, ...).
    pub inner_code: Option<String>,
    /// The message, as the service wrote it.
    pub message: String,
    /// The `target` field of the ARM error envelope.
    pub target: Option<String>,
    /// The nested `details` of the ARM error envelope (deployment failures nest the failing
    /// resource's error here).
    pub details: Vec<ServiceError>,
    /// The `x-ms-request-id` response header (Microsoft Graph's `request-id`).
    pub request_id: Option<String>,
    /// The `x-ms-correlation-request-id` response header.
    pub correlation_id: Option<String>,
}

impl ServiceError {
    /// Parses an error response: the ARM envelope (`{"error":{code,message,target,details}}`),
    /// Key Vault's (`{"error":{code,message,innererror:{code}}}`), Graph's, or Entra ID's
    /// (`{"error":"invalid_client","error_description":...}`), falling back to the body text.
    pub fn from_response(status: StatusCode, headers: &Headers, body: &[u8]) -> Self {
        let header = |name: &'static str| {
            headers
                .get_optional_str(&azure_core::http::headers::HeaderName::from_static(name))
                .map(str::to_owned)
        };
        let mut error = Self::from_body(body).unwrap_or_else(|| ServiceError {
            message: summarize_body(body, status),
            ..ServiceError::default()
        });
        error.status = u16::from(status);
        if error.code.is_none() {
            error.code = header("x-ms-error-code");
        }
        // Microsoft Graph names its request id `request-id`.
        error.request_id = header("x-ms-request-id").or_else(|| header("request-id"));
        error.correlation_id = header("x-ms-correlation-request-id");
        error
    }

    /// Parses just the body of an error envelope; `None` when it is not one.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let envelope: Envelope = serde_json::from_slice(body).ok()?;
        match envelope.error? {
            EnvelopeError::Object(detail) => Some(detail.into_service_error()),
            EnvelopeError::Code(code) => Some(ServiceError {
                code: Some(code),
                message: envelope.error_description.unwrap_or_default(),
                ..ServiceError::default()
            }),
        }
    }

    /// Every code in this error, outermost first: the code, the inner code and the codes of
    /// the nested details.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        let mut codes: Vec<&str> = self
            .code
            .iter()
            .chain(&self.inner_code)
            .map(String::as_str)
            .collect();
        for detail in &self.details {
            codes.extend(detail.codes());
        }
        codes.into_iter()
    }

    /// The innermost detail that carries a message: where a deployment failure says what the
    /// failing resource's provider objected to.
    pub fn root_cause(&self) -> &ServiceError {
        self.details
            .iter()
            .map(ServiceError::root_cause)
            .find(|e| !e.message.is_empty())
            .unwrap_or(self)
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(inner) = &self.inner_code {
            write!(f, " ({inner})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        let root = self.root_cause();
        if !std::ptr::eq(root, self) {
            write!(f, " [caused by")?;
            if let Some(code) = &root.code {
                write!(f, " {code}")?;
            }
            write!(f, ": {}]", root.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

fn summarize_body(body: &[u8], status: StatusCode) -> String {
    const LIMIT: usize = 512;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        status.canonical_reason().to_string()
    } else if text.len() > LIMIT {
        let cut = (0..=LIMIT)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}…", &text[..cut])
    } else {
        text.to_owned()
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: Option<EnvelopeError>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EnvelopeError {
    Object(ErrorDetail),
    Code(String),
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorDetail {
    code: Option<String>,
    message: Option<String>,
    target: Option<String>,
    /// `Option` because services send `"details": null` too.
    details: Option<Vec<ErrorDetail>>,
    #[serde(alias = "innerError")]
    innererror: Option<Box<InnerError>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InnerError {
    code: Option<String>,
    #[serde(alias = "innerError")]
    innererror: Option<Box<InnerError>>,
}

impl ErrorDetail {
    fn into_service_error(self) -> ServiceError {
        let mut inner_code = None;
        let mut next = self.innererror;
        while let Some(inner) = next {
            if inner.code.is_some() {
                inner_code = inner.code;
            }
            next = inner.innererror;
        }
        ServiceError {
            code: self.code,
            inner_code,
            message: self.message.unwrap_or_default(),
            target: self.target,
            details: self
                .details
                .unwrap_or_default()
                .into_iter()
                .map(Self::into_service_error)
                .collect(),
            ..ServiceError::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::headers::HeaderName;

    fn headers(pairs: &[(&'static str, &'static str)]) -> Headers {
        let mut h = Headers::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_static(k), *v);
        }
        h
    }

    #[test]
    fn arm_envelope_with_request_ids() {
        let body = br#"{"error":{"code":"ResourceGroupNotFound","message":"Resource group 'x' could not be found."}}"#;
        let h = headers(&[
            ("x-ms-request-id", "req-1"),
            ("x-ms-correlation-request-id", "corr-1"),
        ]);
        let err = Error::from_response(StatusCode::NotFound, &h, body);
        assert!(err.is_not_found());
        let se = err.service_error().expect("service error");
        assert_eq!(se.code.as_deref(), Some("ResourceGroupNotFound"));
        assert_eq!(se.request_id.as_deref(), Some("req-1"));
        assert_eq!(se.correlation_id.as_deref(), Some("corr-1"));
        assert!(err.to_string().contains("could not be found"));
    }

    #[test]
    fn key_vault_inner_codes_pick_the_forbidden_variant() {
        let cases = [
            ("ForbiddenByPolicy", "access"),
            ("ForbiddenByRbac", "rbac"),
            ("ForbiddenByFirewall", "firewall"),
            ("KeyDisabled", "other"),
        ];
        for (inner, expected) in cases {
            let body = format!(
                r#"{{"error":{{"code":"Forbidden","message":"m","innererror":{{"code":"{inner}"}}}}}}"#
            );
            let err = Error::from_response(StatusCode::Forbidden, &Headers::new(), body.as_bytes());
            let got = match err {
                Error::ForbiddenByAccessPolicy(_) => "access",
                Error::ForbiddenByRbac(_) => "rbac",
                Error::ForbiddenByFirewall(_) => "firewall",
                Error::Forbidden(_) => "other",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, expected, "inner code {inner}");
        }
    }

    #[test]
    fn nested_inner_error_uses_innermost_code() {
        let body = br#"{"error":{"code":"Forbidden","message":"m","innererror":{"code":"A","innererror":{"code":"ForbiddenByFirewall"}}}}"#;
        let err = Error::from_response(StatusCode::Forbidden, &Headers::new(), body);
        assert!(matches!(err, Error::ForbiddenByFirewall(_)));
    }

    #[test]
    fn code_falls_back_to_header() {
        let h = headers(&[("x-ms-error-code", "TooManyRequests")]);
        let err = Error::from_response(StatusCode::TooManyRequests, &h, b"");
        assert!(matches!(err, Error::Throttled(_)));
        assert_eq!(err.code(), Some("TooManyRequests"));
    }

    #[test]
    fn deployment_failure_reports_root_cause() {
        let body = br#"{"error":{"code":"DeploymentFailed","message":"At least one resource deployment operation failed.","details":[{"code":"BadRequest","message":"","details":[{"code":"KeyVaultAccessDenied","message":"the ACI service principal lacks unwrapKey"}]}]}}"#;
        let err = Error::from_response(StatusCode::BadRequest, &Headers::new(), body);
        let se = err.service_error().expect("service error");
        assert_eq!(
            se.root_cause().code.as_deref(),
            Some("KeyVaultAccessDenied")
        );
        assert!(err.to_string().contains("lacks unwrapKey"));
    }

    #[test]
    fn entra_error_shape() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret."}"#;
        let err = Error::from_response(StatusCode::Unauthorized, &Headers::new(), body);
        assert_eq!(err.code(), Some("invalid_client"));
        assert!(matches!(err, Error::Unauthenticated(_)));
    }

    #[test]
    fn non_json_body_is_summarized() {
        let body = vec![b'x'; 2000];
        let err = Error::from_response(StatusCode::BadGateway, &Headers::new(), &body);
        let se = err.service_error().expect("service error");
        assert!(se.message.len() < 600);
        assert!(matches!(err, Error::Service(_)));
    }

    #[test]
    fn null_details_keep_the_envelope() {
        let body = br#"{"error":{"code":"Forbidden","message":"m","details":null,"innererror":{"code":"ForbiddenByFirewall"}}}"#;
        let err = Error::from_response(StatusCode::Forbidden, &Headers::new(), body);
        assert!(matches!(err, Error::ForbiddenByFirewall(_)), "{err:?}");
        assert_eq!(err.service_error().map(|e| e.message.as_str()), Some("m"));
    }

    #[test]
    fn principal_not_found_is_not_found() {
        let body = br#"{"error":{"code":"PrincipalNotFound","message":"Principal abc does not exist in the directory"}}"#;
        let err = Error::from_response(StatusCode::BadRequest, &Headers::new(), body);
        assert!(err.is_not_found());
    }
}
