//! Solana transactions: wire-format parsing (legacy and v0 messages) and signing.

use crate::keys::ed_key;
use crate::{codes, ChainError, SignedTx};
use base64::Engine as _;
use ed25519_dalek::Signer as _;

const SIG_LEN: usize = 64;
const KEY_LEN: usize = 32;

/// Signs a serialized Solana transaction (base64 of compact-u16 signature count, 64-byte
/// signatures, then a legacy or v0 message) with a 32-byte Ed25519 seed.
///
/// The wallet's public key must be one of the message's required signers; its signature is
/// placed in that signer's slot and other slots are left as they are. A transaction
/// serialized with no signature slots at all, or a bare message, is accepted too: the slots
/// are then added (zeroed for the other signers).
///
/// The result's `signature` is the base58 Ed25519 signature, `signed_transaction` the base64
/// signed transaction and `tx_hash` the base58 of the first signature (Solana's transaction
/// id — final only once every signer has signed).
///
/// Errors: [`codes::DESERIALIZATION_FAILED`] (not base64 / malformed wire format),
/// [`codes::INVALID_TRANSACTION`] (inconsistent signature count), [`codes::NOT_A_SIGNER`].
pub fn sign_solana_transaction(secret: &[u8], base64_tx: &str) -> Result<SignedTx, ChainError> {
    let key = ed_key(secret)?;
    let public = key.verifying_key().to_bytes();
    let Prepared {
        raw,
        mut signatures,
        message_start,
        index,
    } = prepare(base64_tx, &public)?;
    let message = &raw[message_start..];
    let signature = key.sign(message).to_bytes();
    signatures[index] = signature;

    let mut out = Vec::with_capacity(3 + signatures.len() * SIG_LEN + message.len());
    put_compact_u16(&mut out, signatures.len());
    for s in &signatures {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(message);
    let tx_id = signatures.first().copied().unwrap_or(signature);
    Ok(SignedTx {
        signature: bs58::encode(signature).into_string(),
        signed_transaction: base64::engine::general_purpose::STANDARD.encode(out),
        tx_hash: bs58::encode(tx_id).into_string(),
    })
}

/// Checks, without the key, everything [`sign_solana_transaction`] checks before it signs:
/// the wire format, the signature count, and that `signer_address` (the wallet's base58
/// public key) is one of the required signers. What passes here signs with that wallet's
/// key; a challenge runs it when it is created, so a transaction that cannot be signed never
/// reaches the user's PIN.
///
/// Errors: those of [`sign_solana_transaction`]; [`codes::INTERNAL`] when `signer_address`
/// is not a base58 Ed25519 public key.
pub fn check_solana_transaction(base64_tx: &str, signer_address: &str) -> Result<(), ChainError> {
    let public: [u8; KEY_LEN] = bs58::decode(signer_address)
        .into_vec()
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ChainError::internal("the wallet address is not a Solana public key"))?;
    prepare(base64_tx, &public).map(|_| ())
}

/// A transaction parsed for signing by `public`: its bytes, its signature slots (added when
/// it had none), where its message starts and which slot is the signer's.
struct Prepared {
    raw: Vec<u8>,
    signatures: Vec<[u8; SIG_LEN]>,
    message_start: usize,
    index: usize,
}

/// The one parse both [`sign_solana_transaction`] and [`check_solana_transaction`] run.
fn prepare(base64_tx: &str, public: &[u8; KEY_LEN]) -> Result<Prepared, ChainError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(base64_tx.trim())
        .map_err(|_| ChainError::undecodable("the transaction is not base64"))?;
    let (mut signatures, message_start, info) = match parse_transaction(&raw) {
        Ok((signatures, message, info)) => (signatures, raw.len() - message.len(), info),
        Err(e) => match parse_message(&raw) {
            // A bare message (e.g. web3.js `serializeMessage()`): start with empty slots.
            Ok(info) => (Vec::new(), 0, info),
            Err(_) => return Err(e),
        },
    };
    if signatures.is_empty() {
        signatures = vec![[0u8; SIG_LEN]; info.num_required_signatures];
    }
    if signatures.len() != info.num_required_signatures {
        return Err(ChainError::invalid_tx(format!(
            "the transaction has {} signatures but its message requires {}",
            signatures.len(),
            info.num_required_signatures
        )));
    }
    let index = info
        .signers
        .iter()
        .position(|k| k == public)
        .ok_or_else(|| {
            ChainError::new(
                codes::NOT_A_SIGNER,
                "the wallet is not a required signer of the transaction",
            )
        })?;
    Ok(Prepared {
        raw,
        signatures,
        message_start,
        index,
    })
}

