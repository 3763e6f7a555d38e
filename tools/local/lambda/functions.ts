import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { LocalCloudWatch } from "../cloudwatch/alarms";
import { delay, isThrottle, type LocalFaults } from "../faults/faults";

/** What a Function resource ships, as the local runtime needs it. */
export interface FunctionDefinition {
    /** Logical name (directory under `<data-dir>/functions/`). */
    name: string;
    arn: string;
    /** Files of the deployment package (`index.js`, `index.js.map`). */
    files: Record<string, string>;
    /** `index.handler`. */
    handler: string;
    environment: Record<string, string>;
    timeoutSeconds: number;
    roleArn: string;
    /** The log group its lines go to (`loggingConfig.logGroup`, else `/aws/lambda/<name>`). */
    logGroup?: string;
}

/** What the function reports to and is disturbed by: metrics, log lines, injected faults. */
export interface FunctionObservers {
    cloudwatch?: LocalCloudWatch;
    faults?: LocalFaults;
}

export class FunctionError extends Error {}

/** Lambda refused to run the function (injected throttling): counted in `Throttles`, not `Invocations`. */
export class FunctionThrottled extends FunctionError {}

const MAX_ENVIRONMENT_AGE_MS = 6 * 3600 * 1000;

// Runs inside the worker: loads the deployment package like the Lambda Node.js runtime does
// (CommonJS `require` of `<file>.js`, then the exported handler), one invocation per message.
const BOOTSTRAP = `
const { parentPort, workerData } = require("node:worker_threads");
if (workerData.sourceMaps) process.setSourceMapsEnabled(true);
const [file, exportName] = [workerData.handler.slice(0, workerData.handler.lastIndexOf(".")), workerData.handler.slice(workerData.handler.lastIndexOf(".") + 1)];
let handler;
try {
    handler = require(require("node:path").join(workerData.dir, file))[exportName];
    if (typeof handler !== "function") throw new Error("Handler '" + workerData.handler + "' is missing on module '" + file + "'");
} catch (error) {
    parentPort.postMessage({ id: 0, error: String(error && error.stack || error) });
}
parentPort.on("message", async ({ id, event, context }) => {
    try {
        const started = Date.now();
        const ctx = { ...context, getRemainingTimeInMillis: () => context.timeoutMs - (Date.now() - started), callbackWaitsForEmptyEventLoop: true };
        const result = await handler(event, ctx);
        parentPort.postMessage({ id, result });
    } catch (error) {
        parentPort.postMessage({ id, error: String(error && error.stack || error) });
    }
});
`;

interface Pending {
    worker: Worker;
    resolve: (value: unknown) => void;
    reject: (error: Error) => void;
    timer: NodeJS.Timeout;
}

/**
 * One function's execution environment: the deployment package written to disk and loaded in a
 * worker thread whose `process.env` is exactly the function's environment plus what the Lambda
 * runtime would add (region, credentials, endpoints of the local services). Invocations that run
 * past the timeout fail and the worker is replaced, as Lambda replaces a timed-out sandbox.
 */
export class LocalFunction {
    private worker?: Worker;
    private readonly pending = new Map<number, Pending>();
    private nextId = 1;
    private loadError?: string;
    private startedAt = 0;
    invocations = 0;

    constructor(
        readonly definition: FunctionDefinition,
        private readonly dir: string,
        private readonly runtimeEnv: () => Record<string, string>,
        private readonly observers: FunctionObservers = {},
    ) {
        mkdirSync(dir, { recursive: true });
        for (const [file, text] of Object.entries(definition.files)) writeFileSync(path.join(dir, file), text);
    }

