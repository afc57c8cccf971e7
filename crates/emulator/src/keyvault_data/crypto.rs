//! RSA key generation and RSA-OAEP / RSA-OAEP-256 / RSA1_5 wrap and unwrap with aws-lc-rs.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

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

/// How many RSA-2048 keys are kept generated ahead of demand.
const POOL_TARGET: usize = 4;

struct Pool {
    keys: Mutex<Vec<RsaKey>>,
    wanted: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<&'static Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            keys: Mutex::new(Vec::new()),
            wanted: Condvar::new(),
        }));
        // One background thread keeps a few RSA-2048 keys ready, so a key creation answers in
        // microseconds instead of the ~100 ms (and very variable) a generation takes; it sleeps
        // while the pool is full.
        let spawned = std::thread::Builder::new()
            .name("rsa-key-pool".into())
            .spawn(move || {
                loop {
                    {
                        let mut keys = pool.keys.lock().unwrap_or_else(|p| p.into_inner());
                        while keys.len() >= POOL_TARGET {
                            keys = pool.wanted.wait(keys).unwrap_or_else(|p| p.into_inner());
                        }
                    }
                    if let Ok(key) = generate_fresh(KeySize::Rsa2048) {
                        pool.keys
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(key);
                    }
                }
            });
        if spawned.is_err() {
            tracing::warn!("no RSA key pool thread: keys are generated on demand");
        }
        pool
    })
}

/// Starts filling the RSA-2048 key pool in the background (idempotent).
pub fn warm_key_pool() {
    pool().wanted.notify_one();
}

/// Generates an RSA key of 2048, 3072 or 4096 bits (2048-bit keys come from a pool generated
/// ahead of time in the background, when it has one ready).
pub fn generate_rsa(bits: u32) -> Result<RsaKey, String> {
    if bits == 2048 {
        let pool = pool();
        let ready = pool.keys.lock().unwrap_or_else(|p| p.into_inner()).pop();
        pool.wanted.notify_one();
        if let Some(key) = ready {
            return Ok(key);
        }
    }
    generate_fresh_bits(bits)
}

fn generate_fresh_bits(bits: u32) -> Result<RsaKey, String> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return Err(format!("unsupported key size {bits}")),
    };
    generate_fresh(size)
}

fn generate_fresh(size: KeySize) -> Result<RsaKey, String> {
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

/// Parsed private keys by the SHA-256 of their PKCS#8: parsing costs more than an RSA-2048
/// decryption, and every unwrap of a version uses the same key. Bounded; cleared when full.
fn private_key(pkcs8: &[u8]) -> Result<PrivateDecryptingKey, String> {
    const MAX: usize = 4096;
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Arc<PrivateDecryptingKey>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pkcs8);
    let mut id = [0u8; 32];
    id.copy_from_slice(digest.as_ref());
    if let Some(key) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
        return Ok(PrivateDecryptingKey::clone(key));
    }
    let key = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| "invalid key".to_owned())?;
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= MAX {
        cache.clear();
    }
    cache.insert(id, Arc::new(key.clone()));
    Ok(key)
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
    let private = private_key(pkcs8)?;
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
    let private = private_key(pkcs8)?;
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
