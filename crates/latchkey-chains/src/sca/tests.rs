//! Offline checks of the ERC-4337 v0.7 and Safe encodings, with vectors computed independently
//! with viem. The same functions are checked against the deployed contracts on anvil in
//! latchkey-evm's `tests/aa` (the Safe's address, getOperationHash, getUserOpHash, getHash,
//! getMessageHash, isValidSignature, a sponsored handleOps).

use super::*;
use crate::keys::recover_evm_address;
use alloy_primitives::hex;

/// The Safe of [`owner`] with the canonical contracts and salt 0 (viem, see above).
const SAFE_VECTOR_ADDRESS: Address = address!("FD8A78aE7924A1097C048672da0C131dC5e68C01");

fn owner() -> Address {
    address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
}

/// anvil's first key (the owner above).
fn owner_secret() -> Vec<u8> {
    hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").unwrap()
}

fn sample_op() -> UserOperation {
    let config = SafeAccountConfig::default();
    UserOperation {
        sender: safe_address(owner(), &config),
        nonce: U256::from(7u8),
        factory: Some(SAFE_PROXY_FACTORY_141),
        factory_data: create_safe_call(owner(), &config),
        call_data: execute_user_op_call(owner(), U256::from(1u8), &[0xab, 0xcd], Operation::Call),
        call_gas_limit: 100_000,
        verification_gas_limit: 500_000,
        pre_verification_gas: U256::from(60_000u32),
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        paymaster: Some(PaymasterFields {
            paymaster: address!("2222222222222222222222222222222222222222"),
            verification_gas_limit: 80_000,
            post_op_gas_limit: 1,
            data: verifying_paymaster_data(U48::from(0u8), U48::from(0u8), &[0u8; 65]),
        }),
        signature: vec![1; 65],
    }
}

#[test]
fn the_committed_bytecode_decodes() {
    let mut all = vec![
        ("EntryPoint", entry_point_init_code()),
        ("VerifyingPaymaster", PAYMASTER_CODE.clone()),
        ("SafeProxy", SAFE_PROXY_CODE.clone()),
        ("ERC-6492 validator", ERC6492_VALIDATOR_CODE.clone()),
    ];
    all.extend(safe_contracts().into_iter().map(|c| (c.name, c.init_code)));
    for (name, code) in all {
        assert!(code.len() > 200, "{name}: {} bytes", code.len());
        assert_eq!(code.first(), Some(&0x60), "{name} starts with PUSH1");
    }
}

#[test]
fn the_shipped_bytecode_lands_at_the_canonical_addresses() {
    assert_eq!(
        deterministic_address(ENTRY_POINT_SALT, &entry_point_init_code()),
        ENTRY_POINT_V07
    );
    let contracts = safe_contracts();
    assert_eq!(contracts.len(), 8);
    for c in contracts {
        assert_eq!(
            create2_proxy_address(c.deployer, c.salt, &c.init_code),
            c.address,
            "{}",
            c.name
        );
    }
}

#[test]
fn the_proxy_code_is_the_one_inside_the_factory() {
    let factory = SAFE_PROXY_FACTORY_CODE.clone();
    let proxy = SAFE_PROXY_CODE.clone();
    assert!(factory.windows(proxy.len()).any(|w| w == proxy.as_slice()));
}

#[test]
fn the_singleton_factory_has_presigned_deployments_for_the_sca_chains() {
    for chain in [
        1u64, 11155111, 137, 80002, 42161, 421614, 8453, 84532, 10, 31337,
    ] {
        let d = singleton_factory_deployment(chain).unwrap_or_else(|| panic!("{chain}"));
        assert_eq!(
            d.signer,
            address!("E1CB04A0fA36DdD16a06ea828007E35e1a3cBC37")
        );
        // The contract it creates is its signer's first (nonce 0).
        assert_eq!(d.signer.create(0), SAFE_SINGLETON_FACTORY);
        assert!(d.raw_transaction.len() > 100);
        assert!(d.cost() > U256::ZERO);
    }
    let amoy = singleton_factory_deployment(80_002).unwrap();
    assert_eq!((amoy.gas_price, amoy.gas_limit), (500_000_000_015, 95_392));
    assert_eq!(singleton_factory_deployment(999_999_999_999), None);
}

