//! One file per resource; handlers are named `verb_resource`.

pub mod dev;
pub mod sdk;
pub mod subscriptions;
pub mod user;
pub mod users;
pub mod wallets;
pub mod web;
