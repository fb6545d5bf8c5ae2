// What the console's browser tests share: a coordinator account, and its login
// at /admin.

import { LEADER_PASSWORD, ctl, uid } from '../../integration/lib/harness.mjs';
import { visible } from './ui.mjs';

/** A coordinator account on s; resolves its username. */
export async function coordinator(s) {
    const username = uid('coord').toLowerCase();
    await ctl(s, ['coordinator', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    return username;
}

export async function logIn(page, username) {
    await visible(page, '#login-form');
    await page.fill('#username', username);
    await page.fill('#password', LEADER_PASSWORD);
    await page.click('#login-button');
    await visible(page, '#groups-section');
}
