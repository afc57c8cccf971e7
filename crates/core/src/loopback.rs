//! Whether a host is this machine: a loopback address or a `localhost` name (the only hosts
//! plain HTTP, and a bearer token over it, are allowed to).

use url::Url;

/// Whether the URL's host is a loopback address or a `localhost` name.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => is_localhost_name(d),
        None => false,
    }
}

pub(crate) fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}
