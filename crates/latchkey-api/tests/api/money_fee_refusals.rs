//! The fee-estimate routes refuse what cannot be estimated with Circle's codes (every code a
//! caller can cause, one row each), only ever estimate the token's user's own wallets, and
//! answer 503 when the chain's node is gone. The fixture is `money_fees`'.

use crate::money_fees::*;
use crate::openapi_contract::check;
use serde_json::{json, Value};

#[tokio::test]
async fn refused_estimates_get_circles_codes() {
    let f = fixture().await;
    f.fund_native().await;
    let t = |extra: Value| {
        let mut body = f.native_body("0.01");
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let transfer_cases: Vec<(&str, Value, u16, i64)> = vec![
        ("no wallet", t(json!({ "walletId": null })), 400, 2),
        (
            "walletId and sourceAddress",
            t(json!({ "sourceAddress": f.address })),
            400,
            155244,
        ),
        (
            "sourceAddress without blockchain",
            t(json!({ "walletId": null, "sourceAddress": f.address, "blockchain": null })),
            400,
            2,
        ),
        (
            "sourceAddress not an address",
            t(json!({ "walletId": null, "sourceAddress": "0x12" })),
            400,
            155226,
        ),
        (
            "a blockchain Circle does not have",
            t(json!({ "blockchain": "ETH-GOERLI" })),
            400,
            2,
        ),
        (
            "no token",
            t(json!({ "tokenAddress": null, "blockchain": null })),
            400,
            155228,
        ),
        (
            "tokenId and tokenAddress",
            t(json!({ "tokenId": USDC_ID, "tokenAddress": USDC })),
            400,
            2,
        ),
        (
            "a wallet of nobody",
            t(json!({ "walletId": NOBODY })),
            404,
            156001,
        ),
        (
            "an address that is no wallet of the user",
            t(json!({ "walletId": null, "sourceAddress": DEST })),
            404,
            156001,
        ),
        (
            "tokenId with another chain than the wallet's",
            t(json!({ "tokenAddress": null, "tokenId": USDC_ID, "blockchain": "ETH-SEPOLIA" })),
            400,
            155225,
        ),
        (
            "the native coin of another chain",
            t(json!({ "blockchain": "ETH-SEPOLIA" })),
            400,
            155220,
        ),
        (
            "a token id nobody knows",
            t(json!({ "tokenAddress": null, "tokenId": NOBODY })),
            404,
            156002,
        ),
        (
            "tokenAddress not an address",
            t(json!({ "tokenAddress": "0xnope" })),
            400,
            155239,
        ),
        (
            "no destination",
            t(json!({ "destinationAddress": null })),
            400,
            2,
        ),
        (
            "a destination that is no address",
            t(json!({ "destinationAddress": "0x12" })),
            400,
            155219,
        ),
        ("no amounts", t(json!({ "amounts": null })), 400, 155221),
        (
            "two amounts",
            t(json!({ "amounts": ["1", "2"] })),
            400,
            155221,
        ),
        (
            "an amount that is no number",
            t(json!({ "amounts": ["1e3"] })),
            400,
            155224,
        ),
        ("a zero amount", t(json!({ "amounts": ["0"] })), 400, 155221),
        (
            "amounts not a list",
            t(json!({ "amounts": "0.01" })),
            400,
            2,
        ),
        (
            "NFT ids for a coin",
            t(json!({ "nftTokenIds": ["1"] })),
            400,
            155218,
        ),
        (
            "a wallet on a chain without a node",
            t(json!({ "walletId": f.sepolia_wallet_id, "blockchain": "ETH-SEPOLIA" })),
            400,
            156027,
        ),
        (
            "a Solana wallet with an AMOY token",
            t(
                json!({ "walletId": f.solana_wallet_id, "blockchain": null, "tokenAddress": null,
                "tokenId": USDC_ID }),
            ),
            400,
            155220,
        ),
        (
            "a Solana wallet without a Solana node",
            t(
                json!({ "walletId": f.solana_wallet_id, "blockchain": null, "tokenAddress": null,
                "tokenId": latchkey_chains::token_uuid(latchkey_chains::Blockchain::SolDevnet, None).to_string(),
                "destinationAddress": "GsbwXfJraMomNxBcjYLcG3mxkBUiyWXAB32fGbSMQRdW" }),
            ),
            400,
            156027,
        ),
    ];
    for (what, body, status, code) in transfer_cases {
        // What the server refuses as malformed, the document refuses too.
        assert!(
            code != 2 || !f.admits(TRANSFER_FEE, &body),
            "{what}: {body}"
        );
        let (s, c, b) = f.estimate(TRANSFER_FEE, body).await;
        assert_eq!((s, c), (status, code), "{what}: {b}");
    }

    let call = |extra: Value| {
        let mut body = json!({
            "walletId": f.wallet_id,
            "contractAddress": DEST,
            "abiFunctionSignature": "mint(address,uint256)",
            "abiParameters": [DEST, "1"],
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
    let call_cases: Vec<(&str, Value, u16, i64)> = vec![
        (
            "no call",
            call(json!({ "abiFunctionSignature": null, "abiParameters": null })),
            400,
            155230,
        ),
        (
            "callData and a signature",
            call(json!({ "callData": "0x00" })),
            400,
            155247,
        ),
        (
            "no contract",
            call(json!({ "contractAddress": null })),
            400,
            2,
        ),
        (
            "a contract that is no address",
            call(json!({ "contractAddress": "0x12" })),
            400,
            155219,
        ),
        (
            "callData that is not hex",
            call(json!({ "abiFunctionSignature": null, "abiParameters": null, "callData": "0x1" })),
            400,
            2,
        ),
        (
            "parameters that do not pack",
            call(json!({ "abiParameters": ["nope", "1"] })),
            400,
            155209,
        ),
        (
            "an amount that is no number",
            call(json!({ "amount": "lots" })),
            400,
            155245,
        ),
        (
            "a wallet of nobody",
            call(json!({ "walletId": NOBODY })),
            404,
            156001,
        ),
        (
            "another chain than the wallet's",
            call(json!({ "blockchain": "ETH-SEPOLIA" })),
            400,
            155225,
        ),
        (
            "a wallet on a chain without a node",
            call(json!({ "walletId": f.sepolia_wallet_id })),
            400,
            156027,
        ),
        ("a body that is not an object", json!(["walletId"]), 400, 2),
    ];
    for (what, body, status, code) in call_cases {
        assert!(code != 2 || !f.admits(CALL_FEE, &body), "{what}: {body}");
        let (s, c, b) = f.estimate(CALL_FEE, body).await;
        assert_eq!((s, c), (status, code), "{what}: {b}");
    }
}

#[tokio::test]
async fn another_users_wallet_is_not_found_and_a_token_is_required() {
    let f = fixture().await;
    f.fund_native().await;
    let other = f.app.user().await;
    let (s, c, b) = f
        .estimate_as(&other, TRANSFER_FEE, f.native_body("0.01"))
        .await;
    assert_eq!((s, c), (404, 156001), "{b}");
    let by_address = json!({
        "sourceAddress": f.address,
        "blockchain": "MATIC-AMOY",
        "contractAddress": DEST,
        "callData": "0x",
    });
    let (s, c, b) = f.estimate_as(&other, CALL_FEE, by_address.clone()).await;
    assert_eq!((s, c), (404, 156001), "{b}");
    // The owner gets an estimate for the very same body.
    assert_eq!(
        f.fees(CALL_FEE, by_address).await["low"]["gasLimit"],
        "21000"
    );
    // No user token: the API key alone names no user.
    let (s, b, _) = f.app.post(TRANSFER_FEE, None, f.native_body("0.01")).await;
    assert_eq!((s, b["code"].as_i64()), (401, Some(155103)), "{b}");
}

#[tokio::test]
async fn an_unreachable_node_is_503_and_nothing_else() {
    let f = fixture().await;
    f.fund_native().await;
    let body = f.native_body("0.01");
    assert_eq!(
        f.fees(TRANSFER_FEE, body.clone()).await["medium"]["gasLimit"],
        "21000"
    );
    let Fixture {
        amoy, app, u, doc, ..
    } = f;
    drop(amoy);
    let (s, b, _) = app.post(TRANSFER_FEE, Some(&u.token), body).await;
    check(&doc, "POST", TRANSFER_FEE, s, &b);
    assert_eq!((s, b["code"].as_i64()), (503, Some(-1)), "{b}");
}
