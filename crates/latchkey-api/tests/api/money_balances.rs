//! Balances and the development faucet on a real anvil: a drip shows up in the wallet's
//! balances to the base unit (native and Circle's USDC id, the development USDC placed at
//! Circle's address), the filters, the monitored scope and `includeAll`, tokens the wallet
//! touched, paging with `Link`, tenancy (another user's wallet is not found), 156027 without
//! a node, 503 when the node is gone, and the faucet's refusals (LIVE key, not a testnet,
//! bad address, EURC, no local node).

use crate::support::anvil::{artifact, selector, Anvil};
use crate::support::wallets::init_with_wallets;
use crate::support::*;
use latchkey_chains::Blockchain;
use latchkey_core::model::Environment;
use latchkey_core::money::{SeenToken, TokenStandard};
use serde_json::{json, Value};
use std::time::Duration;

const DRIPS: &str = "/v1/faucet/drips";
const USDC_AMOY: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
const USDC_AMOY_ADDRESS: &str = "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582";
const POL_AMOY: &str = "0c8f8485-f74f-5e28-80f2-3cc4e80ef71c";

/// A server on a fresh anvil with Amoy's chain id, and a user with one MATIC-AMOY wallet:
/// (anvil, app, user, wallet id, wallet address).
async fn amoy_wallet() -> (Anvil, TestApp, TestUser, String, String) {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let w = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let id = w[0]["id"].as_str().unwrap().to_owned();
    let address = w[0]["address"].as_str().unwrap().to_owned();
    (amoy, app, u, id, address)
}

async fn balances(app: &TestApp, u: &TestUser, wallet: &str, query: &str) -> Reply {
    app.get(
        &format!("/v1/w3s/wallets/{wallet}/balances{query}"),
        Some(&u.token),
    )
    .await
}

