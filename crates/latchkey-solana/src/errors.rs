//! A failed node call, classified as latchkey-evm classifies EVM ones (core's `NodeError`):
//! unavailable (retry later, nothing is known), rejected (the node refused a transaction, and
//! why), or other.
//!
//! Solana nodes report a refused transaction as JSON-RPC `-32002 Transaction simulation
//! failed: …` whose `data.err` is the runtime's `TransactionError` as JSON (`"BlockhashNotFound"`,
//! `{"InstructionError":[1,{"Custom":1}]}`, …) and `data.logs` the program logs; `-32003` is a
//! bad signature. The classification reads `data.err` first (exact), then the message and the
//! logs (for providers that reshape the error).

use serde_json::Value;

/// What a refused transaction means to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The node already has this exact transaction (a resend after a crash): it landed, look
    /// the signature up.
    AlreadyProcessed,
    /// The blockhash expired (or is unknown to this node yet): these bytes can never land on
    /// this node now; only a transaction signed anew can.
    BlockhashNotFound,
    /// The payer cannot pay the fee, or a transfer exceeds the balance (lamports or tokens).
    InsufficientFunds,
    /// An account would be left below its rent-exempt minimum (Circle's 155257): typically
    /// less than ~0.00089 SOL sent to an address that does not exist yet.
    InsufficientFundsForRent,
    /// The fee payer (or another account the transaction reads) does not exist (Circle's
    /// 155262).
    AccountNotFound,
    /// A signature does not verify.
    SignatureFailure,
    /// A program failed (any other instruction error): the transaction would fail on chain.
    ExecutionFailed,
}

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The node could not be reached, timed out, or said it is unhealthy or rate-limited after
    /// the retries (retry later; nothing is known).
    #[error("node unavailable: {0}")]
    Unavailable(String),
    /// The node refused a transaction (`sendTransaction`, or `simulateTransaction` read as a
    /// refusal).
    #[error("rejected ({0:?}): {1}")]
    Rejected(RejectKind, String),
    /// Any other JSON-RPC error, or an answer of an unexpected shape (the node's message, for
    /// the log only).
    #[error("node error: {0}")]
    Other(String),
}

/// JSON-RPC codes of an unhealthy node (`-32005 Node is behind by N slots`, `-32016 Minimum
/// context slot has not been reached`): like an unreachable one.
const UNHEALTHY_CODES: &[i64] = &[-32005, -32016];

/// Classifies a JSON-RPC error object of any method.
pub fn classify(code: i64, message: &str, data: Option<&Value>) -> RpcError {
    if UNHEALTHY_CODES.contains(&code) {
        return RpcError::Unavailable(message.to_string());
    }
    if code == -32003 {
        return RpcError::Rejected(RejectKind::SignatureFailure, message.to_string());
    }
    let err = data.and_then(|d| d.get("err")).filter(|e| !e.is_null());
    let logs: Vec<&str> = data
        .and_then(|d| d.get("logs"))
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(kind) = err.and_then(|e| classify_transaction_error(e, &logs)) {
        let detail = err.map(Value::to_string).unwrap_or_default();
        return RpcError::Rejected(kind, format!("{message} ({detail})"));
    }
    match classify_text(message) {
        Some(kind) => RpcError::Rejected(kind, message.to_string()),
        None if code == -32002 => {
            RpcError::Rejected(RejectKind::ExecutionFailed, message.to_string())
        }
        None => RpcError::Other(format!("{code}: {message}")),
    }
}

