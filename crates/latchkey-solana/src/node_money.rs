//! The transfer, engine and follower half of core's `SolanaNode` over [`SolanaRpc`]: planning
//! with Circle's refusals ([`crate::transfer::plan_transfer`] at a level's compute-unit
//! price), signing a planned transfer under a given blockhash, sending stored bytes, statuses,
//! and a wallet's deposits from `getTransaction` metas.

use crate::fees::fee_levels;
use crate::history::deposits_to;
use crate::message::parse_blockhash;
use crate::node::node_error;
use crate::pubkey::{associated_token_address, Pubkey};
use crate::rpc::SolanaRpc;
use crate::transfer::{
    plan_transfer, token_asset, Asset, ComputeBudget, PlanError, Transfer, TransferPlan,
};
use crate::types::{Commitment, SignaturesQuery};
use crate::SendOptions;
use base64::Engine as _;
use latchkey_core::money::{
    Blockhash, FeeLevel, NodeError, SignedSolana, SolanaDeposit, SolanaLanded, SolanaPlanError,
    SolanaQuote, SolanaStatus, SolanaTransfer,
};
use std::str::FromStr;

/// `getSignaturesForAddress` pages at most this many (the RPC's maximum).
const SIGNATURES_PAGE: u32 = 1_000;

fn key(text: &str) -> Result<Pubkey, NodeError> {
    Pubkey::from_str(text).map_err(|_| NodeError::Other(format!("{text:?} is not an address")))
}

fn refused(e: PlanError) -> SolanaPlanError {
    match e {
        PlanError::Rpc(e) => SolanaPlanError::Node(node_error(e)),
        other => match other.circle_code() {
            -1 => SolanaPlanError::Node(NodeError::Other(other.to_string())),
            code => SolanaPlanError::Refused(code, other.to_string()),
        },
    }
}

/// The planner's transfer of a core transfer, its asset read from the mint.
async fn transfer_of(rpc: &SolanaRpc, t: &SolanaTransfer) -> Result<Transfer, SolanaPlanError> {
    let asset = match &t.mint {
        None => Asset::Sol,
        Some(mint) => token_asset(rpc, &key(mint)?).await.map_err(refused)?,
    };
    Ok(Transfer {
        from: key(&t.from)?,
        to: key(&t.to)?,
        asset,
        amount: t.amount,
        memo: t.memo.clone().filter(|m| !m.is_empty()),
    })
}

impl SolanaRpc {
    pub(crate) async fn plan_core_transfer(
        &self,
        t: &SolanaTransfer,
        level: FeeLevel,
    ) -> Result<SolanaQuote, SolanaPlanError> {
        let transfer = transfer_of(self, t).await?;
        // The accounts the transfer writes: the levels are what recent transactions writing
        // them paid.
        let mut written = vec![transfer.from, transfer.to];
        if let Asset::Token { mint, program, .. } = transfer.asset {
            for owner in [transfer.from, transfer.to] {
                if let Ok(account) = associated_token_address(&owner, &mint, &program) {
                    written.push(account);
                }
            }
        }
        let recent = self
            .get_recent_prioritization_fees(&written)
            .await
            .map_err(|e| SolanaPlanError::Node(node_error(e)))?;
        let levels = fee_levels(&recent);
        let price = match level {
            FeeLevel::Low => levels.low,
            FeeLevel::Medium => levels.medium,
            FeeLevel::High => levels.high,
        };
        let (decimals, token_program) = match transfer.asset {
            Asset::Sol => (9, None),
            Asset::Token {
                program, decimals, ..
            } => (decimals, Some(program.to_string())),
        };
        let plan = plan_transfer(self, transfer, price)
            .await
            .map_err(refused)?;
        Ok(SolanaQuote {
            token_program,
            decimals,
            creates_recipient_account: plan.creates_recipient_account,
            rent_lamports: plan.rent_lamports,
            unit_limit: plan.budget.unit_limit,
            units_consumed: plan.units_consumed,
            unit_price: plan.budget.unit_price,
            signatures: 1,
            fee_lamports: plan.fee_lamports,
            levels: [levels.low, levels.medium, levels.high],
        })
    }

