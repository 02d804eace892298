// Draw the figures of the page from the JSON block.
// A self-contained report draws them all, top to bottom; a dashboard page (body[data-lazy])
// draws the plots on the first screen at once and each other plot when it scrolls near the
// view (IntersectionObserver), so a large run's page shows in a fraction of the time.
// body[data-first-screen] marks the first screen drawn, body[data-rendered] every figure.
(function () {
  "use strict";
  const CONFIG = {responsive: true, displaylogo: false,
                  modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  const MARGIN = 300;  // px beyond the view at which a plot is drawn ahead of the scroll
  const source = document.getElementById("figures");
  const figures = source ? JSON.parse(source.textContent) : {};
  const lazy = document.body.dataset.lazy === "true" && "IntersectionObserver" in window;
  const drawn = new Set();

  function area(id) {
    return document.querySelector('[data-figure="' + CSS.escape(id) + '"]');
  }

  // One figure per animation frame, in a single queue: the page stays responsive while
  // plots are drawn, and a plot is never drawn twice at the same time.
  const nextFrame = () => new Promise((resolve) => window.requestAnimationFrame(resolve));
  let queue = Promise.resolve();

  function draw(id) {
    queue = queue.then(async () => {
      const el = area(id), fig = figures[id];
      if (el && fig) {
        await Plotly.react(el, fig.data, fig.layout, CONFIG);
        drawn.add(id);
        done();
      }
      await nextFrame();
    }).catch((err) => { console.error("townsquare: drawing failed", err); });
    return queue;
  }

  function done() {
    if (Object.keys(figures).every((id) => drawn.has(id) || !area(id))) {
      document.body.dataset.rendered = "true";
    }
  }

  function near(el) {
    const box = el.getBoundingClientRect();
    return box.bottom > -MARGIN && box.top < window.innerHeight + MARGIN;
  }

  const observer = lazy ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      draw(entry.target.dataset.figure);
    }
  }, {rootMargin: MARGIN + "px 0px"}) : null;

  // Keep a plot's place before it is drawn, so the page does not jump as plots appear.
  function hold(el, fig) {
    const height = fig.layout && fig.layout.height;
    if (height) el.style.minHeight = height + "px";
  }

  // Take these figures as the page's (new or replaced): a plot already drawn, on screen
  // or on a static page is drawn now; any other waits until it scrolls into view.
  async function drawAll(figs) {
    const now = [];
    for (const [id, fig] of Object.entries(figs)) {
      figures[id] = fig;
      const el = area(id);
      if (!el) continue;
      if (!lazy || drawn.has(id) || near(el)) {
        if (observer) observer.unobserve(el);
        now.push(draw(id));
      } else {
        drawn.delete(id);
        hold(el, fig);
        observer.observe(el);
      }
    }
    delete document.body.dataset.rendered;
    done();
    await Promise.all(now);
  }

  const ready = drawAll(figures)
    .then(() => { document.body.dataset.firstScreen = "true"; });
  window.townsquare = {
    figures: () => figures,
    drawAll: drawAll,
    ready: ready,
    drawn: (id) => drawn.has(id),  // else its data waits in figures()[id]
    // the first plot of the page not drawn yet (tests and bench/ scroll to it)
    waiting: () => Array.from(document.querySelectorAll("[data-figure]"))
      .find((el) => figures[el.dataset.figure] && !drawn.has(el.dataset.figure)),
  };
})();
