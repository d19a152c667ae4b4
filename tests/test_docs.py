"""Every ```bash and ```python block of README.md and docs/*.md runs as written.

The docs-snippet convention: page by page, in order, every fenced block tagged
`bash` (run with `bash -e`) or `python` (run with this interpreter) is executed
in a scratch working directory of its own per page, laid out like a fresh
clone: `data/fashion-mnist/` and `data/cifar10/` are the samples of
`tests/data/` (so the default data set is found there, with no network),
`benchmarks/`, `notebooks/` and `tests/` are the repository's, and
`$DOCS_DATA` names `tests/data`. Directives, HTML comments on the lines
directly above a block:

- `<!-- docs-test: skip REASON -->`: not run;
- `<!-- docs-test: replace "OLD" "NEW" -->`: run with OLD replaced by NEW
  (the documented scale-down), one or more;
- `<!-- docs-test: env NAME=VALUE -->`: an environment variable for the block;
- `<!-- docs-test: needs MODULE ... -->`: run only where every module imports
  (an optional extra, such as the export's onnxruntime).

Commands run as written, but `python` is a warm one (`tests/docs_python.py`):
each `python -m dcgan_tf.*` and each python block runs in a fork of a process
that has imported TensorFlow once, instead of importing it again (seconds a
command); `DOCS_TEST_COLD=1` runs the real interpreter every time.

Blocks tagged anything else (text, console, json) are not run. A page also
fails when an example writes outside `outputs/`, `checkpoints/` and `data/`
(or into the repository), rewrites a file of `outputs/` that an earlier
example of the page wrote, or writes a file of `outputs/` (or a named run of
`checkpoints/`) that another page writes too.
"""

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = ("bash", "python")
BLOCK_TIMEOUT_S = 600
# What a page's examples may create in the scratch clone's root.
ALLOWED = {"outputs", "checkpoints", "data"}
LINKED = ("benchmarks", "notebooks", "tests")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    """One fenced block of a page, with the directives above it."""

    page: str
    line: int  # 1-based line of the opening fence
    language: str
    source: str
    skip: str | None = None
    replace: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    needs: list = field(default_factory=list)

    def code(self) -> str:
        """The source as it runs: every replace directive applied, each of
        which must match."""
        text = self.source
        for old, new in self.replace:
            if old not in text:
                raise ValueError(
                    f"{self.where()}: replace directive {old!r} matches nothing"
                )
            text = text.replace(old, new)
        return text

    def where(self) -> str:
        return f"{self.page}:{self.line} ({self.language})"


def parse_directive(block: Block, kind: str, argument: str, where: str) -> None:
    if kind == "skip":
        if not argument:
            raise ValueError(f"{where}: docs-test: skip needs a reason")
        block.skip = argument
    elif kind == "replace":
        parts = shlex.split(argument, posix=True)
        if len(parts) != 2:
            raise ValueError(f'{where}: use docs-test: replace "OLD" "NEW"')
        block.replace.append(tuple(parts))
    elif kind == "env":
        name, sep, value = argument.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{where}: use docs-test: env NAME=VALUE")
        block.env[name.strip()] = value.strip()
    elif kind == "needs":
        if not argument:
            raise ValueError(f"{where}: use docs-test: needs MODULE ...")
        block.needs += argument.split()
    else:
        raise ValueError(f"{where}: unknown directive docs-test: {kind}")


