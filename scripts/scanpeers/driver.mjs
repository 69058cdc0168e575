// Shared loop of the scan peers' drivers, run by `custos bench scan` with
// node 20 from a directory where the peers are installed:
//
//   node PEER.mjs corpus CORPUS FINDINGS BUDGET_SECONDS
//   node PEER.mjs eval   TEXTS.jsonl FINDINGS
//
// corpus: reads CORPUS in chunks of whole lines (at most 16 KiB), hands each
// chunk to the peer until the corpus ends or BUDGET_SECONDS of the peer's own
// time are spent, and writes one finding a line to FINDINGS:
// "START END TYPE", byte offsets into CORPUS.
// eval: reads one JSON object {"text": …} a line and writes one line per
// text: "INDEX START END TYPE" for each finding, byte offsets into the text.
// Either way the last line on stdout is a summary in JSON: the peer's name and
// version, bytes handed to it, seconds inside its calls, its peak resident
// set (process.memoryUsage().rss, sampled after every call), findings and
// the calls that failed.
import fs from "node:fs";

const chunkLimit = 16 << 10;

// toBytes turns UTF-16 offsets into UTF-8 byte offsets of text; findings
// sorted by start.
function toBytes(text, findings) {
  let u = 0, b = 0;
  const at = (pos) => {
    if (pos < u) { u = 0; b = 0; }
    b += Buffer.byteLength(text.slice(u, pos));
    u = pos;
    return b;
  };
  const out = [];
  for (const f of findings) {
    const s = at(f.start);
    const e = s + Buffer.byteLength(text.slice(f.start, f.end));
    out.push([s, e, f.type]);
  }
  return out;
}

// aligned derives findings from a redacted copy of text: every token of the
// redacted text replaced the original between the literal text before it
// and the literal text after it.
export function aligned(text, redacted, tokens) {
  const re = new RegExp(tokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  const out = [];
  let pos = 0, last = 0, m, pending = null;
  const literal = (lit) => {
    if (pending !== null) {
      let end = lit === "" ? text.length : text.indexOf(lit, pos + 1);
      if (end < 0) end = text.length;
      out.push({ start: pos, end, type: pending });
      pos = end;
      pending = null;
    } else if (!text.startsWith(lit, pos)) {
      const i = text.indexOf(lit, pos);
      pos = i < 0 ? text.length : i;
    }
    pos += lit.length;
  };
  while ((m = re.exec(redacted)) !== null) {
    const lit = redacted.slice(last, m.index);
    if (lit !== "" || pending === null) literal(lit);
    pending = m[0];
    last = m.index + m[0].length;
  }
  literal(redacted.slice(last));
  return out;
}

export function version(pkg) {
  try {
    return JSON.parse(fs.readFileSync(`${process.cwd()}/node_modules/${pkg}/package.json`, "utf8")).version;
  } catch {
    return "";
  }
}

// run drives find(text) -> [{start, end, type}] (UTF-16 offsets, maybe a
// promise) over the input named on the command line.
export async function run(name, ver, find) {
  const [mode, input, output, budgetArg] = process.argv.slice(2);
  const budget = Number(budgetArg || 0) * 1e9;
  const out = fs.openSync(output, "w");
  let pending = [];
  const flush = (force) => {
    if (pending.length > 0 && (force || pending.length > 4096)) {
      fs.writeSync(out, pending.join(""));
      pending = [];
    }
  };
  let bytes = 0, ns = 0n, maxRSS = 0, findings = 0, errors = 0, complete = true;
  const call = async (text) => {
    const t0 = process.hrtime.bigint();
    let fs0;
    try {
      fs0 = await find(text);
    } catch {
      // the peer failed on this text: it counts as finding nothing (the
      // error is not printed, it may quote the text)
      fs0 = [];
      errors++;
    }
    ns += process.hrtime.bigint() - t0;
    const rss = process.memoryUsage().rss;
    if (rss > maxRSS) maxRSS = rss;
    fs0.sort((a, b) => a.start - b.start);
    return toBytes(text, fs0);
  };
  if (mode === "corpus") {
    const fd = fs.openSync(input, "r");
    const buf = Buffer.alloc(1 << 20);
    let carry = Buffer.alloc(0), base = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      let data = n > 0 ? Buffer.concat([carry, buf.subarray(0, n)]) : carry;
      if (data.length === 0) break;
      let cut = n > 0 ? data.lastIndexOf(10) + 1 : data.length;
      if (cut === 0) { carry = data; continue; }
      carry = Buffer.from(data.subarray(cut));
      data = data.subarray(0, cut);
      for (let off = 0; off < data.length;) {
        let end = Math.min(off + chunkLimit, data.length);
        if (end < data.length) {
          const nl = data.lastIndexOf(10, end - 1);
          end = nl >= off ? nl + 1 : data.indexOf(10, end) + 1 || data.length;
        }
        const text = data.toString("utf8", off, end);
        for (const [s, e, t] of await call(text)) {
          pending.push(`${base + off + s} ${base + off + e} ${t}\n`);
          findings++;
        }
        bytes += end - off;
        off = end;
        flush(false);
        if (budget > 0 && Number(ns) >= budget) break;
      }
      base += cut;
      if ((budget > 0 && Number(ns) >= budget) || n <= 0) {
        complete = n <= 0 && carry.length === 0;
        if (n > 0) complete = false;
        break;
      }
    }
    fs.closeSync(fd);
  } else if (mode === "eval") {
    const lines = fs.readFileSync(input, "utf8").split("\n");
    let i = 0;
    for (const line of lines) {
      if (line.trim() === "") continue;
      const { text } = JSON.parse(line);
      for (const [s, e, t] of await call(text)) {
        pending.push(`${i} ${s} ${e} ${t}\n`);
        findings++;
      }
      bytes += Buffer.byteLength(text);
      i++;
      flush(false);
    }
  } else {
    throw new Error("mode must be corpus or eval");
  }
  flush(true);
  fs.closeSync(out);
  console.log(JSON.stringify({ peer: name, version: ver, bytes, seconds: Number(ns) / 1e9, maxRSS, findings, errors, complete }));
}
