//! Signatures: the owner's of an operation (SafeOp), ERC-1271 SafeMessage, ERC-6492 wrapping.

use super::*;

/// EIP-191 `personal_sign` of a 32-byte hash (`"\x19Ethereum Signed Message:\n32" ‖ hash`,
/// OpenZeppelin's `toEthSignedMessageHash(bytes32)`): 65 bytes r‖s‖v, v = 27/28. What the
/// VerifyingPaymaster's signer signs its hash with (a Safe's owner signs raw:
/// [`sign_hash_raw`]).
pub fn sign_hash_eip191(secret: &[u8], hash: B256) -> Result<[u8; 65], ChainError> {
    sign_evm_hash(&evm_key(secret)?, &personal_message_hash(hash.as_slice()))
}

/// The module's `SafeOp` hash of `op` (its `getOperationHash`), what the owner signs instead of
/// the userOpHash: EIP-712 with the domain `{chainId, module}`, over every field of the
/// operation but the signature (so the paymaster signs first: `paymasterAndData` is in it),
/// the validity window and the EntryPoint the module was built for.
pub fn safe_op_hash(
    op: &UserOperation,
    chain_id: u64,
    module: Address,
    entry_point: Address,
    valid_after: U48,
    valid_until: U48,
) -> B256 {
    let packed = op.pack();
    let struct_hash = keccak256(
        (
            SAFE_OP_TYPEHASH,
            packed.sender,
            packed.nonce,
            keccak256(&packed.initCode),
            keccak256(&packed.callData),
            op.verification_gas_limit,
            op.call_gas_limit,
            packed.preVerificationGas,
            op.max_priority_fee_per_gas,
            op.max_fee_per_gas,
            keccak256(&packed.paymasterAndData),
            valid_after,
            valid_until,
            entry_point,
        )
            .abi_encode_params(),
    );
    eip712_digest(domain_separator(chain_id, module), struct_hash)
}

/// An operation's `signature` for the module: `validAfter` (6 bytes) ‖ `validUntil` (6 bytes,
/// 0 = no expiry) ‖ the owners' signatures (here the one owner's 65 bytes).
pub fn safe_op_signature(valid_after: U48, valid_until: U48, owner_signature: &[u8]) -> Vec<u8> {
    let mut out = valid_after.to_be_bytes::<6>().to_vec();
    out.extend_from_slice(&valid_until.to_be_bytes::<6>());
    out.extend_from_slice(owner_signature);
    out
}

/// A signature of a 32-byte hash with no prefix: r‖s‖v, v = 27/28, which a Safe's
/// `checkSignatures` recovers as an owner's ECDSA signature of the hash (v > 30 would mean
/// `eth_sign`, v 0 a contract and v 1 an approved hash).
pub fn sign_hash_raw(secret: &[u8], hash: B256) -> Result<[u8; 65], ChainError> {
    sign_evm_hash(&evm_key(secret)?, &hash.0)
}

/// The owner's finished `signature` for `op` ([`safe_op_signature`] over [`safe_op_hash`]).
pub fn sign_safe_op(
    secret: &[u8],
    op: &UserOperation,
    chain_id: u64,
    config: &SafeAccountConfig,
    entry_point: Address,
    valid_after: U48,
    valid_until: U48,
) -> Result<Vec<u8>, ChainError> {
    let hash = safe_op_hash(
        op,
        chain_id,
        config.module,
        entry_point,
        valid_after,
        valid_until,
    );
    Ok(safe_op_signature(
        valid_after,
        valid_until,
        &sign_hash_raw(secret, hash)?,
    ))
}

/// The hash a Safe checks its owners' signatures against in ERC-1271 `isValidSignature(hash,
/// sig)`: the fallback handler's `getMessageHash(abi.encode(hash))`, EIP-712 `SafeMessage(bytes
/// message)` with the domain `{chainId, safe}`. Computable before the Safe is deployed.
pub fn safe_message_hash(safe: Address, chain_id: u64, hash: B256) -> B256 {
    let struct_hash =
        keccak256((SAFE_MSG_TYPEHASH, keccak256(hash.as_slice())).abi_encode_params());
    eip712_digest(domain_separator(chain_id, safe), struct_hash)
}

/// The Safe's ERC-1271 signature of `hash` (the EIP-191 hash of a `signMessage` message, or
/// the EIP-712 digest of a `signTypedData` one) by its one owner: the owner's raw signature of
/// [`safe_message_hash`]; `safe.isValidSignature(hash, sig)` then returns [`ERC1271_MAGIC`].
pub fn sign_for_safe(
    secret: &[u8],
    safe: Address,
    chain_id: u64,
    hash: B256,
) -> Result<[u8; 65], ChainError> {
    sign_hash_raw(secret, safe_message_hash(safe, chain_id, hash))
}

/// An ERC-6492 signature for an account not deployed yet: `abi.encode(factory, factoryData,
/// signature) ‖ 0x6492…6492`. A verifier that finds no code at the account runs
/// `factory.call(factoryData)` first (for a Safe: [`SAFE_PROXY_FACTORY_141`] and
/// [`create_safe_call`]), then asks the account's ERC-1271.
pub fn erc6492_wrap(factory: Address, factory_data: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = (
        factory,
        Bytes::copy_from_slice(factory_data),
        Bytes::copy_from_slice(signature),
    )
        .abi_encode_params();
    out.extend_from_slice(ERC6492_MAGIC.as_slice());
    out
}

/// The data of an `eth_call` with no `to` that runs ERC-6492's deployless validator (viem's
/// `erc6492SignatureValidatorByteCode`, `contracts/out/erc6492.ValidateSigOffchain.creation.hex`)
/// for `signer`, `hash` and a plain, ERC-1271 or ERC-6492 `signature`: the call returns one
/// byte, `0x01` when the signature is valid.
pub fn erc6492_validation_call(signer: Address, hash: B256, signature: &[u8]) -> Vec<u8> {
    let mut data = ERC6492_VALIDATOR_CODE.clone();
    data.extend((signer, hash, Bytes::copy_from_slice(signature)).abi_encode_params());
    data
}

/// `isValidSignature(hash, signature)` calldata (ERC-1271).
pub fn is_valid_signature_call(hash: B256, signature: &[u8]) -> Vec<u8> {
    IERC1271::isValidSignatureCall {
        hash,
        signature: Bytes::copy_from_slice(signature),
    }
    .abi_encode()
}

/// EIP-712: `keccak256(0x19 0x01 ‖ domainSeparator ‖ structHash)`.
fn eip712_digest(domain: B256, struct_hash: B256) -> B256 {
    let mut data = vec![0x19, 0x01];
    data.extend_from_slice(domain.as_slice());
    data.extend_from_slice(struct_hash.as_slice());
    keccak256(data)
}
