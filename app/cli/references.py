"""``intake refs``: the UN documents catalogue and a case's links (rule A2).

Threat: a hostile or broken server's answer painting the terminal (escape sequences,
rich markup in a title). Every text from the server is shown as plain text with
control and format characters replaced, and every answer is parsed into a small model
first, so a malformed one is one clear line. The identifiers themselves are checked by
the server, whose refusal (naming the expected pattern) is printed as one line.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail

refs = typer.Typer(
    help="UN documents: the catalogue and a case's links (rule A2).",
    no_args_is_help=True,
    add_completion=False,
)

KINDS = ("communication", "treaty-body", "report")


class Reference(Answer):
    id: uuid.UUID
    kind: str
    identifier: str
    title: str | None = None
    issued_on: dt.date | None = None


class ReferencePage(Answer):
    items: list[Reference]
    next: str | None = None


class Link(Answer):
    case_id: uuid.UUID
    document: Reference
    linked_on: dt.date


class Links(Answer):
    items: list[Link]


def _plain(text: str | None) -> Text:
    """Server text as it is, never as markup or terminal control."""
    return Text("".join(ch if ch.isprintable() else "\ufffd" for ch in text or ""))


def _kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        fail(f"the kind is one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{what} is an id (a UUID), not {value!r}")


def _day(value: str | None) -> str | None:
    if value is not None:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            fail("--issued is a day, YYYY-MM-DD")
    return value


def _described(reference: Reference) -> Text:
    return Text.assemble(_plain(reference.identifier), f" ({_plain(reference.kind)})")


def _table(references: list[Reference]) -> Table:
    table = Table("identifier", "kind", "issued", "title")
    table.add_column("id", no_wrap=True, min_width=36)
    for reference in references:
        table.add_row(
            _plain(reference.identifier),
            _plain(reference.kind),
            reference.issued_on.isoformat() if reference.issued_on else "",
            _plain(reference.title),
            str(reference.id),
        )
    return table


@refs.command("add")
def add(
    kind: Annotated[str, typer.Argument(help="communication, treaty-body or report")],
    identifier: Annotated[str, typer.Argument(help="e.g. 'AL CHN 4/2021', 'CAT/C/CHN/CO/5'")],
    title: Annotated[str | None, typer.Option("--title", help="the document's title")] = None,
    issued: Annotated[str | None, typer.Option("--issued", help="YYYY-MM-DD")] = None,
) -> None:
    """Add a UN document to the catalogue (an identifier already there is shown as is)."""
    body = {
        "kind": _kind(kind),
        "identifier": identifier,
        "title": title,
        "issued_on": _day(issued),
    }
    what = f"adding {identifier!r} to the catalogue"
    # Safe to retry: the same identifier again answers its entry.
    response = Api.staff().request("POST", "/references", what=what, json_body=body, retry=True)
    reference = parse(Reference, response.json(), what)
    said = "Added" if response.status_code == 201 else "Already in the catalogue:"
    console.print(Text.assemble(f"{said} ", _described(reference), f" as {reference.id}."))


@refs.command("list")
def list_references(
    kind: Annotated[str | None, typer.Option("--kind", help="only this kind")] = None,
    q: Annotated[str | None, typer.Option("--q", help="identifier starts with (any case)")] = None,
    all_pages: Annotated[
        bool, typer.Option("--all", help="every page, not only the first")
    ] = False,
) -> None:
    """The catalogue, by identifier."""
    params: dict[str, str | int] = {"limit": 100}
    if _kind(kind) is not None:
        params["kind"] = str(kind)
    if q is not None:
        params["q"] = q
    api = Api.staff()
    found: list[Reference] = []
    more = False
    while True:
        page = api.get(ReferencePage, "/references", what="searching the catalogue", params=params)
        found.extend(page.items)
        if not page.next:
            break
        if not all_pages:
            more = True
            break
        params["cursor"] = page.next
    console.print(_table(found))
    if more:
        console.print("More documents: run with --all, or narrow with --q.")


@refs.command("link")
def link(
    case: Annotated[str, typer.Argument(help="the case id")],
    identifier: Annotated[str, typer.Argument(help="e.g. 'AL CHN 4/2021'")],
    kind: Annotated[
        str | None, typer.Option("--kind", help="read from the identifier if not given")
    ] = None,
) -> None:
    """Link a case you hold to a UN document (catalogued first if new)."""
    case_id = _uuid(case, "CASE")
    body: dict[str, str] = {"identifier": identifier}
    if _kind(kind) is not None:
        body["kind"] = str(kind)
    what = f"linking case {case_id} to {identifier!r}"
    response = Api.staff().request(
        "POST", f"/cases/{case_id}/references", what=what, json_body=body, retry=True
    )
    made = parse(Link, response.json(), what)
    said = "Linked" if response.status_code == 201 else "Already linked:"
    console.print(
        Text.assemble(
            f"{said} case {made.case_id} to ",
            _described(made.document),
            f", document {made.document.id}.",
        )
    )


@refs.command("unlink")
def unlink(
    case: Annotated[str, typer.Argument(help="the case id")],
    document_id: Annotated[str, typer.Argument(help="the document's id (`intake refs case`)")],
) -> None:
    """Remove a case's link to a document; the catalogue keeps the document."""
    case_id, document = _uuid(case, "CASE"), _uuid(document_id, "DOCUMENT_ID")
    Api.staff().request(
        "DELETE",
        f"/cases/{case_id}/references/{document}",
        what=f"unlinking document {document} from case {case_id}",
    )
    console.print(f"Unlinked document {document} from case {case_id}.")


@refs.command("case")
def case_links(case: Annotated[str, typer.Argument(help="the case id")]) -> None:
    """The UN documents a case you hold links to."""
    case_id = _uuid(case, "CASE")
    links = Api.staff().get(
        Links, f"/cases/{case_id}/references", what=f"listing the references of case {case_id}"
    )
    if not links.items:
        console.print(f"Case {case_id} links no UN documents.")
        return
    console.print(_table([entry.document for entry in links.items]))
