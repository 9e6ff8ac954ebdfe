//! Transaction history through HTTP: `GET /v1/w3s/transactions` (filters, paging, `Link`),
//! `/transactions/{id}` (156009, 156003) and `/transactions/lowestNonceTransaction`, over rows
//! seeded through the store (nothing creates transactions through the API yet). A user's
//! token never shows another user's transactions, and another entity sees none of them.

use crate::openapi_contract::check;
use crate::support::wallets::init_with_wallets;
use crate::support::*;
use latchkey_chains::Blockchain;
use latchkey_core::clock::Timestamp;
use latchkey_core::model::{Entity, Environment};
use latchkey_core::money::*;
use serde_json::{json, Value};

/// An OUTBOUND native transfer from `wallet` (as `GET /wallets/{id}` shows it), created
/// `at` ms after `t0`.
fn outbound(
    owner: &latchkey_core::model::UserRecord,
    wallet: &Value,
    t0: Timestamp,
    at: i64,
) -> TransactionRecord {
    let created = t0.plus_ms(at);
    TransactionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        entity_id: owner.entity_id.clone(),
        user_internal_id: owner.internal_id.clone(),
        user_id: String::new(),
        wallet_id: wallet["id"].as_str().unwrap().to_string(),
        blockchain: Blockchain::parse(wallet["blockchain"].as_str().unwrap()).unwrap(),
        tx_type: TxType::Outbound,
        operation: TxOperation::Transfer,
        state: TxState::Initiated,
        token_id: Some("36b6931a-873a-56a8-8a27-b706b17104ee".into()),
        amounts: vec!["0.01".into()],
        nft_token_ids: None,
        source_address: wallet["address"].as_str().map(String::from),
        destination_address: Some("0x6e5eaf34c73d1cd0be4e24f923b97cf38e10d1f3".into()),
        contract_address: None,
        abi_function_signature: None,
        abi_parameters: None,
        call_data: None,
        ref_id: None,
        fee_level: Some(FeeLevel::Medium),
        estimated_fee: Some(TransactionFee {
            gas_limit: Some("21000".into()),
            max_fee: Some("5.935224468".into()),
            priority_fee: Some("1.022783914".into()),
            ..TransactionFee::default()
        }),
        nonce: None,
        tx_hash: None,
        user_op_hash: None,
        block_hash: None,
        block_height: None,
        first_confirm_date: None,
        network_fee: None,
        error_reason: None,
        error_details: None,
        challenge_id: None,
        log_index: None,
        sent_at: None,
        next_check_at: created,
        lease_until: None,
        lease_token: None,
        created_at: created,
        updated_at: created,
    }
}

