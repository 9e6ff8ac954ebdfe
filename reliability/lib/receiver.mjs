// The webhook endpoint: plain HTTP on 127.0.0.1 (a random port), answers 200 to everything
// (HEAD for the subscription check, POST for notifications) and records every notification.

import http from 'node:http';

/** Starts the receiver; resolves to { url, received, byChallenge, close }. */
export function startReceiver() {
  /** notificationId → { count, firstAt (ms), notification, notificationType }. */
  const received = new Map();
  /** challenge id → Set of notificationIds that carried it. */
  const byChallenge = new Map();
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(200).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      try {
        const doc = JSON.parse(body);
        const id = String(doc.notificationId);
        const seen = received.get(id);
        if (seen) {
          seen.count += 1;
        } else {
          received.set(id, { count: 1, firstAt: Date.now(), notification: doc.notification, notificationType: doc.notificationType });
        }
        const challengeId = doc.notification?.id;
        if (typeof challengeId === 'string' && String(doc.notificationType).startsWith('challenges.')) {
          if (!byChallenge.has(challengeId)) byChallenge.set(challengeId, new Set());
          byChallenge.get(challengeId).add(id);
        }
      } catch {
        // Not JSON: still 200, the sender is not under test for this.
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/hook`,
        received,
        byChallenge,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}
