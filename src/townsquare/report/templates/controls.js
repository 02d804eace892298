// Dashboard controls of a run page: pause / resume / stop (POST, JSON), the agent lookup,
// and on an agent page the interview box. Buttons are enabled from the run's state
// (polled every two seconds), so only what can be done now can be clicked.
(function () {
  "use strict";
  const root = document.getElementById("controls");
  if (!root) return;
  const controlUrl = root.dataset.controlUrl;
  const interviewUrl = root.dataset.interviewUrl;
  const stateOut = document.getElementById("control-state");

  async function post(url, body) {
    const response = await fetch(url, {method: "POST", cache: "no-store",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});
    let data = {};
    try { data = await response.json(); } catch (err) { /* not JSON */ }
    if (!response.ok) throw new Error(data.error || ("HTTP " + response.status));
    return data;
  }

  const badge = document.getElementById("run-status");
  let seen = badge ? badge.textContent : null;  // the run's status as this page shows it

  function enable(s) {
    if (s.status === "running" && seen !== null && seen !== "running") {
      window.location.reload();  // resumed: reload to follow it live
      return;
    }
    seen = s.status;
    if (badge && s.status && badge.textContent !== s.status) {  // one status on the page
      badge.textContent = s.status;
      badge.className = "badge status-" + s.status;
    }
    const managed = s.managed, state = s.state, status = s.status;
    const live = managed && (state === "running" || state === "paused");
    document.getElementById("btn-pause").disabled = !(managed && state === "running");
    document.getElementById("btn-stop").disabled = !live;
    document.getElementById("btn-resume").disabled = !((managed && state === "paused") ||
      (!live && (status === "interrupted" || status === "failed")));
    const what = live ? state : status;
    stateOut.textContent = (what || "") + (s.error ? ": " + s.error : "");
    stateOut.dataset.state = what || "";
  }

  async function refresh() {
    try {
      const response = await fetch(controlUrl + "/control", {cache: "no-store"});
      if (response.ok) enable(await response.json());
    } catch (err) { /* server restarting */ }
  }

  if (controlUrl) {
    root.querySelectorAll("button[data-verb]").forEach((button) => {
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await post(controlUrl + "/" + button.dataset.verb);
        } catch (err) {
          stateOut.textContent = err.message;
        }
        refresh();
      });
    });
    const form = document.getElementById("agent-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const agent = Number(document.getElementById("agent-id").value);
      window.location.href = form.getAttribute("action") + encodeURIComponent(agent);
    });
    refresh();
    window.setInterval(refresh, 2000);
  }

  if (interviewUrl) {
    const form = document.getElementById("interview-form");
    const out = document.getElementById("interview-answer");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const question = document.getElementById("interview-question").value;
      out.textContent = "asking…";
      out.dataset.done = "";
      try {
        out.textContent = (await post(interviewUrl, {question: question})).answer;
      } catch (err) {
        out.textContent = "error: " + err.message;
      }
      out.dataset.done = "true";
    });
  }
})();
