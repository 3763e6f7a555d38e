/**
 * `aws:iam/getPolicyDocument:getPolicyDocument` answered offline exactly as the AWS provider
 * renders it (terraform-provider-aws `internal/service/iam/policy_document_data_source.go` and
 * `policy_model.go`, which @pulumi/aws bridges): the same merging, ordering, single-versus-list
 * rendering and errors. It is a pure function of its inputs, so no cloud is needed, and the
 * document it returns is exactly what the pack then judges.
 *
 * What the provider does, and this module with it:
 * - `sourcePolicyDocuments` are merged first, in order; a Sid repeated across them is an error.
 *   Then the `statements` (a Sid repeated among them is an error), then each of
 *   `overridePolicyDocuments` in order. Merging replaces the statement with the same non-empty
 *   Sid in place, appends the others, adopts a non-empty Id and the higher Version.
 * - A statement's actions, resources and principal identifiers are sets: one value renders as a
 *   string, several as a list sorted in reverse; `&{` becomes `${` in resources, principals and
 *   condition values. Condition values keep their order; one renders as a string.
 * - Principals group by type (types in sorted order); `{type: "*", identifiers: ["*"]}` alone
 *   renders as `"*"`, while `{type: "AWS", identifiers: ["*"]}` stays `{"AWS": "*"}`.
 * - Keys come in the provider's order (Version, Id, Statement; Sid, Effect, Action, NotAction,
 *   Resource, NotResource, Principal, NotPrincipal, Condition); empty ones are left out. `json`
 *   is indented by two spaces, `minifiedJson` is compact, and both escape `<`, `>` and `&` as
 *   Go's encoder does. `id` is the CRC-32 of `json`.
 */
import { crc32 } from "node:zlib";

export const POLICY_DOCUMENT_TOKEN = "aws:iam/getPolicyDocument:getPolicyDocument";

/** The provider refused the inputs (its own error text). */
export class PolicyDocumentError extends Error {}

type Strings = string | string[];

interface Principal {
    type: string;
    identifiers: Strings;
}

interface Condition {
    test: string;
    variable: string;
    values: Strings;
}

interface Statement {
    sid?: string;
    effect?: string;
    actions?: unknown;
    notActions?: unknown;
    resources?: unknown;
    notResources?: unknown;
    principals?: Principal[];
    notPrincipals?: Principal[];
    conditions?: Condition[];
}

interface Doc {
    version: string;
    id: string;
    statements: Statement[];
}

/** Inputs of the invoke, as the SDK sends them (camelCase). */
export interface PolicyDocumentInputs {
    version?: string;
    policyId?: string;
    sourcePolicyDocuments?: (string | null)[];
    overridePolicyDocuments?: (string | null)[];
    statements?: StatementInput[];
    /** Deprecated in the provider: only the empty string is accepted. */
    sourceJson?: string;
    overrideJson?: string;
}

interface PrincipalInput {
    type: string;
    identifiers: string[];
}

interface StatementInput {
    sid?: string;
    effect?: string;
    actions?: string[];
    notActions?: string[];
    resources?: string[];
    notResources?: string[];
    principals?: PrincipalInput[];
    notPrincipals?: PrincipalInput[];
    conditions?: { test: string; variable: string; values: string[] }[];
}

/** A set of strings as the provider decodes it: one value as a string, several reverse-sorted. */
function decodeSet(values: string[]): Strings {
    const unique = [...new Set(values)];
    if (unique.length === 1) return unique[0];
    return unique.sort(byCodePoint).reverse();
}

/** Go sorts strings by bytes; for UTF-16 JavaScript strings code points give the same order. */
function byCodePoint(a: string, b: string): number {
    const x = [...a].map((c) => c.codePointAt(0)!);
    const y = [...b].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
}

function replaceVars(value: Strings, version: string): Strings {
    const one = (item: string) => {
        if (version === "2008-10-17" && item.includes("&{")) throw new PolicyDocumentError(`found &{ sequence in (${item}), which is not supported in document version 2008-10-17`);
        return item.split("&{").join("${");
    };
    return Array.isArray(value) ? value.map(one) : one(value);
}

