import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { configuredProviders, RESERVED_PROVIDER_NAMES } from "./identity-providers";

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

/** Cognito User Pool feature plans (`userPoolTier` of @pulumi/aws v7's UserPool). */
const USER_POOL_TIERS = ["LITE", "ESSENTIALS", "PLUS"] as const;

/** Second factor (TOTP) policy: `off`, `optional` (each user chooses) or `required` (every sign-in). */
export const MFA_SETTINGS = ["off", "optional", "required"] as const;

/**
 * A function that times out before the DynamoDB client gives up (3 attempts of at most 1 s each,
 * `DYNAMO_CLIENT_SETTINGS` in handlers/dynamo.ts) can never answer 503 with Retry-After: the
 * gateway answers 500 instead. 5 s covers those attempts, their back-off and a cold start.
 */
export const MIN_LAMBDA_TIMEOUT_SECONDS = 5;

/**
 * Regions whose SES a user pool may use besides its own ("Email settings for Amazon Cognito user
 * pools": the SourceArn Region is typically the pool's, alternates exist in some cases; CDK's
 * `sesRegion` lists them: "Must be 'us-east-1', 'us-west-2', or 'eu-west-1'").
 */
const SES_ALTERNATE_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"];

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;
const ADDRESS = /^[^\s@<>"()\[\],;:\\]+@([^\s@<>]+)$/;
const SES_IDENTITY_ARN = /^arn:aws(?:-cn|-us-gov)?:ses:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):identity\/(.+)$/;

/** The parts of an SES identity ARN, or undefined when it is not one. */
function sesIdentity(arn: string): { region: string; identity: string; address?: string; domain: string } | undefined {
    const match = SES_IDENTITY_ARN.exec(arn);
    if (!match) return undefined;
    const [, region, , identity] = match;
    const address = ADDRESS.exec(identity);
    const domain = address ? address[1] : identity;
    if (!DOMAIN.test(domain)) return undefined;
    return { region, identity, address: address ? identity : undefined, domain: domain.toLowerCase() };
}

/** The address of a sender, `a@b.c` or `Name <a@b.c>` (RFC 5322 display name, quoted or not). */
function senderAddress(from: string): string | undefined {
    const named = /^(?:"[^"\r\n]*"|[^"<>\r\n]+?)\s*<([^<>\s]+)>$/.exec(from.trim());
    const address = named ? named[1] : from.trim();
    const match = ADDRESS.exec(address);
    return match && DOMAIN.test(match[1]) ? address : undefined;
}

/** CloudFront price classes (`priceClass` of a distribution). */
const PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"] as const;
const ACM_CERTIFICATE_ARN = /^arn:aws(?:-cn|-us-gov)?:acm:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:certificate\/[0-9a-f-]{36}$/;
/** CloudFront uses ACM certificates from this Region only, whatever the stack's Region. */
export const CLOUDFRONT_CERTIFICATE_REGION = "us-east-1";
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

/** An optional setting: `""` (the Pulumi.yaml default) means unset. */
const optional = (check: (value: string) => boolean, message: string) =>
    z
        .string(expected("a string"))
        .refine((value) => value === "" || check(value), { message })
        .transform((value) => (value === "" ? undefined : value));

/**
 * A managed-login domain prefix as Cognito takes it ("Domain prefixes can contain only lowercase
 * letters, numbers, and hyphens. Don't use a hyphen for the first or last character.") without
 * the reserved words Cognito refuses in it.
 */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const RESERVED_DOMAIN_WORDS = ["aws", "amazon", "cognito"];

const clientId = z
    .string(expected("a string"))
    .regex(/^[\x21-\x7e]{1,256}$/, "must be the provider's client id (1 to 256 printable characters, no spaces)");
const appleId = z.string(expected("a string")).regex(/^[A-Z0-9]{10}$/, "must be a 10-character Apple id (letters and digits)");
const httpsUrl = z.string(expected("a string")).refine(
    (value) => {
        try {
            const url = new URL(value);
            return url.protocol === "https:" && !url.search && !url.hash && !url.username && !url.password;
        } catch {
            return false;
        }
    },
    { message: 'must be the provider\'s https issuer URL, e.g. "https://login.example.com"' },
);

