// Webhooks: the list, the "New webhook" form, a webhook's page (every setting of API.md,
// enable/disable, rotate secret, ping, delete) and the event catalog with its schemas.
import {
  html, Component, Page, Problem, Status, Time, Loading, Empty, Pre, href, navigate, fieldErrors, FieldError,
} from '../ui.js';
import { get, post, patch, del, listAll } from '../api.js';

// A secret is shown once: create and rotate answer it, and the page that shows it next
// takes it from here (then it is gone).
let shownOnce = null;

function Tabs({ current }) {
  return html`<nav class="tabs" aria-label="Webhooks sections">
    <a href="#/webhooks" aria-current=${current === 'webhooks' ? 'page' : undefined}>Endpoints</a>
    <a href="#/event-types" aria-current=${current === 'event-types' ? 'page' : undefined}>Event types</a>
  </nav>`;
}

export class Webhooks extends Page {
  async load() {
    const [webhooks, eventTypes] = await Promise.all([listAll('/v1/webhooks', 8), listAll('/v1/event-types')]);
    return { webhooks, eventTypes };
  }

  create = async (body) => {
    const w = await post('/v1/webhooks', body);
    shownOnce = { id: w.id, secret: w.secret, why: 'created' };
    navigate(`webhooks/${encodeURIComponent(w.id)}`);
  };