/// What a runtime `TransactionError` (as JSON, from `data.err`, a status's `err` or a
/// simulation's `err`) means; `None` when it is not an error.
pub fn classify_transaction_error(err: &Value, logs: &[&str]) -> Option<RejectKind> {
    if err.is_null() {
        return None;
    }
    if let Some(name) = err.as_str() {
        return Some(match name {
            "AlreadyProcessed" => RejectKind::AlreadyProcessed,
            "BlockhashNotFound" => RejectKind::BlockhashNotFound,
            "InsufficientFundsForFee" => RejectKind::InsufficientFunds,
            "AccountNotFound" | "ProgramAccountNotFound" | "InvalidAccountForFee" => {
                RejectKind::AccountNotFound
            }
            "SignatureFailure" => RejectKind::SignatureFailure,
            _ => RejectKind::ExecutionFailed,
        });
    }
    if err.get("InsufficientFundsForRent").is_some() {
        return Some(RejectKind::InsufficientFundsForRent);
    }
    // An instruction error: the programs' logs say whether it was a lack of funds
    // (System: "Transfer: insufficient lamports 10, need 100"; SPL Token and Token-2022:
    // "Error: insufficient funds").
    let lower: Vec<String> = logs.iter().map(|l| l.to_lowercase()).collect();
    if lower
        .iter()
        .any(|l| l.contains("insufficient funds for rent"))
    {
        return Some(RejectKind::InsufficientFundsForRent);
    }
    if lower
        .iter()
        .any(|l| l.contains("insufficient lamports") || l.contains("insufficient funds"))
    {
        return Some(RejectKind::InsufficientFunds);
    }
    Some(RejectKind::ExecutionFailed)
}

/// The kind named in an error's text (providers that drop `data`).
fn classify_text(message: &str) -> Option<RejectKind> {
    let lower = message.to_lowercase();
    const TEXTS: &[(&str, RejectKind)] = &[
        ("already been processed", RejectKind::AlreadyProcessed),
        ("alreadyprocessed", RejectKind::AlreadyProcessed),
        ("blockhash not found", RejectKind::BlockhashNotFound),
        ("blockhashnotfound", RejectKind::BlockhashNotFound),
        (
            "insufficient funds for rent",
            RejectKind::InsufficientFundsForRent,
        ),
        ("insufficient funds", RejectKind::InsufficientFunds),
        ("insufficient lamports", RejectKind::InsufficientFunds),
        ("no record of a prior credit", RejectKind::AccountNotFound),
        (
            "signature verification failure",
            RejectKind::SignatureFailure,
        ),
    ];
    TEXTS
        .iter()
        .find(|(needle, _)| lower.contains(needle))
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind(code: i64, message: &str, data: Value) -> Option<RejectKind> {
        match classify(code, message, Some(&data)) {
            RpcError::Rejected(k, _) => Some(k),
            _ => None,
        }
    }

    #[test]
    fn send_errors() {
        let sim = "Transaction simulation failed: ";
        assert_eq!(
            kind(-32002, sim, json!({"err": "AlreadyProcessed", "logs": []})),
            Some(RejectKind::AlreadyProcessed)
        );
        assert_eq!(
            kind(-32002, sim, json!({"err": "BlockhashNotFound"})),
            Some(RejectKind::BlockhashNotFound)
        );
        assert_eq!(
            kind(
                -32002,
                sim,
                json!({"err": {"InstructionError": [1, {"Custom": 1}]},
                       "logs": ["Transfer: insufficient lamports 10, need 100"]})
            ),
            Some(RejectKind::InsufficientFunds)
        );
        assert_eq!(
            kind(
                -32002,
                sim,
                json!({"err": {"InstructionError": [2, {"Custom": 1}]},
                       "logs": ["Program log: Error: insufficient funds"]})
            ),
            Some(RejectKind::InsufficientFunds)
        );
        assert_eq!(
            kind(
                -32002,
                sim,
                json!({"err": {"InsufficientFundsForRent": {"account_index": 1}}})
            ),
            Some(RejectKind::InsufficientFundsForRent)
        );
        assert_eq!(
            kind(-32002, sim, json!({"err": "AccountNotFound"})),
            Some(RejectKind::AccountNotFound)
        );
        assert_eq!(
            kind(
                -32002,
                sim,
                json!({"err": {"InstructionError": [0, "InvalidAccountData"]}})
            ),
            Some(RejectKind::ExecutionFailed)
        );
        assert_eq!(
            kind(
                -32003,
                "Transaction signature verification failure",
                json!(null)
            ),
            Some(RejectKind::SignatureFailure)
        );
        // Text only.
        assert_eq!(
            kind(
                -32002,
                "Transaction simulation failed: Blockhash not found",
                json!(null)
            ),
            Some(RejectKind::BlockhashNotFound)
        );
        assert!(matches!(
            classify(-32005, "Node is behind by 42 slots", None),
            RpcError::Unavailable(_)
        ));
        assert!(matches!(
            classify(-32601, "Method not found", None),
            RpcError::Other(_)
        ));
    }
}
