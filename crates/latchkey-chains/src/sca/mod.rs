//! Smart-contract accounts (Circle's `accountType: "SCA"`): the pure ERC-4337 v0.7 encodings,
//! with no node involved.
//!
//! The account is a **Safe 1.4.1** (`SafeL2`, through a `SafeProxy`) with one owner, the
//! wallet's secp256k1 key, and the **Safe4337Module 0.3.0** enabled as module and fallback
//! handler, driven through `EntryPoint` v0.7. Safe was chosen over `SimpleAccount` v0.7 because
//! it verifies signatures on chain (ERC-1271 `isValidSignature`, which the module inherits from
//! Safe's `CompatibilityFallbackHandler`); see docs/plans/sca.md.
//!
//! The creation code of every contract is the one its npm package ships (copied by
//! `contracts/build` into `contracts/out/`, never recompiled), so the contracts land at their
//! canonical addresses on a local node, and an account's address is that of every public chain:
//!
//! - Safe 1.4.1's contracts (`@safe-global/safe-contracts` 1.4.1) through the Safe singleton
//!   factory [`SAFE_SINGLETON_FACTORY`] with salt 0 ([`safe_contracts`]);
//! - the module and `SafeModuleSetup` (`@safe-global/safe-4337` 0.3.0), and EntryPoint v0.7
//!   (`@account-abstraction/contracts` 0.7.0), through the deterministic deployment proxy
//!   [`DETERMINISTIC_DEPLOYER`].
//!
//! What is here:
//!
//! - the account: its counterfactual address ([`safe_address`], offline: CREATE2 by the
//!   `SafeProxyFactory` over the proxy's creation code), `initCode` ([`safe_init_code`]), the
//!   operation's `callData` ([`execute_user_op_call`], [`execute_batch_call`]);
//! - the `PackedUserOperation`, its v0.7 hash ([`user_op_hash`]), `handleOps` calldata;
//! - the owner's signature of an operation: the module's EIP-712 `SafeOp` hash
//!   ([`safe_op_hash`]), signed raw (no EIP-191 prefix), prefixed with the validity window
//!   ([`safe_op_signature`]);
//! - ERC-1271: the `SafeMessage` hash a Safe checks in `isValidSignature(hash, sig)`
//!   ([`safe_message_hash`], [`sign_for_safe`]); ERC-6492 for a Safe not yet deployed
//!   ([`erc6492_wrap`], [`erc6492_validation_call`]);
//! - the sample `VerifyingPaymaster`'s `paymasterAndData` and the hash its signer signs with
//!   EIP-191 ([`verifying_paymaster_hash`], [`sign_hash_eip191`]).

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

    /// `Safe` 1.4.1 (and `SafeL2`): the parts latchkey encodes or reads.
    interface ISafe {
        function setup(address[] _owners, uint256 _threshold, address to, bytes data, address fallbackHandler, address paymentToken, uint256 payment, address paymentReceiver) external;
        function getOwners() external view returns (address[]);
        function getThreshold() external view returns (uint256);
        function isModuleEnabled(address module) external view returns (bool);
        function domainSeparator() external view returns (bytes32);
        function VERSION() external view returns (string);
    }

    /// `SafeProxyFactory` 1.4.1.
    interface ISafeProxyFactory {
        function createProxyWithNonce(address _singleton, bytes initializer, uint256 saltNonce) external returns (address proxy);
        function proxyCreationCode() external pure returns (bytes);
    }

    /// `SafeModuleSetup` 0.3.0 (delegate-called by `Safe.setup`).
    interface ISafeModuleSetup {
        function enableModules(address[] modules) external;
    }

    /// `Safe4337Module` 0.3.0 (the module, and each Safe's fallback handler).
    interface ISafe4337Module {
        function executeUserOp(address to, uint256 value, bytes data, uint8 operation) external;
        function executeUserOpWithErrorString(address to, uint256 value, bytes data, uint8 operation) external;
        function getOperationHash(PackedUserOperation userOp) external view returns (bytes32 operationHash);
        function domainSeparator() external view returns (bytes32);
        function SUPPORTED_ENTRYPOINT() external view returns (address);
    }

    /// `CompatibilityFallbackHandler` 1.4.1's message hashing, which the module inherits and a
    /// Safe answers through its fallback.
    interface ICompatibilityFallbackHandler {
        function getMessageHash(bytes message) external view returns (bytes32);
        function getMessageHashForSafe(address safe, bytes message) external view returns (bytes32);
    }

    /// `MultiSendCallOnly` 1.4.1 (delegate-called by the Safe for a batch).
    interface IMultiSend {
        function multiSend(bytes transactions) external payable;
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
/// (`anvil_setCode`). The Safe singleton factory's runtime code is the same.
pub const DETERMINISTIC_DEPLOYER_RUNTIME: &[u8] = &alloy_primitives::hex!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// The Safe singleton factory (`@safe-global/safe-singleton-factory`): the same `salt ‖
/// initCode` CREATE2 proxy, deployed on each chain by a presigned transaction
/// ([`singleton_factory_deployment`]). Safe 1.4.1's contracts are deployed through it.
pub const SAFE_SINGLETON_FACTORY: Address = address!("914d7Fec6aaC8cd542e72Bca78B30650d45643d7");

/// EntryPoint v0.7's canonical address, the same on every chain.
pub const ENTRY_POINT_V07: Address = address!("0000000071727De22E5E9d8BAf0edAc6f37da032");

/// The salt that puts EntryPoint v0.7 at [`ENTRY_POINT_V07`] through [`DETERMINISTIC_DEPLOYER`].
pub const ENTRY_POINT_SALT: B256 =
    b256!("90d8084deab30c2a37c45e8d47f49f2f7965183cb6990a98943ef94940681de3");

/// `Safe` 1.4.1 (the singleton without events; Safe uses it on Ethereum mainnet).
pub const SAFE_141: Address = address!("41675C099F32341bf84BFc5382aF534df5C7461a");
/// `SafeL2` 1.4.1 (the singleton that also emits events for indexers): latchkey's accounts.
pub const SAFE_L2_141: Address = address!("29fcB43b46531BcA003ddC8FCB67FFE91900C762");
/// `SafeProxyFactory` 1.4.1.
pub const SAFE_PROXY_FACTORY_141: Address = address!("4e1DCf7AD4e460CfD30791CCC4F9c8a4f820ec67");
/// `CompatibilityFallbackHandler` 1.4.1 (deployed for completeness; the accounts use the
/// module, which inherits it, as their fallback handler).
pub const COMPATIBILITY_FALLBACK_HANDLER_141: Address =
    address!("fd0732Dc9E303f09fCEf3a7388Ad10A83459Ec99");
/// `MultiSend` 1.4.1.
pub const MULTI_SEND_141: Address = address!("38869bf66a61cF6bDB996A6aE40D5853Fd43B526");
/// `MultiSendCallOnly` 1.4.1: what a batch is delegate-called through.
pub const MULTI_SEND_CALL_ONLY_141: Address = address!("9641d764fc13c8B624c04430C7356C1C7C8102e2");
/// `Safe4337Module` 0.3.0 (constructed with [`ENTRY_POINT_V07`]).
pub const SAFE_4337_MODULE_030: Address = address!("75cf11467937ce3F2f357CE24ffc3DBF8fD5c226");
/// `SafeModuleSetup` 0.3.0.
pub const SAFE_MODULE_SETUP_030: Address = address!("2dd68b007B46fBe91B9A7c3EDa5A7a1063cB5b47");

/// The salt latchkey deploys the `VerifyingPaymaster` with (it has no canonical address: its
/// constructor takes the signer).
pub const PAYMASTER_SALT: B256 = B256::ZERO;

/// The EIP-1271 magic value (`isValidSignature(bytes32,bytes)`'s selector) for a valid
/// signature.
pub const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

/// The suffix that marks an ERC-6492 signature (`0x6492` sixteen times).
pub const ERC6492_MAGIC: B256 =
    b256!("6492649264926492649264926492649264926492649264926492649264926492");

/// `keccak256("EIP712Domain(uint256 chainId,address verifyingContract)")`: the domain of both
/// the module's `SafeOp` and a Safe's `SafeMessage`.
const DOMAIN_SEPARATOR_TYPEHASH: B256 =
    b256!("47e79534a245952e8b16893a336b85a3d9ea9fa8c573f3d803afb92a79469218");

/// `keccak256("SafeOp(address safe,uint256 nonce,bytes initCode,bytes callData,uint128
/// verificationGasLimit,uint128 callGasLimit,uint256 preVerificationGas,uint128
/// maxPriorityFeePerGas,uint128 maxFeePerGas,bytes paymasterAndData,uint48 validAfter,uint48
/// validUntil,address entryPoint)")`.
const SAFE_OP_TYPEHASH: B256 =
    b256!("c03dfc11d8b10bf9cf703d558958c8c42777f785d998c62060d85a4f0ef6ea7f");

/// `keccak256("SafeMessage(bytes message)")`.
const SAFE_MSG_TYPEHASH: B256 =
    b256!("60b3cbf8b4a223d68d641b3b6ddf9a298e7f33710cf3d3a9d1146b5a6150fbca");

fn decoded(hex: &str) -> Vec<u8> {
    let hex = hex.trim();
    alloy_primitives::hex::decode(hex.strip_prefix("0x").unwrap_or(hex)).unwrap_or_default()
}

// The creation code of the packages' artifacts (`contracts/build` writes, `--check` verifies).
// An undecodable file gives empty code, which the unit tests rule out.
macro_rules! artifact {
    ($name:ident, $file:literal) => {
        static $name: LazyLock<Vec<u8>> =
            LazyLock::new(|| decoded(include_str!(concat!("../../../../contracts/out/", $file))));
    };
}
artifact!(ENTRY_POINT_CODE, "aa07.EntryPoint.creation.hex");
artifact!(PAYMASTER_CODE, "aa07.VerifyingPaymaster.creation.hex");
artifact!(SAFE_CODE, "safe141.Safe.creation.hex");
artifact!(SAFE_L2_CODE, "safe141.SafeL2.creation.hex");
artifact!(
    SAFE_PROXY_FACTORY_CODE,
    "safe141.SafeProxyFactory.creation.hex"
);
artifact!(SAFE_PROXY_CODE, "safe141.SafeProxy.creation.hex");
artifact!(
    COMPATIBILITY_FALLBACK_HANDLER_CODE,
    "safe141.CompatibilityFallbackHandler.creation.hex"
);
artifact!(MULTI_SEND_CODE, "safe141.MultiSend.creation.hex");
artifact!(
    MULTI_SEND_CALL_ONLY_CODE,
    "safe141.MultiSendCallOnly.creation.hex"
);
artifact!(
    SAFE_4337_MODULE_CODE,
    "safe4337.Safe4337Module.creation.hex"
);
artifact!(
    SAFE_MODULE_SETUP_CODE,
    "safe4337.SafeModuleSetup.creation.hex"
);
artifact!(
    ERC6492_VALIDATOR_CODE,
    "erc6492.ValidateSigOffchain.creation.hex"
);
static SINGLETON_FACTORY_JSON: &str =
    include_str!("../../../../contracts/out/safe-singleton-factory.json");

/// EntryPoint v0.7's init code (no constructor arguments).
pub fn entry_point_init_code() -> Vec<u8> {
    ENTRY_POINT_CODE.clone()
}

/// The sample VerifyingPaymaster's init code, trusting `signer`'s sponsorship signatures.
pub fn verifying_paymaster_init_code(entry_point: Address, signer: Address) -> Vec<u8> {
    let mut code = PAYMASTER_CODE.clone();
    code.extend((entry_point, signer).abi_encode_params());
    code
}

/// The address the CREATE2 proxy `deployer` ([`DETERMINISTIC_DEPLOYER`] or
/// [`SAFE_SINGLETON_FACTORY`]) deploys `init_code` at with `salt`.
pub fn create2_proxy_address(deployer: Address, salt: B256, init_code: &[u8]) -> Address {
    deployer.create2_from_code(salt, init_code)
}

/// The address [`DETERMINISTIC_DEPLOYER`] deploys `init_code` at with `salt`.
pub fn deterministic_address(salt: B256, init_code: &[u8]) -> Address {
    create2_proxy_address(DETERMINISTIC_DEPLOYER, salt, init_code)
}

/// The calldata of a deployment through a CREATE2 proxy: `salt ‖ init_code`.
pub fn deterministic_deployment_data(salt: B256, init_code: &[u8]) -> Vec<u8> {
    let mut data = salt.to_vec();
    data.extend_from_slice(init_code);
    data
}

/// A contract with a canonical address: deployed by a CREATE2 proxy with a salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalContract {
    /// Its name and version, for messages.
    pub name: &'static str,
    /// The CREATE2 proxy that deploys it.
    pub deployer: Address,
    /// The salt.
    pub salt: B256,
    /// Its creation code (with constructor arguments).
    pub init_code: Vec<u8>,
    /// Where Safe's deployments list it.
    pub address: Address,
}

