//! What a landed transaction did to balances, read from its `getTransaction` meta: the
//! follower's way to see a deposit (SOL to a wallet, tokens to a wallet's token account)
//! without decoding any instruction, so that transfers made by any program (a DEX, a
//! multisig) count too.

use crate::pubkey::Pubkey;
use crate::types::TransactionResponse;
use std::collections::BTreeMap;

/// One balance that a transaction changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    /// The wallet: the account itself for SOL, the token account's owner for a token.
    pub owner: Pubkey,
    /// The account whose balance changed (the wallet, or its token account).
    pub account: Pubkey,
    /// `None` for SOL; the mint, its program and decimals for a token.
    pub token: Option<TokenChange>,
    /// Base units gained (negative: spent). A fee payer's SOL change includes the fee.
    pub delta: i128,
}

/// The token of a [`BalanceChange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenChange {
    /// The mint.
    pub mint: Pubkey,
    /// Its program (classic Token or Token-2022), when the node says.
    pub program: Option<Pubkey>,
    /// The mint's decimals.
    pub decimals: u8,
}

/// The balances `tx` changed (SOL by account, tokens by token account), zero changes left
/// out. A failed transaction changes only its fee payer's SOL (the fee).
pub fn balance_changes(tx: &TransactionResponse) -> Vec<BalanceChange> {
    let Some(meta) = tx.meta.as_ref() else {
        return Vec::new();
    };
    let keys = tx.account_keys();
    let mut out = Vec::new();
    for (i, (pre, post)) in meta
        .pre_balances
        .iter()
        .zip(meta.post_balances.iter())
        .enumerate()
    {
        let delta = i128::from(*post) - i128::from(*pre);
        if let (Some(key), true) = (keys.get(i), delta != 0) {
            out.push(BalanceChange {
                owner: *key,
                account: *key,
                token: None,
                delta,
            });
        }
    }
    // Token accounts by index: (owner, mint, program, decimals, pre, post). An account
    // created by the transaction has no pre balance; a closed one no post balance.
    let mut tokens: BTreeMap<usize, (Option<Pubkey>, TokenChange, u64, u64)> = BTreeMap::new();
    let pre = meta.pre_token_balances.as_deref().unwrap_or_default();
    let post = meta.post_token_balances.as_deref().unwrap_or_default();
    for (is_post, list) in [(false, pre), (true, post)] {
        for b in list {
            let entry = tokens.entry(b.account_index).or_insert((
                b.owner,
                TokenChange {
                    mint: b.mint,
                    program: b.program_id,
                    decimals: b.ui_token_amount.decimals,
                },
                0,
                0,
            ));
            if entry.0.is_none() {
                entry.0 = b.owner;
            }
            if is_post {
                entry.3 = b.ui_token_amount.amount;
            } else {
                entry.2 = b.ui_token_amount.amount;
            }
        }
    }
    for (index, (owner, token, pre, post)) in tokens {
        let delta = i128::from(post) - i128::from(pre);
        let (Some(owner), Some(account)) = (owner, keys.get(index)) else {
            continue;
        };
        if delta != 0 {
            out.push(BalanceChange {
                owner,
                account: *account,
                token: Some(token),
                delta,
            });
        }
    }
    out
}

/// The deposits `tx` made to `wallet`: its positive SOL and token changes. A transaction
/// the wallet paid the fee of is not a deposit to it (its own outbound transfer); one that
/// failed on chain deposits nothing.
pub fn deposits_to(tx: &TransactionResponse, wallet: &Pubkey) -> Vec<BalanceChange> {
    let failed = tx.meta.as_ref().is_none_or(|m| m.err.is_some());
    let paid_fee = tx.transaction.message.account_keys.first() == Some(wallet);
    if failed || paid_fee {
        return Vec::new();
    }
    balance_changes(tx)
        .into_iter()
        .filter(|c| c.owner == *wallet && c.delta > 0)
        .collect()
}
