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
//!
//! Then [`watch`] reads every station's funds at start and each minute: the paymaster's
//! EntryPoint deposit (what pays the operations) and the station's own balance (what pays each
//! bundle until the EntryPoint refunds it). Either is low below what
//! [`LOW_WATER_OPERATIONS`] of the largest operations cost at the node's gas price now; on a
//! `--dev` local node latchkey tops it up from the node, elsewhere it warns (once when it
//! becomes low, then hourly), since refilling is the operator's move. An operation the
//! EntryPoint refuses for the deposit (AA31) waits in QUEUED until it is refilled.

use latchkey_chains::sca::{self, IEntryPoint};
use latchkey_chains::{Address, U256};
use latchkey_core::money::{CallRequest, Chain, GasStation, OperatorKey};
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const ETHER: u128 = 1_000_000_000_000_000_000;
/// A development station is topped up to this when it holds less than a tenth of it.
const DEV_STATION_BALANCE: u128 = 100 * ETHER;
/// A development paymaster's deposit is topped up by this when below it.
const DEV_PAYMASTER_DEPOSIT: u128 = 10 * ETHER;
/// How often [`watch`] reads each station's funds.
const WATCH_EVERY: Duration = Duration::from_secs(60);
/// Funds are low below what this many of the largest operations cost.
pub const LOW_WATER_OPERATIONS: u64 = 20;
/// The gas [`watch`] prices the largest operation at: above a first operation's limits (the
/// Safe's deployment and a call, about 430 000 used) with room for a costly call.
const LARGEST_OPERATION_GAS: u64 = 1_000_000;
/// While funds stay low, the warning is repeated every this many checks (an hour).
const REPEAT_EVERY: u32 = 60;

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
/// refused on chain, AA34). Its deposit is [`watch`]'s: the operator may fund it after
/// start-up.
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

/// The station's funds as one check read them (wei).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Funds {
    /// The paymaster's EntryPoint deposit.
    deposit: U256,
    /// The station's balance.
    station: U256,
    /// Below this, either is low.
    low_water: U256,
}

impl Funds {
    fn low(&self) -> bool {
        self.deposit < self.low_water || self.station < self.low_water
    }
}

/// Reads `station`'s funds on `chain`.
async fn read_funds(chain: &Chain, station: &GasStation) -> Result<Funds, String> {
    let node = chain.node.as_ref();
    let price = node.gas_price().await.map_err(|e| e.to_string())?;
    let ret = node
        .call(&CallRequest {
            to: Some(station.entry_point),
            data: alloy_sol_types::SolCall::abi_encode(&IEntryPoint::balanceOfCall {
                account: station.paymaster,
            }),
            ..CallRequest::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let deposit = latchkey_chains::erc::decode_uint(&ret)
        .ok_or_else(|| "the EntryPoint's balanceOf answered no number".to_owned())?;
    let balance = node
        .balance(
            station.station.address(),
            latchkey_core::money::BlockTag::Latest,
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Funds {
        deposit,
        station: balance,
        low_water: U256::from(price)
            * U256::from(LARGEST_OPERATION_GAS)
            * U256::from(LOW_WATER_OPERATIONS),
    })
}

/// One check of `chain`'s station: its funds when they are low (after a `--dev` top-up on a
/// local node, when that did not help), `None` when they are not.
async fn check_funds(
    chain: &Chain,
    station: &GasStation,
    dev: bool,
) -> Result<Option<Funds>, String> {
    let mut funds = read_funds(chain, station).await?;
    if funds.low() && dev && chain.info.is_local {
        top_up_dev(chain, station, funds).await?;
        funds = read_funds(chain, station).await?;
    }
    Ok(funds.low().then_some(funds))
}

/// Refills a development station and deposit from the local node, as start-up does.
async fn top_up_dev(chain: &Chain, station: &GasStation, funds: Funds) -> Result<(), String> {
    let node = chain.node.as_ref();
    if funds.station < funds.low_water {
        node.set_balance(station.station.address(), U256::from(DEV_STATION_BALANCE))
            .await
            .map_err(|e| e.to_string())?;
    }
    if funds.deposit < funds.low_water {
        let from = node
            .accounts()
            .await
            .map_err(|e| e.to_string())?
            .first()
            .copied()
            .ok_or_else(|| "the local node has no unlocked account".to_owned())?;
        latchkey_evm::aa_deploy::fund_paymaster(
            node,
            from,
            station.entry_point,
            station.paymaster,
            U256::from(DEV_PAYMASTER_DEPOSIT),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    tracing::info!(
        blockchain = %chain.info.blockchain,
        "--dev: the gas station's funds were low and were topped up from the local node"
    );
    Ok(())
}

/// Checks every station's funds now and then each [`WATCH_EVERY`] until `stopped` (module
/// doc). A node that does not answer is logged and tried again at the next check.
pub async fn watch(chains: Vec<Chain>, dev: bool, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut low_for = vec![0u32; chains.len()];
    loop {
        for (chain, low_for) in chains.iter().zip(low_for.iter_mut()) {
            let Some(station) = chain.gas_station.as_deref() else {
                continue;
            };
            let blockchain = chain.info.blockchain;
            match check_funds(chain, station, dev).await {
                Ok(None) => {
                    if *low_for > 0 {
                        tracing::info!(%blockchain, "the gas station's funds are sufficient again");
                    }
                    *low_for = 0;
                }
                Ok(Some(funds)) => {
                    if *low_for % REPEAT_EVERY == 0 {
                        warn_low(chain, station, funds);
                    }
                    *low_for = low_for.saturating_add(1);
                }
                Err(e) => {
                    tracing::warn!(%blockchain, error = %e, "cannot read the gas station's funds");
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(WATCH_EVERY) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

/// The operator's warning: what is low, by how much, and how to refill it.
fn warn_low(chain: &Chain, station: &GasStation, funds: Funds) {
    let blockchain = chain.info.blockchain;
    let show = |wei: U256| {
        format!(
            "{} {}",
            latchkey_chains::format_units(wei, blockchain.native_decimals()),
            blockchain.native_symbol()
        )
    };
    if funds.deposit < funds.low_water {
        tracing::warn!(
            %blockchain,
            paymaster = %station.paymaster,
            deposit = %show(funds.deposit),
            low_water = %show(funds.low_water),
            "the paymaster's EntryPoint deposit is low (below {LOW_WATER_OPERATIONS} large \
             operations at the current gas price): fund it with EntryPoint.depositTo(paymaster); \
             operations it cannot pay for wait in QUEUED"
        );
    }
    if funds.station < funds.low_water {
        tracing::warn!(
            %blockchain,
            station = %station.station.address(),
            balance = %show(funds.station),
            low_water = %show(funds.low_water),
            "the gas station's balance is low (below {LOW_WATER_OPERATIONS} large operations at \
             the current gas price): it pays each bundle's gas until the EntryPoint refunds it; \
             send it native coin"
        );
    }
}
