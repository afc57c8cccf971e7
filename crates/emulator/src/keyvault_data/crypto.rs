//! RSA key generation and RSA-OAEP / RSA-OAEP-256 / RSA1_5 wrap and unwrap with aws-lc-rs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Signalled when a key is taken (the pool thread refills).
    wanted: Condvar,
    /// Signalled when a key is added (a creation waiting for one takes it).
    filled: Condvar,
    /// Generations started by creations that found the pool empty, still running.
    helpers: AtomicUsize,
}

impl Pool {
    fn add(&self, key: RsaKey) {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(key);
        self.filled.notify_all();
    }

    /// A ready key, if there is one (the pool thread is told to refill).
    fn take(&self) -> Option<RsaKey> {
        let key = self.keys.lock().unwrap_or_else(|p| p.into_inner()).pop();
        self.wanted.notify_one();
        key
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<&'static Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            keys: Mutex::new(Vec::new()),
            wanted: Condvar::new(),
            filled: Condvar::new(),
            helpers: AtomicUsize::new(0),
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
                        pool.add(key);
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
        return rsa_2048(pool());
    }
    generate_fresh_bits(bits)
}

/// Most generations creations start beside the pool thread's (one per core).
fn max_helpers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A 2048-bit key from the pool. When it is empty (a fresh emulator's first creations), a
/// generation starts beside the pool thread's and the creation takes whichever key is ready
/// first, the other staying in the pool: a generation's time varies from tens to hundreds of
/// milliseconds, and the pool's has a head start.
fn rsa_2048(pool: &'static Pool) -> Result<RsaKey, String> {
    if let Some(key) = pool.take() {
        return Ok(key);
    }
    let helper_slot = pool
        .helpers
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |running| {
            (running < max_helpers()).then_some(running + 1)
        });
    if helper_slot.is_ok() {
        let helper = std::thread::Builder::new()
            .name("rsa-key-helper".into())
            .spawn(move || {
                if let Ok(key) = generate_fresh(KeySize::Rsa2048) {
                    pool.add(key);
                }
                pool.helpers.fetch_sub(1, Ordering::SeqCst);
                pool.filled.notify_all();
            });
        if helper.is_err() {
            pool.helpers.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let mut keys = pool.keys.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if let Some(key) = keys.pop() {
            drop(keys);
            pool.wanted.notify_one();
            return Ok(key);
        }
        // Nothing generating for us (no helper could start, and the pool thread may be
        // gone): generate here rather than wait for a key that may never come.
        let (next, waited) = pool
            .filled
            .wait_timeout(keys, std::time::Duration::from_secs(1))
            .unwrap_or_else(|p| p.into_inner());
        keys = next;
        if waited.timed_out() && keys.is_empty() && pool.helpers.load(Ordering::SeqCst) == 0 {
            drop(keys);
            return generate_fresh(KeySize::Rsa2048);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// More creations at once than the pool holds and than helpers may start: each gets its
    /// own working key, none waits forever, and no key is handed out twice.
    #[test]
    fn creations_on_an_empty_pool_each_get_their_own_key() {
        let creations = POOL_TARGET + max_helpers() + 2;
        let keys: Vec<RsaKey> = (0..creations)
            .map(|_| std::thread::spawn(|| generate_rsa(2048).expect("key")))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("creation"))
            .collect();
        let mut moduli: Vec<&[u8]> = keys.iter().map(|k| k.n.as_slice()).collect();
        moduli.sort();
        moduli.dedup();
        assert_eq!(moduli.len(), creations, "a key was handed out twice");
        for key in &keys {
            assert_eq!(key.n.len(), 256);
            let wrapped = wrap(&key.pkcs8, WrapAlg::RsaOaep256, &[9u8; 32]).expect("wrap");
            assert_eq!(
                unwrap(&key.pkcs8, WrapAlg::RsaOaep256, &wrapped).expect("unwrap"),
                [9u8; 32]
            );
        }
    }
}
