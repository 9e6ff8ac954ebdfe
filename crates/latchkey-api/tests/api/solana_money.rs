//! Money on Solana, slice 1, on the local Solana node (`tests/solana-node`: LiteSVM behind
//! JSON-RPC, every transaction executed): the `--dev` faucet (an airdrop of SOL, and 20 USDC
//! minted from latchkey's own test mint, registered under Circle's SOL-DEVNET USDC token id)
//! shows in `GET /wallets/{id}/balances` to the base unit; a Token-2022 mint the test sends
//! the wallet shows up too, registered on first sight; the filters, paging and monitored
//! scope; tenancy; the faucet's refusals; and NFTs, not built for Solana, answering 156027
//! saying what is missing, never a 500. Transfers, the engine and deposits are in
//! `solana_transfers.rs`.

use crate::support::solana_node::SolanaNode;
use crate::support::wallets::init_with_wallets;
use crate::support::*;
use latchkey_chains::{token_uuid, Blockchain, Family};
use latchkey_core::money::ChainSet;
use latchkey_solana::instruction::{ata, system, token, MINT_SIZE};
use latchkey_solana::pubkey::TOKEN_2022_PROGRAM;
use latchkey_solana::{Commitment, Message, Pubkey, RpcOptions, SendOptions, SolanaRpc};
use serde_json::{json, Value};
use std::time::Duration;

const DRIPS: &str = "/v1/faucet/drips";
/// Circle's SOL-DEVNET USDC token id (and its mint on devnet, which the local node lacks).
pub(crate) const USDC_DEVNET: &str = "8fb3cadb-0ef4-573d-8fcd-e194f961c728";
const USDC_DEVNET_MINT: &str = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";

fn sol_devnet() -> String {
    token_uuid(Blockchain::SolDevnet, None).to_string()
}

