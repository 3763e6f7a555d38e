/**
 * `npm run policy:check [-- --stack <name>] [--policy-pack-config <file>] [--program <dir>]`: the
 * offline twin of `pulumi preview --policy-pack policy`. Runs the real program (or another Pulumi
 * TypeScript program) under Pulumi mocks with the stack's config, evaluates the whole pack, prints
 * each violation and exits 1 if any is mandatory.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { runProgram } from "../engine/program";
import { evaluatePolicies, formatViolation, isBlocking, PolicyPackConfigFile, resolveConfig } from "../policy/evaluate";
import { policies } from "../policy/policies";

interface Args {
    stack: string;
    configFile?: string;
    programDir?: string;
}

function parseArgs(argv: string[]): Args {
    const args: Args = { stack: "dev" };
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
        if (flag === "--stack" || flag === "-s") args.stack = value();
        else if (flag === "--policy-pack-config") args.configFile = value();
        else if (flag === "--program") args.programDir = path.resolve(value());
        else if (flag === "--help" || flag === "-h") usage();
        else usage(`unknown argument ${argv[i]}`);
    }
    return args;
}

function usage(problem?: string): never {
    if (problem) process.stderr.write(`policy:check: ${problem}\n`);
    process.stderr.write("usage: npm run policy:check -- [--stack <name>] [--policy-pack-config <file.json>] [--program <dir with Pulumi.yaml>]\n");
    process.exit(2);
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const config: PolicyPackConfigFile | undefined = args.configFile ? JSON.parse(readFileSync(args.configFile, "utf8")) : undefined;
    // A bad config file fails before the (slower) program run.
    resolveConfig(policies, config);
    const started = process.hrtime.bigint();
    const run = await runProgram({ stack: args.stack, programDir: args.programDir });
    const violations = await evaluatePolicies(run.resources, { config });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;

    for (const violation of violations) process.stdout.write(`${formatViolation(violation)}\n`);
    const mandatory = violations.filter(isBlocking).length;
    const advisory = violations.length - mandatory;
    process.stdout.write(
        `policy:check ${mandatory > 0 ? "FAILED" : "passed"}: stack ${args.stack}, ${run.resources.length} resources, ${policies.length} policies, ` +
            `${mandatory} mandatory and ${advisory} advisory violation(s) in ${ms.toFixed(0)} ms.\n`,
    );
    return mandatory > 0 ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        process.stderr.write(`policy:check: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
    },
);
