/**
 * Captures the structured JSON log lines the handlers write straight to stdout (see
 * handlers/log.ts), keeping test output clean and letting tests assert what was logged. Anything
 * else written to stdout (the mocha reporter) passes through.
 *
 *     const logs = captureLogs();
 *     try { ... } finally { logs.restore(); }
 *     logs.lines  // parsed log objects; logs.raw: their text
 */
export interface CapturedLogs {
    lines: Array<Record<string, unknown>>;
    raw: string[];
    restore(): void;
}

export function captureLogs(): CapturedLogs {
    const original = process.stdout.write;
    const captured: CapturedLogs = {
        lines: [],
        raw: [],
        restore: () => {
            process.stdout.write = original;
        },
    };
    process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : undefined;
        const parsed = text === undefined ? undefined : parseLogLine(text);
        if (parsed === undefined) return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
        captured.raw.push(text!.trimEnd());
        captured.lines.push(parsed);
        const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
        callback?.();
        return true;
    } as typeof process.stdout.write;
    return captured;
}

function parseLogLine(text: string): Record<string, unknown> | undefined {
    if (!text.startsWith("{")) return undefined;
    try {
        const value = JSON.parse(text);
        return value && typeof value === "object" && "level" in value && "timestamp" in value ? value : undefined;
    } catch {
        return undefined;
    }
}
