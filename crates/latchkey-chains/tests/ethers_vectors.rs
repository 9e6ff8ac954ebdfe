//! latchkey-chains against ethers 6: every vector in testdata/ethers-vectors.json was computed
//! by ethers (see testdata/ethers-vectors.mjs, checked fresh by .ci/run), and latchkey must
//! produce the same amounts, calldata, decoded events, signed transactions, address verdicts
//! and token ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_chains::erc::{self, TokenTransfer};
use latchkey_chains::{
    encode_call, format_units, parse_units, recover_evm_transaction_sender, sign_evm_tx,
    token_uuid, unsigned_rlp, validate_address, Address, Blockchain, EvmFee, UnsignedEvmTx, B256,
    LATCHKEY_TOKEN_NS, U256,
};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../testdata/ethers-vectors.json")).unwrap()
}

fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    let items = v[key].as_array().unwrap();
    assert!(!items.is_empty(), "no {key} vectors");
    items
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn u256(v: &Value) -> U256 {
    s(v).parse().unwrap()
}

fn addr(v: &Value) -> Address {
    s(v).parse().unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(s(v).trim_start_matches("0x")).unwrap()
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

#[test]
fn amounts_match_ethers_parse_units_and_format_units() {
    let v = vectors();
    for case in list(&v, "parse_units") {
        let decimals = case["decimals"].as_u64().unwrap() as u8;
        assert_eq!(
            parse_units(s(&case["value"]), decimals).unwrap(),
            u256(&case["base"]),
            "{case}"
        );
    }
    for case in list(&v, "format_units") {
        let decimals = case["decimals"].as_u64().unwrap() as u8;
        assert_eq!(
            format_units(u256(&case["base"]), decimals),
            s(&case["value"]),
            "{case}"
        );
    }
}

#[test]
fn contract_calls_match_ethers_encode_function_data() {
    let v = vectors();
    for case in list(&v, "encode_call") {
        let params = case["params"].as_array().unwrap();
        let data =
            encode_call(s(&case["signature"]), params).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(hex0x(&data), s(&case["calldata"]), "{case}");
    }
}

#[test]
fn erc_calldata_matches_ethers() {
    let v = vectors();
    let e = &v["erc"];
    let a: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        .parse()
        .unwrap();
    let b: Address = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
        .parse()
        .unwrap();
    let n = U256::from;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("erc20_transfer", erc::erc20_transfer(b, n(1_234_567))),
        ("erc20_balance_of", erc::erc20_balance_of(a)),
        ("name", erc::name_call()),
        ("symbol", erc::symbol_call()),
        ("decimals", erc::decimals_call()),
        (
            "erc721_safe_transfer_from",
            erc::erc721_safe_transfer_from(a, b, n(42)),
        ),
        ("erc721_owner_of", erc::erc721_owner_of(n(42))),
        ("erc721_token_uri", erc::erc721_token_uri(n(42))),
        (
            "erc1155_safe_transfer_from",
            erc::erc1155_safe_transfer_from(a, b, n(7), n(3), &[]),
        ),
        (
            "erc1155_safe_batch_transfer_from",
            erc::erc1155_safe_batch_transfer_from(a, b, &[n(1), n(2)], &[n(10), n(20)], &[0xff]),
        ),
        ("erc1155_balance_of", erc::erc1155_balance_of(a, n(7))),
        ("erc1155_uri", erc::erc1155_uri(n(7))),
    ];
    assert_eq!(cases.len(), e.as_object().unwrap().len());
    for (name, data) in cases {
        assert_eq!(hex0x(&data), s(&e[name]), "{name}");
    }
}

#[test]
fn transfer_events_from_ethers_decode() {
    let v = vectors();
    for case in list(&v, "logs") {
        let topics: Vec<B256> = case["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| s(t).parse().unwrap())
            .collect();
        let got = erc::decode_transfer_log(&topics, &bytes(&case["data"]))
            .unwrap_or_else(|| panic!("not decoded: {case}"));
        let nums =
            |k: &str| -> Vec<U256> { case[k].as_array().unwrap().iter().map(u256).collect() };
        let want = match s(&case["kind"]) {
            "Erc20" => TokenTransfer::Erc20 {
                from: addr(&case["from"]),
                to: addr(&case["to"]),
                value: u256(&case["value"]),
            },
            "Erc721" => TokenTransfer::Erc721 {
                from: addr(&case["from"]),
                to: addr(&case["to"]),
                token_id: u256(&case["token_id"]),
            },
            _ => TokenTransfer::Erc1155 {
                operator: addr(&case["operator"]),
                from: addr(&case["from"]),
                to: addr(&case["to"]),
                ids: nums("ids"),
                values: nums("values"),
            },
        };
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn signed_transactions_match_ethers_and_recover_the_sender() {
    let v = vectors();
    for case in list(&v, "transactions") {
        let fee = &case["fee"];
        let tx = UnsignedEvmTx {
            chain_id: case["chain_id"].as_u64().unwrap(),
            nonce: case["nonce"].as_u64().unwrap(),
            to: addr(&case["to"]),
            value: u256(&case["value"]),
            data: bytes(&case["data"]),
            gas_limit: case["gas_limit"].as_u64().unwrap(),
            fee: if fee.get("gas_price").is_some() {
                EvmFee::Legacy {
                    gas_price: s(&fee["gas_price"]).parse().unwrap(),
                }
            } else {
                EvmFee::Eip1559 {
                    max_fee: s(&fee["max_fee"]).parse().unwrap(),
                    max_priority: s(&fee["max_priority"]).parse().unwrap(),
                }
            },
        };
        let key = hex::decode(s(&case["key"])).unwrap();
        let signed = sign_evm_tx(&key, &tx).unwrap();
        assert_eq!(signed.signed_transaction, s(&case["signed"]), "{case}");
        assert_eq!(signed.tx_hash, s(&case["hash"]), "{case}");
        assert_eq!(hex0x(&unsigned_rlp(&tx).unwrap()), s(&case["unsigned"]));
        assert_eq!(
            recover_evm_transaction_sender(&signed.signed_transaction).unwrap(),
            s(&case["from"])
        );
    }
}

#[test]
fn evm_address_verdicts_match_ethers_is_address() {
    let v = vectors();
    let cases = list(&v, "evm_addresses");
    assert!(cases.iter().any(|c| c["valid"] == true) && cases.iter().any(|c| c["valid"] == false));
    for case in cases {
        let want = case["valid"].as_bool().unwrap();
        assert_eq!(
            validate_address(Blockchain::EthSepolia, s(&case["address"])),
            want,
            "{case}"
        );
    }
}

#[test]
fn token_ids_match_an_independent_uuid5() {
    let v = vectors();
    assert_eq!(LATCHKEY_TOKEN_NS.to_string(), s(&v["token_namespace"]));
    for case in list(&v, "token_ids") {
        let chain = Blockchain::parse(s(&case["blockchain"])).unwrap();
        let id = token_uuid(chain, case["address"].as_str());
        assert_eq!(id.to_string(), s(&case["id"]), "{case}");
    }
}
