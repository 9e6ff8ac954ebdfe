//! ERC-4337 v0.7 with Safe accounts against a real node: `aa_deploy` puts the packages'
//! contracts at their canonical addresses on anvil (chain id 80002: the Safe singleton factory
//! from its presigned transaction), latchkey-chains' pure `sca` encodings agree with the
//! deployed contracts (the Safe's address, getOperationHash, getUserOpHash, the paymaster's
//! getHash, getMessageHash), one sponsored UserOperation deploys a fresh owner's Safe and moves
//! its tokens while it holds no ether, a second one batches; then signatures "from" the Safe
//! verify on chain: ERC-1271 once deployed, ERC-6492 (viem's deployless validator, by
//! `eth_call`) before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../latchkey-api/tests/api/support/anvil.rs"]
#[allow(dead_code)]
mod anvil;

use alloy_primitives::aliases::U48;
use alloy_sol_types::{SolCall, SolEvent};
use anvil::Anvil;
use latchkey_chains::sca::{
    self, ICompatibilityFallbackHandler, IEntryPoint, ISafe, ISafe4337Module, ISafeProxyFactory,
    Operation,
};
use latchkey_chains::{erc, Address, Blockchain, EvmFee, Family, UnsignedEvmTx, B256, U256};
use latchkey_core::money::{BlockTag, CallRequest, EvmNode, NodeError, Receipt};
use latchkey_evm::aa_deploy::{deploy_aa_contracts, fund_paymaster, AaContracts};
use latchkey_evm::RpcOptions;
use std::sync::Arc;
use std::time::Duration;

const ETHER: u128 = 1_000_000_000_000_000_000;
const USDC: u64 = 1_000_000;

struct Key {
    secret: Vec<u8>,
    address: Address,
}

fn fresh_key() -> Key {
    let secret = latchkey_chains::generate(Family::Evm).to_vec();
    let address = latchkey_chains::address(Family::Evm, &secret)
        .unwrap()
        .parse()
        .unwrap();
    Key { secret, address }
}

async fn view<C: SolCall>(node: &Arc<dyn EvmNode>, to: Address, call: C) -> C::Return {
    let ret = node
        .call(&CallRequest {
            to: Some(to),
            data: call.abi_encode(),
            ..CallRequest::default()
        })
        .await
        .unwrap();
    C::abi_decode_returns(&ret).unwrap()
}

async fn token_balance(node: &Arc<dyn EvmNode>, token: Address, owner: Address) -> U256 {
    let ret = node
        .call(&CallRequest {
            to: Some(token),
            data: erc::erc20_balance_of(owner),
            ..CallRequest::default()
        })
        .await
        .unwrap();
    erc::decode_uint(&ret).unwrap()
}

