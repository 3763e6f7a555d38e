import { request as httpRequest, RequestOptions, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on loopback (port 0 = a free one) and resolves with the bound port. */
export async function listenOn(server: Server, port = 0, host = "127.0.0.1"): Promise<number> {
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
}

/** Stops the server, dropping idle keep-alive connections so it closes at once. */
export async function closeServer(server: Server | undefined): Promise<void> {
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends a buffered request upstream and streams the answer back to the client as it comes. */
export function forward(options: RequestOptions, body: Buffer, res: ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
        const upstream = httpRequest(options, (response) => {
            res.writeHead(response.statusCode ?? 500, response.headers);
            response.pipe(res);
            response.on("end", resolve);
            response.on("error", reject);
        });
        upstream.on("error", reject);
        upstream.end(body);
    });
}
