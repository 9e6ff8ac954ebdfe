//! EVM transactions: decoding unsigned input (raw RLP hex or JSON), EIP-155 / EIP-2930 /
//! EIP-1559 signing, and display.

use crate::eip712::{parse_address, parse_hex_bytes, parse_uint};
use crate::keys::{address_of, evm_key, recover_evm_address, sign_evm_hash};
use crate::{codes, ChainError, SignedTx};
use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_rlp::{Decodable, Encodable, Header};
use serde_json::{json, Map, Value};

/// An unsigned EVM transaction as a caller supplies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvmTxInput {
    /// `0x` + hex of an unsigned serialized transaction: a legacy RLP list
    /// `[nonce, gasPrice, gas, to, value, data]` (optionally followed by `chainId, 0, 0` as
    /// in EIP-155), `0x01 ‖ rlp([chainId, nonce, gasPrice, gas, to, value, data, accessList])`
    /// (EIP-2930) or `0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to,
    /// value, data, accessList])` (EIP-1559).
    Raw(String),
    /// A JSON object `{to, value, data, nonce, gas | gasLimit, gasPrice | maxFeePerGas +
    /// maxPriorityFeePerGas, chainId, type?, accessList?, from?}`; quantities as JSON numbers,
    /// decimal strings or `0x` hex strings. `nonce` and `gas` are required; `value` and
    /// `data` default to zero / empty; no `to` (or `null`, `""`) creates a contract.
    Json(String),
}

/// Transaction envelope type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxType {
    Legacy = 0,
    AccessList = 1,
    DynamicFee = 2,
}

/// A decoded transaction (signature fields excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tx {
    ty: TxType,
    /// `None` (or 0) means "use the wallet's chain".
    chain_id: Option<u64>,
    nonce: u64,
    gas_price: U256,
    max_priority_fee_per_gas: U256,
    max_fee_per_gas: U256,
    gas_limit: u64,
    to: Option<Address>,
    value: U256,
    data: Vec<u8>,
    access_list: Vec<(Address, Vec<B256>)>,
    /// JSON `from`, checked against the signer.
    from: Option<Address>,
}

/// The signature part of an already signed raw transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawSig {
    y_parity: bool,
    r: U256,
    s: U256,
}

/// Signs an unsigned EVM transaction with a 32-byte secp256k1 secret.
///
/// `wallet_chain_id` is the wallet's chain ([`crate::Blockchain::chain_id`]): a transaction
/// naming another chain fails with [`codes::CHAIN_ID_MISMATCH`]; a transaction naming none
/// (or chain id 0, including a pre-EIP-155 legacy list) is signed for the wallet's chain; with
/// neither, [`codes::MISSING_CHAIN_ID`]. Legacy transactions are always signed with EIP-155
/// replay protection (`v = 35 + 2·chainId + parity`).
///
/// The result's `signature` is `0x` + r‖s‖v with v = 27 + yParity for every transaction type
/// (ethers' `Signature.serialized`); `signed_transaction` is the raw signed transaction for
/// `eth_sendRawTransaction`; `tx_hash` its keccak256.
///
/// Errors: [`codes::DESERIALIZATION_FAILED`] (not hex / RLP / JSON),
/// [`codes::INVALID_TRANSACTION`] (unsupported type, missing or bad field, `from` not the
/// wallet), [`codes::ALREADY_SIGNED`], [`codes::CHAIN_ID_MISMATCH`], [`codes::MISSING_CHAIN_ID`].
pub fn sign_evm_transaction(
    secret: &[u8],
    tx: &EvmTxInput,
    wallet_chain_id: Option<u64>,
) -> Result<SignedTx, ChainError> {
    let key = evm_key(secret)?;
    let tx = prepare(tx, address_of(key.verifying_key()), wallet_chain_id)?;
    sign_decoded(&key, &tx)
}

/// Checks, without the key, everything [`sign_evm_transaction`] checks before it signs, for
/// the wallet at `wallet_address` (`0x` hex, any case) on `wallet_chain_id`: the decoding,
/// `from`, the chain id and its EIP-155 range. What passes here signs with that wallet's
/// key; a challenge runs it when it is created, so a transaction that cannot be signed never
/// reaches the user's PIN.
///
/// Errors: those of [`sign_evm_transaction`]; [`codes::INTERNAL`] when `wallet_address` is
/// not an address.
pub fn check_evm_transaction(
    tx: &EvmTxInput,
    wallet_address: &str,
    wallet_chain_id: Option<u64>,
) -> Result<(), ChainError> {
    let signer: Address = wallet_address
        .parse()
        .map_err(|_| ChainError::internal("the wallet address is not an EVM address"))?;
    prepare(tx, signer, wallet_chain_id).map(|_| ())
}