#[test]
fn deployment_data_is_salt_then_code() {
    let data = deterministic_deployment_data(ENTRY_POINT_SALT, &[0x60, 0x00]);
    assert_eq!(data.len(), 34);
    assert_eq!(&data[..32], ENTRY_POINT_SALT.as_slice());
    assert_eq!(&data[32..], &[0x60, 0x00]);
}

#[test]
fn the_safe_address_matches_an_independent_computation() {
    // viem's getContractAddress (CREATE2) over the same initializer, computed outside latchkey
    // (docs: contracts/README.md); the setup call is the package's buildInitParamsForConfig.
    let config = SafeAccountConfig::default();
    assert_eq!(safe_address(owner(), &config), SAFE_VECTOR_ADDRESS);
    let setup = ISafe::setupCall::abi_decode(&safe_setup_call(owner(), &config)).unwrap();
    assert_eq!(setup._owners, vec![owner()]);
    assert_eq!(setup._threshold, U256::from(1u8));
    assert_eq!(setup.to, SAFE_MODULE_SETUP_030);
    assert_eq!(setup.fallbackHandler, SAFE_4337_MODULE_030);
    let enable = ISafeModuleSetup::enableModulesCall::abi_decode(&setup.data).unwrap();
    assert_eq!(enable.modules, vec![SAFE_4337_MODULE_030]);
    let init = safe_init_code(owner(), &config);
    assert_eq!(&init[..20], SAFE_PROXY_FACTORY_141.as_slice());
    assert_eq!(&init[20..], create_safe_call(owner(), &config).as_slice());
}

#[test]
fn safe_addresses_depend_on_owner_salt_and_contracts() {
    let config = SafeAccountConfig::default();
    let a = safe_address(owner(), &config);
    for other in [
        SafeAccountConfig {
            salt_nonce: U256::from(1u8),
            ..config
        },
        SafeAccountConfig {
            singleton: SAFE_141,
            ..config
        },
        SafeAccountConfig {
            module: Address::ZERO,
            ..config
        },
    ] {
        assert_ne!(a, safe_address(owner(), &other));
    }
    assert_ne!(a, safe_address(Address::ZERO, &config));
}

#[test]
fn selectors_are_the_expected_ones() {
    let sel = |data: Vec<u8>| hex::encode(&data[..4]);
    assert_eq!(
        sel(execute_user_op_call(
            owner(),
            U256::ZERO,
            &[],
            Operation::Call
        )),
        "7bb37428"
    );
    assert_eq!(sel(execute_batch_call(&[])), "7bb37428");
    assert_eq!(sel(multi_send_call(&[])), "8d80ff0a");
    assert_eq!(
        sel(create_safe_call(owner(), &SafeAccountConfig::default())),
        "1688f0b9"
    );
    assert_eq!(
        sel(safe_setup_call(owner(), &SafeAccountConfig::default())),
        "b63e800d"
    );
    assert_eq!(sel(handle_ops_call(&[], owner())), "765e827f");
    assert_eq!(sel(deposit_to_call(owner())), "b760faf9");
    assert_eq!(sel(get_nonce_call(owner(), Default::default())), "35567e1a");
    assert_eq!(sel(is_valid_signature_call(B256::ZERO, &[])), "1626ba7e");
    assert_eq!(
        hex::encode(IEntryPoint::getUserOpHashCall::SELECTOR),
        "22cdde4c"
    );
}

