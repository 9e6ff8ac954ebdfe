//! The few instructions latchkey sends, encoded by hand (each is a tag byte or a little-endian
//! u32 and a few fixed fields; see the program sources cited on each function).

use crate::pubkey::{
    associated_token_address, PdaError, Pubkey, ASSOCIATED_TOKEN_PROGRAM, COMPUTE_BUDGET_PROGRAM,
    MEMO_PROGRAM, SYSTEM_PROGRAM,
};

/// Size of a mint account without extensions (classic Token and Token-2022).
pub const MINT_SIZE: u64 = 82;
/// Size of a classic Token account.
pub const TOKEN_ACCOUNT_SIZE: u64 = 165;
/// Size of a Token-2022 associated token account of a mint without extensions: the 165 bytes,
/// the account-type byte and the ImmutableOwner extension's 4-byte TLV header.
pub const TOKEN_2022_ATA_SIZE: u64 = 170;

/// One account an instruction touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountMeta {
    /// The account.
    pub pubkey: Pubkey,
    /// Its signature is required.
    pub is_signer: bool,
    /// The instruction may change it.
    pub is_writable: bool,
}

impl AccountMeta {
    /// A writable account.
    pub fn writable(pubkey: Pubkey, is_signer: bool) -> Self {
        Self {
            pubkey,
            is_signer,
            is_writable: true,
        }
    }

    /// A read-only account.
    pub fn readonly(pubkey: Pubkey, is_signer: bool) -> Self {
        Self {
            pubkey,
            is_signer,
            is_writable: false,
        }
    }
}

/// A program call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The program.
    pub program_id: Pubkey,
    /// Its accounts, in the program's order.
    pub accounts: Vec<AccountMeta>,
    /// Its data.
    pub data: Vec<u8>,
}

/// System program (`solana-system-interface`, bincode: u32 LE variant index, then fields).
pub mod system {
    use super::*;

    /// `Transfer { lamports }` (variant 2): `from` (signer, writable) → `to` (writable).
    pub fn transfer(from: &Pubkey, to: &Pubkey, lamports: u64) -> Instruction {
        let mut data = 2u32.to_le_bytes().to_vec();
        data.extend_from_slice(&lamports.to_le_bytes());
        Instruction {
            program_id: SYSTEM_PROGRAM,
            accounts: vec![
                AccountMeta::writable(*from, true),
                AccountMeta::writable(*to, false),
            ],
            data,
        }
    }

    /// `CreateAccount { lamports, space, owner }` (variant 0); both accounts sign.
    pub fn create_account(
        from: &Pubkey,
        new: &Pubkey,
        lamports: u64,
        space: u64,
        owner: &Pubkey,
    ) -> Instruction {
        let mut data = 0u32.to_le_bytes().to_vec();
        data.extend_from_slice(&lamports.to_le_bytes());
        data.extend_from_slice(&space.to_le_bytes());
        data.extend_from_slice(&owner.0);
        Instruction {
            program_id: SYSTEM_PROGRAM,
            accounts: vec![
                AccountMeta::writable(*from, true),
                AccountMeta::writable(*new, true),
            ],
            data,
        }
    }
}

/// SPL Token and Token-2022 (`spl-token-interface`: one tag byte, then packed fields; the two
/// programs share these instructions and their encoding).
pub mod token {
    use super::*;

    /// `TransferChecked { amount, decimals }` (tag 12): source, mint, destination, owner.
    pub fn transfer_checked(
        program: &Pubkey,
        source: &Pubkey,
        mint: &Pubkey,
        destination: &Pubkey,
        owner: &Pubkey,
        amount: u64,
        decimals: u8,
    ) -> Instruction {
        let mut data = vec![12u8];
        data.extend_from_slice(&amount.to_le_bytes());
        data.push(decimals);
        Instruction {
            program_id: *program,
            accounts: vec![
                AccountMeta::writable(*source, false),
                AccountMeta::readonly(*mint, false),
                AccountMeta::writable(*destination, false),
                AccountMeta::readonly(*owner, true),
            ],
            data,
        }
    }

