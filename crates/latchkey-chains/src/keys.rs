//! Key generation, addresses and message signing.

use crate::{ChainError, Family};
use alloy_primitives::{keccak256, Address};
use ed25519_dalek::Signer as _;
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use rand::RngCore as _;
use sha3::{Digest as _, Sha3_256};
use zeroize::Zeroizing;

/// Generates fresh key material for `family` from the operating system's RNG: a 32-byte
/// secp256k1 secret scalar for EVM, a 32-byte Ed25519 seed for the others.
pub fn generate(family: Family) -> Zeroizing<Vec<u8>> {
    let mut rng = rand::rngs::OsRng;
    loop {
        let mut bytes = Zeroizing::new(vec![0u8; 32]);
        rng.fill_bytes(&mut bytes);
        // A uniformly random 32-byte string is a valid secp256k1 scalar with probability
        // 1 - 2^-128; the loop only guards the remainder.
        if family != Family::Evm || evm_key(&bytes).is_ok() {
            return bytes;
        }
    }
}

/// The address of the key `secret` in `family`'s format: EVM = EIP-55 checksummed `0x`
/// address; Solana = base58 of the Ed25519 public key; NEAR = the implicit account id
/// (lowercase hex of the public key); Aptos = `0x` + hex of SHA3-256(public key ‖ 0x00).
pub fn address(family: Family, secret: &[u8]) -> Result<String, ChainError> {
    Ok(match family {
        Family::Evm => evm_address(&evm_key(secret)?),
        Family::Solana => bs58::encode(ed_key(secret)?.verifying_key().as_bytes()).into_string(),
        Family::Near => hex::encode(ed_key(secret)?.verifying_key().as_bytes()),
        Family::Aptos => {
            let mut h = Sha3_256::new();
            h.update(ed_key(secret)?.verifying_key().as_bytes());
            h.update([0u8]);
            format!("0x{}", hex::encode(h.finalize()))
        }
    })
}

/// Signs `message` and returns the signature in the chain's usual text form:
/// - EVM: EIP-191 `personal_sign` — `0x` + hex of the 65 bytes r‖s‖v, v = 27/28 (what
///   ethers' `verifyMessage` accepts);
/// - Solana and NEAR: base58 of the raw 64-byte Ed25519 signature over `message`;
/// - Aptos: `0x` + hex of the raw 64-byte Ed25519 signature over `message`.
///
/// [`sign_message_bytes`] gives the same signature as raw bytes (to hex-encode instead).
pub fn sign_message(family: Family, secret: &[u8], message: &[u8]) -> Result<String, ChainError> {
    let sig = sign_message_bytes(family, secret, message)?;
    Ok(match family {
        Family::Evm | Family::Aptos => format!("0x{}", hex::encode(sig)),
        Family::Solana | Family::Near => bs58::encode(sig).into_string(),
    })
}

/// [`sign_message`] as raw bytes: 65 bytes r‖s‖v (v = 27/28) for EVM, 64 bytes for Ed25519.
pub fn sign_message_bytes(
    family: Family,
    secret: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, ChainError> {
    match family {
        Family::Evm => {
            Ok(sign_evm_hash(&evm_key(secret)?, &personal_message_hash(message))?.to_vec())
        }
        Family::Solana | Family::Near | Family::Aptos => {
            Ok(ed_key(secret)?.sign(message).to_bytes().to_vec())
        }
    }
}

/// The EIP-191 `personal_sign` hash: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message).
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut buf = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    buf.extend_from_slice(message);
    keccak256(&buf).0
}

/// Recovers the EIP-55 address that produced `signature` (`0x` + 65-byte r‖s‖v hex, v =
/// 0/1/27/28) over the 32-byte `hash`.
pub fn recover_evm_address(hash: &[u8; 32], signature: &str) -> Result<String, ChainError> {
    let bad = || ChainError::new(crate::codes::API_PARAMETER_INVALID, "invalid signature");
    let raw = hex::decode(signature.strip_prefix("0x").unwrap_or(signature)).map_err(|_| bad())?;
    if raw.len() != 65 {
        return Err(bad());
    }
    let v = match raw[64] {
        0 | 27 => 0,
        1 | 28 => 1,
        _ => return Err(bad()),
    };
    let sig = Signature::from_slice(&raw[..64]).map_err(|_| bad())?;
    let recid = RecoveryId::from_byte(v).ok_or_else(bad)?;
    let key = VerifyingKey::recover_from_prehash(hash, &sig, recid).map_err(|_| bad())?;
    Ok(address_of(&key).to_checksum(None))
}

/// The secp256k1 signing key of a 32-byte EVM secret.
pub(crate) fn evm_key(secret: &[u8]) -> Result<SigningKey, ChainError> {
    if secret.len() != 32 {
        return Err(ChainError::internal("EVM key material must be 32 bytes"));
    }
    SigningKey::from_slice(secret)
        .map_err(|_| ChainError::internal("invalid secp256k1 key material"))
}

/// The EIP-55 address of a secp256k1 key.
pub(crate) fn evm_address(key: &SigningKey) -> String {
    address_of(key.verifying_key()).to_checksum(None)
}

/// keccak256 of the uncompressed public key (without its 0x04 tag), last 20 bytes.
pub(crate) fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    Address::from_raw_public_key(&point.as_bytes()[1..])
}

/// Signs a 32-byte hash: r‖s‖v with low s and v = 27 + y-parity.
pub(crate) fn sign_evm_hash(key: &SigningKey, hash: &[u8; 32]) -> Result<[u8; 65], ChainError> {
    let (sig, recid) = key
        .sign_prehash_recoverable(hash)
        .map_err(|_| ChainError::internal("secp256k1 signing failed"))?;
    // k256 normalises s to the lower half; normalise again in case that ever changes,
    // flipping the parity with it.
    let (sig, parity) = match sig.normalize_s() {
        Some(low) => (low, !recid.is_y_odd()),
        None => (sig, recid.is_y_odd()),
    };
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = 27 + u8::from(parity);
    Ok(out)
}

/// The Ed25519 signing key of a 32-byte seed, or of a 64-byte Solana keypair (seed ‖ public
/// key, whose public half must match).
pub(crate) fn ed_key(secret: &[u8]) -> Result<ed25519_dalek::SigningKey, ChainError> {
    let bad = || ChainError::internal("Ed25519 key material must be a 32-byte seed");
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        secret
            .get(..32)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?,
    );
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    match secret.len() {
        32 => Ok(key),
        64 if key.verifying_key().as_bytes()[..] == secret[32..] => Ok(key),
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
