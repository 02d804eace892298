// Live dashboard page: poll the run's new metrics once a second (4 times when it runs fast) and
// append them to the plots with Plotly.extendTraces (the user's zoom stays), update the step
// counter, the rate (steps/s) and the ETA. The page itself is never rebuilt per step.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const seriesUrl = root.dataset.seriesUrl;
  let layout = root.dataset.layout;
  const lastIndex = root.dataset.steps === "" ? null : Number(root.dataset.steps) - 1;
  const counter = document.getElementById("step-counter");
  const badge = document.getElementById("run-status");
  const rateOut = document.getElementById("steps-per-s");
  const etaOut = document.getElementById("eta");
  const note = document.getElementById("live-note");
  let shown = root.dataset.lastStep === "" ? -1 : Number(root.dataset.lastStep);
  if (root.dataset.pending !== "true") document.body.dataset.whole = "true";
  let status = root.dataset.status;
  const samples = [];  // [seconds, step] over the last ~20 s, for the rate

  function area(id) {
    return document.querySelector('[data-figure="' + CSS.escape(id) + '"]');
  }

  // plotly.py sends numeric arrays as {dtype, bdata} (base64); extendTraces needs plain arrays.
  const TYPES = {i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array,
                 i4: Int32Array, u4: Uint32Array, f4: Float32Array, f8: Float64Array};

  function plain(v) {
    if (v === undefined || v === null || Array.isArray(v)) return v;
    if (ArrayBuffer.isView(v)) return Array.from(v);
    if (typeof v.bdata === "string" && TYPES[v.dtype]) {
      const bytes = Uint8Array.from(atob(v.bdata), (c) => c.charCodeAt(0));
      return Array.from(new TYPES[v.dtype](bytes.buffer));
    }
    return v;
  }

  function lastX(trace) {
    const x = trace.x;
    return x && x.length ? Number(x[x.length - 1]) : -Infinity;
  }

  // Append the points after each trace's last step (a point already drawn is never repeated).
  // A plot not drawn yet (below the fold) keeps them in its figure, drawn with it later.
  function append(series) {
    for (const [id, traces] of Object.entries(series)) {
      const el = area(id);
      const drawn = el && el.data && window.townsquare.drawn(id);
      const fig = drawn ? el : window.townsquare.figures()[id];
      if (!el || !fig || !fig.data) continue;
      const indices = [], xs = [], ys = [];
      for (const [key, points] of Object.entries(traces)) {
        const i = Number(key);
        if (i >= fig.data.length) continue;
        const trace = fig.data[i];
        trace.x = plain(trace.x);
        trace.y = plain(trace.y);
        const after = lastX(trace);
        const keep = [];
        points.x.forEach((x, j) => { if (x > after) keep.push(j); });
        if (!keep.length) continue;
        indices.push(i);
        xs.push(keep.map((j) => points.x[j]));
        ys.push(keep.map((j) => points.y[j]));
      }
      if (!indices.length) continue;
      if (drawn) {
        Plotly.extendTraces(el, {x: xs, y: ys}, indices);
      } else {
        indices.forEach((i, k) => {
          fig.data[i].x = fig.data[i].x.concat(xs[k]);
          fig.data[i].y = fig.data[i].y.concat(ys[k]);
        });
      }
      looseTicks(fig, drawn);
    }
  }

  // A short run's plots tick every step; once the steps outgrow that, let plotly choose
  // (only the tick spacing changes: a zoomed range stays).
  function looseTicks(fig, drawn) {
    const update = {};
    for (const [key, axis] of Object.entries(fig.layout || {})) {
      if (!key.startsWith("xaxis") || !axis || axis.dtick !== 1) continue;
      const ids = key === "xaxis" ? ["x", undefined] : ["x" + key.slice(5)];
      const ends = fig.data.filter((t) => ids.includes(t.xaxis)).map(lastX);
      if (Math.max(...ends) > 12) update[key] = axis;
    }
    const keys = Object.keys(update);
    if (drawn && keys.length) {
      Plotly.relayout(fig, Object.fromEntries(keys.map((key) => [key + ".dtick", null])));
    } else {
      for (const axis of Object.values(update)) delete axis.dtick;
    }
  }

  // Redraw from the server's current page, without reloading: (1) a page served quick
  // (metric plots only) gets the sections that were still being drawn in place of their
  // notes; (2) a plot that gained a line (an action kind seen for the first time) is drawn
  // afresh, keeping the user's zoom. Other plots are left alone, zoom and points intact.
  let refreshing = false;

  function zoomed(el) {  // the axis ranges the user has set on a plot
    const kept = {};
    for (const [key, axis] of Object.entries(el.layout || {})) {
      if (/^[xy]axis\d*$/.test(key) && axis && axis.autorange === false && axis.range) {
        kept[key] = axis.range.slice();
      }
    }
    return kept;
  }

  function metas(data) {
    return JSON.stringify((data || []).map((t) => (t.meta && t.meta.metric) || null));
  }

  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const response = await fetch(window.location.href, {cache: "no-store"});
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const freshLive = fresh.getElementById("live");
      if (!freshLive) return;
      const figures = JSON.parse(fresh.getElementById("figures").textContent);
      const todo = {};
      if (freshLive.dataset.pending !== "true") {
        for (const note of document.querySelectorAll("main p.note[data-pending]")) {
          const section = note.closest("section.section");
          const source = section && fresh.getElementById(section.id);
          if (!source) continue;
          for (const child of Array.from(source.children)) {
            if (child.tagName === "H2") continue;
            const ids = Array.from(child.querySelectorAll("[data-figure]"),
                                   (el) => el.dataset.figure);
            if (ids.some((id) => area(id))) continue;  // already drawn here
            note.before(document.importNode(child, true));
            for (const id of ids) if (figures[id]) todo[id] = figures[id];
          }
          note.remove();
        }
        root.dataset.pending = "";
      }
      for (const [id, fig] of Object.entries(figures)) {
        const el = area(id);
        if (!el || todo[id]) continue;
        if (!window.townsquare.drawn(id)) {  // not drawn yet: take the fresh figure if it
          const held = window.townsquare.figures()[id];  // gained a line
          if (!held || metas(held.data) !== metas(fig.data)) todo[id] = fig;
          continue;
        }
        if (!el.data || metas(el.data) === metas(fig.data)) continue;
        for (const [key, range] of Object.entries(zoomed(el))) {
          fig.layout[key] = Object.assign(fig.layout[key] || {}, {range: range,
                                                                  autorange: false});
        }
        todo[id] = fig;
      }
      await window.townsquare.drawAll(todo);
      const block = document.getElementById("figures");  // the page's list of its figures
      block.textContent = JSON.stringify(Object.assign(JSON.parse(block.textContent), todo));
      layout = freshLive.dataset.layout;
      // the redrawn plots hold the points up to the fresh page's step: stream from there
      const built = freshLive.dataset.lastStep === "" ? -1 : Number(freshLive.dataset.lastStep);
      shown = Math.min(shown, built);
      if (root.dataset.pending !== "true") document.body.dataset.whole = "true";
    } catch (err) {
      console.warn("townsquare: could not redraw from the server's page", err);
    } finally {
      refreshing = false;
    }
  }

  function duration(seconds) {
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? h + ":" + pad(m) + ":" + pad(r) : m + ":" + pad(r);
  }

  function pace(step) {
    const now = performance.now() / 1000;
    samples.push([now, step]);
    while (samples.length > 2 && now - samples[0][0] > 20) samples.shift();
    const [t0, s0] = samples[0];
    if (samples.length < 2 || now - t0 <= 0 || step <= s0) return;
    const rate = (step - s0) / (now - t0);
    rateOut.textContent = rate >= 10 ? rate.toFixed(0) : rate.toFixed(2);
    if (lastIndex !== null) etaOut.textContent = duration(Math.max(0, lastIndex - step) / rate);
  }

  function show(s) {
    if (s.last_step !== null && s.last_step !== undefined) counter.textContent = s.last_step;
    if (badge && s.status !== status) {
      badge.textContent = s.status;
      badge.className = "badge status-" + s.status;
    }
    status = s.status;
    if (status !== "running") {
      document.querySelectorAll(".live-dot").forEach((d) => d.remove());
      etaOut.textContent = "–";
      note.textContent = "run " + status + ": reload for the final report";
    }
  }

  async function poll() {
    const before = shown;
    let gained = 0;
    try {
      const response = await fetch(seriesUrl + "?since=" + shown, {cache: "no-store"});
      if (response.ok) {
        const s = await response.json();
        const matched = s.layout === layout;  // else the traces differ: refresh them first
        if (matched) append(s.series);
        if (s.last_step !== null && s.last_step !== undefined) {
          if (matched) shown = Math.max(shown, s.last_step);
          pace(s.last_step);
        }
        gained = shown - before;
        if (!matched || (root.dataset.pending === "true" && s.whole)) await refresh();
        show(s);
      }
    } catch (err) {
      // The server may restart; keep polling quietly.
    }
    // a run committing several steps per second is asked four times as often, so the
    // plots stay within about one step of the store; a slow run once a second
    if (status === "running") window.setTimeout(poll, gained > 1 ? 250 : 1000);
  }

  if (status === "running") {
    window.townsquare.ready.then(() => window.setTimeout(poll, 1000));
  }
})();
