//! latchkey's domain: the error catalog, custody crypto, session tokens, the services and the
//! storage contract. No HTTP and no SQL here.

pub mod audit;
pub mod challenge;
pub mod clock;
pub mod crypto;
pub mod defaults;
pub mod error;
pub mod kdf_pool;
pub mod model;
pub mod money;
pub mod redact;
pub mod rules;
pub mod service;
pub mod session;
pub mod store;
pub mod webhooks;

pub use error::ApiError;
pub use service::{ApiCaller, Latchkey, Settings, UserSession};
