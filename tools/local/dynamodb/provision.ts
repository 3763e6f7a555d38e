import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import type { Provisioner } from "../provisioner";
import { LOCAL_CREDENTIALS, waitUntilActive } from "./dynalite";

/**
 * `aws:dynamodb/table:Table`: CreateTable on dynalite with the declared keys, billing mode and
 * global secondary indexes. A table an earlier run created is kept with its data.
 */
export const table: Provisioner = async ({ id, inputs }, { registry, endpoints }) => {
    const client = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: registry.region, credentials: LOCAL_CREDENTIALS });
    try {
        await client.send(new DescribeTableCommand({ TableName: id }));
        return undefined;
    } catch (error) {
        if (!(error instanceof ResourceNotFoundException) && (error as { name?: string }).name !== "ResourceNotFoundException") throw error;
    }
    const keySchema = (hash: string, range?: string) => [
        { AttributeName: hash, KeyType: "HASH" as const },
        ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
    ];
    const payPerRequest = (inputs.billingMode ?? "PROVISIONED") === "PAY_PER_REQUEST";
    const throughput = payPerRequest ? undefined : { ReadCapacityUnits: inputs.readCapacity ?? 1, WriteCapacityUnits: inputs.writeCapacity ?? 1 };
    await client.send(
        new CreateTableCommand({
            TableName: id,
            AttributeDefinitions: (inputs.attributes ?? []).map((a: any) => ({ AttributeName: a.name, AttributeType: a.type })),
            KeySchema: keySchema(inputs.hashKey, inputs.rangeKey),
            BillingMode: payPerRequest ? "PAY_PER_REQUEST" : "PROVISIONED",
            ProvisionedThroughput: throughput,
            GlobalSecondaryIndexes: inputs.globalSecondaryIndexes?.length
                ? inputs.globalSecondaryIndexes.map((index: any) => ({
                      IndexName: index.name,
                      KeySchema: keySchema(index.hashKey, index.rangeKey),
                      Projection: { ProjectionType: index.projectionType, NonKeyAttributes: index.nonKeyAttributes },
                      ProvisionedThroughput: throughput,
                  }))
                : undefined,
        }),
    );
    await waitUntilActive(client, id);
    client.destroy();
    return undefined;
};
