//! RSA key generation and RSA-OAEP / RSA-OAEP-256 / RSA1_5 wrap and unwrap with aws-lc-rs.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm,
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
    Pkcs1PublicEncryptingKey, PrivateDecryptingKey,
};

/// A generated RSA key: PKCS#8 private key and the public modulus/exponent (big-endian).
#[derive(Clone)]
pub struct RsaKey {
    /// PKCS#8 DER of the private key.
    pub pkcs8: Vec<u8>,
    /// Modulus.
    pub n: Vec<u8>,
    /// Public exponent.
    pub e: Vec<u8>,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey")
            .field("bits", &(self.n.len() * 8))
            .finish_non_exhaustive()
    }
}

/// Generates an RSA key of 2048, 3072 or 4096 bits.
pub fn generate_rsa(bits: u32) -> Result<RsaKey, String> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return Err(format!("unsupported key size {bits}")),
    };
    let kp = KeyPair::generate(size).map_err(|_| "key generation failed".to_owned())?;
    let pkcs8 = kp
        .as_der()
        .map_err(|_| "key encoding failed".to_owned())?
        .as_ref()
        .to_vec();
    let public = aws_lc_rs::signature::KeyPair::public_key(&kp);
    Ok(RsaKey {
        pkcs8,
        n: public.modulus().big_endian_without_leading_zero().to_vec(),
        e: public.exponent().big_endian_without_leading_zero().to_vec(),
    })
}

/// Key-wrapping algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapAlg {
    /// RSA-OAEP (SHA-1).
    RsaOaep,
    /// RSA-OAEP-256.
    RsaOaep256,
    /// RSAES-PKCS1-v1_5.
    Rsa15,
}

impl WrapAlg {
    /// Parses the JWA name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RSA-OAEP" => Some(Self::RsaOaep),
            "RSA-OAEP-256" => Some(Self::RsaOaep256),
            "RSA1_5" => Some(Self::Rsa15),
            _ => None,
        }
    }

    fn oaep(self) -> Option<&'static OaepAlgorithm> {
        match self {
            Self::RsaOaep => Some(&OAEP_SHA1_MGF1SHA1),
            Self::RsaOaep256 => Some(&OAEP_SHA256_MGF1SHA256),
            Self::Rsa15 => None,
        }
    }
}

/// Encrypts (wraps) `plaintext` with the public half of the key.
pub fn wrap(pkcs8: &[u8], alg: WrapAlg, plaintext: &[u8]) -> Result<Vec<u8>, String> {
    let private = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| "invalid key".to_owned())?;
    let public = private.public_key();
    match alg.oaep() {
        Some(a) => {
            let k = OaepPublicEncryptingKey::new(public).map_err(|_| "invalid key".to_owned())?;
            if plaintext.len() > k.max_plaintext_size(a) {
                return Err(format!(
                    "The value is too long for the key and algorithm: at most {} bytes.",
                    k.max_plaintext_size(a)
                ));
            }
            let mut out = vec![0u8; k.ciphertext_size()];
            let n = k
                .encrypt(a, plaintext, &mut out, None)
                .map_err(|_| "encryption failed".to_owned())?
                .len();
            out.truncate(n);
            Ok(out)
        }
        None => {
            let k = Pkcs1PublicEncryptingKey::new(public).map_err(|_| "invalid key".to_owned())?;
            if plaintext.len() > k.max_plaintext_size() {
                return Err(format!(
                    "The value is too long for the key and algorithm: at most {} bytes.",
                    k.max_plaintext_size()
                ));
            }
            let mut out = vec![0u8; k.ciphertext_size()];
            let n = k
                .encrypt(plaintext, &mut out)
                .map_err(|_| "encryption failed".to_owned())?
                .len();
            out.truncate(n);
            Ok(out)
        }
    }
}

/// Decrypts (unwraps) `ciphertext` with the private key.
pub fn unwrap(pkcs8: &[u8], alg: WrapAlg, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
    let private = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| "invalid key".to_owned())?;
    let failed = || "The value could not be decrypted with this key and algorithm.".to_owned();
    match alg.oaep() {
        Some(a) => {
            let k = OaepPrivateDecryptingKey::new(private).map_err(|_| "invalid key".to_owned())?;
            let mut out = vec![0u8; k.min_output_size()];
            let n = k
                .decrypt(a, ciphertext, &mut out, None)
                .map_err(|_| failed())?
                .len();
            out.truncate(n);
            Ok(out)
        }
        None => {
            let k =
                Pkcs1PrivateDecryptingKey::new(private).map_err(|_| "invalid key".to_owned())?;
            let mut out = vec![0u8; k.min_output_size()];
            let n = k.decrypt(ciphertext, &mut out).map_err(|_| failed())?.len();
            out.truncate(n);
            Ok(out)
        }
    }
}
