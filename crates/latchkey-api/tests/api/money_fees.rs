//! `POST /v1/w3s/transactions/transfer/estimateFee` and `/contractExecution/estimateFee`
//! against anvil: the figures are the node's (21000 exactly for a native transfer to an
//! account, `eth_estimateGas` × 1.2 otherwise, maxFee = 2 × baseFee + tip), the levels are
//! ordered, and the document admits the bodies that work. Responses are validated against the
//! served OpenAPI document; the refusals are in `money_fee_refusals`.

use crate::openapi_contract::check;
use crate::support::anvil::{selector, Anvil};
use crate::support::wallets::*;
use crate::support::*;
use latchkey_chains::{format_units, parse_gwei, Blockchain, U256};
use serde_json::{json, Value};

pub(crate) const TRANSFER_FEE: &str = "/v1/w3s/transactions/transfer/estimateFee";
pub(crate) const CALL_FEE: &str = "/v1/w3s/transactions/contractExecution/estimateFee";
pub(crate) const DEST: &str = "0x2222222222222222222222222222222222222222";
/// Circle's MATIC-AMOY USDC: its address and token id (seeded in the registry).
pub(crate) const USDC: &str = "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582";
pub(crate) const USDC_ID: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
pub(crate) const NOBODY: &str = "3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1";
/// 1 native token in wei, as JSON-RPC hex.
pub(crate) const ONE_TOKEN: &str = "0xde0b6b3a7640000";

/// A server with MATIC-AMOY on anvil, and a user with wallets on MATIC-AMOY (served),
/// ETH-SEPOLIA (no node) and SOL-DEVNET (not EVM).
pub(crate) struct Fixture {
    pub(crate) amoy: Anvil,
    pub(crate) app: TestApp,
    pub(crate) u: TestUser,
    pub(crate) wallet_id: String,
    pub(crate) address: String,
    pub(crate) sepolia_wallet_id: String,
    pub(crate) solana_wallet_id: String,
    pub(crate) doc: Value,
}

pub(crate) async fn fixture() -> Fixture {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let wallets =
        init_with_wallets(&app, &u, json!(["MATIC-AMOY", "ETH-SEPOLIA", "SOL-DEVNET"])).await;
    let id = |i: usize| wallets[i]["id"].as_str().unwrap().to_owned();
    let doc = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Fixture {
        wallet_id: id(0),
        address: wallets[0]["address"].as_str().unwrap().to_owned(),
        sepolia_wallet_id: id(1),
        solana_wallet_id: id(2),
        amoy,
        app,
        u,
        doc,
    }
}

impl Fixture {
    /// POSTs an estimate as `u`; checks the answer against the document; returns (status,
    /// Circle code or 0, body).
    pub(crate) async fn estimate_as(
        &self,
        u: &TestUser,
        path: &str,
        body: Value,
    ) -> (u16, i64, Value) {
        let (s, b, _) = self.app.post(path, Some(&u.token), body).await;
        check(&self.doc, "POST", path, s, &b);
        (s, b["code"].as_i64().unwrap_or(0), b)
    }

    /// Whether the document's request schema of `POST path` admits `body`.
    pub(crate) fn admits(&self, path: &str, body: &Value) -> bool {
        let schema = &self.doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let mut root = schema.clone();
        root["components"] = self.doc["components"].clone();
        jsonschema::draft202012::new(&root).unwrap().is_valid(body)
    }

    pub(crate) async fn estimate(&self, path: &str, body: Value) -> (u16, i64, Value) {
        self.estimate_as(&self.u, path, body).await
    }

    /// An estimate that must succeed: its `data`.
    pub(crate) async fn fees(&self, path: &str, body: Value) -> Value {
        let (s, _, b) = self.estimate(path, body).await;
        assert_eq!(s, 200, "{b}");
        b["data"].clone()
    }

    /// Sends the wallet one native token from the first dev account.
    pub(crate) async fn fund_native(&self) {
        let acct0 = self.amoy.accounts().await.remove(0);
        self.amoy
            .send(json!({ "from": acct0, "to": self.address, "value": ONE_TOKEN }))
            .await;
    }

