//! SOL and SPL transfers: the instructions (pure), and a planner that reads the chain to pick
//! them (does the recipient's token account exist? what does the mint say?), checks what
//! Circle checks before a challenge, and measures compute units by simulation.
//!
//! A transfer's instructions, in order: `SetComputeUnitLimit`, `SetComputeUnitPrice`, the
//! recipient's associated token account `CreateIdempotent` (SPL, when it is missing: the
//! sender pays its rent, as Circle's wallets do), the `Transfer` (System) or `TransferChecked`
//! (Token / Token-2022, from the sender's associated token account), and a `Memo` with the
//! `refId` when there is one.

use crate::errors::{classify_transaction_error, RejectKind, RpcError};
use crate::fees::{compute_unit_limit, network_fee_lamports, MAX_COMPUTE_UNIT_LIMIT};
use crate::instruction::{ata, compute_budget, memo, system, token, Instruction};
use crate::instruction::{TOKEN_2022_ATA_SIZE, TOKEN_ACCOUNT_SIZE};
use crate::message::{BuildError, Message, MAX_TRANSACTION_SIZE};
use crate::pubkey::{
    associated_token_address, PdaError, Pubkey, TOKEN_2022_PROGRAM, TOKEN_PROGRAM,
};
use crate::rpc::SolanaRpc;
use crate::types::Commitment;

/// What is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    /// Lamports.
    Sol,
    /// An SPL token.
    Token {
        /// The mint.
        mint: Pubkey,
        /// Its program (classic Token or Token-2022: the mint account's owner).
        program: Pubkey,
        /// The mint's decimals (`TransferChecked` checks them).
        decimals: u8,
    },
}

/// A transfer from one wallet to another (both System accounts: for SPL the token accounts are
/// their associated token accounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The sending wallet (fee payer and signer).
    pub from: Pubkey,
    /// The receiving wallet.
    pub to: Pubkey,
    /// What is sent.
    pub asset: Asset,
    /// Base units (lamports, or the token's smallest unit).
    pub amount: u64,
    /// A memo (Circle's `refId`), or none.
    pub memo: Option<String>,
}

/// The compute budget of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeBudget {
    /// Compute units asked for.
    pub unit_limit: u32,
    /// Micro-lamports per compute unit (the fee level).
    pub unit_price: u64,
}

/// The instructions of `transfer`, with the compute budget first, and the creation of the
/// recipient's token account when `create_recipient_account`.
pub fn transfer_instructions(
    transfer: &Transfer,
    create_recipient_account: bool,
    budget: ComputeBudget,
) -> Result<Vec<Instruction>, PdaError> {
    let mut out = vec![
        compute_budget::set_compute_unit_limit(budget.unit_limit),
        compute_budget::set_compute_unit_price(budget.unit_price),
    ];
    match transfer.asset {
        Asset::Sol => out.push(system::transfer(
            &transfer.from,
            &transfer.to,
            transfer.amount,
        )),
        Asset::Token {
            mint,
            program,
            decimals,
        } => {
            let source = associated_token_address(&transfer.from, &mint, &program)?;
            let destination = if create_recipient_account {
                let (ix, account) =
                    ata::create_idempotent(&transfer.from, &transfer.to, &mint, &program)?;
                out.push(ix);
                account
            } else {
                associated_token_address(&transfer.to, &mint, &program)?
            };
            out.push(token::transfer_checked(
                &program,
                &source,
                &mint,
                &destination,
                &transfer.from,
                transfer.amount,
                decimals,
            ));
        }
    }
    if let Some(text) = transfer.memo.as_deref().filter(|t| !t.is_empty()) {
        out.push(memo(text));
    }
    Ok(out)
}

/// Why a transfer cannot be planned, with Circle's code for each ([`PlanError::circle_code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The node failed.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The mint does not exist, or is not owned by a token program.
    #[error("{0} is not a token mint")]
    NotAMint(Pubkey),
    /// The sender has no token account for the mint (Circle's 155262).
    #[error("the sender has no token account for mint {0}")]
    SourceAccountNotFound(Pubkey),
    /// The token balance is below the amount (Circle's 155258).
    #[error("the token balance {have} is below the amount {need}")]
    InsufficientToken {
        /// Base units held.
        have: u64,
        /// Base units to send.
        need: u64,
    },
    /// The SOL balance is below amount + fee + rent (Circle's 155201).
    #[error("the SOL balance {have} is below the {need} lamports needed (amount, fee and rent)")]
    InsufficientNative {
        /// Lamports held.
        have: u64,
        /// Lamports needed.
        need: u64,
    },
    /// An account would be left with less than its rent-exempt minimum (Circle's 155257):
    /// less than `minimum` lamports sent to an address that does not exist yet, or a sender
    /// left with a dust balance.
    #[error("the account would hold less than its rent-exempt minimum of {minimum} lamports")]
    RentExemption {
        /// The rent-exempt minimum, in lamports.
        minimum: u64,
    },
    /// The node's simulation refused it (another reason).
    #[error("the simulation failed ({0:?}): {1}")]
    Simulation(RejectKind, String),
    /// The transaction could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// An address could not be derived.
    #[error(transparent)]
    Pda(#[from] PdaError),
}

