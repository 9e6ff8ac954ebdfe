//! Legacy messages (the wire format every Solana node accepts) and their signing.
//!
//! A message is a header (required signatures, read-only signed, read-only unsigned), the
//! account keys (signer-writable, signer-read-only, writable, read-only; the fee payer
//! first), a recent blockhash and the compiled instructions (account indexes instead of
//! keys). latchkey-chains parses and signs this format; this module writes it.

use crate::instruction::Instruction;
use crate::pubkey::Pubkey;
use base64::Engine as _;
use latchkey_chains::Family;

/// The largest transaction a node accepts (an IPv6 MTU minus headers).
pub const MAX_TRANSACTION_SIZE: usize = 1232;

/// Why a message could not be built or signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// More than 256 distinct accounts (a legacy message indexes them with one byte).
    #[error("too many accounts for one transaction")]
    TooManyAccounts,
    /// The signed transaction is larger than a node accepts.
    #[error("the transaction is {0} bytes, more than the {MAX_TRANSACTION_SIZE} a node accepts")]
    TooLarge(usize),
    /// The keys given do not match the message's required signers.
    #[error("the transaction needs the signatures of {needed}, keys were given for {given}")]
    Signers {
        /// The required signers (base58, comma-separated).
        needed: String,
        /// The keys given (base58, comma-separated).
        given: String,
    },
    /// latchkey-chains refused to sign (bad key material).
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A compiled legacy message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Required signatures (the first keys).
    pub num_required_signatures: u8,
    /// Of the signers, how many are read-only (the last ones).
    pub num_readonly_signed: u8,
    /// Of the others, how many are read-only (the last ones).
    pub num_readonly_unsigned: u8,
    /// Every account, ordered as the header says.
    pub account_keys: Vec<Pubkey>,
    /// The blockhash the transaction is valid under (~150 blocks, about a minute).
    pub recent_blockhash: [u8; 32],
    /// The instructions with account indexes.
    pub instructions: Vec<CompiledInstruction>,
}

/// An instruction with its program and accounts as indexes into the message's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledInstruction {
    /// Index of the program.
    pub program_id_index: u8,
    /// Indexes of the accounts.
    pub accounts: Vec<u8>,
    /// The data.
    pub data: Vec<u8>,
}

impl Message {
    /// Compiles `instructions` paid by `payer` under `recent_blockhash`.
    pub fn new(
        instructions: &[Instruction],
        payer: &Pubkey,
        recent_blockhash: [u8; 32],
    ) -> Result<Message, BuildError> {
        // (key, signer, writable) in order of first appearance, the payer first.
        let mut keys: Vec<(Pubkey, bool, bool)> = vec![(*payer, true, true)];
        let mut add = |key: Pubkey, signer: bool, writable: bool| match keys
            .iter_mut()
            .find(|(k, _, _)| *k == key)
        {
            Some(entry) => {
                entry.1 |= signer;
                entry.2 |= writable;
            }
            None => keys.push((key, signer, writable)),
        };
        for ix in instructions {
            for meta in &ix.accounts {
                add(meta.pubkey, meta.is_signer, meta.is_writable);
            }
            add(ix.program_id, false, false);
        }
        let group = |&(_, signer, writable): &(Pubkey, bool, bool)| match (signer, writable) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        // A stable sort keeps the payer first among the signing writable accounts.
        keys.sort_by_key(group);
        if keys.len() > 256 {
            return Err(BuildError::TooManyAccounts);
        }
        let count = |g: u8| keys.iter().filter(|k| group(k) == g).count();
        let as_u8 = |n: usize| u8::try_from(n).map_err(|_| BuildError::TooManyAccounts);
        let num_required_signatures = as_u8(count(0) + count(1))?;
        let num_readonly_signed = as_u8(count(1))?;
        let num_readonly_unsigned = as_u8(count(3))?;
        let account_keys: Vec<Pubkey> = keys.into_iter().map(|(k, _, _)| k).collect();
        let index = |key: &Pubkey| {
            account_keys
                .iter()
                .position(|k| k == key)
                .ok_or(BuildError::TooManyAccounts)
                .and_then(as_u8)
        };
        let mut compiled = Vec::with_capacity(instructions.len());
        for ix in instructions {
            compiled.push(CompiledInstruction {
                program_id_index: index(&ix.program_id)?,
                accounts: ix
                    .accounts
                    .iter()
                    .map(|m| index(&m.pubkey))
                    .collect::<Result<_, _>>()?,
                data: ix.data.clone(),
            });
        }
        Ok(Message {
            num_required_signatures,
            num_readonly_signed,
            num_readonly_unsigned,
            account_keys,
            recent_blockhash,
            instructions: compiled,
        })
    }

