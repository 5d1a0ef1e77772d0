// Statistics: success rate and counts (/v1/stats) and a timeseries chart (/v1/stats/
// timeseries) drawn as SVG by Chartist, over the interval's usual range.
import { html, Component, Page, Problem, Loading, Empty, percent, navigate, href } from '../ui.js';
import { get, query, listAll } from '../api.js';

/** spans is the range shown per interval, as the API's defaults: 60, 24, 30 or 12 buckets. */
const spans = { minute: 3600e3, hour: 24 * 3600e3, day: 30 * 24 * 3600e3, week: 12 * 7 * 24 * 3600e3 };
const rangeNames = { minute: 'last hour', hour: 'last 24 hours', day: 'last 30 days', week: 'last 12 weeks' };

let loading = null;

/**
 * chartist resolves to the Chartist global, loading its UMD build on first use (only this
 * page needs it). Its Svg.attr is first made to set a style through CSSOM rather than a
 * style attribute, which the console's CSP (style-src 'self') refuses.
 */
function chartist() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      // Beside this module, so under the same versioned path as the page.
      script.src = new URL('../vendor/chartist/index.umd.js', import.meta.url).href;
      script.onload = () => resolve(window.Chartist);
      script.onerror = () => reject(new Error('could not load the chart library'));
      document.head.appendChild(script);
    }).then((C) => {
      const attr = C.Svg.prototype.attr;
      C.Svg.prototype.attr = function attrCSP(attributes, ns) {
        if (attributes && typeof attributes === 'object' && 'style' in attributes) {
          const { style, ...rest } = attributes;
          this._node.style.cssText = style; // CSSOM, allowed by the CSP
          return attr.call(this, rest, ns);
        }
        return attr.call(this, attributes, ns);
      };
      return C;
    });
  }
  return loading;
}