impl PlanError {
    /// Circle's error code: 155262 account not found, 155258 asset amount too low, 155201 not
    /// enough native funds, 155257 rent exemption, 155210 estimation failed, 2 (parameter
    /// invalid) for a memo too long to fit; -1 for a node failure or an internal one.
    pub fn circle_code(&self) -> i64 {
        match self {
            PlanError::SourceAccountNotFound(_) => 155262,
            PlanError::InsufficientToken { .. } => 155258,
            PlanError::InsufficientNative { .. } => 155201,
            PlanError::RentExemption { .. } => 155257,
            PlanError::Simulation(RejectKind::InsufficientFunds, _) => 155201,
            PlanError::Simulation(RejectKind::InsufficientFundsForRent, _) => 155257,
            PlanError::Simulation(RejectKind::AccountNotFound, _) => 155262,
            PlanError::Simulation(..) | PlanError::NotAMint(_) => 155210,
            PlanError::Build(BuildError::TooLarge(_)) => 2,
            PlanError::Rpc(_) | PlanError::Build(_) | PlanError::Pda(_) => -1,
        }
    }
}

/// A planned transfer: what to sign, and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferPlan {
    /// The transfer.
    pub transfer: Transfer,
    /// The recipient's token account is created by this transaction (SPL only).
    pub creates_recipient_account: bool,
    /// The recipient's token account (SPL only).
    pub recipient_token_account: Option<Pubkey>,
    /// Lamports the sender pays for the new token account's rent (0 when none is created).
    pub rent_lamports: u64,
    /// The compute budget (limit from the simulation, price from the fee level).
    pub budget: ComputeBudget,
    /// The network fee in lamports (base + priority).
    pub fee_lamports: u64,
    /// Compute units the simulation used (the limit is this with a margin).
    pub units_consumed: u64,
}

impl TransferPlan {
    /// The instructions to sign.
    pub fn instructions(&self) -> Result<Vec<Instruction>, PdaError> {
        transfer_instructions(&self.transfer, self.creates_recipient_account, self.budget)
    }

    /// The message to sign under `recent_blockhash`.
    pub fn message(&self, recent_blockhash: [u8; 32]) -> Result<Message, PlanError> {
        Ok(Message::new(
            &self.instructions()?,
            &self.transfer.from,
            recent_blockhash,
        )?)
    }
}

/// The asset of `mint`: its program (the account's owner) and its decimals.
pub async fn token_asset(rpc: &SolanaRpc, mint: &Pubkey) -> Result<Asset, PlanError> {
    let account = rpc
        .get_account_info(mint, Commitment::Confirmed)
        .await?
        .ok_or(PlanError::NotAMint(*mint))?;
    if account.owner != TOKEN_PROGRAM && account.owner != TOKEN_2022_PROGRAM {
        return Err(PlanError::NotAMint(*mint));
    }
    let decimals = account.mint_decimals().ok_or(PlanError::NotAMint(*mint))?;
    Ok(Asset::Token {
        mint: *mint,
        program: account.owner,
        decimals,
    })
}