/// `(token id, amount)` of each balance, in order.
fn amounts(body: &Value) -> Vec<(String, String)> {
    body["data"]["tokenBalances"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|b| {
            (
                b["token"]["id"].as_str().unwrap().to_owned(),
                b["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(id: &str, amount: &str) -> (String, String) {
    (id.to_owned(), amount.to_owned())
}

async fn drip(app: &TestApp, body: Value) -> (u16, i64, Value) {
    let (s, b, _) = app.post(DRIPS, None, body).await;
    (s, b["code"].as_i64().unwrap_or(0), b)
}

/// The balances once they equal `want` (the drip's transactions are mined by automine; this
/// only absorbs the moment between acceptance and the block).
async fn await_balances(
    app: &TestApp,
    u: &TestUser,
    wallet: &str,
    want: &[(String, String)],
) -> Value {
    let mut last = Value::Null;
    for _ in 0..50 {
        let (s, b, _) = balances(app, u, wallet, "").await;
        assert_eq!(s, 200, "{b}");
        if amounts(&b) == want {
            return b;
        }
        last = b;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("balances never became {want:?}: {last}");
}

#[tokio::test]
async fn a_drip_shows_in_the_balances_to_the_base_unit() {
    let (amoy, app, u, wallet, address) = amoy_wallet().await;
    let (s, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(amounts(&b), vec![], "an empty wallet lists nothing");

    let body =
        json!({ "address": address, "blockchain": "MATIC-AMOY", "native": true, "usdc": true });
    let (s, _, reply) = drip(&app, body.clone()).await;
    assert_eq!(s, 204, "{reply}");
    let b = await_balances(
        &app,
        &u,
        &wallet,
        &[pair(POL_AMOY, "0.2"), pair(USDC_AMOY, "20")],
    )
    .await;
    let native = &b["data"]["tokenBalances"][0];
    assert_eq!(native["token"]["isNative"], true);
    assert_eq!(native["token"]["decimals"], 18);
    assert!(native["token"].get("tokenAddress").is_none(), "{native}");
    assert!(native["updateDate"].as_str().unwrap().ends_with('Z'));
    let usdc = &b["data"]["tokenBalances"][1]["token"];
    assert_eq!(
        (
            &usdc["tokenAddress"],
            &usdc["symbol"],
            &usdc["decimals"],
            &usdc["standard"]
        ),
        (
            &json!(USDC_AMOY_ADDRESS),
            &json!("USDC"),
            &json!(6),
            &json!("ERC20")
        )
    );
    // The development USDC sits at Circle's address: the chain answers balanceOf there.
    let code = amoy
        .rpc("eth_getCode", json!([USDC_AMOY_ADDRESS, "latest"]))
        .await;
    let runtime = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../contracts/out/TestUsdc.runtime.hex"),
    )
    .unwrap();
    assert_eq!(code.as_str().unwrap(), runtime.trim());
    // A second drip adds to both (the code is placed once; the mint keeps its storage).
    let (s, _, reply) = drip(&app, body).await;
    assert_eq!(s, 204, "{reply}");
    await_balances(
        &app,
        &u,
        &wallet,
        &[pair(POL_AMOY, "0.4"), pair(USDC_AMOY, "40")],
    )
    .await;
    // Native only.
    let only_native = json!({ "address": address, "blockchain": "MATIC-AMOY", "native": true });
    assert_eq!(drip(&app, only_native).await.0, 204);
    await_balances(
        &app,
        &u,
        &wallet,
        &[pair(POL_AMOY, "0.6"), pair(USDC_AMOY, "40")],
    )
    .await;
}

/// Deploys another TestUsdc, mints `amount` base units to `to`, and records it as a token the
/// wallet touched (what the chain follower will do on a deposit); returns its token id.
async fn touched_token(app: &TestApp, amoy: &Anvil, wallet: &str, to: &str, amount: u64) -> String {
    let contract = amoy.deploy("TestUsdc").await;
    let acct0 = amoy.accounts().await.remove(0);
    let data = format!(
        "{}{:0>64}{amount:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        to.trim_start_matches("0x").to_lowercase()
    );
    amoy.send(json!({ "from": acct0, "to": contract, "data": data }))
        .await;
    let token = app
        .lk
        .register_seen_token(&SeenToken {
            blockchain: Blockchain::MaticAmoy,
            address: contract,
            standard: TokenStandard::Erc20,
            name: Some("Other Coin".into()),
            symbol: Some("OTH".into()),
            decimals: Some(2),
        })
        .await
        .unwrap();
    let store = app.lk.store();
    assert!(store
        .add_wallet_token(wallet, &token.id, app.lk.now())
        .await
        .unwrap());
    assert!(
        !store
            .add_wallet_token(wallet, &token.id, app.lk.now())
            .await
            .unwrap(),
        "a second sighting changes nothing"
    );
    token.id
}

#[tokio::test]
async fn filters_scope_touched_tokens_and_paging() {
    let (amoy, app, u, wallet, address) = amoy_wallet().await;
    let body =
        json!({ "address": address, "blockchain": "MATIC-AMOY", "native": true, "usdc": true });
    assert_eq!(drip(&app, body).await.0, 204);
    let other = touched_token(&app, &amoy, &wallet, &address, 12_345).await;
    let all = [
        pair(POL_AMOY, "0.2"),
        pair(USDC_AMOY, "20"),
        pair(&other, "123.45"),
    ];
    await_balances(&app, &u, &wallet, &all).await;

    let upper = USDC_AMOY_ADDRESS.to_uppercase().replacen("0X", "0x", 1);
    for (query, want) in [
        ("?standard=ERC20", vec![all[1].clone(), all[2].clone()]),
        ("?standard=ERC721", vec![]),
        ("?standard=NonFungible", vec![]),
        (&*format!("?tokenAddress={upper}"), vec![all[1].clone()]),
        (
            &*format!(
                "?tokenAddress=0x1111111111111111111111111111111111111111,{USDC_AMOY_ADDRESS}"
            ),
            vec![all[1].clone()],
        ),
        ("?name=USD%20Coin", vec![all[1].clone()]),
        ("?name=Other%20Coin&standard=ERC20", vec![all[2].clone()]),
        ("?name=usd%20coin", vec![]),
    ] {
        let (s, b, _) = balances(&app, &u, &wallet, query).await;
        assert_eq!(s, 200, "{query}: {b}");
        assert_eq!(amounts(&b), want, "{query}");
    }
    for query in [
        "?name=",
        "?tokenAddress=",
        "?standard=ERC-20",
        "?includeAll=yes",
        "?pageSize=0",
        "?pageAfter=nope",
    ] {
        let (s, b, _) = balances(&app, &u, &wallet, query).await;
        assert_eq!(s, 400, "{query}: {b}");
    }

    // Paging by token id, in the one order: native, seeded, touched.
    let (s, b, h) = balances(&app, &u, &wallet, "?pageSize=1").await;
    assert_eq!((s, amounts(&b)), (200, vec![all[0].clone()]));
    let link = h["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains(&format!("pageAfter={POL_AMOY}>; rel=\"next\"")),
        "{link}"
    );
    assert!(!link.contains("rel=\"prev\""), "{link}");
    let (_, b, h) = balances(
        &app,
        &u,
        &wallet,
        &format!("?pageSize=1&pageAfter={POL_AMOY}"),
    )
    .await;
    assert_eq!(amounts(&b), vec![all[1].clone()]);
    let link = h["link"].to_str().unwrap();
    assert!(
        link.contains("rel=\"next\"") && link.contains("rel=\"prev\""),
        "{link}"
    );
    let (_, b, h) = balances(
        &app,
        &u,
        &wallet,
        &format!("?pageSize=2&pageAfter={POL_AMOY}"),
    )
    .await;
    assert_eq!(amounts(&b), all[1..].to_vec());
    assert!(!h["link"].to_str().unwrap().contains("rel=\"next\""));
    let (_, b, _) = balances(
        &app,
        &u,
        &wallet,
        &format!("?pageSize=2&pageBefore={other}"),
    )
    .await;
    assert_eq!(amounts(&b), all[..2].to_vec());
    let unknown = uuid::Uuid::new_v4();
    let (s, b, _) = balances(&app, &u, &wallet, &format!("?pageAfter={unknown}")).await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156012)), "{b}");

    // A SELECTED scope shows the monitored tokens only, unless includeAll.
    let monitored = "/v1/w3s/config/entity/monitoredTokens";
    let (s, b, _) = app
        .post(monitored, None, json!({ "tokenIds": [USDC_AMOY] }))
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!(amounts(&b), vec![all[1].clone()]);
    let (_, b, _) = balances(&app, &u, &wallet, "?includeAll=true").await;
    assert_eq!(amounts(&b), all.to_vec());
    let (s, _, _) = app
        .put(
            &format!("{monitored}/scope"),
            None,
            json!({ "scope": "MONITOR_ALL" }),
        )
        .await;
    assert_eq!(s, 200);
    let (_, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!(amounts(&b), all.to_vec());
}

#[tokio::test]
async fn another_users_wallet_is_not_found() {
    let (_amoy, app, owner, wallet, _) = amoy_wallet().await;
    let other = app.initialized_user(PIN).await;
    let (s, b, _) = balances(&app, &other, &wallet, "").await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)), "{b}");
    let nobody = uuid::Uuid::new_v4();
    let (s, b, _) = balances(&app, &owner, &nobody.to_string(), "").await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)), "{b}");
    // The same user seen through the other environment's key has no such wallet either.
    let live = app.with_key_of(Environment::Live).await;
    let (s, b, _) = balances(&live, &owner, &wallet, "").await;
    assert!(s == 401 || s == 403 || s == 404, "{s}: {b}");
}

