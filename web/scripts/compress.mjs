// Writes <file>.gz beside every compressible file of the build (the API sends it to browsers
// that accept gzip) and prints the compressed size of what the first load fetches: index.html
// and every script and stylesheet it references. Fails above the 300 KB budget (docs/web.md).
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const dir = process.argv[2] || 'dist';
const BUDGET = 300 * 1024;
const kinds = new Set(['.html', '.js', '.css', '.svg', '.json', '.map', '.txt']);
const gz = (buf) => gzipSync(buf, { level: constants.Z_BEST_COMPRESSION });

function walk(d) {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const sizes = new Map();
for (const file of walk(dir)) {
  if (!kinds.has(extname(file))) continue;
  const raw = readFileSync(file);
  const packed = gz(raw);
  sizes.set(file, { raw: raw.length, gz: packed.length });
  if (raw.length >= 512 && packed.length < raw.length) writeFileSync(file + '.gz', packed);
}

const index = readFileSync(join(dir, 'index.html'), 'utf8');
const first = [join(dir, 'index.html')];
for (const m of index.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)) first.push(join(dir, m[1]));
let total = 0;
for (const f of first) {
  const s = sizes.get(f);
  total += s.gz;
  console.log(`  ${f.padEnd(40)} ${String(s.raw).padStart(8)} B  ${String(s.gz).padStart(7)} B gzip`);
}
console.log(`first load: ${(total / 1024).toFixed(1)} KB gzip (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error('over the first-load budget');
  process.exit(1);
}
