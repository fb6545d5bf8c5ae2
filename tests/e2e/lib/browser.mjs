// Harness for the browser suite: Debian's chromium driven by playwright-core against
// the real kamratd (started by the integration harness, with throw-away certificates
// on a random loopback port).
//
// One browser per test file (browserFixture); one context per user (fresh storage,
// its own locale and viewport). Each page is watched from its first byte on:
//   - console errors and uncaught page errors;
//   - Content-Security-Policy violations: an init script (injected over CDP, so the
//     page's CSP does not apply to it) listens for `securitypolicyviolation` and
//     reports every event to Node through a binding, so navigations lose none;
//   - every request's origin, WebSockets included: anything that leaves the
//     server's origin fails the test, and so does a URL that carries a token.
// e2eTest() declares a test (through the integration harness's test(), which prints
// the server's log on failure and stops the servers the test started), hands it a
// `users` factory, and after the body checks every user's record and closes their
// contexts. On failure it saves a screenshot of every open page.
//
// Environment: KAMRAT_CHROMIUM (the browser; default /usr/bin/chromium),
// KAMRAT_SCREENSHOTS (where screenshots go; default tests/e2e/screenshots),
// KAMRAT_E2E_HEADED=1 (show the browser, for debugging), and those of the
// integration harness (KAMRATD, KAMRATCTL, KAMRAT_ROOT, KAMRAT_KEEP_TMP).

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO, test as harnessTest, within } from '../../integration/lib/harness.mjs';

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.KAMRAT_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = process.env.KAMRAT_SCREENSHOTS
    ? path.resolve(process.env.KAMRAT_SCREENSHOTS)
    : path.join(REPO, 'tests/e2e/screenshots');

/** The client's languages, and the browser locale each user of that language gets. */
export const LANGS = ['fi', 'sv', 'en'];
const LOCALES = { fi: 'fi-FI', sv: 'sv-FI', en: 'en-GB' };
/** Viewport widths of the screenshots: 320 px is WCAG 1.4.10's reflow width
 * (a 1280 px screen at 400% zoom; 200% zoom of a phone lands here too). */
export const WIDTHS = { narrow: 320, wide: 1280 };
const HEIGHTS = { 320: 640, 1280: 800 };

/** Default time for one browser action or wait (playwright's own default is 30 s). */
export const ACTION_TIMEOUT_MS = 10000;
const LAUNCH_TIMEOUT_MS = 30000;
const CLOSE_TIMEOUT_MS = 10000;

/** The axe-core rules sets we hold every screen to: WCAG 2.0 and 2.1, levels A and AA. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
/** And two best-practice rules on top: all content in landmarks, and landmarks told apart. */
export const AXE_EXTRA_RULES = ['region', 'landmark-unique'];
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Runs in every document before the page's own scripts. It is added over CDP
// (Page.addScriptToEvaluateOnNewDocument), which the page's script-src does not
// govern. Reports go to Node through the binding; the array is for page.evaluate.
const INIT_SCRIPT = `(() => {
    const list = [];
    Object.defineProperty(window, '__kamratCsp', { value: list });
    document.addEventListener('securitypolicyviolation', (e) => {
        const v = { directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI,
            source: e.sourceFile, line: e.lineNumber, sample: e.sample, disposition: e.disposition };
        list.push(v);
        try { window.__kamratCspReport(v); } catch (err) { /* binding gone: page closing */ }
    }, true);
})();`;

// ---------------------------------------------------------------------------
// The browser

/**
 * Launches chromium headless with a fresh temporary profile (removed on close).
 * extraArgs: more command-line switches (visits.test.mjs trusts one server's
 * key, so that Chromium caches what it serves).
 */
export async function launchBrowser(extraArgs = []) {
    if (!fs.existsSync(CHROMIUM)) {
        throw new Error(`chromium not found at ${CHROMIUM}: apt-get install chromium (scripts/deps.sh does), or set KAMRAT_CHROMIUM`);
    }
    const headed = process.env.KAMRAT_E2E_HEADED === '1';
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: !headed,
        chromiumSandbox: false, // --no-sandbox: CI runs as root in a container
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
            '--disable-default-apps', '--disable-sync', '--disable-component-update', '--disable-features=Translate',
            ...extraArgs],
        timeout: LAUNCH_TIMEOUT_MS,
        // playwright kills the browser on SIGINT/SIGTERM/SIGHUP and on exit.
        handleSIGINT: true,
        handleSIGTERM: true,
        handleSIGHUP: true,
    });
}

/**
 * Declares the browser shared by the tests of one file: returns a function that
 * launches it on first use and closes it after the file's tests.
 */