/**
 * `identityProviders`: the providers' public ids (plain config). Their secrets live in
 * `identityProviderSecrets`, a key of their own, because Pulumi marks a whole key secret.
 */
const identityProvidersSchema = z.strictObject({
    google: z.strictObject({ clientId }).optional(),
    facebook: z.strictObject({ clientId }).optional(),
    apple: z.strictObject({ clientId, teamId: appleId, keyId: appleId }).optional(),
    amazon: z.strictObject({ clientId }).optional(),
    oidc: z
        .array(
            z.strictObject({
                name: z
                    .string(expected("a string"))
                    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{1,30}[A-Za-z0-9]$/, "must be 3 to 32 letters, digits, '.' or '-' (it becomes the button's name and the `<name>_<id>` usernames)")
                    .refine((name) => !RESERVED_PROVIDER_NAMES.some((reserved) => reserved.toLowerCase() === name.toLowerCase()), {
                        message: `must not be one of Cognito's own provider names (${RESERVED_PROVIDER_NAMES.join(", ")})`,
                    }),
                issuer: httpsUrl,
                clientId,
            }),
        )
        .refine((list) => new Set(list.map((entry) => entry.name.toLowerCase())).size === list.length, { message: "must not name a provider twice" })
        .optional(),
});

/** `identityProviderSecrets`: client secrets (Apple's private key) keyed like the providers. */
const identityProviderSecretsSchema = z.record(z.string(), z.string(expected("a string")).min(1, "must not be empty"), expected("an object keyed by provider"));

/**
 * Settings Pulumi.yaml cannot declare (project config has no object type); absent means none.
 * `identityProviderSecrets` must reach the program as a Pulumi secret.
 */
export const OBJECT_CONFIG_KEYS = ["identityProviders", "identityProviderSecrets"] as const;

/**
 * The stack settings of notes-infra. Defaults live in Pulumi.yaml (one place); every key is
 * required here so that a missing default fails loudly instead of silently meaning "off".
 * Each rule refuses a value AWS would accept but that would break the stack or contradict another
 * setting; test/lib/config.test.ts has one case per rule.
 */
