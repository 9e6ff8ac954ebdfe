// Texts of the hosted page, and how an app replaces them (setLocalizations) or
// recolours the page (setThemeColor). Every text is shown with textContent, never as HTML.

// ── Texts ─────────────────────────────────────────────────────────────────────────────────
export const STR = {
  continue: 'Continue',
  confirm: 'Confirm',
  approve: 'Approve',
  close: 'Close',
  showPin: 'Show',
  hidePin: 'Hide',
  showPinLabel: 'Show PIN',
  waiting: 'Waiting for the app…',
  loading: 'Loading…',
  submitting: 'Submitting…',
  enterPinTitle: 'Enter your PIN',
  enterPinSubtitle: 'Enter your 6-digit PIN to continue.',
  changePinCurrentTitle: 'Enter your current PIN',
  forgotPin: 'Forgot PIN?',
  pinLabel: 'PIN',
  initPinTitle: 'Create your PIN',
  initPinSubtitle: 'Choose a 6-digit PIN. You will need it to approve every action on your wallets.',
  newPinTitle: 'Create a new PIN',
  newPinSubtitle: 'Choose a 6-digit PIN that you have not used before.',
  newPinLabel: 'New PIN',
  confirmInitPinTitle: 'Confirm your PIN',
  confirmNewPinTitle: 'Confirm your new PIN',
  confirmPinSubtitle: 'Enter the same 6 digits again.',
  confirmPinLabel: 'New PIN again',
  pinRuleHelp: '6 digits, not all the same and not in a row (like 123456).',
  recoverTitle: 'Answer your security questions',
  recoverSubtitle: 'Answer the questions you set up, to set a new PIN.',
  answerLabel: 'Answer',
  answerPlaceholder: 'Your answer',
  hintPrefix: 'Hint: ',
  questionsTitle: 'Set up security questions',
  questionsIntro: 'If you forget your PIN, these answers are the only way to set a new one. Pick questions whose answers you will remember and others cannot guess.',
  questionLegend: 'Question {n}',
  questionLabel: 'Question',
  questionPlaceholder: 'Choose a question',
  customQuestionOption: 'Write my own question',
  customQuestionLabel: 'Your question',
  hintLabel: 'Hint (optional)',
  hintPlaceholder: 'A reminder, not the answer',
  summaryTitle: 'Keep your answers safe',
  confirmWarning: 'If you lose both your PIN and the answers to these questions, you lose access to your wallets forever. Nobody, not this app and not the service that runs it, can recover them.',
  confirmWarning2: 'Write your answers down and keep them somewhere safe.',
  ackLabel: 'I understand that losing both my PIN and my answers means losing my wallets forever.',
  reviewTitle: 'Review the request',
  reviewSubtitle: 'Check what you are approving before you enter your PIN.',
  doneTitle: 'Done',
  doneSubtitle: 'You can close this window.',
  lockedPinTitle: 'Your PIN is locked',
  lockedAnswersTitle: 'Your security answers are locked',
  lockedUntil: 'Too many wrong attempts. You can try again after {time}.',
  lockedLater: 'Too many wrong attempts. Try again later.',
  errorTitle: 'Something went wrong',
  // Input rules (the first three are Circle's client messages, 155703 / 155704 / 155705).
  pinMismatch: 'The code you entered is not the same as the first one.',
  pinWeak: "Your PIN can't have repeating or consecutive numbers.",
  hintEqualsAnswer: "Your hint can't be the same as the answer.",
  pinIncomplete: 'Enter all 6 digits.',
  pinSameAsOld: 'Your new PIN must be different from your current PIN.',
  chooseQuestion: 'Choose a question.',
  questionLength: 'Write a question of 2 to 512 characters.',
  questionDuplicate: 'Choose a different question for each answer.',
  answerRequired: 'Enter an answer.',
  tooLong: 'This can be at most 512 characters.',
  ackRequired: 'Tick the box to confirm that you understand.',
  // Service outcomes.
  wrongPin: 'That PIN is not correct.',
  wrongAnswers: 'Those answers are not correct.',
  attemptsLeftOne: '1 attempt left before your PIN is locked.',
  attemptsLeftMany: '{n} attempts left before your PIN is locked.',
  answerAttemptsLeftOne: '1 attempt left before your answers are locked.',
  answerAttemptsLeftMany: '{n} attempts left before your answers are locked.',
  busy: 'The service is busy. Try again in a moment.',
  network: 'Network error. Check your connection and try again.',
  expired: 'This request has expired. Please start again from the app.',
  invalid: 'This request is no longer valid.',
  notFramed: 'This page must be opened by an app through the latchkey web SDK.',
  wrongParent: 'This page was opened by a different site than it expected.',
  // Review (signing) labels.
  typeCREATE_WALLET: 'Create a wallet',
  typeSIGN_MESSAGE: 'Sign a message',
  typeSIGN_TYPEDDATA: 'Sign typed data',
  typeSIGN_TRANSACTION: 'Sign a transaction',
  typeCREATE_TRANSACTION: 'Send a transaction',
  typeCONTRACT_EXECUTION: 'Interact with a contract',
  typeACCELERATE_TRANSACTION: 'Speed up a transaction',
  typeCANCEL_TRANSACTION: 'Cancel a transaction',
  typeWALLET_UPGRADE: 'Upgrade a wallet',
  message: 'Message',
  rawHex: 'Raw (hex)',
  domain: 'Domain',
  primaryType: 'Type',
  fields: 'Fields',
  transaction: 'Transaction',
  technical: 'Technical details',
  otherDetails: 'Other details',
  sendSummary: 'Send {what} to {to}',
  tokens: 'tokens',
  feeLOW: 'Low',
  feeMEDIUM: 'Medium',
  feeHIGH: 'High',
  feeCUSTOM: 'Custom (set by the app)',
  maxNetworkFeeHint: 'The most the network fee can be; it is usually less.',
};

