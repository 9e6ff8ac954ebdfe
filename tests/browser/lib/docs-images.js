// Copies the screenshots used by the docs from screenshots/ (made by `npm test`) to docs/img/.
//   npm run docs-images
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.resolve(here, '..', 'screenshots');
const img = path.resolve(here, '..', '..', '..', 'docs', 'img');

const PICKS = {
  '02-initialize-new-pin.png': 'sample.png', // the README's "Try it in a browser"
  '04-initialize-questions.png': 'initialize-questions.png',
  '07-change-pin-current.png': 'pin-entry.png',
  '10-pin-locked.png': 'pin-locked.png',
  '06-sample-result-initialize.png': 'sample-app-result.png',
};

await mkdir(img, { recursive: true });
for (const [from, to] of Object.entries(PICKS)) {
  const src = path.join(shots, from);
  await stat(src).catch(() => { throw new Error(`${src} is missing: run npm test first`); });
  await copyFile(src, path.join(img, to));
  console.log(`docs/img/${to} ← screenshots/${from}`);
}
