// Verifies signed messages with the reference Standard Webhooks library,
// so that Custos's tests check its signatures the way receivers do.
//
// Input: JSON lines, from the file named as the first argument or stdin,
//   {"secret": "whsec_…", "headers": {"webhook-id": …, "webhook-timestamp": …,
//    "webhook-signature": …}, "body": "<raw body>"}
// Output: one line per message, "ok <webhook-id>" or "fail <webhook-id>: <reason>".
// Exits 1 when any message fails, 2 when the input cannot be read.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

let input;
try {
  input = readFileSync(process.argv[2] ?? 0, "utf8");
} catch (err) {
  console.error(`verify: read input: ${err.message}`);
  process.exit(2);
}

let failed = 0;
let seen = 0;
for (const line of input.split("\n")) {
  if (line.trim() === "") continue;
  seen++;
  let id = "?";
  try {
    const msg = JSON.parse(line);
    id = msg.headers?.["webhook-id"] ?? "?";
    new Webhook(msg.secret).verify(msg.body, msg.headers);
    console.log(`ok ${id}`);
  } catch (err) {
    failed++;
    console.log(`fail ${id}: ${err.message}`);
  }
}
if (seen === 0) {
  console.error("verify: no messages to verify");
  process.exit(2);
}
process.exit(failed > 0 ? 1 : 0);