/// The one check both [`sign_evm_transaction`] and [`check_evm_transaction`] run: decodes
/// `input` and settles the chain id it is signed for.
fn prepare(
    input: &EvmTxInput,
    signer: Address,
    wallet_chain_id: Option<u64>,
) -> Result<Tx, ChainError> {
    let mut tx = decode_input(input)?;
    if tx.from.is_some_and(|from| from != signer) {
        return Err(ChainError::invalid_tx("`from` is not the wallet's address"));
    }
    let chain_id = match (tx.chain_id.filter(|&c| c != 0), wallet_chain_id) {
        (Some(t), Some(w)) if t != w => {
            return Err(ChainError::new(
                codes::CHAIN_ID_MISMATCH,
                format!("transaction chain id {t} does not match the wallet's chain id {w}"),
            ))
        }
        (Some(t), _) => t,
        (None, Some(w)) => w,
        (None, None) => {
            return Err(ChainError::new(
                codes::MISSING_CHAIN_ID,
                "the transaction has no chain id and the wallet's blockchain has none",
            ))
        }
    };
    // EIP-155's v = 35 + 2·chainId + parity must fit the u64 that `encode` computes it in.
    if tx.ty == TxType::Legacy && chain_id > (u64::MAX - 36) / 2 {
        return Err(ChainError::invalid_tx(format!(
            "chain id {chain_id} is too large for a legacy (EIP-155) transaction"
        )));
    }
    tx.chain_id = Some(chain_id);
    Ok(tx)
}

/// Signs a transaction whose chain id is settled: the one signing path of both entry points.
fn sign_decoded(key: &k256::ecdsa::SigningKey, tx: &Tx) -> Result<SignedTx, ChainError> {
    let hash = keccak256(encode(tx, None));
    let sig = sign_evm_hash(key, &hash.0)?;
    let raw_sig = RawSig {
        y_parity: sig[64] == 28,
        r: U256::from_be_slice(&sig[..32]),
        s: U256::from_be_slice(&sig[32..64]),
    };
    let signed = encode(tx, Some(raw_sig));
    Ok(SignedTx {
        signature: format!("0x{}", hex::encode(sig)),
        tx_hash: format!("0x{}", hex::encode(keccak256(&signed))),
        signed_transaction: format!("0x{}", hex::encode(signed)),
    })
}

/// The transaction's fields for display: `{type, chainId, nonce, to, value, data, gas}` plus
/// `gasPrice` or `maxFeePerGas` / `maxPriorityFeePerGas`. Amounts are decimal wei strings,
/// `gas` and `nonce` numbers, `to` checksummed (`null` for contract creation), `chainId` a
/// number or `null` when the transaction names none.
pub fn describe_evm_transaction(tx: &EvmTxInput) -> Result<Value, ChainError> {
    let tx = decode_input(tx)?;
    let mut out = Map::new();
    out.insert("type".into(), json!(tx.ty as u8));
    out.insert("chainId".into(), json!(tx.chain_id.filter(|&c| c != 0)));
    out.insert("nonce".into(), json!(tx.nonce));
    out.insert("to".into(), json!(tx.to.map(|a| a.to_checksum(None))));
    out.insert("value".into(), json!(tx.value.to_string()));
    out.insert("data".into(), json!(format!("0x{}", hex::encode(&tx.data))));
    out.insert("gas".into(), json!(tx.gas_limit));
    if tx.ty == TxType::DynamicFee {
        out.insert("maxFeePerGas".into(), json!(tx.max_fee_per_gas.to_string()));
        out.insert(
            "maxPriorityFeePerGas".into(),
            json!(tx.max_priority_fee_per_gas.to_string()),
        );
    } else {
        out.insert("gasPrice".into(), json!(tx.gas_price.to_string()));
    }
    Ok(Value::Object(out))
}

/// Recovers the sender (EIP-55 address) of a signed raw transaction (`0x` hex) — the
/// equivalent of ethers' `Transaction.from(signed).from`.
pub fn recover_evm_transaction_sender(signed_hex: &str) -> Result<String, ChainError> {
    let raw = decode_hex(signed_hex)?;
    let (tx, sig) = decode_raw(&raw)?;
    let sig = sig.ok_or_else(|| ChainError::invalid_tx("the transaction is not signed"))?;
    let hash = keccak256(encode(&tx, None));
    let mut rsv = [0u8; 65];
    rsv[..32].copy_from_slice(&sig.r.to_be_bytes::<32>());
    rsv[32..64].copy_from_slice(&sig.s.to_be_bytes::<32>());
    rsv[64] = 27 + u8::from(sig.y_parity);
    recover_evm_address(&hash.0, &format!("0x{}", hex::encode(rsv)))
}

