"""Griffe extension for the API pages: Sphinx roles and doctests outside Examples.

The docstrings are written to read well in ``help()``: they name other objects with
Sphinx roles (``:meth:`Model.diagnose```, ``:class:`~posterior_knee.Diagnosis```),
which mkdocstrings does not read, and a few carry a doctest in their text rather than
in an Examples section, which Markdown reads as nested quotes (``>>>``). At build time
(the docstrings in the source stay as they are) this extension

- rewrites each role into a cross-reference: the target is looked up as Sphinx would
  (as written, then in the class, the module and the package of the docstring), and
  becomes a link when the page shows it, plain code otherwise;
- puts each doctest block outside an Examples section into a ``pycon`` code block.

mkdocs.yml loads it (``extensions: - docs/griffe_roles.py:SphinxRoles``); it is build
code, not a page.
"""

from __future__ import annotations

import html
import re

import griffe

ROLE = re.compile(r":(?P<kind>meth|func|class|attr|data|mod|exc|obj):"
                  r"`(?P<short>~)?(?P<target>[^`]+)`")
CALLABLE = {"meth", "func"}
EXAMPLES = {"examples", "example"}


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles and bare doctests in every docstring of the package."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader,
                   **kwargs) -> None:
        for obj in _objects(pkg):
            if obj.docstring is not None:
                text = _doctests_to_code(obj.docstring.value)
                obj.docstring.value = ROLE.sub(
                    lambda match, obj=obj: _reference(match, obj, loader), text)


def _objects(obj: griffe.Object):
    """``obj`` and every object defined under it (aliases are documented where they
    point, so they are skipped)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


def _lookup(path: str, loader: griffe.GriffeLoader):
    try:
        return loader.modules_collection.get_member(path)
    except Exception:  # unknown name, or an alias that does not resolve
        return None


def _candidates(target: str, obj: griffe.Object) -> list[str]:
    """Where Sphinx would look for ``target`` named in the docstring of ``obj``."""
    module = obj.module
    if target.startswith("."):  # relative to the module's package
        dots = len(target) - len(target.lstrip("."))
        package = module if module.is_init_module else module.parent
        for _ in range(dots - 1):
            package = package.parent
        return [f"{package.path}.{target.lstrip('.')}"]
    scopes = []
    scope = obj if obj.is_class or obj.is_module else obj.parent
    while scope is not None:  # the class, the module, its packages
        scopes.append(scope.path)
        scope = scope.parent
    return [target] + [f"{scope}.{target}" for scope in scopes]


def _reference(match: re.Match, obj: griffe.Object, loader: griffe.GriffeLoader) -> str:
    target = match["target"]
    title = target.lstrip(".").rsplit(".", 1)[-1] if match["short"] else target.lstrip(".")
    if match["kind"] in CALLABLE:
        title += "()"
    for path in _candidates(target, obj):
        found = _lookup(path, loader)
        if found is not None:
            # an alias (a name imported into a module) documents its target; the
            # pages register each object under its own path as well as the public one
            identifier = found.path if not found.is_alias else _final_path(found)
            if identifier is not None:
                return (f'<autoref identifier="{html.escape(identifier)}" optional>'
                        f"<code>{html.escape(title)}</code></autoref>")
    return f"`{title}`"


def _final_path(alias) -> str | None:
    try:
        return alias.final_target.path
    except Exception:
        return None


def _doctests_to_code(text: str) -> str:
    """Doctest blocks outside an Examples section, fenced as ``pycon`` code."""
    lines = text.splitlines()
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if following.strip() and set(following.strip()) == {"-"} and line.strip():
            section = line.strip().lower()  # a numpy-style section heading
        if line.lstrip().startswith(">>>") and section not in EXAMPLES:
            indent = line[:len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [f"{indent}```pycon", *block, f"{indent}```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)
