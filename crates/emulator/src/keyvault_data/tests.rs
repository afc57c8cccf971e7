//! Unit tests of the data plane: the RSA wrap and unwrap round trips.

use super::crypto::{self, WrapAlg};
use super::records::*;

#[test]
fn base64url_is_checked() {
    assert_eq!(decode_b64url("AQAB"), Some(vec![1, 0, 1]));
    assert_eq!(decode_b64url("_-8"), Some(vec![0xff, 0xef]));
    assert_eq!(decode_b64url("_-8="), Some(vec![0xff, 0xef]));
    assert_eq!(decode_b64url("/+8"), None);
    assert_eq!(decode_b64url("a b"), None);
    assert_eq!(decode_b64url("A"), None);
}

#[test]
fn rsa_oaep_round_trips_for_each_algorithm() {
    let k = crypto::generate_rsa(2048).expect("keygen");
    for alg in ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"] {
        let a = WrapAlg::parse(alg).expect("alg");
        let w = crypto::wrap(&k.pkcs8, a, b"cek").expect("wrap");
        assert_eq!(w.len(), 256);
        assert_eq!(crypto::unwrap(&k.pkcs8, a, &w).expect("unwrap"), b"cek");
    }
    assert!(crypto::wrap(&k.pkcs8, WrapAlg::RsaOaep256, &[0u8; 300]).is_err());
    assert!(crypto::unwrap(&k.pkcs8, WrapAlg::RsaOaep256, &[0u8; 256]).is_err());
    assert!(crypto::generate_rsa(1024).is_err());
}
