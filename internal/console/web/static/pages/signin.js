// Sign-in: an API key exchanged for a session cookie (POST /console/session), or a portal
// ticket's link: the server sends it to #/ticket?ticket=…, where the ticket is exchanged
// (POST /console/session {ticket}) only when the user presses Continue, so a cross-site
// page or a link preview that opens the link signs no one in.
import { html, Component, Problem } from '../ui.js';
import { request } from '../api.js';

const ticketInvalid = 'This sign-in link is invalid, already used, or expired.';

const notices = {
  ticket: ticketInvalid,
  expired: 'Your session has ended. Sign in again.',
};

export class SignIn extends Component {
  constructor(props) {
    super(props);
    this.state = { apiKey: '', busy: false, error: null };
  }

  componentDidMount() {
    if (this.input) this.input.focus();
  }

  submit = async (e) => {
    e.preventDefault();
    this.setState({ busy: true, error: null });
    try {
      await request('POST', '/console/session', { apiKey: this.state.apiKey.trim() });
      this.setState({ busy: false, apiKey: '' });
      await this.props.onSignedIn();
    } catch (error) {
      this.setState({ busy: false, error });
    }
  };

  render({ query }, { apiKey, busy, error }) {
    const notice = notices[query.get('error')] || notices[query.get('reason')];
    return html`<main id="main" class="signin" tabindex="-1">
      <h1>hookd console</h1>
      <p class="muted">Manage webhooks, follow deliveries, replay failures.</p>
      ${notice && !error ? html`<div class="alert" role="alert">${notice}</div>` : null}
      <${Problem} error=${error} />
      <form onSubmit=${this.submit} class="card">
        <label for="api-key">API key</label>
        <input id="api-key" name="apiKey" type="password" autocomplete="off" required ref=${(el) => { this.input = el; }}
          spellcheck="false" value=${apiKey} onInput=${(e) => this.setState({ apiKey: e.currentTarget.value })}
          aria-describedby="api-key-help" />
        <p id="api-key-help" class="help">An admin or viewer key of your organization (hk_…). It is exchanged for a session cookie and not stored in the page.</p>
        <button type="submit" disabled=${busy}>Sign in</button>
      </form>
    </main>`;
  }
}

/**
 * TicketSignIn is the page of a portal ticket's link: it says what Continue does and
 * exchanges the ticket then. Which organization the link opens is unknown until the
 * ticket is used, so the page cannot name it; the header shows it once signed in.
 */
export class TicketSignIn extends Component {
  constructor(props) {
    super(props);
    this.state = { busy: false, failed: false, error: null };
  }

  continue = async () => {
    const ticket = this.props.query.get('ticket') || '';
    this.setState({ busy: true, failed: false, error: null });
    try {
      await request('POST', '/console/session', { ticket });
      this.setState({ busy: false });
      await this.props.onSignedIn();
    } catch (error) {
      const bad = error.status === 401 || error.status === 422;
      this.setState({ busy: false, failed: bad, error: bad ? null : error });
    }
  };

  render({ query, session }, { busy, failed, error }) {
    const ticket = query.get('ticket');
    return html`<main id="main" class="signin" tabindex="-1">
      <h1>hookd console</h1>
      ${failed || !ticket
        ? html`<div class="alert" role="alert">${ticketInvalid}</div>
          <p><a href="#/signin">Sign in with an API key</a></p>`
        : html`<div class="card ticket">
          <p>Sign in to the hookd console with this link.</p>
          <p class="help">It signs this browser in to the organization and role the link was made for${session
            ? html`, replacing your current session (organization <code>${session.orgId}</code>, ${session.role})`
            : null}. The link works once.</p>
          <${Problem} error=${error} />
          <div class="actions">
            <button type="button" disabled=${busy} onClick=${this.continue}>Continue</button>
            <a href=${session ? '#/webhooks' : '#/signin'}>${session ? 'Keep my session' : 'Sign in with an API key instead'}</a>
          </div>
        </div>`}
    </main>`;
  }
}
