"""A class scored and written one student at a time (issue 9): the streamed documents are
the documents built all at once, a grouped file holds one student in memory, ``-o`` is
still all or nothing, the exit codes keep SPEC section 6's precedence, and ``--jobs``
changes nothing but the speed."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cgdiff import check_junit, check_report
from cgdiff.check import ClassRun, check_answers, classrun, load_key
from conftest import EXAMPLES

KEY = EXAMPLES / "homework" / "key.toml"
SUBMISSIONS = EXAMPLES / "homework" / "submissions.csv"


def _class(
    tmp_path: Path, students: int, seed: int = 0, shuffle: bool = False, broken: bool = False
) -> Path:
    """A class answering the homework key: right answers, wrong ones, malformed rows; with
    ``broken``, two students more whose quotes are not closed on their lines (one of them
    goes on to the next line, a field of its own)."""
    key = load_key(KEY)
    rng = random.Random(seed)
    rows = []
    for s in range(students):
        for p in key.problems:
            for item, answer in p.expect:
                r = rng.random()
                cell = str(answer) if r < 0.6 else "2x +" if r < 0.7 else "" if r < 0.75 else "7"
                cell = '"' + cell.replace('"', '""') + '"'
                rows.append(f"s{s:04d},{p.name},{item},{cell}")
        if s % 7 == 3:
            rows.append(f"s{s:04d},nope,value,1")  # an extra malformed row
            rows.append(f"s{s:04d},1a,value,5,9")  # too many fields
    if shuffle:
        rng.shuffle(rows)
    rows.insert(len(rows) // 2, ",1a,value,3")  # no student
    if broken:  # a quote left open took in the rest of the file, every later student's rows
        rows.insert(len(rows) // 3, 'zz,1a,value,"-12')
        rows.insert(len(rows) // 4, 'yy,1b,value,"1\n2"')
    path = tmp_path / f"class{students}{'s' if shuffle else ''}.csv"
    path.write_text("student,problem,item,answer\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("shuffle", [False, True])
def test_streamed_json_and_junit_are_the_whole_documents(tmp_path: Path, shuffle: bool) -> None:
    for answers in (SUBMISSIONS, _class(tmp_path, 30, shuffle=shuffle, broken=True)):
        report = check_answers(KEY, answers)
        whole = json.dumps(check_report.check_data(report), ensure_ascii=False, allow_nan=False)
        out = io.StringIO()
        check_report.write_json(ClassRun(KEY, answers), out.write)
        assert out.getvalue() == whole
        out = io.StringIO()
        check_junit.write_junit(ClassRun(KEY, answers), out.write)
        xml = out.getvalue()
        assert xml == check_junit.render_junit(report)
        # the oracle: ElementTree reading it back and writing it, indented, as it writes
        tree = ET.fromstring(xml.split("\n", 1)[1])
        ET.indent(tree)
        assert ET.tostring(tree, encoding="unicode") == xml.split("\n", 1)[1].rstrip("\n")
        assert int(tree.get("failures", "")) == len(tree.findall("testsuite/testcase/failure"))
        assert int(tree.get("tests", "")) == len(tree.findall("testsuite/testcase"))


def test_junit_text_escapes_as_elementtree_does() -> None:
    hostile = 'a&b<c>"d"\te\nf\rg\x01h\ud800 é'
    cases = [(hostile, hostile, False, hostile, hostile), ("p", "i", True, "", "")]
    ours = check_junit._suite_xml(hostile, cases)
    root = ET.fromstring(ours)
    assert root.get("name") == check_junit._xml_text(hostile)
    suite = ET.Element("testsuite", name=check_junit._xml_text(hostile))
    for k, v in (("tests", "2"), ("failures", "1"), ("errors", "0"), ("skipped", "0")):
        suite.set(k, v)
    for classname, test, passed, message, text in cases:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=check_junit._xml_text(classname),
            name=check_junit._xml_text(test),
        )
        if not passed:
            one = check_report.shown(" ".join(message.split()), 500)
            f = ET.SubElement(
                case, "failure", message=check_junit._xml_text(one), type="WrongAnswer"
            )
            f.text = check_junit._xml_text(text)
    ET.indent(suite, level=1)
    assert ours == ET.tostring(suite, encoding="unicode")


def test_a_grouped_class_holds_one_student_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = _class(tmp_path, 200)
    read: list[int] = []
    real = classrun._read_rows

    def spy(path: Path):  # type: ignore[no-untyped-def]
        for row in real(path):
            read.append(row.line if hasattr(row, "line") else row[0])
            yield row

    monkeypatch.setattr(classrun, "_read_rows", spy)
    run = ClassRun(KEY, answers)
    lines = answers.read_text().splitlines()
    seen = 0
    for s in run.students():
        # when a student is handed on, the rows read reach at most into the next batch
        last = max(k for k, t in enumerate(lines, start=1) if t.startswith(s.student + ","))
        assert max(read) <= last + classrun.BATCH * 60
        seen += 1
    assert seen == 200 and run.count == 200
    assert run.total == 200


def test_students_spread_over_the_file_keep_first_row_order(tmp_path: Path) -> None:
    answers = _class(tmp_path, 40, shuffle=True)
    report = check_answers(KEY, answers)
    first: dict[str, int] = {}
    for k, line in enumerate(answers.read_text().splitlines()[1:], start=2):
        name = line.split(",", 1)[0]
        if name:
            first.setdefault(name, k)
    assert [s.student for s in report.students or []] == sorted(first, key=first.get)  # type: ignore[arg-type]
    lines = [e.line for e in report.malformed or []]
    assert lines == sorted(lines) and len(lines) > 40


def test_jobs_give_byte_identical_output(cli, tmp_path: Path) -> None:
    answers = str(_class(tmp_path, 3 * classrun.BATCH + 5, broken=True))
    for fmt in ("json", "junit", "table"):
        one = cli("check", str(KEY), "--answers", answers, "--format", fmt, "--jobs", "1")
        two = cli("check", str(KEY), "--answers", answers, "--format", fmt, "--jobs", "2")
        assert one.code == two.code == 1
        assert one.out == two.out and one.err == two.err
        assert len(one.out) > 10_000


def test_stream_to_a_file_is_all_or_nothing(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = str(_class(tmp_path, 5))
    target = tmp_path / "out.json"
    target.write_text("old\n")
    r = cli("check", str(KEY), "--answers", answers, "--format", "json", "-o", str(target))
    assert r.code == 1 and r.out == ""
    assert json.loads(target.read_text())["students"][4]["student"] == "s0004"

    def broken(s: object) -> str:
        raise MemoryError

    monkeypatch.setattr(check_report, "json_student", broken)
    target.write_text("old\n")
    r = cli("check", str(KEY), "--answers", answers, "--format", "json", "-o", str(target))
    assert r.code == 2 and r.err.startswith("error: ")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out.json", Path(answers).name]
    )  # no temporary file left


def test_exit_codes_of_a_class(cli, tmp_path: Path) -> None:
    key = tmp_path / "key.toml"
    key.write_text('[[problem]]\nname = "1"\nexpr = "x*y"\nat = {x = 2, y = 3}\nexpect.value = 6\n')
    right = tmp_path / "right.csv"
    right.write_text("student,problem,item,answer\nann,1,value,6\nbob,1,value,6.0\n")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("student,problem,item,answer\nann,1,value,6\nbob,1,value,5\n")
    bad_row = tmp_path / "bad.csv"
    bad_row.write_text("student,problem,item,answer\nann,1,value,6\n,1,value,6\n")
    for fmt in ("json", "junit", "table"):
        assert cli("check", str(key), "--answers", str(right), "--format", fmt).code == 0
        assert cli("check", str(key), "--answers", str(wrong), "--format", fmt).code == 1
        assert cli("check", str(key), "--answers", str(bad_row), "--format", fmt).code == 1
    undefined = tmp_path / "undefined.toml"
    undefined.write_text(
        key.read_text() + '[[problem]]\nname = "2"\nexpr = "log(x)"\nat = {x = -1}\n'
        "expect.value = 0\n"
    )
    r = cli("check", str(undefined), "--answers", str(wrong), "--format", "json")
    assert r.code == 3 and r.err.startswith("error: problem '2': ")  # 3 before 1
    assert json.loads(r.out)["students"][1]["score"] == 0
    r = cli("check", str(key), "--answers", str(tmp_path / "none.csv"), "--format", "json")
    assert r.code == 2 and r.out == ""  # 2: nothing written


def test_progress_bar_only_on_a_terminal_and_after_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from cgdiff import cli as cli_module

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    for tty in (False, True):
        err = Tty() if tty else io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        with cli_module._progress("scoring students") as progress:
            if progress is not None:
                progress(64, 1000)  # at once: no bar yet
                assert err.getvalue() == ""
                clock[0] += 1.5
                progress(128, 1000)
        assert (progress is not None) == tty
        assert ("128/1000" in err.getvalue()) == tty


@pytest.mark.skipif(shutil.which("jq") is None, reason="the README's recipe uses jq")
def test_the_readme_recipe_for_shards_gives_the_whole_class(tmp_path: Path) -> None:
    script = EXAMPLES / "homework" / "shard.sh"
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    assert script.read_text(encoding="utf-8") in readme  # the README shows the whole script
    answers = _class(tmp_path, 30, shuffle=True, broken=True)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        ["sh", str(script), str(KEY), str(answers), "3"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    merged = json.loads(done.stdout)
    whole = check_report.check_data(check_answers(KEY, answers))
    assert len(merged["students"]) == 32  # and zz, yy: no student lost to an open quote
    for k in ("source", "passed", "failed", "problems", "item_scores", "malformed"):
        assert merged[k] == whole[k], k
    by_name = sorted(whole["students"], key=lambda s: s["student"])
    assert sorted(merged["students"], key=lambda s: s["student"]) == by_name


def test_long_answers_are_not_kept_to_share() -> None:
    from cgdiff.check import AnswerResult, StudentResult

    long = "x" * 500 + "+1"
    a = AnswerResult("p", "value", long, False, "wrong", line=2)
    before = (len(check_report._PIECES), len(check_junit._CASES))
    text = check_report.json_student(StudentResult("ann", [a]))
    xml = check_junit.junit_student(StudentResult("ann", [a]))
    assert (len(check_report._PIECES), len(check_junit._CASES)) == before
    assert json.loads(text)["items"][0]["answer"] == long
    assert xml == check_junit._suite_xml(*check_junit._student_suite(StudentResult("ann", [a])))


def test_a_sigterm_leaves_no_temporary_file_no_worker_and_no_traceback(tmp_path: Path) -> None:
    # `kill` or `timeout` during a class run with workers: each worker printed tracebacks
    # (BrokenPipeError), the -o file's temporary file was left behind, and exit was 143
    import signal
    import time

    lines = SUBMISSIONS.read_text(encoding="utf-8").splitlines()
    ann = [line for line in lines if line.startswith("ann,")]
    answers = tmp_path / "big.csv"
    with answers.open("w", encoding="utf-8") as f:
        f.write(lines[0] + "\n")
        for k in range(20_000):
            f.writelines(line.replace("ann,", f"s{k},", 1) + "\n" for line in ann)
    out = tmp_path / "out" / "r.xml"
    out.parent.mkdir()
    run = [sys.executable, "-m", "cgdiff", "check", str(KEY), "--answers", str(answers)]
    p = subprocess.Popen(
        [*run, "--format", "junit", "--jobs", "2", "-o", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(out.parent.glob(".r.xml.*.tmp")) and time.monotonic() < deadline:
        assert p.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.02)
    time.sleep(0.3)  # the workers at work
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)  # it hung on a lock of the pool when it unwound
    assert p.returncode == 143 and err == "error: terminated\n"
    assert list(out.parent.iterdir()) == []  # no r.xml, no .r.xml.*.tmp
