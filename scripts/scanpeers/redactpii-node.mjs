// @redactpii/node: regular expressions, returns redacted text; findings are
// read back from its replacement words.
import { createRequire } from "node:module";
import { aligned, run, version } from "./driver.mjs";

const require = createRequire(process.cwd() + "/");
const { Redactor } = require("@redactpii/node");
const redactor = new Redactor();
const tokens = ["CREDIT_CARD_NUMBER", "EMAIL_ADDRESS", "PERSON_NAME", "PHONE_NUMBER", "US_SOCIAL_SECURITY_NUMBER", "DIGITS"];
await run("@redactpii/node", version("@redactpii/node"), (text) => aligned(text, redactor.redact(text), tokens));
