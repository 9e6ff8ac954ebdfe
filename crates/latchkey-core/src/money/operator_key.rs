//! An operator's own funded account on a chain: a secp256k1 key the operator hands latchkey
//! in a file (`--faucet-key CHAIN=FILE`), which signs only latchkey's own transactions from
//! that account (the faucet's drips on a public testnet). It never signs for a user, and no
//! user key is ever one of these.
//!
//! Sends from one key go one at a time within an instance (a lock), each at the node's
//! `pending` nonce, so drips from one server never race for a nonce. Two instances sharing a
//! key can still collide; the loser sees "nonce too low" or an underpriced replacement and
//! tries again with a fresh nonce.

use super::estimate::fee_levels;
use super::fees::{gas_limit_with_margin, FeeLevel, GasPricing};
use super::node::{BlockTag, CallRequest, NodeError, RejectKind};
use super::Chain;
use crate::error::ApiError;
use latchkey_chains::{Address, EvmFee, Family, UnsignedEvmTx, B256, U256};
use std::fmt;
use zeroize::Zeroizing;

/// How many times a send is tried when another sender took the nonce.
const NONCE_RETRIES: usize = 3;

/// An operator account latchkey signs its own transactions with.
pub struct OperatorKey {
    secret: Zeroizing<Vec<u8>>,
    address: Address,
    lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorKey")
            .field("address", &self.address)
            .field("secret", &"***")
            .finish()
    }
}

/// Why a key file's text is not a key (the text itself is never repeated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadKey(&'static str);

impl OperatorKey {
    /// A key from its text form: 64 hex digits, with or without `0x`, surrounding
    /// whitespace ignored (a key file's trailing newline).
    pub fn from_hex(text: &str) -> Result<Self, BadKey> {
        let text = text.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.len() != 64 {
            return Err(BadKey(
                "a key is 64 hex digits (32 bytes), with or without 0x",
            ));
        }
        let secret =
            Zeroizing::new(hex::decode(digits).map_err(|_| BadKey("a key is hex digits only"))?);
        let address = latchkey_chains::address(Family::Evm, &secret)
            .ok()
            .and_then(|a| a.parse::<Address>().ok())
            .ok_or(BadKey("not a valid secp256k1 private key"))?;
        Ok(Self {
            secret,
            address,
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Generates a fresh key (`--dev`'s gas station); its hex form goes to the key file only.
    pub fn generate() -> (Self, Zeroizing<String>) {
        let secret = latchkey_chains::generate(Family::Evm);
        let text = Zeroizing::new(hex::encode(&secret[..]));
        // A freshly generated secp256k1 key always parses; the fallback keeps this panic-free.
        match Self::from_hex(&text) {
            Ok(key) => (key, text),
            Err(_) => Self::generate(),
        }
    }

    /// Signs `hash` with the EIP-191 prefix (the VerifyingPaymaster's sponsorship signature).
    pub(crate) fn sign_hash_eip191(&self, hash: B256) -> Result<Vec<u8>, ApiError> {
        latchkey_chains::sca::sign_hash_eip191(&self.secret, hash)
            .map(|s| s.to_vec())
            .map_err(|e| {
                tracing::error!(error = %e.message, "an operator signature failed");
                ApiError::internal()
            })
    }

    /// Signs `tx` from this account: the raw bytes and the hash.
    pub(crate) fn sign_tx(&self, tx: &UnsignedEvmTx) -> Result<(Vec<u8>, String), ApiError> {
        let signed = latchkey_chains::sign_evm_tx(&self.secret, tx).map_err(|e| {
            tracing::error!(error = %e.message, "an operator transaction did not sign");
            ApiError::internal()
        })?;
        let raw = hex::decode(signed.signed_transaction.trim_start_matches("0x"))
            .map_err(|_| ApiError::internal())?;
        Ok((raw, signed.tx_hash))
    }

    /// Signs and sends a call from this account at the chain's MEDIUM fee level, with the
    /// node's gas estimate plus latchkey's margin; the hash once the node accepted it (it does
    /// not wait for a block). Fee and estimate failures are API errors (a revert names its
    /// reason); node refusals are [`NodeError`]s inside `Ok(Err(…))`.
    pub async fn send(
        &self,
        chain: &Chain,
        to: Address,
        value: U256,
        data: Vec<u8>,
    ) -> Result<Result<B256, NodeError>, ApiError> {
        let _one_at_a_time = self.lock.lock().await;
        let node = chain.node.as_ref();
        let call = CallRequest {
            from: Some(self.address),
            to: Some(to),
            value: Some(value),
            data: data.clone(),
            gas: None,
        };
        let gas = match node.estimate_gas(&call).await {
            Ok(g) => gas_limit_with_margin(g),
            Err(e) => return Ok(Err(e)),
        };
        let fee = match fee_levels(chain).await?.level(FeeLevel::Medium) {
            GasPricing::Eip1559 {
                priority_fee,
                max_fee,
                ..
            } => EvmFee::Eip1559 {
                max_fee,
                max_priority: priority_fee.min(max_fee),
            },
            GasPricing::Legacy { gas_price } => EvmFee::Legacy { gas_price },
        };
        let mut last = NodeError::Other("not sent".into());
        for _ in 0..NONCE_RETRIES {
            let nonce = match node.nonce(self.address, BlockTag::Pending).await {
                Ok(n) => n,
                Err(e) => return Ok(Err(e)),
            };
            let tx = UnsignedEvmTx {
                chain_id: chain.info.chain_id,
                nonce,
                to,
                value,
                data: data.clone(),
                gas_limit: gas,
                fee,
            };
            let signed = latchkey_chains::sign_evm_tx(&self.secret, &tx).map_err(|e| {
                tracing::error!(error = %e.message, "an operator transaction did not sign");
                ApiError::internal()
            })?;
            let raw = hex::decode(signed.signed_transaction.trim_start_matches("0x"))
                .map_err(|_| ApiError::internal())?;
            match node.send_raw(&raw).await {
                Err(NodeError::Rejected(
                    RejectKind::NonceTooLow | RejectKind::ReplacementUnderpriced,
                    msg,
                )) => {
                    tracing::info!(%msg, nonce, "operator nonce taken meanwhile; trying the next");
                    last = NodeError::Other(msg);
                }
                other => return Ok(other),
            }
        }
        Ok(Err(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_text_forms_of_a_key_and_refuses_the_rest_without_echoing_them() {
        // anvil's account 0, a well-known development key.
        let hex = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let want: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap();
        for text in [hex.to_string(), format!("0x{hex}\n"), format!("  {hex}  ")] {
            assert_eq!(OperatorKey::from_hex(&text).unwrap().address(), want);
        }
        for bad in [
            "",
            "0x1234",
            &format!("{hex}00"),
            &"zz".repeat(32),
            &"00".repeat(32),
        ] {
            let e = OperatorKey::from_hex(bad).unwrap_err();
            assert!(bad.is_empty() || !e.to_string().contains(bad), "{e}");
        }
        let key = OperatorKey::from_hex(hex).unwrap();
        let shown = format!("{key:?}");
        assert!(
            shown.contains("***") && !shown.contains(&hex[..16]),
            "{shown}"
        );
    }
}
