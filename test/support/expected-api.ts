/**
 * What the notes API must be, written out by hand: each route, the function that serves it, the
 * only DynamoDB actions its role may take, its S3 statement, its package files, and the
 * execute-api ARN a caller must be allowed to invoke. The component tests compare the program
 * with this table, never with `NOTES_ROUTES` (the constant the component builds from), so that
 * widening a route's role, or changing its ARN, fails them.
 *
 * A new route is a new entry here; a route the program declares that is not here fails the tests
 * that meet it, by name (`expectedRoute`).
 */
export interface ExpectedRoute {
    /** The function's short name: its resources are `notes-api-<handler>`, `-role`, `-policy`, `-logs`, `-invoke`… */
    handler: string;
    /** The actions of its role's `NotesTable` statement (on the notes table only), in the order the role lists them. */
    tableActions: string[];
    /** Its role's one statement on the uploads bucket, if it has one. */
    bucket?: { sid: string; actions: string[]; /** Object keys it covers, after `<bucket ARN>/`. */ keys: string };
    /** Files of its deployment package. */
    packageFiles: string[];
    /** What follows the API's execution ARN in the route's execute-api ARN: any stage, the method, path parameters as `*`. */
    arnSuffix: string;
}

const BUNDLE = ["index.js", "index.js.map"];

export const EXPECTED_ROUTES: Readonly<Record<string, ExpectedRoute>> = {
    "POST /notes": { handler: "create", tableActions: ["dynamodb:PutItem"], packageFiles: BUNDLE, arnSuffix: "/*/POST/notes" },
    "GET /notes": { handler: "list", tableActions: ["dynamodb:Query"], packageFiles: BUNDLE, arnSuffix: "/*/GET/notes" },
    "GET /notes/{id}": { handler: "get", tableActions: ["dynamodb:GetItem"], packageFiles: BUNDLE, arnSuffix: "/*/GET/notes/*" },
    // GetItem after a failed conditional write tells 412 (stale If-Match) from 404.
    "PUT /notes/{id}": { handler: "update", tableActions: ["dynamodb:UpdateItem", "dynamodb:GetItem"], packageFiles: BUNDLE, arnSuffix: "/*/PUT/notes/*" },
    "DELETE /notes/{id}": {
        handler: "delete",
        tableActions: ["dynamodb:DeleteItem", "dynamodb:GetItem"],
        bucket: { sid: "AttachmentCleanup", actions: ["s3:DeleteObject"], keys: "private/*" },
        // The S3 SDK in a file of its own, loaded on the first attachment delete.
        packageFiles: [...BUNDLE, "s3.js", "s3.js.map"],
        arnSuffix: "/*/DELETE/notes/*",
    },
};

/** The expected entry of a route (`"GET /notes"`); throws, naming the route and this file, when there is none. */
export function expectedRoute(routeKey: string): ExpectedRoute {
    const expected = EXPECTED_ROUTES[routeKey];
    if (!expected) {
        throw new Error(
            `The program declares the route ${routeKey}, which test/support/expected-api.ts does not expect: add its function, table actions, S3 statement, package files and ARN to EXPECTED_ROUTES.`,
        );
    }
    return expected;
}

/**
 * The route keys to register per-route tests for: every expected route, and every route the
 * program declares (so that one nobody wrote down fails by name instead of going untested).
 */
export function routeKeysToTest(declared: readonly string[]): string[] {
    return [...new Set([...Object.keys(EXPECTED_ROUTES), ...declared])];
}

/** The differences between the route keys a run declares and the expected ones, as sentences ([] when they agree). */
export function routeKeyDifferences(declared: readonly string[]): string[] {
    const expected = Object.keys(EXPECTED_ROUTES);
    return [
        ...declared.filter((key) => !expected.includes(key)).map((key) => `unexpected route ${key} (add it to EXPECTED_ROUTES in test/support/expected-api.ts)`),
        ...expected.filter((key) => !declared.includes(key)).map((key) => `missing route ${key}`),
    ];
}