export function browserFixture() {
    let launched = null;
    after(async () => {
        if (!launched) return;
        const b = await launched.catch(() => null);
        if (b) await within(b.close(), CLOSE_TIMEOUT_MS, 'chromium to close').catch(() => {});
    });
    return () => (launched ??= launchBrowser());
}

// ---------------------------------------------------------------------------
// Users: one browser context each, watched

/**
 * Opens a user: a fresh context (its own cookies and storage) and one page, watched
 * as described at the top. opts: label (for reports), lang (fi, sv, en: the
 * browser's locale), width (viewport width; height follows), allowConsole (regexps
 * of console errors that are expected, e.g. a refused login's 401), proxy (an
 * HTTP proxy URL for everything this user sends, loopback included: see
 * netcut.mjs).
 * Returns {label, lang, width, context, page, server, consoleErrors, pageErrors,
 * csp, foreign, tokenUrls, requests, allowConsole}.
 */
export async function openUser(browser, server, opts = {}) {
    const { label = 'user', lang = 'en', width = WIDTHS.wide, allowConsole = [], proxy } = opts;
    const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        locale: LOCALES[lang] ?? lang,
        timezoneId: 'Europe/Helsinki',
        viewport: { width, height: HEIGHTS[width] ?? 800 },
        // Pixel-stable screenshots: no caret blinking differences, no animations.
        reducedMotion: 'reduce',
        serviceWorkers: 'block',
        // Chromium sends loopback around a proxy unless told `<-loopback>`.
        ...(proxy ? { proxy: { server: proxy, bypass: '<-loopback>' } } : {}),
    });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    const user = {
        label,
        lang,
        width,
        context,
        server,
        consoleErrors: [],
        pageErrors: [],
        csp: [],
        foreign: [],
        tokenUrls: [],
        requests: [],
        sockets: [],
        allowConsole: [...allowConsole],
    };
    const allowed = new Set([server.origin, server.origin.replace(/^https:/, 'wss:')]);
    const seeUrl = (url, kind) => {
        user.requests.push(`${kind} ${url}`);
        let origin;
        try {
            origin = new URL(url).origin;
        } catch {
            origin = url;
        }
        // about:blank and the page's own blob:/data: documents never leave the machine,
        // but nothing in kamrat should need them: only about:blank is let through.
        if (!allowed.has(origin) && url !== 'about:blank') user.foreign.push(`${kind} ${url}`);
        if (/[?&#](token|invite|key)=/i.test(url)) user.tokenUrls.push(`${kind} ${url}`);
    };
    await context.exposeBinding('__kamratCspReport', (source, v) => {
        user.csp.push({ page: source.page?.url?.() ?? '?', ...v });
    });
    await context.addInitScript({ content: INIT_SCRIPT });
    context.on('request', (req) => seeUrl(req.url(), req.resourceType()));
    context.on('page', (page) => watchPage(user, page, seeUrl));
    user.page = await context.newPage();
    return user;
}

function watchPage(user, page, seeUrl) {
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const loc = msg.location();
        user.consoleErrors.push(`${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    });
    page.on('pageerror', (err) => user.pageErrors.push(err.stack || String(err)));
    page.on('websocket', (ws) => {
        user.sockets.push(ws);
        seeUrl(ws.url(), 'websocket');
    });
    page.on('popup', (p) => user.pageErrors.push(`a popup opened: ${p.url()}`));
}

/** Problems in a user's record: unexpected console errors, page errors, CSP reports, foreign requests. */
export function userProblems(user) {
    const problems = [];
    const console_ = user.consoleErrors.filter((e) => !user.allowConsole.some((re) => re.test(e)));
    for (const e of console_) problems.push(`console error: ${e}`);
    for (const e of user.pageErrors) problems.push(`page error: ${e}`);
    for (const v of user.csp) problems.push(`CSP violation: ${JSON.stringify(v)}`);
    for (const r of user.foreign) problems.push(`request to another origin: ${r}`);
    for (const r of user.tokenUrls) problems.push(`secret in a URL: ${r}`);
    return problems.map((p) => `${user.label}: ${p}`);
}

/** Throws when the user's record holds any problem (see userProblems). */
export function assertClean(user) {
    const problems = userProblems(user);
    if (problems.length) throw new Error(problems.join('\n'));
}

// ---------------------------------------------------------------------------
// Accessibility

/**
 * Runs axe-core in the page (its main frame) with the WCAG 2.1 A/AA rules and
 * resolves the violations. axe's source goes in through page.evaluate, which runs
 * over CDP and is not subject to the page's script-src; nothing is added to the
 * page's DOM. Hidden views are skipped by axe itself.
 */
export async function axeViolations(page, { tags = AXE_TAGS, exclude = [] } = {}) {
    const loaded = await page.evaluate(() => typeof window.axe === 'object');
    if (!loaded) await page.evaluate(AXE_SOURCE);
    return page.evaluate(
        async ({ tags: t, exclude: ex, extra }) => {
            const r = await window.axe.run(
                { include: [document], exclude: ex },
                { runOnly: { type: 'tag', values: t }, rules: extra, resultTypes: ['violations'] },
            );
            return r.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
            }));
        },
        { tags, exclude: exclude.map((s) => [s]), extra: Object.fromEntries(AXE_EXTRA_RULES.map((r) => [r, { enabled: true }])) },
    );
}

/** A readable report of axe violations. */
export function formatViolations(violations, where = 'page') {
    const lines = [`${where}: ${violations.length} accessibility violation(s) (WCAG 2.1 A/AA)`];
    for (const v of violations) {
        lines.push(`- ${v.id} [${v.impact}]: ${v.help} (${v.helpUrl})`);
        for (const n of v.nodes.slice(0, 5)) {
            lines.push(`    at ${n.target}: ${n.html.slice(0, 160)}`);
            for (const s of (n.summary ?? '').split('\n').slice(0, 4)) if (s.trim()) lines.push(`      ${s.trim()}`);
        }
        if (v.nodes.length > 5) lines.push(`    …and ${v.nodes.length - 5} more`);
    }
    return lines.join('\n');
}

/** Fails with a readable report when axe finds any WCAG 2.1 A/AA violation on the page. */
export async function assertAccessible(page, where, opts) {
    const violations = await axeViolations(page, opts);
    if (violations.length) throw new Error(formatViolations(violations, where));
}

// ---------------------------------------------------------------------------
// Screenshots

/** The file name of a screenshot: <screen>-<lang>-<width>.png. */
export function shotName(screen, lang, width) {
    return `${screen}-${lang}-${width}.png`;
}

/**
 * Saves a screenshot of page (the full page unless fullPage is false: a modal
 * dialog's backdrop covers only the viewport) into SCREENSHOT_DIR as
 * <screen>-<lang>-<width>.png (lang and width from the user unless given).
 * Resolves the path.
 */
export async function screenshot(user, screen, { lang = user.lang, width = user.width, page = user.page, fullPage = true } = {}) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, shotName(screen, lang, width));
    // The caret and focus ring are part of the UI; the text caret blinking is not.
    await page.screenshot({ path: file, fullPage, caret: 'hide', animations: 'disabled' });
    return file;
}

// ---------------------------------------------------------------------------
// Tests

function safeName(s) {
    return s.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60);
}

/**
 * Declares a browser test. fn(t, ctx) gets ctx.user(server, opts): openUser on
 * this file's browser, closed after the test; ctx.browser(): the browser.
 * After the body, every user's record must be clean (userProblems) unless
 * opts.clean is false. On failure, each open page is saved as
 * failure-<test>-<user>.png and the users' records are printed.
 */
export function e2eTest(name, opts, fn) {
    if (typeof opts === 'function') {
        fn = opts;
        opts = {};
    }
    const { clean = true, browser: getBrowser, ...testOpts } = opts;
    if (!getBrowser) throw new Error('e2eTest: pass opts.browser (a browserFixture())');
    return harnessTest(name, { timeout: 120000, ...testOpts }, async (t) => {
        const users = [];
        const ctx = {
            browser: getBrowser,
            user: async (server, o = {}) => {
                const u = await openUser(await getBrowser(), server, o);
                users.push(u);
                return u;
            },
            users,
        };
        let failure = null;
        try {
            await fn(t, ctx);
        } catch (e) {
            failure = e;
        }
        if (!failure && clean) {
            const problems = users.flatMap(userProblems);
            if (problems.length) failure = new Error(problems.join('\n'));
        }
        if (failure) {
            for (const u of users) {
                for (const page of u.context.pages().filter((pg) => pg.url() !== 'about:blank')) {
                    const file = path.join(SCREENSHOT_DIR, `failure-${safeName(name)}-${safeName(u.label)}.png`);
                    try {
                        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
                        await within(page.screenshot({ path: file, fullPage: true }), 5000, 'screenshot');
                        t.diagnostic(`${u.label}: ${page.url()} saved as ${path.relative(REPO, file)}`);
                    } catch {
                        // A closed or hung page: the record below still tells.
                    }
                }
                for (const p of userProblems(u)) t.diagnostic(p);
            }
        }
        await Promise.all(users.map((u) => within(u.context.close(), CLOSE_TIMEOUT_MS, `${u.label} context to close`).catch(() => {})));
        if (failure) throw failure;
    });
}
