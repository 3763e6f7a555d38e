/**
 * Structured JSON log lines (one object per line, as CloudWatch Logs Insights expects).
 * Callers log ids, statuses and error details, never note content.
 *
 * Lines go straight to stdout, not through `console`: with the function's JSON log format the
 * Lambda runtime would wrap a console line as a string inside its own JSON. A line written
 * directly that carries `timestamp` and an upper-case `level` is kept as is, and Lambda's
 * application log level filters it by that `level` (the approach Powertools' Logger takes).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
    debug(message: string, fields?: LogFields): void;
    info(message: string, fields?: LogFields): void;
    warn(message: string, fields?: LogFields): void;
    error(message: string, fields?: LogFields): void;
    /** A logger that adds `fields` (e.g. the request id) to every line. */
    child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function levelFrom(value: string | undefined): LogLevel {
    const level = value?.toLowerCase();
    return level !== undefined && level in RANK ? (level as LogLevel) : "info";
}

/** `AWS_LAMBDA_LOG_LEVEL` is set by Lambda's advanced logging controls; `LOG_LEVEL` locally. */
const DEFAULT_LEVEL = levelFrom(process.env.AWS_LAMBDA_LOG_LEVEL ?? process.env.LOG_LEVEL);

export function createLogger(
    base: LogFields = {},
    write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    minLevel: LogLevel = DEFAULT_LEVEL,
): Logger {
    const emit = (level: LogLevel, message: string, fields?: LogFields) => {
        if (RANK[level] < RANK[minLevel]) return;
        write(JSON.stringify({ timestamp: new Date().toISOString(), level: level.toUpperCase(), message, ...base, ...fields }));
    };
    return {
        debug: (message, fields) => emit("debug", message, fields),
        info: (message, fields) => emit("info", message, fields),
        warn: (message, fields) => emit("warn", message, fields),
        error: (message, fields) => emit("error", message, fields),
        child: (fields) => createLogger({ ...base, ...fields }, write, minLevel),
    };
}

/**
 * What may be logged about an error: its name, message, code and stack, and for an AWS SDK error
 * how many attempts the SDK made before giving up; nothing it carries.
 */
export function describeError(error: unknown): LogFields {
    if (error instanceof Error) {
        const meta = (error as { $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } }).$metadata;
        return {
            name: error.name,
            message: error.message,
            code: (error as { code?: unknown }).code,
            httpStatusCode: meta?.httpStatusCode,
            awsRequestId: meta?.requestId,
            attempts: meta?.attempts,
            stack: error.stack,
        };
    }
    return { name: typeof error, message: String(error) };
}
