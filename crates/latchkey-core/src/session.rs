//! Session tokens: a userToken is an HS256 JWT with Circle's claims, signed with a key derived
//! from the master key (so every instance of a cluster accepts it, and nothing is stored);
//! its encryptionKey is derived from the master key and the token id.

use crate::clock::Timestamp;
use crate::crypto::{b64, ct_eq, MasterKey, SecretKey};
use crate::error::{codes, ApiError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The issuer claim.
pub const ISSUER: &str = "latchkey";

/// Circle's claims, plus nothing secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionClaims {
    /// The developer's userId.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Token id; the encryptionKey is derived from it.
    pub jti: String,
    /// Issuer.
    pub iss: String,
    /// The developer entity.
    #[serde(rename = "entityId")]
    pub entity_id: String,
    /// The user's internal id.
    #[serde(rename = "internalUserId")]
    pub internal_user_id: String,
    /// TEST or LIVE: the environment of the API key that issued the token.
    #[serde(rename = "developerEntityEnvironment")]
    pub environment: String,
}

/// Issues and checks session tokens.
#[derive(Clone)]
pub struct SessionKeys {
    signing: SecretKey,
    master: MasterKey,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(***)")
    }
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

impl SessionKeys {
    /// Derives the signing key from the master key.
    pub fn new(master: &MasterKey) -> Self {
        Self {
            signing: master.session_signing_key(),
            master: master.clone(),
        }
    }

    fn mac(&self, signing_input: &[u8]) -> Result<Hmac<Sha256>, ApiError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.signing.expose())
            .map_err(|_| ApiError::internal())?;
        mac.update(signing_input);
        Ok(mac)
    }

    /// Signs `claims` into a compact JWT.
    pub fn issue(&self, claims: &SessionClaims) -> Result<String, ApiError> {
        let payload = serde_json::to_vec(claims).map_err(|_| ApiError::internal())?;
        let mut token = String::with_capacity(400);
        token.push_str(&URL_SAFE_NO_PAD.encode(HEADER));
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let tag = self.mac(token.as_bytes())?.finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(tag));
        Ok(token)
    }

    /// The base64 encryptionKey paired with the token whose id is `jti`.
    pub fn encryption_key_b64(&self, jti: &str) -> String {
        b64(self.master.token_encryption_key(jti).expose())
    }

    /// The encryptionKey paired with the token whose id is `jti`.
    pub fn encryption_key(&self, jti: &str) -> SecretKey {
        self.master.token_encryption_key(jti)
    }

    /// Checks signature and expiry: tampered or foreign → 155105, expired → 155104.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<SessionClaims, ApiError> {
        let invalid = || codes::TOKEN_INVALID;
        let (signing_input, tag_b64) = token.rsplit_once('.').ok_or_else(invalid)?;
        let (header_b64, payload_b64) = signing_input.split_once('.').ok_or_else(invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag_b64).map_err(|_| invalid())?;
        let expected = self.mac(signing_input.as_bytes())?.finalize().into_bytes();
        if !ct_eq(&expected, &tag) {
            return Err(invalid());
        }
        let header = URL_SAFE_NO_PAD.decode(header_b64).map_err(|_| invalid())?;
        if header != HEADER.as_bytes() {
            return Err(invalid());
        }
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| invalid())?;
        let claims: SessionClaims = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        if claims.iss != ISSUER {
            return Err(invalid());
        }
        if now.unix_seconds() >= claims.exp {
            return Err(codes::TOKEN_EXPIRED);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> SessionClaims {
        SessionClaims {
            sub: "user-1".into(),
            iat: 0,
            exp,
            jti: "jti-1".into(),
            iss: ISSUER.into(),
            entity_id: "e".into(),
            internal_user_id: "i".into(),
            environment: "TEST".into(),
        }
    }

    #[test]
    fn verify_accepts_own_rejects_tampered_foreign_and_expired() {
        let m = MasterKey::generate();
        let keys = SessionKeys::new(&m);
        let t = keys.issue(&claims(100)).unwrap();
        assert_eq!(keys.verify(&t, Timestamp(5_000)).unwrap().sub, "user-1");
        // Another master key (another cluster) → invalid.
        let other = SessionKeys::new(&MasterKey::generate());
        assert_eq!(other.verify(&t, Timestamp(0)).unwrap_err().code, 155105);
        // Tamper with the payload.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(10_000)).unwrap());
        parts[1] = &forged;
        assert_eq!(
            keys.verify(&parts.join("."), Timestamp(0))
                .unwrap_err()
                .code,
            155105
        );
        assert_eq!(
            keys.verify("garbage", Timestamp(0)).unwrap_err().code,
            155105
        );
        assert_eq!(
            keys.verify(&t, Timestamp(100_000)).unwrap_err().code,
            155104
        );
    }

    #[test]
    fn same_master_same_encryption_key() {
        let m = MasterKey::generate();
        let a = SessionKeys::new(&m).encryption_key_b64("j");
        let b = SessionKeys::new(&m).encryption_key_b64("j");
        assert_eq!(a, b);
        assert_ne!(a, SessionKeys::new(&m).encryption_key_b64("k"));
    }
}
