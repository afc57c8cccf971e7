//! The headers each service adds to every answer.

use crate::context::{Ctx, is_write};
use crate::reply::{self, Reply};
use crate::router::Service;

/// Adds the headers each service sends on every answer: request and correlation ids, the
/// client's own request id echoed, ARM's rate-limit counters, Key Vault's region and network
/// information.
pub fn add_standard_headers(ctx: &Ctx, service: Service, mut r: Reply) -> Reply {
    let rid = ctx.request_id.clone();
    match service {
        Service::Arm => {
            reply::set_header(&mut r, "x-ms-request-id", &rid);
            let corr = ctx
                .header("x-ms-correlation-request-id")
                .map(str::to_owned)
                .unwrap_or_else(|| rid.clone());
            reply::set_header(&mut r, "x-ms-correlation-request-id", &corr);
            if let Some(c) = ctx.header("x-ms-client-request-id") {
                let c = c.to_owned();
                reply::set_header(&mut r, "x-ms-client-request-id", &c);
            }
            if is_write(&ctx.method) {
                reply::set_header(
                    &mut r,
                    "x-ms-ratelimit-remaining-subscription-writes",
                    "1199",
                );
            } else {
                reply::set_header(
                    &mut r,
                    "x-ms-ratelimit-remaining-subscription-reads",
                    "11999",
                );
            }
        }
        Service::Graph => {
            reply::set_header(&mut r, "request-id", &rid);
            let c = ctx
                .header("client-request-id")
                .map(str::to_owned)
                .unwrap_or_else(|| rid.clone());
            reply::set_header(&mut r, "client-request-id", &c);
        }
        Service::Keyvault => {
            reply::set_header(&mut r, "x-ms-request-id", &rid);
            reply::set_header(&mut r, "x-ms-keyvault-region", "local");
            reply::set_header(&mut r, "x-ms-keyvault-service-version", "1.9.0.0");
            let fam = if ctx.peer.is_ipv4() {
                "InterNetwork"
            } else {
                "InterNetworkV6"
            };
            let info = format!(
                "conn_type={};addr={};act_addr_fam={fam};",
                if ctx.peer.is_ipv4() { "Ipv4" } else { "Ipv6" },
                ctx.peer.ip()
            );
            reply::set_header(&mut r, "x-ms-keyvault-network-info", &info);
            if let Some(c) = ctx.header("x-ms-client-request-id") {
                let c = c.to_owned();
                reply::set_header(&mut r, "x-ms-client-request-id", &c);
            }
        }
        Service::Token | Service::Msi | Service::Admin => {
            reply::set_header(&mut r, "x-ms-request-id", &rid);
        }
    }
    r
}
