//! Per-entity ECDSA P-256 signing keys. The private scalar is stored sealed under a key
//! derived from the master key; retired keys stay resolvable so that receivers can still
//! verify notifications signed before a rotation.

use crate::Webhooks;
use latchkey_core::crypto::b64;
use latchkey_core::error::codes;
use latchkey_core::webhooks::WebhookKeyRecord;
use latchkey_core::ApiError;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use zeroize::Zeroizing;

fn seal_label(entity_id: &str, key_id: &str) -> String {
    format!("latchkey/v1/webhook-signing-key/{entity_id}/{key_id}")
}

fn failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "webhook signing key failure");
    ApiError::internal()
}

impl Webhooks {
    /// Creates a new signing key for the entity and makes it the active one.
    pub async fn rotate_key(&self, entity_id: &str) -> Result<WebhookKeyRecord, ApiError> {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let id = uuid::Uuid::new_v4().to_string();
        let public_key_der = p256::PublicKey::from(key.verifying_key())
            .to_public_key_der()
            .map_err(failed)?
            .as_bytes()
            .to_vec();
        let scalar = Zeroizing::new(key.to_bytes().to_vec());
        let record = WebhookKeyRecord {
            sealed_private_key: self
                .lk
                .seal_server_secret(&seal_label(entity_id, &id), &scalar),
            id,
            entity_id: entity_id.to_string(),
            public_key_der,
            active: true,
            created_at: self.lk.now(),
        };
        self.lk
            .store()
            .insert_webhook_key(&record)
            .await
            .map_err(failed)?;
        Ok(record)
    }

    /// The entity's active key, created on first use.
    pub async fn active_key(&self, entity_id: &str) -> Result<WebhookKeyRecord, ApiError> {
        match self
            .lk
            .store()
            .active_webhook_key(entity_id)
            .await
            .map_err(failed)?
        {
            Some(k) => Ok(k),
            None => self.rotate_key(entity_id).await,
        }
    }

    /// `GET /v2/notifications/publicKey/{id}`: one of the entity's keys, active or retired.
    pub async fn public_key(
        &self,
        entity_id: &str,
        key_id: &str,
    ) -> Result<WebhookKeyRecord, ApiError> {
        self.lk
            .store()
            .webhook_key(entity_id, key_id)
            .await
            .map_err(failed)?
            .ok_or_else(|| {
                codes::NOT_FOUND.with_message("Cannot find the public key in the system.")
            })
    }

    fn signing_key(&self, record: &WebhookKeyRecord) -> Result<SigningKey, ApiError> {
        if let Some(k) = self
            .keys
            .lock()
            .ok()
            .and_then(|m| m.get(&record.id).cloned())
        {
            return Ok(k);
        }
        let scalar = self
            .lk
            .open_server_secret(
                &seal_label(&record.entity_id, &record.id),
                &record.sealed_private_key,
            )
            .map_err(failed)?;
        let key = SigningKey::from_slice(&scalar).map_err(failed)?;
        if let Ok(mut m) = self.keys.lock() {
            m.insert(record.id.clone(), key.clone());
        }
        Ok(key)
    }

    /// Signs `body` with the entity's active key: (key id, base64 DER ECDSA-SHA256 signature).
    pub async fn sign(&self, entity_id: &str, body: &[u8]) -> Result<(String, String), ApiError> {
        let record = self.active_key(entity_id).await?;
        let key = self.signing_key(&record)?;
        let signature: Signature = key.sign(body);
        Ok((record.id, b64(signature.to_der().as_bytes())))
    }
}
