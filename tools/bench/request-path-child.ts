// Child entry of the request-path benchmark on another Node.js than the one running `npm run bench`
// (started with ts-node by `measureRequestPathOn`). Reads the database, the program's auth and
// get function and the options as JSON on stdin, connects to the running dynalite, measures, and
// prints the result as the last line of stdout.
import { text } from "node:stream/consumers";
import { connectBenchDynamo } from "./dynamo";
import { measureRequestPath } from "./request-path";

async function main(): Promise<void> {
    const { database, auth, fn, options } = JSON.parse(await text(process.stdin)); // not readFileSync(0): a pipe not yet written fails it with EAGAIN
    const db = connectBenchDynamo(database);
    try {
        const result = await measureRequestPath(db, auth, fn, options);
        process.stdout.write(`\n${JSON.stringify(result)}\n`);
    } finally {
        await db.stop();
    }
}

main().then(
    () => process.exit(0),
    (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
    },
);
