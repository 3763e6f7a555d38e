/**
 * Declares a policy once: name, description, resource types, settings (with their defaults) and
 * enforcement level in one object, the way AWSGuard's `registerPolicy` + `validateResourceOfType`
 * pair a policy with the types it validates. The helper derives the `configSchema`, applies its
 * defaults to `getConfig()`, skips other types and keeps preview unknowns from escaping.
 */
import type {
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { isUnknownValueError } from "./util";

/** Config every policy of this pack accepts. */
export interface BaseConfig {
    /** Report an unknown (preview-time) value with the policy's own enforcement level instead of as advisory. */
    failOnUnknown: boolean;
}

/** One policy setting: a JSON schema that must carry its default, so the default lives here only. */
export type Setting = PolicyConfigJSONSchema & { default: unknown; description: string };

/**
 * Preview-time unknowns are reported as advisory by default: `pulumi up` re-runs every resource
 * policy with the resolved inputs before each resource is created, so a mandatory rule still bites
 * then, while a fail-closed default would block the first preview of any program whose bucket
 * policy names its own bucket's ARN. Teams that gate on preview alone set `failOnUnknown: true`.
 */
const BASE_SETTINGS: Record<keyof BaseConfig, Setting> = {
    failOnUnknown: {
        type: "boolean",
        default: false,
        description: "Fail this policy (at its enforcement level) when a value it checks is unknown at preview, instead of reporting it as advisory.",
    },
};

interface PolicySpec {
    /** kebab-case, unique in the pack. */
    name: string;
    /** Starts "Checks that…". */
    description: string;
    /** @default "mandatory" */
    enforcementLevel?: EnforcementLevel;
    /** Settings beyond `failOnUnknown`, each with its default. */
    settings?: Record<string, Setting>;
}

export interface ResourcePolicySpec<C> extends PolicySpec {
    /** Type tokens the policy validates (a v7 token with its deprecated `...V2` twin, v6 tokens). */
    types: readonly string[];
    validate: (props: Record<string, any>, ctx: RuleContext<C & BaseConfig>) => void;
}

export interface StackPolicySpec<C> extends PolicySpec {
    validate: (resources: PolicyResource[], ctx: StackRuleContext<C & BaseConfig>) => void;
}

/** What a rule body gets: the resource's identity, its config (defaults applied), and ways to report. */
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

export interface StackRuleContext<C> {
    config: C;
    report(message: string, urn?: string): void;
    /** Like `RuleContext.check`, for one resource of the stack. */
    check<T>(what: string, resource: PolicyResource, fn: () => T): T | undefined;
}

/** Property on a rule's validation function listing the type tokens it applies to. */
export const POLICY_TYPES = "__policyTypes";

function schemaOf(settings: Record<string, Setting> = {}): PolicyConfigSchema {
    return { properties: { ...BASE_SETTINGS, ...settings } };
}

/**
 * `getConfig()` returns only what the user set: the CLI fills schema defaults before it sends the
 * config, but other callers (the offline evaluator, older CLIs) may not, so apply them here too.
 */
export function withDefaults<T>(schema: PolicyConfigSchema, given: object | undefined): T {
    const out: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(schema.properties)) {
        if (typeof spec === "object" && spec.default !== undefined) out[key] = spec.default;
    }
    return { ...out, ...(given ?? {}) } as T;
}

function reportUnknown(report: ReportViolation, failOnUnknown: boolean, what: string, subject: string, error: Error, urn?: string): void {
    const message =
        `Could not check ${what} of ${subject} at preview: ${error.message}. ` +
        (failOnUnknown ? "failOnUnknown is set, so this fails closed." : "It will be checked at `pulumi up`; set failOnUnknown to fail the preview instead.");
    if (failOnUnknown) {
        report(message, urn);
    } else {
        // The analyzer accepts a violation object that carries its own enforcement level.
        (report as unknown as (info: object) => void)({ message, urn, enforcementLevel: "advisory" satisfies EnforcementLevel });
    }
}

function guarded<T>(report: ReportViolation, failOnUnknown: boolean, what: string, subject: string, fn: () => T, urn?: string): T | undefined {
    try {
        return fn();
    } catch (error) {
        if (!isUnknownValueError(error)) throw error;
        reportUnknown(report, failOnUnknown, what, subject, error, urn);
        return undefined;
    }
}

/** A resource validation policy for a set of type tokens, declared in one place. */
export function resourcePolicy<C extends object = {}>(spec: ResourcePolicySpec<C>): ResourceValidationPolicy {
    const schema = schemaOf(spec.settings);
    const accepted = new Set(spec.types);
    const validation = (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!accepted.has(args.type)) args.notApplicable(`Policy only applies to resources of type ${spec.types.join(", ")}`);
        const config = withDefaults<C & BaseConfig>(schema, args.getConfig());
        const subject = `${args.type} ${args.name}`;
        const ctx: RuleContext<C & BaseConfig> = {
            type: args.type,
            name: args.name,
            urn: args.urn,
            config,
            report: (message) => report(message),
            check: (what, fn) => guarded(report, config.failOnUnknown, what, subject, fn),
        };
        ctx.check("the inputs", () => spec.validate(args.props, ctx));
    };
    // Lets an evaluator skip other types without the cost of the notApplicable throw.
    const validateResource: ResourceValidation = Object.assign(validation, { [POLICY_TYPES]: spec.types });
    return {
        name: spec.name,
        description: spec.description,
        enforcementLevel: spec.enforcementLevel ?? "mandatory",
        configSchema: schema,
        validateResource,
    };
}

/** A stack validation policy (props are outputs, dependencies resolved), declared in one place. */
export function stackPolicy<C extends object = {}>(spec: StackPolicySpec<C>): StackValidationPolicy {
    const schema = schemaOf(spec.settings);
    return {
        name: spec.name,
        description: spec.description,
        enforcementLevel: spec.enforcementLevel ?? "mandatory",
        configSchema: schema,
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const config = withDefaults<C & BaseConfig>(schema, args.getConfig());
            const ctx: StackRuleContext<C & BaseConfig> = {
                config,
                report,
                check: (what, resource, fn) => guarded(report, config.failOnUnknown, what, `${resource.type} ${resource.name}`, fn, resource.urn),
            };
            spec.validate(args.resources, ctx);
        },
    };
}
