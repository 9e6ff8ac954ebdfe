// Renders the `signing` object of GET /v1/w3s/sdk/challenges/{id}: what the user is asked to
// approve. Every field the server sent is shown; nothing is rendered as HTML.
import { h } from './dom.js';
import { t } from './strings.js';

// ── What is being signed ────────────────────────────────────────────────────────────────
const LABELS = {
  walletId: 'Wallet', address: 'From', sourceAddress: 'From', blockchain: 'Network', blockchains: 'Networks',
  accountType: 'Account type', memo: 'Memo', to: 'To', destinationAddress: 'To', value: 'Value',
  amount: 'Amount', amounts: 'Amounts', data: 'Data', chainId: 'Chain ID', nonce: 'Nonce', gas: 'Gas limit',
  gasLimit: 'Gas limit', gasPrice: 'Gas price', maxFeePerGas: 'Max fee per gas',
  maxPriorityFeePerGas: 'Max priority fee per gas', contractAddress: 'Contract',
  abiFunctionSignature: 'Function', abiParameters: 'Parameters', tokenId: 'Token', feeLevel: 'Fee level',
  from: 'From', token: 'Token', nftTokenIds: 'NFT token IDs', maxFee: 'Max fee per gas',
  priorityFee: 'Priority fee per gas', maxNetworkFee: 'Max network fee', nativeSymbol: 'Fee currency',
};
const NATIVE = { ETH: 'ETH', ARB: 'ETH', BASE: 'ETH', OP: 'ETH', UNI: 'ETH', AVAX: 'AVAX', MATIC: 'POL', MONAD: 'MON' };

function parseMaybeJson(v) {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

// `labels` names the keys of the server's own objects; data the user signs (typed data) keeps
// its own field names (labels = null), so that e.g. an EIP-712 field `address` is not shown as "From".
function valueNode(v, labels = LABELS) {
  if (v === null || v === undefined) return h('span', {}, '—');
  if (typeof v === 'string') return v.length > 80 || v.includes('\n') ? h('pre', {}, v) : h('span', { class: v.startsWith('0x') ? 'mono' : '' }, v);
  if (typeof v !== 'object') return h('span', {}, String(v));
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) return h('span', {}, v.map(String).join(', '));
    return h('dl', {}, v.flatMap((x, i) => [h('dt', {}, `#${i + 1}`), h('dd', {}, valueNode(x, labels))]));
  }
  const label = (k) => (labels && Object.prototype.hasOwnProperty.call(labels, k) ? labels[k] : k);
  return h('dl', {}, Object.entries(v).flatMap(([k, x]) => [h('dt', {}, label(k)), h('dd', {}, valueNode(x, labels))]));
}

