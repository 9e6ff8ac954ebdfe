//! Users and their session tokens. A user belongs to the environment of the API key that
//! created it; keys of the other environment look it up, list it and issue tokens for it as
//! if it did not exist.

use super::{store_failed, ApiCaller, Latchkey};
use crate::error::{codes, ApiError};
use crate::model::{AuditEvent, NewUser, UserRecord};
use crate::rules;
use crate::session::{SessionClaims, ISSUER};
use crate::store::{Page, PageQuery, StoreError, UserFilter};

/// A freshly issued session.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWT.
    pub user_token: String,
    /// Base64 AES-256 key paired with the token.
    pub encryption_key: String,
}

impl Latchkey {
    /// `POST /users`.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id, user = %user_id))]
    pub async fn create_user(
        &self,
        caller: &ApiCaller,
        user_id: &str,
    ) -> Result<UserRecord, ApiError> {
        rules::check_user_id(user_id)?;
        let new = NewUser {
            entity_id: caller.entity_id.clone(),
            environment: caller.environment,
            internal_id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_string(),
            created_at: self.now(),
        };
        match self.store.insert_user(&new).await {
            Ok(u) => Ok(u),
            Err(StoreError::Conflict) => Err(codes::USER_EXISTS),
            Err(e) => Err(store_failed(e)),
        }
    }

    /// `GET /users/{id}`.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id, user = %user_id))]
    pub async fn get_user(
        &self,
        caller: &ApiCaller,
        user_id: &str,
    ) -> Result<UserRecord, ApiError> {
        self.store
            .user(&caller.entity_id, caller.environment, user_id)
            .await
            .map_err(store_failed)?
            .ok_or(codes::USER_NOT_FOUND)
    }

    /// `GET /users`.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn list_users(
        &self,
        caller: &ApiCaller,
        filter: &UserFilter,
        page: &PageQuery,
    ) -> Result<Page<UserRecord>, ApiError> {
        self.store
            .list_users(
                &caller.entity_id,
                caller.environment,
                filter,
                page,
                self.now(),
            )
            .await
            .map_err(store_failed)?
            .ok_or(codes::PAGE_CURSOR_NOT_FOUND)
    }

    /// `POST /users/token`: a userToken valid for the configured lifetime and its key.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id, user = %user_id))]
    pub async fn issue_token(
        &self,
        caller: &ApiCaller,
        user_id: &str,
    ) -> Result<IssuedToken, ApiError> {
        if user_id.is_empty() {
            return Err(ApiError::missing_field("userId"));
        }
        let user = self.get_user(caller, user_id).await?;
        if user.disabled {
            return Err(codes::USER_DISABLED);
        }
        let now = self.now();
        let jti = uuid::Uuid::new_v4().to_string();
        let claims = SessionClaims {
            sub: user.user_id.clone(),
            iat: now.unix_seconds(),
            exp: now.plus_ms(self.settings.token_ttl_ms).unix_seconds(),
            jti: jti.clone(),
            iss: ISSUER.to_string(),
            entity_id: user.entity_id.clone(),
            internal_user_id: user.internal_id.clone(),
            environment: caller.environment.as_str().to_string(),
        };
        let user_token = self.sessions.issue(&claims)?;
        self.audit.send(AuditEvent::user(
            &user.entity_id,
            &user.internal_id,
            "token.issued",
            serde_json::json!({ "tokenId": jti, "expiresAt": claims.exp }),
            now,
        ));
        Ok(IssuedToken {
            user_token,
            encryption_key: self.sessions.encryption_key_b64(&jti),
        })
    }
}