export const notesConfigSchema = z.strictObject({
    corsAllowedOrigins: z
        .array(origin)
        .min(1, "must list at least one origin")
        .refine((origins) => new Set(origins).size === origins.length, { message: "must not list an origin twice" }),
    logRetentionDays: z
        .number(expected("a number"))
        .int("must be a whole number")
        .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
            message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
        }),
    deletionProtection: z.boolean(expected("true or false")),
    retainOnDelete: z.boolean(expected("true or false")),
    bucketVersioning: z.boolean(expected("true or false")),
    // S3 requires a positive NoncurrentDays; there is no upper bound but S3's integer type.
    noncurrentVersionExpirationDays: int(1, 2147483647),
    bucketForceDestroy: z.boolean(expected("true or false")),
    // 0 would refuse every request; above the account's default regional quota (10,000 requests
    // per second, burst 5,000) a stage limit has no effect.
    throttlingBurstLimit: int(1, 5000),
    throttlingRateLimit: int(1, 10000),
    passwordMinimumLength: int(8, 99),
    passwordRequireSymbols: z.boolean(expected("true or false")),
    allowUserPasswordAuth: z.boolean(expected("true or false")),
    userPoolTier: z.enum(USER_POOL_TIERS, { error: `must be one of ${USER_POOL_TIERS.join(", ")}` }),
    mfa: z.enum(MFA_SETTINGS, { error: `must be one of ${MFA_SETTINGS.join(", ")}` }),
    emailSourceArn: optional(
        (value) => sesIdentity(value) !== undefined,
        'must be the ARN of a verified SES identity, e.g. "arn:aws:ses:us-east-1:123456789012:identity/notes.example.com", or "" for Cognito\'s default sender',
    ),
    emailFrom: optional(
        (value) => senderAddress(value) !== undefined,
        'must be an email address or "Name <address>", e.g. "Notes <no-reply@notes.example.com>", or "" for the identity\'s own address',
    ),
    lambdaMemorySize: int(128, 10240),
    lambdaTimeoutSeconds: int(MIN_LAMBDA_TIMEOUT_SECONDS, 29),
    site: z.boolean(expected("true or false")),
    sitePriceClass: z.enum(PRICE_CLASSES, { error: `must be one of ${PRICE_CLASSES.join(", ")}` }),
    siteDomain: optional(
        (value) => DOMAIN.test(value) && value === value.toLowerCase(),
        'must be a lower-case domain name such as "notes.example.com" (no scheme, no path), or "" for the distribution\'s own name',
    ),
    siteCertificateArn: optional(
        (value) => ACM_CERTIFICATE_ARN.test(value),
        'must be the ARN of an ACM certificate in us-east-1, e.g. "arn:aws:acm:us-east-1:123456789012:certificate/0d5b1c2e-…", or ""',
    ),
    siteHostedZoneId: optional((value) => HOSTED_ZONE_ID.test(value), 'must be a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ", or ""'),
    // Monitoring (components/monitoring.ts, docs/operations.md).
    alarmEmail: z
        .array(z.string(expected("a string")).refine((value) => senderAddress(value) === value, { message: 'must be an email address such as "ops@example.com"' }))
        .refine((emails) => new Set(emails.map((e) => e.toLowerCase())).size === emails.length, { message: "must not list an address twice" }),
    // A count of 5xx answers per minute; 1 pages on any sustained failure.
    alarmApi5xxPerMinute: int(1, 100000),
    // HTTP APIs give up on an integration after 30 s, so a p99 above that cannot be measured.
    alarmApiLatencyP99Ms: int(100, 30000),
    tracing: z.boolean(expected("true or false")),
    authDomainPrefix: optional(
        (value) => DOMAIN_PREFIX.test(value) && !RESERVED_DOMAIN_WORDS.some((word) => value.includes(word)),
        `must be 1 to 63 lowercase letters, digits or hyphens (not first or last), without ${RESERVED_DOMAIN_WORDS.join(", ")} (Cognito reserves them), e.g. "notes-login"; or "" for none`,
    ),
    authCustomDomain: optional((value) => DOMAIN.test(value) && value === value.toLowerCase(), 'must be a lowercase domain name such as "login.notes.example.com", or "" for none'),
    authCustomDomainCertificateArn: optional(
        (value) => ACM_CERTIFICATE_ARN.exec(value)?.[1] === "us-east-1",
        'must be the ARN of an ACM certificate in us-east-1 (Cognito\'s custom domains use CloudFront), or "" for none',
    ),
    identityProviders: identityProvidersSchema.optional(),
    identityProviderSecrets: identityProviderSecretsSchema.optional(),
});

/** Where the stack runs, for the rules that depend on it (the SES identity's Region). */
export interface ConfigContext {
    /** The stack's AWS Region (`aws:region`); rules that need it are skipped when unknown. */
    region?: string;
    /** Whether Pulumi passed this key (`<key>`, without the project) as a secret; unknown means plain. */
    isSecret?: (key: string) => boolean;
}

type Issue = { key: string; message: string };

/** Rules across settings: each names the key to change. */
function crossChecks(config: z.infer<typeof notesConfigSchema>, context: ConfigContext): Issue[] {
    const issues: Issue[] = [];
    if (config.bucketForceDestroy && config.retainOnDelete) {
        issues.push({ key: "bucketForceDestroy", message: "must be false when retainOnDelete is true: a retained bucket is never deleted, so it would never apply" });
    }
    if (config.bucketForceDestroy && config.deletionProtection) {
        issues.push({ key: "bucketForceDestroy", message: "must be false when deletionProtection is true: it would delete every upload with the bucket" });
    }
    const identity = config.emailSourceArn ? sesIdentity(config.emailSourceArn) : undefined;
    if (identity && context.region && identity.region !== context.region && !SES_ALTERNATE_REGIONS.includes(identity.region)) {
        issues.push({
            key: "emailSourceArn",
            message: `must name an SES identity in the stack's Region ${context.region} (Cognito uses SES in the user pool's Region, or in ${SES_ALTERNATE_REGIONS.join(", ")}), not ${identity.region}`,
        });
    }
    if (config.emailFrom !== undefined) {
        const address = senderAddress(config.emailFrom)!.toLowerCase();
        const domain = address.slice(address.lastIndexOf("@") + 1);
        // A verified domain also covers its subdomains; an address identity covers itself only.
        const covered = identity?.address
            ? address === identity.address.toLowerCase()
            : identity !== undefined && (domain === identity.domain || domain.endsWith(`.${identity.domain}`));
        if (!identity) {
            issues.push({ key: "emailFrom", message: "needs emailSourceArn: Cognito's default sender always sends from no-reply@verificationemail.com" });
        } else if (!covered) {
            issues.push({ key: "emailFrom", message: `must be an address of the SES identity ${identity.identity} (emailSourceArn)` });
        }
    } else if (identity && !identity.address) {
        issues.push({ key: "emailFrom", message: `is required when emailSourceArn names a domain (${identity.identity}): Cognito needs an address to send from` });
    }
    issues.push(...siteChecks(config));
    issues.push(...federationChecks(config, context));
    return issues;
}

