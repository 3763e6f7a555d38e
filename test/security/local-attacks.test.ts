import { CognitoIdentityClient, GetIdCommand } from "@aws-sdk/client-cognito-identity";
import { CognitoIdentityProviderClient, GetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { importJWK, SignJWT } from "jose";
import { FlowUser, newPassword, NotesClient, srpSignIn } from "../../tools/client/flow";
import { LOCK_FILE, processStartTime } from "../../tools/local/lock";
import { LocalCloudProcess, startLocalCloudProcess } from "../../tools/local/process";
import { RawResponse, requestBytes, sendRaw, signedHeaders } from "../support/raw-http";

/** Every file and directory under `root` (except `skip`): type, mode, size and content hash. */
function snapshot(root: string, skip: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
        for (const entry of readdirSync(dir)) {
            const full = path.join(dir, entry);
            if (full === skip) continue;
            const stat = lstatSync(full);
            const rel = path.relative(root, full);
            if (stat.isDirectory()) {
                out[rel] = `dir ${stat.mode.toString(8)}`;
                walk(full);
            } else {
                out[rel] = `file ${stat.mode.toString(8)} ${stat.size} ${stat.isFile() ? createHash("sha256").update(readFileSync(full)).digest("hex") : "special"}`;
            }
        }
    };
    walk(root);
    return out;
}

/**
 * The attack classes of issue 11 against a running local cloud (`npm start` in a child process),
 * as a signed-in second user and as an unauthenticated web page would send them. Nothing may
 * crash the process, touch a file outside its data directory, or change the first user's data.
 */
