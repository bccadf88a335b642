"""``accord packs list|show``, ``accord decide``, ``accord explain``: the law packs and one-case decisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from .support import Table, AsOfOption as AsOf, DbOption, JsonOption, console as _console, parse_date as _date, read_model
from .support import reported as _reported

packs_app = typer.Typer(help="The law packs Accord applies: list them, show their rules, citations and parameters.", no_args_is_help=True)


@packs_app.command("list")
def packs_list(as_json: JsonOption = False) -> None:
    """List the shipped packs."""
    from accord.law.pack import list_packs, load_pack

    out = _console()
    with _reported():
        packs = [load_pack(p) for p in list_packs()]
        if as_json:
            out.print_json(data=[{"id": p.id, "name": p.name, "jurisdiction": p.jurisdiction, "version": p.version,
                                  "effective_from": p.effective_from.isoformat(), "rules": len(p.rules)} for p in packs])
            return
        t = Table("id", "jurisdiction", "name", "version", "in force from", "rules")
        for p in packs:
            t.add_row(p.id, p.jurisdiction, escape(p.name), p.version, p.effective_from.isoformat(), str(len(p.rules)))
        out.print(t)


ShowAsOf = Annotated[Optional[str], typer.Option(  # noqa: UP007
    "--as-of", help="Show the law in force on this date (YYYY-MM-DD) \\[default: the pack's latest change]",
    show_default=False)]


@packs_app.command("show")
def packs_show(pack: Annotated[str, typer.Argument(help="Pack id, e.g. nyc_doc")], as_of: ShowAsOf = None) -> None:
    """Rules in force (with citations and exceptions), parameters with their legal references and notes."""
    from accord.law.pack import load_pack

    out = _console()
    with _reported():
        p = load_pack(pack)
        on = _date(as_of) or p.boundaries[-1]
        p.epoch(on)
        out.print(f"[bold]{escape(p.name)}[/] ({p.id} {p.version}, {p.jurisdiction}, zone {p.timezone}) as of {on}")
        if p.description:
            out.print(escape(p.description))
        t = Table("rule", "action", "outcome", "exception to", "citation", "when", title="Rules in force")
        for r in p.rules_at(on):
            t.add_row(r.id, r.action.value, r.outcome.value, r.exception_to or "", escape(r.citation), escape(r.condition_text.strip()))
        out.print(t)
        t = Table("parameter", "value", "reference", "legal note", title="Parameters")
        for name, value in p.params_at(on).items():
            prm = p.parameters[name]
            t.add_row(name, escape(json.dumps(value, default=str)), escape(prm.reference), escape(prm.legal_note))
        out.print(t)
        t = Table("citation", "sources (DOMAIN.md)", "text", title="Citation table")
        for c, meta in p.citations.items():
            t.add_row(escape(c), ", ".join(meta.get("source", [])), escape(str(meta.get("text", ""))))
        out.print(t)
        notes = [r for r in p.rules_at(on) if r.legal_note]
        for r in notes:
            out.print(f"[dim]{r.id}[/]: {escape(r.legal_note)}")


def _load_case(path: Path) -> Any:
    from accord.law.case import DetainerCase

    return read_model(DetainerCase, path)


def decide_cmd(
    case_file: Annotated[Path, typer.Argument(help="A DetainerCase as JSON: detainer, custody, person, receiving_agency")],
    pack: Annotated[str, typer.Option("--pack", help="Pack id (see `accord packs list`)")],
    as_of: AsOf = None,
    record: Annotated[bool, typer.Option("--record", help="Append the decision (and its notices) to the ledger")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide each action a detainer raises under a pack, with the clause for each."""
    from accord.law.engine import decide
    from accord.law.pack import load_pack

    out = _console()
    with _reported():
        p = load_pack(pack)
        case = _load_case(case_file)
        d = decide(case, p, _date(as_of))
        payload = d.to_payload()
        seq = None
        if record:
            from accord.service.detainer_events import record_decision
            from accord.service.store import Store

            with Store.open(db) as store:
                det_ev, dec_ev, notice_evs = record_decision(store, case, d)
                shown_db = store.ledger.url
            seq = dec_ev.seq
            payload["recorded"] = {"detainer_seq": det_ev.seq, "decision_seq": dec_ev.seq, "notice_seqs": [e.seq for e in notice_evs]}
        if as_json:
            out.print_json(data=payload)
            return
        render(payload, out)
        if seq is not None:
            out.print(f"recorded as event {seq} (caused by detainer event {payload['recorded']['detainer_seq']}); "
                      f"`accord explain {seq} --db {escape(shown_db)}` prints this again")


def explain_cmd(
    event: Annotated[int, typer.Argument(help="Seq of a decision.made, notice.due or detainer.received event")],
    db: DbOption = None,
) -> None:
    """Print the reasoning behind a recorded decision: facts, rules, clauses, notices."""
    from accord.ledger import Ledger
    from accord.service.detainer_events import decision_events_for

    out = _console()
    with _reported():
        led = Ledger.open(db, create=False)
        try:
            det, decisions = decision_events_for(led, event)
            p = det.payload
            out.print(f"[bold]Detainer {escape(p['request_id'])}[/] (event {det.seq}, stream {escape(det.stream)}): "
                      f"form {p['form']} from {escape(p['issuing_office'])}, received {p['received_at']}")
            if not decisions:
                out.print("no decision has been recorded for this detainer yet")
            for dec in decisions:
                out.print(f"\n[bold]Decision event {dec.seq}[/], recorded {dec.recorded_at:%Y-%m-%d %H:%M:%S} UTC")
                render(dec.payload, out)
        finally:
            led.close()


_WORDS = {"require": "must", "allow": "may", "deny": "may not", "insufficient_facts": "cannot yet decide whether to"}


def render(payload: dict[str, Any], console: Console) -> None:
    """A decision payload for a person: one sentence per action, then the facts and notices."""
    console.print(f"Law applied: pack [bold]{payload['pack_id']}[/] version {payload['pack_version']}, as in force on {payload['law_date']}")
    summaries = payload.get("rule_summaries", {})
    for d in payload["decisions"]:
        action = d["action"].replace("_", " ")
        line = f"- The custodian [bold]{_WORDS[d['outcome']]}[/] {action}"
        if d["rule_id"]:
            line += f": {escape(summaries.get(d['rule_id'], ''))} [dim]({escape(d['citation'])}; rule {d['rule_id']})[/]"
        else:
            line += f": these facts are unknown and could change the answer: {', '.join(d['missing'])}"
        console.print(line)
    if payload.get("hold_until"):
        console.print(f"A hold must end by {payload['hold_until']}.")
    facts = Table("fact read", "value", title="Facts the rules read")
    for k, v in payload["facts"].items():
        facts.add_row(k, "unknown" if v is None else escape(str(v)))
    console.print(facts)
    if payload.get("notices"):
        t = Table("notice", "to", "due by", "citation", title="Notices the law requires")
        for n in payload["notices"]:
            t.add_row(n["kind"], n["recipient"], n["due_by"], escape(n["citation"]))
        console.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(packs_app, name="packs")
    app.command("decide")(decide_cmd)
    app.command("explain")(explain_cmd)
