// Child-process entry: loads one deployed handler bundle (with the environment Lambda would give
// it) and invokes it with each event read from stdin, writing the responses as JSON to
// `resultPath` (stdout belongs to the handler's own log lines, as in Lambda). A fresh
// process per bundle keeps module-scope SDK clients and environment isolated, as in Lambda.
import { readFileSync, writeFileSync } from "node:fs";

async function main(): Promise<void> {
    const { bundlePath, events, resultPath } = JSON.parse(readFileSync(0, "utf8"));
    const { handler } = require(bundlePath);
    const responses = [];
    for (const event of events) responses.push(await handler(event, { awsRequestId: `req-${responses.length}` }));
    writeFileSync(resultPath, JSON.stringify(responses));
}

main().catch((error) => {
    process.stderr.write(String(error?.stack ?? error));
    process.exit(1);
});
