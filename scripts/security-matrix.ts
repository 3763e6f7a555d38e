/**
 * `npm run security:matrix [-- --stack <name>]`: runs the real program under Pulumi mocks, feeds
 * the IAM documents it generates to the policy simulator for every cell of the least-privilege
 * matrix (security/matrix.ts) and prints the matrix as a markdown table. Exits 1 on any mismatch.
 */
import { runProgram } from "../engine/program";
import { evaluateMatrix, renderMarkdown, stackFacts } from "../security/matrix";

function parseArgs(argv: string[]): { stack: string } {
    const args = { stack: "dev" };
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        if (flag === "--stack" || flag === "-s") args.stack = inline ?? argv[++i] ?? usage("--stack needs a value");
        else if (flag === "--help" || flag === "-h") usage();
        else usage(`unknown argument ${argv[i]}`);
    }
    return args;
}

function usage(problem?: string): never {
    if (problem) process.stderr.write(`security:matrix: ${problem}\n`);
    process.stderr.write("usage: npm run security:matrix -- [--stack <name>]\n");
    process.exit(2);
}

async function main(): Promise<number> {
    const { stack } = parseArgs(process.argv.slice(2));
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
