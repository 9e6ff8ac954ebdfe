//! Custody crypto (docs/security.md): the master key and what is derived from it, the Argon2id
//! policy, the PIN / answers wraps of the user key, and the AEAD used everywhere.
//!
//! The master key alone opens nothing of a user's: it is only a *pepper* mixed (through HKDF)
//! into the key derived by Argon2id from the PIN or the answers. Every plaintext key lives in
//! a zeroizing type for the duration of one operation.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length of every symmetric key latchkey handles.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const SALT_LEN: usize = 16;

/// 32 bytes of secret key material; zeroized on drop, `Debug` prints `***`.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// Wraps existing bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Fresh random key from the OS generator.
    pub fn random() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The raw bytes, for a KDF or cipher.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// HKDF-SHA256 expansion of this key into a sub-key for `purpose` (and an optional salt).
    pub fn derive(&self, salt: Option<&[u8]>, purpose: &[&[u8]]) -> SecretKey {
        hkdf_expand(salt, &self.0, purpose)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

fn hkdf_expand(salt: Option<&[u8]>, ikm: &[u8], info: &[&[u8]]) -> SecretKey {
    let hk = Hkdf::<Sha256>::new(salt, ikm);
    let mut out = [0u8; KEY_LEN];
    // Invariant: HKDF-SHA256 refuses only outputs longer than 255 * 32 bytes; ours is 32.
    #[allow(clippy::expect_used)]
    hk.expand_multi_info(info, &mut out)
        .expect("HKDF-SHA256 always expands to 32 bytes");
    SecretKey(out)
}

/// The server's master key: held outside the database, the same on every instance.
#[derive(Clone)]
pub struct MasterKey(SecretKey);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// From 32 raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(SecretKey(bytes))
    }

    /// A new random master key.
    pub fn generate() -> Self {
        Self(SecretKey::random())
    }

    /// The raw bytes, only to write the key file.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        self.0.expose()
    }

    /// The key that signs session tokens (HS256); every instance derives the same one.
    pub fn session_signing_key(&self) -> SecretKey {
        self.0.derive(None, &[b"latchkey/v1/session-token-signing"])
    }

    /// The encryptionKey paired with one session token: derived from the token id, so it
    /// needs no storage and no other token's key opens its payloads.
    pub fn token_encryption_key(&self, token_id: &str) -> SecretKey {
        self.0.derive(
            Some(token_id.as_bytes()),
            &[b"latchkey/v1/token-encryption-key"],
        )
    }

    /// The pepper mixed into every PIN / answers wrap key.
    pub fn pepper(&self) -> SecretKey {
        self.0.derive(None, &[b"latchkey/v1/wrap-pepper"])
    }

    /// The key that encrypts server-side secrets at rest (e.g. webhook signing keys).
    pub fn server_secrets_key(&self) -> SecretKey {
        self.0.derive(None, &[b"latchkey/v1/server-secrets"])
    }

    /// An Ed25519 seed of the development faucet on a local Solana node (`role`: `authority`,
    /// the fee payer and mint authority; `usdc-mint`, the test USDC mint's address). Derived,
    /// so every instance and every restart finds the same mint without storing a key; it
    /// guards only test tokens on a local node.
    pub fn solana_dev_faucet_seed(&self, blockchain: &str, role: &str) -> SecretKey {
        self.0.derive(
            Some(blockchain.as_bytes()),
            &[b"latchkey/v1/solana-dev-faucet/", role.as_bytes()],
        )
    }
}

/// AEAD failure: wrong key, wrong associated data or tampered ciphertext. Carries no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("could not open the sealed value")]
pub struct OpenError;

/// AES-256-GCM seal: returns `nonce ‖ ciphertext ‖ tag`.
pub fn seal(key: &SecretKey, associated_data: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let payload = Payload {
        msg: plaintext,
        aad: associated_data,
    };
    // Invariant: AES-GCM with a 12-byte nonce refuses only messages over 64 GiB; everything
    // latchkey seals is a key or a small secret.
    #[allow(clippy::expect_used)]
    let body = cipher
        .encrypt(Nonce::from_slice(&nonce), payload)
        .expect("AES-256-GCM seals any message under 64 GiB");
    let mut out = Vec::with_capacity(NONCE_LEN + body.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out
}

/// Opens `nonce ‖ ciphertext ‖ tag` sealed by [`seal`] (or by WebCrypto AES-GCM).
pub fn open(
    key: &SecretKey,
    associated_data: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(OpenError);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new(key.expose().into());
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: associated_data,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| OpenError)
}

