//! CONTRACT_EXECUTION: a contract call from one of the user's wallets, approved with the PIN
//! (`POST /v1/w3s/user/transactions/contractExecution`).
//!
//! The same life as a transfer (see [`super::create_transaction`]): creation runs the plan's
//! rules, then the chain (156027 without a node), the fee fields, and the chain reads of
//! [`quote`]. The quote asks the node to estimate the call, so a call that reverts now is
//! refused at creation with 155208 and the revert reason, before any PIN; a call that only
//! reverts once mined (the chain moved between creation and mining) becomes a FAILED
//! transaction with `FAILED_ON_CHAIN`, which the engine writes from the receipt. Approval
//! runs the shared [`outbound::execute`].

use super::execution::{Completion, Execution};
use super::outbound::{self, Approved};
use super::signing::{self, PinInput};
use super::spec::{ChallengeSpec, Creation, Requires};
use crate::error::ApiError;
use crate::model::{ChallengeType, UserRecord};
use crate::money::quote::{Quote, ShownFee};
use crate::money::{
    CallPlan, CreateContractExecutionRequest, FeeChoice, TokenDebit, TransactionRecord, TxOperation,
};
use crate::service::ExecuteBody;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The CONTRACT_EXECUTION challenge type.
#[derive(Debug)]
pub struct ContractExecution;

/// What the hosted page and `latchkey challenge execute` show before asking for the PIN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractExecutionView {
    /// The sending wallet.
    pub wallet_id: String,
    /// Its chain.
    pub blockchain: String,
    /// The wallet's address.
    pub from: String,
    /// The contract called, as given.
    pub contract_address: String,
    /// The function, when the call was given by signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi_function_signature: Option<String>,
    /// Its arguments, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi_parameters: Option<Vec<Value>>,
    /// The raw calldata, when the call was given that way (nothing else describes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_data: Option<String>,
    /// The native amount sent with the call, in whole units (`"0"` when none).
    pub amount: String,
    /// The fee level (or CUSTOM), gas, prices, the fee cap and the native symbol.
    #[serde(flatten)]
    pub fee: ShownFee,
}

/// What a CONTRACT_EXECUTION challenge keeps between creation and execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractExecutionPayload {
    /// The id the transaction gets when the PIN approves it (reserved now).
    pub transaction_id: String,
    /// The call.
    pub plan: CallPlan,
    /// How it pays for gas, as requested.
    pub fee: FeeChoice,
    /// The price approved: gas limit and the most per gas (the signing cap).
    pub quote: Quote,
    /// What the user is shown.
    pub shown: ContractExecutionView,
}

impl ChallengeSpec for ContractExecution {
    const KIND: ChallengeType = ChallengeType::ContractExecution;
    const NOTIFICATION: &'static str = "challenges.contractExecution";
    const FROM_EMPTY_REQUEST: bool = false;
    type Request = CreateContractExecutionRequest;
    type Payload = ContractExecutionPayload;
    type Input = PinInput;

    async fn prepare(
        creation: Creation<'_>,
        request: CreateContractExecutionRequest,
    ) -> Result<ContractExecutionPayload, ApiError> {
        let lk = creation.lk;
        let plan = request
            .plan(lk.store.as_ref(), creation.session.into())
            .await?;
        // A call moves no token the wallet must hold beforehand: what it spends is the
        // contract's business, and a shortfall there is the call reverting (155208).
        let (fee, quote) = outbound::price(
            lk,
            &creation.caller.entity_id,
            &plan.wallet_id,
            plan.blockchain,
            plan.sca_owner,
            &plan.call,
            &TokenDebit::None,
            &request.fee,
        )
        .await?;
        let shown = ContractExecutionView {
            wallet_id: plan.wallet_id.clone(),
            blockchain: plan.blockchain.as_str().to_owned(),
            from: plan.call.from.to_checksum(None),
            contract_address: plan.contract_address.clone(),
            abi_function_signature: plan.abi_function_signature.clone(),
            abi_parameters: plan.abi_parameters.clone(),
            call_data: plan.call_data.clone(),
            amount: plan.amount.clone().unwrap_or_else(|| "0".to_owned()),
            fee: quote.shown.clone(),
        };
        Ok(ContractExecutionPayload {
            transaction_id: uuid::Uuid::new_v4().to_string(),
            plan,
            fee,
            quote,
            shown,
        })
    }

    fn check_user(user: &UserRecord) -> Result<(), ApiError> {
        signing::check_user(user)
    }

    fn requires(_user: &UserRecord) -> Requires {
        signing::requires()
    }

    fn display(payload: &ContractExecutionPayload) -> Result<Value, serde_json::Error> {
        serde_json::to_value(&payload.shown)
    }

    fn input(body: ExecuteBody) -> Result<PinInput, ApiError> {
        signing::pin_input(body)
    }

    async fn complete(
        run: &Execution<'_>,
        payload: &ContractExecutionPayload,
        input: PinInput,
    ) -> Result<Completion, ApiError> {
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

impl ContractExecutionPayload {
    /// The transaction this call writes once approved (outbound::execute sets its state,
    /// nonce, challenge and times). Circle's contract executions carry the contract as both
    /// `contractAddress` and `destinationAddress`, no token, and the native amount (if any)
    /// as the single entry of `amounts`.
    fn record(&self, user: &UserRecord) -> TransactionRecord {
        let plan = &self.plan;
        let mut t = outbound::approved_record(
            &self.transaction_id,
            user,
            &plan.wallet_id,
            plan.blockchain,
            TxOperation::ContractExecution,
            &self.fee,
            &self.quote,
        );
        t.amounts = plan.amount.iter().cloned().collect();
        t.source_address = Some(self.shown.from.clone());
        t.destination_address = Some(plan.contract_address.clone());
        t.contract_address = Some(plan.contract_address.clone());
        t.abi_function_signature = plan.abi_function_signature.clone();
        t.abi_parameters = plan.abi_parameters.clone();
        t.call_data = plan.call_data.clone();
        t.ref_id = plan.ref_id.clone();
        t
    }
}
