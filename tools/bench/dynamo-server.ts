// Child-process entry: a local DynamoDB (dynalite, in memory, with the notes table) in its own
// process, so the measured code does not share an event loop with the database, as it would not
// with DynamoDB. Prints `{"endpoint","tableName"}` on one line; stops when stdin closes.
import { startDynalite } from "../local/dynamodb/dynalite";

startDynalite({ tableName: "notes-bench" }).then(
    (db) => {
        process.stdout.write(`${JSON.stringify({ endpoint: db.endpoint, tableName: db.tableName })}\n`);
        process.stdin.on("end", () => void db.stop().then(() => process.exit(0)));
        process.stdin.resume();
    },
    (error) => {
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
    },
);
