/**
 * The README's architecture picture, drawn from a run of the real program under the mock engine:
 * every resource it registers, grouped by component, with the request path (routes, integrations,
 * functions, token exchange) taken from the resources' inputs and the grants (who may call or read
 * what) taken from the IAM documents the program generated. Nothing here names a resource of this
 * program: a new route, role or statement shows up in the picture by itself.
 *
 * Resources that only configure another one (a bucket's settings, a role's inline policy, a
 * function's log group and role, a stage) are drawn inside the node they configure, so the picture
 * stays readable; the node lists them.
 */
import type { ProgramRun, RecordedResource } from "../engine/program";

/** The stack the README draws: the one users' data lives in, with every protection on. */
export const ARCHITECTURE_STACK = "prod";
/** The README block the picture lives in (`<!-- architecture:begin … -->`). */
export const ARCHITECTURE_BLOCK = "architecture";

const T = {
    stack: "pulumi:pulumi:Stack",
    api: "aws:apigatewayv2/api:Api",
    stage: "aws:apigatewayv2/stage:Stage",
    route: "aws:apigatewayv2/route:Route",
    integration: "aws:apigatewayv2/integration:Integration",
    function: "aws:lambda/function:Function",
    permission: "aws:lambda/permission:Permission",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    bucket: "aws:s3/bucket:Bucket",
    table: "aws:dynamodb/table:Table",
    userPool: "aws:cognito/userPool:UserPool",
    userPoolClient: "aws:cognito/userPoolClient:UserPoolClient",
    identityPool: "aws:cognito/identityPool:IdentityPool",
    roleAttachment: "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment",
    distribution: "aws:cloudfront/distribution:Distribution",
    originAccessControl: "aws:cloudfront/originAccessControl:OriginAccessControl",
    responseHeadersPolicy: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    topic: "aws:sns/topic:Topic",
    topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
    topicSubscription: "aws:sns/topicSubscription:TopicSubscription",
    key: "aws:kms/key:Key",
    keyPolicy: "aws:kms/keyPolicy:KeyPolicy",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    dashboard: "aws:cloudwatch/dashboard:Dashboard",
    metricFilter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    queryDefinition: "aws:cloudwatch/queryDefinition:QueryDefinition",
} as const;

/** Objects in a bucket: drawn in it as a count, not one name each. */
const OBJECT_TYPES = new Set(["aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject"]);

type Shape = "rect" | "round" | "stadium" | "cylinder" | "hexagon" | "subroutine";

interface Kind {
    shape: Shape;
    /** The node's first lines; `short` is the logical name without its component's prefix. */
    lines(resource: RecordedResource, short: string): string[];
}

/** How each kind of resource is drawn; the order is the order nodes are listed in a component. */
const KINDS: Record<string, Kind> = {
    [T.userPool]: { shape: "subroutine", lines: (_, short) => [`Cognito User Pool · ${short}`] },
    [T.identityPool]: {
        shape: "subroutine",
        lines: (r, short) => [`Cognito Identity Pool · ${short}`, r.inputs.allowUnauthenticatedIdentities ? "unauthenticated identities allowed" : "signed-in identities only"],
    },
    [T.role]: { shape: "hexagon", lines: (_, short) => [`IAM role · ${short}`] },
    [T.api]: { shape: "rect", lines: (r, short) => [`${r.inputs.protocolType ?? ""} API · ${short}`.trim()] },
    [T.route]: { shape: "stadium", lines: (r) => [`${r.inputs.routeKey}`, `${r.inputs.authorizationType ?? "NONE"}`] },
    [T.integration]: { shape: "rect", lines: (r) => ["integration", `${r.inputs.integrationType} ${r.inputs.payloadFormatVersion ?? ""}`.trim()] },
    [T.function]: {
        shape: "round",
        lines: (r, short) => [`Lambda · ${short}`, [r.inputs.runtime, ...(r.inputs.architectures ?? [])].filter(Boolean).join(", ")],
    },
    [T.table]: { shape: "cylinder", lines: (_, short) => [`DynamoDB table · ${short}`] },
    [T.bucket]: { shape: "cylinder", lines: (_, short) => [`S3 bucket · ${short}`] },
    [T.distribution]: {
        shape: "hexagon",
        lines: (r, short) => [`CloudFront · ${short}`, [r.inputs.defaultCacheBehavior?.viewerProtocolPolicy, r.inputs.httpVersion].filter(Boolean).join(", ")],
    },
    [T.topic]: { shape: "rect", lines: (r, short) => [`SNS topic · ${short}`, r.inputs.kmsMasterKeyId ? "encrypted with a KMS key" : "unencrypted"] },
    [T.dashboard]: { shape: "rect", lines: (_, short) => [`CloudWatch dashboard · ${short}`] },
};