fn decode_input(input: &EvmTxInput) -> Result<Tx, ChainError> {
    match input {
        EvmTxInput::Raw(s) => match decode_raw(&decode_hex(s)?)? {
            (tx, None) => Ok(tx),
            (_, Some(_)) => Err(ChainError::new(
                codes::ALREADY_SIGNED,
                "the transaction is already signed",
            )),
        },
        EvmTxInput::Json(s) => decode_json(s),
    }
}

fn decode_hex(s: &str) -> Result<Vec<u8>, ChainError> {
    let s = s.trim();
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    hex::decode(digits).map_err(|_| ChainError::undecodable("the raw transaction is not hex"))
}

fn rlp_err(e: alloy_rlp::Error) -> ChainError {
    ChainError::undecodable(format!("the raw transaction is not valid RLP: {e}"))
}

/// Decodes a serialized transaction, signed or not.
fn decode_raw(raw: &[u8]) -> Result<(Tx, Option<RawSig>), ChainError> {
    let (ty, mut buf) = match raw.first() {
        None => return Err(ChainError::undecodable("the raw transaction is empty")),
        Some(&b) if b >= 0xc0 => (TxType::Legacy, raw),
        Some(1) => (TxType::AccessList, &raw[1..]),
        Some(2) => (TxType::DynamicFee, &raw[1..]),
        Some(b) => {
            return Err(ChainError::invalid_tx(format!(
                "unsupported transaction type 0x{b:02x}"
            )))
        }
    };
    let mut p = Header::decode_bytes(&mut buf, true).map_err(rlp_err)?;
    if !buf.is_empty() {
        return Err(ChainError::undecodable(
            "trailing bytes after the transaction",
        ));
    }
    let p = &mut p;
    let mut tx = Tx {
        ty,
        chain_id: None,
        nonce: 0,
        gas_price: U256::ZERO,
        max_priority_fee_per_gas: U256::ZERO,
        max_fee_per_gas: U256::ZERO,
        gas_limit: 0,
        to: None,
        value: U256::ZERO,
        data: Vec::new(),
        access_list: Vec::new(),
        from: None,
    };
    if ty != TxType::Legacy {
        tx.chain_id = Some(u64::decode(p).map_err(rlp_err)?);
    }
    tx.nonce = u64::decode(p).map_err(rlp_err)?;
    if ty == TxType::DynamicFee {
        tx.max_priority_fee_per_gas = U256::decode(p).map_err(rlp_err)?;
        tx.max_fee_per_gas = U256::decode(p).map_err(rlp_err)?;
    } else {
        tx.gas_price = U256::decode(p).map_err(rlp_err)?;
    }
    tx.gas_limit = u64::decode(p).map_err(rlp_err)?;
    tx.to = match Header::decode_bytes(p, false).map_err(rlp_err)? {
        [] => None,
        a if a.len() == 20 => Some(Address::from_slice(a)),
        _ => return Err(ChainError::invalid_tx("`to` must be 20 bytes or empty")),
    };
    tx.value = U256::decode(p).map_err(rlp_err)?;
    tx.data = Header::decode_bytes(p, false).map_err(rlp_err)?.to_vec();
    if ty != TxType::Legacy {
        let mut list = Header::decode_bytes(p, true).map_err(rlp_err)?;
        while !list.is_empty() {
            let mut item = Header::decode_bytes(&mut list, true).map_err(rlp_err)?;
            let address = Address::decode(&mut item).map_err(rlp_err)?;
            let keys = Vec::<B256>::decode(&mut item).map_err(rlp_err)?;
            if !item.is_empty() {
                return Err(ChainError::undecodable("malformed access list entry"));
            }
            tx.access_list.push((address, keys));
        }
    }
    if p.is_empty() {
        return Ok((tx, None));
    }
    let sig = if ty == TxType::Legacy {
        let v = u64::decode(p).map_err(rlp_err)?;
        let r = U256::decode(p).map_err(rlp_err)?;
        let s = U256::decode(p).map_err(rlp_err)?;
        if r.is_zero() && s.is_zero() {
            // EIP-155 signing payload: [.., chainId, 0, 0].
            tx.chain_id = Some(v);
            None
        } else {
            let (chain_id, y_parity) = match v {
                27 | 28 => (None, v == 28),
                v if v >= 35 => (Some((v - 35) / 2), (v - 35) % 2 == 1),
                _ => return Err(ChainError::invalid_tx("invalid legacy signature v")),
            };
            tx.chain_id = chain_id;
            Some(RawSig { y_parity, r, s })
        }
    } else {
        let y_parity = match u8::decode(p).map_err(rlp_err)? {
            0 => false,
            1 => true,
            _ => return Err(ChainError::invalid_tx("invalid signature yParity")),
        };
        let r = U256::decode(p).map_err(rlp_err)?;
        let s = U256::decode(p).map_err(rlp_err)?;
        Some(RawSig { y_parity, r, s })
    };
    if !p.is_empty() {
        return Err(ChainError::invalid_tx(
            "the transaction has too many fields",
        ));
    }
    Ok((tx, sig))
}

