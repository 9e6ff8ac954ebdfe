//! Monitored tokens: which tokens an entity sees by default, per environment (a TEST and a
//! LIVE key of one entity never share a list), and [`Visibility`], the one rule balances,
//! transaction lists and transaction webhooks apply.
//!
//! Without any configuration every token is visible (Circle's default). Adding tokens (POST,
//! or PUT which replaces the list) sets the scope to SELECTED; MONITOR_ALL shows every token
//! again while keeping the list.

use super::registry::{self, canonical_id};
use super::tokens::{MonitorScope, MonitoredFilter, TokenRecord};
use super::transactions::{TransactionRecord, TxType};
use crate::error::{codes, ApiError};
use crate::model::Environment;
use crate::service::{store_failed, ApiCaller, Latchkey};
use crate::store::{Cursor, Order, Page, PageQuery};
use latchkey_chains::Blockchain;
use std::collections::HashSet;

/// At most this many token ids in one request body (the document says so).
pub const MAX_TOKEN_IDS: usize = 100;

/// Which tokens a caller sees by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    scope: Option<MonitorScope>,
    tokens: HashSet<String>,
}

impl Visibility {
    /// Every token (no configuration, or `includeAll`).
    pub fn everything() -> Self {
        Self {
            scope: None,
            tokens: HashSet::new(),
        }
    }

    /// Whether `token_id` is shown: always without a configuration or with MONITOR_ALL,
    /// else when the token is in the list. (A contract execution without a token is
    /// always shown; its caller does not ask.)
    pub fn allows(&self, token_id: &str) -> bool {
        match self.scope {
            None | Some(MonitorScope::MonitorAll) => true,
            Some(MonitorScope::Selected) => self.tokens.contains(&canonical_id(token_id)),
        }
    }

    /// The token ids a SELECTED scope shows, for a query to filter on; `None`: every token.
    pub fn selected_ids(&self) -> Option<Vec<String>> {
        match self.scope {
            None | Some(MonitorScope::MonitorAll) => None,
            Some(MonitorScope::Selected) => {
                let mut ids: Vec<String> = self.tokens.iter().cloned().collect();
                ids.sort();
                Some(ids)
            }
        }
    }
}

/// Filters of `GET …/monitoredTokens`, as parsed from the query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenListFilter {
    /// Only this blockchain.
    pub blockchain: Option<Blockchain>,
    /// Only this token address.
    pub token_address: Option<String>,
    /// Only this symbol (exact).
    pub symbol: Option<String>,
}

/// A monitored list: its scope and tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitoredTokens {
    /// The scope.
    pub scope: MonitorScope,
    /// The tokens, newest first.
    pub tokens: Vec<TokenRecord>,
}

impl Latchkey {
    /// Whether a transaction's webhooks are sent: always for OUTBOUND ones (the developer's
    /// own requests), and for a deposit when its token is in the entity's monitored scope,
    /// so that a SELECTED list keeps unsolicited tokens (spam airdrops) out of the receiver
    /// as out of the lists. If the scope cannot be read, the notification is sent: a spare
    /// one is better than a lost one.
    pub async fn notifies_about(&self, t: &TransactionRecord, environment: Environment) -> bool {
        if t.tx_type == TxType::Outbound {
            return true;
        }
        let Some(token_id) = &t.token_id else {
            return true;
        };
        match self.token_visibility(&t.entity_id, environment).await {
            Ok(v) => v.allows(token_id),
            Err(e) => {
                tracing::warn!(
                    code = e.code,
                    "monitored scope unreadable; the deposit is notified"
                );
                true
            }
        }
    }