#[tokio::test]
async fn a_chain_without_a_node_is_156027() {
    let app = spawn_app().await;
    let u = app.user().await;
    let w = init_with_wallets(&app, &u, json!(["MATIC-AMOY", "SOL-DEVNET"])).await;
    for wallet in &w {
        let (s, b, _) = balances(&app, &u, wallet["id"].as_str().unwrap(), "").await;
        assert_eq!((s, b["code"].as_i64()), (400, Some(156027)), "{b}");
    }
    let body = json!({ "address": w[0]["address"], "blockchain": "MATIC-AMOY", "native": true });
    let (s, c, b) = drip(&app, body).await;
    assert_eq!((s, c), (400, 156027), "{b}");
}

#[tokio::test]
async fn a_node_that_went_away_is_503() {
    let (amoy, app, u, wallet, _) = amoy_wallet().await;
    drop(amoy);
    let (s, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!((s, b["code"].as_i64()), (503, Some(-1)), "{b}");
}

#[tokio::test]
async fn the_faucet_refuses_what_it_cannot_do() {
    let (_amoy, app, _u, _wallet, address) = amoy_wallet().await;
    let live = app.with_key_of(Environment::Live).await;
    let ok = json!({ "address": address, "blockchain": "MATIC-AMOY", "native": true });
    let (s, c, b) = drip(&live, ok.clone()).await;
    assert_eq!((s, c), (400, 156006), "a LIVE key: {b}");
    let with = |k: &str, v: Value| {
        let mut body = ok.clone();
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v;
        }
        body
    };
    for (what, body, code) in [
        ("a mainnet", with("blockchain", json!("MATIC")), 2),
        (
            "not a money chain",
            with("blockchain", json!("EVM-TESTNET")),
            2,
        ),
        ("no blockchain", with("blockchain", Value::Null), 2),
        ("no address", with("address", Value::Null), 2),
        (
            "a malformed address",
            with("address", json!("0x1234")),
            155219,
        ),
        ("nothing asked for", with("native", json!(false)), 2),
        ("EURC", with("eurc", json!(true)), 175406),
        ("a boolean that is not", with("usdc", json!("yes")), 2),
        (
            "USDC where latchkey has none",
            json!({ "address": address, "blockchain": "OP-SEPOLIA", "usdc": true }),
            175406,
        ),
    ] {
        let (s, c, b) = drip(&app, body).await;
        assert_eq!((s, c), (400, code), "{what}: {b}");
    }
    let (s, c, b) = drip(&app, with("usdc", json!(true))).await;
    assert_eq!((s, c), (204, 0), "{b}");
}

