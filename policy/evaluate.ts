/**
 * Runs the pack over recorded resources without the Pulumi CLI, the way the CLI's analyzer does:
 * every resource policy on every resource (props = inputs, behind the unknown-checking proxy), then
 * every stack policy on the whole set (props = outputs, dependencies resolved to resources).
 * The one offline evaluator: `npm run policy:check`, the tests and the benchmark all use it;
 * `index.ts` never imports it (the CLI runs the pack through its own analyzer).
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
import { POLICY_TYPES } from "./define";
import { policies as packPolicies } from "./policies";
import { isUnknownValueError } from "./util";

const unknownCheckingProxy: <T>(value: T) => T = (policy as any).unknownCheckingProxy;

/** One registered resource, as the mock engine records it (tools/engine/mocks.ts `RecordedResource`). */
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

const throwNotApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

function options(record: Pick<ResourceRecord, "parent" | "options">): PolicyResourceOptions {
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

/** What a policy reported, as the analyzer receives it: a level only when the rule set one itself. */
export interface Reported {
    message: string;
    enforcementLevel?: EnforcementLevel;
    urn?: string;
}

type Report = (message: string | Reported, urn?: string) => void;

function collect(out: Reported[]): Report {
    return (message, urn) => {
        out.push(typeof message === "object" ? { message: message.message ?? "", enforcementLevel: message.enforcementLevel, urn: message.urn } : { message, urn });
    };
}

/** The analyzer's resource arguments: props behind the unknown-checking proxy, config as the user set it. */
function resourceArgs(record: Pick<ResourceRecord, "type" | "name" | "urn" | "inputs" | "parent" | "options">, properties: Record<string, unknown>): ResourceValidationArgs {
    const props = unknownCheckingProxy(record.inputs);
    return {
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
}

/** Whether a validation applies to a type, by the tags `validateResourceOfType` and `resourcePolicy` put on it. */
function applies(validation: ResourceValidation, type: string): boolean {
    const pulumiType = typeOf(validation);
    if (pulumiType && pulumiType !== type) return false;
    const types: readonly string[] | undefined = (validation as any)[POLICY_TYPES];
    return !types || types.includes(type);
}

/**
 * Runs one resource policy's validations on one resource. Returns whether the policy declared
 * itself not applicable; anything else it throws (an escaped unknown among them) is rethrown.
 */
async function runResourceValidations(policy: ResourceValidationPolicy, args: ResourceValidationArgs, report: Report): Promise<{ notApplicable: boolean }> {
    const validations: ResourceValidation[] = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    let ran = false;
    for (const validation of validations) {
        if (!applies(validation, args.type)) continue;
        ran = true;
        try {
            await validation(args, report as any);
        } catch (error) {
            if (error instanceof NotApplicable) return { notApplicable: true };
            throw error;
        }
    }
    return { notApplicable: !ran };
}

async function runStackValidation(policy: StackValidationPolicy, resources: PolicyResource[], properties: Record<string, unknown>, report: Report): Promise<{ notApplicable: boolean }> {
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...properties }) as T,
        notApplicable: throwNotApplicable,
    };
    try {
        await policy.validateStack(args, report as any);
    } catch (error) {
        if (error instanceof NotApplicable) return { notApplicable: true };
        throw error;
    }
    return { notApplicable: false };
}

/** Turns an escaped unknown into the CLI's own advisory note, so even a careless rule never passes silently. */
function handleError(error: unknown, policyName: string, report: Report): void {
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
    const active = policies.filter((p) => config.get(p.name)!.enforcementLevel !== "disabled");
    const violations: Violation[] = [];
    const record = (policyName: string, level: EnforcementLevel, reported: Reported[], defaultUrn?: string) => {
        for (const entry of reported) {
            const urn = entry.urn ?? defaultUrn;
            const located = urn ? byUrn.get(urn) : undefined;
            violations.push({
                policyName,
                enforcementLevel: entry.enforcementLevel ?? level,
                ...(located ? { resourceType: located.type, resourceName: located.name, urn } : urn ? { urn } : {}),
                message: entry.message,
            });
        }
    };
    const levelOf = (name: string) => {
        const level = config.get(name)!.enforcementLevel;
        return level === "remediate" ? "mandatory" : level;
    };

    for (const resource of resources) {
        for (const p of active) {
            if (!isResourcePolicy(p) || !p.validateResource) continue;
            const reported: Reported[] = [];
            const report = collect(reported);
            try {
                await runResourceValidations(p, resourceArgs(resource, config.get(p.name)!.properties), report);
            } catch (error) {
                handleError(error, p.name, report);
            }
            record(p.name, levelOf(p.name), reported, resource.urn);
        }
    }

    const stackPolicies = active.filter((p): p is StackValidationPolicy => !isResourcePolicy(p));
    if (stackPolicies.length > 0) {
        const stackResources = toStackResources(resources);
        for (const p of stackPolicies) {
            const reported: Reported[] = [];
            const report = collect(reported);
            try {
                await runStackValidation(p, stackResources, config.get(p.name)!.properties, report);
            } catch (error) {
                handleError(error, p.name, report);
            }
            record(p.name, levelOf(p.name), reported);
        }
    }
    return violations;
}

