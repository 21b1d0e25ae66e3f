// A stand-in for Zendesk's ZAF SDK (served in place of
// https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js by agent_app.mjs,
// into slackdesk's location pages, which agent_app.mjs opened with a signed ZAF JWT).
// It answers like Zendesk for one app instance and records every call:
//   - metadata(), get('currentUser'), context() from window.__zafConfig (set by the harness);
//     like Zendesk, metadata().settings never holds secure settings;
//   - on(name, handler) keeps handlers; __zafStub.trigger(name, data) fires them as Zendesk
//     does after POST /api/v2/apps/notify (event "api_notification.<event>");
//   - invoke(name, ...) is recorded and resolves;
//   - request(options) is recorded as the app wrote it (placeholders and all) and handed to
//     window.__zafProxy (exposed by the harness), which plays Zendesk's proxy: for
//     secure requests to a whitelisted host it fills in {{setting.NAME}} from the
//     installation's settings, then sends the request server to server.
(function () {
  'use strict';
  var config = window.__zafConfig || {};
  var calls = [];
  var handlers = {};

  function record(kind, detail) {
    calls.push({ kind: kind, detail: JSON.parse(JSON.stringify(detail === undefined ? null : detail)) });
  }

  var client = {
    metadata: function () {
      record('metadata');
      return Promise.resolve({
        appId: config.appId,
        installationId: config.installationId,
        settings: { service_url: config.serviceUrl }
      });
    },
    context: function () {
      record('context');
      return Promise.resolve({
        product: 'support',
        location: config.location,
        account: { subdomain: config.subdomain }
      });
    },
    get: function (path) {
      record('get', path);
      if (path === 'currentUser') {
        return Promise.resolve({ currentUser: config.currentUser });
      }
      return Promise.reject(new Error('stand-in: unknown path ' + path));
    },
    on: function (name, handler) {
      record('on', name);
      (handlers[name] = handlers[name] || []).push(handler);
    },
    invoke: function (name) {
      record('invoke', { name: name, args: Array.prototype.slice.call(arguments, 1) });
      return Promise.resolve({});
    },
    request: function (options) {
      record('request', options);
      return window.__zafProxy(JSON.stringify(options)).then(function (answer) {
        var json = null;
        try { json = JSON.parse(answer.body); } catch (ignored) { json = null; }
        if (answer.status >= 200 && answer.status < 300) {
          return json;
        }
        return Promise.reject({ status: answer.status, responseText: answer.body, responseJSON: json });
      });
    }
  };

  window.__zafStub = {
    calls: calls,
    trigger: function (name, data) {
      (handlers[name] || []).forEach(function (handler) { handler(data); });
      return (handlers[name] || []).length;
    }
  };
  window.ZAFClient = { init: function () { record('init'); return client; } };
})();
