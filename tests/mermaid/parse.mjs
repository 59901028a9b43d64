// Mermaid's own parser over diagrams separated by NUL on stdin: one "ok TYPE" or "error ..." line each.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let text = "";
for await (const chunk of process.stdin) text += chunk;
let failed = 0;
for (const block of text.split("\u0000").filter((b) => b.trim())) {
  try {
    const result = await mermaid.parse(block);
    console.log("ok " + result.diagramType);
  } catch (e) {
    failed++;
    console.log("error " + String(e.message || e).split("\n").slice(0, 3).join(" "));
  }
}
process.exit(failed ? 1 : 0);
