//! core's [`SolanaNode`] over [`SolanaRpc`]: the reads balances use and the faucet's few
//! writes (an airdrop, a test mint, a mint to an associated token account), each built,
//! signed, sent and waited for here, where the message encoding lives.

use crate::instruction::{ata, system, token, MINT_SIZE};
use crate::message::{parse_blockhash, Message};
use crate::pubkey::{Pubkey, TOKEN_PROGRAM};
use crate::types::Commitment;
use crate::{RpcError, SendOptions, SolanaChain, SolanaRpc};
use async_trait::async_trait;
use latchkey_chains::Family;
use latchkey_core::money::{
    Blockhash, FeeLevel, NodeError, RejectKind, SignedSolana, SolanaInfo, SolanaLanded, SolanaNode,
    SolanaPlanError, SolanaQuote, SolanaStatus, SolanaTransfer, TokenHolding,
};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// How long a faucet write may take to be confirmed (the blockhash's own window is ~60 s; a
/// local node confirms within two slots).
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

impl SolanaChain {
    /// The chain as core's money services hold it.
    pub fn into_money_chain(self) -> latchkey_core::money::SolanaChain {
        latchkey_core::money::SolanaChain {
            node: Arc::new(self.rpc),
            info: SolanaInfo {
                blockchain: self.info.blockchain,
                genesis_hash: self.info.genesis_hash,
                is_local: self.info.is_local,
            },
        }
    }
}

/// `RpcError` as core's `NodeError`. A blockhash the node does not know is "retry later"
/// (`FeeTooLow`: a lagging node says it too); an account the fee payer lacks, or rent it
/// cannot leave, is a lack of funds (a deposit can still fix it while the blockhash lives).
pub(crate) fn node_error(e: RpcError) -> NodeError {
    use crate::errors::RejectKind as K;
    match e {
        RpcError::Unavailable(why) => NodeError::Unavailable(why),
        RpcError::Rejected(kind, why) => NodeError::Rejected(
            match kind {
                K::AlreadyProcessed => RejectKind::AlreadyKnown,
                K::InsufficientFunds | K::InsufficientFundsForRent | K::AccountNotFound => {
                    RejectKind::InsufficientFunds
                }
                K::BlockhashNotFound => RejectKind::FeeTooLow,
                K::SignatureFailure | K::ExecutionFailed => RejectKind::Permanent,
            },
            why,
        ),
        RpcError::Other(why) => NodeError::Other(why),
    }
}

fn pubkey(text: &str) -> Result<Pubkey, NodeError> {
    Pubkey::from_str(text).map_err(|_| NodeError::Other(format!("{text:?} is not an address")))
}

fn key_of(secret: &[u8]) -> Result<Pubkey, NodeError> {
    latchkey_chains::address(Family::Solana, secret)
        .map_err(|e| NodeError::Other(e.message.to_string()))
        .and_then(|a| pubkey(&a))
}

impl SolanaRpc {
    /// Signs `instructions` (paid by the first signer) under the confirmed blockhash, sends
    /// them with preflight and waits until confirmed; a failure on chain is an error.
    async fn send_and_confirm(
        &self,
        instructions: &[crate::instruction::Instruction],
        secrets: &[&[u8]],
    ) -> Result<(), NodeError> {
        let payer = key_of(secrets.first().copied().unwrap_or_default())?;
        let latest = self
            .get_latest_blockhash(Commitment::Confirmed)
            .await
            .map_err(node_error)?;
        let blockhash = parse_blockhash(&latest.blockhash)
            .ok_or_else(|| NodeError::Other("the node's blockhash is not base58".into()))?;
        let signed = Message::new(instructions, &payer, blockhash)
            .and_then(|m| m.sign(secrets))
            .map_err(|e| NodeError::Other(e.to_string()))?;
        let signature = self
            .send_transaction(&signed.base64, &SendOptions::default())
            .await
            .map_err(node_error)?;
        self.confirm(&signature).await
    }

    /// Whether an account is at `address`.
    async fn exists(&self, address: &Pubkey) -> Result<bool, NodeError> {
        self.get_account_info(address, Commitment::Confirmed)
            .await
            .map(|a| a.is_some())
            .map_err(node_error)
    }

    /// Waits for `signature` to be confirmed without an error.
    async fn confirm(&self, signature: &str) -> Result<(), NodeError> {
        match self
            .wait_for_signature(signature, Commitment::Confirmed, CONFIRM_TIMEOUT)
            .await
            .map_err(node_error)?
        {
            Some(status) => match status.err {
                None => Ok(()),
                Some(err) => Err(NodeError::Rejected(
                    RejectKind::Permanent,
                    format!("{signature} failed on chain: {err}"),
                )),
            },
            None => Err(NodeError::Unavailable(format!(
                "{signature} was not confirmed within {}s",
                CONFIRM_TIMEOUT.as_secs()
            ))),
        }
    }
}