    private start(): Worker {
        this.startedAt = Date.now();
        const env = { ...this.runtimeEnv(), ...this.definition.environment };
        const worker = new Worker(BOOTSTRAP, {
            eval: true,
            env,
            workerData: {
                dir: this.dir,
                handler: this.definition.handler,
                sourceMaps: /--enable-source-maps/.test(env.NODE_OPTIONS ?? ""),
            },
            // Lines pass through to this console and to the log group's metric filters.
            stdout: true,
            stderr: false,
        });
        let partial = "";
        worker.stdout.on("data", (chunk: Buffer) => {
            process.stdout.write(chunk);
            const lines = (partial + chunk.toString("utf8")).split("\n");
            partial = lines.pop() ?? "";
            for (const line of lines) if (line.trim()) this.observers.cloudwatch?.logEvent(this.logGroup, line);
        });
        worker.on("message", ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
            if (id === 0) {
                this.loadError = error;
                this.fail(worker, new FunctionError(String(error)));
                return;
            }
            const call = this.pending.get(id);
            if (!call) return;
            this.pending.delete(id);
            clearTimeout(call.timer);
            if (error !== undefined) call.reject(new FunctionError(error));
            else call.resolve(result);
        });
        worker.on("error", (error) => this.fail(worker, error));
        worker.on("exit", () => {
            if (this.worker === worker) this.worker = undefined;
            this.fail(worker, new FunctionError(`${this.definition.name}: runtime exited`));
        });
        worker.unref();
        return worker;
    }

    /** Rejects the invocations in flight on one worker. */
    private fail(worker: Worker, error: Error): void {
        for (const [id, call] of this.pending) {
            if (call.worker !== worker) continue;
            clearTimeout(call.timer);
            call.reject(error);
            this.pending.delete(id);
        }
    }

    /** The log group the function's lines belong to. */
    get logGroup(): string {
        return this.definition.logGroup ?? `/aws/lambda/${this.definition.name}`;
    }

    /**
     * One invocation, as Lambda meters it: `Invocations`, `Errors` (a thrown error, a timeout) and
     * `Duration` under `AWS/Lambda` with `FunctionName`, or `Throttles` when an injected fault
     * throttles it. An injected `latencyMs` runs inside the invocation, so past the timeout it times out.
     */
    async invoke(event: unknown, requestId: string): Promise<unknown> {
        const { cloudwatch, faults } = this.observers;
        const put = (metric: string, value: number) => cloudwatch?.put("AWS/Lambda", metric, { FunctionName: this.definition.name }, value);
        const fault = faults?.match("lambda", "Invoke", this.definition.name, this.definition.arn);
        if (fault?.error && isThrottle(fault.error)) {
            put("Throttles", 1);
            throw new FunctionThrottled(`Rate Exceeded. (${fault.error.code}, injected fault)`);
        }
        const started = Date.now();
        try {
            const result = await this.run(event, requestId, fault?.latencyMs ?? 0, fault?.error);
            put("Errors", 0);
            return result;
        } catch (error) {
            put("Errors", 1);
            throw error;
        } finally {
            put("Invocations", 1);
            put("Duration", Date.now() - started);
        }
    }

    private async run(event: unknown, requestId: string, latencyMs: number, error?: { statusCode: number; code: string }): Promise<unknown> {
        if (latencyMs > 0 || error) {
            const timeoutMs = this.definition.timeoutSeconds * 1000;
            if (latencyMs >= timeoutMs) {
                await delay(timeoutMs);
                throw new FunctionError(`Task timed out after ${this.definition.timeoutSeconds.toFixed(2)} seconds (injected latency)`);
            }
            await delay(latencyMs);
            if (error) throw new FunctionError(`${error.code}: injected fault (status ${error.statusCode})`);
        }
        if (this.loadError) throw new FunctionError(this.loadError);
        // Recycle the environment before its session credentials (12 h) run out, as Lambda
        // recycles execution environments.
        if (this.worker && Date.now() - this.startedAt > MAX_ENVIRONMENT_AGE_MS && this.pending.size === 0) {
            void this.worker.terminate();
            this.worker = undefined;
        }
        this.worker ??= this.start();
        const worker = this.worker;
        this.invocations++;
        const id = this.nextId++;
        // Injected latency has used part of the function's time already.
        const timeoutMs = this.definition.timeoutSeconds * 1000 - latencyMs;
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(id);
                reject(new FunctionError(`Task timed out after ${this.definition.timeoutSeconds.toFixed(2)} seconds`));
                this.worker = undefined;
                void worker.terminate();
            }, timeoutMs);
            this.pending.set(id, { worker, resolve, reject, timer });
            worker.postMessage({
                id,
                event,
                context: {
                    awsRequestId: requestId,
                    functionName: this.definition.name,
                    functionVersion: "$LATEST",
                    invokedFunctionArn: this.definition.arn,
                    memoryLimitInMB: "256",
                    logGroupName: `/aws/lambda/${this.definition.name}`,
                    logStreamName: "local",
                    timeoutMs,
                },
            });
        });
    }

    /** Starts the worker ahead of the first request (cold start outside the measured path). */
    warm(): void {
        this.worker ??= this.start();
    }

    async stop(): Promise<void> {
        const worker = this.worker;
        this.worker = undefined;
        if (worker) await worker.terminate();
    }
}