async fn mined(node: &Arc<dyn EvmNode>, hash: B256) -> Receipt {
    for _ in 0..200 {
        if let Some(r) = node.receipt(hash).await.unwrap() {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no receipt for {hash}");
}

async fn send_unlocked(node: &Arc<dyn EvmNode>, call: CallRequest) -> Receipt {
    let hash = node.send_unlocked(&call).await.unwrap();
    let receipt = mined(node, hash).await;
    assert!(receipt.success, "{call:?} reverted");
    receipt
}

/// `isValidSignature(hash, signature)` of `account` (ERC-1271): the returned value, or the
/// node's error when the call reverts.
async fn erc1271(
    node: &Arc<dyn EvmNode>,
    account: Address,
    hash: B256,
    signature: &[u8],
) -> Result<Vec<u8>, NodeError> {
    node.call(&CallRequest {
        to: Some(account),
        data: sca::is_valid_signature_call(hash, signature),
        ..CallRequest::default()
    })
    .await
}

/// ERC-6492's universal check, as viem's verifyHash runs it: an `eth_call` without `to` of the
/// deployless validator; one byte back, 1 when valid (a revert is invalid too).
async fn erc6492(
    node: &Arc<dyn EvmNode>,
    signer: Address,
    hash: B256,
    signature: &[u8],
) -> Result<Vec<u8>, NodeError> {
    node.call(&CallRequest {
        to: None,
        data: sca::erc6492_validation_call(signer, hash, signature),
        ..CallRequest::default()
    })
    .await
}

/// The bundler's `handleOps` transaction, signed with its own key.
async fn bundle(
    node: &Arc<dyn EvmNode>,
    bundler: &Key,
    entry_point: Address,
    ops: &[sca::PackedUserOperation],
) -> Receipt {
    let base = node
        .block(BlockTag::Latest, false)
        .await
        .unwrap()
        .unwrap()
        .base_fee
        .unwrap();
    let tx = UnsignedEvmTx {
        chain_id: node.chain_id().await.unwrap(),
        nonce: node
            .nonce(bundler.address, BlockTag::Pending)
            .await
            .unwrap(),
        to: entry_point,
        value: U256::ZERO,
        data: sca::handle_ops_call(ops, bundler.address),
        gas_limit: 3_000_000,
        fee: EvmFee::Eip1559 {
            max_fee: base * 2 + 1_000_000_000,
            max_priority: 1_000_000_000,
        },
    };
    let signed = latchkey_chains::sign_evm_tx(&bundler.secret, &tx).unwrap();
    let raw = alloy_primitives::hex::decode(&signed.signed_transaction).unwrap();
    let hash = node.send_raw(&raw).await.unwrap();
    mined(node, hash).await
}

/// An operation's fee fields at the node's current base fee.
async fn priced(node: &Arc<dyn EvmNode>, op: sca::UserOperation) -> sca::UserOperation {
    let base = node
        .block(BlockTag::Latest, false)
        .await
        .unwrap()
        .unwrap()
        .base_fee
        .unwrap();
    sca::UserOperation {
        max_fee_per_gas: base * 2 + 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        ..op
    }
}

/// Signs `op` for the paymaster (valid for an hour) and for the owner: the finished operation.
async fn sponsor_and_sign(
    node: &Arc<dyn EvmNode>,
    aa: &AaContracts,
    signer: &Key,
    owner: &Key,
    mut op: sca::UserOperation,
) -> sca::PackedUserOperation {
    let chain_id = node.chain_id().await.unwrap();
    let now = node
        .block(BlockTag::Latest, false)
        .await
        .unwrap()
        .unwrap()
        .timestamp;
    let (until, after) = (U48::from(now + 3600), U48::ZERO);
    let hash = sca::verifying_paymaster_hash(&op, chain_id, until, after).unwrap();
    // The contract's own getHash agrees (it reads the paymaster's gas limits from the packed
    // paymasterAndData, whose data part it ignores).
    let on_chain = view(
        node,
        aa.paymaster,
        sca::IVerifyingPaymaster::getHashCall {
            userOp: op.pack(),
            validUntil: until,
            validAfter: after,
        },
    )
    .await;
    assert_eq!(hash, on_chain, "paymaster getHash");
    let pm_sig = sca::sign_hash_eip191(&signer.secret, hash).unwrap();
    if let Some(pm) = op.paymaster.as_mut() {
        pm.data = sca::verifying_paymaster_data(until, after, &pm_sig);
    }
    // The module's SafeOp hash, which the owner signs; the module's own getOperationHash reads
    // the validity window from the signature's first 12 bytes.
    let (valid_after, valid_until) = (U48::ZERO, U48::from(now + 3600));
    let safe_op_hash = sca::safe_op_hash(
        &op,
        chain_id,
        aa.account.module,
        aa.entry_point,
        valid_after,
        valid_until,
    );
    op.signature = sca::safe_op_signature(valid_after, valid_until, &[0; 65]);
    let on_chain = view(
        node,
        aa.account.module,
        ISafe4337Module::getOperationHashCall { userOp: op.pack() },
    )
    .await;
    assert_eq!(safe_op_hash, on_chain, "module getOperationHash");
    let user_op_hash = sca::user_op_hash(&op.pack(), aa.entry_point, chain_id);
    let on_chain = view(
        node,
        aa.entry_point,
        IEntryPoint::getUserOpHashCall { userOp: op.pack() },
    )
    .await;
    assert_eq!(user_op_hash, on_chain, "EntryPoint getUserOpHash");
    op.signature = sca::sign_safe_op(
        &owner.secret,
        &op,
        chain_id,
        &aa.account,
        aa.entry_point,
        valid_after,
        valid_until,
    )
    .unwrap();
    op.pack()
}

/// The `UserOperationEvent` of `receipt`: (userOpHash, sender, paymaster, success).
fn user_operation_event(receipt: &Receipt) -> (B256, Address, Address, bool) {
    let log = receipt
        .logs
        .iter()
        .find(|l| l.topics.first() == Some(&IEntryPoint::UserOperationEvent::SIGNATURE_HASH))
        .expect("no UserOperationEvent");
    let ev = IEntryPoint::UserOperationEvent::decode_raw_log(log.topics.iter().copied(), &log.data)
        .unwrap();
    (ev.userOpHash, ev.sender, ev.paymaster, ev.success)
}

#[tokio::test]
async fn a_sponsored_user_operation_deploys_the_safe_and_its_signatures_verify_on_chain() {
    let anvil = Anvil::start(80_002).await;
    let chain = latchkey_evm::connect(Blockchain::MaticAmoy, &anvil.url, &RpcOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let node = chain.node.clone();
    let chain_id = 80_002;
    let operator = node.accounts().await.unwrap()[0];
    let signer = fresh_key();

    // 1. The contracts, at the canonical addresses; a second call sends nothing.
    assert!(node
        .code(sca::SAFE_SINGLETON_FACTORY)
        .await
        .unwrap()
        .is_empty());
    let aa = deploy_aa_contracts(node.as_ref(), operator, signer.address)
        .await
        .unwrap();
    assert_eq!(aa.entry_point, sca::ENTRY_POINT_V07);
    assert_eq!(aa.account, sca::SafeAccountConfig::default());
    // The singleton factory came from its presigned transaction (its signer's nonce 0 is used).
    assert_eq!(
        node.nonce(
            sca::singleton_factory_deployment(chain_id).unwrap().signer,
            BlockTag::Latest
        )
        .await
        .unwrap(),
        1
    );
    for contract in sca::safe_contracts() {
        assert!(
            !node.code(contract.address).await.unwrap().is_empty(),
            "{} at {}",
            contract.name,
            contract.address
        );
    }
    let height = node.block_number().await.unwrap();
    assert_eq!(
        deploy_aa_contracts(node.as_ref(), operator, signer.address)
            .await
            .unwrap(),
        aa
    );
    assert_eq!(node.block_number().await.unwrap(), height);
    assert_eq!(
        view(&node, sca::SAFE_L2_141, ISafe::VERSIONCall {}).await,
        "1.4.1"
    );
    assert_eq!(
        view(
            &node,
            aa.account.module,
            ISafe4337Module::SUPPORTED_ENTRYPOINTCall {}
        )
        .await,
        aa.entry_point
    );
    assert!(!view(
        &node,
        aa.account.proxy_factory,
        ISafeProxyFactory::proxyCreationCodeCall {}
    )
    .await
    .is_empty());
    assert_eq!(
        view(
            &node,
            aa.paymaster,
            sca::IVerifyingPaymaster::verifyingSignerCall {}
        )
        .await,
        signer.address
    );
    fund_paymaster(
        node.as_ref(),
        operator,
        aa.entry_point,
        aa.paymaster,
        U256::from(ETHER),
    )
    .await
    .unwrap();
    let deposit = view(
        &node,
        aa.entry_point,
        IEntryPoint::balanceOfCall {
            account: aa.paymaster,
        },
    )
    .await;
    assert_eq!(deposit, U256::from(ETHER));

    // 2. A fresh owner's Safe: its address offline, no code yet.
    let owner = fresh_key();
    let account = sca::safe_address(owner.address, &aa.account);
    assert!(node.code(account).await.unwrap().is_empty());

    // 3. Tokens reach the Safe before it exists (a counterfactual address receives).
    let usdc: Address = anvil.deploy("TestUsdc").await.parse().unwrap();
    send_unlocked(
        &node,
        CallRequest {
            from: Some(operator),
            to: Some(usdc),
            data: erc::test_usdc_mint(account, U256::from(10 * USDC)),
            ..CallRequest::default()
        },
    )
    .await;

    // 4. The first operation: initCode deploys the Safe, callData pays 3 USDC, the paymaster
    //    pays the gas, a separate bundler key submits it.
    let recipient = fresh_key().address;
    let nonce = view(
        &node,
        aa.entry_point,
        IEntryPoint::getNonceCall {
            sender: account,
            key: Default::default(),
        },
    )
    .await;
    assert_eq!(nonce, U256::ZERO);
    let op = priced(
        &node,
        sca::UserOperation {
            sender: account,
            nonce,
            factory: Some(aa.account.proxy_factory),
            factory_data: sca::create_safe_call(owner.address, &aa.account),
            call_data: sca::execute_user_op_call(
                usdc,
                U256::ZERO,
                &erc::erc20_transfer(recipient, U256::from(3 * USDC)),
                Operation::Call,
            ),
            call_gas_limit: 200_000,
            verification_gas_limit: 1_000_000,
            pre_verification_gas: U256::from(60_000u32),
            paymaster: Some(sca::PaymasterFields {
                paymaster: aa.paymaster,
                verification_gas_limit: 100_000,
                post_op_gas_limit: 0,
                data: Vec::new(),
            }),
            ..Default::default()
        },
    )
    .await;
    let packed = sponsor_and_sign(&node, &aa, &signer, &owner, op.clone()).await;
    let user_op_hash = sca::user_op_hash(&packed, aa.entry_point, chain_id);

    // A tampered paymaster signature is refused by the EntryPoint (AA34), before anything runs;
    // so is an operation signed by another key than the owner (AA24).
    let mut forged = packed.clone();
    let mut pmd = forged.paymasterAndData.to_vec();
    if let Some(last) = pmd.last_mut() {
        *last ^= 0x01;
    }
    forged.paymasterAndData = pmd.into();
    let stranger = fresh_key();
    let not_the_owner = sponsor_and_sign(&node, &aa, &signer, &stranger, op.clone()).await;
    for bad in [forged, not_the_owner] {
        let refused = node
            .call(&CallRequest {
                to: Some(aa.entry_point),
                data: sca::handle_ops_call(&[bad], operator),
                ..CallRequest::default()
            })
            .await;
        assert!(
            matches!(refused, Err(NodeError::Reverted(_))),
            "{refused:?}"
        );
    }

    let bundler = fresh_key();
    node.set_balance(bundler.address, U256::from(ETHER))
        .await
        .unwrap();
    let receipt = bundle(&node, &bundler, aa.entry_point, &[packed]).await;
    assert!(receipt.success);
    assert_eq!(
        user_operation_event(&receipt),
        (user_op_hash, account, aa.paymaster, true)
    );
    let first_gas = receipt.gas_used;
    // The predicted address is the deployed Safe's: one owner, threshold 1, the module on.
    assert!(!node.code(account).await.unwrap().is_empty(), "deployed");
    assert_eq!(
        view(&node, account, ISafe::getOwnersCall {}).await,
        vec![owner.address]
    );
    assert_eq!(
        view(&node, account, ISafe::getThresholdCall {}).await,
        U256::from(1u8)
    );
    assert!(
        view(
            &node,
            account,
            ISafe::isModuleEnabledCall {
                module: aa.account.module
            }
        )
        .await
    );
    assert_eq!(
        token_balance(&node, usdc, recipient).await,
        U256::from(3 * USDC)
    );
    assert_eq!(
        token_balance(&node, usdc, account).await,
        U256::from(7 * USDC)
    );
    assert_eq!(
        node.balance(account, BlockTag::Latest).await.unwrap(),
        U256::ZERO
    );
    let after = view(
        &node,
        aa.entry_point,
        IEntryPoint::balanceOfCall {
            account: aa.paymaster,
        },
    )
    .await;
    assert!(after < deposit, "the paymaster's deposit paid the gas");

    // 5. The second operation: no initCode, nonce 1, a batch (MultiSendCallOnly) of a token
    //    transfer and a 0-value call.
    let nonce = view(
        &node,
        aa.entry_point,
        IEntryPoint::getNonceCall {
            sender: account,
            key: Default::default(),
        },
    )
    .await;
    assert_eq!(nonce, U256::from(1u8));
    let op = priced(
        &node,
        sca::UserOperation {
            nonce,
            factory: None,
            factory_data: Vec::new(),
            verification_gas_limit: 300_000,
            call_data: sca::execute_batch_call(&[
                sca::Call {
                    dest: usdc,
                    value: U256::ZERO,
                    func: erc::erc20_transfer(recipient, U256::from(USDC)),
                },
                sca::Call {
                    dest: recipient,
                    value: U256::ZERO,
                    func: Vec::new(),
                },
            ]),
            signature: Vec::new(),
            ..op
        },
    )
    .await;
    let packed = sponsor_and_sign(&node, &aa, &signer, &owner, op).await;
    let receipt = bundle(&node, &bundler, aa.entry_point, &[packed]).await;
    assert!(user_operation_event(&receipt).3);
    let second_gas = receipt.gas_used;
    assert_eq!(
        token_balance(&node, usdc, recipient).await,
        U256::from(4 * USDC)
    );
    assert_eq!(
        node.balance(account, BlockTag::Latest).await.unwrap(),
        U256::ZERO
    );
    println!("handleOps gas: first operation (deploy + transfer) {first_gas}, second (batch of 2) {second_gas}");

    // 6. ERC-1271 on the deployed Safe: signMessage (EIP-191 hash of the message) and
    //    signTypedData (EIP-712 digest) signed by the owner for the Safe verify; the Safe's own
    //    getMessageHash agrees with the offline one; another key's signature does not verify.
    let message_hash = B256::from(latchkey_chains::personal_message_hash(b"hello from a Safe"));
    let typed = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"}],"Mail":[{"name":"contents","type":"string"}]},"primaryType":"Mail","domain":{"name":"dApp","chainId":80002},"message":{"contents":"hi"}}"#;
    let typed_hash = B256::from(latchkey_chains::typed_data_hash(typed).unwrap());
    for hash in [message_hash, typed_hash] {
        assert_eq!(
            view(
                &node,
                account,
                ICompatibilityFallbackHandler::getMessageHashCall {
                    message: hash.to_vec().into()
                }
            )
            .await,
            sca::safe_message_hash(account, chain_id, hash)
        );
        let sig = sca::sign_for_safe(&owner.secret, account, chain_id, hash).unwrap();
        assert_eq!(
            erc1271(&node, account, hash, &sig).await.unwrap()[..4],
            sca::ERC1271_MAGIC
        );
        // The deployless ERC-6492 validator accepts a deployed Safe's plain signature too.
        assert_eq!(erc6492(&node, account, hash, &sig).await.unwrap(), vec![1]);
        let wrong = sca::sign_for_safe(&stranger.secret, account, chain_id, hash).unwrap();
        let reply = erc1271(&node, account, hash, &wrong).await;
        assert!(
            !matches!(&reply, Ok(v) if v.get(..4) == Some(&sca::ERC1271_MAGIC[..])),
            "another key's signature verified: {reply:?}"
        );
        // The owner's signature of the bare hash (not the SafeMessage) does not verify either.
        let bare = sca::sign_hash_raw(&owner.secret, hash).unwrap();
        let reply = erc1271(&node, account, hash, &bare).await;
        assert!(!matches!(&reply, Ok(v) if v.get(..4) == Some(&sca::ERC1271_MAGIC[..])));
    }

    // 7. ERC-6492 before deployment: a fresh owner's Safe has no code; its owner's signature,
    //    wrapped with the factory call that would deploy it, verifies through the deployless
    //    validator (which deploys it inside the eth_call only); another key's does not.
    let later = fresh_key();
    let counterfactual = sca::safe_address(later.address, &aa.account);
    assert!(node.code(counterfactual).await.unwrap().is_empty());
    let factory_data = sca::create_safe_call(later.address, &aa.account);
    let wrap = |key: &Key| {
        let sig = sca::sign_for_safe(&key.secret, counterfactual, chain_id, message_hash).unwrap();
        sca::erc6492_wrap(aa.account.proxy_factory, &factory_data, &sig)
    };
    assert_eq!(
        erc6492(&node, counterfactual, message_hash, &wrap(&later))
            .await
            .unwrap(),
        vec![1]
    );
    let reply = erc6492(&node, counterfactual, message_hash, &wrap(&stranger)).await;
    assert!(
        !matches!(&reply, Ok(v) if v == &vec![1u8]),
        "another key's 6492 signature verified: {reply:?}"
    );
    // The unwrapped signature cannot verify before deployment (no code to ask).
    let plain = sca::sign_for_safe(&later.secret, counterfactual, chain_id, message_hash).unwrap();
    let reply = erc6492(&node, counterfactual, message_hash, &plain).await;
    assert!(!matches!(&reply, Ok(v) if v == &vec![1u8]));
    assert!(node.code(counterfactual).await.unwrap().is_empty());
}
