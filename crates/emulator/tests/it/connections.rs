//! The server's connection limits: a client that sends its headers too slowly is disconnected,
//! connections over the cap are closed at once, and other clients are served meanwhile.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use aci_cmk_emulator::{ConnectionLimits, EmulatorOptions};
use base64::Engine;
use reqwest::Method;

use crate::common::{Env, watch_until};

/// A blocking TLS connection to the emulator that trusts its CA (HTTP/1.1, no ALPN).
fn tls_connection(env: &Env) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let pem = env.emu.ca_cert_pem();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("CA PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .expect("CA");
    let cfg = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).expect("client");
    let port = env.info.arm_endpoint.rsplit(':').next().expect("port");
    let tcp = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    rustls::StreamOwned::new(conn, tcp)
}

/// Whether the server has closed the connection (a read sees the end or an error, not a
/// timeout).
fn closed_by_server(s: &mut impl Read, tcp_timeout: &TcpStream) -> bool {
    tcp_timeout
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("timeout");
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(0) => true,
        // Anything the server sends before a request is complete ends the exchange.
        Ok(_) => true,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

fn limits(max_connections: usize, header_read_timeout: Duration) -> EmulatorOptions {
    EmulatorOptions {
        limits: ConnectionLimits {
            max_connections,
            header_read_timeout,
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_headers_too_slowly_is_disconnected_while_others_are_served() {
    let env = Env::start_with(limits(64, Duration::from_millis(300))).await;
    let mut slow = tls_connection(&env);
    // One byte at a time, far slower than any client: the server gives up on the headers.
    let trickle = tokio::task::spawn_blocking(move || {
        let request = b"GET /subscriptions?api-version=2022-12-01 HTTP/1.1\r\nHost: localhost\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        for (sent, b) in request.iter().enumerate() {
            if slow.write_all(&[*b]).and_then(|()| slow.flush()).is_err() {
                return Some(sent);
            }
            let tcp = slow.sock.try_clone().expect("socket");
            if closed_by_server(&mut slow, &tcp) {
                return Some(sent);
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        None
    });
    // Meanwhile the emulator answers other clients.
    env.arm(Method::GET, "/subscriptions", "2022-12-01", None)
        .await
        .expect(200);
    let cut_after = trickle.await.expect("trickle");
    assert!(
        cut_after.is_some(),
        "a connection sending its headers at a byte per 30 ms was kept for all of them"
    );
    env.arm(Method::GET, "/subscriptions", "2022-12-01", None)
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_closed_at_once_and_served_again_below_it() {
    let env = Env::start_with(limits(3, Duration::from_secs(30))).await;
    let token = env.arm_token().await;
    // The client's own pooled connection would count against the cap.
    let fresh = crate::common::client(env.emu.ca_cert_pem());
    let port = env
        .info
        .arm_endpoint
        .rsplit(':')
        .next()
        .expect("port")
        .to_owned();
    // Three open connections: the test client's pooled one (from the token request) and two
    // held here.
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect"))
        .collect();
    let over = tokio::task::spawn_blocking(move || {
        // The three are registered before a fourth is accepted (the accept loop takes them in
        // order); the fourth is closed without a byte.
        let mut s = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(n) => n == 0,
            Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    })
    .await
    .expect("probe");
    assert!(over, "a connection over the cap was kept open");
    // Below the cap again (once the server has seen the held connections close), a request on
    // a connection of its own is served.
    let mut open = env.emu.admin().watch_connections();
    drop(held);
    watch_until("the held connections' close", &mut open, |n| *n < 3).await;
    let r = fresh
        .get(format!(
            "{}/subscriptions?api-version=2022-12-01",
            env.info.arm_endpoint
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("served below the cap");
    assert_eq!(r.status(), 200);
}