const KIND_ORDER = Object.keys(KINDS);

/** A resource that only configures another is drawn inside it: the rule finds that one. */
interface FoldRule {
    into: string;
    by(satellite: RecordedResource, owner: RecordedResource): boolean;
}

const FOLDS: Record<string, FoldRule> = {
    [T.rolePolicy]: { into: T.role, by: (policy, role) => refersTo(policy.inputs.role, role) },
    // A role a function runs as is drawn in the function: its grants start there.
    [T.role]: { into: T.function, by: (role, fn) => refersTo(fn.inputs.role, role) },
    [T.permission]: { into: T.function, by: (permission, fn) => refersTo(permission.inputs.function, fn) },
    [T.stage]: { into: T.api, by: (stage, api) => refersTo(stage.inputs.apiId, api) },
    [T.userPoolClient]: { into: T.userPool, by: (client, pool) => refersTo(client.inputs.userPoolId, pool) },
    [T.roleAttachment]: { into: T.identityPool, by: (attachment, pool) => refersTo(attachment.inputs.identityPoolId, pool) },
    [T.originAccessControl]: { into: T.distribution, by: (oac, cdn) => list<any>(cdn.inputs.origins).some((origin) => refersTo(origin?.originAccessControlId, oac)) },
    [T.responseHeadersPolicy]: {
        into: T.distribution,
        by: (headers, cdn) => [cdn.inputs.defaultCacheBehavior, ...list<any>(cdn.inputs.orderedCacheBehaviors)].some((b) => refersTo(b?.responseHeadersPolicyId, headers)),
    },
    // Monitoring: the alarms, the key and the policies are drawn in the topic they deliver to;
    // log filters and saved queries in the dashboard.
    [T.alarm]: { into: T.topic, by: (alarm, topic) => list(alarm.inputs.alarmActions).some((arn) => refersTo(arn, topic)) },
    [T.key]: { into: T.topic, by: (key, topic) => refersTo(topic.inputs.kmsMasterKeyId, key) },
    [T.keyPolicy]: { into: T.key, by: (policy, key) => refersTo(policy.inputs.keyId, key) },
    [T.topicPolicy]: { into: T.topic, by: (policy, topic) => refersTo(policy.inputs.arn, topic) },
    [T.topicSubscription]: { into: T.topic, by: (subscription, topic) => refersTo(subscription.inputs.topic, topic) },
    [T.metricFilter]: { into: T.dashboard, by: (filter, dashboard) => filter.parent === dashboard.parent },
    [T.queryDefinition]: { into: T.dashboard, by: (query, dashboard) => query.parent === dashboard.parent },
};

/** Above this many folded resources of one type, a node says how many instead of naming each. */
const MAX_FOLDED_NAMES = 3;

/** Folds that depend on who refers to the satellite (a log group is named by its function or stage). */
function foldLogGroup(group: RecordedResource, resources: RecordedResource[]): RecordedResource | undefined {
    return unique(
        resources.filter(
            (r) =>
                (r.type === T.function && refersTo(r.inputs.loggingConfig?.logGroup, group)) ||
                (r.type === T.stage && refersTo(r.inputs.accessLogSettings?.destinationArn, group)),
        ),
    );
}

/** An S3 bucket's settings resources (`aws:s3/bucketPolicy`, `…/bucketCorsConfiguration`, …) name it in `bucket`. */
const isBucketSetting = (r: RecordedResource) => r.type !== T.bucket && r.type.startsWith("aws:s3/bucket") && typeof r.inputs.bucket === "string";

