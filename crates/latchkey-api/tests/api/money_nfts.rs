//! NFTs end to end on a real node: ERC-721 and ERC-1155 deposits recorded once as INBOUND
//! transactions (ids in `nftTokenIds`, counts in `amounts`, the collection registered with
//! its standard), `GET /wallets/{id}/nfts` (holdings read from the chain for the NFTs of the
//! wallet's transfers; filters, paging, tenancy), and ERC-721 / ERC-1155 transfers out of a
//! wallet to COMPLETE, with the preflight's ownership and balance refusals.

use crate::money_transfers::{approve, create, engine_until, key, transaction, DEST};
use crate::openapi_contract::{check, document};
use crate::support::anvil::{selector, Anvil};
use crate::support::wallets::*;
use crate::support::*;
use latchkey_chains::Blockchain;
use serde_json::{json, Value};

const ESTIMATE: &str = "/v1/w3s/transactions/transfer/estimateFee";

fn word_address(a: &str) -> String {
    format!("{:0>64}", a.trim_start_matches("0x").to_lowercase())
}

fn word(n: u64) -> String {
    format!("{n:064x}")
}

/// `TestNft721.mint(to, id)`.
async fn mint_721(node: &Anvil, contract: &str, to: &str, id: u64) -> Value {
    let from = node.accounts().await.remove(0);
    let data = format!(
        "{}{}{}",
        selector("TestNft721", "mint(address,uint256)"),
        word_address(to),
        word(id)
    );
    node.send(json!({ "from": from, "to": contract, "data": data }))
        .await
}

/// `TestMulti1155.mint(to, id, value)`.
async fn mint_1155(node: &Anvil, contract: &str, to: &str, id: u64, value: u64) -> Value {
    let from = node.accounts().await.remove(0);
    let data = format!(
        "{}{}{}{}",
        selector("TestMulti1155", "mint(address,uint256,uint256)"),
        word_address(to),
        word(id),
        word(value)
    );
    node.send(json!({ "from": from, "to": contract, "data": data }))
        .await
}

/// `TestMulti1155.mintBatch(to, ids, values)`: one `TransferBatch` log.
async fn mint_1155_batch(node: &Anvil, contract: &str, to: &str, pairs: &[(u64, u64)]) -> Value {
    let from = node.accounts().await.remove(0);
    let n = pairs.len() as u64;
    let mut data = format!(
        "{}{}{}{}",
        selector("TestMulti1155", "mintBatch(address,uint256[],uint256[])"),
        word_address(to),
        word(0x60),
        word(0x60 + 32 * (n + 1)),
    );
    data.push_str(&word(n));
    for (id, _) in pairs {
        data.push_str(&word(*id));
    }
    data.push_str(&word(n));
    for (_, value) in pairs {
        data.push_str(&word(*value));
    }
    node.send(json!({ "from": from, "to": contract, "data": data }))
        .await
}

async fn call_uint(node: &Anvil, contract: &str, data: String) -> String {
    let out = node
        .rpc(
            "eth_call",
            json!([{ "to": contract, "data": data }, "latest"]),
        )
        .await;
    out.as_str().unwrap().trim_start_matches("0x").to_owned()
}

/// `ownerOf(id)`, lowercase `0x` hex.
async fn owner_of(node: &Anvil, contract: &str, id: u64) -> String {
    let data = format!("{}{}", selector("TestNft721", "ownerOf(uint256)"), word(id));
    let out = call_uint(node, contract, data).await;
    format!("0x{}", &out[24..]).to_lowercase()
}

/// `balanceOf(owner, id)` of the ERC-1155.
async fn balance_1155(node: &Anvil, contract: &str, owner: &str, id: u64) -> u64 {
    let data = format!(
        "{}{}{}",
        selector("TestMulti1155", "balanceOf(address,uint256)"),
        word_address(owner),
        word(id)
    );
    u64::from_str_radix(&call_uint(node, contract, data).await, 16).unwrap()
}

/// The user's INBOUND transactions, oldest first.
async fn deposits(app: &TestApp, u: &TestUser) -> Vec<Value> {
    let (s, body, _) = app
        .get(
            "/v1/w3s/transactions?txType=INBOUND&order=ASC",
            Some(&u.token),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    body["data"]["transactions"].as_array().unwrap().clone()
}

/// Steps the engine until the user has `n` deposits, all COMPLETE.
async fn until_deposits(app: &TestApp, u: &TestUser, n: usize) -> Vec<Value> {
    for _ in 0..30 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
        let found = deposits(app, u).await;
        if found.len() == n && found.iter().all(|d| d["state"] == "COMPLETE") {
            return found;
        }
    }
    panic!("never {n} complete deposits: {:?}", deposits(app, u).await);
}