async fn seed(app: &TestApp, t: &TransactionRecord) {
    app.lk.store().insert_transaction(t).await.unwrap();
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]["transactions"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// The URL of `rel` in a `Link` header, relative to the server.
fn link(h: &reqwest::header::HeaderMap, base: &str, rel: &str) -> Option<String> {
    let header = h["link"].to_str().unwrap();
    header.split(", ").find_map(|part| {
        let (url, r) = part.split_once("; ")?;
        (r == format!("rel=\"{rel}\"")).then(|| {
            url.trim_matches(['<', '>'])
                .trim_start_matches(base)
                .to_string()
        })
    })
}

/// A user with wallets on MATIC-AMOY and ETH-SEPOLIA, and its stored record.
async fn owner(app: &TestApp) -> (TestUser, latchkey_core::model::UserRecord, Vec<Value>) {
    let u = app.user().await;
    let wallets = init_with_wallets(app, &u, json!(["MATIC-AMOY", "ETH-SEPOLIA"])).await;
    let row = app.user_row(&u).await;
    (u, row, wallets)
}

#[tokio::test]
async fn lists_and_gets_only_the_users_own_transactions_in_circles_shape() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (a, a_row, a_wallets) = owner(&app).await;
    let (b, b_row, b_wallets) = owner(&app).await;
    let t0 = app.lk.now();
    let first = outbound(&a_row, &a_wallets[0], t0, 0);
    let done = TransactionRecord {
        state: TxState::Complete,
        tx_hash: Some("0x535f0000000000000000000000000000000000000000000000000000000000aa".into()),
        block_hash: Some("0xa4c5".into()),
        block_height: Some(41_100_000),
        first_confirm_date: Some(t0.plus_ms(1500)),
        network_fee: Some("0.0703".into()),
        ref_id: Some("order-7".into()),
        nonce: Some(0),
        updated_at: t0.plus_ms(2000),
        ..outbound(&a_row, &a_wallets[1], t0, 1000)
    };
    let theirs = outbound(&b_row, &b_wallets[0], t0, 500);
    for t in [&first, &done, &theirs] {
        seed(&app, t).await;
    }

    let (s, body, h) = app.get("/v1/w3s/transactions", Some(&a.token)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        ids(&body),
        [done.id.clone(), first.id.clone()],
        "newest first, A's only"
    );
    assert!(h.contains_key("link"));
    check(&doc, "GET", "/v1/w3s/transactions", s, &body);
    // Without txType the list leaves the fee out (Circle's list); GET shows it.
    let listed = body["data"]["transactions"][0].clone();
    assert!(
        listed.get("estimatedFee").is_none() && listed.get("feeLevel").is_none(),
        "{listed}"
    );
    let (s, with_type, _) = app
        .get("/v1/w3s/transactions?txType=OUTBOUND", Some(&a.token))
        .await;
    assert_eq!(s, 200);
    assert_eq!(with_type["data"]["transactions"][0]["feeLevel"], "MEDIUM");

    let (s, got, _) = app
        .get(&format!("/v1/w3s/transactions/{}", done.id), Some(&a.token))
        .await;
    assert_eq!(s, 200, "{got}");
    check(&doc, "GET", "/v1/w3s/transactions/{id}", s, &got);
    let t = &got["data"]["transaction"];
    let expected = json!({
        "id": done.id,
        "amounts": ["0.01"],
        "blockHash": "0xa4c5",
        "blockHeight": 41_100_000,
        "blockchain": "ETH-SEPOLIA",
        "createDate": done.created_at.iso(),
        "custodyType": "ENDUSER",
        "destinationAddress": "0x6e5eaf34c73d1cd0be4e24f923b97cf38e10d1f3",
        "estimatedFee": { "gasLimit": "21000", "maxFee": "5.935224468", "priorityFee": "1.022783914" },
        "feeLevel": "MEDIUM",
        "firstConfirmDate": t0.plus_ms(1500).iso(),
        "networkFee": "0.0703",
        "operation": "TRANSFER",
        "refId": "order-7",
        "sourceAddress": a_wallets[1]["address"],
        "state": "COMPLETE",
        "tokenId": "36b6931a-873a-56a8-8a27-b706b17104ee",
        "transactionType": "OUTBOUND",
        "txHash": done.tx_hash,
        "updateDate": t0.plus_ms(2000).iso(),
        "userId": a.user_id,
        "walletId": a_wallets[1]["id"],
    });
    assert_eq!(t, &expected);
    assert!(t["createDate"].as_str().unwrap().ends_with('Z'));
    // The list shows the same object (with txType, fee included).
    assert_eq!(&with_type["data"]["transactions"][0], t);
    let (_, only, _) = app
        .get(
            &format!(
                "/v1/w3s/transactions?txType=OUTBOUND&walletIds={}",
                a_wallets[1]["id"].as_str().unwrap()
            ),
            Some(&a.token),
        )
        .await;
    assert_eq!(only["data"]["transactions"], json!([t]));

    // Another user's transaction, an unknown one, a non-UUID, the wrong txType.
    for (path, status, code) in [
        (format!("/v1/w3s/transactions/{}", theirs.id), 404, 156003),
        (
            format!("/v1/w3s/transactions/{}", uuid::Uuid::new_v4()),
            404,
            156003,
        ),
        ("/v1/w3s/transactions/not-a-uuid".to_string(), 400, 156009),
        (
            format!("/v1/w3s/transactions/{}?txType=INBOUND", done.id),
            404,
            156003,
        ),
        (
            format!("/v1/w3s/transactions/{}?txType=SIDEWAYS", done.id),
            400,
            2,
        ),
    ] {
        let (s, body, _) = app.get(&path, Some(&a.token)).await;
        assert_eq!(
            (s, body["code"].as_i64()),
            (status, Some(code)),
            "{path}: {body}"
        );
        check(&doc, "GET", "/v1/w3s/transactions/{id}", s, &body);
    }
    // B sees B's only; a userId other than the token's user gives an empty page.
    let (_, body, _) = app.get("/v1/w3s/transactions", Some(&b.token)).await;
    assert_eq!(ids(&body), vec![theirs.id.clone()]);
    let (_, body, _) = app
        .get(
            &format!("/v1/w3s/transactions?userId={}", b.user_id),
            Some(&a.token),
        )
        .await;
    assert_eq!(ids(&body), Vec::<String>::new());
    let (_, body, _) = app
        .get(
            &format!("/v1/w3s/transactions?userId={}", a.user_id),
            Some(&a.token),
        )
        .await;
    assert_eq!(ids(&body), [done.id.clone(), first.id.clone()]);
    // No token: the list is the user's, so it needs one.
    let (s, _, _) = app.get("/v1/w3s/transactions", None).await;
    assert!(s == 400 || s == 401 || s == 403, "{s}");
}

