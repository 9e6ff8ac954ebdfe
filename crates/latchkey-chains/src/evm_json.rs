//! The JSON form of an unsigned EVM transaction.

use super::{parse_address, parse_hex_bytes, parse_uint, Tx, TxType};
use crate::ChainError;
use alloy_primitives::{Address, B256, U256};
use serde_json::{Map, Value};

pub(super) fn decode_json(s: &str) -> Result<Tx, ChainError> {
    let v: Value = serde_json::from_str(s)
        .map_err(|_| ChainError::undecodable("the transaction is not valid JSON"))?;
    let Value::Object(o) = v else {
        return Err(ChainError::undecodable(
            "the transaction must be a JSON object",
        ));
    };
    let quantity = |name: &str| -> Result<Option<U256>, ChainError> {
        match o.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => parse_uint(v)
                .map(Some)
                .ok_or_else(|| ChainError::invalid_tx(format!("`{name}` is not a valid quantity"))),
        }
    };
    let small = |name: &str| -> Result<Option<u64>, ChainError> {
        quantity(name)?
            .map(|q| {
                u64::try_from(q)
                    .map_err(|_| ChainError::invalid_tx(format!("`{name}` is too large")))
            })
            .transpose()
    };

    let gas_price = quantity("gasPrice")?;
    let max_fee = quantity("maxFeePerGas")?;
    let max_priority = quantity("maxPriorityFeePerGas")?;
    let access_list = match o.get("accessList") {
        None | Some(Value::Null) => None,
        Some(v) => Some(access_list(v)?),
    };
    let ty = match small("type")? {
        Some(0) if access_list.is_none() => TxType::Legacy,
        Some(0) => {
            return Err(ChainError::invalid_tx(
                "a type 0 transaction has no accessList",
            ))
        }
        Some(1) => TxType::AccessList,
        Some(2) => TxType::DynamicFee,
        Some(t) => {
            return Err(ChainError::invalid_tx(format!(
                "unsupported transaction type {t}"
            )))
        }
        None if max_fee.is_some() || max_priority.is_some() => TxType::DynamicFee,
        None if access_list.is_some() => TxType::AccessList,
        None => TxType::Legacy,
    };
    let (gas_price, max_fee, max_priority) = match ty {
        TxType::DynamicFee => {
            if gas_price.is_some() {
                return Err(ChainError::invalid_tx(
                    "an EIP-1559 transaction takes maxFeePerGas and maxPriorityFeePerGas, not gasPrice",
                ));
            }
            match (max_fee, max_priority) {
                (Some(f), Some(p)) if p <= f => (U256::ZERO, f, p),
                (Some(_), Some(_)) => {
                    return Err(ChainError::invalid_tx(
                        "maxPriorityFeePerGas must not exceed maxFeePerGas",
                    ))
                }
                _ => {
                    return Err(ChainError::invalid_tx(
                        "an EIP-1559 transaction needs maxFeePerGas and maxPriorityFeePerGas",
                    ))
                }
            }
        }
        _ => {
            if max_fee.is_some() || max_priority.is_some() {
                return Err(ChainError::invalid_tx(
                    "maxFeePerGas / maxPriorityFeePerGas need an EIP-1559 (type 2) transaction",
                ));
            }
            let gp = gas_price.ok_or_else(|| {
                ChainError::invalid_tx(
                    "the transaction needs gasPrice, or maxFeePerGas and maxPriorityFeePerGas",
                )
            })?;
            (gp, U256::ZERO, U256::ZERO)
        }
    };

    let gas_limit = match (small("gas")?, small("gasLimit")?) {
        (Some(a), Some(b)) if a != b => {
            return Err(ChainError::invalid_tx("`gas` and `gasLimit` disagree"))
        }
        (Some(g), _) | (None, Some(g)) => g,
        (None, None) => return Err(ChainError::invalid_tx("the transaction needs `gas`")),
    };
    let nonce =
        small("nonce")?.ok_or_else(|| ChainError::invalid_tx("the transaction needs `nonce`"))?;
    let data = match (bytes_field(&o, "data")?, bytes_field(&o, "input")?) {
        (Some(a), Some(b)) if a != b => {
            return Err(ChainError::invalid_tx("`data` and `input` disagree"))
        }
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => Vec::new(),
    };

    Ok(Tx {
        ty,
        chain_id: small("chainId")?,
        nonce,
        gas_price,
        max_priority_fee_per_gas: max_priority,
        max_fee_per_gas: max_fee,
        gas_limit,
        to: address_field(&o, "to")?,
        value: quantity("value")?.unwrap_or(U256::ZERO),
        data,
        access_list: access_list.unwrap_or_default(),
        from: address_field(&o, "from")?,
    })
}

fn address_field(o: &Map<String, Value>, name: &str) -> Result<Option<Address>, ChainError> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => parse_address(s)
            .map(Some)
            .ok_or_else(|| ChainError::invalid_tx(format!("`{name}` is not a valid address"))),
        Some(_) => Err(ChainError::invalid_tx(format!(
            "`{name}` must be an address string"
        ))),
    }
}

fn bytes_field(o: &Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>, ChainError> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_hex_bytes(s)
            .map(Some)
            .ok_or_else(|| ChainError::invalid_tx(format!("`{name}` must be 0x-prefixed hex"))),
        Some(_) => Err(ChainError::invalid_tx(format!(
            "`{name}` must be 0x-prefixed hex"
        ))),
    }
}

fn access_list(v: &Value) -> Result<Vec<(Address, Vec<B256>)>, ChainError> {
    let bad = || ChainError::invalid_tx("`accessList` must be [{address, storageKeys}]");
    let Value::Array(items) = v else {
        return Err(bad());
    };
    items
        .iter()
        .map(|item| {
            let address = item
                .get("address")
                .and_then(Value::as_str)
                .and_then(parse_address);
            let keys = item.get("storageKeys").and_then(Value::as_array);
            let (Some(address), Some(keys)) = (address, keys) else {
                return Err(bad());
            };
            let keys = keys
                .iter()
                .map(|k| {
                    let raw = k.as_str().and_then(parse_hex_bytes).ok_or_else(bad)?;
                    (raw.len() == 32)
                        .then(|| B256::from_slice(&raw))
                        .ok_or_else(bad)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((address, keys))
        })
        .collect()
}