/// What signing needs from a message.
#[derive(Debug)]
struct MessageInfo {
    num_required_signatures: usize,
    /// The first `num_required_signatures` account keys.
    signers: Vec<[u8; KEY_LEN]>,
}

type ParsedTx<'a> = (Vec<[u8; SIG_LEN]>, &'a [u8], MessageInfo);

fn parse_transaction(raw: &[u8]) -> Result<ParsedTx<'_>, ChainError> {
    let mut r = Reader { buf: raw, pos: 0 };
    let count = r.compact_u16()?;
    let mut signatures = Vec::with_capacity(count);
    for _ in 0..count {
        signatures.push(r.array::<SIG_LEN>()?);
    }
    let message = &raw[r.pos..];
    let info = parse_message(message)?;
    Ok((signatures, message, info))
}

/// Parses a whole legacy or v0 message; it must end exactly at the end of `raw`.
fn parse_message(raw: &[u8]) -> Result<MessageInfo, ChainError> {
    let mut r = Reader { buf: raw, pos: 0 };
    let first = r.byte()?;
    let num_required = if first & 0x80 != 0 {
        if first != 0x80 {
            return Err(ChainError::invalid_tx(format!(
                "unsupported message version {}",
                first & 0x7f
            )));
        }
        r.byte()?
    } else {
        first
    };
    let versioned = first & 0x80 != 0;
    let num_readonly_signed = r.byte()?;
    let _num_readonly_unsigned = r.byte()?;
    let key_count = r.compact_u16()?;
    let mut keys = Vec::with_capacity(key_count);
    for _ in 0..key_count {
        keys.push(r.array::<KEY_LEN>()?);
    }
    let num_required = usize::from(num_required);
    if num_required == 0
        || num_required > keys.len()
        || usize::from(num_readonly_signed) >= num_required
    {
        return Err(ChainError::undecodable(
            "inconsistent Solana message header",
        ));
    }
    let _recent_blockhash = r.array::<KEY_LEN>()?;
    let instructions = r.compact_u16()?;
    for _ in 0..instructions {
        let _program_id_index = r.byte()?;
        let accounts = r.compact_u16()?;
        r.take(accounts)?;
        let data = r.compact_u16()?;
        r.take(data)?;
    }
    if versioned {
        let lookups = r.compact_u16()?;
        for _ in 0..lookups {
            let _table = r.array::<KEY_LEN>()?;
            let writable = r.compact_u16()?;
            r.take(writable)?;
            let readonly = r.compact_u16()?;
            r.take(readonly)?;
        }
    }
    if r.pos != raw.len() {
        return Err(ChainError::undecodable(
            "trailing bytes after the Solana message",
        ));
    }
    keys.truncate(num_required);
    Ok(MessageInfo {
        num_required_signatures: num_required,
        signers: keys,
    })
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ChainError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| ChainError::undecodable("truncated Solana transaction"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, ChainError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ChainError> {
        self.take(N)?
            .try_into()
            .map_err(|_| ChainError::undecodable("truncated Solana transaction"))
    }

    /// Solana's `short_vec` length: 1–3 bytes, 7 bits each, canonical, at most u16::MAX.
    fn compact_u16(&mut self) -> Result<usize, ChainError> {
        let bad = || ChainError::undecodable("invalid compact-u16 length");
        let mut value = 0usize;
        for i in 0..3 {
            let b = self.byte()?;
            value |= usize::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(bad());
                }
                return u16::try_from(value).map(usize::from).map_err(|_| bad());
            }
        }
        Err(bad())
    }
}

fn put_compact_u16(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

#[cfg(test)]
#[path = "solana_tests.rs"]
mod tests;
