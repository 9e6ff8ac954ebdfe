//! SCA wallets (`accountType: "SCA"`): INITIALIZE and CREATE_WALLET make a wallet whose
//! address is the counterfactual Safe of its own key, listed with `scaCore`; Circle's
//! refusals (155507, 155508; 155515 for a raw transaction); and signatures from the Safe
//! verified on anvil: ERC-6492 (the deployless validator, by `eth_call`) before deployment,
//! ERC-1271 `isValidSignature` after. Money from SCA wallets: sca_operations.rs.

use crate::support::anvil::Anvil;
use crate::support::*;
use latchkey_chains::sca::{self, SafeAccountConfig};
use latchkey_chains::{Address, Blockchain, B256};
use reqwest::Method;
use serde_json::{json, Value};

const CORE: &str = "latchkey_safe_v141_4337_v030";
const MAIL: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},"primaryType":"Mail","domain":{"name":"Ether Mail","version":"1","chainId":80002,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!"}}"#;

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn from_hex(s: &str) -> Vec<u8> {
    let s = s.trim_start_matches("0x");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// An ERC-6492 signature's parts: `(factory, factoryData, signature)`.
fn unwrap_6492(sig: &[u8]) -> (Address, Vec<u8>, Vec<u8>) {
    assert!(sig.len() > 32 && sig[sig.len() - 32..] == sca::ERC6492_MAGIC[..]);
    let body = &sig[..sig.len() - 32];
    let word = |at: usize| &body[at..at + 32];
    let uint = |at: usize| {
        usize::try_from(u64::from_be_bytes(word(at)[24..].try_into().unwrap())).unwrap()
    };
    let bytes_at = |offset: usize| {
        let len = uint(offset);
        body[offset + 32..offset + 32 + len].to_vec()
    };
    (
        Address::from_slice(&word(0)[12..]),
        bytes_at(uint(32)),
        bytes_at(uint(64)),
    )
}

/// INITIALIZE with SCA wallets on `chains`; returns them as `GET /wallets/{id}` shows them.
async fn init_sca(app: &TestApp, u: &TestUser, chains: Value) -> Vec<Value> {
    let body = json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(),
        "blockchains": chains, "accountType": "SCA" });
    let id = app
        .start_challenge(u, "/v1/w3s/user/initialize", body)
        .await;
    app.executor(u)
        .execute(
            &id,
            &json!({ "newPin": PIN, "securityQuestions": questions() }),
        )
        .await
        .unwrap();
    wallets_of(app, u, &id).await
}

/// The wallets a completed challenge created.
async fn wallets_of(app: &TestApp, u: &TestUser, challenge_id: &str) -> Vec<Value> {
    let c = app.challenge_status(u, challenge_id).await;
    assert_eq!(c["status"], "COMPLETE", "{c}");
    let mut out = Vec::new();
    for id in c["correlationIds"].as_array().unwrap() {
        let (s, w, _) = app
            .get(
                &format!("/v1/w3s/wallets/{}", id.as_str().unwrap()),
                Some(&u.token),
            )
            .await;
        assert_eq!(s, 200, "{w}");
        out.push(w["data"]["wallet"].clone());
    }
    out
}

/// CREATE_WALLET with `accountType` on `chains`, approved with the PIN.
async fn create_wallets(
    app: &TestApp,
    u: &TestUser,
    account_type: &str,
    chains: Value,
) -> Vec<Value> {
    let id = app
        .start_challenge(
            u,
            "/v1/w3s/user/wallets",
            json!({ "idempotencyKey": uuid::Uuid::new_v4().to_string(),
                    "blockchains": chains, "accountType": account_type }),
        )
        .await;
    app.executor(u)
        .execute(&id, &json!({ "pin": PIN }))
        .await
        .unwrap();
    wallets_of(app, u, &id).await
}

