// Writes herald.d.ts from the JSDoc of src/: tsc emits one declaration
// file per module (tsconfig.types.json), the members tagged @internal (the
// SDK's own bookkeeping, which tsc keeps for JavaScript sources) and the
// private ones are taken out, and dts-bundle-generator joins what
// src/index.js exports into one file, as esbuild joins the code into
// herald.js.
//
//   node scripts/types.mjs           rewrite herald.d.ts (npm run types)
//   node scripts/types.mjs --check   fail if herald.d.ts is not what the
//                                    JSDoc gives (npm run types:check, CI)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDtsBundle } from 'dts-bundle-generator';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'herald-types-'));
try {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.types.json'), '--outDir', out], { stdio: 'inherit' });
  for (const f of readdirSync(out).filter((f) => f.endsWith('.d.ts'))) {
    writeFileSync(join(out, f), stripInternal(readFileSync(join(out, f), 'utf8')));
  }
  // The bundler compiles the declarations once more, with these options.
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [] }, files: ['index.d.ts'] }),
  );
  const [generated] = generateDtsBundle([{ filePath: join(out, 'index.d.ts'), output: { noBanner: true } }], {
    preferredConfigPath: join(out, 'tsconfig.json'),
  });
  const header = '// Generated from the JSDoc of src/ by `npm run types` (scripts/types.mjs: tsc, then dts-bundle-generator). Do not edit.\n';
  const want = header + generated;
  const file = join(root, 'herald.d.ts');
  if (process.argv.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(file, 'utf8');
    } catch {}
    if (have !== want) {
      console.error('herald.d.ts is out of date with the JSDoc of src/: run `npm run types` in js/ and commit it');
      process.exit(1);
    }
  } else {
    writeFileSync(file, want);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

// stripInternal drops every member whose declaration starts with
// /** @internal */, with its body when it spans lines.
function stripInternal(src) {
  const lines = src.split('\n');
  const kept = [];
  const depth = (l) => (l.match(/[{(]/g) || []).length - (l.match(/[})]/g) || []).length;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (!t.startsWith('/** @internal */')) {
      kept.push(lines[i]);
      continue;
    }
    let j = t === '/** @internal */' ? i + 1 : i; // the member's first line
    let d = depth(lines[j]);
    while (d > 0 && j + 1 < lines.length) d += depth(lines[++j]);
    i = j;
  }
  // Private members are declared without their types (`private _gen;`):
  // they say nothing to a user, so they go too, with their comments.
  return kept
    .filter((l) => !/^\s*(\/\*\*[^*]*@private[^*]*\*\/\s*)?private \w+;$/.test(l) && !/^\s*\/\*\*\s*@private[^*]*\*\/\s*$/.test(l))
    .join('\n');
}
