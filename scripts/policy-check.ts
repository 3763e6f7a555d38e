/**
 * `npm run policy:check [-- --stack <name>] [--policy-pack-config <file>] [--program <dir>]`: the
 * offline twin of `pulumi preview --policy-pack policy`. Runs the real program (or another Pulumi
 * TypeScript program) under Pulumi mocks with the stack's config, evaluates the whole pack, prints
 * each violation and exits 1 if any is mandatory.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runProgram } from "../engine/program";
import { evaluatePolicies, formatViolation, isBlocking, PolicyPackConfigFile, resolveConfig } from "../policy/evaluate";
import { policies } from "../policy/policies";

interface Args {
    stack: string;
    configFile?: string;
    programDir?: string;
}

function parseArguments(argv: string[]): Args {
    try {
        const { values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s", default: "dev" },
                "policy-pack-config": { type: "string" },
                program: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
        });
        if (values.help) usage();
        return {
            stack: values.stack!,
            configFile: values["policy-pack-config"],
            programDir: values.program === undefined ? undefined : path.resolve(values.program),
        };
    } catch (error) {
        return usage((error as Error).message);
    }
}

function usage(problem?: string): never {
    if (problem) process.stderr.write(`policy:check: ${problem}\n`);
    process.stderr.write("usage: npm run policy:check -- [--stack <name>] [--policy-pack-config <file.json>] [--program <dir with Pulumi.yaml>]\n");
    process.exit(2);
}

async function main(): Promise<number> {
    const args = parseArguments(process.argv.slice(2));
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