function strings(value: unknown, what: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) throw new PolicyDocumentError(`${what} must be a list of strings`);
    return value as string[];
}

function principalsOf(input: PrincipalInput[] | undefined, version: string, what: string): Principal[] | undefined {
    if (!input || input.length === 0) return undefined;
    // Principal blocks are a set: the same block given twice counts once.
    const seen = new Set<string>();
    const out: Principal[] = [];
    for (const principal of input) {
        if (typeof principal?.type !== "string") throw new PolicyDocumentError(`${what}: type is required`);
        const identifiers = strings(principal.identifiers, `${what}.identifiers`);
        if (identifiers.length === 0) throw new PolicyDocumentError(`${what}: identifiers is required`);
        const key = JSON.stringify([principal.type, [...new Set(identifiers)].sort()]);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ type: principal.type, identifiers: replaceVars(decodeSet(identifiers), version) });
    }
    return out;
}

function statementOf(input: StatementInput, index: number, version: string, sids: Set<string>): Statement {
    const what = `statements[${index}]`;
    const effect = input.effect ?? "Allow";
    if (effect !== "Allow" && effect !== "Deny") throw new PolicyDocumentError(`${what}.effect: expected to be one of ["Allow" "Deny"], got ${effect}`);
    const statement: Statement = { effect };
    if (input.sid !== undefined) {
        if (!/^[a-zA-Z0-9]*$/.test(input.sid)) throw new PolicyDocumentError(`${what}.sid: must only include alphanumeric characters`);
        if (sids.has(input.sid)) throw new PolicyDocumentError(`writing IAM Policy Document: duplicate Sid (${input.sid}). Remove the Sid or ensure the Sid is unique.`);
        statement.sid = input.sid;
        if (input.sid.length > 0) sids.add(input.sid);
    }
    const actions = strings(input.actions, `${what}.actions`);
    if (actions.length > 0) statement.actions = decodeSet(actions);
    const notActions = strings(input.notActions, `${what}.notActions`);
    if (notActions.length > 0) statement.notActions = decodeSet(notActions);
    const resources = strings(input.resources, `${what}.resources`);
    if (resources.length > 0) statement.resources = replaceVars(decodeSet(resources), version);
    const notResources = strings(input.notResources, `${what}.notResources`);
    if (notResources.length > 0) statement.notResources = replaceVars(decodeSet(notResources), version);
    statement.principals = principalsOf(input.principals, version, `${what}.principals`);
    statement.notPrincipals = principalsOf(input.notPrincipals, version, `${what}.notPrincipals`);
    if (input.conditions && input.conditions.length > 0) {
        // Conditions are a set of blocks: an identical block given twice counts once.
        const seen = new Set<string>();
        statement.conditions = [];
        for (const condition of input.conditions) {
            const key = JSON.stringify([condition.test, condition.variable, condition.values]);
            if (seen.has(key)) continue;
            seen.add(key);
            const values = replaceVars(strings(condition.values, `${what}.conditions.values`), version) as string[];
            statement.conditions.push({ test: condition.test, variable: condition.variable, values: values.length === 1 ? values[0] : values });
        }
    }
    return statement;
}