export interface ArchitectureNode {
    id: string;
    /** The resource drawn; none for a node that stands for ARNs outside the stack. */
    resource?: RecordedResource;
    shape: Shape;
    lines: string[];
    /** Resources drawn inside this node. */
    folded: RecordedResource[];
}

export interface ArchitectureEdge {
    from: string;
    to: string;
    /** `request`: a caller's way through the stack; `grant`: what an IAM document allows. */
    kind: "request" | "grant";
    lines: string[];
}

export interface ArchitectureGroup {
    id: string;
    title: string;
    nodes: string[];
    groups: ArchitectureGroup[];
}

export interface ArchitectureGraph {
    stack: string;
    groups: ArchitectureGroup[];
    /** Nodes outside every component. */
    nodes: string[];
    byId: Map<string, ArchitectureNode>;
    edges: ArchitectureEdge[];
}

const COGNITO_SUB = "${cognito-identity.amazonaws.com:sub}";

/** Builds the picture's graph from a program run. */
export function architectureGraph(run: ProgramRun): ArchitectureGraph {
    const resources = run.resources;
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    for (const r of resources) {
        if (r.type === T.rolePolicyAttachment || (r.type === T.role && (r.inputs.managedPolicyArns?.length || r.inputs.inlinePolicies?.length))) {
            throw new Error(`architecture: ${r.name} grants through managed or inline role policies; the picture draws aws:iam/rolePolicy documents only.`);
        }
    }

    // Which resource each one is drawn in (itself when it has a node).
    const ownerOf = new Map<RecordedResource, RecordedResource>();
    const directOwner = (r: RecordedResource): RecordedResource | undefined => {
        if (r.type === T.logGroup) return foldLogGroup(r, resources);
        if (isBucketSetting(r)) return unique(resources.filter((b) => b.type === T.bucket && refersTo(r.inputs.bucket, b)));
        const rule = FOLDS[r.type];
        return rule ? unique(resources.filter((o) => o.type === rule.into && rule.by(r, o))) : undefined;
    };
    const finalOwner = (r: RecordedResource, seen = new Set<RecordedResource>()): RecordedResource => {
        const known = ownerOf.get(r);
        if (known) return known;
        const next = seen.has(r) ? undefined : directOwner(r);
        seen.add(r);
        const owner = next ? finalOwner(next, seen) : r;
        ownerOf.set(r, owner);
        return owner;
    };
    const drawn = resources.filter((r) => r.custom && finalOwner(r) === r);
    const sorted = [...drawn].sort(byKindThenName);

    const ids = new Set<string>();
    const nodeOf = new Map<RecordedResource, ArchitectureNode>();
    const componentOf = (r: RecordedResource) => (r.parent ? byUrn.get(r.parent) : undefined);
    for (const r of sorted) {
        const parent = componentOf(r);
        const short = shortName(r.name, parent);
        const folded = resources.filter((s) => s !== r && s.custom && finalOwner(s) === r);
        const kind = KINDS[r.type];
        const lines = kind ? kind.lines(r, short) : [`${className(r.type)} · ${short}`];
        const objects = folded.filter((s) => OBJECT_TYPES.has(s.type)).length;
        const foldedNames: string[] = objects > 0 ? [`${objects} objects`] : [];
        for (const type of [...new Set(folded.filter((s) => !OBJECT_TYPES.has(s.type)).map((s) => s.type))]) {
            const ofType = folded.filter((s) => s.type === type);
            if (ofType.length > MAX_FOLDED_NAMES) foldedNames.push(`${ofType.length} × ${className(type)}`);
            else foldedNames.push(...ofType.map((s) => shortName(shortName(s.name, componentOf(s)), undefined, short)));
        }
        foldedNames.sort();
        if (foldedNames.length > 0) lines.push(`+ ${foldedNames.join(" · ")}`);
        nodeOf.set(r, { id: uniqueId(mermaidId(r.name), ids), resource: r, shape: kind?.shape ?? "rect", lines, folded });
    }
    const node = (r: RecordedResource | undefined) => (r ? nodeOf.get(finalOwner(r)) : undefined);
    const byId = new Map([...nodeOf.values()].map((n) => [n.id, n]));

    // Components, nested as their URNs say, in the order the program creates them (synchronously, so always the same).
    const components = resources.filter((r) => !r.custom && r.type !== T.stack);
    const groupOf = new Map<RecordedResource, ArchitectureGroup>();
    for (const c of components) groupOf.set(c, { id: uniqueId(`${mermaidId(c.name)}_component`, ids), title: `${className(c.type)} · ${c.name}`, nodes: [], groups: [] });
    const rootGroups: ArchitectureGroup[] = [];
    const rootNodes: string[] = [];
    for (const c of components) {
        const parent = componentOf(c);
        (parent && groupOf.get(parent) ? groupOf.get(parent)!.groups : rootGroups).push(groupOf.get(c)!);
    }
    for (const [resource, n] of nodeOf) {
        const parent = componentOf(resource);
        (parent && groupOf.get(parent) ? groupOf.get(parent)!.nodes : rootNodes).push(n.id);
    }

    const edges: ArchitectureEdge[] = [];
    const request = (from: ArchitectureNode | undefined, to: ArchitectureNode | undefined, lines: string[] = []) => {
        if (from && to && from !== to) edges.push({ from: from.id, to: to.id, kind: "request", lines });
    };
    const of = (type: string) => sorted.filter((r) => r.type === type);

    // The request path: token exchange, then API → route → integration → function.
    for (const pool of of(T.identityPool)) {
        for (const provider of pool.inputs.cognitoIdentityProviders ?? []) {
            const userPool = unique(of(T.userPool).filter((p) => typeof provider.providerName === "string" && provider.providerName.endsWith(`/${p.id}`)));
            const client = unique(resources.filter((c) => c.type === T.userPoolClient && refersTo(provider.clientId, c)));
            request(node(userPool), node(pool), [`id tokens of ${client ? shortName(client.name, componentOf(client)) : "an unknown client"}`]);
        }
        for (const attachment of resources.filter((a) => a.type === T.roleAttachment && refersTo(a.inputs.identityPoolId, pool))) {
            for (const [which, roleArn] of Object.entries<string>(attachment.inputs.roles ?? {})) {
                const role = unique(resources.filter((r) => r.type === T.role && refersTo(roleArn, r)));
                request(node(pool), node(role), [`${which} identities get its credentials`, ...trustLines(role, pool)]);
            }
        }
    }
    const routes = of(T.route);
    for (const route of routes) {
        request(node(unique(of(T.api).filter((api) => refersTo(route.inputs.apiId, api)))), node(route));
        const target = typeof route.inputs.target === "string" ? route.inputs.target.replace(/^integrations\//, "") : undefined;
        request(node(route), node(unique(of(T.integration).filter((i) => i.id === target))));
    }
    for (const integration of of(T.integration)) {
        const fn = unique(of(T.function).filter((f) => refersTo(integration.inputs.integrationUri, f)));
        if (!fn) continue;
        const callers = routes.filter((route) => route.inputs.target === `integrations/${integration.id}`);
        const permitted = callers.length > 0 && callers.every((route) => mayInvoke(resources, fn, route));
        request(node(integration), node(fn), [permitted ? "lambda:InvokeFunction" : "no invoke permission for its route"]);
    }

    // The site: CloudFront reads its bucket, signed by its origin access control.
    for (const cdn of of(T.distribution)) {
        for (const origin of list<any>(cdn.inputs.origins)) {
            const bucket = unique(of(T.bucket).filter((b) => [b.state.bucketRegionalDomainName, b.state.bucketDomainName].includes(origin?.domainName)));
            const oac = unique(resources.filter((r) => r.type === T.originAccessControl && refersTo(origin?.originAccessControlId, r)));
            request(node(cdn), node(bucket), [oac ? `origin, signed by OAC (${oac.inputs.signingProtocol}, ${oac.inputs.signingBehavior})` : "origin, unsigned"]);
        }
    }

    // The grants: every Allow statement of every role's inline policies, to the resources it names.
    const outside = new Map<string, ArchitectureNode>();
    for (const policy of resources.filter((r) => r.type === T.rolePolicy).sort(byKindThenName)) {
        const role = unique(resources.filter((r) => r.type === T.role && refersTo(policy.inputs.role, r)));
        const holder = node(role);
        if (!holder) continue;
        // Per target: the actions granted under each scope and condition, in document order.
        const granted = new Map<ArchitectureNode, Map<string, string[]>>();
        for (const statement of statementsOf(policy.inputs.policy, policy.name)) {
            if (statement.Effect !== "Allow") continue;
            // An action without resource types takes Resource "*" and names its resource in a
            // condition key (DeleteIdentities: cognito-identity:IdentityPoolArn): draw it to that resource.
            const named = list(statement.Resource).join() === "*" ? conditionArns(statement.Condition, resources) : undefined;
            for (const arn of named?.arns ?? list(statement.Resource)) {
                for (const { target, scope } of grantTargets(arn, resources, routes, node, outside, ids)) {
                    if (target === holder) continue;
                    const scopes = granted.get(target) ?? new Map<string, string[]>();
                    const where = named ? `if ${named.keys.join(", ")} is this one` : scopeText(scope, statement.Condition);
                    const actions = scopes.get(where) ?? [];
                    for (const action of list(statement.Action)) if (!actions.includes(action)) actions.push(action);
                    scopes.set(where, actions);
                    granted.set(target, scopes);
                }
            }
        }
        for (const [target, scopes] of granted) {
            const lines = [...scopes].map(([where, actions]) => [actionsText(actions), where].filter(Boolean).join(" "));
            edges.push({ from: holder.id, to: target.id, kind: "grant", lines });
        }
    }
    // Bucket policies that let a service act for one distribution: drawn from that distribution.
    for (const policy of resources.filter((r) => r.type === T.bucketPolicy).sort(byKindThenName)) {
        const bucket = node(unique(of(T.bucket).filter((b) => refersTo(policy.inputs.bucket, b))));
        if (!bucket) continue;
        for (const statement of statementsOf(policy.inputs.policy, policy.name)) {
            const services = list((statement as { Principal?: { Service?: string | string[] } }).Principal?.Service);
            if (statement.Effect !== "Allow" || !services.includes("cloudfront.amazonaws.com")) continue;
            const sources = Object.values(statement.Condition ?? {}).flatMap((values) => Object.entries(values).filter(([key]) => key.toLowerCase() === "aws:sourcearn").flatMap(([, value]) => list(value)));
            // Without a source condition the grant holds for every distribution, of any account.
            const pinned = sources.length > 0;
            for (const cdn of of(T.distribution).filter((d) => !pinned || sources.includes(d.state.arn))) {
                const scopes = list(statement.Resource).map((arn) => arn.slice(String(bucket.resource?.state.arn).length + 1)).filter(Boolean);
                const condition = pinned ? "if AWS:SourceArn = this distribution" : "for any distribution (no AWS:SourceArn)";
                edges.push({ from: node(cdn)!.id, to: bucket.id, kind: "grant", lines: [`${actionsText(list(statement.Action))} on ${scopes.join(", ")} ${condition}`] });
            }
        }
    }
    for (const n of outside.values()) {
        byId.set(n.id, n);
        rootNodes.push(n.id);
    }

    return { stack: run.stack, groups: rootGroups, nodes: rootNodes, byId, edges };
}

/** Where one statement resource points: a route (execute-api ARNs match as API Gateway builds them), a resource of the stack, or outside. */
function grantTargets(
    arn: string,
    resources: RecordedResource[],
    routes: RecordedResource[],
    node: (r: RecordedResource | undefined) => ArchitectureNode | undefined,
    outside: Map<string, ArchitectureNode>,
    ids: Set<string>,
): { target: ArchitectureNode; scope: string }[] {
    const matchedRoutes = routes.filter((route) => globMatch(arn, routeRequestArn(resources, route) ?? ""));
    if (arn.startsWith("arn:aws:execute-api:") && matchedRoutes.length > 0) {
        return matchedRoutes.map((route) => ({ target: node(route)!, scope: "" }));
    }
    let best: { resource: RecordedResource; scope: string } | undefined;
    for (const r of resources) {
        const own = r.state?.arn;
        if (typeof own !== "string" || own === "") continue;
        if (arn === own || arn.startsWith(`${own}/`) || arn.startsWith(`${own}:`)) {
            if (!best || own.length > (best.resource.state.arn as string).length) best = { resource: r, scope: arn.slice(own.length + 1) };
        }
    }
    const target = best && node(best.resource);
    if (target) return [{ target, scope: best!.scope }];
    let external = outside.get(arn);
    if (!external) {
        external = { id: uniqueId(`ext_${outside.size + 1}`, ids), shape: "rect", lines: ["outside this stack", arn], folded: [] };
        outside.set(arn, external);
    }
    return [{ target: external, scope: "" }];
}

/** The stack resources an equality condition names by ARN, and the keys that name them; undefined if none. */
function conditionArns(condition: Statement["Condition"], resources: RecordedResource[]): { arns: string[]; keys: string[] } | undefined {
    const arns: string[] = [];
    const keys: string[] = [];
    for (const [operator, values] of Object.entries(condition ?? {})) {
        if (operator !== "StringEquals" && operator !== "ArnEquals") continue;
        for (const [key, value] of Object.entries(values)) {
            const own = list(value).filter((arn) => resources.some((r) => r.state?.arn === arn));
            if (own.length === 0) continue;
            arns.push(...own);
            keys.push(key);
        }
    }
    return arns.length > 0 ? { arns, keys } : undefined;
}

/** The ARN API Gateway authorizes a request to a route with: `<executionArn>/<stage>/<METHOD>/<path>`. */
function routeRequestArn(resources: RecordedResource[], route: RecordedResource): string | undefined {
    const api = unique(resources.filter((r) => r.type === T.api && refersTo(route.inputs.apiId, r)));
    const executionArn = api?.state?.executionArn;
    const [method, routePath] = String(route.inputs.routeKey ?? "").split(" ");
    if (typeof executionArn !== "string" || !routePath) return undefined;
    const stage = resources.find((r) => r.type === T.stage && refersTo(r.inputs.apiId, api!))?.inputs.name ?? "$default";
    const path = routePath.replace(/\{[^}]+\+\}/g, "a/b").replace(/\{[^}]+\}/g, "x");
    return `${executionArn}/${stage}/${method === "ANY" ? "GET" : method}${path}`;
}

