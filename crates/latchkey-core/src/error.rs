//! The error catalog: every error latchkey returns carries Circle's numeric code, its HTTP
//! status and its message (from Circle's published table), so that the official SDKs map
//! it to the same error class they would for Circle.

use serde::Serialize;
use std::borrow::Cow;

/// One entry of `errors[]` in an error body: which field was wrong and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// The kind of failure (`required`, `invalid`, `type`, `min`, `max`).
    pub error: String,
    /// A human explanation naming the field.
    pub message: String,
    /// The field's path in the request (`userId`, `query.pageSize`).
    pub location: String,
    /// The offending value, when it is safe to echo (never for secrets).
    #[serde(rename = "invalidValue", skip_serializing_if = "Option::is_none")]
    pub invalid_value: Option<serde_json::Value>,
}

/// An API error: Circle's numeric code, the HTTP status it travels with, and the message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// Circle's numeric error code (2 = generic validation).
    pub code: i64,
    /// HTTP status.
    pub status: u16,
    /// Message shown to the caller; never contains a secret.
    pub message: Cow<'static, str>,
    /// Field-level details for validation errors.
    pub errors: Vec<FieldError>,
    /// PIN / answer attempts left, where a guess was evaluated.
    pub attempts_left: Option<u32>,
    /// When the PIN or answers unlock again (ISO-8601), where a lock applies.
    pub locked_expiry_date: Option<String>,
}

impl ApiError {
    /// An error with a fixed catalog code, status and message.
    pub const fn new(code: i64, status: u16, message: &'static str) -> Self {
        Self {
            code,
            status,
            message: Cow::Borrowed(message),
            errors: Vec::new(),
            attempts_left: None,
            locked_expiry_date: None,
        }
    }

    /// Replaces the message (for a catalog code whose text should name the specifics).
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    /// Attaches the attempts left after a failed guess.
    pub fn with_attempts_left(mut self, left: u32) -> Self {
        self.attempts_left = Some(left);
        self
    }

    /// Attaches the lock's expiry.
    pub fn with_locked_expiry(mut self, expiry: String) -> Self {
        self.locked_expiry_date = Some(expiry);
        self
    }