function label(start, interval) {
  const d = new Date(start);
  if (interval === 'minute' || interval === 'hour') {
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** Chart draws the buckets as stacked bars (succeeded, failed, other) with Chartist. */
class Chart extends Component {
  componentDidMount() {
    this.draw();
  }

  componentDidUpdate(prev) {
    if (prev.buckets !== this.props.buckets) this.draw();
  }

  componentWillUnmount() {
    this.el = null;
    if (this.chart) this.chart.detach();
  }

  async draw() {
    let C;
    try {
      C = await chartist();
    } catch (error) {
      this.setState({ error });
      return;
    }
    if (!this.el) return; // unmounted meanwhile
    const { buckets, interval } = this.props;
    // A label per ~70 px at most (12 at 1280 px, 4 or 5 on a phone), so they never crowd.
    const fit = Math.max(3, Math.min(12, Math.floor(this.el.clientWidth / 70)));
    const every = Math.max(1, Math.ceil(buckets.length / fit));
    const data = {
      labels: buckets.map((b, i) => (i % every === 0 ? label(b.start, interval) : '')),
      series: [
        buckets.map((b) => b.deliveries.succeeded),
        buckets.map((b) => b.deliveries.failed),
        buckets.map((b) => b.deliveries.pending + b.deliveries.retrying + b.deliveries.canceled),
      ],
    };
    const empty = buckets.every((b) => b.deliveries.total === 0);
    const options = {
      low: 0, high: empty ? 4 : undefined, // an empty range still shows a readable 0-4 axis
      stackBars: true, height: '280px', chartPadding: { top: 16, right: 8, bottom: 4, left: 4 },
      axisY: { onlyInteger: true }, axisX: { showGrid: false },
    };
    if (this.chart) this.chart.update(data, options);
    else this.chart = new C.BarChart(this.el, data, options);
  }

  render({ buckets, interval }, { error }) {
    if (error) return html`<${Problem} error=${error} />`;
    const total = buckets.reduce((n, b) => n + b.deliveries.total, 0);
    return html`<figure class="chart card">
      <div class="ct-chart" ref=${(el) => { this.el = el; }} role="img"
        aria-label=${`Deliveries per ${interval}: ${total} in ${buckets.length} buckets; succeeded, failed and other stacked`}></div>
      <figcaption class="legend">
        <span class="key key-a">Succeeded</span><span class="key key-b">Failed</span><span class="key key-c">Pending, retrying or canceled</span>
      </figcaption>
    </figure>`;
  }
}

export class Stats extends Page {
  async load() {
    const interval = this.interval();
    const webhookId = this.props.query.get('webhookId') || '';
    const until = new Date();
    const since = new Date(until.getTime() - spans[interval]);
    const range = { since: since.toISOString(), until: until.toISOString(), webhookId };
    const [stats, series] = await Promise.all([
      get(`/v1/stats${query(range)}`),
      get(`/v1/stats/timeseries${query({ ...range, interval })}`),
    ]);
    return { stats, series };
  }

  async lookups() {
    return { webhooks: await listAll('/v1/webhooks') };
  }

  interval() {
    const i = this.props.query.get('interval');
    return spans[i] ? i : 'hour';
  }

  set(name, value) {
    navigate('stats', { interval: this.interval(), webhookId: this.props.query.get('webhookId') || '', [name]: value });
  }

  render({ query: q }, { loading, error, stats, series, webhooks, lookupError }) {
    const interval = this.interval();
    const d = stats && stats.deliveries;
    const lat = stats && stats.attempts.latencyMs;
    const ms = (v) => (v == null ? '—' : `${v} ms`);
    return html`<section>
      <div class="title-row"><h1>Statistics</h1></div>
      <form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label="Range">
        <div class="field">
          <label for="s-interval">Interval</label>
          <select id="s-interval" value=${interval} onChange=${(e) => this.set('interval', e.currentTarget.value)}>
            <option value="minute">minute</option><option value="hour">hour</option>
            <option value="day">day</option><option value="week">week</option>
          </select>
        </div>
        <div class="field">
          <label for="s-webhook">Webhook</label>
          <select id="s-webhook" value=${q.get('webhookId') || ''} onChange=${(e) => this.set('webhookId', e.currentTarget.value)}>
            <option value="">all webhooks</option>
            ${(webhooks || []).map((w) => html`<option value=${w.id}>${w.name}</option>`)}
            ${q.get('webhookId') && !(webhooks || []).some((w) => w.id === q.get('webhookId'))
              ? html`<option value=${q.get('webhookId')}>${q.get('webhookId')}</option>` : null}
          </select>
        </div>
        <p class="muted field end">${rangeNames[interval]}, by ${interval}</p>
      </form>
      <${Problem} error=${error || lookupError} />
      ${loading && !stats ? html`<${Loading} />` : null}
      ${stats ? html`<div class="tiles">
        <div class="tile"><span class="tile-label">Success rate</span><strong class="tile-value">${d.succeeded + d.failed + d.canceled ? percent(stats.successRate) : '—'}</strong>
          <span class="small muted">of finished deliveries</span></div>
        <div class="tile"><span class="tile-label">Deliveries</span><strong class="tile-value">${d.total}</strong></div>
        <a class="tile" href=${href('deliveries', { status: 'succeeded' })}><span class="tile-label">Succeeded</span><strong class="tile-value ok">${d.succeeded}</strong></a>
        <a class="tile" href=${href('deliveries', { status: 'failed' })}><span class="tile-label">Failed</span><strong class="tile-value bad">${d.failed}</strong></a>
        <a class="tile" href=${href('deliveries', { status: 'retrying' })}><span class="tile-label">Retrying</span><strong class="tile-value">${d.retrying}</strong></a>
        <a class="tile" href=${href('deliveries', { status: 'pending' })}><span class="tile-label">Pending</span><strong class="tile-value">${d.pending}</strong></a>
        <a class="tile" href=${href('deliveries', { status: 'canceled' })}><span class="tile-label">Canceled</span><strong class="tile-value">${d.canceled}</strong></a>
        <div class="tile"><span class="tile-label">Attempts</span><strong class="tile-value">${stats.attempts.total}</strong>
          <span class="small muted">p50 ${ms(lat.p50)} · p95 ${ms(lat.p95)} · p99 ${ms(lat.p99)}</span></div>
      </div>` : null}
      ${stats && d.total === 0 ? html`<${Empty}>No deliveries in this range. Send an event with <code>POST /v1/events</code>, or choose a longer interval.<//>` : null}
      ${series ? html`<h2>Deliveries per ${interval}</h2><${Chart} buckets=${series.buckets} interval=${interval} />` : null}
    </section>`;
  }
}
