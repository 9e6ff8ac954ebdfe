//! The HTTP API through real HTTP, one module per feature; `support` holds what they share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod anvil_smoke;
mod api_keys;
mod audit_log;
mod challenge_limits;
mod challenges;
mod custody;
mod entity;
mod environments;
mod failures;
mod guess_limits;
mod hosted_page;
mod input_hygiene;
mod money_balances;
mod money_chains;
mod money_contracts;
mod money_engine;
mod money_fee_refusals;
mod money_fees;
mod money_history;
mod money_inbound;
mod money_nfts;
mod money_tokens;
mod money_transfers;
mod openapi_contract;
mod pin_change;
mod pin_restore;
mod pin_setup;
mod ping_and_errors;
mod request_schemas;
mod sca_operations;
mod sca_policy;
mod sca_wallets;
mod signing;
mod solana_money;
mod solana_transfers;
mod tenancy;
mod user_tokens;
mod users;
mod wallets;
mod webhook_delivery;
mod webhook_subscriptions;
