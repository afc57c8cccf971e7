//! Deterministic names: `uniqueString` (ARM's 64-bit MurmurHash variant in base32), `guid`
//! (a name-based UUID over ARM's namespace) and `newGuid`.

use serde_json::{Value, json};

use super::args::{arity, strings};
use crate::error::EvalError;

/// The naming functions; `None` when `lname` is not one.
pub(super) fn call(f: &str, lname: &str, a: &[Value]) -> Option<Result<Value, EvalError>> {
    Some(match lname {
        "uniquestring" => arity(f, a, 1, usize::MAX)
            .and_then(|()| Ok(json!(unique_string(&strings(f, a)?.join("-"))))),
        "guid" => arity(f, a, 1, usize::MAX)
            .and_then(|()| Ok(json!(deterministic_guid(&strings(f, a)?.join("-"))))),
        "newguid" => arity(f, a, 0, 0).map(|()| json!(uuid::Uuid::new_v4().to_string())),
        _ => return None,
    })
}

/// The 64-bit MurmurHash variant ARM uses for `uniqueString` (two 32-bit lanes over 8-byte
/// blocks, little-endian), written from the algorithm's description.
fn arm_murmur64(data: &[u8]) -> u64 {
    const C1: u32 = 0x239b_961b;
    const C2: u32 = 0xab0e_9789;
    const F1: u32 = 0x85eb_ca6b;
    const F2: u32 = 0xc2b2_ae35;
    let le = |b: &[u8]| -> u32 {
        b.iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (u32::from(*x) << (8 * i)))
    };
    let (mut h1, mut h2) = (0u32, 0u32);
    let mut chunks = data.chunks_exact(8);
    for block in &mut chunks {
        let k1 = le(&block[..4])
            .wrapping_mul(C1)
            .rotate_left(15)
            .wrapping_mul(C2);
        let k2 = le(&block[4..])
            .wrapping_mul(C2)
            .rotate_left(17)
            .wrapping_mul(C1);
        h1 = (h1 ^ k1).rotate_left(19).wrapping_add(h2);
        h1 = h1.wrapping_mul(5).wrapping_add(0x561c_cd1b);
        h2 = (h2 ^ k2).rotate_left(13).wrapping_add(h1);
        h2 = h2.wrapping_mul(5).wrapping_add(0x0bca_a747);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let (a, b) = rest.split_at(rest.len().min(4));
        h1 ^= le(a).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        if !b.is_empty() {
            h2 ^= le(b).wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
        }
    }
    // The length enters modulo 2^32, as in the 32-bit original.
    let len = data.len() as u32;
    h2 ^= len;
    h1 = (h1 ^ len).wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    let fmix = |mut h: u32| {
        h = (h ^ (h >> 16)).wrapping_mul(F1);
        h = (h ^ (h >> 13)).wrapping_mul(F2);
        h ^ (h >> 16)
    };
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

/// `uniqueString(...)` of the hyphen-joined arguments: 13 lowercase base32 characters.
pub fn unique_string(input: &str) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut h = arm_murmur64(input.as_bytes());
    let mut out = String::with_capacity(13);
    for _ in 0..13 {
        out.push(char::from(ALPHABET[(h >> 59) as usize & 31]));
        h <<= 5;
    }
    out
}

/// Namespace of ARM's `guid()` (a name-based, SHA-1 UUID).
const GUID_NAMESPACE: uuid::Uuid = uuid::uuid!("11fb06fb-712d-4ddd-98c7-e71bbd588830");

/// `guid(...)` of the hyphen-joined arguments.
pub fn deterministic_guid(input: &str) -> String {
    uuid::Uuid::new_v5(&GUID_NAMESPACE, input.as_bytes()).to_string()
}
