import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** Retention values CloudWatch Logs accepts (days). */
const LOG_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
] as const;

const origin = z.string().refine(
    (value) => {
        if (value === "*") return false;
        try {
            const url = new URL(value);
            return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
        } catch {
            return false;
        }
    },
    { message: 'must be an http(s) origin such as "https://notes.example.com" (no path, no "*")' },
);

/** Type errors say what was expected; range errors keep their own messages. */
const expected = (what: string) => ({ error: (issue: { code: string }) => (issue.code === "invalid_type" ? `must be ${what}` : undefined) });

const int = (min: number, max: number) =>
    z
        .number(expected("a number"))
        .int("must be a whole number")
        .min(min, `must be at least ${min}`)
        .max(max, `must be at most ${max}`);

/**
 * The stack settings of notes-infra. Defaults live in Pulumi.yaml (one place); every key is
 * required here so that a missing default fails loudly instead of silently meaning "off".
 */
export const notesConfigSchema = z.strictObject({
    corsAllowedOrigins: z.array(origin).min(1, "must list at least one origin"),
    logRetentionDays: z
        .number(expected("a number"))
        .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
            message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
        }),
    deletionProtection: z.boolean(expected("true or false")),
    retainOnDelete: z.boolean(expected("true or false")),
    bucketVersioning: z.boolean(expected("true or false")),
    bucketForceDestroy: z.boolean(expected("true or false")),
    throttlingBurstLimit: int(0, 5000),
    throttlingRateLimit: int(0, 10000),
    passwordMinimumLength: int(8, 99),
    passwordRequireSymbols: z.boolean(expected("true or false")),
    allowUserPasswordAuth: z.boolean(expected("true or false")),
    lambdaMemorySize: int(128, 10240),
    lambdaTimeoutSeconds: int(1, 29),
});

export type NotesConfig = z.infer<typeof notesConfigSchema>;

export const CONFIG_KEYS = Object.keys(notesConfigSchema.shape) as (keyof NotesConfig)[];

/** Thrown for stack settings that are missing or invalid; the message names the key. */
export class ConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

/**
 * Validates raw settings (already JSON-decoded) and reports every bad key at once, each as
 * `<project>:<key>`, so `pulumi up` stops before anything is created.
 */
export function parseConfig(raw: Record<string, unknown>, project = "notes-infra"): NotesConfig {
    const result = notesConfigSchema.safeParse(raw);
    if (result.success) {
        return result.data;
    }
    const problems = result.error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys") {
            return issue.keys
                .map((key) => `${project}:${key} is not a setting of this program (typo?); known settings: ${CONFIG_KEYS.join(", ")}`)
                .join("\n  ");
        }
        const [key, ...rest] = issue.path.map(String);
        const where = rest.length > 0 ? ` (item ${rest.join(".")})` : "";
        const got = key in raw ? `; got ${JSON.stringify(raw[key])}` : "";
        const message = issue.code === "invalid_type" && !(key in raw) ? "is required" : issue.message;
        return `${project}:${key}${where} ${message}${got}`;
    });
    throw new ConfigError(`Invalid stack configuration:\n  ${problems.join("\n  ")}`);
}

/** Reads this project's settings from the running stack and validates them. */
export function loadConfig(): NotesConfig {
    const project = pulumi.getProject();
    const prefix = `${project}:`;
    const raw: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        raw[key] = decode(value);
    }
    return parseConfig(raw, project);
}

/** Stack settings arrive as strings; structured values and numbers arrive JSON-encoded. */
function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}
