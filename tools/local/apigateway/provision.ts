import type { Provisioner } from "../provisioner";
import type { LocalApi, LocalRegistry } from "../registry";
import { LocalGateway } from "./gateway";

function declaredApi(registry: LocalRegistry, apiId: string): LocalApi {
    const api = registry.apis.get(apiId);
    if (!api) throw new Error(`A resource names HTTP API ${apiId}, which the program has not registered.`);
    return api;
}

/** `aws:apigatewayv2/api:Api` (HTTP only): a gateway of its own, with the API's CORS settings. */
export const api: Provisioner = async ({ id, name, inputs }, { registry, store, log, gateways, nextGatewayPort, cloudwatch }) => {
    if (inputs.protocolType !== "HTTP") throw new Error(`HTTP API ${name}: the local gateway emulates protocolType HTTP only, got ${inputs.protocolType}.`);
    const api: LocalApi = { id, name, cors: inputs.corsConfiguration, routes: new Map(), integrations: new Map(), stages: new Set() };
    registry.apis.set(api.id, api);
    const gateway = new LocalGateway({ api, registry, store, log, cloudwatch });
    const port = await gateway.listen(nextGatewayPort());
    gateways.set(api.id, { gateway, port });
    return undefined;
};

/** `aws:apigatewayv2/stage:Stage`: only `$default` is served; its invoke URL is the gateway's. */
export const stage: Provisioner = (resource, services) => {
    const { inputs } = resource;
    const api = declaredApi(services.registry, inputs.apiId);
    api.stages.add(inputs.name);
    if (inputs.name !== "$default") {
        services.notEmulated(resource, `only the $default stage is served locally, not ${inputs.name}`);
        return undefined;
    }
    if (inputs.defaultRouteSettings || inputs.accessLogSettings) {
        services.notEmulated(resource, "throttling and access logs are not emulated (requests are logged to this console)");
    }
    return { state: { invokeUrl: `http://127.0.0.1:${services.gateways.get(api.id)!.port}/` } };
};

/** `aws:apigatewayv2/integration:Integration`: the function a route invokes (AWS_PROXY, payload format 2.0 only). */
export const integration: Provisioner = ({ id, name, inputs }, { registry }) => {
    const api = declaredApi(registry, inputs.apiId);
    const uri = String(inputs.integrationUri ?? "");
    const functionArn = /functions\/(arn:aws:lambda:[^/]+)\/invocations$/.exec(uri)?.[1] ?? uri;
    api.integrations.set(id, { functionArn, payloadFormatVersion: inputs.payloadFormatVersion ?? "1.0", type: inputs.integrationType });
    if ((inputs.payloadFormatVersion ?? "1.0") !== "2.0") throw new Error(`Integration ${name}: the local gateway speaks payload format 2.0 only.`);
    return undefined;
};

/** `aws:apigatewayv2/route:Route`: the route key, its authorization and its integration; a route without AWS_IAM is printed. */
export const route: Provisioner = ({ inputs }, { registry, print }) => {
    declaredApi(registry, inputs.apiId).routes.set(inputs.routeKey, { routeKey: inputs.routeKey, authorizationType: inputs.authorizationType ?? "NONE", target: inputs.target });
    if (inputs.authorizationType !== "AWS_IAM") print(`! route ${inputs.routeKey} uses authorization ${inputs.authorizationType ?? "NONE"}`);
    return undefined;
};
