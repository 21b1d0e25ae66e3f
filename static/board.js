// Status board: refresh the table in place every 15 s, unless agents are being chosen.
(function () {
  var rows = document.getElementById('rows');
  if (!rows) { return; }
  setInterval(function () {
    if (rows.querySelector('input:checked')) { return; }
    fetch('/zendesk/board/rows', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { rows.innerHTML = html; } })
      .catch(function () {});
  }, 15000);
})();
