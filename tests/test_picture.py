"""The graph as a picture: ``cgdiff graph --format svg|html`` and ``-o FILE``.

The geometry is checked on the SVG text itself (parsed with xml.etree): boxes do not overlap,
labels fit their boxes (by a font table of this file's own, DejaVu Sans's advance widths),
edges start and end on their boxes and pass through none.  Tests marked ``browser`` open the
page in headless Chromium (installed by the set-up when missing, if it can be).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

import cgdiff
from cgdiff.page import render_html, walk
from cgdiff.picture import DARK, LIGHT, MAX_NODES, render_svg, scene
from cgdiff.values import read_source
from conftest import EXAMPLES, ROOT

NS = {"s": "http://www.w3.org/2000/svg"}
Rect = tuple[float, float, float, float]


def _graph(text: str) -> cgdiff.Graph:
    if text.startswith("@"):  # a spec file, its data files relative to it
        return cgdiff.parse(read_source(text), base=(ROOT / text[1:]).parent)
    return cgdiff.parse(text)


def _svg(text: str, **at: float) -> str:
    g = _graph(text)
    free = [n for n in g.input_names if n not in g.defaults() and n not in at]
    return render_svg(g, None if free else g.grad(at, record=True))


# -- reading the SVG back ---------------------------------------------------------------------


def _cls(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def _nodes(root: ET.Element) -> dict[str, tuple[Rect, list[ET.Element], ET.Element]]:
    """node id -> (its rect, its texts, its group)."""
    out = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if "cg-node" in _cls(g):
            r = g.find("s:rect", NS)
            assert r is not None
            rect = tuple(float(r.get(k, "nan")) for k in ("x", "y", "width", "height"))
            out[g.get("id", "")] = (rect, g.findall("s:text", NS), g)
    return out


def _path_points(d: str) -> list[list[tuple[float, float]]]:
    """The segments of a path of M, L and C commands, each as its control points."""
    tokens = re.findall(r"[MLC]|-?[\d.]+", d)
    segs, pos, k = [], (0.0, 0.0), 0
    while k < len(tokens):
        cmd = tokens[k]
        n = {"M": 2, "L": 2, "C": 6}[cmd]
        nums = [float(t) for t in tokens[k + 1 : k + 1 + n]]
        pts = [(nums[i], nums[i + 1]) for i in range(0, n, 2)]
        if cmd != "M":
            segs.append([pos, *pts])
        pos = pts[-1]
        k += 1 + n
    return segs


def _sample(seg: list[tuple[float, float]], n: int = 24) -> list[tuple[float, float]]:
    if len(seg) == 2:
        (x0, y0), (x1, y1) = seg
        return [(x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n) for t in range(n + 1)]
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = seg
    out = []
    for i in range(n + 1):
        t = i / n
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3
        out.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return out


def _inside(p: tuple[float, float], r: Rect, margin: float = 0.5) -> bool:
    x, y, w, h = r
    return x + margin < p[0] < x + w - margin and y + margin < p[1] < y + h - margin


# DejaVu Sans advance widths (em), the widest usual sans-serif: an oracle independent of the
# module's own estimate.  Bold is about 1.12 times wider.
_WIDTHS = """
    0.613 0.635 0.550 0.635 0.615 0.352 0.635 0.634 0.278 0.278 0.579 0.278 0.974
    0.634 0.612 0.635 0.635 0.411 0.521 0.392 0.634 0.592 0.818 0.592 0.592 0.525
