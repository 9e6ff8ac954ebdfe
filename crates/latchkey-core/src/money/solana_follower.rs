//! The inbound follower on Solana: per wallet, not per block (a Solana block holds thousands
//! of transactions and `getBlock` is the heaviest call a provider serves).
//!
//! One instance follows a chain at a time (the EVM follower's lease on the chain's row). A
//! pass takes each wallet of the chain and each of its token accounts (Token and Token-2022,
//! listed afresh: a transfer to an existing token account names only the token accounts),
//! lists the signatures after the address's cursor (`getSignaturesForAddress`, oldest first,
//! `confirmed`), and reads each transaction's meta: a deposit is a balance of the wallet that
//! grew in a successful transaction it did not pay for (`latchkey_solana::history`), so any
//! program's transfer counts. Deposits are inserted once (the unique index on chain,
//! signature, account index and wallet; SOL's index is -1) as CONFIRMED with their
//! `transactions.inbound` notification, and the cursor moves after them: a crash replays
//! and duplicates nothing. The engine takes them to COMPLETE at `finalized`.
//!
//! An address followed for the first time is read from its first transaction: a wallet is
//! created by latchkey, so its history is what happened since (at most
//! [`SIGNATURES_PER_PASS`] per pass, the rest on the next ones).

use super::follower::insert_deposit;
use super::registry::SeenToken;
use super::solana::{SolanaChain, SolanaDeposit};
use super::tokens::TokenStandard;
use crate::model::WalletRecord;
use crate::service::Latchkey;
use latchkey_chains::{format_units, U256};

/// The most signatures one pass reads per address.
pub const SIGNATURES_PER_PASS: u32 = 200;

/// Follows `chain` one pass; how many deposits it recorded.
pub(crate) async fn follow(
    lk: &Latchkey,
    chain: &SolanaChain,
    token: &str,
    lease_ms: i64,
) -> usize {
    match pass(lk, chain, token, lease_ms).await {
        Ok(n) => n,
        Err(e) => {
            tracing::info!(error = %e, blockchain = %chain.info.blockchain, "follower pass failed; retried");
            0
        }
    }
}

async fn pass(
    lk: &Latchkey,
    chain: &SolanaChain,
    token: &str,
    lease_ms: i64,
) -> Result<usize, String> {
    let blockchain = chain.info.blockchain;
    let store = &lk.store;
    let leased = store
        .lease_chain(blockchain, token, lk.now(), lease_ms)
        .await
        .map_err(|e| e.to_string())?;
    if leased.is_none() {
        return Ok(0);
    }
    let wallets = store
        .wallets_on(blockchain)
        .await
        .map_err(|e| e.to_string())?;
    let mut recorded = 0;
    for wallet in &wallets {
        let mut addresses = vec![wallet.address.clone()];
        let holdings = chain
            .node
            .token_accounts(&wallet.address)
            .await
            .map_err(|e| e.to_string())?;
        addresses.extend(holdings.into_iter().map(|h| h.account));
        for address in &addresses {
            recorded += follow_address(lk, chain, wallet, address).await?;
        }
    }
    Ok(recorded)
}

/// The new transactions of one address (the wallet or one of its token accounts).
async fn follow_address(
    lk: &Latchkey,
    chain: &SolanaChain,
    wallet: &WalletRecord,
    address: &str,
) -> Result<usize, String> {
    let blockchain = chain.info.blockchain;
    let store = &lk.store;
    let cursor = store
        .solana_cursor(blockchain, address)
        .await
        .map_err(|e| e.to_string())?;
    let signatures = chain
        .node
        .signatures_after(address, cursor.as_deref(), SIGNATURES_PER_PASS)
        .await
        .map_err(|e| e.to_string())?;
    let mut recorded = 0;
    for signature in &signatures {
        let Some(landed) = chain
            .node
            .landed(signature, &wallet.address)
            .await
            .map_err(|e| e.to_string())?
        else {
            // Listed at confirmed, not readable yet: this signature and the rest next pass.
            break;
        };
        for d in &landed.deposits {
            if record(
                lk,
                chain,
                wallet,
                signature,
                landed.slot,
                &landed.fee_payer,
                d,
            )
            .await?
            {
                recorded += 1;
            }
        }
        store
            .set_solana_cursor(blockchain, address, signature, lk.now())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(recorded)
}

/// Records one deposit (its mint registered on first sight); `true` when new.
async fn record(
    lk: &Latchkey,
    chain: &SolanaChain,
    wallet: &WalletRecord,
    signature: &str,
    slot: u64,
    fee_payer: &Option<String>,
    d: &SolanaDeposit,
) -> Result<bool, String> {
    let blockchain = chain.info.blockchain;
    let token = match d.mint.as_deref() {
        None => lk.token_by_address(blockchain, None).await,
        Some(mint) => match lk.token_by_address(blockchain, Some(mint)).await {
            Ok(Some(t)) => Ok(Some(t)),
            Ok(None) => lk
                .register_seen_token(&SeenToken {
                    blockchain,
                    address: mint.to_owned(),
                    standard: TokenStandard::Fungible,
                    name: None,
                    symbol: None,
                    decimals: Some(d.decimals),
                })
                .await
                .map(Some),
            Err(e) => Err(e),
        },
    }
    .map_err(|e| e.message.to_string())?;
    insert_deposit(lk, blockchain, wallet, token.as_ref(), |tx| {
        tx.amounts = vec![format_units(U256::from(d.amount), d.decimals)];
        tx.source_address = fee_payer.clone();
        tx.contract_address = d.mint.clone();
        tx.tx_hash = Some(signature.to_owned());
        tx.block_height = i64::try_from(slot).ok();
        tx.log_index = Some(d.index);
    })
    .await
}