/** A JSON policy document as the provider's model reads it (source and override documents). */
function parseDocument(text: string, what: string): Doc {
    let raw: any;
    try {
        raw = JSON.parse(text);
    } catch (error) {
        throw new PolicyDocumentError(`writing IAM Policy Document: ${what}: ${(error as Error).message}`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new PolicyDocumentError(`writing IAM Policy Document: ${what}: not a JSON object`);
    const field = (object: Record<string, any>, name: string) => {
        // Go's decoder matches field names case-insensitively.
        const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
        return key === undefined ? undefined : object[key];
    };
    const statements = field(raw, "Statement");
    if (statements !== undefined && statements !== null && !Array.isArray(statements)) {
        throw new PolicyDocumentError(`writing IAM Policy Document: ${what}: json: cannot unmarshal object into Go struct field .Statement`);
    }
    return {
        version: String(field(raw, "Version") ?? ""),
        id: String(field(raw, "Id") ?? ""),
        statements: (statements ?? []).map((s: Record<string, any>) => ({
            sid: String(field(s, "Sid") ?? ""),
            effect: field(s, "Effect"),
            actions: field(s, "Action"),
            notActions: field(s, "NotAction"),
            resources: field(s, "Resource"),
            notResources: field(s, "NotResource"),
            principals: parsePrincipals(field(s, "Principal"), what),
            notPrincipals: parsePrincipals(field(s, "NotPrincipal"), what),
            conditions: parseConditions(field(s, "Condition")),
        })),
    };
}

function parsePrincipals(value: unknown, what: string): Principal[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return [{ type: "*", identifiers: ["*"] }];
    if (typeof value !== "object" || Array.isArray(value)) throw new PolicyDocumentError(`writing IAM Policy Document: ${what}: Unsupported data type for IAMPolicyStatementPrincipalSet`);
    return Object.entries(value as Record<string, unknown>).map(([type, identifiers]) => {
        if (typeof identifiers === "string") return { type, identifiers };
        if (Array.isArray(identifiers) && identifiers.every((item) => typeof item === "string")) return { type, identifiers: [...identifiers].sort(byCodePoint) };
        throw new PolicyDocumentError(`writing IAM Policy Document: ${what}: Unsupported data type for IAMPolicyStatementPrincipalSet.Identifiers (principal type "${type}")`);
    });
}

function parseConditions(value: unknown): Condition[] | undefined {
    if (value === undefined || value === null || typeof value !== "object") return undefined;
    const out: Condition[] = [];
    for (const [test, variables] of Object.entries(value as Record<string, unknown>)) {
        if (variables === null || typeof variables !== "object") continue;
        for (const [variable, values] of Object.entries(variables as Record<string, unknown>)) {
            // As the provider's model: strings, booleans (as text) and lists of strings; other values drop out.
            if (typeof values === "string") out.push({ test, variable, values: [values] });
            else if (typeof values === "boolean") out.push({ test, variable, values: String(values) });
            else if (Array.isArray(values)) out.push({ test, variable, values: values.map(String) });
        }
    }
    return out;
}

function merge(into: Doc, from: Doc): void {
    if (from.id.length > 0) into.id = from.id;
    if (from.version > into.version) into.version = from.version;
    for (const statement of from.statements) {
        const sid = statement.sid ?? "";
        const at = sid.length > 0 ? into.statements.findIndex((existing) => (existing.sid ?? "") === sid) : -1;
        if (at >= 0) into.statements[at] = statement;
        else into.statements.push(statement);
    }
}

function renderPrincipals(principals: Principal[] | undefined): unknown {
    if (!principals || principals.length === 0) return undefined;
    if (principals.length === 1) {
        const [only] = principals;
        const ids = only.identifiers;
        if (only.type === "*" && (ids === "*" || (Array.isArray(ids) && ids.length === 1 && ids[0] === "*"))) return "*";
    }
    const raw: Record<string, Strings> = {};
    for (const { type, identifiers } of principals) {
        const existing = raw[type];
        if (Array.isArray(identifiers)) {
            const sorted = [...identifiers].sort(byCodePoint).reverse();
            raw[type] = existing === undefined ? sorted : [...(Array.isArray(existing) ? existing : [existing]), ...sorted];
        } else {
            raw[type] = existing === undefined ? identifiers : [...(Array.isArray(existing) ? existing : [existing]), identifiers];
        }
    }
    return sortedKeys(raw);
}

function renderConditions(conditions: Condition[] | undefined): unknown {
    if (!conditions || conditions.length === 0) return undefined;
    const raw: Record<string, Record<string, string[]>> = {};
    for (const { test, variable, values } of conditions) {
        raw[test] ??= {};
        raw[test][variable] = [...(raw[test][variable] ?? []), ...(Array.isArray(values) ? values : [values])];
    }
    const out: Record<string, Record<string, Strings>> = {};
    for (const test of Object.keys(raw).sort(byCodePoint)) {
        out[test] = {};
        for (const variable of Object.keys(raw[test]).sort(byCodePoint)) {
            const values = raw[test][variable];
            out[test][variable] = values.length === 1 ? values[0] : values;
        }
    }
    return out;
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.keys(record).sort(byCodePoint).map((key) => [key, record[key]]));
}

/** Go's `omitempty`: nil, empty strings, empty lists and empty maps are left out. */
function isEmpty(value: unknown): boolean {
    if (value === undefined || value === null || value === "") return true;
    if (Array.isArray(value)) return value.length === 0;
    return typeof value === "object" && Object.keys(value as object).length === 0;
}

function renderDocument(doc: Doc): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const put = (target: Record<string, unknown>, key: string, value: unknown) => {
        if (!isEmpty(value)) target[key] = value;
    };
    put(out, "Version", doc.version);
    put(out, "Id", doc.id);
    const statements = doc.statements.map((statement) => {
        const s: Record<string, unknown> = {};
        put(s, "Sid", statement.sid);
        put(s, "Effect", statement.effect);
        put(s, "Action", statement.actions);
        put(s, "NotAction", statement.notActions);
        put(s, "Resource", statement.resources);
        put(s, "NotResource", statement.notResources);
        put(s, "Principal", renderPrincipals(statement.principals));
        put(s, "NotPrincipal", renderPrincipals(statement.notPrincipals));
        put(s, "Condition", renderConditions(statement.conditions));
        return s;
    });
    put(out, "Statement", statements);
    return out;
}