#[async_trait]
impl SolanaNode for SolanaRpc {
    async fn balance(&self, address: &str) -> Result<u64, NodeError> {
        self.get_balance(&pubkey(address)?, Commitment::Confirmed)
            .await
            .map_err(node_error)
    }

    async fn token_accounts(&self, owner: &str) -> Result<Vec<TokenHolding>, NodeError> {
        Ok(self
            .token_accounts_of(&pubkey(owner)?, Commitment::Confirmed)
            .await
            .map_err(node_error)?
            .into_iter()
            .map(|a| TokenHolding {
                account: a.address.to_string(),
                mint: a.mint.to_string(),
                program: a.program.to_string(),
                amount: a.amount.amount,
                decimals: a.amount.decimals,
            })
            .collect())
    }

    async fn mint_decimals(&self, mint: &str) -> Result<Option<u8>, NodeError> {
        Ok(self
            .get_account_info(&pubkey(mint)?, Commitment::Confirmed)
            .await
            .map_err(node_error)?
            .and_then(|a| a.mint_decimals()))
    }

    async fn airdrop(&self, to: &str, lamports: u64) -> Result<(), NodeError> {
        let signature = self
            .request_airdrop(&pubkey(to)?, lamports)
            .await
            .map_err(node_error)?;
        self.confirm(&signature).await
    }

    async fn create_mint(
        &self,
        payer_secret: &[u8],
        mint_secret: &[u8],
        decimals: u8,
    ) -> Result<String, NodeError> {
        let payer = key_of(payer_secret)?;
        let mint = key_of(mint_secret)?;
        if self.exists(&mint).await? {
            return Ok(mint.to_string());
        }
        let rent = self
            .get_minimum_balance_for_rent_exemption(MINT_SIZE)
            .await
            .map_err(node_error)?;
        let created = self
            .send_and_confirm(
                &[
                    system::create_account(&payer, &mint, rent, MINT_SIZE, &TOKEN_PROGRAM),
                    token::initialize_mint2(&TOKEN_PROGRAM, &mint, decimals, &payer, None),
                ],
                &[payer_secret, mint_secret],
            )
            .await;
        match created {
            Ok(()) => Ok(mint.to_string()),
            // Another drip created it meanwhile: the account is there now.
            Err(e) if !matches!(e, NodeError::Unavailable(_)) && self.exists(&mint).await? => {
                Ok(mint.to_string())
            }
            Err(e) => Err(e),
        }
    }

    async fn mint_to(
        &self,
        authority_secret: &[u8],
        mint: &str,
        owner: &str,
        amount: u64,
    ) -> Result<(), NodeError> {
        let authority = key_of(authority_secret)?;
        let mint = pubkey(mint)?;
        let owner = pubkey(owner)?;
        let (create, account) = ata::create_idempotent(&authority, &owner, &mint, &TOKEN_PROGRAM)
            .map_err(|e| NodeError::Other(e.to_string()))?;
        self.send_and_confirm(
            &[
                create,
                token::mint_to(&TOKEN_PROGRAM, &mint, &account, &authority, amount),
            ],
            &[authority_secret],
        )
        .await
    }

    async fn plan_transfer(
        &self,
        transfer: &SolanaTransfer,
        level: FeeLevel,
    ) -> Result<SolanaQuote, SolanaPlanError> {
        self.plan_core_transfer(transfer, level).await
    }

    async fn latest_blockhash(&self) -> Result<Blockhash, NodeError> {
        self.core_blockhash().await
    }

    fn sign_transfer(
        &self,
        transfer: &SolanaTransfer,
        quote: &SolanaQuote,
        blockhash: &str,
        secret: &[u8],
    ) -> Result<SignedSolana, NodeError> {
        self.sign_core_transfer(transfer, quote, blockhash, secret)
    }

    async fn send(&self, raw: &[u8]) -> Result<String, NodeError> {
        self.send_raw(raw).await
    }

    async fn status(&self, signature: &str) -> Result<Option<SolanaStatus>, NodeError> {
        self.core_status(signature).await
    }

    async fn can_never_land(
        &self,
        signature: &str,
        last_valid_block_height: u64,
    ) -> Result<bool, NodeError> {
        SolanaRpc::can_never_land(self, signature, last_valid_block_height)
            .await
            .map_err(node_error)
    }

    async fn fee_paid(&self, signature: &str) -> Result<Option<u64>, NodeError> {
        self.core_fee_paid(signature).await
    }

    async fn signatures_after(
        &self,
        address: &str,
        until: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, NodeError> {
        self.core_signatures_after(address, until, limit).await
    }

    async fn landed(
        &self,
        signature: &str,
        wallet: &str,
    ) -> Result<Option<SolanaLanded>, NodeError> {
        self.core_landed(signature, wallet).await
    }
}
