//! Contract-call data from Circle's `abiFunctionSignature` + `abiParameters` (the
//! contract-execution request), and the check of a raw `callData`.
//!
//! The signature is parsed with alloy's human-readable ABI parser (`burn(uint256)`, also with
//! parameter names or a leading `function`). Each JSON parameter is converted against its
//! Solidity type: arrays and tuples are JSON arrays, walked recursively; a leaf (or a whole
//! array written as one string, `"[1,2]"`) goes through alloy's literal coercion; `string`
//! parameters are taken verbatim.

use crate::{codes, ChainError};
use alloy_dyn_abi::{DynSolType, DynSolValue, JsonAbiExt as _, Specifier as _};
use alloy_json_abi::Function;
use serde_json::Value;

/// Largest integer a JSON number can carry exactly (2⁵³); larger ones must be strings.
const MAX_SAFE_JSON_INTEGER: f64 = 9_007_199_254_740_992.0;

/// The calldata (4-byte selector ‖ ABI-encoded arguments) of calling `signature` with
/// `params`. JSON strings, numbers and booleans are accepted for scalar types, JSON arrays for
/// array and tuple types.
///
/// Errors: [`codes::ABI_PACK_FAILED`] naming what did not fit (an unparsable signature, a
/// wrong parameter count, a value not of its type).
pub fn encode_call(signature: &str, params: &[Value]) -> Result<Vec<u8>, ChainError> {
    let function = Function::parse(signature.trim()).map_err(|e| {
        pack_error(format!(
            "`{signature}` is not a function signature ({})",
            first_line(&e.to_string())
        ))
    })?;
    if function.inputs.len() != params.len() {
        return Err(pack_error(format!(
            "{} takes {} parameters, {} given",
            function.signature(),
            function.inputs.len(),
            params.len()
        )));
    }
    let values = function
        .inputs
        .iter()
        .zip(params)
        .enumerate()
        .map(|(i, (input, param))| {
            let ty = input.resolve().map_err(|e| {
                pack_error(format!("parameter {i}: {}", first_line(&e.to_string())))
            })?;
            to_value(&ty, param).map_err(|why| {
                pack_error(format!(
                    "parameter {i} ({}) is not a valid {}: {why}",
                    truncate(&param.to_string()),
                    ty.sol_type_name()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    function
        .abi_encode_input(&values)
        .map_err(|e| pack_error(first_line(&e.to_string()).to_owned()))
}

/// Checks a raw `callData` (`0x` + an even number of hex digits) and returns its bytes.
/// Errors: [`codes::API_PARAMETER_INVALID`] naming `callData`.
pub fn check_call_data(call_data: &str) -> Result<Vec<u8>, ChainError> {
    let bad = || {
        ChainError::new(
            codes::API_PARAMETER_INVALID,
            "callData must be 0x-prefixed hex with an even number of digits",
        )
    };
    let digits = call_data.strip_prefix("0x").ok_or_else(bad)?;
    hex::decode(digits).map_err(|_| bad())
}

fn pack_error(message: String) -> ChainError {
    ChainError::new(codes::ABI_PACK_FAILED, message)
}

/// Converts one JSON parameter to a value of `ty`; `Err` says why not.
fn to_value(ty: &DynSolType, v: &Value) -> Result<DynSolValue, String> {
    match (ty, v) {
        (DynSolType::String, Value::String(s)) => Ok(DynSolValue::String(s.clone())),
        (DynSolType::Array(inner), Value::Array(items)) => items
            .iter()
            .map(|item| to_value(inner, item))
            .collect::<Result<_, _>>()
            .map(DynSolValue::Array),
        (DynSolType::FixedArray(inner, n), Value::Array(items)) => {
            if items.len() != *n {
                return Err(format!("{} elements, {n} expected", items.len()));
            }
            items
                .iter()
                .map(|item| to_value(inner, item))
                .collect::<Result<_, _>>()
                .map(DynSolValue::FixedArray)
        }
        (DynSolType::Tuple(types), Value::Array(items)) => {
            if items.len() != types.len() {
                return Err(format!(
                    "{} tuple components, {} expected",
                    items.len(),
                    types.len()
                ));
            }
            types
                .iter()
                .zip(items)
                .map(|(t, item)| to_value(t, item))
                .collect::<Result<_, _>>()
                .map(DynSolValue::Tuple)
        }
        (_, Value::Array(_)) => Err("an array was given".into()),
        (_, Value::String(s)) => coerce(ty, s),
        (_, Value::Bool(b)) => coerce(ty, if *b { "true" } else { "false" }),
        (_, Value::Number(n)) => {
            let literal = if n.is_u64() || n.is_i64() {
                n.to_string()
            } else {
                // A float: only integral values a double holds exactly, never a rounded one.
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() <= MAX_SAFE_JSON_INTEGER => {
                        format!("{f:.0}")
                    }
                    _ => return Err("pass large or fractional numbers as strings".into()),
                }
            };
            coerce(ty, &literal)
        }
        (_, Value::Null | Value::Object(_)) => Err("null and objects are not ABI values".into()),
    }
}

fn coerce(ty: &DynSolType, literal: &str) -> Result<DynSolValue, String> {
    ty.coerce_str(literal)
        .map_err(|e| first_line(&e.to_string()).to_owned())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

fn truncate(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(sig: &str, params: Value) -> Result<String, ChainError> {
        encode_call(sig, params.as_array().unwrap()).map(hex::encode)
    }

    #[test]
    fn encodes_scalars_from_strings_numbers_and_bools() {
        let want = "42966c68\
                    00000000000000000000000000000000000000000000000000000000000003e8";
        assert_eq!(enc("burn(uint256)", json!(["1000"])).unwrap(), want);
        assert_eq!(enc("burn(uint256)", json!([1000])).unwrap(), want);
        assert_eq!(
            enc("function burn(uint256 amount)", json!([1000.0])).unwrap(),
            want
        );
        assert_eq!(
            enc("set(bool)", json!([true])).unwrap(),
            enc("set(bool)", json!(["true"])).unwrap()
        );
    }

    #[test]
    fn refusals_are_abi_pack_errors() {
        for (sig, params) in [
            ("burn(uint256)", json!([])),
            ("burn(uint256)", json!(["1", "2"])),
            ("burn(uint256)", json!(["-1"])),
            ("burn(uint256)", json!(["abc"])),
            ("burn(uint256)", json!([1.5])),
            ("burn(uint256)", json!([1e300])),
            ("burn(uint256)", json!([null])),
            ("burn(uint256)", json!([{"a": 1}])),
            ("burn(uint8)", json!(["256"])),
            ("send(address)", json!(["0x1234"])),
            (
                "send(address[2])",
                json!([["0x0000000000000000000000000000000000000001"]]),
            ),
            ("pair((uint256,bool))", json!([[1]])),
            ("burn(uint256", json!(["1"])),
            ("not a signature", json!([])),
            ("burn(uint7)", json!(["1"])),
        ] {
            let err = enc(sig, params.clone()).unwrap_err();
            assert_eq!(err.code, codes::ABI_PACK_FAILED, "{sig} {params}: {err}");
        }
    }

    #[test]
    fn call_data_check() {
        assert_eq!(check_call_data("0x").unwrap(), Vec::<u8>::new());
        assert_eq!(
            check_call_data("0xa9059cbb").unwrap(),
            vec![0xa9, 0x05, 0x9c, 0xbb]
        );
        for bad in ["", "a9059cbb", "0xabc", "0xzz", "0X00"] {
            let err = check_call_data(bad).unwrap_err();
            assert_eq!(err.code, codes::API_PARAMETER_INVALID);
            assert!(err.message.contains("callData"));
        }
    }
}