    /// A generic validation error (code 2, HTTP 400) naming the field.
    pub fn invalid_field(location: &str, error: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            code: 2,
            status: 400,
            message: Cow::Owned(format!("API parameter invalid: {message}")),
            errors: vec![FieldError {
                error: error.to_string(),
                message,
                location: location.to_string(),
                invalid_value: None,
            }],
            attempts_left: None,
            locked_expiry_date: None,
        }
    }

    /// A field is missing.
    pub fn missing_field(location: &str) -> Self {
        Self::invalid_field(location, "required", format!("{location} is required"))
    }

    /// A requirement between fields, one of several ways to give something, worded always as
    /// `"<one way>, or <another>, is required"` (then `: <what is wrong>`): a schema of each
    /// field cannot state it, so the document states it in prose, and the schemathesis hooks
    /// recognise this wording.
    pub fn missing_one_of(location: &str, ways: &str, detail: &str) -> Self {
        let message = if detail.is_empty() {
            format!("{ways}, is required")
        } else {
            format!("{ways}, is required: {detail}")
        };
        Self::invalid_field(location, "required", message)
    }

    /// Any failure the caller cannot fix: logged by the caller, reported without detail.
    pub fn internal() -> Self {
        Self::new(-1, 500, "Something went wrong")
    }

    /// The request body is larger than the server reads (HTTP 413; Circle's table has no
    /// code of its own for it, so the code is the status, as for 401, 404 and 429).
    pub fn payload_too_large() -> Self {
        Self::new(413, 413, "Request body too large.")
    }

    /// The database cannot be reached right now (HTTP 503): nothing was done, and the same
    /// request can be retried once it is back.
    pub fn service_unavailable() -> Self {
        Self::new(
            503,
            503,
            "The service is temporarily unavailable. Try again later.",
        )
    }

    /// The server is busy (the KDF queue is full); the caller should retry later.
    pub fn too_many_requests() -> Self {
        Self::new(429, 429, "Too many requests. Try again later.")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Circle's catalog, one constant per code latchkey uses.
pub mod codes {
    use super::ApiError;

    /// HTTP 401 without a code of its own in Circle's table: the SDK sees `code: 401`.
    pub const MALFORMED_AUTH: ApiError = ApiError::new(
        401,
        401,
        "Malformed authorization. Are the credentials properly encoded?",
    );
    /// Generic validation failure.
    pub const API_PARAMETER_INVALID: ApiError = ApiError::new(2, 400, "API parameter invalid");
    /// Route exists but the resource does not.
    pub const NOT_FOUND: ApiError = ApiError::new(404, 404, "Not found");
    /// Forbidden.
    pub const FORBIDDEN: ApiError = ApiError::new(3, 403, "Forbidden");

    macro_rules! catalog {
        ($($name:ident = $code:literal, $status:literal, $msg:literal;)*) => {
            $(
                #[doc = $msg]
                pub const $name: ApiError = ApiError::new($code, $status, $msg);
            )*
        };
    }

    catalog! {
        USER_EXISTS = 155101, 409, "Existing user already created with the provided userId.";
        USER_NOT_FOUND = 155102, 404, "Cannot find the user id in the system.";
        TOKEN_NOT_FOUND = 155103, 401, "Cannot find the user token in the system.";
        TOKEN_EXPIRED = 155104, 403, "The userToken had expired.";
        TOKEN_INVALID = 155105, 403, "The userToken is invalid.";
        USER_ALREADY_INITIALIZED = 155106, 409, "The user had already been initialized.";
        PIN_ALREADY_SET = 155107, 409, "User has previously set a PIN. Use PUT /user/pin to reset the PIN.";
        QUESTIONS_ALREADY_SET = 155108, 409, "User has previously set up their security questions, and they can't be reset.";
        USER_DISABLED = 155109, 409, "The specified user has been disabled.";
        PIN_NOT_SET = 155110, 400, "User has not set up a PIN yet.";
        QUESTIONS_NOT_SET = 155111, 400, "User hasn't set the security questions for PIN backup yet.";
        INCORRECT_PIN = 155112, 400, "The user has inputted the incorrect pin.";
        APP_ID_UNKNOWN = 155114, 400, "Provided app ID is not recognized in the system.";
        INCORRECT_ANSWERS = 155115, 400, "The user has inputted the incorrect security answers";
        CHALLENGE_NOT_FOUND = 155116, 404, "The challenge ID doesn't exist in the system.";
        CHALLENGE_CONTENT_INVALID = 155117, 400, "The content provided for approval is not correct.";
        ENCRYPTION_KEY_MISMATCH = 155118, 400, "Encryption key does not match with the user's token. Call POST /users/token to get the correct token encryption key pair.";
        PIN_LOCKED = 155119, 400, "The user's PIN input is locked. It will be unlocked after the cooldown period.";
        ANSWERS_LOCKED = 155120, 400, "The user's security questions input is locked. It will be unlocked after the cooldown period.";
        CHALLENGE_EXPIRED = 155121, 403, "The provided challengeId has expired.";
        CHALLENGE_INVALID = 155122, 403, "The provided challengeId is invalid";
        PIN_MISMATCH = 155703, 400, "The code you entered is not the same as the first one.";
        PIN_WEAK = 155704, 400, "Your PIN can't have repeating or consecutive numbers.";
        HINT_EQUALS_ANSWER = 155705, 400, "Your hint can't be the same as the answer.";
        SCA_NOT_SUPPORTED = 155507, 400, "SCA account is not supported on the given blockchain.";
        SCA_NOT_ELIGIBLE = 155509, 400, "Entity is not eligible for SCA account creation. Please check paymaster policy setup.";
        SCA_MULTIPLE_CHAINS = 155508, 400, "Can't create multiple user-controlled SCA wallets across multiple blockchains at a time.";
        OPERATION_NOT_SUPPORTED = 155510, 400, "The operation is not supported on the blockchain you specify.";
        CHAIN_NOT_SUPPORTED = 155511, 400, "Blockchain is not supported for wallet creation.";
        SCA_OPERATION_PENDING = 155505, 400, "SCA wallet needs to wait for first-time transaction to be queued before processing more transactions.";
        ACCOUNT_TYPE_NOT_SUPPORTED = 155515, 400, "The provided wallet account type is not supported by this API.";
        WALLET_NOT_FOUND = 156001, 404, "Cannot find target wallet in the system. Either the specified wallet doesn't exist or it's not accessible to the caller.";
        ENVIRONMENT_MISMATCH = 156006, 400, "TEST_API key cannot be used with blockchain mainnets, or LIVE_API key cannot be used with blockchain testnets.";
        NOT_HEX = 156023, 409, "EncodedByHex is true in sign request, but the message is not hex encoded.";
        TYPED_DATA_NOT_JSON = 156024, 400, "Data is not a valid JSON string in sign request.";
        INVALID_MESSAGE = 156025, 400, "Invalid message in request.";
        INVALID_TYPED_DATA = 156026, 400, "Invalid typed data in request.";
        METADATA_LENGTH = 155504, 400, "Metadata array length needs to match number of blockchains in create user wallets request.";
        PAGE_CURSOR_NOT_FOUND = 156012, 404, "Cannot find corresponding pagination cursor in the system.";
        PAGE_PARAMS_INVALID = 156014, 400, "Pagination params are invalid. Only UUID format is supported for pageBefore and pageAfter.";
        API_KEY_NOT_FOUND = 156007, 401, "TEST_API key or LIVE_API key is not found for the request.";
        IDEMPOTENCY_KEY_REUSED = 156020, 403, "Please use a new idempotency key.";
        TOO_MANY_REQUESTS = 155713, 429, "Too many requests. Try again later";
        // The money half (transfers, fees, balances, tokens); 155254/155257/155258/155262/155264 have no
        // published status, and 400 is what their siblings use.
        INSUFFICIENT_FUNDS = 155201, 400, "Not enough funds to fulfill the withdraw request.";
        ESTIMATE_COST_ABOVE_BALANCE = 155204, 400, "The total cost of executing transaction is higher than the balance of the user's account when estimating fee.";
        ESTIMATE_INSUFFICIENT_TOKEN = 155205, 400, "Failed to execute this request on EVM due to insufficient token when estimating fee.";
        ESTIMATE_NOT_OWNER = 155206, 400, "The sender address is not token owner or approved when estimating token transfer.";
        ESTIMATE_GAS_EXCEEDS_ALLOWANCE = 155207, 400, "Gas required exceeds allowance when estimating fee.";
        ESTIMATE_REVERTED = 155208, 400, "Estimate fee execution reverted.";
        ABI_PACK_FAILED = 155209, 400, "ABI function signature can’t pack ABI parameter.";
        ESTIMATE_FAILED = 155210, 400, "Fails to perform transaction estimation.";
        FEE_ABOVE_MAX = 155211, 400, "MaxFee * GasLimit exceed configurable max transaction fee (default is 1 native token).";
        UNSUPPORTED_TRANSACTION_OPERATION = 155215, 400, "Unsupported operation for transaction.";
        INVALID_NFT_COUNT = 155218, 400, "Invalid number of nft in transaction request.";
        INVALID_DESTINATION_ADDRESS = 155219, 400, "Invalid destination address.";
        WALLET_TOKEN_CHAIN_MISMATCH = 155220, 400, "Wallet and token's blockchain mismatch.";
        INVALID_AMOUNTS = 155221, 400, "Invalid amounts in transfer request.";
        UNSUPPORTED_USER_ID = 155223, 400, "Unsupported userId for get transactions.";
        UNPARSABLE_AMOUNTS = 155224, 400, "Failed to parse the provided amounts in request to decimals.";
        WALLET_REQUEST_CHAIN_MISMATCH = 155225, 400, "Wallet and request's blockchain mismatch.";
        INVALID_SOURCE_ADDRESS = 155226, 400, "Invalid source address.";
        INVALID_TRANSACTION_TYPE = 155227, 400, "Invalid transaction type.";
        MISSING_TOKEN_ID = 155228, 400, "Missing token ID.";
        TRANSACTION_NOT_ELIGIBLE = 155229, 400, "Transaction is not eligible for operation.";
        NO_CALL_DATA = 155230, 400, "No call data or abi signature provided.";
        FEE_LEVEL_OR_GAS_LIMIT = 155231, 400, "Transaction needs feeLevel or gasLimit provided.";
        SCA_FEE_LEVEL_ONLY = 155232, 400, "SCA transaction needs feeLevel provided.";
        GAS_LIMIT_TOO_LOW = 155233, 400, "Provided gasLimit is too low to complete the requested transaction.";
        FEE_LEVEL_AND_FEES = 155234, 400, "Transaction can't have both feeLevel and fee parameters provided.";
        EIP1559_FEES_REQUIRED = 155235, 400, "EIP1559 chains need maxFee/priorityFee provided.";
        UNPARSABLE_FEE = 155236, 400, "Failed to parse the provided fee in request to decimals.";
        PRIORITY_ABOVE_MAX_FEE = 155237, 400, "PriorityFee cannot be larger than maxFee in creating transaction request.";
        GAS_PRICE_REQUIRED = 155238, 400, "Non-EIP1559 chains need gasPrice provided.";
        INVALID_TOKEN_ADDRESS = 155239, 400, "Invalid token address for transfer.";
        INVALID_TOKEN_STANDARD = 155240, 400, "Invalid token standard for transfer.";
        INVALID_TOKEN_DECIMALS = 155241, 400, "Invalid token decimal for transfer.";
        AMOUNTS_NFT_LENGTH = 155242, 400, "The lengths of amounts and nft tokens don't match.";
        WALLET_ID_AND_ADDRESS = 155244, 400, "Cannot provide both WalletID and SourceAddress/Blockchain.";
        INVALID_CONTRACT_AMOUNT = 155245, 400, "Invalid amount in contract execution request.";
        CALL_DATA_AND_ABI = 155247, 400, "Cannot provide both CallData and AbiFunctionSignature/AbiParameters.";
        LEGACY_CHAIN_EIP1559_FEES = 155254, 400, "Non-EIP1559 chains don't support maxFee/priorityFee.";
        SOLANA_RENT_EXEMPTION = 155257, 400, "the transfer amount is insufficient to make the destination account rent exempted or the balance of the source account is insufficient to remain rent exempted. The source address's remaining balance after transfer must be either zero or above the rent exemption threshold.";
        SOLANA_ACCOUNT_NOT_FOUND = 155262, 400, "Account is not found, could be caused by transacting from a Solana account with zero balance.";
        INSUFFICIENT_ASSET = 155258, 400, "The asset amount owned by the wallet is insufficient for the transaction.";
        TOO_MANY_PENDING = 155264, 400, "Wait for pending transactions to be included on the blockchain before submitting new requests. EVM chains restrict the number of queued transactions per sender address.";
        TOKEN_NOT_FOUND_ID = 156002, 404, "Cannot find target token in the system. Either the specified token doesn't exist or it's not accessible to the caller.";
        TRANSACTION_NOT_FOUND = 156003, 404, "Cannot find target transaction in the system. Either the specified transaction doesn't exist or it's not accessible to the caller.";
        ID_NOT_UUID = 156009, 400, "Fail to parse id as UUID in url.";
        NFT_TOKEN_ID_NOT_FOUND = 156011, 404, "Cannot find target nftTokenId in the system.";
        BLOCKCHAIN_NOT_SUPPORTED = 156027, 400, "The specified blockchain is either not supported or deprecated.";
        // The gas station's sponsorship policy (docs/sca.md#sponsorship-policy).
        POLICY_NOT_ACTIVATED = 177018, 400, "Policy is not activated and cannot be used.";
        POLICY_MAX_DAILY_TRANSACTIONS = 177019, 400, "Exceeded max daily transaction of the policy.";
        POLICY_MAX_PER_TRANSACTION = 177020, 400, "Exceeded max spend USD per transaction of the policy.";
        POLICY_MAX_NATIVE_DAILY = 177022, 400, "Exceeded max native token daily of the policy.";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_field_names_the_field() {
        let e = ApiError::invalid_field("userId", "min", "userId must be at least 5 characters");
        assert_eq!(e.code, 2);
        assert_eq!(e.status, 400);
        assert!(e.message.contains("userId"));
        assert_eq!(e.errors[0].location, "userId");
    }
}
