"""The computation graph as one self-contained HTML page.

The page holds the picture of :mod:`cgdiff.picture` (inline SVG), the per-node table, the
step counts, and a control that steps through the forward pass and then the backward pass
one node at a time (buttons, or the arrow keys, Home and End), highlighting the node and
showing that step's chain-rule product in the words of ``grad --explain``.  Everything is
inline (style, script, the steps as JSON): no network, no other file, so it works opened from
disk.  Its colours follow ``prefers-color-scheme``.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .ad import Gradient
from .explain import explain_steps
from .graph import Graph
from .picture import DARK, LIGHT, Scene, scene, svg
from .report import fmt_number

__all__ = ["render_html", "walk"]

HIGHLIGHT = "#d08a00"  # the current step: amber, which prints as a light grey


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def walk(s: Scene) -> dict[str, Any]:
    """The steps of the control and, for each node and edge, the first step that shows its
    value, adjoint or local derivative.

    >>> from cgdiff import parse
    >>> w = walk(scene(parse("u = b*c"), parse("u = b*c").grad(b=3, c=2, record=True)))
    >>> [st["pass"] for st in w["steps"]], [st["node"] for st in w["steps"]][1:4]
    (['start', 'forward', 'backward', 'backward', 'done'], ['cg-n2', 'cg-n2', 'cg-n2'])
    >>> w["values"]["cg-n2"], w["adjoints"]["cg-n0"], w["locals"]["cg-e0"]
    (1, 3, 3)
    """
    r = s.gradient
    if r is None:
        return {"steps": [], "values": {}, "adjoints": {}, "locals": {}}
    g = s.graph
    inputs = ", ".join(f"{b.name} = {b.value}" for b in s.boxes if b.kind == "input")
    steps: list[dict[str, Any]] = [
        {"pass": "start", "node": None, "text": [f"The inputs: {inputs or 'none'}"]}
    ]
    values = {f"cg-n{b.id}": 0 for b in s.boxes}
    adjoints: dict[str, int] = {}
    into: dict[int, list[int]] = {}
    for k, w in enumerate(s.wires):
        into.setdefault(w.dst, []).append(k)
    locals_: dict[str, int] = {}
    feeds: dict[int, set[int]] = {}  # who passes an adjoint to each node
    for w in s.wires:
        feeds.setdefault(w.src, set()).add(w.dst)
    for kind, i, lines in explain_steps(r):
        k = len(steps)
        steps.append({"pass": kind, "node": f"cg-n{i}", "text": lines})
        if kind == "forward":
            values[f"cg-n{i}"] = k
        elif i == g.output and f"cg-n{i}" not in adjoints:
            adjoints[f"cg-n{i}"] = k  # the seed
        else:
            for e in into.get(i, []):
                locals_[f"cg-e{e}"] = k
                src = s.wires[e].src
                adjoints[f"cg-n{src}"] = k  # the last contribution makes it final
    grads = ", ".join(f"∂{g.output_name}/∂{k} = {fmt_number(v)}" for k, v in r.gradient.items())
    steps.append({"pass": "done", "node": None, "text": [f"Gradient: {grads or '(no inputs)'}"]})
    last = len(steps) - 1
    for b in s.boxes:  # a node no adjoint reaches (an unused input) shows 0 at the end
        adjoints.setdefault(f"cg-n{b.id}", last)
    for k in range(len(s.wires)):
        locals_.setdefault(f"cg-e{k}", last)
    return {"steps": steps, "values": values, "adjoints": adjoints, "locals": locals_}


def _table(s: Scene) -> str:
    out = s.graph.output_name
    head = ["node", "op", "inputs", "value", "local derivatives", f"adjoint ∂{out}/∂node"]
    rows = ["<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    local: dict[int, list[str]] = {}
    for w in s.wires:
        if w.title:
            local.setdefault(w.dst, []).append(w.title)
    for b in s.boxes:
        n = s.graph.nodes[b.id]
        ins = ", ".join(s.graph.nodes[a].label for a in n.args)
        adj = b.adjoint.rsplit(" = ", 1)[1] if b.adjoint else ""
        cls = ' class="gen"' if b.generated else ""
        rows.append(
            f'<tr data-node="cg-n{b.id}"><td{cls}>{_e(b.name)}</td>'
            f"<td>{_e(n.opname if n.kind == 'op' else 'input')}</td><td>{_e(ins)}</td>"
            f'<td class="num">{_e(b.value or "")}</td>'
            f"<td>{_e(', '.join(local.get(b.id, [])))}</td>"
            f'<td class="num adj">{_e(adj)}</td></tr>'
        )
    return "<table>" + "".join(rows) + "</tbody></table>"


_CSS = """
:root{color-scheme:light dark;--paper:%(paper)s;--ink:%(ink)s;--muted:%(muted)s;
--line:%(edge)s;--box:%(box)s;--adj:%(adjoint)s;--hl:%(hl)s}
@media (prefers-color-scheme: dark){:root{--paper:%(d_paper)s;--ink:%(d_ink)s;
--muted:%(d_muted)s;--line:%(d_edge)s;--box:%(d_box)s;--adj:%(d_adjoint)s}}
body{background:var(--paper);color:var(--ink);font-family:sans-serif;margin:1.5rem;
line-height:1.4}
h1{font-size:1.25rem;margin:0 0 .2rem}
.point{color:var(--muted);margin:0 0 1rem}
.figure{overflow:auto;border:1px solid var(--line);border-radius:6px;margin:.8rem 0}
.figure svg{display:block}
.control{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.6rem 0}
.control button{font:inherit;padding:.25rem .7rem;border:1px solid var(--line);
border-radius:4px;background:var(--box);color:var(--ink);cursor:pointer}
.control button:disabled{opacity:.45;cursor:default}
#cg-where{color:var(--muted);margin-left:.5rem}
#cg-explain{font-family:monospace;white-space:pre-wrap;background:var(--box);
border-left:4px solid var(--hl);padding:.5rem .8rem;margin:.3rem 0 1rem;min-height:2.6em}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{padding:.2rem .7rem;border-bottom:1px solid var(--line);text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.adj{color:var(--adj)}
td.gen{color:var(--muted);font-style:italic}
tr.cg-current td{background:color-mix(in srgb,var(--hl) 22%%,transparent)}
pre.steps{background:var(--box);padding:.5rem .8rem}
@media screen{.cg-node.cg-current .cg-box{stroke:var(--hl);stroke-width:3.5}
.cg-edge.cg-active .cg-wire{stroke:var(--hl);stroke-width:2.4}
.cg-pending-value .cg-value,.cg-pending-adjoint .cg-adjoint,.cg-local.cg-pending{opacity:.12}}
.keys{color:var(--muted);font-size:.9em}
@media print{.control,.keys,#cg-explain{display:none}}
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cg-data").textContent);
  var steps = data.steps;
  if (!steps.length) { return; }
  var at = steps.length - 1;
  var explain = document.getElementById("cg-explain");
  var where = document.getElementById("cg-where");
  var buttons = {};
  ["first", "prev", "next", "last"].forEach(function (name) {
    buttons[name] = document.getElementById("cg-" + name);
  });
  var names = {start: "the inputs", forward: "forward pass", backward: "backward pass",
               done: "done"};
  function mark(id, cls, on) {
    var el = document.getElementById(id);
    if (el) { el.classList.toggle(cls, on); }
  }
  function show(k) {
    at = Math.max(0, Math.min(steps.length - 1, k));
    var step = steps[at];
    Object.keys(data.values).forEach(function (id) {
      mark(id, "cg-pending-value", data.values[id] > at);
      mark(id, "cg-current", id === step.node);
    });
    Object.keys(data.adjoints).forEach(function (id) {
      mark(id, "cg-pending-adjoint", data.adjoints[id] > at);
    });
    Object.keys(data.locals).forEach(function (id) {
      mark(id.replace("cg-e", "cg-l"), "cg-pending", data.locals[id] > at);
    });
    document.querySelectorAll(".cg-edge").forEach(function (el) {
      el.classList.toggle("cg-active", step.node !== null && el.dataset.to === step.node);
    });
    document.querySelectorAll("tr[data-node]").forEach(function (tr) {
      tr.classList.toggle("cg-current", tr.dataset.node === step.node);
    });
    explain.textContent = step.text.join("\n");
    where.textContent = "step " + (at + 1) + " of " + steps.length + ": " + names[step.pass];
    buttons.first.disabled = buttons.prev.disabled = at === 0;
    buttons.last.disabled = buttons.next.disabled = at === steps.length - 1;
    document.body.dataset.step = String(at);
  }
  buttons.first.addEventListener("click", function () { show(0); });
  buttons.prev.addEventListener("click", function () { show(at - 1); });
  buttons.next.addEventListener("click", function () { show(at + 1); });
  buttons.last.addEventListener("click", function () { show(steps.length - 1); });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
    var onButton = ev.target && ev.target.tagName === "BUTTON";
    var keys = {ArrowRight: 1, n: 1, ArrowLeft: -1, p: -1};
    if (ev.key === " " && !onButton) { show(at + (ev.shiftKey ? -1 : 1)); }
    else if (keys[ev.key]) { show(at + keys[ev.key]); }
    else if (ev.key === "Home") { show(0); }
    else if (ev.key === "End") { show(steps.length - 1); }
    else { return; }
    ev.preventDefault();
  });
  show(at);
})();
"""


def render_html(graph: Graph, r: Gradient | None = None) -> str:
    """``cgdiff graph --format html``: one page that needs nothing but a browser.

    >>> from cgdiff import parse
    >>> g = parse("x*y + z")
    >>> page = render_html(g, g.grad(x=1, y=2, z=3, record=True))
    >>> page.startswith("<!DOCTYPE html>"), "http" in page.replace("http://www.w3.org", "")
    (True, False)
    """
    s = scene(graph, r)
    palette = {**LIGHT, "hl": HIGHLIGHT, **{f"d_{k}": v for k, v in DARK.items()}}
    data = json.dumps(walk(s), ensure_ascii=False).replace("</", "<\\/")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>cgdiff: {_e(s.title)}</title>",
        f"<style>{_CSS % palette}</style></head><body>",
        f"<h1>{_e(s.title)}</h1>",
        f'<p class="point">{_e(s.point)}</p>' if s.point else "",
    ]
    if r is not None:
        parts += [
            '<div class="control" role="group" aria-label="step through the passes">',
            '<button type="button" id="cg-first" title="the start (Home)">« Start</button>',
            '<button type="button" id="cg-prev" title="the step before (←)">◀ Back</button>',
            '<button type="button" id="cg-next" title="the next step (→)">Next ▶</button>',
            '<button type="button" id="cg-last" title="the end (End)">End »</button>',
            '<span id="cg-where" aria-live="polite"></span></div>',
            '<div id="cg-explain" aria-live="polite"></div>',
            '<p class="keys">Keys: → or Space the next step, ← the step before, Home the start, '
            "End the end.  Each step is one node: the forward pass computes its value, the "
            "backward pass its inputs' adjoints by the chain rule.</p>",
        ]
    parts.append(f'<div class="figure">{svg(s, standalone=False, inline=True)}</div>')
    parts.append("<h2>Nodes</h2>" + _table(s))
    if s.steps:
        parts.append('<h2>Steps</h2><pre class="steps">' + _e("\n".join(s.steps)) + "</pre>")
    else:
        parts.append(f"<p>{_e(s.legend)}</p>")
    parts.append(f'<script type="application/json" id="cg-data">{data}</script>')
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(p for p in parts if p) + "\n"