#[tokio::test]
async fn circles_filters_and_paging_with_link() {
    let app = spawn_app().await;
    let (a, row, wallets) = owner(&app).await;
    let t0 = app.lk.now();
    let mut all = Vec::new();
    for i in 0..5 {
        let mut t = outbound(
            &row,
            &wallets[usize::from(i % 2 == 1)],
            t0,
            i64::from(i) * 1000,
        );
        if i == 4 {
            t.tx_type = TxType::Inbound;
            t.state = TxState::Confirmed;
            t.tx_hash = Some("0xABCDEF".into());
            t.log_index = Some(0);
            t.destination_address = wallets[0]["address"].as_str().map(String::from);
        }
        if i == 3 {
            t.operation = TxOperation::ContractExecution;
            t.state = TxState::Failed;
            t.error_reason = Some("FAILED_ON_CHAIN".into());
        }
        seed(&app, &t).await;
        all.push(t.id);
    }
    let newest: Vec<String> = all.iter().rev().cloned().collect();
    let q = |query: &str| format!("/v1/w3s/transactions?{query}");
    let cases = [
        ("blockchain=ETH-SEPOLIA", vec![&all[3], &all[1]]),
        ("txType=INBOUND", vec![&all[4]]),
        ("state=FAILED", vec![&all[3]]),
        ("state=DENIED", vec![]),
        ("operation=CONTRACT_EXECUTION", vec![&all[3]]),
        ("txHash=0xabcdef", vec![&all[4]]),
        ("includeAll=true&pageSize=50", newest.iter().collect()),
        ("includeAll=false", newest.iter().collect()),
    ];
    for (query, want) in cases {
        let (s, body, _) = app.get(&q(query), Some(&a.token)).await;
        assert_eq!(s, 200, "{query}: {body}");
        assert_eq!(ids(&body).iter().collect::<Vec<_>>(), want, "{query}");
    }
    let dest = wallets[0]["address"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .replace("0X", "0x");
    let (_, body, _) = app
        .get(&q(&format!("destinationAddress={dest}")), Some(&a.token))
        .await;
    assert_eq!(ids(&body), vec![all[4].clone()]);
    let csv = format!(
        "walletIds={},{}",
        wallets[1]["id"].as_str().unwrap(),
        uuid::Uuid::new_v4()
    );
    let (_, body, _) = app.get(&q(&csv), Some(&a.token)).await;
    assert_eq!(ids(&body), [all[3].clone(), all[1].clone()]);
    let from = t0.plus_ms(1000).iso();
    let (_, body, _) = app
        .get(
            &q(&format!("from={from}&to={from}&order=ASC")),
            Some(&a.token),
        )
        .await;
    assert_eq!(ids(&body), vec![all[1].clone()]);

    // Pages of 2 newest first, following Link next, then prev back.
    let (s, body, h) = app.get(&q("pageSize=2"), Some(&a.token)).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&body), newest[0..2]);
    assert!(link(&h, &app.base, "prev").is_none());
    let next = link(&h, &app.base, "next").unwrap();
    assert!(next.contains(&format!("pageAfter={}", newest[1])), "{next}");
    let (_, body, h) = app.get(&next, Some(&a.token)).await;
    assert_eq!(ids(&body), newest[2..4]);
    let prev = link(&h, &app.base, "prev").unwrap();
    let (_, body, _) = app.get(&prev, Some(&a.token)).await;
    assert_eq!(ids(&body), newest[0..2]);
    let (_, body, h) = app
        .get(&link(&h, &app.base, "next").unwrap(), Some(&a.token))
        .await;
    assert_eq!(ids(&body), newest[4..5]);
    assert!(link(&h, &app.base, "next").is_none());

    // Bad values: Circle's codes.
    for (query, status, code) in [
        ("state=SIDEWAYS", 400, 2),
        ("txType=BOTH", 400, 2),
        ("operation=CONTRACT_DEPLOYMENTS", 400, 2),
        ("blockchain=NOT-A-CHAIN", 400, 2),
        ("includeAll=yes", 400, 2),
        ("pageSize=0", 400, 2),
        ("order=UP", 400, 2),
        ("pageAfter=nope", 400, 156014),
        ("pageBefore=x&pageAfter=y", 400, 156014),
    ] {
        let (s, body, _) = app.get(&q(query), Some(&a.token)).await;
        assert_eq!(
            (s, body["code"].as_i64()),
            (status, Some(code)),
            "{query}: {body}"
        );
    }
    let (s, body, _) = app
        .get(
            &q(&format!("pageAfter={}", uuid::Uuid::new_v4())),
            Some(&a.token),
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(156012)), "{body}");
}

