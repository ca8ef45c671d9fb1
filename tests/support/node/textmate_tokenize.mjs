// Tokenize text with a TextMate grammar as VS Code does (vscode-textmate on the
// oniguruma regex engine compiled to WebAssembly). Reads {"grammar": path,
// "files": {name: text}} on stdin; writes {name: [[line, start, end, [scopes...]], ...]}
// (0-based lines, UTF-16 offsets as JavaScript counts them).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import vsctm from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';

const require = createRequire(import.meta.url);
const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { grammar: grammarPath, files } = JSON.parse(input);
const raw = fs.readFileSync(grammarPath, 'utf8');

const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }),
  loadGrammar: async () => vsctm.parseRawGrammar(raw, grammarPath),
});
const scopeName = JSON.parse(raw).scopeName;
const grammar = await registry.loadGrammar(scopeName);
if (!grammar) throw new Error(`no grammar for ${scopeName}`);

const out = {};
for (const [name, text] of Object.entries(files)) {
  let stack = vsctm.INITIAL;
  const tokens = [];
  text.split('\n').forEach((line, i) => {
    const result = grammar.tokenizeLine(line, stack);
    for (const t of result.tokens) tokens.push([i, t.startIndex, Math.min(t.endIndex, line.length), t.scopes]);
    stack = result.ruleStack;
  });
  out[name] = tokens;
}
process.stdout.write(JSON.stringify(out));
