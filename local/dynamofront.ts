import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { CredentialStore } from "./credentials";
import { decide } from "./iam";
import { LocalRegistry } from "./registry";
import { readRequest, ReceivedRequest, verifySigV4, VerifyFailure } from "./sigv4";
import { closeServer, forward, listenOn } from "./server";

/** DynamoDB's error type and message for each way a signature can fail (all HTTP 400). */
const DYNAMODB_SIGNATURE_ERRORS: Record<VerifyFailure, [string, string]> = {
    MissingAuthentication: ["MissingAuthenticationTokenException", "Request is missing Authentication Token"],
    IncompleteSignature: ["IncompleteSignatureException", "The request signature does not conform to AWS standards."],
    InvalidAccessKey: ["UnrecognizedClientException", "The security token included in the request is invalid."],
    InvalidToken: ["UnrecognizedClientException", "The security token included in the request is invalid."],
    ExpiredToken: ["ExpiredTokenException", "The security token included in the request is expired"],
    SignatureExpired: ["InvalidSignatureException", "Signature expired."],
    WrongScope: ["InvalidSignatureException", "Credential should be scoped to a valid region and to service 'dynamodb'."],
    ContentHashMismatch: ["InvalidSignatureException", "The request signature we calculated does not match the signature you provided."],
    UnsupportedPayload: ["InvalidSignatureException", "The request signature we calculated does not match the signature you provided."],
    SignatureDoesNotMatch: ["InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."],
};

/** The table (and index) ARNs a DynamoDB JSON request acts on, as IAM authorizes it. */
export function dynamoResources(body: Record<string, any>, region: string, accountId: string): string[] {
    const table = (name: string) => `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
    if (typeof body.TableName === "string") {
        return [typeof body.IndexName === "string" ? `${table(body.TableName)}/index/${body.IndexName}` : table(body.TableName)];
    }
    if (body.RequestItems && typeof body.RequestItems === "object") return Object.keys(body.RequestItems).map(table);
    return [`arn:aws:dynamodb:${region}:${accountId}:table/*`];
}

export interface DynamoFrontOptions {
    /** dynalite's own endpoint (it checks no signature). */
    backend: string;
    registry: LocalRegistry;
    store: CredentialStore;
    log?: (line: Record<string, unknown>) => void;
}

/**
 * The DynamoDB endpoint the functions use: SigV4 check, then `dynamodb:<Operation>` on the
 * table ARN decided with the function role's policies, then dynalite. This is what makes each
 * function's least-privilege role matter locally (the list function may Query, not PutItem).
 * Fine-grained conditions (`dynamodb:LeadingKeys`, attributes) are not evaluated.
 */
export class LocalDynamoFront {
    private server?: Server;
    private readonly log: (line: Record<string, unknown>) => void;

    constructor(private readonly options: DynamoFrontOptions) {
        this.log = options.log ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
    }

    async listen(port = 0, host = "127.0.0.1"): Promise<number> {
        this.server = createServer((req, res) => {
            this.handle(req, res).catch((error) => {
                this.log({ level: "error", source: "dynamodb", message: String(error?.stack ?? error) });
                if (!res.headersSent) this.error(res, 500, "InternalServerError", "Internal server error");
            });
        });
        return listenOn(this.server, port, host);
    }

    async close(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        await closeServer(server);
    }

    private error(res: ServerResponse, status: number, type: string, message: string): void {
        const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
        res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": type, "content-length": String(Buffer.byteLength(body)) });
        res.end(body);
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const request = await readRequest(req);
        const { registry } = this.options;
        const verified = await verifySigV4(request, { service: "dynamodb", region: registry.region, store: this.options.store });
        if (!verified.ok) {
            const [type, message] = DYNAMODB_SIGNATURE_ERRORS[verified.failure];
            this.log({ level: "info", source: "dynamodb", status: 400, type, detail: verified.detail });
            this.error(res, 400, type, message);
            return;
        }
        const operation = String(request.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
        let body: Record<string, any> = {};
        try {
            body = JSON.parse(request.body.toString("utf8") || "{}");
        } catch {
            this.error(res, 400, "SerializationException", "Start of structure or map found where not expected.");
            return;
        }
        const action = `dynamodb:${operation}`;
        const session = verified.session;
        for (const resource of dynamoResources(body, registry.region, registry.accountId)) {
            const decision = await decide({ policies: registry.policiesOf(session.roleArn), action, resource, principal: session.principalArn, accountId: registry.accountId });
            if (decision !== "Allow") {
                this.log({ level: "info", source: "dynamodb", status: 400, decision, action, resource, principal: session.principalArn });
                const why = decision === "ExplicitDeny" ? `with an explicit deny in an identity-based policy` : `because no identity-based policy allows the ${action} action`;
                this.error(res, 400, "AccessDeniedException", `User: ${session.principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`);
                return;
            }
        }
        await this.forward(request, res);
    }

    private forward(request: ReceivedRequest, res: ServerResponse): Promise<void> {
        const target = new URL(this.options.backend);
        return forward(
            { hostname: target.hostname, port: target.port, method: request.method, path: request.path, headers: { ...request.headers, "content-length": String(request.body.length) } },
            request.body,
            res,
        );
    }
}
