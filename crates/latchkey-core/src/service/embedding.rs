//! Who may embed the hosted page: the origins an entity allows to frame it, looked up by the
//! App ID the embedding app passes (not a secret).

use super::{store_failed, Latchkey};
use crate::error::ApiError;
use crate::rules;

impl Latchkey {
    /// The origins allowed to frame the hosted page for the entity with `app_id`; none when
    /// the App ID is malformed or unknown. A store failure is logged and also yields none, so
    /// the page stays framable only by the server's own origins.
    pub async fn frame_ancestors_for_app(&self, app_id: &str) -> Vec<String> {
        if !rules::is_uuid(app_id) {
            return Vec::new();
        }
        match self.store.entity_by_app_id(app_id).await {
            Ok(Some(entity)) => match self.store.frame_ancestors(&entity.id).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read frame ancestors");
                    Vec::new()
                }
            },
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::error!(error = %e, "cannot read entity");
                Vec::new()
            }
        }
    }
}

impl Latchkey {
    /// The origins `entity_id` allows to frame the hosted page (the operator's list).
    #[tracing::instrument(skip_all, fields(entity = %entity_id))]
    pub async fn allowed_origins(&self, entity_id: &str) -> Result<Vec<String>, ApiError> {
        self.store
            .frame_ancestors(entity_id)
            .await
            .map_err(store_failed)
    }

    /// Allows (or stops allowing) `origin` to frame the hosted page for `entity_id`.
    /// Returns whether the list changed. `origin` must be a bare origin such as
    /// `https://app.example.com`, since it goes into a `frame-ancestors` directive as is.
    #[tracing::instrument(skip_all, fields(entity = %entity_id, origin = %origin, allowed))]
    pub async fn set_origin_allowed(
        &self,
        entity_id: &str,
        origin: &str,
        allowed: bool,
    ) -> Result<bool, ApiError> {
        if !rules::is_origin(origin) {
            return Err(ApiError::invalid_field(
                "origin",
                "invalid",
                "origin must be an origin such as https://app.example.com",
            ));
        }
        self.store
            .set_frame_ancestor(entity_id, origin, allowed)
            .await
            .map_err(store_failed)
    }
}
