// A network cable to pull for one browser context. Chromium's offline emulation
// (context.setOffline) stops traffic but leaves an open WebSocket open: its frames
// wait and go out when the page is back online, so no reconnect ever happens. To
// lose the connection for real, a user's context sends everything through this
// HTTP CONNECT proxy on loopback; cut() drops every tunnel (the page sees the
// socket close as 1006) and refuses new ones until restore(). TLS passes through
// untouched, so the page's origin, Host and certificate are those of the server.

import http from 'node:http';
import net from 'node:net';

/**
 * Starts the proxy on 127.0.0.1 (a free port); it forwards CONNECT to loopback
 * only. Resolves {server (for newContext's proxy.server), cut(), restore(),
 * close(), tunnels (live count), opened (count since start)}.
 */
export async function cableProxy() {
    const live = new Set();
    let up = true;
    let opened = 0;
    const proxy = http.createServer((req, res) => {
        res.writeHead(405, { Connection: 'close' }).end();
    });
    proxy.on('connect', (req, client, head) => {
        const [host, port] = req.url.split(':');
        if (!up || !['localhost', '127.0.0.1'].includes(host)) {
            client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
            client.destroy();
            return;
        }
        const upstream = net.connect(Number(port), '127.0.0.1', () => {
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (head?.length) upstream.write(head);
            upstream.pipe(client);
            client.pipe(upstream);
        });
        opened += 1;
        const pair = { client, upstream };
        live.add(pair);
        const drop = () => {
            live.delete(pair);
            client.destroy();
            upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
    });
    await new Promise((resolve, reject) => {
        proxy.once('error', reject);
        proxy.listen(0, '127.0.0.1', resolve);
    });
    const { port } = proxy.address();
    return {
        server: `http://127.0.0.1:${port}`,
        get tunnels() {
            return live.size;
        },
        get opened() {
            return opened;
        },
        /** Drops every tunnel (resets both ends) and refuses new ones. */
        cut() {
            up = false;
            for (const { client, upstream } of [...live]) {
                client.resetAndDestroy?.() ?? client.destroy();
                upstream.resetAndDestroy?.() ?? upstream.destroy();
            }
            live.clear();
        },
        /** Lets new tunnels through again. */
        restore() {
            up = true;
        },
        /** Stops the proxy and drops what is left. */
        close() {
            this.cut();
            proxy.closeAllConnections?.();
            return new Promise((resolve) => proxy.close(() => resolve()));
        },
    };
}