    /// The fee payer (the first key).
    pub fn payer(&self) -> Option<&Pubkey> {
        self.account_keys.first()
    }

    /// The keys whose signatures the message requires, in slot order.
    pub fn signers(&self) -> &[Pubkey] {
        let n = usize::from(self.num_required_signatures).min(self.account_keys.len());
        &self.account_keys[..n]
    }

    /// The accounts the message may write (the fee payer included).
    pub fn writable_keys(&self) -> Vec<Pubkey> {
        let signed = usize::from(self.num_required_signatures);
        let ro_signed = usize::from(self.num_readonly_signed);
        let ro_unsigned = usize::from(self.num_readonly_unsigned);
        let len = self.account_keys.len();
        self.account_keys
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                if *i < signed {
                    *i < signed.saturating_sub(ro_signed)
                } else {
                    *i < len.saturating_sub(ro_unsigned)
                }
            })
            .map(|(_, k)| *k)
            .collect()
    }

    /// The wire bytes (what is signed, and what `getFeeForMessage` takes in base64).
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = vec![
            self.num_required_signatures,
            self.num_readonly_signed,
            self.num_readonly_unsigned,
        ];
        put_compact_u16(&mut out, self.account_keys.len());
        for k in &self.account_keys {
            out.extend_from_slice(&k.0);
        }
        out.extend_from_slice(&self.recent_blockhash);
        put_compact_u16(&mut out, self.instructions.len());
        for ix in &self.instructions {
            out.push(ix.program_id_index);
            put_compact_u16(&mut out, ix.accounts.len());
            out.extend_from_slice(&ix.accounts);
            put_compact_u16(&mut out, ix.data.len());
            out.extend_from_slice(&ix.data);
        }
        out
    }

    /// The size of the signed transaction in bytes (signatures included).
    pub fn transaction_size(&self) -> usize {
        let n = usize::from(self.num_required_signatures);
        let mut prefix = Vec::new();
        put_compact_u16(&mut prefix, n);
        prefix.len() + 64 * n + self.serialize().len()
    }

    /// The transaction with every signature slot zeroed: what `simulateTransaction` takes
    /// with `sigVerify: false` (to measure compute units before anyone signs).
    pub fn unsigned_transaction_base64(&self) -> String {
        let mut out = Vec::new();
        put_compact_u16(&mut out, usize::from(self.num_required_signatures));
        for _ in 0..self.num_required_signatures {
            out.extend_from_slice(&[0u8; 64]);
        }
        out.extend_from_slice(&self.serialize());
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// Signs with every required signer's 32-byte Ed25519 secret (any order; each must be a
    /// required signer and every required signer must be given). The secrets are only
    /// borrowed: latchkey-chains zeroes the key copies it makes.
    pub fn sign(&self, secrets: &[&[u8]]) -> Result<SignedTransaction, BuildError> {
        let mut given = Vec::with_capacity(secrets.len());
        for secret in secrets {
            let address = latchkey_chains::address(Family::Solana, secret)
                .map_err(|e| BuildError::Signing(e.message.clone()))?;
            given.push(address);
        }
        let needed: Vec<String> = self.signers().iter().map(|k| k.to_string()).collect();
        let mut sorted_needed = needed.clone();
        sorted_needed.sort();
        let mut sorted_given = given.clone();
        sorted_given.sort();
        sorted_given.dedup();
        if sorted_needed != sorted_given || given.len() != needed.len() {
            return Err(BuildError::Signers {
                needed: needed.join(","),
                given: given.join(","),
            });
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        // A bare message first: latchkey-chains adds the zeroed slots, then each key fills its.
        let mut tx = b64.encode(self.serialize());
        let mut signature = String::new();
        for secret in secrets {
            let signed = latchkey_chains::sign_solana_transaction(secret, &tx)
                .map_err(|e| BuildError::Signing(e.message.clone()))?;
            tx = signed.signed_transaction;
            signature = signed.tx_hash;
        }
        let len = b64.decode(&tx).map(|v| v.len()).unwrap_or(usize::MAX);
        if len > MAX_TRANSACTION_SIZE {
            return Err(BuildError::TooLarge(len));
        }
        Ok(SignedTransaction {
            base64: tx,
            signature,
            recent_blockhash: self.recent_blockhash,
        })
    }
}

/// A fully signed transaction, ready for `sendTransaction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// The wire bytes in base64 (`sendTransaction`'s `encoding: "base64"`).
    pub base64: String,
    /// The first signature in base58: the transaction's id.
    pub signature: String,
    /// The blockhash it was signed under (it can land only while that one is valid).
    pub recent_blockhash: [u8; 32],
}