    /// What `entity_id` sees by default in `environment`.
    #[tracing::instrument(skip_all, fields(entity = %entity_id))]
    pub async fn token_visibility(
        &self,
        entity_id: &str,
        environment: Environment,
    ) -> Result<Visibility, ApiError> {
        let config = self
            .store
            .monitored_config(entity_id, environment)
            .await
            .map_err(store_failed)?;
        let Some(config) = config else {
            return Ok(Visibility::everything());
        };
        let tokens = match config.scope {
            MonitorScope::MonitorAll => HashSet::new(),
            MonitorScope::Selected => self
                .store
                .monitored_token_ids(entity_id, environment)
                .await
                .map_err(store_failed)?
                .into_iter()
                .collect(),
        };
        Ok(Visibility {
            scope: Some(config.scope),
            tokens,
        })
    }

    /// `POST …/monitoredTokens`: adds the tokens and sets the scope to SELECTED. `true` with
    /// the list when anything changed (201), `false` when nothing did (200).
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn add_monitored_tokens(
        &self,
        caller: &ApiCaller,
        token_ids: &[String],
    ) -> Result<(bool, MonitoredTokens), ApiError> {
        let ids = self.known_token_ids(token_ids).await?;
        let changed = self
            .store
            .add_monitored_tokens(&caller.entity_id, caller.environment, &ids, self.now())
            .await
            .map_err(store_failed)?;
        Ok((changed, self.whole_list(caller).await?))
    }

