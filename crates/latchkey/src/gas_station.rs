//! The gas station of a chain at start-up (docs/configuration.md, "Gas station"): the key
//! that bundles SCA wallets' UserOperations and signs their sponsorship, and the
//! VerifyingPaymaster that trusts it.
//!
//! - `--gas-station-key CHAIN=FILE` and `--paymaster CHAIN=ADDRESS`: an operator's station on
//!   any SCA chain (the paymaster deployed by the operator, trusting the key, with an
//!   EntryPoint deposit).
//! - `--dev` on a local node (anvil) of an SCA chain: the ERC-4337 contracts are deployed at
//!   their canonical addresses (`aa_deploy`, idempotent: a restart on a running anvil sends
//!   nothing), a station key is generated once into the data dir (`gas-station-CHAIN.key`,
//!   mode 0600) unless one is configured, a paymaster trusting it is deployed, and the station
//!   and the paymaster's deposit are funded from the node.

use latchkey_chains::sca::{self, IEntryPoint};
use latchkey_chains::{Address, U256};
use latchkey_core::money::{CallRequest, Chain, GasStation, OperatorKey};
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

const ETHER: u128 = 1_000_000_000_000_000_000;
/// A development station is topped up to this when it holds less than a tenth of it.
const DEV_STATION_BALANCE: u128 = 100 * ETHER;
/// A development paymaster's deposit is topped up by this when below it.
const DEV_PAYMASTER_DEPOSIT: u128 = 10 * ETHER;

/// What the chain's settings say about its station.
pub struct StationSettings<'a> {
    /// `--gas-station-key`'s key, loaded.
    pub key: Option<OperatorKey>,
    /// `--paymaster`.
    pub paymaster: Option<Address>,
    /// `--dev`.
    pub dev: bool,
    /// The data dir (where `--dev` keeps a generated station key).
    pub data_dir: &'a Path,
}

/// The chain's gas station, if it has one; an error stops start-up with one line.
pub async fn configure(
    chain: &Chain,
    settings: StationSettings<'_>,
) -> Result<Option<GasStation>, String> {
    let blockchain = chain.info.blockchain;
    let dev_local = settings.dev && chain.info.is_local && blockchain.supports_sca();
    let key = match (settings.key, dev_local) {
        (Some(key), _) => key,
        (None, true) => dev_key(settings.data_dir, blockchain.as_str())?,
        (None, false) => return Ok(None),
    };
    let key = Arc::new(key);
    let paymaster = match (settings.paymaster, dev_local) {
        (Some(paymaster), false) => {
            check_paymaster(chain, paymaster, key.address()).await?;
            paymaster
        }
        (given, true) => {
            let deployed = deploy_dev(chain, key.address()).await?;
            given.unwrap_or(deployed)
        }
        (None, false) => {
            return Err(format!(
                "--gas-station-key {blockchain}: also set --paymaster {blockchain}=ADDRESS (a \
                 VerifyingPaymaster for EntryPoint v0.7 that trusts the station's key \
                 {}), or run a local node with --dev, which deploys one",
                key.address()
            ))
        }
    };
    tracing::info!(
        %blockchain,
        station = %key.address(),
        %paymaster,
        "gas station configured"
    );
    Ok(Some(GasStation {
        station: key.clone(),
        paymaster_signer: key,
        paymaster,
        entry_point: sca::ENTRY_POINT_V07,
        account: sca::SafeAccountConfig::default(),
    }))
}

