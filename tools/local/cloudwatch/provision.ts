import type { Provisioner } from "../provisioner";
import { alarmDefinition } from "./alarms";

/**
 * `aws:cloudwatch/metricAlarm:MetricAlarm`: the alarm itself (period, statistic, evaluation
 * periods, datapoints to alarm, comparison, threshold, missing data, metric math), evaluated
 * against the metrics the emulators record. Its actions print instead of publishing.
 */
export const metricAlarm: Provisioner = (resource, { cloudwatch, notEmulated }) => {
    const name = String(resource.inputs.name ?? resource.state.name ?? resource.name);
    try {
        cloudwatch.addAlarm(alarmDefinition(name, resource.inputs));
    } catch (error) {
        notEmulated(resource, `alarm ${name} is not evaluated locally: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
};

/** `aws:cloudwatch/logMetricFilter:LogMetricFilter`: applied to every line the functions logging to its group write. */
export const logMetricFilter: Provisioner = (resource, { cloudwatch, notEmulated }) => {
    const { logGroupName, pattern, metricTransformation } = resource.inputs;
    try {
        cloudwatch.addFilter(String(logGroupName), String(pattern ?? ""), metricTransformation);
    } catch (error) {
        notEmulated(resource, `metric filter ${resource.name} is not applied locally: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
};
