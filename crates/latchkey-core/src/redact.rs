//! URLs as they may be printed: start-up lines, logs and error messages never carry the
//! secrets that URLs embed (a database password; a node provider's API key, which Alchemy,
//! Infura and QuickNode put in the path, others in the query string or the user part).

/// A database URL without its password: `postgres://u:***@h/db`. The user, host and database
/// name stay, because the operator needs them to recognise the database.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A JSON-RPC node URL reduced to its scheme, host and port: the user part, the path and the
/// query are each replaced by `***` when present (`https://eth.g.alchemy.com/***`), because any
/// of them may be the provider's API key. `http://127.0.0.1:8545` is printed as is.
pub fn redact_rpc_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        // Not a URL at all: nothing in it is safe to echo.
        return "***".to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let tail = &rest[authority_end..];
    let tail = tail.split('#').next().unwrap_or_default();
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let mut out = format!("{}{host}", &url[..scheme_end + 3]);
    if !path.is_empty() && path != "/" {
        out.push_str("/***");
    }
    if query.is_some_and(|q| !q.is_empty()) {
        out.push_str("?***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_lose_the_password_only() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn node_urls_keep_scheme_host_and_port() {
        for (url, shown) in [
            ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
            ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
            (
                "https://eth-sepolia.g.alchemy.com/v2/KEY",
                "https://eth-sepolia.g.alchemy.com/***",
            ),
            ("https://rpc.example/?apikey=KEY", "https://rpc.example?***"),
            (
                "https://rpc.example/x?k=a=b#frag",
                "https://rpc.example/***?***",
            ),
            (
                "https://user:KEY@rpc.example:8443/",
                "https://***@rpc.example:8443",
            ),
            ("KEY", "***"),
        ] {
            assert_eq!(redact_rpc_url(url), shown, "{url}");
            if url != shown {
                assert!(!redact_rpc_url(url).contains("KEY"), "{url}");
            }
        }
    }
}
