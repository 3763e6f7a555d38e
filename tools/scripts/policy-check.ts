/**
 * `npm run policy:check [-- --stack <name>] [--policy-pack-config <file>] [--program <dir>] [--invoke-answers <file>]`: the
 * offline twin of `pulumi preview --policy-pack policy`. Runs the program (this repository's, or
 * any Pulumi TypeScript/JavaScript project) under Pulumi mocks the way the CLI's Node.js host runs
 * it, with the stack's config, evaluates the whole pack, prints each violation and exits 1 if any
 * is mandatory (2 for a usage, config or program error, and for a run that did not complete: a
 * failed or unanswered invoke, an unhandled rejection, a leaked promise, a resource that never
 * registered; "passed" needs a complete run).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { InvokeAnswers, InvokeAnswersError, readInvokeAnswers } from "../engine/invokes";
import { ConfigError, IncompleteRunError, incompleteRunProblem, pendingConfigProblem, pendingInvokeProblem, REPO_ROOT, runPulumiProgram, secretPlaceholder } from "../engine/program";
import { evaluatePolicies, formatViolation, isBlocking, PolicyPackConfigFile, resolveConfig, Violation } from "../../policy/evaluate";
import { policies } from "../../policy/policies";

interface Args {
    stack: string;
    configFile?: string;
    programDir: string;
    invokeAnswersFile?: string;
}

function parseArguments(argv: string[]): Args {
    try {
        const { values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s", default: "dev" },
                "policy-pack-config": { type: "string" },
                program: { type: "string" },
                "invoke-answers": { type: "string" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
        });
        if (values.help) usage();
        return {
            stack: values.stack!,
            configFile: values["policy-pack-config"] === undefined ? undefined : path.resolve(values["policy-pack-config"]),
            programDir: values.program === undefined ? REPO_ROOT : path.resolve(values.program),
            invokeAnswersFile: values["invoke-answers"] === undefined ? undefined : path.resolve(values["invoke-answers"]),
        };
    } catch (error) {
        return usage((error as Error).message);
    }
}

function usage(problem?: string): never {
    if (problem) process.stderr.write(`policy:check: ${problem}\n`);
    process.stderr.write("usage: npm run policy:check -- [--stack <name>] [--policy-pack-config <file.json>] [--program <dir with Pulumi.yaml>] [--invoke-answers <file.json>]\n");
    process.exit(2);
}

/** Set once the program starts: errors after that are the program's, reported with their stack. */
let programStarted = false;
/** Set once the program's run returned: Node running out of work before that means it never finished. */
let programFinished = false;

/** Errors that explain themselves: printed as their message, without a stack. */
const explained = (problem: unknown): boolean => problem instanceof ConfigError || problem instanceof IncompleteRunError || problem instanceof InvokeAnswersError;

function fail(error: unknown, origin?: string): never {
    const problem = pendingConfigProblem() ?? pendingInvokeProblem() ?? error;
    const text = problem instanceof Error ? (programStarted && !explained(problem) ? problem.stack ?? problem.message : problem.message) : String(problem);
    const how = origin === "unhandledRejection" ? " (an unhandled promise rejection)" : origin === "uncaughtException" ? " (an uncaught exception)" : "";
    const message = programStarted && !explained(problem) ? `the program failed${how}: ${text}` : text;
    process.stderr.write(`policy:check: ${message}\n`);
    process.exit(2);
}

async function main(): Promise<number> {
    const args = parseArguments(process.argv.slice(2));
    const config: PolicyPackConfigFile | undefined = args.configFile ? JSON.parse(readFileSync(args.configFile, "utf8")) : undefined;
    // A bad config file fails before the (slower) program run.
    resolveConfig(policies, config);
    const invokeAnswers: InvokeAnswers | undefined = args.invokeAnswersFile ? readInvokeAnswers(args.invokeAnswersFile) : undefined;
    // Errors a program raises in callbacks (apply, timers) arrive here, as under the CLI.
    process.on("unhandledRejection", (error) => fail(error, "unhandledRejection"));
    process.on("uncaughtException", (error) => fail(error, "uncaughtException"));
    // Node ran out of work while the program still waited on something: it never finished.
    process.on("beforeExit", () => {
        if (!programFinished) fail(incompleteRunProblem(false) ?? new IncompleteRunError("the program never ran to completion."));
    });
    const started = process.hrtime.bigint();
    programStarted = true;
    const run = await runPulumiProgram({ programDir: args.programDir, stack: args.stack, invokeAnswers });
    programFinished = true;
    if (path.resolve(run.pulumiSdk) !== path.dirname(require.resolve("@pulumi/pulumi"))) {
        const version = JSON.parse(readFileSync(path.join(run.pulumiSdk, "package.json"), "utf8")).version;
        process.stderr.write(`policy:check: note: the program imports its own @pulumi/pulumi ${version} (${run.pulumiSdk}); the mocks were installed on that copy.\n`);
    }
    for (const key of run.undecryptable) {
        process.stderr.write(`policy:check: note: ${key} is a secret (secure:) in Pulumi.${args.stack}.yaml that cannot be decrypted offline; the program saw the placeholder "${secretPlaceholder(key)}", marked secret.\n`);
    }
    const unresolved: Violation[] = run.unresolved.map((component) => ({
        policyName: "unresolved-component",
        enforcementLevel: "advisory",
        resourceType: component.type,
        resourceName: component.name,
        urn: component.urn,
        message: `Multi-language component ${component.type} ${component.name} is built by its provider plugin, which does not run offline: its child resources and outputs are unknown, so no policy checked them. Run pulumi preview --policy-pack policy to check them.`,
    }));
    const violations = [...(await evaluatePolicies(run.resources, { config })), ...unresolved];
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

main().then((code) => process.exit(code), fail);