/** The custom domain settings go together: a domain with exactly one way to its certificate. */
function siteChecks(config: z.infer<typeof notesConfigSchema>): Issue[] {
    const issues: Issue[] = [];
    const { siteDomain, siteCertificateArn, siteHostedZoneId } = config;
    // With site false nothing reads them (the local cloud turns the site off and keeps the stack's domain settings).
    if (!config.site) return issues;
    if (siteDomain === undefined) {
        for (const key of ["siteCertificateArn", "siteHostedZoneId"] as const) {
            if (config[key] !== undefined) issues.push({ key, message: "needs siteDomain: it is the certificate or the DNS zone of the site's custom domain" });
        }
    } else if (siteCertificateArn !== undefined && ACM_CERTIFICATE_ARN.exec(siteCertificateArn)![1] !== CLOUDFRONT_CERTIFICATE_REGION) {
        issues.push({
            key: "siteCertificateArn",
            message: `must name a certificate in ${CLOUDFRONT_CERTIFICATE_REGION}, not ${ACM_CERTIFICATE_ARN.exec(siteCertificateArn)![1]}: CloudFront uses ACM certificates from ${CLOUDFRONT_CERTIFICATE_REGION} only`,
        });
    } else if (siteCertificateArn !== undefined && siteHostedZoneId !== undefined) {
        issues.push({ key: "siteCertificateArn", message: "must be \"\" when siteHostedZoneId is set: the program then creates and validates the certificate itself" });
    } else if (siteCertificateArn === undefined && siteHostedZoneId === undefined) {
        issues.push({ key: "siteDomain", message: "needs siteCertificateArn (an ACM certificate in us-east-1) or siteHostedZoneId (the program makes one): CloudFront serves a custom domain only with a certificate" });
    }
    return issues;
}

/** Rules of the sign-in providers: a domain for managed login, one secret per provider, secrets kept secret. */
function federationChecks(config: z.infer<typeof notesConfigSchema>, context: ConfigContext): Issue[] {
    const issues: Issue[] = [];
    const providers = configuredProviders(config.identityProviders);
    const secrets = config.identityProviderSecrets ?? {};
    if (config.identityProviderSecrets !== undefined && !context.isSecret?.("identityProviderSecrets")) {
        issues.push({
            key: "identityProviderSecrets",
            message: "must be a Pulumi secret, never plain text: set each with `pulumi config set --secret --path identityProviderSecrets.<provider> <value>`",
        });
    }
    if ((config.authCustomDomain === undefined) !== (config.authCustomDomainCertificateArn === undefined)) {
        issues.push({
            key: config.authCustomDomain === undefined ? "authCustomDomain" : "authCustomDomainCertificateArn",
            message: "and authCustomDomain/authCustomDomainCertificateArn go together: a custom managed-login domain needs its ACM certificate",
        });
    }
    if (providers.length === 0) {
        for (const key of Object.keys(secrets)) issues.push({ key: "identityProviderSecrets", message: `has ${key}, but identityProviders configures no such provider` });
        return issues;
    }
    if (config.authDomainPrefix === undefined && config.authCustomDomain === undefined) {
        issues.push({ key: "authDomainPrefix", message: "is required when identityProviders is set: the providers redirect to the User Pool's managed-login domain" });
    }
    const known = new Set(providers.map((provider) => provider.secretKey));
    for (const key of Object.keys(secrets)) {
        if (!known.has(key)) issues.push({ key: "identityProviderSecrets", message: `has ${key}, but identityProviders configures no such provider (known: ${[...known].join(", ")})` });
    }
    for (const provider of providers) {
        if (!(provider.secretKey in secrets)) {
            const what = provider.kind.type === "SignInWithApple" ? "Apple's private key (.p8)" : "its client secret";
            issues.push({
                key: "identityProviderSecrets",
                message: `needs ${provider.secretKey}: ${what}, set with \`pulumi config set --secret --path identityProviderSecrets.${provider.secretKey} <value>\``,
            });
        }
    }
    return issues;
}

