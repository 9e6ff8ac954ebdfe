use super::*;
use crate::keys::address;
use crate::Family;

// The example of EIP-155 itself.
const EIP155_UNSIGNED: &str =
    "0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
const EIP155_SIGNED: &str = "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";
const EIP155_KEY: [u8; 32] = [0x46; 32];
const ANVIL0: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn raw(s: &str) -> EvmTxInput {
    EvmTxInput::Raw(s.to_owned())
}

fn json(v: Value) -> EvmTxInput {
    EvmTxInput::Json(v.to_string())
}

fn anvil0() -> Vec<u8> {
    hex::decode(ANVIL0).unwrap()
}

fn code(r: Result<SignedTx, ChainError>) -> i64 {
    r.unwrap_err().code
}

#[test]
fn eip155_example_raw_json_and_pre155_all_sign_identically() {
    let signed = sign_evm_transaction(&EIP155_KEY, &raw(EIP155_UNSIGNED), Some(1)).unwrap();
    assert_eq!(signed.signed_transaction, EIP155_SIGNED);
    assert_eq!(
        signed.signature,
        "0x28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276\
         67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83\
         1b"
    );
    let hash = keccak256(hex::decode(&EIP155_SIGNED[2..]).unwrap());
    assert_eq!(signed.tx_hash, format!("0x{}", hex::encode(hash)));

    // No wallet chain: the transaction's own chain id is used.
    let generic = sign_evm_transaction(&EIP155_KEY, &raw(EIP155_UNSIGNED), None).unwrap();
    assert_eq!(generic, signed);

    let from_json = sign_evm_transaction(
        &EIP155_KEY,
        &json(serde_json::json!({
            "nonce": 9,
            "gasPrice": "20000000000",
            "gas": "0x5208",
            "to": "0x3535353535353535353535353535353535353535",
            "value": "1000000000000000000",
            "chainId": 1
        })),
        Some(1),
    )
    .unwrap();
    assert_eq!(from_json, signed);

    // Pre-EIP-155 6-field list: signed for the wallet's chain.
    let pre155 =
        "0xe9098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080";
    assert_eq!(
        sign_evm_transaction(&EIP155_KEY, &raw(pre155), Some(1)).unwrap(),
        signed
    );
    assert_eq!(
        code(sign_evm_transaction(&EIP155_KEY, &raw(pre155), None)),
        codes::MISSING_CHAIN_ID
    );

    assert_eq!(
        recover_evm_transaction_sender(EIP155_SIGNED).unwrap(),
        address(Family::Evm, &EIP155_KEY).unwrap()
    );
}

#[test]
fn chain_id_rules() {
    assert_eq!(
        code(sign_evm_transaction(
            &EIP155_KEY,
            &raw(EIP155_UNSIGNED),
            Some(11_155_111)
        )),
        codes::CHAIN_ID_MISMATCH
    );
    let no_chain = serde_json::json!({"nonce": 0, "gas": 21000, "gasPrice": 1, "to": null});
    assert_eq!(
        code(sign_evm_transaction(
            &EIP155_KEY,
            &json(no_chain.clone()),
            None
        )),
        codes::MISSING_CHAIN_ID
    );
    let s = sign_evm_transaction(&EIP155_KEY, &json(no_chain), Some(31337)).unwrap();
    let (tx, sig) = decode_raw(&decode_hex(&s.signed_transaction).unwrap()).unwrap();
    assert_eq!(tx.chain_id, Some(31337));
    assert!(sig.is_some());
    assert_eq!(tx.to, None);
}