/// Safe's contracts an account needs, in deployment order, with the addresses
/// `@safe-global/safe-deployments` and `@safe-global/safe-modules-deployments` list: Safe 1.4.1
/// through [`SAFE_SINGLETON_FACTORY`], the 4337 module 0.3.0 (for [`ENTRY_POINT_V07`]) and its
/// setup through [`DETERMINISTIC_DEPLOYER`], all with salt 0. `sca_tests` checks that each
/// `init_code` lands at `address`.
pub fn safe_contracts() -> Vec<CanonicalContract> {
    let mut module = SAFE_4337_MODULE_CODE.clone();
    module.extend(ENTRY_POINT_V07.abi_encode());
    let by_factory = |name, init_code: &Vec<u8>, address| CanonicalContract {
        name,
        deployer: SAFE_SINGLETON_FACTORY,
        salt: B256::ZERO,
        init_code: init_code.clone(),
        address,
    };
    vec![
        by_factory("Safe 1.4.1", &SAFE_CODE, SAFE_141),
        by_factory("SafeL2 1.4.1", &SAFE_L2_CODE, SAFE_L2_141),
        by_factory(
            "SafeProxyFactory 1.4.1",
            &SAFE_PROXY_FACTORY_CODE,
            SAFE_PROXY_FACTORY_141,
        ),
        by_factory(
            "CompatibilityFallbackHandler 1.4.1",
            &COMPATIBILITY_FALLBACK_HANDLER_CODE,
            COMPATIBILITY_FALLBACK_HANDLER_141,
        ),
        by_factory("MultiSend 1.4.1", &MULTI_SEND_CODE, MULTI_SEND_141),
        by_factory(
            "MultiSendCallOnly 1.4.1",
            &MULTI_SEND_CALL_ONLY_CODE,
            MULTI_SEND_CALL_ONLY_141,
        ),
        CanonicalContract {
            name: "Safe4337Module 0.3.0",
            deployer: DETERMINISTIC_DEPLOYER,
            salt: B256::ZERO,
            init_code: module,
            address: SAFE_4337_MODULE_030,
        },
        CanonicalContract {
            name: "SafeModuleSetup 0.3.0",
            deployer: DETERMINISTIC_DEPLOYER,
            salt: B256::ZERO,
            init_code: SAFE_MODULE_SETUP_CODE.clone(),
            address: SAFE_MODULE_SETUP_030,
        },
    ]
}

