//! Encryption at rest of what a container group persists: environment values, secure values,
//! commands and logs are sealed with AES-256-GCM under the group's data key, with the group id
//! as associated data. Only the data key, wrapped, is stored next to them.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A 256-bit data key, zeroed on drop is not guaranteed by aws-lc here; it never leaves the
/// process and is never logged or serialised.
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(***)")
    }
}

impl DataKey {
    /// A copy of the key (for the cache of unwrapped data keys; it stays in the process).
    pub fn duplicate(&self) -> Self {
        Self(self.0)
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, String> {
        let mut k = [0u8; 32];
        SystemRandom::new()
            .fill(&mut k)
            .map_err(|_| "the random generator failed".to_owned())?;
        Ok(Self(k))
    }

    /// A key from its bytes (after unwrapping).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let k: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the unwrapped data key is not 256 bits".to_owned())?;
        Ok(Self(k))
    }

    /// The raw bytes, to wrap.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn aead(&self) -> Result<LessSafeKey, String> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| "invalid data key".to_owned())
    }

    /// Seals `plaintext` for the group `aad`: base64url of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "the random generator failed".to_owned())?;
        let mut buf = plaintext.to_vec();
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| "sealing failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(B64.encode(out))
    }

    /// Opens what [`seal`](Self::seal) produced for the same group.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, String> {
        let raw = B64
            .decode(sealed)
            .map_err(|_| "sealed value is not base64url".to_owned())?;
        if raw.len() < NONCE_LEN {
            return Err("sealed value is too short".to_owned());
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| "sealed value is too short".to_owned())?;
        let mut buf = ct.to_vec();
        let plain = self
            .aead()?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| {
                "the sealed value does not open with this key (tampered, or another group's)"
                    .to_owned()
            })?;
        Ok(plain.to_vec())
    }

    /// Opens a sealed UTF-8 string.
    pub fn open_string(&self, aad: &str, sealed: &str) -> Result<String, String> {
        String::from_utf8(self.open(aad, sealed)?)
            .map_err(|_| "sealed value is not UTF-8".to_owned())
    }
}

/// Base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decodes base64url without padding.
pub fn unb64(s: &str) -> Result<Vec<u8>, String> {
    B64.decode(s).map_err(|_| "not base64url".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let k = DataKey::generate().expect("key");
        let sealed = k.seal("/subscriptions/s/cg/a", b"hunter2").expect("seal");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(
            k.open("/subscriptions/s/cg/a", &sealed).expect("open"),
            b"hunter2"
        );
        // Bound to the group: another group's id does not open it.
        assert!(k.open("/subscriptions/s/cg/b", &sealed).is_err());
        // Another key does not open it.
        let other = DataKey::generate().expect("key");
        assert!(other.open("/subscriptions/s/cg/a", &sealed).is_err());
        // Two seals of the same value differ (fresh nonce).
        assert_ne!(
            sealed,
            k.seal("/subscriptions/s/cg/a", b"hunter2").expect("seal")
        );
        assert!(!format!("{k:?}").contains(&format!("{:?}", k.bytes())));
    }
}
