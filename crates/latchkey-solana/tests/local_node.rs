//! latchkey-solana against a real SVM: the local node of `tests/solana-node` (LiteSVM behind
//! JSON-RPC: every transaction is executed, fees charged, rent checked). Each test starts its
//! own node (`--port 0`, killed on drop), so slots warped in one do not disturb another.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_chains::{Blockchain, Family};
use latchkey_solana::fees::{fee_levels, network_fee_lamports};
use latchkey_solana::history::{balance_changes, deposits_to};
use latchkey_solana::instruction::{ata, system, token, MINT_SIZE};
use latchkey_solana::pubkey::{associated_token_address, TOKEN_2022_PROGRAM, TOKEN_PROGRAM};
use latchkey_solana::transfer::{
    plan_transfer, token_asset, transfer_instructions, Asset, ComputeBudget, PlanError, Transfer,
};
use latchkey_solana::types::SignaturesQuery;
use latchkey_solana::{
    connect, Commitment, ConnectError, Message, Pubkey, RejectKind, RpcError, RpcOptions,
    SendOptions, SolanaRpc, TokenFilter,
};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SOL: u64 = 1_000_000_000;
const WAIT: Duration = Duration::from_secs(20);

/// A running `tests/solana-node/start --port 0`, killed on drop.
struct Node {
    child: Child,
    url: String,
}

