// Deliveries: the history with filters and cursor paging (one page of at most 50 rows at
// a time), replay of a selection or of the filter, and a delivery's page with its attempts.
import {
  html, Page, Problem, Status, Time, Loading, Empty, Pre, Headers, href, navigate, statuses,
  toLocalInput, fromLocalInput, formatTime, plural, Clip,
} from '../ui.js';
import { get, post, query, listAll } from '../api.js';

const pageSize = 50;

/** filtersOf reads the list's filters from the route's query. */
function filtersOf(q) {
  return {
    status: q.get('status') || '',
    webhookId: q.get('webhookId') || '',
    eventType: q.get('eventType') || '',
    since: q.get('since') || '',
    until: q.get('until') || '',
  };
}

export class Deliveries extends Page {
  async load() {
    const f = filtersOf(this.props.query);
    const cursor = this.props.query.get('cursor') || '';
    const page = await get(`/v1/deliveries${query({ ...f, limit: pageSize, cursor })}`);
    return { page, selected: new Set(), actionError: null, notice: null, confirmReplay: false };
  }

  async lookups() {
    const [webhooks, eventTypes] = await Promise.all([listAll('/v1/webhooks'), listAll('/v1/event-types')]);
    return { webhooks, eventTypes };
  }

  setFilter(name, value) {
    const f = { ...filtersOf(this.props.query), [name]: value };
    if (f.status === 'all') f.status = '';
    navigate('deliveries', f); // a new filter starts at the first page
  }

  toggle(id) {
    const selected = new Set(this.state.selected);
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    // A selection changes what Replay resends: a pending question about the filter is void.
    this.setState({ selected, confirmReplay: false });
  }

  toggleAll(on) {
    this.setState({ selected: on ? new Set(this.state.page.data.map((d) => d.id)) : new Set(), confirmReplay: false });
  }

  /** replayBody is the POST /v1/replays body: the selection, else the filter (or null). */
  replayBody() {
    const { selected } = this.state;
    if (selected.size) return { deliveryIds: [...selected] };
    const f = filtersOf(this.props.query);
    if (f.status && f.status !== 'failed') return null;
    const body = {
      since: f.since || new Date(0).toISOString(),
      until: f.until || new Date().toISOString(),
      status: f.status === 'failed' ? 'failed' : 'all',
    };
    if (f.webhookId) body.webhookId = f.webhookId;
    if (f.eventType) body.eventTypes = [f.eventType];
    return body;
  }

  /** describeReplay says in words what a replay of the filter resends. */
  describeReplay() {
    const f = filtersOf(this.props.query);
    const names = Object.fromEntries((this.state.webhooks || []).map((w) => [w.id, w.name]));
    const what = f.status === 'failed' ? 'every failed delivery' : 'every delivery, whatever its status,';
    const to = f.webhookId ? `to webhook ${names[f.webhookId] || f.webhookId}` : 'to any webhook';
    const type = f.eventType ? `of event type ${f.eventType}` : 'of any event type';
    const since = f.since ? `created from ${formatTime(f.since)}` : 'created at any time (all time)';
    const until = f.until ? `until ${formatTime(f.until)}` : 'until now';
    return `Resends ${what} ${to}, ${type}, ${since} ${until}: one new attempt each.`;
  }

  /** askReplay replays a selection at once; a replay by filter is confirmed first. */
  askReplay = () => {
    if (this.state.selected.size) this.replay();
    else {
      this.focusedReplay = false; // the question's Start replay takes the focus
      this.setState({ confirmReplay: true, actionError: null });
    }
  };

  /** keepIt closes the question about a replay by filter (Keep it, Escape). */
  keepIt = () => {
    this.focusedReplay = false;
    this.setState({ confirmReplay: false });
  };

  replay = () => this.run('replay', async () => {
    const body = this.replayBody();
    const r = await post('/v1/replays', body);
    navigate(`replays/${encodeURIComponent(r.id)}`);
  });

  nextPage = () => {
    const f = filtersOf(this.props.query);
    navigate('deliveries', { ...f, cursor: this.state.page.nextCursor });
  };

