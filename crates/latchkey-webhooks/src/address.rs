//! Which addresses a webhook request may reach, checked for every request (the HEAD check at
//! subscription and every delivery attempt), not only when the subscription is made: a name
//! that resolved to a public address yesterday may resolve to loopback today.
//!
//! Names go through [`CheckedResolver`]: it resolves once, refuses the whole answer if any
//! address is special, and hands the checked addresses to the connector, so the connection
//! goes to an address that was checked (no second lookup to rebind). Address literals in the
//! URL never reach a resolver, so [`check_url`] checks them before the request.
//!
//! Refused: loopback (unless the allow-loopback knob), unspecified and 0.0.0.0/8, link-local
//! (cloud metadata services), multicast, broadcast and 240.0.0.0/4, IPv6 unique-local
//! fc00::/7 and site-local, and any IPv6 form embedding a refused IPv4 address: mapped
//! (`::ffff:127.0.0.1`), compatible (`::127.0.0.1`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`),
//! 6to4 (`2002::/16`) and Teredo (`2001::/32`). Private IPv4 ranges stay allowed: a
//! self-hosted server often notifies a service on its own network.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A webhook endpoint's address is one latchkey does not send to.
#[derive(Debug)]
pub struct RefusedAddress;

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("endpoint address is loopback, link-local or otherwise special")
    }
}

impl std::error::Error for RefusedAddress {}

/// Whether requests to `ip` are refused.
pub fn is_refused(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_refused(v4, allow_loopback),
        IpAddr::V6(v6) => v6_refused(v6, allow_loopback),
    }
}

fn v4_refused(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    let [a, b, ..] = ip.octets();
    (ip.is_loopback() && !allow_loopback)
        || a == 0 // 0.0.0.0/8: "this network", reaches the host itself on Linux
        || (a == 169 && b == 254) // link-local, cloud metadata
        || ip.is_multicast()
        || a >= 240 // reserved and broadcast
}

fn v6_refused(ip: Ipv6Addr, allow_loopback: bool) -> bool {
    let s = ip.segments();
    let bits = u128::from(ip);
    let low_v4 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if ip.is_loopback() {
        return !allow_loopback;
    }
    if ip.is_unspecified() || ip.is_multicast() {
        return true;
    }
    if (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xff80) == 0xfe80 {
        // unique-local fc00::/7; link-local fe80::/10 and the old site-local fec0::/10
        return true;
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_refused(v4, allow_loopback);
    }
    if bits >> 32 == 0 {
        // IPv4-compatible ::a.b.c.d (deprecated, still routed to a.b.c.d by some stacks)
        return v4_refused(low_v4, allow_loopback);
    }
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 || (s[0], s[1], s[2]) == (0x64, 0xff9b, 1) {
        // NAT64, well-known and local-use prefixes
        return v4_refused(low_v4, allow_loopback);
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2]));
        return v4_refused(v4, allow_loopback);
    }
    if (s[0], s[1]) == (0x2001, 0) {
        // Teredo: the server at bits 32..64, the client obfuscated in the last 32 bits
        let server = Ipv4Addr::from((u32::from(s[2]) << 16) | u32::from(s[3]));
        let client = Ipv4Addr::from(!u32::from(low_v4));
        return v4_refused(server, allow_loopback) || v4_refused(client, allow_loopback);
    }
    false
}

/// Refuses a URL whose host is a special address literal (literals bypass the resolver).
pub fn check_url(url: &reqwest::Url, allow_loopback: bool) -> Result<(), RefusedAddress> {
    // The URL parser has already normalised literals (`0x7f.1` is `127.0.0.1`, IPv6 is bracketed).
    let refused = match url.host_str() {
        None => true,
        Some(host) => match host.trim_start_matches('[').trim_end_matches(']').parse() {
            Ok(ip) => is_refused(ip, allow_loopback),
            Err(_) => {
                !allow_loopback && host.trim_end_matches('.').eq_ignore_ascii_case("localhost")
            }
        },
    };
    if refused {
        Err(RefusedAddress)
    } else {
        Ok(())
    }
}

/// Resolves with the system resolver, then refuses the answer if any address is special.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedResolver {
    /// Whether loopback addresses pass (`--dev`).
    pub allow_loopback: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.iter().any(|a| is_refused(a.ip(), allow_loopback)) {
                return Err(Box::new(RefusedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `e` (or an error it wraps) is a refused address.
pub(crate) fn is_refused_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.is::<RefusedAddress>() {
            return true;
        }
        current = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::is_refused;

    #[test]
    fn special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a9fe:a9fe",
            "0.0.0.0",
            "0.0.0.1",
            "169.254.169.254",
            "fe80::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "224.0.0.1",
            "ff02::1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "2002:7f00:1::1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
        ] {
            assert!(is_refused(ip.parse().unwrap(), false), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "10.1.2.3",
            "192.168.1.1",
            "2606:4700::1111",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert!(!is_refused(ip.parse().unwrap(), false), "{ip}");
        }
    }

    #[test]
    fn literal_urls_are_checked_as_the_parser_normalises_them() {
        for url in [
            "https://[::127.0.0.1]/hook",
            "https://[64:ff9b::7f00:1]/hook",
            "https://0.0.0.1/hook",
            "https://0x7f.1/hook",
            "https://2130706433/hook",
            "https://[::ffff:169.254.169.254]/hook",
            "https://localhost./hook",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert!(super::check_url(&parsed, false).is_err(), "{url}");
        }
        for url in ["https://example.com/hook", "https://93.184.216.34/hook"] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert!(super::check_url(&parsed, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn loopback_passes_only_when_allowed() {
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"] {
            assert!(!is_refused(ip.parse().unwrap(), true), "{ip}");
        }
        for ip in ["169.254.169.254", "0.0.0.1", "fd00::1"] {
            assert!(is_refused(ip.parse().unwrap(), true), "{ip}");
        }
    }
}
