//! `latchkey apikey create` and `latchkey admin …`: operator tools working on the database
//! directly (safe while a server runs on it). A userId names a user only within an
//! environment (TEST unless `--live`), as it does for the API keys.

use crate::bootstrap;
use crate::config::{Config, StorageArgs};
use clap::Subcommand;
use latchkey_chains::{parse_units, Blockchain, U256};
use latchkey_core::model::{Environment, SecretKind};
use latchkey_core::money::sponsorship::DayUsage;
use latchkey_core::money::PaymasterPolicy;
use serde_json::json;
use std::process::ExitCode;

/// `latchkey admin` commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Lift a PIN and/or security-answer lock (records lastLockOverrideDate).
    Unlock {
        /// The developer's userId.
        #[arg(long)]
        user_id: String,
        /// The LIVE user of that userId (default: the TEST one).
        #[arg(long)]
        live: bool,
        /// Lift the PIN lock.
        #[arg(long)]
        pin: bool,
        /// Lift the security-answer lock.
        #[arg(long)]
        answers: bool,
    },
    /// Disable a user: every call for them answers 155109.
    DisableUser {
        /// The developer's userId.
        #[arg(long)]
        user_id: String,
        /// The LIVE user of that userId (default: the TEST one).
        #[arg(long)]
        live: bool,
    },
    /// Enable a disabled user.
    EnableUser {
        /// The developer's userId.
        #[arg(long)]
        user_id: String,
        /// The LIVE user of that userId (default: the TEST one).
        #[arg(long)]
        live: bool,
    },
    /// List webhook deliveries (newest first), or redeliver one.
    Webhooks {
        /// What to do; without it, list.
        #[command(subcommand)]
        action: Option<WebhooksAction>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// List the origins allowed to embed the hosted page (besides LATCHKEY_FRAME_ANCESTORS).
    Origins,
    /// Allow an origin (https://app.example.com) to embed the hosted page in an iframe.
    AllowOrigin {
        /// The origin.
        origin: String,
    },
    /// Stop allowing an origin to embed the hosted page.
    DisallowOrigin {
        /// The origin.
        origin: String,
    },
    /// Make a new webhook signing key the active one (old key ids stay resolvable).
    RotateWebhookKey,
    /// Show the gas station's sponsorship policies (SCA operations) with today's use, or set
    /// or reset one.
    PaymasterPolicy {
        /// What to do; without it, list.
        #[command(subcommand)]
        action: Option<PolicyAction>,
    },
    /// Print the audit log as JSON lines (oldest first).
    Audit {
        /// Only this user's events.
        #[arg(long)]
        user_id: Option<String>,
        /// With --user-id: the LIVE user of that userId (default: the TEST one).
        #[arg(long, requires = "user_id")]
        live: bool,
        /// At most this many lines.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
}

/// `latchkey admin webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhooksAction {
    /// Queue a delivery again, due now (same notificationId).
    Redeliver {
        /// The notificationId.
        id: String,
    },
}

/// `latchkey admin paymaster-policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// Set a chain's policy, replacing the one it had: active unless --inactive; the limits
    /// reset at 00:00 UTC, amounts in whole native units ("0.5"); a limit left out is none.
    Set {
        /// The chain (an SCA chain: ETH, MATIC, ARB, AVAX, BASE, OP, UNI or a testnet of one).
        #[arg(long)]
        blockchain: String,
        /// Sponsor nothing on the chain (its SCA wallets cannot send; 155509 for new ones).
        #[arg(long)]
        inactive: bool,
        /// Most native coin the day's operations may cost together.
        #[arg(long)]
        max_native_daily: Option<String>,
        /// Most native coin one operation may cost (not applied to an account's first).
        #[arg(long)]
        max_native_per_tx: Option<String>,
        /// Most operations a day.
        #[arg(long)]
        max_ops_daily: Option<u32>,
    },
    /// Remove a chain's policy: its default applies again (testnets: active without limits;
    /// mainnets: no sponsorship).
    Reset {
        /// The chain.
        #[arg(long)]
        blockchain: String,
    },
}

