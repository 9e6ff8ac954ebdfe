//! The client's transport behaviour against a scripted HTTP server: retries of 429/503, the
//! per-call timeout, and how each failure is classified.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_solana::{Commitment, RejectKind, RpcError, RpcOptions, SendOptions, SolanaRpc};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scripted answer: HTTP status, extra headers, body; or a stall (no answer).
#[derive(Clone)]
enum Answer {
    Http(u16, &'static str, String),
    Stall(Duration),
}

/// Serves `script` in order (the last answer repeats), one request per connection; counts
/// the requests.
fn serve(script: Vec<Answer>) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/secret-path", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0usize));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let n = {
                let mut c = seen.lock().unwrap();
                *c += 1;
                *c
            };
            let answer = script[(n - 1).min(script.len() - 1)].clone();
            match answer {
                Answer::Http(status, headers, body) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Answer::Stall(d) => std::thread::sleep(d),
            }
        }
    });
    (url, count)
}

fn ok(result: &str) -> Answer {
    Answer::Http(
        200,
        "",
        format!(r#"{{"jsonrpc":"2.0","id":1,"result":{result}}}"#),
    )
}

fn options(retries: u32) -> RpcOptions {
    RpcOptions {
        timeout: Duration::from_millis(500),
        retries,
        local_genesis_hash: None,
    }
}

#[tokio::test]
async fn rate_limits_are_retried_with_retry_after() {
    let (url, count) = serve(vec![
        Answer::Http(429, "retry-after: 1\r\n", String::new()),
        Answer::Http(503, "", String::new()),
        ok("42"),
    ]);
    let rpc = SolanaRpc::new(&url, &options(3)).unwrap();
    let started = Instant::now();
    assert_eq!(rpc.get_slot(Commitment::Confirmed).await, Ok(42));
    assert_eq!(*count.lock().unwrap(), 3);
    // Retry-After: 1 s, then the 250 ms × 2 backoff.
    assert!(started.elapsed() >= Duration::from_millis(1_400));
}

#[tokio::test]
async fn failures_are_classified_without_the_url() {
    // Still rate-limited after the retries: unavailable.
    let (url, count) = serve(vec![Answer::Http(429, "", String::new())]);
    let rpc = SolanaRpc::new(&url, &options(1)).unwrap();
    let e = rpc.get_slot(Commitment::Confirmed).await.err().unwrap();
    assert_eq!(e, RpcError::Unavailable("HTTP 429".into()));
    assert_eq!(*count.lock().unwrap(), 2);

    // A stalled node: timed out.
    let (url, _) = serve(vec![Answer::Stall(Duration::from_secs(3))]);
    let rpc = SolanaRpc::new(&url, &options(0)).unwrap();
    let e = rpc.get_genesis_hash().await.err().unwrap();
    assert_eq!(e, RpcError::Unavailable("timed out".into()));

    // Nobody listening.
    let rpc = SolanaRpc::new("http://127.0.0.1:1/secret-path", &options(0)).unwrap();
    let e = rpc.get_genesis_hash().await.err().unwrap();
    assert!(matches!(e, RpcError::Unavailable(_)), "{e:?}");
    assert!(!e.to_string().contains("secret-path"), "{e}");
    assert_eq!(rpc.shown_url(), "http://127.0.0.1:1/***");

    // An answer of the wrong shape, an unknown method, a node behind.
    let (url, _) = serve(vec![
        ok(r#""not a number""#),
        Answer::Http(
            200,
            "",
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#
                .into(),
        ),
        Answer::Http(
            200,
            "",
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"Node is behind by 40 slots"}}"#
                .into(),
        ),
    ]);
    let rpc = SolanaRpc::new(&url, &options(0)).unwrap();
    assert!(matches!(
        rpc.get_slot(Commitment::Confirmed).await,
        Err(RpcError::Other(_))
    ));
    assert!(matches!(
        rpc.get_slot(Commitment::Confirmed).await,
        Err(RpcError::Other(_))
    ));
    assert!(matches!(
        rpc.get_slot(Commitment::Confirmed).await,
        Err(RpcError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_provider_without_error_data_is_classified_by_its_message() {
    let (url, _) = serve(vec![Answer::Http(
        200,
        "",
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"Transaction simulation failed: Blockhash not found"}}"#
            .into(),
    )]);
    let rpc = SolanaRpc::new(&url, &options(0)).unwrap();
    let e = rpc
        .send_transaction("AA==", &SendOptions::default())
        .await
        .err();
    assert!(
        matches!(
            e,
            Some(RpcError::Rejected(RejectKind::BlockhashNotFound, _))
        ),
        "{e:?}"
    );
}
