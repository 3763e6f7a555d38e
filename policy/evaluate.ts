/**
 * Runs the pack over recorded resources without the Pulumi CLI, the way the CLI's analyzer does:
 * every resource policy on every resource (props = inputs, behind the unknown-checking proxy), then
 * every stack policy on the whole set (props = outputs, dependencies resolved to resources).
 * Used by `npm run policy:check`, the tests and the benchmark; `index.ts` never imports it.
 */
import * as policy from "@pulumi/policy";
import type {
    EnforcementLevel,
    Policies,
    PolicyConfigSchema,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { policies as packPolicies } from "./policies";
import { POLICY_TYPES, isUnknownValueError } from "./util";

const unknownCheckingProxy: <T>(value: T) => T = (policy as any).unknownCheckingProxy;

/** One registered resource, as the mock engine records it (engine/mocks.ts `RecordedResource`). */
export interface ResourceRecord {
    type: string;
    name: string;
    urn: string;
    parent?: string;
    id?: string;
    custom?: boolean;
    inputs: Record<string, any>;
    state: Record<string, any>;
    provider?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    options?: { protect?: boolean; ignoreChanges?: string[] };
}

export interface Violation {
    policyName: string;
    enforcementLevel: EnforcementLevel;
    /** Absent when a stack policy reports against the stack as a whole. */
    resourceType?: string;
    resourceName?: string;
    urn?: string;
    message: string;
}

/** The `--policy-pack-config` file format: `{ "all": level, "<policy>": level | { enforcementLevel?, ...config } }`. */
export type PolicyPackConfigFile = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface EvaluateOptions {
    config?: PolicyPackConfigFile;
    /** Defaults to the whole pack. */
    policies?: Policies;
    /** The pack's default level (the `enforcementLevel` that index.ts gives the pack). */
    packEnforcementLevel?: EnforcementLevel;
}

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

interface ResolvedPolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

/**
 * Resolves each policy's level and config the way the CLI does (policy entry, then `all`, then the
 * policy's own level, then the pack's) and rejects what the CLI would reject: unknown policy names,
 * unknown levels, properties outside a policy's schema or of the wrong JSON type.
 */
export function resolveConfig(policies: Policies, file: PolicyPackConfigFile = {}, packLevel: EnforcementLevel = "mandatory"): Map<string, ResolvedPolicyConfig> {
    const byName = new Map(policies.map((p) => [p.name, p]));
    const problems: string[] = [];
    for (const [key, entry] of Object.entries(file)) {
        if (key !== "all" && !byName.has(key)) problems.push(`"${key}" is not a policy of this pack`);
        const level = typeof entry === "string" ? entry : entry?.enforcementLevel;
        if (level !== undefined && !LEVELS.includes(level)) problems.push(`"${key}": enforcementLevel ${JSON.stringify(level)} is not one of ${LEVELS.join(", ")}`);
        if (key === "all" && typeof entry === "object" && entry !== null && Object.keys(entry).some((k) => k !== "enforcementLevel")) {
            problems.push(`"all" accepts only an enforcement level`);
        }
    }
    const all = file.all;
    const allLevel = typeof all === "string" ? all : all?.enforcementLevel;
    const resolved = new Map<string, ResolvedPolicyConfig>();
    for (const p of policies) {
        const entry = file[p.name];
        const { enforcementLevel: ownLevel, ...properties } = typeof entry === "object" && entry !== null ? entry : { enforcementLevel: entry };
        problems.push(...checkProperties(p.name, p.configSchema, properties));
        resolved.set(p.name, {
            enforcementLevel: (ownLevel as EnforcementLevel | undefined) ?? allLevel ?? p.enforcementLevel ?? packLevel,
            properties,
        });
    }
    if (problems.length > 0) throw new Error(`Invalid policy pack config:\n  ${problems.join("\n  ")}`);
    return resolved;
}

function checkProperties(name: string, schema: PolicyConfigSchema | undefined, properties: Record<string, unknown>): string[] {
    const problems: string[] = [];
    for (const [key, value] of Object.entries(properties)) {
        const spec = schema?.properties[key];
        if (spec === undefined) {
            problems.push(`"${name}": "${key}" is not a setting of this policy${schema ? ` (settings: ${Object.keys(schema.properties).join(", ")})` : ""}`);
            continue;
        }
        const expected = typeof spec === "object" ? spec.type : undefined;
        const actual = Array.isArray(value) ? "array" : value === null ? "null" : Number.isInteger(value) ? "integer" : typeof value;
        const allowed = expected === undefined ? undefined : Array.isArray(expected) ? expected : [expected];
        if (allowed && !allowed.includes(actual as any) && !(actual === "integer" && allowed.includes("number"))) {
            problems.push(`"${name}": "${key}" must be ${allowed.join(" or ")}, found ${JSON.stringify(value)}`);
        }
    }
    return problems;
}

class NotApplicable extends Error {}

function options(record: ResourceRecord): PolicyResourceOptions {
    return {
        protect: record.options?.protect ?? false,
        ignoreChanges: record.options?.ignoreChanges ?? [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(record.parent ? { parent: record.parent } : {}),
    };
}

function typeOf(resourceClass: unknown): string | undefined {
    return (resourceClass as { __pulumiType?: string } | undefined)?.__pulumiType;
}

function isResourcePolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is ResourceValidationPolicy {
    return (p as ResourceValidationPolicy).validateResource !== undefined;
}

type Report = (message: string | { message?: string; urn?: string; enforcementLevel?: EnforcementLevel }, urn?: string) => void;

/** Collects what a policy reports, in the `Violation` shape, honouring per-report levels. */
function collector(
    policyName: string,
    level: EnforcementLevel,
    out: Violation[],
    locate: (urn: string | undefined) => Pick<Violation, "resourceType" | "resourceName" | "urn">,
    defaultUrn?: string,
): Report {
    return (message, urn) => {
        const info = typeof message === "object" ? message : { message, urn };
        out.push({
            policyName,
            enforcementLevel: info.enforcementLevel ?? level,
            ...locate(info.urn ?? defaultUrn),
            message: info.message ?? "",
        });
    };
}

/** Turns an escaped unknown into the CLI's own advisory note, so even a careless rule never passes silently. */
function handleError(error: unknown, policyName: string, report: Report): void {
    if (error instanceof NotApplicable) return;
    if (isUnknownValueError(error)) {
        report({ message: `can't run policy '${policyName}' during preview: ${(error as Error).message}`, enforcementLevel: "advisory" });
        return;
    }
    throw new Error(`Policy ${policyName} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
}

/**
 * Evaluates the pack (or `options.policies`) over the resources and returns every violation,
 * resource violations first (in resource order), then stack violations.
 */
export async function evaluatePolicies(resources: readonly ResourceRecord[], evaluateOptions: EvaluateOptions = {}): Promise<Violation[]> {
    const policies = evaluateOptions.policies ?? packPolicies;
    const config = resolveConfig(policies, evaluateOptions.config, evaluateOptions.packEnforcementLevel);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const locate = (urn: string | undefined) => {
        const record = urn ? byUrn.get(urn) : undefined;
        return record ? { resourceType: record.type, resourceName: record.name, urn } : urn ? { urn } : {};
    };
    const active = policies.filter((p) => config.get(p.name)!.enforcementLevel !== "disabled");
    const throwNotApplicable = (reason?: string): never => {
        throw new NotApplicable(reason);
    };
    const violations: Violation[] = [];

    for (const record of resources) {
        for (const p of active) {
            if (!isResourcePolicy(p) || !p.validateResource) continue;
            const { enforcementLevel, properties } = config.get(p.name)!;
            const level = enforcementLevel === "remediate" ? "mandatory" : enforcementLevel;
            const report = collector(p.name, level, violations, locate, record.urn);
            const validations: ResourceValidation[] = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
            for (const validation of validations) {
                const pulumiType = typeOf(validation);
                if (pulumiType && pulumiType !== record.type) continue;
                const types: readonly string[] | undefined = (validation as any)[POLICY_TYPES];
                if (types && !types.includes(record.type)) continue;
                const props = unknownCheckingProxy(record.inputs);
                const args: ResourceValidationArgs = {
                    type: record.type,
                    props,
                    urn: record.urn,
                    name: record.name,
                    opts: options(record),
                    stackTags: new Map(),
                    isType: (cls) => typeOf(cls) === record.type,
                    asType: ((cls: unknown) => (typeOf(cls) === record.type ? props : undefined)) as ResourceValidationArgs["asType"],
                    getConfig: <T extends object>() => ({ ...properties }) as T,
                    notApplicable: throwNotApplicable,
                };
                try {
                    await validation(args, report as any);
                } catch (error) {
                    handleError(error, p.name, report);
                }
            }
        }
    }

    const stackPolicies = active.filter((p): p is StackValidationPolicy => !isResourcePolicy(p));
    if (stackPolicies.length > 0) {
        const stackResources = toStackResources(resources);
        for (const p of stackPolicies) {
            const { enforcementLevel, properties } = config.get(p.name)!;
            const level = enforcementLevel === "remediate" ? "mandatory" : enforcementLevel;
            const report = collector(p.name, level, violations, locate);
            const args: StackValidationArgs = {
                resources: stackResources,
                stackTags: new Map(),
                getConfig: <T extends object>() => ({ ...properties }) as T,
                notApplicable: throwNotApplicable,
            };
            try {
                await p.validateStack(args, report as any);
            } catch (error) {
                handleError(error, p.name, report);
            }
        }
    }
    return violations;
}

/** Outputs as the analyzer sees them (the provider's `id` among them), with references resolved. */
function toStackResources(records: readonly ResourceRecord[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const list = records.map((record) => {
        const state = record.custom === false || record.id === undefined || "id" in record.state ? record.state : { ...record.state, id: record.id };
        const props = unknownCheckingProxy(state);
        const resource: PolicyResource = {
            type: record.type,
            props,
            urn: record.urn,
            name: record.name,
            opts: options(record),
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => typeOf(cls) === record.type,
            asType: ((cls: unknown) => (typeOf(cls) === record.type ? props : undefined)) as PolicyResource["asType"],
        };
        byUrn.set(record.urn, resource);
        return resource;
    });
    records.forEach((record, index) => {
        const resource = list[index];
        const resolve = (urns: string[]) => urns.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
        if (record.parent && byUrn.has(record.parent)) resource.parent = byUrn.get(record.parent);
        resource.dependencies = resolve(record.dependencies);
        for (const [key, urns] of Object.entries(record.propertyDependencies)) resource.propertyDependencies[key] = resolve(urns);
    });
    return list;
}

/** `<enforcement> <policy-name> <resource type> <resource name>: <message>` */
export function formatViolation(v: Violation): string {
    return `${v.enforcementLevel} ${v.policyName} ${v.resourceType ?? "stack"} ${v.resourceName ?? "-"}: ${v.message}`;
}

export function isBlocking(v: Violation): boolean {
    return v.enforcementLevel === "mandatory" || v.enforcementLevel === "remediate";
}
