// Child-process entry of runProgramIsolated: runs one stack under mocks and prints the run as JSON.
// When the program fails, prints instead what it had registered by then (`{ "registered": [...] }`)
// and the error on stderr.
import { runProgram, toPlain } from "./program";

/** `<type>::<name>` of every registration so far, in order. */
const registered: string[] = [];

async function main(): Promise<void> {
    const [stack, overrides, stackName, secretKeys] = process.argv.slice(2);
    const run = await runProgram({
        stack,
        configOverrides: overrides ? JSON.parse(overrides) : {},
        stackName: stackName || undefined,
        secretKeys: secretKeys ? JSON.parse(secretKeys) : [],
        materialize: (resource) => void registered.push(`${resource.type}::${resource.name}`),
    });
    process.stdout.write(JSON.stringify(await toPlain(run)));
}

main().catch(async (error) => {
    // Registrations the program started before it failed finish first, so none is missed.
    await require("@pulumi/pulumi/runtime/settings").waitForRPCs().catch(() => undefined);
    process.stdout.write(JSON.stringify({ registered }));
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