    /// Puts TestUsdc's runtime code at Circle's USDC address and mints `units` (6 decimals)
    /// to the wallet.
    pub(crate) async fn mint_usdc(&self, units: u128) {
        let runtime = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../contracts/out/TestUsdc.runtime.hex"),
        )
        .unwrap();
        self.amoy
            .rpc("anvil_setCode", json!([USDC, runtime.trim()]))
            .await;
        let acct0 = self.amoy.accounts().await.remove(0);
        let data = call_data(
            "mint(address,uint256)",
            &[word_address(&self.address), word(units)],
        );
        self.amoy
            .send(json!({ "from": acct0, "to": USDC, "data": data }))
            .await;
    }

    /// The node's own `eth_estimateGas` for a call from the wallet.
    pub(crate) async fn node_gas(&self, to: &str, data: &str, value: &str) -> u64 {
        let est = self
            .amoy
            .rpc(
                "eth_estimateGas",
                json!([{ "from": self.address, "to": to, "data": data, "value": value }]),
            )
            .await;
        u64::from_str_radix(est.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    pub(crate) fn native_body(&self, amount: &str) -> Value {
        json!({
            "walletId": self.wallet_id,
            "tokenAddress": "",
            "blockchain": "MATIC-AMOY",
            "destinationAddress": DEST,
            "amounts": [amount],
        })
    }
}

/// `TestUsdc` (or any artifact's) calldata: the selector and the ABI words.
pub(crate) fn call_data(signature: &str, words: &[String]) -> String {
    format!("{}{}", selector("TestUsdc", signature), words.concat())
}

pub(crate) fn word(n: u128) -> String {
    format!("{n:064x}")
}

pub(crate) fn word_address(a: &str) -> String {
    format!("{:0>64}", a.trim_start_matches("0x").to_lowercase())
}

fn gwei_of(fee: &Value, field: &str) -> u128 {
    parse_gwei(
        fee[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {fee}")),
    )
    .unwrap()
}

fn native(wei: u128) -> Value {
    json!(format_units(U256::from(wei), 18))
}

/// The three levels: ordered, each self-consistent (maxFee = 2 × baseFee + priorityFee, one
/// base fee), `networkFee` = gasLimit × maxFee and `networkFeeRaw` = raw gas × (baseFee +
/// priorityFee), no `gasPrice` on an EIP-1559 chain and no `l1Fee` off the OP stack.
fn assert_levels(data: &Value, gas_limit: u64, raw_gas: u64) {
    let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "only low, medium and high: {data}");
    let mut last_max = 0;
    let mut last_tip = 0;
    let base = gwei_of(&data["low"], "baseFee");
    for level in ["low", "medium", "high"] {
        let fee = &data[level];
        assert_eq!(
            fee["gasLimit"],
            json!(gas_limit.to_string()),
            "{level}: {fee}"
        );
        let (max, tip) = (gwei_of(fee, "maxFee"), gwei_of(fee, "priorityFee"));
        assert_eq!(gwei_of(fee, "baseFee"), base, "{data}");
        assert_eq!(max, 2 * base + tip, "{level}: {fee}");
        assert!(
            max >= last_max && tip >= last_tip,
            "LOW ≤ MEDIUM ≤ HIGH: {data}"
        );
        (last_max, last_tip) = (max, tip);
        assert_eq!(
            fee["networkFee"],
            native(u128::from(gas_limit) * max),
            "{fee}"
        );
        assert_eq!(
            fee["networkFeeRaw"],
            native(u128::from(raw_gas) * (base + tip)),
            "{fee}"
        );
        assert!(
            fee.get("gasPrice").is_none() && fee.get("l1Fee").is_none(),
            "{fee}"
        );
    }
}

/// Three blocks of three transfers tipping 30, 40 and 50 gwei: the 10th, 50th and 90th
/// percentiles of each block are then 30, 40 and 50 gwei, and they outnumber the funding
/// block in the medians (a local node has no Polygon tip floor).
async fn busy_blocks(node: &Anvil) {
    let accounts = node.accounts().await;
    node.rpc("evm_setAutomine", json!([false])).await;
    for _ in 0..3 {
        for tip in [30u64, 40, 50] {
            node.rpc(
                "eth_sendTransaction",
                json!([{
                    "from": accounts[1], "to": accounts[0], "value": "0x1",
                    "maxPriorityFeePerGas": format!("0x{:x}", tip * 1_000_000_000),
                    "maxFeePerGas": format!("0x{:x}", 500u64 * 1_000_000_000),
                }]),
            )
            .await;
        }
        node.rpc("evm_mine", json!([])).await;
    }
    node.rpc("evm_setAutomine", json!([true])).await;
}

#[tokio::test]
async fn a_native_transfer_to_an_account_costs_21000_gas_at_three_ordered_levels() {
    let f = fixture().await;
    // An empty wallet cannot pay the value, let alone the gas.
    let (s, c, b) = f.estimate(TRANSFER_FEE, f.native_body("0.01")).await;
    assert_eq!((s, c), (400, 155204), "{b}");
    f.fund_native().await;
    assert!(f.admits(TRANSFER_FEE, &f.native_body("0.01")));
    let data = f.fees(TRANSFER_FEE, f.native_body("0.01")).await;
    assert_levels(&data, 21_000, 21_000);
    // The wallet by address works the same. One block used gas (the funding): its one tip is
    // every level's.
    let by_address = json!({
        "sourceAddress": f.address,
        "blockchain": "MATIC-AMOY",
        "tokenId": "0c8f8485-f74f-5e28-80f2-3cc4e80ef71c",
        "destinationAddress": DEST,
        "amounts": ["0.5"],
    });
    let data = f.fees(TRANSFER_FEE, by_address.clone()).await;
    assert_levels(&data, 21_000, 21_000);
    assert_eq!(
        data["low"]["priorityFee"], data["high"]["priorityFee"],
        "{data}"
    );

    busy_blocks(&f.amoy).await;
    let data = f.fees(TRANSFER_FEE, by_address).await;
    assert_levels(&data, 21_000, 21_000);
    let tips: Vec<&Value> = ["low", "medium", "high"]
        .iter()
        .map(|l| &data[l]["priorityFee"])
        .collect();
    assert_eq!(tips, [&json!("30"), &json!("40"), &json!("50")], "{data}");

    // More than the balance can cover (value + the LOW level's gas).
    let (s, c, b) = f.estimate(TRANSFER_FEE, f.native_body("1")).await;
    assert_eq!((s, c), (400, 155204), "{b}");
    // A native transfer to a contract is estimated, and TestUsdc has no payable fallback.
    f.mint_usdc(1).await;
    let mut to_contract = f.native_body("0.01");
    to_contract["destinationAddress"] = json!(USDC);
    let (s, c, b) = f.estimate(TRANSFER_FEE, to_contract).await;
    assert_eq!((s, c), (400, 155208), "{b}");
}

#[tokio::test]
async fn an_erc20_transfer_is_the_nodes_estimate_with_a_margin() {
    let f = fixture().await;
    let usdc = |amount: &str| {
        json!({
            "walletId": f.wallet_id,
            "tokenId": USDC_ID,
            "destinationAddress": DEST,
            "amounts": [amount],
        })
    };
    // No USDC at all: the token shortfall has its own code.
    f.mint_usdc(0).await;
    let (s, c, b) = f.estimate(TRANSFER_FEE, usdc("1")).await;
    assert_eq!((s, c), (400, 155205), "{b}");
    f.mint_usdc(5_000_000).await;
    // USDC but no native coin for gas.
    let (s, c, b) = f.estimate(TRANSFER_FEE, usdc("1")).await;
    assert_eq!((s, c), (400, 155204), "{b}");
    f.fund_native().await;
    let data = f.fees(TRANSFER_FEE, usdc("1.5")).await;
    let transfer = call_data(
        "transfer(address,uint256)",
        &[word_address(DEST), word(1_500_000)],
    );
    let raw = f.node_gas(USDC, &transfer, "0x0").await;
    assert!(raw > 21_000, "{raw}");
    assert_levels(&data, (raw * 6).div_ceil(5), raw);
    // By contract address on the token's chain: the same token, the same figures.
    let by_address = json!({
        "walletId": f.wallet_id,
        "tokenAddress": USDC,
        "blockchain": "MATIC-AMOY",
        "destinationAddress": DEST,
        "amounts": ["1.5"],
    });
    assert_eq!(
        f.fees(TRANSFER_FEE, by_address).await["low"]["gasLimit"],
        data["low"]["gasLimit"]
    );
    // The SDK's token-by-id input has no blockchain: the wallet's address is on the token's.
    let by_source = json!({
        "sourceAddress": f.address,
        "tokenId": USDC_ID,
        "destinationAddress": DEST,
        "amounts": ["1.5"],
    });
    assert!(f.admits(TRANSFER_FEE, &by_source), "{by_source}");
    assert_eq!(
        f.fees(TRANSFER_FEE, by_source).await["high"]["gasLimit"],
        data["high"]["gasLimit"]
    );
    // More than the wallet holds; more decimals than USDC has.
    let (s, c, b) = f.estimate(TRANSFER_FEE, usdc("5.000001")).await;
    assert_eq!((s, c), (400, 155205), "{b}");
    let (s, c, b) = f.estimate(TRANSFER_FEE, usdc("0.0000001")).await;
    assert_eq!((s, c), (400, 155221), "{b}");
    // A token contract the registry does not know.
    let unknown = f.amoy.deploy("TestUsdc").await;
    let mut other = usdc("1");
    other.as_object_mut().unwrap().remove("tokenId");
    other["tokenAddress"] = json!(unknown);
    other["blockchain"] = json!("MATIC-AMOY");
    let (s, c, b) = f.estimate(TRANSFER_FEE, other).await;
    assert_eq!((s, c), (404, 156002), "{b}");
}

#[tokio::test]
async fn a_contract_call_is_estimated_and_a_revert_says_why() {
    let f = fixture().await;
    f.fund_native().await;
    f.mint_usdc(1).await;
    let mint = json!({
        "walletId": f.wallet_id,
        "contractAddress": USDC,
        "abiFunctionSignature": "mint(address,uint256)",
        "abiParameters": [f.address, "1000000"],
    });
    let data = f.fees(CALL_FEE, mint).await;
    let encoded = call_data(
        "mint(address,uint256)",
        &[word_address(&f.address), word(1_000_000)],
    );
    let raw = f.node_gas(USDC, &encoded, "0x0").await;
    assert_levels(&data, (raw * 6).div_ceil(5), raw);
    // The same call as raw calldata, the wallet by address.
    let raw_call = json!({
        "sourceAddress": f.address,
        "blockchain": "MATIC-AMOY",
        "contractAddress": USDC,
        "callData": encoded,
    });
    assert!(f.admits(CALL_FEE, &raw_call), "{raw_call}");
    assert_eq!(
        f.fees(CALL_FEE, raw_call).await["high"]["gasLimit"],
        data["high"]["gasLimit"]
    );

    let reverter = f.amoy.deploy("Reverter").await;
    let fail = json!({
        "walletId": f.wallet_id,
        "contractAddress": reverter,
        "abiFunctionSignature": "fail()",
        "abiParameters": [],
    });
    let (s, c, b) = f.estimate(CALL_FEE, fail).await;
    assert_eq!((s, c), (400, 155208), "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("Reverter: always fails"),
        "{b}"
    );
    // A payable call with more value than the wallet has.
    let rich = json!({
        "walletId": f.wallet_id,
        "contractAddress": reverter,
        "abiFunctionSignature": "maybe(bool)",
        "abiParameters": [true],
        "amount": "2",
    });
    let (s, c, b) = f.estimate(CALL_FEE, rich).await;
    assert_eq!((s, c), (400, 155204), "{b}");
}