/** Go's encoder escapes these inside strings (they never occur outside one in JSON). */
const goEscape = (json: string) => json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

export interface PolicyDocumentResult {
    id: string;
    json: string;
    minifiedJson: string;
    [input: string]: unknown;
}

/** The invoke's answer: the rendered document (`json`, `minifiedJson`, `id`) and the inputs echoed back. */
export function renderPolicyDocument(inputs: PolicyDocumentInputs = {}): PolicyDocumentResult {
    for (const deprecated of ["sourceJson", "overrideJson"] as const) {
        if (inputs[deprecated] !== undefined && inputs[deprecated] !== "") throw new PolicyDocumentError(`${deprecated} is not used by the provider any more: only an empty value is accepted; use ${deprecated === "sourceJson" ? "sourcePolicyDocuments" : "overridePolicyDocuments"}.`);
    }
    const version = inputs.version ?? "2012-10-17";
    if (version !== "2008-10-17" && version !== "2012-10-17") throw new PolicyDocumentError(`version: expected to be one of ["2008-10-17" "2012-10-17"], got ${version}`);
    const merged: Doc = { version: "", id: "", statements: [] };

    const sourceSids = new Set<string>();
    (inputs.sourcePolicyDocuments ?? []).forEach((text, index) => {
        if (text === null || text === undefined) return;
        const source = parseDocument(text, `merging source document ${index}`);
        source.statements.forEach((statement, statementIndex) => {
            const sid = statement.sid ?? "";
            if (sid === "") return;
            if (sourceSids.has(sid)) {
                throw new PolicyDocumentError(`writing IAM Policy Document: merging source document ${index}: duplicate Sid (${sid}) in source_policy_documents (statement ${statementIndex}). Remove the Sid or ensure Sids are unique.`);
            }
            sourceSids.add(sid);
        });
        merge(merged, source);
    });

    const own: Doc = { version, id: inputs.policyId ?? "", statements: [] };
    const sids = new Set<string>();
    own.statements = (inputs.statements ?? []).map((statement, index) => statementOf(statement ?? {}, index, version, sids));
    merge(merged, own);

    (inputs.overridePolicyDocuments ?? []).forEach((text, index) => {
        if (text === null || text === undefined) return;
        merge(merged, parseDocument(text, `merging override document ${index}`));
    });

    const rendered = renderDocument(merged);
    const json = goEscape(JSON.stringify(rendered, null, 2));
    const minifiedJson = goEscape(JSON.stringify(rendered));
    return { ...inputs, id: String(crc32(Buffer.from(json, "utf8"))), json, minifiedJson };
}
