import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";

/** Where the rules live (`<data-dir>/faults.json`), re-read whenever the file changes. */
export const FAULTS_FILE = "faults.json";

/** The services a rule may name. */
export const FAULT_SERVICES = ["dynamodb", "s3", "lambda", "cognito-idp", "cognito-identity"] as const;
export type FaultService = (typeof FAULT_SERVICES)[number];

/**
 * One rule, modelled on LocalStack's chaos API (`/_localstack/chaos/faults`): on a matching
 * request, with `probability`, wait `latencyMs` and/or answer `error` instead of the service.
 */
const faultRule = z.strictObject({
    service: z.enum(FAULT_SERVICES, { error: `must be one of ${FAULT_SERVICES.join(", ")}` }),
    /** The operation (`PutItem`, `InitiateAuth`, `GetObject` …; for lambda `Invoke` or the function's name). Every operation when absent. */
    operation: z.string({ error: "must be a string" }).min(1, "must not be empty").optional(),
    probability: z.number({ error: "must be a number" }).min(0, "must be between 0 and 1").max(1, "must be between 0 and 1"),
    error: z
        .strictObject({
            statusCode: z.number({ error: "must be a number" }).int("must be a whole number").min(400, "must be an HTTP error status (400 to 599)").max(599, "must be an HTTP error status (400 to 599)"),
            code: z.string({ error: "must be a string" }).regex(/^[A-Za-z][\w.]{0,127}$/, "must be an error code such as ThrottlingException"),
        })
        .optional(),
    latencyMs: z.number({ error: "must be a number" }).int("must be a whole number").min(0, "must be at least 0").max(900_000, "must be at most 900000").optional(),
}).refine((rule) => rule.error !== undefined || rule.latencyMs !== undefined, { message: "needs an error, a latencyMs, or both" });

export type FaultRule = z.infer<typeof faultRule>;

const faultFile = z.array(faultRule, { error: "must be a JSON array of rules" });

/** What to do to one request. */
export interface Fault {
    rule: FaultRule;
    latencyMs: number;
    error?: { statusCode: number; code: string };
}

/** The error codes a service uses for throttling, counted as throttles in its metrics. */
export const THROTTLING_CODES = new Set(["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "TooManyRequestsException", "SlowDown", "Throttling"]);

export function isThrottle(error: { statusCode: number; code: string }): boolean {
    return error.statusCode === 429 || THROTTLING_CODES.has(error.code);
}

/**
 * The fault rules of a data directory. The file is read again whenever its modification time or
 * size changes, so a running local cloud picks up edits; a file that is not valid JSON or not a
 * list of valid rules is reported once, on the console, and injects nothing until it is fixed.
 */
export class LocalFaults {
    readonly file: string;
    private rules: FaultRule[] = [];
    private seen = "";

    constructor(
        dataDir: string,
        private readonly print: (line: string) => void,
        private readonly random: () => number = Math.random,
    ) {
        this.file = path.join(dataDir, FAULTS_FILE);
    }

    /** The rules in force now. */
    current(): FaultRule[] {
        let stamp = "absent";
        try {
            const stat = statSync(this.file);
            stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
        } catch {
            stamp = "absent";
        }
        if (stamp === this.seen) return this.rules;
        this.seen = stamp;
        if (stamp === "absent") {
            if (this.rules.length > 0) this.print(`[faults] ${this.file} removed: no faults injected`);
            this.rules = [];
            return this.rules;
        }
        this.rules = this.load();
        return this.rules;
    }

    private load(): FaultRule[] {
        let raw: unknown;
        try {
            const text = readFileSync(this.file, "utf8");
            raw = text.trim() === "" ? [] : JSON.parse(text);
        } catch (error) {
            this.print(`[faults] ${this.file} is not valid JSON (${error instanceof Error ? error.message : String(error)}): no faults injected until it is fixed`);
            return [];
        }
        const parsed = faultFile.safeParse(raw);
        if (!parsed.success) {
            const problems = parsed.error.issues.map((issue) => `${issue.path.length ? `rule ${issue.path.join(".")}` : "the file"} ${issue.message}`);
            this.print(`[faults] ${this.file} has invalid rules (${problems.join("; ")}): no faults injected until it is fixed`);
            return [];
        }
        this.print(`[faults] ${parsed.data.length} rule(s) from ${this.file}: ${parsed.data.map(describe).join("; ") || "none"}`);
        return parsed.data;
    }

    /** The fault for a request to `service`'s `operation` (any of `operations` for lambda), if a rule fires. */
    match(service: FaultService, ...operations: string[]): Fault | undefined {
        for (const rule of this.current()) {
            if (rule.service !== service) continue;
            if (rule.operation !== undefined && !operations.includes(rule.operation)) continue;
            if (this.random() >= rule.probability) continue;
            return { rule, latencyMs: rule.latencyMs ?? 0, error: rule.error };
        }
        return undefined;
    }
}

function describe(rule: FaultRule): string {
    const what = [rule.latencyMs ? `+${rule.latencyMs} ms` : "", rule.error ? `${rule.error.statusCode} ${rule.error.code}` : ""].filter(Boolean).join(" and ");
    return `${rule.service}${rule.operation ? ` ${rule.operation}` : ""} p=${rule.probability}: ${what}`;
}

export function delay(ms: number): Promise<void> {
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
