/** Loaded by mocha before any test file (`.mocharc.json` `require`). */
import { HARMLESS_WARNINGS_OFF } from "./support/warnings";

for (const [name, value] of Object.entries(HARMLESS_WARNINGS_OFF)) process.env[name] ??= value;