/// Solana's `short_vec` length prefix.
pub(crate) fn put_compact_u16(out: &mut Vec<u8>, mut n: usize) {
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

/// Decodes a base58 blockhash.
pub fn parse_blockhash(text: &str) -> Option<[u8; 32]> {
    text.parse::<Pubkey>().ok().map(|k| k.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruction::{compute_budget, memo, system, token};
    use crate::pubkey::{SYSTEM_PROGRAM, TOKEN_PROGRAM};

    #[test]
    fn keys_are_grouped_and_the_payer_is_first() {
        let payer = Pubkey([9; 32]);
        let to = Pubkey([1; 32]);
        let m = Message::new(
            &[
                compute_budget::set_compute_unit_limit(1000),
                system::transfer(&payer, &to, 1),
                memo("x"),
            ],
            &payer,
            [7; 32],
        )
        .unwrap();
        assert_eq!(m.account_keys[0], payer);
        assert_eq!(m.account_keys[1], to);
        assert_eq!(
            (
                m.num_required_signatures,
                m.num_readonly_signed,
                m.num_readonly_unsigned
            ),
            (1, 0, 3)
        );
        assert_eq!(m.writable_keys(), vec![payer, to]);
        assert_eq!(m.signers(), &[payer]);
        assert_eq!(
            m.account_keys[m.instructions[1].program_id_index as usize],
            SYSTEM_PROGRAM
        );
    }

    #[test]
    fn a_read_only_signer_is_counted() {
        let payer = Pubkey([9; 32]);
        let owner = Pubkey([8; 32]);
        let ix = token::transfer_checked(
            &TOKEN_PROGRAM,
            &Pubkey([1; 32]),
            &Pubkey([2; 32]),
            &Pubkey([3; 32]),
            &owner,
            1,
            0,
        );
        let m = Message::new(&[ix], &payer, [0; 32]).unwrap();
        assert_eq!((m.num_required_signatures, m.num_readonly_signed), (2, 1));
        assert_eq!(m.signers(), &[payer, owner]);
    }

    #[test]
    fn signing_checks_the_signers_and_round_trips_through_latchkey_chains() {
        let secret = latchkey_chains::generate(Family::Solana);
        let payer: Pubkey = latchkey_chains::address(Family::Solana, &secret)
            .unwrap()
            .parse()
            .unwrap();
        let m = Message::new(
            &[system::transfer(&payer, &Pubkey([1; 32]), 1)],
            &payer,
            [3; 32],
        )
        .unwrap();
        let signed = m.sign(&[&secret]).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&signed.base64)
            .unwrap();
        assert_eq!(m.transaction_size(), bytes.len());
        // latchkey-chains' own check parses what we wrote.
        latchkey_chains::check_solana_transaction(&signed.base64, &payer.to_string()).unwrap();
        let other = latchkey_chains::generate(Family::Solana);
        assert!(matches!(m.sign(&[&other]), Err(BuildError::Signers { .. })));
        assert!(matches!(
            m.sign(&[&secret, &secret]),
            Err(BuildError::Signers { .. })
        ));
    }
}
