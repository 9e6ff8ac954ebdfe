//! `latchkey challenge execute`: the terminal sample app. It speaks the end-user protocol
//! (docs/protocol.md) through `latchkey-client`, reading the plaintext request from a file or
//! prompting for it (PINs and answers hidden).

use clap::Args;
use latchkey_client::{ChallengeExecutor, ClientError};
use serde_json::{json, Value};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// Flags of `latchkey challenge execute`.
#[derive(Debug, Args)]
pub struct ExecuteArgs {
    /// The server's base URL.
    #[arg(long, env = "LATCHKEY_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The entity's App ID.
    #[arg(long)]
    app_id: String,
    /// The userToken.
    #[arg(long, env = "LATCHKEY_USER_TOKEN", hide_env_values = true)]
    user_token: String,
    /// The encryptionKey paired with the token.
    #[arg(long, env = "LATCHKEY_ENCRYPTION_KEY", hide_env_values = true)]
    encryption_key: String,
    /// The challenge to execute.
    #[arg(long)]
    challenge_id: String,
    /// The request as JSON (docs/protocol.md §2); `-` reads standard input. Without it, on a
    /// terminal, the command prompts.
    #[arg(long)]
    input: Option<String>,
}

fn fail(e: &ClientError) -> ExitCode {
    eprintln!("{}", e.to_json());
    ExitCode::FAILURE
}

fn fail_local(code: i64, message: &str) -> ExitCode {
    eprintln!("{}", json!({ "code": code, "message": message }));
    ExitCode::FAILURE
}

/// Runs the command. Its errors go to stderr as JSON, so it never returns `Err`.
pub async fn run(args: ExecuteArgs) -> Result<ExitCode, String> {
    let exec = match ChallengeExecutor::new(
        &args.url,
        &args.app_id,
        &args.user_token,
        &args.encryption_key,
    ) {
        Ok(e) => e,
        Err(e) => return Ok(fail(&e)),
    };
    let input: Zeroizing<String> = match args.input.as_deref() {
        Some("-") => {
            let mut s = Zeroizing::new(String::new());
            if std::io::stdin().read_to_string(&mut s).is_err() {
                return Ok(fail_local(2, "cannot read standard input"));
            }
            s
        }
        Some(path) => match std::fs::read_to_string(path) {
            Ok(s) => Zeroizing::new(s),
            Err(e) => return Ok(fail_local(2, &format!("cannot read {path}: {e}"))),
        },
        None if std::io::stdin().is_terminal() => {
            let described = match exec.describe(&args.challenge_id).await {
                Ok(d) => d,
                Err(e) => return Ok(fail(&e)),
            };
            match prompt(&described) {
                Ok(v) => Zeroizing::new(v.to_string()),
                Err(m) => return Ok(fail_local(155701, &m)),
            }
        }
        None => {
            return Ok(fail_local(
                2,
                "no --input given and standard input is not a terminal",
            ))
        }
    };
    let value: Value = match serde_json::from_str(&input) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Ok(fail_local(
                2,
                "the input must be one JSON object (docs/protocol.md §2)",
            ))
        }
    };
    match exec.execute(&args.challenge_id, &value).await {
        Ok(body) => {
            println!("{body}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(&e)),
    }
}

fn secret(label: &str) -> Result<String, String> {
    rpassword::prompt_password(label).map_err(|e| format!("cannot read from the terminal: {e}"))
}

fn line(label: &str) -> Result<String, String> {
    print!("{label}");
    let _ = std::io::stdout().flush();
    let mut s = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut s)
        .map_err(|e| format!("cannot read from the terminal: {e}"))?;
    Ok(s.trim().to_string())
}

fn new_pin() -> Result<String, String> {
    for _ in 0..3 {
        let first = secret("New PIN (6 digits): ")?;
        if let Err(e) = latchkey_core::rules::check_pin(&first, "newPin") {
            println!("  {}", e.message);
            continue;
        }
        if secret("Confirm new PIN: ")? == first {
            return Ok(first);
        }
        println!("  The code you entered is not the same as the first one.");
    }
    Err("User canceled".into())
}

/// Asks for what the challenge requires, as the hosted page would.
fn prompt(described: &Value) -> Result<Value, String> {
    let c = &described["challenge"];
    println!(
        "Challenge {} ({}), status {}",
        c["id"].as_str().unwrap_or("?"),
        c["type"].as_str().unwrap_or("?"),
        c["status"].as_str().unwrap_or("?")
    );
    // What is approved comes before the PIN is asked for.
    for line in crate::summary::lines(
        c["type"].as_str().unwrap_or_default(),
        &described["signing"],
    ) {
        println!("{line}");
    }
    let req = &described["requires"];
    let mut out = serde_json::Map::new();
    if req["pin"].as_bool() == Some(true) {
        if let Some(left) = described["pinAttemptsLeft"].as_i64() {
            println!("  {left} PIN attempt(s) left before the PIN locks.");
        }
        out.insert("pin".into(), json!(secret("Current PIN: ")?));
    }
    if req["securityAnswers"].as_bool() == Some(true) {
        let mut answers = Vec::new();
        for q in described["securityQuestions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            println!("  {}", q["question"].as_str().unwrap_or_default());
            if let Some(h) = q["hint"].as_str() {
                println!("  (hint: {h})");
            }
            answers.push(json!(secret("  Answer: ")?));
        }
        out.insert("securityAnswers".into(), json!(answers));
    }
    if req["newPin"].as_bool() == Some(true) {
        out.insert("newPin".into(), json!(new_pin()?));
    }
    if req["securityQuestions"].as_bool() == Some(true) {
        println!("Choose 2 security questions. If you lose both your PIN and these answers, your wallets are lost for good.");
        let defaults: Vec<String> = described["defaultSecurityQuestions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|q| q.as_str().map(str::to_string))
            .collect();
        for (i, q) in defaults.iter().enumerate() {
            println!("  {}. {q}", i + 1);
        }
        let mut questions = Vec::new();
        while questions.len() < 2 {
            let pick = line(&format!(
                "Question {} (number, or type your own): ",
                questions.len() + 1
            ))?;
            let question = match pick.parse::<usize>() {
                Ok(n) if (1..=defaults.len()).contains(&n) => defaults[n - 1].clone(),
                _ if pick.chars().count() >= 2 => pick,
                _ => continue,
            };
            let answer = secret("  Answer: ")?;
            let hint = line("  Hint (optional): ")?;
            let mut q = json!({ "question": question, "answer": answer });
            if !hint.is_empty() {
                q["hint"] = json!(hint);
            }
            questions.push(q);
        }
        out.insert("securityQuestions".into(), json!(questions));
    }
    Ok(Value::Object(out))
}