/// A server (these settings) whose SOL-DEVNET is the local node, connected as `serve` does.
pub(crate) async fn app_on(node: &SolanaNode, settings: latchkey_core::Settings) -> TestApp {
    let chain = latchkey_solana::connect(Blockchain::SolDevnet, &node.url, &RpcOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(chain.info.is_local);
    let mut set = ChainSet::new();
    set.insert_solana(chain.into_money_chain());
    spawn_app_with_chain_set(settings, set).await
}

/// A node, a server on it, a user with one SOL-DEVNET wallet: (node, app, user, wallet id,
/// address).
pub(crate) async fn devnet_wallet() -> (SolanaNode, TestApp, TestUser, String, String) {
    let node = SolanaNode::start(&[]);
    let app = app_on(&node, test_settings()).await;
    let u = app.user().await;
    let w = init_with_wallets(&app, &u, json!(["SOL-DEVNET"])).await;
    let id = w[0]["id"].as_str().unwrap().to_owned();
    let address = w[0]["address"].as_str().unwrap().to_owned();
    (node, app, u, id, address)
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

pub(crate) async fn drip(app: &TestApp, body: Value) -> (u16, i64, Value) {
    let (s, b, _) = app.post(DRIPS, None, body).await;
    (s, b["code"].as_i64().unwrap_or(0), b)
}

/// A funded signer on the node: its secret and address.
async fn funded(rpc: &SolanaRpc) -> (latchkey_chains::Zeroizing<Vec<u8>>, Pubkey) {
    let secret = latchkey_chains::generate(Family::Solana);
    let address: Pubkey = latchkey_chains::address(Family::Solana, &secret)
        .unwrap()
        .parse()
        .unwrap();
    let sig = rpc.request_airdrop(&address, 1_000_000_000).await.unwrap();
    confirmed(rpc, &sig).await;
    (secret, address)
}

async fn confirmed(rpc: &SolanaRpc, sig: &str) {
    let status = rpc
        .wait_for_signature(sig, Commitment::Confirmed, Duration::from_secs(20))
        .await
        .unwrap()
        .expect("it lands");
    assert_eq!(status.err, None);
}

/// Creates a Token-2022 mint with `decimals` (authority: a fresh funded signer) and mints
/// `amount` base units to `owner`'s associated account; returns the mint.
pub(crate) async fn token_2022_to(
    node: &SolanaNode,
    owner: &str,
    decimals: u8,
    amount: u64,
) -> String {
    let rpc = SolanaRpc::new(&node.url, &RpcOptions::default()).unwrap();
    let (payer_secret, payer) = funded(&rpc).await;
    let mint_secret = latchkey_chains::generate(Family::Solana);
    let mint: Pubkey = latchkey_chains::address(Family::Solana, &mint_secret)
        .unwrap()
        .parse()
        .unwrap();
    let owner: Pubkey = owner.parse().unwrap();
    let program = TOKEN_2022_PROGRAM;
    let rent = rpc
        .get_minimum_balance_for_rent_exemption(MINT_SIZE)
        .await
        .unwrap();
    let (create, account) = ata::create_idempotent(&payer, &owner, &mint, &program).unwrap();
    let instructions = [
        system::create_account(&payer, &mint, rent, MINT_SIZE, &program),
        token::initialize_mint2(&program, &mint, decimals, &payer, None),
        create,
        token::mint_to(&program, &mint, &account, &payer, amount),
    ];
    let latest = rpc
        .get_latest_blockhash(Commitment::Confirmed)
        .await
        .unwrap();
    let hash = latchkey_solana::message::parse_blockhash(&latest.blockhash).unwrap();
    let signed = Message::new(&instructions, &payer, hash)
        .unwrap()
        .sign(&[&payer_secret[..], &mint_secret[..]])
        .unwrap();
    let sig = rpc
        .send_transaction(&signed.base64, &SendOptions::default())
        .await
        .unwrap();
    confirmed(&rpc, &sig).await;
    mint.to_string()
}

#[tokio::test]
async fn a_drip_shows_in_the_balances_with_circles_token_ids() {
    let (_node, app, u, wallet, address) = devnet_wallet().await;
    let (s, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!((s, amounts(&b)), (200, vec![]), "an empty wallet: {b}");

    let body =
        json!({ "address": address, "blockchain": "SOL-DEVNET", "native": true, "usdc": true });
    let (s, _, reply) = drip(&app, body.clone()).await;
    assert_eq!(s, 204, "{reply}");
    // The drip answers once its transactions are confirmed: no waiting here.
    let (s, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        amounts(&b),
        vec![pair(&sol_devnet(), "0.01"), pair(USDC_DEVNET, "20")],
        "{b}"
    );
    let sol = &b["data"]["tokenBalances"][0]["token"];
    assert_eq!(
        (&sol["isNative"], &sol["symbol"], &sol["decimals"]),
        (&json!(true), &json!("SOL-DEVNET"), &json!(9)),
        "{sol}"
    );
    let usdc = &b["data"]["tokenBalances"][1]["token"];
    assert_eq!(
        (&usdc["symbol"], &usdc["decimals"], &usdc["blockchain"]),
        (&json!("USDC"), &json!(6), &json!("SOL-DEVNET")),
        "{usdc}"
    );
    // The local test mint stands in for Circle's (which the local node does not have).
    let mint = usdc["tokenAddress"].as_str().unwrap().to_owned();
    assert_ne!(mint, USDC_DEVNET_MINT);
    let rpc = SolanaRpc::new(&_node.url, &RpcOptions::default()).unwrap();
    let accounts = rpc
        .token_accounts_of(&address.parse().unwrap(), Commitment::Confirmed)
        .await
        .unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        (accounts[0].mint.to_string(), accounts[0].amount.amount),
        (mint.clone(), 20_000_000)
    );

    // A second drip adds to both, from the same mint (created once).
    let (s, _, reply) = drip(&app, body).await;
    assert_eq!(s, 204, "{reply}");
    let (_, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!(
        amounts(&b),
        vec![pair(&sol_devnet(), "0.02"), pair(USDC_DEVNET, "40")]
    );
    assert_eq!(b["data"]["tokenBalances"][1]["token"]["tokenAddress"], mint);
    // Only SOL, to another wallet (the address need not exist yet).
    let other = init_with_wallets(&app, &app.user().await, json!(["SOL-DEVNET"])).await;
    let body =
        json!({ "address": other[0]["address"], "blockchain": "SOL-DEVNET", "native": true });
    assert_eq!(drip(&app, body).await.0, 204);
    assert_eq!(
        rpc.get_balance(
            &other[0]["address"].as_str().unwrap().parse().unwrap(),
            Commitment::Confirmed
        )
        .await
        .unwrap(),
        10_000_000
    );
}

#[tokio::test]
async fn a_mint_seen_first_is_registered_and_filtered_like_any_token() {
    let (node, app, u, wallet, address) = devnet_wallet().await;
    let body =
        json!({ "address": address, "blockchain": "SOL-DEVNET", "native": true, "usdc": true });
    assert_eq!(drip(&app, body).await.0, 204);
    let mint = token_2022_to(&node, &address, 2, 12_345).await;
    let other = token_uuid(Blockchain::SolDevnet, Some(&mint)).to_string();
    let all = [
        pair(&sol_devnet(), "0.01"),
        pair(USDC_DEVNET, "20"),
        pair(&other, "123.45"),
    ];
    let (s, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!((s, amounts(&b)), (200, all.to_vec()), "{b}");
    let seen = &b["data"]["tokenBalances"][2]["token"];
    assert_eq!(
        (&seen["tokenAddress"], &seen["decimals"], &seen["isNative"]),
        (&json!(mint), &json!(2), &json!(false)),
        "{seen}"
    );
    // Registered: `GET /tokens/{id}` knows it now.
    let (s, t, _) = app.get(&format!("/v1/w3s/tokens/{other}"), None).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["data"]["token"]["tokenAddress"], json!(mint), "{t}");

    let usdc_mint = b["data"]["tokenBalances"][1]["token"]["tokenAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    let standard = seen["standard"].as_str().map(str::to_owned);
    for (query, want) in [
        (format!("?tokenAddress={mint}"), vec![all[2].clone()]),
        (
            format!("?tokenAddress={USDC_DEVNET_MINT},{usdc_mint}"),
            vec![all[1].clone()],
        ),
        ("?name=USD%20Coin".to_string(), vec![all[1].clone()]),
        ("?standard=ERC20".to_string(), vec![]),
        (
            format!("?standard={}", standard.as_deref().unwrap_or("Fungible")),
            vec![all[1].clone(), all[2].clone()],
        ),
        ("?pageSize=1".to_string(), vec![all[0].clone()]),
        (
            format!("?pageSize=1&pageAfter={}", sol_devnet()),
            vec![all[1].clone()],
        ),
    ] {
        let (s, b, _) = balances(&app, &u, &wallet, &query).await;
        assert_eq!(s, 200, "{query}: {b}");
        assert_eq!(amounts(&b), want, "{query}");
    }

    // A SELECTED scope shows the monitored tokens only, unless includeAll.
    let monitored = "/v1/w3s/config/entity/monitoredTokens";
    let (s, b, _) = app
        .post(monitored, None, json!({ "tokenIds": [USDC_DEVNET] }))
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, b, _) = balances(&app, &u, &wallet, "").await;
    assert_eq!(amounts(&b), vec![all[1].clone()]);
    let (_, b, _) = balances(&app, &u, &wallet, "?includeAll=true").await;
    assert_eq!(amounts(&b), all.to_vec());
}

#[tokio::test]
async fn tenancy_refusals_and_nfts_not_built_for_solana() {
    let (_node, app, owner, wallet, address) = devnet_wallet().await;
    // Another user's wallet is not found.
    let stranger = app.initialized_user(PIN).await;
    let (s, b, _) = balances(&app, &stranger, &wallet, "").await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)), "{b}");

    // The faucet: EURC is not offered; SOL (mainnet) is no testnet; a bad address.
    let (s, c, b) = drip(
        &app,
        json!({ "address": address, "blockchain": "SOL-DEVNET", "eurc": true }),
    )
    .await;
    assert_eq!((s, c), (400, 175406), "{b}");
    let (s, c, b) = drip(
        &app,
        json!({ "address": address, "blockchain": "SOL", "native": true }),
    )
    .await;
    assert_eq!((s, c), (400, 2), "{b}");
    let (s, c, b) = drip(
        &app,
        json!({ "address": "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582", "blockchain": "SOL-DEVNET", "native": true }),
    )
    .await;
    assert_eq!((s, c), (400, 155219), "{b}");

    // NFTs are not built for Solana: 156027 saying what is missing, never a 500.
    let (s, b, _) = app
        .get(
            &format!("/v1/w3s/wallets/{wallet}/nfts"),
            Some(&owner.token),
        )
        .await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(156027)), "{b}");
    // History reads the database only: an empty list.
    let (s, b, _) = app
        .get(
            &format!("/v1/w3s/transactions?walletIds={wallet}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn without_dev_or_without_a_node_there_is_no_solana_faucet() {
    let node = SolanaNode::start(&[]);
    let settings = latchkey_core::Settings {
        dev: false,
        ..test_settings()
    };
    let app = app_on(&node, settings).await;
    let u = app.user().await;
    let w = init_with_wallets(&app, &u, json!(["SOL-DEVNET"])).await;
    let body = json!({ "address": w[0]["address"], "blockchain": "SOL-DEVNET", "native": true });
    let (s, c, b) = drip(&app, body.clone()).await;
    assert_eq!((s, c), (400, 175406), "{b}");
    // Balances still read.
    let (s, b, _) = balances(&app, &u, w[0]["id"].as_str().unwrap(), "").await;
    assert_eq!((s, amounts(&b)), (200, vec![]), "{b}");

    // No node: 156027 naming the setting, for balances and the faucet.
    let bare = spawn_app().await;
    let u = bare.user().await;
    let w = init_with_wallets(&bare, &u, json!(["SOL-DEVNET"])).await;
    let (s, b, _) = balances(&bare, &u, w[0]["id"].as_str().unwrap(), "").await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(156027)), "{b}");
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("--rpc SOL-DEVNET=URL"));
    let body = json!({ "address": w[0]["address"], "blockchain": "SOL-DEVNET", "native": true });
    assert_eq!(drip(&bare, body).await.1, 156027);

    // The node gone: 503.
    let (_node2, app2, u2, wallet2, _) = devnet_wallet().await;
    drop(_node2);
    let (s, b, _) = balances(&app2, &u2, &wallet2, "").await;
    assert_eq!((s, b["code"].as_i64()), (503, Some(-1)), "{b}");
}
