import type { OwnKey } from '../selfservice';
import { escapeHtml as e, page } from './pages';

export interface AccessView {
  readonly user: string;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  readonly keys: readonly OwnKey[];
  /** Role names a new key may carry: the person's own and any their roles cover. */
  readonly offeredRoles: readonly string[];
  /** Lifetimes offered, in days, up to the maximum. */
  readonly lifetimesDays: readonly number[];
  readonly canCreate: boolean;
  readonly apiUrl: string;
  readonly created?: { readonly name: string; readonly key: string };
  readonly error?: string;
  readonly notice?: string;
  /** For the copy button's script, allowed by the page's policy and nothing else. */
  readonly nonce: string;
}

const TABLE_STYLE = `<style>main{max-width:60rem}table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6eb}
code,pre{font-family:ui-monospace,monospace;background:#f0f2f5;border-radius:4px}pre{padding:.7rem;overflow-x:auto;white-space:pre}
.notice{background:#e8f5e9;color:#1b5e20;padding:.7rem;border-radius:6px}form.inline{display:inline;margin:0}form.inline button{margin:0;padding:.3rem .7rem}
select,input[type=text]{padding:.45rem;font:inherit}fieldset{border:0;padding:0;margin:0}</style>`;

function keyRows(keys: readonly OwnKey[]): string {
  if (keys.length === 0) return '<p class="muted">You have no keys yet.</p>';
  const rows = keys.map((k) => `<tr><td>${e(k.name)}</td><td><code>${e(k.keyId)}</code></td><td>${e(k.scopes)}</td><td>${e(k.created)}</td>
<td>${k.lastUsed ? e(k.lastUsed) : 'never'}</td><td>${e(k.expires)}${k.active ? '' : ' (ended)'}</td>
<td>${k.active ? `<form class="inline" method="post" action="/auth/access/revoke"><input type="hidden" name="name" value="${e(k.name)}"><button type="submit" aria-label="Revoke ${e(k.name)}">Revoke</button></form>` : ''}</td></tr>`);
  return `<table><thead><tr><th scope="col">Name</th><th scope="col">Key id</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function createdBlock(view: AccessView): string {
  if (!view.created) return '';
  const lines = `export PREFECT_API_URL=${view.apiUrl}
# Prefect 3 (sends the key on websockets too):
export PREFECT_API_AUTH_STRING=${view.created.key}
# Prefect 2:
export PREFECT_API_KEY=${view.created.key}`;
  return `<section class="notice" aria-live="polite"><h2>Key "${e(view.created.name)}" created</h2>
<p>Copy it now: it is shown only once and the proxy keeps only its hash.</p>
<p><code id="new-key">${e(view.created.key)}</code> <button type="button" id="copy-key">Copy key</button></p>
<p>For the Prefect CLI and clients:</p><pre id="env-lines">${e(lines)}</pre><button type="button" id="copy-env">Copy these lines</button></section>
<script nonce="${e(view.nonce)}">
for (const [button, source] of [['copy-key', 'new-key'], ['copy-env', 'env-lines']]) {
  document.getElementById(button).addEventListener('click', async (event) => {
    await navigator.clipboard.writeText(document.getElementById(source).textContent);
    event.target.textContent = 'Copied';
  });
}
</script>`;
}

function createForm(view: AccessView): string {
  if (!view.canCreate) return '';
  const roles = view.offeredRoles.map((r) => `<option value="${e(r)}">${e(r)}</option>`).join('');
  const lifetimes = view.lifetimesDays.map((d, i) => `<option value="${d}"${i === view.lifetimesDays.length - 1 ? ' selected' : ''}>${d} day${d === 1 ? '' : 's'}</option>`).join('');
  return `<h2>Make a key</h2><form method="post" action="/auth/access/keys"><fieldset>
<label for="name">Name (e.g. laptop)</label><input id="name" name="name" type="text" required pattern="[a-z0-9][a-z0-9_.\\-]{0,39}" maxlength="40" autocomplete="off">
<label for="role">Permissions</label><select id="role" name="role"><option value="">All my roles (${e(view.roles.join(', '))})</option>${roles}</select>
<label for="lifetime">Expires after</label><select id="lifetime" name="lifetime">${lifetimes}</select>
<div><button type="submit">Make key</button></div></fieldset></form>`;
}

/** "My access": who the person is to the proxy, and the keys they made. */
export function accessPage(view: AccessView): string {
  const status = view.error ? `<p class="error" role="alert">${e(view.error)}</p>` : view.notice ? `<p class="notice" role="status">${e(view.notice)}</p>` : '';
  return page('My access', `${TABLE_STYLE}<h1>My access</h1>${status}
<p>Signed in as <strong>${e(view.user)}</strong>.</p>
<p>Groups: ${view.groups.length ? view.groups.map(e).join(', ') : '<span class="muted">none</span>'}<br>Roles: ${view.roles.map(e).join(', ')}</p>
${createdBlock(view)}
<h2>My keys</h2>${keyRows(view.keys)}
${createForm(view)}
<hr><p class="muted">A key never has more than your roles. Your keys stop working when you leave the groups that give you access or an administrator disables you. <a href="/auth/logout">Sign out</a></p>`);
}
