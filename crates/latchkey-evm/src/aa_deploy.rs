//! ERC-4337 v0.7 on a local development node: deploys EntryPoint v0.7 and SimpleAccountFactory
//! v0.7 at their canonical addresses, and the sample VerifyingPaymaster at a fixed address per
//! signer, all through the deterministic deployment proxy, from the bytecode that
//! `@account-abstraction/contracts` 0.7.0 ships (`contracts/out/aa07.*.creation.hex`).
//!
//! For `latchkey serve --dev` and the tests, on anvil: the transactions are sent with
//! `eth_sendTransaction` from an unlocked account of the node (as the faucet drips), and the
//! proxy is placed with `anvil_setCode` if the node lacks it. Each contract already there is
//! left alone, so calling [`deploy_aa_contracts`] again (a restarted server on a running
//! anvil) sends nothing. On public chains the contracts exist already (the paymaster is
//! deployed by the operator from its own key, which then owns it): nothing here runs there.
//!
//! The paymaster deployed here is owned by the deployment proxy (BasePaymaster makes its
//! deployer the owner), so its EntryPoint deposit can be topped up by anyone
//! ([`fund_paymaster`]) but never withdrawn: fine for a development node, which is why this
//! module is for local nodes only.

use latchkey_chains::sca;
use latchkey_chains::{Address, B256, U256};
use latchkey_core::money::{CallRequest, EvmNode, NodeError, Receipt};
use std::time::Duration;

/// How long a deployment transaction may take to be mined on the local node.
const MINED_TIMEOUT: Duration = Duration::from_secs(30);
/// How often its receipt is asked for.
const RECEIPT_POLL: Duration = Duration::from_millis(50);

/// Where the ERC-4337 contracts are on a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AaContracts {
    /// EntryPoint v0.7 ([`sca::ENTRY_POINT_V07`]).
    pub entry_point: Address,
    /// SimpleAccountFactory v0.7 ([`sca::SIMPLE_ACCOUNT_FACTORY_V07`]).
    pub factory: Address,
    /// The `SimpleAccount` implementation behind every account's proxy.
    pub account_implementation: Address,
    /// The VerifyingPaymaster trusting [`AaContracts::paymaster_signer`].
    pub paymaster: Address,
    /// The key whose signatures the paymaster accepts.
    pub paymaster_signer: Address,
}

/// Why the contracts could not be deployed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A node call failed.
    #[error("{step}: {source}")]
    Node {
        /// What was being done.
        step: String,
        /// The node's error.
        source: NodeError,
    },
    /// A deployment transaction was mined but failed, or left no code at the address.
    #[error("{0}")]
    Failed(String),
}

fn node_err(step: impl Into<String>) -> impl FnOnce(NodeError) -> DeployError {
    let step = step.into();
    move |source| DeployError::Node { step, source }
}

/// Deploys (or finds) EntryPoint v0.7, SimpleAccountFactory v0.7 and a VerifyingPaymaster
/// trusting `paymaster_signer`, sending from `from`, an unlocked account of the local node with
/// ether for gas (anvil's first account).
pub async fn deploy_aa_contracts(
    node: &dyn EvmNode,
    from: Address,
    paymaster_signer: Address,
) -> Result<AaContracts, DeployError> {
    if node
        .code(sca::DETERMINISTIC_DEPLOYER)
        .await
        .map_err(node_err("reading the deployment proxy's code"))?
        .is_empty()
    {
        node.set_code(
            sca::DETERMINISTIC_DEPLOYER,
            sca::DETERMINISTIC_DEPLOYER_RUNTIME,
        )
        .await
        .map_err(node_err("placing the deterministic deployment proxy"))?;
    }
    let entry_point = deploy_deterministic(
        node,
        from,
        "EntryPoint v0.7",
        sca::ENTRY_POINT_SALT,
        &sca::entry_point_init_code(),
    )
    .await?;
    let factory = deploy_deterministic(
        node,
        from,
        "SimpleAccountFactory v0.7",
        sca::FACTORY_SALT,
        &sca::simple_account_factory_init_code(entry_point),
    )
    .await?;
    let paymaster = deploy_deterministic(
        node,
        from,
        "VerifyingPaymaster",
        sca::PAYMASTER_SALT,
        &sca::verifying_paymaster_init_code(entry_point, paymaster_signer),
    )
    .await?;
    Ok(AaContracts {
        entry_point,
        factory,
        account_implementation: sca::simple_account_implementation(factory),
        paymaster,
        paymaster_signer,
    })
}

/// Adds `wei` to `paymaster`'s deposit in `entry_point` (`depositTo`), from the unlocked
/// account `from`: what the EntryPoint takes the sponsored operations' gas from.
pub async fn fund_paymaster(
    node: &dyn EvmNode,
    from: Address,
    entry_point: Address,
    paymaster: Address,
    wei: U256,
) -> Result<(), DeployError> {
    let call = CallRequest {
        from: Some(from),
        to: Some(entry_point),
        value: Some(wei),
        data: sca::deposit_to_call(paymaster),
        ..CallRequest::default()
    };
    let hash = node
        .send_unlocked(&call)
        .await
        .map_err(node_err("depositing for the paymaster"))?;
    let receipt = mined(node, hash, "the paymaster's deposit").await?;
    if !receipt.success {
        return Err(DeployError::Failed(format!(
            "the paymaster's deposit {hash} reverted"
        )));
    }
    Ok(())
}

/// Deploys `init_code` through the proxy with `salt` unless its address already has code;
/// the address.
async fn deploy_deterministic(
    node: &dyn EvmNode,
    from: Address,
    what: &str,
    salt: B256,
    init_code: &[u8],
) -> Result<Address, DeployError> {
    let at = sca::deterministic_address(salt, init_code);
    let read_code = || async {
        node.code(at)
            .await
            .map_err(node_err(format!("reading {what}'s code")))
    };
    if !read_code().await?.is_empty() {
        return Ok(at);
    }
    let call = CallRequest {
        from: Some(from),
        to: Some(sca::DETERMINISTIC_DEPLOYER),
        data: sca::deterministic_deployment_data(salt, init_code),
        ..CallRequest::default()
    };
    let hash = node
        .send_unlocked(&call)
        .await
        .map_err(node_err(format!("deploying {what}")))?;
    let receipt = mined(node, hash, what).await?;
    if !receipt.success || read_code().await?.is_empty() {
        return Err(DeployError::Failed(format!(
            "deploying {what} at {at} failed (transaction {hash}, status {})",
            u8::from(receipt.success)
        )));
    }
    Ok(at)
}

/// Waits for `hash`'s receipt.
async fn mined(node: &dyn EvmNode, hash: B256, what: &str) -> Result<Receipt, DeployError> {
    let deadline = tokio::time::Instant::now() + MINED_TIMEOUT;
    loop {
        if let Some(receipt) = node
            .receipt(hash)
            .await
            .map_err(node_err(format!("waiting for {what}")))?
        {
            return Ok(receipt);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DeployError::Failed(format!(
                "{what}: transaction {hash} not mined after {}s",
                MINED_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(RECEIPT_POLL).await;
    }
}
