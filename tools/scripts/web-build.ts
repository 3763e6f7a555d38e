// `npm run web:build -- --outputs <file> [--out <dir>] [--auth-flow USER_SRP_AUTH|USER_PASSWORD_AUTH] [--stack <name>]`:
// builds the reference web client as static files for a deployed stack, configured from
// `pulumi stack output --json` (saved to <file>, or `-` for standard input) and, with --stack, the
// stack's `mfa` setting from its Pulumi.<name>.yaml. Exit 2 on bad input.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { buildWebClient } from "../../web/build";
import { readStackSettings } from "../engine/program";
import { AUTH_FLOW_TYPES, parseClientConfig } from "../../web/src/config";

/** Bad flags or outputs: exit 2. */
export class UsageError extends Error {}

/** The command without the process around it: returns what it prints; throws UsageError for bad input. */
export async function webBuild(args: string[], readInput: (file: string) => string = (file) => readFileSync(file === "-" ? 0 : file, "utf8")): Promise<string> {
    let values;
    try {
        ({ values } = parseArgs({
            args,
            options: {
            outputs: { type: "string" },
            out: { type: "string", default: path.join("web", "dist") },
                "auth-flow": { type: "string", default: "USER_SRP_AUTH" },
                stack: { type: "string" },
            },
            strict: true,
        }));
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    if (!values.outputs) throw new UsageError("--outputs <file> is required: save `pulumi stack output --json` to a file (or pass - and pipe it in)");
    let outputs: Record<string, unknown>;
    try {
        outputs = JSON.parse(readInput(values.outputs));
    } catch (error) {
        throw new UsageError(`cannot read stack outputs from ${values.outputs}: ${(error as Error).message}`);
    }
    if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) throw new UsageError(`${values.outputs} is not the JSON object \`pulumi stack output --json\` prints`);
    if ("endpoints" in outputs) {
        throw new UsageError(`${values.outputs} holds the local cloud's outputs; \`npm start\` serves the client for them (web= on its READY line). This command is for a deployed stack.`);
    }
    // What the account view offers for the authenticator app follows the stack's mfa setting.
    let mfa: string | undefined;
    if (values.stack !== undefined) {
        try {
            const { project, config } = readStackSettings(values.stack);
            mfa = config[`${project}:mfa`];
        } catch (error) {
            throw new UsageError(`--stack ${values.stack}: ${(error as Error).message}`);
        }
    }
    let config;
    try {
        config = parseClientConfig({ ...outputs, authFlowType: values["auth-flow"], ...(mfa !== undefined && { mfa }) });
    } catch (error) {
        throw new UsageError(`${(error as Error).message}${/authFlowType/.test((error as Error).message) ? ` (--auth-flow: ${AUTH_FLOW_TYPES.join(" or ")})` : ""}`);
    }
    const files = await buildWebClient(values.out!, config);
    return (
        `built the web client for ${config.apiUrl} (${config.authFlowType}) in ${values.out}: ${files.join(", ")}\n` +
        `serve that directory from an origin listed in the stack's corsAllowedOrigins.\n`
    );
}

if (require.main === module) {
    webBuild(process.argv.slice(2)).then(
        (text) => process.stdout.write(text),
        (error) => {
            process.stderr.write(`web:build: ${error instanceof Error ? error.message : String(error)}\n`);
            process.exit(error instanceof UsageError ? 2 : 1);
        },
    );
}
