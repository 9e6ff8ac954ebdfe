//! What every command that touches the data needs: the data directory, the master key, the
//! store, the services, and the default entity.

use crate::at_rest;
use crate::config::Config;
use latchkey_core::clock::SystemClock;
use latchkey_core::crypto::{self, MasterKey};
use latchkey_core::kdf_pool::KdfPool;
use latchkey_core::model::Entity;
use latchkey_core::Latchkey;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Loads the master key from `LATCHKEY_MASTER_KEY` (base64 or hex of 32 bytes), or from the
/// key file, creating the file (mode 0600) on first start.
pub fn load_master_key(file: &Path) -> Result<MasterKey, String> {
    if let Ok(text) = std::env::var("LATCHKEY_MASTER_KEY") {
        return parse_master_key(&text)
            .ok_or_else(|| "LATCHKEY_MASTER_KEY must be 32 bytes in base64 or hex".to_string());
    }
    match std::fs::read_to_string(file) {
        Ok(text) => parse_master_key(&text).ok_or_else(|| {
            format!(
                "master key file {} does not hold 32 bytes in base64 or hex",
                file.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            write_new_key(file, &key)?;
            tracing::info!(path = %file.display(), "created a new master key; back it up: without it no PIN opens anything");
            Ok(key)
        }
        Err(e) => Err(format!(
            "cannot read master key file {}: {e}",
            file.display()
        )),
    }
}

fn parse_master_key(text: &str) -> Option<MasterKey> {
    let t = text.trim();
    let bytes = if t.len() == 64 {
        hex::decode(t).ok()?
    } else {
        crypto::b64_decode(t)?
    };
    let arr: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(MasterKey::from_bytes(arr))
}

fn write_new_key(file: &Path, key: &MasterKey) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(file)
        .map_err(|e| format!("cannot create master key file {}: {e}", file.display()))?;
    f.write_all(format!("{}\n", crypto::b64(key.expose())).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write master key file {}: {e}", file.display()))
}

/// The opened services.
pub struct Opened {
    /// Services.
    pub lk: Latchkey,
    /// The default entity.
    pub entity: Entity,
    /// Whether the default entity was created now (first start).
    pub first_start: bool,
    /// The data directory and files that others can read (`serve` warns about them).
    pub widely_readable: Vec<std::path::PathBuf>,
}

/// Creates the data dir (owner-only), loads the master key, opens and migrates the store.
pub async fn open(config: &Config) -> Result<Opened, String> {
    let mut wide = Vec::new();
    at_rest::create_private_dir(&config.data_dir, &mut wide)?;
    at_rest::prepare_sqlite(&config.database_url, &mut wide)?;
    if config.master_key_file.exists() {
        at_rest::note_if_wide(&config.master_key_file, &mut wide);
    }
    // The database first: a wrong URL must not leave a fresh master key behind.
    let store = latchkey_store::open_with(
        &config.database_url,
        config.db_max_connections,
        config.db_acquire_timeout,
    )
    .await?;
    let master = load_master_key(&config.master_key_file)?;
    let lk = Latchkey::new(
        store,
        Arc::new(SystemClock),
        master,
        KdfPool::new(config.kdf_workers, config.kdf_queue)
            .with_max_wait(config.limits.request_timeout / 3),
        config.settings.clone(),
    );
    let (entity, first_start) = lk
        .ensure_default_entity()
        .await
        .map_err(|e| e.message.to_string())?;
    Ok(Opened {
        lk,
        entity,
        first_start,
        widely_readable: wide,
    })
}
