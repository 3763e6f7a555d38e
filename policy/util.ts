import * as policy from "@pulumi/policy";

// The package's proxy.d.ts is empty, so the class arrives untyped; it is the real runtime class.
const UnknownValueError: new (...args: any[]) => Error = (policy as any).UnknownValueError;

export function isUnknownValueError(error: unknown): error is Error & { props?: string[] } {
    return error instanceof UnknownValueError;
}

/** A prop's value, or undefined when it is unknown at preview. */
export function knownOrUndefined<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (isUnknownValueError(error)) return undefined;
        throw error;
    }
}

/** Single-item blocks are objects in @pulumi/aws v7 and one-element lists in v6: accept both. */
export function items<T = any>(value: unknown): T[] {
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? (value as T[]) : [value as T];
}

/** An IAM document as a string (JSON) or an object; `undefined` when the text is not a JSON object. */
export function parseDocument(value: unknown): { document?: Record<string, any>; error?: string } {
    if (typeof value === "string") {
        try {
            const parsed = JSON.parse(value);
            if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { error: "is not a JSON object" };
            return { document: parsed };
        } catch (error) {
            return { error: `is not valid JSON (${(error as Error).message})` };
        }
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return { document: value as Record<string, any> };
    return { error: `is neither a JSON string nor a document object (found ${typeof value})` };
}

/** Statements of a policy document (the `Statement` field may be one object or a list). */
export function statements(document: Record<string, any>): Record<string, any>[] {
    return items<Record<string, any>>(document.Statement);
}

export function describeStatement(statement: Record<string, any>, index: number): string {
    const sid = typeof statement.Sid === "string" && statement.Sid.length > 0 ? `, Sid ${statement.Sid}` : "";
    return `statement ${index + 1}${sid}`;
}

/** Case-insensitive lookup of a condition block: `{ [operator]: { [key]: value | value[] } }` flattened. */
export interface ConditionEntry {
    operator: string;
    key: string;
    values: unknown[];
}

export function conditionEntries(condition: unknown): ConditionEntry[] {
    if (condition === null || typeof condition !== "object") return [];
    const out: ConditionEntry[] = [];
    for (const operator of Object.keys(condition)) {
        const block = (condition as Record<string, any>)[operator];
        if (block === null || typeof block !== "object") continue;
        for (const key of Object.keys(block)) {
            out.push({ operator, key, values: items(block[key]) });
        }
    }
    return out;
}

export function hasWildcard(value: string): boolean {
    return value.includes("*") || value.includes("?");
}

export function quote(value: unknown): string {
    return JSON.stringify(value);
}
