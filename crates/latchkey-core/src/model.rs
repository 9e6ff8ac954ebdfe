//! Domain records as the store keeps them, and the enums of Circle's wire format.

use crate::clock::Timestamp;
use crate::crypto::WrappedKey;
use serde::{Deserialize, Serialize};

/// TEST or LIVE, as carried by the API key (and so by the tokens it issues).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Environment {
    /// Testnets only.
    Test,
    /// Mainnets only.
    Live,
}

impl Environment {
    /// `TEST` / `LIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "TEST",
            Environment::Live => "LIVE",
        }
    }

    /// Parses `TEST` / `LIVE`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TEST" => Some(Environment::Test),
            "LIVE" => Some(Environment::Live),
            _ => None,
        }
    }

    /// The prefix of API keys of this environment (`TEST_API_KEY`).
    pub fn key_prefix(self) -> &'static str {
        match self {
            Environment::Test => "TEST_API_KEY",
            Environment::Live => "LIVE_API_KEY",
        }
    }
}

/// A developer account: owns API keys, users, and everything below them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Entity id (UUID).
    pub id: String,
    /// The App ID the end-user side presents (UUID).
    pub app_id: String,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// An API key as stored: only a hash of its secret part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The middle part of `TEST_API_KEY:<id>:<secret>`.
    pub key_id: String,
    /// Owning entity.
    pub entity_id: String,
    /// Operator's label.
    pub name: String,
    /// TEST or LIVE.
    pub environment: Environment,
    /// SHA-256 of the secret part (the secret is 128 random bits, so a fast hash suffices).
    pub secret_hash: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A security question as stored (the answer exists only inside the answers wrap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredQuestion {
    /// Question text.
    pub question: String,
    /// Optional hint (never equal to the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Failed guesses and the lock they caused, for the PIN or for the answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuessState {
    /// Wrong guesses since the last lock (a guess counts as wrong until it passes; a right
    /// one gives back only its own count, never resets it).
    pub failed_attempts: i64,
    /// When the lock started.
    pub locked_date: Option<Timestamp>,
    /// When the lock ends.
    pub locked_expiry: Option<Timestamp>,
    /// When an operator last lifted a lock.
    pub last_lock_override: Option<Timestamp>,
}

impl GuessState {
    /// Locked at `now`?
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_expiry.is_some_and(|e| e > now)
    }
}

/// Which secret a guess is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The 6-digit PIN.
    Pin,
    /// The security answers.
    Answers,
}

/// An end user of an entity, in one environment: the same userId in TEST and in LIVE is two
/// users, and a key or token of one environment never reaches the other's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Owning entity.
    pub entity_id: String,
    /// The environment of the API key that created the user.
    pub environment: Environment,
    /// Internal id (UUID), used to bind keys and in tokens.
    pub internal_id: String,
    /// The developer's userId (5–50 characters).
    pub user_id: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Disabled by an operator.
    pub disabled: bool,
    /// The user key wrapped under the PIN.
    pub pin_wrap: Option<WrappedKey>,
    /// Bumped on every PIN rewrap; compare-and-swap guard for CHANGE_PIN / RESTORE_PIN.
    pub pin_version: i64,
    /// The user key wrapped under the security answers.
    pub answers_wrap: Option<WrappedKey>,
    /// The questions (and hints) the user set.
    pub questions: Vec<StoredQuestion>,
    /// PIN guesses.
    pub pin_guesses: GuessState,
    /// Answer guesses.
    pub answer_guesses: GuessState,
}

impl UserRecord {
    /// Circle's `pinStatus`.
    pub fn pin_status(&self, now: Timestamp) -> &'static str {
        if self.pin_wrap.is_none() {
            "UNSET"
        } else if self.pin_guesses.is_locked(now) {
            "LOCKED"
        } else {
            "ENABLED"
        }
    }

    /// Circle's `securityQuestionStatus`.
    pub fn security_question_status(&self, now: Timestamp) -> &'static str {
        if self.answers_wrap.is_none() {
            "UNSET"
        } else if self.answer_guesses.is_locked(now) {
            "LOCKED"
        } else {
            "ENABLED"
        }
    }

    /// The guess state of `kind`.
    pub fn guesses(&self, kind: SecretKind) -> &GuessState {
        match kind {
            SecretKind::Pin => &self.pin_guesses,
            SecretKind::Answers => &self.answer_guesses,
        }
    }
}

/// A new user to insert.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Owning entity.
    pub entity_id: String,
    /// The environment of the creating API key.
    pub environment: Environment,
    /// Internal id (UUID).
    pub internal_id: String,
    /// The developer's userId.
    pub user_id: String,
    /// Creation time.
    pub created_at: Timestamp,
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(
                #[doc = $wire]
                #[serde(rename = $wire)]
                $variant,
            )*
        }

        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)* }
            }

            /// Parses the wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)* _ => None }
            }
        }
    };
}

wire_enum!(
    /// What a challenge asks the user to approve.
    ChallengeType {
        Initialize = "INITIALIZE",
        SetPin = "SET_PIN",
        ChangePin = "CHANGE_PIN",
        RestorePin = "RESTORE_PIN",
        SetSecurityQuestions = "SET_SECURITY_QUESTIONS",
        CreateWallet = "CREATE_WALLET",
        CreateTransaction = "CREATE_TRANSACTION",
        AccelerateTransaction = "ACCELERATE_TRANSACTION",
        CancelTransaction = "CANCEL_TRANSACTION",
        ContractExecution = "CONTRACT_EXECUTION",
        WalletUpgrade = "WALLET_UPGRADE",
        SignMessage = "SIGN_MESSAGE",
        SignTypedData = "SIGN_TYPEDDATA",
        SignTransaction = "SIGN_TRANSACTION",
    }
);

