"""`teamops notify`: deliver the outbox, test a channel, see what was sent."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from teamops.cli.options import DryRunOpt, FormatOpt, fmt_value, group_help
from teamops.cli.output import Output
from teamops.cli.state import AppState, state
from teamops.config import Config
from teamops.errors import InvalidInput, ServiceError
from teamops.integrations.webhooks import render
from teamops.messages.message import Message, rich, strong
from teamops.messages.notify import queue, queue_and_deliver, resolve_channel, send_pending
from teamops.reports.model import Column, Report
from teamops.store.database import now_iso
from teamops.store.outbox import count_messages, messages
from teamops.wording import count

app = typer.Typer(
    help=group_help("Notifications: the outbox and its channels.", "teamops notify send --dry-run"),
    no_args_is_help=True,
)


def show_previews(
    out: Output,
    previews: list[dict[str, Any]],
    report: str = "notify-dry-run",
    unrouted: list[dict[str, Any]] | None = None,
) -> None:
    """--dry-run: each rendered payload, exactly as it would be POSTed (URLs never shown); messages no
    channel is routed for come as plain text. JSON: one document whatever there is."""
    unrouted = unrouted or []
    if out.fmt == "json":
        out.data({"report": report, "rows": previews, "unrouted": unrouted}, "")
        return
    for p in previews:
        out.stdout.write(f"# {p['kind']} {p['key']} → {p['channel']} ({p['channel_kind']})\n")
        out.stdout.write(json.dumps(p["payload"], indent=2, ensure_ascii=False) + "\n")
    for u in unrouted:
        out.stdout.write(f"# {u['key']} (no channel routed)\n{u['title']}\n{u['text']}\n")


def report_sending(out: Output, result: Any, what: str) -> None:
    """The outcome of a delivery pass: one line (and JSON when asked); exit 4 when something was not delivered."""
    for err in result.errors[:20]:
        out.detail(f"  {err}")
    out.message(f"{what}: {result.sent} sent, {result.failed} failed, {result.deferred} deferred")
    if out.fmt == "json":
        out.data(
            {
                "report": what.replace(" ", "-"),
                "sent": result.sent,
                "failed": result.failed,
                "deferred": result.deferred,
                "rows": [{"error": e} for e in result.errors],
            },
            "",
        )
    if result.failed or result.deferred:
        raise ServiceError(
            f"{count(result.failed + result.deferred, 'message')} not delivered"
            + (f"; the first: {result.errors[0]}" if result.errors else ""),
            "see `teamops notify list --status failed`",
        )


def unrouted(cfg: Config, kinds: list[str]) -> list[str]:
    """The message kinds no channel is routed for: queueing them would drop them silently."""
    return sorted({k for k in kinds if not cfg.notify.routes.get(k)})


# Messages someone waits for: when nobody would get one, say so (the rest only with -v).
WAITED_FOR = {"task_blocked", "escalation", "job_failed"}


def say_unrouted(out: Output, kinds: list[str]) -> None:
    for kind in kinds:
        line = f"{kind}: no channel is routed ([notify.routes] {kind}), so nothing was queued"
        if kind in WAITED_FOR:
            out.message(line)
        else:
            out.detail(line)


def deliver(st: AppState, out: Output, messages: list[Any], no_send: bool) -> None:
    """Queue the command's notifications and deliver them, without failing the change itself."""

    if not messages:
        return
    say_unrouted(out, unrouted(st.config, [m.kind for m in messages]))
    routed = [m for m in messages if st.config.notify.routes.get(m.kind)]
    if not routed:
        return
    ids, result = queue_and_deliver(st.db, st.config, routed, send=not no_send)
    if not ids:
        out.message("notification already queued earlier: nothing new to send")
    elif no_send:
        out.message(f"{count(len(ids), 'notification')} queued: deliver with `teamops notify send`")
    else:
        line = f"notifications: {result.sent} sent, {result.failed} failed, {result.deferred} deferred"
        out.message(line if (result.failed or result.deferred) else line.split(",")[0])


@app.command("send")
def send(ctx: typer.Context, dry_run: DryRunOpt = False, fmt: FormatOpt = None) -> None:
    """Deliver every pending message of the outbox, oldest first; each one at most once.

    \b
    Example:
      teamops notify send --dry-run      # see each payload first
    """

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    result = send_pending(st.db, st.config, dry_run=dry_run)
    if dry_run:
        show_previews(out, result.previews)
        out.message(f"dry run: {count(len(result.previews), 'pending message')} shown; nothing was sent or recorded")
        return
    report_sending(out, result, "notify send")


@app.command("test")
def test(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="A channel name from [notify.channels].")],
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Send a test message to one channel now.

    \b
    Example:
      teamops notify test team
    """

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    cfg = st.config
    resolve_channel(cfg.notify, channel)  # exit 3 now when the channel or its URL is missing
    stamp = now_iso()
    msg = Message(
        kind="test",
        key=f"test:{channel}:{stamp}",
        title="teamops test message",
        body=rich("If you can read this, channel ", strong(channel), " works."),
        fields={"channel": channel, "sent": stamp},
    )
    if dry_run:
        kind = cfg.notify.channels[channel].kind
        show_previews(
            out,
            [
                {
                    "kind": "test",
                    "key": msg.key,
                    "channel": channel,
                    "channel_kind": kind,
                    "payload": render(kind, msg),
                }
            ],
        )
        return
    ids = queue(st.db, cfg.notify, msg, channels=[channel])
    report_sending(out, send_pending(st.db, cfg, only_ids=ids), f"notify test {channel}")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="pending, sent or failed.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="A message kind, e.g. eod_reminder.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, max=1_000_000, help="At most this many, newest first (0: all).")
    ] = 50,
    fmt: FormatOpt = None,
) -> None:
    """Show queued, sent and failed messages, newest first.

    \b
    Example:
      teamops notify list --status failed
    """

    if status is not None and status not in ("pending", "sent", "failed"):
        raise InvalidInput(f"--status must be pending, sent or failed, not {status!r}")
    st = state(ctx)
    rows = messages(st.reader, status, kind, limit)
    st.output(fmt_value(fmt)).report(
        Report(
            name="notify-list",
            rows=rows,
            more=count_messages(st.reader, status, kind) - len(rows),
            columns=[
                Column("id", "#", numeric=True),
                Column("kind", "Kind"),
                Column("key", "Key"),
                Column("channel", "Channel"),
                Column("status", "Status"),
                Column("attempts", "Tries", numeric=True),
                Column("created_at", "Queued"),
                Column("sent_at", "Sent"),
                Column("last_error", "Last error", cut=True),
            ],
            meta={"status": status, "kind": kind},
            empty="the outbox is empty",
        )
    )
