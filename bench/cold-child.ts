// Child entry of the cold-start benchmark (compiled to plain JS by `compileChild`): loads one
// handler module the way the Lambda Node.js runtime does (`require`, then the `handler` export),
// serves one request, reports where the time went on stderr and exits at once.
import { performance } from "node:perf_hooks";

const [modulePath, eventJson, expectedStatus] = process.argv.slice(2);
const loadStarted = performance.now();
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { handler } = require(modulePath);
const loaded = performance.now();

handler(JSON.parse(eventJson), { awsRequestId: "cold-start" }).then(
    (response: { statusCode: number; body?: string }) => {
        const answered = performance.now();
        if (response.statusCode !== Number(expectedStatus)) {
            process.stderr.write(`unexpected status ${response.statusCode} (wanted ${expectedStatus}): ${response.body}\n`);
            process.exit(2);
        }
        // bootMs: Node's own start-up until this file ran; loadMs: the handler module; requestMs: one request.
        process.stderr.write(`BENCH ${JSON.stringify({ bootMs: loadStarted, loadMs: loaded - loadStarted, requestMs: answered - loaded })}\n`);
        process.exit(0);
    },
    (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(3);
    },
);
