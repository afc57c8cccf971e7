//! Optional HTTP CONNECT proxy for clients that cannot resolve `*.localhost` (glibc without
//! `libnss-myhostname`): it tunnels `CONNECT {name}.localhost:{port}` (and `localhost`,
//! `127.0.0.1`, `[::1]`) to the emulator's TLS port and refuses everything else. TLS stays end to
//! end through the tunnel. Use it with `HTTPS_PROXY=http://127.0.0.1:{proxy_port}`.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MAX_HEAD: usize = 8 * 1024;

/// Whether `authority` (`host:port`) may be tunnelled to the emulator on `port`.
pub fn allowed(authority: &str, port: u16) -> bool {
    let Some((host, p)) = authority.rsplit_once(':') else {
        return false;
    };
    if p.parse::<u16>().ok() != Some(port) {
        return false;
    }
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1" || host == "[::1]"
}

async fn reply(stream: &mut TcpStream, status: &str) {
    let _ = stream
        .write_all(
            format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await;
}

async fn serve_one(mut client: TcpStream, target_port: u16) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            reply(&mut client, "431 Request Header Fields Too Large").await;
            return;
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, authority) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !method.eq_ignore_ascii_case("CONNECT") {
        reply(&mut client, "405 Method Not Allowed").await;
        return;
    }
    if !allowed(authority, target_port) {
        tracing::warn!(authority, "proxy refused a CONNECT outside the emulator");
        reply(&mut client, "403 Forbidden").await;
        return;
    }
    let mut upstream =
        match TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], target_port))).await {
            Ok(s) => s,
            Err(_) => {
                reply(&mut client, "502 Bad Gateway").await;
                return;
            }
        };
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let rest = &buf[head_end..];
    if !rest.is_empty() && upstream.write_all(rest).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// Accepts proxy connections until the task is aborted.
pub async fn run(listener: TcpListener, target_port: u16) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_one(stream, target_port));
            }
            Err(e) => {
                tracing::warn!(error = %e, "proxy accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
