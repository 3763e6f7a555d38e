/**
 * Fake CrossGuard arguments for unit tests of single policies, shaped like the analyzer's
 * (props behind `unknownCheckingProxy`, `notApplicable` that throws, `getConfig` without schema
 * defaults), so a rule behaves here exactly as under `pulumi preview`.
 */
import * as policy from "@pulumi/policy";
import type {
    PolicyResource,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

const proxy = require("@pulumi/policy/proxy");
const unknownCheckingProxy: <T>(value: T) => T = (policy as any).unknownCheckingProxy;

/** The sentinels the engine puts in place of values that are unknown at preview. */
export const UNKNOWN = {
    string: proxy.unknownStringValue as string,
    boolean: proxy.unknownBooleanValue as string,
    array: proxy.unknownArrayValue as string,
    object: proxy.unknownObjectValue as string,
};

export interface Reported {
    message: string;
    /** Set when the rule reported with its own level (unknown values), else the policy's level applies. */
    enforcementLevel?: string;
    urn?: string;
}

export interface RunResult {
    reported: Reported[];
    notApplicable: boolean;
}

class NotApplicable extends Error {}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::test::${type}::${name}`;
}

function collect(out: Reported[]) {
    return (message: string | Reported, urn?: string) => {
        out.push(typeof message === "object" ? { message: message.message, enforcementLevel: message.enforcementLevel, urn: message.urn } : { message, urn });
    };
}

export function resourceArgs(type: string, props: Record<string, any>, options: { name?: string; config?: object } = {}): ResourceValidationArgs {
    const name = options.name ?? "subject";
    const proxied = unknownCheckingProxy(props);
    return {
        type,
        props: proxied,
        urn: urnOf(type, name),
        name,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: (cls: any) => cls?.__pulumiType === type,
        asType: ((cls: any) => (cls?.__pulumiType === type ? proxied : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({ ...(options.config ?? {}) }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** Runs one resource policy on one resource; an unknown that escapes the rule fails the test. */
export async function runResourcePolicy(
    target: ResourceValidationPolicy,
    type: string,
    props: Record<string, any>,
    options: { name?: string; config?: object } = {},
): Promise<RunResult> {
    const reported: Reported[] = [];
    const validations: ResourceValidation[] = Array.isArray(target.validateResource) ? target.validateResource : [target.validateResource!];
    try {
        for (const validation of validations) await validation(resourceArgs(type, props, options), collect(reported) as any);
    } catch (error) {
        if (error instanceof NotApplicable) return { reported, notApplicable: true };
        throw error;
    }
    return { reported, notApplicable: false };
}

export interface FakeStackResource {
    type: string;
    name: string;
    props: Record<string, any>;
    /** Names of resources (in the same list) this one depends on. */
    dependsOn?: string[];
    /** Property name -> names of resources its value came from. */
    propertyDependencies?: Record<string, string[]>;
}

export async function runStackPolicy(target: StackValidationPolicy, fakes: FakeStackResource[], options: { config?: object } = {}): Promise<RunResult> {
    const byName = new Map<string, PolicyResource>();
    const resources = fakes.map((fake) => {
        const props = unknownCheckingProxy(fake.props);
        const resource: PolicyResource = {
            type: fake.type,
            name: fake.name,
            urn: urnOf(fake.type, fake.name),
            props,
            opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
            dependencies: [],
            propertyDependencies: {},
            isType: (cls: any) => cls?.__pulumiType === fake.type,
            asType: ((cls: any) => (cls?.__pulumiType === fake.type ? props : undefined)) as PolicyResource["asType"],
        };
        byName.set(fake.name, resource);
        return resource;
    });
    fakes.forEach((fake, index) => {
        const lookup = (names: string[]) => names.map((n) => byName.get(n)!);
        resources[index].dependencies = lookup(fake.dependsOn ?? []);
        for (const [key, names] of Object.entries(fake.propertyDependencies ?? {})) resources[index].propertyDependencies[key] = lookup(names);
    });
    const reported: Reported[] = [];
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...(options.config ?? {}) }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    try {
        await target.validateStack(args, collect(reported) as any);
    } catch (error) {
        if (error instanceof NotApplicable) return { reported, notApplicable: true };
        throw error;
    }
    return { reported, notApplicable: false };
}