impl Node {
    fn start(args: &[&str]) -> Node {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/solana-node/start");
        let mut child = Command::new(script)
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tests/solana-node/start runs");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // The first start on a fresh clone runs `npm ci`.
        let line = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("the node prints its address");
        let url = line
            .trim()
            .strip_prefix("solana-node listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Node { child, url }
    }

    fn rpc(&self) -> SolanaRpc {
        SolanaRpc::new(&self.url, &RpcOptions::default()).unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh wallet: its 32-byte secret (zeroized on drop) and address.
struct Wallet {
    secret: latchkey_chains::Zeroizing<Vec<u8>>,
    address: Pubkey,
}

fn wallet() -> Wallet {
    let secret = latchkey_chains::generate(Family::Solana);
    let address = latchkey_chains::address(Family::Solana, &secret)
        .unwrap()
        .parse()
        .unwrap();
    Wallet { secret, address }
}

async fn funded(rpc: &SolanaRpc, lamports: u64) -> Wallet {
    let w = wallet();
    let sig = rpc.request_airdrop(&w.address, lamports).await.unwrap();
    let status = rpc
        .wait_for_signature(&sig, Commitment::Confirmed, WAIT)
        .await
        .unwrap()
        .expect("the airdrop lands");
    assert_eq!(status.err, None);
    w
}

async fn blockhash(rpc: &SolanaRpc) -> [u8; 32] {
    let latest = rpc
        .get_latest_blockhash(Commitment::Confirmed)
        .await
        .unwrap();
    latchkey_solana::message::parse_blockhash(&latest.blockhash).unwrap()
}

/// Signs `instructions` (paid by the first signer), sends them and waits until confirmed.
async fn send(
    rpc: &SolanaRpc,
    instructions: &[latchkey_solana::instruction::Instruction],
    signers: &[&Wallet],
) -> String {
    let message = Message::new(instructions, &signers[0].address, blockhash(rpc).await).unwrap();
    let secrets: Vec<&[u8]> = signers.iter().map(|w| &w.secret[..]).collect();
    let signed = message.sign(&secrets).unwrap();
    let sig = rpc
        .send_transaction(&signed.base64, &SendOptions::default())
        .await
        .unwrap();
    assert_eq!(sig, signed.signature);
    let status = rpc
        .wait_for_signature(&sig, Commitment::Confirmed, WAIT)
        .await
        .unwrap()
        .expect("it lands");
    assert_eq!(status.err, None, "{instructions:?}");
    sig
}

/// A new mint of `program` with `decimals`, its authority `payer`.
async fn create_mint(rpc: &SolanaRpc, payer: &Wallet, program: &Pubkey, decimals: u8) -> Pubkey {
    let mint = wallet();
    let rent = rpc
        .get_minimum_balance_for_rent_exemption(MINT_SIZE)
        .await
        .unwrap();
    send(
        rpc,
        &[
            system::create_account(&payer.address, &mint.address, rent, MINT_SIZE, program),
            token::initialize_mint2(program, &mint.address, decimals, &payer.address, None),
        ],
        &[payer, &mint],
    )
    .await;
    mint.address
}

/// Mints `amount` to `owner`'s associated token account (created if missing), paid by the
/// mint authority `authority`.
async fn mint_to(
    rpc: &SolanaRpc,
    authority: &Wallet,
    mint: &Pubkey,
    program: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) {
    let (create, account) =
        ata::create_idempotent(&authority.address, owner, mint, program).unwrap();
    send(
        rpc,
        &[
            create,
            token::mint_to(program, mint, &account, &authority.address, amount),
        ],
        &[authority],
    )
    .await;
}

async fn warp(rpc: &SolanaRpc, slots: u64) {
    let _: u64 = rpc
        .call("latchkey_warpSlots", json!([slots]))
        .await
        .unwrap();
}

#[tokio::test]
async fn connect_checks_the_genesis_hash_and_reads_the_cluster() {
    let node = Node::start(&[]);
    let chain = connect(Blockchain::SolDevnet, &node.url, &RpcOptions::default())
        .await
        .unwrap();
    assert!(chain.info.is_local);
    assert_eq!(chain.info.genesis_hash, latchkey_solana::LOCAL_GENESIS_HASH);
    // Not a Solana chain.
    let e = connect(Blockchain::MaticAmoy, &node.url, &RpcOptions::default())
        .await
        .err();
    assert_eq!(e, Some(ConnectError::NotSolana(Blockchain::MaticAmoy)));
    // Nobody listening: one line, no secrets.
    let e = connect(
        Blockchain::Sol,
        "http://127.0.0.1:1/secret-key",
        &RpcOptions::default(),
    )
    .await
    .err()
    .unwrap();
    let text = e.to_string();
    assert!(matches!(e, ConnectError::Unreachable { .. }), "{text}");
    assert!(
        !text.contains("secret-key") && !text.contains('\n'),
        "{text}"
    );

    let rpc = &chain.rpc;
    let processed = rpc.get_slot(Commitment::Processed).await.unwrap();
    let finalized = rpc.get_slot(Commitment::Finalized).await.unwrap();
    assert!(processed >= finalized);
    let latest = rpc
        .get_latest_blockhash(Commitment::Processed)
        .await
        .unwrap();
    let height = rpc.get_block_height(Commitment::Processed).await.unwrap();
    assert!(latest.last_valid_block_height >= height + 149);
    assert!(rpc
        .is_blockhash_valid(&latest.blockhash, Commitment::Processed)
        .await
        .unwrap());
    assert_eq!(
        rpc.get_minimum_balance_for_rent_exemption(165)
            .await
            .unwrap(),
        2_039_280
    );
    let fees = rpc
        .get_recent_prioritization_fees(&[Pubkey([1; 32])])
        .await
        .unwrap();
    assert!(!fees.is_empty());
    assert_eq!(fee_levels(&fees).high, 0, "a quiet cluster's levels are 0");

    // A node of another cluster is refused, unless its hash is configured as local.
    let other = Node::start(&[
        "--genesis-hash",
        "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY",
    ]);
    let e = connect(Blockchain::SolDevnet, &other.url, &RpcOptions::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, ConnectError::WrongCluster { .. }), "{e}");
    assert!(e.to_string().starts_with("--rpc SOL-DEVNET: "), "{e}");
    let options = RpcOptions {
        local_genesis_hash: Some("4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY".into()),
        ..RpcOptions::default()
    };
    let chain = connect(Blockchain::Sol, &other.url, &options)
        .await
        .unwrap();
    assert!(chain.info.is_local);
}

#[tokio::test]
async fn sol_transfer_lands_finalizes_and_is_classified_when_refused() {
    let node = Node::start(&[]);
    let rpc = node.rpc();
    let alice = funded(&rpc, 2 * SOL).await;
    assert_eq!(
        rpc.get_balance(&alice.address, Commitment::Confirmed)
            .await
            .unwrap(),
        2 * SOL
    );
    let bob = wallet();

    // Too little for a new account: Circle's 155257, before anything is signed.
    let dust = Transfer {
        from: alice.address,
        to: bob.address,
        asset: Asset::Sol,
        amount: 1_000,
        memo: None,
    };
    let e = plan_transfer(&rpc, dust, 0).await.err().unwrap();
    assert_eq!(e.circle_code(), 155257, "{e}");

    // A refId too long for one transaction: refused before signing (2, parameter invalid).
    let long_memo = Transfer {
        from: alice.address,
        to: bob.address,
        asset: Asset::Sol,
        amount: SOL,
        memo: Some("x".repeat(1_100)),
    };
    let e = plan_transfer(&rpc, long_memo, 0).await.err().unwrap();
    assert_eq!(e.circle_code(), 2, "{e}");

    // A transfer with a priority fee and a memo (refId).
    let amount = SOL / 4;
    let plan = plan_transfer(
        &rpc,
        Transfer {
            from: alice.address,
            to: bob.address,
            asset: Asset::Sol,
            amount,
            memo: Some("ref-42".into()),
        },
        10_000,
    )
    .await
    .unwrap();
    assert_eq!(
        plan.fee_lamports,
        network_fee_lamports(1, plan.budget.unit_limit, 10_000)
    );
    let message = plan.message(blockhash(&rpc).await).unwrap();
    let signed = message.sign(&[&alice.secret[..]]).unwrap();
    let sig = rpc
        .send_transaction(&signed.base64, &SendOptions::default())
        .await
        .unwrap();
    let confirmed = rpc
        .wait_for_signature(&sig, Commitment::Confirmed, WAIT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmed.err, None);
    assert_eq!(
        rpc.get_balance(&bob.address, Commitment::Confirmed)
            .await
            .unwrap(),
        amount
    );
    assert_eq!(
        rpc.get_balance(&alice.address, Commitment::Confirmed)
            .await
            .unwrap(),
        2 * SOL - amount - plan.fee_lamports
    );

    // The same bytes again: already processed (a resend after a crash means "landed").
    let e = rpc
        .send_transaction(&signed.base64, &SendOptions::default())
        .await
        .err();
    assert!(
        matches!(e, Some(RpcError::Rejected(RejectKind::AlreadyProcessed, _))),
        "{e:?}"
    );

    // Finalized 32 slots later.
    warp(&rpc, 32).await;
    let finalized = rpc
        .wait_for_signature(&sig, Commitment::Finalized, WAIT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finalized.confirmation_status, Some(Commitment::Finalized));
    assert_eq!(finalized.confirmations, None);

    // The follower's view: bob's history holds the deposit, with the memo and the balances.
    let history = rpc
        .get_signatures_for_address(&bob.address, &SignaturesQuery::default())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].signature, sig);
    assert_eq!(history[0].memo.as_deref(), Some("[6] ref-42"));
    let tx = rpc
        .get_transaction(&sig, Commitment::Finalized)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.meta.as_ref().unwrap().fee, plan.fee_lamports);
    let deposits = deposits_to(&tx, &bob.address);
    assert_eq!(deposits.len(), 1);
    assert_eq!(
        (deposits[0].token, deposits[0].delta),
        (None, i128::from(amount))
    );
    assert!(
        deposits_to(&tx, &alice.address).is_empty(),
        "alice paid: not a deposit"
    );

    // More than the balance, built by hand past the planner: the node refuses it as
    // insufficient funds.
    let too_much = Message::new(
        &[system::transfer(&alice.address, &bob.address, 10 * SOL)],
        &alice.address,
        blockhash(&rpc).await,
    )
    .unwrap()
    .sign(&[&alice.secret[..]])
    .unwrap();
    let e = rpc
        .send_transaction(&too_much.base64, &SendOptions::default())
        .await
        .err();
    assert!(
        matches!(
            e,
            Some(RpcError::Rejected(RejectKind::InsufficientFunds, _))
        ),
        "{e:?}"
    );

    // Signed, then its blockhash expires before it is sent: refused as BlockhashNotFound,
    // and the node agrees the blockhash is no longer valid.
    let latest = rpc
        .get_latest_blockhash(Commitment::Confirmed)
        .await
        .unwrap();
    let late = Message::new(
        &[system::transfer(&alice.address, &bob.address, SOL / 100)],
        &alice.address,
        latchkey_solana::message::parse_blockhash(&latest.blockhash).unwrap(),
    )
    .unwrap();
    let late_signed = late.sign(&[&alice.secret[..]]).unwrap();
    assert!(rpc
        .get_fee_for_message(&late.serialize(), Commitment::Confirmed)
        .await
        .unwrap()
        .is_some());
    warp(&rpc, 151).await;
    assert!(
        rpc.get_block_height(Commitment::Confirmed).await.unwrap() > latest.last_valid_block_height
    );
    assert!(!rpc
        .is_blockhash_valid(&latest.blockhash, Commitment::Confirmed)
        .await
        .unwrap());
    assert_eq!(
        rpc.get_fee_for_message(&late.serialize(), Commitment::Confirmed)
            .await
            .unwrap(),
        None
    );
    let e = rpc
        .send_transaction(&late_signed.base64, &SendOptions::default())
        .await
        .err();
    assert!(
        matches!(
            e,
            Some(RpcError::Rejected(RejectKind::BlockhashNotFound, _))
        ),
        "{e:?}"
    );
    // Sent without preflight it is accepted and silently dropped: never a status.
    let skip = SendOptions {
        skip_preflight: true,
        ..SendOptions::default()
    };
    let dropped = rpc
        .send_transaction(&late_signed.base64, &skip)
        .await
        .unwrap();
    let statuses = rpc
        .get_signature_statuses(&[dropped.as_str()], true)
        .await
        .unwrap();
    assert_eq!(statuses, vec![None]);
    // Given up only once the finalized height is past its last valid height: 151 slots put
    // the confirmed height past it, the finalized one 32 slots later.
    let lvbh = latest.last_valid_block_height;
    assert!(!rpc.can_never_land(&dropped, lvbh).await.unwrap());
    warp(&rpc, 32).await;
    assert!(rpc.can_never_land(&dropped, lvbh).await.unwrap());
    // One that landed is never given up, however old its blockhash.
    assert!(!rpc.can_never_land(&sig, 0).await.unwrap());
}