/// The signing payload (`sig` = None) or the signed serialization. Expects `chain_id` set
/// for typed transactions; a legacy transaction without one encodes pre-EIP-155.
fn encode(tx: &Tx, sig: Option<RawSig>) -> Vec<u8> {
    let mut p = Vec::new();
    let chain_id = tx.chain_id.unwrap_or(0);
    if tx.ty != TxType::Legacy {
        chain_id.encode(&mut p);
    }
    tx.nonce.encode(&mut p);
    if tx.ty == TxType::DynamicFee {
        tx.max_priority_fee_per_gas.encode(&mut p);
        tx.max_fee_per_gas.encode(&mut p);
    } else {
        tx.gas_price.encode(&mut p);
    }
    tx.gas_limit.encode(&mut p);
    match &tx.to {
        Some(a) => a.encode(&mut p),
        None => p.push(alloy_rlp::EMPTY_STRING_CODE),
    }
    tx.value.encode(&mut p);
    tx.data.as_slice().encode(&mut p);
    if tx.ty != TxType::Legacy {
        let mut list = Vec::new();
        for (address, keys) in &tx.access_list {
            let mut item = Vec::new();
            address.encode(&mut item);
            keys.encode(&mut item);
            put_list(&mut list, &item);
        }
        put_list(&mut p, &list);
    }
    match (tx.ty, sig) {
        (TxType::Legacy, None) if chain_id != 0 => {
            chain_id.encode(&mut p);
            0u8.encode(&mut p);
            0u8.encode(&mut p);
        }
        (TxType::Legacy, None) => {}
        (TxType::Legacy, Some(s)) => {
            let v = if chain_id != 0 {
                35 + 2 * chain_id + u64::from(s.y_parity)
            } else {
                27 + u64::from(s.y_parity)
            };
            v.encode(&mut p);
            s.r.encode(&mut p);
            s.s.encode(&mut p);
        }
        (_, None) => {}
        (_, Some(s)) => {
            s.y_parity.encode(&mut p);
            s.r.encode(&mut p);
            s.s.encode(&mut p);
        }
    }
    let mut out = Vec::with_capacity(p.len() + 10);
    if tx.ty != TxType::Legacy {
        out.push(tx.ty as u8);
    }
    put_list(&mut out, &p);
    out
}

fn put_list(out: &mut Vec<u8>, payload: &[u8]) {
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(out);
    out.extend_from_slice(payload);
}

/// A transaction latchkey builds itself (transfers, contract calls, replacements), ready to
/// sign: no decoding, no JSON round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedEvmTx {
    /// The EIP-155 chain id (for legacy transactions too: latchkey never signs without one).
    pub chain_id: u64,
    /// The sender's nonce.
    pub nonce: u64,
    /// The recipient or called contract. Always set: latchkey does not create contracts from
    /// user wallets.
    pub to: Address,
    /// Native value in wei.
    pub value: U256,
    /// Calldata (empty for a plain native transfer).
    pub data: Vec<u8>,
    /// Gas limit.
    pub gas_limit: u64,
    /// Fee fields, which also pick the envelope.
    pub fee: EvmFee,
}

/// The fee fields of an [`UnsignedEvmTx`], in wei per gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvmFee {
    /// An EIP-1559 (type 2) transaction.
    Eip1559 {
        /// `maxFeePerGas`.
        max_fee: u128,
        /// `maxPriorityFeePerGas`; at most `max_fee`.
        max_priority: u128,
    },
    /// A legacy transaction with EIP-155 replay protection, for chains without EIP-1559.
    Legacy {
        /// `gasPrice`.
        gas_price: u128,
    },
}

