/** Client-side error codes, as Circle's SDKs number them. */
export declare const ClientErrorCode: Readonly<{
  userCanceled: 155701;
  launchUiFailed: 155702;
  pinMismatch: 155703;
  pinWeak: 155704;
  hintEqualsAnswer: 155705;
  networkError: 155706;
  encryptFailed: 155707;
}>;

/** A field error of a validation failure (`code: 2`). */
export interface FieldError {
  error?: string;
  message?: string;
  location?: string;
  invalidValue?: unknown;
  constraints?: Record<string, unknown>;
}

/** An error from the service or from this client. */
export declare class LatchkeyError extends Error {
  constructor(code: number, message: string, extra?: {
    attemptsLeft?: number; lockedExpiryDate?: string; status?: number; errors?: FieldError[];
  });
  /** Circle's numeric error code (e.g. 155112 wrong PIN), or the HTTP status when the body had none. */
  code: number;
  /** Guesses left before the lock, after a wrong PIN or wrong answers. */
  attemptsLeft?: number;
  /** With 155119 / 155120: when the lock ends (ISO-8601 UTC). */
  lockedExpiryDate?: string;
  /** The HTTP status, when the error came from the service. */
  status?: number;
  /** Field errors, for validation failures. */
  errors?: FieldError[];
  toJSON(): { code: number; message: string; attemptsLeft?: number; lockedExpiryDate?: string; errors?: FieldError[] };
}

/** One security question being set (INITIALIZE, SET_PIN for a user who has none). */
export interface SecurityQuestionInput {
  question: string;
  answer: string;
  hint?: string;
}

/** The plaintext of an execution (docs/protocol.md). */
export interface ChallengeInput {
  /** Current PIN: CHANGE_PIN, CREATE_WALLET, SIGN_*, transaction types. */
  pin?: string;
  /** PIN to set: INITIALIZE, SET_PIN, CHANGE_PIN, RESTORE_PIN. */
  newPin?: string;
  /** At least 2, when they are being set. */
  securityQuestions?: SecurityQuestionInput[];
  /** Answers to the stored questions, in order: RESTORE_PIN. */
  securityAnswers?: string[];
}

/** The result of a successful execution: the response's `data`. */
export interface ChallengeResult {
  type: string;
  status: 'COMPLETE' | 'FAILED' | 'EXPIRED' | 'IN_PROGRESS' | 'PENDING' | string;
  /** What only the executing client may see (e.g. `signature`, `txHash`, `signedTransaction`). */
  data: { signature?: string; txHash?: string; signedTransaction?: string; [k: string]: unknown };
}

export interface ConnectionOptions {
  /** The latchkey server, e.g. `https://wallets.example.com` (a path prefix is kept). */
  serviceUrl: string;
  /** The entity's App ID. */
  appId: string;
  /** The userToken from POST /v1/w3s/users/token. */
  userToken: string;
  challengeId: string;
  /** A fetch implementation; defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface ExecuteChallengeOptions extends ConnectionOptions {
  /** The base64 encryptionKey issued with the userToken. */
  encryptionKey: string;
  /** The plaintext object, or its JSON text. */
  input: ChallengeInput | string;
}

/** Executes a challenge without UI; throws a LatchkeyError on failure. */
export declare function executeChallenge(opts: ExecuteChallengeOptions): Promise<ChallengeResult>;
export default executeChallenge;

/** GET /v1/w3s/sdk/challenges/{id}: what a UI needs to render the challenge (the response's `data`). */
export declare function getChallenge(opts: ConnectionOptions): Promise<ChallengeView>;

/** POST /v1/w3s/sdk/challenges/{id}/execute with an already encrypted body. */
export declare function postEncrypted(opts: ConnectionOptions & { encrypted: string }): Promise<ChallengeResult>;

/** base64(12-byte nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag), associated data = the challenge id. */
export declare function encryptPayload(encryptionKey: string, challengeId: string, plaintext: ChallengeInput | string): Promise<string>;

/** null when the PIN is acceptable, else `{code: 2 | 155704, message}`. */
export declare function checkPin(pin: string): null | { code: number; message: string };

/** NFKC, trimmed, inner whitespace collapsed, lowercased: how the server compares answers and hints. */
export declare function normalizeAnswer(answer: string): string;

export declare function bytesToBase64(bytes: Uint8Array): string;
export declare function base64ToBytes(text: string): Uint8Array;

/** The `data` of GET /v1/w3s/sdk/challenges/{id}. */
export interface ChallengeView {
  challenge: {
    id: string; type: string; status: string; correlationIds?: string[];
    expiryDate?: string; errorCode?: number; errorMessage?: string;
  };
  user: {
    pinStatus: 'ENABLED' | 'UNSET' | 'LOCKED';
    securityQuestionStatus: 'ENABLED' | 'UNSET' | 'LOCKED';
    pinDetails?: { failedAttempts: number; lockedDate?: string; lockedExpiryDate?: string };
    securityQuestionDetails?: { failedAttempts: number; lockedDate?: string; lockedExpiryDate?: string };
  };
  pinAttemptsLeft?: number;
  answerAttemptsLeft?: number;
  maxAttempts?: number;
  securityQuestions?: { question: string; hint?: string | null }[];
  defaultSecurityQuestions?: string[];
  requires?: { pin: boolean; newPin: boolean; securityQuestions: boolean; securityAnswers: boolean };
  signing?: Record<string, unknown> | null;
}
