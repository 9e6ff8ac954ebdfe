//! ERC-4337 v0.7 against a real node: `aa_deploy` puts the package's contracts at their
//! canonical addresses on anvil, latchkey-chains' pure `sca` encodings agree with the deployed
//! contracts (getAddress, getUserOpHash, the paymaster's getHash), and one sponsored
//! UserOperation deploys a fresh owner's account and moves its tokens while the account holds
//! no ether, submitted by a separate bundler key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../latchkey-api/tests/api/support/anvil.rs"]
#[allow(dead_code)]
mod anvil;

use alloy_primitives::aliases::U48;
use alloy_sol_types::{SolCall, SolEvent};
use anvil::Anvil;
use latchkey_chains::sca::{self, IEntryPoint, ISimpleAccount, ISimpleAccountFactory};
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
    let user_op_hash = sca::user_op_hash(&op.pack(), aa.entry_point, chain_id);
    let on_chain = view(
        node,
        aa.entry_point,
        IEntryPoint::getUserOpHashCall { userOp: op.pack() },
    )
    .await;
    assert_eq!(user_op_hash, on_chain, "EntryPoint getUserOpHash");
    op.signature = sca::sign_hash_eip191(&owner.secret, user_op_hash)
        .unwrap()
        .to_vec();
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
async fn a_sponsored_user_operation_deploys_the_account_and_moves_its_tokens() {
    let anvil = Anvil::start(80_002).await;
    let chain = latchkey_evm::connect(Blockchain::MaticAmoy, &anvil.url, &RpcOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let node = chain.node.clone();
    let chain_id = 80_002;
    let operator = node.accounts().await.unwrap()[0];
    let signer = fresh_key();

    // 1. The contracts, at the canonical addresses; a second call sends nothing.
    let aa = deploy_aa_contracts(node.as_ref(), operator, signer.address)
        .await
        .unwrap();
    assert_eq!(aa.entry_point, sca::ENTRY_POINT_V07);
    assert_eq!(aa.factory, sca::SIMPLE_ACCOUNT_FACTORY_V07);
    let height = node.block_number().await.unwrap();
    assert_eq!(
        deploy_aa_contracts(node.as_ref(), operator, signer.address)
            .await
            .unwrap(),
        aa
    );
    assert_eq!(node.block_number().await.unwrap(), height);
    assert_eq!(
        view(
            &node,
            aa.factory,
            ISimpleAccountFactory::accountImplementationCall {}
        )
        .await,
        aa.account_implementation
    );
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

    // 2. A fresh owner's account: its address offline, as the factory computes it.
    let owner = fresh_key();
    let salt = U256::ZERO;
    let account = sca::simple_account_address(aa.factory, owner.address, salt);
    assert_eq!(
        view(
            &node,
            aa.factory,
            ISimpleAccountFactory::getAddressCall {
                owner: owner.address,
                salt,
            }
        )
        .await,
        account
    );
    for other_salt in [1u64, 1 << 40] {
        let salt = U256::from(other_salt);
        assert_eq!(
            view(
                &node,
                aa.factory,
                ISimpleAccountFactory::getAddressCall {
                    owner: owner.address,
                    salt
                }
            )
            .await,
            sca::simple_account_address(aa.factory, owner.address, salt)
        );
    }
    assert!(node.code(account).await.unwrap().is_empty());

    // 3. Tokens reach the account before it exists (a counterfactual address receives).
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

    // 4. The first operation: initCode deploys the account, callData pays 3 USDC, the
    //    paymaster pays the gas, a separate bundler key submits it.
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
            factory: Some(aa.factory),
            factory_data: sca::create_account_call(owner.address, salt),
            call_data: sca::execute_call(
                usdc,
                U256::ZERO,
                &erc::erc20_transfer(recipient, U256::from(3 * USDC)),
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

    // A tampered paymaster signature is refused by the EntryPoint (AA34), before anything runs.
    let mut forged = packed.clone();
    let mut pmd = forged.paymasterAndData.to_vec();
    if let Some(last) = pmd.last_mut() {
        *last ^= 0x01;
    }
    forged.paymasterAndData = pmd.into();
    let refused = node
        .call(&CallRequest {
            to: Some(aa.entry_point),
            data: sca::handle_ops_call(&[forged], operator),
            ..CallRequest::default()
        })
        .await;
    assert!(
        matches!(refused, Err(NodeError::Reverted(_))),
        "{refused:?}"
    );

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
    assert!(!node.code(account).await.unwrap().is_empty(), "deployed");
    assert_eq!(
        view(&node, account, ISimpleAccount::ownerCall {}).await,
        owner.address
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

    // 5. The second operation: no initCode, nonce 1, a batch of a token transfer and a
    //    0-value native call.
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
            verification_gas_limit: 200_000,
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
    assert_eq!(
        token_balance(&node, usdc, recipient).await,
        U256::from(4 * USDC)
    );
    assert_eq!(
        node.balance(account, BlockTag::Latest).await.unwrap(),
        U256::ZERO
    );

    // 6. ERC-1271: SimpleAccount v0.7 has no isValidSignature (nor a fallback), so a
    //    signature by the owner cannot be checked through the account: the call reverts.
    let message_hash = alloy_primitives::keccak256(b"hello from an SCA");
    let sig = sca::sign_hash_eip191(&owner.secret, message_hash).unwrap();
    let reply = node
        .call(&CallRequest {
            to: Some(account),
            data: sca::is_valid_signature_call(message_hash, &sig),
            ..CallRequest::default()
        })
        .await;
    assert!(
        matches!(reply, Err(NodeError::Reverted(_))),
        "SimpleAccount v0.7 answered isValidSignature: {reply:?}"
    );
}