/// The stored owner (the key's address) of an SCA wallet.
async fn owner_of(app: &TestApp, u: &TestUser, wallet: &Value) -> Address {
    let user = app.user_row(u).await;
    let record = app
        .lk
        .store()
        .wallet(
            &user.entity_id,
            &user.internal_id,
            wallet["id"].as_str().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.sca_core.as_deref(), Some(CORE));
    record.owner_address.unwrap().parse().unwrap()
}

/// Signs through `path` (`message` or `typedData`) and returns the signature's bytes.
async fn sign(app: &TestApp, u: &TestUser, path: &str, body: Value) -> Vec<u8> {
    let data =
        crate::support::wallets::sign(app, u, &format!("/v1/w3s/user/sign/{path}"), body, PIN)
            .await
            .unwrap();
    from_hex(data["signature"].as_str().unwrap())
}

/// `(status, code)` of a request with the API key and the user's token.
async fn refused(app: &TestApp, u: &TestUser, path: &str, mut body: Value) -> (u16, i64) {
    body["idempotencyKey"] = json!(uuid::Uuid::new_v4().to_string());
    let (s, b, _) = app
        .call(Method::POST, path, Some(&u.token), Some(body))
        .await;
    (s, b["code"].as_i64().unwrap_or(0))
}

#[tokio::test]
async fn sca_wallets_are_safes_of_their_own_keys_with_circles_refusals() {
    let app = spawn_app().await;
    let u = app.user().await;
    for (chains, expected) in [
        (json!(["SOL-DEVNET"]), (400, 155507)),
        (json!(["EVM-TESTNET"]), (400, 155507)),
        (json!(["NEAR-TESTNET"]), (400, 155507)),
        (json!(["APTOS-TESTNET"]), (400, 155507)),
        (json!(["MATIC-AMOY", "ETH-SEPOLIA"]), (400, 155508)),
        (json!(["MATIC"]), (400, 156006)),
    ] {
        let got = refused(
            &app,
            &u,
            "/v1/w3s/user/initialize",
            json!({ "blockchains": chains, "accountType": "SCA" }),
        )
        .await;
        assert_eq!(got, expected, "{chains}");
    }

    // Circle's sample backend's sign-up.
    let wallets = init_sca(&app, &u, json!(["MATIC-AMOY"])).await;
    assert_eq!(wallets.len(), 1);
    let w = &wallets[0];
    assert_eq!(w["accountType"], "SCA");
    assert_eq!(w["scaCore"], CORE);
    assert_eq!(w["state"], "LIVE");
    assert_eq!(w["blockchain"], "MATIC-AMOY");
    let owner = owner_of(&app, &u, w).await;
    let safe = sca::safe_address(owner, &SafeAccountConfig::default());
    assert_eq!(w["address"], safe.to_checksum(None));
    assert_ne!(safe, owner);

    // CREATE_WALLET: one chain per SCA call; each wallet its own key, so its own Safe.
    assert_eq!(
        refused(
            &app,
            &u,
            "/v1/w3s/user/wallets",
            json!({ "blockchains": ["ETH-SEPOLIA", "BASE-SEPOLIA"], "accountType": "SCA" }),
        )
        .await,
        (400, 155508)
    );
    let sepolia = create_wallets(&app, &u, "SCA", json!(["ETH-SEPOLIA"])).await;
    let other_owner = owner_of(&app, &u, &sepolia[0]).await;
    assert_eq!(sepolia[0]["accountType"], "SCA");
    assert_eq!(
        sepolia[0]["address"],
        sca::safe_address(other_owner, &SafeAccountConfig::default()).to_checksum(None)
    );
    assert_ne!(sepolia[0]["address"], w["address"]);
    let eoa = create_wallets(&app, &u, "EOA", json!(["BASE-SEPOLIA", "ETH-SEPOLIA"])).await;
    assert_eq!(eoa.len(), 2);
    assert!(eoa[0].get("scaCore").is_none(), "{}", eoa[0]);

    // Listing filters by scaCore.
    let list = |q: &'static str| {
        let app = &app;
        let token = u.token.clone();
        async move {
            let (s, b, _) = app.get(&format!("/v1/w3s/wallets{q}"), Some(&token)).await;
            assert_eq!(s, 200, "{b}");
            b["data"]["wallets"].as_array().unwrap().len()
        }
    };
    assert_eq!(list("").await, 4);
    assert_eq!(list("?scaCore=latchkey_safe_v141_4337_v030").await, 2);
    assert_eq!(list("?scaCore=circle_6900_singleowner_v2").await, 0);

    // The owner key never acts as an EOA: a raw transaction from an SCA answers 155515.
    // Transfers, contract calls and estimates are UserOperations (sca_operations.rs): here,
    // with no node for the chain, 156027.
    let wid = w["id"].as_str().unwrap();
    let tx = json!({ "to": "0x000000000000000000000000000000000000dEaD", "value": "1", "nonce": 0,
        "gas": 21000, "gasPrice": "1", "chainId": 80002 });
    let transfer = json!({ "walletId": wid, "destinationAddress": "0x000000000000000000000000000000000000dEaD",
        "amounts": ["1"], "tokenId": "36b6931a-873a-56a8-8a27-b706b17104ee", "feeLevel": "MEDIUM" });
    let call = json!({ "walletId": wid, "contractAddress": "0x000000000000000000000000000000000000dEaD",
        "callData": "0x", "feeLevel": "MEDIUM" });
    for (path, body) in [
        (
            "/v1/w3s/user/sign/transaction",
            json!({ "walletId": wid, "transaction": tx }),
        ),
        ("/v1/w3s/user/transactions/transfer", transfer.clone()),
        ("/v1/w3s/user/transactions/contractExecution", call.clone()),
        ("/v1/w3s/transactions/transfer/estimateFee", transfer),
        ("/v1/w3s/transactions/contractExecution/estimateFee", call),
    ] {
        let want = if path.ends_with("sign/transaction") {
            155515
        } else {
            156027
        };
        assert_eq!(refused(&app, &u, path, body).await, (400, want), "{path}");
    }

    // Without a node for the chain: always ERC-6492, the owner's signature of the SafeMessage.
    let message = "hello from a Safe";
    let sig = sign(
        &app,
        &u,
        "message",
        json!({ "walletId": wid, "message": message }),
    )
    .await;
    let (factory, factory_data, inner) = unwrap_6492(&sig);
    assert_eq!(factory, sca::SAFE_PROXY_FACTORY_141);
    assert_eq!(
        factory_data,
        sca::create_safe_call(owner, &SafeAccountConfig::default())
    );
    let hash = B256::from(latchkey_chains::personal_message_hash(message.as_bytes()));
    let signer = latchkey_chains::recover_evm_address(
        &sca::safe_message_hash(safe, 80002, hash).0,
        &to_hex(&inner),
    )
    .unwrap();
    assert_eq!(signer.parse::<Address>().unwrap(), owner);
}

