"""The web client's layers, checked on the source (docs/decisions.md, "The web client"): views
read the state and call named actions, never write the state or call the HTTP API; only the
subject modules under web/src/data call the API; the frame dispatcher only routes.

A grep-level check, not a parser: it catches the plain forms (`state.x = …`, `state.x.add(…)`,
an alias of a part of the state written through, an import of api.js), which is how such a
write would come back."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "web" / "src"

IMPORT = re.compile(r"""^\s*import\s+(?:([\w$*{}\s,]+?)\s+from\s+)?["']([^"']+)["']""", re.M)
MUTATORS = "set|delete|clear|add|push|pop|shift|unshift|splice|sort|reverse|fill"
# A path into the state, then an assignment (not a comparison, nor an htm attribute such as
# `data=${data}`), an increment, or a mutating call.
WRITE = r"(?<![\w$.-])(?<!const )(?<!let )(?<!var ){root}\b(?:\s*\??\.\s*[\w$]+|\[[^\]]*\])*\s*(?:(?:[-+*/%|&]|\?\?|&&|\|\|)?=(?![=$])|\+\+|--|\.(?:{m})\()"
# A name bound to a part of the state (`const notes = state.notifications;`, a room's entry
# `const data = roomData(room);`), not to something computed from it.
ALIAS = re.compile(r"\b(?:const|let|var)\s+([\w$]+)\s*=\s*(?:state|roomData\([^()]*\))(?:\s*\??\.\s*[\w$]+)*\s*(?:;|$)", re.M)
DESTRUCTURED = re.compile(r"\b(?:const|let|var)\s*\{([^}]*)\}\s*=\s*state(?:\s*\??\.\s*[\w$]+)*\s*(?:;|$)", re.M)


def views() -> list[Path]:
    """The shell and every view: the code that draws."""
    return [SRC / "main.js", *sorted((SRC / "views").glob("*.js"))]


def imports(source: str) -> list[tuple[set[str], str]]:
    """(imported names, module) for each static import; names of `import {a, b as c}`."""
    found = []
    for names, module in IMPORT.findall(source):
        listed = re.sub(r"[{}]", " ", names or "")
        found.append(({part.split(" as ")[0].strip() for part in listed.split(",") if part.strip()}, module))
    return found


def imported_modules(path: Path) -> set[str]:
    """The files under web/src a module imports, as paths relative to web/src."""
    found = set()
    for _, module in imports(path.read_text()):
        if module.startswith("."):
            found.add((path.parent / module).resolve().relative_to(SRC.resolve()).as_posix())
        else:
            found.add(module)
    return found


def state_writes(source: str) -> list[str]:
    """The lines that write into the state object, directly or through a name bound to part of it."""
    roots = {"state"}
    roots |= set(ALIAS.findall(source))
    for names in DESTRUCTURED.findall(source):
        roots |= {name.split(":")[-1].strip() for name in names.split(",") if name.strip()}
    pattern = re.compile("|".join(WRITE.format(root=re.escape(root), m=MUTATORS) for root in roots))
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("//")]
    return [line.strip() for line in lines if pattern.search(line)]


def test_the_checks_can_fail():
    bad = """
const notes = state.notifications;
notes.list = [];
state.notice = null;
state.blocked.add(id);
state.notifications.unread += 1;
const { sending } = state;
sending.delete(cid);
const data = roomData(room);
data.meta = null;
"""
    assert len(state_writes(bad)) == 6
    fine = "if (state.notice?.room === room) x = state.user.id; const n = state.rooms.length;"
    assert state_writes(fine) == []
    assert imports('import { api } from "../api.js";\nimport "./x.js";') == [({"api"}, "../api.js"), (set(), "./x.js")]


def test_views_never_write_the_state():
    for path in views():
        assert state_writes(path.read_text()) == [], f"{path.name} writes the state: call a named action of web/src/data instead"


def test_views_take_only_the_state_itself_from_the_store():
    # `changed` stays with the subject modules: a view that needs a re-render changed something.
    for path in views():
        for names, module in imports(path.read_text()):
            if module.endswith("/state.js") or module == "./state.js":
                assert names <= {"state", "subscribe"}, f"{path.name} imports {sorted(names)} from state.js"


def test_only_subject_modules_call_the_http_api():
    callers = {path.relative_to(SRC).as_posix() for path in SRC.rglob("*.js") if "api.js" in imported_modules(path)}
    assert callers, "nothing imports api.js: did it move?"
    assert all(caller.startswith("subjects/") for caller in callers), sorted(c for c in callers if not c.startswith("subjects/"))


def test_the_dispatcher_only_routes():
    source = (SRC / "dispatch.js").read_text()
    used = imported_modules(SRC / "dispatch.js")
    assert used and all(module.startswith("subjects/") for module in used), sorted(used)
    assert "api(" not in source and "changed(" not in source
    assert state_writes(source) == []


def test_subject_modules_do_not_depend_on_views():
    for path in sorted((SRC / "subjects").glob("*.js")):
        used = imported_modules(path)
        drawn = {m for m in used if m.startswith(("views/", "preact")) or m in {"main.js", "views.js", "dispatch.js"}}
        assert not drawn, f"{path.name} imports {sorted(drawn)}"


def test_the_dispatcher_routes_only_frames_the_protocol_documents():
    # A route for a type the server never sends is dead code, or a typo that loses frames.
    protocol = (SRC.parents[1] / "docs" / "protocol.md").read_text()
    section = protocol.split("### Server → client", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r'^\| `\{type: "([a-z_]+)"', section, re.M))
    routes = (SRC / "dispatch.js").read_text().split("const ROUTES = {", 1)[1].split("};", 1)[0]
    routed = set(re.findall(r"^\s*([a-z_]+):", routes, re.M))
    assert routed and documented >= {"message", "pong"}
    assert routed <= documented, sorted(routed - documented)
