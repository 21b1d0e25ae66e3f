// slackdesk's Zendesk app: the agent's status and "Next ticket" in the top bar, and the
// admin pages from the nav bar. Plain JS, no build step. slackdesk serves this page itself: Zendesk opened it
// with a signed ZAF JWT, and slackdesk put the agent session it made for the verified
// agent into <body data-session>.
//
// Every call to slackdesk goes through Zendesk's proxy with `secure: true`: the proxy
// replaces {{setting.token}} with the app's secure setting, which slackdesk wrote there
// when an admin authorized the app, so the token never reaches this page. The agent is
// the one the session names; the page sends no user id. `currentUser` only decides which
// buttons to show (slackdesk checks roles itself). Only textContent shows server data.
(function () {
  'use strict';

  var HEARTBEAT_MS = 60000;
  var AUTHORIZE_POLL_MS = 2000;
  var AUTHORIZE_POLL_FOR_MS = 5 * 60000;
  var STATUS_EVENT = 'api_notification.status_changed';

  var location = document.body.getAttribute('data-location');
  var session = document.body.getAttribute('data-session') || '';
  var SESSION_EXPIRED = 'session is missing or expired';
  var client = window.ZAFClient.init();
  var ctx = {
    serviceUrl: '',
    userId: document.body.getAttribute('data-user-id') || null,
    role: '',
    subdomain: '',
    installationId: null,
    shown: null
  };

  function byId(id) { return document.getElementById(id); }
  function show(id, visible) { var el = byId(id); if (el) { el.hidden = !visible; } }
  function say(text) { byId('message').textContent = text; show('message', Boolean(text)); }
  function ignore() {}

  function notice(text) {
    var el = byId('notice');
    el.textContent = text;
    el.hidden = !text;
    if (text) {
      Promise.resolve(client.invoke('notify', text, 'notice')).catch(ignore);
    }
  }

  function api(method, path, body) {
    var options = {
      url: ctx.serviceUrl + path,
      type: method,
      secure: true,
      cors: false,
      dataType: 'json',
      headers: { Authorization: 'Bearer {{setting.token}}', 'X-Slackdesk-Session': session }
    };
    if (body) {
      options.contentType = 'application/json';
      options.data = JSON.stringify(body);
    }
    return client.request(options);
  }

  function statusOf(error) { return error && typeof error.status === 'number' ? error.status : 0; }

  function messageOf(error) {
    try {
      var body = error.responseJSON || JSON.parse(error.responseText);
      return body.error.message || '';
    } catch (ignored) {
      return '';
    }
  }

  function sessionExpired(error) {
    return statusOf(error) === 401 && messageOf(error).indexOf(SESSION_EXPIRED) !== -1;
  }

  function failed(error) {
    var status = statusOf(error);
    if (sessionExpired(error)) {
      show('status-view', false);
      show('authorize-view', false);
      say('Reload Zendesk to reconnect slackdesk (your session here ended).');
    } else if (status === 401) {
      notAuthorized();
    } else if (status === 403) {
      say(messageOf(error) || 'slackdesk is not enabled for you.');
    } else if (status === 422) {
      say('slackdesk does not know you as an agent of this account yet; try again in an hour (agents are synced hourly).');
    } else if (status === 429) {
      say('Too many requests; slackdesk will be asked again in a moment.');
    } else {
      say('slackdesk cannot be reached right now' + (status ? ' (' + status + ')' : '') + '.');
    }
  }

  function notAuthorized() {
    show('status-view', false);
    show('admin-view', false);
    if (ctx.role === 'admin') {
      say('');
      show('authorize-view', true);
    } else {
      show('authorize-view', false);
      say('slackdesk is not authorized yet. Ask a Zendesk admin to open the slackdesk app and click Authorize.');
    }
  }

  // Shows the agent's status; `noticeIfChanged` announces a change made elsewhere.
  function render(view, noticeIfChanged) {
    var previous = ctx.shown;
    if (view.user_id) { ctx.userId = String(view.user_id); }
    ctx.shown = view.status;
    var current = byId('current-status');
    current.textContent = view.status || 'not set';
    current.className = 'status-' + (view.status || 'none');
    byId('since').textContent = view.updated_at
      ? 'since ' + view.updated_at.replace('T', ' ').slice(0, 16) + ' UTC'
      : '';
    Array.prototype.forEach.call(document.querySelectorAll('[data-status]'), function (button) {
      button.setAttribute('aria-pressed', String(button.getAttribute('data-status') === view.status));
      button.disabled = false;
    });
    say('');
    show('authorize-view', false);
    show('status-view', true);
    if (previous !== null && previous !== view.status) {
      show('next-result', false); // an answer given for the old status
    }
    if (noticeIfChanged && previous !== null && previous !== view.status) {
      notice('Your status was changed to ' + (view.status || 'not set') + '.');
    }
  }

  function heartbeat() {
    return api('POST', '/app/v1/heartbeat', {})
      .then(function (view) { render(view, true); })
      .catch(failed);
  }

  function refresh() {
    return api('GET', '/app/v1/me')
      .then(function (view) { render(view, false); })
      .catch(failed);
  }

  function setStatus(status) {
    Array.prototype.forEach.call(document.querySelectorAll('[data-status]'), function (button) {
      button.disabled = true;
    });
    notice('');
    return api('POST', '/app/v1/status', { status: status })
      .then(function (view) { render(view, false); })
      .catch(function (error) {
        refresh();
        notice('Your status was not changed: ' + (messageOf(error) || 'slackdesk did not answer') + '.');
      });
  }

  // "Next ticket": slackdesk assigns the agent their most urgent ticket, then Zendesk
  // opens it (`routeTo`, available in every app location). A refusal says why in words.
  function nextTicket() {
    var button = byId('next-ticket');
    var line = byId('next-result');
    button.disabled = true;
    line.hidden = false;
    line.removeAttribute('data-ticket-id');
    line.textContent = 'Finding your next ticket…';
    return api('POST', '/app/v1/next_ticket', {})
      .then(function (pulled) {
        var id = String(pulled.ticket_id);
        line.setAttribute('data-ticket-id', id);
        line.textContent = 'Ticket #' + id + ' is yours.';
        return Promise.resolve(client.invoke('routeTo', 'ticket', pulled.ticket_id)).catch(function () {
          line.textContent = 'Ticket #' + id + ' is yours; Zendesk did not open it, find it in your views.';
        });
      })
      .catch(function (error) {
        var status = statusOf(error);
        if (status === 401 || status === 403) {
          line.hidden = true;
          failed(error);
          return;
        }
        var why = messageOf(error) ||
          (status === 429 ? 'too many presses; wait a moment' : 'slackdesk did not answer');
        line.textContent = 'No ticket for you now: ' + why + '.';
      })
      .then(function () { button.disabled = false; });
  }

  function openTab(path) {
    window.open(ctx.serviceUrl + path, '_blank', 'noopener');
  }

  function authorize() {
    openTab('/zendesk/app/authorize?subdomain=' + encodeURIComponent(ctx.subdomain) +
      '&installation_id=' + encodeURIComponent(ctx.installationId));
    show('authorize-view', false);
    say('Finish the authorization in the new tab; this app continues by itself.');
    var until = Date.now() + AUTHORIZE_POLL_FOR_MS;
    var poll = function () {
      api('GET', '/app/v1/me')
        .then(function (view) {
          if (location === 'top_bar') {
            render(view, false);
            heartbeat();
          } else {
            showAdmin();
          }
        })
        .catch(function (error) {
          if (statusOf(error) === 401 && !sessionExpired(error) && Date.now() < until) {
            window.setTimeout(poll, AUTHORIZE_POLL_MS);
          } else {
            failed(error);
          }
        });
    };
    window.setTimeout(poll, AUTHORIZE_POLL_MS);
  }

  function showAdmin(view) {
    say('');
    show('authorize-view', false);
    show('admin-view', true);
    showConnection((view || {}).zendesk_connection);
    showDeliveries((view || {}).deliveries);
  }

  // Deliveries to Zendesk that are stuck or were given up: counted here, listed with
  // Retry and Discard in the integration's settings (Admin Center > Channels).
  function showDeliveries(deliveries) {
    var line = byId('delivery-problems');
    if (!line || !deliveries) { return; }
    var stuck = deliveries.stuck || 0;
    var dead = deliveries.dead || 0;
    line.textContent = (stuck || dead)
      ? 'Slack messages not delivered to Zendesk: ' + stuck + ' stuck, ' + dead +
        ' given up. Retry or discard them in the Slack integration\'s settings (Admin Center > Channels).'
      : '';
    line.hidden = !(stuck || dead);
  }

  // The account's Zendesk REST connection: said plainly when it needs an admin.
  function showConnection(connection) {
    var line = byId('zendesk-connection');
    if (!line || !connection) { return; }
    var text = '';
    if (connection.health === 'needs_reconnect') {
      text = 'The Zendesk connection needs to be reconnected: ' + (connection.reason || '') +
        ' Agent sync, status rules, routing and notices are paused until then. Reconnect at ' +
        ctx.serviceUrl + connection.reconnect_url + ' or ' + ctx.serviceUrl + connection.client_credentials_url + '.';
    } else if (connection.health === 'not_connected') {
      text = connection.reason || '';
    } else if (connection.deprecated) {
      text = connection.deprecated;
    }
    line.textContent = text;
    line.hidden = text === '';
    line.setAttribute('data-health', connection.health || '');
  }

  function startTopBar() {
    Promise.resolve(client.invoke('resize', { width: '320px', height: '300px' })).catch(ignore);
    Array.prototype.forEach.call(document.querySelectorAll('[data-status]'), function (button) {
      button.addEventListener('click', function () { setStatus(button.getAttribute('data-status')); });
    });
    byId('next-ticket').addEventListener('click', nextTicket);
    client.on(STATUS_EVENT, function (body) {
      if (!body || String(body.user_id) !== String(ctx.userId)) {
        return;
      }
      ctx.shown = body.status;
      notice('Your status was changed to ' + body.status + '.');
      refresh();
    });
    client.on('pane.activated', heartbeat);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') { heartbeat(); }
    });
    heartbeat();
    window.setInterval(heartbeat, HEARTBEAT_MS);
  }

  function startNavBar() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-page]'), function (button) {
      button.addEventListener('click', function () {
        openTab('/zendesk/app/open?subdomain=' + encodeURIComponent(ctx.subdomain) +
          '&page=' + encodeURIComponent(button.getAttribute('data-page')));
      });
    });
    if (ctx.role !== 'admin') {
      say('These pages are for Zendesk admins.');
      return;
    }
    api('GET', '/app/v1/me')
      .then(showAdmin)
      .catch(failed);
  }

  byId('authorize').addEventListener('click', authorize);
  Promise.all([client.metadata(), client.get('currentUser'), client.context()])
    .then(function (answers) {
      var metadata = answers[0] || {};
      var user = (answers[1] || {}).currentUser || {};
      var context = answers[2] || {};
      ctx.serviceUrl = String((metadata.settings || {}).service_url || '').replace(/\/+$/, '');
      ctx.installationId = metadata.installationId;
      ctx.userId = ctx.userId || (user.id ? String(user.id) : null);
      ctx.role = user.role || '';
      ctx.subdomain = (context.account || {}).subdomain || '';
      if (!ctx.serviceUrl || !ctx.userId) {
        say('The app is missing its slackdesk address; reinstall it.');
        return;
      }
      if (location === 'nav_bar') {
        startNavBar();
      } else {
        startTopBar();
      }
    })
    .catch(function () { say('Zendesk did not answer; reload the page.'); });
})();
