// Sign-in: an API key exchanged for a session cookie (POST /console/session). A portal
// ticket link signs in on the server's side; a bad one lands here with ?error=ticket.
import { html, Component, Problem } from '../ui.js';
import { request } from '../api.js';

const notices = {
  ticket: 'This sign-in link is invalid, already used, or expired.',
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
