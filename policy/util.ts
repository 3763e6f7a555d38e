import * as policy from "@pulumi/policy";
import type {
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    StackValidation,
    StackValidationArgs,
} from "@pulumi/policy";

// The package's proxy.d.ts is empty, so the class arrives untyped; it is the real runtime class.
const UnknownValueError: new (...args: any[]) => Error = (policy as any).UnknownValueError;

export function isUnknownValueError(error: unknown): error is Error & { props?: string[] } {
    return error instanceof UnknownValueError;
}

/** Config every policy of this pack accepts. */
export interface BaseConfig {
    /** Report an unknown (preview-time) value with the policy's own enforcement level instead of as advisory. */
    failOnUnknown: boolean;
}

/**
 * Preview-time unknowns are reported as advisory by default: `pulumi up` re-runs every resource
 * policy with the resolved inputs before each resource is created, so a mandatory rule still bites
 * then, while a fail-closed default would block the first preview of any program whose bucket
 * policy names its own bucket's ARN. Teams that gate on preview alone set `failOnUnknown: true`.
 */
export const baseConfigSchema: PolicyConfigSchema = {
    properties: {
        failOnUnknown: {
            type: "boolean",
            default: false,
            description:
                "Fail this policy (at its enforcement level) when a value it checks is unknown at preview, instead of reporting it as advisory.",
        },
    },
};

export function configSchema(extra: PolicyConfigSchema["properties"] = {}): PolicyConfigSchema {
    return { properties: { ...baseConfigSchema.properties, ...extra } };
}

/**
 * `getConfig()` returns only what the user set; the CLI fills schema defaults before it sends the
 * config, but other callers (tests, `policy:check`, older CLIs) may not, so apply them here too.
 */
export function withDefaults<T>(schema: PolicyConfigSchema, given: object | undefined): T {
    const out: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(schema.properties)) {
        if (typeof spec === "object" && spec.default !== undefined) out[key] = spec.default;
    }
    return { ...out, ...(given ?? {}) } as T;
}

/** What a rule body gets: the resource's identity, its config, and ways to report. */
export interface RuleContext<C> {
    type: string;
    name: string;
    urn: string;
    config: C;
    /** Reports a violation at the policy's enforcement level. */
    report(message: string): void;
    /**
     * Runs one independent check. If it reads a value that is unknown at preview, the check is
     * reported as not verifiable (advisory, or at the policy's level with `failOnUnknown`) and the
     * remaining checks still run.
     */
    check<T>(what: string, fn: () => T): T | undefined;
}

function reportUnknown(report: ReportViolation, failOnUnknown: boolean, what: string, subject: string, error: Error, urn?: string): void {
    const message =
        `Could not check ${what} of ${subject} at preview: ${error.message}. ` +
        (failOnUnknown
            ? "failOnUnknown is set, so this fails closed."
            : "It will be checked at `pulumi up`; set failOnUnknown to fail the preview instead.");
    if (failOnUnknown) {
        report(message, urn);
    } else {
        // The analyzer accepts a violation object that carries its own enforcement level.
        (report as unknown as (info: object) => void)({ message, urn, enforcementLevel: "advisory" satisfies EnforcementLevel });
    }
}

/**
 * A resource validation for a set of type tokens (a v7 token and its deprecated `...V2` twin),
 * with defaults applied to the config and preview unknowns never escaping silently.
 */
export function resourceRule<C extends BaseConfig>(
    types: readonly string[],
    schema: PolicyConfigSchema,
    validate: (props: Record<string, any>, ctx: RuleContext<C>) => void,
): ResourceValidation {
    const accepted = new Set(types);
    const validation = (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!accepted.has(args.type)) {
            args.notApplicable(`Policy only applies to resources of type ${types.join(", ")}`);
        }
        const config = withDefaults<C>(schema, args.getConfig());
        const subject = `${args.type} ${args.name}`;
        const ctx: RuleContext<C> = {
            type: args.type,
            name: args.name,
            urn: args.urn,
            config,
            report: (message) => report(message),
            check: (what, fn) => {
                try {
                    return fn();
                } catch (error) {
                    if (!isUnknownValueError(error)) throw error;
                    reportUnknown(report, config.failOnUnknown, what, subject, error);
                    return undefined;
                }
            },
        };
        ctx.check("the inputs", () => validate(args.props, ctx));
    };
    // Lets an evaluator skip other types without the cost of the notApplicable throw.
    return Object.assign(validation, { [POLICY_TYPES]: types });
}

/** Property on a rule's validation function listing the type tokens it applies to. */
export const POLICY_TYPES = "__policyTypes";

export interface StackRuleContext<C> {
    config: C;
    report(message: string, urn?: string): void;
    /** Like `RuleContext.check`, for one resource of the stack. */
    check<T>(what: string, resource: PolicyResource, fn: () => T): T | undefined;
}

export function stackRule<C extends BaseConfig>(
    schema: PolicyConfigSchema,
    validate: (resources: PolicyResource[], ctx: StackRuleContext<C>) => void,
): StackValidation {
    return (args: StackValidationArgs, report: ReportViolation) => {
        const config = withDefaults<C>(schema, args.getConfig());
        const ctx: StackRuleContext<C> = {
            config,
            report,
            check: (what, resource, fn) => {
                try {
                    return fn();
                } catch (error) {
                    if (!isUnknownValueError(error)) throw error;
                    reportUnknown(report, config.failOnUnknown, what, `${resource.type} ${resource.name}`, error, resource.urn);
                    return undefined;
                }
            },
        };
        validate(args.resources, ctx);
    };
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