/// An operator's paymaster must trust the station key (else every sponsorship would be
/// refused on chain, AA34); an empty EntryPoint deposit is only warned about, since the
/// operator may fund it after start-up.
async fn check_paymaster(
    chain: &Chain,
    paymaster: Address,
    station: Address,
) -> Result<(), String> {
    let blockchain = chain.info.blockchain;
    let read = |data: Vec<u8>, to: Address| CallRequest {
        to: Some(to),
        data,
        ..CallRequest::default()
    };
    let signer = chain
        .node
        .call(&read(
            alloy_sol_types::SolCall::abi_encode(&sca::IVerifyingPaymaster::verifyingSignerCall {}),
            paymaster,
        ))
        .await
        .ok()
        .and_then(|ret| latchkey_chains::erc::decode_address(&ret));
    if signer != Some(station) {
        return Err(format!(
            "--paymaster {blockchain}: {paymaster} is not a VerifyingPaymaster trusting the gas \
             station's key {station} (its verifyingSigner() answers {})",
            signer.map_or_else(|| "nothing".to_owned(), |s| s.to_string())
        ));
    }
    let deposit = chain
        .node
        .call(&read(
            alloy_sol_types::SolCall::abi_encode(&IEntryPoint::balanceOfCall {
                account: paymaster,
            }),
            sca::ENTRY_POINT_V07,
        ))
        .await
        .ok()
        .and_then(|ret| latchkey_chains::erc::decode_uint(&ret));
    if deposit.is_none_or(|d| d.is_zero()) {
        tracing::warn!(
            %blockchain,
            %paymaster,
            "the paymaster has no EntryPoint deposit: sponsored operations will fail until it is funded"
        );
    }
    Ok(())
}

/// The development station key of `chain`, generated into the data dir on first use.
fn dev_key(data_dir: &Path, chain: &str) -> Result<OperatorKey, String> {
    let file = data_dir.join(format!("gas-station-{chain}.key"));
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let text = zeroize::Zeroizing::new(text);
            return OperatorKey::from_hex(&text)
                .map_err(|e| format!("{} is not a key file: {e}", file.display()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    }
    let (key, text) = OperatorKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(&file)
        .map_err(|e| format!("cannot create {}: {e}", file.display()))?;
    f.write_all(format!("{}\n", text.as_str()).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(key)
}

/// Deploys the ERC-4337 contracts and a paymaster trusting `signer` on the local node, and
/// funds the station and the paymaster's deposit from the node; the paymaster's address.
async fn deploy_dev(chain: &Chain, signer: Address) -> Result<Address, String> {
    let blockchain = chain.info.blockchain;
    let node = chain.node.as_ref();
    let failed = |what: &str, e: &dyn std::fmt::Display| format!("--dev {blockchain}: {what}: {e}");
    let from = node
        .accounts()
        .await
        .map_err(|e| failed("listing the node's accounts", &e))?
        .first()
        .copied()
        .ok_or_else(|| format!("--dev {blockchain}: the local node has no unlocked account"))?;
    let aa = latchkey_evm::aa_deploy::deploy_aa_contracts(node, from, signer)
        .await
        .map_err(|e| failed("deploying the ERC-4337 contracts", &e))?;
    let balance = node
        .balance(signer, latchkey_core::money::BlockTag::Latest)
        .await
        .map_err(|e| failed("reading the station's balance", &e))?;
    if balance < U256::from(DEV_STATION_BALANCE / 10) {
        node.set_balance(signer, U256::from(DEV_STATION_BALANCE))
            .await
            .map_err(|e| failed("funding the station", &e))?;
    }
    let ret = node
        .call(&CallRequest {
            to: Some(aa.entry_point),
            data: alloy_sol_types::SolCall::abi_encode(&IEntryPoint::balanceOfCall {
                account: aa.paymaster,
            }),
            ..CallRequest::default()
        })
        .await
        .map_err(|e| failed("reading the paymaster's deposit", &e))?;
    let deposit = latchkey_chains::erc::decode_uint(&ret).unwrap_or(U256::ZERO);
    if deposit < U256::from(DEV_PAYMASTER_DEPOSIT) {
        latchkey_evm::aa_deploy::fund_paymaster(
            node,
            from,
            aa.entry_point,
            aa.paymaster,
            U256::from(DEV_PAYMASTER_DEPOSIT),
        )
        .await
        .map_err(|e| failed("funding the paymaster's deposit", &e))?;
    }
    Ok(aa.paymaster)
}
