/**
 * Keeps a program run honest: a check may pass only on a program that ran to completion with
 * every resource it declared registered. Pulumi's SDK can lose a resource silently (an input
 * promise that rejects, or never settles, stops its registration before any RPC, and nothing is
 * printed), so the watch counts what the program declared against what reached the engine,
 * keeps every invoke that failed, and asks the SDK which of its promises are still pending.
 */
import * as path from "node:path";
import { describeInvokeFailure, InvokeFailure } from "./invokes";

/** The run did not complete as the CLI would have run it; the message says what happened. */
export class IncompleteRunError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "IncompleteRunError";
    }
}

const keyOf = (type: string, name: string) => `${type}\u0000${name}`;

export class RunWatch {
    private readonly declared = new Map<string, number>();
    private readonly registered = new Map<string, number>();
    private readonly order: { type: string; name: string }[] = [];
    private readonly debuggable: { leakedPromises(): [Set<any>, string] } | undefined;

    constructor(
        sdkDir: string,
        private readonly invokeFailures: InvokeFailure[],
    ) {
        const runtime = require(path.join(sdkDir, "runtime", "resource"));
        const register = runtime.registerResource;
        const declared = this.declared;
        const order = this.order;
        runtime.registerResource = function (this: unknown, res: unknown, parent: unknown, type: string, name: string, ...rest: unknown[]) {
            const key = keyOf(type, name);
            declared.set(key, (declared.get(key) ?? 0) + 1);
            order.push({ type, name });
            return register.call(this, res, parent, type, name, ...rest);
        };
        try {
            this.debuggable = require(path.join(sdkDir, "runtime", "debuggable"));
        } catch {
            this.debuggable = undefined;
        }
    }

    /** The engine answered the registration of this resource. */
    markRegistered(type: string, name: string): void {
        const key = keyOf(type, name);
        this.registered.set(key, (this.registered.get(key) ?? 0) + 1);
    }

    /** Resources the program declared whose registration never reached the engine, in declaration order. */
    unregistered(): { type: string; name: string }[] {
        const left = new Map(this.declared);
        for (const [key, count] of this.registered) left.set(key, (left.get(key) ?? 0) - count);
        return this.order.filter(({ type, name }) => {
            const key = keyOf(type, name);
            const count = left.get(key) ?? 0;
            if (count <= 0) return false;
            left.set(key, count - 1);
            return true;
        });
    }

    /** What the SDK still waits on (its own leak detector's list), by label. */
    pendingPromises(): string[] {
        if (!this.debuggable) return [];
        const [leaks] = this.debuggable.leakedPromises();
        return [...leaks].map((promise) => String(promise._debugCtx ?? "promise"));
    }

    /**
     * Why the run is incomplete, or undefined when it is complete. `finished` is false when the
     * program's top-level code never finished (Node ran out of work while it still waited).
     */
    problem(finished: boolean): IncompleteRunError | undefined {
        const lines = this.invokeFailures.map(describeInvokeFailure);
        const missing = this.unregistered();
        const pending = this.pendingPromises();
        if (!finished) lines.push("the program never ran to completion: it, or a registration it started, waits on a promise that never settles, and Node ran out of work first.");
        for (const { type, name } of missing) lines.push(`resource ${name} (${type}) was declared but its registration did not complete, so no policy judged it.`);
        // Pending promises are the consequence of the problems above when there are any; alone,
        // they are the SDK's leak (what the CLI reports at exit), named by their labels.
        const unexplained = lines.length === 0 ? pending : [];
        if (unexplained.length > 0) {
            lines.push(`${unexplained.length} Pulumi promise(s) never settled (leaked): ${unexplained.slice(0, 5).join(", ")}${unexplained.length > 5 ? ", …" : ""}.`);
        }
        if (lines.length === 0) return undefined;
        return new IncompleteRunError(`the program did not run to completion, so the check cannot pass:\n  - ${lines.join("\n  - ")}`);
    }
}
