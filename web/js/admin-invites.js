// The console's invites: a coordinator's view of every group's invites (protocol
// section 12, Invites), on the panel the leader's page shares (invites.js).

import { $ } from './dom.js';
import { call, defineSection } from './console.js';
import { invitesPanel } from './invites.js';

const panel = invitesPanel($('invites-panel'), 'ci', call);
defineSection('invites', { load: () => panel.load() });
