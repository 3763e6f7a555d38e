/**
 * `npm run security:matrix [-- --stack <name>]`: runs the real program under Pulumi mocks, feeds
 * the IAM documents it generates to the policy simulator for every cell of the least-privilege
 * matrix (tools/security/matrix.ts) and prints the matrix as a markdown table. Exits 1 on any mismatch.
 */
import { parseArgs } from "node:util";
import { runProgram } from "../engine/program";
import { evaluateMatrix, renderMarkdown, stackFacts } from "../security/matrix";

function parseArguments(argv: string[]): { stack: string } {
    try {
        const { values } = parseArgs({
            args: argv,
            options: { stack: { type: "string", short: "s", default: "dev" }, help: { type: "boolean", short: "h" } },
            strict: true,
        });
        if (values.help) usage();
        return { stack: values.stack! };
    } catch (error) {
        return usage((error as Error).message);
    }
}

function usage(problem?: string): never {
    if (problem) process.stderr.write(`security:matrix: ${problem}\n`);
    process.stderr.write("usage: npm run security:matrix -- [--stack <name>]\n");
    process.exit(2);
}

async function main(): Promise<number> {
    const { stack } = parseArguments(process.argv.slice(2));
    const started = process.hrtime.bigint();
    const facts = stackFacts(await runProgram({ stack }));
    const results = await evaluateMatrix(facts);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`${renderMarkdown(facts, results)}\n`);
    const failed = results.filter((result) => !result.pass).length;
    process.stderr.write(`security:matrix ${failed > 0 ? "FAILED" : "passed"}: stack ${stack}, ${results.length} cells in ${ms.toFixed(0)} ms.\n`);
    return failed > 0 ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        process.stderr.write(`security:matrix: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
        process.exit(2);
    },
);
