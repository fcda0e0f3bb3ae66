#!/usr/bin/env python3
"""CPython's tokenizer as the reference for alembot's lexer.

Writes one JSON line per Python file: {"path", "src", "tokens"}, where
tokens are CPython's significant tokens as [kind, text, line] (kind one of
NAME NUMBER STRING OP NEWLINE INDENT DEDENT; comments, NL, ENCODING and
ENDMARKER left out). Only files that `ast.parse` accepts are written.

  pytokens.py --git REPO SHA    every .py file of a commit (read with git)
  pytokens.py --corpus          a generated corpus of black/ruff-formatted
                                constructs, each at several nesting depths
"""

import ast
import io
import json
import subprocess
import sys
import token
import tokenize

KINDS = {
    token.NAME: "NAME",
    token.NUMBER: "NUMBER",
    token.STRING: "STRING",
    token.OP: "OP",
    token.NEWLINE: "NEWLINE",
    token.INDENT: "INDENT",
    token.DEDENT: "DEDENT",
}


def tokens(src):
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        kind = KINDS.get(tok.type)
        if kind is None:
            continue
        text = tok.string if kind in ("NAME", "NUMBER", "STRING", "OP") else ""
        out.append([kind, text, tok.start[0]])
    return out


def emit(path, src):
    try:
        ast.parse(src)
        toks = tokens(src)
    except (SyntaxError, ValueError, tokenize.TokenError, IndentationError):
        return False
    sys.stdout.write(json.dumps({"path": path, "src": src, "tokens": toks}) + "\n")
    return True


def from_git(repo, sha):
    names = subprocess.run(
        ["git", "-C", repo, "ls-tree", "-r", "-z", "--name-only", sha],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    paths = [n.decode("utf-8", "replace") for n in names if n.endswith(b".py")]
    batch = subprocess.Popen(
        ["git", "-C", repo, "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    for path in paths:
        batch.stdin.write(f"{sha}:{path}\n".encode())
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3:
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        try:
            src = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        emit(path, src)
    batch.stdin.close()
    batch.wait()


# Constructs as black and ruff format them: brackets that close with code
# after them, magic trailing commas, parenthesised conditions and context
# managers, return annotations, implicit string concatenation, comments and
# blank lines inside brackets and blocks.
CONSTRUCTS = [
    'rows = conn.execute(\n    sa.text("select 1"),\n).fetchall()\n',
    "result = session.query(\n    User\n).filter(User.id == 1).one()\n",
    "table = sa.Table(\n    'post',\n    meta,\n).create(bind)\n",
    "def check(\n    value: int,\n    *,\n    strict: bool = False,\n) -> bool:\n    return value > 0\n",
    "if (\n    first\n    and second\n):\n    x = 1\nelse:\n    x = 2\n",
    "while (\n    n := next(it, None)\n) is not None:\n    total += n\n",
    "with (\n    open(a) as f,\n    open(b) as g,\n):\n    data = f.read() + g.read()\n",
    "class Post(Base):\n    __tablename__ = 'post'\n    __table_args__ = (\n        sa.UniqueConstraint('a', 'b'),\n        {'schema': 'app'},\n    )\n    id: Mapped[int] = mapped_column(\n        sa.Integer, primary_key=True\n    )\n    title = Column(\n        String(200),\n        nullable=False,  # comment inside\n\n        server_default='',\n    )\n",
    "@decorator(\n    name='x',\n)\nasync def handler(\n    request,\n) -> None:\n    await thing(\n        request\n    ).send()\n",
    "values = [\n    item.name\n    for item in items\n    if item\n]\nmapping = {\n    key: value  # why\n    for key, value in pairs\n}\n",
    "message = (\n    'first part '\n    f'{value!r:>10} '\n    \"\"\"tail\n    more\"\"\"\n)\n",
    "total = 1 + \\\n    2 + \\\n    3\n",
    "op.add_column(\n    'post', sa.Column('subtitle', sa.String(length=100), nullable=True)\n)\nop.create_index(\n    op.f('ix_post_subtitle'), 'post', ['subtitle'], unique=False\n)\n",
    "match command:\n    case {'kind': kind, **rest}:\n        handle(\n            kind\n        )\n    case _:\n        pass\n",
    "try:\n    x = call(\n        1,\n    )[0]\nexcept (\n    ValueError,\n    KeyError,\n) as error:\n    raise RuntimeError(\n        'x'\n    ) from error\nfinally:\n    done()\n",
    "lambda_ = lambda a, b=(\n    1,\n): a + b\nnums = [0x1F, 1_000, 1e-3, 2.5j, .5, 0o17, 0b1]\n",
    "def outer():\n    def inner(\n        a,\n    ):\n        return (\n            a\n        )\n\n    return inner\n",
    "x = foo(\n    bar(\n        baz(\n            1,\n        ),\n    ),\n).qux\ny = x\n",
    "s = rb'\\d+' + b'\\x00' + r'''raw\n''' + u'u'\n",
    "assert isinstance(\n    value, int\n), 'message'\nglobal_value: dict[str, list[int]] = {}\n",
]

WRAPPERS = [
    lambda body: body,
    lambda body: "def wrapper():\n" + indent(body, 1) + "    return None\n",
    lambda body: "class Wrapper:\n    attr = 1\n\n    def method(self):\n" + indent(body, 2) + "\n    other = 2\n",
    lambda body: "if condition:\n    for i in range(3):\n" + indent(body, 2) + "    after = True\nlast = 1\n",
]


def indent(body, levels):
    pad = "    " * levels
    return "".join(pad + line if line.strip() else line for line in body.splitlines(True))


def corpus():
    count = 0
    for i, construct in enumerate(CONSTRUCTS):
        for j, wrap in enumerate(WRAPPERS):
            src = wrap(construct)
            if emit(f"corpus/{i:02}_{j}.py", src):
                count += 1
            # The same without a final newline, and with CRLF line ends.
            emit(f"corpus/{i:02}_{j}_noeol.py", src.rstrip("\n"))
            emit(f"corpus/{i:02}_{j}_crlf.py", src.replace("\n", "\r\n"))
    # Every construct must parse: a corpus entry that does not would test nothing.
    if count != len(CONSTRUCTS) * len(WRAPPERS):
        sys.exit(f"only {count} of {len(CONSTRUCTS) * len(WRAPPERS)} corpus files parse")


def main():
    if sys.argv[1:2] == ["--git"] and len(sys.argv) == 4:
        from_git(sys.argv[2], sys.argv[3])
    elif sys.argv[1:] == ["--corpus"]:
        corpus()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