// Circle's Localizations (nested) → our keys.
export const CIRCLE_KEYS = {
  'common.continue': 'continue',
  'common.confirm': 'confirm',
  'common.showPin': 'showPin',
  'common.hidePin': 'hidePin',
  'enterPincode.headline': 'enterPinTitle',
  'enterPincode.subhead': 'enterPinSubtitle',
  'enterPincode.forgotPin': 'forgotPin',
  'initPincode.headline': 'initPinTitle',
  'initPincode.subhead': 'initPinSubtitle',
  'newPincode.headline': 'newPinTitle',
  'newPincode.subhead': 'newPinSubtitle',
  'confirmInitPincode.headline': 'confirmInitPinTitle',
  'confirmInitPincode.subhead': 'confirmPinSubtitle',
  'confirmNewPincode.headline': 'confirmNewPinTitle',
  'recoverPincode.headline': 'recoverTitle',
  'recoverPincode.subhead': 'recoverSubtitle',
  'recoverPincode.answerInputHeader': 'answerLabel',
  'recoverPincode.answerInputPlaceholder': 'answerPlaceholder',
  'securityIntros.headline': 'questionsTitle',
  'securityIntros.description': 'questionsIntro',
  'securityQuestions.title': 'questionsTitle',
  'securityQuestions.questionHeader': 'questionLabel',
  'securityQuestions.questionPlaceholder': 'questionPlaceholder',
  'securityQuestions.answerHeader': 'answerLabel',
  'securityQuestions.answerPlaceholder': 'answerPlaceholder',
  'securityQuestions.answerHintHeader': 'hintLabel',
  'securityQuestions.answerHintPlaceholder': 'hintPlaceholder',
  'securitySummary.title': 'summaryTitle',
  'securityConfirm.title': 'summaryTitle',
  'securityConfirm.headline': 'confirmWarning',
};

export function t(key, vars) {
  let s = Object.prototype.hasOwnProperty.call(STR, key) ? STR[key] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function applyLocalizations(loc) {
  if (!loc || typeof loc !== 'object') return;
  for (const [k, v] of Object.entries(loc)) {
    if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(STR, k)) STR[k] = v;
    else if (v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) {
        const ours = CIRCLE_KEYS[`${k}.${k2}`];
        if (ours && typeof v2 === 'string') STR[ours] = v2;
      }
    }
  }
  if (typeof loc.lang === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(loc.lang)) {
    document.documentElement.lang = loc.lang;
  }
}

// Circle's ThemeColor → our custom properties.
export const THEME_VARS = {
  bg: '--bg', textMain: '--text', textAuxiliary: '--muted', divider: '--divider', error: '--error',
  success: '--success', textPlaceholder: '--placeholder', inputText: '--input-text', inputBg: '--input-bg',
  inputBorderFocused: '--focus', inputBorderFocusedError: '--error-border', mainBtnBg: '--btn-bg',
  mainBtnBgOnHover: '--btn-bg-hover', mainBtnBgDisabled: '--btn-bg-disabled', mainBtnText: '--btn-text',
  mainBtnTextDisabled: '--btn-text-disabled', secondBtnText: '--btn2-text', secondBtnBorder: '--btn2-border',
  plainBtnText: '--link', pinDotBase: '--dot', pinDotBaseBorder: '--dot-border', pinDotActivated: '--dot-on',
};

export function applyTheme(theme) {
  if (!theme || typeof theme !== 'object') return;
  const root = document.documentElement;
  let any = false;
  for (const [k, prop] of Object.entries(THEME_VARS)) {
    const v = theme[k];
    if (typeof v === 'string' && v.length < 100 && globalThis.CSS && CSS.supports('color', v)) {
      root.style.setProperty(prop, v);
      any = true;
    }
  }
  // Hover and disabled shades follow the app's button colour unless it gave them.
  if (typeof theme.mainBtnBg === 'string' && root.style.getPropertyValue('--btn-bg')) {
    if (!root.style.getPropertyValue('--btn-bg-hover')) root.style.setProperty('--btn-bg-hover', theme.mainBtnBg);
  }
  // An app that sets colours gets its palette in both schemes, not ours for dark mode.
  if (any) root.classList.add('themed');
}