/// `GET /wallets/{id}/nfts` + query: status, body, `Link`.
async fn nfts(app: &TestApp, u: &TestUser, wallet: &str, query: &str) -> (u16, Value, String) {
    let (s, b, h) = app
        .get(
            &format!("/v1/w3s/wallets/{wallet}/nfts{query}"),
            Some(&u.token),
        )
        .await;
    let link = h
        .get("link")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (s, b, link)
}

/// `(token address, nftTokenId, amount)` of each listed NFT.
fn held(body: &Value) -> Vec<(String, String, String)> {
    body["data"]["nfts"]
        .as_array()
        .unwrap_or_else(|| panic!("no nfts: {body}"))
        .iter()
        .map(|n| {
            (
                n["token"]["tokenAddress"].as_str().unwrap().to_lowercase(),
                n["nftTokenId"].as_str().unwrap().to_owned(),
                n["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn cursor(link: &str, rel: &str, param: &str) -> String {
    let part = link
        .split(", ")
        .find(|p| p.ends_with(&format!("rel=\"{rel}\"")))
        .unwrap_or_else(|| panic!("no {rel} in {link}"));
    let at = part.find(&format!("{param}=")).unwrap() + param.len() + 1;
    part[at..].chars().take(36).collect()
}

#[tokio::test]
async fn nft_deposits_are_recorded_once_and_listed_from_the_chain() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let doc = document(&app.base).await;
    let (hooks, endpoint) = crate::support::webhooks::Receiver::start().await;
    crate::support::webhooks::subscribe(&app, &endpoint, Some(vec!["transactions.inbound"])).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let wallet = wallets[0]["id"].as_str().unwrap().to_owned();
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let nft = amoy.deploy("TestNft721").await;
    let multi = amoy.deploy("TestMulti1155").await;
    // The first pass starts following at the head.
    app.engine.run_once().await;
    // Before anything arrived the wallet holds no NFT.
    let (s, b, _) = nfts(&app, &u, &wallet, "").await;
    assert_eq!((s, held(&b).len()), (200, 0), "{b}");

    let m7 = mint_721(&amoy, &nft, &address, 7).await;
    mint_721(&amoy, &nft, &address, 8).await;
    let batch = mint_1155_batch(&amoy, &multi, &address, &[(1, 10), (2, 20)]).await;
    // To an address that is no wallet: nobody's deposit.
    mint_1155(&amoy, &multi, DEST, 3, 5).await;
    let found = until_deposits(&app, &u, 3).await;

    let by_hash = |h: &Value| found.iter().find(|d| d["txHash"] == *h).cloned().unwrap();
    let d7 = by_hash(&m7["transactionHash"]);
    assert_eq!(
        (&d7["nftTokenIds"], &d7["amounts"], &d7["transactionType"]),
        (&json!(["7"]), &json!(["1"]), &json!("INBOUND")),
        "{d7}"
    );
    assert_eq!(
        d7["sourceAddress"].as_str().unwrap(),
        "0x0000000000000000000000000000000000000000"
    );
    let db = by_hash(&batch["transactionHash"]);
    assert_eq!(
        (&db["nftTokenIds"], &db["amounts"], &db["state"]),
        (&json!(["1", "2"]), &json!(["10", "20"]), &json!("COMPLETE")),
        "one transaction for the batch log: {db}"
    );
    // Each collection was registered on first sight with its standard; the ERC-1155 has no
    // name() or symbol(), which left them out without failing the pass.
    let token = |id: &Value| {
        let id = id.as_str().unwrap().to_owned();
        let app = &app;
        async move {
            let (s, b, _) = app.get(&format!("/v1/w3s/tokens/{id}"), None).await;
            assert_eq!(s, 200, "{b}");
            b["data"]["token"].clone()
        }
    };
    let t721 = token(&d7["tokenId"]).await;
    assert_eq!(
        (&t721["standard"], &t721["name"], &t721["symbol"]),
        (
            &json!("ERC721"),
            &json!("latchkey Test NFT"),
            &json!("LKNFT")
        ),
        "{t721}"
    );
    let t1155 = token(&db["tokenId"]).await;
    assert_eq!(t1155["standard"], "ERC1155", "{t1155}");
    assert!(
        t1155["name"].is_null() && t1155["symbol"].is_null(),
        "{t1155}"
    );

    // Reading the same blocks again records nothing twice.
    app.sql("UPDATE chains SET next_block = 1", &[]).await;
    for _ in 0..3 {
        app.engine.run_once().await;
        app.clock.advance_ms(1_000);
    }
    assert_eq!(deposits(&app, &u).await.len(), 3);
    crate::support::webhooks::drain(&app).await;
    for d in &found {
        let mut states: Vec<String> = hooks
            .of_type("transactions.inbound")
            .into_iter()
            .filter(|b| b["notification"]["id"] == d["id"])
            .map(|b| b["notification"]["state"].as_str().unwrap().to_owned())
            .collect();
        states.sort();
        assert_eq!(states, ["COMPLETE", "CONFIRMED"], "{d}");
    }
    let hook = hooks
        .of_type("transactions.inbound")
        .into_iter()
        .find(|b| b["notification"]["id"] == db["id"])
        .unwrap();
    assert_eq!(hook["notification"]["nftTokenIds"], json!(["1", "2"]));

    // The holdings, in order of first transfer, read from the chain.
    let (s, b, _) = nfts(&app, &u, &wallet, "").await;
    assert_eq!(s, 200, "{b}");
    check(&doc, "GET", "/v1/w3s/wallets/{id}/nfts", s, &b);
    let all = vec![
        (nft.clone(), "7".to_owned(), "1".to_owned()),
        (nft.clone(), "8".to_owned(), "1".to_owned()),
        (multi.clone(), "1".to_owned(), "10".to_owned()),
        (multi.clone(), "2".to_owned(), "20".to_owned()),
    ];
    assert_eq!(held(&b), all);
    let first = &b["data"]["nfts"][0];
    assert_eq!(first["token"]["standard"], "ERC721");
    assert_eq!(first["metadata"], "https://nft.invalid/latchkey/{id}.json");
    assert!(first["updateDate"].is_string(), "{first}");
    // An NFT is never a balance.
    let (s, b, _) = app
        .get(
            &format!("/v1/w3s/wallets/{wallet}/balances?includeAll=true"),
            Some(&u.token),
        )
        .await;
    assert_eq!(
        (s, b["data"]["tokenBalances"].as_array().unwrap().len()),
        (200, 0),
        "{b}"
    );

    // Filters.
    let filtered = |q: &'static str| {
        let (app, u, wallet) = (&app, &u, &wallet);
        async move {
            let (s, b, _) = nfts(app, u, wallet, q).await;
            assert_eq!(s, 200, "{q}: {b}");
            held(&b)
        }
    };
    assert_eq!(filtered("?standard=ERC1155").await, all[2..].to_vec());
    assert_eq!(
        filtered("?standard=ERC20").await,
        Vec::<(String, String, String)>::new()
    );
    assert_eq!(
        filtered("?name=latchkey%20Test%20NFT").await,
        all[..2].to_vec()
    );
    let (_, b, _) = nfts(
        &app,
        &u,
        &wallet,
        &format!("?tokenAddress={}", multi.to_uppercase().replace("0X", "0x")),
    )
    .await;
    assert_eq!(held(&b), all[2..].to_vec());
    let (s, b, _) = nfts(&app, &u, &wallet, "?standard=ERC999").await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(2)), "{b}");

    // Paging: cursors are UUIDs in the Link header.
    let (_, b, link) = nfts(&app, &u, &wallet, "?pageSize=3").await;
    assert_eq!(held(&b), all[..3].to_vec());
    assert!(!link.contains("rel=\"prev\""), "{link}");
    let next = cursor(&link, "next", "pageAfter");
    let (_, b, link) = nfts(&app, &u, &wallet, &format!("?pageSize=3&pageAfter={next}")).await;
    assert_eq!(held(&b), all[3..].to_vec());
    assert!(!link.contains("rel=\"next\""), "{link}");
    let prev = cursor(&link, "prev", "pageBefore");
    let (_, b, _) = nfts(&app, &u, &wallet, &format!("?pageSize=2&pageBefore={prev}")).await;
    assert_eq!(held(&b), all[1..3].to_vec());
    let (s, b, _) = nfts(&app, &u, &wallet, "?pageAfter=not-a-uuid").await;
    assert_eq!((s, b["code"].as_i64()), (400, Some(156014)), "{b}");
    let unknown = uuid::Uuid::new_v4();
    let (s, b, _) = nfts(&app, &u, &wallet, &format!("?pageAfter={unknown}")).await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156012)), "{b}");

    // A SELECTED scope without these collections hides them, unless includeAll.
    let monitored = "/v1/w3s/config/entity/monitoredTokens";
    let (s, b, _) = app
        .post(monitored, None, json!({ "tokenIds": [d7["tokenId"]] }))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(filtered("").await, all[..2].to_vec());
    assert_eq!(filtered("?includeAll=true").await, all);

    // Another user's token never sees the wallet.
    let other = app.initialized_user(PIN).await;
    let (s, b, _) = nfts(&app, &other, &wallet, "").await;
    assert_eq!((s, b["code"].as_i64()), (404, Some(156001)), "{b}");
    check(&doc, "GET", "/v1/w3s/wallets/{id}/nfts", s, &b);
    assert!(deposits(&app, &other).await.is_empty());
}

