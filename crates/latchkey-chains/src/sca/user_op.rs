//! The ERC-4337 v0.7 UserOperation, its hash, `handleOps`, and the VerifyingPaymaster's data.

use super::*;

/// The paymaster fields of a [`UserOperation`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymasterFields {
    /// The paymaster contract.
    pub paymaster: Address,
    /// `paymasterVerificationGasLimit`.
    pub verification_gas_limit: u128,
    /// `paymasterPostOpGasLimit`.
    pub post_op_gas_limit: u128,
    /// `paymasterData` (for the VerifyingPaymaster: [`verifying_paymaster_data`]).
    pub data: Vec<u8>,
}

/// A v0.7 user operation with its fields unpacked, as the ERC-4337 v0.7 JSON-RPC names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserOperation {
    /// The account.
    pub sender: Address,
    /// The EntryPoint nonce (192-bit key ‖ 64-bit sequence).
    pub nonce: U256,
    /// The factory, for the operation that deploys the account.
    pub factory: Option<Address>,
    /// The factory's calldata ([`create_safe_call`]).
    pub factory_data: Vec<u8>,
    /// The account's calldata ([`execute_user_op_call`], [`execute_batch_call`]).
    pub call_data: Vec<u8>,
    /// `callGasLimit`.
    pub call_gas_limit: u128,
    /// `verificationGasLimit`.
    pub verification_gas_limit: u128,
    /// `preVerificationGas`.
    pub pre_verification_gas: U256,
    /// `maxFeePerGas`.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas`.
    pub max_priority_fee_per_gas: u128,
    /// The sponsoring paymaster, if any.
    pub paymaster: Option<PaymasterFields>,
    /// The account's signature ([`safe_op_signature`]).
    pub signature: Vec<u8>,
}

/// Two 128-bit values in one word, `high ‖ low` (v0.7's `accountGasLimits` and `gasFees`).
pub fn pack_u128s(high: u128, low: u128) -> B256 {
    let mut word = [0u8; 32];
    word[..16].copy_from_slice(&high.to_be_bytes());
    word[16..].copy_from_slice(&low.to_be_bytes());
    B256::from(word)
}

impl PaymasterFields {
    /// `paymasterAndData`: `paymaster ‖ uint128 verificationGasLimit ‖ uint128 postOpGasLimit ‖
    /// data`.
    pub fn packed(&self) -> Vec<u8> {
        let mut out = self.paymaster.to_vec();
        out.extend_from_slice(
            pack_u128s(self.verification_gas_limit, self.post_op_gas_limit).as_slice(),
        );
        out.extend_from_slice(&self.data);
        out
    }
}

impl UserOperation {
    /// `initCode`: `factory ‖ factoryData`, or empty.
    pub fn init_code(&self) -> Vec<u8> {
        match self.factory {
            Some(factory) => {
                let mut code = factory.to_vec();
                code.extend_from_slice(&self.factory_data);
                code
            }
            None => Vec::new(),
        }
    }

    /// The on-chain form.
    pub fn pack(&self) -> PackedUserOperation {
        PackedUserOperation {
            sender: self.sender,
            nonce: self.nonce,
            initCode: self.init_code().into(),
            callData: Bytes::copy_from_slice(&self.call_data),
            accountGasLimits: pack_u128s(self.verification_gas_limit, self.call_gas_limit),
            preVerificationGas: self.pre_verification_gas,
            gasFees: pack_u128s(self.max_priority_fee_per_gas, self.max_fee_per_gas),
            paymasterAndData: self
                .paymaster
                .as_ref()
                .map(PaymasterFields::packed)
                .unwrap_or_default()
                .into(),
            signature: Bytes::copy_from_slice(&self.signature),
        }
    }
}

/// EntryPoint v0.7's `getUserOpHash(op)`: `keccak256(abi.encode(keccak256(pack(op)),
/// entryPoint, chainId))`, where `pack` hashes the dynamic fields and leaves the signature out.
pub fn user_op_hash(op: &PackedUserOperation, entry_point: Address, chain_id: u64) -> B256 {
    let inner = keccak256(
        (
            op.sender,
            op.nonce,
            keccak256(&op.initCode),
            keccak256(&op.callData),
            op.accountGasLimits,
            op.preVerificationGas,
            op.gasFees,
            keccak256(&op.paymasterAndData),
        )
            .abi_encode_params(),
    );
    keccak256((inner, entry_point, U256::from(chain_id)).abi_encode_params())
}

/// `EntryPoint.handleOps(ops, beneficiary)` calldata; the beneficiary (the bundler's own
/// address) receives the gas the operations paid for.
pub fn handle_ops_call(ops: &[PackedUserOperation], beneficiary: Address) -> Vec<u8> {
    IEntryPoint::handleOpsCall {
        ops: ops.to_vec(),
        beneficiary,
    }
    .abi_encode()
}

/// The operations of `handleOps` calldata (a bundle's), `None` for any other calldata.
pub fn decode_handle_ops(data: &[u8]) -> Option<Vec<PackedUserOperation>> {
    IEntryPoint::handleOpsCall::abi_decode(data)
        .ok()
        .map(|call| call.ops)
}

/// `EntryPoint.getNonce(sender, key)` calldata.
pub fn get_nonce_call(sender: Address, key: alloy_primitives::aliases::U192) -> Vec<u8> {
    IEntryPoint::getNonceCall { sender, key }.abi_encode()
}

/// `EntryPoint.depositTo(account)` calldata (with the deposit as the call's value).
pub fn deposit_to_call(account: Address) -> Vec<u8> {
    IEntryPoint::depositToCall { account }.abi_encode()
}

/// The VerifyingPaymaster's `paymasterData`: `abi.encode(uint48 validUntil, uint48
/// validAfter) ‖ signature` (validUntil 0 means no expiry).
pub fn verifying_paymaster_data(valid_until: U48, valid_after: U48, signature: &[u8]) -> Vec<u8> {
    let mut data = (valid_until, valid_after).abi_encode_params();
    data.extend_from_slice(signature);
    data
}

/// The hash the VerifyingPaymaster's signer signs (its `getHash(op, validUntil, validAfter)`):
/// every field of the operation but the paymaster's data and the signature, with the chain id
/// and the paymaster's address. `None` when `op` has no paymaster. The signer signs it with
/// [`sign_hash_eip191`].
pub fn verifying_paymaster_hash(
    op: &UserOperation,
    chain_id: u64,
    valid_until: U48,
    valid_after: U48,
) -> Option<B256> {
    let pm = op.paymaster.as_ref()?;
    let packed = op.pack();
    Some(keccak256(
        (
            packed.sender,
            packed.nonce,
            keccak256(&packed.initCode),
            keccak256(&packed.callData),
            packed.accountGasLimits,
            pack_u128s(pm.verification_gas_limit, pm.post_op_gas_limit),
            packed.preVerificationGas,
            packed.gasFees,
            U256::from(chain_id),
            pm.paymaster,
            valid_until,
            valid_after,
        )
            .abi_encode_params(),
    ))
}
