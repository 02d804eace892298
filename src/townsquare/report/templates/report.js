// Draw every figure of the page from the JSON block, then mark the page as rendered.
(function () {
  "use strict";
  const CONFIG = {responsive: true, displaylogo: false,
                  modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  const source = document.getElementById("figures");
  let figures = source ? JSON.parse(source.textContent) : {};

  function area(id) {
    return document.querySelector('[data-figure="' + CSS.escape(id) + '"]');
  }

  // One figure per animation frame, top to bottom: the first plots show at once and the
  // page stays responsive while the rest are drawn.
  const nextFrame = () => new Promise((resolve) => window.requestAnimationFrame(resolve));

  async function drawAll(figs) {
    for (const [id, fig] of Object.entries(figs)) {
      const el = area(id);
      if (el) await Plotly.react(el, fig.data, fig.layout, CONFIG);
      await nextFrame();
    }
  }

  const ready = drawAll(figures).then(() => { document.body.dataset.rendered = "true"; })
    .catch((err) => { console.error("townsquare: drawing failed", err); });
  window.townsquare = {figures: () => figures, drawAll: drawAll, ready: ready};
})();