  filters() {
    const f = filtersOf(this.props.query);
    const webhooks = this.state.webhooks || [];
    const eventTypes = this.state.eventTypes || [];
    const onChange = (name) => (e) => this.setFilter(name, e.currentTarget.value);
    const onTime = (name) => (e) => this.setFilter(name, fromLocalInput(e.currentTarget.value));
    return html`<form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label="Filters">
      <div class="field">
        <label for="f-status">Status</label>
        <select id="f-status" name="status" value=${f.status || 'all'} onChange=${onChange('status')}>
          <option value="all">all</option>
          ${statuses.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-webhook">Webhook</label>
        <select id="f-webhook" name="webhookId" value=${f.webhookId} onChange=${onChange('webhookId')}>
          <option value="">all webhooks</option>
          ${webhooks.map((w) => html`<option value=${w.id}>${w.name}</option>`)}
          ${f.webhookId && !webhooks.some((w) => w.id === f.webhookId) ? html`<option value=${f.webhookId}>${f.webhookId}</option>` : null}
        </select>
      </div>
      <div class="field">
        <label for="f-type">Event type</label>
        <select id="f-type" name="eventType" value=${f.eventType} onChange=${onChange('eventType')}>
          <option value="">all event types</option>
          ${eventTypes.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
          ${f.eventType && !eventTypes.some((t) => t.name === f.eventType) ? html`<option value=${f.eventType}>${f.eventType}</option>` : null}
        </select>
      </div>
      <div class="field">
        <label for="f-since">Since</label>
        <input id="f-since" type="datetime-local" name="since" value=${toLocalInput(f.since)} onChange=${onTime('since')} />
      </div>
      <div class="field">
        <label for="f-until">Until</label>
        <input id="f-until" type="datetime-local" name="until" value=${toLocalInput(f.until)} onChange=${onTime('until')} />
      </div>
      ${Object.values(f).some(Boolean) ? html`<div class="field end"><a class="button secondary" href="#/deliveries">Clear filters</a></div>` : null}
    </form>`;
  }