wire_enum!(
    /// Where a challenge stands.
    ChallengeStatus {
        Pending = "PENDING",
        InProgress = "IN_PROGRESS",
        Complete = "COMPLETE",
        Failed = "FAILED",
        Expired = "EXPIRED",
    }
);

impl ChallengeStatus {
    /// COMPLETE, FAILED and EXPIRED never change again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ChallengeStatus::Complete | ChallengeStatus::Failed | ChallengeStatus::Expired
        )
    }
}

/// A challenge as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeRecord {
    /// Challenge id (UUID).
    pub id: String,
    /// Owning entity.
    pub entity_id: String,
    /// The user's internal id.
    pub user_internal_id: String,
    /// Type.
    pub kind: ChallengeType,
    /// Stored status (see [`ChallengeRecord::status_at`] for the one to show).
    pub status: ChallengeStatus,
    /// Wallet or transaction ids the challenge produced.
    pub correlation_ids: Vec<String>,
    /// Error code when FAILED.
    pub error_code: Option<i64>,
    /// Error message when FAILED.
    pub error_message: Option<String>,
    /// What the challenge will do (blockchains, metadata, what to sign): not secret.
    pub payload: crate::challenge::ChallengePayload,
    /// Creation time.
    pub created_at: Timestamp,
    /// After this instant a non-terminal challenge is EXPIRED.
    pub expires_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl ChallengeRecord {
    /// The status as of `now`: a non-terminal challenge past its expiry is EXPIRED, whether
    /// or not the row has been rewritten yet.
    pub fn status_at(&self, now: Timestamp) -> ChallengeStatus {
        if !self.status.is_terminal() && now >= self.expires_at {
            ChallengeStatus::Expired
        } else {
            self.status
        }
    }
}

/// One append-only audit log entry. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Owning entity.
    #[serde(rename = "entityId")]
    pub entity_id: String,
    /// The user's internal id, where one is concerned.
    #[serde(rename = "userInternalId", skip_serializing_if = "Option::is_none")]
    pub user_internal_id: Option<String>,
    /// What happened (`pin.attempt.failed`, `pin.locked`, `token.issued`, ...).
    pub action: String,
    /// Non-secret details (challenge id, attempts left).
    pub detail: serde_json::Value,
    /// When.
    #[serde(skip)]
    pub at: Timestamp,
}

impl AuditEvent {
    /// An event about a user.
    pub fn user(
        entity_id: &str,
        user_internal_id: &str,
        action: &str,
        detail: serde_json::Value,
        at: Timestamp,
    ) -> Self {
        Self {
            entity_id: entity_id.to_string(),
            user_internal_id: Some(user_internal_id.to_string()),
            action: action.to_string(),
            detail,
            at,
        }
    }
}

/// A wallet as stored. Its key exists only sealed under a key derived from the user key.
#[derive(Clone, PartialEq, Eq)]
pub struct WalletRecord {
    /// Wallet id (UUID).
    pub id: String,
    /// Owning entity.
    pub entity_id: String,
    /// Owning user's internal id.
    pub user_internal_id: String,
    /// The owning user's developer userId (rendered as `userId`).
    pub user_id: String,
    /// Circle's walletSetId (one set per user).
    pub wallet_set_id: String,
    /// Circle's blockchain name (`ETH-SEPOLIA`, `SOL-DEVNET`…).
    pub blockchain: String,
    /// `EOA`, or `SCA` (a Safe owned by the wallet's key: [`WalletRecord::is_sca`]).
    pub account_type: String,
    /// EIP-55 address or base58 public key.
    pub address: String,
    /// LIVE or FROZEN.
    pub state: String,
    /// Developer's name for it.
    pub name: Option<String>,
    /// Developer's reference.
    pub ref_id: Option<String>,
    /// The chain secret, AES-GCM sealed under HKDF(user key, wallet id).
    pub sealed_key: Vec<u8>,
    /// SCA only: the account implementation ([`SCA_CORE`]); `None` for EOA.
    pub sca_core: Option<String>,
    /// SCA only: the EIP-55 address of the wallet's key, the Safe's one owner (`address` is
    /// the Safe's); `None` for EOA, whose key's address is `address`.
    pub owner_address: Option<String>,
    /// SCA only: when the account's first UserOperation was COMPLETE (its Safe deployed).
    pub deployed_at: Option<Timestamp>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// `accountType` of a smart-contract account.
pub const ACCOUNT_SCA: &str = "SCA";
/// `accountType` of an externally owned account.
pub const ACCOUNT_EOA: &str = "EOA";
/// `scaCore` of latchkey's SCA wallets: a Safe 1.4.1 (SafeL2) proxy with the Safe4337Module
/// 0.3.0 on EntryPoint v0.7 (docs/sca.md). Not one of Circle's `circle_*` cores, whose
/// contracts latchkey does not deploy.
pub const SCA_CORE: &str = "latchkey_safe_v141_4337_v030";

impl WalletRecord {
    /// Whether the wallet is a smart-contract account (its key only owns the account).
    pub fn is_sca(&self) -> bool {
        self.account_type == ACCOUNT_SCA
    }
}

impl std::fmt::Debug for WalletRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletRecord")
            .field("id", &self.id)
            .field("blockchain", &self.blockchain)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}
