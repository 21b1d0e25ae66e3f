// After a sign-in from the Zendesk app: go on to the page asked for. This navigation
// starts on slackdesk's own page, so the browser sends the SameSite=Strict session cookie.
(function () {
  'use strict';
  var link = document.getElementById('continue');
  if (link && link.getAttribute('data-auto') === 'true') {
    window.location.replace(link.href);
  }
})();
