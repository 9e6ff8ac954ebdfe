//! Who may embed the hosted page: the origins an entity allows to frame it, looked up by the
//! App ID the embedding app passes (not a secret).

use super::Latchkey;
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
