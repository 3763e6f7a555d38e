/**
 * `npm run docs:architecture [-- --write]`: runs the real program under Pulumi mocks for the stack
 * the README draws and prints its architecture picture (a Mermaid flowchart: every resource by
 * component, the request path and the IAM grants; tools/docs/architecture.ts). `--write` puts it
 * into README.md between its `architecture` markers; test/docs/generated.test.ts fails when the
 * README's picture is stale. Exits 2 on bad arguments or a README without its markers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ARCHITECTURE_BLOCK, ARCHITECTURE_STACK, architectureBlock } from "../docs/architecture";
import { replaceBlock } from "../docs/markers";
import { REPO_ROOT, runProgram } from "../engine/program";

function parseArguments(argv: string[]): { write: boolean } {
    try {
        const { values } = parseArgs({ args: argv, options: { write: { type: "boolean", short: "w" }, help: { type: "boolean", short: "h" } }, strict: true });
        if (values.help) usage();
        return { write: Boolean(values.write) };
    } catch (error) {
        return usage((error as Error).message);
    }
}

function usage(problem?: string): never {
    if (problem) process.stderr.write(`docs:architecture: ${problem}\n`);
    process.stderr.write("usage: npm run docs:architecture -- [--write]   (--write: into README.md)\n");
    process.exit(2);
}

async function main(): Promise<number> {
    const { write } = parseArguments(process.argv.slice(2));
    const block = architectureBlock(await runProgram({ stack: ARCHITECTURE_STACK }));
    if (!write) {
        process.stdout.write(block);
        return 0;
    }
    const readme = path.join(REPO_ROOT, "README.md");
    const before = readFileSync(readme, "utf8");
    const after = replaceBlock(before, ARCHITECTURE_BLOCK, block, "README.md");
    if (after !== before) writeFileSync(readme, after);
    process.stderr.write(`docs:architecture: README.md ${after === before ? "was already current" : "updated"} (stack ${ARCHITECTURE_STACK}).\n`);
    return 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        process.stderr.write(`docs:architecture: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
    },
);
