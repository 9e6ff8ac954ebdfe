//! Smart-contract accounts (Circle's `accountType: "SCA"`): the pure ERC-4337 v0.7 encodings,
//! with no node involved.
//!
//! The account is `SimpleAccount` of `@account-abstraction/contracts` 0.7.0, created through its
//! `SimpleAccountFactory` as an `ERC1967Proxy` owned by the wallet's secp256k1 key, and driven
//! through `EntryPoint` v0.7. The creation code of the contracts is the package's own (copied
//! from its npm artifacts into `contracts/out/aa07.*.creation.hex` by `contracts/build`, never
//! recompiled), so that:
//!
//! - the EntryPoint lands at its canonical address [`ENTRY_POINT_V07`] and the factory at
//!   [`SIMPLE_ACCOUNT_FACTORY_V07`] when deployed through the deterministic deployment proxy
//!   ([`DETERMINISTIC_DEPLOYER`]) with the salts the ecosystem used ([`ENTRY_POINT_SALT`],
//!   [`FACTORY_SALT`]): the addresses on a local node are those of every public chain;
//! - an account's address is known offline ([`simple_account_address`]): CREATE2 by the factory
//!   over the proxy's creation code, which wallets need at creation, without chain access.
//!
//! Also here: the account's `execute` / `executeBatch` calldata, the `PackedUserOperation` and
//! its v0.7 hash ([`user_op_hash`]), `handleOps` calldata, and the sample `VerifyingPaymaster`'s
//! `paymasterAndData` layout and the hash its signer signs ([`verifying_paymaster_hash`]).
//! Both signatures (the owner's over the userOpHash, the paymaster signer's over its hash) are
//! EIP-191 `personal_sign` of the 32-byte hash ([`sign_hash_eip191`]), which is what
//! `SimpleAccount._validateSignature` and `VerifyingPaymaster._validatePaymasterUserOp` check.
//!
//! **No ERC-1271.** SimpleAccount v0.7 implements no `isValidSignature`: a signature "from" the
//! account cannot be verified on chain (see docs/plans/sca.md).

use crate::error::ChainError;
use crate::keys::{evm_key, personal_message_hash, sign_evm_hash};
use alloy_primitives::aliases::U48;
use alloy_primitives::{address, b256, keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::{sol, SolCall as _, SolValue as _};
use std::sync::LazyLock;

sol! {
    /// ERC-4337 v0.7's `PackedUserOperation` (`interfaces/PackedUserOperation.sol`).
    #[derive(Debug, Default, PartialEq, Eq)]
    struct PackedUserOperation {
        address sender;
        uint256 nonce;
        bytes initCode;
        bytes callData;
        bytes32 accountGasLimits;
        uint256 preVerificationGas;
        bytes32 gasFees;
        bytes paymasterAndData;
        bytes signature;
    }

    /// The parts of `EntryPoint` v0.7 latchkey calls.
    interface IEntryPoint {
        function handleOps(PackedUserOperation[] ops, address beneficiary) external;
        function getUserOpHash(PackedUserOperation userOp) external view returns (bytes32);
        function getNonce(address sender, uint192 key) external view returns (uint256 nonce);
        function depositTo(address account) external payable;
        function balanceOf(address account) external view returns (uint256);
        event UserOperationEvent(bytes32 indexed userOpHash, address indexed sender, address indexed paymaster, uint256 nonce, bool success, uint256 actualGasCost, uint256 actualGasUsed);
        error FailedOp(uint256 opIndex, string reason);
        error FailedOpWithRevert(uint256 opIndex, string reason, bytes inner);
    }

    /// `samples/SimpleAccountFactory.sol` v0.7.
    interface ISimpleAccountFactory {
        function createAccount(address owner, uint256 salt) external returns (address ret);
        function getAddress(address owner, uint256 salt) external view returns (address);
        function accountImplementation() external view returns (address);
    }

    /// `samples/SimpleAccount.sol` v0.7.
    interface ISimpleAccount {
        function initialize(address anOwner) external;
        function execute(address dest, uint256 value, bytes func) external;
        function executeBatch(address[] dest, uint256[] value, bytes[] func) external;
        function owner() external view returns (address);
    }

    /// `samples/VerifyingPaymaster.sol` v0.7.
    interface IVerifyingPaymaster {
        function getHash(PackedUserOperation userOp, uint48 validUntil, uint48 validAfter) external view returns (bytes32);
        function verifyingSigner() external view returns (address);
        function deposit() external payable;
        function getDeposit() external view returns (uint256);
    }

    /// ERC-1271.
    interface IERC1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
    }
}