#[tokio::test]
async fn spl_transfers_on_token_and_token_2022() {
    let node = Node::start(&[]);
    let rpc = node.rpc();
    for program in [TOKEN_PROGRAM, TOKEN_2022_PROGRAM] {
        spl_transfers(&rpc, program).await;
    }
}

async fn spl_transfers(rpc: &SolanaRpc, program: Pubkey) {
    let issuer = funded(rpc, 10 * SOL).await;
    let sender = funded(rpc, SOL).await;
    let recipient = wallet();
    let mint = create_mint(rpc, &issuer, &program, 6).await;
    mint_to(rpc, &issuer, &mint, &program, &sender.address, 100_000_000).await;
    let asset = token_asset(rpc, &mint).await.unwrap();
    assert_eq!(
        asset,
        Asset::Token {
            mint,
            program,
            decimals: 6
        }
    );
    let c = Commitment::Confirmed;

    // Before: a wallet without the token cannot send it (155262); nobody sends more than
    // they hold (155258).
    let e = plan_transfer(
        rpc,
        Transfer {
            from: issuer.address,
            to: recipient.address,
            asset,
            amount: 1,
            memo: None,
        },
        0,
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(e, PlanError::SourceAccountNotFound(_)), "{e}");
    assert_eq!(e.circle_code(), 155262);
    let e = plan_transfer(
        rpc,
        Transfer {
            from: sender.address,
            to: recipient.address,
            asset,
            amount: 100_000_001,
            memo: None,
        },
        0,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(e.circle_code(), 155258, "{e}");

    // The simulation shows the account a transaction would create (the planner reads the
    // new token account's rent from it).
    let recipient_ata = associated_token_address(&recipient.address, &mint, &program).unwrap();
    let probe = Message::new(
        &transfer_instructions(
            &Transfer {
                from: sender.address,
                to: recipient.address,
                asset,
                amount: 1,
                memo: None,
            },
            true,
            ComputeBudget {
                unit_limit: 200_000,
                unit_price: 0,
            },
        )
        .unwrap(),
        &sender.address,
        [0; 32],
    )
    .unwrap();
    let simulation = rpc
        .simulate_transaction(
            &probe.unsigned_transaction_base64(),
            false,
            true,
            c,
            &[recipient_ata],
        )
        .await
        .unwrap();
    assert_eq!(simulation.err, None, "{:?}", simulation.logs);
    assert!(simulation.units_consumed.unwrap() > 0);
    let created = simulation.accounts.unwrap()[0].clone().unwrap();
    assert_eq!(created.owner, program);
    assert!(rpc
        .get_account_info(&recipient_ata, c)
        .await
        .unwrap()
        .is_none());

    // First transfer: the recipient has no token account; it is created, the sender pays.
    let first = transfer_token(rpc, &sender, &recipient.address, asset, 1_500_000).await;
    assert!(first.0.creates_recipient_account);
    let rent = first.0.rent_lamports;
    let expected_size = if program == TOKEN_PROGRAM { 165 } else { 170 };
    assert_eq!(
        rent,
        rpc.get_minimum_balance_for_rent_exemption(expected_size)
            .await
            .unwrap()
    );
    assert_eq!(rent, created.lamports);
    assert_eq!(first.0.recipient_token_account, Some(recipient_ata));
    let account = rpc
        .get_account_info(&recipient_ata, c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.owner, program);
    assert_eq!(account.lamports, rent);
    assert_eq!(
        rpc.get_balance(&sender.address, c).await.unwrap(),
        SOL - first.0.fee_lamports - rent
    );

    // Second: the account exists, nothing is created.
    let second = transfer_token(rpc, &sender, &recipient.address, asset, 2_000_000).await;
    assert!(!second.0.creates_recipient_account);
    assert_eq!(second.0.rent_lamports, 0);

    // Balances read back through every method.
    let balance = rpc
        .get_token_account_balance(&recipient_ata, c)
        .await
        .unwrap();
    assert_eq!((balance.amount, balance.decimals), (3_500_000, 6));
    assert_eq!(balance.ui_amount_string.as_deref(), Some("3.5"));
    let listed = rpc
        .get_token_accounts_by_owner(&recipient.address, TokenFilter::Program(program), c)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].address,
            listed[0].mint,
            listed[0].owner,
            listed[0].program
        ),
        (recipient_ata, mint, recipient.address, program)
    );
    assert_eq!(listed[0].amount.amount, 3_500_000);
    let by_mint = rpc
        .get_token_accounts_by_owner(&sender.address, TokenFilter::Mint(mint), c)
        .await
        .unwrap();
    assert_eq!(by_mint[0].amount.amount, 100_000_000 - 3_500_000);
    assert_eq!(
        rpc.token_accounts_of(&recipient.address, c)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        rpc.get_balance(&recipient.address, c).await.unwrap(),
        0,
        "the recipient paid nothing"
    );

    // The follower's view of the first transfer: on the recipient's token account's history,
    // a deposit of the token to the recipient, seen in the token balances.
    warp(rpc, 1).await;
    let history = rpc
        .get_signatures_for_address(
            &recipient_ata,
            &SignaturesQuery {
                commitment: Some(c),
                ..SignaturesQuery::default()
            },
        )
        .await
        .unwrap();
    let sigs: Vec<&str> = history.iter().map(|h| h.signature.as_str()).collect();
    assert_eq!(
        sigs,
        vec![second.1.as_str(), first.1.as_str()],
        "newest first"
    );
    // The wallet's own history has only the transfer that created its account (the wallet is
    // one of the ATA program's accounts there): a deposit to an existing token account names
    // only the token accounts, so a follower watches each wallet's token accounts too.
    let wallet_history = rpc
        .get_signatures_for_address(
            &recipient.address,
            &SignaturesQuery {
                commitment: Some(c),
                ..SignaturesQuery::default()
            },
        )
        .await
        .unwrap();
    let wallet_sigs: Vec<&str> = wallet_history
        .iter()
        .map(|h| h.signature.as_str())
        .collect();
    assert_eq!(wallet_sigs, vec![first.1.as_str()]);
    let tx = rpc.get_transaction(&first.1, c).await.unwrap().unwrap();
    let deposits = deposits_to(&tx, &recipient.address);
    assert_eq!(deposits.len(), 1, "{:?}", balance_changes(&tx));
    let token = deposits[0].token.unwrap();
    assert_eq!((token.mint, token.decimals), (mint, 6));
    assert_eq!(token.program, Some(program));
    assert_eq!(deposits[0].account, recipient_ata);
    assert_eq!(deposits[0].delta, 1_500_000);
    // The sender's side of the same transaction: tokens out, SOL out (fee and rent).
    let changes = balance_changes(&tx);
    assert!(changes
        .iter()
        .any(|ch| ch.owner == sender.address && ch.token.is_some() && ch.delta == -1_500_000));
    assert!(changes.iter().any(|ch| ch.owner == sender.address
        && ch.token.is_none()
        && ch.delta == -i128::from(first.0.fee_lamports + rent)));
}

/// Plans, signs and sends a token transfer; waits until confirmed.
async fn transfer_token(
    rpc: &SolanaRpc,
    from: &Wallet,
    to: &Pubkey,
    asset: Asset,
    amount: u64,
) -> (latchkey_solana::transfer::TransferPlan, String) {
    let plan = plan_transfer(
        rpc,
        Transfer {
            from: from.address,
            to: *to,
            asset,
            amount,
            memo: Some("deposit".into()),
        },
        5_000,
    )
    .await
    .unwrap();
    let signed = plan
        .message(blockhash(rpc).await)
        .unwrap()
        .sign(&[&from.secret[..]])
        .unwrap();
    let sig = rpc
        .send_transaction(&signed.base64, &SendOptions::default())
        .await
        .unwrap();
    let status = rpc
        .wait_for_signature(&sig, Commitment::Confirmed, WAIT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.err, None);
    let tx = rpc.get_transaction(&sig, Commitment::Confirmed).await;
    assert_eq!(
        tx.unwrap().unwrap().meta.unwrap().fee,
        plan.fee_lamports,
        "the planned fee is the fee charged"
    );
    (plan, sig)
}
