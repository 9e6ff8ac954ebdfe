//! EIP-712 typed data (`eth_signTypedData_v4`): hashing, signing and display.
//!
//! The JSON is `{types, primaryType, domain, message}`. The domain separator is
//! `hashStruct("EIP712Domain", domain)` using `types.EIP712Domain` when present (MetaMask's
//! rule); without it, the domain type is built from the domain keys present, in the
//! canonical order name, version, chainId, verifyingContract, salt (ethers' rule). Values are
//! checked the way ethers' `TypedDataEncoder` checks them: integers in range (JSON numbers,
//! decimal or `0x` strings), `bytesN` exactly N bytes, addresses with a valid checksum when
//! mixed-case, every declared field present (extra fields are ignored).

use crate::keys::{evm_key, sign_evm_hash};
use crate::{codes, ChainError};
use alloy_primitives::{keccak256, Address, I256, U256};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One field of a struct type: (name, type).
type Fields = Vec<(String, String)>;

/// Canonical EIP712Domain fields, in order.
const DOMAIN_FIELDS: [(&str, &str); 5] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
];

/// Nesting limit for structs and arrays (guards the recursion against hostile input).
const MAX_DEPTH: usize = 64;

/// Signs EIP-712 typed data (`eth_signTypedData_v4` JSON) with an EVM secret: `0x` + hex of
/// the 65 bytes r‖s‖v, v = 27/28 (what ethers' `verifyTypedData` accepts).
///
/// Errors: [`codes::TYPED_DATA_NOT_JSON`] when `json` does not parse,
/// [`codes::INVALID_TYPED_DATA`] when it is not valid typed data.
pub fn sign_typed_data(secret: &[u8], json: &str) -> Result<String, ChainError> {
    let hash = typed_data_hash(json)?;
    let key = evm_key(secret)?;
    Ok(format!("0x{}", hex::encode(sign_evm_hash(&key, &hash)?)))
}

/// The EIP-712 signing hash keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)) of
/// typed data (just 0x19 0x01 ‖ domainSeparator when `primaryType` is `EIP712Domain`).
pub fn typed_data_hash(json: &str) -> Result<[u8; 32], ChainError> {
    let td = TypedData::parse(json)?;
    let domain_separator = td.hash_struct("EIP712Domain", &Value::Object(td.domain.clone()), 0)?;
    let mut buf = vec![0x19, 0x01];
    buf.extend_from_slice(&domain_separator);
    if td.primary_type != "EIP712Domain" {
        buf.extend_from_slice(&td.hash_struct(&td.primary_type, &td.message, 0)?);
    }
    Ok(keccak256(&buf).0)
}

/// `{domain, primaryType, message}` of typed data, for showing the user what they sign. The
/// data is validated as for signing.
pub fn describe_typed_data(json: &str) -> Result<Value, ChainError> {
    let td = TypedData::parse(json)?;
    typed_data_hash(json)?;
    Ok(serde_json::json!({
        "domain": Value::Object(td.domain),
        "primaryType": td.primary_type,
        "message": td.message,
    }))
}

struct TypedData {
    types: BTreeMap<String, Fields>,
    type_hashes: BTreeMap<String, [u8; 32]>,
    primary_type: String,
    domain: Map<String, Value>,
    message: Value,
}

impl TypedData {
    fn parse(json: &str) -> Result<Self, ChainError> {
        let root: Value = serde_json::from_str(json).map_err(|_| {
            ChainError::new(codes::TYPED_DATA_NOT_JSON, "typed data is not valid JSON")
        })?;
        let Value::Object(mut root) = root else {
            return Err(ChainError::typed_data("typed data must be a JSON object"));
        };
        let Some(Value::Object(types_json)) = root.remove("types") else {
            return Err(ChainError::typed_data("typed data needs a `types` object"));
        };
        let Some(Value::String(primary_type)) = root.remove("primaryType") else {
            return Err(ChainError::typed_data(
                "typed data needs a `primaryType` string",
            ));
        };
        let domain = match root.remove("domain") {
            Some(Value::Object(d)) => d,
            _ => return Err(ChainError::typed_data("typed data needs a `domain` object")),
        };
        let message = match root.remove("message") {
            Some(m @ Value::Object(_)) => m,
            None if primary_type == "EIP712Domain" => Value::Object(Map::new()),
            _ => {
                return Err(ChainError::typed_data(
                    "typed data needs a `message` object",
                ))
            }
        };

        let mut types = BTreeMap::new();
        for (name, fields_json) in types_json {
            if !is_identifier(&name) {
                return Err(ChainError::typed_data(format!(
                    "invalid type name `{name}`"
                )));
            }
            let Value::Array(list) = fields_json else {
                return Err(ChainError::typed_data(format!(
                    "type `{name}` must be an array"
                )));
            };
            let mut fields = Vec::with_capacity(list.len());
            for f in list {
                let (Some(Value::String(n)), Some(Value::String(t))) =
                    (f.get("name"), f.get("type"))
                else {
                    return Err(ChainError::typed_data(format!(
                        "fields of `{name}` need string `name` and `type`"
                    )));
                };
                if fields
                    .iter()
                    .any(|(existing, _): &(String, String)| existing == n)
                {
                    return Err(ChainError::typed_data(format!(
                        "duplicate field `{n}` in `{name}`"
                    )));
                }
                fields.push((n.clone(), t.clone()));
            }
            types.insert(name, fields);
        }
        if !types.contains_key("EIP712Domain") {
            let derived = DOMAIN_FIELDS
                .iter()
                .filter(|(n, _)| domain.contains_key(*n))
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                .collect();
            types.insert("EIP712Domain".to_owned(), derived);
        }
        if !types.contains_key(&primary_type) {
            return Err(ChainError::typed_data(format!(
                "primaryType `{primary_type}` is not defined in types"
            )));
        }
        let mut td = Self {
            types,
            type_hashes: BTreeMap::new(),
            primary_type,
            domain,
            message,
        };
        // Every field type must resolve; struct references must not nest without bound.
        let mut type_hashes = BTreeMap::new();
        for name in td.types.keys() {
            type_hashes.insert(name.clone(), keccak256(td.encode_type(name)?.as_bytes()).0);
        }
        td.type_hashes = type_hashes;
        Ok(td)
    }