/// `app` seen through a key of another entity on the same server.
async fn other_entity(app: &TestApp) -> TestApp {
    let e = Entity {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        name: "other".into(),
        created_at: app.lk.now(),
    };
    app.lk.store().insert_entity(&e).await.unwrap();
    let key = app
        .lk
        .create_api_key(&e.id, "o", Environment::Test)
        .await
        .unwrap();
    let mut other = app.with_key_of(Environment::Test).await;
    other.dev = latchkey_client::DeveloperClient::new(&app.base, &key);
    other.api_key = key;
    other.entity_id = e.id;
    other.app_id = e.app_id;
    other
}

#[tokio::test]
async fn lowest_nonce_is_api_key_only_entity_scoped_and_not_taken_for_an_id() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (a, row, wallets) = owner(&app).await;
    let t0 = app.lk.now();
    let path = "/v1/w3s/transactions/lowestNonceTransaction";
    let wallet_id = wallets[0]["id"].as_str().unwrap();
    let by_id = format!("{path}?walletId={wallet_id}");
    let (s, body, _) = app.get(&by_id, None).await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(156003)), "{body}");
    check(&doc, "GET", path, s, &body);

    let pending = |at, nonce, state| TransactionRecord {
        nonce: Some(nonce),
        state,
        ..outbound(&row, &wallets[0], t0, at)
    };
    let done = pending(0, 0, TxState::Complete);
    let stuck = pending(1, 1, TxState::Stuck);
    let sent = pending(2, 2, TxState::Sent);
    for t in [&done, &sent, &stuck] {
        seed(&app, t).await;
    }
    // The static segment wins over /transactions/{id}, with or without a user token.
    for token in [None, Some(a.token.as_str())] {
        let (s, body, _) = app.get(&by_id, token).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["data"]["transaction"]["id"], stuck.id);
        // No node to price an acceleration with: the transaction still answers.
        assert!(body["data"].get("feeInfo").is_none(), "{body}");
        check(&doc, "GET", path, s, &body);
    }
    let (_, got, _) = app
        .get(
            &format!("/v1/w3s/transactions/{}", stuck.id),
            Some(&a.token),
        )
        .await;
    assert_eq!(got["data"]["transaction"], {
        let (_, b, _) = app.get(&by_id, None).await;
        b["data"]["transaction"].clone()
    });
    let address = wallets[0]["address"].as_str().unwrap();
    for query in [
        format!("address={address}&blockchain=MATIC-AMOY"),
        format!("walletId={wallet_id}&blockchain=MATIC-AMOY"),
    ] {
        let (s, body, _) = app.get(&format!("{path}?{query}"), None).await;
        assert_eq!(
            (s, &body["data"]["transaction"]["id"]),
            (200, &json!(stuck.id)),
            "{query}"
        );
    }
    for (query, status, code) in [
        (
            format!("address={address}&blockchain=ETH-SEPOLIA"),
            404,
            156003,
        ),
        (
            format!("walletId={}", wallets[1]["id"].as_str().unwrap()),
            404,
            156003,
        ),
        (format!("address={address}"), 400, 2),
        (String::new(), 400, 2),
        (format!("walletId={wallet_id}&address={address}"), 400, 2),
        (format!("walletId={wallet_id}&blockchain=MARS"), 400, 2),
    ] {
        let (s, body, _) = app.get(&format!("{path}?{query}"), None).await;
        assert_eq!(
            (s, body["code"].as_i64()),
            (status, Some(code)),
            "{query}: {body}"
        );
        check(&doc, "GET", path, s, &body);
    }
    // Another entity, and the entity's LIVE key (another environment), see none of it.
    let other = other_entity(&app).await;
    let (s, body, _) = other.get(&by_id, None).await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(156003)), "{body}");
    let live = app.with_key_of(Environment::Live).await;
    let (s, body, _) = live.get(&by_id, None).await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(156003)), "{body}");
    // Another entity's user cannot read A's transactions either.
    let stranger = other.user().await;
    let (s, body, _) = other
        .get(
            &format!("/v1/w3s/transactions/{}", stuck.id),
            Some(&stranger.token),
        )
        .await;
    assert_eq!((s, body["code"].as_i64()), (404, Some(156003)), "{body}");
    let (_, body, _) = other
        .get("/v1/w3s/transactions", Some(&stranger.token))
        .await;
    assert_eq!(ids(&body), Vec::<String>::new());
}

