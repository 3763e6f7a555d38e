import { strict as assert } from "node:assert";
import { ArchitectureGraph, architectureGraph, escapeLabel, renderMermaid } from "../../../tools/docs/architecture";
import { findBlock, replaceBlock } from "../../../tools/docs/markers";
import { EXPECTED_ROUTES } from "../../support/expected-api";
import { ProgramRun, stackRun } from "../../support/program";

/** The run with one resource's inputs changed (a deep copy: the cached run stays as it was). */
function changed(run: ProgramRun, name: string, change: (inputs: Record<string, any>) => void): ProgramRun {
    const copy: ProgramRun = JSON.parse(JSON.stringify(run));
    const resource = copy.resources.find((r) => r.name === name);
    assert.ok(resource, `no resource ${name}`);
    change(resource.inputs);
    return copy;
}

const nodeId = (graph: ArchitectureGraph, name: string) => [...graph.byId.values()].find((n) => n.resource?.name === name)!.id;
const edgesFrom = (graph: ArchitectureGraph, name: string, kind: "request" | "grant") => graph.edges.filter((e) => e.from === nodeId(graph, name) && e.kind === kind);
const nameOf = (graph: ArchitectureGraph, id: string) => graph.byId.get(id)!.resource?.name ?? graph.byId.get(id)!.lines.join(" ");