#[test]
fn legacy_chain_id_must_fit_eip155_v() {
    // Found by fuzz/ (evm_transaction): v = 35 + 2·chainId overflowed u64.
    let legacy = |chain_id: u64| {
        json(serde_json::json!({"nonce": 0, "gas": 21000, "gasPrice": 1,
            "chainId": chain_id.to_string()}))
    };
    let too_large = (u64::MAX - 36) / 2 + 1;
    for chain_id in [too_large, u64::MAX] {
        assert_eq!(
            code(sign_evm_transaction(&EIP155_KEY, &legacy(chain_id), None)),
            codes::INVALID_TRANSACTION
        );
    }
    let largest = sign_evm_transaction(&EIP155_KEY, &legacy(too_large - 1), None).unwrap();
    assert_eq!(
        recover_evm_transaction_sender(&largest.signed_transaction).unwrap(),
        address(Family::Evm, &EIP155_KEY).unwrap()
    );
    // Typed transactions carry the chain id as is: any u64 signs.
    let typed = json(serde_json::json!({"type": 2, "nonce": 0, "gas": 21000,
        "maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "chainId": u64::MAX.to_string()}));
    assert!(sign_evm_transaction(&EIP155_KEY, &typed, None).is_ok());
}

#[test]
fn eip1559_json_and_raw_round_trip() {
    let key = anvil0();
    let tx = serde_json::json!({
        "type": 2,
        "chainId": "31337",
        "nonce": "0x0",
        "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "value": "1000000000000000000",
        "gasLimit": 21000,
        "maxFeePerGas": "2000000000",
        "maxPriorityFeePerGas": "1000000000",
        "data": "0x",
        "from": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    });
    let signed = sign_evm_transaction(&key, &json(tx.clone()), Some(31337)).unwrap();
    assert!(signed.signed_transaction.starts_with("0x02f8"));
    assert_eq!(
        recover_evm_transaction_sender(&signed.signed_transaction).unwrap(),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    );
    let (decoded, sig) = decode_raw(&decode_hex(&signed.signed_transaction).unwrap()).unwrap();
    assert_eq!(decoded.ty, TxType::DynamicFee);
    assert_eq!(decoded.chain_id, Some(31337));
    assert_eq!(decoded.value, U256::from(10u64).pow(U256::from(18)));
    assert_eq!(decoded.gas_limit, 21000);
    let sig = sig.unwrap();
    assert_eq!(
        signed.signature[2..66],
        hex::encode(sig.r.to_be_bytes::<32>())
    );
    assert_eq!(
        &signed.signature[130..],
        if sig.y_parity { "1c" } else { "1b" }
    );

    // The same transaction as unsigned raw hex signs identically.
    let unsigned = format!("0x{}", hex::encode(encode(&decoded, None)));
    assert!(unsigned.starts_with("0x02"));
    let again = sign_evm_transaction(&key, &raw(&unsigned), Some(31337)).unwrap();
    assert_eq!(again, signed);
    assert_eq!(
        code(sign_evm_transaction(
            &key,
            &raw(&signed.signed_transaction),
            Some(31337)
        )),
        codes::ALREADY_SIGNED
    );

    let d = describe_evm_transaction(&json(tx)).unwrap();
    assert_eq!(d["type"], 2);
    assert_eq!(d["chainId"], 31337);
    assert_eq!(d["value"], "1000000000000000000");
    assert_eq!(d["to"], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assert_eq!(d["gas"], 21000);
    assert_eq!(d["maxFeePerGas"], "2000000000");
    assert_eq!(d["data"], "0x");
    assert_eq!(d, describe_evm_transaction(&raw(&unsigned)).unwrap());
}

#[test]
fn eip2930_access_list_round_trip() {
    let key = anvil0();
    let tx = serde_json::json!({
        "chainId": 1,
        "nonce": 7,
        "gas": 60000,
        "gasPrice": "0x3b9aca00",
        "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "data": "0xa9059cbb",
        "accessList": [{
            "address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "storageKeys": [format!("0x{}", "00".repeat(31) + "01")]
        }]
    });
    let signed = sign_evm_transaction(&key, &json(tx), Some(1)).unwrap();
    assert!(signed.signed_transaction.starts_with("0x01"));
    let (decoded, _) = decode_raw(&decode_hex(&signed.signed_transaction).unwrap()).unwrap();
    assert_eq!(decoded.ty, TxType::AccessList);
    assert_eq!(decoded.access_list.len(), 1);
    assert_eq!(decoded.access_list[0].1[0].0[31], 1);
    assert_eq!(decoded.data, vec![0xa9, 0x05, 0x9c, 0xbb]);
    assert_eq!(
        recover_evm_transaction_sender(&signed.signed_transaction).unwrap(),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    );
}

#[test]
fn invalid_inputs_map_to_circle_codes() {
    let key = anvil0();
    let sign = |input: EvmTxInput| code(sign_evm_transaction(&key, &input, Some(1)));
    assert_eq!(sign(raw("0xzz")), codes::DESERIALIZATION_FAILED);
    assert_eq!(sign(raw("")), codes::DESERIALIZATION_FAILED);
    assert_eq!(sign(raw("0xc0")), codes::DESERIALIZATION_FAILED);
    assert_eq!(
        sign(raw(&format!("{EIP155_UNSIGNED}00"))),
        codes::DESERIALIZATION_FAILED
    );
    assert_eq!(sign(raw("0x03c0")), codes::INVALID_TRANSACTION);
    assert_eq!(sign(raw(EIP155_SIGNED)), codes::ALREADY_SIGNED);
    assert_eq!(
        sign(EvmTxInput::Json("{".into())),
        codes::DESERIALIZATION_FAILED
    );
    assert_eq!(
        sign(EvmTxInput::Json("[]".into())),
        codes::DESERIALIZATION_FAILED
    );

    let base = serde_json::json!({"nonce": 1, "gas": 21000, "gasPrice": 1, "chainId": 1,
        "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"});
    let with = |k: &str, v: Value| {
        let mut t = base.clone();
        t[k] = v;
        json(t)
    };
    let without = |k: &str| {
        let mut t = base.clone();
        t.as_object_mut().unwrap().remove(k);
        json(t)
    };
    assert!(sign_evm_transaction(&key, &json(base.clone()), Some(1)).is_ok());
    assert_eq!(sign(without("nonce")), codes::INVALID_TRANSACTION);
    assert_eq!(sign(without("gas")), codes::INVALID_TRANSACTION);
    assert_eq!(sign(without("gasPrice")), codes::INVALID_TRANSACTION);
    assert_eq!(
        sign(with("maxFeePerGas", serde_json::json!(2))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with("value", serde_json::json!("-1"))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with("value", serde_json::json!(1.5))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with("nonce", serde_json::json!("0x1ffffffffffffffff"))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with("to", serde_json::json!("0x1234"))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with("data", serde_json::json!("abc"))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with("type", serde_json::json!(3))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with(
            "from",
            serde_json::json!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        )),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        sign(with("chainId", serde_json::json!(5))),
        codes::CHAIN_ID_MISMATCH
    );
    let mut fee = base.clone();
    fee.as_object_mut().unwrap().remove("gasPrice");
    fee["maxFeePerGas"] = serde_json::json!(1);
    fee["maxPriorityFeePerGas"] = serde_json::json!(2);
    assert_eq!(sign(json(fee)), codes::INVALID_TRANSACTION);
}

#[test]
fn describe_legacy() {
    let d = describe_evm_transaction(&raw(EIP155_UNSIGNED)).unwrap();
    assert_eq!(
        d,
        serde_json::json!({
            "type": 0,
            "chainId": 1,
            "nonce": 9,
            "to": "0x3535353535353535353535353535353535353535",
            "value": "1000000000000000000",
            "data": "0x",
            "gas": 21000,
            "gasPrice": "20000000000"
        })
    );
    let pre155 =
        "0xe9098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080";
    assert_eq!(
        describe_evm_transaction(&raw(pre155)).unwrap()["chainId"],
        Value::Null
    );
    assert_eq!(
        describe_evm_transaction(&raw("0x00")).unwrap_err().code,
        codes::INVALID_TRANSACTION
    );
}

#[test]
fn the_key_free_check_refuses_exactly_what_signing_refuses() {
    let key = anvil0();
    let address = address(Family::Evm, &key).unwrap();
    let base = serde_json::json!({"nonce": 1, "gas": 21000, "gasPrice": 1, "chainId": 1,
        "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"});
    let with = |k: &str, v: Value| {
        let mut t = base.clone();
        t[k] = v;
        json(t)
    };
    let inputs = [
        raw(EIP155_UNSIGNED),
        raw(EIP155_SIGNED),
        raw("0xzz"),
        raw("0xc0"),
        raw("0x03c0"),
        EvmTxInput::Json("{".into()),
        json(base.clone()),
        with("from", serde_json::json!(address)),
        with("from", serde_json::json!(address.to_lowercase())),
        with(
            "from",
            serde_json::json!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        ),
        with("chainId", serde_json::json!(5)),
        with("chainId", serde_json::json!(0)),
        with("chainId", serde_json::json!(u64::MAX.to_string())),
        with("value", serde_json::json!("-1")),
    ];
    for input in &inputs {
        for chain in [Some(1), Some(5), None] {
            let checked = check_evm_transaction(input, &address, chain);
            let signed = sign_evm_transaction(&key, input, chain);
            assert_eq!(checked.err(), signed.err(), "{input:?} on chain {chain:?}");
        }
    }
    assert_eq!(
        check_evm_transaction(&json(base), "not an address", Some(1))
            .unwrap_err()
            .code,
        codes::INTERNAL
    );
}

fn built(fee: EvmFee, chain_id: u64) -> UnsignedEvmTx {
    UnsignedEvmTx {
        chain_id,
        nonce: 9,
        to: "0x3535353535353535353535353535353535353535"
            .parse()
            .unwrap(),
        value: U256::from(10u64).pow(U256::from(18u64)),
        data: Vec::new(),
        gas_limit: 21_000,
        fee,
    }
}

#[test]
fn built_transactions_sign_like_the_decoded_ones() {
    // The EIP-155 example, built instead of decoded: the same bytes.
    let legacy = built(
        EvmFee::Legacy {
            gas_price: 20_000_000_000,
        },
        1,
    );
    let signed = sign_evm_tx(&EIP155_KEY, &legacy).unwrap();
    assert_eq!(signed.signed_transaction, EIP155_SIGNED);
    assert_eq!(
        signed,
        sign_evm_transaction(&EIP155_KEY, &raw(EIP155_UNSIGNED), Some(1)).unwrap()
    );
    assert_eq!(
        format!("0x{}", hex::encode(unsigned_rlp(&legacy).unwrap())),
        EIP155_UNSIGNED
    );

    let dynamic = built(
        EvmFee::Eip1559 {
            max_fee: 3_000_000_000,
            max_priority: 1_000_000_000,
        },
        80_002,
    );
    let from_json = sign_evm_transaction(
        &anvil0(),
        &json(serde_json::json!({
            "type": 2, "chainId": 80002, "nonce": 9, "gas": 21000,
            "to": "0x3535353535353535353535353535353535353535",
            "value": "1000000000000000000",
            "maxFeePerGas": "3000000000", "maxPriorityFeePerGas": "1000000000"
        })),
        Some(80_002),
    )
    .unwrap();
    let signed = sign_evm_tx(&anvil0(), &dynamic).unwrap();
    assert_eq!(signed, from_json);
    assert_eq!(
        recover_evm_transaction_sender(&signed.signed_transaction).unwrap(),
        address(Family::Evm, &anvil0()).unwrap()
    );
}

#[test]
fn built_transactions_refuse_what_cannot_be_signed() {
    let dynamic = |max_fee, max_priority| EvmFee::Eip1559 {
        max_fee,
        max_priority,
    };
    assert_eq!(
        code(sign_evm_tx(&anvil0(), &built(dynamic(1, 2), 1))),
        codes::INVALID_TRANSACTION
    );
    assert_eq!(
        code(sign_evm_tx(&anvil0(), &built(dynamic(2, 1), 0))),
        codes::MISSING_CHAIN_ID
    );
    let legacy = EvmFee::Legacy { gas_price: 1 };
    assert_eq!(
        code(sign_evm_tx(&anvil0(), &built(legacy, u64::MAX / 2))),
        codes::INVALID_TRANSACTION
    );
    assert!(unsigned_rlp(&built(legacy, u64::MAX / 2)).is_err());
    // The largest chain id EIP-155 can carry in a u64 signs.
    assert!(sign_evm_tx(&anvil0(), &built(legacy, (u64::MAX - 36) / 2)).is_ok());
    // A large chain id is fine for a typed transaction.
    assert!(sign_evm_tx(&anvil0(), &built(dynamic(2, 1), u64::MAX)).is_ok());
    assert_eq!(
        code(sign_evm_tx(&[0u8; 32], &built(dynamic(2, 1), 1))),
        codes::INTERNAL
    );
}

#[test]
fn a_signed_built_transaction_decodes_back_to_what_was_signed() {
    for (fee, chain_id) in [
        (
            EvmFee::Legacy {
                gas_price: 20_000_000_000,
            },
            1,
        ),
        (
            EvmFee::Eip1559 {
                max_fee: 3_000_000_000,
                max_priority: 1_000_000_000,
            },
            80_002,
        ),
    ] {
        let mut tx = built(fee, chain_id);
        tx.data = vec![0xa9, 0x05, 0x9c, 0xbb];
        let signed = sign_evm_tx(&anvil0(), &tx).unwrap();
        let raw = hex::decode(signed.signed_transaction.trim_start_matches("0x")).unwrap();
        assert_eq!(decode_evm_tx(&raw).unwrap(), tx);
    }
    assert!(decode_evm_tx(&[]).is_err());
}
