// Replays: the list with live progress (polled every 1.5 s while one runs), cancel, a form
// that starts a replay by filter, and one replay's page.
import {
  html, Component, Page, runAction, Problem, Status, Time, Loading, Empty, href, navigate, fieldErrors, FieldError,
  toLocalInput, fromLocalInput, selectedValues, plural, Clip,
} from '../ui.js';
import { get, post, listAll } from '../api.js';

const pollMs = 1500;
/** settleMs bounds the polling after a replay ends while its attempts still settle. */
const settleMs = 2 * 60e3;
const running = (r) => r.status === 'running';
/**
 * replayedOf is how many deliveries were resent as far as the counts show: the API reads
 * replayed and the outcomes at different moments, so succeeded + failed can be ahead.
 */
const replayedOf = (r) => Math.max(r.replayed, r.succeeded + r.failed);
/** settling: resent deliveries whose new attempt has no outcome yet. */
const settling = (r) => r.succeeded + r.failed < r.replayed;

function Progress({ r }) {
  const done = replayedOf(r) + r.skipped;
  return html`<div class="progress">
    <progress max=${Math.max(r.matched, 1)} value=${Math.min(done, r.matched)}
      aria-label=${`${done} of ${r.matched} done`}>${done} / ${r.matched}</progress>
    <span class="small muted">${done} / ${r.matched}</span>
  </div>`;
}

/** Counts shows the outcome; compact (in the list) leaves matched and replayed to Progress. */
function Counts({ r, compact }) {
  return html`<span class="counts small">
    ${compact ? null : html`<span>matched <strong>${r.matched}</strong></span> <span>replayed <strong>${replayedOf(r)}</strong></span>`}
    ${' '}<span>succeeded <strong class="ok">${r.succeeded}</strong></span> <span>failed <strong class="bad">${r.failed}</strong></span>
    ${' '}<span>skipped <strong>${r.skipped}</strong></span>
  </span>`;
}

/** describeFilter says in words which deliveries a replay resends. */
function describeFilter(f, names) {
  if (f.deliveryIds && f.deliveryIds.length) return `${plural(f.deliveryIds.length, 'selected delivery', 'selected deliveries')}`;
  const parts = [f.status === 'all' ? 'all deliveries' : 'failed deliveries'];
  if (f.webhookId) parts.push(`of ${names[f.webhookId] || f.webhookId}`);
  if (f.eventTypes && f.eventTypes.length) parts.push(`of type ${f.eventTypes.join(', ')}`);
  return parts.join(' ');
}

/** allTime: the console sends the Unix epoch as since when a replay has no lower bound. */
const allTime = (since) => !since || new Date(since).getTime() <= 0;

class Poller extends Page {
  /**
   * poll reloads after pollMs while any replay shown is running, or has ended but its
   * attempts still settle (succeeded and failed rise afterwards), then for at most
   * settleMs after this page first saw it end.
   */
  poll(list) {
    clearTimeout(this.timer);
    const now = Date.now();
    this.ended = this.ended || new Map();
    const live = list.some((r) => {
      if (running(r)) return true;
      if (!this.ended.has(r.id)) this.ended.set(r.id, now);
      return settling(r) && now - this.ended.get(r.id) < settleMs;
    });
    this.live = this.alive && live;
    if (this.live) this.timer = setTimeout(() => this.reload(), pollMs);
  }

  cancel(id) {
    return () => this.run(`cancel-${id}`, async () => {
      await post(`/v1/replays/${encodeURIComponent(id)}/cancel`);
      await this.reload();
    });
  }
}

export class Replays extends Poller {
  async load() {
    const page = await get('/v1/replays?limit=50');
    this.poll(page.data);
    return { page };
  }

  async lookups() {
    const [webhooks, eventTypes] = await Promise.all([listAll('/v1/webhooks'), listAll('/v1/event-types')]);
    return { webhooks, eventTypes };
  }

