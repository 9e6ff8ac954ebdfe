//! Solana addresses: 32-byte public keys in base58, the programs latchkey calls, and
//! program-derived addresses (associated token accounts).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::str::FromStr;

/// A Solana address (an Ed25519 public key, or a program-derived address off the curve).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pubkey(pub [u8; 32]);

/// The System program.
pub const SYSTEM_PROGRAM: Pubkey = Pubkey::from_base58_const("11111111111111111111111111111111");
/// The classic SPL Token program.
pub const TOKEN_PROGRAM: Pubkey =
    Pubkey::from_base58_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// The SPL Token-2022 program.
pub const TOKEN_2022_PROGRAM: Pubkey =
    Pubkey::from_base58_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
/// The Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM: Pubkey =
    Pubkey::from_base58_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
/// The SPL Memo program (v2, the one that accepts memos without signers).
pub const MEMO_PROGRAM: Pubkey =
    Pubkey::from_base58_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
/// The Compute Budget program.
pub const COMPUTE_BUDGET_PROGRAM: Pubkey =
    Pubkey::from_base58_const("ComputeBudget111111111111111111111111111111");

/// Why a text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Solana address (base58 of 32 bytes)")]
pub struct BadAddress;

impl Pubkey {
    /// Decodes a base58 literal at compile time (the program ids above). An invalid
    /// character decodes as zero rather than failing the build: the unit tests check that
    /// every constant prints back as its literal.
    pub const fn from_base58_const(s: &str) -> Pubkey {
        const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        let bytes = s.as_bytes();
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < bytes.len() {
            let mut digit = 0u32;
            let mut j = 0;
            while j < 58 {
                if ALPHABET[j] == bytes[i] {
                    digit = j as u32;
                }
                j += 1;
            }
            // out = out * 58 + digit, big-endian.
            let mut carry = digit;
            let mut k = 32;
            while k > 0 {
                k -= 1;
                let v = (out[k] as u32) * 58 + carry;
                out[k] = (v & 0xff) as u8;
                carry = v >> 8;
            }
            i += 1;
        }
        Pubkey(out)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether the bytes are a point of Ed25519 (an ordinary wallet key can be; a
    /// program-derived address never is).
    pub fn is_on_curve(&self) -> bool {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0).is_ok()
    }
}

impl fmt::Display for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Pubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pubkey({self})")
    }
}

impl FromStr for Pubkey {
    type Err = BadAddress;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // 32 bytes are at most 44 base58 characters; refuse longer input before decoding it.
        if s.is_empty() || s.len() > 44 {
            return Err(BadAddress);
        }
        let raw = bs58::decode(s).into_vec().map_err(|_| BadAddress)?;
        raw.try_into().map(Pubkey).map_err(|_| BadAddress)
    }
}

impl Serialize for Pubkey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Pubkey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Why no address could be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdaError {
    /// More than 16 seeds, or a seed longer than 32 bytes.
    #[error("invalid seeds for a program-derived address")]
    BadSeeds,
    /// Every bump from 255 down to 0 gave a point on the curve (practically impossible).
    #[error("no viable bump for a program-derived address")]
    NoBump,
}

/// `create_program_address`: sha256(seeds ‖ program ‖ "ProgramDerivedAddress"), refused when
/// the hash is a curve point.
pub fn create_program_address(seeds: &[&[u8]], program: &Pubkey) -> Result<Pubkey, PdaError> {
    if seeds.len() > 16 || seeds.iter().any(|s| s.len() > 32) {
        return Err(PdaError::BadSeeds);
    }
    let mut h = Sha256::new();
    for seed in seeds {
        h.update(seed);
    }
    h.update(program.0);
    h.update(b"ProgramDerivedAddress");
    let key = Pubkey(h.finalize().into());
    if key.is_on_curve() {
        return Err(PdaError::NoBump);
    }
    Ok(key)
}

/// `find_program_address`: the first bump from 255 down whose address is off the curve.
pub fn find_program_address(seeds: &[&[u8]], program: &Pubkey) -> Result<(Pubkey, u8), PdaError> {
    if seeds.len() > 15 {
        return Err(PdaError::BadSeeds);
    }
    for bump in (0..=u8::MAX).rev() {
        let bump_seed = [bump];
        let mut with_bump: Vec<&[u8]> = seeds.to_vec();
        with_bump.push(&bump_seed);
        match create_program_address(&with_bump, program) {
            Ok(key) => return Ok((key, bump)),
            Err(PdaError::NoBump) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(PdaError::NoBump)
}

/// The associated token account of `owner` for `mint` under `token_program` (classic Token or
/// Token-2022: the program is one of the seeds, so the two give different addresses).
pub fn associated_token_address(
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Result<Pubkey, PdaError> {
    find_program_address(
        &[&owner.0, &token_program.0, &mint.0],
        &ASSOCIATED_TOKEN_PROGRAM,
    )
    .map(|(key, _)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_print_as_their_literals() {
        for (key, text) in [
            (SYSTEM_PROGRAM, "11111111111111111111111111111111"),
            (TOKEN_PROGRAM, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
            (
                TOKEN_2022_PROGRAM,
                "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
            ),
            (
                ASSOCIATED_TOKEN_PROGRAM,
                "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
            ),
            (MEMO_PROGRAM, "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"),
            (
                COMPUTE_BUDGET_PROGRAM,
                "ComputeBudget111111111111111111111111111111",
            ),
        ] {
            assert_eq!(key.to_string(), text);
            assert_eq!(text.parse::<Pubkey>(), Ok(key));
        }
        assert_eq!(SYSTEM_PROGRAM.0, [0u8; 32]);
    }

    #[test]
    fn parsing_refuses_what_is_not_32_bytes() {
        assert_eq!("".parse::<Pubkey>(), Err(BadAddress));
        assert_eq!("abc".parse::<Pubkey>(), Err(BadAddress));
        assert_eq!("0OIl".parse::<Pubkey>(), Err(BadAddress));
        assert_eq!("1".repeat(45).parse::<Pubkey>(), Err(BadAddress));
    }

    /// Vectors from @solana/web3.js `PublicKey.findProgramAddressSync` (devnet USDC's mint).
    #[test]
    fn associated_token_addresses_match_web3js() {
        let owner: Pubkey = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
            .parse()
            .unwrap();
        let mint: Pubkey = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
            .parse()
            .unwrap();
        let (ata, bump) = find_program_address(
            &[&owner.0, &TOKEN_PROGRAM.0, &mint.0],
            &ASSOCIATED_TOKEN_PROGRAM,
        )
        .unwrap();
        assert_eq!(
            (ata.to_string().as_str(), bump),
            ("HwpBSwuyVKJi7d9kqqNexc54MS9i4BEDKDVDLeUVjZm8", 253)
        );
        assert_eq!(
            associated_token_address(&owner, &mint, &TOKEN_2022_PROGRAM)
                .unwrap()
                .to_string(),
            "4pBVkj9faUCfkHwLnZ6CHNKfbMuBTBrwiKqVZJmurE9E"
        );
        assert!(owner.is_on_curve());
        assert!(!ata.is_on_curve());
    }

    #[test]
    fn seeds_are_bounded() {
        let long = [0u8; 33];
        assert_eq!(
            create_program_address(&[&long], &SYSTEM_PROGRAM),
            Err(PdaError::BadSeeds)
        );
    }
}