export type NotesConfig = z.infer<typeof notesConfigSchema>;

/** The settings Pulumi.yaml declares with a default (all but `OBJECT_CONFIG_KEYS`). */
export const CONFIG_KEYS = (Object.keys(notesConfigSchema.shape) as (keyof NotesConfig)[]).filter(
    (key) => !(OBJECT_CONFIG_KEYS as readonly string[]).includes(key),
) as Exclude<keyof NotesConfig, (typeof OBJECT_CONFIG_KEYS)[number]>[];

/** Settings whose values never appear in an error message. */
const SECRET_CONFIG_KEYS = ["identityProviderSecrets"];


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
export function parseConfig(raw: Record<string, unknown>, project = "notes-infra", context: ConfigContext = {}): NotesConfig {
    const got = (key: string) => (key in raw && !SECRET_CONFIG_KEYS.includes(key) ? `; got ${JSON.stringify(raw[key])}` : "");
    const result = notesConfigSchema.safeParse(raw);
    if (result.success) {
        const issues = crossChecks(result.data, context);
        if (issues.length === 0) return result.data;
        throw new ConfigError(`Invalid stack configuration:\n  ${issues.map(({ key, message }) => `${project}:${key} ${message}${got(key)}`).join("\n  ")}`);
    }
    const problems = result.error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys" && issue.path.length > 0) {
            return issue.keys.map((key) => `${project}:${issue.path.map(String).join(".")} has no setting ${key} (typo?)`).join("\n  ");
        }
        if (issue.code === "unrecognized_keys") {
            return issue.keys
                .map((key) => `${project}:${key} is not a setting of this program (typo?); known settings: ${[...CONFIG_KEYS, ...OBJECT_CONFIG_KEYS].join(", ")}`)
                .join("\n  ");
        }
        const [key, ...rest] = issue.path.map(String);
        const where = rest.length > 0 ? ` (item ${rest.join(".")})` : "";
        const message = issue.code === "invalid_type" && !(key in raw) ? "is required" : issue.message;
        return `${project}:${key}${where} ${message}${got(key)}`;
    });
    throw new ConfigError(`Invalid stack configuration:\n  ${problems.join("\n  ")}`);
}

/** The settings as the program uses them: the providers' secrets stay Pulumi secrets. */
export type ProgramConfig = Omit<NotesConfig, "identityProviderSecrets"> & {
    /** Provider key -> its client secret (Apple: private key), each a secret Output. */
    identityProviderSecrets: Record<string, pulumi.Output<string>>;
};

/** Whether Pulumi handed this config key to the program as a secret (`PULUMI_CONFIG_SECRET_KEYS`). */
function isConfigSecret(fullKey: string): boolean {
    // Internal to @pulumi/pulumi's runtime (not in its .d.ts); it is what `Config` consults too.
    const runtimeConfig: { isConfigSecret?: (key: string) => boolean } = require("@pulumi/pulumi/runtime/config");
    if (typeof runtimeConfig.isConfigSecret !== "function") throw new Error("@pulumi/pulumi no longer exposes runtime.isConfigSecret: check how it marks secret config.");
    return runtimeConfig.isConfigSecret(fullKey);
}

/** Reads this project's settings from the running stack and validates them. */
export function loadConfig(): ProgramConfig {
    const project = pulumi.getProject();
    const prefix = `${project}:`;
    const all = pulumi.runtime.allConfig();
    const raw: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        raw[key] = decode(value);
    }
    // The AWS provider takes its Region from aws:region, else from the environment.
    const region = all["aws:region"] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    const config = parseConfig(raw, project, { region, isSecret: (key) => isConfigSecret(`${prefix}${key}`) });
    const secrets = Object.entries(config.identityProviderSecrets ?? {}).map(([key, value]) => [key, pulumi.secret(value)] as const);
    return { ...config, identityProviderSecrets: Object.fromEntries(secrets) };
}

/** Stack settings arrive as strings; structured values and numbers arrive JSON-encoded. */
function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}