impl UnsignedEvmTx {
    fn to_tx(&self) -> Result<Tx, ChainError> {
        let (ty, gas_price, max_fee, max_priority) = match self.fee {
            EvmFee::Eip1559 {
                max_fee,
                max_priority,
            } => {
                if max_priority > max_fee {
                    return Err(ChainError::invalid_tx(
                        "maxPriorityFeePerGas must not exceed maxFeePerGas",
                    ));
                }
                (TxType::DynamicFee, 0, max_fee, max_priority)
            }
            EvmFee::Legacy { gas_price } => {
                // EIP-155's v = 35 + 2·chainId + parity must fit the u64 `encode` uses.
                if self.chain_id > (u64::MAX - 36) / 2 {
                    return Err(ChainError::invalid_tx(format!(
                        "chain id {} is too large for a legacy (EIP-155) transaction",
                        self.chain_id
                    )));
                }
                (TxType::Legacy, gas_price, 0, 0)
            }
        };
        if self.chain_id == 0 {
            return Err(ChainError::new(
                codes::MISSING_CHAIN_ID,
                "the transaction has no chain id",
            ));
        }
        Ok(Tx {
            ty,
            chain_id: Some(self.chain_id),
            nonce: self.nonce,
            gas_price: U256::from(gas_price),
            max_priority_fee_per_gas: U256::from(max_priority),
            max_fee_per_gas: U256::from(max_fee),
            gas_limit: self.gas_limit,
            to: Some(self.to),
            value: self.value,
            data: self.data.clone(),
            access_list: Vec::new(),
            from: None,
        })
    }
}

/// Signs a transaction latchkey built ([`UnsignedEvmTx`]) with a 32-byte secp256k1 secret,
/// with the same encoder and output as [`sign_evm_transaction`].
///
/// Errors: [`codes::INTERNAL`] for a bad secret, [`codes::INVALID_TRANSACTION`] when
/// `max_priority > max_fee` or a legacy chain id is too large for EIP-155,
/// [`codes::MISSING_CHAIN_ID`] for chain id 0.
pub fn sign_evm_tx(secret: &[u8], tx: &UnsignedEvmTx) -> Result<SignedTx, ChainError> {
    let key = evm_key(secret)?;
    sign_decoded(&key, &tx.to_tx()?)
}

/// A signed transaction latchkey built (an attempt the engine stored), back as the
/// [`UnsignedEvmTx`] it was signed from: what an acceleration re-signs at a higher fee.
///
/// Errors: [`codes::INVALID_TRANSACTION`] for a contract creation or an EIP-2930 transaction
/// (latchkey builds neither) or a fee above `u128`; the decoder's errors otherwise.
pub fn decode_evm_tx(raw: &[u8]) -> Result<UnsignedEvmTx, ChainError> {
    let (tx, _) = decode_raw(raw)?;
    let to = tx
        .to
        .ok_or_else(|| ChainError::invalid_tx("the transaction creates a contract"))?;
    let wei = |v: U256| {
        u128::try_from(v).map_err(|_| ChainError::invalid_tx("a fee does not fit in 128 bits"))
    };
    let fee = match tx.ty {
        TxType::Legacy => EvmFee::Legacy {
            gas_price: wei(tx.gas_price)?,
        },
        TxType::DynamicFee => EvmFee::Eip1559 {
            max_fee: wei(tx.max_fee_per_gas)?,
            max_priority: wei(tx.max_priority_fee_per_gas)?,
        },
        TxType::AccessList => {
            return Err(ChainError::invalid_tx(
                "an EIP-2930 transaction is not one latchkey builds",
            ))
        }
    };
    Ok(UnsignedEvmTx {
        chain_id: tx.chain_id.unwrap_or(0),
        nonce: tx.nonce,
        to,
        value: tx.value,
        data: tx.data,
        gas_limit: tx.gas_limit,
        fee,
    })
}

/// The unsigned serialization of `tx` (its signing payload: `0x02 ‖ rlp([...])`, or the
/// EIP-155 list `[..., chainId, 0, 0]` for legacy), which OP-stack chains' `getL1Fee(bytes)`
/// prices.
pub fn unsigned_rlp(tx: &UnsignedEvmTx) -> Result<Vec<u8>, ChainError> {
    Ok(encode(&tx.to_tx()?, None))
}

#[path = "evm_json.rs"]
mod json_input;
use json_input::decode_json;

#[cfg(test)]
#[path = "evm_tx_tests.rs"]
mod tests;
