"""`common/` has no import circle: a model, or a new module of `common/`,
can import any of its modules without importing half of the others first,
and a module's place in the graph says what it builds on."""
import ast
import os

from conftest import REPO

COMMON = os.path.join(REPO, "common")


def module_name(path):
    relative = os.path.relpath(path, REPO)[:-len(".py")].replace(os.sep, ".")
    return relative[:-len(".__init__")] if relative.endswith(".__init__") else relative


def imports_of(path, modules):
    """The modules of `modules` that the file `path` imports, at its top or
    inside a function (an import put off to run time is still an edge)."""
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name in modules} - {module_name(path)}


def import_graph():
    paths = [os.path.join(folder, name) for folder, _, names in os.walk(COMMON)
             for name in names if name.endswith(".py")]
    modules = {module_name(path): path for path in paths}
    return {name: imports_of(path, modules) for name, path in modules.items()}


def circles(graph):
    """Every module that can reach itself, with the path it takes."""
    found = {}
    for start in graph:
        pending = [(start, [start])]
        seen = set()
        while pending:
            node, path = pending.pop()
            for imported in graph[node]:
                if imported == start:
                    found[start] = path + [start]
                elif imported not in seen:
                    seen.add(imported)
                    pending.append((imported, path + [imported]))
    return found


def test_common_has_no_import_circle():
    graph = import_graph()
    assert "common.training" in graph and "common.backends.torch" in graph
    assert circles(graph) == {}, "\n".join(" -> ".join(path) for path in circles(graph).values())


def test_the_check_sees_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert set(circles(graph)) == {"a", "b", "c"}
