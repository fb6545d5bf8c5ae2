// A loopback TCP relay between one kamratd node and Redis, for the failover
// tests: the node's [cluster] redis points at it, and the test delays what
// the node sends to Redis (a home whose copies arrive late) or freezes both
// directions for a while (a Redis or network stall). Stopped with close().

import net from 'node:net';

/**
 * Starts a relay to 127.0.0.1:target on a random loopback port. Resolves
 * {port, setDelay(ms), freeze(ms), close()}: setDelay holds each chunk from the
 * node for ms before passing it on (order kept); freeze holds everything in
 * both directions until ms have passed, without closing a connection.
 */
export async function startRelay(target) {
    let delayMs = 0;
    let frozenUntil = 0;
    const sockets = new Set();
    // A queue per direction: a chunk leaves when its time has come and
    // everything before it has left.
    const pipe = (from, to, delayed) => {
        const queue = [];
        let timer = null;
        const pump = () => {
            timer = null;
            const now = Date.now();
            while (queue.length) {
                const due = Math.max(queue[0].at, frozenUntil);
                if (due > now) {
                    timer = setTimeout(pump, due - now);
                    return;
                }
                if (!to.destroyed) to.write(queue.shift().data);
                else queue.shift();
            }
        };
        from.on('data', (data) => {
            queue.push({ data, at: Date.now() + (delayed ? delayMs : 0) });
            if (!timer) pump();
        });
        // What was still held when a side went never arrives: a node that
        // dies loses what it had not got out yet.
        from.on('close', () => {
            queue.length = 0;
            to.destroy();
        });
        from.on('error', () => {});
    };
    const server = net.createServer((node) => {
        const redis = net.connect(target, '127.0.0.1');
        sockets.add(node).add(redis);
        pipe(node, redis, true);
        pipe(redis, node, false);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        port: server.address().port,
        setDelay(ms) {
            delayMs = ms;
        },
        freeze(ms) {
            frozenUntil = Date.now() + ms;
        },
        async close() {
            for (const s of sockets) s.destroy();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}