/// `latchkey apikey create`.
pub async fn create_api_key(
    storage: &StorageArgs,
    name: &str,
    live: bool,
) -> Result<ExitCode, String> {
    let config = Config::resolve(storage, None)?;
    let opened = bootstrap::open(&config).await?;
    let key = opened
        .lk
        .create_api_key(&opened.entity.id, name, environment(live))
        .await
        .map_err(|e| e.message.to_string())?;
    println!("{key}");
    Ok(ExitCode::SUCCESS)
}

/// TEST, or LIVE with `--live`.
fn environment(live: bool) -> Environment {
    if live {
        Environment::Live
    } else {
        Environment::Test
    }
}

/// `latchkey admin …`.
pub async fn run(storage: &StorageArgs, command: AdminCommand) -> Result<ExitCode, String> {
    let config = Config::resolve(storage, None)?;
    let opened = bootstrap::open(&config).await?;
    let (lk, entity) = (&opened.lk, &opened.entity.id);
    let fail = |e: latchkey_core::ApiError| format!("{} ({})", e.message, e.code);
    match command {
        AdminCommand::Unlock {
            user_id,
            live,
            pin,
            answers,
        } => {
            let env = environment(live);
            let (pin, answers) = if !pin && !answers {
                (true, true)
            } else {
                (pin, answers)
            };
            if pin {
                lk.lift_lock(entity, env, &user_id, SecretKind::Pin)
                    .await
                    .map_err(fail)?;
                println!("PIN lock lifted for {user_id} ({})", env.as_str());
            }
            if answers {
                lk.lift_lock(entity, env, &user_id, SecretKind::Answers)
                    .await
                    .map_err(fail)?;
                println!(
                    "security-answer lock lifted for {user_id} ({})",
                    env.as_str()
                );
            }
        }
        AdminCommand::DisableUser { user_id, live } => {
            let env = environment(live);
            lk.set_user_disabled(entity, env, &user_id, true)
                .await
                .map_err(fail)?;
            println!("user {user_id} ({}) disabled", env.as_str());
        }
        AdminCommand::EnableUser { user_id, live } => {
            let env = environment(live);
            lk.set_user_disabled(entity, env, &user_id, false)
                .await
                .map_err(fail)?;
            println!("user {user_id} ({}) enabled", env.as_str());
        }
        AdminCommand::Webhooks {
            action: Some(WebhooksAction::Redeliver { id }),
            ..
        } => {
            let webhooks = webhooks_service(lk, &config)?;
            if !webhooks.redeliver(entity, &id).await.map_err(fail)? {
                return Err(format!("no webhook delivery {id}"));
            }
            println!("delivery {id} queued again; a running server sends it within a second");
        }
        AdminCommand::Webhooks {
            action: None,
            limit,
        } => {
            let webhooks = webhooks_service(lk, &config)?;
            print_deliveries(&webhooks.deliveries(entity, limit).await.map_err(fail)?);
            for sub in webhooks.failing_subscriptions(entity).await.map_err(fail)? {
                if let Some(since) = sub.failing_since {
                    println!(
                        "{} subscription {} ({}) failing since {}",
                        sub.environment.as_str(),
                        sub.id,
                        sub.endpoint,
                        since.iso()
                    );
                }
            }
        }
        AdminCommand::Origins => {
            for o in lk.allowed_origins(entity).await.map_err(fail)? {
                println!("{o}");
            }
        }
        AdminCommand::AllowOrigin { origin } => {
            lk.set_origin_allowed(entity, &origin, true)
                .await
                .map_err(fail)?;
            println!("{origin} may embed the hosted page (new page loads)");
        }
        AdminCommand::DisallowOrigin { origin } => {
            if !lk
                .set_origin_allowed(entity, &origin, false)
                .await
                .map_err(fail)?
            {
                return Err(format!("{origin} was not allowed"));
            }
            println!("{origin} may no longer embed the hosted page");
        }
        AdminCommand::RotateWebhookKey => {
            let webhooks = webhooks_service(lk, &config)?;
            let key = webhooks.rotate_key(entity).await.map_err(fail)?;
            println!(
                "new webhook signing key {} is active; earlier key ids stay resolvable",
                key.id
            );
        }
        AdminCommand::PaymasterPolicy { action: None } => {
            let policies = lk.paymaster_policies(entity).await.map_err(fail)?;
            if policies.is_empty() {
                println!(
                    "no policies set: testnets are sponsored without limits, mainnets not at all"
                );
            }
            for (p, used) in policies {
                println!("{}", show_policy(&p, used));
            }
        }
        AdminCommand::PaymasterPolicy {
            action:
                Some(PolicyAction::Set {
                    blockchain,
                    inactive,
                    max_native_daily,
                    max_native_per_tx,
                    max_ops_daily,
                }),
        } => {
            let chain = blockchain_arg(&blockchain)?;
            let native = |flag: &str, v: Option<String>| -> Result<Option<U256>, String> {
                v.map(|s| {
                    parse_units(&s, chain.native_decimals())
                        .map_err(|e| format!("--{flag} {s:?}: {e}"))
                })
                .transpose()
            };
            let policy = PaymasterPolicy {
                blockchain: chain,
                active: !inactive,
                max_native_daily: native("max-native-daily", max_native_daily)?,
                max_native_per_tx: native("max-native-per-tx", max_native_per_tx)?,
                max_ops_daily,
                updated_at: None,
            };
            lk.set_paymaster_policy(entity, &policy)
                .await
                .map_err(fail)?;
            let used = lk.sponsored_today(entity, chain).await.map_err(fail)?;
            println!("{}", show_policy(&policy, used));
        }
        AdminCommand::PaymasterPolicy {
            action: Some(PolicyAction::Reset { blockchain }),
        } => {
            let chain = blockchain_arg(&blockchain)?;
            if !lk
                .reset_paymaster_policy(entity, chain)
                .await
                .map_err(fail)?
            {
                return Err(format!("{chain} has no policy set"));
            }
            let default = lk.paymaster_policy(entity, chain).await.map_err(fail)?;
            let state = if default.active {
                "sponsored without limits"
            } else {
                "not sponsored"
            };
            println!("{chain}: policy removed; the default applies ({state})");
        }
        AdminCommand::Audit {
            user_id,
            live,
            limit,
        } => {
            for e in lk
                .audit_log(entity, environment(live), user_id.as_deref(), limit)
                .await
                .map_err(fail)?
            {
                let line = json!({
                    "at": e.at.iso(), "action": e.action, "userInternalId": e.user_internal_id, "detail": e.detail,
                });
                println!("{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--blockchain` value, in Circle's spelling.
fn blockchain_arg(name: &str) -> Result<Blockchain, String> {
    Blockchain::parse(name).ok_or_else(|| format!("--blockchain {name:?}: not a Circle blockchain"))
}

/// One line per policy: its state, each limit and today's use.
fn show_policy(p: &PaymasterPolicy, used: DayUsage) -> String {
    let state = if p.active { "active" } else { "inactive" };
    let ops = p
        .max_ops_daily
        .map_or_else(|| "none".to_owned(), |n| n.to_string());
    format!(
        "{} {state}: per day {} (used {}), per operation {}, operations per day {ops} (used {})",
        p.blockchain,
        p.show(p.max_native_daily),
        p.show(Some(used.native)),
        p.show(p.max_native_per_tx),
        used.operations,
    )
}

fn webhooks_service(
    lk: &latchkey_core::Latchkey,
    config: &Config,
) -> Result<latchkey_webhooks::Webhooks, String> {
    latchkey_webhooks::Webhooks::try_new(lk.clone(), config.webhooks.clone())
}

/// The delivery log as a table, newest first.
fn print_deliveries(rows: &[latchkey_core::webhooks::DeliveryRecord]) {
    println!(
        "{:36}  {:28}  {:9}  {:>8}  {:>4}  {:20}  subscription",
        "notificationId", "type", "status", "attempts", "last", "next attempt"
    );
    for d in rows {
        let next = if d.status == latchkey_core::webhooks::DeliveryStatus::Pending {
            d.next_attempt_at.iso()
        } else {
            "-".to_string()
        };
        let last = d
            .last_status_code
            .map_or_else(|| "-".to_string(), |c| c.to_string());
        println!(
            "{:36}  {:28}  {:9}  {:>8}  {:>4}  {:20}  {}",
            d.id,
            d.notification_type,
            d.status.as_str(),
            d.attempts,
            last,
            next,
            d.subscription_id
        );
    }
}
