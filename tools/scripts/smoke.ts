// `npm run smoke`: the whole user flow against the local cloud (reads .local/outputs.json) or,
// with `--stack <name>`, against a deployed stack (reads `pulumi stack output --json`).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { FlowTarget, runUserFlow } from "../client/flow";
import { readAdminCredentials } from "../local/keys";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

function loadTarget(stack: string | undefined, dataDir: string): FlowTarget {
    if (stack) {
        const json = execFileSync("pulumi", ["stack", "output", "--json", "--stack", stack], { encoding: "utf8" });
        return JSON.parse(json);
    }
    const file = path.join(dataDir, "outputs.json");
    if (!existsSync(file)) throw new Error(`${file} does not exist: start the local cloud first (npm start).`);
    return JSON.parse(readFileSync(file, "utf8"));
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { stack: { type: "string" }, "data-dir": { type: "string", default: ".local" } }, strict: true });
    const dataDir = path.resolve(values["data-dir"]!);
    const target = loadTarget(values.stack, dataDir);
    process.stdout.write(`smoke: ${values.stack ? `stack ${values.stack}` : "local cloud"} at ${target.apiUrl}\n`);
    const started = Date.now();
    // Locally, the User Pool's admin actions are signed with the data directory's admin key;
    // against AWS, with the operator's credentials from the SDK's default chain.
    const adminCredentials = values.stack ? undefined : readAdminCredentials(dataDir);
    await runUserFlow(target, { adminCredentials }, ({ name, ms }) => process.stdout.write(`  ok  ${ms.toFixed(0).padStart(5)} ms  ${name}\n`));
    process.stdout.write(`smoke: passed in ${((Date.now() - started) / 1000).toFixed(2)} s\n`);
}

main().catch((error) => {
    process.stdout.write(`  FAIL ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