/** Whether a Lambda permission lets API Gateway call the function for this route. */
function mayInvoke(resources: RecordedResource[], fn: RecordedResource, route: RecordedResource): boolean {
    const arn = routeRequestArn(resources, route);
    return resources.some(
        (p) =>
            p.type === T.permission &&
            refersTo(p.inputs.function, fn) &&
            p.inputs.action === "lambda:InvokeFunction" &&
            p.inputs.principal === "apigateway.amazonaws.com" &&
            arn !== undefined &&
            globMatch(String(p.inputs.sourceArn ?? "*"), arn),
    );
}

/** The role's trust conditions on the pool, as a line ("trust: aud = identities, amr = authenticated"). */
function trustLines(role: RecordedResource | undefined, pool: RecordedResource): string[] {
    if (!role) return [];
    const conditions: string[] = [];
    for (const statement of statementsOf(role.inputs.assumeRolePolicy, role.name)) {
        if (statement.Effect !== "Allow") continue;
        for (const values of Object.values(statement.Condition ?? {})) {
            for (const [key, value] of Object.entries(values)) {
                const shown = list(value).map((v) => (v === pool.id ? "this pool" : v));
                conditions.push(`${key.replace(/^cognito-identity\.amazonaws\.com:/, "")} = ${shown.join(", ")}`);
            }
        }
    }
    return conditions.length > 0 ? [`trust: ${conditions.join("; ")}`] : ["trust: no condition"];
}

