// Parse Mermaid diagrams with Mermaid's own parser: reads a JSON array of
// {"name", "text"} on stdin, writes a JSON array of {"name", "ok", "type", "error",
// "vertices", "edges"}: for a flowchart, the nodes and edges the parser built (labels
// with Mermaid's entity codes still encoded, as its database keeps them).
// mermaid.parse() runs the diagram's grammar and fills its database; the
// database sanitizes labels with DOMPurify, which needs a window: jsdom gives it one
// (nothing is rendered).
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const { name, text } of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    const vertices = db.getVertices
      ? [...db.getVertices().values()].map((v) => ({ id: v.id, text: v.text, classes: v.classes }))
      : null;
    const edges = db.getEdges ? db.getEdges().map((e) => ({ start: e.start, end: e.end, text: e.text })) : null;
    results.push({ name, ok: true, type: parsed.diagramType, error: null, vertices, edges });
  } catch (e) {
    results.push({ name, ok: false, type: null, error: String(e && e.message ? e.message : e), vertices: null, edges: null });
  }
}
process.stdout.write(JSON.stringify(results));
dom.window.close();