  render({ admin, query: q }, { loading, error, page, webhooks, selected, busy, actionError, lookupError, confirmReplay }) {
    const names = Object.fromEntries((webhooks || []).map((w) => [w.id, w.name]));
    const filtered = Object.values(filtersOf(q)).some(Boolean);
    // A refused filter (422) shows only its problem: no rows of the previous filter, no
    // empty state, no paging.
    const shown = error ? null : page;
    const rows = shown ? shown.data : [];
    const replayable = admin && shown && (selected.size > 0 || this.replayBody() !== null) && rows.length > 0;
    return html`<section>
      <div class="title-row"><h1>Deliveries</h1></div>
      ${this.filters()}
      ${admin && shown && rows.length ? html`<div class="actions replay-bar">
        <button type="button" onClick=${this.askReplay} disabled=${!replayable || busy === 'replay' || confirmReplay} aria-describedby="replay-help"
          title=${replayable ? '' : 'Select deliveries, or filter by failed or all statuses'}>Replay</button>
        <span class="muted small" id="replay-help">${selected.size
          ? `${plural(selected.size, 'delivery', 'deliveries')} selected`
          : 'Replays the deliveries these filters match (asks first), or select rows'}</span>
      </div>` : null}
      ${confirmReplay ? html`<div class="card confirm" role="group" aria-labelledby="replay-q" onKeyDown=${(e) => e.key === 'Escape' && this.keepIt()}>
        <p id="replay-q"><strong>Replay every delivery matching these filters?</strong> ${this.describeReplay()}</p>
        <button type="button" onClick=${this.replay} disabled=${busy === 'replay'} ref=${(el) => el && !this.focusedReplay && (this.focusedReplay = true, el.focus())}>Start replay</button>
        <button type="button" class="secondary" onClick=${this.keepIt}>Keep it</button>
      </div>` : null}
      <${Problem} error=${error || actionError || lookupError} />
      ${loading && !page ? html`<${Loading} />` : null}
      ${shown && !rows.length ? html`<${Empty}>${filtered || q.get('cursor')
        ? html`No deliveries match these filters. <a href="#/deliveries">Clear the filters</a> or widen the time range.`
        : html`No deliveries yet. Send an event with <code>POST /v1/events</code> to a type a webhook subscribes to.`}<//>` : null}
      ${rows.length ? html`<div class="table-wrap"><table class="list stack deliveries">
        <caption class="visually-hidden">Deliveries, newest first</caption>
        <thead><tr>
          ${admin ? html`<th scope="col" class="check"><input type="checkbox" aria-label="Select all on this page"
            checked=${selected.size === rows.length} onChange=${(e) => this.toggleAll(e.currentTarget.checked)} /></th>` : null}
          <th scope="col">ID</th><th scope="col">Event type</th><th scope="col">Webhook</th><th scope="col">Status</th>
          <th scope="col" class="num attempts">Attempts</th><th scope="col" class="num">Last code</th><th scope="col">Time</th>
        </tr></thead>
        <tbody>${rows.map((d) => html`<tr key=${d.id}>
          ${admin ? html`<td class="check"><input type="checkbox" aria-label=${`Select ${d.id}`} checked=${selected.has(d.id)}
            onChange=${() => this.toggle(d.id)} /></td>` : null}
          <td class="primary"><a class="mono clip id" href=${href(`deliveries/${encodeURIComponent(d.id)}`)} title=${d.id}>${d.id}</a></td>
          <td data-label="Event type"><${Clip} text=${d.eventType} /></td>
          <td data-label="Webhook"><a class="clip" href=${href(`webhooks/${encodeURIComponent(d.webhookId)}`)}
            title=${names[d.webhookId] || d.webhookId}>${names[d.webhookId] || d.webhookId}</a></td>
          <td data-label="Status"><${Status} value=${d.status} /></td>
          <td class="num attempts" data-label="Attempts">${d.attemptCount}</td>
          <td class="num" data-label="Last code">${d.lastStatusCode ?? html`<span class="muted" title=${d.lastError || ''}>—</span>`}</td>
          <td data-label="Time"><${Time} value=${d.createdAt} /></td>
        </tr>`)}</tbody>
      </table></div>` : null}
      ${shown ? html`<div class="pager">
        ${q.get('cursor') ? html`<a class="button secondary" href=${href('deliveries', filtersOf(q))}>First page</a>` : null}
        ${shown.nextCursor ? html`<button type="button" class="secondary" onClick=${this.nextPage}>Next page</button>` : null}
      </div>` : null}
    </section>`;
  }
}

/** retryable: a retry asks for an attempt now, in any status but pending (one is due already). */
const retryable = (d) => d.status !== 'pending';
/** cancelable: only a pending or retrying delivery can be canceled (API.md). */
const cancelable = (d) => d.status === 'pending' || d.status === 'retrying';
const settled = (d) => d.status === 'succeeded' || d.status === 'failed' || d.status === 'canceled';

export class DeliveryPage extends Page {
  async load() {
    const d = await get(`/v1/deliveries/${encodeURIComponent(this.props.id)}`);
    let webhook = this.state.webhook;
    if (!webhook || webhook.id !== d.webhookId) {
      webhook = await get(`/v1/webhooks/${encodeURIComponent(d.webhookId)}`).catch(() => null);
    }
    let event = this.state.event;
    if (!event || event.id !== d.eventId) {
      event = await get(`/v1/events/${encodeURIComponent(d.eventId)}`).catch(() => null);
    }
    this.schedule(d);
    return { d, webhook, event };
  }

  /** schedule polls while the delivery is not settled: every 1.5 s while an attempt is due, 10 s while it waits to retry. */
  schedule(d) {
    clearTimeout(this.timer);
    if (!settled(d) && this.alive) this.timer = setTimeout(() => this.reload(), d.status === 'pending' ? 1500 : 10000);
  }

  act(name) {
    return () => this.run(name, async () => {
      const d = await post(`/v1/deliveries/${encodeURIComponent(this.props.id)}/${name}`);
      this.setState({ d: { ...this.state.d, ...d }, notice: name === 'retry' ? 'Retry requested: an attempt starts now.' : 'Delivery canceled.' });
      this.schedule(d);
      await this.reload();
    });
  }

  render({ admin, session }, { loading, error, d, webhook, event, busy, actionError, notice }) {
    if (loading && !d) return html`<${Loading} />`;
    if (!d) return html`<section><p><a href="#/deliveries">← History</a></p><${Problem} error=${error} /></section>`;
    const temporal = session.temporalUIURL
      ? `${session.temporalUIURL.replace(/\/$/, '')}/namespaces/${encodeURIComponent(session.temporalNamespace || 'default')}/workflows/${encodeURIComponent(d.workflowId)}`
      : '';
    const attempts = [...(d.attempts || [])].sort((a, b) => b.number - a.number);
    return html`<section>
      <p class="crumbs"><a href="#/deliveries">History</a> / <span class="mono">${d.id}</span></p>
      <div class="title-row">
        <h1>Delivery <span class="mono">${d.id}</span></h1>
        <div class="actions">
          ${admin && retryable(d) ? html`<button type="button" onClick=${this.act('retry')} disabled=${busy === 'retry'}>Retry</button>` : null}
          ${admin && cancelable(d) ? html`<button type="button" class="danger" onClick=${this.act('cancel')} disabled=${busy === 'cancel'}>Cancel</button>` : null}
          ${temporal ? html`<a class="button secondary" href=${temporal} target="_blank" rel="noopener noreferrer">Open in Temporal UI</a>` : null}
        </div>
      </div>
      <${Problem} error=${actionError || error} />
      ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
      <dl class="facts">
        <dt>Status</dt><dd><${Status} value=${d.status} /></dd>
        <dt>Event</dt><dd>${d.eventType} <span class="mono muted">${d.eventId}</span></dd>
        <dt>Webhook</dt><dd><a href=${href(`webhooks/${encodeURIComponent(d.webhookId)}`)}>${webhook ? webhook.name : d.webhookId}</a></dd>
        <dt>Attempts</dt><dd>${d.attemptCount}</dd>
        <dt>Last status code</dt><dd>${d.lastStatusCode ?? '—'}</dd>
        ${d.lastError ? html`<dt>Last error</dt><dd>${d.lastError}</dd>` : null}
        <dt>Created</dt><dd><${Time} value=${d.createdAt} /></dd>
        <dt>Next attempt</dt><dd><${Time} value=${d.nextAttemptAt} /></dd>
        ${d.batchId ? html`<dt>Batch</dt><dd class="mono">${d.batchId}</dd>` : null}
        <dt>Workflow</dt><dd class="mono">${d.workflowId}</dd>
      </dl>
      <h2>Attempts</h2>
      ${attempts.length ? attempts.map((a) => html`<${Attempt} key=${a.id} a=${a} event=${event} />`)
        : html`<${Empty}>No attempts yet. ${d.status === 'pending' ? 'The first one is on its way.' : ''}<//>`}
    </section>`;
  }
}

function Attempt({ a, event }) {
  const r = a.response;
  return html`<article class="attempt card">
    <header>
      <h3>Attempt ${a.number}</h3>
      <span class="muted">${a.trigger}</span>
      ${r ? html`<span class=${`badge badge-${r.status >= 200 && r.status < 300 ? 'succeeded' : 'failed'}`}>HTTP ${r.status}</span>`
        : html`<span class="badge badge-failed">no response</span>`}
      <${Time} value=${a.requestedAt} />
      ${a.durationMs != null ? html`<span class="muted">${a.durationMs} ms</span>` : html`<span class="muted">${a.state}</span>`}
    </header>
    ${a.error ? html`<p class="error-text">${a.error}</p>` : null}
    ${a.retryAfter ? html`<p class="muted">Retry-After: ${a.retryAfter}</p>` : null}
    <div class="two">
      <div>
        <h4>Request</h4>
        <p class="mono break">${a.request.method} ${a.request.url}</p>
        <${Headers} headers=${a.request.headers} />
        <h5>Body</h5>
        ${event ? html`<p class="help">hookd records no request body. The body was rendered from the event's
          data below, wrapped in the standard envelope or put through the webhook's body template.</p>
          <${Pre} text=${event.data} label=${`Event data of attempt ${a.number}`} />` : html`<p class="muted">Not recorded.</p>`}
      </div>
      <div>
        <h4>Response</h4>
        ${r ? html`<p>Status <strong>${r.status}</strong></p>
          <${Headers} headers=${r.headers} />
          <h5>Body</h5>
          <${Pre} text=${r.body} label=${`Response body of attempt ${a.number}`} />` : html`<p class="muted">No response.</p>`}
      </div>
    </div>
  </article>`;
}
