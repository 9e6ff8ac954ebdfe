//! The Safe account: its setup, counterfactual address, initCode and the calls it executes.

use super::*;

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
