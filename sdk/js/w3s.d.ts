export { executeChallenge, LatchkeyError } from './headless.js';
export type { ChallengeInput, ExecuteChallengeOptions, SecurityQuestionInput } from './headless.js';

/** `{appId}`: the entity's App ID (GET /v1/w3s/config/entity). */
export interface AppSettings {
  appId: string;
}

/** The pair returned by POST /v1/w3s/users/token. */
export interface Authentication {
  userToken: string;
  encryptionKey: string;
}

export interface W3SSdkConfigs {
  appSettings?: AppSettings;
  /** The latchkey server, e.g. `https://wallets.example.com`. Optional when the SDK is
   * imported from `<serviceUrl>/sdk/w3s.js`. */
  serviceUrl?: string;
  authentication?: Authentication;
}

/** Circle's question type; latchkey takes every answer as text. */
export declare const QuestionType: Readonly<{ DATE: 0; TEXT: 1 }>;

/** A custom security question: a string, Circle's `{question, type}`, or the older `{title, inputType}`. */
export type SecurityQuestion = string | { question: string; type?: unknown } | { title: string; inputType?: unknown };

/** An error handed to the execute callback. */
export interface SdkError {
  /** Circle's code: a service code (155112 wrong PIN, 155119 PIN locked, …) or a client code
   * (155701 user canceled, 155702 launch failed, 155706 network error). */
  code: number;
  message: string;
  /** After a wrong PIN or wrong answers. */
  attemptsLeft?: number;
  /** With 155119 / 155120: when the lock ends (ISO-8601 UTC). */
  lockedExpiryDate?: string;
}

export interface ChallengeResult {
  type: string;
  status: string;
  /** What only this client may see: `signature`, plus `txHash` / `signedTransaction` for transactions. */
  data?: { signature?: string; txHash?: string; signedTransaction?: string; [k: string]: unknown };
}

export type { SdkError as Error };

export type ChallengeCompleteCallback = (error: SdkError | undefined, result: ChallengeResult | undefined) => void;

/** Texts of the hosted page. Circle's nested Localizations keys (see docs/web-sdk.md) or
 * latchkey's flat keys (`{ "enterPinTitle": "…" }`). */
export interface Localizations {
  common?: { continue?: string; confirm?: string; showPin?: string; hidePin?: string };
  enterPincode?: { headline?: string; subhead?: string; forgotPin?: string };
  initPincode?: { headline?: string; subhead?: string };
  newPincode?: { headline?: string; subhead?: string };
  confirmInitPincode?: { headline?: string; subhead?: string };
  confirmNewPincode?: { headline?: string; subhead?: string };
  recoverPincode?: { headline?: string; subhead?: string; answerInputHeader?: string; answerInputPlaceholder?: string };
  securityIntros?: { headline?: string; description?: string };
  securityQuestions?: {
    title?: string; questionHeader?: string; questionPlaceholder?: string; answerHeader?: string;
    answerPlaceholder?: string; answerHintHeader?: string; answerHintPlaceholder?: string;
  };
  securitySummary?: { title?: string };
  securityConfirm?: { title?: string; headline?: string };
  [key: string]: unknown;
}

/** Colours (any CSS colour). Unknown keys are ignored. */
export interface ThemeColor {
  backdrop?: string;
  backdropOpacity?: number;
  bg?: string;
  divider?: string;
  success?: string;
  error?: string;
  textMain?: string;
  textAuxiliary?: string;
  textPlaceholder?: string;
  pinDotBase?: string;
  pinDotBaseBorder?: string;
  pinDotActivated?: string;
  inputText?: string;
  inputBg?: string;
  inputBorderFocused?: string;
  inputBorderFocusedError?: string;
  mainBtnBg?: string;
  mainBtnBgOnHover?: string;
  mainBtnBgDisabled?: string;
  mainBtnText?: string;
  mainBtnTextDisabled?: string;
  secondBtnText?: string;
  secondBtnBorder?: string;
  plainBtnText?: string;
  [key: string]: unknown;
}

export declare class W3SSdk {
  constructor(configs?: W3SSdkConfigs);
  /** The latchkey server this instance talks to (no trailing slash). */
  readonly serviceUrl: string | undefined;
  setServiceUrl(serviceUrl: string): void;
  setAppSettings(appSettings: AppSettings): void;
  setAuthentication(auth: Authentication): void;
  /** Opens the hosted page; `onCompleted` is called once when it finishes. */
  execute(challengeId: string, onCompleted?: ChallengeCompleteCallback): void;
  setCustomSecurityQuestions(questions?: SecurityQuestion[] | null, requiredCount?: number, securityConfirmItems?: string[]): void;
  setLocalizations(localizations: Localizations): void;
  setThemeColor(themeColor: ThemeColor): void;
  /** Accepted for compatibility; latchkey's page loads no remote resources. */
  setResources(resources: unknown): void;
  /** Accepted for compatibility; not used. */
  setCustomLinks(customLinks: unknown): void;
  setOnForgotPin(onForgotPin: () => void, shouldCloseModalOnForgotPin?: boolean): void;
  /** Closes an open page; its callback gets `{code: 155701, message: 'User canceled'}`. */
  close(): void;
}

export default W3SSdk;
