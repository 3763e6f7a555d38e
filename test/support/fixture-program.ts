/**
 * Runs a fixture Pulumi program (a directory with Pulumi.yaml, Pulumi.<stack>.yaml and index.ts)
 * under the same mock engine as the real program, in a child process because Pulumi's runtime is
 * process-global. `node -r ts-node/register/transpile-only fixture-program.ts <dir> <stack>` prints
 * the run as JSON.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { ProgramRun, REPO_ROOT, runProgram, toPlain } from "../../tools/engine/program";

export const FIXTURES = path.join(REPO_ROOT, "test", "fixtures");

export function runFixtureProgram(fixture: string, stack: string): Promise<ProgramRun> {
    return new Promise((resolve, reject) => {
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", __filename, path.join(FIXTURES, fixture), stack],
            { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json") } },
            (error, stdout, stderr) => {
                if (error) reject(new Error(`Fixture ${fixture} (stack ${stack}) failed under mocks:\n${stderr || error.message}`));
                else resolve(JSON.parse(stdout));
            },
        );
    });
}

if (require.main === module) {
    const [programDir, stack] = process.argv.slice(2);
    runProgram({ programDir, stack })
        .then(toPlain)
        .then((run) => process.stdout.write(JSON.stringify(run)))
        .catch((error) => {
            process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
            process.exit(1);
        });
}
