//! The webhook endpoint address filter: `latchkey_webhooks::is_local`, fed the way
//! `check_endpoint` feeds it (URL parsed by reqwest's parser, host with its brackets
//! trimmed, then resolved; an IP literal resolves to itself).
//!
//! Property 1: on any address, `is_local` matches an independent statement of the policy
//! (loopback, unspecified, IPv4 169.254/16, IPv6 fe80::/10, IPv4-mapped IPv6 judged as its
//! IPv4 address). Property 2: for any URL that parses, an IP-literal host seen through
//! `host_str()` with the brackets trimmed is the same address the URL parser saw, so the
//! filter judges what will actually be connected to.
#![no_main]

use latchkey_webhooks::is_local;
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let octets: [u8; 16] = data[..16].try_into().expect("16 bytes");
        check_address(IpAddr::V6(Ipv6Addr::from(octets)));
    }
    if data.len() >= 4 {
        let octets: [u8; 4] = data[..4].try_into().expect("4 bytes");
        let v4 = Ipv4Addr::from(octets);
        check_address(IpAddr::V4(v4));
        assert_eq!(
            is_local(IpAddr::V4(v4)),
            is_local(IpAddr::V6(v4.to_ipv6_mapped())),
            "{v4} judged differently when IPv4-mapped"
        );
    }

    let text = String::from_utf8_lossy(data);
    let Ok(url) = Url::parse(text.trim()) else {
        return;
    };
    let Some(host) = url.host_str() else {
        return;
    };
    let host_only = host.trim_start_matches('[').trim_end_matches(']');
    let literal = host_only.parse::<IpAddr>().ok();
    match url.host() {
        Some(Host::Ipv4(v4)) => assert_eq!(literal, Some(IpAddr::V4(v4)), "{text:?}"),
        Some(Host::Ipv6(v6)) => assert_eq!(literal, Some(IpAddr::V6(v6)), "{text:?}"),
        // A domain the resolver might read as an address would dodge the literal check
        // only to be resolved and judged as an address anyway; nothing to compare.
        Some(Host::Domain(_)) | None => {}
    }
    if let Some(ip) = literal {
        check_address(ip);
    }
});

fn check_address(ip: IpAddr) {
    assert_eq!(is_local(ip), expected(ip), "{ip}");
}

/// The policy, written from the address bytes rather than std's predicates.
fn expected(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 127 || o == [0; 4] || (o[0] == 169 && o[1] == 254)
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            if o[..10] == [0; 10] && o[10] == 0xff && o[11] == 0xff {
                return expected(IpAddr::V4(Ipv4Addr::new(o[12], o[13], o[14], o[15])));
            }
            let loopback = o[..15] == [0; 15] && o[15] == 1;
            let unspecified = o == [0; 16];
            let link_local = o[0] == 0xfe && (o[1] & 0xc0) == 0x80;
            loopback || unspecified || link_local
        }
    }
}
