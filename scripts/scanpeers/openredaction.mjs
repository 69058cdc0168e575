// openredaction: hundreds of patterns with validators and context rules;
// detect() reports each finding with its type and position.
import { createRequire } from "node:module";
import { run, version } from "./driver.mjs";

const require = createRequire(process.cwd() + "/");
const { OpenRedaction } = require("openredaction");
const redactor = new OpenRedaction();
await run("openredaction", version("openredaction"), async (text) => {
  const r = await redactor.detect(text);
  const out = [];
  for (const d of r.detections) {
    let [start, end] = d.position;
    if (text.slice(start, end) !== d.value) {
      const i = text.indexOf(d.value, Math.max(0, start - 64));
      if (i < 0) continue;
      [start, end] = [i, i + d.value.length];
    }
    out.push({ start, end, type: d.type });
  }
  return out;
});
