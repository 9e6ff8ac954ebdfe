//! The pure plan rules, with plain records. The store-backed resolution (wallet ownership,
//! token lookups) is tested against a real database in `latchkey-store/tests/money_plan.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::clock::Timestamp;
use crate::money::plan_rules::{
    self as rules, amount_units, token_ref, wallet_chain, CallInput, TransferInput,
};
use crate::money::tokens::{TokenOrigin, TokenStandard};
use latchkey_chains::erc;
use serde_json::json;

const WALLET: &str = "0x1111111111111111111111111111111111111111";
const DEST: &str = "0x2222222222222222222222222222222222222222";
const TOKEN: &str = "0x3333333333333333333333333333333333333333";

fn wallet(chain: &str) -> WalletRecord {
    WalletRecord {
        id: "w1".into(),
        entity_id: "e".into(),
        user_internal_id: "u".into(),
        user_id: "user-1".into(),
        wallet_set_id: "s".into(),
        blockchain: chain.into(),
        account_type: "EOA".into(),
        address: WALLET.into(),
        state: "LIVE".into(),
        name: None,
        ref_id: None,
        sealed_key: vec![],
        sca_core: None,
        owner_address: None,
        deployed_at: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn token(standard: Option<TokenStandard>, decimals: Option<u8>) -> TokenRecord {
    TokenRecord {
        id: "t1".into(),
        blockchain: Blockchain::MaticAmoy,
        token_address: standard.map(|_| TOKEN.to_owned()),
        standard,
        name: None,
        symbol: Some("X".into()),
        decimals,
        is_native: standard.is_none(),
        origin: TokenOrigin::Seed,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn native() -> TokenRecord {
    token(None, Some(18))
}

fn usdc() -> TokenRecord {
    token(Some(TokenStandard::Erc20), Some(6))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn transfer(
    t: &TokenRecord,
    dest: Option<&str>,
    amounts: &[&str],
    nfts: &[&str],
) -> Result<TransferPlan, ApiError> {
    let (amounts, nfts) = (strings(amounts), strings(nfts));
    rules::transfer(
        &wallet("MATIC-AMOY"),
        Blockchain::MaticAmoy,
        t,
        TransferInput {
            destination: dest,
            amounts: &amounts,
            nft_token_ids: &nfts,
            ref_id: Some("r"),
        },
    )
}

fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> i64 {
    r.map_or_else(|e| e.code, |_| 0)
}

/// (token, destinationAddress, amounts, nftTokenIds, expected code; 0 = accepted)
type TransferRow<'a> = (
    &'a TokenRecord,
    Option<&'a str>,
    &'a [&'a str],
    &'a [&'a str],
    i64,
);

#[test]
fn every_transfer_code_in_a_table() {
    let erc721 = token(Some(TokenStandard::Erc721), None);
    let erc1155 = token(Some(TokenStandard::Erc1155), None);
    let mut other_chain = usdc();
    other_chain.blockchain = Blockchain::EthSepolia;
    let no_standard = TokenRecord {
        is_native: false,
        ..token(None, Some(6))
    };
    let d = Some(DEST);
    let table: &[TransferRow<'_>] = &[
        (&native(), d, &["0.01"], &[], 0),
        (&usdc(), d, &["1.5"], &[], 0),
        (&erc721, d, &["1"], &["7"], 0),
        (&erc1155, d, &["2", "3"], &["7", "0x08"], 0),
        (&other_chain, d, &["1"], &[], 155220),
        (&no_standard, d, &["1"], &[], 155240),
        (
            &token(Some(TokenStandard::Erc20), None),
            d,
            &["1"],
            &[],
            155241,
        ),
        (&native(), None, &["1"], &[], 2),
        (&native(), Some(""), &["1"], &[], 2),
        (&native(), Some("0x1234"), &["1"], &[], 155219),
        (
            &native(),
            Some("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"),
            &["1"],
            &[],
            155219,
        ),
        // EIP-55: a mixed-case address must carry a correct checksum.
        (
            &native(),
            Some("0x52908400098527886E0F7030069857D2E4169EE7"),
            &["1"],
            &[],
            0,
        ),
        (
            &native(),
            Some("0x52908400098527886e0F7030069857D2E4169EE7"),
            &["1"],
            &[],
            155219,
        ),
        (&native(), d, &[], &[], 155221),
        (&native(), d, &["1", "2"], &[], 155221),
        (&native(), d, &["0"], &[], 155221),
        (&native(), d, &["0.0000000000000000001"], &[], 155221),
        (&usdc(), d, &["0.0000001"], &[], 155221),
        (&usdc(), d, &["1e3"], &[], 155224),
        (&usdc(), d, &["-1"], &[], 155224),
        (&usdc(), d, &["one"], &[], 155224),
        (&usdc(), d, &[""], &[], 155224),
        (&usdc(), d, &["1"], &["7"], 155218),
        (&erc721, d, &["1"], &[], 155218),
        (&erc721, d, &["1", "1"], &["7", "8"], 155218),
        (&erc721, d, &["2"], &["7"], 155221),
        (&erc721, d, &[], &["7"], 155221),
        (&erc721, d, &["1"], &["seven"], 2),
        (&erc1155, d, &["1"], &[], 155218),
        (&erc1155, d, &["1"], &["7", "8"], 155242),
        (&erc1155, d, &["1", "0"], &["7", "8"], 155221),
        (&erc1155, d, &["1", "0.5"], &["7", "8"], 155221),
        (&erc1155, d, &["1", "x"], &["7", "8"], 155224),
    ];
    for (i, &(t, dest, amounts, nfts, want)) in table.iter().enumerate() {
        let got = transfer(t, dest, amounts, nfts);
        assert_eq!(code(got.clone()), want, "row {i}: {got:?}");
    }
}

#[test]
fn transfers_build_the_transaction_they_sign() {
    let from: Address = WALLET.parse().unwrap();
    let to: Address = DEST.parse().unwrap();
    let contract: Address = TOKEN.parse().unwrap();

    let p = transfer(&native(), Some(DEST), &["0.01"], &[]).unwrap();
    assert_eq!(
        p.call,
        OutboundCall {
            from,
            to,
            value: U256::from(10_000_000_000_000_000u64),
            data: vec![]
        }
    );
    assert_eq!(
        (p.debit.clone(), p.token.standard.clone()),
        (TokenDebit::None, None)
    );
    assert_eq!(p.ref_id.as_deref(), Some("r"));

    let p = transfer(&usdc(), Some(DEST), &["1.5"], &[]).unwrap();
    let amount = U256::from(1_500_000u64);
    assert_eq!(p.call.to, contract);
    assert_eq!(p.call.value, U256::ZERO);
    assert_eq!(p.call.data, erc::erc20_transfer(to, amount));
    assert_eq!(p.debit, TokenDebit::Erc20 { amount });
    assert_eq!(p.token.standard.as_deref(), Some("ERC20"));

    let p = transfer(
        &token(Some(TokenStandard::Erc721), None),
        Some(DEST),
        &["1"],
        &["7"],
    )
    .unwrap();
    let seven = U256::from(7u8);
    assert_eq!(p.call.data, erc::erc721_safe_transfer_from(from, to, seven));

    let erc1155 = token(Some(TokenStandard::Erc1155), None);
    let p = transfer(&erc1155, Some(DEST), &["2"], &["7"]).unwrap();
    assert_eq!(
        p.call.data,
        erc::erc1155_safe_transfer_from(from, to, seven, U256::from(2u8), &[])
    );
    let p = transfer(&erc1155, Some(DEST), &["2", "3"], &["7", "0x08"]).unwrap();
    let (ids, amounts) = (
        vec![seven, U256::from(8u8)],
        vec![U256::from(2u8), U256::from(3u8)],
    );
    assert_eq!(
        p.call.data,
        erc::erc1155_safe_batch_transfer_from(from, to, &ids, &amounts, &[])
    );
    assert_eq!(p.debit, TokenDebit::Erc1155 { ids, amounts });

    // A plan goes into a challenge payload and comes back the same.
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["blockchain"], "MATIC-AMOY");
    assert_eq!(json["debit"]["ids"], json!(["7", "8"]));
    assert_eq!(json["call"]["value"], "0");
    assert!(json["call"]["data"]
        .as_str()
        .unwrap()
        .starts_with("0x2eb2c2d6"));
    assert_eq!(serde_json::from_value::<TransferPlan>(json).unwrap(), p);
}

#[test]
fn amount_edge_cases() {
    assert_eq!(amount_units("0.000001", 6).unwrap(), U256::from(1u8));
    assert_eq!(amount_units(".5", 6).unwrap(), U256::from(500_000u64));
    assert_eq!(amount_units("0.0000001", 6).unwrap_err().code, 155221);
    assert_eq!(amount_units("1e3", 6).unwrap_err().code, 155224);
    assert_eq!(amount_units("1.0000000", 6).unwrap_err().code, 155221);
    assert_eq!(amount_units("0.000", 6).unwrap_err().code, 155221);
    let huge = "1".repeat(80);
    assert_eq!(amount_units(&huge, 0).unwrap_err().code, 155221);
}

#[test]
fn sources_and_tokens() {
    let s = |id: Option<&str>, addr: Option<&str>, chain: Option<&str>| {
        (
            id.map(str::to_owned),
            addr.map(str::to_owned),
            chain.map(str::to_owned),
        )
    };
    let cases = [
        (s(Some("w"), None, None), 0),
        (s(Some("w"), Some(WALLET), Some("MATIC-AMOY")), 155244),
        (s(Some("w"), Some(WALLET), None), 155244),
        (s(None, Some(WALLET), Some("MATIC-AMOY")), 0),
        (s(None, Some(WALLET), None), 2),
        (s(None, Some(WALLET), Some("MATIC-MUMBAI")), 2),
        (s(None, Some("0x12"), Some("MATIC-AMOY")), 155226),
        (s(None, None, Some("MATIC-AMOY")), 2),
        (s(Some(""), Some(""), None), 2),
    ];
    for (i, ((id, addr, chain), want)) in cases.iter().enumerate() {
        let source = Source::new(id, addr, "walletAddress", chain);
        assert_eq!(code(source.check()), *want, "case {i}");
    }

    assert_eq!(
        token_ref(Some("t"), None).unwrap(),
        rules::TokenRef::Id("t")
    );
    assert_eq!(
        token_ref(Some("t"), Some("")).unwrap(),
        rules::TokenRef::Id("t")
    );
    assert_eq!(token_ref(None, Some("")).unwrap(), rules::TokenRef::Native);
    assert_eq!(
        token_ref(Some(""), Some(TOKEN)).unwrap(),
        rules::TokenRef::Address(TOKEN)
    );
    assert_eq!(token_ref(Some("t"), Some(TOKEN)).unwrap_err().code, 2);
    assert_eq!(token_ref(None, None).unwrap_err().code, 155228);
    assert_eq!(token_ref(Some(""), None).unwrap_err().code, 155228);
}

use super::plan_rules::Source;

#[test]
fn wallet_chains() {
    let w = wallet("MATIC-AMOY");
    assert_eq!(wallet_chain(&w, None).unwrap(), Blockchain::MaticAmoy);
    assert_eq!(
        wallet_chain(&w, Some(Blockchain::MaticAmoy)).unwrap(),
        Blockchain::MaticAmoy
    );
    assert_eq!(code(wallet_chain(&w, Some(Blockchain::EthSepolia))), 155225);
    assert_eq!(code(wallet_chain(&wallet("SOL-DEVNET"), None)), 156027);
    assert_eq!(code(wallet_chain(&wallet("EVM-TESTNET"), None)), 156027);
    assert_eq!(code(wallet_chain(&wallet("NEAR-TESTNET"), None)), 156027);
}

fn call_input<'a>(
    contract: Option<&'a str>,
    sig: Option<&'a str>,
    params: Option<&'a [Value]>,
    data: Option<&'a str>,
    amount: Option<&'a str>,
) -> CallInput<'a> {
    CallInput {
        contract_address: contract,
        abi_function_signature: sig,
        abi_parameters: params,
        call_data: data,
        amount,
        ref_id: None,
    }
}