#[test]
fn the_type_hashes_are_those_of_their_strings() {
    assert_eq!(
        DOMAIN_SEPARATOR_TYPEHASH,
        keccak256("EIP712Domain(uint256 chainId,address verifyingContract)")
    );
    assert_eq!(
        SAFE_OP_TYPEHASH,
        keccak256(
            "SafeOp(address safe,uint256 nonce,bytes initCode,bytes callData,uint128 \
             verificationGasLimit,uint128 callGasLimit,uint256 preVerificationGas,uint128 \
             maxPriorityFeePerGas,uint128 maxFeePerGas,bytes paymasterAndData,uint48 \
             validAfter,uint48 validUntil,address entryPoint)"
        )
    );
    assert_eq!(SAFE_MSG_TYPEHASH, keccak256("SafeMessage(bytes message)"));
}

#[test]
fn a_batch_is_a_delegate_call_of_multi_send_call_only() {
    let calls = vec![
        Call {
            dest: owner(),
            value: U256::ZERO,
            func: vec![1],
        },
        Call {
            dest: SAFE_141,
            value: U256::from(5u8),
            func: vec![],
        },
    ];
    let outer =
        ISafe4337Module::executeUserOpCall::abi_decode(&execute_batch_call(&calls)).unwrap();
    assert_eq!(outer.to, MULTI_SEND_CALL_ONLY_141);
    assert_eq!(outer.value, U256::ZERO);
    assert_eq!(outer.operation, 1);
    let inner = IMultiSend::multiSendCall::abi_decode(&outer.data).unwrap();
    // Each: operation(1) ‖ to(20) ‖ value(32) ‖ length(32) ‖ data.
    let t = inner.transactions;
    assert_eq!(t.len(), (85 + 1) + 85);
    assert_eq!(t[0], 0);
    assert_eq!(&t[1..21], owner().as_slice());
    assert_eq!(t[84], 1, "the first call's data length");
    assert_eq!(t[85], 1, "the first call's data");
    assert_eq!(t[86], 0);
    assert_eq!(&t[87..107], SAFE_141.as_slice());
    assert_eq!(t[138], 5, "the second call's value");
}

#[test]
fn packing_follows_the_v07_layout() {
    let op = sample_op();
    let packed = op.pack();
    // initCode = factory ‖ factoryData.
    assert_eq!(&packed.initCode[..20], SAFE_PROXY_FACTORY_141.as_slice());
    assert_eq!(&packed.initCode[20..], op.factory_data.as_slice());
    // accountGasLimits = verificationGasLimit ‖ callGasLimit; gasFees = priority ‖ max.
    assert_eq!(
        U256::from_be_bytes(packed.accountGasLimits.0),
        (U256::from(500_000u32) << 128) | U256::from(100_000u32)
    );
    assert_eq!(
        U256::from_be_bytes(packed.gasFees.0),
        (U256::from(1_000_000_000u64) << 128) | U256::from(3_000_000_000u64)
    );
    // paymasterAndData = paymaster(20) ‖ pmVerificationGas(16) ‖ postOpGas(16) ‖ validUntil,
    // validAfter (2 words) ‖ signature(65).
    let pmd = &packed.paymasterAndData;
    assert_eq!(pmd.len(), 20 + 16 + 16 + 64 + 65);
    assert_eq!(&pmd[..20], [0x22; 20].as_slice());
    assert_eq!(u128::from_be_bytes(pmd[20..36].try_into().unwrap()), 80_000);
    assert_eq!(u128::from_be_bytes(pmd[36..52].try_into().unwrap()), 1);
    // A deployed account's operation has no initCode, an unsponsored one no paymasterAndData.
    let plain = UserOperation {
        factory: None,
        paymaster: None,
        ..op
    }
    .pack();
    assert!(plain.initCode.is_empty() && plain.paymasterAndData.is_empty());
}

#[test]
fn the_user_op_hash_covers_everything_but_the_signature() {
    let op = sample_op();
    let h = |op: &UserOperation| user_op_hash(&op.pack(), ENTRY_POINT_V07, 80_002);
    let base = h(&op);
    assert_eq!(
        base,
        h(&UserOperation {
            signature: vec![],
            ..op.clone()
        })
    );
    assert_ne!(base, user_op_hash(&op.pack(), ENTRY_POINT_V07, 1));
    assert_ne!(base, user_op_hash(&op.pack(), Address::ZERO, 80_002));
    for changed in [
        UserOperation {
            nonce: U256::from(8u8),
            ..op.clone()
        },
        UserOperation {
            call_gas_limit: 100_001,
            ..op.clone()
        },
        UserOperation {
            factory: None,
            ..op.clone()
        },
        UserOperation {
            paymaster: None,
            ..op.clone()
        },
    ] {
        assert_ne!(base, h(&changed));
    }
}

