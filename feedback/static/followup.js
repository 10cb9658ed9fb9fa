// Records the answer the customer tapped in the e-mail as soon as a real browser shows the
// page (mail scanners fetch links but do not run this). Changing the answer is the page's
// ordinary form, which works without this script.
(function () {
  "use strict";
  var form = document.querySelector("form[data-record]");
  if (!form || !window.fetch) return;
  var status = document.getElementById("followup-status");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var choice = form.dataset.record;

  function show(text, kind) {
    status.textContent = text;
    status.className = "notice " + kind;
    status.hidden = false;
  }

  show(status.dataset.saving, "ok");
  fetch(form.action, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
    body: JSON.stringify({ solved: choice })
  }).then(function (response) {
    if (!response.ok) throw new Error(response.status);
    show(choice === "yes" ? status.dataset.savedYes : status.dataset.savedNo, "ok");
  }).catch(function () {
    show(status.dataset.failed, "warn");
  });
})();
