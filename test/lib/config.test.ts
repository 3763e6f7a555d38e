import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CONFIG_KEYS, ConfigError, MIN_LAMBDA_TIMEOUT_SECONDS, notesConfigSchema, OBJECT_CONFIG_KEYS, parseConfig } from "../../lib/config";
import { readStackConfig, REPO_ROOT } from "../../tools/engine/program";
import { DYNAMO_CLIENT_SETTINGS } from "../../handlers/dynamo";

/** The settings as Pulumi would pass them for a stack, decoded, without the project prefix. */
function settings(stack: string): Record<string, unknown> {
    const { project, config } = readStackConfig(stack);
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        if (!key.startsWith(`${project}:`)) continue;
        try {
            raw[key.slice(project.length + 1)] = JSON.parse(value);
        } catch {
            raw[key.slice(project.length + 1)] = value;
        }
    }
    return raw;
}

const rejects = (raw: Record<string, unknown>, message: RegExp, context = {}) =>
    assert.throws(() => parseConfig(raw, "notes-infra", context), (error: Error) => {
        assert.ok(error instanceof ConfigError, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
    });

const SES_DOMAIN = "arn:aws:ses:us-east-1:123456789012:identity/notes.example.com";
const SES_ADDRESS = "arn:aws:ses:us-east-1:123456789012:identity/no-reply@notes.example.com";

describe("stack settings", () => {
    it("declares a default in Pulumi.yaml for every setting the program reads", () => {
        assert.deepEqual(Object.keys(settings("dev")).sort(), [...CONFIG_KEYS].sort());
    });

    it("accepts the dev and prod stacks as committed", () => {
        assert.equal(parseConfig(settings("dev")).deletionProtection, false);
        assert.equal(parseConfig(settings("prod")).deletionProtection, true);
    });

    it("offers a second factor to every user of the dev and prod stacks, without forcing it", () => {
        assert.equal(parseConfig(settings("dev")).mfa, "optional");
        assert.equal(parseConfig(settings("prod")).mfa, "optional");
    });

    const invalid: [string, unknown, RegExp][] = [
        ["logRetentionDays", -3, /notes-infra:logRetentionDays must be one of/],
        ["logRetentionDays", 10, /notes-infra:logRetentionDays must be one of/],
        ["corsAllowedOrigins", ["*"], /notes-infra:corsAllowedOrigins \(item 0\) must be an http\(s\) origin/],
        ["corsAllowedOrigins", ["https://notes.example.com/app"], /corsAllowedOrigins \(item 0\)/],
        ["corsAllowedOrigins", [], /notes-infra:corsAllowedOrigins must list at least one origin/],
        ["corsAllowedOrigins", "https://notes.example.com", /notes-infra:corsAllowedOrigins .*expected array/],
        ["corsAllowedOrigins", ["https://notes.example.com", "https://notes.example.com"], /notes-infra:corsAllowedOrigins must not list an origin twice/],
        ["passwordMinimumLength", 6, /notes-infra:passwordMinimumLength must be at least 8; got 6/],
        ["throttlingRateLimit", 1.5, /notes-infra:throttlingRateLimit must be a whole number/],
        // AWS accepts 0, and the stage then refuses every request.
        ["throttlingBurstLimit", 0, /notes-infra:throttlingBurstLimit must be at least 1; got 0/],
        ["throttlingRateLimit", 0, /notes-infra:throttlingRateLimit must be at least 1; got 0/],
        ["throttlingBurstLimit", 6000, /notes-infra:throttlingBurstLimit must be at most 5000; got 6000/],
        ["deletionProtection", "yes", /notes-infra:deletionProtection must be true or false; got "yes"/],
        ["lambdaTimeoutSeconds", 60, /notes-infra:lambdaTimeoutSeconds must be at most 29; got 60/],
        ["alarmEmail", ["ops"], /notes-infra:alarmEmail \(item 0\) must be an email address/],
        ["alarmEmail", ["Ops <ops@example.com>"], /notes-infra:alarmEmail \(item 0\) must be an email address/],
        ["alarmEmail", "ops@example.com", /notes-infra:alarmEmail .*expected array/],
        ["alarmEmail", ["ops@example.com", "OPS@example.com"], /notes-infra:alarmEmail must not list an address twice/],
        ["alarmApi5xxPerMinute", 0, /notes-infra:alarmApi5xxPerMinute must be at least 1; got 0/],
        // HTTP APIs end an integration at 30 s: a p99 above that is never measured.
        ["alarmApiLatencyP99Ms", 45000, /notes-infra:alarmApiLatencyP99Ms must be at most 30000; got 45000/],
        ["tracing", "on", /notes-infra:tracing must be true or false; got "on"/],
        // Lambda accepts 1 to 3 s, and the function then dies before it can answer 503.
        ["lambdaTimeoutSeconds", 3, /notes-infra:lambdaTimeoutSeconds must be at least 5; got 3/],
        ["lambdaMemorySize", 64, /notes-infra:lambdaMemorySize must be at least 128; got 64/],
        ["noncurrentVersionExpirationDays", 0, /notes-infra:noncurrentVersionExpirationDays must be at least 1; got 0/],
        ["noncurrentVersionExpirationDays", 7.5, /notes-infra:noncurrentVersionExpirationDays must be a whole number/],
        ["userPoolTier", "BASIC", /notes-infra:userPoolTier must be one of LITE, ESSENTIALS, PLUS; got "BASIC"/],
        ["userPoolTier", "lite", /notes-infra:userPoolTier must be one of LITE, ESSENTIALS, PLUS/],
        ["mfa", "sms", /notes-infra:mfa must be one of off, optional, required; got "sms"/],
        ["mfa", "OPTIONAL", /notes-infra:mfa must be one of off, optional, required; got "OPTIONAL"/],
        ["mfa", true, /notes-infra:mfa must be one of off, optional, required; got true/],
        ["emailSourceArn", "no-reply@notes.example.com", /notes-infra:emailSourceArn must be the ARN of a verified SES identity/],
        ["emailSourceArn", "arn:aws:sns:us-east-1:123456789012:notes", /notes-infra:emailSourceArn must be the ARN of a verified SES identity/],
        ["emailSourceArn", "arn:aws:ses:us-east-1:123456789012:configuration-set/notes", /notes-infra:emailSourceArn must be the ARN of a verified SES identity/],
        ["emailSourceArn", "arn:aws:ses:us-east-1:1234:identity/notes.example.com", /notes-infra:emailSourceArn must be the ARN/],
        ["emailFrom", "Notes", /notes-infra:emailFrom must be an email address or "Name <address>"/],
        ["emailFrom", "Notes <notes.example.com>", /notes-infra:emailFrom must be an email address/],
    ];
    for (const [key, value, message] of invalid) {
        it(`rejects ${key} = ${JSON.stringify(value)} with a message naming the key`, () => {
            rejects({ ...settings("dev"), [key]: value }, message);
        });
    }

    describe("across settings", () => {
        const prod = () => settings("prod");

        it("rejects a force-destroyed bucket in a stack that retains it", () => {
            rejects({ ...prod(), deletionProtection: false, bucketForceDestroy: true }, /notes-infra:bucketForceDestroy must be false when retainOnDelete is true/);
        });

        it("rejects a force-destroyed bucket in a stack with deletion protection", () => {
            rejects({ ...prod(), retainOnDelete: false, bucketForceDestroy: true }, /notes-infra:bucketForceDestroy must be false when deletionProtection is true/);
        });

        it("rejects a sender without an SES identity, since Cognito's sender has a fixed address", () => {
            rejects({ ...prod(), emailFrom: "no-reply@notes.example.com" }, /notes-infra:emailFrom needs emailSourceArn/);
        });

        it("rejects a sender outside the SES identity", () => {
            rejects({ ...prod(), emailSourceArn: SES_DOMAIN, emailFrom: "Notes <no-reply@example.org>" }, /notes-infra:emailFrom must be an address of the SES identity notes.example.com/);
            rejects({ ...prod(), emailSourceArn: SES_DOMAIN, emailFrom: "no-reply@evilnotes.example.com" }, /notes-infra:emailFrom must be an address of the SES identity/);
            rejects({ ...prod(), emailSourceArn: SES_ADDRESS, emailFrom: "other@notes.example.com" }, /notes-infra:emailFrom must be an address of the SES identity no-reply@notes.example.com/);
        });

        it("requires a sender when the SES identity is a domain", () => {
            rejects({ ...prod(), emailSourceArn: SES_DOMAIN }, /notes-infra:emailFrom is required when emailSourceArn names a domain/);
        });

        it("rejects an SES identity in a Region Cognito cannot send from for this stack", () => {
            const arn = "arn:aws:ses:eu-central-1:123456789012:identity/notes.example.com";
            rejects({ ...prod(), emailSourceArn: arn, emailFrom: "no-reply@notes.example.com" }, /notes-infra:emailSourceArn must name an SES identity in the stack's Region us-east-1 .*not eu-central-1/, { region: "us-east-1" });
        });

        it("accepts SES in the stack's Region or a Cognito alternate, senders of the identity, its subdomains and display names", () => {
            const accepted: Record<string, unknown>[] = [
                { emailSourceArn: SES_ADDRESS },
                { emailSourceArn: SES_ADDRESS, emailFrom: "Notes <No-Reply@notes.example.com>" },
                { emailSourceArn: SES_DOMAIN, emailFrom: "no-reply@notes.example.com" },
                { emailSourceArn: SES_DOMAIN, emailFrom: '"Notes, the app" <no-reply@mail.notes.example.com>' },
                { emailSourceArn: "arn:aws:ses:eu-west-1:123456789012:identity/notes.example.com", emailFrom: "no-reply@notes.example.com" },
            ];
            for (const change of accepted) {
                const config = parseConfig({ ...prod(), ...change }, "notes-infra", { region: "us-east-1" });
                assert.equal(config.emailSourceArn, change.emailSourceArn);
                assert.equal(config.emailFrom, change.emailFrom);
            }
            const sameRegion = "arn:aws:ses:ap-southeast-2:123456789012:identity/notes.example.com";
            assert.equal(parseConfig({ ...prod(), emailSourceArn: sameRegion, emailFrom: "a@notes.example.com" }, "notes-infra", { region: "ap-southeast-2" }).emailSourceArn, sameRegion);
        });

        it('reads "" as unset for the optional email settings', () => {
            const config = parseConfig(prod());
            assert.equal(config.emailSourceArn, undefined);
            assert.equal(config.emailFrom, undefined);
        });
    });

    it("rejects a misspelled setting instead of silently ignoring it", () => {
        assert.throws(() => parseConfig({ ...settings("prod"), deletionProtecton: true }), /notes-infra:deletionProtecton is not a setting of this program/);
    });

    it("reports a missing setting as required", () => {
        const { retainOnDelete: _omitted, ...rest } = settings("dev");
        assert.throws(() => parseConfig(rest), /notes-infra:retainOnDelete is required/);
    });

    it("lets a function outlive the DynamoDB client's attempts, so a slow table answers 503, not a timeout", () => {
        const { maxAttempts, requestHandler } = DYNAMO_CLIENT_SETTINGS;
        // One second of headroom for the SDK's back-off between attempts and a cold start.
        assert.ok(MIN_LAMBDA_TIMEOUT_SECONDS * 1000 >= maxAttempts * requestHandler.requestTimeout + 1000);
    });
});

describe("one source for each default", () => {
    const project = parseYaml(readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8"));
    const declared: Record<string, { type: string; default?: unknown; description?: string }> = project.config;
    const schema = z.toJSONSchema(notesConfigSchema, { io: "input", unrepresentable: "any" }) as { properties: Record<string, { type?: string }> };

    it("declares every setting in Pulumi.yaml with the schema's type, a description and a default", () => {
        assert.deepEqual(Object.keys(declared).sort(), [...CONFIG_KEYS].sort());
        for (const key of CONFIG_KEYS) {
            assert.equal(declared[key].type, schema.properties[key].type, `${key}: Pulumi.yaml and lib/config.ts disagree on the type`);
            assert.ok(declared[key].description, `${key} has no description`);
            assert.ok("default" in declared[key], `${key} has no default in Pulumi.yaml`);
        }
    });

    it("has defaults in Pulumi.yaml that are valid settings on their own", () => {
        const defaults = Object.fromEntries(CONFIG_KEYS.map((key) => [key, declared[key].default]));
        const config = parseConfig(defaults);
        assert.equal(config.userPoolTier, "LITE");
        assert.equal(config.noncurrentVersionExpirationDays, 30);
    });

    it("sets in stack files only settings Pulumi.yaml declares", () => {
        for (const file of readdirSync(REPO_ROOT).filter((name) => /^Pulumi\..+\.yaml$/.test(name))) {
            const stack = parseYaml(readFileSync(path.join(REPO_ROOT, file), "utf8"));
            for (const key of Object.keys(stack.config ?? {}).filter((name) => name.startsWith("notes-infra:"))) {
                const setting = key.slice("notes-infra:".length);
                // Object settings cannot be declared in Pulumi.yaml (project config has no object type).
                assert.ok(setting in declared || (OBJECT_CONFIG_KEYS as readonly string[]).includes(setting), `${file} sets ${key}, which Pulumi.yaml does not declare`);
            }
        }
    });

    it("gives the components no second default: no `args.x ?? value` in components/", () => {
        const dir = path.join(REPO_ROOT, "components");
        for (const file of readdirSync(dir).filter((name) => name.endsWith(".ts"))) {
            const source = readFileSync(path.join(dir, file), "utf8");
            assert.deepEqual(source.match(/args\.\w+\s*\?\?/g) ?? [], [], `${file} defaults a setting a second time`);
        }
    });
});

describe("hosted site settings", () => {
    const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0d5b1c2e-1234-4abc-9def-0123456789ab";
    const ZONE = "Z0123456789ABCDEFGHIJ";
    const dev = () => settings("dev");

    it("hosts the site by default on the cheapest price class, with the distribution's own name", () => {
        const config = parseConfig(dev());
        assert.equal(config.site, true);
        assert.equal(config.sitePriceClass, "PriceClass_100");
        assert.deepEqual([config.siteDomain, config.siteCertificateArn, config.siteHostedZoneId], [undefined, undefined, undefined]);
    });

    it("accepts a custom domain with either an ACM certificate in us-east-1 or a hosted zone", () => {
        assert.equal(parseConfig({ ...dev(), siteDomain: "notes.example.com", siteCertificateArn: CERTIFICATE }).siteCertificateArn, CERTIFICATE);
        assert.equal(parseConfig({ ...dev(), siteDomain: "notes.example.com", siteHostedZoneId: ZONE }).siteHostedZoneId, ZONE);
    });

    const invalid: [Record<string, unknown>, RegExp][] = [
        [{ site: "yes" }, /notes-infra:site must be true or false; got "yes"/],
        [{ sitePriceClass: "PriceClass_50" }, /notes-infra:sitePriceClass must be one of PriceClass_100, PriceClass_200, PriceClass_All; got "PriceClass_50"/],
        [{ siteDomain: "https://notes.example.com" }, /notes-infra:siteDomain must be a lower-case domain name/],
        [{ siteDomain: "Notes.Example.com", siteHostedZoneId: ZONE }, /notes-infra:siteDomain must be a lower-case domain name/],
        [{ siteDomain: "notes.example.com" }, /notes-infra:siteDomain needs siteCertificateArn \(an ACM certificate in us-east-1\) or siteHostedZoneId/],
        [{ siteDomain: "notes.example.com", siteCertificateArn: CERTIFICATE.replace("us-east-1", "eu-west-1") }, /notes-infra:siteCertificateArn must name a certificate in us-east-1, not eu-west-1/],
        [{ siteDomain: "notes.example.com", siteCertificateArn: "arn:aws:iam::123456789012:server-certificate/notes" }, /notes-infra:siteCertificateArn must be the ARN of an ACM certificate in us-east-1/],
        [{ siteDomain: "notes.example.com", siteCertificateArn: CERTIFICATE, siteHostedZoneId: ZONE }, /notes-infra:siteCertificateArn must be "" when siteHostedZoneId is set/],
        [{ siteCertificateArn: CERTIFICATE }, /notes-infra:siteCertificateArn needs siteDomain/],
        [{ siteHostedZoneId: ZONE }, /notes-infra:siteHostedZoneId needs siteDomain/],
        [{ siteDomain: "notes.example.com", siteHostedZoneId: "/hostedzone/Z0123" }, /notes-infra:siteHostedZoneId must be a Route 53 hosted zone id/],
    ];
    for (const [change, message] of invalid) {
        it(`refuses ${JSON.stringify(change)}, naming the key`, () => rejects({ ...dev(), ...change }, message));
    }
});
