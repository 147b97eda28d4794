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


def test_a_non_editable_install_packages_every_model_folder_and_all_of_common():
    """`pip install .` installs what setup.py's `packages` lists: every model
    folder (a folder NAME holding NAME/NAME.py) and every package of common/
    must be there, or an installed zoo cannot run that model."""
    import runpy
    from unittest import mock
    with mock.patch("setuptools.setup") as setup:
        previous = os.getcwd()
        os.chdir(REPO)
        try:
            runpy.run_path(os.path.join(REPO, "setup.py"))
        finally:
            os.chdir(previous)
    packages = set(setup.call_args.kwargs["packages"])
    models = {name for name in os.listdir(REPO)
              if os.path.isfile(os.path.join(REPO, name, f"{name}.py"))}
    common = {module_name(os.path.join(root, "__init__.py"))
              for root, _, names in os.walk(COMMON) if "__init__.py" in names}
    assert models >= {"dcgan", "pix2pix"} and "common.backends" in common
    assert not (models | common) - packages, sorted((models | common) - packages)
    assert not any(name.startswith("tests") for name in packages)
