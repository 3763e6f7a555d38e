import { strict as assert } from "node:assert";
import { CONFIG_KEYS, ConfigError, parseConfig } from "../../lib/config";
import { readStackConfig } from "../../engine/program";

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

describe("stack settings", () => {
    it("declares a default in Pulumi.yaml for every setting the program reads", () => {
        assert.deepEqual(Object.keys(settings("dev")).sort(), [...CONFIG_KEYS].sort());
    });

    it("accepts the dev and prod stacks as committed", () => {
        assert.equal(parseConfig(settings("dev")).deletionProtection, false);
        assert.equal(parseConfig(settings("prod")).deletionProtection, true);
    });

    const invalid: [string, unknown, RegExp][] = [
        ["logRetentionDays", -3, /notes-infra:logRetentionDays must be one of/],
        ["logRetentionDays", 10, /notes-infra:logRetentionDays must be one of/],
        ["corsAllowedOrigins", ["*"], /notes-infra:corsAllowedOrigins \(item 0\) must be an http\(s\) origin/],
        ["corsAllowedOrigins", ["https://notes.example.com/app"], /corsAllowedOrigins \(item 0\)/],
        ["corsAllowedOrigins", [], /notes-infra:corsAllowedOrigins must list at least one origin/],
        ["corsAllowedOrigins", "https://notes.example.com", /notes-infra:corsAllowedOrigins .*expected array/],
        ["passwordMinimumLength", 6, /notes-infra:passwordMinimumLength must be at least 8; got 6/],
        ["throttlingRateLimit", 1.5, /notes-infra:throttlingRateLimit must be a whole number/],
        ["deletionProtection", "yes", /notes-infra:deletionProtection must be true or false; got "yes"/],
        ["lambdaTimeoutSeconds", 60, /notes-infra:lambdaTimeoutSeconds must be at most 29; got 60/],
    ];
    for (const [key, value, message] of invalid) {
        it(`rejects ${key} = ${JSON.stringify(value)} with a message naming the key`, () => {
            assert.throws(() => parseConfig({ ...settings("dev"), [key]: value }), (error: Error) => {
                assert.ok(error instanceof ConfigError);
                assert.match(error.message, message);
                return true;
            });
        });
    }

    it("rejects a misspelled setting instead of silently ignoring it", () => {
        assert.throws(() => parseConfig({ ...settings("prod"), deletionProtecton: true }), /notes-infra:deletionProtecton is not a setting of this program/);
    });

    it("reports a missing setting as required", () => {
        const { retainOnDelete: _omitted, ...rest } = settings("dev");
        assert.throws(() => parseConfig(rest), /notes-infra:retainOnDelete is required/);
    });
});
