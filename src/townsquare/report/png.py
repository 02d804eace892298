"""Static PNG copies of a report's figures, for papers, rendered by headless Chromium.

The same plotly.js that draws the HTML report draws each figure once more
in a headless Chromium (the system's ``chromium``, nothing is downloaded) and
``Plotly.toImage`` turns it into a PNG; so the PNGs are the report's figures,
pixel for pixel, at a print-friendly scale. One browser process exports all
figures: the page writes the images into its DOM and ``--dump-dom`` returns it.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from townsquare.errors import UserError
from townsquare.report.document import Document
from townsquare.report.html import plotly_js

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><script>{plotly}</script></head>
<body><pre id="out">pending</pre><div id="stage"></div>
<script type="application/json" id="figures">{figures}</script>
<script>
(async () => {{
  const figures = JSON.parse(document.getElementById("figures").textContent);
  const out = {{}};
  for (const [id, fig] of Object.entries(figures)) {{
    const div = document.createElement("div");
    document.getElementById("stage").appendChild(div);
    const layout = Object.assign({{}}, fig.layout, {{width: {width}, height: fig.layout.height
                                                    || {height}}});
    await Plotly.newPlot(div, fig.data, layout, {{staticPlot: true}});
    out[id] = await Plotly.toImage(div, {{format: "png", width: {width},
                                          height: layout.height, scale: {scale}}});
    Plotly.purge(div);
    div.remove();
  }}
  document.getElementById("out").textContent = JSON.stringify(out);
}})().catch((err) => {{ document.getElementById("out").textContent = "ERROR " + err; }});
</script></body></html>"""


def find_browser() -> str:
    """Path of a Chromium-family browser, or a UserError saying how to install one."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise UserError("--png needs Chromium to render the figures, and none was found on PATH; "
                    "install it (Debian/Ubuntu: apt-get install chromium) or leave out --png")


def export_pngs(doc: Document, out_dir: str | Path, *, width: int = 1000, height: int = 420,
                scale: float = 2.0, browser: str | None = None,
                timeout: float = 300.0) -> list[Path]:
    """Write one ``<figure id>.png`` per figure of ``doc`` into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    if not doc.plots:
        return []
    browser = browser or find_browser()
    page = _PAGE.format(plotly=plotly_js(), figures=doc.figures_json(), width=int(width),
                        height=int(height), scale=float(scale))
    with tempfile.TemporaryDirectory(prefix="townsquare-png-") as tmp:
        path = Path(tmp) / "figures.html"
        path.write_text(page, encoding="utf-8")
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
                   "--virtual-time-budget=600000", "--dump-dom", path.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise UserError(f"{browser} did not finish exporting the figures within "
                            f"{timeout:.0f} s") from None
    match = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.DOTALL)
    text = html.unescape(match.group(1)) if match else ""
    if not text.startswith("{"):
        detail = text or done.stderr.strip().splitlines()[-1:] or "no output"
        raise UserError(f"{browser} could not export the figures: {detail}")
    images = json.loads(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for plot in doc.plots:
        data = images.get(plot.id, "")
        if not data.startswith("data:image/png;base64,"):
            raise UserError(f"{browser} returned no image for figure {plot.id}")
        target = out_dir / f"{_file_name(plot.id)}.png"
        target.write_bytes(base64.b64decode(data.split(",", 1)[1]))
        written.append(target)
    return written


def _file_name(figure_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", figure_id).strip("._") or "figure"