/// Plans `transfer` at the compute-unit price `unit_price`: reads the balances and accounts
/// involved, refuses what Circle refuses before a challenge (with its codes), and simulates
/// it unsigned to size the compute-unit limit.
pub async fn plan_transfer(
    rpc: &SolanaRpc,
    transfer: Transfer,
    unit_price: u64,
) -> Result<TransferPlan, PlanError> {
    let c = Commitment::Confirmed;
    let native = rpc.get_balance(&transfer.from, c).await?;
    let system_minimum = rpc.get_minimum_balance_for_rent_exemption(0).await?;
    let mut creates_recipient_account = false;
    let mut recipient_token_account = None;
    let mut rent_lamports = 0;
    let mut lamports_sent = 0;
    match transfer.asset {
        Asset::Sol => {
            lamports_sent = transfer.amount;
            let recipient = rpc.get_account_info(&transfer.to, c).await?;
            if recipient.is_none() && transfer.amount < system_minimum {
                return Err(PlanError::RentExemption {
                    minimum: system_minimum,
                });
            }
        }
        Asset::Token { mint, program, .. } => {
            let source = associated_token_address(&transfer.from, &mint, &program)?;
            if rpc.get_account_info(&source, c).await?.is_none() {
                return Err(PlanError::SourceAccountNotFound(mint));
            }
            let have = rpc.get_token_account_balance(&source, c).await?.amount;
            if have < transfer.amount {
                return Err(PlanError::InsufficientToken {
                    have,
                    need: transfer.amount,
                });
            }
            let destination = associated_token_address(&transfer.to, &mint, &program)?;
            recipient_token_account = Some(destination);
            if rpc.get_account_info(&destination, c).await?.is_none() {
                creates_recipient_account = true;
                // The size of a mint without extensions; the simulation below gives the exact
                // rent (a Token-2022 mint's extensions can make the account larger).
                let size = if program == TOKEN_2022_PROGRAM {
                    TOKEN_2022_ATA_SIZE
                } else {
                    TOKEN_ACCOUNT_SIZE
                };
                rent_lamports = rpc.get_minimum_balance_for_rent_exemption(size).await?;
            }
        }
    }
    // Size the compute units on the node, unsigned, at the maximum limit and no price.
    let probe = Message::new(
        &transfer_instructions(
            &transfer,
            creates_recipient_account,
            ComputeBudget {
                unit_limit: MAX_COMPUTE_UNIT_LIMIT,
                unit_price: 0,
            },
        )?,
        &transfer.from,
        [0; 32],
    )?;
    // Refused before anyone signs: a memo (refId) too long for one transaction.
    if probe.transaction_size() > MAX_TRANSACTION_SIZE {
        return Err(BuildError::TooLarge(probe.transaction_size()).into());
    }
    let watched: Vec<Pubkey> = recipient_token_account
        .filter(|_| creates_recipient_account)
        .into_iter()
        .collect();
    let simulation = rpc
        .simulate_transaction(
            &probe.unsigned_transaction_base64(),
            false,
            true,
            c,
            &watched,
        )
        .await?;
    if let Some(err) = simulation.err.as_ref() {
        let logs = simulation.logs.clone().unwrap_or_default();
        let refs: Vec<&str> = logs.iter().map(String::as_str).collect();
        let kind = classify_transaction_error(err, &refs).unwrap_or(RejectKind::ExecutionFailed);
        return Err(PlanError::Simulation(kind, err.to_string()));
    }
    if let Some(Some(created)) = simulation
        .accounts
        .as_ref()
        .and_then(|a| a.first())
        .filter(|_| creates_recipient_account)
    {
        rent_lamports = created.lamports;
    }
    let units_consumed = simulation.units_consumed.unwrap_or(200_000);
    let unit_limit = compute_unit_limit(units_consumed);
    let fee_lamports = network_fee_lamports(
        u64::from(probe.num_required_signatures),
        unit_limit,
        unit_price,
    );
    let need = lamports_sent
        .saturating_add(fee_lamports)
        .saturating_add(rent_lamports);
    if native < need {
        return Err(PlanError::InsufficientNative { have: native, need });
    }
    let left = native - need;
    if left != 0 && left < system_minimum {
        return Err(PlanError::RentExemption {
            minimum: system_minimum,
        });
    }
    Ok(TransferPlan {
        transfer,
        creates_recipient_account,
        recipient_token_account,
        rent_lamports,
        budget: ComputeBudget {
            unit_limit,
            unit_price,
        },
        fee_lamports,
        units_consumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pubkey::{ASSOCIATED_TOKEN_PROGRAM, MEMO_PROGRAM};

    #[test]
    fn spl_instructions_with_and_without_the_account_creation() {
        let t = Transfer {
            from: Pubkey([1; 32]),
            to: Pubkey([2; 32]),
            asset: Asset::Token {
                mint: Pubkey([3; 32]),
                program: TOKEN_PROGRAM,
                decimals: 6,
            },
            amount: 5,
            memo: Some("ref-1".into()),
        };
        let budget = ComputeBudget {
            unit_limit: 1,
            unit_price: 2,
        };
        let with = transfer_instructions(&t, true, budget).unwrap();
        let programs: Vec<Pubkey> = with.iter().map(|i| i.program_id).collect();
        assert_eq!(programs[2], ASSOCIATED_TOKEN_PROGRAM);
        assert_eq!(programs[3], TOKEN_PROGRAM);
        assert_eq!(programs[4], MEMO_PROGRAM);
        let without = transfer_instructions(&t, false, budget).unwrap();
        assert_eq!(without.len(), 4);
        // Both send to the same derived account.
        assert_eq!(with[3].accounts[2], without[2].accounts[2]);
    }

    #[test]
    fn circle_codes() {
        assert_eq!(
            PlanError::SourceAccountNotFound(Pubkey::default()).circle_code(),
            155262
        );
        assert_eq!(
            PlanError::RentExemption { minimum: 1 }.circle_code(),
            155257
        );
        assert_eq!(
            PlanError::InsufficientToken { have: 0, need: 1 }.circle_code(),
            155258
        );
    }
}
