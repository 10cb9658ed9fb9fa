// Records the score the customer tapped in the e-mail as soon as a real browser shows the
// page (mail scanners fetch links but do not run this), and saves a changed main score at once.
(function () {
  "use strict";
  var form = document.querySelector("form[data-score-url]");
  if (!form || !window.fetch) return;
  var status = document.getElementById("autosave");
  var token = document.querySelector('meta[name="csrf-token"]').content;

  function show(text, kind) {
    status.textContent = text;
    status.className = "notice " + kind;
    status.hidden = false;
  }

  function save(question, score) {
    show(status.dataset.saving, "ok");
    return fetch(form.dataset.scoreUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ question: question, score: String(score) })
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      show(status.dataset.saved, "ok");
    }).catch(function () {
      show(status.dataset.failed, "warn");
    });
  }

  if (form.dataset.record !== undefined) save(form.dataset.primary, form.dataset.record);
  var inputs = form.querySelectorAll('input[name="' + form.dataset.primary + '"]');
  Array.prototype.forEach.call(inputs, function (input) {
    input.addEventListener("change", function () { save(input.name, input.value); });
  });
})();