    /// `PUT …/monitoredTokens`: the list becomes exactly these tokens, scope SELECTED.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn replace_monitored_tokens(
        &self,
        caller: &ApiCaller,
        token_ids: &[String],
    ) -> Result<MonitoredTokens, ApiError> {
        let ids = self.known_token_ids(token_ids).await?;
        self.store
            .replace_monitored_tokens(&caller.entity_id, caller.environment, &ids, self.now())
            .await
            .map_err(store_failed)?;
        self.whole_list(caller).await
    }

    /// `POST …/monitoredTokens/delete`: removes the tokens (unknown ids → 156002; known
    /// tokens that are not in the list are ignored).
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn delete_monitored_tokens(
        &self,
        caller: &ApiCaller,
        token_ids: &[String],
    ) -> Result<(), ApiError> {
        let ids = self.known_token_ids(token_ids).await?;
        self.store
            .remove_monitored_tokens(&caller.entity_id, caller.environment, &ids, self.now())
            .await
            .map_err(store_failed)?;
        Ok(())
    }

    /// `PUT …/monitoredTokens/scope`.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn set_monitor_scope(
        &self,
        caller: &ApiCaller,
        scope: MonitorScope,
    ) -> Result<(), ApiError> {
        self.store
            .set_monitor_scope(&caller.entity_id, caller.environment, scope, self.now())
            .await
            .map_err(store_failed)
    }

    /// `GET …/monitoredTokens`: the scope and a page of the list; `None` when the caller's
    /// environment was never configured (204). An unknown cursor → 156012.
    #[tracing::instrument(skip_all, fields(entity = %caller.entity_id))]
    pub async fn list_monitored_tokens(
        &self,
        caller: &ApiCaller,
        filter: &TokenListFilter,
        page: &PageQuery,
    ) -> Result<Option<(MonitorScope, Page<TokenRecord>)>, ApiError> {
        let config = self
            .store
            .monitored_config(&caller.entity_id, caller.environment)
            .await
            .map_err(store_failed)?;
        let Some(config) = config else {
            return Ok(None);
        };
        let outside_matches = registry::static_tokens()
            .iter()
            .filter(|t| {
                registry::matches(
                    t,
                    filter.blockchain,
                    filter.token_address.as_deref(),
                    filter.symbol.as_deref(),
                )
            })
            .map(|t| t.id.clone())
            .collect();
        let filter = MonitoredFilter {
            blockchain: filter.blockchain,
            // Stored hex addresses are lowercase; base58 is compared as given.
            token_address: filter.token_address.as_deref().map(|a| {
                if a.starts_with("0x") || a.starts_with("0X") {
                    a.to_ascii_lowercase()
                } else {
                    a.to_string()
                }
            }),
            symbol: filter.symbol.clone(),
            outside_matches,
        };
        let listed = self
            .store
            .list_monitored_tokens(&caller.entity_id, caller.environment, &filter, page)
            .await
            .map_err(store_failed)?
            .ok_or(codes::PAGE_CURSOR_NOT_FOUND)?;
        let tokens = listed
            .items
            .into_iter()
            // A token the registry no longer knows (removed from the static table) is left
            // out rather than shown without its facts.
            .filter_map(|e| {
                e.stored
                    .or_else(|| registry::static_token(&e.token_id).cloned())
            })
            .collect();
        Ok(Some((
            config.scope,
            Page {
                items: tokens,
                has_next: listed.has_next,
                has_prev: listed.has_prev,
            },
        )))
    }

    /// The whole list after a change (what POST and PUT answer).
    async fn whole_list(&self, caller: &ApiCaller) -> Result<MonitoredTokens, ApiError> {
        let all = PageQuery {
            size: u32::MAX - 1,
            cursor: Cursor::None,
            order: Order::Desc,
            from: None,
            to: None,
        };
        let listed = self
            .list_monitored_tokens(caller, &TokenListFilter::default(), &all)
            .await?;
        // A write just created the configuration, so it exists; the fallback is unreachable.
        let (scope, page) = listed.unwrap_or((
            MonitorScope::Selected,
            Page {
                items: vec![],
                has_next: false,
                has_prev: false,
            },
        ));
        Ok(MonitoredTokens {
            scope,
            tokens: page.items,
        })
    }

    /// The canonical ids of `token_ids`, each checked: at most [`MAX_TOKEN_IDS`], each a
    /// UUID (code 2 naming `tokenIds[i]`) of a token latchkey knows (156002). Duplicates and
    /// aliases of one token count once.
    async fn known_token_ids(&self, token_ids: &[String]) -> Result<Vec<String>, ApiError> {
        if token_ids.len() > MAX_TOKEN_IDS {
            return Err(ApiError::invalid_field(
                "tokenIds",
                "max",
                format!("tokenIds must have at most {MAX_TOKEN_IDS} items"),
            ));
        }
        let mut ids: Vec<String> = Vec::with_capacity(token_ids.len());
        for (i, raw) in token_ids.iter().enumerate() {
            if !crate::rules::is_uuid(raw) {
                let location = format!("tokenIds[{i}]");
                return Err(ApiError::invalid_field(
                    &location,
                    "invalid",
                    format!("{location} must be a UUID"),
                ));
            }
            let token = self.token(raw).await?.ok_or_else(|| {
                codes::TOKEN_NOT_FOUND_ID.with_message(format!(
                    "Cannot find target token in the system: no token has id {raw}."
                ))
            })?;
            if !ids.contains(&token.id) {
                ids.push(token.id);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_rules() {
        let usdc = "36b6931a-873a-56a8-8a27-b706b17104ee";
        let other = "5797fbd6-3795-519d-84ca-ec4c5f80c3b1";
        assert!(Visibility::everything().allows(usdc));
        let all = Visibility {
            scope: Some(MonitorScope::MonitorAll),
            tokens: HashSet::new(),
        };
        assert!(all.allows(other));
        let selected = Visibility {
            scope: Some(MonitorScope::Selected),
            tokens: [usdc.to_string()].into_iter().collect(),
        };
        assert!(selected.allows(usdc));
        assert!(selected.allows(&usdc.to_ascii_uppercase()));
        assert!(!selected.allows(other));
        let base = Visibility {
            scope: Some(MonitorScope::Selected),
            tokens: ["aa7bb533-aeb8-535c-bd65-354aed91ea3d".to_string()]
                .into_iter()
                .collect(),
        };
        assert!(
            base.allows("915ce944-32df-5df5-a6b1-daa9b5069f96"),
            "an alias"
        );
    }
}