#[tokio::test]
async fn a_selected_monitored_scope_hides_other_tokens_unless_include_all() {
    const USDC_AMOY: &str = "36b6931a-873a-56a8-8a27-b706b17104ee";
    const POL_AMOY: &str = "0c8f8485-f74f-5e28-80f2-3cc4e80ef71c";
    let app = spawn_app().await;
    let (a, row, wallets) = owner(&app).await;
    let t0 = app.lk.now();
    let usdc = outbound(&row, &wallets[0], t0, 0);
    let mut native = outbound(&row, &wallets[0], t0, 1000);
    native.token_id = Some(POL_AMOY.into());
    let mut call = outbound(&row, &wallets[0], t0, 2000);
    call.token_id = None;
    call.operation = TxOperation::ContractExecution;
    for t in [&usdc, &native, &call] {
        seed(&app, t).await;
    }
    let list = |query: &'static str| {
        let (app, token) = (&app, a.token.clone());
        async move {
            let (s, body, _) = app
                .get(&format!("/v1/w3s/transactions{query}"), Some(&token))
                .await;
            assert_eq!(s, 200, "{query}: {body}");
            ids(&body)
        }
    };
    let everything = vec![call.id.clone(), native.id.clone(), usdc.id.clone()];
    assert_eq!(
        list("").await,
        everything,
        "no configuration shows every token"
    );

    let monitored = "/v1/w3s/config/entity/monitoredTokens";
    let (s, b, _) = app
        .post(monitored, None, json!({ "tokenIds": [USDC_AMOY] }))
        .await;
    assert_eq!(s, 201, "{b}");
    // The monitored token, and the call that moves no token; not the native transfer.
    assert_eq!(list("").await, vec![call.id.clone(), usdc.id.clone()]);
    assert_eq!(list("?includeAll=true").await, everything);
    let (s, _, _) = app
        .put(
            &format!("{monitored}/scope"),
            None,
            json!({ "scope": "MONITOR_ALL" }),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(list("").await, everything);
}

