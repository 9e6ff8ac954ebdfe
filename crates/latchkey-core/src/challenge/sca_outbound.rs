//! Executing an approved transfer or contract execution of an SCA wallet: an ERC-4337
//! UserOperation from the wallet's Safe, sponsored by the chain's gas station
//! (docs/plans/sca.md §3). The order follows the EOA path's ([`super::outbound`]):
//!
//! 1. **Preflight**, before the PIN, chain reads only: the account's EntryPoint nonce, whether
//!    it has code (none: the operation carries `initCode` and deploys it), the level's fresh
//!    prices, the chain's time (the signatures' validity window). An unreachable node answers
//!    503 with the challenge left open.
//! 2. One operation in flight per account (155505), checked again here since two challenges
//!    may be open at once (and a third time in the commit).
//! 3. **PIN**.
//! 4. The entity's sponsorship policy ([`crate::money::sponsorship`]) on the day as it is
//!    now: a refusal completes the challenge with the transaction FAILED and Circle's
//!    `PAYMASTER_POLICY_*` reason, nothing signed. Then the paymaster signer signs the
//!    sponsorship (`paymasterAndData` is part of what the owner signs), then the wallet key
//!    signs the module's `SafeOp`; both valid for an hour.
//! 5. **Commit**: the challenge COMPLETE, the transaction INITIATED with its `userOpHash`, and
//!    the signed operation as a `USER_OPERATION` attempt. No wallet nonce is claimed: the
//!    EntryPoint orders the account's operations. Nothing is sent before the commit; the
//!    engine bundles the stored operation with the station's key.

use super::execution::{Completion, Execution};
use super::outbound::{failed_after_approval, stamp, Approved};
use super::signing::{self, PinInput};
use crate::error::ApiError;
use crate::money::estimate::{fee_levels, node_unavailable};
use crate::money::fees::capped;
use crate::money::user_op::unsigned_op;
use crate::money::{
    AttemptKind, AttemptRecord, AttemptStatus, BlockTag, CallRequest, FeeChoice, GasStation,
    NodeError, OutboundWrite,
};
use alloy_primitives::aliases::{U192, U48};
use latchkey_chains::sca::UserOperation;
use latchkey_chains::{erc, sca, U256};
use serde_json::json;

/// How long the paymaster's and the owner's signatures stay valid: the engine bundles within
/// seconds; an operation left unsent that long is refused by the EntryPoint, not replayed.
const VALID_FOR_SECS: u64 = 3600;

/// Signs `op` for the EntryPoint: the paymaster signer's sponsorship first
/// (`paymasterAndData` is part of what the owner signs), then the owner key's `SafeOp`; both
/// valid for [`VALID_FOR_SECS`] from `chain_now`.
pub(super) fn sign_sponsored(
    op: &mut UserOperation,
    chain_id: u64,
    station: &GasStation,
    owner_secret: &[u8],
    chain_now: u64,
) -> Result<(), ApiError> {
    let (valid_after, valid_until) = (U48::ZERO, U48::from(chain_now + VALID_FOR_SECS));
    let sponsorship = sca::verifying_paymaster_hash(op, chain_id, valid_until, valid_after)
        .ok_or_else(ApiError::internal)?;
    let paymaster_signature = station.paymaster_signer.sign_hash_eip191(sponsorship)?;
    if let Some(pm) = op.paymaster.as_mut() {
        pm.data = sca::verifying_paymaster_data(valid_until, valid_after, &paymaster_signature);
    }
    op.signature = signing::signed(sca::sign_safe_op(
        owner_secret,
        op,
        chain_id,
        &station.account,
        station.entry_point,
        valid_after,
        valid_until,
    ))?;
    Ok(())
}

