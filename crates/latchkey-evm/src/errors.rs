//! A failed node call, classified into core's [`NodeError`].
//!
//! Nodes agree on messages far better than on JSON-RPC codes (geth, anvil, erigon, nethermind
//! and the hosted providers all say `nonce too low`, but with -32000, -32003 or 3), so the
//! classification reads the message, lowercased. Revert reasons are decoded from the error's
//! `data` (the ABI-encoded `Error(string)`), because the message's wording of them differs.

use alloy_sol_types::{Revert, SolError};
use alloy_transport::{TransportError, TransportErrorKind};
use latchkey_core::money::{NodeError, RejectKind};

/// Message fragments, lowercase, and what they mean. Order matters: the first match wins, so
/// `replacement transaction underpriced` is tried before the plain `underpriced` of a fee that
/// is too low.
const REJECTIONS: &[(&str, RejectKind)] = &[
    ("already known", RejectKind::AlreadyKnown),
    ("known transaction", RejectKind::AlreadyKnown),
    ("already imported", RejectKind::AlreadyKnown),
    ("nonce too low", RejectKind::NonceTooLow),
    ("oldnonce", RejectKind::NonceTooLow),
    (
        "replacement transaction underpriced",
        RejectKind::ReplacementUnderpriced,
    ),
    (
        "replacement underpriced",
        RejectKind::ReplacementUnderpriced,
    ),
    (
        "max fee per gas less than block base fee",
        RejectKind::FeeTooLow,
    ),
    ("fee too low", RejectKind::FeeTooLow),
    ("underpriced", RejectKind::FeeTooLow),
    ("insufficient funds", RejectKind::InsufficientFunds),
    ("intrinsic gas too low", RejectKind::Permanent),
    ("exceeds block gas limit", RejectKind::Permanent),
    ("invalid sender", RejectKind::Permanent),
    ("exceeds the configured cap", RejectKind::Permanent),
    ("tx fee exceeds cap", RejectKind::Permanent),
];

/// What an alloy error means to the engine.
pub fn classify(error: TransportError) -> NodeError {
    match error {
        TransportError::ErrorResp(payload) => {
            let message = payload.message.to_string();
            let lower = message.to_lowercase();
            if lower.contains("revert") {
                let reason = payload
                    .as_revert_data()
                    .and_then(|data| revert_reason(&data))
                    .or_else(|| reason_in_message(&message));
                return NodeError::Reverted(reason);
            }
            classify_message(&message)
        }
        TransportError::Transport(kind) => NodeError::Unavailable(transport_message(&kind)),
        // The node answered, but not with what the method returns (a proxy's HTML page, a
        // null where a value was due): retrying may help, nothing else will.
        TransportError::NullResp => NodeError::Other("the node answered null".to_string()),
        other => NodeError::Other(other.to_string()),
    }
}

/// The classification of an error message alone (also used for messages carried in other
/// errors).
pub fn classify_message(message: &str) -> NodeError {
    let lower = message.to_lowercase();
    if lower.contains("gas required exceeds allowance") {
        return NodeError::GasExceedsAllowance;
    }
    match REJECTIONS.iter().find(|(needle, _)| lower.contains(needle)) {
        Some((_, kind)) => NodeError::Rejected(*kind, message.to_string()),
        None => NodeError::Other(message.to_string()),
    }
}

/// The reason of an ABI-encoded `Error(string)` revert; `None` for any other payload (a
/// custom error or a `Panic(uint256)` has no text to show), except the EntryPoint's
/// `FailedOp` / `FailedOpWithRevert`, whose text is the ERC-4337 reason (`AA23 reverted`).
pub fn revert_reason(data: &[u8]) -> Option<String> {
    use latchkey_chains::sca::IEntryPoint::{FailedOp, FailedOpWithRevert};
    Revert::abi_decode(data)
        .map(|r| r.reason)
        .or_else(|_| FailedOp::abi_decode(data).map(|e| e.reason))
        .or_else(|_| FailedOpWithRevert::abi_decode(data).map(|e| e.reason))
        .ok()
}

/// Some providers drop the `data` but keep the reason in the message
/// (`execution reverted: Reverter: always fails`).
fn reason_in_message(message: &str) -> Option<String> {
    let (_, reason) = message.split_once("execution reverted:")?;
    let reason = reason.trim();
    // anvil words undecodable data as `custom error 0x…`: that is not a reason.
    (!reason.is_empty() && !reason.starts_with("custom error")).then(|| reason.to_string())
}

/// A transport failure's text. reqwest errors name the URL, which may carry an API key, so
/// only the kind of failure is kept.
fn transport_message(kind: &TransportErrorKind) -> String {
    match kind {
        TransportErrorKind::HttpError(e) => format!("HTTP {}", e.status),
        TransportErrorKind::Custom(e) => match e.downcast_ref::<reqwest::Error>() {
            Some(e) if e.is_timeout() => "timed out".to_string(),
            Some(e) if e.is_connect() => "connection refused or unreachable".to_string(),
            Some(e) => without_url(e),
            None => e.to_string(),
        },
        other => other.to_string(),
    }
}

/// `reqwest::Error`'s text without the URL it carries.
fn without_url(e: &reqwest::Error) -> String {
    let text = e.to_string();
    match e.url() {
        Some(url) => text.replace(url.as_str(), "<node>"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_map_to_kinds() {
        let kind = |m: &str| match classify_message(m) {
            NodeError::Rejected(k, _) => Some(k),
            _ => None,
        };
        for (message, expected) in [
            ("already known", RejectKind::AlreadyKnown),
            (
                "Nonce too low. Expected nonce to be 3 but got 1",
                RejectKind::NonceTooLow,
            ),
            (
                "replacement transaction underpriced",
                RejectKind::ReplacementUnderpriced,
            ),
            (
                "max fee per gas less than block base fee",
                RejectKind::FeeTooLow,
            ),
            ("transaction underpriced", RejectKind::FeeTooLow),
            (
                "insufficient funds for gas * price + value",
                RejectKind::InsufficientFunds,
            ),
            ("intrinsic gas too low", RejectKind::Permanent),
            ("exceeds block gas limit", RejectKind::Permanent),
            ("invalid sender", RejectKind::Permanent),
            (
                "tx fee (2.00 ether) exceeds the configured cap (1.00 ether)",
                RejectKind::Permanent,
            ),
        ] {
            assert_eq!(kind(message), Some(expected), "{message}");
        }
        assert_eq!(
            classify_message("gas required exceeds allowance (30000000)"),
            NodeError::GasExceedsAllowance
        );
        assert!(matches!(
            classify_message("method not found"),
            NodeError::Other(_)
        ));
    }

    #[test]
    fn revert_reasons() {
        let data = Revert::from("no").abi_encode();
        assert_eq!(revert_reason(&data), Some("no".to_string()));
        assert_eq!(revert_reason(&[0x4e, 0x48, 0x7b, 0x71]), None);
        assert_eq!(
            reason_in_message("execution reverted: Reverter: always fails"),
            Some("Reverter: always fails".to_string())
        );
        assert_eq!(
            reason_in_message("execution reverted: custom error 0x1234"),
            None
        );
        assert_eq!(reason_in_message("execution reverted"), None);
    }
}
