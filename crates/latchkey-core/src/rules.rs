//! Input rules for PINs, security questions and ids, shared by the server and the clients.

use crate::error::{codes, ApiError};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// A PIN is exactly 6 ASCII digits, not one digit repeated and not a consecutive run.
pub fn check_pin(pin: &str, field: &str) -> Result<(), ApiError> {
    let digits = pin.as_bytes();
    if digits.len() != 6 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ApiError::invalid_field(
            field,
            "invalid",
            format!("{field} must be exactly 6 digits"),
        ));
    }
    let steps: Vec<i16> = digits
        .windows(2)
        .map(|w| i16::from(w[1]) - i16::from(w[0]))
        .collect();
    let all = |d: i16| steps.iter().all(|&s| s == d);
    if all(0) || all(1) || all(-1) {
        return Err(codes::PIN_WEAK);
    }
    Ok(())
}

/// Normalises a security answer: NFKC, trimmed, inner whitespace collapsed, lowercased.
pub fn normalize_answer(answer: &str) -> Zeroizing<String> {
    let nfkc: Zeroizing<String> = Zeroizing::new(answer.nfkc().collect());
    let mut out = Zeroizing::new(String::with_capacity(nfkc.len()));
    for word in nfkc.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            out.push(c);
        }
    }
    out
}

/// Encodes normalised answers, in question order, as the secret of the answers wrap:
/// each answer length-prefixed so that no two lists encode alike.
pub fn encode_answers<S: AsRef<str>>(answers: &[S]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    for a in answers {
        let n = normalize_answer(a.as_ref());
        out.extend_from_slice(&(n.len() as u32).to_be_bytes());
        out.extend_from_slice(n.as_bytes());
    }
    out
}

/// Smallest number of security questions.
pub const MIN_QUESTIONS: usize = 2;
/// Largest number of security questions.
pub const MAX_QUESTIONS: usize = 10;

/// Checks one question / answer / hint triple (question index `i` for the error location).
pub fn check_question(
    i: usize,
    question: &str,
    answer: &str,
    hint: Option<&str>,
) -> Result<(), ApiError> {
    let q = question.trim().chars().count();
    if !(2..=512).contains(&q) {
        let loc = format!("securityQuestions[{i}].question");
        return Err(ApiError::invalid_field(
            &loc,
            "invalid",
            format!("{loc} must be 2 to 512 characters"),
        ));
    }
    let normalized = normalize_answer(answer);
    if normalized.is_empty() {
        let loc = format!("securityQuestions[{i}].answer");
        return Err(ApiError::invalid_field(
            &loc,
            "required",
            format!("{loc} must not be empty"),
        ));
    }
    if answer.chars().count() > 512 {
        let loc = format!("securityQuestions[{i}].answer");
        return Err(ApiError::invalid_field(
            &loc,
            "max",
            format!("{loc} must be at most 512 characters"),
        ));
    }
    if let Some(h) = hint {
        if h.chars().count() > 512 {
            let loc = format!("securityQuestions[{i}].hint");
            return Err(ApiError::invalid_field(
                &loc,
                "max",
                format!("{loc} must be at most 512 characters"),
            ));
        }
        if !h.trim().is_empty() && *normalize_answer(h) == *normalized {
            return Err(codes::HINT_EQUALS_ANSWER);
        }
    }
    Ok(())
}

/// The developer's userId: 5–50 characters.
pub fn check_user_id(user_id: &str) -> Result<(), ApiError> {
    let n = user_id.chars().count();
    if n < 5 {
        return Err(ApiError::invalid_field(
            "userId",
            "min",
            "userId must be at least 5 characters",
        ));
    }
    if n > 50 {
        return Err(ApiError::invalid_field(
            "userId",
            "max",
            "userId must be at most 50 characters",
        ));
    }
    if user_id.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "userId",
            "invalid",
            "userId must not contain control characters",
        ));
    }
    Ok(())
}

/// A UUID in canonical text form (any version), as Circle requires for ids and keys.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()
}

/// An origin as CSP source syntax accepts it: `https://host[:port]`, `*` allowed as the port
/// or as the leading label (`https://*.example.com`); no path.
pub fn is_origin(o: &str) -> bool {
    let Some((scheme, rest)) = o.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !rest.is_empty()
        && rest.len() <= 253
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:*[]".contains(c))
}

/// The suggested security questions, as the hosted page also loads them
/// (`web/questions.json`, compiled in).
const DEFAULT_QUESTIONS_JSON: &str = include_str!("../../../web/questions.json");

/// The suggested security questions offered on set-up screens.
pub fn default_questions() -> Vec<String> {
    // Invariant: the file is compiled in and `default_questions_parse` below reads it, so a
    // malformed list fails the build's tests rather than a request.
    #[allow(clippy::expect_used)]
    serde_json::from_str(DEFAULT_QUESTIONS_JSON).expect("web/questions.json is a list of strings")
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_questions_parse() {
        let questions = super::default_questions();
        assert!(questions.len() >= super::MIN_QUESTIONS);
        assert!(questions.iter().all(|q| !q.trim().is_empty()));
    }

    #[test]
    fn origins() {
        for good in [
            "https://app.example.com",
            "http://localhost:*",
            "https://*.example.com:8443",
        ] {
            assert!(super::is_origin(good), "{good}");
        }
        for bad in [
            "app.example.com",
            "https://a.com/path",
            "javascript:alert(1)",
            "https://a b",
            "https://",
        ] {
            assert!(!super::is_origin(bad), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn pin_rules() {
        for good in ["159357", "135790", "112233", "123457", "909090"] {
            assert!(check_pin(good, "pin").is_ok(), "{good}");
        }
        for weak in ["000000", "999999", "123456", "654321", "345678", "987654"] {
            assert_eq!(check_pin(weak, "pin").unwrap_err().code, 155704, "{weak}");
        }
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            assert_eq!(check_pin(bad, "pin").unwrap_err().code, 2, "{bad}");
        }
    }

    #[test]
    fn answers_normalise() {
        assert_eq!(*normalize_answer("  Rex\t the   DOG "), "rex the dog");
        assert_eq!(*normalize_answer("ｒｅｘ"), "rex");
        assert_eq!(
            encode_answers(&[" Rex", "LYON "]),
            encode_answers(&["rex", "lyon"])
        );
        assert_ne!(encode_answers(&["ab", "c"]), encode_answers(&["a", "bc"]));
    }

    #[test]
    fn question_rules() {
        assert!(check_question(0, "Pet?", "Rex", Some("dog")).is_ok());
        assert_eq!(
            check_question(0, "Pet?", "Rex", Some(" rex "))
                .unwrap_err()
                .code,
            155705
        );
        assert_eq!(check_question(0, "P", "Rex", None).unwrap_err().code, 2);
        assert_eq!(check_question(0, "Pet?", "   ", None).unwrap_err().code, 2);
    }

    #[test]
    fn user_id_length() {
        assert!(check_user_id("abcde").is_ok());
        assert!(check_user_id("abcd").is_err());
        assert!(check_user_id(&"x".repeat(51)).is_err());
    }
}
