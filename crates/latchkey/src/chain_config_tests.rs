//! Tests of chain_config.rs: layering, per-chain knobs and their refusals.

use super::*;
use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    chains: ChainArgs,
}

fn flags(args: &[&str]) -> ChainArgs {
    let argv = std::iter::once("serve").chain(args.iter().copied());
    Cli::try_parse_from(argv)
        .map(|c| c.chains)
        .unwrap_or_default()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn urls(r: &Result<Vec<ChainConfig>, String>) -> Vec<(String, String)> {
    r.as_ref()
        .map(|v| {
            v.iter()
                .map(|c| (c.blockchain.to_string(), c.url.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn table<V: Clone, W: From<V>>(rows: &[(&str, V)]) -> Option<BTreeMap<String, W>> {
    Some(
        rows.iter()
            .map(|(k, v)| (k.to_string(), W::from(v.clone())))
            .collect(),
    )
}

#[test]
fn solana_chains_take_a_node_like_evm_ones() {
    let r = resolve(
        &flags(&["--rpc", "SOL-DEVNET=http://a", "--rpc", "SOL=http://b"]),
        no_env,
        FileChains::default(),
    );
    assert_eq!(
        urls(&r),
        [
            ("SOL-DEVNET".to_string(), "http://a".to_string()),
            ("SOL".to_string(), "http://b".to_string())
        ]
    );
}

#[test]
fn flags_win_over_env_over_file_and_urls_keep_their_equals_signs() {
    let keyed = "https://node.example/v2/k?apikey=a=b&x=1";
    let file = || FileChains {
        rpc: table(&[("ETH-SEPOLIA", "http://file")]),
        ..Default::default()
    };
    let env = |name: &str| {
        (name == "LATCHKEY_RPC").then(|| format!("MATIC-AMOY={keyed}, ETH-SEPOLIA=http://env"))
    };
    let flag = format!("MATIC-AMOY={keyed}");
    let from_flags = resolve(&flags(&["--rpc", &flag]), env, file());
    assert_eq!(urls(&from_flags), [("MATIC-AMOY".into(), keyed.into())]);
    let from_env = resolve(&flags(&[]), env, file());
    assert_eq!(
        urls(&from_env),
        [
            ("MATIC-AMOY".into(), keyed.into()),
            ("ETH-SEPOLIA".into(), "http://env".into())
        ]
    );
    let from_file = resolve(&flags(&[]), no_env, file());
    assert_eq!(
        urls(&from_file),
        [("ETH-SEPOLIA".into(), "http://file".into())]
    );
    assert_eq!(
        urls(&resolve(&flags(&[]), no_env, FileChains::default())),
        []
    );
}

#[test]
fn options_and_their_defaults() {
    let args = flags(&[
        "--rpc",
        "MATIC-AMOY=http://a",
        "--rpc",
        "ETH-SEPOLIA=http://b",
        "--confirmations",
        "MATIC-AMOY=3",
        "--rpc-timeout-seconds",
        "4",
    ]);
    let file = FileChains {
        rpc_retries: Some(0),
        stuck_after_seconds: Some(30),
        confirmations: table(&[("ETH-SEPOLIA", 7u64)]),
        ..Default::default()
    };
    let chains = resolve(&args, no_env, file).unwrap_or_default();
    let amoy = &chains[0].options;
    assert_eq!(amoy.timeout, Duration::from_secs(4));
    assert_eq!(amoy.retries, 0);
    assert_eq!(amoy.stuck_after, Some(Duration::from_secs(30)));
    // The flag list replaces the file's table whole.
    assert_eq!(amoy.confirmations, Some(3));
    assert_eq!(chains[1].options.confirmations, None);

    let env = |n: &str| (n == "LATCHKEY_CONFIRMATIONS").then(|| "ETH-SEPOLIA=2".to_string());
    let chains = resolve(
        &flags(&["--rpc", "ETH-SEPOLIA=http://b"]),
        env,
        FileChains::default(),
    )
    .unwrap_or_default();
    assert_eq!(chains[0].options.confirmations, Some(2));
    assert_eq!(chains[0].options.timeout, Duration::from_secs(10));
    assert_eq!(chains[0].options.retries, 3);
    assert_eq!(chains[0].options.stuck_after, None);
}

#[test]
fn bad_settings_are_one_line_errors() {
    let err = |args: &[&str], file: FileChains| {
        resolve(&flags(args), no_env, file)
            .err()
            .unwrap_or_default()
    };
    let none = FileChains::default;
    for (args, file, expected) in [
        (
            vec!["--rpc", "ETH-GOERLI=http://a"],
            none(),
            "--rpc: unknown blockchain \"ETH-GOERLI\"",
        ),
        (
            vec![
                "--rpc",
                "MATIC-AMOY=http://a",
                "--rpc",
                "MATIC-AMOY=http://b",
            ],
            none(),
            "--rpc: MATIC-AMOY is given twice",
        ),
        (
            vec!["--rpc", "EVM=http://a"],
            none(),
            "--rpc EVM: latchkey moves no money on EVM",
        ),
        (
            vec!["--rpc", "NEAR=http://a"],
            none(),
            "--rpc NEAR: latchkey moves no money",
        ),
        (
            vec!["--rpc", "ARC=http://a"],
            none(),
            "--rpc ARC: the chain id of ARC",
        ),
        (
            vec!["--rpc", "http://key@x"],
            none(),
            "--rpc takes CHAIN=VALUE",
        ),
        (
            vec!["--rpc", "MATIC-AMOY="],
            none(),
            "--rpc MATIC-AMOY: the value is empty",
        ),
        (
            vec![
                "--rpc",
                "MATIC-AMOY=http://a",
                "--confirmations",
                "MATIC-AMOY=0",
            ],
            none(),
            "--confirmations MATIC-AMOY: confirmations must be",
        ),
        (
            vec!["--rpc", "MATIC-AMOY=http://a", "--confirmations", "ETH=2"],
            none(),
            "confirmations are set for ETH",
        ),
        (
            vec![],
            FileChains {
                rpc: table(&[("matic-amoy", "http://a")]),
                ..Default::default()
            },
            "[rpc]: unknown blockchain \"matic-amoy\"",
        ),
        (
            vec!["--rpc", "MATIC-AMOY=http://a", "--rpc-timeout-seconds", "0"],
            none(),
            "rpc_timeout_seconds must be",
        ),
    ] {
        let e = err(&args, file);
        assert!(e.starts_with(expected), "{args:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(!e.contains("key@"), "{e}");
    }
}

#[test]
fn faucet_keys_are_files_for_testnets_with_a_node() {
    let files = |r: Result<Vec<ChainConfig>, String>| -> Vec<Option<PathBuf>> {
        r.unwrap().into_iter().map(|c| c.faucet_key_file).collect()
    };
    let rpc = [
        "--rpc",
        "MATIC-AMOY=http://a",
        "--rpc",
        "ETH-SEPOLIA=http://b",
    ];
    let got = resolve(
        &flags(&[&rpc[..], &["--faucet-key", "ETH-SEPOLIA=/run/k"]].concat()),
        no_env,
        FileChains::default(),
    );
    assert_eq!(files(got), [None, Some(PathBuf::from("/run/k"))]);
    let env = |name: &str| (name == "LATCHKEY_FAUCET_KEYS").then(|| "MATIC-AMOY=/e".into());
    assert_eq!(
        files(resolve(&flags(&rpc), env, FileChains::default())),
        [Some(PathBuf::from("/e")), None]
    );
    let file = FileChains {
        faucet_keys: table(&[("MATIC-AMOY", "/f")]),
        ..Default::default()
    };
    assert_eq!(
        files(resolve(&flags(&rpc), no_env, file)),
        [Some(PathBuf::from("/f")), None]
    );
    let refused = |extra: &[&str]| {
        resolve(
            &flags(&[&rpc[..], extra].concat()),
            no_env,
            FileChains::default(),
        )
        .unwrap_err()
    };
    assert!(refused(&["--faucet-key", "ETH=/k"]).contains("not a testnet"));
    assert!(refused(&["--faucet-key", "AVAX-FUJI=/k"]).contains("no --rpc node"));
    assert!(refused(&["--faucet-key", "/just/a/path"]).contains("CHAIN=VALUE"));
}

#[test]
fn gas_stations_are_key_files_and_paymasters_on_sca_chains_with_a_node() {
    let rpc = [
        "--rpc",
        "MATIC-AMOY=http://a",
        "--rpc",
        "ETH-SEPOLIA=http://b",
    ];
    let pm = "0x00000000000000000000000000000000000000cc";
    let got = resolve(
        &flags(
            &[
                &rpc[..],
                &["--gas-station-key", "MATIC-AMOY=/run/s"],
                &["--paymaster", &format!("MATIC-AMOY={pm}")],
            ]
            .concat(),
        ),
        no_env,
        FileChains::default(),
    )
    .unwrap();
    assert_eq!(got[0].gas_station_key_file, Some(PathBuf::from("/run/s")));
    assert_eq!(got[0].paymaster, pm.parse().ok());
    assert_eq!(got[1].gas_station_key_file, None);
    let env = |name: &str| (name == "LATCHKEY_GAS_STATION_KEYS").then(|| "ETH-SEPOLIA=/e".into());
    let got = resolve(&flags(&rpc), env, FileChains::default()).unwrap();
    assert_eq!(got[1].gas_station_key_file, Some(PathBuf::from("/e")));
    let file = FileChains {
        gas_station_keys: table(&[("MATIC-AMOY", "/f")]),
        paymasters: table(&[("MATIC-AMOY", pm)]),
        ..Default::default()
    };
    let got = resolve(&flags(&rpc), no_env, file).unwrap();
    assert_eq!(got[0].gas_station_key_file, Some(PathBuf::from("/f")));
    assert_eq!(got[0].paymaster, pm.parse().ok());
    let refused = |extra: &[&str]| {
        resolve(
            &flags(&[&rpc[..], extra].concat()),
            no_env,
            FileChains::default(),
        )
        .unwrap_err()
    };
    assert!(refused(&["--gas-station-key", "BASE-SEPOLIA=/k"]).contains("no --rpc node"));
    assert!(refused(&["--gas-station-key", "SOL-DEVNET=/k"]).contains("SCA wallets"));
    assert!(refused(&["--paymaster", "MATIC-AMOY=0x12"]).contains("not an EVM address"));
    assert!(refused(&["--paymaster", &format!("MATIC-AMOY={pm}")]).contains("no --gas-station-key"));
}
