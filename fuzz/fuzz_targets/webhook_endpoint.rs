//! The webhook endpoint address filter: `latchkey_webhooks::is_refused` on addresses, and
//! `latchkey_webhooks::check_url` on URLs parsed the way the delivery client parses them
//! (reqwest's parser is `url::Url`).
//!
//! Property 1: on any address, with and without the allow-loopback knob, `is_refused` matches
//! an independent statement of the policy written from the address bytes (see the module doc
//! of `crates/latchkey-webhooks/src/address.rs`). Property 2: the knob only ever relaxes, and
//! only for loopback. Property 3: an IPv4 address and its IPv4-mapped IPv6 form are judged
//! alike. Property 4: for any URL that parses, an IP-literal host read back through
//! `host_str()` with the brackets trimmed is the address the URL parser saw, and `check_url`
//! refuses it exactly when the policy does (a name host: only `localhost`, unless allowed).
#![no_main]

use latchkey_webhooks::{check_url, is_refused};
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
        for allow in [false, true] {
            assert_eq!(
                is_refused(IpAddr::V4(v4), allow),
                is_refused(IpAddr::V6(v4.to_ipv6_mapped()), allow),
                "{v4} judged differently when IPv4-mapped (allow_loopback {allow})"
            );
        }
    }

    let text = String::from_utf8_lossy(data);
    let Ok(url) = Url::parse(text.trim()) else {
        return;
    };
    let Some(host) = url.host_str() else {
        for allow in [false, true] {
            assert!(check_url(&url, allow).is_err(), "{text:?}: no host passed");
        }
        return;
    };
    let host_only = host.trim_start_matches('[').trim_end_matches(']');
    let literal = host_only.parse::<IpAddr>().ok();
    match url.host() {
        Some(Host::Ipv4(v4)) => assert_eq!(literal, Some(IpAddr::V4(v4)), "{text:?}"),
        Some(Host::Ipv6(v6)) => assert_eq!(literal, Some(IpAddr::V6(v6)), "{text:?}"),
        // A name goes to the checking resolver; only the name `localhost` is refused here.
        Some(Host::Domain(_)) | None => {}
    }
    for allow in [false, true] {
        let want = match literal {
            Some(ip) => expected(ip, allow),
            None => !allow && host.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        };
        assert_eq!(
            check_url(&url, allow).is_err(),
            want,
            "{text:?} (allow_loopback {allow})"
        );
    }
    if let Some(ip) = literal {
        check_address(ip);
    }
});

fn check_address(ip: IpAddr) {
    for allow in [false, true] {
        assert_eq!(
            is_refused(ip, allow),
            expected(ip, allow),
            "{ip} (allow_loopback {allow})"
        );
    }
    // The knob relaxes loopback and nothing else.
    if is_refused(ip, true) {
        assert!(
            is_refused(ip, false),
            "{ip}: refused only with loopback allowed"
        );
    }
}

/// The policy, written from the address bytes rather than std's predicates.
fn expected(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_expected(v4.octets(), allow_loopback),
        IpAddr::V6(v6) => v6_expected(v6.octets(), allow_loopback),
    }
}

fn v4_expected(o: [u8; 4], allow_loopback: bool) -> bool {
    (o[0] == 127 && !allow_loopback) // loopback 127/8
        || o[0] == 0 // "this network" 0/8
        || (o[0] == 169 && o[1] == 254) // link-local
        || o[0] >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn v6_expected(o: [u8; 16], allow_loopback: bool) -> bool {
    let last4 = [o[12], o[13], o[14], o[15]];
    if o[..15] == [0; 15] && o[15] == 1 {
        return !allow_loopback; // ::1
    }
    if o == [0; 16] || o[0] == 0xff {
        return true; // unspecified, multicast ff00::/8
    }
    if o[0] & 0xfe == 0xfc || (o[0] == 0xfe && o[1] >= 0x80) {
        return true; // unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10
    }
    if o[..10] == [0; 10] && o[10] == 0xff && o[11] == 0xff {
        return v4_expected(last4, allow_loopback); // mapped ::ffff:a.b.c.d
    }
    if o[..12] == [0; 12] {
        return v4_expected(last4, allow_loopback); // compatible ::a.b.c.d
    }
    if o[..12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]
        || o[..6] == [0, 0x64, 0xff, 0x9b, 0, 1]
    {
        return v4_expected(last4, allow_loopback); // NAT64 64:ff9b::/96, 64:ff9b:1::/48
    }
    if o[0] == 0x20 && o[1] == 0x02 {
        return v4_expected([o[2], o[3], o[4], o[5]], allow_loopback); // 6to4 2002::/16
    }
    if o[..4] == [0x20, 0x01, 0, 0] {
        // Teredo 2001::/32: the server in bytes 4..8, the client inverted in the last four.
        let client = [!o[12], !o[13], !o[14], !o[15]];
        return v4_expected([o[4], o[5], o[6], o[7]], allow_loopback)
            || v4_expected(client, allow_loopback);
    }
    false
}
