import type { Policies } from "@pulumi/policy";
import { apiPolicies, webSocketConnectRoute } from "./api";
import { appSyncPolicies } from "./appsync";
import { cdnPolicies } from "./cdn";
import { identityPolicies } from "./identity";
import { monitoringPolicies } from "./monitoring";
import { oauthPolicies } from "./oauth";
import { storagePolicies } from "./storage";

/** Every policy of the pack, in the order the CLI reports them. */
export const policies: Policies = [...apiPolicies, ...storagePolicies, ...identityPolicies,
    // API doors beyond API Gateway routes and function URLs: WebSocket connections, AppSync.
    webSocketConnectRoute, ...appSyncPolicies, ...cdnPolicies, ...monitoringPolicies, ...oauthPolicies];