/// The deterministic deployment proxy (Arachnid's, the `CREATE2` factory of Foundry and
/// Hardhat, pre-deployed by anvil): calldata `salt ‖ initCode` deploys `initCode` with CREATE2.
pub const DETERMINISTIC_DEPLOYER: Address = address!("4e59b44847b379578588920ca78fbf26c0b4956c");

/// The runtime code of [`DETERMINISTIC_DEPLOYER`], for a local node that lacks it
/// (`anvil_setCode`).
pub const DETERMINISTIC_DEPLOYER_RUNTIME: &[u8] = &alloy_primitives::hex!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// EntryPoint v0.7's canonical address, the same on every chain.
pub const ENTRY_POINT_V07: Address = address!("0000000071727De22E5E9d8BAf0edAc6f37da032");

/// The salt that puts EntryPoint v0.7 at [`ENTRY_POINT_V07`] through [`DETERMINISTIC_DEPLOYER`].
pub const ENTRY_POINT_SALT: B256 =
    b256!("90d8084deab30c2a37c45e8d47f49f2f7965183cb6990a98943ef94940681de3");

/// SimpleAccountFactory v0.7's canonical address (constructed with [`ENTRY_POINT_V07`]).
pub const SIMPLE_ACCOUNT_FACTORY_V07: Address =
    address!("91E60e0613810449d098b0b5Ec8b51A0FE8c8985");

/// The salt of [`SIMPLE_ACCOUNT_FACTORY_V07`] (zero: hardhat-deploy's `deterministicDeployment:
/// true`).
pub const FACTORY_SALT: B256 = B256::ZERO;

/// The salt latchkey deploys the `VerifyingPaymaster` with (it has no canonical address: its
/// constructor takes the signer).
pub const PAYMASTER_SALT: B256 = B256::ZERO;

/// The EIP-1271 magic value (`isValidSignature`'s selector) for a valid signature.
pub const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

fn decoded(hex: &str) -> Vec<u8> {
    let hex = hex.trim();
    alloy_primitives::hex::decode(hex.strip_prefix("0x").unwrap_or(hex)).unwrap_or_default()
}

// The creation code of the package's artifacts (`contracts/build` writes, `--check` verifies).
// An undecodable file gives empty code, which the unit tests rule out.
static ENTRY_POINT_CODE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    decoded(include_str!(
        "../../../contracts/out/aa07.EntryPoint.creation.hex"
    ))
});
static FACTORY_CODE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    decoded(include_str!(
        "../../../contracts/out/aa07.SimpleAccountFactory.creation.hex"
    ))
});
static PAYMASTER_CODE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    decoded(include_str!(
        "../../../contracts/out/aa07.VerifyingPaymaster.creation.hex"
    ))
});
static PROXY_CODE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    decoded(include_str!(
        "../../../contracts/out/aa07.ERC1967Proxy.creation.hex"
    ))
});

/// EntryPoint v0.7's init code (no constructor arguments).
pub fn entry_point_init_code() -> Vec<u8> {
    ENTRY_POINT_CODE.clone()
}

/// SimpleAccountFactory v0.7's init code for `entry_point`.
pub fn simple_account_factory_init_code(entry_point: Address) -> Vec<u8> {
    let mut code = FACTORY_CODE.clone();
    code.extend(entry_point.abi_encode());
    code
}

/// The sample VerifyingPaymaster's init code, trusting `signer`'s sponsorship signatures.
pub fn verifying_paymaster_init_code(entry_point: Address, signer: Address) -> Vec<u8> {
    let mut code = PAYMASTER_CODE.clone();
    code.extend((entry_point, signer).abi_encode_params());
    code
}

/// The address [`DETERMINISTIC_DEPLOYER`] deploys `init_code` at with `salt`.
pub fn deterministic_address(salt: B256, init_code: &[u8]) -> Address {
    DETERMINISTIC_DEPLOYER.create2_from_code(salt, init_code)
}

