//! What `latchkey challenge execute` prints about a challenge before it asks for the PIN: for a
//! CREATE_TRANSACTION, the `signing` summary the server keeps (`TransferView`): what is sent to
//! whom, on which network, and the most the fees can cost.
//!
//! Every text comes from the server, and some of it from a chain (a token's symbol is read from
//! its contract), so control characters are replaced before printing: a symbol must not be able
//! to move the cursor or rewrite the lines above it.

use serde_json::Value;

/// The lines to print for `signing` of a challenge of type `kind` (none for the types that
/// have no summary yet).
pub fn lines(kind: &str, signing: &Value) -> Vec<String> {
    match kind {
        "CREATE_TRANSACTION" => transfer(signing),
        _ => Vec::new(),
    }
}

/// A server text made safe for a terminal: control characters become `?`.
fn clean(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(clean).collect())
        .unwrap_or_default()
}

/// "Send 1.5 USDC to 0x…", then the network, the sender, the fee level and the fee cap.
fn transfer(s: &Value) -> Vec<String> {
    let token = &s["token"];
    let symbol = Some(clean(&token["symbol"]))
        .filter(|x| !x.is_empty())
        .or_else(|| Some(clean(&token["address"])).filter(|x| !x.is_empty()))
        .unwrap_or_else(|| "tokens".into());
    let amounts = texts(&s["amounts"]);
    let nfts = texts(&s["nftTokenIds"]);
    let what = match clean(&token["standard"]).as_str() {
        "ERC721" => nfts
            .iter()
            .map(|id| format!("{symbol} #{id}"))
            .collect::<Vec<_>>()
            .join(", "),
        "ERC1155" => nfts
            .iter()
            .zip(&amounts)
            .map(|(id, n)| format!("{n} × {symbol} #{id}"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => format!("{} {symbol}", amounts.join(", ")),
    };
    let mut out = vec![
        format!("Send {what} to {}", clean(&s["to"])),
        format!("  Network:          {}", clean(&s["blockchain"])),
        format!("  From:             {}", clean(&s["from"])),
        format!("  Fee level:        {}", clean(&s["feeLevel"])),
        format!(
            "  Max network fee:  {} {}",
            clean(&s["maxNetworkFee"]),
            clean(&s["nativeSymbol"])
        ),
    ];
    // An SCA wallet's operation is sponsored: the fee above is the station's, not the user's.
    if s["gasPaidBy"].is_string() {
        out.push(format!("  Gas paid by:      {}", clean(&s["gasPaidBy"])));
    }
    if clean(&s["nativeSymbol"]) == "SOL" {
        // Solana: a compute budget, priced in micro-lamports per compute unit.
        out.push(format!(
            "  (compute units {}, price {} micro-lamports per unit)",
            clean(&s["gasLimit"]),
            clean(&s["priorityFee"])
        ));
        if s["note"].is_string() {
            out.push(format!("  Also:             {}", clean(&s["note"])));
        }
        if let Some(address) = token["address"].as_str() {
            out.push(format!(
                "  Mint:             {}",
                clean(&Value::from(address))
            ));
        }
        return out;
    }
    let mut gas = vec![format!("gas limit {}", clean(&s["gasLimit"]))];
    for (key, label) in [
        ("maxFee", "max fee"),
        ("priorityFee", "priority fee"),
        ("gasPrice", "gas price"),
    ] {
        if s[key].is_string() {
            gas.push(format!("{label} {} gwei", clean(&s[key])));
        }
    }
    out.push(format!("  ({})", gas.join(", ")));
    if let Some(address) = token["address"].as_str() {
        out.push(format!(
            "  Token contract:   {}",
            clean(&Value::from(address))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view() -> Value {
        json!({
            "walletId": "w1", "blockchain": "MATIC-AMOY",
            "from": "0x52908400098527886E0F7030069857D2E4169EE7",
            "to": "0x2222222222222222222222222222222222222222",
            "amounts": ["1.5"],
            "token": { "id": "t", "standard": "ERC20", "symbol": "USDC", "decimals": 6,
                "address": "0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582" },
            "feeLevel": "MEDIUM", "gasLimit": "78000", "maxFee": "52.5", "priorityFee": "25",
            "maxNetworkFee": "0.004095", "nativeSymbol": "MATIC-AMOY",
        })
    }

    #[test]
    fn a_transfer_says_what_goes_where_and_the_fee_cap() {
        let l = lines("CREATE_TRANSACTION", &view());
        assert_eq!(
            l[0],
            "Send 1.5 USDC to 0x2222222222222222222222222222222222222222"
        );
        assert!(
            l.contains(&"  Network:          MATIC-AMOY".to_string()),
            "{l:?}"
        );
        assert!(
            l.contains(&"  Fee level:        MEDIUM".to_string()),
            "{l:?}"
        );
        assert!(
            l.contains(&"  Max network fee:  0.004095 MATIC-AMOY".to_string()),
            "{l:?}"
        );
        assert!(
            l.contains(&"  (gas limit 78000, max fee 52.5 gwei, priority fee 25 gwei)".to_string()),
            "{l:?}"
        );
        assert!(lines("SIGN_MESSAGE", &view()).is_empty());
    }

    #[test]
    fn native_coins_nfts_and_hostile_symbols() {
        let mut native = view();
        native["token"] = json!({ "id": "n", "standard": null, "symbol": "MATIC-AMOY",
            "decimals": 18, "address": null });
        native["amounts"] = json!(["0.01"]);
        let l = lines("CREATE_TRANSACTION", &native);
        assert!(l[0].starts_with("Send 0.01 MATIC-AMOY to "), "{l:?}");
        assert!(!l.iter().any(|x| x.contains("Token contract")), "{l:?}");

        let mut nft = view();
        nft["token"]["standard"] = json!("ERC1155");
        nft["token"]["symbol"] = json!("GEM\u{1b}[2J");
        nft["amounts"] = json!(["2", "3"]);
        nft["nftTokenIds"] = json!(["7", "8"]);
        let l = lines("CREATE_TRANSACTION", &nft);
        assert!(
            l[0].starts_with("Send 2 × GEM?[2J #7, 3 × GEM?[2J #8 to "),
            "{l:?}"
        );
        assert!(!l.iter().any(|x| x.contains('\u{1b}')));
    }

    #[test]
    fn a_solana_transfer_shows_its_compute_budget_and_the_account_it_creates() {
        let sol = json!({
            "walletId": "w", "blockchain": "SOL-DEVNET",
            "from": "GsbwXfJraMomNxBcjYLcG3mxkBUiyWXAB32fGbSMQRdW",
            "to": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
            "amounts": ["1.5"],
            "token": { "id": "t", "standard": "Fungible", "symbol": "USDC", "decimals": 6,
                "address": "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU" },
            "feeLevel": "MEDIUM", "gasLimit": "36000", "priorityFee": "1000",
            "maxNetworkFee": "0.002044316", "nativeSymbol": "SOL",
            "note": "creates the recipient's USDC account (rent 0.00203928 SOL)",
        });
        let l = lines("CREATE_TRANSACTION", &sol);
        assert_eq!(
            l[0],
            "Send 1.5 USDC to 9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
        );
        for want in [
            "  Max network fee:  0.002044316 SOL",
            "  (compute units 36000, price 1000 micro-lamports per unit)",
            "  Also:             creates the recipient's USDC account (rent 0.00203928 SOL)",
            "  Mint:             4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
        ] {
            assert!(l.contains(&want.to_string()), "{want}: {l:?}");
        }
        assert!(!l.iter().any(|x| x.contains("gwei")), "{l:?}");
    }
}