    fn fields(&self, name: &str) -> Result<&Fields, ChainError> {
        self.types
            .get(name)
            .ok_or_else(|| ChainError::typed_data(format!("unknown type `{name}`")))
    }

    /// `encodeType`: the struct itself, then every struct it references, sorted by name.
    fn encode_type(&self, name: &str) -> Result<String, ChainError> {
        let mut deps = BTreeSet::new();
        self.collect_deps(name, &mut deps, 0)?;
        deps.remove(name);
        let mut out = self.format_struct(name)?;
        for dep in deps {
            out.push_str(&self.format_struct(dep)?);
        }
        Ok(out)
    }

    fn format_struct(&self, name: &str) -> Result<String, ChainError> {
        let fields: Vec<String> = self
            .fields(name)?
            .iter()
            .map(|(n, t)| format!("{t} {n}"))
            .collect();
        Ok(format!("{name}({})", fields.join(",")))
    }

    fn collect_deps<'a>(
        &'a self,
        name: &'a str,
        deps: &mut BTreeSet<&'a str>,
        depth: usize,
    ) -> Result<(), ChainError> {
        if depth > MAX_DEPTH {
            return Err(ChainError::typed_data("types nest too deeply"));
        }
        if !deps.insert(name) {
            return Ok(());
        }
        for (_, ty) in self.fields(name)? {
            let base = ty.split('[').next().unwrap_or(ty);
            if self.types.contains_key(base) {
                self.collect_deps(base, deps, depth + 1)?;
            } else if Atomic::parse(base).is_none() {
                return Err(ChainError::typed_data(format!(
                    "unknown type `{ty}` in `{name}`"
                )));
            }
        }
        Ok(())
    }

    /// `hashStruct(s) = keccak256(typeHash ‖ encodeData(s))`.
    fn hash_struct(&self, name: &str, value: &Value, depth: usize) -> Result<[u8; 32], ChainError> {
        if depth > MAX_DEPTH {
            return Err(ChainError::typed_data("data nests too deeply"));
        }
        let Value::Object(obj) = value else {
            return Err(ChainError::typed_data(format!(
                "value of type `{name}` must be an object"
            )));
        };
        let type_hash = self
            .type_hashes
            .get(name)
            .ok_or_else(|| ChainError::typed_data(format!("unknown type `{name}`")))?;
        let mut buf = type_hash.to_vec();
        for (field, ty) in self.fields(name)? {
            let v = obj.get(field).ok_or_else(|| {
                ChainError::typed_data(format!("`{name}` is missing field `{field}`"))
            })?;
            buf.extend_from_slice(&self.encode_value(ty, v, depth + 1)?);
        }
        Ok(keccak256(&buf).0)
    }

    /// The 32-byte `encodeData` word of one value.
    fn encode_value(&self, ty: &str, value: &Value, depth: usize) -> Result<[u8; 32], ChainError> {
        if depth > MAX_DEPTH {
            return Err(ChainError::typed_data("data nests too deeply"));
        }
        if let Some(inner) = ty.strip_suffix(']') {
            let (elem, len) = inner
                .rsplit_once('[')
                .ok_or_else(|| ChainError::typed_data(format!("invalid type `{ty}`")))?;
            let Value::Array(items) = value else {
                return Err(ChainError::typed_data(format!(
                    "value of type `{ty}` must be an array"
                )));
            };
            if !len.is_empty() {
                let n: usize = len.parse().map_err(|_| {
                    ChainError::typed_data(format!("invalid array length in `{ty}`"))
                })?;
                if n != items.len() {
                    return Err(ChainError::typed_data(format!(
                        "`{ty}` needs exactly {n} items"
                    )));
                }
            }
            let mut buf = Vec::with_capacity(items.len() * 32);
            for item in items {
                buf.extend_from_slice(&self.encode_value(elem, item, depth + 1)?);
            }
            return Ok(keccak256(&buf).0);
        }
        if self.types.contains_key(ty) {
            return self.hash_struct(ty, value, depth + 1);
        }
        let atomic = Atomic::parse(ty)
            .ok_or_else(|| ChainError::typed_data(format!("unknown type `{ty}`")))?;
        atomic.encode(value).ok_or_else(|| {
            ChainError::typed_data(format!("invalid value for type `{ty}`: {value}"))
        })
    }
}

