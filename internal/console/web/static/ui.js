// Shared pieces of the console's pages: htm bound to Preact, problem display, formatting,
// and the hash routes' links. No inline styles anywhere (the server's CSP forbids them).
import { h, Component } from './vendor/preact/preact.mjs';
import htm from './vendor/htm/htm.mjs';

export const html = htm.bind(h);
export { Component };

/** href builds a hash link: href('deliveries', {status: 'failed'}) → "#/deliveries?status=failed". */
export function href(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return `#/${path}${s ? `?${s}` : ''}`;
}

/** navigate moves to a hash route (a history entry, so Back works). */
export function navigate(path, params) {
  window.location.hash = href(path, params).slice(1);
}

/**
 * Problem shows an error (an ApiError or any Error) in role="alert": the problem's title,
 * detail and each field error. Nothing when error is null.
 */
export function Problem({ error }) {
  if (!error) return null;
  const p = error.problem || { title: 'Something went wrong', detail: String(error.message || error) };
  // A field error the detail already says ("apiKey is not a known API key") is not repeated.
  const errors = (Array.isArray(p.errors) ? p.errors : []).filter((e) => !String(p.detail || '').includes(`${e.field} ${e.message}`));
  return html`<div class="alert" role="alert">
    <strong>${p.title || 'Error'}</strong>${p.detail ? html` <span>${p.detail}</span>` : null}
    ${errors.length ? html`<ul>${errors.map((e) => html`<li><code>${e.field}</code> ${e.message}</li>`)}</ul>` : null}
  </div>`;
}

/** fieldErrors maps a problem's errors[] to {field: message} (for messages beside inputs). */
export function fieldErrors(error) {
  const out = {};
  const list = (error && error.problem && error.problem.errors) || [];
  for (const e of list) {
    const key = String(e.field || '').split(/[.[]/)[0];
    out[key] = out[key] ? `${out[key]}; ${e.message}` : e.message;
  }
  return out;
}

/** FieldError is the message for one field, linked to its input by id. */
export function FieldError({ id, message }) {
  return message ? html`<p class="field-error" id=${id}>${message}</p>` : null;
}

export function Status({ value }) {
  return html`<span class=${`badge badge-${String(value || '').toLowerCase()}`}>${value}</span>`;
}

const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** formatTime writes an RFC 3339 instant in the browser's zone ("Dec 1, 2026, 03:04:05"). */
export function formatTime(value) {
  return dateFmt.format(new Date(value));
}

/** Time shows an RFC 3339 instant in the browser's zone, the exact UTC value as its title. */
export function Time({ value }) {
  if (!value) return html`<span class="muted">—</span>`;
  return html`<time datetime=${value} title=${value}>${formatTime(value)}</time>`;
}

/** Clip shows text cut with an ellipsis where its column is narrow, the whole as its title. */
export function Clip({ text }) {
  return html`<span class="clip" title=${text}>${text}</span>`;
}

/** plural writes "1 delivery", "3 deliveries". */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

export function Loading() {
  return html`<p class="muted" aria-live="polite">Loading…</p>`;
}

/** Empty is an empty state: what is missing and what to do next. */
export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

/** Pre shows text (a body, a schema) as preformatted, pretty-printing JSON when it parses. */
export function Pre({ text, label }) {
  let shown = text;
  if (typeof text !== 'string') {
    shown = JSON.stringify(text, null, 2);
  } else {
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      shown = text;
    }
  }
  return html`<pre class="code" tabindex="0" aria-label=${label}>${shown === '' ? '(empty)' : shown}</pre>`;
}

/** Headers shows a header map as a two-column list (values as the API masked them). */
export function Headers({ headers }) {
  const names = Object.keys(headers || {}).sort();
  if (!names.length) return html`<p class="muted">No headers.</p>`;
  return html`<dl class="headers">${names.map((n) => html`<dt>${n}</dt><dd>${headers[n]}</dd>`)}</dl>`;
}

/**
 * percent writes a rate in [0, 1] floored to two decimals ("99.97%"), so that 3 failures
 * in 10,007 never read as 100%; exactly 0 and 1 are "0%" and "100%".
 */
export function percent(rate) {
  if (rate >= 1) return '100%';
  if (rate <= 0) return '0%';
  return `${(Math.floor(rate * 10000 + 1e-9) / 100).toFixed(2)}%`; // (1e-9: 0.29 * 10000 is 2899.99…)
}

/** toLocalInput turns an RFC 3339 instant into a datetime-local value ("" for none). */
export function toLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** fromLocalInput turns a datetime-local value (the browser's zone) into RFC 3339 UTC. */
export function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** selectedValues is the values of a <select multiple>'s chosen options. */
export function selectedValues(select) {
  return Array.from(select.selectedOptions).map((o) => o.value);
}

/**
 * Page is the base of a page that loads data: load() returns a promise of the state to
 * set; errors land in state.error. A page refetches when its route's query changes.
 */
export class Page extends Component {
  constructor(props) {
    super(props);
    this.state = { loading: true, error: null };
    this.alive = true;
  }

  componentDidMount() {
    this.reload();
    if (this.lookups) this.loadLookups();
  }

  /**
   * loadLookups fetches, once and beside the page's data, what only decorates it (a
   * subclass's lookups(): webhook names, event types for the filters), so the page shows
   * as soon as its own data is there.
   */
  async loadLookups() {
    try {
      const found = await this.lookups();
      if (this.alive) this.setState(found);
    } catch (lookupError) {
      if (this.alive) this.setState({ lookupError });
    }
  }

  componentDidUpdate(prev) {
    if (prev.routeKey !== this.props.routeKey) this.reload();
  }

  componentWillUnmount() {
    this.alive = false;
    clearTimeout(this.timer);
  }

  async reload() {
    const key = this.props.routeKey;
    try {
      const next = await this.load();
      if (this.alive && key === this.props.routeKey) this.setState({ ...next, loading: false, error: null });
    } catch (error) {
      if (this.alive && key === this.props.routeKey) this.setState({ loading: false, error });
    }
  }

  run(name, fn) {
    return runAction(this, name, fn);
  }
}

/**
 * runAction calls fn for an action of component c (a button named name): state.busy is
 * name meanwhile, and its error lands in state.actionError (shown by Problem).
 */
export async function runAction(c, name, fn) {
  c.setState({ busy: name, actionError: null, notice: null });
  try {
    await fn();
    if (c.alive !== false) c.setState({ busy: null });
  } catch (actionError) {
    if (c.alive !== false) c.setState({ busy: null, actionError });
  }
}

export const statuses = ['pending', 'retrying', 'succeeded', 'failed', 'canceled'];