    pub(crate) fn sign_core_transfer(
        &self,
        t: &SolanaTransfer,
        quote: &SolanaQuote,
        blockhash: &str,
        secret: &[u8],
    ) -> Result<SignedSolana, NodeError> {
        let asset = match &t.mint {
            None => Asset::Sol,
            Some(mint) => Asset::Token {
                mint: key(mint)?,
                program: key(quote.token_program.as_deref().unwrap_or_default())?,
                decimals: quote.decimals,
            },
        };
        let plan = TransferPlan {
            transfer: Transfer {
                from: key(&t.from)?,
                to: key(&t.to)?,
                asset,
                amount: t.amount,
                memo: t.memo.clone().filter(|m| !m.is_empty()),
            },
            creates_recipient_account: quote.creates_recipient_account,
            recipient_token_account: None,
            rent_lamports: quote.rent_lamports,
            budget: ComputeBudget {
                unit_limit: quote.unit_limit,
                unit_price: quote.unit_price,
            },
            fee_lamports: quote.fee_lamports,
            units_consumed: quote.units_consumed,
        };
        let hash = parse_blockhash(blockhash)
            .ok_or_else(|| NodeError::Other("the node's blockhash is not base58".into()))?;
        let signed = plan
            .message(hash)
            .map_err(|e| NodeError::Other(e.to_string()))?
            .sign(&[secret])
            .map_err(|e| NodeError::Other(e.to_string()))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&signed.base64)
            .map_err(|e| NodeError::Other(e.to_string()))?;
        Ok(SignedSolana {
            raw,
            signature: signed.signature,
        })
    }

    pub(crate) async fn core_blockhash(&self) -> Result<Blockhash, NodeError> {
        let latest = self
            .get_latest_blockhash(Commitment::Confirmed)
            .await
            .map_err(node_error)?;
        Ok(Blockhash {
            hash: latest.blockhash,
            last_valid_block_height: latest.last_valid_block_height,
        })
    }

    pub(crate) async fn send_raw(&self, raw: &[u8]) -> Result<String, NodeError> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        // Preflight on (Solana's own retry guidance): a transaction the bank refuses is
        // answered, not silently dropped. The node's own rebroadcast is left on as well.
        self.send_transaction(&encoded, &SendOptions::default())
            .await
            .map_err(node_error)
    }

    pub(crate) async fn core_status(
        &self,
        signature: &str,
    ) -> Result<Option<SolanaStatus>, NodeError> {
        let status = self
            .get_signature_statuses(&[signature], true)
            .await
            .map_err(node_error)?
            .into_iter()
            .next()
            .flatten();
        Ok(status.map(|s| SolanaStatus {
            slot: s.slot,
            confirmed: s.reached(Commitment::Confirmed),
            finalized: s.reached(Commitment::Finalized),
            err: s.err.map(|e| e.to_string()),
        }))
    }

    pub(crate) async fn core_fee_paid(&self, signature: &str) -> Result<Option<u64>, NodeError> {
        Ok(self
            .get_transaction(signature, Commitment::Confirmed)
            .await
            .map_err(node_error)?
            .and_then(|t| t.meta.map(|m| m.fee)))
    }

    pub(crate) async fn core_signatures_after(
        &self,
        address: &str,
        until: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, NodeError> {
        let address = key(address)?;
        let mut newest_first: Vec<String> = Vec::new();
        let mut before: Option<String> = None;
        // Newest first, page by page back to `until`, so that nothing between is skipped when
        // more than a page arrived since the last pass.
        loop {
            let page = self
                .get_signatures_for_address(
                    &address,
                    &SignaturesQuery {
                        before: before.clone(),
                        until: until.map(str::to_owned),
                        limit: Some(SIGNATURES_PAGE),
                        commitment: Some(Commitment::Confirmed),
                    },
                )
                .await
                .map_err(node_error)?;
            let full = page.len() >= SIGNATURES_PAGE as usize;
            before = page.last().map(|s| s.signature.clone());
            newest_first.extend(page.into_iter().map(|s| s.signature));
            if !full || newest_first.len() >= limit as usize || before.is_none() {
                break;
            }
        }
        newest_first.reverse();
        newest_first.truncate(limit as usize);
        Ok(newest_first)
    }

    pub(crate) async fn core_landed(
        &self,
        signature: &str,
        wallet: &str,
    ) -> Result<Option<SolanaLanded>, NodeError> {
        let wallet = key(wallet)?;
        let Some(tx) = self
            .get_transaction(signature, Commitment::Confirmed)
            .await
            .map_err(node_error)?
        else {
            return Ok(None);
        };
        let keys = tx.account_keys();
        let deposits = deposits_to(&tx, &wallet)
            .into_iter()
            .filter_map(|c| {
                let amount = u64::try_from(c.delta).ok()?;
                let (mint, decimals, index) = match c.token {
                    None => (None, 9, -1),
                    Some(t) => {
                        let index = keys.iter().position(|k| *k == c.account)?;
                        (
                            Some(t.mint.to_string()),
                            t.decimals,
                            i64::try_from(index).ok()?,
                        )
                    }
                };
                Some(SolanaDeposit {
                    mint,
                    account: c.account.to_string(),
                    amount,
                    decimals,
                    index,
                })
            })
            .collect();
        Ok(Some(SolanaLanded {
            slot: tx.slot,
            deposits,
            fee_payer: tx
                .transaction
                .message
                .account_keys
                .first()
                .map(Pubkey::to_string),
        }))
    }
}