def missing_modules(block: Block) -> list[str]:
    """The modules a `needs` directive names that do not import here."""
    return [name for name in block.needs if importlib.util.find_spec(name) is None]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with its directives.

    Raises:
        ValueError: for a malformed directive or an unclosed fence.
    """
    name = page_id(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    found, index = [], 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence, language, start = match.group(1), match.group(2), index
        end = start + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence[0] * len(fence))
            and lines[end].strip().strip(fence[0]) == ""
        ):
            end += 1
        if end == len(lines):
            raise ValueError(f"{name}:{start + 1}: fence never closed")
        block = Block(name, start + 1, language, "\n".join(lines[start + 1 : end]))
        above = start - 1
        while above >= 0 and DIRECTIVE.match(lines[above]):
            above -= 1
        for number in range(above + 1, start):
            kind, argument = DIRECTIVE.match(lines[number]).groups()
            parse_directive(block, kind, argument, f"{name}:{number + 1}")
        found.append(block)
        index = end + 1
    return found


def scratch_clone(folder: Path) -> None:
    """Lays `folder` out as a fresh clone would be, with the test samples as data."""
    (folder / "data").mkdir(parents=True)
    for name in ("fashion-mnist", "cifar10"):
        (folder / "data" / name).symlink_to(DATA / name, target_is_directory=True)
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)


def environment(folder: Path, block: Block, bin_dir=None) -> dict:
    env = dict(os.environ)
    home = folder.parent / (folder.name + "-home")
    home.mkdir(exist_ok=True)
    python_path = [str(ROOT), env.get("PYTHONPATH", "")]
    path = [str(bin_dir)] if bin_dir else []
    path += [str(Path(sys.executable).parent), env["PATH"]]
    env.update(
        {
            "PATH": os.pathsep.join(path),
            "PYTHONPATH": os.pathsep.join(filter(None, python_path)),
            "DOCS_DATA": str(DATA),
            "HOME": str(home),
            "KERAS_HOME": str(home / ".keras"),
            "TFDS_DATA_DIR": str(home / "tensorflow_datasets"),
            "DCGAN_TF_CACHE": str(home / "cache"),
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    env.update(block.env)
    return env


def outputs_state(folder: Path) -> dict:
    outputs = folder / "outputs"
    if not outputs.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): path.stat().st_mtime_ns
        for path in outputs.rglob("*")
        if path.is_file()
    }


def run_block(block: Block, folder: Path, bin_dir=None) -> subprocess.CompletedProcess:
    """Runs `block` in `folder`, with the `python` of `bin_dir` if given."""
    script = folder.parent / f"{folder.name}-block-{block.line}.{block.language}"
    script.write_text(block.code() + "\n", encoding="utf-8")
    python = str(bin_dir / "python") if bin_dir else sys.executable
    command = (
        ["bash", "-e", str(script)]
        if block.language == "bash"
        else [python, str(script)]
    )
    return subprocess.run(
        command,
        cwd=folder,
        env=environment(folder, block, bin_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )


# What each page's examples wrote (outputs/ files, named runs), across pages: a
# reader who follows every page in one clone must not see one overwrite another.
CLAIMED = {}


def claims(folder: Path) -> set:
    """The files of `outputs/` and the named (not NNNNN-numbered) run folders."""
    found = set(outputs_state(folder))
    runs = folder / "checkpoints"
    if runs.is_dir():
        found |= {
            f"checkpoints/{entry.name}"
            for entry in runs.iterdir()
            if not re.match(r"\d{5}-", entry.name)
        }
    return found


def repository_status() -> str:
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return result.stdout if result.returncode == 0 else ""


@pytest.fixture(scope="module")
def warm_python(tmp_path_factory):
    """A folder holding the warm `python` (see tests/docs_python.py), or None
    when `DOCS_TEST_COLD=1` or the server does not start."""
    if os.environ.get("DOCS_TEST_COLD") == "1":
        yield None
        return
    folder = tmp_path_factory.mktemp("warm-python")
    socket_path = folder / "server.sock"
    log = open(folder / "server.log", "w+")  # noqa: SIM115 (kept for the server)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("docs_python.py")),
            str(socket_path),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python"
    shim.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from docs_python import shim\n"
        f"shim({sys.executable!r}, {str(socket_path)!r})\n"
    )
    shim.chmod(0o755)
    deadline = time.monotonic() + 300
    while server.poll() is None and time.monotonic() < deadline:
        log.seek(0)
        if "ready" in log.read():
            break
        time.sleep(0.5)
    ready = server.poll() is None and socket_path.exists()
    try:
        yield bin_dir if ready else None
    finally:
        server.kill()
        server.wait()
        log.close()


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_of_the_page_runs(page, tmp_path, warm_python):
    folder = tmp_path / "clone"
    scratch_clone(folder)
    before = repository_status()
    written = {}  # file of outputs/ -> the block that wrote it
    for block in blocks(page):
        if block.language not in RUN or block.skip or missing_modules(block):
            continue
        state = outputs_state(folder)
        result = run_block(block, folder, warm_python)
        if result.returncode != 0:
            pytest.fail(
                f"{block.where()} failed with exit code {result.returncode}.\n"
                f"--- block as run ---\n{block.code()}\n"
                f"--- output (last 4000 characters) ---\n{result.stdout[-4000:]}",
                pytrace=False,
            )
        for path, mtime in outputs_state(folder).items():
            if path in state and state[path] != mtime:
                pytest.fail(
                    f"{block.where()} rewrote {path}, which "
                    f"{written.get(path, 'an earlier block')} wrote: give each "
                    "example its own output file.",
                    pytrace=False,
                )
            written.setdefault(path, block.where())
        stray = sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.name not in ALLOWED and entry.name not in LINKED
        )
        assert not stray, (
            f"{block.where()} wrote {stray} into the working directory; "
            "examples write under outputs/ (runs under checkpoints/)"
        )
    assert repository_status() == before, (
        f"{page_id(page)}: an example wrote into the repository"
    )
    for path in sorted(claims(folder)):
        other = CLAIMED.setdefault(path, page_id(page))
        assert other == page_id(page), (
            f"{page_id(page)} and {other} both write {path}: a reader following both "
            "in one clone would lose the first; give each page its own names "
            "(outputs/PAGE/...)"
        )


# --- The harness itself -------------------------------------------------------


def test_directives_are_read_from_the_lines_above_a_block(tmp_path):
    page = tmp_path / "probe.md"
    text = (
        "intro\n\n"
        '<!-- docs-test: replace "--epochs 50" "--epochs 1" -->\n'
        "<!-- docs-test: env A=b c -->\n"
        "```bash\necho --epochs 50\n```\n\n"
        "<!-- docs-test: skip needs a GPU -->\n\n"
        "```python\nprint(1)\n```\n"
        "<!-- docs-test: skip a server -->\n"
        "```console\n$ ls\n```\n"
    )
    page.write_text(text)
    found = blocks(page)
    assert [b.language for b in found] == ["bash", "python", "console"]
    assert found[0].code() == "echo --epochs 1" and found[0].env == {"A": "b c"}
    assert found[1].skip is None  # a blank line separates the comment
    assert found[2].skip == "a server"


def test_a_block_that_needs_a_module_runs_only_where_it_imports(tmp_path):
    page = tmp_path / "probe.md"
    page.write_text(
        "<!-- docs-test: needs numpy no_such_module_here -->\n```bash\nfalse\n```\n"
        "<!-- docs-test: needs numpy -->\n```bash\ntrue\n```\n"
    )
    absent, present = blocks(page)
    assert missing_modules(absent) == ["no_such_module_here"]
    assert present.needs == ["numpy"] and missing_modules(present) == []


def test_a_failing_block_fails_the_page_with_its_output(tmp_path):
    folder = tmp_path / "clone"
    scratch_clone(folder)
    block = Block("probe.md", 1, "bash", "echo from-the-block\nfalse\necho never")
    result = run_block(block, folder)
    assert result.returncode != 0
    assert "from-the-block" in result.stdout and "never" not in result.stdout
    python = Block("probe.md", 9, "python", "import os\nprint(os.environ['DOCS_DATA'])")
    result = run_block(python, folder)
    assert result.returncode == 0 and result.stdout.strip() == str(DATA)


def test_a_replace_that_matches_nothing_is_an_error():
    block = Block("probe.md", 1, "bash", "echo hi", replace=[("--epochs 50", "x")])
    with pytest.raises(ValueError, match="matches nothing"):
        block.code()


def test_the_default_data_set_is_the_sample_in_the_scratch_clone(tmp_path):
    folder = tmp_path / "clone"
    scratch_clone(folder)
    code = (
        "from dcgan_tf.data import describe\n"
        "print(describe('fashion_mnist'))\n"
        "print(describe('cifar10'))\n"
    )
    result = run_block(Block("probe.md", 1, "python", code), folder)
    assert result.returncode == 0, result.stdout
    assert str(folder / "data" / "fashion-mnist") in result.stdout
    assert str(folder / "data" / "cifar10") in result.stdout