/// Steps 1–5 of the module doc.
pub(crate) async fn execute(
    run: &Execution<'_>,
    approved: Approved<'_>,
    input: PinInput,
) -> Result<Completion, ApiError> {
    let lk = run.lk();
    let blockchain = approved.record.blockchain;
    let chain = lk.chains().require(blockchain)?;
    let station = chain.require_gas_station()?;
    let owner = approved.sca_owner.ok_or_else(ApiError::internal)?;
    let gas = approved.quote.user_op.ok_or_else(ApiError::internal)?;
    let account = approved.call.from;

    // 1. Preflight.
    let node = chain.node.as_ref();
    let down = |_: NodeError| node_unavailable(blockchain);
    let ret = node
        .call(&CallRequest {
            to: Some(station.entry_point),
            data: sca::get_nonce_call(account, U192::ZERO),
            ..CallRequest::default()
        })
        .await
        .map_err(down)?;
    let nonce = erc::decode_uint(&ret).ok_or_else(ApiError::internal)?;
    let deployed = !node.code(account).await.map_err(down)?.is_empty();
    let chain_now = node
        .block(BlockTag::Latest, false)
        .await
        .map_err(down)?
        .map(|b| b.timestamp)
        .ok_or_else(|| node_unavailable(blockchain))?;
    let pricing = match *approved.fee {
        FeeChoice::Level { level, .. } => capped(
            fee_levels(chain).await?.level(level),
            approved.quote.pricing,
        ),
        FeeChoice::Eip1559 { .. } | FeeChoice::Legacy { .. } => approved.quote.pricing,
    };
    let (max_fee, priority_fee) = pricing.user_op_fees();

    // 2. One in flight.
    lk.ensure_no_operation_pending(&approved.record.wallet_id)
        .await?;

    // 3. The PIN.
    let wrap = run.pin_wrap()?;
    let wallet = run.user_wallet(&approved.record.wallet_id).await?;
    if !wallet.is_sca() {
        return Err(ApiError::internal());
    }
    let (user_key, mut commit) = run.authorize_wallet_operation(wrap, &input.pin).await?;
    let now = commit.now;
    let mut record = approved.record;
    stamp(run, &mut record, &mut commit);

    // 4. The sponsorship policy, on the day as it is now; then the paymaster's signature and
    //    the owner's.
    let worst_case = U256::from(gas.total()) * U256::from(max_fee);
    let entity = &run.user().entity_id;
    if let Err(refused) = lk
        .sponsorship(entity, blockchain, worst_case, !deployed)
        .await?
    {
        let reason = refused.refusal.reason();
        return Ok(failed_after_approval(
            run,
            record,
            commit,
            reason,
            refused.details,
        ));
    }
    let mut op = unsigned_op(station, owner, approved.call, nonce, deployed, &gas);
    op.max_fee_per_gas = max_fee;
    op.max_priority_fee_per_gas = priority_fee;
    let chain_id = chain.info.chain_id;
    {
        let secret = signing::wallet_secret(&user_key, &wallet)?;
        sign_sponsored(&mut op, chain_id, station, &secret, chain_now)?;
    }
    let packed = op.pack();
    let user_op_hash = format!(
        "{:#x}",
        sca::user_op_hash(&packed, station.entry_point, chain_id)
    );
    // The sequence (the nonce's low 64 bits; latchkey uses key 0) is the transaction's nonce.
    let sequence = nonce.as_limbs()[0];

    // 5. The commit.
    record.nonce = Some(i64::try_from(sequence).map_err(|_| ApiError::internal())?);
    record.user_op_hash = Some(user_op_hash.clone());
    let attempt = AttemptRecord {
        id: uuid::Uuid::new_v4().to_string(),
        transaction_id: record.id.clone(),
        kind: AttemptKind::UserOperation,
        challenge_id: run.challenge.id.clone(),
        nonce: sequence,
        raw: alloy_sol_types::SolValue::abi_encode(&packed),
        tx_hash: user_op_hash.clone(),
        gas_limit: gas.total(),
        max_fee: Some(max_fee),
        priority_fee: Some(priority_fee),
        gas_price: None,
        status: AttemptStatus::Stored,
        last_error: None,
        broadcasts: 0,
        last_broadcast_at: None,
        recent_blockhash: None,
        last_valid_block_height: None,
        created_at: now,
    };
    commit.audit.push(run.audit(
        "wallet.signed",
        json!({
            "walletId": wallet.id,
            "type": approved.kind.as_str(),
            "transactionId": record.id,
            "userOpHash": user_op_hash,
            "deploys": !deployed,
        }),
        now,
    ));
    commit.outbound = Some(OutboundWrite::New {
        transaction: record,
        attempt: Some(attempt),
        claimed_nonce: None,
        notification: None,
    });
    Ok(Completion::new(commit))
}