#[tokio::test]
async fn a_wallet_with_sixteen_pending_transactions_is_refused_another() {
    let amoy = crate::support::anvil::Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let (a, row, wallets) = owner(&app).await;
    let t0 = app.lk.now();
    let wallet = &wallets[0];
    assert_eq!(wallet["blockchain"], "MATIC-AMOY");
    let transfer = json!({
        "walletId": wallet["id"], "tokenAddress": "", "blockchain": "MATIC-AMOY",
        "destinationAddress": "0x2222222222222222222222222222222222222222",
        "amounts": ["0.01"], "feeLevel": "LOW",
    });
    let call = json!({
        "walletId": wallet["id"],
        "contractAddress": "0x2222222222222222222222222222222222222222",
        "callData": "0xd09de08a", "feeLevel": "LOW",
    });
    let create = |path: &'static str, body: &Value| {
        let mut body = body.clone();
        body["idempotencyKey"] = json!(uuid::Uuid::new_v4().to_string());
        let (app, token) = (&app, a.token.clone());
        async move {
            let (s, reply, _) = app.post(path, Some(&token), body).await;
            (s, reply["code"].as_i64().unwrap_or(0))
        }
    };
    let transfer_path = "/v1/w3s/user/transactions/transfer";
    let call_path = "/v1/w3s/user/transactions/contractExecution";
    // Settled transactions do not count; 15 pending ones leave room (the unfunded wallet is
    // then refused for its balance).
    let states = [
        TxState::Initiated,
        TxState::Queued,
        TxState::Sent,
        TxState::Stuck,
    ];
    for (i, state) in [TxState::Complete, TxState::Failed, TxState::Confirmed]
        .into_iter()
        .chain(states.into_iter().cycle().take(15))
        .enumerate()
    {
        let n = i64::try_from(i).unwrap();
        let t = TransactionRecord {
            nonce: Some(n),
            state,
            ..outbound(&row, wallet, t0, n)
        };
        seed(&app, &t).await;
    }
    let (s, code) = create(transfer_path, &transfer).await;
    assert_eq!(
        (s, code),
        (400, 155201),
        "room for a 16th: refused for funds"
    );
    let sixteenth = TransactionRecord {
        nonce: Some(18),
        state: TxState::Sent,
        ..outbound(&row, wallet, t0, 18)
    };
    seed(&app, &sixteenth).await;
    for (path, body) in [(transfer_path, &transfer), (call_path, &call)] {
        assert_eq!(create(path, body).await, (400, 155264), "{path}");
    }
    // The wallet's other chain is another address: its own queue.
    let other = json!({
        "walletId": wallets[1]["id"], "tokenAddress": "", "blockchain": "ETH-SEPOLIA",
        "destinationAddress": "0x2222222222222222222222222222222222222222",
        "amounts": ["0.01"], "feeLevel": "LOW",
    });
    let (_, code) = create(transfer_path, &other).await;
    assert_ne!(code, 155264);
}
