// The hookd console (issue 13): a hash-routed single page on Preact + htm, no build step.
// The session comes from /console/session (cookie); all data from the JSON API under /v1.
import { render } from './vendor/preact/preact.mjs';
import { html, Component, Problem, navigate } from './ui.js';
import { request, onUnauthorized } from './api.js';
import { SignIn, TicketSignIn } from './pages/signin.js';
import { Webhooks, WebhookPage, EventTypes } from './pages/webhooks.js';
import { Deliveries, DeliveryPage } from './pages/deliveries.js';
import { Replays, ReplayPage } from './pages/replays.js';
import { Stats } from './pages/stats.js';

/** parseRoute reads "#/deliveries/dlv_1?x=y" as {parts: ['deliveries','dlv_1'], query}. */
function parseRoute() {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(qs || ''), key: raw };
}

const sections = [
  ['webhooks', 'Webhooks'],
  ['deliveries', 'Deliveries'],
  ['replays', 'Replays'],
  ['stats', 'Statistics'],
];

const titles = { webhooks: 'Webhooks', 'event-types': 'Event types', deliveries: 'Deliveries', replays: 'Replays', stats: 'Statistics', signin: 'Sign in', ticket: 'Sign in' };

/** NotFound is the page of a route the console does not have (#/nowhere). */
function NotFound() {
  return html`<h1>Page not found</h1>
    <p>The console has no page at this address. Go to one of these:</p>
    <ul>${sections.map(([path, label]) => html`<li><a href=${`#/${path}`}>${label}</a></li>`)}</ul>`;
}

class App extends Component {
  constructor() {
    super();
    this.state = { route: parseRoute(), session: null, checked: false, error: null };
    this.onHash = () => this.setState({ route: parseRoute() });
  }

  componentDidMount() {
    window.addEventListener('hashchange', this.onHash);
    this.off = onUnauthorized(() => this.signedOut('expired'));
    this.checkSession();
  }

  componentWillUnmount() {
    window.removeEventListener('hashchange', this.onHash);
    this.off();
  }

  componentDidUpdate(_, prev) {
    if (prev.route.key !== this.state.route.key || prev.session !== this.state.session) {
      // A new page: focus moves to its content, or to the key field of the sign-in page.
      // Never to the ticket page's Continue: another site that opened a ticket link while
      // the user typed would get their next Enter (and sign them in to its organization).
      const ticket = this.state.route.parts[0] === 'ticket';
      const target = document.getElementById(this.state.session || ticket ? 'main' : 'api-key');
      if (target) target.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
    const part = this.state.route.parts[0];
    const t = part === undefined ? 'Webhooks' : titles[part] || 'Page not found';
    document.title = `${t} · hookd console`;
  }

  async checkSession() {
    try {
      const session = await request('GET', '/console/session');
      this.setState({ session, checked: true });
      if (this.state.route.parts[0] === 'signin' || !this.state.route.parts.length) navigate('webhooks');
    } catch (error) {
      this.setState({ session: null, checked: true, error: error.status === 401 ? null : error });
      const here = this.state.route.parts[0];
      if (error.status === 401 && here !== 'signin' && here !== 'ticket') {
        this.returnTo = this.state.route.key;
        navigate('signin');
      }
    }
  }

  signedIn = async () => {
    // The session's full view (Temporal UI link) comes from GET.
    await this.checkSession();
    if (this.state.route.parts[0] === 'ticket') {
      // The used ticket's page leaves the history: Back does not offer Continue again.
      this.returnTo = null;
      window.location.replace('#/webhooks');
      return;
    }
    const back = this.returnTo;
    this.returnTo = null;
    if (back && !back.startsWith('signin') && !back.startsWith('ticket')) window.location.hash = `#/${back}`;
    else navigate('webhooks');
  };

  signedOut(reason) {
    if (!this.state.session) return;
    this.returnTo = reason === 'expired' ? this.state.route.key : null;
    this.setState({ session: null });
    navigate('signin', reason === 'expired' ? { reason } : {});
  }

  signOut = async () => {
    try {
      await request('DELETE', '/console/session');
    } catch {
      // Signed out either way: the page forgets the session.
    }
    this.signedOut('signout');
  };

  page() {
    const { route, session } = this.state;
    const [section, id] = route.parts;
    const props = { session, query: route.query, routeKey: route.key, admin: session.role === 'admin' };
    switch (section) {
      case 'webhooks':
        if (id) return html`<${WebhookPage} ...${props} id=${id} key=${`wh-${id}`} />`;
        return html`<${Webhooks} ...${props} />`;
      case 'event-types':
        return html`<${EventTypes} ...${props} />`;
      case 'deliveries':
        if (id) return html`<${DeliveryPage} ...${props} id=${id} key=${`dlv-${id}`} />`;
        return html`<${Deliveries} ...${props} />`;
      case 'replays':
        if (id) return html`<${ReplayPage} ...${props} id=${id} key=${`rpl-${id}`} />`;
        return html`<${Replays} ...${props} />`;
      case 'stats':
        return html`<${Stats} ...${props} />`;
      case undefined:
        return html`<${Webhooks} ...${props} />`;
      default:
        return html`<${NotFound} />`;
    }
  }

  render(_, { route, session, checked, error }) {
    if (!checked) return html`<p class="muted boot">Loading…</p>`;
    if (route.parts[0] === 'ticket') {
      // A ticket's link, signed in or not: nothing happens before Continue.
      return html`<div class="signin-shell">
        <${TicketSignIn} query=${route.query} session=${session} onSignedIn=${this.signedIn} key=${route.key} />
      </div>`;
    }
    if (!session) {
      return html`<div class="signin-shell">
        <${Problem} error=${error} />
        <${SignIn} query=${route.parts[0] === 'signin' ? route.query : new URLSearchParams()} onSignedIn=${this.signedIn} />
      </div>`;
    }
    const current = route.parts[0] === 'event-types' ? 'webhooks' : route.parts[0] || 'webhooks';
    return html`
      <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
      <header class="top">
        <a class="brand" href="#/webhooks">hookd</a>
        <nav aria-label="Main">
          <ul>
            ${sections.map(([path, label]) => html`<li>
              <a href=${`#/${path}`} aria-current=${current === path ? 'page' : undefined}>${label}</a>
            </li>`)}
          </ul>
        </nav>
        <div class="who">
          <span class="org" title=${`Signed in to organization ${session.orgId} as ${session.role}`}>
            <span class="visually-hidden">Organization </span><code class="org-id">${session.orgId}</code>
            <span class="role">${session.role}</span>
          </span>
          <button type="button" class="secondary small" onClick=${this.signOut}>Sign out</button>
        </div>
      </header>
      <main id="main" tabindex="-1">${this.page()}</main>`;
  }
}

render(html`<${App} />`, document.getElementById('app'));
