// Queue keyboard: j / k move between cases, Enter or o opens the current one.
// Plain links keep working without this script; it only adds the shortcuts.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr"))
    .filter(function (row) { return row.querySelector("a.case-link"); });
  if (!rows.length) return;
  var current = -1;
  function select(index) {
    if (current >= 0) rows[current].classList.remove("is-current");
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].classList.add("is-current");
    rows[current].querySelector("a.case-link").focus();
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    if (event.key === "j") { select(current + 1); event.preventDefault(); }
    else if (event.key === "k") { select(current - 1); event.preventDefault(); }
    else if (event.key === "o" && current >= 0) { rows[current].querySelector("a.case-link").click(); }
  });
})();

// Case page: the outcome, root cause and follow-up belong to closing a case; show them then.
(function () {
  "use strict";
  var status = document.getElementById("status-status");
  var closeOnly = document.querySelector(".close-only");
  var label = document.querySelector('label[for="status-note"]');
  var hint = document.getElementById("status-note-hint");
  if (!status || !closeOnly) return;
  function update() {
    var closing = status.value === "resolved" || status.value === "no_action";
    closeOnly.hidden = !closing;
    if (hint) hint.hidden = !closing;
    if (label) label.textContent = status.value === "resolved" ? "Outcome" :
      status.value === "no_action" ? "Reason" : "Note (optional)";
  }
  status.addEventListener("change", update);
  update();
})();