#[tokio::test]
async fn erc721_and_erc1155_transfers_complete_and_the_holdings_follow() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let wallet = wallets[0]["id"].as_str().unwrap().to_owned();
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let receiver = app.user().await;
    let theirs = init_with_wallets(&app, &receiver, json!(["MATIC-AMOY"])).await;
    let their_wallet = theirs[0]["id"].as_str().unwrap().to_owned();
    let their_address = theirs[0]["address"].as_str().unwrap().to_lowercase();
    let acct0 = amoy.accounts().await[0].clone();
    let nft = amoy.deploy("TestNft721").await;
    let multi = amoy.deploy("TestMulti1155").await;
    app.engine.run_once().await;
    amoy.send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    mint_721(&amoy, &nft, &address, 7).await;
    mint_1155(&amoy, &multi, &address, 1, 10).await;
    let found = until_deposits(&app, &u, 3).await;
    let nft_id = found
        .iter()
        .find(|d| d["nftTokenIds"] == json!(["7"]))
        .unwrap()["tokenId"]
        .clone();

    let body = |extra: Value| {
        let mut b = json!({
            "idempotencyKey": key(),
            "walletId": wallet,
            "destinationAddress": DEST,
            "feeLevel": "MEDIUM",
        });
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    // The preflight: an id the wallet does not own, more units than it holds.
    let refusals = [
        (
            "an ERC-721 it does not own",
            json!({ "tokenId": nft_id, "amounts": ["1"], "nftTokenIds": ["99"] }),
            155258,
            155206,
        ),
        (
            "more ERC-1155 units than it holds",
            json!({ "tokenAddress": multi, "blockchain": "MATIC-AMOY",
                "amounts": ["11"], "nftTokenIds": ["1"] }),
            155258,
            155205,
        ),
    ];
    for (what, extra, create_code, estimate_code) in refusals {
        let (s, c, b) = create(&app, &u, body(extra.clone())).await;
        assert_eq!((s, c), (400, create_code), "{what}: {b}");
        let mut estimate = body(extra);
        estimate.as_object_mut().unwrap().remove("idempotencyKey");
        estimate.as_object_mut().unwrap().remove("feeLevel");
        let (s, b, _) = app.post(ESTIMATE, Some(&u.token), estimate).await;
        assert_eq!(
            (s, b["code"].as_i64()),
            (400, Some(estimate_code)),
            "{what}: {b}"
        );
    }

    // The ERC-721 by token id, to an address outside latchkey.
    let sent = approve(
        &app,
        &u,
        body(json!({ "tokenId": nft_id, "amounts": ["1"], "nftTokenIds": ["7"] })),
    )
    .await;
    let done = engine_until(&app, &u, &sent, "COMPLETE").await;
    assert_eq!(
        (&done["nftTokenIds"], &done["amounts"], &done["tokenId"]),
        (&json!(["7"]), &json!(["1"]), &nft_id),
        "{done}"
    );
    assert_eq!(owner_of(&amoy, &nft, 7).await, DEST);

    // 4 of the ERC-1155 by contract address, to another user's wallet.
    let sent = approve(
        &app,
        &u,
        body(json!({ "tokenAddress": multi, "blockchain": "MATIC-AMOY",
            "amounts": ["4"], "nftTokenIds": ["1"], "destinationAddress": their_address })),
    )
    .await;
    let done = engine_until(&app, &u, &sent, "COMPLETE").await;
    assert_eq!(done["nftTokenIds"], json!(["1"]), "{done}");
    assert_eq!(balance_1155(&amoy, &multi, &address, 1).await, 6);
    assert_eq!(balance_1155(&amoy, &multi, &their_address, 1).await, 4);
    assert_eq!(
        transaction(&app, &u, &sent).await["transactionType"],
        "OUTBOUND"
    );

    // The sender holds what is left; the receiver got an INBOUND deposit and holds the rest.
    let (s, b, _) = nfts(&app, &u, &wallet, "").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        held(&b),
        vec![(multi.clone(), "1".to_owned(), "6".to_owned())]
    );
    let got = until_deposits(&app, &receiver, 1).await;
    assert_eq!(
        (&got[0]["nftTokenIds"], &got[0]["amounts"]),
        (&json!(["1"]), &json!(["4"])),
        "{got:?}"
    );
    let (s, b, _) = nfts(&app, &receiver, &their_wallet, "").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        held(&b),
        vec![(multi.clone(), "1".to_owned(), "4".to_owned())]
    );
}
