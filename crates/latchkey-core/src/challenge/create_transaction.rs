//! CREATE_TRANSACTION: a transfer of the native coin or a token from one of the user's
//! wallets, approved with the PIN (`POST /v1/w3s/user/transactions/transfer`).
//!
//! Creating the challenge runs every check that can run before the PIN: the plan's rules,
//! then the chain (156027 without a node), the fee fields against the chain's fee model, and
//! the chain reads of [`quote`] (balances, gas, the level's fees). It reserves the transaction
//! id (a UUID v4) in the payload; no transaction row exists until the PIN approves it, so a
//! replay of the create call (same idempotency key) returns the same challenge and therefore
//! the same transaction id. What the user is shown ([`TransferView`]) is kept in the payload
//! and is the cap the signature keeps to.

use super::execution::{Completion, Execution};
use super::outbound::{self, Approved};
use super::signing::{self, PinInput};
use super::solana_transfer::{self, SolanaTransferPayload};
use super::spec::{ChallengeSpec, Creation, Requires};
use crate::error::ApiError;
use crate::model::{ChallengeType, UserRecord};
use crate::money::plan::PlannedToken;
use crate::money::quote::{Quote, ShownFee};
use crate::money::{
    CreateTransferRequest, FeeChoice, PlannedTransfer, TransactionRecord, TransferPlan, TxOperation,
};
use crate::service::ExecuteBody;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The CREATE_TRANSACTION challenge type.
#[derive(Debug)]
pub struct CreateTransaction;

/// What the hosted page and `latchkey challenge execute` show before asking for the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferView {
    /// The sending wallet.
    pub wallet_id: String,
    /// Its chain.
    pub blockchain: String,
    /// The wallet's address.
    pub from: String,
    /// The recipient, as given.
    pub to: String,
    /// Whole-unit amounts, as given.
    pub amounts: Vec<String>,
    /// The token: id, standard, symbol, decimals and contract address.
    pub token: PlannedToken,
    /// NFT token ids (empty for fungible tokens).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nft_token_ids: Vec<String>,
    /// The fee level (or CUSTOM), gas, prices and the fee cap.
    #[serde(flatten)]
    pub fee: ShownFee,
    /// What else the transaction does that costs the user (Solana: "creates the recipient's
    /// USDC account (rent 0.00203928 SOL)").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a CREATE_TRANSACTION challenge keeps between creation and execution: an EVM transfer,
/// or a Solana one. Untagged, so that the EVM payloads stored before Solana had transfers
/// read back unchanged (a Solana payload has no `fee`, an EVM one no `feeLevel`).
// One lives per challenge: boxing the larger variant would buy nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CreateTransactionPayload {
    /// An EVM transfer.
    Evm(EvmTransferPayload),
    /// A Solana transfer.
    Solana(SolanaTransferPayload),
}

/// An EVM transfer's challenge payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvmTransferPayload {
    /// The id the transaction gets when the PIN approves it (reserved now).
    pub transaction_id: String,
    /// The transfer.
    pub plan: TransferPlan,
    /// How it pays for gas, as requested.
    pub fee: FeeChoice,
    /// The price approved: gas limit and the most per gas (the signing cap).
    pub quote: Quote,
    /// What the user is shown.
    pub shown: TransferView,
}

impl ChallengeSpec for CreateTransaction {
    const KIND: ChallengeType = ChallengeType::CreateTransaction;
    const NOTIFICATION: &'static str = "challenges.createTransaction";
    const FROM_EMPTY_REQUEST: bool = false;
    type Request = CreateTransferRequest;
    type Payload = CreateTransactionPayload;
    type Input = PinInput;

    async fn prepare(
        creation: Creation<'_>,
        request: CreateTransferRequest,
    ) -> Result<CreateTransactionPayload, ApiError> {
        let lk = creation.lk;
        let plan = match request
            .plan(lk.store.as_ref(), creation.session.into())
            .await?
        {
            PlannedTransfer::Evm(plan) => plan,
            PlannedTransfer::Solana(plan) => {
                return solana_transfer::prepare(lk, plan, &request.fee)
                    .await
                    .map(CreateTransactionPayload::Solana)
            }
        };
        let (fee, quote) = outbound::price(
            lk,
            &creation.caller.entity_id,
            &plan.wallet_id,
            plan.blockchain,
            plan.sca_owner,
            &plan.call,
            &plan.debit,
            &request.fee,
        )
        .await?;
        let shown = TransferView {
            wallet_id: plan.wallet_id.clone(),
            blockchain: plan.blockchain.as_str().to_owned(),
            from: plan.call.from.to_checksum(None),
            to: plan.destination_address.clone(),
            amounts: plan.amounts.clone(),
            token: plan.token.clone(),
            nft_token_ids: plan.nft_token_ids.clone(),
            fee: quote.shown.clone(),
            note: None,
        };
        Ok(CreateTransactionPayload::Evm(EvmTransferPayload {
            transaction_id: uuid::Uuid::new_v4().to_string(),
            plan,
            fee,
            quote,
            shown,
        }))
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        signing::check_user(user)
    }

    fn requires(_user: &UserRecord) -> Requires {
        signing::requires()
    }

    fn display(payload: &CreateTransactionPayload) -> Result<Value, serde_json::Error> {
        match payload {
            CreateTransactionPayload::Evm(p) => serde_json::to_value(&p.shown),
            CreateTransactionPayload::Solana(p) => serde_json::to_value(&p.shown),
        }
    }

    fn input(body: ExecuteBody) -> Result<PinInput, ApiError> {
        signing::pin_input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        payload: &CreateTransactionPayload,
        input: PinInput,
    ) -> Result<Completion, ApiError> {
        let payload = match payload {
            CreateTransactionPayload::Evm(p) => p,
            CreateTransactionPayload::Solana(p) => {
                return solana_transfer::execute(run, p, input).await
            }
        };
        let approved = Approved {
            kind: Self::KIND,
            sca_owner: payload.plan.sca_owner,
            call: &payload.plan.call,
            fee: &payload.fee,
            quote: &payload.quote,
            record: payload.record(run.user()),
        };
        outbound::execute(run, approved, input).await
    }
}

impl EvmTransferPayload {
    /// The transaction this transfer writes once approved (outbound::execute sets its state,
    /// nonce, challenge and times).
    fn record(&self, user: &UserRecord) -> TransactionRecord {
        let plan = &self.plan;
        let mut t = outbound::approved_record(
            &self.transaction_id,
            user,
            &plan.wallet_id,
            plan.blockchain,
            TxOperation::Transfer,
            &self.fee,
            &self.quote,
        );
        t.token_id = Some(plan.token.id.clone());
        t.amounts = plan.amounts.clone();
        t.nft_token_ids = (!plan.nft_token_ids.is_empty()).then(|| plan.nft_token_ids.clone());
        t.source_address = Some(self.shown.from.clone());
        t.destination_address = Some(plan.destination_address.clone());
        t.contract_address = plan.token.address.clone();
        t.ref_id = plan.ref_id.clone();
        t
    }
}