"""
_DEJAVU = dict(zip("abcdefghijklmnopqrstuvwxyz", map(float, _WIDTHS.split())))
_DEJAVU |= {c: 0.636 for c in "0123456789"}
_DEJAVU |= {" ": 0.318, ".": 0.318, ",": 0.318, "-": 0.361, "=": 0.838, "+": 0.838}
_DEJAVU |= {"*": 0.5, "(": 0.39, ")": 0.39, "^": 0.838, "/": 0.337, "_": 0.5, "∂": 0.6}


def _oracle_width(text: str, size: float, bold: bool) -> float:
    em = sum(_DEJAVU.get(c, 0.8 if not c.isupper() else 0.77) for c in text)
    return em * size * (1.12 if bold else 1.0)


def check_geometry(svg_text: str) -> ET.Element:
    """Every geometric promise of the picture; returns the parsed SVG."""
    root = ET.fromstring(svg_text)
    nodes = _nodes(root)
    rects = {k: v[0] for k, v in nodes.items()}
    # no two boxes overlap; neither does a box with the adjoint written under another
    items = list(nodes.items())
    for i, (a, (ra, ta, _)) in enumerate(items):
        ax, ay, aw, ah = ra
        under_a = 16 if any("cg-adjoint" in _cls(t) for t in ta) else 0
        for b, (rb, _, _) in items[i + 1 :]:
            bx, by, bw, bh = rb
            apart_x = ax + aw <= bx or bx + bw <= ax
            apart_y = ay + ah + under_a <= by or by + bh <= ay
            assert apart_x or apart_y, f"{a} and {b} overlap"
    # every label fits its box
    for nid, (r, texts, _) in nodes.items():
        x, y, w, h = r
        for t in texts:
            if "cg-adjoint" in _cls(t):
                assert float(t.get("y", 0)) > y + h, nid
                continue
            size, bold = float(t.get("font-size", 0)), t.get("font-weight") == "bold"
            width = _oracle_width(t.text or "", size, bold)
            cx, base = float(t.get("x", 0)), float(t.get("y", 0))
            assert x + 2 <= cx - width / 2 and cx + width / 2 <= x + w - 2, (nid, t.text, w)
            assert y < base - 0.7 * size and base + 0.25 * size < y + h, (nid, t.text)
    # every edge starts on its source's box and ends on its target's, and passes through none
    edges = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "cg-edge" in _cls(g)]
    for e in edges:
        path = e.find("s:path", NS)
        assert path is not None
        segs = _path_points(path.get("d", ""))
        (x0, y0), (x1, y1) = segs[0][0], segs[-1][-1]
        sx, sy, sw, sh = rects[e.get("data-from", "")]
        tx, ty, _, th = rects[e.get("data-to", "")]
        assert abs(x0 - (sx + sw)) < 0.11 and sy <= y0 <= sy + sh, e.get("id")
        assert abs(x1 - tx) < 0.11 and ty <= y1 <= ty + th, e.get("id")
        for seg in segs:
            for p in _sample(seg):
                hit = [k for k, r in rects.items() if _inside(p, r)]
                assert not hit, f"{e.get('id')} passes through {hit}"
    return root


EXAMPLES_AT = [
    ("@examples/seed_lecture.cg", {}),
    ("@examples/two_layer_relu.cg", {}),
    ("@examples/sigmoid_neuron.cg", {}),
    ("x*y+z", {"x": 1.0, "y": 2.0, "z": 3.0}),
    ("x*y+z", {}),  # the structure alone
    ("b = a + a; c = b*b", {"a": 1.0}),
    ("θ = 2; r = sin(θ)^2 + cos(θ)^2", {}),
    ("x", {"x": 2.0}),
]


@pytest.mark.parametrize(("text", "at"), EXAMPLES_AT)
def test_svg_parses_and_keeps_its_promises(text: str, at: dict[str, float]) -> None:
    svg = _svg(text, **at)
    root = check_geometry(svg)
    g = _graph(text)
    shown = [n for n in g.nodes if n.kind != "const"]
    nodes = _nodes(root)
    assert len(nodes) == len(shown)
    for n in shown:  # a group per node, its first line its name
        _, texts, group = nodes[f"cg-n{n.id}"]
        assert texts[0].text == n.label
        assert group.get("data-name") == n.label


def test_only_generic_font_families() -> None:
    svg = _svg("@examples/two_layer_relu.cg")
    page = render_html(*_with_grad("@examples/two_layer_relu.cg"))
    families = re.findall(r'font-family[=:]"?([^";}]+)', svg + page)
    assert families and set(families) <= {"sans-serif", "monospace"}


def test_lecture_graph_numbers_against_the_lecture() -> None:
    root = ET.fromstring(_svg("@examples/seed_lecture.cg"))
    g = _graph("@examples/seed_lecture.cg")
    nodes = _nodes(root)

    def texts(name: str, cls: str) -> list[str]:
        _, ts, _ = nodes[f"cg-n{g.node(name).id}"]
        return [t.text or "" for t in ts if cls in _cls(t)]

    # the lecture's own numbers (examples/seed_lecture.cg's comment)
    for name, value, adjoint in [
        ("a", 5, 3),
        ("b", 3, 6),
        ("c", 2, 9),
        ("u", 6, 3),
        ("v", 11, 3),
        ("J", 33, 1),
    ]:
        assert texts(name, "cg-value") == [f"= {value}"]
        assert texts(name, "cg-adjoint") == [f"∂J/∂{name} = {adjoint}"]
    edges = {}
    for e in root.iter("{http://www.w3.org/2000/svg}g"):
        if "cg-edge" in _cls(e):
            title = e.find("s:title", NS)
            assert title is not None
            edges[title.text] = e.get("id", "")
    assert set(edges) == {"∂u/∂b = 2", "∂u/∂c = 3", "∂v/∂a = 1", "∂v/∂u = 1", "∂J/∂v = 3"}
    labels = {t.get("id"): t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for title, eid in edges.items():
        assert labels[eid.replace("cg-e", "cg-l")] == title.rsplit(" = ", 1)[1]
    # inputs left of every operation, the output right of everything
    x = {name: nodes[f"cg-n{g.node(name).id}"][0][0] for name in "abcuvJ"}
    assert max(x["a"], x["b"], x["c"]) < min(x["u"], x["v"]) and x["J"] == max(x.values())


def test_structure_alone_without_a_point() -> None:
    root = ET.fromstring(_svg("x*y+z"))
    classes = [c for t in root.iter("{http://www.w3.org/2000/svg}text") for c in _cls(t)]
    assert "cg-name" in classes and "cg-formula" in classes
    assert not {"cg-value", "cg-adjoint", "cg-local"} & set(classes)


def test_generated_names_are_secondary_and_shared_nodes_drawn_once() -> None:
    root = ET.fromstring(_svg("a = x*y; f = x*a + sin(x)", x=1.0, y=2.0))
    g = _graph("a = x*y; f = x*a + sin(x)")
    nodes = _nodes(root)
    for n in g.nodes:
        if n.kind == "const":
            continue
        name = nodes[f"cg-n{n.id}"][1][0]
        generated = n.label.startswith("t")
        assert ("cg-gen" in _cls(name)) == generated, n.label
        assert (name.get("font-weight") == "bold") != generated
    x = f"cg-n{g.node('x').id}"
    assert sum(1 for k in nodes if k == x) == 1
    out_edges = [
        e
        for e in root.iter("{http://www.w3.org/2000/svg}g")
        if "cg-edge" in _cls(e) and e.get("data-from") == x
    ]
    assert len(out_edges) == 3  # x*y, x*a, sin(x)


def _luminance(colour: str) -> float:
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
def test_palette_reads_in_grey(palette: dict[str, str]) -> None:
    """Contrast is a ratio of luminances, which is what a grey print keeps: every text
    colour reaches WCAG's 4.5:1 on every background, the edges 3:1 on the paper."""

    def contrast(a: str, b: str) -> float:
        hi, lo = sorted([_luminance(a), _luminance(b)], reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    for text in ("ink", "muted", "value", "adjoint"):
        for ground in ("paper", "box", "input"):
            assert contrast(palette[text], palette[ground]) >= 4.5, (text, ground)
    assert contrast(palette["edge"], palette["paper"]) >= 3


def _random_spec(n_ops: int, seed: int) -> str:
    """A random spec with shared nodes and long edges: each line uses two earlier nodes."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(12)]
    lines = [f"{v} = {i + 1}" for i, v in enumerate(names)]
    for k in range(n_ops):
        a, b = rng.choice(names[-20:]), rng.choice(names)
        op = rng.choice(["{} * {}", "{} + {}", "{} - {}", "sin({}) + {}"])
        lines.append(f"n{k} = " + op.format(a, b))
        names.append(f"n{k}")
    lines.append(" + ".join(names[-6:]))
    return "\n".join(lines)


def test_a_300_node_graph_is_drawn() -> None:
    g = cgdiff.parse(_random_spec(380, 1))
    shown = sum(1 for n in g.nodes if n.kind != "const")
    assert 300 <= shown <= MAX_NODES
    svg = render_svg(g, g.grad(record=True))
    root = check_geometry(svg)
    assert len(_nodes(root)) == shown


def test_the_same_graph_gives_the_same_picture_byte_for_byte() -> None:
    spec = _random_spec(40, 7)
    g = cgdiff.parse(spec)
    first = render_svg(g, g.grad(record=True))
    assert render_svg(g, g.grad(record=True)) == first
    code = (
        "import sys, cgdiff; from cgdiff.picture import render_svg; g = cgdiff.parse(sys.stdin."
        "read()); sys.stdout.write(render_svg(g, g.grad(record=True)))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    other = subprocess.run(
        [sys.executable, "-c", code], input=spec, capture_output=True, text=True, env=env
    )
    assert other.stdout == first


def test_too_big_a_graph_is_refused_with_a_hint(cli, tmp_path: Path) -> None:
    spec = tmp_path / "big.cg"
    spec.write_text(" + ".join(f"x{i}" for i in range(MAX_NODES)))
    target = tmp_path / "big.svg"
    r = cli("graph", f"@{spec}", "--format", "svg", "-o", str(target))
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("error: the graph has") and "--format dot" in r.err
    assert r.err.count("\n") == 1 and not target.exists()
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_a_graph_of_too_many_long_edges_is_refused(cli) -> None:
    # a chain whose links are summed from the last back: each link's edge to its sum passes
    # hundreds of columns, although the graph has fewer than 400 nodes
    n = 199
    lines = ["c1 = x*x", *(f"c{k} = c{k - 1}*x" for k in range(2, n + 1))]
    lines += [f"s1 = c{n} + c{n - 1}", *(f"s{k} = s{k - 1} + c{n - k}" for k in range(2, n - 1))]
    r = cli("graph", "\n".join(lines), "--format", "svg")
    assert r.code == 2 and r.out == "" and "pass too many columns" in r.err
    assert "--format dot" in r.err and r.err.count("\n") == 1


def test_output_file_is_written_whole_and_only_on_success(cli, tmp_path: Path) -> None:
    target = tmp_path / "lecture.svg"
    r = cli("graph", f"@{EXAMPLES / 'seed_lecture.cg'}", "--format", "svg", "-o", str(target))
    assert r.code == 0 and r.out == "" and r.err == ""
    assert target.read_text(encoding="utf-8") == _svg("@examples/seed_lecture.cg")
    before = target.read_bytes()
    r = cli("graph", "x*(y+", "--format", "svg", "--output-file", str(target))
    assert r.code == 2 and r.err.startswith("error:")
    assert target.read_bytes() == before  # bad input leaves the old file as it was
    r = cli("graph", "log(x)", "--at", "x=-1", "--format", "html", "-o", str(target))
    assert r.code == 3 and target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lecture.svg"]
    target.chmod(0o640)  # a file replaced keeps its permissions
    r = cli("graph", "x*y", "--format", "svg", "-o", str(target))
    assert r.code == 0 and target.stat().st_mode & 0o777 == 0o640
    assert target.read_text(encoding="utf-8") == _svg("x*y")


def test_output_file_on_the_other_commands(cli, tmp_path: Path) -> None:
    out = tmp_path / "o.txt"
    for args, expect in [
        (["eval", "2x", "--at", "x=3", "--format", "json"], '"value": 6.0'),
        (["grad", "x*y", "--at", "x=1,y=2", "--format", "csv"], "x,y,value,grad.x,grad.y"),
        (["diff", "x^2", "--wrt", "x"], "2*x"),
        (["hessian", "x^3", "--at", "x=1", "--format", "json"], '"hessian"'),
        (["ops", "--format", "json"], '"sigmoid"'),
        (["graph", "x*y", "--at", "x=1,y=2"], "mul"),  # a Rich table, without colour
    ]:
        r = cli(*args, "-o", str(out))
        assert r.code == 0 and r.out == "", args
        text = out.read_text(encoding="utf-8")
        assert expect in text and "\x1b[" not in text, args
    r = cli(
        "check", "x^2", "--expect", "value=5", "--at", "x=2", "--format", "json", "-o", str(out)
    )
    assert r.code == 1 and json.loads(out.read_text())["failed"] == 1  # a report, exit 1
    r = cli("graph", "x", "--format", "svg", "-o", str(tmp_path / "no" / "such" / "dir.svg"))
    assert r.code == 2 and r.err.startswith("error: cannot write") and r.err.count("\n") == 1
    r = cli("eval", "2x", "--at", "x=1", "-o", "-")  # '-' is standard output
    assert r.code == 0 and "2" in r.out


def test_dash_o_does_not_eat_an_expression(cli) -> None:
    r = cli("eval", "-omega^2", "--at", "omega=3", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["value"] == -9.0
    r = cli("eval", "-o", "--at", "o=2", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["value"] == -2.0


def test_html_is_self_contained_and_tells_each_step_as_explain_does(cli) -> None:
    r = cli("graph", f"@{EXAMPLES / 'two_layer_relu.cg'}", "--format", "html")
    assert r.code == 0 and r.out.startswith("<!DOCTYPE html>")
    page = r.out
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\((?!#)", page)
    data = json.loads(re.search(r'id="cg-data">(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    told = [
        line for st in data["steps"] if st["pass"] in ("forward", "backward") for line in st["text"]
    ]
    explain = cli("grad", f"@{EXAMPLES / 'two_layer_relu.cg'}", "--explain").out
    lines = [line.strip() for line in explain.split("\n") if line.startswith("  ")]
    assert told == lines
    g = _graph("@examples/two_layer_relu.cg")
    # one step per op forward, the seed, one per op backward; then the start and the end
    assert len(data["steps"]) == 2 * g.n_ops + 3


def test_html_without_a_point_has_no_control() -> None:
    page = render_html(_graph("x*y+z"))
    assert 'id="cg-next"' not in page and "<svg" in page
    assert walk(scene(_graph("x*y+z")))["steps"] == []


@pytest.mark.parametrize("name", ["seed_lecture", "mlp"])
def test_docs_picture_is_the_tools_own(name: str) -> None:
    committed = (ROOT / "docs" / f"{name}.svg").read_text(encoding="utf-8")
    command = f"cgdiff graph @examples/{name}.cg --format svg -o docs/{name}.svg"
    assert committed == _svg(f"@examples/{name}.cg"), f"docs/{name}.svg is out of date: {command}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"](docs/{name}.svg)" in readme
    assert command in readme


# -- in a browser ---------------------------------------------------------------------------

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed quietly when missing and we are root."""
    found = _find_chromium()
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            subprocess.run(cmd, capture_output=True, env=env, timeout=900, check=False)
        found = _find_chromium()
    if found is None:
        pytest.skip("no Chromium, and it could not be installed (needs root and apt-get)")
    return found


def _run_chromium(binary: str, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA PNG: width, height and the rows of pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for r in range(height):
        f = raw[r * (stride + 1)]
        line = bytearray(raw[r * (stride + 1) + 1 : (r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(b for k, b in enumerate(row) if k % bpp < 3) for row in rows]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_html_screenshot_is_not_blank(chromium: str, tmp_path: Path, scheme: str) -> None:
    page = tmp_path / "page.html"
    page.write_text(render_html(*_with_grad("@examples/seed_lecture.cg")), encoding="utf-8")
    shot = tmp_path / "shot.png"
    dark = (
        ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if scheme == "dark" else []
    )
    _run_chromium(chromium, page, f"--screenshot={shot}", "--window-size=900,700", *dark)
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (900, 700)
    pixels = [row[i : i + 3] for row in rows for i in range(0, len(row), 3)]
    counts: dict[bytes, int] = {}
    for p in pixels:
        counts[p] = counts.get(p, 0) + 1
    background, most = max(counts.items(), key=lambda kv: kv[1])
    assert len(counts) > 50  # text, boxes, two colours, anti-aliasing
    assert 0.03 < 1 - most / len(pixels) < 0.6
    is_dark = sum(background) < 3 * 100
    assert is_dark == (scheme == "dark")


def _with_grad(text: str) -> tuple[cgdiff.Graph, cgdiff.ad.Gradient]:
    g = _graph(text)
    return g, g.grad(record=True)


WALK = r"""
<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });
  var log = console.error;
  console.error = function () {
    errors.push([].join.call(arguments, " "));
    log.apply(console, arguments);
  };
  var data = JSON.parse(document.getElementById("cg-data").textContent);
  var seen = [];
  function record() {
    var cur = document.querySelectorAll(".cg-node.cg-current");
    var rows = document.querySelectorAll("tr.cg-current");
    seen.push({step: document.body.dataset.step,
      where: document.getElementById("cg-where").textContent,
      text: document.getElementById("cg-explain").textContent,
      nodes: [].map.call(cur, function (el) { return el.id; }),
      rows: [].map.call(rows, function (el) { return el.dataset.node; }),
      pendingValues: document.querySelectorAll(".cg-pending-value").length,
      pendingAdjoints: document.querySelectorAll(".cg-pending-adjoint").length});
  }
  var next = document.getElementById("cg-next");
  document.getElementById("cg-first").click();
  record();
  for (var k = 0; k < 1000 && !next.disabled; k++) { next.click(); record(); }
  var keys = [];
  function press(key) {
    document.dispatchEvent(new KeyboardEvent("keydown", {key: key, bubbles: true}));
    keys.push(document.body.dataset.step);
  }
  ["Home", "ArrowRight", "ArrowRight", "ArrowLeft", "End", " "].forEach(press);
  var out = document.createElement("pre");
  out.id = "cg-test-result";
  out.textContent = JSON.stringify({errors: errors, seen: seen, keys: keys, n: data.steps.length,
                                    steps: data.steps});
  document.body.appendChild(out);
})();
</script>
"""


@pytest.mark.browser
def test_html_step_control_walks_every_step(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    html = render_html(*_with_grad("@examples/two_layer_relu.cg"))
    page.write_text(html.replace("</body>", WALK + "</body>"), encoding="utf-8")
    run = _run_chromium(chromium, page, "--dump-dom", "--enable-logging=stderr", "--v=0")
    found = re.search(r'<pre id="cg-test-result">(.*?)</pre>', run.stdout, re.S)
    assert found, run.stderr[-2000:]
    import html as html_lib

    result = json.loads(html_lib.unescape(found[1]))
    assert result["errors"] == []
    assert "Uncaught" not in run.stderr and "CONSOLE" not in run.stderr.replace("CONSOLE(0)", "")
    n, seen, steps = result["n"], result["seen"], result["steps"]
    assert [s["step"] for s in seen] == [str(k) for k in range(n)]  # every step, in order
    for s, step in zip(seen, steps):
        assert s["text"] == "\n".join(step["text"])
        assert s["nodes"] == ([step["node"]] if step["node"] else [])
        assert s["rows"] == s["nodes"]
        assert s["where"].startswith(f"step {int(s['step']) + 1} of {n}")
    assert seen[0]["pendingValues"] > 0 and seen[-1]["pendingValues"] == 0
    assert seen[-1]["pendingAdjoints"] == 0
    assert result["keys"] == ["0", "1", "2", "1", str(n - 1), str(n - 1)]


MEASURE = r"""
<script>
(function () {
  var bad = [];
  document.querySelectorAll(".cg-node").forEach(function (g) {
    var r = g.querySelector("rect").getBBox();
    g.querySelectorAll("text").forEach(function (t) {
      if (t.classList.contains("cg-adjoint")) { return; }
      var b = t.getBBox();
      if (b.x < r.x + 1 || b.x + b.width > r.x + r.width - 1 ||
          b.y < r.y || b.y + b.height > r.y + r.height) {
        bad.push(g.id + ": " + t.textContent + " " + JSON.stringify([b.x, b.width, r.x, r.width]));
      }
    });
  });
  var out = document.createElement("pre");
  out.id = "cg-test-result";
  out.textContent = JSON.stringify({bad: bad, nodes: document.querySelectorAll(".cg-node").length});
  document.body.appendChild(out);
})();
</script>
"""


@pytest.mark.browser
@pytest.mark.parametrize("text", ["@examples/two_layer_relu.cg", "@examples/sigmoid_neuron.cg"])
def test_every_label_fits_its_box_in_a_real_font(chromium: str, tmp_path: Path, text: str) -> None:
    page = tmp_path / "page.html"
    html = render_html(*_with_grad(text))
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    run = _run_chromium(chromium, page, "--dump-dom")
    found = re.search(r'<pre id="cg-test-result">(.*?)</pre>', run.stdout, re.S)
    assert found, run.stderr[-2000:]
    result = json.loads(found[1])
    assert result["bad"] == [] and result["nodes"] > 10