/// A non-struct, non-array EIP-712 type.
#[derive(Clone, Copy)]
enum Atomic {
    Address,
    Bool,
    String,
    Bytes,
    FixedBytes(usize),
    Uint(usize),
    Int(usize),
}

impl Atomic {
    fn parse(ty: &str) -> Option<Self> {
        let bits = |s: &str| -> Option<usize> {
            if s.is_empty() {
                return Some(256);
            }
            let n: usize = s.parse().ok()?;
            (n & 7 == 0 && (8..=256).contains(&n) && !s.starts_with('0')).then_some(n)
        };
        Some(match ty {
            "address" => Self::Address,
            "bool" => Self::Bool,
            "string" => Self::String,
            "bytes" => Self::Bytes,
            _ => {
                if let Some(n) = ty.strip_prefix("bytes") {
                    let n: usize = n.parse().ok()?;
                    if !(1..=32).contains(&n) || ty != format!("bytes{n}") {
                        return None;
                    }
                    Self::FixedBytes(n)
                } else if let Some(n) = ty.strip_prefix("uint") {
                    Self::Uint(bits(n)?)
                } else if let Some(n) = ty.strip_prefix("int") {
                    Self::Int(bits(n)?)
                } else {
                    return None;
                }
            }
        })
    }

    fn encode(self, value: &Value) -> Option<[u8; 32]> {
        match self {
            Self::Address => {
                let s = value.as_str()?;
                Some(parse_address(s)?.into_word().0)
            }
            Self::Bool => {
                let b = match value {
                    Value::Bool(b) => *b,
                    Value::String(s) if s == "true" => true,
                    Value::String(s) if s == "false" => false,
                    _ => return None,
                };
                Some(U256::from(u8::from(b)).to_be_bytes())
            }
            Self::String => Some(keccak256(value.as_str()?.as_bytes()).0),
            Self::Bytes => Some(keccak256(parse_hex_bytes(value.as_str()?)?).0),
            Self::FixedBytes(n) => {
                let raw = parse_hex_bytes(value.as_str()?)?;
                if raw.len() != n {
                    return None;
                }
                let mut word = [0u8; 32];
                word[..n].copy_from_slice(&raw);
                Some(word)
            }
            Self::Uint(bits) => {
                let v = parse_uint(value)?;
                (bits == 256 || v < (U256::from(1) << bits)).then(|| v.to_be_bytes())
            }
            Self::Int(bits) => {
                let v = parse_int(value)?;
                if bits < 256 {
                    let bound = I256::try_from(U256::from(1) << (bits - 1)).ok()?;
                    if v >= bound || v < -bound {
                        return None;
                    }
                }
                Some(v.to_be_bytes::<32>())
            }
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A `0x` + 40-hex address; mixed case must be a valid EIP-55 checksum.
pub(crate) fn parse_address(s: &str) -> Option<Address> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if digits.len() != 40 {
        return None;
    }
    let addr = Address::from_slice(&hex::decode(digits).ok()?);
    let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower && addr.to_checksum(None)[2..] != *digits {
        return None;
    }
    Some(addr)
}

/// `0x`-prefixed hex bytes (an even number of digits; `0x` alone is empty).
pub(crate) fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x")?).ok()
}

/// An unsigned integer: a JSON number, a decimal string or a `0x` hex string.
pub(crate) fn parse_uint(value: &Value) -> Option<U256> {
    match value {
        Value::Number(n) => n.as_u64().map(U256::from),
        Value::String(s) => parse_uint_str(s),
        _ => None,
    }
}

/// An unsigned integer from a decimal or `0x` hex string (no sign, no separators).
pub(crate) fn parse_uint_str(s: &str) -> Option<U256> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if h.is_empty() {
            return Some(U256::ZERO);
        }
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return U256::from_str_radix(h, 16).ok();
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    U256::from_str_radix(s, 10).ok()
}

/// A signed integer: a JSON number, or a decimal / `0x` string with an optional `-`.
fn parse_int(value: &Value) -> Option<I256> {
    let (negative, magnitude) = match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                (false, U256::from(u))
            } else {
                let i = n.as_i64()?;
                (true, U256::from(i.unsigned_abs()))
            }
        }
        Value::String(s) => match s.strip_prefix('-') {
            Some(rest) => (true, parse_uint_str(rest)?),
            None => (false, parse_uint_str(s)?),
        },
        _ => return None,
    };
    if negative {
        // -2^255 is representable even though +2^255 is not.
        let min = U256::from(1) << 255;
        if magnitude > min {
            return None;
        }
        Some(I256::from_raw(magnitude.wrapping_neg()))
    } else {
        I256::try_from(magnitude).ok()
    }
}

#[cfg(test)]
#[path = "eip712_tests.rs"]
mod tests;