#[test]
fn every_contract_code_in_a_table() {
    let params = [json!(DEST), json!("5")];
    let one = [json!("5")];
    let bad_address = [json!("0x12"), json!("5")];
    let c = Some(TOKEN);
    let sig = Some("transfer(address,uint256)");
    let table: &[(CallInput<'_>, i64)] = &[
        (call_input(c, sig, Some(&params), None, None), 0),
        (
            call_input(c, None, None, Some("0xa9059cbb"), Some("0.5")),
            0,
        ),
        (call_input(c, Some("burn()"), None, None, None), 0),
        (
            call_input(c, sig, Some(&params), Some("0x00"), None),
            155247,
        ),
        (
            call_input(c, None, Some(&params), Some("0x00"), None),
            155247,
        ),
        (call_input(c, None, None, None, None), 155230),
        (call_input(c, None, Some(&params), None, None), 155230),
        (call_input(c, Some(""), None, Some(""), None), 155230),
        (call_input(None, sig, Some(&params), None, None), 2),
        (
            call_input(Some("nope"), sig, Some(&params), None, None),
            155219,
        ),
        (call_input(c, sig, Some(&one), None, None), 155209),
        (
            call_input(c, Some("transfer(address"), None, None, None),
            155209,
        ),
        (call_input(c, sig, Some(&bad_address), None, None), 155209),
        (call_input(c, None, None, Some("a9059cbb"), None), 2),
        (call_input(c, None, None, Some("0xa9059cb"), None), 2),
        (
            call_input(c, Some("burn()"), None, None, Some("-1")),
            155245,
        ),
        (
            call_input(c, Some("burn()"), None, None, Some("abc")),
            155245,
        ),
        (
            call_input(c, Some("burn()"), None, None, Some("0.0000000000000000001")),
            155245,
        ),
        (call_input(c, Some("burn()"), None, None, Some("0")), 0),
    ];
    for (i, (input, want)) in table.iter().enumerate() {
        let input = call_input(
            input.contract_address,
            input.abi_function_signature,
            input.abi_parameters,
            input.call_data,
            input.amount,
        );
        let got = rules::call(&wallet("MATIC-AMOY"), Blockchain::MaticAmoy, input);
        assert_eq!(code(got.clone()), *want, "row {i}: {got:?}");
    }
}

#[test]
fn contract_calls_build_the_transaction_they_sign() {
    let params = [json!(DEST), json!(5)];
    let p = rules::call(
        &wallet("MATIC-AMOY"),
        Blockchain::MaticAmoy,
        call_input(
            Some(TOKEN),
            Some("transfer(address,uint256)"),
            Some(&params),
            None,
            Some("0.25"),
        ),
    )
    .unwrap();
    let to: Address = DEST.parse().unwrap();
    assert_eq!(p.call.data, erc::erc20_transfer(to, U256::from(5u8)));
    assert_eq!(p.call.to, TOKEN.parse::<Address>().unwrap());
    assert_eq!(p.call.value, U256::from(250_000_000_000_000_000u64));
    assert_eq!(p.abi_parameters.as_deref(), Some(&params[..]));
    assert_eq!(p.call_data, None);

    let p = rules::call(
        &wallet("MATIC-AMOY"),
        Blockchain::MaticAmoy,
        call_input(Some(TOKEN), None, None, Some("0xDEADbeef"), None),
    )
    .unwrap();
    assert_eq!(p.call.data, vec![0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(p.call.value, U256::ZERO);
    assert_eq!(
        (&p.abi_function_signature, &p.abi_parameters),
        (&None, &None)
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["call"]["data"], "0xdeadbeef");
    assert_eq!(serde_json::from_value::<CallPlan>(json).unwrap(), p);
}

#[test]
fn request_bodies_use_the_sdk_field_names() {
    let body = json!({
        "walletAddress": WALLET, "blockchain": "MATIC-AMOY", "tokenAddress": "",
        "destinationAddress": DEST, "amounts": ["0.01"], "nftTokenIds": ["1"], "refId": "r",
        "feeLevel": "HIGH", "gasLimit": "90000"
    });
    let r: CreateTransferRequest = serde_json::from_value(body).unwrap();
    assert_eq!(r.wallet_address.as_deref(), Some(WALLET));
    assert_eq!(r.token_address.as_deref(), Some(""));
    assert_eq!(r.fee.fee_level, Some(crate::money::FeeLevel::High));
    assert_eq!(r.fee.gas_limit.as_deref(), Some("90000"));

    let body = json!({
        "sourceAddress": WALLET, "blockchain": "MATIC-AMOY", "contractAddress": TOKEN,
        "abiFunctionSignature": "burn(uint256)", "abiParameters": [1], "amount": "0"
    });
    let r: EstimateContractExecutionFeeRequest = serde_json::from_value(body).unwrap();
    assert_eq!(r.source_address.as_deref(), Some(WALLET));
    assert_eq!(r.abi_parameters, Some(vec![json!(1)]));

    let body = json!({
        "walletId": "w", "contractAddress": TOKEN, "callData": "0x", "maxFee": "2",
        "priorityFee": "1", "gasLimit": "21000"
    });
    let r: CreateContractExecutionRequest = serde_json::from_value(body).unwrap();
    assert_eq!(r.fee.max_fee.as_deref(), Some("2"));
    let r: EstimateTransferFeeRequest =
        serde_json::from_value(json!({"walletId": "w", "tokenId": "t", "amounts": ["1"]})).unwrap();
    assert_eq!(r.token_id.as_deref(), Some("t"));
}
