// redact-pii: regular expressions and a name list, returns redacted text;
// findings are read back from its replacement words.
import { createRequire } from "node:module";
import { aligned, run, version } from "./driver.mjs";

const require = createRequire(process.cwd() + "/");
const { SyncRedactor } = require("redact-pii");
const redactor = new SyncRedactor();
const tokens = ["CREDIT_CARD_NUMBER", "STREET_ADDRESS", "ZIPCODE", "PHONE_NUMBER", "IP_ADDRESS",
  "US_SOCIAL_SECURITY_NUMBER", "EMAIL_ADDRESS", "USERNAME", "PASSWORD", "CREDENTIALS", "DIGITS", "URL", "PERSON_NAME"];
await run("redact-pii", version("redact-pii"), (text) => aligned(text, redactor.redact(text), tokens));
