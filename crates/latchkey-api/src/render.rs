//! Domain records rendered as Circle's wire objects (`EndUser`, `Challenge`).

use latchkey_core::clock::Timestamp;
use latchkey_core::model::{
    ChallengeRecord, ChallengeStatus, GuessState, UserRecord, WalletRecord,
};
use serde_json::{json, Map, Value};

/// `PinSecurityDetails`: `{"failedAttempts":0}` for a user who never failed; a lock that has
/// run out no longer counts.
pub fn guess_details(g: &GuessState, now: Timestamp) -> Value {
    let mut m = Map::new();
    let lapsed = g.locked_expiry.is_some_and(|e| e <= now);
    m.insert(
        "failedAttempts".into(),
        json!(if lapsed { 0 } else { g.failed_attempts }),
    );
    if !lapsed {
        if let Some(t) = g.locked_date {
            m.insert("lockedDate".into(), json!(t.iso()));
        }
        if let Some(t) = g.locked_expiry {
            m.insert("lockedExpiryDate".into(), json!(t.iso()));
        }
    }
    if let Some(t) = g.last_lock_override {
        m.insert("lastLockOverrideDate".into(), json!(t.iso()));
    }
    Value::Object(m)
}

/// Circle's `EndUser`.
pub fn end_user(u: &UserRecord, now: Timestamp) -> Value {
    json!({
        "id": u.user_id,
        "createDate": u.created_at.iso(),
        "status": if u.disabled { "DISABLED" } else { "ENABLED" },
        "pinStatus": u.pin_status(now),
        "securityQuestionStatus": u.security_question_status(now),
        "pinDetails": guess_details(&u.pin_guesses, now),
        "securityQuestionDetails": guess_details(&u.answer_guesses, now),
        "authMode": "PIN",
    })
}

/// Circle's `Challenge`: `errorCode` / `errorMessage` only when FAILED.
pub fn challenge(c: &ChallengeRecord, now: Timestamp) -> Value {
    let status = c.status_at(now);
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("type".into(), json!(c.kind.as_str()));
    m.insert("status".into(), json!(status.as_str()));
    m.insert("correlationIds".into(), json!(c.correlation_ids));
    if status == ChallengeStatus::Failed {
        m.insert("errorCode".into(), json!(c.error_code.unwrap_or(-1)));
        m.insert(
            "errorMessage".into(),
            json!(c.error_message.clone().unwrap_or_default()),
        );
    }
    Value::Object(m)
}

/// Circle's `Wallet` (user-controlled: `custodyType` ENDUSER).
pub fn wallet(w: &WalletRecord) -> Value {
    let mut v = json!({
        "id": w.id,
        "state": w.state,
        "walletSetId": w.wallet_set_id,
        "custodyType": "ENDUSER",
        "userId": w.user_id,
        "address": w.address,
        "blockchain": w.blockchain,
        "accountType": w.account_type,
        "createDate": w.created_at.iso(),
        "updateDate": w.updated_at.iso(),
    });
    if let Some(n) = &w.name {
        v["name"] = json!(n);
    }
    if let Some(r) = &w.ref_id {
        v["refId"] = json!(r);
    }
    v
}
