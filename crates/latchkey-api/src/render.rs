//! Circle's shared wire objects (`EndUser`, `Challenge`, `Wallet`, `PinSecurityDetails`),
//! built from domain records. Every type here is also an OpenAPI schema.

use latchkey_core::clock::Timestamp;
use latchkey_core::model::{
    ChallengeRecord, ChallengeStatus, GuessState, UserRecord, WalletRecord,
};
use serde::Serialize;
use utoipa::ToSchema;

/// Circle's `PinSecurityDetails`: `{"failedAttempts":0}` for a user who never failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PinSecurityDetails {
    /// Failed attempts since the last success (0 once a lock has run out).
    pub failed_attempts: i64,
    /// When the current lock started (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_date: Option<String>,
    /// When the current lock ends (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_expiry_date: Option<String>,
    /// When an operator last lifted a lock (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_lock_override_date: Option<String>,
}

impl PinSecurityDetails {
    /// The details at `now`: a lock that has run out no longer counts.
    pub fn new(g: &GuessState, now: Timestamp) -> Self {
        let lapsed = g.locked_expiry.is_some_and(|e| e <= now);
        let current = |t: Option<Timestamp>| if lapsed { None } else { t.map(|t| t.iso()) };
        Self {
            failed_attempts: if lapsed { 0 } else { g.failed_attempts },
            locked_date: current(g.locked_date),
            locked_expiry_date: current(g.locked_expiry),
            last_lock_override_date: g.last_lock_override.map(|t| t.iso()),
        }
    }
}

/// Circle's `EndUser`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndUser {
    /// The developer's user id.
    pub id: String,
    /// Creation time (ISO-8601).
    pub create_date: String,
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// `UNSET`, `ENABLED` or `LOCKED`.
    pub pin_status: String,
    /// `UNSET`, `ENABLED` or `LOCKED`.
    pub security_question_status: String,
    /// PIN guesses.
    pub pin_details: PinSecurityDetails,
    /// Security-answer guesses.
    pub security_question_details: PinSecurityDetails,
    /// Always `PIN`.
    pub auth_mode: String,
}

impl EndUser {
    /// The user as of `now`.
    pub fn new(u: &UserRecord, now: Timestamp) -> Self {
        Self {
            id: u.user_id.clone(),
            create_date: u.created_at.iso(),
            status: if u.disabled { "DISABLED" } else { "ENABLED" }.into(),
            pin_status: u.pin_status(now).into(),
            security_question_status: u.security_question_status(now).into(),
            pin_details: PinSecurityDetails::new(&u.pin_guesses, now),
            security_question_details: PinSecurityDetails::new(&u.answer_guesses, now),
            auth_mode: "PIN".into(),
        }
    }
}

/// Circle's `Challenge`: `errorCode` / `errorMessage` only when FAILED.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Challenge {
    /// Challenge id (UUID).
    pub id: String,
    /// `INITIALIZE`, `SET_PIN`, `CHANGE_PIN`, `RESTORE_PIN`, `CREATE_WALLET`, `SIGN_…`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `PENDING`, `IN_PROGRESS`, `COMPLETE`, `FAILED` or `EXPIRED`.
    pub status: String,
    /// Ids of what the challenge produced (wallet ids).
    pub correlation_ids: Vec<String>,
    /// Circle's code of the failure, when FAILED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// The failure's message, when FAILED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl Challenge {
    /// The challenge as of `now`.
    pub fn new(c: &ChallengeRecord, now: Timestamp) -> Self {
        let status = c.status_at(now);
        let failed = status == ChallengeStatus::Failed;
        Self {
            id: c.id.clone(),
            kind: c.kind.as_str().into(),
            status: status.as_str().into(),
            correlation_ids: c.correlation_ids.clone(),
            error_code: failed.then(|| c.error_code.unwrap_or(-1)),
            error_message: failed.then(|| c.error_message.clone().unwrap_or_default()),
        }
    }
}

/// Circle's `Wallet` (user-controlled: `custodyType` ENDUSER).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Wallet {
    /// Wallet id (UUID).
    pub id: String,
    /// `LIVE` (or `FROZEN`).
    pub state: String,
    /// The user's wallet set.
    pub wallet_set_id: String,
    /// Always `ENDUSER`.
    pub custody_type: String,
    /// The developer's user id.
    pub user_id: String,
    /// On-chain address.
    pub address: String,
    /// Circle's blockchain name (`ETH-SEPOLIA`, `SOL-DEVNET`…).
    pub blockchain: String,
    /// `EOA` or `SCA`.
    pub account_type: String,
    /// SCA only: the account implementation, `latchkey_safe_v141_4337_v030` (a Safe 1.4.1
    /// with the Safe4337Module 0.3.0; not one of Circle's `circle_*` cores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sca_core: Option<String>,
    /// Creation time (ISO-8601).
    pub create_date: String,
    /// Last change (ISO-8601).
    pub update_date: String,
    /// Display name, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The developer's reference, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
}

impl Wallet {
    /// The wallet's public fields.
    pub fn new(w: &WalletRecord) -> Self {
        Self {
            id: w.id.clone(),
            state: w.state.clone(),
            wallet_set_id: w.wallet_set_id.clone(),
            custody_type: "ENDUSER".into(),
            user_id: w.user_id.clone(),
            address: w.address.clone(),
            blockchain: w.blockchain.clone(),
            account_type: w.account_type.clone(),
            sca_core: w.sca_core.clone(),
            create_date: w.created_at.iso(),
            update_date: w.updated_at.iso(),
            name: w.name.clone(),
            ref_id: w.ref_id.clone(),
        }
    }
}

/// `{"data": {"challengeId": …}}`: what every challenge-creating call answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeIdResponse {
    /// The envelope.
    pub data: ChallengeIdData,
}

/// The new challenge's id.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeIdData {
    /// Challenge id (UUID): the hosted page executes it.
    pub challenge_id: String,
}

impl ChallengeIdResponse {
    /// Wraps `id`.
    pub fn new(id: String) -> Self {
        Self {
            data: ChallengeIdData { challenge_id: id },
        }
    }
}