function formatUnits(raw, decimals) {
  let n;
  try {
    n = BigInt(typeof raw === 'number' ? Math.trunc(raw) : String(raw).trim());
  } catch {
    return null;
  }
  const neg = n < 0n;
  if (neg) n = -n;
  const base = 10n ** BigInt(decimals);
  const whole = n / base;
  const frac = (n % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

function decodeHexText(hex) {
  if (typeof hex !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(hex)) return null;
  const clean = hex.replace(/^0x/, '');
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // Only call it text when it is printable.
    return /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

// An address shortened for a sentence: its first and last 5 characters (as Circle's page
// does). The full address is always shown in the rows below it.
function mask(address) {
  const a = String(address ?? '');
  return a.length > 13 ? `${a.slice(0, 5)}…${a.slice(-5)}` : a;
}

// CREATE_TRANSACTION (`TransferView`): one sentence ("Send 1.5 USDC to 0x22222…22222"), then
// the network, both full addresses, the fee level and the most the fees can cost. Gas figures
// and token details go under "Technical details". `take` removes what is shown from the rest.
function renderTransfer(take) {
  const token = take('token') || {};
  const listed = take('amounts');
  const amounts = Array.isArray(listed) ? listed : [];
  const nfts = take('nftTokenIds');
  const ids = Array.isArray(nfts) ? nfts.map(String) : [];
  const to = take('to');
  const from = take('from');
  const symbol = token.symbol || (token.address ? mask(token.address) : t('tokens'));
  let what;
  if (token.standard === 'ERC721') what = ids.map((id) => `${symbol} #${id}`).join(', ');
  else if (token.standard === 'ERC1155') what = ids.map((id, i) => `${amounts[i] ?? '?'} × ${symbol} #${id}`).join(', ');
  else what = `${amounts.map(String).join(', ')} ${symbol}`;
  const level = take('feeLevel');
  const levelKey = `fee${level}`;
  const levelText = t(levelKey) === levelKey ? String(level ?? '—') : t(levelKey);
  const maxFee = take('maxNetworkFee');
  const unit = take('nativeSymbol');
  const rows = [
    [LABELS.blockchain, 'signing-network', valueNode(take('blockchain'))],
    [LABELS.from, 'signing-from', valueNode(from)],
    [LABELS.to, 'signing-to', valueNode(to)],
    [LABELS.feeLevel, 'signing-fee-level', h('span', {}, levelText)],
    [LABELS.maxNetworkFee, 'signing-max-fee', h('span', {}, `${maxFee ?? '—'} ${unit ?? ''}`.trim(), h('br', {}), h('span', { class: 'hint-text' }, t('maxNetworkFeeHint')))],
  ];
  const technical = [];
  for (const k of ['walletId', 'gasLimit', 'maxFee', 'priorityFee', 'gasPrice']) {
    const v = take(k);
    if (v === undefined || v === null) continue;
    const shown = ['maxFee', 'priorityFee', 'gasPrice'].includes(k) ? `${v} gwei` : v;
    technical.push(h('dt', {}, LABELS[k]), h('dd', {}, valueNode(shown)));
  }
  for (const [k, v] of Object.entries(token)) {
    if (v !== undefined && v !== null) technical.push(h('dt', {}, `${LABELS.token} ${k}`), h('dd', {}, valueNode(v)));
  }
  return [
    h('p', { id: 'signing-summary', class: 'summary-line' }, t('sendSummary', { what, to: mask(to) })),
    h('dl', {}, rows.flatMap(([label, id, node]) => [h('dt', {}, label), h('dd', { id }, node)])),
    h('details', {}, h('summary', {}, t('technical')), h('dl', { id: 'signing-technical' }, technical)),
  ];
}

export function renderSigning(signing, type) {
  const s = { ...signing };
  const box = h('section', { id: 'signing', class: 'signing', 'aria-label': t('reviewTitle') });
  const rows = [];
  const take = (k) => { const v = s[k]; delete s[k]; return v; };
  const chain = typeof s.blockchain === 'string' ? s.blockchain.split('-')[0] : '';

  if (type === 'CREATE_TRANSACTION' && s.token && typeof s.token === 'object' && Array.isArray(s.amounts)) {
    box.append(...renderTransfer(take));
  }

  for (const k of ['walletId', 'address', 'sourceAddress', 'blockchain', 'blockchains', 'accountType']) {
    if (s[k] !== undefined && s[k] !== null) rows.push(h('dt', {}, LABELS[k]), h('dd', {}, valueNode(take(k))));
  }
  if (rows.length) box.append(h('dl', {}, rows));

  // SIGN_MESSAGE: the message, decoded when it was given as hex. Only encodedByHex says so: a
  // text that merely looks like hex ("0x4869") is signed as that text and shown as it is.
  if (typeof s.message === 'string') {
    const message = take('message');
    const hex = take('encodedByHex') === true;
    const decoded = hex ? decodeHexText(message) : message;
    box.append(h('h2', {}, t('message')), h('pre', { id: 'signing-message' }, decoded ?? message));
    if (hex && decoded !== null) box.append(h('details', {}, h('summary', {}, t('rawHex')), h('pre', {}, message)));
  }

  // SIGN_TYPEDDATA: domain, primary type and fields.
  const typed = parseMaybeJson(s.typedData ?? (type === 'SIGN_TYPEDDATA' ? s.data : undefined));
  if (typed !== undefined) {
    delete s.typedData;
    if (type === 'SIGN_TYPEDDATA') delete s.data;
    if (typed && typeof typed === 'object') {
      if (typed.domain) box.append(h('h2', {}, t('domain')), h('div', { id: 'signing-domain' }, valueNode(typed.domain, null)));
      if (typed.primaryType) box.append(h('h2', {}, t('primaryType')), h('p', { id: 'signing-primary-type' }, String(typed.primaryType)));
      if (typed.message !== undefined) box.append(h('h2', {}, t('fields')), h('div', { id: 'signing-fields' }, valueNode(typed.message, null)));
      if (typed.types) box.append(h('details', {}, h('summary', {}, t('technical')), h('pre', {}, JSON.stringify(typed.types, null, 2))));
    } else {
      box.append(h('h2', {}, t('fields')), h('pre', {}, String(typed)));
    }
  }

  // SIGN_TRANSACTION and transaction types: to, value, data first.
  const tx = parseMaybeJson(s.transaction);
  if (tx !== undefined) {
    delete s.transaction;
    box.append(h('h2', {}, t('transaction')));
    if (tx && typeof tx === 'object' && !Array.isArray(tx)) {
      const txRows = [];
      const rest = { ...tx };
      for (const k of ['to', 'value', 'data']) {
        if (!(k in rest)) continue;
        const v = rest[k];
        delete rest[k];
        let node = valueNode(v);
        if (k === 'value' && NATIVE[chain] && v !== null && v !== '') {
          const units = formatUnits(v, 18);
          if (units !== null) node = h('span', {}, `${units} ${NATIVE[chain]} `, h('span', { class: 'hint-text' }, `(${String(v)} wei)`));
        }
        txRows.push(h('dt', {}, LABELS[k]), h('dd', { id: `signing-tx-${k}` }, node));
      }
      for (const [k, v] of Object.entries(rest)) txRows.push(h('dt', {}, LABELS[k] || k), h('dd', {}, valueNode(v)));
      box.append(h('dl', {}, txRows));
    } else {
      box.append(h('pre', {}, String(tx)));
    }
  }
  if (s.rawTransaction !== undefined) {
    box.append(h('details', { open: tx === undefined }, h('summary', {}, t('technical')), h('pre', { id: 'signing-raw' }, String(take('rawTransaction')))));
  }

  // Anything else the server sent is shown too: nothing is approved unseen.
  const memo = take('memo');
  const rest = Object.entries(s).filter(([, v]) => v !== undefined && v !== null);
  if (rest.length || memo) {
    const other = [];
    if (memo) other.push(h('dt', {}, LABELS.memo), h('dd', { id: 'signing-memo' }, String(memo)));
    for (const [k, v] of rest) other.push(h('dt', {}, LABELS[k] || k), h('dd', {}, valueNode(v)));
    box.append(h('h2', {}, t('otherDetails')), h('dl', {}, other));
  }
  return box;
}