  render({ admin }, { loading, error, page, webhooks, eventTypes, busy, actionError, lookupError }) {
    const names = Object.fromEntries((webhooks || []).map((w) => [w.id, w.name]));
    const rows = page ? page.data : [];
    return html`<section>
      <div class="title-row"><h1>Replays</h1></div>
      <p class="muted">A replay resends past deliveries, one new attempt each, at a steady rate. Start one here or from <a
        href="#/deliveries">the delivery history</a> (filter or select rows, then Replay).</p>
      <${Problem} error=${error || actionError || lookupError} />
      ${admin && webhooks ? html`<${StartReplay} webhooks=${webhooks} eventTypes=${eventTypes} />` : null}
      <h2>Recent replays</h2>
      ${loading && !page ? html`<${Loading} />` : null}
      ${page && !rows.length ? html`<${Empty}>No replays yet. ${admin
        ? 'Start one with the form above, or from the Deliveries page.'
        : 'An admin can start one from the Deliveries page.'}<//>` : null}
      ${rows.length ? html`<div class="table-wrap"><table class="list stack replays">
        <thead><tr>
          <th scope="col">ID</th><th scope="col">Status</th><th scope="col">What</th><th scope="col">Progress</th>
          <th scope="col">Outcome</th><th scope="col">Started</th>${admin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
        </tr></thead>
        <tbody>${rows.map((r) => html`<tr key=${r.id}>
          <td class="primary"><a class="mono clip id" href=${href(`replays/${encodeURIComponent(r.id)}`)} title=${r.id}>${r.id}</a></td>
          <td data-label="Status"><${Status} value=${r.status} /></td>
          <td data-label="What" class="what"><${Clip} text=${describeFilter(r.filter || {}, names)} /></td>
          <td data-label="Progress"><${Progress} r=${r} /></td>
          <td data-label="Outcome"><${Counts} r=${r} compact /></td>
          <td data-label="Started"><${Time} value=${r.createdAt} /></td>
          ${admin ? html`<td>${running(r) ? html`<button type="button" class="danger small" onClick=${this.cancel(r.id)}
            disabled=${busy === `cancel-${r.id}`}>Cancel</button>` : null}</td>` : null}
        </tr>`)}</tbody>
      </table></div>` : null}
    </section>`;
  }
}

class StartReplay extends Component {
  constructor(props) {
    super(props);
    const now = new Date();
    this.state = {
      since: toLocalInput(new Date(now.getTime() - 24 * 3600e3).toISOString()),
      // The field has minutes only: round up, so deliveries that failed in the current
      // minute are in (the API takes an until up to a minute ahead of its clock).
      until: toLocalInput(new Date(Math.ceil(now.getTime() / 60e3) * 60e3).toISOString()),
      webhookId: '', eventTypes: [], status: 'failed', rate: '', busy: null, actionError: null,
    };
  }

  submit = (e) => {
    e.preventDefault();
    const s = this.state;
    const body = { since: fromLocalInput(s.since), until: fromLocalInput(s.until), status: s.status };
    if (s.webhookId) body.webhookId = s.webhookId;
    if (s.eventTypes.length) body.eventTypes = s.eventTypes;
    if (s.rate !== '') body.ratePerSecond = Number(s.rate);
    runAction(this, 'start', async () => {
      const r = await post('/v1/replays', body);
      navigate(`replays/${encodeURIComponent(r.id)}`);
    });
  };

  render({ webhooks, eventTypes }, s) {
    const errs = fieldErrors(s.actionError);
    const set = (name) => (e) => this.setState({ [name]: e.currentTarget.value });
    return html`<form class="card form-grid" onSubmit=${this.submit} aria-labelledby="start-replay-title">
      <h2 id="start-replay-title" class="span-all">Start a replay</h2>
      <div class="field">
        <label for="r-since">Since</label>
        <input id="r-since" type="datetime-local" required value=${s.since} onInput=${set('since')} aria-describedby="r-since-err" />
        <${FieldError} id="r-since-err" message=${errs.since} />
      </div>
      <div class="field">
        <label for="r-until">Until</label>
        <input id="r-until" type="datetime-local" required value=${s.until} onInput=${set('until')} aria-describedby="r-until-err" />
        <${FieldError} id="r-until-err" message=${errs.until} />
      </div>
      <div class="field">
        <label for="r-webhook">Webhook</label>
        <select id="r-webhook" value=${s.webhookId} onChange=${set('webhookId')}>
          <option value="">all webhooks</option>
          ${webhooks.map((w) => html`<option value=${w.id}>${w.name}</option>`)}
        </select>
        <${FieldError} id="r-webhook-err" message=${errs.webhookId} />
      </div>
      <div class="field">
        <label for="r-status">Status</label>
        <select id="r-status" value=${s.status} onChange=${set('status')}>
          <option value="failed">failed</option>
          <option value="all">all</option>
        </select>
        <${FieldError} id="r-status-err" message=${errs.status} />
      </div>
      <div class="field">
        <label for="r-types">Event types</label>
        <select id="r-types" multiple size="4" onChange=${(e) => this.setState({ eventTypes: selectedValues(e.currentTarget) })}
          aria-describedby="r-types-help">
          ${(eventTypes || []).map((t) => html`<option value=${t.name} selected=${s.eventTypes.includes(t.name)}>${t.name}</option>`)}
        </select>
        <p class="help" id="r-types-help">None chosen: every type.</p>
        <${FieldError} id="r-types-err" message=${errs.eventTypes} />
      </div>
      <div class="field">
        <label for="r-rate">Rate per second</label>
        <input id="r-rate" type="number" min="1" max="1000" placeholder="50" value=${s.rate} onInput=${set('rate')} />
        <${FieldError} id="r-rate-err" message=${errs.ratePerSecond} />
      </div>
      <div class="span-all">
        <${Problem} error=${s.actionError} />
        <button type="submit" disabled=${s.busy === 'start'}>Start replay</button>
      </div>
    </form>`;
  }
}

export class ReplayPage extends Poller {
  async load() {
    const r = await get(`/v1/replays/${encodeURIComponent(this.props.id)}`);
    this.poll([r]);
    let names = this.state.names;
    if (!names) {
      const webhooks = await listAll('/v1/webhooks').catch(() => []);
      names = Object.fromEntries(webhooks.map((w) => [w.id, w.name]));
    }
    return { r, names };
  }

  render({ admin }, { loading, error, r, names, busy, actionError }) {
    if (loading && !r) return html`<${Loading} />`;
    if (!r) return html`<section><p><a href="#/replays">← All replay tasks</a></p><${Problem} error=${error} /></section>`;
    const f = r.filter || {};
    const deliveriesLink = f.deliveryIds && f.deliveryIds.length ? null
      : href('deliveries', { webhookId: f.webhookId, eventType: f.eventTypes && f.eventTypes.length === 1 ? f.eventTypes[0] : '', since: allTime(f.since) ? '' : f.since, until: f.until });
    return html`<section>
      <p class="crumbs"><a href="#/replays">All replay tasks</a> / <span class="mono">${r.id}</span></p>
      <div class="title-row">
        <h1>Replay <span class="mono">${r.id}</span></h1>
        <div class="actions">
          ${admin && running(r) ? html`<button type="button" class="danger" onClick=${this.cancel(r.id)} disabled=${busy === `cancel-${r.id}`}>Cancel</button>` : null}
        </div>
      </div>
      <${Problem} error=${actionError || error} />
      <div class="card" aria-live="polite">
        <p><${Status} value=${r.status} /> ${running(r) ? html`<span class="muted">updating every ${pollMs / 1000} s</span>`
          : settling(r) && this.live ? html`<span class="muted">${plural(r.replayed - r.succeeded - r.failed, 'resent delivery has', 'resent deliveries have')}
            no outcome yet; updating every ${pollMs / 1000} s</span>` : null}</p>
        <${Progress} r=${r} />
        <${Counts} r=${r} />
        ${r.error ? html`<p class="error-text">${r.error}</p>` : null}
      </div>
      <dl class="facts">
        <dt>Resends</dt><dd>${describeFilter(f, names || {})}</dd>
        ${f.until ? html`<dt>Created</dt><dd>${allTime(f.since) ? 'all time, ' : html`from <${Time} value=${f.since} /> `}until <${Time} value=${f.until} /></dd>` : null}
        <dt>Rate</dt><dd>${r.ratePerSecond} per second</dd>
        <dt>Started</dt><dd><${Time} value=${r.createdAt} /></dd>
        <dt>Finished</dt><dd><${Time} value=${r.finishedAt} /></dd>
        ${f.deliveryIds && f.deliveryIds.length ? html`<dt>Deliveries</dt><dd><ul class="plain">${f.deliveryIds.slice(0, 100).map((id) => html`<li>
          <a class="mono" href=${href(`deliveries/${encodeURIComponent(id)}`)}>${id}</a></li>`)}</ul>
          ${f.deliveryIds.length > 100 ? html`<p class="muted">and ${f.deliveryIds.length - 100} more</p>` : null}</dd>` : null}
      </dl>
      ${deliveriesLink ? html`<p><a href=${deliveriesLink}>Show them in the delivery history</a></p>` : null}
    </section>`;
  }
}
