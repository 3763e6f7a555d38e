import type { Provisioner } from "../provisioner";

/**
 * `aws:kms/key:Key` and `aws:kms/keyPolicy:KeyPolicy`: recorded. Nothing local is encrypted with a
 * key (the alarm topic's deliveries print to the console); who may use the key is checked on the
 * program's own policy documents under the mock engine (test/components/monitoring.test.ts).
 */
export const key: Provisioner = (resource, { notEmulated }) => {
    notEmulated(resource, "nothing local is encrypted; the key policy is checked under the mock engine");
    return undefined;
};

export const keyPolicy: Provisioner = key;