#[test]
fn the_paymaster_hash_leaves_out_its_own_data_and_the_signature() {
    let op = sample_op();
    let zero = U48::from(0u8);
    let base = verifying_paymaster_hash(&op, 80_002, zero, zero).unwrap();
    let mut other = op.clone();
    other.signature = vec![];
    if let Some(pm) = other.paymaster.as_mut() {
        pm.data = verifying_paymaster_data(zero, zero, &[9; 65]);
    }
    assert_eq!(
        verifying_paymaster_hash(&other, 80_002, zero, zero),
        Some(base)
    );
    // It covers the validity window, the chain, and the paymaster's gas limits.
    assert_ne!(
        verifying_paymaster_hash(&op, 80_002, U48::from(1u8), zero),
        Some(base)
    );
    assert_ne!(verifying_paymaster_hash(&op, 1, zero, zero), Some(base));
    if let Some(pm) = other.paymaster.as_mut() {
        pm.post_op_gas_limit = 2;
    }
    assert_ne!(
        verifying_paymaster_hash(&other, 80_002, zero, zero),
        Some(base)
    );
    assert_eq!(
        verifying_paymaster_hash(
            &UserOperation {
                paymaster: None,
                ..op
            },
            80_002,
            zero,
            zero
        ),
        None
    );
}

#[test]
fn paymaster_data_is_two_words_then_the_signature() {
    let data = verifying_paymaster_data(U48::from(0x0102u16), U48::from(3u8), &[7; 65]);
    assert_eq!(data.len(), 64 + 65);
    assert_eq!(&data[30..32], &[1, 2]);
    assert_eq!(data[63], 3);
    assert_eq!(&data[64..], &[7; 65]);
}

#[test]
fn hashes_are_signed_with_eip191() {
    let secret = owner_secret();
    let hash = keccak256(b"user op");
    let sig = sign_hash_eip191(&secret, hash).unwrap();
    let signer =
        recover_evm_address(&personal_message_hash(hash.as_slice()), &hex::encode(sig)).unwrap();
    assert_eq!(signer, owner().to_checksum(None));
    assert!(matches!(sig[64], 27 | 28));
    assert!(sign_hash_eip191(&[0u8; 32], hash).is_err());
}

#[test]
fn the_safe_op_hash_matches_an_independent_computation() {
    // viem's hashTypedData of the module's SafeOp type with the sample operation, domain
    // {chainId 80002, the module}, validAfter 1 700 000 000, validUntil 1 800 000 000.
    let (after, until) = (U48::from(1_700_000_000u64), U48::from(1_800_000_000u64));
    let op = sample_op();
    let hash = safe_op_hash(
        &op,
        80_002,
        SAFE_4337_MODULE_030,
        ENTRY_POINT_V07,
        after,
        until,
    );
    assert_eq!(
        hash,
        b256!("4a2e254e636ce3a701cc402a52d29270443864ebf0c969f52ca13e411c58c4b2")
    );
    // The signature is not part of it; the window, chain, module and EntryPoint are.
    let unsigned = UserOperation {
        signature: vec![],
        ..op.clone()
    };
    assert_eq!(
        safe_op_hash(
            &unsigned,
            80_002,
            SAFE_4337_MODULE_030,
            ENTRY_POINT_V07,
            after,
            until
        ),
        hash
    );
    for other in [
        safe_op_hash(&op, 1, SAFE_4337_MODULE_030, ENTRY_POINT_V07, after, until),
        safe_op_hash(&op, 80_002, Address::ZERO, ENTRY_POINT_V07, after, until),
        safe_op_hash(
            &op,
            80_002,
            SAFE_4337_MODULE_030,
            Address::ZERO,
            after,
            until,
        ),
        safe_op_hash(
            &op,
            80_002,
            SAFE_4337_MODULE_030,
            ENTRY_POINT_V07,
            until,
            until,
        ),
        safe_op_hash(
            &op,
            80_002,
            SAFE_4337_MODULE_030,
            ENTRY_POINT_V07,
            after,
            after,
        ),
    ] {
        assert_ne!(other, hash);
    }
    // The owner's signature: window ‖ a raw ECDSA signature of the hash, v 27/28.
    let config = SafeAccountConfig::default();
    let sig = sign_safe_op(
        &owner_secret(),
        &op,
        80_002,
        &config,
        ENTRY_POINT_V07,
        after,
        until,
    )
    .unwrap();
    assert_eq!(sig.len(), 6 + 6 + 65);
    assert_eq!(&sig[..6], &after.to_be_bytes::<6>());
    assert_eq!(&sig[6..12], &until.to_be_bytes::<6>());
    assert!(matches!(sig[76], 27 | 28));
    assert_eq!(
        recover_evm_address(&hash.0, &hex::encode(&sig[12..])).unwrap(),
        owner().to_checksum(None)
    );
}

