import type { Materialized } from "../engine/mocks";
import type { LocalGateway } from "./apigateway/gateway";
import type { LocalIdentityService } from "./cognito-identity/identity-pools";
import type { LocalUserPools } from "./cognito-idp/user-pools";
import type { LocalRegistry } from "./registry";
import type { LocalS3 } from "./s3/front";
import type { CredentialStore } from "./sts/credentials";

/** A resource the program registered, with what the mock engine synthesized for it. */
export interface DeclaredResource {
    type: string;
    /** The logical name. */
    name: string;
    urn: string;
    inputs: Record<string, any>;
    /** The engine's id and outputs (`name`, `arn` …), before a provisioner replaces any. */
    id: string;
    state: Record<string, any>;
}

/** What the cloud's core hands each provisioner: the running services and the state they share. */
export interface LocalServices {
    /** Region, account and every declared document requests are decided with. */
    registry: LocalRegistry;
    /** The sessions the local cloud issues (function roles, Identity Pool users). */
    store: CredentialStore;
    dataDir: string;
    s3: LocalS3;
    userPools: LocalUserPools;
    /** The identity service (started with the emulators). */
    identity(): Promise<LocalIdentityService>;
    endpoints: {
        /** dynalite for operators (tables are created through it). */
        dynamodb: string;
        /** What the functions call: signature and IAM check, then dynalite. */
        dynamodbFront: string;
        s3: string;
        /** The User Pools and the Identity service (functions that administer accounts call them). */
        cognitoIdp: string;
        cognitoIdentity: string;
    };
    /** The gateway of each HTTP API, by API id, with its port. */
    gateways: Map<string, { gateway: LocalGateway; port: number }>;
    /** The port for the next HTTP API's gateway (0: a free one). */
    nextGatewayPort(): number;
    /** Local ids by URN, kept across restarts so a restart reuses the same pool, client and identity pool. */
    ids: { get(urn: string): string | undefined; set(urn: string, id: string): void };
    /** Records that a resource, or a setting of it, has no local effect, and why (listed at start). */
    notEmulated(resource: DeclaredResource, reason: string): void;
    /** Console lines (warnings the developer must see). */
    print(line: string): void;
    /** Structured request logs. */
    log?: (line: Record<string, unknown>) => void;
}

/** Turns one declared resource into its service's local state; may replace the engine's id and outputs. */
export type Provisioner = (resource: DeclaredResource, services: LocalServices) => Promise<Materialized | undefined> | Materialized | undefined;

/** A policy document as the program passes it (JSON text, or an object the engine kept as one). */
export function documentText(document: unknown): string {
    return typeof document === "string" ? document : JSON.stringify(document);
}
