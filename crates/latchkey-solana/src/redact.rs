//! Node URLs often embed a provider's API key (`https://x.solana-mainnet.quiknode.pro/KEY/`,
//! `…?api-key=KEY`): only the scheme and host are ever shown. The same rules as core's
//! `redact_rpc_url`, which this crate does not depend on (it builds without the server);
//! wiring may swap this for core's.

/// `url` with its user info, path and query replaced by `***`.
pub fn redact_rpc_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "***".to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let tail = rest[authority_end..].split('#').next().unwrap_or_default();
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
    fn secrets_are_hidden() {
        assert_eq!(
            redact_rpc_url("https://a.b/KEY/?api-key=K"),
            "https://a.b/***?***"
        );
        assert_eq!(redact_rpc_url("http://u:p@h:8899"), "http://***@h:8899");
        assert_eq!(
            redact_rpc_url("http://127.0.0.1:8899/"),
            "http://127.0.0.1:8899"
        );
        assert_eq!(redact_rpc_url("nonsense"), "***");
    }
}