#[test]
fn the_safe_message_hash_matches_an_independent_computation() {
    // viem's hashTypedData({domain: {chainId: 80002, verifyingContract: safe}, SafeMessage(bytes
    // message)}, message = keccak256("hello")): what CompatibilityFallbackHandler.getMessageHash
    // computes for isValidSignature(keccak256("hello"), …).
    let hash = keccak256(b"hello");
    let safe_hash = safe_message_hash(SAFE_VECTOR_ADDRESS, 80_002, hash);
    assert_eq!(
        safe_hash,
        b256!("f2beb3563509bb6c3456853edc1db325daacd101f9f0b33001f4e44077ebbb03")
    );
    assert_ne!(safe_message_hash(SAFE_VECTOR_ADDRESS, 1, hash), safe_hash);
    assert_ne!(safe_message_hash(Address::ZERO, 80_002, hash), safe_hash);
    let sig = sign_for_safe(&owner_secret(), SAFE_VECTOR_ADDRESS, 80_002, hash).unwrap();
    assert_eq!(
        recover_evm_address(&safe_hash.0, &hex::encode(sig)).unwrap(),
        owner().to_checksum(None)
    );
}

#[test]
fn erc6492_wraps_factory_data_and_signature_with_the_magic_suffix() {
    let config = SafeAccountConfig::default();
    let factory_data = create_safe_call(owner(), &config);
    let wrapped = erc6492_wrap(SAFE_PROXY_FACTORY_141, &factory_data, &[7; 65]);
    assert_eq!(&wrapped[wrapped.len() - 32..], ERC6492_MAGIC.as_slice());
    let (factory, data, sig) =
        <(Address, Bytes, Bytes)>::abi_decode_params(&wrapped[..wrapped.len() - 32]).unwrap();
    assert_eq!(factory, SAFE_PROXY_FACTORY_141);
    assert_eq!(data.as_ref(), factory_data.as_slice());
    assert_eq!(sig.as_ref(), &[7; 65]);
    let call = erc6492_validation_call(owner(), B256::ZERO, &wrapped);
    assert!(call.starts_with(&ERC6492_VALIDATOR_CODE));
    assert_eq!(
        call.len(),
        ERC6492_VALIDATOR_CODE.len() + 3 * 32 + 32 + wrapped.len().div_ceil(32) * 32
    );
}

#[test]
fn a_bundles_operations_decode_from_its_calldata() {
    let op = sample_op().pack();
    let data = handle_ops_call(std::slice::from_ref(&op), owner());
    assert_eq!(decode_handle_ops(&data), Some(vec![op]));
    assert_eq!(decode_handle_ops(&deposit_to_call(owner())), None);
    assert_eq!(decode_handle_ops(&[]), None);
}