/// Argon2id cost parameters; stored beside every wrap so a policy change never strands a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// RFC 9106's second recommended option: 64 MiB, 3 passes, 1 lane.
    pub const PRODUCTION: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// For tests and the emulator only: cheap enough for thousands of PINs a second, and
    /// brute-forceable with the master key. The server warns loudly when it is in use.
    pub const DEV: KdfParams = KdfParams {
        m_kib: 256,
        t: 1,
        p: 1,
    };

    /// Whether a wrap made with these parameters is cheaper to attack than one made under
    /// `policy`: less memory or fewer passes. Lanes do not count: more lanes let an attacker
    /// run the same work in parallel, they do not add any.
    pub fn is_weaker_than(&self, policy: &KdfParams) -> bool {
        self.m_kib < policy.m_kib || self.t < policy.t
    }

    /// Encodes as `m,t,p` for storage.
    pub fn encode(&self) -> String {
        format!("{},{},{}", self.m_kib, self.t, self.p)
    }

    /// Decodes [`KdfParams::encode`]'s form.
    pub fn decode(text: &str) -> Option<Self> {
        let mut it = text.split(',').map(|p| p.trim().parse::<u32>().ok());
        let (m_kib, t, p) = (it.next()??, it.next()??, it.next()??);
        Some(Self { m_kib, t, p })
    }
}

/// Runs Argon2id over `secret` with `salt`: the slow step of every wrap and every guess.
pub fn argon2id(params: KdfParams, secret: &[u8], salt: &[u8]) -> Result<SecretKey, OpenError> {
    let p = argon2::Params::new(params.m_kib, params.t, params.p, Some(KEY_LEN))
        .map_err(|_| OpenError)?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = [0u8; KEY_LEN];
    a.hash_password_into(secret, salt, &mut out)
        .map_err(|_| OpenError)?;
    Ok(SecretKey(out))
}

/// What a wrap protects the user key for; part of both the HKDF info and the AEAD data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapPurpose {
    /// Opened by the PIN.
    Pin,
    /// Opened by the security answers.
    Answers,
}

impl WrapPurpose {
    fn label(self) -> &'static [u8] {
        // The labels are bound into every stored wrap: they never change (the answers' label
        // keeps the name the answers wrap had when the first wraps were made).
        match self {
            WrapPurpose::Pin => b"pin",
            WrapPurpose::Answers => b"recovery",
        }
    }
}

/// The user key sealed under a key derived from a PIN or from the answers.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Argon2id salt (random per wrap).
    pub salt: Vec<u8>,
    /// Argon2id parameters used.
    pub params: KdfParams,
    /// `nonce ‖ ciphertext ‖ tag` of the user key.
    pub sealed: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Identifies whose key a wrap holds; bound into the wrap so it cannot be moved to another
/// user or entity in the database.
#[derive(Debug, Clone, Copy)]
pub struct WrapContext<'a> {
    /// The developer entity id.
    pub entity_id: &'a str,
    /// The user's internal id.
    pub user_internal_id: &'a str,
}

impl WrapContext<'_> {
    fn associated_data(&self, purpose: WrapPurpose) -> Vec<u8> {
        let mut ad = Vec::new();
        for part in [
            b"latchkey/v1/user-key".as_slice(),
            purpose.label(),
            self.entity_id.as_bytes(),
            self.user_internal_id.as_bytes(),
        ] {
            ad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            ad.extend_from_slice(part);
        }
        ad
    }

    fn wrap_key(
        &self,
        master: &MasterKey,
        purpose: WrapPurpose,
        params: KdfParams,
        secret: &[u8],
        salt: &[u8],
    ) -> Result<SecretKey, OpenError> {
        let stretched = argon2id(params, secret, salt)?;
        let pepper = master.pepper();
        let ad = self.associated_data(purpose);
        Ok(hkdf_expand(
            Some(pepper.expose()),
            stretched.expose(),
            &[b"latchkey/v1/wrap-key", &ad],
        ))
    }

    /// Seals `user_key` under `secret` (a PIN or the encoded answers). Costs one Argon2id.
    pub fn wrap(
        &self,
        master: &MasterKey,
        purpose: WrapPurpose,
        params: KdfParams,
        secret: &[u8],
        user_key: &SecretKey,
    ) -> Result<WrappedKey, OpenError> {
        let mut salt = vec![0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let key = self.wrap_key(master, purpose, params, secret, &salt)?;
        let sealed = seal(&key, &self.associated_data(purpose), user_key.expose());
        Ok(WrappedKey {
            salt,
            params,
            sealed,
        })
    }

    /// Opens a wrap with `secret`: the AEAD tag is the PIN / answer check. Costs one Argon2id.
    pub fn unwrap(
        &self,
        master: &MasterKey,
        purpose: WrapPurpose,
        secret: &[u8],
        wrapped: &WrappedKey,
    ) -> Result<SecretKey, OpenError> {
        let key = self.wrap_key(master, purpose, wrapped.params, secret, &wrapped.salt)?;
        let plain = open(&key, &self.associated_data(purpose), &wrapped.sealed)?;
        let bytes: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| OpenError)?;
        Ok(SecretKey(bytes))
    }
}