/// The calldata of a deployment through [`DETERMINISTIC_DEPLOYER`]: `salt ‖ init_code`.
pub fn deterministic_deployment_data(salt: B256, init_code: &[u8]) -> Vec<u8> {
    let mut data = salt.to_vec();
    data.extend_from_slice(init_code);
    data
}

/// The `SimpleAccount` implementation a factory creates in its constructor (its first CREATE,
/// nonce 1).
pub fn simple_account_implementation(factory: Address) -> Address {
    factory.create(1)
}

/// The counterfactual address of the account of `owner` with `salt` (what
/// `factory.getAddress(owner, salt)` answers), computed offline: CREATE2 by the factory over
/// `ERC1967Proxy.creationCode ‖ abi.encode(implementation, initialize(owner))`.
pub fn simple_account_address(factory: Address, owner: Address, salt: U256) -> Address {
    let initialize = ISimpleAccount::initializeCall { anOwner: owner }.abi_encode();
    let mut code = PROXY_CODE.clone();
    code.extend(
        (
            simple_account_implementation(factory),
            Bytes::from(initialize),
        )
            .abi_encode_params(),
    );
    factory.create2_from_code(B256::from(salt), code)
}

/// `factory.createAccount(owner, salt)` calldata: v0.7's `factoryData`.
pub fn create_account_call(owner: Address, salt: U256) -> Vec<u8> {
    ISimpleAccountFactory::createAccountCall { owner, salt }.abi_encode()
}

/// A packed `initCode`: `factory ‖ factoryData` (empty for an account already deployed).
pub fn init_code(factory: Address, owner: Address, salt: U256) -> Vec<u8> {
    let mut code = factory.to_vec();
    code.extend(create_account_call(owner, salt));
    code
}

/// `SimpleAccount.execute(dest, value, func)` calldata: one call from the account.
pub fn execute_call(dest: Address, value: U256, func: &[u8]) -> Vec<u8> {
    ISimpleAccount::executeCall {
        dest,
        value,
        func: Bytes::copy_from_slice(func),
    }
    .abi_encode()
}

/// One call of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Called address.
    pub dest: Address,
    /// Native value in wei.
    pub value: U256,
    /// Calldata.
    pub func: Vec<u8>,
}

/// `SimpleAccount.executeBatch(dest[], value[], func[])` calldata. The value array is left
/// empty when every value is zero (the account then sends none, and it is shorter).
pub fn execute_batch_call(calls: &[Call]) -> Vec<u8> {
    let value = if calls.iter().all(|c| c.value.is_zero()) {
        Vec::new()
    } else {
        calls.iter().map(|c| c.value).collect()
    };
    ISimpleAccount::executeBatchCall {
        dest: calls.iter().map(|c| c.dest).collect(),
        value,
        func: calls
            .iter()
            .map(|c| Bytes::copy_from_slice(&c.func))
            .collect(),
    }
    .abi_encode()
}

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
    /// The factory's calldata ([`create_account_call`]).
    pub factory_data: Vec<u8>,
    /// The account's calldata ([`execute_call`], [`execute_batch_call`]).
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
    /// The account's signature over the userOpHash.
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

/// EIP-191 `personal_sign` of a 32-byte hash (`"\x19Ethereum Signed Message:\n32" ‖ hash`,
/// OpenZeppelin's `toEthSignedMessageHash(bytes32)`): 65 bytes r‖s‖v, v = 27/28. What the
/// account's owner signs the userOpHash with, and the paymaster's signer its hash.
pub fn sign_hash_eip191(secret: &[u8], hash: B256) -> Result<[u8; 65], ChainError> {
    sign_evm_hash(&evm_key(secret)?, &personal_message_hash(hash.as_slice()))
}

/// `isValidSignature(hash, signature)` calldata (ERC-1271).
pub fn is_valid_signature_call(hash: B256, signature: &[u8]) -> Vec<u8> {
    IERC1271::isValidSignatureCall {
        hash,
        signature: Bytes::copy_from_slice(signature),
    }
    .abi_encode()
}

#[cfg(test)]
#[path = "sca_tests.rs"]
mod tests;