interface Statement {
    Effect: "Allow" | "Deny";
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

function statementsOf(document: unknown, name: string): Statement[] {
    if (typeof document !== "string") throw new Error(`architecture: ${name}: expected its IAM document as a JSON string, got ${typeof document}`);
    const statements: Statement[] = list(JSON.parse(document).Statement);
    for (const statement of statements) {
        if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
            throw new Error(`architecture: ${name} uses NotAction or NotResource, which the picture cannot draw as grants.`);
        }
    }
    return statements;
}

/** Actions by service: `s3:GetObject, PutObject`. */
function actionsText(actions: string[]): string {
    const byService = new Map<string, string[]>();
    for (const action of actions) {
        const [service, name] = action.includes(":") ? action.split(":", 2) : ["", action];
        byService.set(service, [...(byService.get(service) ?? []), name]);
    }
    return [...byService].map(([service, names]) => `${service}:${names.join(", ")}`).join("; ");
}

/** The part of a resource a statement covers and its conditions: `on private/${identity id}/*`, `if s3:prefix …`. */
function scopeText(scope: string, condition: Statement["Condition"]): string {
    const conditions = Object.values(condition ?? {}).flatMap((values) => Object.entries(values).map(([key, value]) => `${key} ${list(value).map(displayValue).join(" or ")}`));
    return [scope ? `on ${displayValue(scope)}` : "", conditions.length > 0 ? `if ${conditions.join(", ")}` : ""].filter(Boolean).join(" ");
}

