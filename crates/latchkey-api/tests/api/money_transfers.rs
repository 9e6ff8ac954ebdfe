//! `POST /v1/w3s/user/transactions/transfer` (CREATE_TRANSACTION): the checks a create call
//! runs before any user sees a PIN prompt, each with Circle's code, and no challenge left
//! behind by a refused call.

use crate::support::anvil::Anvil;
use crate::support::wallets::*;
use crate::support::*;
use latchkey_chains::Blockchain;
use serde_json::{json, Value};

const TRANSFER: &str = "/v1/w3s/user/transactions/transfer";
const DEST: &str = "0x2222222222222222222222222222222222222222";

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// POSTs a transfer body; returns (status, Circle code or 0).
async fn create(app: &TestApp, u: &TestUser, body: Value) -> (u16, i64, Value) {
    let (status, body, _) = app.post(TRANSFER, Some(&u.token), body).await;
    (status, body["code"].as_i64().unwrap_or(0), body)
}

async fn open_challenges(app: &TestApp, u: &TestUser) -> usize {
    let (s, body, _) = app.get("/v1/w3s/user/challenges", Some(&u.token)).await;
    assert_eq!(s, 200, "{body}");
    body["data"]["challenges"].as_array().unwrap().len()
}

#[tokio::test]
async fn refused_requests_get_circles_codes_and_leave_no_challenge() {
    let app = spawn_app().await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let wallet_id = wallets[0]["id"].as_str().unwrap().to_owned();
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let before = open_challenges(&app, &u).await;
    let native = |extra: Value| {
        let mut body = json!({
            "idempotencyKey": key(),
            "walletId": wallet_id,
            "tokenAddress": "",
            "blockchain": "MATIC-AMOY",
            "destinationAddress": DEST,
            "amounts": ["0.01"],
            "feeLevel": "MEDIUM",
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases: Vec<(&str, Value, u16, i64)> = vec![
        (
            "no idempotency key",
            native(json!({ "idempotencyKey": null })),
            400,
            2,
        ),
        (
            "walletId and walletAddress",
            native(json!({ "walletAddress": address })),
            400,
            155244,
        ),
        (
            "a wallet of nobody",
            native(json!({ "walletId": "3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1" })),
            404,
            156001,
        ),
        (
            "a token id nobody knows",
            native(json!({ "tokenAddress": null, "blockchain": null,
                "tokenId": "3c1c3d67-5d4e-4e39-9a08-5f7b6ab1c0a1" })),
            404,
            156002,
        ),
        ("a chain without a node", native(json!({})), 400, 156027),
        (
            "a fee level Circle does not have",
            native(json!({ "feeLevel": "FAST" })),
            400,
            2,
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, c, reply) = create(&app, &u, body).await;
        assert_eq!((s, c), (status, code), "{what}: {reply}");
    }
    assert_eq!(open_challenges(&app, &u).await, before);
}

#[tokio::test]
async fn another_users_wallet_is_not_found() {
    let app = spawn_app().await;
    let owner = app.user().await;
    let wallets = init_with_wallets(&app, &owner, json!(["MATIC-AMOY"])).await;
    let other = app.initialized_user(PIN).await;
    let body = json!({
        "idempotencyKey": key(),
        "walletId": wallets[0]["id"],
        "tokenAddress": "",
        "blockchain": "MATIC-AMOY",
        "destinationAddress": DEST,
        "amounts": ["0.01"],
        "feeLevel": "LOW",
    });
    let (s, c, reply) = create(&app, &other, body).await;
    assert_eq!((s, c), (404, 156001), "{reply}");
}

#[tokio::test]
async fn a_funded_wallet_gets_a_challenge_showing_what_it_will_sign() {
    let amoy = Anvil::start(80_002).await;
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &amoy)]).await;
    let u = app.user().await;
    let wallets = init_with_wallets(&app, &u, json!(["MATIC-AMOY"])).await;
    let address = wallets[0]["address"].as_str().unwrap().to_owned();
    let body = |k: &str| {
        json!({
            "idempotencyKey": k,
            "walletId": wallets[0]["id"],
            "tokenAddress": "",
            "blockchain": "MATIC-AMOY",
            "destinationAddress": DEST,
            "amounts": ["0.01"],
            "feeLevel": "MEDIUM",
        })
    };
    // Empty wallet: value + gas cannot be paid.
    let (s, c, reply) = create(&app, &u, body(&key())).await;
    assert_eq!((s, c), (400, 155201), "{reply}");
    let acct0 = amoy.accounts().await[0].clone();
    amoy.send(json!({ "from": acct0, "to": address, "value": "0xde0b6b3a7640000" }))
        .await;
    let k = key();
    let (s, _, reply) = create(&app, &u, body(&k)).await;
    assert_eq!(s, 201, "{reply}");
    let id = reply["data"]["challengeId"].as_str().unwrap().to_owned();
    let (s, _, again) = create(&app, &u, body(&k)).await;
    assert_eq!((s, &again["data"]["challengeId"]), (200, &json!(id)));
    let d = app.executor(&u).describe(&id).await.unwrap();
    let shown = &d["signing"];
    assert_eq!(d["requires"]["pin"], true);
    assert_eq!(shown["walletId"], wallets[0]["id"]);
    assert_eq!(
        shown["from"].as_str().unwrap().to_lowercase(),
        address.to_lowercase()
    );
    assert_eq!(
        (&shown["to"], &shown["amounts"]),
        (&json!(DEST), &json!(["0.01"]))
    );
    assert_eq!(shown["token"]["decimals"], 18);
    assert_eq!(
        (&shown["feeLevel"], &shown["gasLimit"]),
        (&json!("MEDIUM"), &json!("21000"))
    );
    assert_eq!(shown["nativeSymbol"], Blockchain::MaticAmoy.native_symbol());
    // maxNetworkFee = gasLimit x maxFee, in native units.
    let max_fee = latchkey_chains::parse_gwei(shown["maxFee"].as_str().unwrap()).unwrap();
    let cap = latchkey_chains::format_units(latchkey_chains::U256::from(21_000u128 * max_fee), 18);
    assert_eq!(shown["maxNetworkFee"], json!(cap), "{shown}");
    // Explicit fees above the one-token cap are refused before any PIN.
    let mut pricey = body(&key());
    pricey.as_object_mut().unwrap().remove("feeLevel");
    for (k, v) in [
        ("gasLimit", "21000"),
        ("maxFee", "100000000"),
        ("priorityFee", "1"),
    ] {
        pricey[k] = json!(v);
    }
    let (s, c, reply) = create(&app, &u, pricey).await;
    assert_eq!((s, c), (400, 155211), "{reply}");
}