/// The presigned transaction that deploys [`SAFE_SINGLETON_FACTORY`] on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingletonFactoryDeployment {
    /// The one-time signer, which must hold `gas_price × gas_limit` and have nonce 0.
    pub signer: Address,
    /// The transaction's (legacy) gas price.
    pub gas_price: u128,
    /// Its gas limit.
    pub gas_limit: u64,
    /// The signed transaction, ready for `eth_sendRawTransaction`.
    pub raw_transaction: Vec<u8>,
}

impl SingletonFactoryDeployment {
    /// What the signer must hold for the transaction: `gas_price × gas_limit`.
    pub fn cost(&self) -> U256 {
        U256::from(self.gas_price) * U256::from(self.gas_limit)
    }
}

/// The presigned deployment of [`SAFE_SINGLETON_FACTORY`] for `chain_id`, from
/// `@safe-global/safe-singleton-factory` (`contracts/out/safe-singleton-factory.json` keeps
/// Circle's SCA chains and 31337); `None` for another chain.
pub fn singleton_factory_deployment(chain_id: u64) -> Option<SingletonFactoryDeployment> {
    let all: serde_json::Value = serde_json::from_str(SINGLETON_FACTORY_JSON).ok()?;
    let entry = all.get("chains")?.get(chain_id.to_string())?;
    let text = |key: &str| entry.get(key).and_then(serde_json::Value::as_str);
    Some(SingletonFactoryDeployment {
        signer: text("signerAddress")?.parse().ok()?,
        gas_price: text("gasPrice")?.parse().ok()?,
        gas_limit: text("gasLimit")?.parse().ok()?,
        raw_transaction: Some(decoded(text("transaction")?)).filter(|t| !t.is_empty())?,
    })
}
mod account;
mod signatures;
mod user_op;

pub use account::*;
pub use signatures::*;
pub use user_op::*;

#[cfg(test)]
mod tests;
