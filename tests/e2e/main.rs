//! Both customer-managed-key flows end to end: the SDK's orchestrator and clients against the
//! embedded emulator, over HTTPS, with real tokens and real cryptography.

mod fleet;
mod flows;
mod lifecycle;
mod request_ids;
mod timing;