/** Outputs as the analyzer sees them (the provider's `id` among them), with references resolved. */
function toStackResources(records: readonly Omit<ResourceRecord, "inputs">[]): PolicyResource[] {
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

// ---------------------------------------------------------------------------------------------
// One policy at a time: the same analyzer arguments, for unit tests of a single rule.

const proxy = require("@pulumi/policy/proxy");

/** The sentinels the engine puts in place of values that are unknown at preview. */
export const UNKNOWN = {
    string: proxy.unknownStringValue as string,
    boolean: proxy.unknownBooleanValue as string,
    array: proxy.unknownArrayValue as string,
    object: proxy.unknownObjectValue as string,
};

export interface PolicyRun {
    /** What the policy reported, each with its own level only where the rule set one. */
    reported: Reported[];
    notApplicable: boolean;
}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::test::${type}::${name}`;
}

/**
 * Runs one resource policy on one resource, with the config exactly as given (no schema defaults,
 * like `getConfig()` under the CLI). Stricter than the analyzer in one way: an unknown that
 * escapes the rule throws, so a test sees the rule's own handling of unknowns.
 */
export async function runResourcePolicy(
    target: ResourceValidationPolicy,
    type: string,
    props: Record<string, any>,
    runOptions: { name?: string; config?: object } = {},
): Promise<PolicyRun> {
    const name = runOptions.name ?? "subject";
    const reported: Reported[] = [];
    const args = resourceArgs({ type, name, urn: urnOf(type, name), inputs: props }, { ...(runOptions.config ?? {}) });
    // Called directly, not through `applies`, so a policy's own notApplicable is what the test sees.
    const validations: ResourceValidation[] = Array.isArray(target.validateResource) ? target.validateResource : [target.validateResource!];
    try {
        for (const validation of validations) await validation(args, collect(reported) as any);
    } catch (error) {
        if (error instanceof NotApplicable) return { reported, notApplicable: true };
        throw error;
    }
    return { reported, notApplicable: false };
}

export interface FakeStackResource {
    type: string;
    name: string;
    /** Outputs, as a stack policy sees them. */
    props: Record<string, any>;
    /** Names of resources (in the same list) this one depends on. */
    dependsOn?: string[];
    /** Property name -> names of resources its value came from. */
    propertyDependencies?: Record<string, string[]>;
}

/** Runs one stack policy over a small stack described by name; same strictness as `runResourcePolicy`. */
export async function runStackPolicy(target: StackValidationPolicy, fakes: FakeStackResource[], runOptions: { config?: object } = {}): Promise<PolicyRun> {
    const urnByName = new Map(fakes.map((fake) => [fake.name, urnOf(fake.type, fake.name)]));
    const urns = (names: string[] = []) => names.map((name) => urnByName.get(name)!);
    const records = fakes.map((fake) => ({
        type: fake.type,
        name: fake.name,
        urn: urnOf(fake.type, fake.name),
        custom: true,
        state: fake.props,
        dependencies: urns(fake.dependsOn),
        propertyDependencies: Object.fromEntries(Object.entries(fake.propertyDependencies ?? {}).map(([key, names]) => [key, urns(names)])),
    }));
    const reported: Reported[] = [];
    const { notApplicable } = await runStackValidation(target, toStackResources(records), { ...(runOptions.config ?? {}) }, collect(reported));
    return { reported, notApplicable };
}

/** `<enforcement> <policy-name> <resource type> <resource name>: <message>` */
export function formatViolation(v: Violation): string {
    return `${v.enforcementLevel} ${v.policyName} ${v.resourceType ?? "stack"} ${v.resourceName ?? "-"}: ${v.message}`;
}

export function isBlocking(v: Violation): boolean {
    return v.enforcementLevel === "mandatory" || v.enforcementLevel === "remediate";
}
