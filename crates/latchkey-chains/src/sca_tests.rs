//! Offline checks of the ERC-4337 v0.7 encodings. The same functions are checked against the
//! deployed contracts on anvil in latchkey-evm's `tests/aa` (getAddress, getUserOpHash,
//! getHash, a sponsored handleOps).

use super::*;
use crate::keys::recover_evm_address;
use alloy_primitives::hex;

fn owner() -> Address {
    address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
}

fn sample_op() -> UserOperation {
    UserOperation {
        sender: address!("1111111111111111111111111111111111111111"),
        nonce: U256::from(7u8),
        factory: Some(SIMPLE_ACCOUNT_FACTORY_V07),
        factory_data: create_account_call(owner(), U256::ZERO),
        call_data: execute_call(owner(), U256::from(1u8), &[0xab, 0xcd]),
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
    for (name, code) in [
        ("EntryPoint", entry_point_init_code()),
        ("SimpleAccountFactory", FACTORY_CODE.clone()),
        ("VerifyingPaymaster", PAYMASTER_CODE.clone()),
        ("ERC1967Proxy", PROXY_CODE.clone()),
    ] {
        assert!(code.len() > 500, "{name}: {} bytes", code.len());
        assert_eq!(code.first(), Some(&0x60), "{name} starts with PUSH1");
    }
}

#[test]
fn the_shipped_bytecode_lands_at_the_canonical_addresses() {
    assert_eq!(
        deterministic_address(ENTRY_POINT_SALT, &entry_point_init_code()),
        ENTRY_POINT_V07
    );
    assert_eq!(
        deterministic_address(
            FACTORY_SALT,
            &simple_account_factory_init_code(ENTRY_POINT_V07)
        ),
        SIMPLE_ACCOUNT_FACTORY_V07
    );
    // The implementation every v0.7 SimpleAccount proxy points at (the factory's first CREATE).
    assert_eq!(
        simple_account_implementation(SIMPLE_ACCOUNT_FACTORY_V07),
        address!("68641de71cfea5a5d0d29712449ee254bb1400c2")
    );
}

#[test]
fn the_proxy_code_is_the_one_inside_the_factory() {
    let factory = FACTORY_CODE.clone();
    let proxy = PROXY_CODE.clone();
    assert!(factory.windows(proxy.len()).any(|w| w == proxy.as_slice()));
}

#[test]
fn deployment_data_is_salt_then_code() {
    let data = deterministic_deployment_data(ENTRY_POINT_SALT, &[0x60, 0x00]);
    assert_eq!(data.len(), 34);
    assert_eq!(&data[..32], ENTRY_POINT_SALT.as_slice());
    assert_eq!(&data[32..], &[0x60, 0x00]);
}

#[test]
fn account_addresses_depend_on_owner_salt_and_factory() {
    let a = simple_account_address(SIMPLE_ACCOUNT_FACTORY_V07, owner(), U256::ZERO);
    assert_ne!(
        a,
        simple_account_address(SIMPLE_ACCOUNT_FACTORY_V07, owner(), U256::from(1u8))
    );
    assert_ne!(
        a,
        simple_account_address(SIMPLE_ACCOUNT_FACTORY_V07, Address::ZERO, U256::ZERO)
    );
    assert_ne!(
        a,
        simple_account_address(Address::ZERO, owner(), U256::ZERO)
    );
}

#[test]
fn selectors_are_the_v07_ones() {
    let sel = |data: Vec<u8>| hex::encode(&data[..4]);
    assert_eq!(sel(execute_call(owner(), U256::ZERO, &[])), "b61d27f6");
    assert_eq!(sel(execute_batch_call(&[])), "47e1da2a");
    assert_eq!(sel(create_account_call(owner(), U256::ZERO)), "5fbfb9cf");
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
fn batches_without_value_send_an_empty_value_array() {
    let calls = |value: u8| {
        vec![
            Call {
                dest: owner(),
                value: U256::ZERO,
                func: vec![1],
            },
            Call {
                dest: owner(),
                value: U256::from(value),
                func: vec![2],
            },
        ]
    };
    let decoded = |data: Vec<u8>| ISimpleAccount::executeBatchCall::abi_decode(&data).unwrap();
    let free = decoded(execute_batch_call(&calls(0)));
    assert!(free.value.is_empty());
    assert_eq!(free.dest.len(), 2);
    let paid = decoded(execute_batch_call(&calls(5)));
    assert_eq!(paid.value, vec![U256::ZERO, U256::from(5u8)]);
}

#[test]
fn packing_follows_the_v07_layout() {
    let op = sample_op();
    let packed = op.pack();
    // initCode = factory ‖ factoryData.
    assert_eq!(
        &packed.initCode[..20],
        SIMPLE_ACCOUNT_FACTORY_V07.as_slice()
    );
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
    // anvil's first key.
    let secret =
        hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").unwrap();
    let hash = keccak256(b"user op");
    let sig = sign_hash_eip191(&secret, hash).unwrap();
    let signer =
        recover_evm_address(&personal_message_hash(hash.as_slice()), &hex::encode(sig)).unwrap();
    assert_eq!(signer, owner().to_checksum(None));
    assert!(matches!(sig[64], 27 | 28));
    assert!(sign_hash_eip191(&[0u8; 32], hash).is_err());
}