describe("attacks on the local cloud itself: no crash, no file outside the data directory, no other user's data", function () {
    this.timeout(180_000);
    let parent: string;
    let dataDir: string;
    let canary: string;
    let outside: Record<string, string>;
    let cloud: LocalCloudProcess;
    let client: NotesClient;
    let alice: FlowUser;
    let bob: FlowUser;
    let alicePassword: string;
    let bucket: string;
    let s3Port: number;
    let impostor: ChildProcess;
    const aliceFiles: Record<string, Buffer> = {};
    let attacks = 0;
    let started = 0;

    const A = () => alice.identityId;
    const B = () => bob.identityId;
    const port = (url: string) => Number(new URL(url).port);

    /** One attack request: counted, sent as raw bytes (so nothing normalizes it on the way). */
    async function raw(targetPort: number, bytes: Buffer, options: { abortAfterWrite?: boolean } = {}): Promise<RawResponse> {
        attacks++;
        return sendRaw(targetPort, bytes, { timeoutMs: 15_000, ...options });
    }

    /** A request to the S3 front signed with a user's credentials for exactly this raw path and query. */
    async function s3As(user: FlowUser, method: string, rawPath: string, rawQuery = "", headers: Record<string, string> = {}, body: Buffer = Buffer.alloc(0)): Promise<RawResponse> {
        const host = `127.0.0.1:${s3Port}`;
        const query: Record<string, string> = {};
        for (const [name, value] of new URLSearchParams(rawQuery)) query[name] = value;
        const signed = await signedHeaders(user.credentials, { service: "s3", region: cloud.outputs.region, method, host, path: rawPath, query, headers, body });
        assert.ok(signed, `could not sign ${method} ${rawPath}`);
        const { host: _host, ...rest } = signed;
        return raw(s3Port, requestBytes(method, `${rawPath}${rawQuery ? `?${rawQuery}` : ""}`, [["host", host], ...Object.entries(rest)], body));
    }

    const code = (response: RawResponse) => /<Code>([^<]+)<\/Code>/.exec(response.body)?.[1] ?? response.headers["x-amz-error-code"];
    const md5 = (body: Buffer) => createHash("md5").update(body).digest("base64");
    const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

    before(async () => {
        started = Date.now();
        parent = mkdtempSync(path.join(tmpdir(), "notes-attacks-"));
        dataDir = path.join(parent, "data");
        canary = path.join(parent, "canary");
        mkdirSync(path.join(canary, "nested"), { recursive: true });
        writeFileSync(path.join(canary, "secret.txt"), "the developer's own file");
        writeFileSync(path.join(canary, "nested", "keep.txt"), "must survive recursive deletes");
        writeFileSync(path.join(parent, "sibling.txt"), "beside the data directory");
        // A stale lock: its pid belongs to a live process that is not a local cloud (a reused pid).
        impostor = spawn(process.execPath, ["-e", "setTimeout(() => {}, 300000)"], { stdio: "ignore" });
        mkdirSync(dataDir);
        writeFileSync(path.join(dataDir, LOCK_FILE), JSON.stringify({ pid: impostor.pid, startTime: "12345" }));
        cloud = await startLocalCloudProcess(dataDir);
        outside = snapshot(parent, dataDir);

        client = new NotesClient(cloud.outputs, { adminCredentials: cloud.adminCredentials });
        bucket = cloud.outputs.bucketName;
        s3Port = port(cloud.outputs.endpoints.s3);
        const email = `alice-${Date.now()}@example.com`;
        alicePassword = newPassword();
        await client.signUp(email, alicePassword);
        await client.confirm(email);
        const idToken = await client.logIn(email, alicePassword);
        alice = { email, idToken, ...(await client.identityCredentials(idToken)) };
        bob = await client.newUser("bob");
        const aliceS3 = client.s3(alice);
        for (const [name, bytes] of Object.entries({ "contract.pdf": Buffer.from("alice's contract"), "photo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]), "notes/diary.txt": Buffer.from("dear diary") })) {
            const key = `private/${A()}/${name}`;
            await aliceS3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
            aliceFiles[key] = bytes;
        }
    });

    after(async () => {
        impostor?.kill();
        await cloud?.stop();
        if (parent) rmSync(parent, { recursive: true, force: true });
        if (started) process.stdout.write(`      local attack suite: ${attacks} attack requests, ${((Date.now() - started) / 1000).toFixed(1)} s including the local cloud's start\n`);
    });

    it("starts over a stale lock whose pid was reused by another process", () => {
        const lock = JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), "utf8"));
        assert.notEqual(lock.pid, impostor.pid);
        assert.equal(lock.startTime, processStartTime(lock.pid));
    });

    it("refuses DeleteObjects whose keys hide another user's key in CDATA, comments, `<Key >` or entities", async () => {
        const keyOf = (name: string) => `private/${A()}/${name}`;
        const bodies: [string, string][] = [
            [`<Delete><Object><Key><![CDATA[${keyOf("contract.pdf")}]]></Key></Object></Delete>`, "AccessDenied"],
            [`<Delete><Object><Key>private/<!-- mine -->${A()}/contract.pdf</Key></Object></Delete>`, "AccessDenied"],
            [`<Delete><Object><Key >${keyOf("contract.pdf")}</Key ></Object></Delete>`, "AccessDenied"],
            [`<Delete><Object><Key>&#112;rivate/${A()}/photo.png</Key></Object></Delete>`, "AccessDenied"],
            [`<Delete><Object><Key>private/${B()}/&#46;&#46;/${A()}/contract.pdf</Key></Object></Delete>`, "InvalidArgument"],
            [`<Delete><Object><Key>private/${B()}/mine.txt</Key></Object><Object><Key>${keyOf("photo.png")}</Key></Object></Delete>`, "AccessDenied"],
            [`<Delete><Object><Key>private/${B()}/x</Key><Key>${keyOf("photo.png")}</Key></Object></Delete>`, "MalformedXML"],
            [`<!DOCTYPE d [<!ENTITY a "private/${A()}">]><Delete><Object><Key>&a;/contract.pdf</Key></Object></Delete>`, "MalformedXML"],
            [`<Delete><Object><Key>private/${B()}/x</Key></Object><!-- <Object><Key>${keyOf("photo.png")}</Key></Object> --></Delete>`, "ok"],
            [`<Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>${keyOf("photo.png")}</s3:Key></s3:Object></Delete>`, "MalformedXML"],
        ];
        for (const [xml, expected] of bodies) {
            const body = Buffer.from(xml);
            const response = await s3As(bob, "POST", `/${bucket}`, "delete", { "content-md5": md5(body), "content-type": "application/xml" }, body);
            if (expected === "ok") {
                assert.equal(response.status, 200, xml);
                assert.doesNotMatch(response.body, new RegExp(A()), "only the key outside the comment was deleted");
            } else {
                assert.equal(code(response), expected, `${xml}: ${response.status} ${response.body.slice(0, 200)}`);
            }
        }
    });

    it("refuses CopyObject sources with a query or dot segments, and copies nothing of another user", async () => {
        const target = `/${bucket}/private/${B()}/copied.bin`;
        const sources: [string, number][] = [
            [`/${bucket}/private/${B()}/x?/../../${A()}/contract.pdf`, 400],
            [`${bucket}/private/${B()}/..%2F..%2F${A()}/contract.pdf`, 400],
            [`${bucket}/private/${B()}/../${A()}/contract.pdf`, 400],
            [`${bucket}/private/${B()}/%2e%2e/${A()}/contract.pdf`, 400],
            [`${bucket}/private/${B()}/mine.txt?x-id=../../${A()}/contract.pdf`, 400],
            // A version of another user's file is theirs too: s3:GetObjectVersion on their key is denied.
            [`${bucket}/private/${A()}/contract.pdf?versionId=null`, 403],
            [`${bucket}/private/${A()}/contract.pdf?versionId=x`, 400],
            [`${bucket}/private/${A()}/contract.pdf`, 403],
            [`${bucket}/private/${A()}/contract.pdf%3FversionId%3Dx`, 403],
            [`arn:aws:s3:${cloud.outputs.region}:${"0".repeat(12)}:accesspoint/x/object/private/${A()}/contract.pdf`, 501],
        ];
        for (const [source, status] of sources) {
            const response = await s3As(bob, "PUT", target, "", { "x-amz-copy-source": source });
            assert.equal(response.status, status, `${source}: ${response.body.slice(0, 200)}`);
        }
        const copied = await s3As(bob, "GET", target);
        assert.equal(copied.status, 404, "nothing was copied into the attacker's key");
    });

    it("refuses requests with more than 1,000 query parameters, whatever they hide", async () => {
        const body = Buffer.from(`<Delete><Object><Key>private/${A()}/contract.pdf</Key></Object></Delete>`);
        const padding = Array.from({ length: 1001 }, (_, i) => `p${i}=${i}`).join("&");
        for (const [method, target] of [
            ["POST", `/${bucket}?${padding}&delete`],
            ["POST", `/${bucket}?delete&${padding}`],
            ["PUT", `/${bucket}/private/${A()}/contract.pdf?${padding}`],
            ["POST", `/${bucket}/private/${B()}/x?${padding}&uploads`],
        ]) {
            const response = await raw(s3Port, requestBytes(method, target, [["host", `127.0.0.1:${s3Port}`], ["content-md5", md5(body)]], body));
            assert.equal(response.status, 400, `${method} ${target.slice(0, 60)}…`);
        }
        const dozen = Array.from({ length: 12 }, (_, i) => `p${i}=${i}`).join("&");
        const unknown = await s3As(bob, "POST", `/${bucket}`, `delete&${dozen}`, { "content-md5": md5(body) }, body);
        assert.equal(code(unknown), "InvalidArgument", "parameters an operation does not have are refused, not ignored");
    });

    it("refuses crafted uploadId and partNumber values, and binds an upload to its key and owner", async () => {
        const bobKey = `/${bucket}/private/${B()}/upload.bin`;
        const traversals = Array.from({ length: 8 }, (_, depth) => `${"../".repeat(depth + 1)}canary/nested`);
        for (const uploadId of [...traversals, "/etc", "%2e%2e%2f%2e%2e%2fcanary", "a".repeat(63), "a".repeat(65), `${"a".repeat(62)}/.`]) {
            const id = encodeURIComponent(uploadId);
            for (const [method, query, body] of [
                ["PUT", `partNumber=1&uploadId=${id}`, Buffer.from("planted")],
                ["POST", `uploadId=${id}`, Buffer.from("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>")],
                ["DELETE", `uploadId=${id}`, Buffer.alloc(0)],
                ["GET", `uploadId=${id}`, Buffer.alloc(0)],
            ] as const) {
                const response = await s3As(bob, method, bobKey, query, {}, body);
                assert.ok([400, 404].includes(response.status!), `${method} uploadId=${uploadId}: ${response.status} ${code(response)}`);
            }
        }
        const created = await s3As(bob, "POST", bobKey, "uploads");
        const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)![1];
        for (const partNumber of ["0", "10001", "-1", "1e3", "../../canary", "1/../2", "01.5", " 1", ""]) {
            const response = await s3As(bob, "PUT", bobKey, `partNumber=${encodeURIComponent(partNumber)}&uploadId=${uploadId}`, {}, Buffer.from("x"));
            assert.equal(code(response), "InvalidArgument", `partNumber ${JSON.stringify(partNumber)}: ${response.status}`);
        }
        // The upload id is bound to Bob's key: on Alice's key it is refused (her prefix) or unknown.
        const onAlice = await s3As(bob, "PUT", `/${bucket}/private/${A()}/contract.pdf`, `partNumber=1&uploadId=${uploadId}`, {}, Buffer.from("overwrite"));
        assert.equal(onAlice.status, 403);
        const completeOnAlice = await s3As(bob, "POST", `/${bucket}/private/${A()}/contract.pdf`, `uploadId=${uploadId}`, {}, Buffer.from("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"));
        assert.equal(completeOnAlice.status, 403);
        // Alice's upload cannot be listed or aborted by Bob (the program's role grants neither to
        // anyone, and never on another identity's prefix).
        const aliceUpload = await s3As(alice, "POST", `/${bucket}/private/${A()}/big.bin`, "uploads");
        const aliceUploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(aliceUpload.body)![1];
        assert.equal((await s3As(bob, "DELETE", `/${bucket}/private/${A()}/big.bin`, `uploadId=${aliceUploadId}`)).status, 403);
        assert.equal((await s3As(bob, "GET", `/${bucket}/private/${A()}/big.bin`, `uploadId=${aliceUploadId}`)).status, 403);
        assert.equal(code(await s3As(bob, "PUT", bobKey, `partNumber=1&uploadId=${aliceUploadId}`, {}, Buffer.from("x"))), "NoSuchUpload", "an upload id of another key is unknown on this key");
        assert.equal((await s3As(alice, "PUT", `/${bucket}/private/${A()}/big.bin`, `partNumber=1&uploadId=${aliceUploadId}`, {}, Buffer.from("part"))).status, 200, "Alice's upload is intact");
    });

    it("keeps every key inside the store: dot segments, encoded traversal and odd buckets are refused", async () => {
        for (const target of [
            `/${bucket}/../../canary/secret.txt`,
            `/${bucket}/private/${B()}/../../../../canary/secret.txt`,
            `/${bucket}/private/${B()}/%2e%2e/%2e%2e/%2e%2e/canary/secret.txt`,
            `/${bucket}/private/${B()}/..%2f..%2f..%2fcanary%2fsecret.txt`,
            `/${bucket}/private/${B()}/.`,
            `/../${bucket}/private/${B()}/x`,
            `/%2e%2e/private/${B()}/x`,
        ]) {
            for (const method of ["PUT", "GET", "DELETE"]) {
                const response = await s3As(bob, method, target, "", {}, method === "PUT" ? Buffer.from("planted") : Buffer.alloc(0));
                assert.ok([400, 403, 404].includes(response.status!), `${method} ${target}: ${response.status} ${code(response)}`);
            }
        }
    });

    it("stores keys that crashed s3rver (long segments, `._S3rver_` names, a key that is also a prefix) and keeps serving", async () => {
        const keys = [`private/${B()}/${"a".repeat(300)}`, `private/${B()}/${"b".repeat(900)}/x`, `private/${B()}/dir`, `private/${B()}/dir/file`, `private/${B()}/._S3rver_object`, `private/${B()}/dir/._S3rver_metadata.json`];
        for (const key of keys) {
            const put = await s3As(bob, "PUT", `/${bucket}/${encodeKey(key)}`, "", {}, Buffer.from(key));
            assert.equal(put.status, 200, `${key.slice(0, 80)}: ${put.body.slice(0, 200)}`);
        }
        for (const key of keys) {
            const get = await s3As(bob, "GET", `/${bucket}/${encodeKey(key)}`);
            assert.equal(get.body, key);
        }
        const tooLong = await s3As(bob, "PUT", `/${bucket}/private/${B()}/${"c".repeat(1025)}`, "", {}, Buffer.from("x"));
        assert.equal(code(tooLong), "KeyTooLongError");
    });

    it("survives bodies aborted midway on every server", async () => {
        const { endpoints, apiUrl } = cloud.outputs;
        for (const [name, url, target] of [
            ["s3", endpoints.s3, `/${bucket}/private/${B()}/aborted.bin`],
            ["identity", endpoints.cognitoIdentity, "/"],
            ["user pools", endpoints.cognitoIdp, "/"],
            ["gateway", apiUrl, "/notes"],
            ["dynamodb", endpoints.dynamodb, "/"],
        ]) {
            const p = port(url);
            for (const declared of [10, 1000, 1_000_000]) {
                await raw(p, requestBytes(name === "s3" ? "PUT" : "POST", target, [["host", `127.0.0.1:${p}`], ["x-amz-target", "AWSCognitoIdentityService.GetId"]], Buffer.from('{"Iden'), declared), { abortAfterWrite: true });
            }
            await raw(p, Buffer.from(`POST ${target} HTTP/1.1\r\nhost: 127.0.0.1:${p}\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabc`), { abortAfterWrite: true });
            const alive = await raw(p, requestBytes("OPTIONS", "/", [["host", `127.0.0.1:${p}`]]));
            assert.ok(alive.status !== undefined && alive.status < 500, `${name} answers after aborted bodies (${alive.status})`);
        }
    });

    it("answers malformed percent-encoding with 400, never 500", async () => {
        const api = port(cloud.outputs.apiUrl);
        for (const target of ["/notes/%E0%A4%A", "/notes/%zz", "/notes/%C0%AF", "/notes?cursor=%E0%A4%A", "/%ED%A0%80"]) {
            const response = await raw(api, requestBytes("GET", target, [["host", `127.0.0.1:${api}`]]));
            assert.equal(response.status, 400, `gateway ${target}`);
        }
        for (const target of [`/${bucket}/private/%E0%A4%A`, `/${bucket}/%zz`, `/${bucket}?list-type=2&prefix=%E0%A4%A`, `/%FF/x`]) {
            const response = await raw(s3Port, requestBytes("GET", target, [["host", `127.0.0.1:${s3Port}`]]));
            assert.equal(response.status, 400, `s3 ${target}`);
            assert.equal(code(response), "InvalidURI");
        }
    });

    it("pages listings with its own tokens, refuses forged ones, and never lists another user's keys", async () => {
        const prefix = `private/${B()}/`;
        const keys: string[] = [];
        let token: string | undefined;
        do {
            const response = await s3As(bob, "GET", `/${bucket}`, `list-type=2&max-keys=1&prefix=${encodeURIComponent(prefix)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ""}`);
            assert.equal(response.status, 200, response.body.slice(0, 300));
            keys.push(...[...response.body.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]));
            token = /<NextContinuationToken>([^<]+)</.exec(response.body)?.[1];
        } while (token);
        assert.ok(keys.length >= 5, `paged through ${keys.length} keys`);
        const forged = [
            Buffer.from(JSON.stringify({ after: `private/${A()}/` })).toString("base64url"),
            Buffer.from(JSON.stringify({ after: "" })).toString("base64url"),
        ];
        for (const forgedToken of forged) {
            const response = await s3As(bob, "GET", `/${bucket}`, `list-type=2&prefix=${encodeURIComponent(prefix)}&continuation-token=${forgedToken}`);
            assert.doesNotMatch(response.body, new RegExp(A()), "a forged token lists only within the authorized prefix");
        }
        for (const bad of ["garbage!", Buffer.from(JSON.stringify({ after: "../x" })).toString("base64url"), Buffer.from("{").toString("base64url"), "A".repeat(5000), Buffer.from("6o/4oY0d").toString("base64url")]) {
            const response = await s3As(bob, "GET", `/${bucket}`, `list-type=2&prefix=${encodeURIComponent(prefix)}&continuation-token=${encodeURIComponent(bad)}`);
            assert.equal(response.status, 400, `token ${bad.slice(0, 20)}: ${response.status} ${code(response)}`);
        }
        const other = await s3As(bob, "GET", `/${bucket}`, `list-type=2&prefix=${encodeURIComponent(`private/${A()}/`)}`);
        assert.equal(other.status, 403);
    });

    it("refuses tokens minted with the private key published in the cognito-local package", async () => {
        const { endpoints, region, userPoolId, userPoolClientId, identityPoolId } = cloud.outputs;
        const published = await importJWK(require("cognito-local/lib/keys/cognitoLocal.private.json").jwk, "RS256");
        const claims = JSON.parse(Buffer.from(alice.idToken.split(".")[1], "base64url").toString("utf8"));
        const forgedId = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "CognitoLocal" }).sign(published);
        const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${alice.idToken.split(".")[1]}.`;
        const identity = new CognitoIdentityClient({ region, endpoint: endpoints.cognitoIdentity });
        for (const token of [forgedId, unsigned]) {
            attacks++;
            await assert.rejects(identity.send(new GetIdCommand({ IdentityPoolId: identityPoolId, Logins: { [`cognito-idp.${region}.amazonaws.com/${userPoolId}`]: token } })), (e: any) => e.name === "NotAuthorizedException");
        }
        const idp = new CognitoIdentityProviderClient({ region, endpoint: endpoints.cognitoIdp, maxAttempts: 1 });
        const auth = await srpSignIn({ ...cloud.outputs, endpoint: endpoints.cognitoIdp }, alice.email, alicePassword);
        const accessClaims = JSON.parse(Buffer.from(auth.accessToken.split(".")[1], "base64url").toString("utf8"));
        const forgedAccess = await new SignJWT(accessClaims).setProtectedHeader({ alg: "RS256", kid: "CognitoLocal" }).sign(published);
        attacks++;
        await assert.rejects(idp.send(new GetUserCommand({ AccessToken: forgedAccess })), (e: any) => e.name === "NotAuthorizedException");
    });

    it("refuses the User Pool's IAM-authorized actions unsigned or signed by a user, so no one else confirms, resets or deletes users", async () => {
        const { endpoints, region, userPoolId } = cloud.outputs;
        const p = port(endpoints.cognitoIdp);
        const actions: [string, Record<string, unknown>][] = [
            ["ListUsers", { UserPoolId: userPoolId }],
            ["AdminGetUser", { UserPoolId: userPoolId, Username: alice.email }],
            ["AdminSetUserPassword", { UserPoolId: userPoolId, Username: alice.email, Password: "Attacker-Chosen-1!", Permanent: true }],
            ["AdminDeleteUser", { UserPoolId: userPoolId, Username: alice.email }],
            ["AdminConfirmSignUp", { UserPoolId: userPoolId, Username: "nobody@example.com" }],
            ["AdminCreateUser", { UserPoolId: userPoolId, Username: "planted@example.com" }],
            ["AdminInitiateAuth", { UserPoolId: userPoolId, ClientId: cloud.outputs.userPoolClientId, AuthFlow: "ADMIN_USER_PASSWORD_AUTH", AuthParameters: { USERNAME: alice.email, PASSWORD: "x" } }],
            ["CreateUserPoolClient", { UserPoolId: userPoolId, ClientName: "attacker" }],
            ["DeleteUserPool", { UserPoolId: userPoolId }],
        ];
        for (const [action, input] of actions) {
            const body = Buffer.from(JSON.stringify(input));
            const headers: Record<string, string> = { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AWSCognitoIdentityProviderService.${action}` };
            const unsignedResponse = await raw(p, requestBytes("POST", "/", [["host", `127.0.0.1:${p}`], ...Object.entries(headers)], body));
            assert.equal(JSON.parse(unsignedResponse.body).__type, "MissingAuthenticationTokenException", action);
            const signed = await signedHeaders(bob.credentials, { service: "cognito-idp", region, method: "POST", host: `127.0.0.1:${p}`, path: "/", query: {}, headers, body });
            const { host: _host, ...rest } = signed!;
            const asUser = await raw(p, requestBytes("POST", "/", [["host", `127.0.0.1:${p}`], ...Object.entries(rest)], body));
            assert.equal(JSON.parse(asUser.body).__type, "AccessDeniedException", `${action} signed with a user's session`);
            const forged = await signedHeaders({ ...cloud.adminCredentials, secretAccessKey: "x".repeat(40) }, { service: "cognito-idp", region, method: "POST", host: `127.0.0.1:${p}`, path: "/", query: {}, headers, body });
            const { host: _h, ...forgedRest } = forged!;
            const wrongSecret = await raw(p, requestBytes("POST", "/", [["host", `127.0.0.1:${p}`], ...Object.entries(forgedRest)], body));
            assert.equal(JSON.parse(wrongSecret.body).__type, "InvalidSignatureException", `${action} with the admin key id and a wrong secret`);
        }
        // Alice's account is untouched: her own password still signs her in.
        assert.ok(await client.logIn(alice.email, alicePassword));
    });

    it("refuses a foreign Host on every server (DNS rebinding) and answers CORS only for the stack's origins", async () => {
        const { endpoints, apiUrl } = cloud.outputs;
        for (const url of [endpoints.s3, endpoints.cognitoIdentity, endpoints.cognitoIdp, apiUrl, endpoints.dynamodb]) {
            const p = port(url);
            for (const host of ["rebind.attacker.example", `rebind.attacker.example:${p}`, "127.0.0.1.attacker.example"]) {
                const response = await raw(p, requestBytes("GET", "/", [["host", host]]));
                assert.equal(response.status, 403, `${url} with Host ${host}`);
            }
            const preflight = await raw(p, requestBytes("OPTIONS", `/${bucket}/private/x`, [["host", `127.0.0.1:${p}`], ["origin", "https://attacker.example"], ["access-control-request-method", "POST"], ["access-control-request-headers", "content-type,x-amz-target"]]));
            assert.equal(preflight.headers["access-control-allow-origin"], undefined, `${url} answered CORS for a foreign origin`);
            const simple = await raw(p, requestBytes("POST", "/", [["host", `127.0.0.1:${p}`], ["origin", "https://attacker.example"], ["content-type", "text/plain"]], Buffer.from("{}")));
            assert.equal(simple.headers["access-control-allow-origin"], undefined, `${url} let a foreign page read a simple request's answer`);
        }
    });

    it("after every attack: the process runs, nothing outside the data directory changed, the first user's files are byte-identical", async () => {
        const lock = JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), "utf8"));
        assert.doesNotThrow(() => process.kill(lock.pid, 0), "the local cloud is still running");
        assert.doesNotMatch(cloud.output(), /Uncaught|unhandled|ENAMETOOLONG|EISDIR/i);
        assert.deepEqual(snapshot(parent, dataDir), outside, "a file outside the data directory changed");
        const aliceS3: S3Client = client.s3(alice);
        const listed = await aliceS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `private/${A()}/` }));
        assert.deepEqual(listed.Contents?.map((o) => o.Key).sort(), Object.keys(aliceFiles).sort());
        for (const [key, bytes] of Object.entries(aliceFiles)) {
            const object = await aliceS3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            assert.ok(Buffer.from(await object.Body!.transformToByteArray()).equals(bytes), `${key} changed`);
        }
        assert.ok(attacks >= 200, `only ${attacks} attack requests were sent`);
    });
});