/// The key that seals one wallet's chain secret: HKDF of the user key, bound to the wallet.
/// Returns the key and the associated data for the AEAD.
pub fn wallet_sealing_key(
    user_key: &SecretKey,
    entity_id: &str,
    user_internal_id: &str,
    wallet_id: &str,
) -> (SecretKey, Vec<u8>) {
    let ad =
        format!("latchkey/v1/wallet-key/{entity_id}/{user_internal_id}/{wallet_id}").into_bytes();
    (user_key.derive(None, &[&ad]), ad)
}

/// Base64 (standard alphabet, padded), as Circle's encryptionKey is.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(data).into()
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: WrapContext<'static> = WrapContext {
        entity_id: "entity",
        user_internal_id: "user",
    };

    #[test]
    fn seal_open_round_trip_and_binding() {
        let k = SecretKey::random();
        let sealed = seal(&k, b"ad", b"hello");
        assert_eq!(open(&k, b"ad", &sealed).unwrap().as_slice(), b"hello");
        assert!(open(&k, b"other", &sealed).is_err());
        assert!(open(&SecretKey::random(), b"ad", &sealed).is_err());
        assert!(open(&k, b"ad", &sealed[..10]).is_err());
    }

    #[test]
    fn wrap_opens_only_with_same_secret_master_and_context() {
        let master = MasterKey::generate();
        let user_key = SecretKey::random();
        let w = CTX
            .wrap(
                &master,
                WrapPurpose::Pin,
                KdfParams::DEV,
                b"135790",
                &user_key,
            )
            .unwrap();
        let opened = CTX
            .unwrap(&master, WrapPurpose::Pin, b"135790", &w)
            .unwrap();
        assert_eq!(opened, user_key);
        assert!(CTX
            .unwrap(&master, WrapPurpose::Pin, b"135791", &w)
            .is_err());
        assert!(CTX
            .unwrap(&MasterKey::generate(), WrapPurpose::Pin, b"135790", &w)
            .is_err());
        assert!(CTX
            .unwrap(&master, WrapPurpose::Answers, b"135790", &w)
            .is_err());
        let other = WrapContext {
            entity_id: "entity",
            user_internal_id: "someone-else",
        };
        assert!(other
            .unwrap(&master, WrapPurpose::Pin, b"135790", &w)
            .is_err());
    }

    #[test]
    fn token_keys_differ_per_token_and_master() {
        let m = MasterKey::generate();
        assert_ne!(m.token_encryption_key("a"), m.token_encryption_key("b"));
        assert_eq!(m.token_encryption_key("a"), m.token_encryption_key("a"));
        assert_ne!(
            m.token_encryption_key("a"),
            MasterKey::generate().token_encryption_key("a")
        );
    }

    #[test]
    fn weaker_means_less_memory_or_fewer_passes() {
        let p = KdfParams::PRODUCTION;
        assert!(KdfParams::DEV.is_weaker_than(&p));
        assert!(!p.is_weaker_than(&p));
        assert!(!p.is_weaker_than(&KdfParams::DEV), "never a downgrade");
        assert!(KdfParams { t: 2, ..p }.is_weaker_than(&p));
        assert!(KdfParams { m_kib: 1024, ..p }.is_weaker_than(&p));
        assert!(!KdfParams { p: 4, ..p }.is_weaker_than(&p));
    }

    #[test]
    fn kdf_params_encode_round_trip() {
        let p = KdfParams::PRODUCTION;
        assert_eq!(KdfParams::decode(&p.encode()), Some(p));
        assert_eq!(KdfParams::decode("1,2"), None);
    }

    #[test]
    fn debug_never_prints_key_material() {
        let k = SecretKey::from_bytes([7u8; 32]);
        assert_eq!(format!("{k:?}"), "***");
        assert_eq!(format!("{:?}", MasterKey::generate()), "MasterKey(***)");
    }
}
