// The catalogs in web/i18n/ (and the parts in its subfolders) against en.json, without a
// browser: every key of en.json
// in every catalog (nothing falls back to a bare key on screen), no key en.json lacks,
// the same {placeholders} in each string, a locale and a direction, and every language
// the switcher offers (web/js/i18n.js LANGS) has its catalog. Catalogs written without
// a native speaker say so in `_note` until one has reviewed them.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const DIR = path.join(import.meta.dirname, '../../web/i18n');
const REVIEWED = new Set(['en', 'fi', 'sv', 'qps-rtl']);
const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
// The common catalogs, and the parts some pages load beside them (i18n.js start()).
const PARTS = ['', 'console'];
const readIn = (part, code) => JSON.parse(fs.readFileSync(path.join(DIR, part, `${code}.json`), 'utf8'));
const read = (code) => readIn('', code);
const codesIn = (part) => fs.readdirSync(path.join(DIR, part)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
const codes = codesIn('');

for (const part of PARTS) {
    const en = readIn(part, 'en');
    const keys = Object.keys(en).filter((k) => !k.startsWith('_'));
    const where = part ? `${part}/` : '';
    test(`${where}: every language has this catalog`, () => {
        assert.deepEqual(codesIn(part).sort(), [...codes].sort());
    });
    for (const code of codes.filter((c) => c !== 'en')) {
        test(`${where}${code}.json has every key of ${where}en.json, the same placeholders, and no other key`, () => {
            const cat = readIn(part, code);
            assert.deepEqual(keys.filter((k) => typeof cat[k] !== 'string' || !cat[k].trim()), [], `${code}: missing or empty`);
            assert.deepEqual(Object.keys(cat).filter((k) => !k.startsWith('_') && !(k in en)), [], `${code}: keys en.json does not have`);
            const wrong = keys.filter((k) => JSON.stringify(holes(cat[k])) !== JSON.stringify(holes(en[k])));
            assert.deepEqual(wrong, [], `${code}: placeholders differ from en.json`);
            if (!part) {
                assert.match(cat._locale, /^[a-z]{2}(-[A-Z]{2})?$/);
                assert.ok(['ltr', 'rtl'].includes(cat._dir), `${code}: _dir`);
            }
            if (!REVIEWED.has(code)) assert.match(cat._note ?? '', /native .* should review/, `${code}: _note`);
        });
    }
}

test('a key lives in one part only', () => {
    const common = new Set(Object.keys(read('en')).filter((k) => !k.startsWith('_')));
    for (const part of PARTS.filter(Boolean)) {
        assert.deepEqual(Object.keys(readIn(part, 'en')).filter((k) => common.has(k)), [], part);
    }
});

test('every language the switcher offers has a catalog, and Arabic is right-to-left', () => {
    const src = fs.readFileSync(path.join(DIR, '../js/i18n.js'), 'utf8');
    const langs = JSON.parse(/const LANGS = (\[[^\]]*\])/.exec(src)[1].replace(/'/g, '"'));
    assert.deepEqual(langs.filter((c) => !codes.includes(c)), []);
    for (const c of ['fi', 'sv', 'en', 'et', 'ru', 'uk', 'ar']) assert.ok(langs.includes(c), c);
    assert.equal(read('ar')._dir, 'rtl');
});