#[tokio::test]
async fn without_dev_there_is_no_faucet() {
    let amoy = Anvil::start(80_002).await;
    let settings = latchkey_core::Settings {
        dev: false,
        ..test_settings()
    };
    let app = spawn_app_with_chains(settings, &[(Blockchain::MaticAmoy, &amoy)]).await;
    let body = json!({ "address": "0x2222222222222222222222222222222222222222",
        "blockchain": "MATIC-AMOY", "native": true });
    let (s, c, b) = drip(&app, body).await;
    assert_eq!((s, c), (400, 175406), "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("no faucet for MATIC-AMOY"),
        "{b}"
    );
}

#[tokio::test]
async fn an_operator_faucet_key_drips_from_its_own_account_and_says_when_it_is_dry() {
    let amoy = Anvil::start(80_002).await;
    let mut chain = latchkey_evm::connect(
        Blockchain::MaticAmoy,
        &amoy.url,
        &latchkey_evm::RpcOptions::default(),
    )
    .await
    .unwrap();
    let key = latchkey_core::money::OperatorKey::from_hex(&"4b".repeat(32)).unwrap();
    let operator = format!("{:#x}", key.address());
    chain.faucet_key = Some(std::sync::Arc::new(key));
    let mut set = latchkey_core::money::ChainSet::new();
    set.insert(chain);
    // No --dev: a key is a faucet of its own, on any node.
    let settings = latchkey_core::Settings {
        dev: false,
        ..test_settings()
    };
    let app = spawn_app_with_chain_set(settings, set).await;
    let u = app.user().await;
    let w = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let (wallet, address) = (
        w[0]["id"].as_str().unwrap().to_owned(),
        w[0]["address"].as_str().unwrap().to_owned(),
    );
    let both =
        json!({ "address": address, "blockchain": "MATIC-AMOY", "native": true, "usdc": true });

    // An empty account: refused, naming the account for the operator.
    let (s, c, b) = drip(&app, both.clone()).await;
    assert_eq!((s, c), (400, 175406), "{b}");
    let message = b["message"].as_str().unwrap().to_lowercase();
    assert!(
        message.contains(&operator) && message.contains("refill"),
        "{b}"
    );

    // Fund it: 1 POL, and 100 USDC of the development token at Circle's USDC address.
    amoy.rpc("anvil_setBalance", json!([operator, "0xde0b6b3a7640000"]))
        .await;
    amoy.rpc(
        "anvil_setCode",
        json!([USDC_AMOY_ADDRESS, artifact("TestUsdc")["deployedBytecode"]]),
    )
    .await;
    let acct0 = amoy.accounts().await[0].clone();
    let mint = format!(
        "{}{:0>64}{:064x}",
        selector("TestUsdc", "mint(address,uint256)"),
        operator.trim_start_matches("0x"),
        100_000_000u64
    );
    amoy.send(json!({ "from": acct0, "to": USDC_AMOY_ADDRESS, "data": mint }))
        .await;

    let (s, c, b) = drip(&app, both).await;
    assert_eq!((s, c), (204, 0), "{b}");
    await_balances(
        &app,
        &u,
        &wallet,
        &[pair(POL_AMOY, "0.2"), pair(USDC_AMOY, "20")],
    )
    .await;
    // Drips at once from one key take one nonce each (signed by latchkey, not unlocked).
    let native = json!({ "address": address, "blockchain": "MATIC-AMOY", "native": true });
    let (a, b, c) = tokio::join!(
        drip(&app, native.clone()),
        drip(&app, native.clone()),
        drip(&app, native.clone())
    );
    for (s, c, b) in [a, b, c] {
        assert_eq!((s, c), (204, 0), "{b}");
    }
    await_balances(
        &app,
        &u,
        &wallet,
        &[pair(POL_AMOY, "0.8"), pair(USDC_AMOY, "20")],
    )
    .await;
    let nonce = amoy
        .rpc("eth_getTransactionCount", json!([operator, "latest"]))
        .await;
    assert_eq!(nonce, json!("0x5"), "two drips, then three");
    let held = amoy
        .rpc(
            "eth_call",
            json!([{ "to": USDC_AMOY_ADDRESS, "data": format!("0x70a08231{:0>64}", operator.trim_start_matches("0x")) }, "latest"]),
        )
        .await;
    assert_eq!(
        u128::from_str_radix(held.as_str().unwrap().trim_start_matches("0x"), 16).unwrap(),
        80_000_000,
        "the USDC came from the operator's holding"
    );
}