/// `eth_call` of ERC-6492's deployless validator: true when it answers 0x01.
async fn valid_6492(anvil: &Anvil, signer: Address, hash: B256, sig: &[u8]) -> bool {
    let data = sca::erc6492_validation_call(signer, hash, sig);
    match anvil
        .try_rpc("eth_call", json!([{ "data": to_hex(&data) }, "latest"]))
        .await
    {
        Ok(v) => v == "0x01",
        Err(_) => false,
    }
}

/// `isValidSignature(hash, sig)` of the deployed `safe` returns the ERC-1271 magic value.
async fn valid_1271(anvil: &Anvil, safe: Address, hash: B256, sig: &[u8]) -> bool {
    let data = sca::is_valid_signature_call(hash, sig);
    match anvil
        .try_rpc(
            "eth_call",
            json!([{ "to": safe.to_string(), "data": to_hex(&data) }, "latest"]),
        )
        .await
    {
        Ok(v) => v.as_str().unwrap_or("").starts_with("0x1626ba7e"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn sca_signatures_verify_by_erc6492_before_deployment_and_erc1271_after() {
    let anvil = Anvil::start(Blockchain::MaticAmoy.chain_id().unwrap()).await;
    let node = latchkey_evm::node(&anvil.url, &latchkey_evm::RpcOptions::default()).unwrap();
    let from: Address = anvil.accounts().await[0].parse().unwrap();
    latchkey_evm::aa_deploy::deploy_aa_contracts(&node, from, from)
        .await
        .unwrap();
    let app = spawn_app_with_chains(test_settings(), &[(Blockchain::MaticAmoy, &anvil)]).await;
    let u = app.user().await;
    let w = init_sca(&app, &u, json!(["MATIC-AMOY"])).await.remove(0);
    let wid = w["id"].as_str().unwrap();
    let owner = owner_of(&app, &u, &w).await;
    let safe: Address = w["address"].as_str().unwrap().parse().unwrap();

    let message = "Sign in to example.com\nNonce: 42";
    let message_hash = B256::from(latchkey_chains::personal_message_hash(message.as_bytes()));
    let typed_hash = B256::from(latchkey_chains::typed_data_hash(MAIL).unwrap());
    let stranger: Address = "0x000000000000000000000000000000000000dEaD"
        .parse()
        .unwrap();

    // Before deployment: ERC-6492 signatures that the deployless validator accepts.
    let code = anvil
        .rpc("eth_getCode", json!([safe.to_string(), "latest"]))
        .await;
    assert_eq!(code, "0x");
    let sig = sign(
        &app,
        &u,
        "message",
        json!({ "walletId": wid, "message": message }),
    )
    .await;
    assert!(sig.ends_with(&sca::ERC6492_MAGIC[..]));
    assert!(valid_6492(&anvil, safe, message_hash, &sig).await);
    assert!(
        !valid_6492(&anvil, safe, typed_hash, &sig).await,
        "another hash"
    );
    assert!(
        !valid_6492(&anvil, stranger, message_hash, &sig).await,
        "another account"
    );
    let typed = sign(
        &app,
        &u,
        "typedData",
        json!({ "walletId": wid, "data": MAIL }),
    )
    .await;
    assert!(typed.ends_with(&sca::ERC6492_MAGIC[..]));
    assert!(valid_6492(&anvil, safe, typed_hash, &typed).await);

    // Deploy the Safe as its first operation would: the factory's createProxyWithNonce (here
    // sent directly by an anvil account) puts it at the address the wallet was created with.
    anvil
        .send(
            json!({ "from": from.to_string(), "to": sca::SAFE_PROXY_FACTORY_141.to_string(),
            "data": to_hex(&sca::create_safe_call(owner, &SafeAccountConfig::default())) }),
        )
        .await;
    let code = anvil
        .rpc("eth_getCode", json!([safe.to_string(), "latest"]))
        .await;
    assert_ne!(code, "0x");

    // After: plain 65-byte owner signatures that the Safe's isValidSignature accepts.
    let sig = sign(
        &app,
        &u,
        "message",
        json!({ "walletId": wid, "message": message }),
    )
    .await;
    assert_eq!(sig.len(), 65);
    assert!(valid_1271(&anvil, safe, message_hash, &sig).await);
    assert!(
        !valid_1271(&anvil, safe, typed_hash, &sig).await,
        "another hash"
    );
    assert!(valid_6492(&anvil, safe, message_hash, &sig).await);
    let typed = sign(
        &app,
        &u,
        "typedData",
        json!({ "walletId": wid, "data": MAIL }),
    )
    .await;
    assert_eq!(typed.len(), 65);
    assert!(valid_1271(&anvil, safe, typed_hash, &typed).await);
    // The owner key's bare signature of the hash is not the Safe's.
    let bare = from_hex(&latchkey_chains::sign_typed_data(&[7u8; 32], MAIL).unwrap());
    assert!(!valid_1271(&anvil, safe, typed_hash, &bare).await);
}
