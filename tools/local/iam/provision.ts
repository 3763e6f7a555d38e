import { documentText, type Provisioner } from "../provisioner";

/** A `role` input names the role by name or ARN; the registry keys roles by name. */
function roleName(role: unknown): string {
    return String(role).replace(/^arn:.*\//, "");
}

/** `aws:iam/role:Role`: its trust policy, and the `AROA…` id API Gateway shows in `callerId`. */
export const role: Provisioner = ({ inputs, state }, { registry }) => {
    registry.roles.set(state.name, { name: state.name, arn: state.arn, assumeRolePolicy: documentText(inputs.assumeRolePolicy), uniqueId: state.uniqueId });
    return undefined;
};

/** `aws:iam/rolePolicy:RolePolicy`: an inline policy of the role. */
export const rolePolicy: Provisioner = ({ name, inputs, state }, { registry }) => {
    const role = roleName(inputs.role);
    const policies = registry.inlinePolicies.get(role) ?? new Map<string, string>();
    policies.set(state.name ?? name, documentText(inputs.policy));
    registry.inlinePolicies.set(role, policies);
    return undefined;
};

/** `aws:iam/policy:Policy`: a customer-managed policy, under its ARN. */
export const policy: Provisioner = ({ id, inputs, state }, { registry }) => {
    registry.managedPolicies.set(state.arn ?? `arn:aws:iam::${registry.accountId}:policy/${id}`, documentText(inputs.policy));
    return { state: { arn: `arn:aws:iam::${registry.accountId}:policy/${id}` } };
};

/** `aws:iam/rolePolicyAttachment:RolePolicyAttachment`: a managed policy attached to the role (AWS-managed ones are unknown locally). */
export const rolePolicyAttachment: Provisioner = (resource, services) => {
    const { inputs } = resource;
    const role = roleName(inputs.role);
    if (String(inputs.policyArn).startsWith("arn:aws:iam::aws:policy/")) {
        services.notEmulated(resource, `AWS-managed ${inputs.policyArn} is not known locally; the role gets nothing from it`);
    }
    const set = services.registry.attachments.get(role) ?? new Set<string>();
    set.add(String(inputs.policyArn));
    services.registry.attachments.set(role, set);
    return undefined;
};