    /// `InitializeMint2 { decimals, mint_authority, freeze_authority }` (tag 20; no Rent
    /// sysvar account, unlike `InitializeMint`).
    pub fn initialize_mint2(
        program: &Pubkey,
        mint: &Pubkey,
        decimals: u8,
        mint_authority: &Pubkey,
        freeze_authority: Option<&Pubkey>,
    ) -> Instruction {
        let mut data = vec![20u8, decimals];
        data.extend_from_slice(&mint_authority.0);
        match freeze_authority {
            Some(k) => {
                data.push(1);
                data.extend_from_slice(&k.0);
            }
            None => data.push(0),
        }
        Instruction {
            program_id: *program,
            accounts: vec![AccountMeta::writable(*mint, false)],
            data,
        }
    }

    /// `MintTo { amount }` (tag 7): mint, destination account, mint authority (signer).
    pub fn mint_to(
        program: &Pubkey,
        mint: &Pubkey,
        destination: &Pubkey,
        authority: &Pubkey,
        amount: u64,
    ) -> Instruction {
        let mut data = vec![7u8];
        data.extend_from_slice(&amount.to_le_bytes());
        Instruction {
            program_id: *program,
            accounts: vec![
                AccountMeta::writable(*mint, false),
                AccountMeta::writable(*destination, false),
                AccountMeta::readonly(*authority, true),
            ],
            data,
        }
    }
}

/// The Associated Token Account program (`spl-associated-token-account-interface`).
pub mod ata {
    use super::*;

    /// `CreateIdempotent` (tag 1): creates `owner`'s account for `mint`, paid by `payer` (its
    /// rent comes from the payer), and succeeds without change when it already exists.
    /// Returns the instruction and the account's address.
    pub fn create_idempotent(
        payer: &Pubkey,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Result<(Instruction, Pubkey), PdaError> {
        let account = associated_token_address(owner, mint, token_program)?;
        let ix = Instruction {
            program_id: ASSOCIATED_TOKEN_PROGRAM,
            accounts: vec![
                AccountMeta::writable(*payer, true),
                AccountMeta::writable(account, false),
                AccountMeta::readonly(*owner, false),
                AccountMeta::readonly(*mint, false),
                AccountMeta::readonly(SYSTEM_PROGRAM, false),
                AccountMeta::readonly(*token_program, false),
            ],
            data: vec![1],
        };
        Ok((ix, account))
    }
}

/// The Compute Budget program (`solana-compute-budget-interface`, borsh: tag byte, then LE).
pub mod compute_budget {
    use super::*;

    /// `SetComputeUnitLimit(units)` (tag 2).
    pub fn set_compute_unit_limit(units: u32) -> Instruction {
        let mut data = vec![2u8];
        data.extend_from_slice(&units.to_le_bytes());
        Instruction {
            program_id: COMPUTE_BUDGET_PROGRAM,
            accounts: Vec::new(),
            data,
        }
    }

    /// `SetComputeUnitPrice(micro_lamports)` (tag 3): the priority fee, in millionths of a
    /// lamport per compute unit of the limit.
    pub fn set_compute_unit_price(micro_lamports: u64) -> Instruction {
        let mut data = vec![3u8];
        data.extend_from_slice(&micro_lamports.to_le_bytes());
        Instruction {
            program_id: COMPUTE_BUDGET_PROGRAM,
            accounts: Vec::new(),
            data,
        }
    }
}

/// The Memo program (v2): the UTF-8 text as data; with no accounts, nobody needs to sign it.
pub fn memo(text: &str) -> Instruction {
    Instruction {
        program_id: MEMO_PROGRAM,
        accounts: Vec::new(),
        data: text.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let a = Pubkey([1; 32]);
        let b = Pubkey([2; 32]);
        assert_eq!(
            system::transfer(&a, &b, 5).data,
            [2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]
        );
        let t = token::transfer_checked(&a, &a, &b, &b, &a, 1_000_000, 6);
        assert_eq!(t.data, [12, 64, 66, 15, 0, 0, 0, 0, 0, 6]);
        assert_eq!(t.accounts.iter().filter(|m| m.is_signer).count(), 1);
        assert_eq!(
            compute_budget::set_compute_unit_limit(200_000).data,
            [2, 64, 13, 3, 0]
        );
        assert_eq!(
            compute_budget::set_compute_unit_price(1).data,
            [3, 1, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            token::initialize_mint2(&a, &b, 6, &a, None).data.len(),
            1 + 1 + 32 + 1
        );
        assert_eq!(system::create_account(&a, &b, 1, 82, &a).data.len(), 52);
    }
}