describe("the architecture picture", () => {
    let run: ProgramRun;
    let graph: ArchitectureGraph;

    before(async () => {
        run = await stackRun("prod");
        graph = architectureGraph(run);
    });

    it("groups every drawn resource under the component that registered it", () => {
        const titles = graph.groups.map((group) => group.title).sort();
        assert.deepEqual(titles, ["NotesAccount · notes", "NotesApi · notes-api", "NotesAuth · notes-auth", "NotesMonitoring · notes-monitoring", "NotesSite · notes-site", "NotesStorage · notes-storage"]);
        for (const group of graph.groups) {
            const component = run.resources.find((r) => `${r.type.split(":").pop()} · ${r.name}` === group.title)!;
            for (const id of group.nodes) assert.equal(graph.byId.get(id)!.resource!.parent, component.urn, `${id} drawn in ${group.title}`);
        }
        assert.deepEqual(graph.nodes, [], "no resource outside a component");
    });

    it("draws every resource the program registers, as a node or inside the node it configures", () => {
        const drawn = new Set([...graph.byId.values()].flatMap((n) => [n.resource!, ...n.folded]).map((r) => r.urn));
        const custom = run.resources.filter((r) => r.custom).map((r) => r.urn);
        assert.deepEqual(custom.filter((urn) => !drawn.has(urn)), []);
        assert.equal(drawn.size, custom.length, "no resource drawn twice");
    });

    it("lets the signed-in users' role invoke exactly the five note routes and DELETE /account, as its policy says", () => {
        const invoke = edgesFrom(graph, "notes-auth-authenticated", "grant").filter((e) => e.lines.join() === "execute-api:Invoke");
        const routeKeys = invoke.map((e) => graph.byId.get(e.to)!.resource!.inputs.routeKey).sort();
        assert.deepEqual(routeKeys, [...Object.keys(EXPECTED_ROUTES), "DELETE /account"].sort());
    });

    it("draws the account function's erasure grants from its role policy: table, private/ versions, both pools", () => {
        const grants = edgesFrom(graph, "notes-account", "grant");
        const to = (name: string) => grants.filter((e) => e.to === nodeId(graph, name)).map((e) => e.lines);
        assert.deepEqual(to("notes-storage-notes"), [["dynamodb:Query, BatchWriteItem"]]);
        assert.equal(grants.length, 4, grants.map((e) => `${nameOf(graph, e.to)}: ${e.lines.join("; ")}`).join("\n"));
        assert.equal(to("notes-auth-users").length, 1);
        assert.equal(to("notes-auth-identities").length, 1);
    });

    it("lets the signed-in users' role reach only its own prefix of the bucket", () => {
        const toBucket = edgesFrom(graph, "notes-auth-authenticated", "grant").filter((e) => e.to === nodeId(graph, "notes-storage-uploads"));
        assert.equal(toBucket.length, 1);
        assert.deepEqual(toBucket[0].lines, [
            "s3:GetObject, PutObject, DeleteObject, AbortMultipartUpload, ListMultipartUploadParts on private/${identity id}/*",
            "s3:ListBucket if s3:prefix private/${identity id}/ or private/${identity id}/*",
        ]);
    });

    it("draws each function's table actions from its role policy, and only the delete function reaches the bucket", () => {
        // One service's actions on one line, the service named once: "dynamodb:UpdateItem, GetItem".
        const line = (actions: string[]) => `${actions[0].split(":")[0]}:${actions.map((action) => action.split(":")[1]).join(", ")}`;
        for (const route of Object.values(EXPECTED_ROUTES)) {
            const grants = edgesFrom(graph, `notes-api-${route.handler}`, "grant");
            const table = grants.find((e) => e.to === nodeId(graph, "notes-storage-notes"));
            assert.deepEqual(table?.lines, [line(route.tableActions)], route.handler);
            const bucket = grants.filter((e) => e.to === nodeId(graph, "notes-storage-uploads"));
            assert.deepEqual(bucket.map((e) => e.lines), route.bucket ? [[`${line(route.bucket.actions)} on ${route.bucket.keys}`]] : [], route.handler);
            assert.equal(grants.length, route.bucket ? 2 : 1, `${route.handler}: no other grant (its own log group is inside its node)`);
        }
    });

    it("draws the site: CloudFront reading its bucket through OAC, allowed by the bucket policy only for this distribution", () => {
        const cdn = graph.byId.get(nodeId(graph, "notes-site-cdn"))!;
        assert.deepEqual(cdn.lines.slice(0, 2), ["CloudFront · cdn", "redirect-to-https, http2and3"]);
        assert.deepEqual(cdn.folded.map((r) => r.name).sort(), ["notes-site-headers", "notes-site-oac"]);
        const bucket = graph.byId.get(nodeId(graph, "notes-site-content"))!;
        assert.equal(bucket.folded.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2").length, 6);
        assert.ok(bucket.lines.at(-1)!.includes("6 objects"), bucket.lines.join(" | "));
        assert.deepEqual(edgesFrom(graph, "notes-site-cdn", "request").map((e) => [nameOf(graph, e.to), e.lines]), [["notes-site-content", ["origin, signed by OAC (sigv4, always)"]]]);
        assert.deepEqual(edgesFrom(graph, "notes-site-cdn", "grant").map((e) => [nameOf(graph, e.to), e.lines]), [["notes-site-content", ["s3:GetObject on * if AWS:SourceArn = this distribution"]]]);
    });

    it("says so when the bucket policy lets any distribution read (no AWS:SourceArn)", () => {
        const policy = run.resources.find((r) => r.name === "notes-site-content-policy")!;
        const open = changed(run, "notes-site-content-policy", (inputs) => {
            const doc = JSON.parse(policy.inputs.policy);
            for (const statement of doc.Statement) delete statement.Condition;
            inputs.policy = JSON.stringify(doc);
        });
        assert.deepEqual(edgesFrom(architectureGraph(open), "notes-site-cdn", "grant").map((e) => e.lines), [["s3:GetObject on * for any distribution (no AWS:SourceArn)"]]);
    });

    it("follows each route to its integration and function, invoked under the function's permission", () => {
        for (const route of Object.values(EXPECTED_ROUTES)) {
            const [toIntegration] = edgesFrom(graph, `notes-api-${route.handler}-route`, "request");
            assert.equal(nameOf(graph, toIntegration.to), `notes-api-${route.handler}-integration`);
            const [toFunction] = edgesFrom(graph, `notes-api-${route.handler}-integration`, "request");
            assert.equal(nameOf(graph, toFunction.to), `notes-api-${route.handler}`);
            assert.deepEqual(toFunction.lines, ["lambda:InvokeFunction"]);
        }
    });

    it("says so when a function's invoke permission names another route", () => {
        const widened = changed(run, "notes-api-get-invoke", (inputs) => (inputs.sourceArn = inputs.sourceArn.replace("/GET/notes/*", "/PATCH/notes/*")));
        const [toFunction] = edgesFrom(architectureGraph(widened), "notes-api-get-integration", "request");
        assert.deepEqual(toFunction.lines, ["no invoke permission for its route"]);
    });

    it("gives the Identity Pool's signed-in identities the role through its attachment, with the trust conditions", () => {
        const [toRole] = edgesFrom(graph, "notes-auth-identities", "request");
        assert.equal(nameOf(graph, toRole.to), "notes-auth-authenticated");
        assert.deepEqual(toRole.lines, ["authenticated identities get its credentials", "trust: aud = this pool; amr = authenticated"]);
        const [tokens] = edgesFrom(graph, "notes-auth-users", "request");
        assert.equal(nameOf(graph, tokens.to), "notes-auth-identities");
    });

    it("draws a statement that reaches beyond the stack as a grant to a node outside it", () => {
        const wider = changed(run, "notes-auth-authenticated-policy", (inputs) => {
            const document = JSON.parse(inputs.policy);
            document.Statement.push({ Effect: "Allow", Action: "dynamodb:Scan", Resource: "*" });
            inputs.policy = JSON.stringify(document);
        });
        const widerGraph = architectureGraph(wider);
        const outside = edgesFrom(widerGraph, "notes-auth-authenticated", "grant").filter((e) => widerGraph.byId.get(e.to)!.lines[0] === "outside this stack");
        assert.equal(outside.length, 1);
        assert.deepEqual(outside[0].lines, ["dynamodb:Scan"]);
        assert.match(renderMermaid(widerGraph), /ext_1\["outside this stack<br\/>\*"\]/);
    });

    it("refuses a grant it cannot draw instead of leaving it out", () => {
        const denied = changed(run, "notes-api-list-policy", (inputs) => {
            const document = JSON.parse(inputs.policy);
            document.Statement.push({ Effect: "Allow", NotAction: "iam:*", Resource: "*" });
            inputs.policy = JSON.stringify(document);
        });
        assert.throws(() => architectureGraph(denied), /notes-api-list-policy uses NotAction or NotResource/);
    });

    it("writes GitHub-safe Mermaid: plain node ids, every label quoted with its syntax characters escaped", () => {
        const mermaid = renderMermaid(graph);
        assert.match(mermaid, /^flowchart LR\n/);
        for (const line of mermaid.split("\n").slice(1)) {
            const statement = line.trim();
            if (statement === "end") continue;
            const subgraph = /^subgraph (\w+)\["([^"]*)"\]$/.exec(statement);
            const node = /^(\w+)(\[\(|\(\[|\[\[|\{\{|\[|\()"([^"]*)"(\)\]|\]\)|\]\]|\}\}|\]|\))$/.exec(statement);
            const edge = /^\w+( (-->|-\.->)(\|"[^"]*"\|)? \w+( & \w+)*)+$/.test(statement);
            assert.ok(subgraph || node || edge, `not a plain subgraph, node or edge line: ${statement}`);
            const label = subgraph?.[2] ?? node?.[3];
            if (label !== undefined) assert.doesNotMatch(label.replace(/<br\/>/g, ""), /[<>{}[\]|`]/, statement);
        }
        assert.equal(escapeLabel('GET /notes/{id} "x" | <y> #'), "GET /notes/#123;id#125; #34;x#34; #124; #60;y#62; #35;");
    });

    it("draws the same picture whatever order the engine registered resources in (they register as their inputs resolve)", () => {
        // Components register synchronously, in the order index.ts creates them; the rest as their inputs resolve.
        const components = run.resources.filter((r) => !r.custom);
        const shuffled = { ...run, resources: [...components, ...run.resources.filter((r) => r.custom).reverse()] };
        assert.equal(renderMermaid(architectureGraph(shuffled)), renderMermaid(graph));
    });
});

describe("generated blocks in markdown", () => {
    const document = "# Title\n\nprose\n<!-- picture:begin: written by a command -->\nold\n<!-- picture:end -->\nmore prose\n";

    it("replaces only what lies between the markers", () => {
        assert.equal(replaceBlock(document, "picture", "new"), "# Title\n\nprose\n<!-- picture:begin: written by a command -->\nnew\n<!-- picture:end -->\nmore prose\n");
        assert.equal(findBlock(document, "picture").body, "old\n");
    });

    it("names the file and the marker when a block is missing", () => {
        assert.throws(() => findBlock("# Title\n", "picture", "README.md"), /README\.md has no "<!-- picture:begin -->" line/);
        assert.throws(() => findBlock("<!-- picture:begin -->\nx\n", "picture", "README.md"), /README\.md has no "<!-- picture:end -->" line/);
        assert.throws(() => findBlock(`${document}${document}`, "picture", "README.md"), /more than one "picture" block/);
    });
});
