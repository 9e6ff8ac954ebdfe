//! Challenges: what the end user approves with the PIN or the security answers. The
//! [`engine`] runs every challenge the same way (create, view, execute, complete or fail,
//! guesses, idempotency); each type's module is its [`ChallengeSpec`]: how it is created,
//! what the page asks for and shows, what the execute body must hold, and what completing
//! it does. Adding a type is one module plus one line in [`registry`].

mod body;
mod engine;
mod execution;
mod outbound;
mod registry;
mod sca_outbound;
mod sca_replace;
mod setup;
pub(crate) mod signing;
mod solana_transfer;
mod spec;
mod unlock;
mod wallets;

pub mod change_pin;
pub mod contract_execution;
pub mod create_transaction;
pub mod create_wallet;
pub mod initialize;
pub mod replace_transaction;
pub mod restore_pin;
pub mod set_pin;
pub mod sign_message;
pub mod sign_transaction;
pub mod sign_typed_data;

pub use body::{ExecuteBody, QuestionAnswer};
pub use engine::{ChallengeView, ExecuteOutcome, Idempotency};
pub use execution::{Completion, Execution};
pub use registry::{ChallengePayload, PayloadError};
pub use setup::SetUpInput;
pub use signing::{PinInput, SignRequest, WalletView};
pub use spec::{ChallengeSpec, Creation, NoRequest, Requires};
pub use wallets::{WalletPlan, WalletRequest, MAX_BLOCKCHAINS};

pub use change_pin::ChangePin;
pub use contract_execution::{ContractExecution, ContractExecutionPayload, ContractExecutionView};
pub use create_transaction::{
    CreateTransaction, CreateTransactionPayload, EvmTransferPayload, TransferView,
};
pub use create_wallet::CreateWallet;
pub use initialize::Initialize;
pub use replace_transaction::{AccelerateTransaction, CancelTransaction, ReplaceRequest};
pub use restore_pin::RestorePin;
pub use set_pin::SetPin;
pub use sign_message::SignMessage;
pub use sign_transaction::SignTransaction;
pub use sign_typed_data::SignTypedData;
pub use solana_transfer::SolanaTransferPayload;
