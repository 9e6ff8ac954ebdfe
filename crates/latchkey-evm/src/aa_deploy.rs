//! ERC-4337 v0.7 with Safe accounts on a local development node: deploys, at their canonical
//! addresses, EntryPoint v0.7 (`@account-abstraction/contracts` 0.7.0), Safe 1.4.1's contracts
//! (`@safe-global/safe-contracts` 1.4.1) and the Safe4337Module 0.3.0 with its
//! SafeModuleSetup (`@safe-global/safe-4337` 0.3.0), and the sample VerifyingPaymaster at a
//! fixed address per signer; all from the bytecode the packages ship (`contracts/out/`).
//!
//! Two CREATE2 proxies deploy them, as on public chains: the deterministic deployment proxy
//! `0x4e59…956c` (EntryPoint, the module, its setup, the paymaster), placed with
//! `anvil_setCode` if the node lacks it, and the Safe singleton factory `0x914d…43d7` (Safe's
//! contracts), deployed as on a fresh public chain: its one-time signer is funded and the
//! presigned transaction of `@safe-global/safe-singleton-factory` for the node's chain id is
//! sent (with `anvil_setCode` of the same code as a fallback for a chain id the package lacks).
//!
//! For `latchkey serve --dev` and the tests, on anvil: the transactions are sent with
//! `eth_sendTransaction` from an unlocked account of the node (as the faucet drips). Each
//! contract already there is left alone, so calling [`deploy_aa_contracts`] again (a restarted
//! server on a running anvil) sends nothing. On public chains the contracts exist already (the
//! paymaster is deployed by the operator from its own key, which then owns it): nothing here
//! runs there.
//!
//! The paymaster deployed here is owned by the deployment proxy (BasePaymaster makes its
//! deployer the owner), so its EntryPoint deposit can be topped up by anyone
//! ([`fund_paymaster`]) but never withdrawn: fine for a development node, which is why this
//! module is for local nodes only.

use latchkey_chains::sca;
use latchkey_chains::{Address, B256, U256};
use latchkey_core::money::{BlockTag, CallRequest, EvmNode, NodeError, Receipt};
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
    /// The Safe contracts accounts are created with (the canonical ones).
    pub account: sca::SafeAccountConfig,
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

/// Deploys (or finds) EntryPoint v0.7, the Safe contracts ([`sca::safe_contracts`]) and a
/// VerifyingPaymaster trusting `paymaster_signer`, sending from `from`, an unlocked account of
/// the local node with ether for gas (anvil's first account).
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
    deploy_singleton_factory(node, from).await?;
    let entry_point = deploy_deterministic(
        node,
        from,
        "EntryPoint v0.7",
        sca::DETERMINISTIC_DEPLOYER,
        sca::ENTRY_POINT_SALT,
        &sca::entry_point_init_code(),
    )
    .await?;
    for contract in sca::safe_contracts() {
        let at = deploy_deterministic(
            node,
            from,
            contract.name,
            contract.deployer,
            contract.salt,
            &contract.init_code,
        )
        .await?;
        if at != contract.address {
            return Err(DeployError::Failed(format!(
                "{} landed at {at}, not at its canonical address {}",
                contract.name, contract.address
            )));
        }
    }
    let paymaster = deploy_deterministic(
        node,
        from,
        "VerifyingPaymaster",
        sca::DETERMINISTIC_DEPLOYER,
        sca::PAYMASTER_SALT,
        &sca::verifying_paymaster_init_code(entry_point, paymaster_signer),
    )
    .await?;
    Ok(AaContracts {
        entry_point,
        account: sca::SafeAccountConfig::default(),
        paymaster,
        paymaster_signer,
    })
}

/// Deploys the Safe singleton factory unless it is there: funds its one-time signer from
/// `from` and sends the package's presigned transaction for the node's chain id; on a chain
/// id the package has no transaction for (or whose signer has already sent something), places
/// the same runtime code with `anvil_setCode`.
async fn deploy_singleton_factory(node: &dyn EvmNode, from: Address) -> Result<(), DeployError> {
    let factory = sca::SAFE_SINGLETON_FACTORY;
    let has_code = || async {
        node.code(factory)
            .await
            .map(|code| !code.is_empty())
            .map_err(node_err("reading the Safe singleton factory's code"))
    };
    if has_code().await? {
        return Ok(());
    }
    let chain_id = node
        .chain_id()
        .await
        .map_err(node_err("reading the chain id"))?;
    let presigned = match sca::singleton_factory_deployment(chain_id) {
        Some(d) => {
            let used = node
                .nonce(d.signer, BlockTag::Latest)
                .await
                .map_err(node_err("reading the singleton factory signer's nonce"))?;
            (used == 0).then_some(d)
        }
        None => None,
    };
    let Some(deployment) = presigned else {
        return node
            .set_code(factory, sca::DETERMINISTIC_DEPLOYER_RUNTIME)
            .await
            .map_err(node_err("placing the Safe singleton factory"));
    };
    let balance = node
        .balance(deployment.signer, BlockTag::Latest)
        .await
        .map_err(node_err("reading the singleton factory signer's balance"))?;
    if balance < deployment.cost() {
        let call = CallRequest {
            from: Some(from),
            to: Some(deployment.signer),
            value: Some(deployment.cost() - balance),
            ..CallRequest::default()
        };
        let hash = node
            .send_unlocked(&call)
            .await
            .map_err(node_err("funding the singleton factory's signer"))?;
        let receipt = mined(node, hash, "funding the singleton factory's signer").await?;
        if !receipt.success {
            return Err(DeployError::Failed(format!(
                "funding the singleton factory's signer: {hash} reverted"
            )));
        }
    }
    let hash = node
        .send_raw(&deployment.raw_transaction)
        .await
        .map_err(node_err(
            "sending the singleton factory's presigned deployment",
        ))?;
    let receipt = mined(node, hash, "the Safe singleton factory").await?;
    if !receipt.success || !has_code().await? {
        return Err(DeployError::Failed(format!(
            "deploying the Safe singleton factory at {factory} failed (transaction {hash})"
        )));
    }
    Ok(())
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

/// Deploys `init_code` through the CREATE2 proxy `deployer` with `salt` unless its address
/// already has code; the address.
async fn deploy_deterministic(
    node: &dyn EvmNode,
    from: Address,
    what: &str,
    deployer: Address,
    salt: B256,
    init_code: &[u8],
) -> Result<Address, DeployError> {
    let at = sca::create2_proxy_address(deployer, salt, init_code);
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
        to: Some(deployer),
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