  render({ admin }, { loading, error, webhooks, eventTypes, creating }) {
    return html`<section>
      <div class="title-row">
        <h1>Webhooks</h1>
        ${admin && !creating ? html`<div class="actions"><button type="button" onClick=${() => this.setState({ creating: true })}>New webhook</button></div>` : null}
      </div>
      <${Tabs} current="webhooks" />
      <${Problem} error=${error} />
      ${creating && eventTypes ? html`<div class="card">
        <h2>New webhook</h2>
        <${WebhookForm} initial=${defaults} eventTypes=${eventTypes} onSubmit=${this.create} submitLabel="Create webhook"
          onCancel=${() => this.setState({ creating: false })} creating />
      </div>` : null}
      ${loading && !webhooks ? html`<${Loading} />` : null}
      ${webhooks && !webhooks.length ? html`<${Empty}>No webhooks yet. ${admin
        ? html`Create one with <strong>New webhook</strong>: give it a URL and the event types it receives.`
        : 'An admin of your organization can create one.'}<//>` : null}
      ${webhooks && webhooks.length ? html`<div class="table-wrap"><table class="list stack">
        <thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Status</th><th scope="col">Events</th>
          <th scope="col" class="num">Failures in a row</th><th scope="col">Last triggered</th></tr></thead>
        <tbody>${webhooks.map((w) => html`<tr key=${w.id}>
          <td class="primary"><a class="clip" href=${href(`webhooks/${encodeURIComponent(w.id)}`)} title=${w.name}>${w.name}</a></td>
          <td class="mono break wide">${w.url}</td>
          <td data-label="Status"><${Status} value=${w.status} /></td>
          <td data-label="Events" class="break">${w.eventsPolicy === 'exclude' ? html`all but ${w.events.join(', ') || 'none'}` : w.events.join(', ') || html`<span class="muted">none</span>`}</td>
          <td class="num" data-label="Failures in a row">${w.consecutiveFailures}</td>
          <td data-label="Last triggered"><${Time} value=${w.lastTriggeredAt} /></td>
        </tr>`)}</tbody>
      </table></div>` : null}
    </section>`;
  }
}

/** defaults are API.md's defaults, the New webhook form's starting values. */
const defaults = {
  name: '', description: '', url: '', method: 'POST', contentType: 'json', events: [], eventsPolicy: 'include',
  timeoutSeconds: 30, maxRetries: 5, retrySchedule: ['1m', '5m', '15m', '1h', '1h'], failureLimit: 10,
  throttle: null, discardAfter: null, lossy: false, allowInvalidCerts: false, level: 'trace', bodyTemplate: null,
  headers: {}, auth: { type: 'none' }, signature: { scheme: 'standard' },
};

const advancedKeys = ['headers', 'auth', 'signature'];

/** formState turns a webhook (or defaults) into the form's string values. */
function formState(w) {
  return {
    name: w.name || '', description: w.description || '', url: w.url || '', method: w.method || 'POST',
    contentType: w.contentType || 'json', events: [...(w.events || [])], eventsPolicy: w.eventsPolicy || 'include',
    timeoutSeconds: String(w.timeoutSeconds ?? 30), maxRetries: String(w.maxRetries ?? 5),
    retrySchedule: (w.retrySchedule || []).join(', '), failureLimit: String(w.failureLimit ?? 10),
    throttle: w.throttle || '', discardAfter: w.discardAfter || '', lossy: !!w.lossy,
    allowInvalidCerts: !!w.allowInvalidCerts, level: w.level || 'trace', bodyTemplate: w.bodyTemplate || '',
    advanced: JSON.stringify(Object.fromEntries(advancedKeys.map((k) => [k, w[k] ?? defaults[k]])), null, 2),
  };
}

const number = (s) => (s.trim() === '' || Number.isNaN(Number(s)) ? s : Number(s));

/**
 * WebhookForm edits a webhook's settings. On submit it calls onSubmit with the body: every
 * field when creating, else only the fields that differ from initial (so masked
 * credentials that were not touched are not sent back).
 */
class WebhookForm extends Component {
  constructor(props) {
    super(props);
    this.state = { ...formState(props.initial), error: null, busy: false };
  }

  set = (name) => (e) => {
    const t = e.currentTarget;
    this.setState({ [name]: t.type === 'checkbox' ? t.checked : t.value });
  };

  toggleEvent(name, on) {
    const events = this.state.events.filter((n) => n !== name);
    if (on) events.push(name);
    this.setState({ events });
  }

  body() {
    const s = this.state;
    let advanced;
    try {
      advanced = JSON.parse(s.advanced || '{}');
    } catch (err) {
      const e = new Error('advanced');
      e.problem = { title: 'Advanced settings are not valid JSON', detail: err.message, errors: [{ field: 'advanced', message: 'is not valid JSON' }] };
      throw e;
    }
    const body = {
      name: s.name.trim(), description: s.description, url: s.url.trim(), method: s.method, contentType: s.contentType,
      events: s.events, eventsPolicy: s.eventsPolicy, timeoutSeconds: number(s.timeoutSeconds),
      maxRetries: number(s.maxRetries), failureLimit: number(s.failureLimit),
      retrySchedule: s.retrySchedule.split(/[\s,]+/).filter(Boolean), throttle: s.throttle.trim(),
      discardAfter: s.discardAfter.trim(), lossy: s.lossy, allowInvalidCerts: s.allowInvalidCerts, level: s.level,
      bodyTemplate: s.bodyTemplate, ...advanced,
    };
    if (this.props.creating) {
      for (const k of ['throttle', 'discardAfter', 'bodyTemplate']) if (body[k] === '') delete body[k];
      return body;
    }
    const before = this.props.initial;
    const same = (k) => JSON.stringify(body[k] ?? '') === JSON.stringify(before[k] ?? '');
    return Object.fromEntries(Object.entries(body).filter(([k]) => !same(k)));
  }

  submit = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null, saved: false });
    try {
      const body = this.body();
      if (!this.props.creating && !Object.keys(body).length) {
        this.setState({ busy: false, saved: 'Nothing changed.' });
        return;
      }
      await this.props.onSubmit(body);
      this.setState({ busy: false, saved: this.props.creating ? false : 'Saved.' });
    } catch (error) {
      this.setState({ busy: false, error });
    }
  };

  render({ eventTypes, submitLabel, onCancel, readOnly, creating }, s) {
    const errs = fieldErrors(s.error);
    const id = (n) => `wf-${n}`;
    const err = (n, key = n) => html`<${FieldError} id=${`${id(n)}-err`} message=${errs[key]} />`;
    const known = new Set(eventTypes.map((t) => t.name));
    const choices = [...eventTypes.map((t) => t.name), ...s.events.filter((n) => !known.has(n))];
    const text = (n, label, { help, ...props } = {}) => html`<div class="field">
      <label for=${id(n)}>${label}</label>
      <input id=${id(n)} name=${n} type="text" value=${s[n]} onInput=${this.set(n)} aria-describedby=${`${id(n)}-err`}
        aria-invalid=${errs[n] ? 'true' : undefined} ...${props} />
      ${help ? html`<p class="help">${help}</p>` : null}
      ${err(n)}
    </div>`;
    const select = (n, label, options) => html`<div class="field">
      <label for=${id(n)}>${label}</label>
      <select id=${id(n)} name=${n} value=${s[n]} onChange=${this.set(n)}>${options.map((o) => html`<option value=${o}>${o}</option>`)}</select>
      ${err(n)}
    </div>`;
    return html`<form onSubmit=${this.submit} class="webhook-form" novalidate>
      <fieldset disabled=${readOnly} class="bare">
        <div class="form-grid">
          ${text('name', 'Name', { required: true, maxLength: 100 })}
          ${text('description', 'Description')}
          <div class="field span-all">
            <label for=${id('url')}>URL</label>
            <input id=${id('url')} name="url" type="text" inputmode="url" required spellcheck="false" value=${s.url}
              onInput=${this.set('url')} placeholder="https://example.com/hooks/{eventType}" aria-describedby=${`${id('url')}-help ${id('url')}-err`}
              aria-invalid=${errs.url ? 'true' : undefined} />
            <p class="help" id=${`${id('url')}-help`}>May hold placeholders filled from the event: {eventType}, {eventId}, or a key of its data such as {device_id}.</p>
            ${err('url')}
          </div>
          ${select('method', 'Method', ['POST', 'PUT', 'PATCH'])}
          ${select('contentType', 'Content type', ['json', 'form'])}
          <fieldset class="span-all events">
            <legend>Events</legend>
            <div class="field inline">
              <label for=${id('eventsPolicy')}>Policy</label>
              <select id=${id('eventsPolicy')} value=${s.eventsPolicy} onChange=${this.set('eventsPolicy')}>
                <option value="include">include: only the checked types</option>
                <option value="exclude">exclude: every type but the checked ones</option>
              </select>
            </div>
            ${choices.length ? html`<div class="checks">${choices.map((n) => html`<label class="check-label">
              <input type="checkbox" checked=${s.events.includes(n)} onChange=${(e) => this.toggleEvent(n, e.currentTarget.checked)} /> ${n}
            </label>`)}</div>` : html`<p class="muted">No event types yet: add one under <a href="#/event-types">Event types</a>.</p>`}
            ${err('events')}${err('eventsPolicy')}
          </fieldset>
          ${text('timeoutSeconds', 'Timeout (seconds)', { type: 'number', min: 1, max: 60, inputmode: 'numeric' })}
          ${text('maxRetries', 'Max retries', { type: 'number', min: 0, max: 20, inputmode: 'numeric' })}
          ${text('retrySchedule', 'Retry schedule', { help: 'Delays before retry 1, 2, …; the last repeats. e.g. 1m, 5m, 15m, 1h' })}
          ${text('failureLimit', 'Failure limit', { type: 'number', min: 0, inputmode: 'numeric', help: 'Failed deliveries in a row before hookd disables the webhook (0 = never).' })}
          ${text('throttle', 'Throttle', { placeholder: 'none', help: 'e.g. 1s: events in one window go out as one batch.' })}
          ${text('discardAfter', 'Discard after', { placeholder: 'none', help: 'e.g. 5m: give up this long after the event.' })}
          ${select('level', 'Minimum level', ['trace', 'debug', 'info', 'warn', 'error'])}
          <div class="field checks-col">
            <label class="check-label"><input type="checkbox" checked=${s.lossy} onChange=${this.set('lossy')} /> Lossy: drop new events while failing</label>
            <label class="check-label"><input type="checkbox" checked=${s.allowInvalidCerts} onChange=${this.set('allowInvalidCerts')} /> Allow invalid TLS certificates</label>
            ${err('lossy')}${err('allowInvalidCerts')}
          </div>
          <div class="field span-all">
            <label for=${id('bodyTemplate')}>Body template</label>
            <textarea id=${id('bodyTemplate')} rows="3" spellcheck="false" value=${s.bodyTemplate} onInput=${this.set('bodyTemplate')}
              placeholder='{"device_id": "{device_id}"}' aria-describedby=${`${id('bodyTemplate')}-help ${id('bodyTemplate')}-err`}></textarea>
            <p class="help" id=${`${id('bodyTemplate')}-help`}>Empty: the standard envelope is sent.</p>
            ${err('bodyTemplate')}
          </div>
          <div class="field span-all">
            <label for=${id('advanced')}>Advanced settings (JSON: headers, auth, signature${creating ? ', optional secret' : ''})</label>
            <textarea id=${id('advanced')} rows="8" spellcheck="false" class="mono" value=${s.advanced} onInput=${this.set('advanced')}
              aria-describedby=${`${id('advanced')}-help ${id('advanced')}-err`}></textarea>
            <p class="help" id=${`${id('advanced')}-help`}>auth: {"type": "none" | "basic" (username, password) | "bearer" (token) | "oauth2" (tokenUrl, clientId, clientSecret, scopes)};
              signature: {"scheme": "standard"} or {"scheme": "hmac-body", "header": "X-Signature", "encoding": "hex" | "base64"}.
              Credentials show as ******** and are kept when sent back so.</p>
            <${FieldError} id=${`${id('advanced')}-err`} message=${[errs.advanced, errs.headers, errs.auth, errs.signature, errs.secret].filter(Boolean).join('; ')} />
          </div>
        </div>
      </fieldset>
      <${Problem} error=${s.error} />
      ${s.saved ? html`<p class="notice" role="status">${s.saved}</p>` : null}
      ${readOnly ? null : html`<div class="actions">
        <button type="submit" disabled=${s.busy}>${submitLabel}</button>
        ${onCancel ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
      </div>`}
    </form>`;
  }
}

export class WebhookPage extends Page {
  async load() {
    const id = encodeURIComponent(this.props.id);
    const [w, eventTypes] = await Promise.all([get(`/v1/webhooks/${id}`), listAll('/v1/event-types')]);
    let secret = null;
    if (shownOnce && shownOnce.id === w.id) {
      secret = shownOnce;
      shownOnce = null;
    }
    return { w, eventTypes, secret: secret || this.state.secret, formKey: (this.state.formKey || 0) + 1 };
  }

  path(suffix = '') {
    return `/v1/webhooks/${encodeURIComponent(this.props.id)}${suffix}`;
  }

  save = async (body) => {
    // The form keeps what was typed; it now compares with the saved webhook.
    this.setState({ w: await patch(this.path(), body) });
  };

  setStatus(status) {
    return () => this.run('status', async () => {
      const w = await patch(this.path(), { status });
      this.setState({ w, notice: status === 'ENABLED' ? 'Webhook enabled.' : 'Webhook disabled.' });
    });
  }

  ping = () => this.run('ping', async () => {
    const r = await post(this.path('/ping'));
    const dlv = r.deliveryId;
    this.setState({ notice: html`Ping sent. ${dlv ? html`<a href=${href(`deliveries/${encodeURIComponent(dlv)}`)}>Follow delivery ${dlv}</a>` : null}` });
  });

  rotate = () => this.run('rotate', async () => {
    const grace = this.state.grace;
    const w = await post(this.path('/rotate-secret'), grace === undefined || grace === '' ? {} : { gracePeriodSeconds: Number(grace) });
    this.setState({ w, secret: { id: w.id, secret: w.secret, why: 'rotated' } });
  });

  remove = () => this.run('delete', async () => {
    await del(this.path());
    navigate('webhooks');
  });

  render({ admin }, { loading, error, w, eventTypes, secret, busy, actionError, notice, confirmDelete, formKey, grace }) {
    if (loading && !w) return html`<${Loading} />`;
    if (!w) return html`<section><p><a href="#/webhooks">← Endpoints</a></p><${Problem} error=${error} /></section>`;
    const enabled = w.status === 'ENABLED';
    return html`<section>
      <p class="crumbs"><a href="#/webhooks">Endpoints</a> / ${w.name}</p>
      <div class="title-row">
        <h1>${w.name} <${Status} value=${w.status} /></h1>
        ${admin ? html`<div class="actions">
          <button type="button" class="secondary" onClick=${this.setStatus(enabled ? 'DISABLED' : 'ENABLED')} disabled=${busy === 'status'}>${enabled ? 'Disable' : 'Enable'}</button>
          <button type="button" class="secondary" onClick=${this.ping} disabled=${busy === 'ping'}>Send ping</button>
          <button type="button" class="danger" onClick=${() => this.setState({ confirmDelete: true })}>Delete</button>
        </div>` : null}
      </div>
      ${confirmDelete ? html`<div class="card confirm" role="group" aria-labelledby="del-q">
        <p id="del-q"><strong>Delete ${w.name}?</strong> It stops receiving events; this cannot be undone.</p>
        <button type="button" class="danger" onClick=${this.remove} disabled=${busy === 'delete'} ref=${(el) => el && !this.focusedDelete && (this.focusedDelete = true, el.focus())}>Delete webhook</button>
        <button type="button" class="secondary" onClick=${() => { this.focusedDelete = false; this.setState({ confirmDelete: false }); }}>Keep it</button>
      </div>` : null}
      <${Problem} error=${actionError} />
      ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
      ${w.status === 'DISABLED_DUE_TO_ERRORS' ? html`<p class="alert">hookd disabled this webhook after ${w.consecutiveFailures} failed deliveries in a row. Fix the receiver, then Enable it.</p>` : null}
      ${secret ? html`<div class="card secret" role="status">
        <p><strong>Signing secret ${secret.why === 'rotated' ? '(new)' : ''}</strong>: copy it now, it is not shown again.</p>
        <code class="mono break" tabindex="0">${secret.secret}</code>
        ${secret.why === 'rotated' ? html`<p class="help">The previous secret keeps signing beside it for the grace period.</p>` : null}
      </div>` : null}
      <dl class="facts">
        <dt>ID</dt><dd class="mono">${w.id}</dd>
        <dt>Secret</dt><dd class="mono">${w.secretPrefix}…</dd>
        <dt>Attempts</dt><dd>${w.attemptCount}</dd>
        <dt>Failures in a row</dt><dd>${w.consecutiveFailures}</dd>
        <dt>Last triggered</dt><dd><${Time} value=${w.lastTriggeredAt} /></dd>
        <dt>Created</dt><dd><${Time} value=${w.createdAt} /></dd>
        <dt>Updated</dt><dd><${Time} value=${w.updatedAt} /></dd>
      </dl>
      <p><a href=${href('deliveries', { webhookId: w.id })}>Its delivery history</a> · <a href=${href('stats', { webhookId: w.id })}>Its success rate</a></p>
      ${admin ? html`<form class="card inline-form" onSubmit=${(e) => { e.preventDefault(); this.rotate(); }}>
        <h2>Signing secret</h2>
        <div class="field">
          <label for="grace">Grace period (seconds)</label>
          <input id="grace" type="number" min="0" max="604800" placeholder="86400" value=${grace ?? ''}
            onInput=${(e) => this.setState({ grace: e.currentTarget.value })} aria-describedby="grace-help" />
          <p class="help" id="grace-help">How long the current secret keeps signing beside the new one (default a day).</p>
        </div>
        <button type="submit" disabled=${busy === 'rotate'}>Rotate secret</button>
      </form>` : null}
      <div class="card">
        <h2>Settings</h2>
        <${WebhookForm} key=${formKey} initial=${w} eventTypes=${eventTypes} onSubmit=${this.save} submitLabel="Save changes" readOnly=${!admin} />
      </div>
    </section>`;
  }
}

export class EventTypes extends Page {
  async load() {
    return { eventTypes: await listAll('/v1/event-types') };
  }

  render({ admin }, { loading, error, eventTypes }) {
    return html`<section>
      <div class="title-row"><h1>Event types</h1></div>
      <${Tabs} current="event-types" />
      <p class="muted">The catalog of events your webhooks can subscribe to. A type with a schema has its events validated on ingest.</p>
      <${Problem} error=${error} />
      ${admin ? html`<${NewEventType} onCreated=${() => this.reload()} />` : null}
      ${loading && !eventTypes ? html`<${Loading} />` : null}
      ${eventTypes && !eventTypes.length ? html`<${Empty}>No event types yet. Add one with <code>POST /v1/event-types</code>${admin ? ' or the form above' : ''}.<//>` : null}
      ${eventTypes ? html`<ul class="catalog">${eventTypes.map((t) => html`<li key=${t.name} class="card">
        <h2 class="mono">${t.name} ${t.builtin ? html`<span class="badge">built in</span>` : null}</h2>
        ${t.description ? html`<p>${t.description}</p>` : null}
        ${t.schema ? html`<details><summary>Schema</summary><${Pre} text=${t.schema} label=${`Schema of ${t.name}`} /></details>`
          : html`<p class="muted small">No schema: any JSON object is accepted.</p>`}
      </li>`)}</ul>` : null}
    </section>`;
  }
}

class NewEventType extends Component {
  constructor(props) {
    super(props);
    this.state = { name: '', description: '', schema: '', busy: false, error: null };
  }

  submit = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null });
    try {
      const body = { name: this.state.name.trim(), description: this.state.description };
      if (this.state.schema.trim()) {
        try {
          body.schema = JSON.parse(this.state.schema);
        } catch (err) {
          const x = new Error('schema');
          x.problem = { title: 'The schema is not valid JSON', detail: err.message, errors: [{ field: 'schema', message: 'is not valid JSON' }] };
          throw x;
        }
      }
      await post('/v1/event-types', body);
      this.setState({ name: '', description: '', schema: '', busy: false });
      this.props.onCreated();
    } catch (error) {
      this.setState({ busy: false, error });
    }
  };

  render(_, s) {
    const errs = fieldErrors(s.error);
    const set = (n) => (e) => this.setState({ [n]: e.currentTarget.value });
    return html`<details class="card">
      <summary>Add an event type</summary>
      <form onSubmit=${this.submit} class="form-grid">
        <div class="field">
          <label for="et-name">Name</label>
          <input id="et-name" required placeholder="order.created" value=${s.name} onInput=${set('name')} aria-describedby="et-name-err" />
          <${FieldError} id="et-name-err" message=${errs.name} />
        </div>
        <div class="field">
          <label for="et-desc">Description</label>
          <input id="et-desc" value=${s.description} onInput=${set('description')} />
        </div>
        <div class="field span-all">
          <label for="et-schema">Schema (JSON Schema, optional)</label>
          <textarea id="et-schema" rows="4" class="mono" spellcheck="false" value=${s.schema} onInput=${set('schema')} aria-describedby="et-schema-err"></textarea>
          <${FieldError} id="et-schema-err" message=${errs.schema} />
        </div>
        <div class="span-all"><${Problem} error=${s.error} /><button type="submit" disabled=${s.busy}>Add event type</button></div>
      </form>
    </details>`;
  }
}
