// Live dashboard page: poll the run's status every second, advance the step counter,
// and redraw the figures whenever a new step has been committed.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const statusUrl = root.dataset.statusUrl;
  const figuresUrl = root.dataset.figuresUrl;
  const counter = document.getElementById("step-counter");
  const badge = document.getElementById("run-status");
  let shown = root.dataset.lastStep === "" ? null : Number(root.dataset.lastStep);
  let status = root.dataset.status;
  let busy = false;

  function sameIds(a, b) {
    const x = Object.keys(a).sort(), y = Object.keys(b).sort();
    return x.length === y.length && x.every((k, i) => k === y[i]);
  }

  async function refresh() {
    busy = true;
    try {
      const response = await fetch(figuresUrl, {cache: "no-store"});
      if (!response.ok) return;
      const payload = await response.json();
      if (!sameIds(payload.figures, window.townsquare.figures())) {
        window.location.reload();
        return;
      }
      await window.townsquare.drawAll(payload.figures);
      shown = payload.last_step;
    } catch (err) {
      // Try again on the next poll.
    } finally {
      busy = false;
    }
  }

  async function poll() {
    try {
      const response = await fetch(statusUrl, {cache: "no-store"});
      if (response.ok) {
        const s = await response.json();
        if (s.last_step !== null && s.last_step !== undefined) counter.textContent = s.last_step;
        if (badge && s.status !== status) {
          badge.textContent = s.status;
          badge.className = "badge status-" + s.status;
        }
        const changed = s.last_step !== shown || s.status !== status;
        status = s.status;
        if (changed && !busy) refresh();  // in the background: the counter keeps moving
      }
    } catch (err) {
      // The server may restart; keep polling quietly.
    }
    if (status === "running") window.setTimeout(poll, 1000);
    else document.querySelectorAll(".live-dot").forEach((d) => d.remove());
  }

  window.setTimeout(poll, 1000);
})();
