import type { Policies } from "@pulumi/policy";
import { apiPolicies } from "./api";
import { identityPolicies } from "./identity";
import { oauthPolicies } from "./oauth";
import { storagePolicies } from "./storage";

/** Every policy of the pack, in the order the CLI reports them. */
export const policies: Policies = [...apiPolicies, ...storagePolicies, ...identityPolicies, ...oauthPolicies];
