/**
 * Captures the structured JSON log lines the handlers write (they log through `console.log`),
 * keeping test output clean and letting tests assert what was logged.
 *
 *     const logs = captureLogs();
 *     try { ... } finally { logs.restore(); }
 *     logs.lines  // parsed objects; logs.raw: the text lines
 */
export interface CapturedLogs {
    lines: Array<Record<string, unknown>>;
    raw: string[];
    restore(): void;
}

export function captureLogs(): CapturedLogs {
    const original = console.log;
    const captured: CapturedLogs = {
        lines: [],
        raw: [],
        restore: () => {
            console.log = original;
        },
    };
    console.log = (...args: unknown[]) => {
        const line = args.map(String).join(" ");
        captured.raw.push(line);
        try {
            captured.lines.push(JSON.parse(line));
        } catch {
            captured.lines.push({ unstructured: line });
        }
    };
    return captured;
}
