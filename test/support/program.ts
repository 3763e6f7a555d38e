import { ProgramRun, RecordedResource, runProgramIsolated } from "../../tools/engine/program";

export type { ProgramRun, RecordedResource };

/** The real program under mocks for a stack (one child process per stack, cached for the test run). */
export function stackRun(stack: string, configOverrides: Record<string, string> = {}): Promise<ProgramRun> {
    return runProgramIsolated(stack, configOverrides);
}

/** The dev and prod stacks, the two every contract test runs against. */
export const STACKS = ["dev", "prod"] as const;

export function ofType(run: ProgramRun, ...types: string[]): RecordedResource[] {
    return run.resources.filter((resource) => types.includes(resource.type));
}

/** The one resource with this logical name; fails loudly when absent. */
export function named(run: ProgramRun, name: string): RecordedResource {
    const matches = run.resources.filter((resource) => resource.name === name);
    if (matches.length !== 1) {
        throw new Error(`expected one resource named ${name}, found ${matches.length}`);
    }
    return matches[0];
}

/** The one resource of a type; fails loudly when there is not exactly one. */
export function single(run: ProgramRun, type: string): RecordedResource {
    const matches = ofType(run, type);
    if (matches.length !== 1) {
        throw new Error(`expected one ${type}, found ${matches.length}`);
    }
    return matches[0];
}

export interface Statement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: unknown;
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

/** Parses an IAM document as the program wrote it (a JSON string), checking its version. */
export function policyStatements(document: unknown): Statement[] {
    if (typeof document !== "string") {
        throw new Error(`expected the policy document as a JSON string, got ${typeof document}`);
    }
    const parsed = JSON.parse(document);
    if (parsed.Version !== "2012-10-17") {
        throw new Error(`policy Version must be 2012-10-17 (policy variables need it), got ${parsed.Version}`);
    }
    return parsed.Statement;
}

export const asList = (value: string | string[] | undefined): string[] =>
    value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The config value of a stack, decoded the way the program decodes it. */
export function stackSetting(run: ProgramRun, key: string): unknown {
    const raw = run.config[`${run.project}:${key}`];
    try {
        return JSON.parse(raw);
    } catch {
        return raw;
    }
}
