// Child-process entry of runProgramIsolated: runs one stack under mocks and prints the run as JSON.
import { runProgram, toPlain } from "./program";

async function main(): Promise<void> {
    const [stack, overrides, stackName, secretKeys] = process.argv.slice(2);
    const run = await runProgram({ stack, configOverrides: overrides ? JSON.parse(overrides) : {}, stackName: stackName || undefined, secretKeys: secretKeys ? JSON.parse(secretKeys) : [] });
    process.stdout.write(JSON.stringify(await toPlain(run)));
}

main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
