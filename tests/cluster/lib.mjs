// What the cluster suite's test files share: a redis-server of the test's own on
// a random loopback port, stopped by its PID, and the [cluster] section of a
// node on it.

import { spawnSync } from 'node:child_process';
import { freePort, makeTempDir, run, spawnProgram, waitFor } from '../integration/lib/harness.mjs';

const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';
const REDIS_READY_MS = 5000;
const REDIS_STOP_MS = 3000;

/** True when cmd can be started (it is on PATH). */
export const found = (cmd) => !spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error;

/** false, or why the tests that need Redis are skipped (for node:test's skip). */
export const redisSkip =
    found(REDIS_SERVER) && found(REDIS_CLI)
        ? false
        : `${REDIS_SERVER} or ${REDIS_CLI} is not installed (Debian: redis-server; scripts/deps.sh installs it)`;

/**
 * Starts redis-server on a random (or the given) loopback port with persistence
 * off; settings override or add redis-server options ({ appendonly: 'yes' }).
 * Resolves {port, dir, stop()} once it answers PING.
 */
export async function startRedis(settings = {}, { port, dir } = {}) {
    port ??= await freePort();
    dir ??= makeTempDir('kamrat-redis-');
    const opts = { port: String(port), bind: '127.0.0.1', save: '', appendonly: 'no', dir, ...settings };
    const args = Object.entries(opts).flatMap(([k, v]) => [`--${k}`, ...[v].flat()]);
    const proc = spawnProgram(REDIS_SERVER, args);
    const redis = {
        port,
        dir,
        settings,
        proc,
        /** Stops this redis-server by its PID (SIGKILL after REDIS_STOP_MS). */
        async stop(signal = 'SIGTERM') {
            proc.kill(signal);
            const timer = setTimeout(() => proc.kill('SIGKILL'), REDIS_STOP_MS);
            await proc.done;
            clearTimeout(timer);
        },
    };
    try {
        // A Redis with requirepass answers NOAUTH: up all the same.
        await waitFor(async () => /^(PONG|NOAUTH)/.test(await cli(redis, 'PING')), {
            timeout: REDIS_READY_MS,
            desc: `redis-server on port ${port} to answer PING`,
        });
    } catch (e) {
        await redis.stop('SIGKILL');
        const r = await proc.done;
        throw new Error(`${e.message}\n${r.stdout}${r.stderr}`);
    }
    return redis;
}

/** One redis-cli command; resolves its output, trimmed. */
export async function cli(redis, ...args) {
    const r = await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(redis.port), ...args], { timeout: 3000 });
    return r.stdout.trim();
}

/** The [cluster] section for a node on redis; more: extra keys. */
export function clusterSection(redis, nodeId, more = {}) {
    const keys = { node_id: nodeId, redis: `127.0.0.1:${redis.port}`, ...more };
    return ['[cluster]', ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`)].join('\n');
}

/** Runs a redis-server for the test body and stops it afterwards. */
export async function withRedis(settings, fn) {
    const redis = await startRedis(settings);
    try {
        return await fn(redis);
    } finally {
        await redis.stop();
    }
}

const MASK64 = (1n << 64n) - 1n;
const fmix64 = (h) => {
    h ^= h >> 33n;
    h = (h * 0xff51afd7ed558ccdn) & MASK64;
    h ^= h >> 33n;
    h = (h * 0xc4ceb9fe1a85ec53n) & MASK64;
    return h ^ (h >> 33n);
};
const fnv1a = (s) => {
    let h = 0xcbf29ce484222325n;
    for (const byte of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & MASK64;
    return h;
};

/** A room's route as its mirror keys in Redis name it (server/mirror.c): 16 hex digits. */
export const routeHex = (roomKey) => fmix64(fnv1a(roomKey)).toString(16).padStart(16, '0');

/**
 * The node (an id of nodeIds) a room key lives on: server/cluster.c's rendezvous
 * hashing (cluster_route, cluster_home), written again here.
 */
export function homeNode(roomKey, nodeIds) {
    const route = fmix64(fnv1a(roomKey));
    let best = null;
    let bestW = -1n;
    for (const id of nodeIds) {
        const w = fmix64(fnv1a(id) ^ route);
        if (w > bestW || (w === bestW && id < best)) [best, bestW] = [id, w];
    }
    return best;
}

/** A fresh room name (prefix + counter) whose home among nodeIds is want. */
export function roomHomedOn(want, nodeIds, prefix = 'room') {
    for (let i = 0; ; i++) {
        const name = `${prefix}-${process.pid}-${i}`;
        if (homeNode(name, nodeIds) === want) return name;
    }
}
