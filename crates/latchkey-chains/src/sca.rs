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
            LazyLock::new(|| decoded(include_str!(concat!("../../../contracts/out/", $file))));
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
    include_str!("../../../contracts/out/safe-singleton-factory.json");

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

/// Which Safe a wallet's account is: the contracts it is created with, and its salt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeAccountConfig {
    /// The singleton behind the proxy ([`SAFE_L2_141`]).
    pub singleton: Address,
    /// The factory ([`SAFE_PROXY_FACTORY_141`]).
    pub proxy_factory: Address,
    /// The ERC-4337 module, enabled and set as fallback handler ([`SAFE_4337_MODULE_030`]).
    pub module: Address,
    /// The contract `setup` delegate-calls to enable the module ([`SAFE_MODULE_SETUP_030`]).
    pub module_setup: Address,
    /// `createProxyWithNonce`'s `saltNonce` (0: one account per owner).
    pub salt_nonce: U256,
}

impl Default for SafeAccountConfig {
    /// The canonical contracts, salt 0.
    fn default() -> Self {
        SafeAccountConfig {
            singleton: SAFE_L2_141,
            proxy_factory: SAFE_PROXY_FACTORY_141,
            module: SAFE_4337_MODULE_030,
            module_setup: SAFE_MODULE_SETUP_030,
            salt_nonce: U256::ZERO,
        }
    }
}

/// The Safe's `setup` call, the proxy's initializer, as Safe's 4337 module package builds it
/// (`buildInitParamsForConfig`): owners `[owner]`, threshold 1, a delegate call of
/// `SafeModuleSetup.enableModules([module])`, the module as fallback handler, no payment.
pub fn safe_setup_call(owner: Address, config: &SafeAccountConfig) -> Vec<u8> {
    ISafe::setupCall {
        _owners: vec![owner],
        _threshold: U256::from(1u8),
        to: config.module_setup,
        data: ISafeModuleSetup::enableModulesCall {
            modules: vec![config.module],
        }
        .abi_encode()
        .into(),
        fallbackHandler: config.module,
        paymentToken: Address::ZERO,
        payment: U256::ZERO,
        paymentReceiver: Address::ZERO,
    }
    .abi_encode()
}

/// The counterfactual address of `owner`'s Safe, computed offline as `SafeProxyFactory`'s
/// `createProxyWithNonce` deploys it: CREATE2 by the factory, salt `keccak256(keccak256(
/// initializer) ‖ saltNonce)`, over `SafeProxy.creationCode ‖ uint256(singleton)`.
pub fn safe_address(owner: Address, config: &SafeAccountConfig) -> Address {
    let initializer = safe_setup_call(owner, config);
    let salt = keccak256((keccak256(&initializer), config.salt_nonce).abi_encode_packed());
    let mut code = SAFE_PROXY_CODE.clone();
    code.extend(config.singleton.abi_encode());
    config.proxy_factory.create2_from_code(salt, code)
}

/// `SafeProxyFactory.createProxyWithNonce(singleton, setup, saltNonce)` calldata: the
/// operation's `factoryData` (and ERC-6492's factory calldata).
pub fn create_safe_call(owner: Address, config: &SafeAccountConfig) -> Vec<u8> {
    ISafeProxyFactory::createProxyWithNonceCall {
        _singleton: config.singleton,
        initializer: safe_setup_call(owner, config).into(),
        saltNonce: config.salt_nonce,
    }
    .abi_encode()
}

/// A packed `initCode`: `proxyFactory ‖ factoryData`.
pub fn safe_init_code(owner: Address, config: &SafeAccountConfig) -> Vec<u8> {
    let mut code = config.proxy_factory.to_vec();
    code.extend(create_safe_call(owner, config));
    code
}

/// How the Safe runs a call (Safe's `Enum.Operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A plain call.
    Call = 0,
    /// A delegate call (the Safe runs the target's code as itself: only for MultiSend).
    DelegateCall = 1,
}

/// `Safe4337Module.executeUserOp(to, value, data, operation)` calldata: the operation's
/// `callData`, one call from the Safe.
pub fn execute_user_op_call(
    to: Address,
    value: U256,
    data: &[u8],
    operation: Operation,
) -> Vec<u8> {
    ISafe4337Module::executeUserOpCall {
        to,
        value,
        data: Bytes::copy_from_slice(data),
        operation: operation as u8,
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

/// `MultiSendCallOnly.multiSend(transactions)` calldata: each call packed as `uint8 operation
/// (0) ‖ address to ‖ uint256 value ‖ uint256 data length ‖ data`.
pub fn multi_send_call(calls: &[Call]) -> Vec<u8> {
    let mut packed = Vec::new();
    for call in calls {
        packed.push(Operation::Call as u8);
        packed.extend_from_slice(call.dest.as_slice());
        packed.extend_from_slice(&call.value.to_be_bytes::<32>());
        packed.extend_from_slice(&U256::from(call.func.len()).to_be_bytes::<32>());
        packed.extend_from_slice(&call.func);
    }
    IMultiSend::multiSendCall {
        transactions: packed.into(),
    }
    .abi_encode()
}

/// A batch as an operation's `callData`: `executeUserOp(MultiSendCallOnly, 0, multiSend(calls),
/// DelegateCall)`. Run as the Safe's own code, each call's value comes from the Safe's balance.
pub fn execute_batch_call(calls: &[Call]) -> Vec<u8> {
    execute_user_op_call(
        MULTI_SEND_CALL_ONLY_141,
        U256::ZERO,
        &multi_send_call(calls),
        Operation::DelegateCall,
    )
}

/// The EIP-712 domain separator `{chainId, verifyingContract}` of the module's `SafeOp`
/// (verifying contract: the module) and of a Safe's `SafeMessage` (the Safe).
pub fn domain_separator(chain_id: u64, verifying_contract: Address) -> B256 {
    keccak256(
        (
            DOMAIN_SEPARATOR_TYPEHASH,
            U256::from(chain_id),
            verifying_contract,
        )
            .abi_encode_params(),
    )
}

fn eip712_digest(domain: B256, struct_hash: B256) -> B256 {
    let mut data = vec![0x19, 0x01];
    data.extend_from_slice(domain.as_slice());
    data.extend_from_slice(struct_hash.as_slice());
    keccak256(data)
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

#[cfg(test)]
#[path = "sca_tests.rs"]
mod tests;