/** Values as the reader knows them: the caller's identity id variable shortened. */
function displayValue(value: string): string {
    return value.split(COGNITO_SUB).join("${identity id}");
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/** The graph as a Mermaid flowchart that GitHub renders. */
export function renderMermaid(graph: ArchitectureGraph): string {
    const out = ["flowchart LR"];
    const nodeLine = (id: string, indent: string) => {
        const n = graph.byId.get(id)!;
        const [open, close] = SHAPES[n.shape];
        out.push(`${indent}${id}${open}"${n.lines.map(escapeLabel).join("<br/>")}"${close}`);
    };
    const group = (g: ArchitectureGroup, indent: string) => {
        out.push(`${indent}subgraph ${g.id}["${escapeLabel(g.title)}"]`);
        for (const child of g.groups) group(child, `${indent}    `);
        for (const id of g.nodes) nodeLine(id, `${indent}    `);
        out.push(`${indent}end`);
    };
    for (const g of graph.groups) group(g, "    ");
    for (const id of graph.nodes) nodeLine(id, "    ");
    for (const line of edgeLines(graph)) out.push(`    ${line}`);
    return out.join("\n");
}

interface EdgeLine {
    from: string;
    /** The arrow with its label: `-.->|"…"|`. */
    link: string;
    targets: string[];
}

/**
 * The edges as few lines as reads well: edges with the same source, kind and label share one line
 * (`a --> b & c`), and a path through nodes with one edge in and one out is one chain
 * (`route --> integration --> function`).
 */
function edgeLines(graph: ArchitectureGraph): string[] {
    const declared = [...graph.byId.keys()];
    const grouped = new Map<string, EdgeLine>();
    for (const edge of graph.edges) {
        const arrow = edge.kind === "grant" ? "-.->" : "-->";
        const link = edge.lines.length > 0 ? `${arrow}|"${edge.lines.map(escapeLabel).join("<br/>")}"|` : arrow;
        const key = `${edge.from} ${link}`;
        const line = grouped.get(key) ?? { from: edge.from, link, targets: [] };
        line.targets.push(edge.to);
        grouped.set(key, line);
    }
    const lines = [...grouped.values()];
    for (const line of lines) line.targets.sort((a, b) => declared.indexOf(a) - declared.indexOf(b));

    const count = (pick: (edge: ArchitectureEdge) => string) => {
        const counts = new Map<string, number>();
        for (const edge of graph.edges) counts.set(pick(edge), (counts.get(pick(edge)) ?? 0) + 1);
        return counts;
    };
    const incoming = count((edge) => edge.to);
    const outgoing = count((edge) => edge.from);
    const passThrough = (id: string) => incoming.get(id) === 1 && outgoing.get(id) === 1;
    const single = (line: EdgeLine) => line.targets.length === 1;
    const into = (id: string) => lines.find((line) => single(line) && line.targets[0] === id);
    const outOf = (id: string) => lines.find((line) => single(line) && line.from === id);

    const emitted = new Set<EdgeLine>();
    const text: string[] = [];
    const emit = (line: EdgeLine) => {
        let chain = `${line.from} ${line.link} ${line.targets.join(" & ")}`;
        emitted.add(line);
        for (let next = single(line) && passThrough(line.targets[0]) ? outOf(line.targets[0]) : undefined; next && !emitted.has(next); ) {
            chain += ` ${next.link} ${next.targets[0]}`;
            emitted.add(next);
            next = passThrough(next.targets[0]) ? outOf(next.targets[0]) : undefined;
        }
        text.push(chain);
    };
    for (const line of lines) {
        // A line out of a pass-through node is drawn as part of the chain that reaches it.
        if (emitted.has(line) || (single(line) && passThrough(line.from) && into(line.from))) continue;
        emit(line);
    }
    for (const line of lines) if (!emitted.has(line)) emit(line); // a cycle of pass-through nodes
    return text;
}

const SHAPES: Record<Shape, [string, string]> = {
    rect: ["[", "]"],
    round: ["(", ")"],
    stadium: ["([", "])"],
    cylinder: ["[(", ")]"],
    hexagon: ["{{", "}}"],
    subroutine: ["[[", "]]"],
};

/** Text safe inside a quoted Mermaid label: entity codes for what Mermaid or HTML would read as syntax. */
export function escapeLabel(text: string): string {
    return text.replace(/[#"&<>{}|[\]`]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** The README block: the picture in a mermaid fence. */
export function architectureBlock(run: ProgramRun): string {
    return ["```mermaid", renderMermaid(architectureGraph(run)), "```", ""].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Whether an input value names a resource: its id, physical name, ARN or invoke ARN. */
function refersTo(value: unknown, resource: RecordedResource): boolean {
    if (typeof value !== "string" || value === "") return false;
    const state = resource.state ?? {};
    return [resource.id, state.name, state.arn, state.invokeArn].includes(value);
}

function unique(resources: RecordedResource[]): RecordedResource | undefined {
    return resources.length === 1 ? resources[0] : undefined;
}

function list<T>(value: T | T[] | undefined): T[] {
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** IAM's wildcard match: `*` any run of characters, `?` one character. */
function globMatch(pattern: string, value: string): boolean {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${source}$`).test(value);
}

function byKindThenName(a: RecordedResource, b: RecordedResource): number {
    const rank = (r: RecordedResource) => (KIND_ORDER.includes(r.type) ? KIND_ORDER.indexOf(r.type) : KIND_ORDER.length);
    return rank(a) - rank(b) || a.type.localeCompare(b.type) || a.name.localeCompare(b.name);
}

/** `notes:api:NotesApi` → `NotesApi`; `aws:s3/bucketCorsConfiguration:BucketCorsConfiguration` → `BucketCorsConfiguration`. */
function className(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/** A logical name without its component's prefix (`notes-api-create-route` in `notes-api` → `create-route`), then without `also`'s. */
function shortName(name: string, component?: RecordedResource, also?: string): string {
    let short = component && name.startsWith(`${component.name}-`) ? name.slice(component.name.length + 1) : name;
    if (also && short.startsWith(`${also}-`)) short = short.slice(also.length + 1);
    return short;
}

const RESERVED = new Set(["end", "graph", "subgraph", "flowchart", "style", "class", "classdef", "click", "linkstyle", "direction", "default"]);

/** A Mermaid node id from a logical name: letters, digits and underscores only. */
function mermaidId(name: string): string {
    const id = name.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "resource";
    return RESERVED.has(id.toLowerCase()) || /^\d/.test(id) ? `r_${id}` : id;
}

function uniqueId(id: string, taken: Set<string>): string {
    let candidate = id;
    for (let n = 2; taken.has(candidate); n++) candidate = `${id}_${n}`;
    taken.add(candidate);
    return candidate;
}
